//! Fail-to-pass evidence end to end: a bugfix must show a required test gate that fails without
//! the change and passes with it, from the baseline or from omk's run of the test gates on the
//! base tree with only the change's test files, in a scratch worktree.

use std::{fs, path::Path};

use serde_json::Value;

use crate::{LIB_SH, TestEnv, gap_kinds, proof};

/// The project's test gate: a kind `test` gate that runs every `tests/*.sh` and prints a cargo
/// style summary omk counts, naming each failing test as cargo test does.
const OMK_TOML: &str = r#"[[gates]]
name = "test"
kind = "test"
command = "sh run-tests.sh"
timeout_secs = 60
"#;

const RUN_TESTS_SH: &str = r#"passed=0
failed=0
for t in tests/*.sh; do
  if sh "$t"; then passed=$((passed + 1)); else echo "test $t ... FAILED"; failed=$((failed + 1)); fi
done
if [ "$failed" -eq 0 ]; then
  echo "test result: ok. $passed passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
else
  echo "test result: FAILED. $passed passed; $failed failed; 0 ignored; 0 measured; 0 filtered out"
  exit 1
fi
"#;

/// A test of the library that passes before and after the fix.
const ECHO_TEST: &str = ". ./lib.sh\n[ \"$(echo ok)\" = ok ]\n";

/// A test that reproduces the bug: it fails while `add` subtracts.
const ADD_TEST: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ]\n";

/// A test that passes whether `add` adds or subtracts, so it shows nothing about the fix.
const WEAK_TEST: &str = ". ./lib.sh\n[ \"$(add 0 0)\" = 0 ]\n";

/// Returns a repository with the buggy library, its test gate and `tests/`, plus `extra`.
fn project(
    env: &TestEnv,
    name: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<std::path::PathBuf> {
    let mut files = vec![
        ("lib.sh", LIB_SH),
        ("omk.toml", OMK_TOML),
        ("run-tests.sh", RUN_TESTS_SH),
        ("tests/echo.sh", ECHO_TEST),
    ];
    files.extend_from_slice(extra);
    env.repo(name, &files)
}

/// Returns a `cmd:` agent that fixes `add` and, with `test`, writes it as `tests/add.sh`.
fn fixer(env: &TestEnv, name: &str, test: Option<&str>) -> anyhow::Result<String> {
    let write_test =
        test.map(|test| format!("cat > tests/add.sh <<'EOF'\n{test}EOF\n")).unwrap_or_default();
    let script = format!("sed -i 's/\\$1 - \\$2/$1 + $2/' lib.sh\n{write_test}echo fixed add\n");
    Ok(format!("cmd:sh {}", env.write(name, &script)?.display()))
}

/// Returns the latest goal's id.
fn latest_goal(env: &TestEnv, repo: &Path) -> anyhow::Result<String> {
    let output = env.omk(repo, &["status", "--json"])?;
    anyhow::ensure!(output.code == Some(0), "omk status: {output}");
    let status: Value = serde_json::from_str(&output.stdout)?;
    Ok(status["goal"]["goal_id"].as_str().unwrap_or_default().to_owned())
}

fn event_kinds(repo: &Path, goal: &str) -> anyhow::Result<Vec<String>> {
    let text = fs::read_to_string(repo.join(".omk/goals").join(goal).join("events.jsonl"))?;
    text.lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line)?;
            Ok(event["event"]["kind"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Returns the commit `main` is at.
fn main_commit(env: &TestEnv, repo: &Path) -> anyhow::Result<String> {
    Ok(env.git(repo, &["rev-parse", "main"])?.trim().to_owned())
}

/// Asserts that no scratch worktree is left: git lists only the checkout and the goal's
/// worktree, and the scratch directory is gone.
fn assert_no_scratch(env: &TestEnv, repo: &Path, goal: &str) -> anyhow::Result<()> {
    let worktrees = env.git(repo, &["worktree", "list", "--porcelain"])?;
    let linked: Vec<&str> =
        worktrees.lines().filter(|it| it.starts_with("worktree ")).skip(1).collect();
    assert!(
        linked.iter().all(|it| it.ends_with(&format!(".omk/worktrees/{goal}"))),
        "only the goal's worktree is left: {worktrees}"
    );
    assert!(!repo.join(".omk/verify").join(goal).join("fail-to-pass").exists());
    Ok(())
}

#[test]
fn a_bugfix_whose_test_fails_on_the_base_records_the_flip_and_merges() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = project(&env, "repo", &[])?;
    let agent = fixer(&env, "fix.sh", Some(ADD_TEST))?;
    let output = env.omk(&repo, &["run", "fix add in lib.sh", "--agent", &agent])?;
    let goal = latest_goal(&env, &repo)?;
    let proof = proof(&repo, &goal)?;
    // The test is new, so the gate surface changed: a person approves it on accept.
    assert_eq!(proof["readiness"], "gate_surface_changed", "{output}");
    let fail_to_pass = &proof["oracle"]["fail_to_pass"];
    assert_eq!(fail_to_pass["rule"], "required");
    assert_eq!(fail_to_pass["check"]["test_paths"], serde_json::json!(["tests/add.sh"]));
    let checked = &fail_to_pass["check"]["gates"][0];
    assert_eq!((checked["name"].as_str(), checked["failed"].as_bool()), (Some("test"), Some(true)));
    assert_eq!(checked["tests"], serde_json::json!({"passed": 1, "failed": 1, "skipped": 0}));
    assert_eq!(
        fail_to_pass["flips"],
        serde_json::json!([
            {"gate": "test", "source": "check", "tests": ["tests/add.sh"], "failed": 1}
        ])
    );
    // The check's log is an artifact of the proof, and it shows the base failing.
    let log_path = checked["output"]["path"].as_str().unwrap_or_default();
    let artifacts = proof["artifacts"].as_array().cloned().unwrap_or_default();
    assert!(artifacts.iter().any(|it| it["path"] == log_path), "{artifacts:?}");
    let log = fs::read_to_string(repo.join(".omk/goals").join(&goal).join(log_path))?;
    assert!(log.contains("test tests/add.sh ... FAILED"), "{log}");
    let kinds = event_kinds(&repo, &goal)?;
    assert_eq!(kinds.iter().filter(|it| *it == "fail_to_pass_checked").count(), 1);
    assert_no_scratch(&env, &repo, &goal)?;

    let accepted = env.omk(&repo, &["accept", &goal, "--approve-gate-surface"])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    let proof = self::proof(&repo, &goal)?;
    assert_eq!(proof["status"], "ready");
    assert_eq!(fs::read_to_string(repo.join("tests/add.sh"))?, ADD_TEST, "merged into main");
    let verify = env.omk(&repo, &["proof", "verify", &goal])?;
    assert_eq!(verify.code, Some(0), "the check's log is verified with the rest: {verify}");
    // The pull request body says where the test failed without the change.
    let markdown = env.omk(&repo, &["proof", "show", &goal, "--format", "markdown"])?;
    assert!(
        markdown.stdout.contains(
            "- **Fail-to-pass:** test fails without the change (on the base tree with the \
             change's test files, failing tests/add.sh) and passes with it"
        ),
        "{markdown}"
    );
    Ok(())
}

#[test]
fn a_bugfix_whose_test_passes_on_the_base_too_is_not_ready_and_not_merged() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = project(&env, "repo", &[])?;
    let before = main_commit(&env, &repo)?;
    let agent = fixer(&env, "fix.sh", Some(WEAK_TEST))?;
    let output = env.omk(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--accept"])?;
    assert_ne!(output.code, Some(0), "{output}");
    let goal = latest_goal(&env, &repo)?;
    let proof = proof(&repo, &goal)?;
    assert_eq!(
        (proof["status"].as_str(), proof["readiness"].as_str()),
        (Some("blocked_on_human"), Some("gates_failing")),
        "{output}"
    );
    assert!(gap_kinds(&proof).contains(&"no_test_fails_without_change".to_owned()));
    let gap = proof["known_gaps"]
        .as_array()
        .and_then(|gaps| gaps.iter().find(|it| it["gap"]["kind"] == "no_test_fails_without_change"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(gap["gap"]["gates"], serde_json::json!(["test"]));
    assert!(
        gap["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("no test fails without this change")
    );
    assert!(
        gap["next_step"]
            .as_str()
            .unwrap_or_default()
            .contains("add a test that reproduces the bug")
    );
    assert_eq!(proof["oracle"]["fail_to_pass"]["flips"], serde_json::json!([]));
    assert_eq!(proof["oracle"]["fail_to_pass"]["check"]["gates"][0]["failed"], false);

    let refused = env.omk(&repo, &["accept", &goal, "--approve-gate-surface"])?;
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("no test fails without this change"), "{refused}");
    assert_eq!(main_commit(&env, &repo)?, before, "nothing was merged");
    assert_no_scratch(&env, &repo, &goal)?;
    Ok(())
}

#[test]
fn a_bugfix_whose_gate_failed_on_the_base_takes_the_baseline_without_another_run()
-> anyhow::Result<()> {
    let env = TestEnv::new()?;
    // The test that reproduces the bug is already in the repository, so the baseline fails.
    let repo = project(&env, "repo", &[("tests/add.sh", ADD_TEST)])?;
    let agent = fixer(&env, "fix.sh", None)?;
    let output = env.omk(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--accept"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let goal = latest_goal(&env, &repo)?;
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["status"], "ready");
    assert_eq!(
        proof["oracle"]["fail_to_pass"]["flips"],
        serde_json::json!([{"gate": "test", "source": "baseline", "tests": [], "failed": 1}])
    );
    let kinds = event_kinds(&repo, &goal)?;
    assert!(!kinds.contains(&"fail_to_pass_started".to_owned()), "no extra run: {kinds:?}");
    assert_eq!(kinds.iter().filter(|it| *it == "fail_to_pass_checked").count(), 1);
    assert_eq!(proof["oracle"]["fail_to_pass"]["check"]["gates"], serde_json::json!([]));
    assert_eq!(fs::read_to_string(repo.join("lib.sh"))?, "add() { echo $(($1 + $2)); }\n");
    Ok(())
}

#[test]
fn a_waiver_reaches_ready_and_the_proof_names_it() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = project(&env, "flag", &[])?;
    let agent = fixer(&env, "fix.sh", None)?;
    let output = env.omk(
        &repo,
        &["run", "fix add in lib.sh", "--agent", &agent, "--no-fail-to-pass", "--accept"],
    )?;
    assert_eq!(output.code, Some(0), "{output}");
    let goal = latest_goal(&env, &repo)?;
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["status"], "ready");
    let fail_to_pass = &proof["oracle"]["fail_to_pass"];
    assert_eq!(
        (fail_to_pass["rule"].as_str(), fail_to_pass["waived_by"].as_str()),
        (Some("waived"), Some("flag"))
    );
    assert!(
        fail_to_pass["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("waived by omk run --no-fail-to-pass"),
        "{fail_to_pass}"
    );
    assert!(!event_kinds(&repo, &goal)?.iter().any(|it| it.starts_with("fail_to_pass_check")));

    // The same waiver from omk.toml.
    let toml = format!("{OMK_TOML}\n[oracle]\nfail_to_pass = false\n");
    let repo = project(&env, "config", &[])?;
    fs::write(repo.join("omk.toml"), toml)?;
    env.git(&repo, &["commit", "--quiet", "-am", "waive fail-to-pass"])?;
    let output = env.omk(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--accept"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let proof = self::proof(&repo, &latest_goal(&env, &repo)?)?;
    assert_eq!(proof["oracle"]["fail_to_pass"]["waived_by"], "config");

    // Without the waiver, the same change is not ready: it shows no test failing.
    let repo = project(&env, "none", &[])?;
    let output = env.omk(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--accept"])?;
    assert_ne!(output.code, Some(0), "{output}");
    let proof = self::proof(&repo, &latest_goal(&env, &repo)?)?;
    assert_eq!(proof["readiness"], "gates_failing");
    assert!(gap_kinds(&proof).contains(&"no_test_fails_without_change".to_owned()));
    assert!(!proof["known_gaps"].to_string().contains("fail_to_pass_not_checked"));
    Ok(())
}

#[test]
fn a_goal_whose_kind_needs_no_fail_to_pass_says_which_rule_applied() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = project(&env, "repo", &[])?;
    let agent = fixer(&env, "fix.sh", None)?;
    let output = env.omk(
        &repo,
        &["run", "fix add in lib.sh", "--agent", &agent, "--kind", "refactor", "--accept"],
    )?;
    assert_eq!(output.code, Some(0), "{output}");
    let proof = proof(&repo, &latest_goal(&env, &repo)?)?;
    let fail_to_pass = &proof["oracle"]["fail_to_pass"];
    assert_eq!(fail_to_pass["rule"], "not_required");
    assert_eq!(
        fail_to_pass["reason"],
        "a refactor goal needs no test that fails without the change"
    );

    let output = env.omk(
        &repo,
        &["run", "support add of three numbers", "--agent", &agent, "--kind", "feature"],
    )?;
    let proof = self::proof(&repo, &latest_goal(&env, &repo)?)?;
    assert_eq!(proof["oracle"]["fail_to_pass"]["rule"], "no_tests_added", "{output}");
    Ok(())
}

#[test]
fn a_kill_during_the_fail_to_pass_check_resumes_to_the_same_proof() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let agent = fixer(&env, "fix.sh", Some(ADD_TEST))?;
    let args = ["run", "fix add in lib.sh", "--agent", agent.as_str()];
    let reference = project(&env, "reference", &[])?;
    env.omk(&reference, &args)?;
    let reference = proof(&reference, &latest_goal(&env, &reference)?)?;

    // omk kills itself right after it recorded the start of the check, before any gate ran.
    let repo = project(&env, "killed", &[])?;
    let killed = env.omk_with(&repo, &args, &[("OMK_TEST_KILL_AFTER", "fail_to_pass_started")])?;
    assert_eq!(killed.code, None, "killed: {killed}");
    let goal = latest_goal(&env, &repo)?;
    assert!(!event_kinds(&repo, &goal)?.contains(&"fail_to_pass_checked".to_owned()));
    let resumed = env.omk(&repo, &["resume"])?;
    assert!(resumed.code.is_some(), "{resumed}");
    let kinds = event_kinds(&repo, &goal)?;
    assert_eq!(kinds.iter().filter(|it| *it == "fail_to_pass_checked").count(), 1, "{kinds:?}");
    let after = proof(&repo, &goal)?;
    for field in ["status", "readiness", "known_gaps", "changed_files"] {
        assert_eq!(after[field], reference[field], "{field}");
    }
    let (before, now) = (&reference["oracle"]["fail_to_pass"], &after["oracle"]["fail_to_pass"]);
    for field in ["rule", "reason", "flips"] {
        assert_eq!(now[field], before[field], "{field}");
    }
    assert_eq!(now["check"]["test_paths"], before["check"]["test_paths"]);
    assert_eq!(now["check"]["tree_id"], before["check"]["tree_id"]);
    assert_no_scratch(&env, &repo, &goal)?;
    let verify = env.omk(&repo, &["proof", "verify", &goal])?;
    assert_eq!(verify.code, Some(0), "{verify}");
    Ok(())
}

#[test]
fn deleting_the_test_that_failed_on_the_base_is_no_evidence() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = project(&env, "repo", &[("tests/add.sh", ADD_TEST)])?;
    let before = main_commit(&env, &repo)?;
    // An agent that wants to look done: it drops the failing test instead of fixing add.
    let agent =
        format!("cmd:sh {}", env.write("drop.sh", "rm tests/add.sh\necho done\n")?.display());
    let output = env.omk(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--accept"])?;
    assert_ne!(output.code, Some(0), "{output}");
    let goal = latest_goal(&env, &repo)?;
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["readiness"], "gates_failing", "{output}");
    assert!(gap_kinds(&proof).contains(&"no_test_fails_without_change".to_owned()));
    let fail_to_pass = &proof["oracle"]["fail_to_pass"];
    assert_eq!(fail_to_pass["flips"], serde_json::json!([]));
    // The check ran with the removal applied, so the baseline's failure does not count.
    assert_eq!(fail_to_pass["check"]["test_paths"], serde_json::json!(["tests/add.sh"]));
    assert_eq!(fail_to_pass["check"]["gates"][0]["failed"], false);
    assert!(event_kinds(&repo, &goal)?.contains(&"fail_to_pass_started".to_owned()));
    let refused = env.omk(&repo, &["accept", &goal, "--approve-gate-surface"])?;
    assert_eq!(refused.code, Some(1), "{refused}");
    assert_eq!(main_commit(&env, &repo)?, before, "nothing was merged");
    Ok(())
}
