//! Test counts from gate output: cargo test, nextest, pytest, go test, jest, vitest, node's test
//! runner, and a plain `N passed, N failed` line.

use std::sync::LazyLock;

use regex::Regex;

use omk_events::TestCounts;

/// Reads output line by line and keeps only the counts, so no output size costs memory.
#[derive(Debug, Default)]
pub(crate) struct CountParser {
    /// Counts from the formats of known test runners.
    known: Option<TestCounts>,
    /// Counts from the last plain `N passed, N failed` line, used only when no runner format
    /// matched. The last, not the sum: `make` echoes the command that prints the line.
    plain: Option<TestCounts>,
    /// `go test` said a package has no tests.
    go_no_tests: bool,
    /// `go test` printed an `ok` line that omk cannot count (it ran without `-v`).
    go_uncounted: bool,
}

static ANSI_ESCAPE: LazyLock<Regex> = LazyLock::new(|| regex(r"\x1b\[[0-9;]*[A-Za-z]"));
static CARGO: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;")
});
static NEXTEST: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*Summary \[[^\]]*\]\s+\d+ tests? run: (.*)$"));
static PYTEST: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:=+ )?((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s(?: \([^)]*\))?(?: =+)?$")
});
static PYTEST_NONE: LazyLock<Regex> = LazyLock::new(|| regex(r"^=+ no tests ran in [\d.]+s"));
static JEST: LazyLock<Regex> = LazyLock::new(|| regex(r"^Tests:\s+(.*?),? \d+ total$"));
static VITEST: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*Tests\s+(.*?) \(\d+\)$"));
static NODE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:# |ℹ )(pass|fail|skipped|todo|cancelled) (\d+)$"));
static GO: LazyLock<Regex> = LazyLock::new(|| regex(r"^--- (PASS|FAIL|SKIP): "));
static GO_NO_TESTS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:\?|ok)\s+\S+\s.*\[no test(?: file)?s(?: to run)?\]"));
static GO_OK: LazyLock<Regex> = LazyLock::new(|| regex(r"^ok\s+\S+\s"));
static PLAIN: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\b(\d+) passed,? (\d+) failed\b"));
static PART: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|timed out|todo)\b")
});

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the count patterns are literals, all exercised by the tests below")
}

impl CountParser {
    /// Reads one line of output, without its line ending.
    pub(crate) fn feed(&mut self, line: &str) {
        let stripped;
        let line = if line.contains('\x1b') {
            stripped = ANSI_ESCAPE.replace_all(line, "");
            &*stripped
        } else {
            line
        };
        let counts = if let Some(captures) = CARGO.captures(line) {
            Some(TestCounts {
                passed: number(&captures[1]),
                failed: number(&captures[2]),
                skipped: number(&captures[3]),
            })
        } else if let Some(captures) = NEXTEST.captures(line) {
            Some(parts(&captures[1]))
        } else if PYTEST_NONE.is_match(line) {
            Some(TestCounts::default())
        } else if let Some(captures) = JEST.captures(line).or_else(|| VITEST.captures(line)) {
            Some(parts(&captures[1]))
        } else if let Some(captures) = PYTEST.captures(line) {
            Some(parts(&captures[1]))
        } else if let Some(captures) = NODE.captures(line) {
            let n = number(&captures[2]);
            Some(match &captures[1] {
                "pass" => TestCounts { passed: n, ..TestCounts::default() },
                "fail" | "cancelled" => TestCounts { failed: n, ..TestCounts::default() },
                _ => TestCounts { skipped: n, ..TestCounts::default() },
            })
        } else if let Some(captures) = GO.captures(line) {
            Some(match &captures[1] {
                "PASS" => TestCounts { passed: 1, ..TestCounts::default() },
                "FAIL" => TestCounts { failed: 1, ..TestCounts::default() },
                _ => TestCounts { skipped: 1, ..TestCounts::default() },
            })
        } else {
            if GO_NO_TESTS.is_match(line) {
                self.go_no_tests = true;
            } else if GO_OK.is_match(line) {
                self.go_uncounted = true;
            } else if let Some(captures) = PLAIN.captures(line) {
                let counts = TestCounts {
                    passed: number(&captures[1]),
                    failed: number(&captures[2]),
                    skipped: 0,
                };
                self.plain = Some(counts);
            }
            None
        };
        if let Some(counts) = counts {
            self.known = Some(add(self.known, counts));
        }
    }

    /// Returns the counts read, or `None` when the output had no format omk knows.
    pub(crate) fn finish(&self) -> Option<TestCounts> {
        match (self.known, self.plain) {
            (Some(known), _) => Some(known),
            (None, Some(plain)) => Some(plain),
            // Only "no test files" lines: go test ran no test at all.
            (None, None) if self.go_no_tests && !self.go_uncounted => Some(TestCounts::default()),
            (None, None) => None,
        }
    }
}

fn add(total: Option<TestCounts>, counts: TestCounts) -> TestCounts {
    let total = total.unwrap_or_default();
    TestCounts {
        passed: total.passed + counts.passed,
        failed: total.failed + counts.failed,
        skipped: total.skipped + counts.skipped,
    }
}

/// Reads `3 passed, 1 failed, 2 skipped` (in any order and separator) into counts.
fn parts(text: &str) -> TestCounts {
    let mut counts = TestCounts::default();
    for captures in PART.captures_iter(text) {
        let n = number(&captures[1]);
        match &captures[2] {
            "passed" | "xpassed" => counts.passed += n,
            "failed" | "error" | "errors" | "timed out" => counts.failed += n,
            _ => counts.skipped += n,
        }
    }
    counts
}

fn number(digits: &str) -> u64 {
    digits.parse().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(output: &str, expect: Option<(u64, u64, u64)>) {
        let mut parser = CountParser::default();
        output.lines().for_each(|line| parser.feed(line));
        let actual = parser.finish().map(|it| (it.passed, it.failed, it.skipped));
        assert_eq!(actual, expect, "{output}");
    }

    #[test]
    fn counts_of_each_runner() {
        // cargo test: one line per test binary.
        check(
            "running 3 tests\ntest a ... ok\n\ntest result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\ntest result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n",
            Some((4, 2, 1)),
        );
        check("test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured;\n", Some((0, 0, 0)));
        // nextest.
        check(
            "    Starting 5 tests across 2 binaries (1 test skipped)\n        PASS [   0.003s] a\n------------\n     Summary [   0.010s] 5 tests run: 4 passed, 1 failed, 1 skipped\n",
            Some((4, 1, 1)),
        );
        check("     Summary [   0.010s] 1 test run: 1 passed, 2 timed out\n", Some((1, 2, 0)));
        check(
            "\x1b[32;1m     Summary\x1b[0m [   0.010s] 2 tests run: 2 passed, 0 skipped\n",
            Some((2, 0, 0)),
        );
        // pytest, verbose and quiet.
        check(
            "======= 1 failed, 2 passed, 1 xfailed, 3 warnings in 0.52s ========\n",
            Some((2, 1, 1)),
        );
        check("3 passed, 1 error in 0.12s\n", Some((3, 1, 0)));
        check(
            "============================ no tests ran in 0.01s =============================\n",
            Some((0, 0, 0)),
        );
        // jest and vitest.
        check(
            "Test Suites: 1 failed, 1 passed, 2 total\nTests:       1 failed, 2 skipped, 5 passed, 8 total\n",
            Some((5, 1, 2)),
        );
        check(
            " Test Files  1 passed (1)\n      Tests  1 failed | 4 passed | 1 skipped (6)\n",
            Some((4, 1, 1)),
        );
        // node --test, TAP and spec reporters.
        check(
            "# tests 5\n# suites 0\n# pass 4\n# fail 1\n# cancelled 0\n# skipped 1\n# todo 0\n",
            Some((4, 1, 1)),
        );
        check("ℹ tests 2\nℹ pass 2\nℹ fail 0\n", Some((2, 0, 0)));
        // go test -v: top-level tests only; subtests are indented.
        check(
            "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n    --- PASS: TestB/sub (0.00s)\n--- FAIL: TestB (0.00s)\n--- SKIP: TestC (0.00s)\nFAIL\n",
            Some((1, 1, 1)),
        );
        check("?   \texample.com/m\t[no test files]\n", Some((0, 0, 0)));
        check("ok  \texample.com/m\t0.002s\n?   \texample.com/n\t[no test files]\n", None);
        // The plain line, used only without a runner format.
        check("ok add\n3 passed, 0 failed\n", Some((3, 0, 0)));
        check("echo 1 passed, 0 failed\n1 passed, 0 failed\n", Some((1, 0, 0)));
        check("0 failed\n", None);
        check("nothing to see\n", None);
    }
}
