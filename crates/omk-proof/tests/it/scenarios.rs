//! One scenario per readiness rung and per terminal status: events in, proof out.
//!
//! Each scenario asserts its status and rung, and snapshots the events and the proof JSON.

use omk_events::{
    AgentStatus, BudgetExhausted, BudgetLimits, BudgetResource, BudgetSet, ClassificationSource,
    DecisionSubject, Event, GateFinished, GatePhase, GoalBlocked, GoalCancelled, GoalClassified,
    GoalFailed, GoalKind, GoalPaused, GoalResumed, RecoveryAction, RecoveryPerformed, ReviewStatus,
    Step, TestCounts,
};
use omk_proof::{Gap, Proof, ProofStatus, Readiness};

use crate::support::{BASE, Log, T1, T2, gate_run, review_result};

/// Checks `log`'s proof has `status` and `readiness`, and snapshots it as `name`.
fn scenario(name: &str, log: &Log, status: ProofStatus, readiness: Readiness) -> Proof {
    let proof = log.proof();
    assert_eq!(
        (proof.status, proof.readiness),
        (status, readiness),
        "{name}: {:#?}",
        proof.known_gaps
    );
    let events: Vec<String> =
        log.events.iter().map(|it| format!("{:>3} {}", it.seq, it.event.kind())).collect();
    let text = format!("events in:\n{}\n\nproof out:\n{}", events.join("\n"), proof.to_json());
    insta::assert_snapshot!(name, text);
    proof
}

#[test]
fn gates_failing_when_no_gate_ran() {
    scenario(
        "gates_failing_when_no_gate_ran",
        &Log::new(),
        ProofStatus::NotReady,
        Readiness::GatesFailing,
    );
}

#[test]
fn gates_failing_when_a_required_gate_fails_on_the_change() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(T1, 1)
        .gate("test", true, false, T1);
    let proof = scenario(
        "gates_failing_when_a_required_gate_fails_on_the_change",
        &log,
        ProofStatus::NotReady,
        Readiness::GatesFailing,
    );
    assert_eq!(proof.gates[0].failed_runs, 1);
}

#[test]
fn gates_failing_when_an_oracle_gate_never_ran() {
    let log = Log::ready().with(Event::GoalClassified(GoalClassified {
        goal_kind: GoalKind::Bugfix,
        source: ClassificationSource::Inferred,
        oracle_gates: vec!["test".into(), "regression".into()],
    }));
    let proof = scenario(
        "gates_failing_when_an_oracle_gate_never_ran",
        &log,
        ProofStatus::NotReady,
        Readiness::GatesFailing,
    );
    assert_eq!(proof.task.goal_kind, Some(GoalKind::Bugfix));
}

#[test]
fn no_tests_ran_when_a_required_test_gate_counted_zero_tests() {
    let mut empty = gate_run("test", true, true, Some(T1));
    empty.tests = Some(TestCounts { passed: 0, failed: 0, skipped: 3 });
    let log = Log::ready().with(Event::GateFinished(empty));
    scenario(
        "no_tests_ran_when_a_required_test_gate_counted_zero_tests",
        &log,
        ProofStatus::NotReady,
        Readiness::NoTestsRan,
    );
}

#[test]
fn a_test_gate_that_allows_no_tests_may_count_zero() {
    let mut empty = gate_run("test", true, true, Some(T1));
    empty.tests = Some(TestCounts::default());
    empty.allow_no_tests = true;
    let proof = Log::ready().with(Event::GateFinished(empty)).proof();
    assert_eq!(proof.status, ProofStatus::Ready);
}

#[test]
fn agent_not_run_when_only_the_base_was_verified() {
    let log = Log::new().worktree().gate("test", true, true, BASE);
    scenario(
        "agent_not_run_when_only_the_base_was_verified",
        &log,
        ProofStatus::NotReady,
        Readiness::AgentNotRun,
    );
}

#[test]
fn agent_failed_when_its_latest_run_failed() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Failed)
        .capture(T1, 0)
        .gate("test", true, true, T1);
    scenario(
        "agent_failed_when_its_latest_run_failed",
        &log,
        ProofStatus::NotReady,
        Readiness::AgentFailed,
    );
}

#[test]
fn review_missing_when_the_wall_has_not_run_on_the_change() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(T1, 1)
        .gate("test", true, true, T1)
        .surface(T1, &[]);
    scenario(
        "review_missing_when_the_wall_has_not_run_on_the_change",
        &log,
        ProofStatus::NotReady,
        Readiness::ReviewMissing,
    );
}

#[test]
fn review_failed_when_a_check_fails() {
    let log = Log::ready().with(Event::ReviewFinished(review_result(
        "secrets",
        T1,
        ReviewStatus::Failed,
    )));
    scenario(
        "review_failed_when_a_check_fails",
        &log,
        ProofStatus::NotReady,
        Readiness::ReviewFailed,
    );
}

#[test]
fn no_changes_when_git_shows_none() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(BASE, 0)
        .gate("test", true, true, BASE)
        .surface(BASE, &[])
        .review(BASE, ReviewStatus::Passed);
    scenario("no_changes_when_git_shows_none", &log, ProofStatus::NotReady, Readiness::NoChanges);
}

#[test]
fn gate_surface_changed_blocks_on_a_person_until_approved() {
    let changed = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(T1, 3)
        .gate("test", true, true, T1)
        .surface(T1, &["omk.toml"])
        .review(T1, ReviewStatus::Passed)
        .accept(T1);
    let proof = scenario(
        "gate_surface_changed_blocks_on_a_person_until_approved",
        &changed,
        ProofStatus::BlockedOnHuman,
        Readiness::GateSurfaceChanged,
    );
    let subject = proof.human_decisions_required[0].subject.clone();
    assert!(matches!(subject, DecisionSubject::GateSurface { .. }));

    let approved = changed.clone().decide(subject.clone(), true).proof();
    assert_eq!(approved.status, ProofStatus::Ready);
    let declined = changed.decide(subject, false).proof();
    assert_eq!(
        (declined.status, declined.readiness),
        (ProofStatus::NotReady, Readiness::GateSurfaceChanged)
    );
}

#[test]
fn not_rerun_after_change_when_the_agent_changed_the_tree_after_the_gates() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(T1, 1)
        .gate("test", true, true, T1)
        .agent(AgentStatus::Completed)
        .capture(T2, 2)
        .surface(T2, &[])
        .review(T2, ReviewStatus::Passed)
        .accept(T2);
    scenario(
        "not_rerun_after_change_when_the_agent_changed_the_tree_after_the_gates",
        &log,
        ProofStatus::NotReady,
        Readiness::NotRerunAfterChange,
    );
}

#[test]
fn gates_on_different_tree_when_the_gate_recorded_another_tree() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(T2, 1)
        .gate("test", true, true, T1)
        .surface(T2, &[])
        .review(T2, ReviewStatus::Passed)
        .accept(T2);
    scenario(
        "gates_on_different_tree_when_the_gate_recorded_another_tree",
        &log,
        ProofStatus::NotReady,
        Readiness::GatesOnDifferentTree,
    );
}

#[test]
fn awaiting_acceptance_when_everything_passed_on_the_tree() {
    let log = Log::verified().with(Event::GateFinished(GateFinished {
        phase: GatePhase::Baseline,
        tree_id: Some(BASE.into()),
        ..gate_run("test", true, false, Some(BASE))
    }));
    let proof = scenario(
        "awaiting_acceptance_when_everything_passed_on_the_tree",
        &log,
        ProofStatus::NotReady,
        Readiness::AwaitingAcceptance,
    );
    // A failing baseline gate is shown, and does not count against the change.
    assert_eq!(proof.gates[0].phase, GatePhase::Baseline);
}

#[test]
fn awaiting_acceptance_when_the_change_was_rejected() {
    let log = Log::verified().reject(T1);
    scenario(
        "awaiting_acceptance_when_the_change_was_rejected",
        &log,
        ProofStatus::NotReady,
        Readiness::AwaitingAcceptance,
    );
}

#[test]
fn a_rejection_speaks_for_its_tree_only() {
    // A follow-up after the rejection of T1 produced T2, verified again: it awaits a decision.
    let log = Log::verified()
        .reject(T1)
        .agent(AgentStatus::Completed)
        .capture(T2, 1)
        .gate("test", true, true, T2)
        .gate("lint", false, true, T2)
        .surface(T2, &[])
        .review(T2, ReviewStatus::Passed);
    let proof = log.proof();
    assert_eq!(
        (proof.status, proof.readiness),
        (ProofStatus::NotReady, Readiness::AwaitingAcceptance)
    );
    let gaps: Vec<&Gap> = proof.known_gaps.iter().map(|it| &it.gap).collect();
    assert_eq!(gaps, [&Gap::AcceptanceMissing]);
    // The rejection of T1 is still shown as the latest decision.
    let integration = proof.integration.expect("the rejection is shown");
    assert_eq!(integration.tree_id, T1);
}

#[test]
fn ready_when_accepted_on_the_verified_tree() {
    let log = Log::ready()
        .commit("5555555555555555555555555555555555555555", T1)
        .with(Event::BudgetSet(BudgetSet {
            limits: BudgetLimits {
                wall_ms: Some(600_000),
                tokens: Some(100_000),
                usd: Some(1.0),
                turns: None,
            },
        }))
        .with(Event::RecoveryPerformed(RecoveryPerformed {
            action: RecoveryAction::TornTailRepaired,
            detail: "line 7 was torn and cut off".into(),
        }));
    let proof = scenario(
        "ready_when_accepted_on_the_verified_tree",
        &log,
        ProofStatus::Ready,
        Readiness::Ready,
    );
    assert!(proof.known_gaps.is_empty());
    assert_eq!(proof.git.dirty, Some(false));
}

#[test]
fn blocked_on_human_when_a_question_is_pending() {
    let log = Log::new().question("empty-input");
    scenario(
        "blocked_on_human_when_a_question_is_pending",
        &log,
        ProofStatus::BlockedOnHuman,
        Readiness::GatesFailing,
    );
    let answered =
        Log::ready().question("q").decide(DecisionSubject::Question { id: "q".into() }, true);
    assert_eq!(answered.proof().status, ProofStatus::Ready);
}

#[test]
fn blocked_on_external_when_the_agent_is_rate_limited() {
    let log = Log::verified()
        .with(Event::GoalBlocked(GoalBlocked { reason: "the model provider returned 429".into() }));
    scenario(
        "blocked_on_external_when_the_agent_is_rate_limited",
        &log,
        ProofStatus::BlockedOnExternal,
        Readiness::AwaitingAcceptance,
    );
}

#[test]
fn needs_more_budget_when_tokens_ran_out() {
    let log = Log::new()
        .worktree()
        .with(Event::BudgetSet(BudgetSet {
            limits: BudgetLimits { tokens: Some(1000), ..BudgetLimits::default() },
        }))
        .agent(AgentStatus::Failed)
        .with(Event::BudgetExhausted(BudgetExhausted {
            resource: BudgetResource::Tokens,
            limit: 1000.0,
            used: 1650.0,
        }));
    scenario(
        "needs_more_budget_when_tokens_ran_out",
        &log,
        ProofStatus::NeedsMoreBudget,
        Readiness::GatesFailing,
    );
}

#[test]
fn failed_infra_when_the_worktree_could_not_be_created() {
    let log = Log::new().with(Event::GoalFailed(GoalFailed {
        step: Step::Worktree,
        error: "git worktree add: fatal: '.omk/worktrees/x' already exists".into(),
    }));
    scenario(
        "failed_infra_when_the_worktree_could_not_be_created",
        &log,
        ProofStatus::FailedInfra,
        Readiness::GatesFailing,
    );
}

#[test]
fn cancelled_stays_cancelled_whatever_follows() {
    let log = Log::new()
        .worktree()
        .with(Event::GoalCancelled(GoalCancelled { reason: "omk cancel".into() }))
        .with(Event::GoalPaused(GoalPaused { reason: "interrupted".into() }))
        .agent(AgentStatus::Completed)
        .capture(T1, 1)
        .gate("test", true, true, T1)
        .surface(T1, &[])
        .review(T1, ReviewStatus::Passed)
        .accept(T1);
    scenario(
        "cancelled_stays_cancelled_whatever_follows",
        &log,
        ProofStatus::Cancelled,
        Readiness::Ready,
    );
}

#[test]
fn paused_stays_paused_until_resumed() {
    let paused = Log::new()
        .worktree()
        .with(Event::GoalPaused(GoalPaused { reason: "interrupted (Ctrl-C)".into() }))
        .with(Event::GoalFailed(GoalFailed { step: Step::Agent, error: "killed".into() }));
    scenario(
        "paused_stays_paused_until_resumed",
        &paused,
        ProofStatus::Paused,
        Readiness::GatesFailing,
    );

    let resumed = paused
        .with(Event::GoalResumed(GoalResumed { reason: "omk resume".into(), follow_up: None }))
        .agent(AgentStatus::Completed)
        .capture(T1, 1)
        .gate("test", true, true, T1)
        .surface(T1, &[])
        .review(T1, ReviewStatus::Passed)
        .accept(T1);
    let proof = resumed.proof();
    assert_eq!(proof.status, ProofStatus::Ready, "{:#?}", proof.known_gaps);
}

/// Readiness holds every rung in the seed's order, with the three rungs this design adds.
#[test]
fn the_ladder_is_in_order() {
    let names: Vec<&str> = Readiness::LADDER.iter().map(|it| it.as_str()).collect();
    assert_eq!(
        names.join(" < "),
        "no_tests_ran < gates_failing < agent_failed < agent_not_run < review_missing < \
         review_failed < no_changes < gate_surface_changed < not_rerun_after_change < \
         gates_on_different_tree < awaiting_acceptance < ready"
    );
    assert!(Readiness::LADDER.windows(2).all(|pair| pair[0] < pair[1]));
}
