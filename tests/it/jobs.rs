//! The job templates of `docs/jobs/` (issue 26.3): they parse as YAML, have the shape their
//! engines require, keep each secret to the step or container that needs it, and every `omk`
//! command line in them and in `docs/anywhere.md` is one omk's CLI accepts; `run.rs` runs their
//! scripts against a local bare remote.

mod run;
mod shell;

use std::collections::BTreeMap;

use clap::{CommandFactory, FromArgMatches};
use serde_yaml_ng::Value;

use shell::{Found, commands_of};

pub(crate) const WORKFLOW: &str = include_str!("../../docs/jobs/github-actions.yml");
pub(crate) const KUBERNETES: &str = include_str!("../../docs/jobs/kubernetes-job.yaml");
const ANYWHERE: &str = include_str!("../../docs/anywhere.md");

/// Returns `value[key]` for a path of mapping keys, or an error naming the path.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> anyhow::Result<&'a Value> {
    let mut it = value;
    for key in path {
        it = it.get(*key).ok_or_else(|| anyhow::anyhow!("no {} in the YAML", path.join(".")))?;
    }
    Ok(it)
}

/// Returns the string at `path`.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> anyhow::Result<&'a str> {
    at(value, path)?.as_str().ok_or_else(|| anyhow::anyhow!("{} is not a string", path.join(".")))
}

/// Returns the sequence at `path`.
pub(crate) fn seq_at<'a>(value: &'a Value, path: &[&str]) -> anyhow::Result<&'a [Value]> {
    at(value, path)?
        .as_sequence()
        .map(Vec::as_slice)
        .ok_or_else(|| anyhow::anyhow!("{} is not a list", path.join(".")))
}

/// Returns the `env` mapping at `value` as names and values (none when absent).
pub(crate) fn env_of(value: &Value) -> anyhow::Result<BTreeMap<String, String>> {
    let Some(env) = value.get("env") else { return Ok(BTreeMap::new()) };
    let mapping = env.as_mapping().ok_or_else(|| anyhow::anyhow!("env is not a mapping"))?;
    mapping
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().ok_or_else(|| anyhow::anyhow!("env name {name:?}"))?;
            let value = match value {
                Value::String(it) => it.clone(),
                Value::Number(it) => it.to_string(),
                other => anyhow::bail!("env {name} is {other:?}"),
            };
            Ok((name.to_owned(), value))
        })
        .collect()
}

/// Returns the workflow's steps of job `job`, by id.
pub(crate) fn steps(workflow: &Value, job: &str) -> anyhow::Result<Vec<(String, Value)>> {
    seq_at(workflow, &["jobs", job, "steps"])?
        .iter()
        .map(|step| Ok((str_at(step, &["id"])?.to_owned(), step.clone())))
        .collect()
}

/// Returns the containers of the Job's pod, init containers first, by name.
pub(crate) fn containers(job: &Value) -> anyhow::Result<Vec<(String, Value)>> {
    let spec = at(job, &["spec", "template", "spec"])?;
    seq_at(spec, &["initContainers"])?
        .iter()
        .chain(seq_at(spec, &["containers"])?)
        .map(|container| Ok((str_at(container, &["name"])?.to_owned(), container.clone())))
        .collect()
}

/// Parses `words` (starting with `omk`) as omk's own command line does.
fn check_command(found: &Found) -> Result<(), String> {
    omk_cli::Cli::command()
        .try_get_matches_from(&found.words)
        .and_then(|matches| omk_cli::Cli::from_arg_matches(&matches))
        .map(|_| ())
        .map_err(|err| format!("`{}` ({:?}): {}", found.line, found.words, err.render()))
}

/// Checks every command of `found` against omk's CLI and returns the subcommand paths seen
/// (`run`, `proof verify`, …).
fn check_commands(found: &[Found]) -> anyhow::Result<Vec<String>> {
    let failures: Vec<String> = found.iter().filter_map(|it| check_command(it).err()).collect();
    anyhow::ensure!(failures.is_empty(), "omk rejects:\n{}", failures.join("\n"));
    Ok(found
        .iter()
        .map(|it| {
            let words: Vec<&str> = it.words[1..]
                .iter()
                .map(String::as_str)
                .take_while(|word| word.chars().all(|c| c.is_ascii_lowercase()))
                .take(2)
                .collect();
            words.join(" ")
        })
        .collect())
}

#[test]
fn the_workflow_has_the_shape_github_actions_requires() -> anyhow::Result<()> {
    let workflow: Value = serde_yaml_ng::from_str(WORKFLOW)?;
    // YAML 1.2: `on` is a key, not the boolean a YAML 1.1 reader would make of it.
    at(&workflow, &["on", "workflow_dispatch"])?;
    assert_eq!(str_at(&workflow, &["permissions", "contents"])?, "write");
    assert!(str_at(&workflow, &["concurrency", "group"])?.contains("${{ github.ref }}"));
    assert_eq!(at(&workflow, &["concurrency", "cancel-in-progress"])?.as_bool(), Some(false));
    for job in ["goal", "review"] {
        str_at(&workflow, &["jobs", job, "runs-on"])?;
        for (id, step) in steps(&workflow, job)? {
            let kinds =
                usize::from(step.get("uses").is_some()) + usize::from(step.get("run").is_some());
            anyhow::ensure!(kinds == 1, "step {job}.{id} needs exactly one of uses and run");
            // Expressions reach scripts through env only: a prompt is data, never script text.
            if let Some(script) = step.get("run").and_then(Value::as_str) {
                anyhow::ensure!(
                    !script.contains("${{"),
                    "step {job}.{id} has an expression in run"
                );
            }
        }
    }
    let prompts = seq_at(&workflow, &["jobs", "goal", "strategy", "matrix", "prompt"])?;
    assert!(!prompts.is_empty() && prompts.iter().all(Value::is_string));
    assert_eq!(at(&workflow, &["jobs", "goal", "strategy", "fail-fast"])?.as_bool(), Some(false));
    let goal_steps: BTreeMap<String, Value> = steps(&workflow, "goal")?.into_iter().collect();
    let checkout = &goal_steps["checkout"];
    assert!(str_at(checkout, &["uses"])?.starts_with("actions/checkout@"));
    assert_eq!(at(checkout, &["with", "fetch-depth"])?.as_u64(), Some(0));
    assert_eq!(at(checkout, &["with", "persist-credentials"])?.as_bool(), Some(false));
    assert_eq!(str_at(&workflow, &["jobs", "review", "needs"])?, "goal");
    assert_eq!(str_at(&workflow, &["jobs", "review", "if"])?, "always()");
    assert_eq!(str_at(&workflow, &["jobs", "review", "permissions", "contents"])?, "read");

    // Each secret goes to the one step that needs it; none to the workflow or a job as a whole.
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in ["goal", "review"] {
        anyhow::ensure!(at(&workflow, &["jobs", job]).map(|it| it.get("env").is_none())?);
        for (id, step) in steps(&workflow, job)? {
            for value in env_of(&step)?.values() {
                for secret in ["secrets.KIMI_API_KEY", "secrets.OMK_SIGNING_KEY", "github.token"] {
                    if value.contains(secret) {
                        holders.entry(secret.to_owned()).or_default().push(format!("{job}.{id}"));
                    }
                }
            }
        }
    }
    assert!(env_of(&workflow)?.values().all(|it| !it.contains("secrets.")));
    let expected: BTreeMap<String, Vec<String>> = [
        ("github.token", "goal.push"),
        ("secrets.KIMI_API_KEY", "goal.run"),
        ("secrets.OMK_SIGNING_KEY", "goal.push"),
    ]
    .into_iter()
    .map(|(secret, step)| (secret.to_owned(), vec![step.to_owned()]))
    .collect();
    assert_eq!(holders, expected);
    Ok(())
}

#[test]
fn the_kubernetes_job_has_the_shape_a_cluster_requires() -> anyhow::Result<()> {
    let job: Value = serde_yaml_ng::from_str(KUBERNETES)?;
    assert_eq!(str_at(&job, &["apiVersion"])?, "batch/v1");
    assert_eq!(str_at(&job, &["kind"])?, "Job");
    str_at(&job, &["metadata", "generateName"])?;
    assert_eq!(at(&job, &["spec", "backoffLimit"])?.as_u64(), Some(0));
    assert!(at(&job, &["spec", "activeDeadlineSeconds"])?.as_u64().is_some_and(|it| it > 0));
    assert!(at(&job, &["spec", "ttlSecondsAfterFinished"])?.as_u64().is_some_and(|it| it > 0));
    let pod = at(&job, &["spec", "template", "spec"])?;
    assert_eq!(str_at(pod, &["restartPolicy"])?, "Never");
    assert_eq!(at(pod, &["automountServiceAccountToken"])?.as_bool(), Some(false));
    assert_eq!(at(pod, &["securityContext", "runAsNonRoot"])?.as_bool(), Some(true));
    assert!(at(pod, &["securityContext", "runAsUser"])?.as_u64().is_some_and(|it| it > 0));
    let volumes: Vec<&str> = seq_at(pod, &["volumes"])?
        .iter()
        .map(|it| str_at(it, &["name"]))
        .collect::<anyhow::Result<_>>()?;

    let mut secret_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let containers = containers(&job)?;
    let names: Vec<&str> = containers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["clone", "run", "push"]);
    let mut mounts: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (name, container) in &containers {
        str_at(container, &["image"])?;
        let command: Vec<&str> =
            seq_at(container, &["command"])?.iter().filter_map(Value::as_str).collect();
        assert_eq!(command, ["/bin/sh", "-c"], "{name}");
        assert_eq!(seq_at(container, &["args"])?.len(), 1, "{name}");
        str_at(container, &["resources", "requests", "cpu"])?;
        str_at(container, &["resources", "requests", "memory"])?;
        str_at(container, &["resources", "limits", "memory"])?;
        let security = at(container, &["securityContext"])?;
        assert_eq!(at(security, &["allowPrivilegeEscalation"])?.as_bool(), Some(false), "{name}");
        assert_eq!(at(security, &["readOnlyRootFilesystem"])?.as_bool(), Some(true), "{name}");
        let dropped: Vec<&str> =
            seq_at(security, &["capabilities", "drop"])?.iter().filter_map(Value::as_str).collect();
        assert_eq!(dropped, ["ALL"], "{name}");
        for mount in seq_at(container, &["volumeMounts"])? {
            let volume = str_at(mount, &["name"])?;
            anyhow::ensure!(volumes.contains(&volume), "{name} mounts the unknown volume {volume}");
            let path = str_at(mount, &["mountPath"])?.to_owned();
            mounts.entry(name.clone()).or_default().push((volume.to_owned(), path));
        }
        for var in seq_at(container, &["env"])? {
            if let Some(secret) = var.get("valueFrom") {
                assert_eq!(str_at(secret, &["secretKeyRef", "name"])?, "omk-goal");
                let key = str_at(secret, &["secretKeyRef", "key"])?.to_owned();
                secret_keys.entry(key).or_default().push(name.clone());
            }
        }
    }
    // The model key only where the agent runs; the signing key only after it, in the push
    // container; git credentials where git talks to the remote.
    let expected: BTreeMap<String, Vec<String>> = [
        ("git-token", &["clone", "push"][..]),
        ("git-username", &["clone", "push"]),
        ("kimi-api-key", &["run"]),
        ("repository", &["clone"]),
        ("signing-key", &["push"]),
    ]
    .into_iter()
    .map(|(key, holders)| (key.to_owned(), holders.iter().map(|it| (*it).to_owned()).collect()))
    .collect();
    assert_eq!(secret_keys, expected);
    // The push container's HOME is on a volume the agent's container does not mount.
    let (_, push) = &containers[2];
    let home = env_of_container(push)?.remove("HOME").unwrap_or_default();
    let (home_volume, _) = mounts["push"]
        .iter()
        .find(|(_, path)| home.starts_with(path.as_str()))
        .ok_or_else(|| anyhow::anyhow!("the push container's HOME {home} is on no volume"))?;
    assert!(mounts["run"].iter().all(|(volume, _)| volume != home_volume));
    Ok(())
}

/// Returns a container's plain `env` values (not those from a Secret).
pub(crate) fn env_of_container(container: &Value) -> anyhow::Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for var in seq_at(container, &["env"])? {
        if let Some(value) = var.get("value") {
            let value = value.as_str().ok_or_else(|| anyhow::anyhow!("env value {value:?}"))?;
            env.insert(str_at(var, &["name"])?.to_owned(), value.to_owned());
        }
    }
    Ok(env)
}

/// Returns the `omk` command lines of the workflow's scripts, each with the values its
/// variables have in the workflow's env where they are literal.
fn workflow_commands() -> anyhow::Result<Vec<Found>> {
    let workflow: Value = serde_yaml_ng::from_str(WORKFLOW)?;
    let top = env_of(&workflow)?;
    let mut found = Vec::new();
    for job in ["goal", "review"] {
        for (_, step) in steps(&workflow, job)? {
            let Some(script) = step.get("run").and_then(Value::as_str) else { continue };
            let mut env = top.clone();
            env.extend(env_of(&step)?);
            let vars = |name: &str| env.get(name).filter(|it| !it.contains("${{")).cloned();
            found.extend(commands_of(script, "omk", &vars)?);
        }
    }
    Ok(found)
}

/// Returns the `omk` command lines of the Job's container scripts, with their plain env values.
fn kubernetes_commands() -> anyhow::Result<Vec<Found>> {
    let job: Value = serde_yaml_ng::from_str(KUBERNETES)?;
    let mut found = Vec::new();
    for (_, container) in containers(&job)? {
        let env = env_of_container(&container)?;
        let vars = |name: &str| env.get(name).cloned();
        for script in seq_at(&container, &["args"])?.iter().filter_map(Value::as_str) {
            found.extend(commands_of(script, "omk", &vars)?);
        }
    }
    Ok(found)
}

/// Returns the `omk` command lines of the shell code blocks of a Markdown document.
fn markdown_commands(markdown: &str) -> anyhow::Result<Vec<Found>> {
    let mut found = Vec::new();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match (&mut block, line.trim_start()) {
            (None, fence) if fence.starts_with("```sh") || fence.starts_with("```bash") => {
                block = Some(String::new());
            }
            (Some(text), "```") => {
                found.extend(commands_of(text, "omk", &|_| None)?);
                block = None;
            }
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    anyhow::ensure!(block.is_none(), "a code block is not closed");
    Ok(found)
}

#[test]
fn every_omk_command_line_of_the_templates_is_one_omk_accepts() -> anyhow::Result<()> {
    let workflow = check_commands(&workflow_commands()?)?;
    assert_eq!(workflow, ["run", "list", "push", "push", "fetch", "list", "proof verify", "list"]);
    let kubernetes = check_commands(&kubernetes_commands()?)?;
    assert_eq!(kubernetes, ["run", "list", "push", "push"]);
    Ok(())
}

#[test]
fn every_omk_command_line_of_docs_anywhere_is_one_omk_accepts() -> anyhow::Result<()> {
    let found = markdown_commands(ANYWHERE)?;
    let seen = check_commands(&found)?;
    for wanted in ["run", "push", "fetch", "list", "proof verify", "accept", "key generate"] {
        anyhow::ensure!(
            seen.iter().any(|it| it == wanted),
            "docs/anywhere.md shows no omk {wanted}"
        );
    }
    Ok(())
}

#[test]
fn a_command_omk_does_not_have_is_caught() -> anyhow::Result<()> {
    // The check above can fail: an unknown flag, a bad value and an unknown command are refused.
    for script in ["omk run --pushh x", "omk run --budget-time soon x", "omk launch x"] {
        let found = commands_of(script, "omk", &|_| None)?;
        assert_eq!(found.len(), 1);
        assert!(check_command(&found[0]).is_err(), "{script}");
    }
    Ok(())
}
