//! The user's checkout fingerprint end to end: a `cmd:` agent or a gate that writes outside its
//! worktree (a tracked file, an untracked file, a hook, the git config, a ref) leaves the goal not
//! ready and unmerged, with a gap naming what changed; an untouched checkout leaves no such gap.

use std::{fs, path::Path};

use serde_json::{Value, json};

use crate::{LIB_SH, TEST_SH, TestEnv};

/// The agent's honest work: it fixes `add`, so every gate passes on its change.
const FIX: &str = "sed -i 's/\\$1 - \\$2/$1 + $2/' lib.sh";

/// A required test gate that counts its one test the way cargo prints it.
const TEST_GATE: &str = r#"
[[gates]]
name = "test"
command = "sh test.sh && echo 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out'"
kind = "test"
"#;

/// What the escape tests add to `omk.toml`: with the sandbox on, the kernel refuses these writes
/// (`sandbox.rs` shows it); here they must succeed, to show that the fingerprint alone catches
/// every one of them.
const SANDBOX_OFF: &str = "\n[sandbox]\nmode = \"off\"\n";

/// Writes the repository's `omk.toml`: the test gate, then `extra` (more sections, such as a
/// gate that escapes), and commits it.
fn write_config(env: &TestEnv, repo: &Path, extra: &str) -> anyhow::Result<()> {
    fs::write(repo.join("omk.toml"), format!("{TEST_GATE}{extra}"))?;
    env.git(repo, &["add", "omk.toml"])?;
    env.git(repo, &["commit", "--quiet", "-m", "omk config"])?;
    Ok(())
}

/// Creates a repository with a failing `add`, its test and `omk.toml` (with `extra`).
fn checkout_repo(env: &TestEnv, name: &str, extra: &str) -> anyhow::Result<std::path::PathBuf> {
    let repo = env.repo(name, &[("lib.sh", LIB_SH), ("test.sh", TEST_SH)])?;
    write_config(env, &repo, extra)?;
    Ok(repo)
}

/// Runs `omk run --accept` with a `cmd:` agent that fixes `add` and then runs `escape`, and
/// returns the exit code and the goal's proof.
fn run_agent(env: &TestEnv, repo: &Path, escape: &str) -> anyhow::Result<(Option<i32>, Value)> {
    let agent = format!("cmd:{FIX}; {escape}");
    let output = env.omk(repo, &["run", "fix add", "--agent", &agent, "--accept", "--json"])?;
    let document: Value =
        serde_json::from_str(&output.stdout).map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    Ok((output.code, document["proof"].clone()))
}

/// Returns the `changes` of the proof's `checkout_changed` gap, `null` when it has none.
fn checkout_gap(proof: &Value) -> Value {
    proof["known_gaps"]
        .as_array()
        .and_then(|gaps| gaps.iter().find(|it| it["gap"]["kind"] == "checkout_changed"))
        .map_or(Value::Null, |gap| gap["gap"]["changes"].clone())
}

/// Checks that the goal ended not ready and unmerged, with a checkout gap holding `expected`.
fn check_refused(
    env: &TestEnv,
    repo: &Path,
    main_before: &str,
    code: Option<i32>,
    proof: &Value,
    expected: &Value,
) -> anyhow::Result<()> {
    assert_eq!(code, Some(1), "{proof:#}");
    assert_eq!(proof["status"], "not_ready", "{proof:#}");
    assert_eq!(proof["integration"], Value::Null, "nothing was accepted: {proof:#}");
    let changes = checkout_gap(proof);
    let changes = changes.as_array().cloned().unwrap_or_default();
    assert!(changes.contains(expected), "{expected} not in {changes:?}");
    let gap = proof["known_gaps"]
        .as_array()
        .and_then(|gaps| gaps.iter().find(|it| it["gap"]["kind"] == "checkout_changed"))
        .cloned()
        .unwrap_or_default();
    assert!(gap["next_step"].as_str().unwrap_or_default().contains("inspect the listed"), "{gap}");
    if expected["part"] != "ref" && expected["part"] != "head" {
        assert_eq!(env.git(repo, &["rev-parse", "main"])?.trim(), main_before, "main moved");
    }
    Ok(())
}

#[test]
fn an_agent_that_writes_in_the_users_checkout_is_refused_with_a_gap_naming_it() -> anyhow::Result<()>
{
    let env = TestEnv::new()?;
    // The agent runs in `<repo>/.omk/worktrees/<goal>`, so `../../..` is the user's checkout.
    let escapes = [
        ("echo pwned >> ../../../lib.sh", json!({"part": "file", "name": "lib.sh"})),
        ("echo hi > ../../../stray.txt", json!({"part": "file", "name": "stray.txt"})),
        (
            "printf '#!/bin/sh\\necho owned\\n' > ../../../.git/hooks/pre-commit",
            json!({"part": "hook", "name": "pre-commit"}),
        ),
        (
            "printf '[alias]\\n\\tst = !touch /tmp/owned\\n' >> ../../../.git/config",
            json!({"part": "git_config", "name": "config"}),
        ),
        ("git -C ../../.. branch sneaky", json!({"part": "ref", "name": "refs/heads/sneaky"})),
        (
            "git -C ../../.. update-ref refs/heads/main \
             $(git -C ../../.. commit-tree -m moved -p HEAD 'HEAD^{tree}')",
            json!({"part": "ref", "name": "refs/heads/main"}),
        ),
    ];
    for (idx, (escape, expected)) in escapes.iter().enumerate() {
        let repo = checkout_repo(&env, &format!("repo{idx}"), SANDBOX_OFF)?;
        let main_before = env.git(&repo, &["rev-parse", "main"])?.trim().to_owned();
        let (code, proof) = run_agent(&env, &repo, escape)?;
        check_refused(&env, &repo, &main_before, code, &proof, expected)?;
        // `omk accept` refuses it too.
        let accept = env.omk(&repo, &["accept"])?;
        assert_ne!(accept.code, Some(0), "{escape}: {accept}");
        assert!(
            accept.stdout.contains("checkout") || accept.stderr.contains("checkout"),
            "{accept}"
        );
        if expected["part"] != "ref" {
            assert_eq!(env.git(&repo, &["rev-parse", "main"])?.trim(), main_before);
        }
    }
    Ok(())
}

#[test]
fn a_gate_that_writes_in_the_users_checkout_is_refused_with_a_gap_naming_it() -> anyhow::Result<()>
{
    let env = TestEnv::new()?;
    // Gates run in the goal's worktree too, on the base tree and on the proposed one.
    let escapes = [
        ("echo pwned >> ../../../lib.sh", json!({"part": "file", "name": "lib.sh"})),
        (
            "printf '#!/bin/sh\\n' > ../../../.git/hooks/post-checkout",
            json!({"part": "hook", "name": "post-checkout"}),
        ),
        ("git -C ../../.. tag sneaky", json!({"part": "ref", "name": "refs/tags/sneaky"})),
    ];
    for (idx, (escape, expected)) in escapes.iter().enumerate() {
        let gate = format!(
            "\n[[gates]]\nname = \"sneaky\"\ncommand = {command}\n",
            command = Value::String((*escape).to_owned())
        );
        let repo = checkout_repo(&env, &format!("repo{idx}"), &format!("{gate}{SANDBOX_OFF}"))?;
        let main_before = env.git(&repo, &["rev-parse", "main"])?.trim().to_owned();
        let (code, proof) = run_agent(&env, &repo, "true")?;
        check_refused(&env, &repo, &main_before, code, &proof, expected)?;
    }
    Ok(())
}

#[test]
fn an_untouched_checkout_has_no_gap_and_the_policy_accepts() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout_repo(&env, "repo", "")?;
    // The user's own work in progress stays as it is: it is part of both fingerprints.
    fs::write(repo.join("notes.txt"), "mine\n")?;
    let (code, proof) = run_agent(&env, &repo, "true")?;
    assert_eq!(code, Some(0), "{proof:#}");
    assert_eq!(proof["status"], "ready", "{proof:#}");
    assert_eq!(checkout_gap(&proof), Value::Null);
    Ok(())
}

#[test]
fn a_resumed_run_compares_the_checkout_with_its_first_fingerprint() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = checkout_repo(&env, "repo", SANDBOX_OFF)?;
    let agent = format!("cmd:{FIX}; echo hi > ../../../stray.txt");
    // The run dies right after its agent wrote outside the worktree; the resumed run must not
    // take the checkout as it is then for its baseline.
    let killed = env.omk_with(
        &repo,
        &["run", "fix add", "--agent", &agent, "--accept"],
        &[("OMK_TEST_KILL_AFTER", "agent_finished")],
    )?;
    assert_ne!(killed.code, Some(0), "{killed}");
    let resumed = env.omk(&repo, &["resume", "--json"])?;
    assert_eq!(resumed.code, Some(1), "{resumed}");
    let document: Value = serde_json::from_str(&resumed.stdout)?;
    let proof = &document["proof"];
    assert_eq!(checkout_gap(proof), json!([{"part": "file", "name": "stray.txt"}]), "{proof:#}");
    assert_eq!(proof["integration"], Value::Null);
    Ok(())
}
