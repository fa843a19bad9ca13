//! `omk demo`, `omk run` and `omk proof show` end to end.

use std::fs;

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv};

#[test]
fn demo_proves_the_fix_and_says_what_to_try_next() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let output = env.omk(env.root(), &["demo", "--dir", "demo", "--progress", "always"])?;
    env.insta_settings().bind(|| insta::assert_snapshot!("demo", output));
    assert_eq!(output.code, Some(0));

    // The proof on disk is what `proof show --json` prints after its schema version, and it
    // names the fix.
    let repo = env.root().join("demo/calc");
    let shown = env.omk(&repo, &["proof", "show", "--json"])?;
    assert_eq!(shown.code, Some(0));
    let proof: Value = serde_json::from_str(&shown.stdout)?;
    assert_eq!(proof["schema_version"], 1);
    let goal = proof["goal_id"].as_str().unwrap_or_default();
    let proof_file = repo.join(".omk/goals").join(goal).join("proof.json");
    let stored = fs::read_to_string(&proof_file)?;
    let members = stored.strip_prefix('{').unwrap_or_default();
    assert_eq!(shown.stdout, format!("{{\n  \"schema_version\": 1,{members}"));
    crate::schemas::check_shape(&proof, "proof-show")?;
    // Written atomically, yet readable like any file: not the temporary file's 0600.
    let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&proof_file)?.permissions());
    assert_eq!(mode & 0o777, 0o644);
    assert_eq!(proof["readiness"], "awaiting_acceptance");
    assert_eq!(proof["changed_files"][0]["path"], "calc.sh");

    // The fix is in the goal's worktree, and the user's checkout still has the bug.
    let worktree = repo.join(".omk/worktrees").join(goal);
    assert!(fs::read_to_string(worktree.join("calc.sh"))?.contains("$(( $1 + $2 ))"));
    assert!(fs::read_to_string(repo.join("calc.sh"))?.contains("$(( $1 - $2 ))"));
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");
    Ok(())
}

#[test]
fn run_with_a_passing_gate_exits_0_and_a_failing_one_exits_1() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());

    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains("● not ready · awaiting_acceptance"), "{output}");
    assert!(output.stdout.contains("  M lib.sh  +1 -1"), "{output}");

    // An agent that changes nothing useful: the gate fails, so the proof is not ready.
    let noop = env.write("noop.scenario", "text: Nothing to do, all tests pass.\n")?;
    let agent = format!("script:{}", noop.display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent, "--json"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let document: Value = serde_json::from_str(&output.stdout)?;
    assert_eq!(document["schema_version"], 1);
    assert_eq!(document["proof"]["readiness"], "gates_failing");
    assert_eq!(document["proof"]["gates"][0]["exit_code"], 1);
    assert_eq!(output.stderr, "", "no progress with --json");
    Ok(())
}

#[test]
fn run_without_gates_is_not_ready_and_says_how_to_add_one() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let output =
        env.omk(&repo, &["run", "fix add", "--agent", &format!("script:{}", fix.display())])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains("· gates_failing"), "{output}");
    assert!(
        output.stdout.contains("configure a gate in omk.toml ([[gates]]) or pass --gate 'CMD'"),
        "{output}"
    );
    Ok(())
}

#[test]
fn bad_input_is_a_one_line_error_with_exit_2_and_no_goal() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let plain = env.root().join("plain");
    fs::create_dir(&plain)?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let bad_scenario = env.write("bad.scenario", "text: ok\n---\nsay: hello\n")?;

    let check = |cwd: &std::path::Path, args: &[&str], expect: &str| -> anyhow::Result<()> {
        let output = env.omk(cwd, args)?;
        let stderr = output.stderr.replace(&env.root().display().to_string(), "[TMP]");
        assert_eq!((output.code, stderr.as_str(), output.stdout.as_str()), (Some(2), expect, ""));
        assert!(!repo.join(".omk").exists() && !plain.join(".omk").exists(), "no goal state");
        Ok(())
    };
    check(
        &plain,
        &["run", "fix", "--agent", &agent],
        "error: [TMP]/plain is not inside a git repository; run `git init` there or pass -C with a repository\n",
    )?;
    check(
        &repo,
        &["run", "  ", "--agent", &agent],
        "error: the prompt is empty; say what the agent should change\n",
    )?;
    check(
        &repo,
        &["run", "fix", "--agent", "script:missing.scenario"],
        "error: read scenario file [TMP]/repo/missing.scenario: No such file or directory (os error 2)\n",
    )?;
    check(
        &repo,
        &["run", "fix", "--agent", &format!("script:{}", bad_scenario.display())],
        "error: scenario file [TMP]/bad.scenario, step 2: unknown directive \"say\"; expected id, usage, think, text, tool_call or error\n",
    )?;
    check(
        &repo,
        &["run", "fix", "--agent", "kimi-ultra"],
        "error: unknown agent \"kimi-ultra\": use kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE\n",
    )?;
    check(
        &repo,
        &["-C", "nowhere", "proof", "show"],
        "error: [TMP]/repo/nowhere does not exist or is not a directory\n",
    )?;
    check(
        &repo,
        &["proof", "show"],
        "error: no goal has run in [TMP]/repo; start one with `omk run PROMPT`\n",
    )?;
    fs::write(repo.join("omk.toml"), "[[gates]]\nname = \"t\"\ncommand = 7\n")?;
    check(
        &repo,
        &["run", "fix", "--agent", &agent],
        "error: [TMP]/repo/omk.toml:3:11: invalid type: integer `7`, expected a shell command line string or an array of strings (argv)\n",
    )?;
    Ok(())
}

#[test]
fn usage_errors_come_from_clap_with_exit_2() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let output = env.omk(env.root(), &["run"])?;
    assert_eq!(output.code, Some(2));
    assert!(
        output.stderr.contains("the following required arguments were not provided"),
        "{output}"
    );
    let help = env.omk(env.root(), &["--help"])?;
    assert_eq!(help.code, Some(0));
    assert!(help.stdout.contains("Run an agent on PROMPT in a new worktree"), "{help}");
    Ok(())
}
