//! Test counts from gate output: cargo test, nextest, pytest, go test (`-v` and `-json`), jest,
//! vitest, mocha, node's test runner, Maven Surefire, ctest, RSpec, PHPUnit, dotnet test, and a
//! plain `N passed, N failed` line.
//!
//! Each runner's summaries are summed on their own, so a gate that runs two runners (`cargo test
//! && pytest`) counts both; libtest's `test result:` lines that nextest shows for a test it ran
//! (its captured output, or all output with `--no-capture`) are not counted twice once nextest's
//! own summary is read. The fixtures under `tests/data/counts/` are real runner output.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use omk_events::TestCounts;

/// Reads output line by line and keeps only the counts, so no output size costs memory.
#[derive(Debug, Default)]
pub(crate) struct CountParser {
    /// libtest's `test result:` lines, summed over test binaries and doc-tests.
    cargo: Option<TestCounts>,
    /// nextest's `Summary` lines; when present, `cargo`'s lines are nextest's tests' own output.
    nextest: Option<TestCounts>,
    /// Counts from the formats of other known runners, summed.
    known: Option<TestCounts>,
    /// Counts from the last plain `N passed, N failed` line, used only when no runner format
    /// matched. The last, not the sum: `make` echoes the command that prints the line.
    plain: Option<TestCounts>,
    /// Python's unittest said `Ran N tests`; its verdict line (`OK`, `FAILED (failures=1)`)
    /// follows and says how many of them failed or were skipped.
    unittest_ran: Option<u64>,
    /// `go test` said a package has no tests.
    go_no_tests: bool,
    /// `go test` printed an `ok` line that omk cannot count (it ran without `-v`).
    go_uncounted: bool,
}

static ANSI_ESCAPE: LazyLock<Regex> = LazyLock::new(|| regex(r"\x1b\[[0-9;?]*[A-Za-z]"));
static CARGO: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;")
});
// `6/7 tests run` is a run that stopped early (fail-fast, a signal): the tests that ran.
static NEXTEST: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*Summary \[[^\]]*\]\s+\d+(?:/\d+)? tests? run: (.*)$"));
static PYTEST: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:=+ )?((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s(?: \([^)]*\))?(?: =+)?$")
});
static PYTEST_NONE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:=+ )?no tests ran(?: in [\d.]+s)?"));
static JEST: LazyLock<Regex> = LazyLock::new(|| regex(r"^Tests:\s+(.*?),? \d+ total$"));
static VITEST: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s*Tests\s+(.*?) \(\d+\)$"));
static MOCHA: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*(\d+) (passing|failing|pending)(?: \([^)]*\))?$"));
static NODE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:# |ℹ )(pass|fail|skipped|todo|cancelled) (\d+)$"));
static GO: LazyLock<Regex> = LazyLock::new(|| regex(r"^--- (PASS|FAIL|SKIP): "));
static GO_NO_TESTS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:\?|ok)\s+\S+\s.*\[no test(?: file)?s(?: to run)?\]"));
static GO_OK: LazyLock<Regex> = LazyLock::new(|| regex(r"^ok\s+\S+\s"));
// Surefire's per-class lines end in `Time elapsed …`; the module's total line does not.
static MAVEN: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:\[\w+\] )?Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)\s*$")
});
static CTEST: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\d+% tests passed, (\d+) tests? failed out of (\d+)"));
static RSPEC: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(\d+) examples?, (\d+) failures?(?:, (\d+) pending)?(?:, \d+ errors? occurred outside of examples)?$",
    )
});
static PHPUNIT_OK: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^OK \((\d+) tests?, \d+ assertions?\)"));
static PHPUNIT: LazyLock<Regex> = LazyLock::new(|| regex(r"^Tests: (\d+), Assertions: \d+(.*)\.$"));
static PHPUNIT_PART: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(Errors|Failures|Skipped|Incomplete): (\d+)"));
static DOTNET: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^\s*(?:Passed|Failed)!\s+-\s+Failed:\s+(\d+), Passed:\s+(\d+), Skipped:\s+(\d+), Total:",
    )
});
static UNITTEST_RAN: LazyLock<Regex> = LazyLock::new(|| regex(r"^Ran (\d+) tests? in [\d.]+s$"));
static UNITTEST_VERDICT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:OK|FAILED)(?: \(([^)]*)\))?$"));
static UNITTEST_PART: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(failures|errors|skipped|expected failures|unexpected successes)=(\d+)")
});
static PLAIN: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\b(\d+) passed,? (\d+) failed\b"));
static PART: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(\d+) (passed|exec failed|failed|skipped|xfailed|xpassed|errors?|timed out|todo|failures?|incomplete|risky)\b",
    )
});

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the count patterns are literals, all exercised by the tests below")
}

/// One line of `go test -json`.
#[derive(Deserialize)]
struct GoEvent {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Test")]
    test: Option<String>,
}

impl CountParser {
    /// Reads one line of output, without its line ending.
    pub(crate) fn feed(&mut self, line: &str) {
        // A terminal redraws a line with `\r`; what the reader sees last is what follows it.
        let line = line.rsplit('\r').next().unwrap_or(line);
        let stripped;
        let line = if line.contains('\x1b') {
            stripped = ANSI_ESCAPE.replace_all(line, "");
            &*stripped
        } else {
            line
        };
        if let Some(ran) = self.unittest_ran
            && let Some(captures) = UNITTEST_VERDICT.captures(line)
        {
            self.unittest_ran = None;
            let counts = unittest(ran, captures.get(1).map_or("", |it| it.as_str()));
            self.known = Some(add(self.known, counts));
        } else if let Some(captures) = UNITTEST_RAN.captures(line) {
            self.unittest_ran = Some(number(&captures[1]));
        } else if let Some(captures) = CARGO.captures(line) {
            let counts = TestCounts {
                passed: number(&captures[1]),
                failed: number(&captures[2]),
                skipped: number(&captures[3]),
            };
            self.cargo = Some(add(self.cargo, counts));
        } else if let Some(captures) = NEXTEST.captures(line) {
            self.nextest = Some(add(self.nextest, parts(&captures[1])));
        } else if let Some(counts) = other_runner(line) {
            self.known = Some(add(self.known, counts));
        } else if GO_NO_TESTS.is_match(line) {
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
    }

    /// Returns the counts read, or `None` when the output had no format omk knows.
    pub(crate) fn finish(&self) -> Option<TestCounts> {
        let libtest = self.nextest.or(self.cargo);
        let known = match (libtest, self.known) {
            (Some(libtest), Some(other)) => Some(add(Some(libtest), other)),
            (libtest, other) => libtest.or(other),
        };
        match (known, self.plain) {
            (Some(known), _) => Some(known),
            (None, Some(plain)) => Some(plain),
            // Only "no test files" lines: go test ran no test at all.
            (None, None) if self.go_no_tests && !self.go_uncounted => Some(TestCounts::default()),
            (None, None) => None,
        }
    }
}

/// Returns the counts of Python's unittest from its `Ran N tests` line and the parts of its
/// verdict (`failures=1, errors=1, skipped=1, expected failures=1`): errors count as failures
/// and expected failures as skipped, as pytest counts them.
fn unittest(ran: u64, verdict: &str) -> TestCounts {
    let mut counts = TestCounts::default();
    for captures in UNITTEST_PART.captures_iter(verdict) {
        let n = number(&captures[2]);
        match &captures[1] {
            "failures" | "errors" => counts.failed += n,
            "skipped" | "expected failures" => counts.skipped += n,
            _ => {}
        }
    }
    counts.passed = ran.saturating_sub(counts.failed).saturating_sub(counts.skipped);
    counts
}

/// Returns the counts of one summary line of a runner other than libtest and nextest.
fn other_runner(line: &str) -> Option<TestCounts> {
    let only = |passed, failed, skipped| Some(TestCounts { passed, failed, skipped });
    if PYTEST_NONE.is_match(line) {
        return Some(TestCounts::default());
    }
    if let Some(captures) = JEST.captures(line).or_else(|| VITEST.captures(line)) {
        return Some(parts(&captures[1]));
    }
    if let Some(captures) = PYTEST.captures(line) {
        return Some(parts(&captures[1]));
    }
    if let Some(captures) = MOCHA.captures(line) {
        let n = number(&captures[1]);
        return match &captures[2] {
            "passing" => only(n, 0, 0),
            "failing" => only(0, n, 0),
            _ => only(0, 0, n),
        };
    }
    if let Some(captures) = NODE.captures(line) {
        let n = number(&captures[2]);
        return match &captures[1] {
            "pass" => only(n, 0, 0),
            "fail" | "cancelled" => only(0, n, 0),
            _ => only(0, 0, n),
        };
    }
    if let Some(captures) = GO.captures(line) {
        return match &captures[1] {
            "PASS" => only(1, 0, 0),
            "FAIL" => only(0, 1, 0),
            _ => only(0, 0, 1),
        };
    }
    if line.starts_with("{\"Time\"") || line.starts_with("{\"Action\"") {
        return go_json(line);
    }
    if let Some(captures) = MAVEN.captures(line) {
        let run = number(&captures[1]);
        let failed = number(&captures[2]).saturating_add(number(&captures[3]));
        let skipped = number(&captures[4]);
        return only(run.saturating_sub(failed).saturating_sub(skipped), failed, skipped);
    }
    if let Some(captures) = CTEST.captures(line) {
        let failed = number(&captures[1]);
        return only(number(&captures[2]).saturating_sub(failed), failed, 0);
    }
    if let Some(captures) = RSPEC.captures(line) {
        let (examples, failed) = (number(&captures[1]), number(&captures[2]));
        let pending = captures.get(3).map_or(0, |it| number(it.as_str()));
        return only(examples.saturating_sub(failed).saturating_sub(pending), failed, pending);
    }
    if let Some(captures) = PHPUNIT_OK.captures(line) {
        return only(number(&captures[1]), 0, 0);
    }
    if let Some(captures) = PHPUNIT.captures(line) {
        let (mut failed, mut skipped) = (0_u64, 0_u64);
        for part in PHPUNIT_PART.captures_iter(&captures[2]) {
            let n = number(&part[2]);
            match &part[1] {
                "Errors" | "Failures" => failed = failed.saturating_add(n),
                _ => skipped = skipped.saturating_add(n),
            }
        }
        let passed = number(&captures[1]).saturating_sub(failed).saturating_sub(skipped);
        return only(passed, failed, skipped);
    }
    if let Some(captures) = DOTNET.captures(line) {
        return only(number(&captures[2]), number(&captures[1]), number(&captures[3]));
    }
    None
}

/// Reads one `go test -json` event: a top-level test's pass, fail or skip.
fn go_json(line: &str) -> Option<TestCounts> {
    let event: GoEvent = serde_json::from_str(line).ok()?;
    // Subtests (`TestA/sub`) are part of their top-level test, as with `-v`.
    if event.test.as_deref().is_none_or(|name| name.contains('/')) {
        return None;
    }
    match event.action.as_str() {
        "pass" => Some(TestCounts { passed: 1, ..TestCounts::default() }),
        "fail" => Some(TestCounts { failed: 1, ..TestCounts::default() }),
        "skip" => Some(TestCounts { skipped: 1, ..TestCounts::default() }),
        _ => None,
    }
}

fn add(total: Option<TestCounts>, counts: TestCounts) -> TestCounts {
    let total = total.unwrap_or_default();
    TestCounts {
        passed: total.passed.saturating_add(counts.passed),
        failed: total.failed.saturating_add(counts.failed),
        skipped: total.skipped.saturating_add(counts.skipped),
    }
}

/// Reads `3 passed, 1 failed, 2 skipped` (in any order and separator) into counts.
///
/// Annotations that are no outcome of their own (`(1 slow)`, `(1 flaky)`, `(1 leaky)`,
/// `3 warnings`, `1 deselected`) are left out.
fn parts(text: &str) -> TestCounts {
    let mut counts = TestCounts::default();
    for captures in PART.captures_iter(text) {
        let n = number(&captures[1]);
        match &captures[2] {
            "passed" | "xpassed" => counts.passed += n,
            "failed" | "exec failed" | "error" | "errors" | "timed out" | "failure"
            | "failures" => counts.failed += n,
            _ => counts.skipped += n,
        }
    }
    counts
}

fn number(digits: &str) -> u64 {
    digits.parse().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
