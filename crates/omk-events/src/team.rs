//! Events of team runs: a goal split into tasks (slices), each run by an agent in its own
//! worktree, merged one batch at a time onto the goal's integration branch.
//!
//! A team goal's log holds the goal's own events and, for each slice, its agent's events
//! wrapped in [`SliceEvent`], so a fold of the goal never mistakes a slice's agent run for
//! the goal's own.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{BudgetLimits, Event};

/// One task of a team goal's graph: what a slice's agent is asked to do, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskSpec {
    /// The task's id, unique in the goal: letters, digits, `-` and `_`.
    pub id: String,
    /// What the slice's agent is asked to do.
    pub prompt: String,
    /// Tasks whose change must have landed on the integration branch before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Paths (files, directories, or globs) the task reads; informational.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
    /// Paths (files, directories, or globs) the task may write; empty is undeclared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<String>,
    /// The agent that runs it (`kimi`, `script:PATH`, ...); `None` is the goal's agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The task's own budget; a missing limit is no limit beyond the goal's.
    #[serde(default, skip_serializing_if = "is_default")]
    pub budget: BudgetLimits,
    /// How many times a failed attempt is retried.
    #[serde(default)]
    pub retries: u32,
    /// The task whose agent proposed this one; `None` for a planned task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_by: Option<String>,
    /// How many proposals deep the task is: 0 for planned tasks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
}

impl TaskSpec {
    /// Returns a planned task with `id` and `prompt`: no dependencies, paths, agent of its own,
    /// budget or retries.
    pub fn new(id: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            prompt: prompt.into(),
            depends_on: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            agent: None,
            budget: BudgetLimits::default(),
            retries: 0,
            proposed_by: None,
            depth: 0,
        }
    }
}

fn is_default(limits: &BudgetLimits) -> bool {
    *limits == BudgetLimits::default()
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// Where a team goal's task graph came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum PlanSource {
    /// `omk run PROMPT --slices N`: the prompt's items, dealt into N tasks.
    Slices {
        /// The number of slices asked for.
        count: u32,
    },
    /// `omk run --plan FILE`.
    File {
        /// The plan file, as given.
        path: PathBuf,
        /// The SHA-256 of its bytes, hex.
        sha256: String,
    },
}

/// The payload of `task_graph_planned`: the goal is a team goal with this graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskGraphPlanned {
    /// Where the graph came from.
    pub source: PlanSource,
    /// The tasks, in the order they were planned.
    pub tasks: Vec<TaskSpec>,
    /// How many slices run at once.
    pub max_agents: u32,
    /// How long a worker may go without a heartbeat before its lease expires, in milliseconds.
    pub lease_ms: u64,
    /// The most proposals deep an agent-proposed task may be.
    pub max_depth: u32,
    /// The most tasks the graph may grow to with proposals.
    pub max_tasks: u32,
}

/// The payload of `task_claimed`: a worker took a task and holds its lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskClaimed {
    /// The task.
    pub task: String,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The worker that runs it, `w1`, `w2`, ...
    pub worker: String,
    /// The slice's worktree.
    pub worktree: PathBuf,
    /// The slice's branch.
    pub branch: String,
    /// The commit the slice's branch starts from.
    pub base_commit: String,
}

/// The payload of `slice`: an event of one slice's agent run, in the goal's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SliceEvent {
    /// The task the slice runs.
    pub task: String,
    /// The attempt it belongs to.
    pub attempt: u32,
    /// What happened in the slice: `agent_started`, `agent_activity`, `approval_decided`,
    /// `agent_finished`, `changes_captured` or `changes_committed`.
    #[serde(deserialize_with = "crate::event::deserialize_boxed_event")]
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Value"))]
    pub event: Box<Event>,
}

/// The payload of `task_completed`: a slice's change is committed on its branch and waits in
/// the merge queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskCompleted {
    /// The task.
    pub task: String,
    /// The attempt that completed.
    pub attempt: u32,
    /// The commit on the slice's branch.
    pub commit: String,
    /// Its tree.
    pub tree_id: String,
    /// The paths the slice changed.
    pub paths: Vec<String>,
}

/// Why a slice's attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// The agent ended with an error, or could not be run.
    AgentFailed,
    /// The agent's process died (killed by a signal omk did not send).
    WorkerDied,
    /// The worker sent no heartbeat within the lease.
    LeaseExpired,
    /// The controller running it stopped (crashed or was killed) before the slice finished.
    ControllerStopped,
    /// The agent finished without changing anything.
    NoChange,
    /// The slice changed paths outside the task's declared write set.
    OutsideWriteSet,
    /// The slice's task budget ran out.
    Budget,
    /// git failed in the slice's worktree.
    Git,
}

impl std::fmt::Display for FailureCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AgentFailed => "agent failed",
            Self::WorkerDied => "worker died",
            Self::LeaseExpired => "lease expired",
            Self::ControllerStopped => "controller stopped",
            Self::NoChange => "no change",
            Self::OutsideWriteSet => "wrote outside its write set",
            Self::Budget => "budget spent",
            Self::Git => "git failed",
        })
    }
}

/// The payload of `task_failed`: an attempt failed; the task is retried or fails for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskFailed {
    /// The task.
    pub task: String,
    /// The attempt that failed.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker: String,
    /// Why, in a word.
    pub cause: FailureCause,
    /// Why, in a sentence.
    pub reason: String,
    /// Whether the task runs again (the next attempt's claim follows); `false` when its
    /// retries are spent or the cause is not one a retry can fix.
    pub retry: bool,
}

/// The payload of `queue_merged`: slices merged onto the integration branch, waiting for the
/// gates on the merged tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QueueMerged {
    /// The slices of the batch, in merge order.
    pub tasks: Vec<String>,
    /// The integration branch's head before the batch.
    pub from_commit: String,
    /// Its head after the batch.
    pub commit: String,
    /// The merged tree, which the gates run on next (phase `integration`).
    pub tree_id: String,
}

/// The payload of `queue_landed`: the batch's gates passed; its slices stay on the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QueueLanded {
    /// The slices that landed.
    pub tasks: Vec<String>,
    /// The integration branch's head.
    pub commit: String,
    /// Its tree.
    pub tree_id: String,
}

/// The payload of `queue_reverted`: the batch broke a gate, so the integration branch went
/// back to its head before the batch; one slice alone is taken out, a larger batch is split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QueueReverted {
    /// The slices of the batch.
    pub tasks: Vec<String>,
    /// The merged tree that failed.
    pub tree_id: String,
    /// The required gates that failed on it.
    pub failed_gates: Vec<String>,
    /// The head the branch went back to.
    pub reset_to: String,
}

/// Why a slice was taken out of the goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum TakeOutReason {
    /// Its branch does not merge onto the integration branch.
    Conflict {
        /// The conflicting paths.
        paths: Vec<String>,
    },
    /// Merged alone, it broke required gates.
    BrokeGates {
        /// The gates.
        gates: Vec<String>,
        /// The merged tree they failed on.
        tree_id: String,
    },
    /// A task it depends on failed or was taken out.
    Dependency {
        /// That task.
        task: String,
    },
}

/// The payload of `task_taken_out`: a slice will not be part of the goal's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskTakenOut {
    /// The task.
    pub task: String,
    /// Why.
    pub reason: TakeOutReason,
}

/// The payload of `task_proposed`: a slice's agent proposed a follow-up task, and the
/// controller's policy decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskProposed {
    /// The task, as the graph would hold it (`proposed_by` and `depth` set).
    pub task: TaskSpec,
    /// Whether it joins the graph.
    pub accepted: bool,
    /// Why, in a sentence.
    pub reason: String,
}

impl Event {
    /// Returns whether the event is a team run's: the task graph, a slice's claim, events,
    /// completion and failure, the merge queue's batches, a take-out or a proposal.
    ///
    /// Folds of the goal hand these to their team part; the goal's own agent, change and gates
    /// never read them. The match names every kind, so a new kind must be placed on one side.
    pub fn is_team(&self) -> bool {
        match self {
            Self::TaskGraphPlanned(_)
            | Self::TaskClaimed(_)
            | Self::Slice(_)
            | Self::TaskCompleted(_)
            | Self::TaskFailed(_)
            | Self::QueueMerged(_)
            | Self::QueueLanded(_)
            | Self::QueueReverted(_)
            | Self::TaskTakenOut(_)
            | Self::TaskProposed(_) => true,
            Self::GoalCreated(_)
            | Self::WorktreeCreated(_)
            | Self::AgentStarted(_)
            | Self::AgentFinished(_)
            | Self::AgentCheckRan(_)
            | Self::ChangesCaptured(_)
            | Self::GateFinished(_)
            | Self::GoalFailed(_)
            | Self::GoalClassified(_)
            | Self::BudgetSet(_)
            | Self::BudgetExhausted(_)
            | Self::BudgetWarned(_)
            | Self::GateStarted(_)
            | Self::GateSurfaceChecked(_)
            | Self::ChangesCommitted(_)
            | Self::ReviewStarted(_)
            | Self::ReviewFinished(_)
            | Self::DecisionRequested(_)
            | Self::DecisionMade(_)
            | Self::ChangeAccepted(_)
            | Self::ChangeRejected(_)
            | Self::SandboxApplied(_)
            | Self::GoalPaused(_)
            | Self::GoalResumed(_)
            | Self::GoalCancelled(_)
            | Self::GoalBlocked(_)
            | Self::RecoveryPerformed(_)
            | Self::ApprovalDecided(_)
            | Self::AgentActivity(_)
            | Self::FailToPassWaived(_)
            | Self::FailToPassStarted(_)
            | Self::FailToPassChecked(_)
            | Self::CheckoutFingerprinted(_)
            | Self::GateLeftFiles(_)
            | Self::RepairRoundsSet(_)
            | Self::RepairRoundStarted(_)
            | Self::RepairRoundEnded(_)
            | Self::Unknown(_) => false,
        }
    }
}
