//! The command line as people meet it: help, every command's human and `--json` output, the
//! error messages, colors, progress and logs, on hermetic temp repositories.

use std::fmt::Write as _;

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv};

/// Returns the outputs of `commands` as one document, each under its command line.
fn transcript(
    env: &TestEnv,
    cwd: &std::path::Path,
    commands: &[&[&str]],
) -> anyhow::Result<String> {
    let mut text = String::new();
    for args in commands {
        let output = env.omk(cwd, args)?;
        writeln!(text, "$ omk {}\n{output}\n", args.join(" "))?;
    }
    Ok(text)
}

#[test]
fn help_is_snapshotted() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let help = transcript(
        &env,
        env.root(),
        &[&["-h"], &["--help"], &["run", "--help"], &["status", "-h"], &["gates", "run", "-h"]],
    )?;
    env.insta_settings().bind(|| insta::assert_snapshot!("cli_help", help));
    Ok(())
}

#[test]
fn every_goal_command_has_human_and_json_output() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let run: &[&str] = &["run", "fix add", "--agent", &agent];
    let human = transcript(&env, &repo, &[run, &["status"], &["list"], &["show"]])?;
    env.insta_settings().bind(|| insta::assert_snapshot!("cli_goal_human", human));

    let json = transcript(
        &env,
        &repo,
        &[
            &["status", "--json"],
            &["list", "--json"],
            &["budget", "add", "--tokens", "500", "--json"],
        ],
    )?;
    env.insta_settings().bind(|| insta::assert_snapshot!("cli_goal_json", json));

    // The decisions, in both forms: a second goal is rejected and cancelled, the first accepted.
    let status: Value = serde_json::from_str(&env.omk(&repo, &["status", "--json"])?.stdout)?;
    let first = status["goal"]["goal_id"].as_str().unwrap_or_default().to_owned();
    let second: &[&str] = &["run", "fix add again", "--agent", &agent, "-q"];
    assert_eq!(env.omk(&repo, second)?.code, Some(0));
    let decisions = transcript(
        &env,
        &repo,
        &[
            &["reject", "--reason", "keep it"],
            &["cancel", "--json"],
            &["budget", "add", "--time", "10m"],
            &["accept", &first, "--json"],
            &["worktree", "list"],
            &["worktree", "gc", "--dry-run", "--json"],
        ],
    )?;
    env.insta_settings().bind(|| insta::assert_snapshot!("cli_decisions", decisions));

    // Every JSON document carries its schema version and validates against its schema.
    for (args, schema) in [
        (&["status", "--json"][..], "status"),
        (&["list", "--json"], "list"),
        (&["show", "--json"], "show"),
        (&["agents", "--json"], "agents"),
        (&["worktree", "list", "--json"], "worktree-list"),
        (&["gates", "list", "--json"], "gates-list"),
        (&["config", "show", "--json"], "config-show"),
        (&["config", "path", "--json"], "config-path"),
        (&["proof", "show", "--json"], "proof-show"),
        (&["run", "again", "--agent", &agent, "--gate", "true", "--json"], "run"),
    ] {
        let output = env.omk(&repo, args)?;
        let document: Value = serde_json::from_str(&output.stdout)?;
        assert_eq!(document["schema_version"], 1, "{args:?}: {output}");
        assert_eq!(output.stderr, "", "{args:?}: nothing but the result");
        crate::schemas::check_shape(&document, schema)?;
    }
    Ok(())
}

#[test]
fn errors_name_the_input_and_the_fix() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    std::fs::create_dir(env.root().join("plain"))?;
    let errors = transcript(
        &env,
        &repo,
        &[
            &["frobnicate"],
            &["run"],
            &["run", "fix it", "--budget-time", "soon"],
            &["--color", "sometimes", "list"],
            &["-q", "-v", "list"],
            &["status"],
            &["status", "nope"],
            &["run", "fix it", "--agent", "telepathy"],
            &["run", "fix it", "--agent", "script:missing.scenario"],
            &["-C", "../plain", "status"],
            &["pause"],
        ],
    )?;
    let bad_log = env.omk_with(&repo, &["list"], &[("OMK_LOG", "omk_goal=loud")])?;
    let errors = format!("{errors}$ OMK_LOG=omk_goal=loud omk list\n{bad_log}\n");
    env.insta_settings().bind(|| insta::assert_snapshot!("cli_errors", errors));
    Ok(())
}

#[test]
fn color_follows_the_flag_and_no_color() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    env.omk(&repo, &["run", "fix add", "--agent", &agent])?;

    let always = env.omk(&repo, &["status", "--color", "always"])?;
    assert!(always.stdout.contains("\x1b[33m"), "--color always colors a pipe: {always}");
    let error = env.omk(&repo, &["status", "nope", "--color=always"])?;
    assert!(error.stderr.starts_with("\x1b[") && error.stderr.contains("error:"), "{error}");
    for (args, vars) in [
        (&["status"][..], &[][..]),
        (&["status", "--color", "never"], &[("CLICOLOR_FORCE", "1")]),
        (&["status"], &[("NO_COLOR", "1")]),
    ] {
        let output = env.omk_with(&repo, args, vars)?;
        assert!(!output.stdout.contains('\x1b'), "{args:?} {vars:?}: {output}");
    }
    Ok(())
}

#[test]
fn progress_and_logs_go_to_stderr_only_when_asked() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let run = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut args = vec!["run", "fix add", "--agent", &agent];
        args.extend_from_slice(extra);
        env.omk_with(&repo, &args, vars)
    };

    // Piped, the default shows no progress; the result is the same either way.
    let quiet = run(&[], &[])?;
    assert_eq!(quiet.stderr, "", "{quiet}");
    let shown = run(&["--progress", "always"], &[])?;
    assert!(shown.stderr.contains("gate unit (proposed) passed"), "{shown}");
    assert!(shown.stderr.contains("calls StrReplaceFile"), "{shown}");
    for extra in [&["--progress", "always", "--json"][..], &["--progress", "always", "-q"]] {
        let output = run(extra, &[])?;
        assert_eq!(output.stderr, "", "{extra:?}: {output}");
    }

    // -v logs each command omk runs; OMK_LOG picks what to log.
    let verbose = run(&["-v"], &[])?;
    assert!(verbose.stderr.contains("start the gate"), "{verbose}");
    assert!(verbose.stderr.contains("next step"), "{verbose}");
    let filtered = run(&[], &[("OMK_LOG", "omk_gates=debug")])?;
    assert!(filtered.stderr.contains("start the gate"), "{filtered}");
    assert!(!filtered.stderr.contains("next step"), "{filtered}");
    assert!(!verbose.stdout.contains("start the gate"), "logs never reach stdout");
    Ok(())
}
