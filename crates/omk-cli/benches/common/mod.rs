//! What the replay benchmarks share: the long goal log, so the in-process figure and the
//! whole-process figure replay the same events.

use std::{path::Path, time::Duration};

use chrono::{DateTime, Utc};
use omk_events::{
    AgentFinished, AgentStarted, AgentStatus, Event, EventLog, GateFinished, GateKind, GatePhase,
    GoalCreated, GoalId, TestCounts, TokenUsage,
};
use omk_testkit::chatty_activity;

/// The number of events of the long log.
pub(crate) const REPLAY_EVENTS: u64 = 1_000_000;

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

/// Returns event `n` of a long goal: mostly agent activity, with an agent run and gates every
/// thousand events.
fn event(n: u64) -> Event {
    match n % 1000 {
        0 => Event::AgentStarted(AgentStarted { agent: "kimi".into() }),
        997 => {
            let mut finished = AgentFinished::new("kimi");
            finished.status = AgentStatus::Completed;
            finished.steps = 250;
            finished.duration_ms = 60_000;
            finished.usage = Some(TokenUsage {
                input_uncached: 300_000,
                output: 75_000,
                ..TokenUsage::default()
            });
            Event::AgentFinished(finished)
        }
        998 | 999 => Event::GateFinished(GateFinished {
            name: if n % 1000 == 998 { "test".into() } else { "clippy".into() },
            gate_kind: GateKind::Test,
            command: vec!["cargo".into(), "test".into()],
            required: true,
            phase: GatePhase::Proposed,
            tree_id: Some("2222222222222222222222222222222222222222".into()),
            allow_no_tests: false,
            exit_code: Some(0),
            signal: None,
            timed_out: false,
            spawn_error: None,
            duration_ms: 12_345,
            output: None,
            tests: Some(TestCounts { passed: 140, failed: 0, skipped: 2 }),
            cached_from: None,
            tests_by_exit_code: false,
            flaky_with: None,
            junit: None,
        }),
        _ => chatty_activity(n),
    }
}

/// Writes the [`REPLAY_EVENTS`]-event log of goal `goal` at `path` (its directory exists).
pub(crate) fn write_replay_log(path: &Path, goal: &str) {
    let goal_id = GoalId::parse(goal).expect("a valid goal id");
    let mut log = EventLog::create(path, &goal_id).expect("the bench can create its log");
    log.append(
        start(),
        Event::GoalCreated(GoalCreated {
            prompt: "make the log long".into(),
            repo_root: "/repo".into(),
            base_branch: Some("main".into()),
            base_commit: "1111111111111111111111111111111111111111".into(),
            agent: "kimi".into(),
            omk_version: "0.1.0".into(),
            extra_gates: Vec::new(),
        }),
    )
    .expect("the bench can append");
    for n in 1..REPLAY_EVENTS {
        let at = start() + Duration::from_millis(n);
        log.append(at, event(n)).expect("the bench can append");
    }
    log.sync().expect("the bench can sync its log");
}
