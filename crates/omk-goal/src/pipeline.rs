//! The pipeline of one goal: worktree → agent → changes → gates → proof.

use std::{collections::BTreeSet, ffi::OsStr, fs, io, path::Path, time::Duration};

use omk_agent::{Agent, AgentConfig, AgentEnvironment, AgentSpec, RunContext};
use omk_events::{
    AgentStarted, ChangedFile, ChangesCaptured, Envelope, Event, EventLog, FileOperation,
    GatePhase, GoalCreated, GoalFailed, GoalId, Step, WorktreeCreated,
};
use omk_gates::{CacheOptions, GateConfig, GateEvent, GatePlan, GateSpec, RunOptions};
use omk_proof::Proof;
use omk_worktree::{ChangeStatus, CreateOptions, Repo, WorktreeConfig};

use crate::{
    clock::Clock,
    error::{Error, error_chain},
    files::write_atomic,
    goal_id::new_goal_id,
    store::{GoalPaths, goal_paths},
};

/// What `omk run` asks for.
pub struct RunRequest<'a> {
    /// A directory inside the repository to work on.
    pub repo_dir: &'a Path,
    /// What the agent should change.
    pub prompt: &'a str,
    /// The agent that makes the change; `None` takes `[agent] default` from `omk.toml`.
    pub agent: Option<&'a AgentSpec>,
    /// What omk-cli read from the environment for agents (`PATH`, Kimi's data directory).
    pub agent_environment: &'a AgentEnvironment,
    /// Gates given on the command line, run after those of `omk.toml`.
    pub extra_gates: &'a [GateSpec],
    /// How many gates run at once.
    pub max_parallel_gates: usize,
    /// The environment gates run with (omk-cli passes its own); `PATH` in it also decides which
    /// gates are detected (cargo-nextest or cargo test).
    pub gate_environment: &'a [(String, String)],
    /// Whether gate results may come from the cache (`.omk/cache/gates`); fresh passed results
    /// are stored either way.
    pub reuse_cached_gates: bool,
    /// The source of event timestamps.
    pub clock: &'a dyn Clock,
    /// Called with every event right after it is durably in the log.
    pub observer: &'a mut dyn FnMut(&Envelope),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The goal's files.
    pub paths: GoalPaths,
    /// The proof, as written to `proof.json`; its `goal_id` names the goal.
    pub proof: Proof,
}

/// Runs a goal from prompt to proof.
///
/// Inputs are checked before anything is created; see the crate docs for what is an error.
pub async fn run_goal(request: RunRequest<'_>) -> Result<RunOutcome, Error> {
    let prompt = request.prompt.trim();
    if prompt.is_empty() {
        return Err(Error::EmptyPrompt);
    }
    let repo = omk_worktree::open(request.repo_dir)?;
    let head = omk_worktree::head(&repo)?;
    let (plan, gate_config, agent_config, worktree_config) =
        load_config(&repo, request.extra_gates, request.gate_environment)?;
    let gates = plan.gates();
    let spec = match (request.agent, &agent_config.default_agent) {
        (Some(spec), _) => spec.clone(),
        (None, Some(default)) => match omk_agent::AgentSpec::parse(default)? {
            // A scenario named in omk.toml is relative to the repository root.
            AgentSpec::Script(path) => AgentSpec::Script(repo.root.join(path)),
            other => other,
        },
        (None, None) => return Err(Error::NoAgent),
    };
    let agent = omk_agent::prepare(&spec, &agent_config, request.agent_environment)?;

    let created_at = request.clock.now();
    let (goal_id, paths) = create_goal_dir(&repo, created_at, prompt)?;
    let events_log = EventLog::create(&paths.events, &goal_id)?;
    let mut log = Recorder { log: events_log, request };
    log.record(Event::GoalCreated(GoalCreated {
        prompt: prompt.to_owned(),
        repo_root: repo.root.clone(),
        base_branch: head.branch.clone(),
        base_commit: head.commit.clone(),
        agent: agent.spec().to_string(),
        omk_version: env!("CARGO_PKG_VERSION").to_owned(),
    }))?;

    let setup = Setup {
        base_commit: &head.commit,
        agent: &agent,
        gates: &gates,
        gate_config: &gate_config,
        worktree_config: &worktree_config,
    };
    drive(&mut log, &repo, &paths, &goal_id, &setup).await?;

    // The proof is the fold of the log as it is on disk.
    let proof = crate::store::fold_log(&paths.events)?;
    write_atomic(&paths.proof, proof.to_json().as_bytes())
        .map_err(|source| Error::Write { path: paths.proof.clone(), source })?;
    Ok(RunOutcome { paths, proof })
}

/// Appends events to the goal's log and tells the observer about each.
struct Recorder<'r> {
    log: EventLog,
    request: RunRequest<'r>,
}

impl Recorder<'_> {
    fn record(&mut self, event: Event) -> Result<(), Error> {
        let envelope = self.log.append(self.request.clock.now(), event)?;
        (self.request.observer)(&envelope);
        Ok(())
    }

    fn fail(&mut self, step: Step, error: &dyn std::error::Error) -> Result<(), Error> {
        self.record(Event::GoalFailed(GoalFailed { step, error: error_chain(error) }))
    }
}

/// What the steps after `goal_created` work with, checked before the goal was created.
struct Setup<'a> {
    base_commit: &'a str,
    agent: &'a Agent,
    gates: &'a [GateSpec],
    /// The `omk.toml` gate sections that say how to run the gates.
    gate_config: &'a GateConfig,
    worktree_config: &'a WorktreeConfig,
}

/// Runs the steps after `goal_created`; a failed step is recorded and ends the pipeline.
///
/// The worktree is leased (locked with this goal and process) while the steps run, so that
/// `omk worktree gc` and `git worktree remove` leave it alone; the lease ends with the steps.
async fn drive(
    log: &mut Recorder<'_>,
    repo: &Repo,
    paths: &GoalPaths,
    goal_id: &GoalId,
    setup: &Setup<'_>,
) -> Result<(), Error> {
    let branch = format!("omk/{goal_id}");
    let options = CreateOptions {
        path: &paths.worktree,
        branch: &branch,
        base_commit: setup.base_commit,
        copy: &setup.worktree_config.copy,
        setup: &setup.worktree_config.setup,
    };
    let worktree = match omk_worktree::create(repo, &options) {
        Ok(worktree) => worktree,
        Err(err) => return log.fail(Step::Worktree, &err),
    };
    let lease = omk_worktree::lease_reason(goal_id.as_str(), std::process::id());
    if let Err(err) = omk_worktree::lock(repo, &worktree.path, &lease) {
        return log.fail(Step::Worktree, &err);
    }
    let result = drive_leased(log, repo, paths, goal_id, setup, &worktree).await;
    // A lease that cannot be released is harmless: gc sees its holder is gone.
    omk_worktree::unlock(repo, &worktree.path).ok();
    result
}

/// Runs agent, change capture and gates in the leased worktree.
async fn drive_leased(
    log: &mut Recorder<'_>,
    repo: &Repo,
    paths: &GoalPaths,
    goal_id: &GoalId,
    setup: &Setup<'_>,
    worktree: &omk_worktree::Worktree,
) -> Result<(), Error> {
    let Setup { base_commit, agent, gates, gate_config, .. } = *setup;
    log.record(Event::WorktreeCreated(WorktreeCreated {
        path: worktree.path.clone(),
        branch: worktree.branch.clone(),
        base_commit: worktree.base_commit.clone(),
    }))?;

    log.record(Event::AgentStarted(AgentStarted { agent: agent.spec().to_string() }))?;
    let goal_id_text = goal_id.to_string();
    let ctx = RunContext {
        worktree: &worktree.path,
        prompt: log.request.prompt.trim(),
        goal_id: &goal_id_text,
        artifact_root: &paths.goal_dir,
        transcript_path: "artifacts/agent/transcript.jsonl",
    };
    match agent.run(&ctx) {
        Ok(outcome) => {
            for decided in outcome.approvals {
                log.record(Event::ApprovalDecided(decided))?;
            }
            log.record(Event::AgentFinished(outcome.finished))?;
        }
        Err(err) => return log.fail(Step::Agent, &err),
    }

    let tree_id = match omk_worktree::capture_changes(&worktree.path, base_commit) {
        Ok(changes) => {
            log.record(Event::ChangesCaptured(ChangesCaptured {
                base_commit: base_commit.to_owned(),
                tree_id: changes.tree_id.clone(),
                files: changes.files.into_iter().map(changed_file).collect(),
            }))?;
            changes.tree_id
        }
        Err(err) => return log.fail(Step::Changes, &err),
    };

    // What the gates check, compared between the base commit and the proposed tree.
    let environment = log.request.gate_environment;
    let named = omk_gates::files_named_by(gates);
    match omk_gates::check_gate_surface(&worktree.path, base_commit, &tree_id, &named, environment)
    {
        Ok(check) => log.record(Event::GateSurfaceChecked(check))?,
        Err(err) => return log.fail(Step::Gates, &err),
    }

    let mut env_names: Vec<String> =
        omk_gates::DEFAULT_CACHE_ENV.iter().map(|it| (*it).to_owned()).collect();
    env_names.extend(gate_config.cache_env.iter().cloned());
    let options = RunOptions {
        worktree: worktree.path.clone(),
        artifact_root: paths.goal_dir.clone(),
        artifact_dir: "artifacts/gates".to_owned(),
        max_parallel: log.request.max_parallel_gates,
        kill_grace: Duration::from_secs(5),
        phase: GatePhase::Proposed,
        // Nothing writes to the worktree between the capture and the gates, so they run on it.
        tree_id: Some(tree_id),
        env: environment.to_vec(),
        cache: Some(CacheOptions {
            dir: crate::store::gate_cache_dir(&repo.root),
            run_id: goal_id.to_string(),
            env_names,
            read: log.request.reuse_cached_gates,
        }),
        cancel: None,
    };
    let mut recorded = Ok(());
    let mut observer = |event: GateEvent<'_>| {
        let event = match event {
            GateEvent::Started(started) => Event::GateStarted(started.clone()),
            GateEvent::Finished(run) => Event::GateFinished(run.result.clone()),
        };
        if recorded.is_ok() {
            recorded = log.record(event);
        }
    };
    omk_gates::run_gates(gates, &options, &mut observer).await;
    recorded
}

/// Returns the plan of the gates of `omk.toml` at the repository root, the gates detected in the
/// user's checkout and `extra`, the gate sections, the agent sections and the worktree section.
///
/// Detection reads the checkout, not the agent's worktree, for the reason `omk.toml` does.
fn load_config(
    repo: &Repo,
    extra: &[GateSpec],
    environment: &[(String, String)],
) -> Result<(GatePlan, GateConfig, AgentConfig, WorktreeConfig), Error> {
    let path = repo.root.join("omk.toml");
    let (gate_config, agent_config, worktree_config) = match fs::read_to_string(&path) {
        Ok(text) => (
            omk_gates::parse_config(&text, &path)?,
            omk_agent::parse_config(&text, &path)?,
            omk_worktree::parse_config(&text, &path)?,
        ),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            (GateConfig::default(), AgentConfig::default(), WorktreeConfig::default())
        }
        Err(source) => return Err(Error::ReadConfig { path, source }),
    };
    let search_path =
        environment.iter().find(|(name, _)| name == "PATH").map(|(_, it)| OsStr::new(it));
    let detected = omk_gates::detect_gates(&repo.root, search_path);
    let plan = omk_gates::plan_gates(&gate_config, detected, extra);
    let mut names = BTreeSet::new();
    for gate in plan.entries.iter().filter(|it| it.skipped.is_none()) {
        if !names.insert(gate.spec.name.as_str()) {
            return Err(Error::DuplicateGate { name: gate.spec.name.clone() });
        }
    }
    Ok((plan, gate_config, agent_config, worktree_config))
}

/// Creates `.omk/goals/<goal-id>` for a new goal, choosing an id no other goal has.
fn create_goal_dir(
    repo: &Repo,
    at: chrono::DateTime<chrono::Utc>,
    prompt: &str,
) -> Result<(GoalId, GoalPaths), Error> {
    omk_worktree::exclude(repo, "/.omk/")?;
    let goals_dir = crate::store::goals_dir(&repo.root);
    fs::create_dir_all(&goals_dir).map_err(|source| Error::Write { path: goals_dir, source })?;
    let mut attempt = 1;
    loop {
        let goal_id = new_goal_id(at, prompt, attempt);
        attempt += 1;
        let paths = goal_paths(&repo.root, &goal_id);
        match fs::create_dir(&paths.goal_dir) {
            Ok(()) => return Ok((goal_id, paths)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(Error::Write { path: paths.goal_dir, source }),
        }
    }
}

fn changed_file(change: omk_worktree::FileChange) -> ChangedFile {
    let (operation, renamed_from) = match change.status {
        ChangeStatus::Added => (FileOperation::Created, None),
        ChangeStatus::Modified => (FileOperation::Modified, None),
        ChangeStatus::Deleted => (FileOperation::Deleted, None),
        ChangeStatus::Renamed { from } => (FileOperation::Renamed, Some(from)),
    };
    ChangedFile {
        path: change.path,
        operation,
        renamed_from,
        lines_added: change.lines.map(|(added, _)| added),
        lines_removed: change.lines.map(|(_, removed)| removed),
        blob_id: change.blob_id,
    }
}
