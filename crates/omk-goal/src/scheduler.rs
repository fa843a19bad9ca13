//! The team scheduler: runs a team goal's slices at once, each in its own worktree and on its
//! own branch, and merges finished slices through a verified queue onto the goal's
//! integration branch (the goal's own worktree).
//!
//! Workers are threads, each running one slice's agent; the controller thread alone appends to
//! the log, so every worker's event reaches it through a channel. A worker's lease is its
//! heartbeat: the worker beats whenever its agent is polled (at least every 100 ms while it
//! runs), the controller writes the beat to `leases/<task>.json` every second, and a worker
//! silent for longer than the lease loses its task, which is retried on another worker.
//! A controller that dies leaves leases no one renews: the next `omk resume` records the
//! stopped attempts as failed (without counting them against the retries) and runs them again;
//! slices already completed, queued or landed are never run again.

use std::{
    fmt::Write as _,
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use omk_agent::{Agent, AgentOutcome, RunContext, RunControl};
use omk_events::{
    ActivityKind, AgentActivity, AgentStarted, BudgetExhausted, BudgetLimits, ChangesCommitted,
    Event, FailureCause, GatePhase, QueueLanded, QueueMerged, QueueReverted, SliceEvent,
    TakeOutReason, TaskClaimed, TaskCompleted, TaskFailed, TaskProposed, TaskSpec, TaskTakenOut,
    files::write_atomic,
};
use omk_gates::GateSpec;
use omk_proof::SliceStatus;
use omk_worktree::{CommitOptions, GitIdentity, Identity};
use tokio::sync::watch;

use crate::{
    control::{Stop, Stopper},
    controller::{Controller, Flow},
    error::{Error, error_chain},
};

/// How long a worker may go without a heartbeat before its lease expires, by default.
pub(crate) const DEFAULT_LEASE_MS: u64 = 30_000;
/// The deepest an agent-proposed task may be, by default: proposals of proposals are refused.
pub(crate) const DEFAULT_MAX_DEPTH: u32 = 1;
/// How often the controller looks at its workers and writes their leases.
const TICK: Duration = Duration::from_millis(50);
const LEASE_WRITE: Duration = Duration::from_secs(1);

/// A running slice's lease, `.omk/goals/<goal-id>/leases/<task>.json`: who holds the task,
/// the agent's process group, and the latest heartbeat.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Lease {
    task: String,
    attempt: u32,
    worker: String,
    /// The controller's process.
    pid: u32,
    /// The agent's process group; 0 before it started.
    agent_pgid: u32,
    #[serde(with = "omk_events::timestamp")]
    heartbeat_at: chrono::DateTime<chrono::Utc>,
}

/// What a worker thread sends the controller.
enum Message {
    /// An event of the slice's agent run, to record wrapped in `slice`.
    Event { task: String, attempt: u32, event: Event },
    /// The agent run ended.
    Done {
        task: String,
        attempt: u32,
        outcome: Result<AgentOutcome, omk_agent::Error>,
        /// The task's own budget stopped the run, with the resource.
        task_budget: Option<String>,
    },
}

/// A worker running a slice.
struct Running {
    task: String,
    attempt: u32,
    worker: String,
    /// Milliseconds since the scheduler's epoch at the worker's latest heartbeat.
    beat: Arc<AtomicU64>,
    /// Set to stop this worker alone (its lease expired).
    cancel: Arc<Mutex<Option<String>>>,
    /// The slice's tokens so far in this run.
    tokens: Arc<AtomicU64>,
    /// The agent's process group, once started (0 before).
    pgid: Arc<AtomicU32>,
    /// Whether its lease expired: the task was failed already and the run's end is evidence
    /// only.
    expired: bool,
    /// The process group its lease file names, so a new one is written at once.
    leased_pgid: Option<u32>,
    handle: Option<thread::JoinHandle<()>>,
}

/// A worker's hold on its agent: see [`RunControl`].
struct WorkerControl {
    task: String,
    attempt: u32,
    sender: Mutex<mpsc::Sender<Message>>,
    /// A stop of every worker: pause, cancel, the goal's budget.
    global: Arc<Mutex<Option<String>>>,
    cancel: Arc<Mutex<Option<String>>>,
    beat: Arc<AtomicU64>,
    epoch: Instant,
    started: Instant,
    budget: BudgetLimits,
    tokens: Arc<AtomicU64>,
    steps: AtomicU64,
    approvals: AtomicUsize,
    task_budget: Mutex<Option<String>>,
    /// The agent's process (and process group) id, once started.
    pgid: Arc<AtomicU32>,
}

impl WorkerControl {
    fn send(&self, event: Event) {
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        sender.send(Message::Event { task: self.task.clone(), attempt: self.attempt, event }).ok();
    }

    fn beat(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.beat.store(now, Ordering::Relaxed);
    }

    /// Returns the resource of the task's budget that ran out, if one did.
    fn over_task_budget(&self) -> Option<String> {
        let tokens = self.tokens.load(Ordering::Relaxed);
        let steps = self.steps.load(Ordering::Relaxed);
        let wall = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let budget = &self.budget;
        if budget.tokens.is_some_and(|limit| tokens >= limit) {
            return Some(format!("tokens ({tokens} of {})", budget.tokens.unwrap_or_default()));
        }
        if budget.turns.is_some_and(|limit| steps > limit) {
            return Some(format!("turns ({steps} of {})", budget.turns.unwrap_or_default()));
        }
        if budget.wall_ms.is_some_and(|limit| wall >= limit) {
            return Some(format!("wall time ({} ms)", budget.wall_ms.unwrap_or_default()));
        }
        None
    }
}

impl RunControl for WorkerControl {
    fn on_activity(&self, activity: &AgentActivity) {
        self.beat();
        match activity.activity {
            ActivityKind::Step => {
                self.steps.fetch_max(u64::from(activity.step), Ordering::Relaxed);
            }
            ActivityKind::Usage => {
                if let Some(usage) = activity.usage {
                    self.tokens.store(usage.total(), Ordering::Relaxed);
                }
            }
            ActivityKind::ToolCall | ActivityKind::ToolResult | ActivityKind::Message => {}
        }
        self.send(Event::AgentActivity(activity.clone()));
    }

    fn on_spawn(&self, pid: u32) {
        self.pgid.store(pid, Ordering::Relaxed);
    }

    fn on_approval(&self, decided: &omk_events::ApprovalDecided) {
        self.approvals.fetch_add(1, Ordering::Relaxed);
        self.send(Event::ApprovalDecided(decided.clone()));
    }

    fn stop_requested(&self) -> Option<String> {
        self.beat();
        let global = self.global.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if global.is_some() {
            return global;
        }
        let cancel = self.cancel.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if cancel.is_some() {
            return cancel;
        }
        let over = self.over_task_budget()?;
        let reason = format!("the task's budget ran out: {over}");
        *self.task_budget.lock().unwrap_or_else(PoisonError::into_inner) = Some(over);
        Some(reason)
    }
}

/// What one worker needs to run a slice, owned so the thread can take it.
struct Job {
    task: String,
    attempt: u32,
    agent: Agent,
    worktree: PathBuf,
    prompt: String,
    goal_id: String,
    artifact_root: PathBuf,
    transcript_path: String,
}

fn spawn_worker(job: Job, control: WorkerControl) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        control.send(Event::AgentStarted(AgentStarted { agent: job.agent.spec().to_string() }));
        let ctx = RunContext {
            worktree: &job.worktree,
            prompt: &job.prompt,
            goal_id: &job.goal_id,
            artifact_root: &job.artifact_root,
            transcript_path: &job.transcript_path,
            control: Some(&control),
        };
        let outcome = job.agent.run(&ctx);
        // Answers sent while the agent ran were sent already.
        let seen = control.approvals.load(Ordering::Relaxed);
        if let Ok(outcome) = &outcome {
            for decided in outcome.approvals.iter().skip(seen) {
                control.send(Event::ApprovalDecided(decided.clone()));
            }
        }
        let task_budget = control.task_budget.lock().unwrap_or_else(PoisonError::into_inner).take();
        let sender = control.sender.lock().unwrap_or_else(PoisonError::into_inner);
        sender
            .send(Message::Done { task: job.task, attempt: job.attempt, outcome, task_budget })
            .ok();
    })
}

/// The scheduler's live state during one run of the team step.
struct Crew {
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    global: Arc<Mutex<Option<String>>>,
    running: Vec<Running>,
    epoch: Instant,
    /// The stop asked for; the run halts with it once every worker has stopped.
    stopping: Option<Stop>,
    last_lease_write: Option<Instant>,
}

impl Crew {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn stop_all(&mut self, stop: Stop) {
        *self.global.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop.reason());
        self.stopping.get_or_insert(stop);
    }
}

/// Stops the process group `pgid` an agent of a dead controller left running: SIGTERM, then
/// SIGKILL 300 ms later; returns whether it was running.
fn stop_orphan(pgid: i32) -> bool {
    use nix::{
        sys::signal::{Signal, killpg},
        unistd::Pid,
    };
    let group = Pid::from_raw(pgid);
    if killpg(group, None).is_err() {
        return false;
    }
    killpg(group, Signal::SIGTERM).ok();
    for _ in 0..6 {
        thread::sleep(Duration::from_millis(50));
        if killpg(group, None).is_err() {
            return true;
        }
    }
    killpg(group, Signal::SIGKILL).ok();
    true
}

/// The names of a team goal's slice worktree and branch.
pub(crate) fn slice_names(goal_id: &str, task: &str) -> (String, String) {
    (format!("{goal_id}.{task}"), format!("omk/{goal_id}.{task}"))
}

impl Controller<'_> {
    /// Runs the team's slices and its merge queue until every slice landed, failed or was taken
    /// out, or the run stops.
    pub(crate) async fn run_team(&mut self, stopper: &Stopper<'_>) -> Result<Flow, Error> {
        let (sender, receiver) = mpsc::channel();
        let mut crew = Crew {
            sender,
            receiver,
            global: Arc::new(Mutex::new(None)),
            running: Vec::new(),
            epoch: Instant::now(),
            stopping: None,
            last_lease_write: None,
        };
        self.recover_slices()?;
        let result = self.team_loop(stopper, &mut crew).await;
        // Whatever happened, no worker outlives the step.
        if !crew.running.is_empty() {
            crew.stop_all(Stop::Pause("the controller stopped".to_owned()));
            while !crew.running.is_empty() {
                match crew.receiver.recv_timeout(Duration::from_secs(30)) {
                    Ok(message) => {
                        if result.is_ok() {
                            self.handle_message(&mut crew, message)?;
                        } else if let Message::Done { task, attempt, .. } = message {
                            crew.running.retain(|it| !(it.task == task && it.attempt == attempt));
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        result
    }

    async fn team_loop(&mut self, stopper: &Stopper<'_>, crew: &mut Crew) -> Result<Flow, Error> {
        loop {
            while let Ok(message) = crew.receiver.try_recv() {
                self.handle_message(crew, message)?;
            }
            if crew.stopping.is_none() {
                if let Some(stop) = stopper.check() {
                    crew.stop_all(stop);
                } else if let Some(exhausted) = self.team_budget_exhausted(stopper, crew) {
                    crew.stop_all(Stop::Budget(exhausted));
                }
            }
            if let Some(stop) = &crew.stopping {
                if crew.running.is_empty() {
                    let stop = stop.clone();
                    self.rec.halt(&stop)?;
                    stopper.clear();
                    return Ok(Flow::Stop);
                }
                tokio::time::sleep(TICK).await;
                continue;
            }
            self.check_leases(crew)?;
            self.write_leases(crew);
            if self.rec.state.halt.is_some() {
                return Ok(Flow::Stop);
            }
            self.take_out_blocked()?;
            // Workers first, so agents work while the queue's gates run.
            self.claim_ready(crew)?;
            // The merge queue: one batch at a time, while the workers go on.
            if let Flow::Stop = self.merge_next_batch(stopper, crew).await? {
                crew.stopping.get_or_insert(Stop::Pause("stopped during the merge queue".into()));
                continue;
            }
            let Some(team) = &self.rec.state.team else { return Ok(Flow::Stop) };
            if crew.running.is_empty() {
                if team.complete() {
                    return Ok(Flow::Continue);
                }
                let waiting = team.open_batch.is_some() || !team.next_batch().is_empty();
                if !waiting && team.ready().is_empty() && team.blocked_by_dependency().is_empty() {
                    // Nothing runs, nothing can start: should not happen with a valid graph.
                    let stuck: Vec<String> = team
                        .slices
                        .iter()
                        .filter(|it| !it.status.is_final())
                        .map(|it| format!("{} ({})", it.task.id, it.status))
                        .collect();
                    return Err(Error::Plan {
                        source_name: "of this goal".to_owned(),
                        problems: vec![format!("no task can start: {}", stuck.join(", "))],
                    });
                }
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// Settles the slices a previous run left claimed: a commit made but not recorded is
    /// adopted, an agent that finished by itself is followed up, an agent stopped by a pause
    /// runs again in the same attempt, and an attempt whose controller died is failed (not
    /// counted against its retries) so that it runs again.
    fn recover_slices(&mut self) -> Result<(), Error> {
        let Some(team) = &self.rec.state.team else { return Ok(()) };
        let running: Vec<_> = team
            .slices
            .iter()
            .filter(|it| it.status == SliceStatus::Running)
            .map(|it| {
                (
                    it.task.id.clone(),
                    it.attempt(),
                    it.claim.clone(),
                    it.agent_done.is_some(),
                    it.agent_stopped,
                )
            })
            .collect();
        for (task, attempt, claim, agent_done, agent_stopped) in running {
            let worker = claim.as_ref().map_or_else(|| "w?".to_owned(), |it| it.worker.clone());
            if agent_done {
                self.finish_slice(&task, attempt)?;
            } else if agent_stopped {
                // Paused or stopped at the budget: the slice goes on where it stopped.
                // Its claim, recorded again, has `claim_ready` start its worker.
                if let Some(claim) = claim {
                    self.rec.record(Event::TaskClaimed(claim))?;
                }
            } else {
                let lease = self.release_dead_lease(&task);
                self.rec.record(Event::TaskFailed(TaskFailed {
                    task: task.clone(),
                    attempt,
                    worker,
                    cause: FailureCause::ControllerStopped,
                    reason: format!(
                        "the controller running it stopped before the slice finished{lease}"
                    ),
                    retry: true,
                }))?;
            }
        }
        Ok(())
    }

    /// Returns where the lease of `task` is kept.
    fn lease_path(&self, task: &str) -> PathBuf {
        self.paths.goal_dir.join("leases").join(format!("{task}.json"))
    }

    /// Releases the lease a dead controller left for `task`: stops the agent it left running
    /// and removes the file; returns what the lease said, for the failure's reason.
    fn release_dead_lease(&self, task: &str) -> String {
        let path = self.lease_path(task);
        let Ok(text) = std::fs::read_to_string(&path) else { return String::new() };
        std::fs::remove_file(&path).ok();
        let Ok(lease) = serde_json::from_str::<Lease>(&text) else { return String::new() };
        let orphan =
            i32::try_from(lease.agent_pgid).ok().filter(|it| *it > 0).is_some_and(stop_orphan);
        format!(
            " (its lease was held by pid {}, last heartbeat at {}{})",
            lease.pid,
            lease.heartbeat_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            if orphan { "; its agent was still running and was stopped" } else { "" }
        )
    }

    /// Handles a worker's message: records its event, or follows up its finished run.
    fn handle_message(&mut self, crew: &mut Crew, message: Message) -> Result<(), Error> {
        match message {
            Message::Event { task, attempt, event } => {
                self.rec.record(Event::Slice(SliceEvent { task, attempt, event: Box::new(event) }))
            }
            Message::Done { task, attempt, outcome, task_budget } => {
                let Some(idx) =
                    crew.running.iter().position(|it| it.task == task && it.attempt == attempt)
                else {
                    return Ok(());
                };
                let mut running = crew.running.remove(idx);
                if let Some(handle) = running.handle.take() {
                    handle.join().ok();
                }
                std::fs::remove_file(self.lease_path(&task)).ok();
                let worker = running.worker.clone();
                let outcome = match outcome {
                    Ok(outcome) => outcome,
                    Err(err) => {
                        if running.expired {
                            return Ok(());
                        }
                        return self.fail_attempt(
                            &task,
                            attempt,
                            &worker,
                            FailureCause::AgentFailed,
                            &format!("the agent could not run: {}", error_chain(&err)),
                        );
                    }
                };
                let finished = outcome.finished;
                let stopped = finished.stopped.is_some();
                let failed = finished.status == omk_events::AgentStatus::Failed;
                // Killed by a signal omk did not send: directly, or as a shell reports it
                // (128 + the signal) for a `cmd:` agent whose command was killed.
                let signal = finished.process.as_ref().and_then(|it| {
                    let by_shell = it
                        .exit_code
                        .filter(|code| (129..160).contains(code))
                        .map(|code| code - 128);
                    (!it.timed_out && !it.idle_timed_out)
                        .then_some(it.signal.or(by_shell))
                        .flatten()
                });
                let error = finished.error.clone();
                self.rec.record(Event::Slice(SliceEvent {
                    task: task.clone(),
                    attempt,
                    event: Box::new(Event::AgentFinished(finished)),
                }))?;
                if running.expired {
                    return Ok(());
                }
                // Paused, cancelled or out of the goal's budget: resumed later.
                if stopped && task_budget.is_none() {
                    return Ok(());
                }
                let failure = if let Some(over) = task_budget {
                    Some((FailureCause::Budget, format!("the task's budget ran out: {over}")))
                } else if let Some(signal) = signal {
                    let why = format!("the agent's process was killed by signal {signal}");
                    Some((FailureCause::WorkerDied, why))
                } else if failed {
                    let why = error.unwrap_or_else(|| "the agent reported a failure".to_owned());
                    Some((FailureCause::AgentFailed, why))
                } else {
                    None
                };
                if let Some((cause, why)) = failure {
                    return self.fail_attempt(&task, attempt, &worker, cause, &why);
                }
                self.finish_slice(&task, attempt)
            }
        }
    }

    /// Records a failed attempt, with a retry when the task has one left and the cause is one
    /// a retry can fix.
    fn fail_attempt(
        &mut self,
        task: &str,
        attempt: u32,
        worker: &str,
        cause: FailureCause,
        reason: &str,
    ) -> Result<(), Error> {
        let Some(slice) = self.rec.state.team.as_ref().and_then(|it| it.slice(task)) else {
            return Ok(());
        };
        let retryable = !matches!(cause, FailureCause::Budget | FailureCause::NoChange);
        let retry = retryable && slice.failures < slice.task.retries;
        self.rec.record(Event::TaskFailed(TaskFailed {
            task: task.to_owned(),
            attempt,
            worker: worker.to_owned(),
            cause,
            reason: reason.to_owned(),
            retry,
        }))
    }

    /// Captures and commits a slice whose agent finished, then queues it for merging and
    /// decides the follow-up tasks its agent proposed.
    fn finish_slice(&mut self, task: &str, attempt: u32) -> Result<(), Error> {
        let Some(slice) = self.rec.state.team.as_ref().and_then(|it| it.slice(task)).cloned()
        else {
            return Ok(());
        };
        let Some(claim) = slice.claim.clone() else { return Ok(()) };
        let worker = claim.worker.clone();
        let wrap = |event: Event| {
            Event::Slice(SliceEvent { task: task.to_owned(), attempt, event: Box::new(event) })
        };
        let commit = match &slice.committed {
            Some(commit) => {
                omk_worktree::head_commit(&claim.worktree).ok().filter(|it| it.id == *commit)
            }
            None => None,
        };
        let commit = match commit {
            Some(commit) => commit,
            None => {
                let changes =
                    match omk_worktree::capture_changes(&claim.worktree, &claim.base_commit) {
                        Ok(changes) => changes,
                        Err(err) => {
                            return self.fail_attempt(
                                task,
                                attempt,
                                &worker,
                                FailureCause::Git,
                                &error_chain(&err),
                            );
                        }
                    };
                let captured = self.captured(&claim.worktree, &claim.base_commit, changes)?;
                let files: Vec<String> = captured.files.iter().map(|it| it.path.clone()).collect();
                self.rec.record(wrap(Event::ChangesCaptured(captured)))?;
                if files.is_empty() {
                    return self.fail_attempt(
                        task,
                        attempt,
                        &worker,
                        FailureCause::NoChange,
                        "the agent finished without changing any file",
                    );
                }
                let outside: Vec<&String> = files
                    .iter()
                    .filter(|path| {
                        !slice.task.writes.is_empty()
                            && !crate::plan::path_in_write_set(path, &slice.task.writes)
                    })
                    .collect();
                if !outside.is_empty() {
                    let outside: Vec<&str> = outside.iter().map(|it| it.as_str()).collect();
                    return self.fail_attempt(
                        task,
                        attempt,
                        &worker,
                        FailureCause::OutsideWriteSet,
                        &format!(
                            "it changed {} outside its declared writes ({})",
                            outside.join(", "),
                            slice.task.writes.join(", ")
                        ),
                    );
                }
                let message = format!(
                    "omk: slice {task}\n\n{}",
                    slice.task.prompt.lines().next().unwrap_or_default()
                );
                let goal_id = self.rec.state.goal_id.to_string();
                let config = &self.config.worktree;
                let options = CommitOptions {
                    identity: Identity { name: &config.author_name, email: &config.author_email },
                    message: &message,
                    goal_id: &goal_id,
                    time: self.rec.clock.now().timestamp(),
                };
                let committed = match omk_worktree::commit(&claim.worktree, &options) {
                    Ok(Some(commit)) => Ok(commit),
                    Ok(None) => omk_worktree::head_commit(&claim.worktree),
                    Err(err) => Err(err),
                };
                let committed = match committed {
                    Ok(commit) => commit,
                    Err(err) => {
                        return self.fail_attempt(
                            task,
                            attempt,
                            &worker,
                            FailureCause::Git,
                            &error_chain(&err),
                        );
                    }
                };
                self.rec.record(wrap(Event::ChangesCommitted(ChangesCommitted {
                    commit: committed.id.clone(),
                    tree_id: committed.tree_id.clone(),
                    parent: committed.parent.clone(),
                    branch: claim.branch.clone(),
                    merged_base: None,
                })))?;
                committed
            }
        };
        // The paths of the capture the commit was made from, folded from its event.
        let paths = self
            .rec
            .state
            .team
            .as_ref()
            .and_then(|it| it.slice(task))
            .map(|it| it.changed.clone())
            .unwrap_or_default();
        self.rec.record(Event::TaskCompleted(TaskCompleted {
            task: task.to_owned(),
            attempt,
            commit: commit.id,
            tree_id: commit.tree_id,
            paths,
        }))?;
        if let Some((_, Some(message))) = &slice.agent_done {
            self.decide_proposals(&slice.task, message)?;
        }
        Ok(())
    }

    /// Decides each follow-up task the agent of `proposer` proposed in `message`.
    fn decide_proposals(&mut self, proposer: &TaskSpec, message: &str) -> Result<(), Error> {
        for proposal in crate::plan::parse_proposals(message) {
            let Some(team) = &self.rec.state.team else { return Ok(()) };
            let (task, decision) = match proposal {
                Ok(proposal) => {
                    let meter = &self.rec.state.meter;
                    let (limits, used) = (meter.limits(), meter.used());
                    let budget_left = BudgetLimits {
                        wall_ms: limits.wall_ms.map(|it| it.saturating_sub(used.wall_ms)),
                        tokens: limits.tokens.map(|it| it.saturating_sub(used.tokens)),
                        usd: limits.usd.map(|it| (it - used.usd.unwrap_or(0.0)).max(0.0)),
                        turns: limits.turns.map(|it| it.saturating_sub(used.turns)),
                    };
                    let policy = crate::plan::ProposalPolicy {
                        max_depth: team.planned.max_depth,
                        max_tasks: team.planned.max_tasks,
                        budget_left,
                    };
                    crate::plan::decide_proposal(&team.tasks(), proposer, proposal, &policy)
                }
                Err(reason) => (
                    TaskSpec {
                        proposed_by: Some(proposer.id.clone()),
                        depth: proposer.depth + 1,
                        ..TaskSpec::new("(unreadable)", "")
                    },
                    Err(reason),
                ),
            };
            let (accepted, reason) = match decision {
                Ok(reason) => (true, reason),
                Err(reason) => (false, reason),
            };
            self.rec.record(Event::TaskProposed(TaskProposed { task, accepted, reason }))?;
        }
        Ok(())
    }

    /// Whether the goal's budget ran out, counting what the running slices spent so far.
    fn team_budget_exhausted(&self, stopper: &Stopper<'_>, crew: &Crew) -> Option<BudgetExhausted> {
        let meter = &self.rec.state.meter;
        let mut used = meter.used();
        if let Some(wall) = stopper.wall_used_ms() {
            used.wall_ms = wall;
        }
        used.tokens += crew.running.iter().map(|it| it.tokens.load(Ordering::Relaxed)).sum::<u64>();
        meter.exceeded(&used).map(|(resource, limit, used)| BudgetExhausted {
            resource,
            limit,
            used,
        })
    }

    /// Fails the task of every worker whose heartbeat is older than the lease, and stops it.
    fn check_leases(&mut self, crew: &mut Crew) -> Result<(), Error> {
        let Some(team) = &self.rec.state.team else { return Ok(()) };
        let lease_ms = team.planned.lease_ms;
        let now = crew.now_ms();
        let mut expired = Vec::new();
        for running in &mut crew.running {
            let beat = running.beat.load(Ordering::Relaxed);
            if !running.expired && now.saturating_sub(beat) > lease_ms {
                running.expired = true;
                *running.cancel.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some("its lease expired".to_owned());
                expired.push((
                    running.task.clone(),
                    running.attempt,
                    running.worker.clone(),
                    now - beat,
                ));
            }
        }
        for (task, attempt, worker, silent) in expired {
            self.fail_attempt(
                &task,
                attempt,
                &worker,
                FailureCause::LeaseExpired,
                &format!(
                    "worker {worker} sent no heartbeat for {silent} ms (the lease is {lease_ms} ms)"
                ),
            )?;
        }
        Ok(())
    }

    /// Writes each running worker's lease with its latest heartbeat: once a second, and at
    /// once when its agent's process group is new, so a controller killed right after a start
    /// leaves the group's id behind.
    fn write_leases(&self, crew: &mut Crew) {
        let second = crew.last_lease_write.is_none_or(|it| it.elapsed() >= LEASE_WRITE);
        let fresh =
            |running: &Running| running.leased_pgid != Some(running.pgid.load(Ordering::Relaxed));
        if !second && !crew.running.iter().any(fresh) {
            return;
        }
        crew.last_lease_write = Some(Instant::now());
        let dir = self.paths.goal_dir.join("leases");
        if crew.running.is_empty() || std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let now = self.rec.clock.now();
        let elapsed = crew.now_ms();
        for running in &mut crew.running {
            let ago = elapsed.saturating_sub(running.beat.load(Ordering::Relaxed));
            let pgid = running.pgid.load(Ordering::Relaxed);
            let lease = Lease {
                task: running.task.clone(),
                attempt: running.attempt,
                worker: running.worker.clone(),
                pid: std::process::id(),
                agent_pgid: pgid,
                heartbeat_at: now - chrono::Duration::milliseconds(i64::try_from(ago).unwrap_or(0)),
            };
            let Ok(bytes) = serde_json::to_vec(&lease) else { continue };
            let path = self.lease_path(&running.task);
            if write_atomic(&path, &bytes).is_ok() {
                running.leased_pgid = Some(pgid);
            }
        }
    }

    /// Takes out the pending slices whose dependency failed or was taken out.
    fn take_out_blocked(&mut self) -> Result<(), Error> {
        loop {
            let Some(team) = &self.rec.state.team else { return Ok(()) };
            let blocked = team.blocked_by_dependency();
            if blocked.is_empty() {
                return Ok(());
            }
            for (task, dependency) in blocked {
                self.rec.record(Event::TaskTakenOut(TaskTakenOut {
                    task,
                    reason: TakeOutReason::Dependency { task: dependency },
                }))?;
            }
        }
    }

    /// Claims ready slices for free workers, up to the team's `max_agents`.
    fn claim_ready(&mut self, crew: &mut Crew) -> Result<(), Error> {
        // Slices running in the log without a worker here (those a pause stopped, claimed
        // again on resume) start first.
        let unstarted: Vec<String> = self.rec.state.team.as_ref().map_or_else(Vec::new, |team| {
            team.slices
                .iter()
                .filter(|it| it.status == SliceStatus::Running)
                .filter(|it| !crew.running.iter().any(|running| running.task == it.task.id))
                .map(|it| it.task.id.clone())
                .collect()
        });
        for task in unstarted {
            self.start_worker(crew, &task)?;
        }
        loop {
            let Some(team) = &self.rec.state.team else { return Ok(()) };
            let max = usize::try_from(team.planned.max_agents.max(1)).unwrap_or(1);
            if crew.running.len() >= max {
                return Ok(());
            }
            let Some(slice) = team.ready().into_iter().next() else { return Ok(()) };
            let busy: Vec<&str> = crew.running.iter().map(|it| it.worker.as_str()).collect();
            let free: Vec<String> = (1..=max)
                .map(|n| format!("w{n}"))
                .filter(|it| !busy.contains(&it.as_str()))
                .collect();
            // A retry goes to another worker than the one that failed, when one is free.
            let worker = free
                .iter()
                .find(|it| slice.failed_on.as_deref() != Some(it.as_str()))
                .or_else(|| free.first())
                .cloned()
                .unwrap_or_else(|| "w1".to_owned());
            let task = slice.task.clone();
            let attempt = slice.attempt() + 1;
            let previous = slice.claim.clone();
            let (name, branch) = slice_names(self.rec.state.goal_id.as_str(), &task.id);
            let path = self.paths.worktree.with_file_name(&name);
            let base_commit = match &previous {
                Some(claim) => claim.base_commit.clone(),
                None if task.depends_on.is_empty() => self.rec.state.created.base_commit.clone(),
                // A task that depends on others starts from the integrated tree that has them.
                None => match &team.landed_head {
                    Some(head) => head.clone(),
                    None => self.rec.state.created.base_commit.clone(),
                },
            };
            let made = self.ensure_worktree(&path, &branch, &base_commit);
            self.rec.record(Event::TaskClaimed(TaskClaimed {
                task: task.id.clone(),
                attempt,
                worker: worker.clone(),
                worktree: path.clone(),
                branch,
                base_commit,
            }))?;
            match made {
                Ok(_) => {
                    self.lease(&path);
                    self.start_worker(crew, &task.id)?;
                }
                Err(err) => {
                    let reason = error_chain(&err);
                    self.fail_attempt(&task.id, attempt, &worker, FailureCause::Git, &reason)?;
                }
            }
        }
    }

    /// Starts the worker of the slice's latest claim.
    fn start_worker(&mut self, crew: &mut Crew, task: &str) -> Result<(), Error> {
        let Some(slice) = self.rec.state.team.as_ref().and_then(|it| it.slice(task)).cloned()
        else {
            return Ok(());
        };
        let Some(claim) = slice.claim else { return Ok(()) };
        let agent = match &slice.task.agent {
            Some(spec) => self.team_agents.get(spec).cloned(),
            None => self.agent.clone(),
        };
        let Some(agent) = agent else {
            return self.fail_attempt(
                task,
                claim.attempt,
                &claim.worker,
                FailureCause::AgentFailed,
                "its agent was not prepared",
            );
        };
        let run = slice.agent_runs + 1;
        let mut prompt = slice.task.prompt.clone();
        if !slice.task.writes.is_empty() {
            let _ =
                write!(prompt, "\n\nChange only these paths: {}.", slice.task.writes.join(", "));
        }
        prompt.push_str(
            "\n\nIf more work is needed that is not part of this task, end your final message \
             with one line per task: omk-task: {\"id\": \"...\", \"prompt\": \"...\", \
             \"writes\": [\"...\"]}",
        );
        let beat = Arc::new(AtomicU64::new(crew.now_ms()));
        let cancel = Arc::new(Mutex::new(None));
        let tokens = Arc::new(AtomicU64::new(0));
        let pgid = Arc::new(AtomicU32::new(0));
        let control = WorkerControl {
            task: task.to_owned(),
            attempt: claim.attempt,
            sender: Mutex::new(crew.sender.clone()),
            global: crew.global.clone(),
            cancel: cancel.clone(),
            beat: beat.clone(),
            epoch: crew.epoch,
            started: Instant::now(),
            budget: slice.task.budget,
            tokens: tokens.clone(),
            steps: AtomicU64::new(0),
            approvals: AtomicUsize::new(0),
            task_budget: Mutex::new(None),
            pgid: pgid.clone(),
        };
        let job = Job {
            task: task.to_owned(),
            attempt: claim.attempt,
            agent,
            worktree: claim.worktree.clone(),
            prompt,
            goal_id: format!("{}.{task}", self.rec.state.goal_id),
            artifact_root: self.paths.goal_dir.clone(),
            transcript_path: format!("artifacts/slices/{task}/run-{run}/transcript.jsonl"),
        };
        let handle = spawn_worker(job, control);
        crew.running.push(Running {
            task: task.to_owned(),
            attempt: claim.attempt,
            worker: claim.worker,
            beat,
            cancel,
            tokens,
            pgid,
            expired: false,
            leased_pgid: None,
            handle: Some(handle),
        });
        Ok(())
    }

    /// Merges the next batch of queued slices onto the integration branch and runs the gates
    /// on the merged tree: a passing batch lands; a failing one is reverted, and split in
    /// halves when it holds more than one slice, or taken out when it holds one.
    async fn merge_next_batch(
        &mut self,
        stopper: &Stopper<'_>,
        crew: &mut Crew,
    ) -> Result<Flow, Error> {
        let Some(worktree) = self.rec.state.worktree.clone() else { return Ok(Flow::Stop) };
        let Some(team) = &self.rec.state.team else { return Ok(Flow::Continue) };
        let open = team.open_batch.clone();
        let (tasks, from_commit, tree_id) = match open {
            // A batch merged by a run that stopped before its gates decided.
            Some(open) => (open.tasks, open.from_commit, open.tree_id),
            None => {
                let batch = team.next_batch();
                if batch.is_empty() {
                    return Ok(Flow::Continue);
                }
                let commits: Vec<(String, String)> = batch
                    .iter()
                    .filter_map(|task| {
                        let completed = team.slice(task)?.completed.as_ref()?;
                        Some((task.clone(), completed.commit.clone()))
                    })
                    .collect();
                let from = omk_worktree::head_commit(&worktree.path)?;
                // Start from the landed head: a batch never builds on an undecided one.
                let mut merged = Vec::new();
                for (task, commit) in commits {
                    let message =
                        format!("omk: merge slice {task}\n\nOmk-Goal: {}", self.rec.state.goal_id);
                    let who = GitIdentity {
                        identity: Identity {
                            name: &self.config.worktree.author_name,
                            email: &self.config.worktree.author_email,
                        },
                        time: self.rec.clock.now().timestamp(),
                    };
                    match omk_worktree::merge_base_into(&worktree.path, &commit, &message, who) {
                        Ok(_) => merged.push(task),
                        Err(omk_worktree::Error::Conflicts { paths, .. }) => {
                            self.rec.record(Event::TaskTakenOut(TaskTakenOut {
                                task,
                                reason: TakeOutReason::Conflict { paths },
                            }))?;
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                if merged.is_empty() {
                    return Ok(Flow::Continue);
                }
                let head = omk_worktree::head_commit(&worktree.path)?;
                self.rec.record(Event::QueueMerged(QueueMerged {
                    tasks: merged.clone(),
                    from_commit: from.id.clone(),
                    commit: head.id.clone(),
                    tree_id: head.tree_id.clone(),
                }))?;
                (merged, from.id, head.tree_id)
            }
        };
        let known = self.rec.state.team.as_ref().and_then(|it| it.failed_trees.get(&tree_id));
        let failed = match known {
            // The same tree failed these gates before: running them again tells nothing new.
            Some(failed) => failed.clone(),
            None => {
                let ran = self.integration_gates(stopper, crew, &worktree.path, &tree_id).await?;
                let Some(failed) = ran else { return Ok(Flow::Stop) };
                failed
            }
        };
        if failed.is_empty() {
            let head = omk_worktree::head_commit(&worktree.path)?;
            self.rec.record(Event::QueueLanded(QueueLanded {
                tasks,
                commit: head.id,
                tree_id: head.tree_id,
            }))?;
            return Ok(Flow::Continue);
        }
        omk_worktree::reset_hard(&worktree.path, &from_commit)?;
        self.rec.record(Event::QueueReverted(QueueReverted {
            tasks: tasks.clone(),
            tree_id: tree_id.clone(),
            failed_gates: failed.clone(),
            reset_to: from_commit,
        }))?;
        if let [task] = tasks.as_slice() {
            self.rec.record(Event::TaskTakenOut(TaskTakenOut {
                task: task.clone(),
                reason: TakeOutReason::BrokeGates { gates: failed, tree_id },
            }))?;
        }
        Ok(Flow::Continue)
    }

    /// Runs every gate on the integration worktree (phase `integration`); returns the required
    /// gates that failed there and passed on the base, or `None` when the run stopped.
    ///
    /// The workers go on meanwhile (their heartbeats too); their messages wait in the channel
    /// until the gates are done.
    async fn integration_gates(
        &mut self,
        stopper: &Stopper<'_>,
        crew: &mut Crew,
        worktree: &std::path::Path,
        tree_id: &str,
    ) -> Result<Option<Vec<String>>, Error> {
        let specs: Vec<GateSpec> = self.config.gates.clone();
        let (cancel, cancelled) = watch::channel(false);
        let options =
            self.gate_options(worktree, GatePhase::Integration, tree_id.to_owned(), cancelled);
        let baseline_failed = self.rec.state.baseline_failed.clone();
        let mut failed: Vec<String> = Vec::new();
        let global = crew.global.clone();
        let stop = self
            .run_gates_recorded(
                stopper,
                &specs,
                &options,
                cancel,
                // The workers stop at once, not after the gates.
                |stop| *global.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop.reason()),
                |result| {
                    if result.required
                        && result.failure().is_some()
                        && !baseline_failed.contains(&result.name)
                    {
                        failed.push(result.name.clone());
                    }
                },
            )
            .await?;
        if let Some(stop) = stop {
            crew.stopping.get_or_insert(stop);
            return Ok(None);
        }
        failed.sort();
        failed.dedup();
        Ok(Some(failed))
    }
}
