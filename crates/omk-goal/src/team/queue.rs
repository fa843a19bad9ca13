//! The merge queue: finished slices merge one batch at a time onto the goal's integration branch,
//! the gates run on the merged tree, and a batch that breaks them is reverted and bisected
//! until the slice that broke them is alone and taken out.

use std::sync::PoisonError;

use omk_events::{
    Event, GatePhase, QueueLanded, QueueMerged, QueueReverted, TakeOutReason, TaskTakenOut,
};
use omk_gates::GateSpec;
use omk_worktree::{GitIdentity, Identity};
use tokio::sync::watch;

use crate::{
    error::Error,
    run::{
        control::Stopper,
        controller::{Controller, Flow},
    },
    team::worker::Crew,
};

impl Controller<'_> {
    /// Merges the next batch of queued slices onto the integration branch and runs the gates
    /// on the merged tree: a passing batch lands; a failing one is reverted, and split in
    /// halves when it holds more than one slice, or taken out when it holds one.
    pub(crate) async fn merge_next_batch(
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
    pub(crate) async fn integration_gates(
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
        // The integration branch's tree is what the goal proposes: nothing a gate wrote joins it.
        self.put_back_after_gates(worktree, tree_id, GatePhase::Integration)?;
        if let Some(stop) = stop {
            crew.stopping.get_or_insert(stop);
            return Ok(None);
        }
        failed.sort();
        failed.dedup();
        Ok(Some(failed))
    }
}
