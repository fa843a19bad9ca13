//! Reading a log back: a streaming, strict reader that checks the hash chain as it goes.

use std::{
    fs::File,
    io::{self, BufRead, BufReader},
    path::{Path, PathBuf},
};

use crate::{
    batch::Batches,
    error::Error,
    event::Envelope,
    format::{TornTail, check_alone},
    hash::EventHash,
    ids::GoalId,
};

/// The read buffer of a long log: big reads, few system calls.
const MAX_BUFFER: usize = 256 * 1024;
/// The smallest read buffer, std's default.
const MIN_BUFFER: usize = 8 * 1024;

/// A whole log, as [`read_log`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadLog {
    /// Every whole event, in order.
    pub events: Vec<Envelope>,
    /// The torn last line, if a crash left one; [`crate::EventLog::open`] repairs it.
    pub torn_tail: Option<TornTail>,
}

/// What [`verify`] found: a log whose every line is intact and in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The number of events.
    pub events: u64,
    /// The hash of the last event; `None` for a log of format 1.0, which has no chain.
    pub head: Option<EventHash>,
    /// The torn last line, if a crash left one.
    pub torn_tail: Option<TornTail>,
}

/// Reads the whole log at `path`; see [`LogReader`] for what is checked.
pub fn read_log(path: &Path) -> Result<ReadLog, Error> {
    let mut reader = LogReader::open(path)?.parallel_if_long();
    let events = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok(ReadLog { events, torn_tail: reader.torn_tail })
}

/// Returns when the log at `path` began: the time of its first event, if that line is whole
/// and passes the checks a line passes on its own; `None` otherwise, or when it cannot be read.
///
/// Reads only as far as the first newline, so ordering many goals by when they were created
/// does not read their logs.
pub fn first_event_time(path: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    let mut file = File::open(path).ok()?;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let read = io::Read::read(&mut file, &mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        let start = bytes.len();
        bytes.extend_from_slice(&chunk[..read]);
        if let Some(at) = bytes[start..].iter().position(|&c| c == b'\n') {
            break start + at;
        }
    };
    check_alone(path, 1, &bytes[..end], None).ok().map(|first| first.at)
}

/// Walks the log at `path` and reports the first event that was changed, removed, inserted or
/// reordered since it was written, in flat memory whatever the log's length.
pub fn verify(path: &Path) -> Result<Verified, Error> {
    let mut reader = LogReader::open(path)?.parallel_if_long();
    let mut events = 0;
    let mut head = None;
    for envelope in reader.by_ref() {
        let envelope = envelope?;
        events += 1;
        head = envelope.hash;
    }
    Ok(Verified { events, head, torn_tail: reader.torn_tail })
}

/// One step of [`LogReader::poll`].
#[derive(Debug)]
pub enum Poll {
    /// The next whole event.
    Event(Box<Envelope>),
    /// The end of the file for now; a partial line, if any, waits for the rest of its bytes.
    Pending,
}

/// A streaming reader of one log.
///
/// It yields each event in order and checks, line by line: the JSON, the format (another major
/// version is an error telling to upgrade), the dense sequence numbers, the goal, each line's
/// hash against its bytes and each `prev` against the line before. Anything wrong is an error
/// naming the line, and the iteration ends there. Bytes after the last newline are a torn
/// tail, not an error: [`LogReader::torn_tail`] reports them once the iteration is over.
#[derive(Debug)]
pub struct LogReader {
    path: PathBuf,
    /// The file, until a parallel reader hands it to its thread.
    input: Option<BufReader<File>>,
    line: Vec<u8>,
    line_no: u64,
    offset: u64,
    order: Order,
    torn_tail: Option<TornTail>,
    done: bool,
    batches: Option<Batches>,
}

impl LogReader {
    /// Opens the log at `path`; a missing file is [`Error::Missing`].
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = File::open(path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                Error::Missing { path: path.to_owned() }
            } else {
                Error::Io { action: "read", path: path.to_owned(), source }
            }
        })?;
        // A short log needs no 256 KiB buffer: `omk list` opens every goal's log, and a buffer
        // that large is a fresh mapping of memory for each.
        let capacity = file.metadata().map_or(MAX_BUFFER, |meta| {
            usize::try_from(meta.len()).map_or(MAX_BUFFER, |len| len.clamp(MIN_BUFFER, MAX_BUFFER))
        });
        Ok(Self {
            path: path.to_owned(),
            input: Some(BufReader::with_capacity(capacity, file)),
            line: Vec::with_capacity(1024),
            line_no: 0,
            offset: 0,
            order: Order::default(),
            torn_tail: None,
            done: false,
            batches: None,
        })
    }

    /// Reads with every core when the log is long (over 4 MiB), else on this thread.
    pub fn parallel_if_long(self) -> Self {
        let long = self
            .input
            .as_ref()
            .and_then(|it| it.get_ref().metadata().ok())
            .is_some_and(|it| it.len() > 4 << 20);
        if !long {
            return self;
        }
        // Asked only for a long log: the answer reads the process's CPU affinity and cgroup
        // files, which costs more than reading a short log.
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        self.parallel(cores.min(4))
    }

    /// Spreads the parsing and hashing of lines over `threads` threads, for long logs.
    ///
    /// The events, the checks and the errors are the same as reading on one thread; lines are
    /// still yielded in order and memory stays bounded. [`LogReader::poll`] cannot be used
    /// then. With fewer than 2 threads this does nothing.
    pub fn parallel(mut self, threads: usize) -> Self {
        if threads >= 2
            && self.line_no == 0
            && self.line.is_empty()
            && let Some(input) = self.input.take()
        {
            self.batches = Some(Batches::start(self.path.clone(), input, threads));
        }
        self
    }

    /// Returns the torn last line, once the iteration has reached the end.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// Reads the next whole event of a log that may still be growing, as `--follow` does.
    ///
    /// At the end of the file it returns [`Poll::Pending`] and keeps any partial line, so a
    /// later call picks up where the writer went on.
    pub fn poll(&mut self) -> Result<Poll, Error> {
        let Some(input) = &mut self.input else {
            return Err(Error::Io {
                action: "follow",
                path: self.path.clone(),
                source: io::Error::other("a parallel reader cannot follow a growing log"),
            });
        };
        let read = input.read_until(b'\n', &mut self.line).map_err(|source| Error::Io {
            action: "read",
            path: self.path.clone(),
            source,
        })?;
        if read == 0 || self.line.last() != Some(&b'\n') {
            return Ok(Poll::Pending);
        }
        let envelope = self.check_line()?;
        self.line.clear();
        Ok(Poll::Event(Box::new(envelope)))
    }

    fn next_event(&mut self) -> Result<Option<Envelope>, Error> {
        self.line.clear();
        let Some(input) = &mut self.input else { return Ok(None) };
        let read = input.read_until(b'\n', &mut self.line).map_err(|source| Error::Io {
            action: "read",
            path: self.path.clone(),
            source,
        })?;
        if read == 0 {
            if self.line_no == 0 {
                return Err(Error::Empty { path: self.path.clone() });
            }
            return Ok(None);
        }
        if self.line.last() != Some(&b'\n') {
            self.torn_tail = Some(TornTail {
                line: self.line_no + 1,
                offset: self.offset,
                bytes: self.line.len() as u64,
            });
            return Ok(None);
        }
        self.check_line().map(Some)
    }

    /// Returns the next event of a parallel read, moved once from its batch.
    fn next_of_batches(&mut self) -> Option<Result<Envelope, Error>> {
        let batches = self.batches.as_mut()?;
        let next = batches.next();
        match &next {
            Some(Ok(envelope)) => {
                self.line_no = batches.line();
                if let Err(err) = self.order.check(&self.path, self.line_no, envelope) {
                    self.done = true;
                    return Some(Err(err));
                }
            }
            Some(Err(_)) => self.done = true,
            None => {
                self.done = true;
                let (lines, torn_tail) = batches.end().cloned().unwrap_or_default();
                self.line_no = lines;
                self.torn_tail = torn_tail;
                if lines == 0 && self.torn_tail.is_none() {
                    return Some(Err(Error::Empty { path: self.path.clone() }));
                }
            }
        }
        next
    }

    /// Checks the whole line in `self.line`, newline included, and moves past it.
    fn check_line(&mut self) -> Result<Envelope, Error> {
        self.line_no += 1;
        let text = &self.line[..self.line.len() - 1];
        let envelope = check_alone(&self.path, self.line_no, text, self.order.goal_id.as_ref())?;
        self.order.check(&self.path, self.line_no, &envelope)?;
        self.offset += self.line.len() as u64;
        Ok(envelope)
    }
}

/// What lines must agree on in order: dense numbers, one goal, one chain.
#[derive(Debug, Default)]
pub(crate) struct Order {
    goal_id: Option<GoalId>,
    chained: Option<bool>,
    prev: Option<EventHash>,
}

impl Order {
    /// Checks `envelope`, read from line `line_no`, against the lines before it.
    pub(crate) fn check(
        &mut self,
        path: &Path,
        line_no: u64,
        envelope: &Envelope,
    ) -> Result<(), Error> {
        if envelope.seq.0 != line_no {
            return Err(Error::Sequence {
                path: path.to_owned(),
                line: line_no,
                expected: line_no,
                found: envelope.seq.0,
            });
        }
        match &self.goal_id {
            None => self.goal_id = Some(envelope.goal_id.clone()),
            Some(goal_id) if *goal_id != envelope.goal_id => {
                return Err(Error::GoalMismatch {
                    path: path.to_owned(),
                    line: line_no,
                    expected: goal_id.to_string(),
                    found: envelope.goal_id.to_string(),
                });
            }
            Some(_) => {}
        }
        let chained = envelope.hash.is_some();
        if *self.chained.get_or_insert(chained) != chained {
            return Err(Error::MixedChain { path: path.to_owned(), line: line_no });
        }
        if let (Some(prev), Some(hash)) = (envelope.prev, envelope.hash) {
            let expected_prev = self.prev.unwrap_or(EventHash::GENESIS);
            if prev != expected_prev {
                return Err(Error::ChainBroken {
                    path: path.to_owned(),
                    line: line_no,
                    expected: expected_prev,
                    found: prev,
                });
            }
            self.prev = Some(hash);
        }
        Ok(())
    }
}

impl Iterator for LogReader {
    type Item = Result<Envelope, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.batches.is_some() {
            return self.next_of_batches();
        }
        let next = self.next_event().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::{
        EventLog,
        agent::AgentStarted,
        event::Event,
        format::{HASH_SUFFIX_LEN, parse_general, parse_written},
    };

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, second).single().expect("valid test time")
    }

    fn write_log(dir: &Path, n_events: u32) -> Result<PathBuf, Error> {
        let path = dir.join("events.jsonl");
        let mut log = EventLog::create(&path, &GoalId::parse("g1").expect("valid id"))?;
        for n in 0..n_events {
            log.append(at(n), Event::AgentStarted(AgentStarted { agent: format!("a{n}") }))?;
        }
        Ok(path)
    }

    #[test]
    fn bad_logs_are_errors_naming_the_line_and_what_is_wrong() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 3)?;
        let text = fs::read_to_string(&path)?;
        let lines: Vec<&str> = text.lines().collect();

        let check = |content: String, expect: &str| -> TestResult {
            fs::write(&path, content)?;
            let err = verify(&path).unwrap_err();
            assert_eq!(err.to_string().replace(&path.display().to_string(), "LOG"), expect);
            Ok(())
        };
        check(
            format!("{}\n{}\n", lines[0], lines[2]),
            "read event log LOG line 2: expected sequence number 2, found 3: an event is missing",
        )?;
        check(format!("{}\nnot json\n", lines[0]), "parse event log LOG line 2")?;
        check(format!("{}\n\n{}\n", lines[0], lines[1]), "parse event log LOG line 2")?;
        check(
            lines[0].replace("\"format\":\"1.2\"", "\"format\":\"2.0\"") + "\n",
            "read event log LOG line 1: format 2.0 is not supported (this omk reads 1.2); upgrade omk",
        )?;
        check(
            "{\"format\":\"2.0\",\"something\":\"new\"}\n".to_owned(),
            "read event log LOG line 1: format 2.0 is not supported (this omk reads 1.2); upgrade omk",
        )?;
        check(
            format!("{}\n{}\n", lines[0], rehash(&lines[1].replace("\"g1\"", "\"g2\""))),
            "read event log LOG line 2: event of goal g2 in the log of goal g1",
        )?;
        check(
            format!("{}\n{}\n", lines[0], lines[1].replace("\"g1\"", "\"g2\"")),
            "verify event log LOG line 2: the line does not match its hash: it was changed after \
             it was written",
        )?;
        check(
            format!("{}\n{}\n{}\n", lines[0], lines[1].replace("\"a1\"", "\"a7\""), lines[2]),
            "verify event log LOG line 2: the line does not match its hash: it was changed after \
             it was written",
        )?;
        check(String::new(), "read event log LOG: the log is empty")?;
        fs::remove_file(&path)?;
        assert!(matches!(verify(&path), Err(Error::Missing { .. })));
        Ok(())
    }

    #[test]
    fn a_rewritten_line_with_a_fresh_hash_breaks_the_next_link() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 3)?;
        let original = read_log(&path)?;
        let text = fs::read_to_string(&path)?;
        let lines: Vec<&str> = text.lines().collect();
        // A forger changes line 2 and gives it a matching hash of its own.
        let forged = rehash(&lines[1].replace("\"a1\"", "\"evil\""));
        fs::write(&path, format!("{}\n{forged}\n{}\n", lines[0], lines[2]))?;
        let err = verify(&path).unwrap_err();
        let message = err.to_string().replace(&path.display().to_string(), "LOG");
        let hash2 = original.events[1].hash.ok_or("chained")?;
        let forged_hash = read_log_lenient_hash(&forged);
        assert_eq!(
            message,
            format!(
                "verify event log LOG line 3: the chain is broken: the line follows an event with \
                 hash {}, but the line before it has hash {}; a line was replaced, inserted or \
                 removed",
                hash2.short(),
                forged_hash.short()
            ),
        );
        Ok(())
    }

    /// Returns the hash a chained line carries.
    fn read_log_lenient_hash(line: &str) -> EventHash {
        EventHash::from_hex(&line.as_bytes()[line.len() - 66..line.len() - 2]).expect("a hash")
    }

    /// Recomputes the hash of a chained line after an edit, as a forger would.
    fn rehash(line: &str) -> String {
        let body = format!("{}}}", &line[..line.len() - HASH_SUFFIX_LEN]);
        let hash = EventHash::of_body(body.as_bytes());
        format!("{},\"hash\":\"{hash}\"}}", &body[..body.len() - 1])
    }

    #[test]
    fn unknown_kinds_are_kept_and_verify() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 1)?;
        let text = fs::read_to_string(&path)?;
        let first = text.lines().next().ok_or("one line")?;
        let first_hash = read_log(&path)?.events[0].hash.ok_or("chained")?;
        let body = format!(
            "{{\"format\":\"1.7\",\"seq\":2,\"at\":\"2026-11-21T20:00:01.000Z\",\"goal_id\":\"g1\",\
             \"event\":{{\"kind\":\"hologram_projected\",\"colour\":\"teal\",\"n\":3}},\
             \"prev\":\"{first_hash}\"}}"
        );
        fs::write(
            &path,
            format!(
                "{first}\n{}\n",
                rehash(&format!("{},\"hash\":\"{}\"}}", &body[..body.len() - 1], "0".repeat(64)))
            ),
        )?;
        let log = read_log(&path)?;
        let Event::Unknown(unknown) = &log.events[1].event else {
            panic!("an unknown kind is kept: {:?}", log.events[1].event);
        };
        assert_eq!(unknown.kind, "hologram_projected");
        assert_eq!(unknown.fields["colour"], "teal");
        assert_eq!(log.events[1].event.kind(), "hologram_projected");
        assert_eq!(
            serde_json::to_string(&unknown.to_json())?,
            "{\"colour\":\"teal\",\"kind\":\"hologram_projected\",\"n\":3}"
        );
        assert_eq!(verify(&path)?.events, 2);

        // A known kind with a bad payload is an error, not an unknown event.
        let bad = rehash(
            &text.lines().next().ok_or("one line")?.replace("\"agent\":\"a0\"", "\"agent\":7"),
        );
        fs::write(&path, format!("{bad}\n"))?;
        assert!(matches!(read_log(&path), Err(Error::Parse { line: 1, .. })));
        Ok(())
    }

    #[test]
    fn the_writers_layout_reads_as_the_general_parser_reads_it() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 3)?;
        let text = fs::read_to_string(&path)?;
        let goal = GoalId::parse("g1")?;
        let check = |line: &[u8]| {
            let general = parse_general(line, Some(&goal)).ok();
            let written = parse_written(line, Some(&goal));
            // The fast path may decline a line, never read it differently.
            assert!(written.is_none() || written == general, "{}", String::from_utf8_lossy(line));
            written.is_some()
        };
        for line in text.lines() {
            assert!(check(line.as_bytes()), "the writer's own line takes the fast path");
            let line = line.as_bytes();
            for idx in 0..line.len() {
                for replacement in [b' ', b'0', b'9', b'"', b'\\', b'{', b'}', b',', 0x80, 0x1f] {
                    let mut changed = line.to_vec();
                    changed[idx] = replacement;
                    check(&changed);
                }
                check(&[&line[..idx], &line[idx + 1..]].concat());
            }
        }
        let deep = format!(
            "{{\"format\":\"1.2\",\"seq\":1,\"at\":\"2026-11-21T20:00:00.000Z\",\"goal_id\":\"g1\",\
             \"event\":{{\"kind\":\"agent_started\",\"agent\":\"a\",\"x\":{}{}}},\"prev\":\"{}\",\
             \"hash\":\"{}\"}}",
            "[".repeat(126),
            "]".repeat(126),
            "0".repeat(64),
            "0".repeat(64)
        );
        assert!(!check(deep.as_bytes()), "deep events take the general parser");
        for seq in ["0", "01", "18446744073709551615", "18446744073709551616", "1.0", "-1"] {
            let line = text.lines().next().ok_or("a line")?.replacen(
                "\"seq\":1",
                &format!("\"seq\":{seq}"),
                1,
            );
            check(line.as_bytes());
        }
        Ok(())
    }

    #[test]
    fn kinds_lists_every_variant() {
        // serde names every variant it expects when a kind is unknown; KINDS must be that list.
        let Err(err) = serde_json::from_str::<Event>("{\"kind\":\"\"}") else {
            panic!("an empty kind is not an event");
        };
        let message = err.to_string();
        let listed: Vec<&str> = message
            .split("expected one of ")
            .nth(1)
            .unwrap_or_default()
            .split(", ")
            .map(|it| it.trim_matches(|c: char| c == '`' || !c.is_ascii_graphic()))
            .map(|it| it.split('`').next().unwrap_or_default())
            .collect();
        assert_eq!(listed, Event::KINDS, "{message}");
    }

    #[test]
    fn a_torn_tail_is_reported_not_an_error() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 2)?;
        let len = fs::metadata(&path)?.len();
        let mut bytes = fs::read(&path)?;
        bytes.truncate(bytes.len() - 1);
        fs::write(&path, &bytes)?;
        let log = read_log(&path)?;
        assert_eq!(log.events.len(), 1);
        let first_len = fs::read_to_string(&path)?.lines().next().map_or(0, str::len) as u64 + 1;
        assert_eq!(
            log.torn_tail,
            Some(TornTail { line: 2, offset: first_len, bytes: len - 1 - first_len })
        );
        Ok(())
    }

    #[test]
    fn poll_waits_for_a_partial_line_and_picks_it_up() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 2)?;
        let text = fs::read_to_string(&path)?;
        let (head, rest) = text.split_at(text.len() - 20);
        fs::write(&path, head)?;
        let mut reader = LogReader::open(&path)?;
        assert!(matches!(reader.poll()?, Poll::Event(_)));
        assert!(matches!(reader.poll()?, Poll::Pending));
        assert!(matches!(reader.poll()?, Poll::Pending));
        fs::write(&path, format!("{head}{rest}"))?;
        let Poll::Event(second) = reader.poll()? else { panic!("the line is whole now") };
        assert_eq!(second.seq.0, 2);
        assert!(matches!(reader.poll()?, Poll::Pending));
        Ok(())
    }
}
