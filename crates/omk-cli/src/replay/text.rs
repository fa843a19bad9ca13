//! The text of a replay: a line per entry, then the summary and what the chain check found.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Timelike as _, Utc};

use omk_events::{EventHash, TornTail};

use crate::replay::timeline::{Entry, Summary};

/// Returns `ms` as `m:ss.mmm`, or `h:mm:ss.mmm` past an hour.
pub(crate) fn clock(ms: i64) -> String {
    let mut text = String::new();
    write_clock(&mut text, ms);
    text
}

/// Writes `ms` as [`clock`] returns it.
fn write_clock(out: &mut String, ms: i64) {
    if ms < 0 {
        out.push('-');
    }
    let ms = ms.unsigned_abs();
    let (hours, minutes, seconds, millis) =
        (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if hours > 0 {
        push_number(out, hours);
        out.push(':');
        push_digits(out, minutes, 2);
    } else {
        push_number(out, minutes);
    }
    out.push(':');
    push_digits(out, seconds, 2);
    out.push('.');
    push_digits(out, millis, 3);
}

/// Writes `n` in decimal, as `{n}` does.
pub(crate) fn push_number(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&digit| char::from(digit)));
}

/// Writes the last `width` decimal digits of `n`, zero-padded, as `{n:0width$}` does for an
/// `n` below `10^width`.
fn push_digits(out: &mut String, n: u64, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u64.pow(place) % 10) as u8));
    }
}

/// Writes `text` and then spaces up to `width` characters, as `{text:<width$}` does.
fn push_padded(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let len = if text.is_ascii() { text.len() } else { text.chars().count() };
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
}

/// Writes a timeline as text, one line per event, then a summary.
#[derive(Debug)]
pub struct TextWriter<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> TextWriter<W> {
    /// Returns a writer to `out`.
    pub fn new(out: W) -> Self {
        Self { out, line: String::with_capacity(256) }
    }

    /// Writes the line of `entry`: `#seq time +offset step what (duration)`.
    pub fn entry(&mut self, entry: &Entry) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        let time = entry.at.time();
        // As `#{seq:<5} {hh:02}:{mm:02}:{ss:02}.{ms:03} +{offset}` with the offset padded to 9,
        // written without the formatting machinery.
        line.push('#');
        let seq_start = line.len();
        push_number(line, entry.seq);
        line.extend(std::iter::repeat_n(' ', 5usize.saturating_sub(line.len() - seq_start)));
        line.push(' ');
        push_digits(line, u64::from(time.hour()), 2);
        line.push(':');
        push_digits(line, u64::from(time.minute()), 2);
        line.push(':');
        push_digits(line, u64::from(time.second()), 2);
        line.push('.');
        push_digits(line, u64::from(time.nanosecond() / 1_000_000 % 1000), 3);
        line.push_str(" +");
        let offset_start = line.len();
        write_clock(line, entry.offset_ms);
        let width = line.len() - offset_start;
        line.extend(std::iter::repeat_n(' ', 9 - width.min(9)));
        line.push(' ');
        push_padded(line, entry.step, 9);
        line.push(' ');
        line.push_str(&entry.what);
        if let Some(ms) = entry.duration_ms {
            line.push_str(" (");
            push_number(line, ms / 1000);
            line.push('.');
            push_number(line, ms % 1000 / 100);
            line.push_str(" s)");
        }
        line.push('\n');
        self.out.write_all(line.as_bytes())
    }

    /// Writes a line of its own, such as a header.
    pub fn line(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{text}")
    }

    /// Flushes what was written so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes the summary lines after the last entry, with what `omk_events::verify` found.
    pub fn finish(mut self, summary: &Summary, check: &ChainCheck) -> io::Result<W> {
        let tokens = summary.tokens.total();
        let baseline = match summary.baseline_failed {
            0 => String::new(),
            n => format!(" ({n} on the base tree, before the agent)"),
        };
        writeln!(
            self.out,
            "{} events over {}; agent: {} run(s), {tokens} tokens; gates: {} passed, {} failed{baseline}",
            summary.events,
            clock(summary.elapsed_ms),
            summary.agent_runs,
            summary.gates_passed,
            summary.gates_failed,
        )?;
        if summary.unknown_events > 0 {
            writeln!(
                self.out,
                "{} event(s) of kinds this omk does not know, shown as written; upgrade omk to read them",
                summary.unknown_events
            )?;
        }
        writeln!(self.out, "{}", check.sentence())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What reading the log found about its chain, for the end of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    /// The hash of the last event; `None` for a log of format 1.0, which has no chain.
    pub head: Option<EventHash>,
    /// The torn last line, if a crash left one.
    pub torn_tail: Option<TornTail>,
}

impl ChainCheck {
    /// Returns the sentence that ends a text replay.
    pub fn sentence(&self) -> String {
        let chain = match self.head {
            Some(head) => format!("hash chain verified, head {}", head.short()),
            None => "no hash chain (log format 1.0)".to_owned(),
        };
        match &self.torn_tail {
            None => chain,
            Some(torn) => format!(
                "{chain}; line {} is torn ({} bytes a crash cut short); the next run of this goal repairs it",
                torn.line, torn.bytes
            ),
        }
    }
}

/// Returns `at` as the timeline's header shows it.
pub fn header_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn entry_lines_are_written_as_the_format_strings_say() -> io::Result<()> {
        /// The line as `format!` writes it.
        fn formatted(entry: &Entry) -> String {
            let time = entry.at.time();
            let line = format!(
                "#{:<5} {:02}:{:02}:{:02}.{:03} +",
                entry.seq,
                time.hour(),
                time.minute(),
                time.second(),
                time.nanosecond() / 1_000_000 % 1000
            );
            let sign = if entry.offset_ms < 0 { "-" } else { "" };
            let ms = entry.offset_ms.unsigned_abs();
            let (hours, minutes, seconds, millis) =
                (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
            let offset = if hours > 0 {
                format!("{sign}{hours}:{minutes:02}:{seconds:02}.{millis:03}")
            } else {
                format!("{sign}{minutes}:{seconds:02}.{millis:03}")
            };
            let pad = 9 - offset.len().min(9);
            let duration = entry
                .duration_ms
                .map(|ms| format!(" ({}.{} s)", ms / 1000, ms % 1000 / 100))
                .unwrap_or_default();
            line + &format!("{offset}{:pad$} {:<9} {}{duration}\n", "", entry.step, entry.what)
        }
        let base = DateTime::<Utc>::UNIX_EPOCH;
        let mut writer = TextWriter::new(Vec::new());
        let mut expected = String::new();
        for (n, seq) in [0, 1, 9, 12_345, 123_456, u64::MAX].into_iter().enumerate() {
            for offset_ms in [0, 7, -61_234, 3_599_999, 3_600_000, 363_599_999, i64::MIN + 1] {
                for (step, duration_ms) in [("agent", None), ("?", Some(0)), ("é", Some(u64::MAX))]
                {
                    let entry = Entry {
                        seq,
                        at: base + chrono::TimeDelta::milliseconds(offset_ms.rem_euclid(1 << 40)),
                        offset_ms,
                        step,
                        kind: Cow::Borrowed("agent_started"),
                        what: format!("what {n}"),
                        duration_ms,
                        tokens: None,
                        gate: None,
                    };
                    writer.entry(&entry)?;
                    expected += &formatted(&entry);
                }
            }
        }
        assert_eq!(String::from_utf8_lossy(&writer.out), expected);
        Ok(())
    }
}
