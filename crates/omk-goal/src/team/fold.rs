//! The state of a team goal, folded from its events: the task graph, each slice's progress and
//! the merge queue.
//!
//! Like [`crate::decide::state::GoalState`], it is a pure fold: the scheduler appends an event and asks
//! what is next, and a resumed run folds the log and asks the same question.

use std::collections::VecDeque;

use omk_proof::SliceStatus;

use omk_events::{
    AgentStatus, Event, FailureCause, SliceEvent, TaskClaimed, TaskCompleted, TaskGraphPlanned,
    TaskSpec,
};

/// One slice: a task of the graph and where its runs are.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    pub(crate) task: TaskSpec,
    pub(crate) status: SliceStatus,
    /// The latest claim.
    pub(crate) claim: Option<TaskClaimed>,
    /// Failed attempts that count against the task's retries (a stopped controller does not).
    pub(crate) failures: u32,
    /// The worker of the latest failed attempt, which a retry avoids when it can.
    pub(crate) failed_on: Option<String>,
    /// Agent runs started in the slice, over all attempts (names its transcripts).
    pub(crate) agent_runs: u32,
    /// Whether the latest claim's agent run is running: started and not finished.
    pub(crate) agent_running: bool,
    /// The latest claim's agent run finished by itself, with its status and final message.
    pub(crate) agent_done: Option<(AgentStatus, Option<String>)>,
    /// The latest claim's agent run was stopped by omk (pause, cancel, budget).
    pub(crate) agent_stopped: bool,
    /// The paths the latest claim's capture found changed.
    pub(crate) changed: Vec<String>,
    /// The commit made on the slice's branch for the latest claim.
    pub(crate) committed: Option<String>,
    /// The slice's change, once completed.
    pub(crate) completed: Option<TaskCompleted>,
}

impl Slice {
    /// Returns the latest claim's attempt, 0 before the first claim.
    pub(crate) fn attempt(&self) -> u32 {
        self.claim.as_ref().map_or(0, |it| it.attempt)
    }
}

/// A team goal's state.
#[derive(Debug, Clone)]
pub(crate) struct TeamState {
    pub(crate) planned: TaskGraphPlanned,
    /// The slices in graph order (planned, then accepted proposals).
    pub(crate) slices: Vec<Slice>,
    /// Queued slices in the order they completed.
    pub(crate) queue: Vec<String>,
    /// Batches still to try after a failed batch was split, first one first.
    pub(crate) splits: VecDeque<Vec<String>>,
    /// The batch merged onto the integration branch whose gates have not decided yet, with the
    /// head before it and the merged tree.
    pub(crate) open_batch: Option<OpenBatch>,
    /// The integration branch's head after the latest landing, if any landed.
    pub(crate) landed_head: Option<String>,
    /// Merged trees whose gates failed, with the gates: a batch that merges to one of them
    /// again (the last half of a bisection often does) is reverted without running them again.
    pub(crate) failed_trees: std::collections::BTreeMap<String, Vec<String>>,
}

/// A batch merged and waiting for its gates.
#[derive(Debug, Clone)]
pub(crate) struct OpenBatch {
    pub(crate) tasks: Vec<String>,
    pub(crate) from_commit: String,
    pub(crate) tree_id: String,
}

impl TeamState {
    /// Returns the state right after `task_graph_planned`.
    pub(crate) fn new(planned: &TaskGraphPlanned) -> Self {
        let mut team = Self {
            planned: planned.clone(),
            slices: Vec::new(),
            queue: Vec::new(),
            splits: VecDeque::new(),
            open_batch: None,
            landed_head: None,
            failed_trees: std::collections::BTreeMap::new(),
        };
        for task in &planned.tasks {
            team.add(task.clone());
        }
        team
    }

    fn add(&mut self, task: TaskSpec) {
        self.slices.push(Slice {
            task,
            status: SliceStatus::Pending,
            claim: None,
            failures: 0,
            failed_on: None,
            agent_runs: 0,
            agent_running: false,
            agent_done: None,
            agent_stopped: false,
            changed: Vec::new(),
            committed: None,
            completed: None,
        });
    }

    /// Returns the slice of `task`.
    pub(crate) fn slice(&self, task: &str) -> Option<&Slice> {
        self.slices.iter().find(|it| it.task.id == task)
    }

    fn slice_mut(&mut self, task: &str) -> Option<&mut Slice> {
        self.slices.iter_mut().find(|it| it.task.id == task)
    }

    /// Returns the tasks of the graph, accepted proposals included.
    pub(crate) fn tasks(&self) -> Vec<TaskSpec> {
        self.slices.iter().map(|it| it.task.clone()).collect()
    }

    /// Whether every slice reached its end and no batch waits for its gates.
    pub(crate) fn complete(&self) -> bool {
        self.open_batch.is_none() && self.slices.iter().all(|it| it.status.is_final())
    }

    /// Folds one event of the goal's log; events of other kinds are ignored.
    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::TaskClaimed(claimed) => {
                if let Some(slice) = self.slice_mut(&claimed.task) {
                    slice.status = SliceStatus::Running;
                    slice.claim = Some(claimed.clone());
                    slice.agent_running = false;
                    slice.agent_done = None;
                    slice.agent_stopped = false;
                    slice.changed.clear();
                    slice.committed = None;
                }
            }
            Event::Slice(slice_event) => self.apply_slice_event(slice_event),
            Event::TaskCompleted(completed) => {
                if let Some(slice) = self.slice_mut(&completed.task) {
                    slice.status = SliceStatus::Queued;
                    slice.completed = Some(completed.clone());
                }
                self.queue.retain(|it| *it != completed.task);
                self.queue.push(completed.task.clone());
            }
            Event::TaskFailed(failed) => {
                if let Some(slice) = self.slice_mut(&failed.task) {
                    if failed.cause != FailureCause::ControllerStopped {
                        slice.failures += 1;
                    }
                    slice.failed_on = Some(failed.worker.clone());
                    slice.agent_running = false;
                    slice.status =
                        if failed.retry { SliceStatus::Pending } else { SliceStatus::Failed };
                }
            }
            Event::QueueMerged(merged) => {
                for task in &merged.tasks {
                    if let Some(slice) = self.slice_mut(task) {
                        slice.status = SliceStatus::Merging;
                    }
                }
                self.queue.retain(|it| !merged.tasks.contains(it));
                self.splits.retain(|batch| !batch.iter().any(|it| merged.tasks.contains(it)));
                self.open_batch = Some(OpenBatch {
                    tasks: merged.tasks.clone(),
                    from_commit: merged.from_commit.clone(),
                    tree_id: merged.tree_id.clone(),
                });
            }
            Event::QueueLanded(landed) => {
                for task in &landed.tasks {
                    if let Some(slice) = self.slice_mut(task) {
                        slice.status = SliceStatus::Landed;
                    }
                }
                self.open_batch = None;
                self.landed_head = Some(landed.commit.clone());
            }
            Event::QueueReverted(reverted) => {
                self.open_batch = None;
                self.failed_trees.insert(reverted.tree_id.clone(), reverted.failed_gates.clone());
                if reverted.tasks.len() > 1 {
                    // Bisect: each half is tried on its own, the first half first.
                    let (left, right) = reverted.tasks.split_at(reverted.tasks.len() / 2);
                    self.splits.push_front(right.to_vec());
                    self.splits.push_front(left.to_vec());
                }
                for task in &reverted.tasks {
                    if let Some(slice) = self.slice_mut(task) {
                        slice.status = SliceStatus::Queued;
                    }
                    if !self.queue.contains(task) {
                        self.queue.push(task.clone());
                    }
                }
            }
            Event::TaskTakenOut(out) => {
                if let Some(slice) = self.slice_mut(&out.task) {
                    slice.status = SliceStatus::TakenOut;
                }
                self.queue.retain(|it| *it != out.task);
                for batch in &mut self.splits {
                    batch.retain(|it| *it != out.task);
                }
                self.splits.retain(|batch| !batch.is_empty());
            }
            Event::TaskProposed(proposed)
                if proposed.accepted && self.slice(&proposed.task.id).is_none() =>
            {
                self.add(proposed.task.clone());
            }
            _ => {}
        }
    }

    /// Folds an event of a slice's own agent run, wrapped in `slice`.
    fn apply_slice_event(&mut self, slice_event: &SliceEvent) {
        let Some(slice) = self.slice_mut(&slice_event.task) else { return };
        // The end of an attempt whose lease expired is evidence, not the slice's state.
        if slice_event.attempt != slice.attempt() {
            return;
        }
        match &*slice_event.event {
            Event::AgentStarted(_) => {
                slice.agent_runs += 1;
                slice.agent_running = true;
                slice.agent_done = None;
                slice.agent_stopped = false;
            }
            Event::AgentFinished(finished) => {
                slice.agent_running = false;
                if finished.stopped.is_some() {
                    slice.agent_stopped = true;
                } else {
                    slice.agent_done = Some((finished.status, finished.final_message.clone()));
                }
            }
            Event::ChangesCaptured(captured) => {
                slice.changed = captured.files.iter().map(|it| it.path.clone()).collect();
            }
            Event::ChangesCommitted(commit) => {
                slice.committed = Some(commit.commit.clone());
            }
            _ => {}
        }
    }

    /// Returns the next batch for the merge queue: the head of a split, else every queued
    /// slice in the order they completed; empty when nothing waits.
    pub(crate) fn next_batch(&self) -> Vec<String> {
        if let Some(split) = self.splits.front() {
            return split.clone();
        }
        self.queue.clone()
    }

    /// Returns the pending tasks whose dependencies all landed, in graph order.
    pub(crate) fn ready(&self) -> Vec<&Slice> {
        self.slices
            .iter()
            .filter(|slice| slice.status == SliceStatus::Pending)
            .filter(|slice| {
                slice
                    .task
                    .depends_on
                    .iter()
                    .all(|dep| self.slice(dep).is_some_and(|it| it.status == SliceStatus::Landed))
            })
            .collect()
    }

    /// Returns pending tasks that can never start, with the dependency that is out.
    pub(crate) fn blocked_by_dependency(&self) -> Vec<(String, String)> {
        self.slices
            .iter()
            .filter(|slice| slice.status == SliceStatus::Pending)
            .filter_map(|slice| {
                let dep = slice.task.depends_on.iter().find(|dep| {
                    self.slice(dep).is_none_or(|it| {
                        matches!(it.status, SliceStatus::TakenOut | SliceStatus::Failed)
                    })
                })?;
                Some((slice.task.id.clone(), dep.clone()))
            })
            .collect()
    }
}
