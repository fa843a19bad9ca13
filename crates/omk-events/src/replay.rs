//! Replay: the timeline of a goal, folded from its events.
//!
//! [`Timeline`] turns each event into an [`Entry`] (time, step, what happened, duration, token
//! usage, gate result) and keeps a running [`Summary`]. It reads nothing but the events, so
//! replaying a log gives the same bytes every time, and it keeps no event after describing it,
//! so its memory is flat however long the log.

use std::{
    borrow::Cow,
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
        let event = match &envelope.event {
            Event::Slice(slice) => &*slice.event,
            other => other,
        };
        match event {
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
        Event::TaskGraphPlanned(planned) => {
            let tasks: Vec<String> = planned
                .tasks
                .iter()
                .map(|task| match task.depends_on.as_slice() {
                    [] => task.id.clone(),
                    deps => format!("{} (after {})", task.id, deps.join(", ")),
                })
                .collect();
            (
                "team",
                format!(
                    "task graph of {} task(s), {} at once: {}",
                    planned.tasks.len(),
                    planned.max_agents,
                    tasks.join(", ")
                ),
            )
        }
        Event::TaskClaimed(claimed) => (
            "team",
            format!(
                "[{}] attempt {} claimed by {} on {} from {}",
                claimed.task,
                claimed.attempt,
                claimed.worker,
                claimed.branch,
                short(&claimed.base_commit)
            ),
        ),
        Event::Slice(slice) => {
            let (_, what) = describe(&slice.event, root);
            ("slice", format!("[{}] {what}", slice.task))
        }
        Event::TaskCompleted(completed) => (
            "team",
            format!(
                "[{}] committed {} ({} path(s)); queued for merging",
                completed.task,
                short(&completed.commit),
                completed.paths.len()
            ),
        ),
        Event::TaskFailed(failed) => (
            "team",
            format!(
                "[{}] attempt {} on {} failed ({}): {}; {}",
                failed.task,
                failed.attempt,
                failed.worker,
                failed.cause,
                failed.reason,
                if failed.retry { "retrying" } else { "no retry" }
            ),
        ),
        Event::QueueMerged(merged) => (
            "queue",
            format!(
                "merged {} onto the integration branch: {} (tree {}); gates next",
                merged.tasks.join(", "),
                short(&merged.commit),
                short(&merged.tree_id)
            ),
        ),
        Event::QueueLanded(landed) => {
            ("queue", format!("landed {} at {}", landed.tasks.join(", "), short(&landed.commit)))
        }
        Event::QueueReverted(reverted) => (
            "queue",
            format!(
                "{} broke {}; the integration branch is back at {}",
                reverted.tasks.join(", "),
                reverted.failed_gates.join(", "),
                short(&reverted.reset_to)
            ),
        ),
        Event::TaskTakenOut(out) => {
            let why = match &out.reason {
                crate::TakeOutReason::Conflict { paths } => {
                    format!("its merge conflicts in {}", paths.join(", "))
                }
                crate::TakeOutReason::BrokeGates { gates, .. } => {
                    format!("merged alone it breaks {}", gates.join(", "))
                }
                crate::TakeOutReason::Dependency { task } => format!("it depends on {task}"),
            };
            ("queue", format!("[{}] taken out: {why}", out.task))
        }
        Event::TaskProposed(proposed) => (
            "team",
            format!(
                "[{}] proposed task {}: {} ({})",
                proposed.task.proposed_by.as_deref().unwrap_or("?"),
                proposed.task.id,
                if proposed.accepted { "accepted" } else { "rejected" },
                proposed.reason
            ),
        ),
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
    // The chattiest kind: its sentences are put together without the formatting machinery.
    let number_after = |prefix: &str, n: u64, suffix: &str| {
        let mut what = String::with_capacity(prefix.len() + 20 + suffix.len());
        what.push_str(prefix);
        push_number(&mut what, n);
        what.push_str(suffix);
        what
    };
    match activity.activity {
        ActivityKind::Step => number_after("step ", u64::from(activity.step), ""),
        ActivityKind::ToolCall => match text {
            // Printable ASCII without quotes or backslashes is its own `{text:?}`.
            Some(text)
                if text.bytes().all(|c| (b' '..=b'~').contains(&c) && c != b'"' && c != b'\\') =>
            {
                ["calls ", tool, ": \"", &*text, "\""].concat()
            }
            Some(text) => format!("calls {tool}: {text:?}"),
            None => ["calls ", tool].concat(),
        },
        ActivityKind::ToolResult => match activity.ok {
            Some(false) => [tool, " failed"].concat(),
            _ => [tool, " returned"].concat(),
        },
        ActivityKind::Message => format!("says {:?}", text.unwrap_or_default()),
        ActivityKind::Usage => {
            number_after("", activity.usage.map_or(0, |it| it.total()), " tokens so far")
        }
    }
}

/// Returns `text` on one line, cut to `max` characters with `…`.
fn one_line(text: &str, max: usize) -> Cow<'_, str> {
    // Most texts are on one line already, with single spaces: no copy then.
    let flat = !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && text.chars().all(|c| c == ' ' || !c.is_whitespace());
    if flat && (text.len() <= max || text.chars().count() <= max) {
        return Cow::Borrowed(text);
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return Cow::Owned(flat);
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    Cow::Owned(cut)
}

/// Returns `ms` as `m:ss.mmm`, or `h:mm:ss.mmm` past an hour.
fn clock(ms: i64) -> String {
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
fn push_number(out: &mut String, n: u64) {
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
        assert_eq!(one_line(" a b", 10), "a b");
        assert_eq!(one_line("a\u{a0}b", 10), "a b");
        assert_eq!(one_line("éééé", 4), "éééé");
        assert_eq!(one_line("ééééé", 4), "ééé…");
        assert!(matches!(one_line("a b", 3), Cow::Borrowed("a b")));
        for text in ["cargo test -p x", "say \"hi\"", "a\\b", "tab\there", "é", "\u{7f}", ""] {
            let activity = crate::event::AgentActivity {
                step: 1,
                activity: ActivityKind::ToolCall,
                tool: Some("Shell".to_owned()),
                tool_call_id: None,
                ok: None,
                usage: None,
                text: Some(text.to_owned()),
            };
            let flat = one_line(text, 80);
            assert_eq!(describe_activity(&activity), format!("calls Shell: {flat:?}"));
        }
    }

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
