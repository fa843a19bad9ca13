//! The job templates run for real: the workflow's steps and the Job's containers, in the order,
//! under the conditions and with the environment their engine gives them, against a local bare
//! remote. The test does the steps that install (checkout, omk, Python, the Kimi CLI) and puts
//! omk's scripted agent in the place of the Kimi CLI; every other line runs as written.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use serde_yaml_ng::Value;

use super::{KUBERNETES, WORKFLOW, containers, env_of, env_of_container, seq_at, steps, str_at};
use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv, env::Output};

/// The workflow's steps that the test does itself, before it runs the others.
const DONE_BY_THE_TEST: &[&str] =
    &["checkout", "cache-omk", "install-omk", "python", "install-kimi"];

/// A fake model key, long enough for omk's redaction to know it as a secret.
const MODEL_KEY: &str = "sk-job-test-model-key-0123456789abcdefghij";

/// A bare remote holding a project whose test fails, the `omk` binary on a `PATH`, and a
/// signing key made with `omk key generate`.
struct Site {
    env: TestEnv,
    remote: PathBuf,
    path: String,
    signing_key: String,
}

impl Site {
    fn new() -> anyhow::Result<Self> {
        let env = TestEnv::new()?;
        let origin = env
            .repo("origin", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
        let remote = env.root().join("remote.git");
        env.git(
            env.root(),
            &["clone", "--quiet", "--bare", path_str(&origin)?, path_str(&remote)?],
        )?;
        let bin = env.root().join("bin");
        fs::create_dir(&bin)?;
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_omk-dup"), bin.join("omk"))?;
        let key = env.root().join("signing");
        let generated = env.omk(&origin, &["key", "generate", path_str(&key)?])?;
        anyhow::ensure!(generated.code == Some(0), "{generated}");
        let signing_key = fs::read_to_string(&key)?;
        Ok(Self { path: TestEnv::path_with(&bin), env, remote, signing_key })
    }

    /// Clones the remote into `name`, as `actions/checkout` with `fetch-depth: 0` does.
    fn checkout(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.env.root().join(name);
        self.env.git(
            self.env.root(),
            &["clone", "--quiet", path_str(&self.remote)?, path_str(&dir)?],
        )?;
        Ok(dir)
    }

    /// Returns a scenario file for omk's scripted agent.
    fn agent(&self, name: &str, scenario: &str) -> anyhow::Result<String> {
        Ok(format!("script:{}", self.env.write(name, scenario)?.display()))
    }

    /// Returns the remote's refs under `prefix`.
    fn remote_refs(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let refs = self.env.git(&self.remote, &["for-each-ref", "--format=%(refname)", prefix])?;
        Ok(refs.lines().map(str::to_owned).collect())
    }

    /// Returns the files of goal `goal`'s evidence on the remote.
    fn evidence(&self, goal: &str) -> anyhow::Result<Vec<String>> {
        let evidence = format!("refs/omk/goals/{goal}");
        let files = self.env.git(&self.remote, &["ls-tree", "-r", "--name-only", &evidence])?;
        Ok(files.lines().map(str::to_owned).collect())
    }
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().ok_or_else(|| anyhow::anyhow!("{} is not UTF-8", path.display()))
}

/// What the steps of one job did: each step that ran, with its output, and the outputs the
/// steps wrote.
#[derive(Default)]
struct JobRun {
    ran: Vec<(String, Output)>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl JobRun {
    fn code(&self, id: &str) -> Option<i32> {
        self.ran.iter().find(|(ran, _)| ran == id).and_then(|(_, output)| output.code)
    }

    fn failed(&self) -> bool {
        self.ran.iter().any(|(_, output)| output.code != Some(0))
    }

    fn output(&self, id: &str, name: &str) -> &str {
        self.outputs.get(id).and_then(|it| it.get(name)).map_or("", String::as_str)
    }

    fn log(&self) -> String {
        self.ran.iter().map(|(id, output)| format!("=== step {id}\n{output}\n")).collect()
    }
}

/// The values of the workflow's expressions in the test.
struct Expressions<'a> {
    prompt: &'a str,
    secrets: &'a BTreeMap<&'a str, String>,
    outputs: &'a BTreeMap<String, BTreeMap<String, String>>,
}

impl Expressions<'_> {
    /// Returns `text` with every `${{ … }}` replaced by its value.
    fn resolve(&self, text: &str) -> anyhow::Result<String> {
        let mut resolved = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            let end = start
                + rest[start..].find("}}").ok_or_else(|| anyhow::anyhow!("unclosed {text}"))?;
            resolved.push_str(&rest[..start]);
            resolved.push_str(&self.value(rest[start + 3..end].trim())?);
            rest = &rest[end + 2..];
        }
        resolved.push_str(rest);
        Ok(resolved)
    }

    fn value(&self, expression: &str) -> anyhow::Result<String> {
        if let Some((left, default)) = expression.split_once(" || ") {
            let value = self.value(left)?;
            return Ok(if value.is_empty() {
                default.trim_matches('\'').to_owned()
            } else {
                value
            });
        }
        let parts: Vec<&str> = expression.split('.').collect();
        Ok(match parts.as_slice() {
            ["matrix", "prompt"] => self.prompt.to_owned(),
            // A secret that is not set is empty, as in Actions.
            ["secrets", name] => self.secrets.get(name).cloned().unwrap_or_default(),
            ["vars", "KIMI_MODEL"] => "test-model".to_owned(),
            // The omk repository and commit, and the model API: only the install steps and
            // the Kimi CLI read them.
            ["vars", "OMK_GIT" | "OMK_REV" | "KIMI_BASE_URL"] => String::new(),
            ["github", "run_id"] => "4242".to_owned(),
            ["github", "token"] => "ghs_jobtesttoken0123456789abcdefghijklmnop".to_owned(),
            ["steps", id, "outputs", name] => {
                self.outputs.get(*id).and_then(|it| it.get(*name)).cloned().unwrap_or_default()
            }
            _ => anyhow::bail!("the test does not know the expression {expression}"),
        })
    }
}

/// Whether a step with `condition` runs, as Actions decides it for the conditions the workflow
/// uses: none (the steps before succeeded), and `[always() && ]steps.ID.outputs.NAME != ''`.
fn runs(condition: Option<&str>, job: &JobRun) -> anyhow::Result<bool> {
    let Some(condition) = condition else { return Ok(!job.failed()) };
    let (always, test) = match condition.strip_prefix("always() && ") {
        Some(rest) => (true, rest),
        None => (false, condition),
    };
    let output = test
        .strip_suffix(" != ''")
        .and_then(|it| it.strip_prefix("steps."))
        .and_then(|it| it.split_once(".outputs."))
        .ok_or_else(|| anyhow::anyhow!("the test does not know the condition {condition}"))?;
    Ok((always || !job.failed()) && !job.output(output.0, output.1).is_empty())
}

/// Runs the steps of the workflow's job `job` in `workdir` that the test does not do itself,
/// with `bash -e` as Actions runs a `run` step; the agent is `agent` instead of the Kimi CLI, and
/// `machine` is what the runner adds to the environment.
fn run_job(
    site: &Site,
    job: &str,
    workdir: &Path,
    secrets: &BTreeMap<&str, String>,
    agent: &str,
    machine: &[(&str, &str)],
) -> anyhow::Result<JobRun> {
    let workflow: Value = serde_yaml_ng::from_str(WORKFLOW)?;
    let prompt = seq_at(&workflow, &["jobs", "goal", "strategy", "matrix", "prompt"])?[0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let runner_temp = site.env.root().join(format!("runner-temp-{job}"));
    fs::create_dir_all(&runner_temp)?;
    let mut run = JobRun::default();
    for (id, step) in steps(&workflow, job)? {
        if DONE_BY_THE_TEST.contains(&id.as_str()) {
            continue;
        }
        let script = str_at(&step, &["run"])?;
        if !runs(step.get("if").and_then(Value::as_str), &run)? {
            continue;
        }
        let expressions = Expressions { prompt: &prompt, secrets, outputs: &run.outputs };
        let mut vars: Vec<(String, String)> = Vec::new();
        for (name, value) in env_of(&workflow)?.into_iter().chain(env_of(&step)?) {
            vars.push((name, expressions.resolve(&value)?));
        }
        let output_file = runner_temp.join(format!("output-{id}"));
        fs::write(&output_file, "")?;
        let script_file = runner_temp.join(format!("step-{id}.sh"));
        fs::write(&script_file, script)?;
        vars.extend([
            ("OMK_AGENT".to_owned(), agent.to_owned()),
            ("GITHUB_OUTPUT".to_owned(), output_file.display().to_string()),
            ("GITHUB_PATH".to_owned(), runner_temp.join("path").display().to_string()),
            ("RUNNER_TEMP".to_owned(), runner_temp.display().to_string()),
            ("PATH".to_owned(), site.path.clone()),
        ]);
        vars.extend(machine.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let output = site.env.run_with("bash", workdir, &["-e", path_str(&script_file)?], &vars)?;
        let written = fs::read_to_string(&output_file)?;
        let outputs = run.outputs.entry(id.clone()).or_default();
        for line in written.lines() {
            let (name, value) = line.split_once('=').unwrap_or((line, ""));
            outputs.insert(name.to_owned(), value.to_owned());
        }
        run.ran.push((id, output));
    }
    Ok(run)
}

/// Loads `config` with the real Kimi CLI's own loader and returns what it made of it (the
/// default model, its model name, its provider's type), or `None` when kimi is not installed.
fn kimi_loads(site: &Site, config: &Path) -> anyhow::Result<Option<String>> {
    let Some(kimi) = crate::real_client::KIMI.find()? else { return Ok(None) };
    let python = kimi.with_file_name("python");
    let load = "import sys; from pathlib import Path; from kimi_cli.config import load_config; \
                c = load_config(Path(sys.argv[1])); m = c.models[c.default_model]; \
                print(c.default_model, m.model, c.providers[m.provider].type)";
    let output = site.env.run_with(
        path_str(&python)?,
        site.env.root(),
        &["-c", load, path_str(config)?],
        &[],
    )?;
    anyhow::ensure!(output.code == Some(0), "kimi does not load {}: {output}", config.display());
    Ok(Some(output.stdout.trim().to_owned()))
}

fn secrets(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
    pairs.iter().map(|(name, value)| (*name, (*value).to_owned())).collect()
}

#[test]
fn the_workflow_steps_are_the_ones_the_test_runs() -> anyhow::Result<()> {
    // A new step is run by this test or said to be done by it, never silently skipped.
    let workflow: Value = serde_yaml_ng::from_str(WORKFLOW)?;
    let ids: Vec<String> = steps(&workflow, "goal")?.into_iter().map(|(id, _)| id).collect();
    let expected = [
        "checkout",
        "cache-omk",
        "install-omk",
        "python",
        "install-kimi",
        "kimi-config",
        "identity",
        "run",
        "push",
        "verdict",
    ];
    assert_eq!(ids, expected);
    let ids: Vec<String> = steps(&workflow, "review")?.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["checkout", "cache-omk", "install-omk", "verify"]);
    Ok(())
}

#[test]
fn the_workflow_runs_a_goal_pushes_its_signed_evidence_and_the_review_job_verifies_it()
-> anyhow::Result<()> {
    let site = Site::new()?;
    let work = site.checkout("work")?;
    let agent = site.agent("fix.scenario", FIX_ADD)?;
    // The key as a secret store may keep it: with a blank line after the PEM's last line.
    let key = format!("{}\n", site.signing_key);
    let secrets = secrets(&[("KIMI_API_KEY", MODEL_KEY), ("OMK_SIGNING_KEY", &key)]);
    let job = run_job(&site, "goal", &work, &secrets, &agent, &[])?;
    let log = job.log();
    let ran: Vec<&str> = job.ran.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ran, ["kimi-config", "identity", "run", "push", "verdict"], "{log}");
    assert!(!job.failed(), "{log}");
    let goal = job.output("run", "goal");
    assert_eq!(site.remote_refs("refs/omk/goals")?, [format!("refs/omk/goals/{goal}")], "{log}");
    assert_eq!(site.remote_refs("refs/heads/omk")?, [format!("refs/heads/omk/{goal}")]);
    let evidence = site.evidence(goal)?;
    for file in ["events.jsonl", "proof.json", "proof.intoto.jsonl", "origin.json"] {
        assert!(evidence.iter().any(|it| it == file), "{file} missing from {evidence:?}");
    }
    let origin = format!("refs/omk/goals/{goal}:origin.json");
    let origin: serde_json::Value =
        serde_json::from_str(&site.env.git(&site.remote, &["show", &origin])?)?;
    assert_eq!(origin["host"], "github-actions-run-4242", "{origin}");
    // The key file and the token's header are gone once the push step ends, and neither the
    // keys nor the token reached the job's log.
    assert!(!site.env.root().join("runner-temp-goal/omk-signing-key").exists());
    let config = fs::read_to_string(work.join(".git/config"))?;
    assert!(!config.contains("extraheader"), "{config}");
    let key_body = site.signing_key.lines().nth(1).unwrap_or_default();
    for secret in [MODEL_KEY, key_body, "ghs_jobtesttoken"] {
        assert!(!log.contains(secret), "the log shows a secret: {log}");
    }

    // The Kimi CLI's config the job wrote is one the real Kimi CLI loads, the key left to
    // KIMI_API_KEY.
    let config = site.env.root().join("home/.kimi/config.toml");
    if let Some(loaded) = kimi_loads(&site, &config)? {
        assert_eq!(loaded, "job test-model kimi");
    }
    assert!(!fs::read_to_string(&config)?.contains(MODEL_KEY));

    let review = site.checkout("review")?;
    let job = run_job(&site, "review", &review, &BTreeMap::new(), "unused", &[])?;
    let log = job.log();
    assert_eq!(job.code("verify"), Some(0), "{log}");
    assert!(log.contains(goal), "{log}");
    Ok(())
}

#[test]
fn the_workflow_pushes_a_goal_that_is_not_ready_and_fails_with_its_verdict() -> anyhow::Result<()> {
    let site = Site::new()?;
    let work = site.checkout("work")?;
    let agent = site.agent("idle.scenario", "text: I would rather not change anything.\n")?;
    // No signing key: the secret is not set, and the evidence goes unsigned.
    let job = run_job(&site, "goal", &work, &secrets(&[("KIMI_API_KEY", MODEL_KEY)]), &agent, &[])?;
    let log = job.log();
    assert_eq!(job.code("push"), Some(0), "{log}");
    assert_eq!(job.code("verdict"), Some(1), "{log}");
    let goal = job.output("run", "goal");
    let evidence = site.evidence(goal)?;
    assert!(evidence.iter().any(|it| it == "proof.json"), "{evidence:?}");
    assert!(!evidence.iter().any(|it| it == "proof.intoto.jsonl"), "{evidence:?}");
    Ok(())
}

#[test]
fn the_workflow_does_not_push_a_goal_whose_evidence_holds_the_model_key() -> anyhow::Result<()> {
    let site = Site::new()?;
    let work = site.checkout("work")?;
    // An agent that prints its environment: its transcript holds the model key.
    let leak = r#"tool_call: {"id": "tc-1", "name": "Shell", "arguments": "{\"command\": \"env\"}"}
---
text: Here is my environment.
"#;
    let agent = site.agent("leak.scenario", leak)?;
    let job = run_job(&site, "goal", &work, &secrets(&[("KIMI_API_KEY", MODEL_KEY)]), &agent, &[])?;
    let log = job.log();
    assert_eq!(job.code("run"), Some(1), "{log}");
    assert_eq!(job.code("push"), None, "{log}");
    assert!(log.contains("the model key appears in goal"), "{log}");
    assert!(!log.contains(MODEL_KEY), "{log}");
    assert!(site.remote_refs("refs/omk")?.is_empty(), "{log}");
    Ok(())
}

#[test]
fn the_workflow_does_not_push_from_a_runner_where_the_goal_ran_unconfined() -> anyhow::Result<()> {
    let site = Site::new()?;
    let work = site.checkout("work")?;
    let agent = site.agent("fix.scenario", FIX_ADD)?;
    // A runner whose kernel has no Landlock: omk runs the goal unconfined and says so.
    let no_landlock = [("OMK_TEST_NO_LANDLOCK", "1")];
    let secrets = secrets(&[("KIMI_API_KEY", MODEL_KEY)]);
    let job = run_job(&site, "goal", &work, &secrets, &agent, &no_landlock)?;
    let log = job.log();
    assert_eq!(job.code("run"), Some(1), "{log}");
    assert!(log.contains("has the gap unconfined; not pushing from this runner"), "{log}");
    assert_eq!(job.code("push"), None, "{log}");
    assert!(site.remote_refs("refs/omk")?.is_empty(), "{log}");
    Ok(())
}

/// What the pod's containers did: each one's exit code until one failed, and their output.
struct PodRun {
    codes: Vec<Option<i32>>,
    log: String,
}

/// Runs the Job's containers in order, as the kubelet does for a pod with `restartPolicy:
/// Never`, each with its env (its part of the Secret included) and its volumes as directories
/// of the test; the run container's agent is `agent`, and `machine` is what the node adds.
fn run_pod(site: &Site, agent: &str, machine: &[(&str, &str)]) -> anyhow::Result<PodRun> {
    let job: Value = serde_yaml_ng::from_str(KUBERNETES)?;
    let secret: BTreeMap<&str, String> = [
        ("repository", path_str(&site.remote)?.to_owned()),
        ("git-username", "x-access-token".to_owned()),
        ("git-token", "ghs_jobtesttoken0123456789abcdefghijklmnop".to_owned()),
        ("kimi-api-key", MODEL_KEY.to_owned()),
        ("signing-key", site.signing_key.clone()),
    ]
    .into_iter()
    .collect();
    // Each volume is a directory of the test; a path under a mount is the same path there.
    let volumes = site.env.root().join("volumes");
    let mut pod = PodRun { codes: Vec::new(), log: String::new() };
    for (name, container) in containers(&job)? {
        let mut mounts = Vec::new();
        for mount in seq_at(&container, &["volumeMounts"])? {
            let dir = volumes.join(str_at(mount, &["name"])?);
            fs::create_dir_all(&dir)?;
            mounts.push((str_at(mount, &["mountPath"])?.to_owned(), dir));
        }
        let remap = |value: &str| -> String {
            mounts
                .iter()
                .find_map(|(path, dir)| {
                    value.strip_prefix(path.as_str()).map(|rest| format!("{}{rest}", dir.display()))
                })
                .unwrap_or_else(|| value.to_owned())
        };
        let mut vars: Vec<(String, String)> = env_of_container(&container)?
            .into_iter()
            .map(|(name, value)| (name, remap(&value)))
            .collect();
        for var in seq_at(&container, &["env"])? {
            if var.get("valueFrom").is_some() {
                let key = str_at(var, &["valueFrom", "secretKeyRef", "key"])?;
                vars.push((str_at(var, &["name"])?.to_owned(), secret[key].clone()));
            }
        }
        // What the template asks to set, and the agent in the Kimi CLI's place.
        if name == "run" {
            vars.push(("KIMI_MODEL".to_owned(), "test-model".to_owned()));
            vars.push(("OMK_AGENT".to_owned(), agent.to_owned()));
        }
        vars.push(("PATH".to_owned(), site.path.clone()));
        vars.extend(machine.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let script = seq_at(&container, &["args"])?[0].as_str().unwrap_or_default().to_owned();
        let output = site.env.run_with("/bin/sh", site.env.root(), &["-c", &script], &vars)?;
        writeln!(pod.log, "=== container {name}\n{output}")?;
        pod.codes.push(output.code);
        if output.code != Some(0) {
            break;
        }
    }
    Ok(pod)
}

#[test]
fn the_kubernetes_job_runs_a_goal_and_pushes_its_evidence() -> anyhow::Result<()> {
    let site = Site::new()?;
    let agent = site.agent("fix.scenario", FIX_ADD)?;
    let PodRun { codes, log } = run_pod(&site, &agent, &[])?;
    assert_eq!(codes, [Some(0), Some(0), Some(0)], "{log}");
    let goals = site.remote_refs("refs/omk/goals")?;
    assert_eq!(goals.len(), 1, "{log}");
    let goal = goals[0].trim_start_matches("refs/omk/goals/");
    assert!(site.evidence(goal)?.iter().any(|it| it == "proof.intoto.jsonl"), "{log}");
    assert_eq!(site.remote_refs("refs/heads/omk")?, [format!("refs/heads/omk/{goal}")]);
    let volumes = site.env.root().join("volumes");
    let config = volumes.join("work/home/.kimi/config.toml");
    if let Some(loaded) = kimi_loads(&site, &config)? {
        assert_eq!(loaded, "job test-model kimi");
    }
    // The push container wrote the key under its own HOME, never on the volume the agent had.
    assert!(volumes.join("push-home/omk-signing-key").exists());
    assert!(!volumes.join("work/home/omk-signing-key").exists());
    Ok(())
}

#[test]
fn the_kubernetes_job_does_not_push_from_a_clone_whose_hooks_the_goal_changed() -> anyhow::Result<()>
{
    let site = Site::new()?;
    // Without Landlock the agent can reach the clone's .git from its worktree, three levels up,
    // and plant a pre-push hook that the push container's `git push` would run with the token.
    let plant = r#"tool_call: {"id": "tc-1", "name": "Shell", "arguments": "{\"command\": \"printf 'cat ~/omk-signing-key' > ../../../.git/hooks/pre-push && chmod +x ../../../.git/hooks/pre-push\"}"}
---
text: Done.
"#;
    let agent = site.agent("plant.scenario", plant)?;
    let PodRun { codes, log } = run_pod(&site, &agent, &[("OMK_TEST_NO_LANDLOCK", "1")])?;
    assert_eq!(codes, [Some(0), Some(1)], "{log}");
    assert!(log.contains("has the gap checkout_changed; not pushing from this clone"), "{log}");
    let hook = site.env.root().join("volumes/work/repo/.git/hooks/pre-push");
    assert!(hook.exists(), "the scenario did not plant its hook: {log}");
    assert!(site.remote_refs("refs/omk")?.is_empty(), "{log}");
    Ok(())
}

#[test]
fn the_kubernetes_job_pushes_a_goal_that_is_not_ready_and_fails_with_its_verdict()
-> anyhow::Result<()> {
    let site = Site::new()?;
    let agent = site.agent("idle.scenario", "text: I would rather not change anything.\n")?;
    let PodRun { codes, log } = run_pod(&site, &agent, &[])?;
    // The push container pushes, then exits with the verdict: the Job fails.
    assert_eq!(codes, [Some(0), Some(0), Some(1)], "{log}");
    assert!(log.contains("omk run exited 1"), "{log}");
    let goals = site.remote_refs("refs/omk/goals")?;
    assert_eq!(goals.len(), 1, "{log}");
    Ok(())
}

#[test]
fn the_kubernetes_job_does_not_push_a_goal_whose_change_holds_the_model_key() -> anyhow::Result<()>
{
    let site = Site::new()?;
    // An agent that writes the key into a file of its change, printing nothing: the evidence's
    // patch of the change holds it, as the commit on the goal's branch does.
    let commit = r#"tool_call: {"id": "tc-1", "name": "Shell", "arguments": "{\"command\": \"printenv KIMI_API_KEY > key.txt\"}"}
---
text: Saved.
"#;
    let agent = site.agent("commit.scenario", commit)?;
    let PodRun { codes, log } = run_pod(&site, &agent, &[])?;
    assert_eq!(codes, [Some(0), Some(1)], "{log}");
    assert!(log.contains("the model key appears in goal"), "{log}");
    assert!(log.contains("/artifacts/diff/"), "{log}");
    assert!(!log.contains(MODEL_KEY), "{log}");
    assert!(site.remote_refs("refs/omk")?.is_empty(), "{log}");
    Ok(())
}
