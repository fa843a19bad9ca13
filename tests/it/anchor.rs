//! Log anchors end to end: a goal's log cut short (or cut and extended by a forger) after the
//! fact, with `proof.json` rewritten as the fold of what remains, fails `omk proof verify`
//! naming the anchor it disagrees with, on a real repository.

use std::{
    fs,
    path::{Path, PathBuf},
};

use chrono::{TimeZone, Utc};
use omk_events::{Event, EventLog, GoalPaused};
use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, TEST_SH, TestEnv, env::Output, schemas::COUNTED_TEST_GATE};

/// A finished goal: the repository, the goal's id and its log.
struct Goal {
    repo: PathBuf,
    id: String,
    log: PathBuf,
    proof: PathBuf,
}

impl Goal {
    fn anchor_ref(&self) -> String {
        format!("refs/omk/anchors/{}", self.id)
    }
}

/// Runs the fix scenario with a counted test gate and returns the goal, awaiting acceptance.
fn run_goal(env: &TestEnv) -> anyhow::Result<Goal> {
    let repo = env.repo(
        "repo",
        &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", COUNTED_TEST_GATE)],
    )?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent, "--json"])?;
    let document: Value = serde_json::from_str(&output.stdout)?;
    let id = document["goal_id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!id.is_empty(), "no goal id: {output}");
    let dir = repo.join(".omk/goals").join(&id);
    Ok(Goal { repo, id, log: dir.join("events.jsonl"), proof: dir.join("proof.json") })
}

/// Removes the log's lines from the last event of `kind` on; returns how many were removed.
fn cut_from_last(log: &Path, kind: &str) -> anyhow::Result<usize> {
    let text = fs::read_to_string(log)?;
    let lines: Vec<&str> = text.lines().collect();
    let needle = format!("\"kind\":\"{kind}\"");
    let at = lines.iter().rposition(|it| it.contains(&needle));
    let at = at.ok_or_else(|| anyhow::anyhow!("no {kind} in the log"))?;
    keep_first(log, at)?;
    Ok(lines.len() - at)
}

/// Keeps the first `n` lines of the log.
fn keep_first(log: &Path, n: usize) -> anyhow::Result<()> {
    let text = fs::read_to_string(log)?;
    let kept: String = text.lines().take(n).map(|it| format!("{it}\n")).collect();
    fs::write(log, kept)?;
    Ok(())
}

/// Does what an agent with write access to `.omk/` does after cutting the log: writes the fold
/// of what remains over `proof.json`, and checks that omk's own rebuild agrees it is the fold,
/// so only the anchors can tell.
fn rewrite_proof(env: &TestEnv, goal: &Goal) -> anyhow::Result<()> {
    let shown = env.omk(&goal.repo, &["proof", "show", "--json"])?;
    let fold = shown.stdout.replacen("\n  \"schema_version\": 1,", "", 1);
    fs::write(&goal.proof, fold)?;
    let rebuilt = env.omk(&goal.repo, &["proof", "rebuild"])?;
    anyhow::ensure!(rebuilt.code == Some(0), "the rewritten proof is not the fold: {rebuilt}");
    Ok(())
}

/// Runs `omk proof verify` and returns its output and its JSON document, validated.
fn verify(env: &TestEnv, goal: &Goal) -> anyhow::Result<(Output, Value)> {
    let output = env.omk(&goal.repo, &["proof", "verify"])?;
    let json = env.omk(&goal.repo, &["proof", "verify", "--json"])?;
    let document: Value = serde_json::from_str(&json.stdout)?;
    crate::schemas::check_shape(&document, "proof-verify")?;
    anyhow::ensure!(json.code == output.code, "{json}\n{output}");
    Ok((output, document))
}

/// Returns the status of the check named `name` in a `proof verify --json` document.
fn status_of<'a>(document: &'a Value, name: &str) -> Option<&'a str> {
    let checks = document["checks"].as_array()?;
    checks.iter().find(|it| it["name"] == name).and_then(|it| it["status"].as_str())
}

#[test]
fn an_intact_log_verifies_and_lists_its_anchors_and_a_deleted_one_is_reported_missing()
-> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let goal = run_goal(&env)?;
    let accepted = env.omk(&goal.repo, &["accept", &goal.id])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    let (output, document) = verify(&env, &goal)?;
    assert_eq!(output.code, Some(0), "{output}");
    // The run's end and the acceptance each anchored the log, and the merge commit's note
    // records the same digest.
    let anchors = format!("ok      anchor {}: ", goal.anchor_ref());
    assert!(output.stdout.contains(&anchors), "{output}");
    assert!(output.stdout.contains(" anchors match the log; the latest: "), "{output}");
    assert!(output.stdout.contains("ok      anchor refs/notes/omk on "), "{output}");
    assert!(output.stdout.contains(": verified ("), "{output}");
    assert_eq!(status_of(&document, &format!("anchor {}", goal.anchor_ref())), Some("passed"));
    let blob = env.git(&goal.repo, &["cat-file", "-p", &goal.anchor_ref()])?;
    assert!(blob.starts_with("omk-log-anchors 1\n"), "{blob}");
    assert!(blob.lines().count() >= 3, "the run's end and the acceptance: {blob}");
    // Anchors are not branches: the user's checkout, its status and `git log --all` are as
    // without them, and `omk worktree gc` leaves them.
    assert_eq!(env.git(&goal.repo, &["status", "--porcelain"])?, "");
    let gc = env.omk(&goal.repo, &["worktree", "gc"])?;
    assert_eq!(gc.code, Some(0), "{gc}");
    assert_eq!(env.git(&goal.repo, &["cat-file", "-p", &goal.anchor_ref()])?, blob);

    // A deleted anchor reference is a warning that says what is not vouched for.
    env.git(&goal.repo, &["update-ref", "-d", &goal.anchor_ref()])?;
    let (output, document) = verify(&env, &goal)?;
    assert_eq!(output.code, Some(0), "{output}");
    let missing = format!("warning anchor {}: missing: ", goal.anchor_ref());
    assert!(output.stdout.contains(&missing), "{output}");
    assert!(output.stdout.contains(": verified with warnings ("), "{output}");
    assert_eq!(status_of(&document, &format!("anchor {}", goal.anchor_ref())), Some("warning"));
    Ok(())
}

#[test]
fn a_log_cut_before_its_final_rejection_fails_verification_naming_the_anchor() -> anyhow::Result<()>
{
    let env = TestEnv::new()?;
    let goal = run_goal(&env)?;
    let rejected = env.omk(&goal.repo, &["reject", &goal.id, "--reason", "keep the old add"])?;
    assert_eq!(rejected.code, Some(0), "{rejected}");
    let (output, _) = verify(&env, &goal)?;
    assert_eq!(output.code, Some(0), "{output}");
    let before: Value = serde_json::from_str(&fs::read_to_string(&goal.proof)?)?;
    assert_eq!(before["integration"]["decision"], "rejected", "{before}");

    // The attack: drop the final change_rejected, write the fold of the rest over proof.json.
    let removed = cut_from_last(&goal.log, "change_rejected")?;
    rewrite_proof(&env, &goal)?;
    let after: Value = serde_json::from_str(&fs::read_to_string(&goal.proof)?)?;
    assert_eq!(after["integration"], Value::Null, "the rejection is gone from the proof");
    let (output, document) = verify(&env, &goal)?;
    assert_eq!(output.code, Some(1), "{output}");
    let failed =
        format!("FAILED  anchor {}: anchor 2 of 2 (written when the proof was ", goal.anchor_ref());
    assert!(output.stdout.contains(&failed), "{output}");
    assert!(output.stdout.contains(&format!("its last {removed} event(s)")), "{output}");
    assert!(output.stdout.contains("NOT verified (1 of"), "{output}");
    assert_eq!(status_of(&document, &format!("anchor {}", goal.anchor_ref())), Some("failed"));
    assert_eq!(document["verified"], false);

    // A forger who cuts the log and appends events of their own, hash chain and all, up to
    // the anchored count, still disagrees with the anchored head.
    let log = goal.log.clone();
    {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().unwrap_or_default();
        let (mut forged, _) = EventLog::open(&log, at)?;
        for _ in 0..removed {
            forged.append(at, Event::GoalPaused(GoalPaused { reason: "forged".to_owned() }))?;
        }
    }
    rewrite_proof(&env, &goal)?;
    let (output, _) = verify(&env, &goal)?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains("the log was rewritten"), "{output}");
    assert!(
        output.stdout.contains(&format!("FAILED  anchor {}: anchor 2 of 2", goal.anchor_ref())),
        "{output}"
    );
    Ok(())
}

#[test]
fn a_log_cut_before_the_runs_end_anchor_fails_verification() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let goal = run_goal(&env)?;
    // Only the run's end anchored the log; cut it back to before its gates ran.
    let removed = cut_from_last(&goal.log, "gate_started")?;
    rewrite_proof(&env, &goal)?;
    let (output, _) = verify(&env, &goal)?;
    assert_eq!(output.code, Some(1), "{output}");
    let failed = format!(
        "FAILED  anchor {}: anchor 1 of 1 (written when the proof was not_ready, at ",
        goal.anchor_ref()
    );
    assert!(output.stdout.contains(&failed), "{output}");
    assert!(
        output.stdout.contains(&format!("its last {removed} event(s) were removed")),
        "{output}"
    );
    Ok(())
}

#[test]
fn a_signed_bundle_fails_over_a_log_cut_after_it_or_before_it_was_signed() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let goal = run_goal(&env)?;
    let keys = env.root().join("keys");
    let private = keys.join("signing").display().to_string();
    let public = keys.join("signing.pub").display().to_string();
    let generated = env.omk(&goal.repo, &["key", "generate", &private])?;
    assert_eq!(generated.code, Some(0), "{generated}");
    let export = |out: &str| -> anyhow::Result<()> {
        let args = ["proof", "export", "--format", "in-toto", "--sign-key", &private, "--out", out];
        let output = env.omk(&goal.repo, &args)?;
        anyhow::ensure!(output.code == Some(0), "{output}");
        Ok(())
    };
    let verify_bundle = |bundle: &str| {
        env.omk(&goal.repo, &["proof", "verify", "--bundle", bundle, "--key", &public])
    };
    let whole = env.root().join("whole.intoto.jsonl").display().to_string();
    export(&whole)?;
    let output = verify_bundle(&whole)?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(output.stdout.contains("ok      log: the bundle's verdict records "), "{output}");
    let anchors = format!("ok      anchor {}: ", goal.anchor_ref());
    assert!(output.stdout.contains(&anchors), "{output}");

    // Cut after signing: the bundle's digest names events the log no longer has.
    let removed = cut_from_last(&goal.log, "review_finished")?;
    rewrite_proof(&env, &goal)?;
    let output = verify_bundle(&whole)?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains("FAILED  log: the bundle's verdict records "), "{output}");
    assert!(
        output.stdout.contains(&format!("its last {removed} event(s) were removed")),
        "{output}"
    );

    // Signed after the cut, by someone holding the key: the bundle agrees with the log, but
    // the log disagrees with its anchor.
    let cut = env.root().join("cut.intoto.jsonl").display().to_string();
    export(&cut)?;
    let output = verify_bundle(&cut)?;
    assert_eq!(output.code, Some(1), "{output}");
    assert!(output.stdout.contains("ok      log: the bundle's verdict records "), "{output}");
    let failed = format!("FAILED  anchor {}: anchor 1 of 1", goal.anchor_ref());
    assert!(output.stdout.contains(&failed), "{output}");
    Ok(())
}
