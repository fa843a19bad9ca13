//! The counter on real runner output (`tests/data/counts/`) and on single lines.

use super::*;

fn check(output: &str, expect: Option<(u64, u64, u64)>) {
    let mut parser = CountParser::default();
    output.lines().for_each(|line| parser.feed(line));
    let actual = parser.finish().map(|it| (it.passed, it.failed, it.skipped));
    assert_eq!(actual, expect, "{output}");
}

/// The fixtures and what omk must read in each: (passed, failed, skipped).
const FIXTURES: &[(&str, &str, (u64, u64, u64))] = &[
    ("cargo-test-pass", include_str!("../../tests/data/counts/cargo-test-pass.txt"), (8, 0, 1)),
    ("cargo-test-fail", include_str!("../../tests/data/counts/cargo-test-fail.txt"), (7, 1, 1)),
    ("nextest-pass", include_str!("../../tests/data/counts/nextest-pass.txt"), (7, 0, 1)),
    ("nextest-fail-slow", include_str!("../../tests/data/counts/nextest-fail-slow.txt"), (5, 1, 1)),
    (
        "nextest-no-fail-fast",
        include_str!("../../tests/data/counts/nextest-no-fail-fast.txt"),
        (6, 1, 1),
    ),
    ("nextest-flaky", include_str!("../../tests/data/counts/nextest-flaky.txt"), (7, 0, 1)),
    ("nextest-leaky", include_str!("../../tests/data/counts/nextest-leaky.txt"), (7, 0, 1)),
    ("nextest-ansi", include_str!("../../tests/data/counts/nextest-ansi.txt"), (0, 1, 1)),
    (
        "nextest-no-capture",
        include_str!("../../tests/data/counts/nextest-no-capture.txt"),
        (7, 0, 1),
    ),
    ("node-spec-fail", include_str!("../../tests/data/counts/node-spec-fail.txt"), (4, 1, 2)),
    ("node-tap-fail", include_str!("../../tests/data/counts/node-tap-fail.txt"), (4, 1, 2)),
    ("node-default-pass", include_str!("../../tests/data/counts/node-default-pass.txt"), (5, 0, 2)),
    ("pytest-verbose", include_str!("../../tests/data/counts/pytest-verbose.txt"), (4, 1, 1)),
    ("pytest-quiet", include_str!("../../tests/data/counts/pytest-quiet.txt"), (5, 1, 1)),
    ("unittest-pass", include_str!("../../tests/data/counts/unittest-pass.txt"), (4, 0, 2)),
    (
        "unittest-verbose-fail",
        include_str!("../../tests/data/counts/unittest-verbose-fail.txt"),
        (2, 2, 2),
    ),
    ("pytest-none", include_str!("../../tests/data/counts/pytest-none.txt"), (0, 0, 0)),
    ("go-verbose", include_str!("../../tests/data/counts/go-verbose.txt"), (1, 1, 1)),
    ("go-json", include_str!("../../tests/data/counts/go-json.txt"), (2, 1, 0)),
    ("jest", include_str!("../../tests/data/counts/jest.txt"), (5, 1, 2)),
    ("vitest", include_str!("../../tests/data/counts/vitest.txt"), (4, 1, 1)),
    ("mocha", include_str!("../../tests/data/counts/mocha.txt"), (2, 1, 1)),
    ("maven", include_str!("../../tests/data/counts/maven.txt"), (5, 1, 1)),
    ("ctest", include_str!("../../tests/data/counts/ctest.txt"), (2, 1, 0)),
    ("rspec", include_str!("../../tests/data/counts/rspec.txt"), (2, 1, 1)),
    ("phpunit", include_str!("../../tests/data/counts/phpunit.txt"), (3, 1, 1)),
    ("dotnet", include_str!("../../tests/data/counts/dotnet.txt"), (4, 1, 1)),
];

#[test]
fn real_output_of_each_runner() {
    for (name, output, expect) in FIXTURES {
        let mut parser = CountParser::default();
        output.lines().for_each(|line| parser.feed(line));
        let actual = parser.finish().map(|it| (it.passed, it.failed, it.skipped));
        assert_eq!(actual, Some(*expect), "fixture {name}");
    }
}

#[test]
fn every_fixture_is_checked() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/counts");
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".txt") {
            assert!(FIXTURES.iter().any(|(it, ..)| *it == stem), "fixture {name} is not checked");
        }
    }
    Ok(())
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
    // The summary, read whatever came before it.
    check(
        "     Summary [ 101.553s] 295/345 tests run: 294 passed (1 slow), 1 failed, 0 skipped\n",
        Some((294, 1, 0)),
    );
    check("     Summary [   1.0s] 3 tests run: 2 passed, 1 exec failed\n", Some((2, 1, 0)));
    // A line redrawn with carriage returns counts as the terminal shows it.
    check("running 3\r\x1b[2K     Summary [   1.0s] 3 tests run: 3 passed\n", Some((3, 0, 0)));
    // pytest, verbose and quiet.
    check("======= 1 failed, 2 passed, 1 xfailed, 3 warnings in 0.52s ========\n", Some((2, 1, 1)));
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
    // Two runners in one gate are both counted.
    check(
        "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n3 passed in 0.1s\n",
        Some((5, 0, 0)),
    );
    // The plain line, used only without a runner format.
    check("ok add\n3 passed, 0 failed\n", Some((3, 0, 0)));
    check("echo 1 passed, 0 failed\n1 passed, 0 failed\n", Some((1, 0, 0)));
    check("0 failed\n", None);
    check("nothing to see\n", None);
}
