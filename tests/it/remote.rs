//! Goals on several machines: clones of one bare remote run goals at the same time (separate
//! `omk` processes and `HOME`s), push their evidence with `omk run --push`, and another clone
//! fetches, lists and shows them; refusals (another history of a goal id, a changed artifact)
//! and fetches that are killed or fail, on real git.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv, env::Output};

/// A bare remote and its clones, each a machine with its own `HOME` and host name.
struct Machines {
    env: TestEnv,
    remote: PathBuf,
    fix: PathBuf,
}

/// One clone: its checkout and the environment its omk runs with.
struct Machine {
    repo: PathBuf,
    vars: Vec<(String, String)>,
}

impl Machines {
    fn new() -> anyhow::Result<Self> {
        let env = TestEnv::new()?;
        let seed =
            env.repo("seed", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
        let remote = env.root().join("remote.git");
        env.git(env.root(), &["init", "--quiet", "--bare", "--initial-branch=main", "remote.git"])?;
        env.git(&seed, &["push", "--quiet", remote.to_str().unwrap_or_default(), "main"])?;
        let fix = env.write("fix.scenario", FIX_ADD)?;
        Ok(Self { env, remote, fix })
    }

    /// Clones the remote as machine `name`, at `now`.
    fn machine(&self, name: &str, now: &str) -> anyhow::Result<Machine> {
        let root = self.env.root();
        let repo = root.join(name);
        self.env
            .git(root, &["clone", "--quiet", self.remote.to_str().unwrap_or_default(), name])?;
        let home = root.join(format!("home-{name}"));
        fs::create_dir_all(&home)?;
        let vars = vec![
            ("HOME".to_owned(), home.display().to_string()),
            ("XDG_CONFIG_HOME".to_owned(), home.join(".config").display().to_string()),
            ("OMK_HOST".to_owned(), format!("{name}.example")),
            ("USER".to_owned(), format!("{name}-user")),
            ("OMK_NOW".to_owned(), now.to_owned()),
        ];
        Ok(Machine { repo, vars })
    }

    fn omk(&self, machine: &Machine, args: &[&str]) -> anyhow::Result<Output> {
        let vars: Vec<(&str, &str)> =
            machine.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.env.omk_with(&machine.repo, args, &vars)
    }

    fn agent(&self) -> String {
        format!("script:{}", self.fix.display())
    }

    /// Runs `prompt` on `machine` and returns the goal's id (without pushing).
    fn run(&self, machine: &Machine, prompt: &str) -> anyhow::Result<String> {
        let output = self.omk(machine, &["run", prompt, "--agent", &self.agent(), "--json"])?;
        anyhow::ensure!(output.code == Some(0), "{output}");
        goal_id(&output)
    }

    /// Returns the remote's references under `prefix`, name to object.
    fn remote_refs(&self, prefix: &str) -> anyhow::Result<BTreeMap<String, String>> {
        let out = self
            .env
            .git(&self.remote, &["for-each-ref", "--format=%(refname) %(objectname)", prefix])?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(name, id)| (name.to_owned(), id.to_owned()))
            .collect())
    }
}

fn goal_id(output: &Output) -> anyhow::Result<String> {
    let document: Value =
        serde_json::from_str(&output.stdout).map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    let id = document["goal_id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!id.is_empty(), "no goal id: {output}");
    Ok(id)
}

/// Returns every file under `dir`, by relative path, with its bytes.
fn files_under(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in fs::read_dir(&next)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir)?.display().to_string();
                files.insert(relative, fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

#[test]
fn three_machines_push_at_once_and_a_fourth_fetches_lists_and_shows_where_each_ran()
-> anyhow::Result<()> {
    let machines = Machines::new()?;
    let names = ["alpha", "beta", "gamma"];
    let clones = names
        .iter()
        .enumerate()
        .map(|(idx, name)| machines.machine(name, &format!("2026-11-21T20:0{idx}:00Z")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Three omk processes run and push at the same time, each in its own clone and HOME.
    let agent = machines.agent();
    let children = clones
        .iter()
        .zip(names)
        .map(|(machine, name)| {
            let vars: Vec<(&str, &str)> =
                machine.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let prompt = format!("fix add for {name}");
            let args = ["run", prompt.as_str(), "--agent", &agent, "--push", "--json"];
            machines.env.spawn_omk_with(&machine.repo, &args, &vars)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut ids = Vec::new();
    for child in children {
        let output = child.wait_with_output()?;
        let output = Output {
            stdout: String::from_utf8(output.stdout)?,
            stderr: String::from_utf8(output.stderr)?,
            code: output.status.code(),
        };
        // The verdict's exit code (awaiting acceptance: 0), and the push's report on stderr.
        assert_eq!(output.code, Some(0), "{output}");
        assert!(output.stderr.contains("pushed goal "), "{output}");
        ids.push(goal_id(&output)?);
    }
    let goals = machines.remote_refs("refs/omk/goals/")?;
    let branches = machines.remote_refs("refs/heads/omk/")?;
    let anchors = machines.remote_refs("refs/omk/anchors/")?;
    for id in &ids {
        assert!(goals.contains_key(&format!("refs/omk/goals/{id}")), "{goals:?}");
        assert!(branches.contains_key(&format!("refs/heads/omk/{id}")), "{branches:?}");
        assert!(anchors.contains_key(&format!("refs/omk/anchors/{id}")), "{anchors:?}");
    }
    // The evidence tree holds the log, the proof, origin.json and every artifact at its path.
    let tree = machines.env.git(
        &machines.remote,
        &["ls-tree", "-r", "--name-only", &format!("refs/omk/goals/{}", ids[0])],
    )?;
    for file in ["events.jsonl", "proof.json", "origin.json", "artifacts/agent/transcript.jsonl"] {
        assert!(tree.lines().any(|it| it == file), "{file} in {tree}");
    }

    let fourth = machines.machine("delta", "2026-11-21T21:00:00Z")?;
    let fetched = machines.omk(&fourth, &["fetch"])?;
    assert_eq!(fetched.code, Some(0), "{fetched}");
    assert!(fetched.stdout.starts_with("fetched 3 goals from origin: 3 added,"), "{fetched}");
    // The fetched goal is the run's, byte for byte, with where it ran beside it.
    for (id, machine) in ids.iter().zip(&clones) {
        let here = fourth.repo.join(".omk/goals").join(id);
        let there = machine.repo.join(".omk/goals").join(id);
        for file in ["events.jsonl", "proof.json", "artifacts/agent/transcript.jsonl"] {
            assert_eq!(fs::read(here.join(file))?, fs::read(there.join(file))?, "{id} {file}");
        }
        assert!(here.join("origin.json").is_file());
        assert!(!there.join("origin.json").exists(), "a goal that ran here has no origin");
        // Its branch and anchors are set here.
        let branch = machines.env.git(&fourth.repo, &["rev-parse", &format!("omk/{id}")])?;
        let theirs = machines.env.git(&machine.repo, &["rev-parse", &format!("omk/{id}")])?;
        assert_eq!(branch, theirs);
        machines.env.git(&fourth.repo, &["rev-parse", &format!("refs/omk/anchors/{id}")])?;
    }
    assert_eq!(machines.env.git(&fourth.repo, &["status", "--porcelain"])?, "");

    let list = machines.omk(&fourth, &["list"])?;
    assert_eq!(list.code, Some(0), "{list}");
    for (idx, name) in names.iter().enumerate() {
        let line = list.stdout.lines().find(|it| it.contains(&ids[idx]));
        let line = line.ok_or_else(|| anyhow::anyhow!("{} not listed: {list}", ids[idx]))?;
        assert!(
            line.contains(&format!("ran on {name}.example, pushed 2026-11-21 20:0{idx} UTC")),
            "{line}"
        );
    }
    let json = machines.omk(&fourth, &["list", "--json"])?;
    let document: Value = serde_json::from_str(&json.stdout)?;
    crate::schemas::check_shape(&document, "list")?;
    let hosts: Vec<&str> = document["goals"]
        .as_array()
        .map(|goals| goals.iter().filter_map(|it| it["origin"]["host"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(hosts, ["alpha.example", "beta.example", "gamma.example"]);
    let status = machines.omk(&fourth, &["status", &ids[1]])?;
    assert!(
        status.stdout.contains(
            "origin     ran on beta.example, pushed 2026-11-21 20:01 UTC as beta-user (fetched from origin, evidence "
        ),
        "{status}"
    );
    let status = machines.omk(&fourth, &["status", &ids[2], "--json"])?;
    let document: Value = serde_json::from_str(&status.stdout)?;
    crate::schemas::check_shape(&document, "status")?;
    assert_eq!(document["goal"]["origin"]["user"], "gamma-user");
    assert_eq!(
        document["goal"]["origin"]["evidence"],
        goals[&format!("refs/omk/goals/{}", ids[2])]
    );
    // A fetched goal's log is the other machine's evidence: nothing here appends to it.
    let log = fs::read(fourth.repo.join(".omk/goals").join(&ids[0]).join("events.jsonl"))?;
    for args in [
        vec!["resume", ids[0].as_str()],
        vec!["cancel", ids[0].as_str()],
        vec!["budget", "add", ids[0].as_str(), "--tokens", "5"],
    ] {
        let refused = machines.omk(&fourth, &args)?;
        assert_eq!(refused.code, Some(2), "{refused}");
        assert!(
            refused.stderr.contains(&format!(
                "goal {}: it was fetched from a remote (it ran on alpha.example)",
                ids[0]
            )),
            "{refused}"
        );
    }
    assert_eq!(fs::read(fourth.repo.join(".omk/goals").join(&ids[0]).join("events.jsonl"))?, log);
    // A goal that ran here has no origin.
    let own = machines.omk(&clones[0], &["status", &ids[0], "--json"])?;
    let document: Value = serde_json::from_str(&own.stdout)?;
    assert_eq!(document["goal"].get("origin"), None, "{own}");
    Ok(())
}

#[test]
fn a_second_push_fast_forwards_and_a_fetch_updates_the_fetched_goal() -> anyhow::Result<()> {
    let machines = Machines::new()?;
    let alpha = machines.machine("alpha", "2026-11-21T20:00:00Z")?;
    let id = machines.run(&alpha, "fix add")?;
    let first = machines.omk(&alpha, &["push", "--json"])?;
    assert_eq!(first.code, Some(0), "{first}");
    let first: Value = serde_json::from_str(&first.stdout)?;
    crate::schemas::check_shape(&first, "push")?;
    assert_eq!(first["previous"], Value::Null);
    let evidence = first["evidence"].as_str().unwrap_or_default().to_owned();
    // Nothing changed: the same evidence commit, not a new one.
    let again = machines.omk(&alpha, &["push"])?;
    assert_eq!(again.code, Some(0), "{again}");
    assert!(again.stdout.contains("unchanged since the last push"), "{again}");
    assert!(again.stdout.contains(&format!("refs/omk/goals/{id}")), "{again}");
    assert!(again.stdout.contains("[up to date]"), "{again}");

    // A signed bundle speaks for the proof it was exported for: pushed while it does.
    assert_eq!(machines.omk(&alpha, &["key", "generate"])?.code, Some(0));
    let export = ["proof", "export", "--format", "in-toto", "--sign-key", ".omk/keys/signing"];
    assert_eq!(machines.omk(&alpha, &export)?.code, Some(0));
    let signed = machines.omk(&alpha, &["push", "--json"])?;
    let signed: Value = serde_json::from_str(&signed.stdout)?;
    assert_eq!(signed["bundle"], "included", "{signed}");
    assert_eq!(signed["previous"], evidence.as_str());
    let evidence = signed["evidence"].as_str().unwrap_or_default().to_owned();
    let tree = machines.env.git(&machines.remote, &["ls-tree", "--name-only", &evidence])?;
    assert!(tree.lines().any(|it| it == "proof.intoto.jsonl"), "{tree}");

    let delta = machines.machine("delta", "2026-11-21T21:00:00Z")?;
    let fetched = machines.omk(&delta, &["fetch"])?;
    assert!(fetched.stdout.contains("1 added"), "{fetched}");
    assert!(delta.repo.join(".omk/goals").join(&id).join("proof.intoto.jsonl").is_file());

    // Another clone fetches it too, and records a decision of its own in the goal's log.
    let echo = machines.machine("echo", "2026-11-21T21:30:00Z")?;
    assert!(machines.omk(&echo, &["fetch"])?.stdout.contains("1 added"));
    let rejected = machines.omk(&echo, &["reject", &id, "--reason", "not this way"])?;
    assert_eq!(rejected.code, Some(0), "{rejected}");
    let echo_log = echo.repo.join(".omk/goals").join(&id).join("events.jsonl");
    let echo_log_bytes = fs::read(&echo_log)?;

    // The goal moves on (it is accepted): the next push follows the first, without force.
    let accepted = machines.omk(&alpha, &["accept", &id])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    // The bundle now speaks for an earlier log: it is left out, and --sign-key signs anew.
    let stale = machines.omk(&alpha, &["push", &id])?;
    assert_eq!(stale.code, Some(0), "{stale}");
    assert!(
        stale.stdout.contains(
            "signed bundle  left out: proof.intoto.jsonl was exported for an earlier log"
        ),
        "{stale}"
    );
    let stale_evidence =
        machines.env.git(&alpha.repo, &["rev-parse", &format!("refs/omk/goals/{id}")])?;
    let tree = machines.env.git(&alpha.repo, &["ls-tree", "--name-only", stale_evidence.trim()])?;
    assert!(!tree.lines().any(|it| it == "proof.intoto.jsonl"), "{tree}");
    let evidence = stale_evidence.trim().to_owned();
    let second =
        machines.omk(&alpha, &["push", &id, "--sign-key", ".omk/keys/signing", "--json"])?;
    assert_eq!(second.code, Some(0), "{second}");
    let second: Value = serde_json::from_str(&second.stdout)?;
    assert_eq!(second["bundle"], "included", "{second}");
    assert_eq!(second["previous"], evidence.as_str());
    let new = second["evidence"].as_str().unwrap_or_default();
    let parent = machines.env.git(&machines.remote, &["rev-parse", &format!("{new}^")])?;
    assert_eq!(parent.trim(), evidence);
    let summaries: Vec<&str> = second["refs"]
        .as_array()
        .map(|refs| refs.iter().filter_map(|it| it["summary"].as_str()).collect())
        .unwrap_or_default();
    let goal_summary = second["refs"]
        .as_array()
        .and_then(|refs| refs.iter().find(|it| it["name"] == format!("refs/omk/goals/{id}")))
        .and_then(|it| it["summary"].as_str())
        .unwrap_or_default();
    assert_eq!(goal_summary, format!("{}..{}", &evidence[..7], &new[..7]), "{summaries:?}");
    // The acceptance's note travels too.
    assert!(machines.remote_refs("refs/notes/")?.contains_key("refs/notes/omk"));

    let fetched = machines.omk(&delta, &["fetch"])?;
    assert!(fetched.stdout.contains("1 updated"), "{fetched}");
    // The acceptance's note comes along, where this clone had none.
    assert!(
        fetched.stdout.contains("acceptance notes  refs/notes/omk set from the remote's"),
        "{fetched}"
    );
    assert_eq!(
        machines.env.git(&delta.repo, &["rev-parse", "refs/notes/omk"])?,
        machines.env.git(&alpha.repo, &["rev-parse", "refs/notes/omk"])?
    );
    let proof = crate::proof(&delta.repo, &id)?;
    assert_eq!(proof["readiness"], "ready");
    let origin: Value = serde_json::from_slice(&fs::read(
        delta.repo.join(".omk/goals").join(&id).join("origin.json"),
    )?)?;
    assert_eq!(origin["evidence"], new);
    // The anchors moved forward with the goal.
    let anchors =
        machines.env.git(&delta.repo, &["cat-file", "-p", &format!("refs/omk/anchors/{id}")])?;
    let theirs =
        machines.env.git(&alpha.repo, &["cat-file", "-p", &format!("refs/omk/anchors/{id}")])?;
    assert_eq!(anchors, theirs);

    // The clone whose log has its own decision keeps it: the goal is left alone, not rewritten.
    let kept = machines.omk(&echo, &["fetch"])?;
    assert_eq!(kept.code, Some(0), "{kept}");
    assert!(kept.stdout.contains("its log here has events the remote's does not"), "{kept}");
    assert_eq!(fs::read(&echo_log)?, echo_log_bytes, "the rejection recorded here is not lost");
    Ok(())
}

#[test]
fn another_history_of_a_goal_id_is_refused_and_a_fetch_never_overwrites_a_goal_that_ran_here()
-> anyhow::Result<()> {
    let machines = Machines::new()?;
    // The same prompt at the same time on two machines: the same goal id, two runs.
    let alpha = machines.machine("alpha", "2026-11-21T20:00:00Z")?;
    let beta = machines.machine("beta", "2026-11-21T20:00:00Z")?;
    let id = machines.run(&alpha, "fix add")?;
    assert_eq!(machines.run(&beta, "fix add")?, id);
    let pushed = machines.omk(&alpha, &["push"])?;
    assert_eq!(pushed.code, Some(0), "{pushed}");
    let before = machines.remote_refs("refs/")?;

    let refused = machines.omk(&beta, &["push", &id])?;
    assert_eq!(refused.code, Some(6), "{refused}");
    assert!(
        refused.stderr.contains(&format!(
            "push goal {id} to origin: origin holds a different evidence history for this goal id"
        )),
        "{refused}"
    );
    assert!(refused.stderr.contains("run the prompt again for a new goal id"), "{refused}");
    let after = machines.remote_refs("refs/")?;
    for (name, value) in &before {
        assert_eq!(after.get(name), Some(value), "{name} did not move");
    }

    // Beta fetches alpha's goal of the same id: its own run stays as it was.
    let log = beta.repo.join(".omk/goals").join(&id).join("events.jsonl");
    let own = fs::read(&log)?;
    let branch = machines.env.git(&beta.repo, &["rev-parse", &format!("omk/{id}")])?;
    let fetched = machines.omk(&beta, &["fetch"])?;
    assert_eq!(fetched.code, Some(0), "{fetched}");
    assert!(fetched.stdout.contains(&format!("left alone {id}")), "{fetched}");
    assert!(fetched.stdout.contains("it ran in this clone"), "{fetched}");
    assert_eq!(fs::read(&log)?, own);
    assert!(!beta.repo.join(".omk/goals").join(&id).join("origin.json").exists());
    assert_eq!(machines.env.git(&beta.repo, &["rev-parse", &format!("omk/{id}")])?, branch);
    // What the remote holds is kept apart, under refs/omk/fetched/.
    let theirs = machines
        .env
        .git(&beta.repo, &["rev-parse", &format!("refs/omk/fetched/origin/goals/{id}")])?;
    assert_eq!(theirs.trim(), before[&format!("refs/omk/goals/{id}")]);
    Ok(())
}

#[test]
fn a_changed_artifact_refuses_the_push_naming_the_file() -> anyhow::Result<()> {
    let machines = Machines::new()?;
    let alpha = machines.machine("alpha", "2026-11-21T20:00:00Z")?;
    let id = machines.run(&alpha, "fix add")?;
    let transcript =
        alpha.repo.join(".omk/goals").join(&id).join("artifacts/agent/transcript.jsonl");
    let pristine = fs::read(&transcript)?;
    let mut bytes = pristine.clone();
    bytes.extend_from_slice(b"{\"forged\":true}\n");
    fs::write(&transcript, bytes)?;
    let refused = machines.omk(&alpha, &["push"])?;
    assert_eq!(refused.code, Some(6), "{refused}");
    assert!(
        refused.stderr.contains(&format!(
            "push goal {id}: artifact artifacts/agent/transcript.jsonl was changed after omk recorded it"
        )),
        "{refused}"
    );
    assert!(machines.remote_refs("refs/omk/")?.is_empty(), "nothing was pushed");
    assert_eq!(
        machines.env.git(&alpha.repo, &["for-each-ref", "refs/omk/goals/"])?,
        "",
        "no evidence commit was made"
    );
    fs::write(&transcript, &pristine)?;
    // A secret of the pushing environment in any file of the evidence: refused, naming the
    // file and the variable, never the value.
    let secret = "Qm7vR2xL9pT4kW8zN3cB6yH1";
    let args = serde_json::json!({ "path": "note.txt", "content": format!("key {secret}\n") });
    let call =
        serde_json::json!({ "id": "tc-1", "name": "WriteFile", "arguments": args.to_string() });
    let leaky = machines.env.write(
        "leaky.scenario",
        &format!("text: Noting it.\ntool_call: {call}\n---\ntext: Noted.\n"),
    )?;
    let leaked = machines.omk(
        &alpha,
        &["run", "note it", "--agent", &format!("script:{}", leaky.display()), "--json"],
    )?;
    let leaked_id = goal_id(&leaked)?;
    let mut with_secret = alpha.vars.clone();
    with_secret.push(("DEMO_API_KEY".to_owned(), secret.to_owned()));
    let vars: Vec<(&str, &str)> =
        with_secret.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = machines.env.omk_with(&alpha.repo, &["push", &leaked_id], &vars)?;
    assert_eq!(refused.code, Some(6), "{refused}");
    assert!(refused.stderr.contains("holds the value of DEMO_API_KEY"), "{refused}");
    assert!(refused.stderr.contains("nothing was pushed"), "{refused}");
    assert!(!refused.stderr.contains(secret), "the value is never shown: {refused}");
    assert!(machines.remote_refs("refs/omk/")?.is_empty(), "nothing was pushed");
    // `omk run --push` to a remote that does not exist runs nothing.
    let unknown = machines.omk(
        &alpha,
        &["run", "fix it", "--agent", &machines.agent(), "--push", "--remote", "nowhere"],
    )?;
    assert_eq!(unknown.code, Some(2), "an unknown remote is bad input: {unknown}");
    assert_eq!(unknown.stdout, "", "nothing ran: {unknown}");
    // A remote that refuses the push: the run's verdict is printed, and the exit code is 6.
    let hook = machines.remote.join("hooks/pre-receive");
    fs::write(&hook, "#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n")?;
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let frozen =
        machines.omk(&alpha, &["run", "fix it", "--agent", &machines.agent(), "--push"])?;
    assert_eq!(frozen.code, Some(6), "{frozen}");
    assert!(frozen.stdout.contains("● not ready · awaiting_acceptance"), "{frozen}");
    assert!(frozen.stderr.contains("the remote refused refs/omk/goals/"), "{frozen}");
    assert!(frozen.stderr.contains("pushes are frozen"), "{frozen}");
    assert!(
        frozen.stderr.contains("hint: the run finished and its evidence is intact here"),
        "{frozen}"
    );
    assert!(machines.remote_refs("refs/omk/")?.is_empty(), "nothing was pushed");
    assert!(
        unknown.stderr.contains(
            "use remote \"nowhere\": it is not a remote of this repository (its remotes: origin)"
        ),
        "{unknown}"
    );
    Ok(())
}

#[test]
fn a_fetch_killed_or_failing_leaves_no_half_written_goal() -> anyhow::Result<()> {
    let machines = Machines::new()?;
    let alpha = machines.machine("alpha", "2026-11-21T20:00:00Z")?;
    let id = machines.run(&alpha, "fix add")?;
    let pushed = machines.omk(&alpha, &["push"])?;
    assert_eq!(pushed.code, Some(0), "{pushed}");
    let reference = machines.machine("reference", "2026-11-21T21:00:00Z")?;
    assert_eq!(machines.omk(&reference, &["fetch"])?.code, Some(0));
    let complete = files_under(&reference.repo.join(".omk/goals").join(&id))?;

    // A failing fetch: its staging directory cannot be made. Nothing is written.
    let delta = machines.machine("delta", "2026-11-21T21:00:00Z")?;
    fs::create_dir_all(delta.repo.join(".omk"))?;
    fs::write(delta.repo.join(".omk/fetch"), "in the way")?;
    let failed = machines.omk(&delta, &["fetch"])?;
    assert_eq!(failed.code, Some(6), "{failed}");
    assert!(failed.stderr.contains(&format!("write fetched goal {id} into ")), "{failed}");
    assert!(!delta.repo.join(".omk/goals").join(&id).exists(), "{failed}");
    fs::remove_file(delta.repo.join(".omk/fetch"))?;

    // Fetches killed at many points: the goal's directory is absent or whole, never partial.
    let goal_dir = delta.repo.join(".omk/goals").join(&id);
    let vars: Vec<(&str, &str)> =
        delta.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut interrupted = 0;
    for step in 0..40u64 {
        let mut child = machines.env.spawn_omk_with(&delta.repo, &["fetch"], &vars)?;
        std::thread::sleep(Duration::from_millis(step * 3));
        child.kill().ok();
        child.wait()?;
        if goal_dir.exists() {
            assert_eq!(
                files_under(&goal_dir)?.keys().collect::<Vec<_>>(),
                complete.keys().collect::<Vec<_>>(),
                "after a kill at {} ms",
                step * 3
            );
            let files = files_under(&goal_dir)?;
            for (path, bytes) in &complete {
                if path != "origin.json" {
                    assert_eq!(&files[path], bytes, "{path} after a kill at {} ms", step * 3);
                }
            }
            fs::remove_dir_all(&goal_dir)?;
        }
        // A kill while git or gix holds a reference lock leaves the lock file, as it does for git
        // itself (the next ref update fails naming it, "might need manual deletion"): delete it,
        // as its message says, so the loop goes on testing the goal's directory.
        for lock in [
            "packed-refs.lock",
            &format!("refs/heads/omk/{id}.lock"),
            &format!("refs/omk/anchors/{id}.lock"),
        ] {
            fs::remove_file(delta.repo.join(".git").join(lock)).ok();
        }
        let staging = delta.repo.join(".omk/fetch");
        if fs::read_dir(&staging).map(|it| it.count()).unwrap_or(0) > 0 {
            interrupted += 1;
        }
    }
    assert!(interrupted > 0, "none of 40 kills landed while a goal was being written");
    let fetched = machines.omk(&delta, &["fetch"])?;
    assert_eq!(fetched.code, Some(0), "{fetched}");
    assert_eq!(
        files_under(&goal_dir)?.keys().collect::<Vec<_>>(),
        complete.keys().collect::<Vec<_>>()
    );
    // What killed fetches left behind is gone.
    assert_eq!(fs::read_dir(delta.repo.join(".omk/fetch"))?.count(), 0);
    Ok(())
}

#[test]
fn a_goal_that_is_still_running_is_not_pushed() -> anyhow::Result<()> {
    let machines = Machines::new()?;
    let alpha = machines.machine("alpha", "2026-11-21T20:00:00Z")?;
    let vars: Vec<(&str, &str)> =
        alpha.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut run = machines.env.spawn_omk_with(
        &alpha.repo,
        &["run", "wait", "--agent", "cmd:sleep 30"],
        &vars,
    )?;
    let goals = alpha.repo.join(".omk/goals");
    let started = std::time::Instant::now();
    let goal = loop {
        let found = fs::read_dir(&goals).ok().and_then(|mut it| it.next()).and_then(Result::ok);
        if let Some(entry) = found
            && fs::read_to_string(entry.path().join("events.jsonl"))?.contains("\"agent_started\"")
        {
            break entry.file_name().to_string_lossy().into_owned();
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the agent never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    let refused = machines.omk(&alpha, &["push", &goal])?;
    let cancelled = machines.omk(&alpha, &["cancel", &goal]);
    run.wait()?;
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(
        refused.stderr.contains(&format!("push goal {goal}: it is still running (pid ")),
        "{refused}"
    );
    assert!(refused.stderr.contains("push it once its run ends"), "{refused}");
    assert!(machines.remote_refs("refs/omk/")?.is_empty());
    assert_eq!(cancelled?.code, Some(0));
    Ok(())
}

#[test]
fn a_runner_without_a_git_identity_runs_pushes_and_fetches() -> anyhow::Result<()> {
    let machines = Machines::new()?;
    let runner = machines.machine("runner", "2026-11-21T20:00:00Z")?;
    let laptop = machines.machine("laptop", "2026-11-21T21:00:00Z")?;
    let vars = |machine: &Machine| -> Vec<(String, String)> { machine.vars.clone() };
    let run_vars = vars(&runner);
    let run_vars: Vec<(&str, &str)> =
        run_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let agent = machines.agent();
    let args = ["run", "fix add", "--agent", &agent, "--push", "--json"];
    let run = machines.env.omk_without_git_identity(&runner.repo, &args, &run_vars)?;
    assert_eq!(run.code, Some(0), "{run}");
    let id = goal_id(&run)?;
    assert!(machines.remote_refs("refs/omk/goals/")?.contains_key(&format!("refs/omk/goals/{id}")));
    let fetch_vars = vars(&laptop);
    let fetch_vars: Vec<(&str, &str)> =
        fetch_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let fetched = machines.env.omk_without_git_identity(&laptop.repo, &["fetch"], &fetch_vars)?;
    assert_eq!(fetched.code, Some(0), "{fetched}");
    assert!(fetched.stdout.contains("1 added"), "{fetched}");
    machines.env.git(&laptop.repo, &["rev-parse", &format!("omk/{id}")])?;
    Ok(())
}
