//! omk-proof's spec as data: one goal log per case, `tests/data/<case>.jsonl`, in; a snapshot of
//! its proof, `snapshots/it__scenarios__<case>.snap`, out.
//!
//! A case is a log as omk writes it (hash-chained envelopes), read back as `omk proof show`
//! reads it. Its snapshot shows the status and the rung, the events, the proof as text (what a
//! person reviews) and as JSON (every field), so a change of any of them fails the case. There is
//! one case per readiness rung and per terminal status, and one per decision that moves them.
//! A new case is a new file and a line in `cases!` below; a file without its line fails
//! `every_log_in_tests_data_is_a_case`.

use std::path::{Path, PathBuf};

use omk_proof::Readiness;

/// The logs in `tests/data` that are not spec cases, because a test of their own reads them.
const NOT_CASES: &[&str] = &["omk-0.1-log"];

/// Declares one test per case, named after its file, and `CASES`, the list of them.
macro_rules! cases {
    ($($case:ident,)*) => {
        /// Every spec case, by name.
        const CASES: &[&str] = &[$(stringify!($case)),*];

        $(
            #[test]
            fn $case() {
                check(stringify!($case));
            }
        )*
    };
}

cases! {
    // One case per rung, from the lowest.
    no_tests_ran_when_a_required_test_gate_counted_zero_tests,
    a_test_gate_that_allows_no_tests_may_count_zero,
    no_tests_ran_when_a_test_gate_printed_no_count,
    gates_failing_when_no_gate_ran,
    gates_failing_when_no_test_gate_ran,
    gates_failing_when_a_required_gate_fails_on_the_change,
    gates_failing_when_an_oracle_gate_never_ran,
    // Fail-to-pass: a bugfix shows a test that fails without it, or it holds at gates_failing.
    gates_failing_until_the_fail_to_pass_check_ran,
    gates_failing_when_no_test_fails_without_the_bugfix,
    gates_failing_when_a_bugfix_adds_no_test,
    awaiting_acceptance_when_a_test_fails_without_the_bugfix,
    awaiting_acceptance_when_the_gate_failed_on_the_base_tree,
    awaiting_acceptance_when_fail_to_pass_is_waived,
    agent_failed_when_its_latest_run_failed,
    agent_not_run_when_only_the_base_was_verified,
    review_missing_when_the_wall_has_not_run_on_the_change,
    review_failed_when_a_check_fails,
    no_changes_when_git_shows_none,
    gate_surface_changed_blocks_on_a_person_until_approved,
    gate_surface_changed_is_ready_once_a_person_approves,
    gate_surface_changed_stays_when_a_person_declines,
    not_rerun_after_change_when_the_agent_changed_the_tree_after_the_gates,
    gates_on_different_tree_when_the_gate_recorded_another_tree,
    awaiting_acceptance_when_everything_passed_on_the_tree,
    awaiting_acceptance_when_the_change_was_rejected,
    // Repair rounds: a clean pass on the round's new tree supersedes the failure on the first;
    // a pass on the same tree does not.
    awaiting_acceptance_when_a_repair_round_fixed_the_failing_gate,
    gates_failing_when_a_repair_round_changed_nothing_and_the_gate_then_passed,
    awaiting_acceptance_when_a_follow_up_after_a_rejection_is_verified,
    ready_when_accepted_on_the_verified_tree,
    // What stands for tests: exit codes as weaker evidence, a goal kind that needs no tests,
    // and a flaky gate, which only a person's acceptance takes.
    ready_with_tests_by_exit_code_as_weaker_evidence,
    ready_when_a_docs_goal_needs_no_test_gate,
    awaiting_acceptance_when_a_flaky_gate_was_accepted_by_policy,
    ready_when_a_person_accepts_a_flaky_gate,
    // One case per status that is not `ready` or `not_ready`, and the way out of it.
    blocked_on_human_when_a_question_is_pending,
    ready_when_the_pending_question_is_answered,
    blocked_on_external_when_the_agent_is_rate_limited,
    needs_more_budget_when_tokens_ran_out,
    failed_infra_when_the_worktree_could_not_be_created,
    cancelled_stays_cancelled_whatever_follows,
    paused_stays_paused_until_resumed,
    ready_when_a_paused_goal_is_resumed_and_finishes,
}

/// Returns the directory of the spec's logs.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Reads the log of `case`, folds it into a proof, and checks the snapshot named `case`.
fn check(case: &str) {
    let path = data_dir().join(format!("{case}.jsonl"));
    let log = omk_events::read_log(&path).expect("a spec log is whole and its chain intact");
    assert!(log.torn_tail.is_none(), "{case}: the log has a torn last line");
    let proof = omk_proof::synthesize(&log.events).expect("a spec log starts with goal_created");
    let events: Vec<String> =
        log.events.iter().map(|it| format!("{:>3} {}", it.seq, it.event.kind())).collect();
    let text = format!(
        "status: {}, readiness: {}\n\nevents in:\n{}\n\nproof out:\n{}\n\nproof as text:\n{}",
        proof.status.as_str(),
        proof.readiness.as_str(),
        events.join("\n"),
        proof.to_json().trim_end(),
        omk_proof::render_text(&proof),
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_input_file(&path);
    settings.bind(|| insta::assert_snapshot!(case, text));
}

/// Every log in `tests/data` is a case with its test, so none is forgotten.
#[test]
fn every_log_in_tests_data_is_a_case() {
    let mut found = Vec::new();
    insta::glob!("../data", "*.jsonl", |path| {
        let name = path.file_stem().and_then(|it| it.to_str()).expect("a UTF-8 file name");
        found.push(name.to_owned());
    });
    found.sort();
    let mut expected: Vec<String> =
        CASES.iter().chain(NOT_CASES).map(|it| (*it).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected);
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
