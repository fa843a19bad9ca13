//! The timeline of a goal, folded from its events.
//!
//! [`Timeline`] turns each event into an [`Entry`] (time, step, what happened, duration, token
//! usage, gate result) and keeps a running [`Summary`]. It reads nothing but the events, so
//! replaying a log gives the same bytes every time, and it keeps no event after describing it,
//! so its memory is flat however long the log.

use std::{borrow::Cow, path::PathBuf};

use chrono::{DateTime, Utc};

use omk_events::{Envelope, Event, GatePhase, TestCounts, TokenUsage};

use crate::replay::describe::describe;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The event's sequence number.
    pub seq: u64,
    /// When it happened.
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
    pub duration_ms: Option<u64>,
    /// Tokens the agent used, for events that report usage.
    pub tokens: Option<u64>,
    /// The gate's verdict, for finished gates.
    pub gate: Option<GateVerdict>,
}

/// The result of a finished gate, in an [`Entry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateVerdict {
    /// The gate's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Whether the proof requires it.
    pub required: bool,
    /// The test counts parsed from its output.
    pub tests: Option<TestCounts>,
}

/// What the timeline has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
                    if gate.phase == GatePhase::Baseline {
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

#[cfg(test)]
mod tests {
    use omk_testkit::odd_event;

    use super::*;
    use crate::fixtures::envelopes;

    #[test]
    fn the_timeline_counts_every_event_of_a_log() {
        let envelopes = envelopes((0..=u8::MAX).map(odd_event).collect());
        let mut timeline = Timeline::new();
        for envelope in &envelopes {
            timeline.entry(envelope);
        }
        assert_eq!(timeline.summary().events, envelopes.len() as u64);
        assert_eq!(timeline.summary().last_kind.as_deref(), Some("agent_started"));
    }
}
