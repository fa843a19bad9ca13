//! Gates that check nothing and gates that flip: a vacuous gate, a test gate whose output omk
//! cannot count, a test gate declared `tests = "exit-code"`, and a gate whose result differs on
//! the same tree across goals, each run end to end on a real repository.

use std::path::Path;

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, TestEnv, env::Output, gap_kinds};

/// A test that checks `add` but prints nothing a test runner would.
const QUIET_TEST_SH: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ]\n";

/// Runs `omk run PROMPT --agent <FIX_ADD> ARGS --json` in `repo`; returns the output and the goal's
/// proof.
fn run(env: &TestEnv, repo: &Path, prompt: &str, args: &[&str]) -> anyhow::Result<(Output, Value)> {
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let mut command = vec!["run", prompt, "--agent", agent.as_str(), "--json"];
    command.extend_from_slice(args);
    env.omk_goal_proof(repo, &command)
}

/// Returns the proposed run of gate `name` in the proof.
fn proposed<'a>(proof: &'a Value, name: &str) -> &'a Value {
    proof["gates"]
        .as_array()
        .and_then(|gates| gates.iter().find(|it| it["name"] == name && it["phase"] == "proposed"))
        .unwrap_or(&Value::Null)
}

/// Returns `main`'s commit, to show that nothing was merged.
fn main_commit(env: &TestEnv, repo: &Path) -> anyhow::Result<String> {
    Ok(env.git(repo, &["rev-parse", "main"])?.trim().to_owned())
}

#[test]
fn a_vacuous_gate_is_not_ready_and_merges_nothing() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let before = main_commit(&env, &repo)?;
    let (output, proof) = run(&env, &repo, "fix the bug in add", &["--gate", "true", "--accept"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert_eq!(proof["status"], "not_ready", "{proof:#}");
    assert_eq!(proposed(&proof, "gate-1")["kind"], "other", "`true` runs no test");
    assert!(gap_kinds(&proof).contains(&"no_test_gate".to_owned()), "{proof:#}");
    assert_eq!(proof["tests"]["rule"], "counted_tests");
    assert!(proof["integration"].is_null(), "the policy did not accept: {proof:#}");
    assert_eq!(main_commit(&env, &repo)?, before, "nothing was merged");
    Ok(())
}

#[test]
fn a_test_gate_that_prints_no_count_is_not_ready() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    // A declared test gate whose script passes without printing a count omk reads.
    let omk_toml = "[[gates]]\nname = \"quiet\"\nkind = \"test\"\ncommand = \"sh test.sh\"\n";
    let repo = env
        .repo("repo", &[("lib.sh", LIB_SH), ("test.sh", QUIET_TEST_SH), ("omk.toml", omk_toml)])?;
    let before = main_commit(&env, &repo)?;
    let (output, proof) = run(&env, &repo, "fix the bug in add", &["--accept"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let gate = proposed(&proof, "quiet");
    assert_eq!(gate["passed"], true, "the script passed on its exit code: {proof:#}");
    assert!(gate["tests"].is_null());
    assert_eq!(proof["readiness"], "no_tests_ran", "{proof:#}");
    let gap = proof["known_gaps"]
        .as_array()
        .and_then(|gaps| gaps.iter().find(|it| it["gap"]["kind"] == "tests_not_counted"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(gap["gap"]["gate"], "quiet", "{proof:#}");
    let next = gap["next_step"].as_str().unwrap_or_default();
    assert!(next.contains("cargo nextest") && next.contains("tests = \"exit-code\""), "{next}");
    assert_eq!(main_commit(&env, &repo)?, before, "nothing was merged");

    // `omk gates run` applies the same rule: on the fixed checkout the gate passes, but nothing
    // was counted.
    std::fs::write(repo.join("lib.sh"), "add() { echo $(($1 + $2)); }\n")?;
    let gates = env.omk(&repo, &["gates", "run"])?;
    assert_eq!(gates.code, Some(1), "{gates}");
    assert!(gates.stdout.contains("pass  quiet"), "{gates}");
    assert!(gates.stdout.contains("tests: no test count in the output of quiet"), "{gates}");
    let json = env.omk(&repo, &["gates", "run", "--json"])?;
    assert_eq!(json.code, Some(1), "{json}");
    let document: Value = serde_json::from_str(&json.stdout)?;
    assert_eq!(document["passed"], false);
    assert!(document["tests_shortfall"].as_str().is_some_and(|it| it.contains("quiet")));
    Ok(())
}

#[test]
fn a_gate_declared_tests_by_exit_code_is_ready_as_weaker_evidence() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let omk_toml = "[[gates]]\nname = \"quiet\"\nkind = \"test\"\ncommand = \"sh test.sh\"\n\
                    tests = \"exit-code\"\n";
    let repo = env
        .repo("repo", &[("lib.sh", LIB_SH), ("test.sh", QUIET_TEST_SH), ("omk.toml", omk_toml)])?;
    let before = main_commit(&env, &repo)?;
    let (output, proof) = run(&env, &repo, "fix the bug in add", &["--accept"])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert_eq!(proof["status"], "ready", "{proof:#}");
    assert_eq!(proposed(&proof, "quiet")["tests_by_exit_code"], true);
    assert_eq!(proof["tests"]["exit_code_only"], serde_json::json!(["quiet"]));
    assert_eq!(proof["tests"]["counted"], serde_json::json!([]));
    assert_ne!(main_commit(&env, &repo)?, before, "the change was merged");
    let shown = env.omk(&repo, &["proof", "show"])?;
    assert!(shown.stdout.contains("tests by exit code only (weaker evidence)"), "{shown}");
    Ok(())
}

#[test]
fn a_gate_that_flips_on_the_same_tree_is_flaky_and_never_served_from_the_cache()
-> anyhow::Result<()> {
    let env = TestEnv::new()?;
    // On the fixed tree the gate fails, then passes, then fails, …: it flips a file outside the
    // repository (which the sandbox must let it write). On the base tree it always fails.
    env.allow_writes_outside()?;
    let flag = env.root().join("flip");
    let flip_sh = format!(
        ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ] || {{ echo '0 passed, 1 failed'; exit 1; }}\n\
         if [ -e '{0}' ]; then rm '{0}'; echo '1 passed, 0 failed'; \
         else touch '{0}'; echo '0 passed, 1 failed'; exit 1; fi\n",
        flag.display()
    );
    let omk_toml = "[[gates]]\nname = \"flip\"\nkind = \"test\"\ncommand = \"sh flip.sh\"\n";
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("flip.sh", &flip_sh), ("omk.toml", omk_toml)])?;
    let before = main_commit(&env, &repo)?;

    // Goal 1: the gate fails on the fixed tree (no repair round, which would run it again).
    let (_, first) = run(&env, &repo, "fix the bug in add", &["--accept", "--repair", "0"])?;
    assert_eq!(proposed(&first, "flip")["passed"], false, "{first:#}");
    let first_goal = first["goal_id"].as_str().unwrap_or_default().to_owned();

    // Goal 2, the same change: the recorded failure keeps any pass from being served, the gate
    // runs and passes, and the proof shows it flaky; the policy does not accept it.
    let (output, second) = run(&env, &repo, "fix the bug in add", &["--accept", "--repair", "0"])?;
    let gate = proposed(&second, "flip");
    assert_eq!(gate["passed"], true, "{second:#}");
    assert!(gate["cached_from"].is_null(), "the gate ran: {second:#}");
    assert_eq!(gate["flaky"], true);
    assert_eq!(gate["flaky_with"], first_goal.as_str());
    assert_eq!(second["readiness"], "awaiting_acceptance", "{second:#}");
    assert!(gap_kinds(&second).contains(&"gate_flaky".to_owned()), "{second:#}");
    assert_eq!(output.code, Some(1), "{output}");
    assert_eq!(main_commit(&env, &repo)?, before, "the policy merged nothing");

    // A person may take the flaky gate on.
    let accepted = env.omk(&repo, &["accept", "--reason", "flaky on CI too, tracked"])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    assert_ne!(main_commit(&env, &repo)?, before, "the person's acceptance merged");

    // Goal 3 on the same files: a pass is stored, and a failure too, so it runs again.
    env.git(&repo, &["reset", "--quiet", "--hard", &before])?;
    let (_, third) = run(&env, &repo, "fix the bug in add", &[])?;
    let gate = proposed(&third, "flip");
    assert!(gate["cached_from"].is_null(), "a pass beside a failure is never served: {third:#}");
    assert_eq!(gate["flaky"], true, "{third:#}");
    Ok(())
}
