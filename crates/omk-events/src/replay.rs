//! Replay: the timeline of a goal, folded from its events.
//!
//! [`Timeline`] turns each event into an [`Entry`] (time, step, what happened, duration, token
//! usage, gate result) and keeps a running [`Summary`]. It reads nothing but the events, so
//! replaying a log gives the same bytes every time, and it keeps no event after describing it,
//! so its memory is flat however long the log.

use std::{
    borrow::Cow,
    fmt::Write as _,
    io::{self, Write},
    path::{Path, PathBuf},
};

use chrono::{DateTime, SecondsFormat, Timelike as _, Utc};
use serde::Serialize;

use crate::{
    event::{ActivityKind, Envelope, Event, TestCounts, TokenUsage},
    hash::EventHash,
    read::TornTail,
};

/// The version of the JSON that [`JsonWriter`] writes.
pub const REPLAY_SCHEMA_VERSION: u32 = 1;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The event's sequence number.
    pub seq: u64,
    /// When it happened.
    #[serde(with = "crate::timestamp")]
    pub at: DateTime<Utc>,
    /// Milliseconds since the goal's first event.
    pub offset_ms: i64,
    /// The pipeline step it belongs to: intake, worktree, agent, changes, gates, review,
    /// decision, control, or `?` for a kind this build does not know.
    pub step: &'static str,
    /// The event's kind, as written in the log.
    pub kind: Cow<'static, str>,
    /// What happened, in one line.
    pub what: String,
    /// How long the step took, for events that end one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Tokens the agent used, for events that report usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// The gate's verdict, for finished gates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateVerdict>,
}

/// The result of a finished gate, in an [`Entry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateVerdict {
    /// The gate's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Whether the proof requires it.
    pub required: bool,
    /// The test counts parsed from its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestCounts>,
}

/// What the timeline has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The number of events.
    pub events: u64,
    /// Milliseconds from the first event to the last.
    pub elapsed_ms: i64,
    /// Agent runs that finished.
    pub agent_runs: u64,
    /// Token usage summed over finished agent runs.
    pub tokens: TokenUsage,
    /// Gate runs that passed.
    pub gates_passed: u64,
    /// Gate runs that failed.
    pub gates_failed: u64,
    /// Of those, runs on the base tree: failures that were there before the agent.
    pub baseline_failed: u64,
    /// Events of kinds this build does not know.
    pub unknown_events: u64,
    /// The kind of the last event, such as `change_accepted` or `goal_failed`.
    pub last_kind: Option<Cow<'static, str>>,
}

/// A fold over a goal's events that describes each one; see the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    start: Option<DateTime<Utc>>,
    repo_root: Option<PathBuf>,
    summary: Summary,
}

impl Timeline {
    /// Returns an empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns what the timeline has seen so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Describes `envelope`, the next event of the goal, and counts it in the summary.
    pub fn entry(&mut self, envelope: &Envelope) -> Entry {
        let start = *self.start.get_or_insert(envelope.at);
        let offset_ms = (envelope.at - start).num_milliseconds();
        let (step, what) = self.describe(&envelope.event);
        let summary = &mut self.summary;
        summary.events += 1;
        summary.elapsed_ms = offset_ms;
        let kind = match envelope.event.known_kind() {
            Some(kind) => Cow::Borrowed(kind),
            None => Cow::Owned(envelope.event.kind().to_owned()),
        };
        summary.last_kind = Some(kind.clone());
        let mut entry = Entry {
            seq: envelope.seq.0,
            at: envelope.at,
            offset_ms,
            step,
            kind,
            what,
            duration_ms: None,
            tokens: None,
            gate: None,
        };
        match &envelope.event {
            Event::AgentFinished(finished) => {
                summary.agent_runs += 1;
                if let Some(usage) = finished.usage {
                    summary.tokens += usage;
                }
                entry.duration_ms = Some(finished.duration_ms);
                entry.tokens = finished.usage.map(|it| it.total());
            }
            Event::AgentActivity(activity) => entry.tokens = activity.usage.map(|it| it.total()),
            Event::GateFinished(gate) => {
                if gate.failure().is_none() {
                    summary.gates_passed += 1;
                } else {
                    summary.gates_failed += 1;
                    if gate.phase == crate::GatePhase::Baseline {
                        summary.baseline_failed += 1;
                    }
                }
                entry.duration_ms = Some(gate.duration_ms);
                entry.gate = Some(GateVerdict {
                    name: gate.name.clone(),
                    passed: gate.failure().is_none(),
                    required: gate.required,
                    tests: gate.tests,
                });
            }
            Event::Unknown(_) => summary.unknown_events += 1,
            _ => {}
        }
        entry
    }

    /// Returns the step of `event` and a sentence about it.
    fn describe(&mut self, event: &Event) -> (&'static str, String) {
        if let Event::GoalCreated(created) = event {
            self.repo_root = Some(created.repo_root.clone());
        }
        describe(event, self.repo_root.as_deref())
    }
}

/// Returns the step of `event` and a sentence about it, with paths relative to `root`.
fn describe(event: &Event, root: Option<&Path>) -> (&'static str, String) {
    let relative = |path: &Path| {
        root.and_then(|root| path.strip_prefix(root).ok()).unwrap_or(path).display().to_string()
    };
    let short = |id: &str| id[..id.len().min(12)].to_owned();
    match event {
        Event::GoalCreated(created) => {
            let base = created.base_branch.as_deref().unwrap_or("HEAD");
            let commit = short(&created.base_commit);
            let prompt = one_line(&created.prompt, 80);
            (
                "intake",
                format!("goal created from {base}@{commit} for {}: {prompt:?}", created.agent),
            )
        }
        Event::GoalClassified(classified) => {
            let oracle = if classified.oracle_gates.is_empty() {
                "none".to_owned()
            } else {
                classified.oracle_gates.join(", ")
            };
            ("intake", format!("goal kind {}; oracle gates: {oracle}", classified.goal_kind))
        }
        Event::BudgetSet(_) => ("intake", "budget set".to_owned()),
        Event::WorktreeCreated(worktree) => (
            "worktree",
            format!(
                "worktree {} on branch {}; your checkout is not touched",
                relative(&worktree.path),
                worktree.branch
            ),
        ),
        Event::AgentStarted(started) => ("agent", format!("agent {} started", started.agent)),
        Event::AgentActivity(activity) => ("agent", describe_activity(activity)),
        Event::AgentFinished(finished) => {
            let tokens =
                finished.usage.map(|it| format!(", {} tokens", it.total())).unwrap_or_default();
            let said = finished
                .final_message
                .as_deref()
                .map(|it| format!(": {:?}", one_line(it, 120)))
                .unwrap_or_default();
            (
                "agent",
                format!(
                    "agent {} after {} steps and {} tool calls{tokens}{said}",
                    finished.status, finished.steps, finished.tool_calls
                ),
            )
        }
        Event::ApprovalDecided(decided) => {
            let what = decided
                .command
                .as_deref()
                .or(decided.path.as_deref())
                .map(|it| format!(" {it:?}"))
                .unwrap_or_default();
            (
                "agent",
                format!(
                    "approval: {} {}{what} by rule `{}` ({})",
                    decided.decision, decided.tool, decided.rule, decided.rule_source
                ),
            )
        }
        Event::ChangesCaptured(changes) => {
            let files: Vec<String> = changes
                .files
                .iter()
                .map(|file| match (file.lines_added, file.lines_removed) {
                    (Some(added), Some(removed)) => {
                        format!("{} +{added} -{removed}", file.path)
                    }
                    _ => format!("{} (binary)", file.path),
                })
                .collect();
            let list =
                if files.is_empty() { String::new() } else { format!(": {}", files.join(", ")) };
            ("changes", format!("git shows {} changed file(s){list}", files.len()))
        }
        Event::ChangesCommitted(commit) => {
            ("changes", format!("committed {} on {}", short(&commit.commit), commit.branch))
        }
        Event::GateStarted(gate) => ("gates", format!("gate {} started", gate.name)),
        Event::GateFinished(gate) => {
            let failure = gate.failure();
            let verdict = if failure.is_none() { "passed" } else { "FAILED" };
            let how = failure.unwrap_or_else(|| "exit 0".to_owned());
            let tests = gate
                .tests
                .map(|it| {
                    format!(
                        ", tests {} passed {} failed {} skipped",
                        it.passed, it.failed, it.skipped
                    )
                })
                .unwrap_or_default();
            let cached = gate
                .cached_from
                .as_deref()
                .map(|it| format!(", cached from {it}"))
                .unwrap_or_default();
            (
                "gates",
                format!("gate {} ({}) {verdict}: {how}{tests}{cached}", gate.name, gate.phase),
            )
        }
        Event::GateSurfaceChecked(check) if check.changed_paths.is_empty() => {
            ("gates", "the gate surface is unchanged".to_owned())
        }
        Event::GateSurfaceChecked(check) => (
            "gates",
            format!("the change touches the gate surface: {}", check.changed_paths.join(", ")),
        ),
        Event::ReviewStarted(review) => {
            ("review", format!("review wall: {}", review.checks.join(", ")))
        }
        Event::ReviewFinished(review) => {
            ("review", format!("review {} {}", review.check, review.status))
        }
        Event::DecisionRequested(requested) => {
            ("decision", format!("a person must decide: {}", requested.question))
        }
        Event::DecisionMade(made) => (
            "decision",
            format!("{} {}", made.by, if made.approved { "approved" } else { "declined" }),
        ),
        Event::ChangeAccepted(accepted) => {
            ("decision", format!("{} accepted the change", accepted.by))
        }
        Event::ChangeRejected(rejected) => {
            ("decision", format!("{} rejected the change: {}", rejected.by, rejected.reason))
        }
        Event::GoalFailed(failed) => {
            ("control", format!("the {} step failed: {}", failed.step, failed.error))
        }
        Event::BudgetExhausted(exhausted) => {
            let (used, limit) = (
                budget_amount(exhausted.resource, exhausted.used),
                budget_amount(exhausted.resource, exhausted.limit),
            );
            ("control", format!("the {} budget ran out ({used} of {limit})", exhausted.resource))
        }
        Event::BudgetWarned(warned) => (
            "control",
            format!(
                "80 % of the {} budget is used ({} of {})",
                warned.resource,
                budget_amount(warned.resource, warned.used),
                budget_amount(warned.resource, warned.limit)
            ),
        ),
        Event::GoalPaused(paused) => ("control", format!("paused: {}", paused.reason)),
        Event::GoalResumed(resumed) => match &resumed.follow_up {
            Some(follow_up) => (
                "control",
                format!(
                    "resumed: {}, with a follow-up: {}",
                    resumed.reason,
                    one_line(follow_up, 80)
                ),
            ),
            None => ("control", format!("resumed: {}", resumed.reason)),
        },
        Event::GoalCancelled(cancelled) => ("control", format!("cancelled: {}", cancelled.reason)),
        Event::GoalBlocked(blocked) => ("control", format!("blocked: {}", blocked.reason)),
        Event::RecoveryPerformed(recovery) => {
            ("control", format!("{}: {}", recovery.action, recovery.detail))
        }
        Event::Unknown(unknown) => {
            ("?", format!("{} (a kind from a newer omk, shown as written)", unknown.to_json()))
        }
    }
}

/// Returns an amount of a budget resource in its unit: seconds, tokens, dollars or turns.
fn budget_amount(resource: crate::BudgetResource, amount: f64) -> String {
    match resource {
        crate::BudgetResource::WallTime => format!("{:.1} s", amount / 1000.0),
        crate::BudgetResource::Usd => format!("${amount:.2}"),
        crate::BudgetResource::Tokens | crate::BudgetResource::Turns => format!("{amount:.0}"),
    }
}

fn describe_activity(activity: &crate::event::AgentActivity) -> String {
    let text = activity.text.as_deref().map(|it| one_line(it, 80));
    let tool = activity.tool.as_deref().unwrap_or("tool");
    match activity.activity {
        ActivityKind::Step => format!("step {}", activity.step),
        ActivityKind::ToolCall => match text {
            Some(text) => format!("calls {tool}: {text:?}"),
            None => format!("calls {tool}"),
        },
        ActivityKind::ToolResult => match activity.ok {
            Some(false) => format!("{tool} failed"),
            _ => format!("{tool} returned"),
        },
        ActivityKind::Message => format!("says {:?}", text.unwrap_or_default()),
        ActivityKind::Usage => {
            format!("{} tokens so far", activity.usage.map_or(0, |it| it.total()))
        }
    }
}

/// Returns `text` on one line, cut to `max` characters with `…`.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Returns `ms` as `m:ss.mmm`, or `h:mm:ss.mmm` past an hour.
fn clock(ms: i64) -> String {
    let mut text = String::new();
    write_clock(&mut text, ms);
    text
}

/// Writes `ms` as [`clock`] returns it.
fn write_clock(out: &mut String, ms: i64) {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let (hours, minutes, seconds, millis) =
        (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    // Writing to a String cannot fail.
    let _ = if hours > 0 {
        write!(out, "{sign}{hours}:{minutes:02}:{seconds:02}.{millis:03}")
    } else {
        write!(out, "{sign}{minutes}:{seconds:02}.{millis:03}")
    };
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
        // Writing to a String cannot fail.
        let _ = write!(
            line,
            "#{:<5} {:02}:{:02}:{:02}.{:03} +",
            entry.seq,
            time.hour(),
            time.minute(),
            time.second(),
            time.nanosecond() / 1_000_000 % 1000
        );
        let offset_start = line.len();
        write_clock(line, entry.offset_ms);
        let width = line.len() - offset_start;
        let _ =
            write!(line, "{:pad$} {:<9} {}", "", entry.step, entry.what, pad = 9 - width.min(9));
        if let Some(ms) = entry.duration_ms {
            let _ = write!(line, " ({}.{} s)", ms / 1000, ms % 1000 / 100);
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

    /// Writes the summary lines after the last entry, with what [`crate::verify`] found.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Writes a timeline as one JSON document, streamed: `{"schema_version", "goal_id",
/// "entries": [...], "summary", "chain"}`.
#[derive(Debug)]
pub struct JsonWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonWriter<W> {
    /// Starts the document for `goal_id`.
    pub fn new(mut out: W, goal_id: &str) -> io::Result<Self> {
        write!(out, "{{\"schema_version\":{REPLAY_SCHEMA_VERSION},\"goal_id\":")?;
        serde_json::to_writer(&mut out, goal_id)?;
        out.write_all(b",\"entries\":[")?;
        Ok(Self { out, first: true })
    }

    /// Writes `entry` with the event it describes.
    pub fn entry(&mut self, entry: &Entry, event: &Event) -> io::Result<()> {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            entry: &'a Entry,
            event: serde_json::Value,
        }
        let event = match event {
            Event::Unknown(unknown) => unknown.to_json(),
            known => serde_json::to_value(known)?,
        };
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, &Line { entry, event })?;
        Ok(())
    }

    /// Flushes what was written so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Ends the document with the summary and the chain check.
    pub fn finish(mut self, summary: &Summary, check: &ChainCheck) -> io::Result<W> {
        self.out.write_all(b"\n],\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b",\"chain\":")?;
        serde_json::to_writer(&mut self.out, check)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Returns `at` as the timeline's header shows it.
pub fn header_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_lines_render_compactly() {
        assert_eq!(clock(0), "0:00.000");
        assert_eq!(clock(61_234), "1:01.234");
        assert_eq!(clock(3_723_004), "1:02:03.004");
        assert_eq!(one_line("a\n  b", 10), "a b");
        assert_eq!(one_line("abcdefghijk", 5), "abcd…");
    }
}
