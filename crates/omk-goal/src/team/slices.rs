//! A slice's life in the scheduler: claimed for a free worker in its own worktree, followed up
//! when its agent finishes (captured, committed and queued, or failed with a cause and maybe a
//! retry), and the follow-up tasks its agent proposed decided.

use omk_events::{
    BudgetLimits, ChangesCommitted, Event, FailureCause, SliceEvent, TaskClaimed, TaskCompleted,
    TaskFailed, TaskProposed, TaskSpec,
};
use omk_proof::SliceStatus;

use crate::{
    error::{Error, error_chain},
    layout::Layout,
    run::controller::Controller,
    team::{
        fold::Slice,
        worker::{Crew, Message},
    },
};

impl Controller<'_> {
    /// Settles the slices a previous run left claimed: a commit made but not recorded is
    /// adopted, an agent that finished by itself is followed up, an agent stopped by a pause
    /// runs again in the same attempt, and an attempt whose controller died is failed (not
    /// counted against its retries) so that it runs again.
    pub(crate) fn recover_slices(&mut self) -> Result<(), Error> {
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

    /// Handles a worker's message: records its event, or follows up its finished run.
    pub(crate) fn handle_message(
        &mut self,
        crew: &mut Crew,
        message: Message,
    ) -> Result<(), Error> {
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
                std::fs::remove_file(self.paths.lease(&task)).ok();
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
    pub(crate) fn fail_attempt(
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
    pub(crate) fn finish_slice(&mut self, task: &str, attempt: u32) -> Result<(), Error> {
        let Some(slice) = self.rec.state.team.as_ref().and_then(|it| it.slice(task)).cloned()
        else {
            return Ok(());
        };
        let Some(claim) = slice.claim.clone() else { return Ok(()) };
        let worker = claim.worker.clone();
        let commit = match &slice.committed {
            Some(commit) => {
                omk_worktree::head_commit(&claim.worktree).ok().filter(|it| it.id == *commit)
            }
            None => None,
        };
        let commit = match commit {
            Some(commit) => commit,
            None => match self.commit_slice(&slice, &claim, attempt)? {
                Ok(commit) => commit,
                Err((cause, reason)) => {
                    return self.fail_attempt(task, attempt, &worker, cause, &reason);
                }
            },
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

    /// Captures the slice's worktree and commits it on the slice's branch, recording both;
    /// returns the commit, or why the attempt failed: git failed, nothing changed, or a path
    /// changed outside the task's declared writes.
    fn commit_slice(
        &mut self,
        slice: &Slice,
        claim: &TaskClaimed,
        attempt: u32,
    ) -> Result<Result<omk_worktree::Commit, (FailureCause, String)>, Error> {
        let wrap = |event: Event| {
            let task = slice.task.id.clone();
            Event::Slice(SliceEvent { task, attempt, event: Box::new(event) })
        };
        let changes = match self.capture_worktree(&claim.worktree, &claim.base_commit) {
            Ok(changes) => changes,
            Err(err) => return Ok(Err((FailureCause::Git, error_chain(&err)))),
        };
        let captured = self.captured(&claim.worktree, &claim.base_commit, changes)?;
        let files: Vec<String> = captured.files.iter().map(|it| it.path.clone()).collect();
        self.rec.record(wrap(Event::ChangesCaptured(captured)))?;
        if files.is_empty() {
            let reason = "the agent finished without changing any file".to_owned();
            return Ok(Err((FailureCause::NoChange, reason)));
        }
        let writes = &slice.task.writes;
        let outside: Vec<&str> = files
            .iter()
            .filter(|path| {
                !writes.is_empty() && !crate::team::plan::path_in_write_set(path, writes)
            })
            .map(String::as_str)
            .collect();
        if !outside.is_empty() {
            let reason = format!(
                "it changed {} outside its declared writes ({})",
                outside.join(", "),
                writes.join(", ")
            );
            return Ok(Err((FailureCause::OutsideWriteSet, reason)));
        }
        let message = format!(
            "omk: slice {}\n\n{}",
            slice.task.id,
            slice.task.prompt.lines().next().unwrap_or_default()
        );
        let committed = match self.commit_worktree(&claim.worktree, &message) {
            Ok(commit) => commit,
            Err(err) => return Ok(Err((FailureCause::Git, error_chain(&err)))),
        };
        self.rec.record(wrap(Event::ChangesCommitted(ChangesCommitted {
            commit: committed.id.clone(),
            tree_id: committed.tree_id.clone(),
            parent: committed.parent.clone(),
            branch: claim.branch.clone(),
            merged_base: None,
        })))?;
        Ok(Ok(committed))
    }

    /// Decides each follow-up task the agent of `proposer` proposed in `message`.
    pub(crate) fn decide_proposals(
        &mut self,
        proposer: &TaskSpec,
        message: &str,
    ) -> Result<(), Error> {
        for proposal in crate::team::plan::parse_proposals(message) {
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
                    let policy = crate::team::plan::ProposalPolicy {
                        max_depth: team.planned.max_depth,
                        max_tasks: team.planned.max_tasks,
                        budget_left,
                    };
                    crate::team::plan::decide_proposal(&team.tasks(), proposer, proposal, &policy)
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

    /// Claims ready slices for free workers, up to the team's `max_agents`.
    pub(crate) fn claim_ready(&mut self, crew: &mut Crew) -> Result<(), Error> {
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
            let goal_id = &self.rec.state.goal_id;
            let branch = format!("omk/{goal_id}.{}", task.id);
            let path = Layout::new(&self.paths.repo_root).slice_worktree(goal_id, &task.id);
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
}
