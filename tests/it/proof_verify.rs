//! `omk proof rebuild`, `verify` (with `--rerun` and `--bundle`), `export` and `show --since`
//! end to end: a fresh run verifies, and one changed byte anywhere is named.
//!
//! The signed bundle is also checked with the in-toto Python library
//! (`tests/data/verify-intoto.py`), installed by `scripts/install-in-toto.sh`; `cargo xtask ci`
//! runs it and sets `OMK_IN_TOTO_PYTHON` and `OMK_REQUIRE_IN_TOTO=1` (`real_client.rs` says
//! how a missing library fails, is skipped, or is a note).

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv, env::Output};

/// A finished goal: the repository, the goal's id and directory.
struct Goal {
    repo: PathBuf,
    id: String,
    dir: PathBuf,
}

/// Runs the fix scenario with `gates` (shell command lines) and returns the goal.
fn run_goal(env: &TestEnv, gates: &[&str]) -> anyhow::Result<Goal> {
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let mut args = vec!["run", "fix add", "--agent", &agent, "--json"];
    for gate in gates {
        args.extend(["--gate", gate]);
    }
    let output = env.omk(&repo, &args)?;
    let document: Value = serde_json::from_str(&output.stdout)?;
    let id = document["goal_id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!id.is_empty(), "no goal id: {output}");
    let dir = repo.join(".omk/goals").join(&id);
    Ok(Goal { repo, id, dir })
}

/// Returns insta settings that also hide hashes, which depend on measured durations.
fn settings(env: &TestEnv) -> insta::Settings {
    let mut settings = env.insta_settings();
    settings.add_filter(r"\b[0-9a-f]{12}\b", "[HASH]");
    settings.add_filter(r"\b\d+ bytes\b", "[N] bytes");
    settings
}

/// Changes the byte at `offset` of `path` (to another printable byte) and returns the old
/// content, to put back with [`restore`].
fn flip_byte(path: &Path, offset: usize) -> anyhow::Result<Vec<u8>> {
    let original = fs::read(path)?;
    let mut changed = original.clone();
    changed[offset] = if changed[offset] == b'x' { b'y' } else { b'x' };
    fs::write(path, &changed)?;
    Ok(original)
}

fn restore(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    Ok(fs::write(path, content)?)
}

/// Runs `omk proof verify` and asserts it fails naming `expected`.
fn assert_not_verified(env: &TestEnv, goal: &Goal, expected: &str) -> anyhow::Result<()> {
    let output = env.omk(&goal.repo, &["proof", "verify"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains(expected), "expected {expected:?} in:\n{output}");
    assert!(output.stdout.contains("NOT verified (1 of"), "{output}");
    Ok(())
}

#[test]
fn verify_passes_on_a_fresh_run_and_names_each_changed_byte() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let goal = run_goal(&env, &[])?;
    let output = env.omk(&goal.repo, &["proof", "verify"])?;
    settings(&env).bind(|| insta::assert_snapshot!("proof_verify", output));
    assert_eq!(output.code, Some(0));
    let rebuilt = env.omk(&goal.repo, &["proof", "rebuild"])?;
    assert_eq!(rebuilt.code, Some(0), "{rebuilt}");
    assert!(rebuilt.stdout.contains("is the fold of the log, byte for byte"), "{rebuilt}");

    // One byte of the log: the gate's name in its gate_started event.
    let log = goal.dir.join("events.jsonl");
    let text = fs::read_to_string(&log)?;
    let line = text.lines().position(|it| it.contains("\"kind\":\"gate_started\"")).unwrap_or(0);
    let offset = text.lines().take(line).map(|it| it.len() + 1).sum::<usize>()
        + text.lines().nth(line).and_then(|it| it.find("\"name\":\"unit\"")).unwrap_or(0)
        + 9;
    let original = flip_byte(&log, offset)?;
    let number = line + 1;
    assert_not_verified(
        &env,
        &goal,
        &format!(
            "FAILED  log: event {number} (gate_started) does not match its hash: the log was edited at line {number}"
        ),
    )?;
    let rebuilt = env.omk(&goal.repo, &["proof", "rebuild"])?;
    assert_eq!(rebuilt.code, Some(1), "{rebuilt}");
    assert!(rebuilt.stderr.contains("the line does not match its hash"), "{rebuilt}");
    restore(&log, &original)?;

    // One byte of an artifact: the proposed gate's log.
    let proof: Value = serde_json::from_str(&fs::read_to_string(goal.dir.join("proof.json"))?)?;
    let gate_log = proof["gates"]
        .as_array()
        .and_then(|gates| gates.iter().find(|it| it["phase"] == "proposed"))
        .and_then(|it| it["output"]["path"].as_str())
        .unwrap_or_default()
        .to_owned();
    let artifact = goal.dir.join(&gate_log);
    let original = fs::read(&artifact)?;
    fs::write(&artifact, b"all good\n")?;
    let recorded = ArtifactDigest::of(&proof, &gate_log);
    assert_not_verified(
        &env,
        &goal,
        &format!(
            "FAILED  artifact {gate_log}: sha256 {} ({} bytes) recorded, ",
            recorded.sha256, recorded.bytes
        ),
    )?;
    restore(&artifact, &original)?;

    // One byte of proof.json: the status.
    let proof_file = goal.dir.join("proof.json");
    let text = fs::read_to_string(&proof_file)?;
    let offset = text.find("\"status\": \"").unwrap_or(0) + 11;
    let original = flip_byte(&proof_file, offset)?;
    let changed = fs::read_to_string(&proof_file)?;
    let stored_status =
        &changed[offset..changed[offset..].find('"').map_or(offset, |it| offset + it)];
    assert_not_verified(
        &env,
        &goal,
        &format!(
            "FAILED  proof: proof.json differs from the fold of the log at byte {offset} (line 4), field `status`: stored \"{stored_status}\", the log gives \"{}\"",
            proof["status"].as_str().unwrap_or_default()
        ),
    )?;
    let rebuilt = env.omk(&goal.repo, &["proof", "rebuild", "--json"])?;
    assert_eq!(rebuilt.code, Some(1), "{rebuilt}");
    let document: Value = serde_json::from_str(&rebuilt.stdout)?;
    assert_eq!(document["difference"]["field"], "status");
    assert_eq!(document["difference"]["byte"], offset);
    restore(&proof_file, &original)?;

    let output = env.omk(&goal.repo, &["proof", "verify", "--json"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let document: Value = serde_json::from_str(&output.stdout)?;
    assert_eq!(document["verified"], true);
    assert_eq!(document["goal_id"], goal.id.as_str());
    Ok(())
}

/// The recorded digest of an artifact of the proof.
struct ArtifactDigest {
    sha256: String,
    bytes: u64,
}

impl ArtifactDigest {
    fn of(proof: &Value, path: &str) -> Self {
        let found = proof["artifacts"]
            .as_array()
            .and_then(|it| it.iter().find(|artifact| artifact["path"] == path))
            .cloned()
            .unwrap_or_default();
        let sha256 = found["sha256"].as_str().unwrap_or_default();
        Self {
            sha256: sha256.get(..12).unwrap_or(sha256).to_owned(),
            bytes: found["bytes"].as_u64().unwrap_or_default(),
        }
    }
}

#[test]
fn rerun_reproduces_gates_and_names_flaky_and_unreproducible_ones() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    // Passes on odd runs, by a counter outside the worktree.
    let counter = env.root().join("count");
    env.allow_writes_outside()?;
    let flaky = env.write(
        "flaky.sh",
        &format!(
            "n=$(( $(cat {0} 2>/dev/null || echo 0) + 1 )); echo $n > {0}; [ $(( n % 2 )) = 1 ]\n",
            counter.display()
        ),
    )?;
    // Passes while a file outside the worktree exists.
    let marker = env.write("marker", "")?;
    let flaky_gate = format!("sh {}", flaky.display());
    let marker_gate = format!("test -f {}", marker.display());
    let goal = run_goal(&env, &[&flaky_gate, &marker_gate])?;
    fs::remove_file(&marker)?;

    let output = env.omk(&goal.repo, &["proof", "verify", "--rerun", "--progress", "always"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let rerun = |gate: &str| {
        output
            .stdout
            .lines()
            .find(|it| it.contains(&format!(" rerun {gate}: ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        rerun("unit").starts_with(
            "ok      rerun unit: passed (1 passed, 0 failed, 0 skipped) again, as recorded"
        ),
        "{output}"
    );
    assert!(rerun("gate-1").starts_with("FAILED  rerun gate-1: flaky: recorded "), "{output}");
    assert!(rerun("gate-1").contains("on the same tree"), "{output}");
    assert!(
        rerun("gate-2").starts_with(
            "FAILED  rerun gate-2: not reproducible: recorded passed; failed, exit 1 on both reruns of the recorded tree"
        ),
        "{output}"
    );
    assert!(output.stderr.contains("re-running the gates of goal"), "{output}");
    // The scratch worktree is gone; the goal's own worktree stays.
    let worktrees = env.git(&goal.repo, &["worktree", "list", "--porcelain"])?;
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");

    // With the marker back, everything but the flaky gate reproduces.
    fs::write(&marker, "")?;
    let output = env.omk(&goal.repo, &["proof", "verify", "--rerun", "--json"])?;
    let document: Value = serde_json::from_str(&output.stdout)?;
    let failed: Vec<&str> = document["checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .filter(|it| it["status"] == "failed")
                .filter_map(|it| it["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(failed, ["rerun gate-1"], "{output}");
    Ok(())
}

#[test]
fn signed_bundles_verify_with_omk_and_the_in_toto_library() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let goal = run_goal(&env, &[])?;
    let keys = env.root().join("keys");
    let output =
        env.omk(&goal.repo, &["key", "generate", &format!("{}/signing", keys.display())])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains("key id       "), "{output}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&fs::metadata(keys.join("signing"))?.permissions());
    assert_eq!(mode & 0o777, 0o600);
    let again =
        env.omk(&goal.repo, &["key", "generate", &format!("{}/signing", keys.display())])?;
    assert_eq!(again.code, Some(2), "{again}");
    assert!(again.stderr.contains("the file exists; pass --force to replace it"), "{again}");

    let private = keys.join("signing");
    let public = keys.join("signing.pub");
    let output = env.omk(
        &goal.repo,
        &["proof", "export", "--format", "in-toto", "--sign-key", &private.display().to_string()],
    )?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains(": 3 DSSE envelopes, signed by key "), "{output}");
    let bundle = goal.dir.join("proof.intoto.jsonl");
    let verify = |bundle: &Path, key: &Path, extra: &[&str]| -> anyhow::Result<Output> {
        let mut args = vec![
            "proof".to_owned(),
            "verify".to_owned(),
            "--bundle".to_owned(),
            bundle.display().to_string(),
            "--key".to_owned(),
            key.display().to_string(),
        ];
        args.extend(extra.iter().map(|it| (*it).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.omk(&goal.repo, &args)
    };
    let output = verify(&bundle, &public, &[])?;
    settings(&env).bind(|| insta::assert_snapshot!("proof_verify_bundle", output));
    assert_eq!(output.code, Some(0));
    in_toto_check(&bundle, &public, true)?;

    // The change awaits acceptance, so its verdict is not PASSED: a merge gate refuses it.
    let output = verify(&bundle, &public, &["--require-passed"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains("--require-passed needs PASSED"), "{output}");

    // The verdict speaks for the goal's commit, not for main.
    let output = verify(&bundle, &public, &["--commit", "main"])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains("FAILED  subject: the verdict is about commit "), "{output}");

    // Another key.
    env.omk(&goal.repo, &["key", "generate", &format!("{}/other", keys.display())])?;
    let output = verify(&bundle, &keys.join("other.pub"), &[])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(
        output.stdout.contains("FAILED  envelope 1 (provenance): it is signed by key "),
        "{output}"
    );

    // One byte of a payload, and one of another envelope's signature.
    let text = fs::read_to_string(&bundle)?;
    let lines: Vec<&str> = text.lines().collect();
    let tampered = env.root().join("tampered.intoto.jsonl");
    let payload_at = lines[1].find("\"payload\":\"").unwrap_or(0) + 11 + 40;
    let sig_at = lines[0].find("\"sig\":\"").unwrap_or(0) + 7 + 10;
    let mut changed: Vec<String> = lines.iter().map(|it| (*it).to_owned()).collect();
    changed[1] = change_base64_char(lines[1], payload_at);
    changed[0] = change_base64_char(lines[0], sig_at);
    fs::write(&tampered, changed.join("\n") + "\n")?;
    let output = verify(&tampered, &public, &[])?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(
        output.stdout.contains("FAILED  envelope 1 (provenance): the signature by key "),
        "{output}"
    );
    assert!(output.stdout.contains("so the signature was changed"), "{output}");
    let second =
        output.stdout.lines().find(|it| it.starts_with("FAILED  envelope 2")).unwrap_or("");
    assert!(second.contains("payload") && second.contains("changed"), "{output}");
    assert!(
        output.stdout.contains("FAILED  inputs: the verdict names attestations the bundle lacks"),
        "{output}"
    );
    in_toto_check(&tampered, &public, false)?;

    // Unsigned export works without a key, and says it is unsigned.
    let unsigned = env.root().join("unsigned.intoto.jsonl");
    let output = env.omk(
        &goal.repo,
        &["proof", "export", "--format", "in-toto", "--out", &unsigned.display().to_string()],
    )?;
    assert!(output.stdout.contains("unsigned (sign with --sign-key FILE)"), "{output}");
    let output = verify(&unsigned, &public, &[])?;
    assert!(
        output.stdout.contains("the envelope is not signed; export it with --sign-key"),
        "{output}"
    );

    // Once accepted the proof is ready, and the bundle exported then passes the merge gate.
    let accepted = env.omk(&goal.repo, &["accept"])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    let output = env.omk(
        &goal.repo,
        &["proof", "export", "--format", "in-toto", "--sign-key", &private.display().to_string()],
    )?;
    assert_eq!(output.code, Some(0), "{output}");
    let output = verify(&bundle, &public, &["--require-passed"])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains("ok      verdict: verificationResult PASSED"), "{output}");
    Ok(())
}

/// Returns `line` with the base64 character at `offset` replaced by another one.
fn change_base64_char(line: &str, offset: usize) -> String {
    let mut bytes = line.as_bytes().to_vec();
    bytes[offset] = if bytes[offset] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("base64 stays ASCII")
}

/// Verifies `bundle` with the in-toto Python library; `accept` says whether it must pass.
fn in_toto_check(bundle: &Path, key: &Path, accept: bool) -> anyhow::Result<()> {
    let Some(python) = crate::real_client::IN_TOTO.find()? else { return Ok(()) };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/verify-intoto.py");
    let output = Command::new(&python).arg(script).arg(bundle).arg(key).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if accept {
        anyhow::ensure!(output.status.success(), "in-toto rejected the bundle:\n{stdout}{stderr}");
        anyhow::ensure!(stdout.contains("verified 3 envelopes signed by key"), "{stdout}{stderr}");
    } else {
        anyhow::ensure!(!output.status.success(), "in-toto accepted a changed bundle:\n{stdout}");
        anyhow::ensure!(stdout.contains("not verified: VerificationError"), "{stdout}{stderr}");
    }
    Ok(())
}

#[test]
fn show_since_diffs_two_proofs_and_export_writes_markdown() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let goal = run_goal(&env, &[])?;
    let output = env.omk(&goal.repo, &["proof", "show", "--since", "3"])?;
    settings(&env).bind(|| insta::assert_snapshot!("proof_show_since", output));
    assert_eq!(output.code, Some(0));
    let output = env.omk(&goal.repo, &["proof", "show", "--since", "run-1", "--json"])?;
    let document: Value = serde_json::from_str(&output.stdout)?;
    assert_eq!(document["schema_version"], 1);
    assert_eq!(document["status"], Value::Null, "{output}");
    let output = env.omk(&goal.repo, &["proof", "show", "--since", "run-2"])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(
        output.stderr.contains("the goal has 1 agent run, so run-1 is the only one"),
        "{output}"
    );

    let markdown = env.omk(&goal.repo, &["proof", "export", "--format", "markdown"])?;
    let shown = env.omk(&goal.repo, &["proof", "show", "--format", "markdown"])?;
    assert_eq!(markdown.code, Some(0), "{markdown}");
    assert_eq!(markdown.stdout, shown.stdout);
    assert!(markdown.stdout.starts_with('#'), "{markdown}");
    Ok(())
}

#[test]
fn rerun_fails_its_checkout_check_when_a_gate_writes_in_the_users_checkout() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    // Five levels up from the scratch worktree (`.omk/verify/<goal>/rerun-1/worktree`) is the
    // user's checkout; from the goal's own worktree it is outside the repository, so only the
    // re-run writes there.
    let gate = "if [ -d ../../../../../.git ]; then echo pwned > ../../../../../stray.txt; fi";
    // The sandbox would refuse that write (`sandbox.rs` shows it); here the fingerprint must
    // catch it on its own.
    env.allow_writes_outside()?;
    let goal = run_goal(&env, &["sh test.sh", gate])?;
    let output = env.omk(&goal.repo, &["proof", "verify", "--rerun"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let line = output.stdout.lines().find(|it| it.contains(" checkout: ")).unwrap_or_default();
    assert!(
        line.starts_with("FAILED  checkout: the gates changed your checkout while they ran again: file stray.txt;"),
        "{output}"
    );
    Ok(())
}
