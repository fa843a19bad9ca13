//! Goals another machine proved (issue 26.2), end to end: three clones of one bare remote, each
//! with its own `HOME` and signing key, run goals at the same time; their evidence travels in
//! git, by `omk run --push --sign-key` and `omk fetch`, or by hand exactly as `docs/remote.md`
//! describes it (the goal's branch, its anchors, and the goal directory with `origin.json`); a
//! fourth clone, which trusts their keys in `[trust]`, verifies and accepts them in order.
//! Tampered evidence is refused with a message naming it.

use std::{
    fs,
    path::{Path, PathBuf},
};

use chrono::{TimeZone, Utc};
use omk_events::{Actor, ChangeAccepted, Event, EventLog, GoalPaused};
use serde_json::Value;

use crate::{TEST_SH, TestEnv, env::Output, schemas::COUNTED_TEST_GATE};

/// `add` that already adds, so the test gate passes on the base and every goal is docs.
const LIB_FIXED: &str = "add() { echo $(($1 + $2)); }\n";

/// A machine: its clone of the remote and its own home, with its signing key.
struct Machine {
    name: &'static str,
    repo: PathBuf,
    home: PathBuf,
    keyid: String,
}

impl Machine {
    fn key(&self) -> PathBuf {
        self.home.join("signing")
    }

    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HOME", self.home.display().to_string()),
            ("XDG_CONFIG_HOME", self.home.join(".config").display().to_string()),
            ("USER", self.name.to_owned()),
            ("OMK_HOST", self.name.to_owned()),
        ]
    }

    fn omk(&self, env: &TestEnv, args: &[&str]) -> anyhow::Result<Output> {
        let vars = self.vars();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.omk_with(&self.repo, args, &vars)
    }
}

/// A docs scenario that writes `path`.
fn write_scenario(path: &str, content: &str) -> String {
    format!(
        "text: Writing {path}.\ntool_call: {{\"id\": \"tc-1\", \"name\": \"WriteFile\", \"arguments\": \"{{\\\"path\\\": \\\"{path}\\\", \\\"content\\\": \\\"{content}\\\\n\\\"}}\"}}\n---\ntext: Wrote {path}.\n"
    )
}

/// Makes a machine's home and key (its public key goes into the base commit).
fn machine(env: &TestEnv, name: &'static str) -> anyhow::Result<Machine> {
    let home = env.root().join(format!("home-{name}"));
    fs::create_dir_all(&home)?;
    let keyid = generate_key(env, &home.join("signing"))?;
    Ok(Machine { name, repo: env.root().join(name), home, keyid })
}

fn omk_pub(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Generates a key pair at `key` with `omk key generate` and returns its key id.
fn generate_key(env: &TestEnv, key: &Path) -> anyhow::Result<String> {
    let generated =
        env.omk(env.root(), &["key", "generate", &key.display().to_string(), "--json"])?;
    anyhow::ensure!(generated.code == Some(0), "{generated}");
    let document: Value = serde_json::from_str(&generated.stdout)?;
    Ok(document["keyid"].as_str().unwrap_or_default().to_owned())
}

/// What `omk push` and `omk fetch` move, done by hand as `docs/proof.md` describes it: the
/// branch and anchors through git, the goal directory (log, proof, bundle, artifacts) with
/// `origin.json`.
fn carry(env: &TestEnv, from: &Machine, goal: &str, to: &Machine) -> anyhow::Result<()> {
    let refs = [format!("refs/heads/omk/{goal}"), format!("refs/omk/anchors/{goal}")];
    let specs: Vec<String> = refs.iter().map(|it| format!("{it}:{it}")).collect();
    let mut push = vec!["push", "--quiet", "origin"];
    push.extend(specs.iter().map(String::as_str));
    env.git(&from.repo, &push)?;
    let mut fetch = vec!["fetch", "--quiet", "origin"];
    fetch.extend(specs.iter().map(String::as_str));
    env.git(&to.repo, &fetch)?;
    let source = from.repo.join(".omk/goals").join(goal);
    let target = to.repo.join(".omk/goals").join(goal);
    fs::create_dir_all(&target)?;
    for file in ["events.jsonl", "proof.json", "proof.intoto.jsonl"] {
        if source.join(file).exists() {
            fs::copy(source.join(file), target.join(file))?;
        }
    }
    copy_dir(&source.join("artifacts"), &target.join("artifacts"))?;
    let proof: Value = serde_json::from_str(&fs::read_to_string(source.join("proof.json"))?)?;
    let origin = serde_json::json!({
        "format": 1,
        "goal": goal,
        "host": from.name,
        "user": from.name,
        "pushed_at": "2026-11-21T20:05:00Z",
        "omk_version": "0.1.0",
        "readiness": proof["readiness"],
        "remote": "origin",
    });
    fs::write(target.join("origin.json"), serde_json::to_string_pretty(&origin)?)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Asserts that `omk proof verify GOAL` and `omk accept GOAL` both refuse, naming `expected`.
fn assert_refused(env: &TestEnv, at: &Machine, goal: &str, expected: &str) -> anyhow::Result<()> {
    let verify = at.omk(env, &["proof", "verify", goal])?;
    assert_eq!(verify.code, Some(1), "{verify}");
    assert!(
        verify.stdout.contains(&format!("FAILED  {expected}")),
        "expected {expected:?}:\n{verify}"
    );
    assert!(verify.stdout.contains("NOT verified"), "{verify}");
    let accept = at.omk(env, &["accept", goal])?;
    assert_eq!(accept.code, Some(1), "{accept}");
    assert!(
        accept.stderr.contains("its evidence does not verify, so nothing was merged"),
        "{accept}"
    );
    assert!(accept.stderr.contains(expected), "expected {expected:?}:\n{accept}");
    Ok(())
}

/// How the evidence travels from the machines that ran the goals to the one that merges them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// `omk run --push --sign-key`, then `omk fetch`.
    Omk,
    /// By hand, as the format says: git for the refs, a copy of the goal directory.
    ByHand,
}

#[test]
fn three_machines_run_and_push_goals_and_a_fourth_fetches_verifies_and_accepts_them_in_order()
-> anyhow::Result<()> {
    prove_verify_accept(Transport::Omk)
}

#[test]
fn evidence_carried_by_hand_in_the_documented_format_verifies_and_is_accepted_alike()
-> anyhow::Result<()> {
    prove_verify_accept(Transport::ByHand)
}

/// Three machines run goals at once and their evidence travels by `transport`; a fourth
/// verifies them, refuses every tampering, and accepts them in order.
fn prove_verify_accept(transport: Transport) -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let workers = [machine(&env, "alice")?, machine(&env, "bob")?, machine(&env, "ci")?];
    let verifier = machine(&env, "dana")?;
    // The base: a passing test gate, and [trust] listing the three workers' public keys.
    let mut files: Vec<(String, String)> = vec![
        ("lib.sh".to_owned(), LIB_FIXED.to_owned()),
        ("test.sh".to_owned(), TEST_SH.to_owned()),
        (
            "omk.toml".to_owned(),
            format!(
                "{COUNTED_TEST_GATE}\n[trust]\nkeys = [\"keys/alice.pub\", \"keys/bob.pub\", \"keys/ci.pub\"]\n"
            ),
        ),
    ];
    for worker in &workers {
        files.push((
            format!("keys/{}.pub", worker.name),
            fs::read_to_string(omk_pub(&worker.key()))?,
        ));
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let seed = env.repo("seed", &borrowed)?;
    let remote = env.root().join("remote.git");
    env.git(
        env.root(),
        &["clone", "--quiet", "--bare", &seed.display().to_string(), &remote.display().to_string()],
    )?;
    for machine in workers.iter().chain([&verifier]) {
        env.git(
            env.root(),
            &[
                "clone",
                "--quiet",
                &remote.display().to_string(),
                &machine.repo.display().to_string(),
            ],
        )?;
    }

    // Three machines run their goals at the same time, each its own process and home.
    let jobs = [
        ("update the README install section", "README.md", "install with cargo"),
        ("update the changelog", "CHANGELOG.md", "first release"),
        ("write docs for add in docs/add.md", "docs/add.md", "add adds two numbers"),
    ];
    let mut children = Vec::new();
    for (worker, (prompt, path, content)) in workers.iter().zip(jobs) {
        let scenario =
            env.write(&format!("{}.scenario", worker.name), &write_scenario(path, content))?;
        let agent = format!("script:{}", scenario.display());
        let vars = worker.vars();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let key = worker.key().display().to_string();
        let mut args = vec!["run", prompt, "--agent", &agent, "--json"];
        if transport == Transport::Omk {
            args.extend(["--push", "--sign-key", &key]);
        }
        children.push(env.spawn_omk_with(&worker.repo, &args, &vars)?);
    }
    let mut goals = Vec::new();
    for child in children {
        let output = child.wait_with_output()?;
        let stdout = String::from_utf8(output.stdout)?;
        let document: Value = serde_json::from_str(&stdout).map_err(|err| {
            anyhow::anyhow!("{err}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr))
        })?;
        assert_eq!(document["proof"]["readiness"], "awaiting_acceptance", "{stdout}");
        goals.push(document["goal_id"].as_str().unwrap_or_default().to_owned());
    }
    for (worker, goal) in workers.iter().zip(&goals) {
        if transport == Transport::ByHand {
            let key = worker.key().display().to_string();
            let export = worker
                .omk(&env, &["proof", "export", goal, "--format", "in-toto", "--sign-key", &key])?;
            assert_eq!(export.code, Some(0), "{export}");
        }
        // The worker's own goal, with [trust] listing its key: the signature is checked too.
        let local = worker.omk(&env, &["proof", "verify", goal])?;
        assert_eq!(local.code, Some(0), "{local}");
        assert!(
            local.stdout.contains(&format!(
                "ok      signature: the bundle's verdict is signed by key {}",
                worker.keyid
            )),
            "{local}"
        );
        if transport == Transport::ByHand {
            carry(&env, worker, goal, &verifier)?;
        }
    }
    if transport == Transport::Omk {
        let fetched = verifier.omk(&env, &["fetch"])?;
        assert_eq!(fetched.code, Some(0), "{fetched}");
    }

    let first = &goals[0];
    let verified = verifier.omk(&env, &["proof", "verify", first])?;
    assert_eq!(verified.code, Some(0), "{verified}");
    let alice = &workers[0].keyid;
    assert!(verified.stdout.contains(&format!("ok      signature: the bundle's verdict is signed by key {alice} (keys/alice.pub), which [trust] keys lists")), "{verified}");
    assert!(
        verified.stdout.contains("ok      bundle log: the bundle's verdict records"),
        "{verified}"
    );
    assert!(
        verified.stdout.contains("ok      bundle subject: the verdict is about commit"),
        "{verified}"
    );
    assert!(
        verified.stdout.contains(&format!("ok      tree: branch omk/{first} is at commit")),
        "{verified}"
    );
    // The HTML report checks the bundle against [trust] as verify does.
    let html = verifier.omk(&env, &["proof", "export", first, "--format", "html"])?;
    assert_eq!(html.code, Some(0), "{html}");
    let page =
        fs::read_to_string(verifier.repo.join(".omk/goals").join(first).join("report.html"))?;
    assert!(
        page.contains(&format!("signed by key {alice} (keys/alice.pub), which [trust] keys lists")),
        "the report's signature check"
    );
    // The gates again, here, on the recorded tree: the goal has no worktree in this clone.
    assert!(!verifier.repo.join(".omk/worktrees").join(first).exists());
    let rerun = verifier.omk(&env, &["proof", "verify", first, "--rerun"])?;
    assert_eq!(rerun.code, Some(0), "{rerun}");
    assert!(rerun.stdout.contains("ok      rerun test: "), "{rerun}");

    tampering_is_refused(&env, &verifier, &goals)?;

    // Accepted in order: the first fast-forwards main, the others merge the moved base in, in
    // a worktree made here, and run the gates again on the merged tree.
    for goal in &goals {
        let accepted = verifier.omk(&env, &["accept", goal])?;
        assert_eq!(accepted.code, Some(0), "{accepted}");
        let proof = crate::proof(&verifier.repo, goal)?;
        assert_eq!(proof["status"], "ready", "{proof:#}");
        assert_eq!(proof["integration"]["decision"], "accepted", "{proof:#}");
    }
    // The second goal's base had moved: its worktree was made here and recorded, main merged
    // into its branch there, and its gate ran again on the merged tree.
    let log =
        fs::read_to_string(verifier.repo.join(".omk/goals").join(&goals[1]).join("events.jsonl"))?;
    let events: Vec<Value> = log.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    let made: Vec<&Value> =
        events.iter().filter(|it| it["event"]["kind"] == "worktree_created").collect();
    assert_eq!(made.len(), 2, "the run's worktree on bob's machine, then one here");
    let here = verifier.repo.join(".omk/worktrees").join(&goals[1]);
    assert_eq!(
        made[0]["event"]["path"],
        workers[1].repo.join(".omk/worktrees").join(&goals[1]).display().to_string()
    );
    assert_eq!(made[1]["event"]["path"], here.display().to_string());
    assert!(
        events.iter().any(|it| it["event"]["kind"] == "changes_committed"
            && it["event"]["merged_base"].is_string())
    );
    let proposed = events
        .iter()
        .filter(|it| it["event"]["kind"] == "gate_finished" && it["event"]["phase"] == "proposed")
        .count();
    assert_eq!(proposed, 2, "the gate ran on bob's machine, then here on the merged tree");
    let tree = env.git(&verifier.repo, &["ls-tree", "-r", "--name-only", "main"])?;
    for (_, path, _) in jobs {
        assert!(tree.lines().any(|it| it == path), "{path} merged: {tree}");
    }
    assert_eq!(env.git(&verifier.repo, &["status", "--porcelain"])?, "");
    // After the acceptance the log is longer than the bundle signed; it still verifies.
    let after = verifier.omk(&env, &["proof", "verify", &goals[1]])?;
    assert_eq!(after.code, Some(0), "{after}");
    assert!(after.stdout.contains("warning bundle log: "), "{after}");
    assert!(after.stdout.contains("ok      bundle subject: "), "{after}");
    // Resuming a goal that ran elsewhere is refused (push's rule): its log is that machine's.
    let resume = verifier.omk(&env, &["resume", &goals[2]])?;
    assert_eq!(resume.code, Some(2), "{resume}");
    assert!(
        resume.stderr.contains(&format!(
            "resume goal {}: it was fetched from a remote (it ran on ci)",
            goals[2]
        )),
        "{resume}"
    );
    // A goal that ran here, with a bundle and [trust] keys, is held to them too: bob's key is
    // listed, a key of alice's that is not fails, naming it.
    let alice = &workers[0];
    for (key, verified) in [(workers[1].key(), true), (env.root().join("alice-other"), false)] {
        let keyid = if verified { workers[1].keyid.clone() } else { generate_key(&env, &key)? };
        let key = key.display().to_string();
        let args = ["proof", "export", &goals[0], "--format", "in-toto", "--sign-key", &key];
        assert_eq!(alice.omk(&env, &args)?.code, Some(0));
        let verify = alice.omk(&env, &["proof", "verify", &goals[0]])?;
        let expected = if verified {
            format!(
                "ok      signature: the bundle's verdict is signed by key {keyid} (keys/bob.pub)"
            )
        } else {
            format!("FAILED  signature: the bundle is signed by key {keyid}, which [trust] keys")
        };
        assert!(verify.stdout.contains(&expected), "{expected:?}:\n{verify}");
        assert_eq!(verify.code, Some(if verified { 0 } else { 1 }), "{verify}");
    }
    Ok(())
}

/// Each way of tampering with the first goal's evidence, undone after: verify and accept both
/// refuse, naming it.
fn tampering_is_refused(env: &TestEnv, at: &Machine, goals: &[String]) -> anyhow::Result<()> {
    let goal = &goals[0];
    let dir = at.repo.join(".omk/goals").join(goal);
    let log = dir.join("events.jsonl");
    let bundle = dir.join("proof.intoto.jsonl");

    // Evidence that does not verify runs nothing here: the rerun is skipped.
    let branch = format!("refs/heads/omk/{goal}");
    let tip = env.git(&at.repo, &["rev-parse", &branch])?.trim().to_owned();
    env.git(&at.repo, &["update-ref", &branch, "main"])?;
    let rerun = at.omk(env, &["proof", "verify", goal, "--rerun"])?;
    assert_eq!(rerun.code, Some(1), "{rerun}");
    assert!(
        rerun.stdout.contains("skipped rerun: the fetched goal's evidence does not verify, so the commands its log names are not run here"),
        "{rerun}"
    );
    env.git(&at.repo, &["update-ref", &branch, &tip])?;

    // A changed log line.
    let original = fs::read_to_string(&log)?;
    fs::write(&log, original.replacen("\"path\":\"README.md\"", "\"path\":\"READMY.md\"", 1))?;
    assert_refused(env, at, goal, "log: event ")?;
    fs::write(&log, &original)?;

    // A swapped proof: another goal's log and proof (each valid, the proof its log's fold)
    // under this goal's signed bundle.
    let other = at.repo.join(".omk/goals").join(&goals[1]);
    let proof_file = dir.join("proof.json");
    let proof = fs::read(&proof_file)?;
    fs::copy(other.join("events.jsonl"), &log)?;
    fs::copy(other.join("proof.json"), &proof_file)?;
    assert_refused(env, at, goal, "bundle log: the bundle's verdict records event ")?;
    fs::write(&log, &original)?;
    fs::write(&proof_file, &proof)?;

    // A forged tail: an event appended after the signed ones, chained and folded into
    // proof.json as omk would, with no decision recorded here.
    {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().unwrap_or_default();
        let (mut forged, _) = EventLog::open(&log, at)?;
        forged.append(at, Event::GoalPaused(GoalPaused { reason: "forged".to_owned() }))?;
    }
    let shown = at.omk(env, &["proof", "show", goal, "--json"])?;
    fs::write(&proof_file, shown.stdout.replacen("\n  \"schema_version\": 1,", "", 1))?;
    let rebuilt = at.omk(env, &["proof", "rebuild", goal])?;
    assert_eq!(rebuilt.code, Some(0), "the forged proof is the fold of the forged log: {rebuilt}");
    assert_refused(env, at, goal, "bundle log: the bundle's verdict records ")?;
    let verify = at.omk(env, &["proof", "verify", goal])?;
    assert!(verify.stdout.contains("the log has 1 more, and no acceptance or rejection was recorded here: they were added after the bundle was signed"), "{verify}");
    fs::write(&log, &original)?;
    fs::write(&proof_file, &proof)?;

    // A forged tail that came with the evidence and records an acceptance: not a decision made
    // here, since the log already had it when it was fetched (origin.json's count, which
    // `omk fetch` writes from the log it fetched).
    let origin_file = dir.join("origin.json");
    let origin = fs::read(&origin_file)?;
    {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().unwrap_or_default();
        let (mut forged, _) = EventLog::open(&log, at)?;
        let accepted = ChangeAccepted {
            tree_id: "forged".to_owned(),
            by: Actor::Person { name: "mallory".to_owned() },
            reason: None,
            merge_commit: None,
        };
        forged.append(at, Event::ChangeAccepted(accepted))?;
    }
    let shown = at.omk(env, &["proof", "show", goal, "--json"])?;
    fs::write(&proof_file, shown.stdout.replacen("\n  \"schema_version\": 1,", "", 1))?;
    let events = fs::read_to_string(&log)?.lines().count();
    let mut fetched: Value = serde_json::from_slice(&origin)?;
    fetched["fetched_events"] = Value::from(events);
    fs::write(&origin_file, serde_json::to_vec_pretty(&fetched)?)?;
    assert_refused(env, at, goal, "bundle log: the bundle's verdict records ")?;
    let verify = at.omk(env, &["proof", "verify", goal])?;
    assert!(verify.stdout.contains("the log came with 1 more when it was fetched: they were added after the bundle was signed"), "{verify}");
    fs::write(&log, &original)?;
    fs::write(&proof_file, &proof)?;
    fs::write(&origin_file, &origin)?;

    // A swapped bundle: another goal's, signed by a trusted key, is not this goal's.
    let signed = fs::read(&bundle)?;
    fs::copy(other.join("proof.intoto.jsonl"), &bundle)?;
    assert_refused(
        env,
        at,
        goal,
        &format!("bundle log: the bundle is about goal {}, not goal {goal}", goals[1]),
    )?;
    assert_refused(env, at, goal, "bundle subject: the verdict is about commit ")?;
    fs::write(&bundle, &signed)?;

    // The branch moved after the proof.
    env.git(&at.repo, &["update-ref", &branch, "main"])?;
    assert_refused(env, at, goal, &format!("tree: branch omk/{goal} is at commit "))?;
    env.git(&at.repo, &["update-ref", &branch, &tip])?;

    // Signed by a key [trust] does not list.
    let rogue = env.root().join("rogue");
    let rogue_id = generate_key(env, &rogue)?;
    let export = at.omk(
        env,
        &[
            "proof",
            "export",
            goal,
            "--format",
            "in-toto",
            "--sign-key",
            &rogue.display().to_string(),
        ],
    )?;
    assert_eq!(export.code, Some(0), "{export}");
    assert_refused(
        env,
        at,
        goal,
        &format!(
            "signature: the bundle is signed by key {rogue_id}, which [trust] keys in omk.toml does not list"
        ),
    )?;

    // No bundle at all, while [trust] requires a signature.
    fs::remove_file(&bundle)?;
    assert_refused(
        env,
        at,
        goal,
        "signature: the goal has no signed bundle (proof.intoto.jsonl): [trust] in omk.toml requires a signed bundle",
    )?;
    fs::write(&bundle, &signed)?;

    // A key file [trust] lists that is missing, or not a key: an error naming it and the fix.
    let config = at.repo.join("omk.toml");
    let text = fs::read_to_string(&config)?;
    for (listed, problem) in
        [("keys/gone.pub", "no such file"), ("lib.sh", "it is not an Ed25519 public key")]
    {
        fs::write(
            &config,
            text.replace("\"keys/ci.pub\"", &format!("\"keys/ci.pub\", \"{listed}\"")),
        )?;
        let verify = at.omk(env, &["proof", "verify", goal])?;
        assert_eq!(verify.code, Some(2), "{verify}");
        assert!(
            verify.stderr.contains(&format!(
                "error: load the key {listed} that [trust] keys in omk.toml lists"
            )),
            "{verify}"
        );
        assert!(verify.stderr.contains(problem), "{verify}");
    }
    fs::write(&config, &text)?;
    let verify = at.omk(env, &["proof", "verify", goal])?;
    assert_eq!(verify.code, Some(0), "restored: {verify}");
    Ok(())
}

#[test]
fn a_change_to_a_trusted_key_file_changes_the_gate_surface() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let key = env.root().join("signing");
    generate_key(&env, &key)?;
    let config = format!("{COUNTED_TEST_GATE}\n[trust]\nkeys = [\"./keys/ci.pub\"]\n");
    let repo = env.repo(
        "repo",
        &[
            ("lib.sh", LIB_FIXED),
            ("test.sh", TEST_SH),
            ("omk.toml", &config),
            ("keys/ci.pub", &fs::read_to_string(omk_pub(&key))?),
        ],
    )?;
    // The agent swaps the trusted key for its own: whose proofs are merged would change.
    let scenario = env.write("swap.scenario", &write_scenario("keys/ci.pub", "not the key"))?;
    let agent = format!("script:{}", scenario.display());
    let (_, proof) =
        env.omk_goal_proof(&repo, &["run", "update the README", "--agent", &agent, "--json"])?;
    assert!(crate::gap_kinds(&proof).contains(&"gate_surface_changed".to_owned()), "{proof:#}");
    assert_eq!(proof["gate_surface"]["changed_paths"], serde_json::json!(["keys/ci.pub"]));
    Ok(())
}
