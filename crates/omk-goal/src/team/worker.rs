//! The scheduler's workers: threads that each run one slice's agent with omk's hold on it, and
//! send its events to the controller thread, which alone appends to the log.

use std::{
    fmt::Write as _,
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::Instant,
};

use omk_agent::{Agent, AgentOutcome, RunContext, RunControl};
use omk_events::{ActivityKind, AgentActivity, AgentStarted, BudgetLimits, Event, FailureCause};

use crate::{
    error::Error,
    layout::artifacts,
    run::{control::Stop, controller::Controller},
};

/// What a worker thread sends the controller.
pub(crate) enum Message {
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
pub(crate) struct Running {
    pub(crate) task: String,
    pub(crate) attempt: u32,
    pub(crate) worker: String,
    /// Milliseconds since the scheduler's epoch at the worker's latest heartbeat.
    pub(crate) beat: Arc<AtomicU64>,
    /// Set to stop this worker alone (its lease expired).
    pub(crate) cancel: Arc<Mutex<Option<String>>>,
    /// The slice's tokens so far in this run.
    pub(crate) tokens: Arc<AtomicU64>,
    /// The agent's process group, once started (0 before).
    pub(crate) pgid: Arc<AtomicU32>,
    /// Whether its lease expired: the task was failed already and the run's end is evidence
    /// only.
    pub(crate) expired: bool,
    /// The process group its lease file names, so a new one is written at once.
    pub(crate) leased_pgid: Option<u32>,
    pub(crate) handle: Option<thread::JoinHandle<()>>,
}

/// A worker's hold on its agent: see [`RunControl`].
pub(crate) struct WorkerControl {
    pub(crate) task: String,
    pub(crate) attempt: u32,
    pub(crate) sender: Mutex<mpsc::Sender<Message>>,
    /// A stop of every worker: pause, cancel, the goal's budget.
    pub(crate) global: Arc<Mutex<Option<String>>>,
    pub(crate) cancel: Arc<Mutex<Option<String>>>,
    pub(crate) beat: Arc<AtomicU64>,
    pub(crate) epoch: Instant,
    pub(crate) started: Instant,
    pub(crate) budget: BudgetLimits,
    pub(crate) tokens: Arc<AtomicU64>,
    pub(crate) steps: AtomicU64,
    pub(crate) approvals: AtomicUsize,
    pub(crate) task_budget: Mutex<Option<String>>,
    /// The agent's process (and process group) id, once started.
    pub(crate) pgid: Arc<AtomicU32>,
    /// The slice's agent, whose price table estimates the cost of its usage so far.
    pub(crate) agent: Agent,
    /// The latest cumulative usage the agent reported.
    pub(crate) usage: Mutex<Option<omk_events::TokenUsage>>,
}

impl WorkerControl {
    pub(crate) fn send(&self, event: Event) {
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        sender.send(Message::Event { task: self.task.clone(), attempt: self.attempt, event }).ok();
    }

    pub(crate) fn beat(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.beat.store(now, Ordering::Relaxed);
    }

    /// Returns the resource of the task's budget that ran out, if one did.
    pub(crate) fn over_task_budget(&self) -> Option<String> {
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
        // Cost counts as the agent reports usage, at its price table.
        let usage = *self.usage.lock().unwrap_or_else(PoisonError::into_inner);
        let usd = usage.and_then(|usage| self.agent.estimated_cost(&usage)).map(|it| it.usd);
        if let (Some(limit), Some(usd)) = (budget.usd, usd)
            && usd >= limit
        {
            return Some(format!("usd ({usd} of {limit})"));
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
                    *self.usage.lock().unwrap_or_else(PoisonError::into_inner) = Some(usage);
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
pub(crate) struct Job {
    pub(crate) task: String,
    pub(crate) attempt: u32,
    pub(crate) agent: Agent,
    pub(crate) worktree: PathBuf,
    pub(crate) prompt: String,
    pub(crate) goal_id: String,
    pub(crate) artifact_root: PathBuf,
    pub(crate) transcript_path: String,
    /// How the slice's agent starts: confined to the slice's worktree.
    pub(crate) sandbox: omk_sandbox::Sandbox,
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
            sandbox: &job.sandbox,
            // A slice's agent gets no MCP server: its gates are the merge queue's.
            mcp: None,
            continuation: None,
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
pub(crate) struct Crew {
    pub(crate) sender: mpsc::Sender<Message>,
    pub(crate) receiver: mpsc::Receiver<Message>,
    pub(crate) global: Arc<Mutex<Option<String>>>,
    pub(crate) running: Vec<Running>,
    pub(crate) epoch: Instant,
    /// The stop asked for; the run halts with it once every worker has stopped.
    pub(crate) stopping: Option<Stop>,
    pub(crate) last_lease_write: Option<Instant>,
}

impl Crew {
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn stop_all(&mut self, stop: Stop) {
        *self.global.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop.reason());
        self.stopping.get_or_insert(stop);
    }
}

impl Controller<'_> {
    /// Starts the worker of the slice's latest claim.
    pub(crate) fn start_worker(&mut self, crew: &mut Crew, task: &str) -> Result<(), Error> {
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
            agent: agent.clone(),
            usage: Mutex::new(None),
        };
        let sandbox = self.sandbox.for_agent(&claim.worktree, &agent);
        let job = Job {
            task: task.to_owned(),
            attempt: claim.attempt,
            sandbox,
            agent,
            worktree: claim.worktree.clone(),
            prompt,
            goal_id: format!("{}.{task}", self.rec.state.goal_id),
            artifact_root: self.paths.goal_dir.clone(),
            transcript_path: artifacts::slice_transcript(task, run.into()),
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
}
