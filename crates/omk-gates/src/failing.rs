//! The names of failed tests in a test runner's output, for evidence that names what failed.

/// At most this many failing test names are kept per gate, so a broken suite does not flood the
/// log.
pub const MAX_FAILING_TESTS: usize = 50;

/// Returns the tests a runner's `output` names as failed, in order, each once, at most
/// [`MAX_FAILING_TESTS`]: cargo test's `test NAME ... FAILED`, nextest's `FAIL [ 0.01s] NAME`,
/// pytest's `FAILED NAME - …`, and go test's `--- FAIL: NAME (…)`.
pub fn failing_tests(output: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in output.lines() {
        let line = line.trim();
        let name = if let Some(rest) = line.strip_prefix("test ") {
            rest.strip_suffix(" ... FAILED").or_else(|| rest.strip_suffix(" ... FAILED (flaky)"))
        } else if let Some(rest) = line.strip_prefix("FAILED ") {
            Some(rest.split(" - ").next().unwrap_or(rest))
        } else if let Some(rest) = line.strip_prefix("--- FAIL: ") {
            rest.split(" (").next()
        } else if let Some(rest) = line.strip_prefix("FAIL [") {
            rest.split_once(']').map(|(_, name)| name)
        } else {
            None
        };
        let Some(name) = name.map(str::trim).filter(|it| !it.is_empty()) else { continue };
        if !names.iter().any(|it| it == name) {
            names.push(name.to_owned());
            if names.len() == MAX_FAILING_TESTS {
                break;
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::failing_tests;

    #[test]
    fn failing_test_names_are_read_from_each_runner() {
        let output = "running 3 tests\n\
                      test parse::empty ... ok\n\
                      test parse::sum ... FAILED\n\
                      test parse::sum ... FAILED\n\
                      FAILED tests/test_calc.py::test_add - assert 1 == 5\n\
                      --- FAIL: TestAdd (0.00s)\n\
                      \x20       FAIL [   0.011s] calc tests::adds\n\
                      test result: FAILED. 1 passed; 1 failed; 0 ignored\n";
        assert_eq!(
            failing_tests(output),
            ["parse::sum", "tests/test_calc.py::test_add", "TestAdd", "calc tests::adds"]
        );
        let many: String = (0..80).map(|n| format!("test t{n} ... FAILED\n")).collect();
        assert_eq!(failing_tests(&many).len(), 50);
        assert!(failing_tests("all good\ntest result: ok. 3 passed\n").is_empty());
    }
}
