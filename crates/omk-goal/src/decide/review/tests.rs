//! Tests of the review wall: one table per check, built from diff fixtures in code, and one
//! snapshot of the whole wall.

use omk_config::ReviewConfig;
use omk_events::{
    GateFinished, GateKind, GatePhase, GateSurfaceChecked, GoalKind, ReviewFinished, ReviewStatus,
    TestCounts,
};
use omk_worktree::{ChangeStatus, DiffLine, FileDiff, Hunk};

use crate::decide::review::{CHECKS, ReviewInput, review};

const IGNORE_ATTR: &str = concat!("#[", "ignore]");

/// A file whose one hunk removes `removed` and adds `added` after a line of context.
fn file(path: &str, status: ChangeStatus, removed: &[&str], added: &[&str]) -> FileDiff {
    let mut lines = vec![DiffLine::Context("// context".to_owned())];
    lines.extend(removed.iter().map(|line| DiffLine::Removed((*line).to_owned())));
    lines.extend(added.iter().map(|line| DiffLine::Added((*line).to_owned())));
    let n_removed = removed.len() as u32;
    let n_added = added.len() as u32;
    FileDiff {
        path: path.to_owned(),
        status,
        binary: false,
        old_size: 100,
        new_size: 100,
        old_id: None,
        new_id: None,
        old_mode: Some(0o100644),
        new_mode: Some(0o100644),
        hunks: vec![Hunk {
            old_start: 10,
            old_lines: 1 + n_removed,
            new_start: 10,
            new_lines: 1 + n_added,
            lines,
            old_missing_newline: false,
            new_missing_newline: false,
        }],
    }
}

fn added(path: &str, lines: &[&str]) -> FileDiff {
    file(path, ChangeStatus::Added, &[], lines)
}

fn modified(path: &str, removed: &[&str], added: &[&str]) -> FileDiff {
    file(path, ChangeStatus::Modified, removed, added)
}

fn deleted(path: &str, lines: &[&str]) -> FileDiff {
    file(path, ChangeStatus::Deleted, lines, &[])
}

fn binary(path: &str, size: u64) -> FileDiff {
    FileDiff { binary: true, new_size: size, hunks: Vec::new(), ..added(path, &[]) }
}

fn gate(name: &str, exit_code: i32) -> GateFinished {
    GateFinished {
        name: name.to_owned(),
        gate_kind: GateKind::Test,
        command: vec!["sh".to_owned(), "test.sh".to_owned()],
        required: true,
        phase: GatePhase::Proposed,
        tree_id: Some("t1".to_owned()),
        allow_no_tests: false,
        exit_code: Some(exit_code),
        signal: None,
        timed_out: false,
        spawn_error: None,
        duration_ms: 10,
        output: None,
        tests: None,
        cached_from: None,
        tests_by_exit_code: false,
        flaky_with: None,
        junit: None,
    }
}

/// The evidence the wall gives one check.
struct Case<'a> {
    files: Vec<FileDiff>,
    gates: Vec<GateFinished>,
    surface: Option<GateSurfaceChecked>,
    message: Option<&'a str>,
    oracle: Vec<String>,
    kind: GoalKind,
    config: ReviewConfig,
}

impl Default for Case<'_> {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            gates: Vec::new(),
            surface: None,
            message: None,
            oracle: Vec::new(),
            kind: GoalKind::Feature,
            config: ReviewConfig::default(),
        }
    }
}

fn run(case: &Case<'_>) -> Vec<ReviewFinished> {
    let input = ReviewInput {
        tree_id: "t1",
        files: &case.files,
        gates: &case.gates,
        gate_surface: case.surface.as_ref(),
        final_message: case.message,
        oracle_gates: &case.oracle,
        goal_kind: case.kind,
        config: &case.config,
    };
    review(&input).1
}

/// Runs the wall on `case` and checks that `check` has `status` and that every string of
/// `expect` is in its evidence (or next step).
fn check(name: &str, check: &str, case: &Case<'_>, status: ReviewStatus, expect: &[&str]) {
    let results = run(case);
    let result = results.iter().find(|it| it.check == check).expect("every check reports");
    let text = render(result);
    assert_eq!(result.status, status, "{name}: {text}");
    assert_eq!(result.next_step.is_some(), status != ReviewStatus::Passed, "{name}: {text}");
    for wanted in expect {
        assert!(text.contains(wanted), "{name}: {wanted:?} not in\n{text}");
    }
}

fn render(result: &ReviewFinished) -> String {
    let mut lines = vec![format!("{}: {}", result.check, result.status)];
    lines.extend(result.evidence.iter().map(|fact| format!("  - {fact}")));
    lines.extend(result.risks.iter().map(|risk| format!("  risk: {risk}")));
    lines.extend(result.next_step.iter().map(|next_step| format!("  next: {next_step}")));
    lines.push(String::new());
    lines.join("\n")
}

fn files(files: Vec<FileDiff>) -> Case<'static> {
    Case { files, ..Case::default() }
}

#[test]
fn the_wall_declares_and_reports_every_check_in_order() {
    let input_files = [added("src/lib.rs", &["pub fn f() {}"])];
    let config = ReviewConfig::default();
    let (started, results) = review(&ReviewInput {
        tree_id: "t1",
        files: &input_files,
        gates: &[],
        gate_surface: None,
        final_message: None,
        oracle_gates: &[],
        goal_kind: GoalKind::Docs,
        config: &config,
    });
    assert_eq!(started.tree_id, "t1");
    assert_eq!(started.checks, CHECKS);
    let names: Vec<&str> = results.iter().map(|it| it.check.as_str()).collect();
    assert_eq!(names, CHECKS);
    assert!(results.iter().all(|it| it.tree_id == "t1" && it.status == ReviewStatus::Passed));
}

#[test]
fn secrets_are_found_in_added_lines_only_and_masked() {
    use ReviewStatus::{Failed, Passed};
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let cases = [
        (
            "aws key added",
            files(vec![added("src/config.rs", &["x", &format!("let key = \"{aws}\";")])]),
            Failed,
            vec!["src/config.rs:12: AWS access key AKIA***", "scanned 1 text file, 2 added lines"],
        ),
        (
            "private key block",
            files(vec![added("deploy/key", &["-----BEGIN RSA PRIVATE KEY-----"])]),
            Failed,
            vec!["deploy/key:11: private key ----***"],
        ),
        (
            "removed secrets are not the change's doing",
            files(vec![modified(
                "src/config.rs",
                &[&format!("key = \"{aws}\"")],
                &["key = env()"],
            )]),
            Passed,
            vec!["found no secrets in the added lines"],
        ),
        (
            "allowed fixture",
            Case {
                files: vec![added("tests/fixtures/creds.txt", &[aws])],
                config: ReviewConfig {
                    secrets_allow: vec!["^tests/fixtures/".to_owned()],
                    ..ReviewConfig::default()
                },
                ..Case::default()
            },
            Passed,
            vec!["1 finding allowed by [review] secrets_allow"],
        ),
        (
            "binary files are skipped",
            files(vec![binary("logo.png", 10)]),
            Passed,
            vec!["skipped 1 binary file"],
        ),
    ];
    for (name, case, status, expect) in &cases {
        check(name, "secrets", case, *status, expect);
    }
    let results = run(&cases[0].1);
    assert!(!render(&results[0]).contains(aws), "a secret is never echoed whole");
}

#[test]
fn gate_surface_fails_on_weakened_tests_and_blocks_on_config() {
    use ReviewStatus::{Blocked, Failed, Passed};
    let surface = GateSurfaceChecked {
        tree_id: "t1".to_owned(),
        base_digest: "a".to_owned(),
        proposed_digest: "b".to_owned(),
        changed_paths: vec!["Cargo.toml".to_owned(), "tests/it/main.rs".to_owned()],
    };
    let cases = [
        (
            "test file deleted",
            files(vec![deleted("tests/parse_test.py", &["def test_x():", "    assert x"])]),
            Failed,
            vec!["tests/parse_test.py: test file deleted"],
        ),
        (
            "test renamed out of the test paths",
            files(vec![file(
                "src/old_parse.rs",
                ChangeStatus::Renamed { from: "tests/parse.rs".to_owned() },
                &[],
                &[],
            )]),
            Failed,
            vec!["tests/parse.rs: test file deleted"],
        ),
        (
            "rust ignore attribute added",
            files(vec![modified("src/lib.rs", &[], &[IGNORE_ATTR, "fn slow() {}"])]),
            Failed,
            vec![concat!("src/lib.rs:11: adds skip marker `#[", "ignore`")],
        ),
        (
            "jest skip",
            files(vec![modified("src/a.test.js", &[], &["it.skip('adds', () => {})"])]),
            Failed,
            vec!["adds skip marker `it.skip(`"],
        ),
        (
            "pytest skip",
            files(vec![modified("test_a.py", &[], &["@pytest.mark.skip(reason='slow')"])]),
            Failed,
            vec!["adds skip marker `@pytest.mark.skip`"],
        ),
        (
            "go skip",
            files(vec![modified("a_test.go", &[], &["\tt.Skip(\"flaky\")"])]),
            Failed,
            vec!["adds skip marker `t.Skip(`"],
        ),
        (
            "assertion removed",
            files(vec![modified("src/lib.rs", &["    assert_eq!(add(1, 2), 3);"], &[])]),
            Failed,
            vec!["src/lib.rs:11: removes assertion `assert_eq!(add(1, 2), 3);`"],
        ),
        (
            "jest expect removed",
            files(vec![modified("a.test.ts", &["expect(sum(1, 2)).toBe(3);"], &[])]),
            Failed,
            vec!["removes assertion `expect(sum(1, 2)).toBe(3);`"],
        ),
        (
            "assertion moved to another file",
            files(vec![
                modified("src/a.rs", &["    assert!(ok);"], &[]),
                modified("src/b.rs", &[], &["        assert!(ok);"]),
            ]),
            Passed,
            vec!["no test deleted"],
        ),
        (
            "ignore attribute removed is not weakening",
            files(vec![modified("src/lib.rs", &[IGNORE_ATTR], &[])]),
            Passed,
            vec![],
        ),
        (
            "iterator skip and Result expect are not markers",
            files(vec![modified(
                "src/lib.rs",
                &["let v = parse(s).expect(\"valid because checked\");"],
                &["let rest = args.iter().skip(1);", "let code = exit(1);"],
            )]),
            Passed,
            vec![],
        ),
        (
            "markers in comments do nothing",
            files(vec![modified(
                "src/lib.rs",
                &["// assert!(old_behavior);"],
                &["// never use it.skip( in this suite", "# @pytest.mark.skip was here"],
            )]),
            Passed,
            vec![],
        ),
        (
            "CI changed",
            files(vec![modified(
                ".github/workflows/ci.yml",
                &["  run: cargo test"],
                &["  run: true"],
            )]),
            Blocked,
            vec![
                ".github/workflows/ci.yml: gate configuration or CI changed",
                "a person must approve or reject the changes to",
            ],
        ),
        (
            "surface paths from the event, tests left to the finer checks",
            Case { surface: Some(surface), ..Case::default() },
            Blocked,
            vec!["Cargo.toml: gate configuration or CI changed"],
        ),
    ];
    for (name, case, status, expect) in &cases {
        check(name, "gate_surface", case, *status, expect);
    }
    let results = run(&cases[13].1);
    assert!(!render(&results[1]).contains("tests/it/main.rs"));
}

#[test]
fn diff_size_and_binary_files_have_limits() {
    use ReviewStatus::{Failed, Passed};
    let small = ReviewConfig { max_files: 1, max_lines: 2, ..ReviewConfig::default() };
    check(
        "within limits",
        "diff_size",
        &files(vec![added("a", &["1", "2"])]),
        Passed,
        &["1 file changed, at most 100 allowed", "2 lines changed (2 added, 0 removed)"],
    );
    check(
        "too many lines",
        "diff_size",
        &Case {
            files: vec![modified("a", &["1"], &["2", "3"])],
            config: small.clone(),
            ..Case::default()
        },
        Failed,
        &["3 lines changed (2 added, 1 removed), at most 2 allowed", "split the goal"],
    );
    check(
        "too many files",
        "diff_size",
        &Case { files: vec![added("a", &[]), added("b", &[])], config: small, ..Case::default() },
        Failed,
        &["2 files changed, at most 1 allowed"],
    );
    check(
        "no binaries",
        "binary_files",
        &files(vec![added("a", &["x"])]),
        Passed,
        &["no binary file"],
    );
    check(
        "small binary allowed",
        "binary_files",
        &files(vec![binary("logo.png", 2048)]),
        Passed,
        &["logo.png: binary, 2048 bytes"],
    );
    check(
        "large binary",
        "binary_files",
        &files(vec![binary("model.bin", 2 * 1024 * 1024)]),
        Failed,
        &["model.bin larger than 1048576 bytes ([review] max_binary_bytes)"],
    );
    check(
        "binaries not allowed",
        "binary_files",
        &Case {
            files: vec![binary("logo.png", 10)],
            config: ReviewConfig { allow_binary: false, ..ReviewConfig::default() },
            ..Case::default()
        },
        Failed,
        &["binary files are not allowed ([review] allow_binary = false)"],
    );
    let mut removed_binary = binary("old.png", 0);
    removed_binary.status = ChangeStatus::Deleted;
    check("deleted binary", "binary_files", &files(vec![removed_binary]), Passed, &[]);
}

#[test]
fn forbidden_paths_match_globs() {
    use ReviewStatus::{Failed, Passed};
    let cases = [
        ("dotenv anywhere", "config/.env", Failed, "config/.env: matches forbidden path **/.env"),
        ("dotenv at the root", ".env", Failed, ".env: matches forbidden path **/.env"),
        ("pem", "certs/server.pem", Failed, "matches forbidden path **/*.pem"),
        ("ssh key", "home/id_rsa.pub", Failed, "matches forbidden path **/id_rsa*"),
        ("git dir", ".git/config", Failed, "matches forbidden path .git/**"),
        ("similar name", "src/env.rs", Passed, "checked 1 changed file against 4 globs"),
        ("dotenv example", "config/.env.example", Passed, "checked 1 changed file"),
    ];
    for (name, path, status, expect) in cases {
        check(name, "forbidden_paths", &files(vec![added(path, &["x"])]), status, &[expect]);
    }
    let star_stays_in_a_component =
        ReviewConfig { forbidden_paths: vec!["secrets/*".to_owned()], ..ReviewConfig::default() };
    check(
        "star does not cross directories",
        "forbidden_paths",
        &Case {
            files: vec![added("secrets/deep/key.txt", &["x"])],
            config: star_stays_in_a_component,
            ..Case::default()
        },
        Passed,
        &[],
    );
    check(
        "rename from a forbidden path",
        "forbidden_paths",
        &files(vec![file(
            "config/env.txt",
            ChangeStatus::Renamed { from: "config/.env".to_owned() },
            &[],
            &[],
        )]),
        Failed,
        &["config/.env: matches forbidden path **/.env"],
    );
}

#[test]
fn claims_of_success_must_agree_with_the_gates() {
    use ReviewStatus::{Failed, Passed};
    let failing = vec![gate("test", 1)];
    let claim = |message: &'static str, gates: &[GateFinished]| Case {
        message: Some(message),
        gates: gates.to_vec(),
        ..Case::default()
    };
    check(
        "no message",
        "claims",
        &Case { gates: failing.clone(), ..Case::default() },
        Passed,
        &["no final message"],
    );
    check(
        "claim with a failing gate",
        "claims",
        &claim("I changed calc.sh.\nAll tests pass now!", &failing),
        Failed,
        &["the final message claims: \"All tests pass now!\"", "required gate test failed: exit 1"],
    );
    check("done with a failing gate", "claims", &claim("Done.", &failing), Failed, &["\"Done.\""]);
    check("check mark", "claims", &claim("\u{2705} fixed", &failing), Failed, &[]);
    check(
        "claim with passing gates",
        "claims",
        &claim("Fixed the bug.", &[gate("test", 0)]),
        Passed,
        &["every required gate passed"],
    );
    check(
        "no claim",
        "claims",
        &claim("I could not find calc.sh.", &failing),
        Passed,
        &["claims no success"],
    );
    let mut optional = gate("bench", 1);
    optional.required = false;
    check("optional gate failed", "claims", &claim("done", &[optional]), Passed, &[]);
    let mut baseline = gate("test", 1);
    baseline.phase = GatePhase::Baseline;
    check("baseline failures do not count", "claims", &claim("done", &[baseline]), Passed, &[]);
    let long = Box::leak(format!("Successfully {}", "x".repeat(200)).into_boxed_str());
    let results = run(&claim(long, &failing));
    let quoted = &results[5].evidence[0];
    assert!(quoted.chars().count() < 150 && quoted.ends_with("…\""), "{quoted}");
}

#[test]
fn oracle_gates_must_run_and_pass() {
    use ReviewStatus::{Blocked, Failed, Passed};
    let oracle = |names: &[&str], gates: Vec<GateFinished>, kind: GoalKind| Case {
        oracle: names.iter().map(|it| (*it).to_owned()).collect(),
        gates,
        kind,
        ..Case::default()
    };
    check(
        "passed",
        "oracle",
        &oracle(&["test"], vec![gate("test", 0)], GoalKind::Bugfix),
        Passed,
        &["oracle gate test passed"],
    );
    check(
        "missing",
        "oracle",
        &oracle(&["e2e"], vec![gate("test", 0)], GoalKind::Feature),
        Failed,
        &["oracle gate e2e did not run", "add a gate named e2e to omk.toml ([[gates]])"],
    );
    check(
        "failed",
        "oracle",
        &oracle(&["test"], vec![gate("test", 2)], GoalKind::Feature),
        Failed,
        &["oracle gate test failed: exit 2", "fix the change so that gate test passes"],
    );
    let mut no_tests = gate("test", 0);
    no_tests.tests = Some(TestCounts { passed: 0, failed: 0, skipped: 3 });
    check(
        "ran no tests",
        "oracle",
        &oracle(&["test"], vec![no_tests], GoalKind::Test),
        Failed,
        &["ran no tests"],
    );
    let mut other_tree = gate("test", 0);
    other_tree.tree_id = Some("t0".to_owned());
    check(
        "result of another tree",
        "oracle",
        &oracle(&["test"], vec![other_tree], GoalKind::Feature),
        Failed,
        &["did not run"],
    );
    check(
        "docs need none",
        "oracle",
        &oracle(&[], vec![], GoalKind::Docs),
        Passed,
        &["a docs goal needs no oracle gate"],
    );
    check("chore needs none", "oracle", &oracle(&[], vec![], GoalKind::Chore), Passed, &[]);
    check(
        "feature without oracle",
        "oracle",
        &oracle(&[], vec![], GoalKind::Feature),
        Blocked,
        &["no oracle gate proves this feature goal"],
    );
}

#[test]
fn many_findings_are_counted_not_listed() {
    let lines: Vec<String> = (0..30).map(|n| format!("assert!(case_{n});")).collect();
    let removed: Vec<&str> = lines.iter().map(String::as_str).collect();
    let results = run(&files(vec![modified("src/lib.rs", &removed, &[])]));
    let evidence = &results[1].evidence;
    assert_eq!(evidence.len(), 1 + 20 + 1, "{evidence:?}");
    assert_eq!(evidence.last().map(String::as_str), Some("and 10 more"));
}

#[test]
fn the_wall_on_a_realistic_change() {
    let case = Case {
        files: vec![
            modified(
                "calc.sh",
                &["add() { echo $(($1 - $2)); }"],
                &["add() { echo $(($1 + $2)); }", "API_TOKEN=\"q8Zr2LmT0vXc9KbN4wYp\""],
            ),
            modified(
                ".github/workflows/ci.yml",
                &["      - run: sh test.sh"],
                &["      - run: true"],
            ),
            modified(
                "test.sh",
                &["[ \"$(add 1 2)\" = 3 ] || exit 1"],
                &["# TODO: flaky", "exit 0"],
            ),
            binary("docs/diagram.png", 4096),
        ],
        gates: vec![gate("test", 1), GateFinished { required: false, ..gate("lint", 0) }],
        surface: Some(GateSurfaceChecked {
            tree_id: "t1".to_owned(),
            base_digest: "a".to_owned(),
            proposed_digest: "b".to_owned(),
            changed_paths: vec![".github/workflows/ci.yml".to_owned(), "test.sh".to_owned()],
        }),
        message: Some("I fixed add() in calc.sh.\n\nAll tests pass \u{2705}"),
        oracle: vec!["test".to_owned()],
        kind: GoalKind::Bugfix,
        config: ReviewConfig::default(),
    };
    let text: String = run(&case).iter().map(render).collect();
    insta::assert_snapshot!(text);
}
