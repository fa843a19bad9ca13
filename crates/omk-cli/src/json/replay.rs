//! The document of `omk replay --json`: the timeline of a goal, written as the log is read.

use chrono::{DateTime, Utc};
use serde::Serialize;

use omk_events::{EventHash, TestCounts, TokenUsage, TornTail};

use crate::replay::{ChainCheck, Entry, GateVerdict, Summary};

/// `omk replay --json`: a goal's timeline, one entry per event, then a summary and what the
/// check of the log's hash chain found.
///
/// The document is streamed: [`crate::replay::JsonWriter`] writes its head, then each entry as
/// the log is read (each on a line of its own), then the summary and the chain. Without those
/// newlines its bytes are this struct's, as serde writes it compactly.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    not(any(feature = "schema", test)),
    expect(dead_code, reason = "the streamed writer writes this document piece by piece")
)]
pub(crate) struct ReplayDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal's id.
    pub(crate) goal_id: &'a str,
    /// One entry per event, in the log's order.
    pub(crate) entries: Vec<ReplayEntry<'a>>,
    /// What the timeline counted.
    pub(crate) summary: ReplaySummary<'a>,
    /// What reading the log found about its hash chain.
    pub(crate) chain: ReplayChain<'a>,
}

/// One event of the timeline in [`ReplayDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ReplayEntry<'a> {
    /// The event's sequence number.
    pub(crate) seq: u64,
    /// When it happened (RFC 3339, UTC, milliseconds).
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub(crate) at: DateTime<Utc>,
    /// Milliseconds since the goal's first event.
    pub(crate) offset_ms: i64,
    /// The pipeline step it belongs to: intake, worktree, agent, changes, gates, review,
    /// decision, control, team, slice, queue, or `?` for a kind this build does not know.
    pub(crate) step: &'a str,
    /// The event's kind, as written in the log.
    pub(crate) kind: &'a str,
    /// What happened, in one line.
    pub(crate) what: &'a str,
    /// How long the step took, for events that end one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) duration_ms: Option<u64>,
    /// Tokens the agent used, for events that report usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tokens: Option<u64>,
    /// The gate's verdict, for finished gates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) gate: Option<ReplayGate<'a>>,
    /// The event itself, as the log holds it; a kind from a newer omk as written.
    #[cfg_attr(feature = "schema", schemars(with = "omk_events::Event"))]
    pub(crate) event: serde_json::Value,
}

impl<'a> ReplayEntry<'a> {
    /// Returns the JSON of `entry`, with `event`, the event it describes, as JSON.
    pub(crate) fn new(entry: &'a Entry, event: serde_json::Value) -> Self {
        Self {
            seq: entry.seq,
            at: entry.at,
            offset_ms: entry.offset_ms,
            step: entry.step,
            kind: &entry.kind,
            what: &entry.what,
            duration_ms: entry.duration_ms,
            tokens: entry.tokens,
            gate: entry.gate.as_ref().map(ReplayGate::new),
            event,
        }
    }
}

/// The result of a finished gate, in a [`ReplayEntry`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ReplayGate<'a> {
    /// The gate's name.
    pub(crate) name: &'a str,
    /// Whether it passed.
    pub(crate) passed: bool,
    /// Whether the proof requires it.
    pub(crate) required: bool,
    /// The test counts parsed from its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tests: Option<TestCounts>,
}

impl<'a> ReplayGate<'a> {
    fn new(gate: &'a GateVerdict) -> Self {
        Self { name: &gate.name, passed: gate.passed, required: gate.required, tests: gate.tests }
    }
}

/// What the timeline counted, in [`ReplayDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ReplaySummary<'a> {
    /// The number of events.
    pub(crate) events: u64,
    /// Milliseconds from the first event to the last.
    pub(crate) elapsed_ms: i64,
    /// Agent runs that finished.
    pub(crate) agent_runs: u64,
    /// Token usage summed over finished agent runs.
    pub(crate) tokens: TokenUsage,
    /// Gate runs that passed.
    pub(crate) gates_passed: u64,
    /// Gate runs that failed.
    pub(crate) gates_failed: u64,
    /// Of those, runs on the base tree: failures that were there before the agent.
    pub(crate) baseline_failed: u64,
    /// Events of kinds this build does not know.
    pub(crate) unknown_events: u64,
    /// The kind of the last event, such as `change_accepted` or `goal_failed`.
    pub(crate) last_kind: Option<&'a str>,
}

impl<'a> ReplaySummary<'a> {
    pub(crate) fn new(summary: &'a Summary) -> Self {
        Self {
            events: summary.events,
            elapsed_ms: summary.elapsed_ms,
            agent_runs: summary.agent_runs,
            tokens: summary.tokens,
            gates_passed: summary.gates_passed,
            gates_failed: summary.gates_failed,
            baseline_failed: summary.baseline_failed,
            unknown_events: summary.unknown_events,
            last_kind: summary.last_kind.as_deref(),
        }
    }
}

/// What reading the log found about its hash chain, in [`ReplayDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ReplayChain<'a> {
    /// The hash of the last event; none for a log of format 1.0, which has no chain.
    pub(crate) head: Option<EventHash>,
    /// The torn last line, if a crash left one; the next run of the goal repairs it.
    pub(crate) torn_tail: Option<&'a TornTail>,
}

impl<'a> ReplayChain<'a> {
    pub(crate) fn new(check: &'a ChainCheck) -> Self {
        Self { head: check.head, torn_tail: check.torn_tail.as_ref() }
    }
}
