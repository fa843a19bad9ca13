//! Team goals: slices, the merge queue and its integration gates, folded into the team section
//! and the gaps, beside the goal's own ladder for the integrated tree.

use omk_events::{
    AgentFinished, AgentStarted, AgentStatus, Event, FailureCause, GatePhase, GoalPaused,
    PlanSource, QueueLanded, QueueMerged, QueueReverted, ReviewStatus, SliceEvent, TakeOutReason,
    TaskClaimed, TaskCompleted, TaskFailed, TaskGraphPlanned, TaskProposed, TaskSpec, TaskTakenOut,
    TokenUsage,
};
use omk_proof::{
    AttemptOutcome, BatchResult, Gap, NotLanded, Proof, ProofStatus, Readiness, SliceMerge,
    SliceStatus, TaskGraphSummary,
};

use crate::support::{BASE, Log, ProofOf, T1, artifact, gate_run};

/// The integration branch's merged trees and heads.
const M1: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const M2: &str = "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2";
const M3: &str = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3";
const M4: &str = "a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4";

/// Team events on top of [`Log`].
trait TeamLog: Sized {
    fn plan(self, tasks: &[(&str, &[&str])]) -> Self;
    fn claim(self, task: &str, attempt: u32, worker: &str) -> Self;
    /// Runs the slice's agent: started and finished, with 1000 tokens.
    fn slice_agent(self, task: &str, attempt: u32, status: AgentStatus) -> Self;
    fn complete(self, task: &str, attempt: u32, n_paths: usize) -> Self;
    fn fail(self, task: &str, attempt: u32, cause: FailureCause, retry: bool) -> Self;
    /// Claims, runs and completes the slice's first attempt.
    fn slice(self, task: &str, worker: &str) -> Self;
    fn merged(self, tasks: &[&str], tree: &str) -> Self;
    fn integration_gate(self, name: &str, passed: bool, tree: &str) -> Self;
    fn landed(self, tasks: &[&str], tree: &str) -> Self;
    fn reverted(self, tasks: &[&str], tree: &str, failed: &[&str]) -> Self;
    fn taken_out(self, task: &str, reason: TakeOutReason) -> Self;
    fn proposed(self, id: &str, by: &str, accepted: bool) -> Self;
    /// The goal's own steps on the integrated tree `T1`: capture, gates, surface, review.
    fn integrated(self) -> Self;
}

impl TeamLog for Log {
    fn plan(self, tasks: &[(&str, &[&str])]) -> Self {
        self.with(Event::TaskGraphPlanned(TaskGraphPlanned {
            source: PlanSource::Slices { count: tasks.len() as u32 },
            tasks: tasks.iter().map(|(id, deps)| spec(id, deps)).collect(),
            max_agents: 2,
            lease_ms: 60_000,
            max_depth: 1,
            max_tasks: 8,
        }))
    }

    fn claim(self, task: &str, attempt: u32, worker: &str) -> Self {
        self.with(Event::TaskClaimed(TaskClaimed {
            task: task.into(),
            attempt,
            worker: worker.into(),
            worktree: format!("/repo/.omk/worktrees/slice-{task}-{attempt}").into(),
            branch: format!("omk/slice/{task}"),
            base_commit: BASE.into(),
        }))
    }

    fn slice_agent(self, task: &str, attempt: u32, status: AgentStatus) -> Self {
        let wrap = |event: Event| {
            Event::Slice(SliceEvent { task: task.into(), attempt, event: Box::new(event) })
        };
        let failed = status == AgentStatus::Failed;
        self.with(wrap(Event::AgentStarted(AgentStarted { agent: "script:slice.txt".into() })))
            .with(wrap(Event::AgentFinished(AgentFinished {
                status,
                error: failed.then(|| "the agent exited 1".into()),
                final_message: Some(format!("Did {task}.")),
                steps: 2,
                tool_calls: 1,
                usage: Some(TokenUsage {
                    input_uncached: 800,
                    input_cache_read: 0,
                    input_cache_write: 0,
                    output: 200,
                }),
                transcript: Some(artifact(&format!(
                    "artifacts/slices/{task}/{attempt}/transcript.jsonl"
                ))),
                duration_ms: 1500,
                ..AgentFinished::new("script:slice.txt")
            })))
    }

    fn complete(self, task: &str, attempt: u32, n_paths: usize) -> Self {
        self.with(Event::TaskCompleted(TaskCompleted {
            task: task.into(),
            attempt,
            commit: format!("c0{task:0>38}").chars().take(40).collect(),
            tree_id: format!("d0{task:0>38}").chars().take(40).collect(),
            paths: (1..=n_paths).map(|n| format!("src/{task}/{n}.rs")).collect(),
        }))
    }

    fn fail(self, task: &str, attempt: u32, cause: FailureCause, retry: bool) -> Self {
        self.with(Event::TaskFailed(TaskFailed {
            task: task.into(),
            attempt,
            worker: "w1".into(),
            cause,
            reason: "the agent exited 1".into(),
            retry,
        }))
    }

    fn slice(self, task: &str, worker: &str) -> Self {
        self.claim(task, 1, worker)
            .slice_agent(task, 1, AgentStatus::Completed)
            .complete(task, 1, 2)
    }

    fn merged(self, tasks: &[&str], tree: &str) -> Self {
        self.with(Event::QueueMerged(QueueMerged {
            tasks: strings(tasks),
            from_commit: BASE.into(),
            commit: format!("e{}", &tree[1..]),
            tree_id: tree.into(),
        }))
    }

    fn integration_gate(self, name: &str, passed: bool, tree: &str) -> Self {
        let mut run = gate_run(name, true, passed, Some(tree));
        run.phase = GatePhase::Integration;
        run.output =
            Some(artifact(&format!("artifacts/gates/integration-{}/{name}.log", &tree[..12])));
        self.with(Event::GateFinished(run))
    }

    fn landed(self, tasks: &[&str], tree: &str) -> Self {
        self.with(Event::QueueLanded(QueueLanded {
            tasks: strings(tasks),
            commit: format!("e{}", &tree[1..]),
            tree_id: tree.into(),
        }))
    }

    fn reverted(self, tasks: &[&str], tree: &str, failed: &[&str]) -> Self {
        self.with(Event::QueueReverted(QueueReverted {
            tasks: strings(tasks),
            tree_id: tree.into(),
            failed_gates: strings(failed),
            reset_to: BASE.into(),
        }))
    }

    fn taken_out(self, task: &str, reason: TakeOutReason) -> Self {
        self.with(Event::TaskTakenOut(TaskTakenOut { task: task.into(), reason }))
    }

    fn proposed(self, id: &str, by: &str, accepted: bool) -> Self {
        let mut task = spec(id, &[]);
        task.proposed_by = Some(by.into());
        task.depth = 1;
        self.with(Event::TaskProposed(TaskProposed {
            task,
            accepted,
            reason: if accepted { "within the graph's limits".into() } else { "too deep".into() },
        }))
    }

    fn integrated(self) -> Self {
        self.capture(T1, 2)
            .gate("test", true, true, T1)
            .gate("lint", false, true, T1)
            .surface(T1, &[])
            .review(T1, ReviewStatus::Passed)
    }
}

fn spec(id: &str, depends_on: &[&str]) -> TaskSpec {
    TaskSpec {
        depends_on: strings(depends_on),
        writes: vec![format!("src/{id}/")],
        retries: 1,
        ..TaskSpec::new(id, format!("do the {id} part"))
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|it| (*it).to_owned()).collect()
}

/// Two slices, batched, both landed; then the integrated tree is verified.
fn all_landed() -> Log {
    Log::new()
        .worktree()
        .plan(&[("api", &[]), ("cli", &[])])
        .slice("api", "w1")
        .slice("cli", "w2")
        .merged(&["api", "cli"], M1)
        .integration_gate("test", true, M1)
        .landed(&["api", "cli"], M1)
        .integrated()
}

/// One slice landed after a bisect, one taken out by a conflict, one by broken gates, one by
/// its dependency, one retried, one proposed; then the integrated tree is verified and accepted.
fn mixed() -> Log {
    Log::new()
        .worktree()
        .plan(&[("api", &[]), ("cli", &[]), ("docs", &[]), ("readme", &["docs"])])
        .claim("api", 1, "w1")
        .slice_agent("api", 1, AgentStatus::Failed)
        .fail("api", 1, FailureCause::AgentFailed, true)
        .claim("api", 2, "w1")
        .slice_agent("api", 2, AgentStatus::Completed)
        .proposed("api-tests", "api", true)
        .proposed("api-bench", "api", false)
        .complete("api", 2, 3)
        .slice("cli", "w2")
        .taken_out("cli", TakeOutReason::Conflict { paths: vec!["src/main.rs".into()] })
        .slice("docs", "w2")
        .merged(&["api", "docs"], M1)
        .integration_gate("test", false, M1)
        .reverted(&["api", "docs"], M1, &["test"])
        .merged(&["api"], M2)
        .integration_gate("test", true, M2)
        .landed(&["api"], M2)
        .merged(&["docs"], M3)
        .integration_gate("test", false, M3)
        .reverted(&["docs"], M3, &["test"])
        .taken_out(
            "docs",
            TakeOutReason::BrokeGates { gates: vec!["test".into()], tree_id: M3.into() },
        )
        .taken_out("readme", TakeOutReason::Dependency { task: "docs".into() })
        .slice("api-tests", "w1")
        .merged(&["api-tests"], M4)
        .integration_gate("test", true, M4)
        .landed(&["api-tests"], M4)
        .integrated()
        .accept(T1)
}

fn statuses(proof: &Proof) -> Vec<(String, SliceStatus)> {
    let team = proof.team.as_ref().expect("a team goal has a team section");
    team.slices.iter().map(|it| (it.id.clone(), it.status)).collect()
}

#[test]
fn all_slices_landed_leaves_the_ladder_to_the_integrated_tree() {
    let proof = all_landed().accept(T1).proof();
    assert_eq!((proof.status, proof.readiness), (ProofStatus::Ready, Readiness::Ready));
    assert!(proof.known_gaps.is_empty(), "{:#?}", proof.known_gaps);
    let team = proof.team.as_ref().expect("a team section");
    assert_eq!(
        team.task_graph,
        TaskGraphSummary { total: 2, landed: 2, ..TaskGraphSummary::default() }
    );
    for slice in &team.slices {
        assert_eq!(
            slice.merge,
            Some(SliceMerge::Landed { commit: format!("e{}", &M1[1..]), tree_id: M1.into() })
        );
        assert_eq!(slice.gates.len(), 1);
        assert!(slice.gates[0].passed);
        assert_eq!(slice.attempts.len(), 1);
        assert_eq!(slice.attempts[0].outcome, AttemptOutcome::Completed);
        assert_eq!(slice.paths.len(), 2);
    }
    assert_eq!(team.queue.len(), 1);
    assert_eq!(team.queue[0].result, BatchResult::Landed);

    // Without the acceptance it waits for one, like a single run.
    let waiting = all_landed().proof();
    assert_eq!(waiting.readiness, Readiness::AwaitingAcceptance);
    assert!(matches!(waiting.known_gaps[..], [ref gap] if gap.gap == Gap::AcceptanceMissing));
}

#[test]
fn slice_runs_count_in_the_budget_but_not_as_the_goal_agent() {
    let proof = all_landed().proof();
    assert_eq!(proof.agent, None, "slices never stand for the goal's own agent");
    assert_eq!(proof.budget.used.tokens, 2000);
    assert_eq!(proof.budget.used.turns, 4);
    // The integration gates decide batches; the goal's gates are those on its proposed tree.
    assert!(proof.gates.iter().all(|gate| gate.phase == GatePhase::Proposed));
    assert_eq!(proof.gates.len(), 2);
    assert!(proof.commits.is_empty());
    assert_eq!(proof.changed_files.len(), 2);
    let team = proof.team.as_ref().expect("a team section");
    let runs = team.slices[0].agent_runs.as_ref().expect("the slice's agent ran");
    assert_eq!((runs.runs, runs.steps, runs.usage.map(|it| it.total())), (1, 2, Some(1000)));
    // The slices' transcripts and the logs of the gates that landed them are artifacts too.
    let paths: Vec<&str> = proof.artifacts.iter().map(|it| it.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "artifacts/diff/111111111111.patch",
            "artifacts/gates/test.log",
            "artifacts/gates/lint.log",
            "artifacts/slices/api/1/transcript.jsonl",
            "artifacts/slices/cli/1/transcript.jsonl",
            "artifacts/gates/integration-a1a1a1a1a1a1/test.log",
        ]
    );
}

#[test]
fn taken_out_slices_keep_the_goal_from_ready() {
    let proof = mixed().proof();
    assert_eq!((proof.status, proof.readiness), (ProofStatus::NotReady, Readiness::AgentFailed));
    assert_eq!(
        statuses(&proof),
        [
            ("api".to_owned(), SliceStatus::Landed),
            ("cli".to_owned(), SliceStatus::TakenOut),
            ("docs".to_owned(), SliceStatus::TakenOut),
            ("readme".to_owned(), SliceStatus::TakenOut),
            ("api-tests".to_owned(), SliceStatus::Landed),
        ]
    );
    let gaps: Vec<&Gap> = proof.known_gaps.iter().map(|it| &it.gap).collect();
    assert_eq!(
        gaps,
        [
            &Gap::SliceNotLanded {
                task: "cli".into(),
                why: NotLanded::TakenOut(TakeOutReason::Conflict {
                    paths: vec!["src/main.rs".into()]
                })
            },
            &Gap::SliceNotLanded {
                task: "docs".into(),
                why: NotLanded::TakenOut(TakeOutReason::BrokeGates {
                    gates: vec!["test".into()],
                    tree_id: M3.into()
                })
            },
            &Gap::SliceNotLanded {
                task: "readme".into(),
                why: NotLanded::TakenOut(TakeOutReason::Dependency { task: "docs".into() })
            },
        ]
    );
    let team = proof.team.as_ref().expect("a team section");
    // The slice taken out for broken gates shows the gates of the batch it broke alone; the
    // landed one those of the batch it landed in, after the bisect.
    let docs = &team.slices[2];
    assert_eq!(
        (docs.gates.len(), docs.gates[0].passed, docs.gates[0].tree_id.as_str()),
        (1, false, M3)
    );
    let api = &team.slices[0];
    assert_eq!((api.gates[0].passed, api.gates[0].tree_id.as_str()), (true, M2));
    let results: Vec<BatchResult> = team.queue.iter().map(|it| it.result).collect();
    assert_eq!(
        results,
        [BatchResult::Reverted, BatchResult::Landed, BatchResult::Reverted, BatchResult::Landed]
    );
    assert_eq!(team.queue[0].failed_gates, ["test"]);
}

#[test]
fn a_retry_is_a_second_attempt() {
    let proof = mixed().proof();
    let api = &proof.team.as_ref().expect("a team section").slices[0];
    let outcomes: Vec<&AttemptOutcome> = api.attempts.iter().map(|it| &it.outcome).collect();
    assert_eq!(
        outcomes,
        [
            &AttemptOutcome::Failed {
                cause: FailureCause::AgentFailed,
                reason: "the agent exited 1".into(),
                retry: true
            },
            &AttemptOutcome::Completed,
        ]
    );
    let runs = api.agent_runs.as_ref().expect("two runs");
    assert_eq!((runs.runs, runs.status), (2, AgentStatus::Completed));
    assert_eq!(api.paths.len(), 3);
}

#[test]
fn an_accepted_proposal_joins_the_slices() {
    let proof = mixed().proof();
    let team = proof.team.as_ref().expect("a team section");
    let proposed = team.slices.iter().find(|it| it.id == "api-tests").expect("joined");
    assert_eq!(proposed.proposed_by.as_deref(), Some("api"));
    assert!(!team.slices.iter().any(|it| it.id == "api-bench"), "a rejected proposal does not");
    let decisions: Vec<(&str, bool)> =
        team.proposals.iter().map(|it| (it.id.as_str(), it.accepted)).collect();
    assert_eq!(decisions, [("api-tests", true), ("api-bench", false)]);
    assert_eq!(team.task_graph.total, 5);
}

#[test]
fn a_slice_that_failed_for_good_does_not_land() {
    let proof = Log::new()
        .worktree()
        .plan(&[("api", &[])])
        .claim("api", 1, "w1")
        .slice_agent("api", 1, AgentStatus::Failed)
        .fail("api", 1, FailureCause::Budget, false)
        .proof();
    assert_eq!(statuses(&proof), [("api".to_owned(), SliceStatus::Failed)]);
    assert!(proof.known_gaps.iter().any(|it| it.gap
        == Gap::SliceNotLanded {
            task: "api".into(),
            why: NotLanded::Failed {
                cause: FailureCause::Budget,
                reason: "the agent exited 1".into()
            }
        }));
    assert!(!proof.known_gaps.iter().any(|it| it.gap == Gap::AgentNotRun));
}

#[test]
fn a_team_stopped_midway_is_unfinished() {
    let log = Log::new()
        .worktree()
        .plan(&[("api", &[]), ("cli", &[]), ("docs", &[])])
        .slice("api", "w1")
        .claim("cli", 1, "w2");
    let proof = log.proof();
    // No gate ran on an integrated tree yet, the lower rung.
    assert_eq!((proof.status, proof.readiness), (ProofStatus::NotReady, Readiness::GatesFailing));
    let gap = &proof.known_gaps.iter().find(|it| it.gap.rung() == Some(Readiness::AgentNotRun));
    let gap = gap.expect("the team's gap");
    assert_eq!(gap.gap, Gap::SlicesUnfinished { tasks: strings(&["api", "cli", "docs"]) });
    assert_eq!(gap.next_step, "resume the run with `omk resume`; it runs the slices that are left");
    assert_eq!(
        proof.team.as_ref().map(|it| it.task_graph),
        Some(TaskGraphSummary {
            total: 3,
            queued: 1,
            running: 1,
            pending: 1,
            ..Default::default()
        })
    );
    let paused = log.with(Event::GoalPaused(GoalPaused { reason: "omk pause".into() })).proof();
    assert_eq!(paused.status, ProofStatus::Paused);
}

#[test]
fn a_landing_after_the_capture_needs_a_new_capture() {
    // The integrated tree was captured, then another batch landed: the capture is stale.
    let proof = all_landed()
        .slice("late", "w1")
        .merged(&["late"], M2)
        .integration_gate("test", true, M2)
        .landed(&["late"], M2)
        .accept(T1)
        .proof();
    assert!(
        proof.known_gaps.iter().any(|it| it.gap == Gap::ChangesNotCaptured),
        "{:#?}",
        proof.known_gaps
    );
}

#[test]
fn a_follow_up_run_takes_over_a_slice_that_did_not_land() {
    let taken_out = Log::new()
        .worktree()
        .plan(&[("api", &[]), ("cli", &[])])
        .slice("api", "w1")
        .slice("cli", "w2")
        .taken_out("cli", TakeOutReason::Conflict { paths: vec!["src/main.rs".into()] })
        .merged(&["api"], M1)
        .integration_gate("test", true, M1)
        .landed(&["api"], M1);
    assert_eq!(taken_out.clone().integrated().accept(T1).proof().readiness, Readiness::AgentFailed);
    // `omk resume --prompt`: the goal's own agent does the missing part on the integrated tree.
    let proof = taken_out.agent(AgentStatus::Completed).integrated().accept(T1).proof();
    assert_eq!((proof.status, proof.readiness), (ProofStatus::Ready, Readiness::Ready));
    assert_eq!(statuses(&proof)[1], ("cli".to_owned(), SliceStatus::TakenOut));
}

#[test]
fn a_follow_up_run_takes_over_the_slices_a_stopped_team_left() {
    let stopped = Log::new()
        .worktree()
        .plan(&[("api", &[]), ("cli", &[])])
        .slice("api", "w1")
        .merged(&["api"], M1)
        .integration_gate("test", true, M1)
        .landed(&["api"], M1)
        .claim("cli", 1, "w2");
    let unfinished = stopped.clone().integrated().accept(T1).proof();
    assert_eq!(unfinished.readiness, Readiness::AgentNotRun);
    assert_eq!(unfinished.known_gaps[0].gap, Gap::SlicesUnfinished { tasks: strings(&["cli"]) });
    let proof = stopped.clone().agent(AgentStatus::Completed).integrated().accept(T1).proof();
    assert_eq!((proof.status, proof.readiness), (ProofStatus::Ready, Readiness::Ready));
    // A slice claimed after the follow-up is the team's again.
    let later =
        stopped.agent(AgentStatus::Completed).claim("cli", 2, "w1").integrated().accept(T1).proof();
    assert_eq!(later.readiness, Readiness::AgentNotRun);
}

#[test]
fn a_resumed_slice_goes_on_in_the_same_attempt() {
    // Paused mid-run, the slice's agent stopped; the resumed run claims the same attempt again.
    let proof = Log::new()
        .worktree()
        .plan(&[("api", &[])])
        .claim("api", 1, "w1")
        .slice_agent("api", 1, AgentStatus::Failed)
        .with(Event::GoalPaused(GoalPaused { reason: "omk pause".into() }))
        .with(Event::GoalResumed(omk_events::GoalResumed {
            reason: "omk resume".into(),
            follow_up: None,
        }))
        .claim("api", 1, "w2")
        .slice_agent("api", 1, AgentStatus::Completed)
        .complete("api", 1, 1)
        .proof();
    let api = &proof.team.as_ref().expect("a team section").slices[0];
    let attempts: Vec<(u32, &str, &AttemptOutcome)> =
        api.attempts.iter().map(|it| (it.attempt, it.worker.as_str(), &it.outcome)).collect();
    assert_eq!(attempts, [(1, "w2", &AttemptOutcome::Completed)]);
    assert_eq!(api.agent_runs.as_ref().map(|it| it.runs), Some(2));
    assert_eq!(api.status, SliceStatus::Queued);
}

#[test]
fn a_single_run_has_no_team_section() {
    assert!(!Log::ready().proof().to_json().contains("\"team\""));
}

#[test]
fn text_and_markdown_of_a_mixed_team() {
    let proof = mixed().proof();
    insta::assert_snapshot!(format!(
        "{}\n---- markdown ----\n{}",
        omk_proof::render_text(&proof),
        omk_proof::render_markdown(&proof)
    ));
}

#[test]
fn json_of_a_mixed_team() {
    let proof = mixed().proof();
    assert_eq!(Proof::from_json(&proof.to_json()).as_ref(), Ok(&proof));
    let team = serde_json::to_string_pretty(&proof.team).expect("the team section serializes");
    let gaps = serde_json::to_string_pretty(&proof.known_gaps).expect("the gaps serialize");
    insta::assert_snapshot!(format!("{team}\n---- known_gaps ----\n{gaps}"));
}

/// Property tests of the team rules over random team logs: the all-landed path with steps
/// dropped and random steps inserted.
mod props {
    use omk_events::{AgentStatus, Event, FailureCause, ReviewStatus, TakeOutReason};
    use omk_proof::{Gap, ProofStatus, SliceStatus};
    use proptest::prelude::*;

    use super::{M1, M2, TeamLog};
    use crate::{
        monotone::{self, proof_of},
        support::{Log, T1},
    };

    const TASKS: [&str; 2] = ["api", "cli"];
    const TREES: [&str; 2] = [M1, M2];

    #[derive(Debug, Clone)]
    enum Move {
        Slice(usize),
        Fail(usize, bool),
        Merged(usize, usize),
        Gate(bool, usize),
        /// A batch merged, its gate passing and the batch landed: a landing always follows its
        /// merge, and a landing is also a change of the integrated tree.
        MergeLand(usize, usize),
        Reverted(usize, usize),
        TakenOut(usize),
        GoalAgent(bool),
        Integrated,
        Accept,
    }

    /// Returns the tasks of a batch: api, cli, or both.
    fn batch(mask: usize) -> Vec<&'static str> {
        match mask {
            0 => vec![TASKS[0]],
            1 => vec![TASKS[1]],
            _ => TASKS.to_vec(),
        }
    }

    fn ready_path() -> Vec<Move> {
        vec![Move::Slice(0), Move::Slice(1), Move::MergeLand(2, 0), Move::Integrated, Move::Accept]
    }

    fn any_move() -> impl Strategy<Value = Move> {
        let task = 0..TASKS.len();
        let tree = 0..TREES.len();
        prop_oneof![
            task.clone().prop_map(Move::Slice),
            (task.clone(), any::<bool>()).prop_map(|(task, retry)| Move::Fail(task, retry)),
            (0..3usize, tree.clone()).prop_map(|(mask, tree)| Move::Merged(mask, tree)),
            (any::<bool>(), tree.clone()).prop_map(|(passed, tree)| Move::Gate(passed, tree)),
            (0..3usize, tree.clone()).prop_map(|(mask, tree)| Move::MergeLand(mask, tree)),
            (0..3usize, tree).prop_map(|(mask, tree)| Move::Reverted(mask, tree)),
            task.prop_map(Move::TakenOut),
            any::<bool>().prop_map(Move::GoalAgent),
            Just(Move::Integrated),
            Just(Move::Accept),
        ]
    }

    fn any_log() -> impl Strategy<Value = Log> {
        let n = ready_path().len();
        (
            prop::collection::vec(prop::bool::weighted(0.85), n),
            prop::collection::vec((0..=n, any_move()), 0..5),
        )
            .prop_map(|(keep, inserts)| {
                let mut moves: Vec<Move> = ready_path()
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(step, keep)| keep.then_some(step))
                    .collect();
                for (at, step) in inserts {
                    moves.insert(at.min(moves.len()), step);
                }
                let start = Log::new().worktree().plan(&[(TASKS[0], &[]), (TASKS[1], &[])]);
                moves.iter().fold(start, apply)
            })
    }

    fn apply(log: Log, step: &Move) -> Log {
        match *step {
            Move::Slice(task) => log.slice(TASKS[task], "w1"),
            Move::Fail(task, retry) => log.fail(TASKS[task], 1, FailureCause::AgentFailed, retry),
            Move::Merged(mask, tree) => log.merged(&batch(mask), TREES[tree]),
            Move::Gate(passed, tree) => log.integration_gate("test", passed, TREES[tree]),
            Move::MergeLand(mask, tree) => log
                .merged(&batch(mask), TREES[tree])
                .integration_gate("test", true, TREES[tree])
                .landed(&batch(mask), TREES[tree]),
            Move::Reverted(mask, tree) => log.reverted(&batch(mask), TREES[tree], &["test"]),
            Move::TakenOut(task) => log.taken_out(
                TASKS[task],
                TakeOutReason::Conflict { paths: vec!["src/main.rs".into()] },
            ),
            Move::GoalAgent(ok) => {
                log.agent(if ok { AgentStatus::Completed } else { AgentStatus::Failed })
            }
            Move::Integrated => log.integrated(),
            Move::Accept => log.accept(T1),
        }
    }

    /// Whether the event is supporting evidence: removing it must never help.
    fn supports(event: &Event) -> bool {
        match event {
            Event::AgentFinished(finished) => finished.status == AgentStatus::Completed,
            Event::GateFinished(gate) => gate.passed(),
            Event::ReviewFinished(review) => review.status == ReviewStatus::Passed,
            Event::QueueLanded(_) | Event::TaskCompleted(_) | Event::ChangeAccepted(_) => true,
            _ => false,
        }
    }

    /// The generator reaches ready goals and both team gaps, so the properties are not vacuous.
    #[test]
    fn the_generator_reaches_ready_and_both_gaps() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let log = any_log().new_tree(&mut runner).expect("a log").current();
            let proof = proof_of(&log.events);
            if proof.status == ProofStatus::Ready {
                seen.insert("ready");
            }
            for gap in &proof.known_gaps {
                match gap.gap {
                    Gap::SliceNotLanded { .. } => seen.insert("slice_not_landed"),
                    Gap::SlicesUnfinished { .. } => seen.insert("slices_unfinished"),
                    _ => false,
                };
            }
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// A ready team goal has every slice landed, or taken over by a later follow-up.
        #[test]
        fn ready_needs_every_slice(log in any_log()) {
            let proof = proof_of(&log.events);
            if proof.status == ProofStatus::Ready {
                let team = proof.team.as_ref().expect("a team section");
                let follow_up = log.events.iter().rposition(|it| matches!(&it.event,
                    Event::AgentFinished(finished) if finished.status == AgentStatus::Completed));
                for slice in &team.slices {
                    let last = log.events.iter().rposition(|it| match &it.event {
                        Event::TaskClaimed(it) => it.task == slice.id,
                        Event::TaskCompleted(it) => it.task == slice.id,
                        Event::TaskFailed(it) => it.task == slice.id,
                        Event::TaskTakenOut(it) => it.task == slice.id,
                        Event::QueueMerged(it) => it.tasks.contains(&slice.id),
                        Event::QueueLanded(it) => it.tasks.contains(&slice.id),
                        Event::QueueReverted(it) => it.tasks.contains(&slice.id),
                        _ => false,
                    });
                    prop_assert!(
                        slice.status == SliceStatus::Landed || follow_up > last,
                        "{} is {} without a follow-up", slice.id, slice.status
                    );
                }
            }
        }

        /// Removing any piece of supporting evidence never raises the readiness.
        #[test]
        fn removing_evidence_never_helps(log in any_log()) {
            monotone::removing_evidence_never_helps(&log, supports)?;
        }

        /// A slice taken out or failed for good never helps.
        #[test]
        fn losing_a_slice_never_helps(log in any_log()) {
            let lost = [Move::TakenOut(0), Move::TakenOut(1), Move::Fail(0, false), Move::Fail(1, false)];
            monotone::appending_failure_never_helps(&log, &lost, apply, |_| false)?;
        }
    }
}
