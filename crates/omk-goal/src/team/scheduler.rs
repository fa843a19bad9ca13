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
    collections::BTreeMap,
    fs,
    sync::{Arc, Mutex, atomic::Ordering, mpsc},
    time::{Duration, Instant},
};

use omk_agent::{Agent, AgentEnvironment, AgentSpec};
use omk_events::{
    BudgetExhausted, Event, PlanSource, TakeOutReason, TaskGraphPlanned, TaskSpec, TaskTakenOut,
};

use crate::{
    error::Error,
    run::{
        control::{Stop, Stopper},
        controller::{Config, Controller, Flow, TeamRequest, TeamSource},
    },
    team::{
        plan::{DEFAULT_LEASE_MS, DEFAULT_MAX_DEPTH},
        worker::{Crew, Message},
    },
};

/// How often the controller looks at its workers and writes their leases.
const TICK: Duration = Duration::from_millis(50);

/// Reads a team run's task graph, checked (by `parse_plan`, or valid by construction from
/// `--slices`), before anything is created.
pub(crate) fn plan_team(team: &TeamRequest<'_>, prompt: &str) -> Result<TaskGraphPlanned, Error> {
    let (source, tasks, plan_agents) = match team.source {
        TeamSource::Slices(count) => {
            let retries = team.retries.unwrap_or(1);
            let tasks = crate::team::plan::slices_from_prompt(prompt, count, retries)?;
            (PlanSource::Slices { count }, tasks, None)
        }
        TeamSource::Plan(path) => {
            let bytes = fs::read(path)
                .map_err(|source| Error::ReadInput { path: path.to_owned(), source })?;
            let text = String::from_utf8_lossy(&bytes);
            let mut plan = crate::team::plan::parse_plan(path, &text)?;
            if let Some(retries) = team.retries {
                for task in &mut plan.tasks {
                    task.retries = retries;
                }
            }
            let source =
                PlanSource::File { path: path.to_owned(), sha256: omk_events::sha256_hex(&bytes) };
            (source, plan.tasks, plan.max_agents)
        }
    };
    let count = u32::try_from(tasks.len()).unwrap_or(u32::MAX);
    let max_agents = team.max_agents.or(plan_agents).unwrap_or_else(|| count.min(4)).max(1);
    Ok(TaskGraphPlanned {
        source,
        max_agents,
        lease_ms: team.lease_ms.unwrap_or(DEFAULT_LEASE_MS),
        max_depth: DEFAULT_MAX_DEPTH,
        // Proposals may grow the graph to twice its planned size.
        max_tasks: count.saturating_mul(2).max(count + 2),
        tasks,
    })
}

/// Prepares the agent of every task that names its own, so a missing program or scenario is
/// an error before anything runs.
pub(crate) fn prepare_team_agents(
    tasks: &[TaskSpec],
    config: &Config,
    environment: &AgentEnvironment,
) -> Result<BTreeMap<String, Agent>, Error> {
    let mut agents = BTreeMap::new();
    for spec in tasks.iter().filter_map(|task| task.agent.as_ref()) {
        if agents.contains_key(spec) {
            continue;
        }
        let parsed = AgentSpec::parse(spec)?;
        agents.insert(spec.clone(), omk_agent::prepare(&parsed, &config.agent, environment)?);
    }
    Ok(agents)
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

    pub(crate) async fn team_loop(
        &mut self,
        stopper: &Stopper<'_>,
        crew: &mut Crew,
    ) -> Result<Flow, Error> {
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

    /// Whether the goal's budget ran out, counting what the running slices spent so far.
    pub(crate) fn team_budget_exhausted(
        &self,
        stopper: &Stopper<'_>,
        crew: &Crew,
    ) -> Option<BudgetExhausted> {
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

    /// Takes out the pending slices whose dependency failed or was taken out.
    pub(crate) fn take_out_blocked(&mut self) -> Result<(), Error> {
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
}
