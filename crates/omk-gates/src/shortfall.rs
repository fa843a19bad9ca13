//! The test rule of `omk gates run`, the same a proof applies to a goal whose kind needs tests:
//! a required test gate must have counted tests, and none may pass uncounted.

use omk_events::{COUNTED_RUNNERS, GateFinished};

/// Returns why a run of gates does not show that tests ran, or `None` when it does.
///
/// A required test gate that passed without a count omk reads (and without
/// `tests = "exit-code"`) is always a shortfall. When `whole_plan` (every gate of the plan ran,
/// not only some named ones), at least one required test gate must also have passed having
/// counted one or more tests, or stand on its declared exit code.
pub fn tests_shortfall(results: &[GateFinished], whole_plan: bool) -> Option<String> {
    let test_gates: Vec<&GateFinished> =
        results.iter().filter(|it| it.required && it.gate_kind.is_test()).collect();
    let uncounted: Vec<&str> = test_gates
        .iter()
        .filter(|it| it.failure().is_none() && it.tests.is_none() && !it.tests_by_exit_code)
        .map(|it| it.name.as_str())
        .collect();
    if !uncounted.is_empty() {
        return Some(format!(
            "no test count in the output of {}: omk reads {COUNTED_RUNNERS}; or name the JUnit XML the runner writes in the gate's junit key, or set tests = \"exit-code\" for the gate in omk.toml",
            uncounted.join(", ")
        ));
    }
    if !whole_plan {
        return None;
    }
    let shown = test_gates.iter().any(|it| {
        it.failure().is_none()
            && (it.tests.is_some_and(|tests| tests.ran() > 0) || it.tests_by_exit_code)
    });
    let failed = test_gates.iter().any(|it| it.failure().is_some());
    match (test_gates.is_empty(), shown || failed) {
        (true, _) => Some(
            "no required test gate ran: add one to omk.toml ([[gates]] whose command runs the tests; omk infers kind = \"test\" from cargo test, pytest, go test, npm test and other runners)"
                .to_owned(),
        ),
        (false, false) => Some("no required test gate counted a test".to_owned()),
        (false, true) => None,
    }
}
