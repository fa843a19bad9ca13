//! Test gates that count by the JUnit XML reports they write (the gate's `junit` key): a runner
//! that prints no count reaches `awaiting_acceptance` by its report, and a stale report, committed
//! or written by the agent, never counts.

use std::path::Path;

use serde_json::{Value, json};

use crate::{LIB_SH, TestEnv, env::Output, gap_kinds};

/// A test that checks `add`, prints nothing a test runner would, and writes a JUnit report of
/// its one test case, failing or passing, as a runner configured to write one does.
const JUNIT_TEST_SH: &str = r#". ./lib.sh
mkdir -p reports
if [ "$(add 2 3)" = 5 ]; then
  printf '<?xml version="1.0"?>\n<testsuites><testsuite name="lib" tests="1" failures="0" errors="0" skipped="0"><testcase name="add"/></testsuite></testsuites>\n' > reports/junit.xml
else
  printf '<testsuites><testsuite name="lib"><testcase name="add"><failure message="add 2 3 is %s"/></testcase></testsuite></testsuites>\n' "$(add 2 3)" > reports/junit.xml
  exit 1
fi
"#;

/// A test that checks `add` and prints nothing, and writes no report.
const QUIET_TEST_SH: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ]\n";

/// A report of three passing tests that no gate run of the goal wrote.
const STALE_REPORT: &str = "<testsuites><testsuite name=\"lib\" tests=\"3\" failures=\"0\" \
                            errors=\"0\" skipped=\"0\"/></testsuites>\n";

/// A scenario step that fixes `add` in `lib.sh`.
const FIX_CALL: &str = r#"tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}"#;

/// Runs `omk run PROMPT --agent script:<scenario> ARGS --json` in `repo`; returns the output
/// and the goal's proof.
fn run(
    env: &TestEnv,
    repo: &Path,
    scenario: &str,
    args: &[&str],
) -> anyhow::Result<(Output, Value)> {
    let file = env.write("junit.scenario", scenario)?;
    let agent = format!("script:{}", file.display());
    let mut command = vec!["run", "fix the bug in add", "--agent", agent.as_str(), "--json"];
    command.extend_from_slice(args);
    env.omk_goal_proof(repo, &command)
}

/// Returns the run of gate `name` in `phase` in the proof.
fn gate<'a>(proof: &'a Value, name: &str, phase: &str) -> &'a Value {
    proof["gates"]
        .as_array()
        .and_then(|gates| gates.iter().find(|it| it["name"] == name && it["phase"] == phase))
        .unwrap_or(&Value::Null)
}

#[test]
fn a_test_gate_counted_by_the_junit_report_it_writes_awaits_acceptance() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let omk_toml = "[[gates]]\nname = \"unit\"\nkind = \"test\"\ncommand = \"sh test.sh\"\n\
                    junit = \"reports/*.xml\"\n";
    let repo = env.repo(
        "repo",
        &[
            ("lib.sh", LIB_SH),
            ("test.sh", JUNIT_TEST_SH),
            ("omk.toml", omk_toml),
            (".gitignore", "reports/\n"),
        ],
    )?;
    let scenario = format!("text: Fixing the operator.\n{FIX_CALL}\n---\ntext: Fixed add().\n");
    let (output, proof) = run(&env, &repo, &scenario, &[])?;
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{output}\n{proof:#}");
    assert!(!gap_kinds(&proof).contains(&"tests_not_counted".to_owned()), "{proof:#}");

    // The change's run counted the one passing test from its report, not from its output.
    let proposed = gate(&proof, "unit", "proposed");
    assert_eq!(proposed["tests"], json!({ "passed": 1, "failed": 0, "skipped": 0 }), "{proof:#}");
    assert_eq!(proposed["junit"]["counted"], true);
    assert_eq!(proposed["junit"]["files"], json!(["reports/junit.xml"]));
    assert_eq!(proof["tests"]["counted"], json!(["unit"]), "{proof:#}");
    // On the base tree the same report said the test failed: fail-to-pass evidence.
    let baseline = gate(&proof, "unit", "baseline");
    assert_eq!(baseline["tests"], json!({ "passed": 0, "failed": 1, "skipped": 0 }), "{proof:#}");

    let shown = env.omk(&repo, &["proof", "show"])?;
    assert!(shown.stdout.contains("counted from JUnit reports/junit.xml"), "{shown}");
    Ok(())
}

#[test]
fn a_stale_junit_report_committed_or_written_by_the_agent_never_counts() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let omk_toml = "[[gates]]\nname = \"unit\"\nkind = \"test\"\ncommand = \"sh test.sh\"\n\
                    junit = \"reports/*.xml\"\n";
    // A report committed in the repository, and one the agent writes beside its fix.
    let repo = env.repo(
        "repo",
        &[
            ("lib.sh", LIB_SH),
            ("test.sh", QUIET_TEST_SH),
            ("omk.toml", omk_toml),
            ("reports/committed.xml", STALE_REPORT),
        ],
    )?;
    let before = env.git(&repo, &["rev-parse", "main"])?;
    let write = json!({
        "id": "tc-2",
        "name": "WriteFile",
        "arguments": json!({ "path": "reports/agent.xml", "content": STALE_REPORT }).to_string(),
    });
    let scenario = format!(
        "text: Fixing the operator.\n{FIX_CALL}\n---\ntext: Adding a report.\ntool_call: \
         {write}\n---\ntext: Fixed add(), 3 tests pass.\n"
    );
    let (output, proof) = run(&env, &repo, &scenario, &["--accept"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert_eq!(proof["status"], "not_ready", "{proof:#}");
    assert_eq!(proof["readiness"], "no_tests_ran", "{proof:#}");

    let proposed = gate(&proof, "unit", "proposed");
    assert_eq!(proposed["passed"], true, "the script passed on its exit code: {proof:#}");
    assert!(proposed["tests"].is_null(), "no stale report counts: {proof:#}");
    assert_eq!(proposed["junit"]["counted"], false);
    assert_eq!(proposed["junit"]["files"], json!([]));
    assert_eq!(proposed["junit"]["stale"], json!(["reports/agent.xml", "reports/committed.xml"]));

    let gap = proof["known_gaps"]
        .as_array()
        .and_then(|gaps| gaps.iter().find(|it| it["gap"]["kind"] == "tests_not_counted"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(gap["gap"]["gate"], "unit", "{proof:#}");
    let next = gap["next_step"].as_str().unwrap_or_default();
    assert!(next.contains("JUnit XML") && next.contains("junit key"), "{next}");
    assert_eq!(env.git(&repo, &["rev-parse", "main"])?, before, "nothing was merged");
    let shown = env.omk(&repo, &["proof", "show"])?;
    assert!(
        shown
            .stdout
            .contains("JUnit reports/agent.xml, reports/committed.xml not written by this run"),
        "{shown}"
    );
    Ok(())
}
