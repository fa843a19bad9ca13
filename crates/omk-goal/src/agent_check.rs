//! The agent's own checks, behind `omk mcp`: the goal's gates, as the controller reads them
//! from the user's checkout, run in the goal's worktree at the agent's request, with the goal's
//! sandbox and redaction; and the controller's step that folds their records into the log.
//!
//! The server runs inside the agent's sandbox, so it writes where the agent may write: the
//! record `agent-checks/<n>.json` and the gate logs in `agent-checks/<n>/`. The controller
//! appends each record to the log as `agent_check_ran` when the agent's run ends; a proof shows
//! them as the agent's own account (`agent.checks`) and never counts them as gates.

use std::{
    fs,
    path::{Path, PathBuf},
};

use omk_agent::McpServer;
use omk_config::ConfigEnv;
use omk_events::{AgentCheckRan, GatePhase};
use omk_gates::{GateRun, GateSpec};

use crate::{
    decide::state::GoalState,
    error::Error,
    gate_run::{GateSite, run_options},
    layout::{GoalPaths, Layout, artifacts, create_fresh_dir},
    run::controller::{Controller, load_config},
    sandbox::{RunSandbox, SandboxSite},
    store::{find_goal, read_state},
};

/// How much of a gate's log is read for the names of failed tests.
const MAX_LOG_READ: u64 = 4 * 1024 * 1024;

/// The gates of a goal, as its agent's checks run them.
#[derive(Debug, Clone)]
pub struct GoalGates {
    /// The goal's files.
    pub paths: GoalPaths,
    /// The goal's worktree, where the gates run; `None` before it exists.
    pub worktree: Option<PathBuf>,
    /// The gates that judge the goal, in order: `omk.toml` and detection in the user's
    /// checkout, then the goal's `--gate` lines.
    pub gates: Vec<GateSpec>,
    /// `[sandbox]` of the configuration.
    pub sandbox: omk_config::SandboxConfig,
}

/// What one agent check asks for.
pub struct AgentCheckRequest<'a> {
    /// The gates to run, by name; empty runs every gate of the goal.
    pub names: &'a [String],
    /// The gates' environment.
    pub environment: &'a [(String, String)],
    /// How many gates run at once.
    pub max_parallel: usize,
    /// The `omk` binary, which watches the gates it starts (omk-sandbox's watcher); `None`
    /// starts them directly, unconfined and unwatched.
    pub omk_binary: Option<&'a Path>,
}

/// A finished agent check.
#[derive(Debug)]
pub struct AgentCheck {
    /// The record, as written to `agent-checks/<n>.json`.
    pub record: AgentCheckRan,
    /// Each gate's run, with the tail of its redacted output.
    pub runs: Vec<GateRun>,
}

/// Returns the gates of goal `goal` in the repository at `repo_dir`, read as the controller
/// reads them (a resumed run's way: the layers as they are now, plus the goal's `--gate` lines).
pub fn goal_gates(
    repo_dir: &Path,
    goal: &str,
    environment: &[(String, String)],
    config_env: &ConfigEnv,
) -> Result<GoalGates, Error> {
    let paths = find_goal(repo_dir, Some(goal))?;
    let (_, state) = read_state(&paths)?;
    let repo = omk_worktree::open(&paths.repo_root)?;
    let config = load_config(&repo, &state.created.extra_gates, environment, config_env, &[])?;
    Ok(GoalGates {
        worktree: state.worktree.map(|it| it.path),
        paths,
        gates: config.gates,
        sandbox: config.sandbox,
    })
}

/// Runs the gates `request` names in the goal's worktree and records the check in
/// `agent-checks/<n>.json` for the controller to fold into the log.
///
/// An unknown gate name is an error naming it and the goal's gates, before anything runs.
pub async fn run_agent_check(
    gates: &GoalGates,
    request: &AgentCheckRequest<'_>,
) -> Result<AgentCheck, Error> {
    let specs = select(&gates.gates, request.names)?;
    let worktree = gates
        .worktree
        .as_deref()
        .ok_or_else(|| Error::NoWorktreeYet { goal: gates.paths.goal_id.to_string() })?;
    let paths = &gates.paths;
    let (check, _) = create_fresh_dir(&paths.agent_checks(), |attempt| {
        (attempt, paths.agent_checks().join(attempt.to_string()))
    })
    .map_err(|(path, source)| Error::Write { path, source })?;
    let sandbox = RunSandbox::new(SandboxSite {
        omk_binary: request.omk_binary,
        config: &gates.sandbox,
        repo_root: &paths.repo_root,
        tmp: paths.tmp(),
        caches: Layout::new(&paths.repo_root).toolchain_cache_dir(),
        records: None,
        worktree,
        agent_state: Vec::new(),
        // The agent's sandbox cannot write the goal's shared build directory: the agent's own
        // checks build where the worktree's tools put their output.
        builds: None,
        environment: request.environment,
        gates: &specs,
    })?;
    let site = GateSite {
        worktree,
        artifact_root: &paths.goal_dir,
        artifact_dir: format!("{}/{check}", artifacts::AGENT_CHECKS),
        phase: GatePhase::Proposed,
        tree_id: None,
        max_parallel: request.max_parallel,
        env: request.environment,
        cancel: None,
        sandbox: sandbox.for_gates(worktree),
    };
    // No gate cache: the agent asks what its files do now, and its sandbox cannot write the
    // cache anyway.
    let options = run_options(site, None);
    let runs = omk_gates::run_gates(&specs, &options, &mut |_| {}).await;
    let mut failing_tests: Vec<String> = Vec::new();
    for run in &runs {
        if run.result.failure().is_none() {
            continue;
        }
        for name in omk_gates::failing_tests(&gate_output(&paths.goal_dir, run)) {
            if !failing_tests.contains(&name) {
                failing_tests.push(name);
            }
        }
    }
    let record = AgentCheckRan {
        check,
        gates: runs.iter().map(|it| it.result.clone()).collect(),
        failing_tests,
    };
    let path = paths.agent_checks().join(format!("{check}.json"));
    let json = serde_json::to_vec(&record).expect("an agent check serializes to JSON");
    omk_events::files::write_atomic(&path, &json)
        .map_err(|source| Error::Write { path: path.clone(), source })?;
    Ok(AgentCheck { record, runs })
}

/// Returns the records in `dir` that `state` has not folded, by number: the agent's checks that
/// `omk mcp` recorded and the log does not have yet, appended as `agent_check_ran` when the
/// agent's run ends.
///
/// A record that cannot be read or does not match its file name is skipped with a warning:
/// the agent could write that directory, and its own account is never evidence.
pub(crate) fn read_records(dir: &Path, state: &GoalState) -> Vec<AgentCheckRan> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut records: Vec<AgentCheckRan> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(number) = path
            .file_name()
            .and_then(|it| it.to_str())
            .and_then(|it| it.strip_suffix(".json"))
            .and_then(|it| it.parse::<u32>().ok())
        else {
            continue;
        };
        if state.agent_checks.contains(&number) {
            continue;
        }
        let parsed = fs::read(&path).map_err(|err| err.to_string()).and_then(|bytes| {
            serde_json::from_slice::<AgentCheckRan>(&bytes).map_err(|err| err.to_string())
        });
        match parsed {
            Ok(record) if record.check == number => records.push(record),
            Ok(record) => {
                tracing::warn!(
                    path = %path.display(),
                    "skipped an agent check record: it says check {} in file {number}",
                    record.check
                );
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), "skipped an agent check record: {err}");
            }
        }
    }
    records.sort_by_key(|it| it.check);
    records
}

/// Returns the gates in `gates` named `names`, in the order given, or all of them when `names`
/// is empty.
fn select(gates: &[GateSpec], names: &[String]) -> Result<Vec<GateSpec>, Error> {
    if names.is_empty() {
        if gates.is_empty() {
            return Err(Error::NoGateToRun);
        }
        return Ok(gates.to_vec());
    }
    let mut selected: Vec<GateSpec> = Vec::new();
    for name in names {
        match gates.iter().find(|it| &it.name == name) {
            Some(spec) if !selected.contains(spec) => selected.push(spec.clone()),
            Some(_) => {}
            None => {
                let known = gates.iter().map(|it| it.name.clone()).collect();
                return Err(Error::UnknownGate { name: name.clone(), known });
            }
        }
    }
    Ok(selected)
}

/// Returns the redacted output of a gate run: its log, else the tail kept in memory.
fn gate_output(goal_dir: &Path, run: &GateRun) -> String {
    let Some(output) = &run.result.output else { return run.tail.clone() };
    let path = goal_dir.join(&output.path);
    let read = fs::File::open(&path).and_then(|file| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_LOG_READ), &mut text)
            .map(|_| text)
    });
    read.unwrap_or_else(|_| run.tail.clone())
}

/// The variables `omk mcp` gets from the goal's gate environment, which an agent may not pass
/// on to the servers it starts: where programs are and where the user config is.
const MCP_ENV: &[&str] = &["PATH", "HOME", "XDG_CONFIG_HOME"];

impl Controller<'_> {
    /// Returns omk's MCP server for the goal's agent: the `omk` binary with
    /// `-C ROOT mcp --goal ID`; `None` when `[agent] mcp = false`, the agent takes no MCP
    /// configuration, or there is no `omk` binary (library tests).
    pub(crate) fn mcp_server(&self) -> Option<McpServer> {
        if !self.config.agent.mcp || !self.agent.as_ref()?.spec().takes_mcp() {
            return None;
        }
        let program = self.sandbox.omk_binary()?.to_owned();
        let env = self
            .gate_environment
            .iter()
            .filter(|(name, _)| MCP_ENV.contains(&name.as_str()))
            .cloned()
            .collect();
        let args = vec![
            "-C".to_owned(),
            self.paths.repo_root.display().to_string(),
            "mcp".to_owned(),
            "--goal".to_owned(),
            self.paths.goal_id.to_string(),
        ];
        Some(McpServer { program, args, env })
    }
}
