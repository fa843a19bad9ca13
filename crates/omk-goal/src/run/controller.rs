//! The run controller: creates or reopens a goal, then runs the step its state says is next,
//! until the steps are done or something stops the run.
//!
//! Every step ends with an event, and the state is the fold of those events
//! ([`crate::decide::state::GoalState`]), so a run resumed after a crash, a pause or a budget stop asks
//! the same question as a fresh one — what is next? — and gets the first step not completed.
//! Steps are idempotent: one interrupted half-way is run again, and what it left behind (a
//! worktree, a commit) is adopted rather than made twice.

use std::{
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    sync::atomic::AtomicBool,
};

use omk_agent::{Agent, AgentConfig, AgentEnvironment, AgentSpec};
use omk_config::{ConfigEnv, Override, Settings, Source};
use omk_events::{
    BudgetExhausted, BudgetLimits, BudgetSet, BudgetWarned, ChangedFile, ClassificationSource,
    DecisionRequested, DecisionSubject, Envelope, Event, EventLog, FileOperation, GatePhase,
    GoalCancelled, GoalClassified, GoalCreated, GoalFailed, GoalId, GoalKind, GoalPaused,
    RecoveryAction, RecoveryPerformed, Step,
};
use omk_gates::{GateConfig, GatePlan, GateSpec};
use omk_worktree::{ChangeStatus, Repo, WorktreeConfig};

use crate::{
    clock::Clock,
    decide::state::{GoalState, Halt, Next},
    error::{Error, error_chain},
    goal_id::new_goal_id,
    layout::{EXCLUDE_PATTERN, GoalPaths, Layout, create_fresh_dir},
    run::control::{Stop, Stopper},
    sandbox::{RunSandbox, SandboxSite},
    store::RunOutcome,
};

/// What every run of a goal needs from its caller, fresh or resumed.
pub struct RunEnv<'a> {
    /// What omk-cli read from the environment for agents (`PATH`, Kimi's data directory).
    pub agent_environment: &'a AgentEnvironment,
    /// Where the user config is; `omk.toml` is at the repository root.
    pub config: &'a ConfigEnv,
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
    /// Called with every event right after it is in the log.
    pub observer: Box<dyn FnMut(&Envelope) + Send + 'a>,
    /// Set (by a Ctrl-C handler) to pause the run: checked at least every 100 ms.
    pub interrupt: Option<&'a AtomicBool>,
    /// Accept the change when, and only when, every check passes (`omk run --accept`); the
    /// proof names the policy as the one who accepted.
    pub accept: bool,
    /// The `omk` binary, whose watcher mode ends every process of the goal with omk (omk-cli
    /// passes itself; see omk-sandbox). `None` starts them directly, unconfined, and records no
    /// sandbox, which only library tests do.
    pub omk_binary: Option<&'a Path>,
}

/// What `omk run` asks for.
pub struct RunRequest<'a> {
    /// A directory inside the repository to work on.
    pub repo_dir: &'a Path,
    /// What the agent should change.
    pub prompt: &'a str,
    /// The agent that makes the change; `None` takes `[agent] default` of the configuration
    /// (the user config, else `omk.toml`).
    pub agent: Option<&'a AgentSpec>,
    /// The goal's kind, overriding the one omk infers from the prompt.
    pub kind: Option<GoalKind>,
    /// The goal's budget; a missing limit is no limit.
    pub budget: BudgetLimits,
    /// Shell command lines given on the command line, run as required gates `gate-1`, ...
    /// after those of `omk.toml`.
    pub extra_gates: &'a [String],
    /// Split the goal into slices run by agents at once (`--slices` or `--plan`); `None` runs
    /// one agent.
    pub team: Option<TeamRequest<'a>>,
    /// What the run needs from its caller.
    pub env: RunEnv<'a>,
    /// Waive the fail-to-pass rule (`--no-fail-to-pass`): the goal needs no test that fails
    /// without its change; the proof names the waiver. `[oracle] fail_to_pass = false` in
    /// `omk.toml` waives it too.
    pub waive_fail_to_pass: bool,
    /// How many repair rounds the agent may get when checks fail (`--repair`); `None` takes
    /// `[run] repair_rounds` (default 2). Recorded with the goal, so a resumed run keeps it.
    pub repair_rounds: Option<u32>,
}

/// What a team run asks for: where its tasks come from and how many agents run at once.
#[derive(Debug, Clone)]
pub struct TeamRequest<'a> {
    /// Where the task graph comes from.
    pub source: TeamSource<'a>,
    /// How many slices run at once; `None` takes the plan's `max_agents`, else the number of
    /// tasks up to 4.
    pub max_agents: Option<u32>,
    /// How many times a failed slice is retried; `None` takes the plan's, else 1.
    pub retries: Option<u32>,
    /// How long a worker may send no heartbeat before its task goes to another worker;
    /// `None` is 30 s.
    pub lease_ms: Option<u64>,
}

/// Where a team run's tasks come from.
#[derive(Debug, Clone, Copy)]
pub enum TeamSource<'a> {
    /// The prompt's list items, dealt into this many slices (`--slices N`).
    Slices(u32),
    /// A task plan file (`--plan FILE`).
    Plan(&'a Path),
}

/// What `omk resume` asks for.
pub struct ResumeRequest<'a> {
    /// A directory inside the repository.
    pub repo_dir: &'a Path,
    /// The goal (id, unique prefix or `latest`); `None` is the latest goal.
    pub goal: Option<&'a str>,
    /// A follow-up for the agent, which then runs again on the goal's worktree (after a
    /// rejection, or as the answer to the question a vague prompt raised).
    pub follow_up: Option<&'a str>,
    /// A new limit on repair rounds (`omk resume --repair N`), counting the rounds already run;
    /// `None` keeps the goal's.
    pub repair_rounds: Option<u32>,
    /// What the run needs from its caller.
    pub env: RunEnv<'a>,
}

/// Runs a goal from prompt to proof.
///
/// Inputs are checked before anything is created: an empty prompt, a directory outside a
/// repository, a repository without commits, a detached HEAD, an invalid `omk.toml` or an
/// agent that cannot run is an error and leaves no goal behind.
pub async fn run_goal(request: RunRequest<'_>) -> Result<RunOutcome, Error> {
    let RunRequest {
        repo_dir,
        prompt,
        agent,
        kind,
        budget,
        extra_gates,
        team,
        env,
        waive_fail_to_pass,
        repair_rounds,
    } = request;
    let prompt = prompt.trim();
    if prompt.is_empty() {
        return Err(Error::EmptyPrompt);
    }
    let repo = omk_worktree::open(repo_dir)?;
    let head = omk_worktree::head(&repo)?;
    let Some(base_branch) = head.branch.clone() else {
        return Err(Error::DetachedHead { commit: head.commit.clone() });
    };
    let overrides: Vec<Override> = agent
        .map(|spec| Override {
            key: "agent.default".to_owned(),
            value: spec.to_string(),
            flag: "--agent".to_owned(),
        })
        .into_iter()
        .collect();
    let config = load_config(&repo, extra_gates, env.gate_environment, env.config, &overrides)?;
    let planned = match &team {
        Some(team) => Some(crate::team::scheduler::plan_team(team, prompt)?),
        None => None,
    };
    let spec = match (agent, &config.agent.default_agent) {
        (Some(spec), _) => spec.clone(),
        (None, Some(default)) => match AgentSpec::parse(default)? {
            // A scenario named in a config file is relative to that file's directory.
            AgentSpec::Script(path) => AgentSpec::Script(config.default_agent_dir.join(path)),
            other => other,
        },
        (None, None) => match &planned {
            Some(planned) => plan_agent(&planned.tasks)?,
            None => return Err(Error::NoAgent),
        },
    };
    let agent = omk_agent::prepare(&spec, &config.agent, env.agent_environment)?;
    let team_agents = match &planned {
        Some(planned) => crate::team::scheduler::prepare_team_agents(
            &planned.tasks,
            &config,
            env.agent_environment,
        )?,
        None => std::collections::BTreeMap::new(),
    };

    let created_at = env.clock.now();
    let (goal_id, paths) = create_goal_dir(&repo, created_at, prompt)?;
    let log = EventLog::create(&paths.events, &goal_id)?;
    let created = GoalCreated {
        prompt: prompt.to_owned(),
        repo_root: repo.root.clone(),
        base_branch: Some(base_branch),
        base_commit: head.commit.clone(),
        agent: agent.spec().to_string(),
        omk_version: env!("CARGO_PKG_VERSION").to_owned(),
        extra_gates: extra_gates.to_vec(),
    };
    let state = GoalState::new(goal_id.clone(), created.clone());
    // The waiver is recorded once, with the goal, so a resumed run keeps it.
    let waiver = if waive_fail_to_pass {
        Some(omk_events::FailToPassWaiver::Flag)
    } else if config.goal.oracle.waive_fail_to_pass {
        Some(omk_events::FailToPassWaiver::Config)
    } else {
        None
    };
    let mut ctl = Controller::new(log, state, repo, paths, config, Some(agent), env)?;
    ctl.kind = kind;
    ctl.team_agents = team_agents;
    ctl.rec.record(Event::GoalCreated(created))?;
    if budget != BudgetLimits::default() {
        ctl.rec.record(Event::BudgetSet(BudgetSet { limits: budget }))?;
    }
    if let Some(by) = waiver {
        ctl.rec.record(Event::FailToPassWaived(omk_events::FailToPassWaived { by }))?;
    }
    match planned {
        Some(planned) => ctl.rec.record(Event::TaskGraphPlanned(planned))?,
        // `--repair` is recorded with the goal, so a resumed run keeps it; without it, the limit
        // of `[run] repair_rounds` is recorded when a round is first due.
        None => {
            if let Some(rounds) = repair_rounds {
                ctl.rec.record(Event::RepairRoundsSet(omk_events::RepairRoundsSet { rounds }))?;
            }
        }
    }
    ctl.fingerprint_checkout(omk_events::CheckoutMoment::Baseline)?;
    ctl.drive().await
}

/// Continues a goal from its last completed step.
///
/// Refuses a cancelled or accepted goal, and one another process is running (naming its pid).
/// A goal whose previous run crashed gets a `recovery_performed` event saying so; a torn last
/// line of its log is cut off and kept beside it first.
pub async fn resume_goal(request: ResumeRequest<'_>) -> Result<RunOutcome, Error> {
    let ResumeRequest { repo_dir, goal, follow_up, repair_rounds, env } = request;
    let paths = crate::store::find_goal(repo_dir, goal)?;
    crate::remote::origin::refuse_fetched(&paths, "resume")?;
    let repo = omk_worktree::open(&paths.repo_root)?;
    let (log, _) = EventLog::open(&paths.events, env.clock.now())?;
    let (events, state) = crate::store::read_state(&paths)?;
    state.refuse_final()?;
    let follow_up = follow_up.map(str::trim).filter(|it| !it.is_empty());
    if let (Some(halt @ Halt::Question(_)), None) = (&state.halt, follow_up) {
        return Err(Error::Halted { goal: state.goal_id.to_string(), halt: halt.describe() });
    }
    // A new limit on repair rounds is something to do when it lets a round start.
    let repair_rounds = repair_rounds.filter(|it| state.repair.limit != Some(*it));
    let next_with_limit = match repair_rounds {
        Some(rounds) => {
            let mut probe = state.clone();
            probe.repair.apply(
                &Event::RepairRoundsSet(omk_events::RepairRoundsSet { rounds }),
                &state.oracle_gates,
            );
            probe.next()
        }
        None => state.next(),
    };
    if state.halt.is_none() && follow_up.is_none() && next_with_limit == Next::Done {
        // A run killed after its last step left no proof, or an old one, and its lease.
        let proof = crate::store::fold_log(&paths.events)?;
        let stored = fs::read(&paths.proof).ok();
        if let Some(worktree) = &state.worktree {
            omk_worktree::unlock(&repo, &worktree.path).ok();
        }
        if stored.as_deref() == Some(proof.to_json().as_bytes()) {
            return Err(Error::NothingToResume { goal: state.goal_id.to_string() });
        }
        crate::store::write_proof_file(&paths, &proof)?;
        return Ok(RunOutcome { paths, proof });
    }
    let extra_gates = state.created.extra_gates.clone();
    let config = load_config(&repo, &extra_gates, env.gate_environment, env.config, &[])?;
    let spec = AgentSpec::parse(&state.created.agent)?;
    let agent = omk_agent::prepare(&spec, &config.agent, env.agent_environment)?;
    crate::run::control::clear_request(&paths.control());

    let crashed = !state.ended_cleanly;
    let last = events.last().map(|it| (it.seq, it.event.kind().to_owned()));
    let question = matches!(state.halt, Some(Halt::Question(_)));
    let team_agents = match &state.team {
        Some(team) => crate::team::scheduler::prepare_team_agents(
            &team.tasks(),
            &config,
            env.agent_environment,
        )?,
        None => std::collections::BTreeMap::new(),
    };
    let mut ctl = Controller::new(log, state, repo, paths, config, Some(agent), env)?;
    ctl.team_agents = team_agents;
    if crashed && let Some((seq, kind)) = last {
        let next = ctl.rec.state.next_with(Some(&ctl.config.gate_names));
        ctl.rec.record(Event::RecoveryPerformed(RecoveryPerformed {
            action: RecoveryAction::ResumedAfterCrash,
            detail: format!(
                "the previous run stopped after event {seq} ({kind}) without ending; going on \
                 from {}",
                describe_next(&next)
            ),
        }))?;
    }
    if question && let Some(answer) = follow_up {
        ctl.rec.record(Event::DecisionMade(omk_events::DecisionMade {
            subject: DecisionSubject::Question { id: "goal".to_owned() },
            approved: true,
            by: crate::run::accept_step::person_named(&ctl.repo, None),
            reason: Some(answer.to_owned()),
        }))?;
    }
    if let Some(rounds) = repair_rounds.filter(|_| ctl.rec.state.team.is_none()) {
        ctl.rec.record(Event::RepairRoundsSet(omk_events::RepairRoundsSet { rounds }))?;
    }
    ctl.rec.record(Event::GoalResumed(omk_events::GoalResumed {
        reason: "omk resume".to_owned(),
        follow_up: follow_up.map(str::to_owned),
    }))?;
    ctl.rebaseline_checkout(crashed)?;
    ctl.drive().await
}

/// Returns the goal's own agent when neither `--agent` nor a config names one: the first task's,
/// when every task of the plan names its own (a follow-up then runs it); otherwise an error
/// naming the tasks without one.
fn plan_agent(tasks: &[omk_events::TaskSpec]) -> Result<AgentSpec, Error> {
    let without: Vec<String> =
        tasks.iter().filter(|task| task.agent.is_none()).map(|task| task.id.clone()).collect();
    match tasks.first().and_then(|task| task.agent.as_deref()) {
        Some(first) if without.is_empty() => Ok(AgentSpec::parse(first)?),
        _ => Err(Error::TasksWithoutAgent { tasks: without }),
    }
}

/// Returns a step's name as the recovery event says it.
pub(crate) fn describe_next(next: &Next) -> &'static str {
    match next {
        Next::Classify => "intake",
        Next::Worktree => "the worktree step",
        Next::Baseline => "the baseline gates",
        Next::Team => "the team's slices and merge queue",
        Next::Agent { round: Some(_), .. } => "the repair round's agent step",
        Next::Agent { .. } => "the agent step",
        Next::Repair { .. } => "the start of a repair round",
        Next::EndRound(_) => "the end of the repair round",
        Next::Capture => "the change capture",
        Next::Commit => "the commit",
        Next::Surface => "the gate surface check",
        Next::Gates => "the gates",
        Next::FailToPass => "the fail-to-pass check",
        Next::Review => "the review",
        Next::Checkout => "the check of the user's checkout",
        Next::Done => "the end of the pipeline",
    }
}

/// Appends events to the goal's log, folds them into the state and tells the observer.
pub(crate) struct Recorder<'e> {
    pub(crate) log: EventLog,
    pub(crate) state: GoalState,
    pub(crate) clock: &'e dyn Clock,
    pub(crate) observer: Box<dyn FnMut(&Envelope) + Send + 'e>,
}

impl Recorder<'_> {
    pub(crate) fn record(&mut self, event: Event) -> Result<(), Error> {
        let envelope = self.log.append(self.clock.now(), event)?;
        tracing::trace!(seq = %envelope.seq, kind = envelope.event.kind(), "recorded");
        self.state.apply(&envelope);
        (self.observer)(&envelope);
        Ok(())
    }

    pub(crate) fn fail(&mut self, step: Step, error: &dyn std::error::Error) -> Result<(), Error> {
        self.record(Event::GoalFailed(GoalFailed { step, error: error_chain(error) }))
    }

    /// Records why the run stops.
    pub(crate) fn halt(&mut self, stop: &Stop) -> Result<(), Error> {
        self.record(match stop {
            Stop::Pause(reason) => Event::GoalPaused(GoalPaused { reason: reason.clone() }),
            Stop::Cancel(reason) => Event::GoalCancelled(GoalCancelled { reason: reason.clone() }),
            Stop::Budget(exhausted) => Event::BudgetExhausted(*exhausted),
        })
    }
}

/// The configuration a run works with: the layers of `layers.rs` and the gate plan.
pub(crate) struct Config {
    /// The directory of the file that set `[agent] default` (the repository root when none
    /// did), which a `script:` path in it is relative to.
    pub(crate) default_agent_dir: PathBuf,
    pub(crate) gates: Vec<GateSpec>,
    pub(crate) gate_names: Vec<String>,
    pub(crate) gate_config: GateConfig,
    pub(crate) agent: AgentConfig,
    pub(crate) worktree: WorktreeConfig,
    /// `[review]` and `[oracle]`.
    pub(crate) goal: omk_config::GoalConfig,
    /// `[sandbox]`.
    pub(crate) sandbox: omk_config::SandboxConfig,
    /// The key files `[trust]` lists: gate surface, as they decide whose proofs are merged.
    pub(crate) trust_keys: Vec<String>,
}

/// A goal being run: its log and state, and what its steps need.
pub(crate) struct Controller<'e> {
    pub(crate) rec: Recorder<'e>,
    pub(crate) repo: Repo,
    pub(crate) paths: GoalPaths,
    pub(crate) config: Config,
    /// The agent; `None` for commands that run no agent (accept).
    pub(crate) agent: Option<Agent>,
    pub(crate) kind: Option<GoalKind>,
    pub(crate) interrupt: Option<&'e AtomicBool>,
    pub(crate) accept: bool,
    pub(crate) max_parallel_gates: usize,
    pub(crate) gate_environment: &'e [(String, String)],
    pub(crate) reuse_cached_gates: bool,
    /// The agents of a team goal's tasks that name their own, by spec.
    pub(crate) team_agents: std::collections::BTreeMap<String, Agent>,
    /// How the goal's processes start: confined, recorded, ended with omk.
    pub(crate) sandbox: RunSandbox,
    /// The process groups a killed run left, which this run ended when it started.
    pub(crate) killed_leftovers: Vec<u32>,
}

impl<'e> Controller<'e> {
    /// Returns the controller of a goal whose log is open and folded into `state`; prepares
    /// its sandbox (its temporary and cache directories, and what the kernel supports).
    pub(crate) fn new(
        log: EventLog,
        state: GoalState,
        repo: Repo,
        paths: GoalPaths,
        config: Config,
        agent: Option<Agent>,
        env: RunEnv<'e>,
    ) -> Result<Self, Error> {
        let sandbox = RunSandbox::new(SandboxSite {
            omk_binary: env.omk_binary,
            config: &config.sandbox,
            repo_root: &repo.root,
            tmp: paths.tmp(),
            caches: Layout::new(&repo.root).toolchain_cache_dir(),
            records: Some(paths.processes()),
            worktree: &paths.worktree,
            agent_state: agent
                .as_ref()
                .map(|agent| {
                    let mut state = crate::sandbox::agent_state(agent);
                    // `omk mcp` runs in the agent's sandbox and keeps its checks there.
                    if config.agent.mcp && agent.spec().takes_mcp() && env.omk_binary.is_some() {
                        state.push(paths.agent_checks());
                    }
                    state
                })
                .unwrap_or_default(),
            builds: crate::builds::enabled(config.gate_config.shared_builds, env.gate_environment)
                .then(|| Layout::new(&repo.root).build_cache_dir()),
            environment: env.gate_environment,
            gates: &config.gates,
        })?;
        Ok(Self {
            rec: Recorder { log, state, clock: env.clock, observer: env.observer },
            repo,
            paths,
            config,
            agent,
            kind: None,
            interrupt: env.interrupt,
            accept: env.accept,
            max_parallel_gates: env.max_parallel_gates,
            gate_environment: env.gate_environment,
            reuse_cached_gates: env.reuse_cached_gates,
            team_agents: std::collections::BTreeMap::new(),
            sandbox,
            killed_leftovers: Vec::new(),
        })
    }
}

/// Whether the run goes on after a step.
pub(crate) enum Flow {
    Continue,
    Stop,
}

impl Controller<'_> {
    /// Runs steps until they are done or the run stops, then writes the proof.
    pub(crate) async fn drive(&mut self) -> Result<RunOutcome, Error> {
        self.start_sandbox()?;
        let mut stopper = Stopper::new(&self.paths, self.interrupt);
        let used = self.rec.state.meter.used_at(self.rec.clock.now());
        stopper.set_wall(used.wall_ms, self.rec.state.meter.limits().wall_ms);
        let result = self.steps(&stopper).await;
        // A lease that cannot be released is harmless: gc sees its holder is gone.
        if let Some(worktree) = &self.rec.state.worktree {
            omk_worktree::unlock(&self.repo, &worktree.path).ok();
        }
        self.unlock_slices();
        result?;
        if self.accept && self.rec.state.halt.is_none() && self.rec.state.next() == Next::Done {
            self.accept_as_policy().await?;
        }
        self.write_proof()
    }

    /// Releases the leases on a team goal's slice worktrees: no slice runs once the run stops,
    /// and a lock naming this process would outlive it (a previous run's dead holder too).
    pub(crate) fn unlock_slices(&self) {
        let Some(team) = &self.rec.state.team else { return };
        let layout = Layout::new(&self.repo.root);
        for task in team.tasks() {
            let path = layout.slice_worktree(&self.rec.state.goal_id, &task.id);
            if path.exists() {
                omk_worktree::unlock(&self.repo, &path).ok();
            }
        }
    }

    /// Locks the goal's worktree with this process as its holder, when it exists.
    pub(crate) fn lease_worktree(&self) {
        if let Some(worktree) = &self.rec.state.worktree {
            self.lease(&worktree.path);
        }
    }

    /// Locks the worktree at `path` (the goal's, or a slice's) with this process as its holder.
    pub(crate) fn lease(&self, path: &Path) {
        let lease = omk_worktree::lease_reason(self.rec.state.goal_id.as_str(), std::process::id());
        // Without the lease only `omk worktree gc` could take the worktree, and it checks the
        // goal's lock too.
        omk_worktree::lock(&self.repo, path, &lease).ok();
    }

    pub(crate) async fn steps(&mut self, stopper: &Stopper<'_>) -> Result<(), Error> {
        if self.rec.state.halt.is_some() {
            return Ok(());
        }
        if matches!(self.restore_worktree()?, Flow::Stop) {
            return Ok(());
        }
        self.lease_worktree();
        self.remove_scratch_leftovers();
        loop {
            if let Some(stop) = stopper.check() {
                self.rec.halt(&stop)?;
                stopper.clear();
                return Ok(());
            }
            let next = self.rec.state.next_with(Some(&self.config.gate_names));
            tracing::debug!(step = ?next, "next step");
            if next == Next::Done {
                return Ok(());
            }
            // A repair round spends what an agent run does, so its start is checked as one.
            let agent_next = matches!(next, Next::Agent { .. } | Next::Repair { .. });
            if self.check_budget(stopper, agent_next)? {
                return Ok(());
            }
            let flow = match next {
                Next::Classify => self.classify()?,
                Next::Worktree => self.create_worktree()?,
                Next::Baseline => self.run_gate_step(stopper, GatePhase::Baseline).await?,
                Next::Team => self.run_team(stopper).await?,
                Next::Agent { follow_up, round } => match self.prepare_retry(stopper)? {
                    Flow::Continue => self.run_agent(stopper, follow_up.as_deref(), round)?,
                    // A stop asked for during the wait is recorded at the loop's top.
                    Flow::Stop if self.rec.state.halt.is_none() => Flow::Continue,
                    Flow::Stop => Flow::Stop,
                },
                Next::Capture => self.capture()?,
                Next::Commit => self.commit()?,
                Next::Surface => self.check_surface()?,
                Next::Gates => self.run_gate_step(stopper, GatePhase::Proposed).await?,
                Next::FailToPass => self.run_fail_to_pass(stopper).await?,
                Next::Review => self.review()?,
                Next::Checkout => self.check_checkout()?,
                Next::Repair { round } => self.start_round(round)?,
                Next::EndRound(end) => self.end_round(end)?,
                Next::Done => Flow::Stop,
            };
            if matches!(flow, Flow::Stop) || self.rec.state.halt.is_some() {
                return Ok(());
            }
        }
    }

    /// Warns at 80 % of a limit and stops at 100 %; returns whether the run stopped.
    ///
    /// Wall time stops every step; tokens, cost and turns only the agent's, since nothing else
    /// spends them.
    fn check_budget(&mut self, stopper: &Stopper<'_>, agent_next: bool) -> Result<bool, Error> {
        let meter = &self.rec.state.meter;
        let mut used = meter.used();
        if let Some(wall) = stopper.wall_used_ms() {
            used.wall_ms = wall;
        }
        // Past the limit is not a warning: it stops the run where the resource is spent.
        let warnings: Vec<_> = meter
            .at_fraction(&used, 0.8)
            .into_iter()
            .filter(|(resource, limit, used)| {
                used < limit && !self.rec.state.warned.contains(&resource.to_string())
            })
            .collect();
        let exceeded = meter.exceeded(&used).filter(|(resource, _, _)| {
            agent_next || *resource == omk_events::BudgetResource::WallTime
        });
        for (resource, limit, used) in warnings {
            self.rec.record(Event::BudgetWarned(BudgetWarned { resource, limit, used }))?;
        }
        match exceeded {
            Some((resource, limit, used)) => {
                self.rec.record(Event::BudgetExhausted(BudgetExhausted {
                    resource,
                    limit,
                    used,
                }))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn classify(&mut self) -> Result<Flow, Error> {
        let prompt = self.rec.state.created.prompt.clone();
        let intake = crate::decide::intake::classify(&prompt);
        let (goal_kind, source) = match self.kind {
            Some(kind) => (kind, ClassificationSource::User),
            None => (intake.kind, ClassificationSource::Inferred),
        };
        let mut oracle_gates = crate::decide::intake::oracle_gates(
            goal_kind,
            &self.config.goal.oracle,
            &self.config.gates,
        );
        let configured = self.config.goal.oracle.gates.contains_key(&goal_kind);
        let needs_oracle = !matches!(goal_kind, GoalKind::Docs | GoalKind::Chore);
        if oracle_gates.is_empty() && needs_oracle && !configured {
            // Gates given on the command line are the user's own checks for this goal: without
            // a test gate, they are what proves it.
            let extra = self.rec.state.created.extra_gates.len();
            oracle_gates = (1..=extra).map(|n| format!("gate-{n}")).collect();
        }
        self.rec.record(Event::GoalClassified(GoalClassified {
            goal_kind,
            source,
            oracle_gates,
        }))?;
        // A team goal's tasks say what to do, whatever its prompt says.
        if let Some(question) = intake.question.filter(|_| self.rec.state.team.is_none()) {
            self.rec.record(Event::DecisionRequested(DecisionRequested {
                subject: DecisionSubject::Question { id: "goal".to_owned() },
                question,
            }))?;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

/// Reads the configuration's layers (defaults, the user config of `config_env`, `omk.toml` at
/// the repository root, then `overrides`) and plans the gates: configured, detected in the
/// user's checkout, then `extra` (command lines, as gates `gate-1`, ...).
///
/// Detection reads the checkout, not the agent's worktree, so an agent cannot weaken the gates
/// that judge it. A resumed run reads the layers again, as they are then; its agent is the one
/// `goal_created` names.
pub(crate) fn load_config(
    repo: &Repo,
    extra: &[String],
    environment: &[(String, String)],
    config_env: &ConfigEnv,
    overrides: &[Override],
) -> Result<Config, Error> {
    let settings = omk_config::load_settings(Some(&repo.root), config_env, overrides)?;
    let default_agent_dir = match settings.entry(&["agent", "default"]).map(|it| &it.source) {
        Some(Source::File { path, .. }) => {
            path.parent().map_or_else(|| repo.root.clone(), Path::to_path_buf)
        }
        _ => repo.root.clone(),
    };
    let Settings { gates: gate_config, agent, worktree, goal, sandbox, trust, .. } = settings;
    let search_path =
        environment.iter().find(|(name, _)| name == "PATH").map(|(_, it)| OsStr::new(it));
    let detected = omk_gates::detect_gates(&repo.root, search_path);
    let extra: Vec<GateSpec> = extra
        .iter()
        .enumerate()
        .map(|(idx, line)| GateSpec::shell(&format!("gate-{}", idx + 1), line))
        .collect();
    let plan: GatePlan = omk_gates::plan_gates(&gate_config, detected, &extra);
    let gates = plan.gates();
    let mut gate_names: Vec<String> = Vec::new();
    for gate in &gates {
        if gate_names.contains(&gate.name) {
            return Err(Error::DuplicateGate { name: gate.name.clone() });
        }
        gate_names.push(gate.name.clone());
    }
    Ok(Config {
        default_agent_dir,
        gates,
        gate_names,
        gate_config,
        agent,
        worktree,
        goal,
        sandbox,
        trust_keys: trust.keys,
    })
}

/// Creates `.omk/goals/<goal-id>` for a new goal, choosing an id no other goal has.
fn create_goal_dir(
    repo: &Repo,
    at: chrono::DateTime<chrono::Utc>,
    prompt: &str,
) -> Result<(GoalId, GoalPaths), Error> {
    omk_worktree::exclude(repo, EXCLUDE_PATTERN)?;
    let layout = Layout::new(&repo.root);
    let (goal_id, _) = create_fresh_dir(&layout.goals_dir(), |attempt| {
        let goal_id = new_goal_id(at, prompt, attempt);
        let dir = layout.goal(&goal_id).goal_dir;
        (goal_id, dir)
    })
    .map_err(|(path, source)| Error::Write { path, source })?;
    let paths = layout.goal(&goal_id);
    Ok((goal_id, paths))
}

pub(crate) fn changed_file(change: omk_worktree::FileChange) -> ChangedFile {
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
