//! Events shared by the unit tests of the narration and the result: a log's envelopes and a
//! mixed team run.
#![cfg(test)]

use chrono::TimeZone;
use omk_events::{
    ActivityKind, AgentActivity, Envelope, Event, EventLog, FailureCause, PlanSource, QueueLanded,
    QueueMerged, QueueReverted, SliceEvent, TakeOutReason, TaskClaimed, TaskCompleted, TaskFailed,
    TaskGraphPlanned, TaskProposed, TaskSpec, TaskTakenOut,
};

/// Returns envelopes of `events`, as a log would number and chain them.
pub(crate) fn envelopes(events: Vec<Event>) -> Vec<Envelope> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let goal = omk_events::GoalId::parse("20261121-200000-abcdef").expect("an id");
    let mut log = EventLog::create(&dir.path().join("events.jsonl"), &goal).expect("a log");
    let at = chrono::Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).single().expect("a time");
    events.into_iter().map(|event| log.append(at, event).expect("append")).collect()
}

/// Returns a task `id` with one retry.
pub(crate) fn spec(id: &str) -> TaskSpec {
    TaskSpec { retries: 1, ..TaskSpec::new(id, format!("do {id}")) }
}

/// Returns the claim of `task`'s attempt `attempt` by `worker`.
pub(crate) fn claimed(task: &str, worker: &str, attempt: u32) -> Event {
    Event::TaskClaimed(TaskClaimed {
        task: task.to_owned(),
        attempt,
        worker: worker.to_owned(),
        worktree: format!("/repo/.omk/worktrees/{task}").into(),
        branch: format!("omk/slice/{task}"),
        base_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".to_owned(),
    })
}

/// Returns a team run of two slices through every kind of team event: claims, a slice's
/// activity, a proposal, a failure and its retry, a merge, a revert, a landing and a slice
/// taken out.
pub(crate) fn team_events() -> Vec<Event> {
    let tree = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1".to_owned();
    let mut docs = spec("docs");
    docs.proposed_by = Some("api".to_owned());
    vec![
        Event::TaskGraphPlanned(TaskGraphPlanned {
            source: PlanSource::Slices { count: 2 },
            tasks: vec![spec("api"), spec("cli")],
            max_agents: 2,
            lease_ms: 30_000,
            max_depth: 1,
            max_tasks: 4,
        }),
        claimed("api", "w1", 1),
        claimed("cli", "w2", 1),
        Event::Slice(SliceEvent {
            task: "api".to_owned(),
            attempt: 1,
            event: Box::new(Event::AgentActivity(AgentActivity {
                tool: Some("ReadFile".to_owned()),
                text: Some("src/api.rs".to_owned()),
                ..AgentActivity::new(1, ActivityKind::ToolCall)
            })),
        }),
        Event::TaskProposed(TaskProposed {
            task: docs,
            accepted: true,
            reason: "within the limits".to_owned(),
        }),
        Event::TaskCompleted(TaskCompleted {
            task: "api".to_owned(),
            attempt: 1,
            commit: "c".repeat(40),
            tree_id: "d".repeat(40),
            paths: vec!["src/api.rs".to_owned(), "src/lib.rs".to_owned(), "README".to_owned()],
        }),
        Event::TaskFailed(TaskFailed {
            task: "cli".to_owned(),
            attempt: 1,
            worker: "w2".to_owned(),
            cause: FailureCause::AgentFailed,
            reason: "the agent exited 1".to_owned(),
            retry: true,
        }),
        claimed("cli", "w1", 2),
        Event::TaskCompleted(TaskCompleted {
            task: "cli".to_owned(),
            attempt: 2,
            commit: "e".repeat(40),
            tree_id: "f".repeat(40),
            paths: vec!["src/cli.rs".to_owned()],
        }),
        Event::QueueMerged(QueueMerged {
            tasks: vec!["api".to_owned(), "cli".to_owned()],
            from_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".to_owned(),
            commit: "1".repeat(40),
            tree_id: tree.clone(),
        }),
        Event::QueueReverted(QueueReverted {
            tasks: vec!["api".to_owned(), "cli".to_owned()],
            tree_id: tree.clone(),
            failed_gates: vec!["test".to_owned()],
            reset_to: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".to_owned(),
        }),
        Event::QueueMerged(QueueMerged {
            tasks: vec!["api".to_owned()],
            from_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".to_owned(),
            commit: "2".repeat(40),
            tree_id: "b".repeat(40),
        }),
        Event::QueueLanded(QueueLanded {
            tasks: vec!["api".to_owned()],
            commit: "2".repeat(40),
            tree_id: "b".repeat(40),
        }),
        Event::TaskTakenOut(TaskTakenOut {
            task: "cli".to_owned(),
            reason: TakeOutReason::Conflict { paths: vec!["src/main.rs".to_owned()] },
        }),
    ]
}
