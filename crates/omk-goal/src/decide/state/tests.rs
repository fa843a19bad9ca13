//! Tests of the goal state's fold and its next step.

use chrono::{TimeZone, Utc};
use omk_events::{
    AgentFinished, AgentStarted, ChangesCommitted, ClassificationSource, GoalClassified,
    GoalPaused, GoalResumed, ReviewFinished, ReviewStarted, ReviewStatus,
};

use super::*;

struct Log {
    events: Vec<Envelope>,
}

impl Log {
    fn new() -> Self {
        let mut log = Self { events: Vec::new() };
        log.push(Event::GoalCreated(GoalCreated {
            prompt: "fix it".into(),
            repo_root: "/repo".into(),
            base_branch: Some("main".into()),
            base_commit: "base".into(),
            agent: "script:x".into(),
            omk_version: "0".into(),
            extra_gates: Vec::new(),
        }));
        log
    }

    fn push(&mut self, event: Event) -> &mut Self {
        let seq = Seq(self.events.len() as u64 + 1);
        let at = Utc.timestamp_millis_opt(1_000 * self.events.len() as i64).unwrap();
        self.events.push(Envelope::new(seq, at, GoalId::parse("g").unwrap(), event));
        self
    }

    fn state(&self) -> GoalState {
        GoalState::fold(&self.events).unwrap()
    }
}

fn finished(stopped: Option<&str>) -> Event {
    let mut finished = AgentFinished::new("script:x");
    finished.status = if stopped.is_some() { AgentStatus::Failed } else { AgentStatus::Completed };
    finished.stopped = stopped.map(str::to_owned);
    Event::AgentFinished(finished)
}

fn captured(tree: &str, files: usize) -> Event {
    let file = omk_events::ChangedFile {
        path: "a".into(),
        operation: omk_events::FileOperation::Modified,
        renamed_from: None,
        lines_added: Some(1),
        lines_removed: Some(0),
        blob_id: None,
    };
    Event::ChangesCaptured(ChangesCaptured {
        base_commit: "base".into(),
        tree_id: tree.into(),
        files: vec![file; files],
        patch: None,
    })
}

fn gate_finished(name: &str, phase: GatePhase, tree_id: Option<&str>) -> Event {
    Event::GateFinished(GateFinished { phase, ..omk_testkit::gate_run(name, true, true, tree_id) })
}

fn through_agent(log: &mut Log) {
    log.push(Event::GoalClassified(GoalClassified {
        goal_kind: GoalKind::Bugfix,
        source: ClassificationSource::Inferred,
        oracle_gates: Vec::new(),
    }))
    .push(Event::WorktreeCreated(WorktreeCreated {
        path: "/wt".into(),
        branch: "omk/g".into(),
        base_commit: "base".into(),
    }))
    .push(Event::AgentStarted(AgentStarted { agent: "script:x".into() }))
    .push(finished(None));
}

#[test]
fn each_step_follows_the_last_completed_one() {
    let mut log = Log::new();
    assert_eq!(log.state().next(), Next::Classify);
    through_agent(&mut log);
    assert_eq!(log.state().next(), Next::Capture);
    log.push(captured("t1", 1));
    assert_eq!(log.state().next(), Next::Commit);
    log.push(Event::ChangesCommitted(ChangesCommitted {
        commit: "c1".into(),
        tree_id: "t1".into(),
        parent: "base".into(),
        branch: "omk/g".into(),
        merged_base: None,
    }));
    assert_eq!(log.state().next(), Next::Surface);
    log.push(Event::GateSurfaceChecked(omk_events::GateSurfaceChecked {
        tree_id: "t1".into(),
        base_digest: "a".into(),
        proposed_digest: "a".into(),
        changed_paths: Vec::new(),
    }));
    let gates = ["test".to_owned()];
    // The baseline ran beside the agent; one without a result runs once the agent is done.
    assert_eq!(log.state().next_with(Some(&gates)), Next::Baseline);
    log.push(gate_finished("test", GatePhase::Baseline, None));
    assert_eq!(log.state().next_with(Some(&gates)), Next::Gates);
    assert_eq!(log.state().missing_gates(&gates), gates);
    assert_eq!(log.state().next(), Next::FailToPass);
    log.push(Event::FailToPassChecked(omk_events::FailToPassChecked {
        tree_id: "t1".into(),
        base_commit: "base".into(),
        test_paths: Vec::new(),
        checked_tree_id: None,
        gates: Vec::new(),
        skipped: Some(omk_events::FailToPassSkip::NoTestFiles),
    }));
    assert_eq!(log.state().next(), Next::Review);
    log.push(Event::ReviewStarted(ReviewStarted {
        tree_id: "t1".into(),
        checks: vec!["secrets".into(), "claims".into()],
    }));
    log.push(Event::ReviewFinished(ReviewFinished {
        check: "secrets".into(),
        tree_id: "t1".into(),
        status: ReviewStatus::Passed,
        evidence: Vec::new(),
        risks: Vec::new(),
        next_step: None,
    }));
    assert_eq!(log.state().missing_reviews(), Some(vec!["claims".to_owned()]));
    assert!(!log.state().ended_cleanly);
    log.push(Event::ReviewFinished(ReviewFinished {
        check: "claims".into(),
        tree_id: "t1".into(),
        status: ReviewStatus::Passed,
        evidence: Vec::new(),
        risks: Vec::new(),
        next_step: None,
    }));
    assert_eq!(log.state().next(), Next::Done);
    assert!(log.state().ended_cleanly);
}

#[test]
fn baseline_gates_run_beside_the_agent_and_gates_on_the_tree_mark_it() {
    let gates = ["test".to_owned()];
    let mut log = Log::new();
    through_agent(&mut log);
    log.events.pop();
    // The agent step runs the missing baseline gates beside the agent.
    assert_eq!(log.state().next_with(Some(&gates)), Next::Agent { follow_up: None, round: None });
    log.push(Event::GateStarted(omk_events::GateStarted {
        name: "test".into(),
        gate_kind: omk_events::GateKind::Test,
        command: vec!["true".into()],
    }));
    assert!(!log.state().gates_ran_on_tree, "a baseline gate runs in its own worktree");
    log.push(gate_finished("test", GatePhase::Baseline, Some("base-tree")));
    log.push(finished(None)).push(captured("t1", 1));
    assert_eq!(log.state().next_with(Some(&gates)), Next::Commit);
    log.push(Event::GateStarted(omk_events::GateStarted {
        name: "test".into(),
        gate_kind: omk_events::GateKind::Test,
        command: vec!["true".into()],
    }));
    assert!(log.state().gates_ran_on_tree, "a gate started on the captured tree");
    log.push(captured("t2", 1));
    assert!(!log.state().gates_ran_on_tree, "a new tree has had no gate yet");
}

#[test]
fn an_agent_stopped_by_omk_runs_again_and_a_crashed_one_too() {
    let mut log = Log::new();
    through_agent(&mut log);
    log.push(Event::AgentStarted(AgentStarted { agent: "script:x".into() }));
    assert_eq!(log.state().next(), Next::Agent { follow_up: None, round: None });
    assert!(log.state().agent_running);
    log.push(finished(Some("paused")));
    log.push(Event::GoalPaused(GoalPaused { reason: "omk pause".into() }));
    assert_eq!(log.state().halt, Some(Halt::Paused));
    log.push(Event::GoalResumed(GoalResumed { reason: "omk resume".into(), follow_up: None }));
    assert_eq!(log.state().halt, None);
    assert_eq!(log.state().next(), Next::Agent { follow_up: None, round: None });
}

#[test]
fn an_empty_change_is_not_committed_and_a_follow_up_runs_the_agent_again() {
    let mut log = Log::new();
    through_agent(&mut log);
    log.push(captured("base-tree", 0));
    assert_eq!(log.state().next(), Next::Surface);
    log.push(Event::GoalResumed(GoalResumed {
        reason: "omk resume".into(),
        follow_up: Some("also add a test".into()),
    }));
    assert_eq!(
        log.state().next(),
        Next::Agent { follow_up: Some("also add a test".into()), round: None }
    );
    log.push(Event::AgentStarted(AgentStarted { agent: "script:x".into() }));
    assert_eq!(log.state().next(), Next::Agent { follow_up: None, round: None });
}

#[test]
fn a_waived_or_docs_goal_has_no_fail_to_pass_step() {
    let mut log = Log::new();
    through_agent(&mut log);
    log.push(captured("t1", 1)).push(Event::GateSurfaceChecked(omk_events::GateSurfaceChecked {
        tree_id: "t1".into(),
        base_digest: "a".into(),
        proposed_digest: "a".into(),
        changed_paths: Vec::new(),
    }));
    let mut waived = Log { events: log.events.clone() };
    assert_eq!(log.state().next(), Next::Commit);
    waived.push(Event::FailToPassWaived(omk_events::FailToPassWaived {
        by: omk_events::FailToPassWaiver::Flag,
    }));
    assert!(log.state().needs_fail_to_pass());
    assert!(!waived.state().needs_fail_to_pass());
    let mut docs = Log::new();
    docs.push(Event::GoalClassified(GoalClassified {
        goal_kind: GoalKind::Docs,
        source: ClassificationSource::User,
        oracle_gates: Vec::new(),
    }));
    assert!(!docs.state().needs_fail_to_pass());
}

#[test]
fn cancelled_is_final() {
    let mut log = Log::new();
    log.push(Event::GoalCancelled(omk_events::GoalCancelled { reason: "no".into() }));
    log.push(Event::GoalResumed(GoalResumed { reason: "omk resume".into(), follow_up: None }));
    assert_eq!(log.state().halt, Some(Halt::Cancelled));
}
