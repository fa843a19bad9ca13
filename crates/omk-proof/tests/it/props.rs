//! Property tests of the readiness rules over random evidence.
//!
//! Logs are the ready path with random steps dropped and random steps inserted, so every rung
//! and status is reached often.

use omk_events::{
    AgentCheckRan, AgentStatus, BudgetExhausted, BudgetResource, DecisionSubject, Event,
    GateSurfaceChecked, GoalBlocked, GoalCancelled, GoalFailed, GoalPaused, GoalResumed,
    ReviewStarted, ReviewStatus, Step, TestCounts,
};
use omk_proof::{Proof, ProofStatus, Readiness};
use proptest::prelude::*;

use crate::{
    monotone::{self, proof_of},
    support::{BASE, CHECKS, Log, T1, T2, gate_run, review_result},
};

/// One step of a goal's run; some steps are two events.
#[derive(Debug, Clone)]
enum Move {
    Agent(bool),
    Capture(usize, usize),
    Commit(usize),
    Gate {
        name: usize,
        passed: bool,
        tree: usize,
        zero_tests: bool,
    },
    Surface {
        tree: usize,
        changed: bool,
    },
    /// A gate-surface change nobody decided on yet.
    NewSurfaceChange(usize),
    Review(usize),
    ReviewResult {
        check: usize,
        tree: usize,
        passed: bool,
    },
    /// The required test gate passes on a tree, with output omk could not count.
    Uncounted(usize),
    ApproveSurface(bool),
    Accept(usize),
    Reject(usize),
    Question,
    Answer,
    Pause,
    Resume,
    Cancel,
    Fail,
    Budget,
    Blocked,
}

const TREES: [&str; 3] = [BASE, T1, T2];
const GATES: [&str; 2] = ["test", "lint"];

/// The ready path, as moves.
fn ready_path() -> Vec<Move> {
    vec![
        Move::Agent(true),
        Move::Capture(1, 1),
        Move::Gate { name: 0, passed: true, tree: 1, zero_tests: false },
        Move::Gate { name: 1, passed: true, tree: 1, zero_tests: false },
        Move::Surface { tree: 1, changed: false },
        Move::Review(1),
        Move::ReviewResult { check: 0, tree: 1, passed: true },
        Move::ReviewResult { check: 1, tree: 1, passed: true },
        Move::Accept(1),
    ]
}

fn any_move() -> impl Strategy<Value = Move> {
    let tree = 0..TREES.len();
    prop_oneof![
        any::<bool>().prop_map(Move::Agent),
        (tree.clone(), 0..3usize).prop_map(|(tree, files)| Move::Capture(tree, files)),
        tree.clone().prop_map(Move::Commit),
        (0..GATES.len(), any::<bool>(), tree.clone(), prop::bool::weighted(0.2)).prop_map(
            |(name, passed, tree, zero_tests)| Move::Gate { name, passed, tree, zero_tests }
        ),
        (tree.clone(), any::<bool>()).prop_map(|(tree, changed)| Move::Surface { tree, changed }),
        tree.clone().prop_map(Move::Review),
        (0..CHECKS.len(), tree.clone(), any::<bool>())
            .prop_map(|(check, tree, passed)| Move::ReviewResult { check, tree, passed }),
        tree.clone().prop_map(Move::Uncounted),
        any::<bool>().prop_map(Move::ApproveSurface),
        tree.clone().prop_map(Move::Accept),
        tree.prop_map(Move::Reject),
        Just(Move::Question),
        Just(Move::Answer),
        Just(Move::Pause),
        Just(Move::Resume),
        Just(Move::Cancel),
        Just(Move::Fail),
        Just(Move::Budget),
        Just(Move::Blocked),
    ]
}

/// Random logs: the ready path with some moves dropped and up to six random moves inserted.
fn any_log() -> impl Strategy<Value = Log> {
    let n = ready_path().len();
    (
        prop::collection::vec(prop::bool::weighted(0.85), n),
        prop::collection::vec((0..=n, any_move()), 0..6),
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
            build(&moves)
        })
}

fn build(moves: &[Move]) -> Log {
    moves.iter().fold(Log::new().worktree(), apply)
}

fn apply(log: Log, step: &Move) -> Log {
    let surface = DecisionSubject::GateSurface { proposed_digest: "b".repeat(64) };
    match *step {
        Move::Agent(ok) => log.agent(if ok { AgentStatus::Completed } else { AgentStatus::Failed }),
        Move::Capture(tree, files) => log.capture(TREES[tree], files),
        Move::Commit(tree) => log.commit("5555555555555555555555555555555555555555", TREES[tree]),
        Move::Gate { name, passed, tree, zero_tests } => {
            let mut run = gate_run(GATES[name], name == 0, passed, Some(TREES[tree]));
            if zero_tests && name == 0 {
                run.tests = Some(TestCounts::default());
            }
            log.with(Event::GateFinished(run))
        }
        Move::Surface { tree, changed } => {
            log.surface(TREES[tree], if changed { &["omk.toml"] } else { &[] })
        }
        Move::NewSurfaceChange(tree) => log.with(Event::GateSurfaceChecked(GateSurfaceChecked {
            tree_id: TREES[tree].into(),
            base_digest: "a".repeat(64),
            proposed_digest: "d".repeat(64),
            changed_paths: vec![".github/workflows/ci.yml".into()],
        })),
        Move::Review(tree) => log.with(Event::ReviewStarted(ReviewStarted {
            tree_id: TREES[tree].into(),
            checks: CHECKS.iter().map(|it| (*it).to_owned()).collect(),
        })),
        Move::ReviewResult { check, tree, passed } => {
            let status = if passed { ReviewStatus::Passed } else { ReviewStatus::Failed };
            log.with(Event::ReviewFinished(review_result(CHECKS[check], TREES[tree], status)))
        }
        Move::ApproveSurface(approved) => log.decide(surface, approved),
        Move::Accept(tree) => log.accept(TREES[tree]),
        Move::Reject(tree) => log.reject(TREES[tree]),
        Move::Question => log.question("q"),
        Move::Answer => log.decide(DecisionSubject::Question { id: "q".into() }, true),
        Move::Uncounted(tree) => {
            let mut run = gate_run(GATES[0], true, true, Some(TREES[tree]));
            run.tests = None;
            log.with(Event::GateFinished(run))
        }
        Move::Pause => log.with(Event::GoalPaused(GoalPaused { reason: "interrupted".into() })),
        Move::Resume => log
            .with(Event::GoalResumed(GoalResumed { reason: "omk resume".into(), follow_up: None })),
        Move::Cancel => {
            log.with(Event::GoalCancelled(GoalCancelled { reason: "omk cancel".into() }))
        }
        Move::Fail => {
            log.with(Event::GoalFailed(GoalFailed { step: Step::Gates, error: "disk full".into() }))
        }
        Move::Budget => log.with(Event::BudgetExhausted(BudgetExhausted {
            resource: BudgetResource::Usd,
            limit: 1.0,
            used: 1.2,
        })),
        Move::Blocked => {
            log.with(Event::GoalBlocked(GoalBlocked { reason: "rate limited".into() }))
        }
    }
}

/// Whether the event is supporting evidence: removing it must never help.
fn supports(event: &Event) -> bool {
    match event {
        Event::AgentFinished(finished) => finished.status == AgentStatus::Completed,
        Event::GateFinished(gate) => {
            gate.passed()
                && !gate.tests.is_some_and(|tests| tests.ran() == 0 && !gate.allow_no_tests)
                && !(gate.gate_kind.is_test() && gate.tests.is_none() && !gate.tests_by_exit_code)
        }
        Event::ReviewFinished(review) => review.status == ReviewStatus::Passed,
        Event::GateSurfaceChecked(check) => check.changed_paths.is_empty(),
        Event::DecisionMade(decision) => decision.approved,
        Event::ChangeAccepted(_) | Event::GoalResumed(_) => true,
        _ => false,
    }
}

/// Failing evidence to append: each must never help.
fn failing_moves() -> Vec<Move> {
    let mut moves = vec![
        Move::Agent(false),
        Move::Question,
        Move::Pause,
        Move::Cancel,
        Move::Fail,
        Move::Budget,
        Move::Blocked,
    ];
    for tree in 0..TREES.len() {
        moves.push(Move::Gate { name: 0, passed: false, tree, zero_tests: false });
        moves.push(Move::Gate { name: 0, passed: true, tree, zero_tests: true });
        moves.push(Move::Uncounted(tree));
        moves.push(Move::NewSurfaceChange(tree));
        moves.push(Move::Reject(tree));
        for check in 0..CHECKS.len() {
            moves.push(Move::ReviewResult { check, tree, passed: false });
        }
    }
    moves
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Ready is only reached with every piece of evidence, checked on the raw events.
    #[test]
    fn ready_needs_every_piece_of_evidence(log in any_log()) {
        let proof = proof_of(&log.events);
        if proof.status == ProofStatus::Ready {
            let events: Vec<&Event> = log.events.iter().map(|it| &it.event).collect();
            prop_assert!(proof.known_gaps.is_empty());
            let proposed = events.iter().rev().find_map(|event| match event {
                Event::ChangesCaptured(it) => Some(it.tree_id.clone()),
                Event::ChangesCommitted(it) => Some(it.tree_id.clone()),
                _ => None,
            });
            prop_assert_eq!(proof.git.tree_id.clone(), proposed.clone());
            let proposed = proposed.expect("a ready proof has a proposed tree");
            let last_finish = events.iter().rposition(|it| matches!(it, Event::AgentFinished(_)));
            let last_start = events.iter().rposition(|it| matches!(it, Event::AgentStarted(_)));
            prop_assert!(last_finish > last_start && last_start.is_some());
            prop_assert!(matches!(events[last_finish.unwrap_or(0)], Event::AgentFinished(it) if it.status == AgentStatus::Completed));
            let passing_required_after = events[last_finish.unwrap_or(0)..].iter().any(|it| matches!(it,
                Event::GateFinished(gate) if gate.required && gate.passed() && gate.tree_id.as_deref() == Some(&proposed)));
            prop_assert!(passing_required_after);
            // A required test gate counted one or more tests on the proposed tree.
            let counted_after = events[last_finish.unwrap_or(0)..].iter().any(|it| matches!(it,
                Event::GateFinished(gate) if gate.required && gate.gate_kind.is_test() && gate.passed()
                    && gate.tree_id.as_deref() == Some(&proposed)
                    && gate.tests.is_some_and(|tests| tests.ran() > 0)));
            prop_assert!(counted_after);
            let integration = events.iter().rev().find(|it| matches!(it,
                Event::ChangeAccepted(accepted) if accepted.tree_id == proposed)
                || matches!(it, Event::ChangeRejected(rejected) if rejected.tree_id == proposed));
            prop_assert!(matches!(integration, Some(Event::ChangeAccepted(_))));
            prop_assert!(events.iter().any(|it| matches!(it, Event::ReviewStarted(review) if review.tree_id == proposed)));
            let last_resume = events.iter().rposition(|it| matches!(it, Event::GoalResumed(_)));
            let halted = events.iter().enumerate().any(|(idx, it)| {
                last_resume.is_none_or(|resume| idx > resume)
                    && matches!(it, Event::GoalPaused(_) | Event::GoalCancelled(_) | Event::GoalFailed(_)
                        | Event::BudgetExhausted(_) | Event::GoalBlocked(_))
            });
            prop_assert!(!halted);
            prop_assert!(!proof.changed_files.is_empty());
        }
    }

    /// Removing any piece of supporting evidence never raises the readiness or makes it ready.
    #[test]
    fn removing_evidence_never_helps(log in any_log()) {
        monotone::removing_evidence_never_helps(&log, supports)?;
    }

    /// Appending a failing piece of evidence never raises the readiness or makes it ready.
    ///
    /// A failed agent run is also a change of the worktree, which makes earlier gate results
    /// stale; it may move the rung, but it never makes the goal ready.
    #[test]
    fn adding_failing_evidence_never_helps(log in any_log()) {
        let may_move_rung = |step: &Move| matches!(step, Move::Agent(_));
        monotone::appending_failure_never_helps(&log, &failing_moves(), apply, may_move_rung)?;
    }

    /// The agent's own checks through `omk mcp` are shown, never judged: a passing one inserted
    /// anywhere leaves the status, the rung and the gaps as they were, even when it ran every
    /// gate on the proposed tree.
    #[test]
    fn an_agent_check_never_changes_the_verdict(log in any_log(), at in any::<prop::sample::Index>(), tree in 0..TREES.len()) {
        let before = proof_of(&log.events);
        let check = AgentCheckRan {
            check: 1,
            gates: GATES
                .iter()
                .enumerate()
                .map(|(idx, name)| gate_run(name, idx == 0, true, Some(TREES[tree])))
                .collect(),
            failing_tests: Vec::new(),
        };
        let mut events: Vec<Event> = log.events.iter().map(|it| it.event.clone()).collect();
        events.insert(1 + at.index(events.len()), Event::AgentCheckRan(check));
        let mut with_check = Log::new();
        for event in events.into_iter().skip(1) {
            with_check = with_check.with(event);
        }
        let after = proof_of(&with_check.events);
        prop_assert_eq!(after.status, before.status);
        prop_assert_eq!(after.readiness, before.readiness);
        prop_assert_eq!(after.known_gaps, before.known_gaps);
        prop_assert_eq!(after.gates, before.gates);
        if let Some(agent) = &after.agent {
            prop_assert_eq!(agent.checks.len(), 1);
        }
    }

    /// Paused and cancelled stay until a resume, whatever else happens.
    #[test]
    fn pause_and_cancel_are_sticky(log in any_log(), later in prop::collection::vec(any_move(), 0..6), cancel in any::<bool>()) {
        let mut log = apply(log, if cancel { &Move::Cancel } else { &Move::Pause });
        // Pausing a cancelled run leaves it cancelled.
        let expected = proof_of(&log.events).status;
        prop_assert!(matches!(expected, ProofStatus::Cancelled | ProofStatus::Paused));
        prop_assert!(!cancel || expected == ProofStatus::Cancelled);
        for step in later.iter().filter(|it| !matches!(it, Move::Resume | Move::Cancel)) {
            log = apply(log, step);
            prop_assert_eq!(proof_of(&log.events).status, expected);
        }
    }

    /// The same events give byte-identical JSON, and the JSON reads back to the same proof.
    #[test]
    fn json_is_deterministic_and_round_trips(log in any_log()) {
        let proof = proof_of(&log.events);
        let json = proof.to_json();
        prop_assert_eq!(&json, &proof_of(&log.events.clone()).to_json());
        prop_assert_eq!(Proof::from_json(&json), Ok(proof));
    }
}

/// The generator reaches every rung and every status it can, so the properties are not vacuous.
#[test]
fn the_generator_reaches_every_rung() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut rungs = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    for _ in 0..4000 {
        let log = any_log().new_tree(&mut runner).expect("a log").current();
        let proof = proof_of(&log.events);
        rungs.insert(proof.readiness);
        statuses.insert(proof.status.as_str());
    }
    assert_eq!(rungs.len(), Readiness::LADDER.len(), "{rungs:?}");
    assert_eq!(statuses.len(), ProofStatus::ALL.len(), "{statuses:?}");
}

/// The case proptest found that `monotone::shows_a_flake` exempts: a gate fails on the base,
/// the change lands, and the gate then passes on the base as well as on the change. The pass on
/// the base shows the gate flaky there, so the failure keeps counting against it; without that
/// pass the clean pass on the change supersedes the failure. Removing the flake's pass helps,
/// which is why it is not supporting evidence.
#[test]
fn a_pass_on_the_tree_a_gate_failed_on_shows_it_flaky_after_a_change() {
    let start = Log::new().worktree().gate("test", true, false, BASE).agent(AgentStatus::Completed);
    let start = start.capture(T1, 1);
    let with_flake = start.clone().gate("test", true, true, BASE).gate("test", true, true, T1);
    let without = start.gate("test", true, true, T1);
    assert_eq!(proof_of(&with_flake.events).readiness, Readiness::GatesFailing);
    assert!(monotone::shows_a_flake(&with_flake.events, with_flake.events.len() - 2));
    assert!(!monotone::shows_a_flake(&with_flake.events, with_flake.events.len() - 1));
    assert!(proof_of(&without.events).readiness > Readiness::GatesFailing);
}

/// The same for a run that printed no test count: a pass on that tree after the change that does
/// count tests disagrees with it, so the uncounted run keeps the gate at `no_tests_ran`.
#[test]
fn a_counted_pass_on_the_tree_a_gate_printed_no_count_on_shows_it_flaky() {
    let mut uncounted = gate_run("test", true, true, Some(T1));
    uncounted.tests = None;
    let start = Log::new().worktree().with(Event::GateFinished(uncounted)).capture(T1, 1);
    let with_flake = start.clone().gate("test", true, true, T2).gate("test", true, true, T1);
    let without = start.gate("test", true, true, T2);
    assert_eq!(proof_of(&with_flake.events).readiness, Readiness::NoTestsRan);
    assert!(monotone::shows_a_flake(&with_flake.events, with_flake.events.len() - 1));
    assert!(!monotone::shows_a_flake(&with_flake.events, with_flake.events.len() - 2));
    assert!(proof_of(&without.events).readiness > Readiness::NoTestsRan);
}
