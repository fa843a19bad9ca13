//! The proof's data model: every field explicit and typed, in the order it is written.

mod fail_to_pass;
mod repair;
mod run;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use omk_events::{
    ApprovalDecided, ArtifactRef, ChangedFile, FailureCause, GateLeftFiles, GatePhase, GoalId,
    PlanSource, SandboxApplied, TakeOutReason, TestCounts, short_id,
};

use crate::{
    error::Error,
    gap::{Gap, KnownGap},
    readiness::{ProofStatus, Readiness},
};

pub use self::fail_to_pass::{
    FailToPassCheck, FailToPassCheckGate, FailToPassEvidence, FailToPassFlip, FailToPassRule,
    FailToPassSource,
};
pub use self::repair::{RepairEvidence, RepairRound, RoundAgent, RoundGate};
pub use self::run::{
    AgentCheck, AgentCheckGate, AgentEvidence, BudgetEvidence, BudgetUsed, CommitEvidence,
    DecisionRecord, GateSurfaceEvidence, GitEvidence, HumanDecision, IntegrationDecision,
    IntegrationEvidence, OracleEvidence, OracleGate, OracleGateStatus, ProofGate, Recovery,
    ReviewSection, ReviewSectionStatus, TaskSummary, TestEvidence, TestRule,
};

/// The version of the proof format this build writes.
///
/// A reader accepts proofs of this version and older ones it knows; see [`Proof::from_json`].
pub const PROOF_VERSION: u32 = 2;

/// A goal's readiness report: what was done, what omk verified, and what is still missing.
///
/// Build one with [`crate::synthesize`]; a proof is a snapshot and has no mutating methods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Proof {
    /// The proof format version, [`PROOF_VERSION`].
    pub version: u32,
    /// The goal the proof is about.
    pub goal_id: GoalId,
    /// Whether the change may be merged, or why the goal stopped.
    pub status: ProofStatus,
    /// The lowest rung of the readiness ladder whose requirement is not met ([`Readiness::Ready`]
    /// when all are).
    pub readiness: Readiness,
    /// One sentence rendered from `status` and `readiness`.
    pub summary: String,
    /// The time of the last event folded into the proof (never the clock).
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub generated_at: DateTime<Utc>,
    /// What the goal was asked to do, and how long it has run.
    pub task: TaskSummary,
    /// Where the change lives in git.
    pub git: GitEvidence,
    /// The commits made on the goal's branch, oldest first.
    pub commits: Vec<CommitEvidence>,
    /// The files that differ from the base commit, according to git, sorted by path.
    pub changed_files: Vec<ChangedFile>,
    /// The deciding run of every gate (see [`ProofGate`]), baseline gates first, each in the
    /// order first seen.
    pub gates: Vec<ProofGate>,
    /// Whether at least one gate ran after the last change.
    pub post_mutation_gates_ran: bool,
    /// Whether the change touched what the gates check, once omk compared it.
    pub gate_surface: Option<GateSurfaceEvidence>,
    /// One section per review check run on the proposed tree.
    pub reviews: Vec<ReviewSection>,
    /// The goal's kind and the gates that must prove it, once classified.
    pub oracle: Option<OracleEvidence>,
    /// Which rule decides whether readiness needs counted tests, why, and the required test
    /// gates that satisfied it; absent only in proofs written before omk had the rule.
    #[serde(default)]
    pub tests: Option<TestEvidence>,
    /// The agent's runs, once one finished. A team goal's slices have their own, in `team`.
    pub agent: Option<AgentEvidence>,
    /// A team goal's task graph, slices and merge queue; absent for a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamEvidence>,
    /// Every answer of omk's approval policy to the agent's tool requests, with the rule that
    /// matched, in order.
    pub approvals: Vec<ApprovalDecided>,
    /// The goal's budget: limits and use.
    pub budget: BudgetEvidence,
    /// The latest accept or reject decision on the change.
    pub integration: Option<IntegrationEvidence>,
    /// Decisions a person must take before the goal can go on.
    pub human_decisions_required: Vec<HumanDecision>,
    /// What omk repaired in its own state, oldest first; empty when nothing was.
    pub recovery: Vec<Recovery>,
    /// What is missing before the change may be merged, each with its next step; empty exactly
    /// when the status is `ready`.
    pub known_gaps: Vec<KnownGap>,
    /// Every artifact the proof's sections name, in the order they are named.
    pub artifacts: Vec<ArtifactRef>,
    /// The sandbox the latest run started the goal's processes in (agent, worktree setup,
    /// gates): its mode, writable roots, network and toolchain caches; absent when the log
    /// recorded none (a log from before omk recorded sandboxes, or a library run without the
    /// `omk` binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxApplied>,
    /// Files gates left in the goal's worktree, which omk put back before anything read the
    /// worktree again: never part of the change. Empty when no gate left any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates_left_files: Vec<GateLeftFiles>,
    /// The repair rounds, when omk gave the agent any: each round's follow-up, agent run, tree
    /// and gates, and how it ended. The other sections judge the last round's tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<RepairEvidence>,
}

impl Proof {
    /// Returns the proof as pretty-printed JSON with a trailing newline: the bytes of `proof.json`.
    ///
    /// Fields are written in declaration order, so the same proof gives the same bytes.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self)
            .expect("a proof serializes: every field is plain data with string keys");
        json.push('\n');
        json
    }

    /// Parses a proof written by [`Proof::to_json`], refusing versions this build does not know.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let Versioned { version } =
            serde_json::from_str(text).map_err(|err| Error::InvalidJson(err.to_string()))?;
        if version != PROOF_VERSION {
            return Err(Error::UnsupportedVersion { found: version, supported: PROOF_VERSION });
        }
        serde_json::from_str(text).map_err(|err| Error::InvalidJson(err.to_string()))
    }

    /// Returns the sentence that explains the proof's readiness: the rung's, said of the slices
    /// when a team goal's slices hold it.
    pub fn readiness_sentence(&self) -> &'static str {
        readiness_sentence(self.readiness, self.known_gaps.iter().map(|it| &it.gap))
    }

    /// Returns the gates that speak for the change: the proposed-phase ones.
    pub fn proposed_gates(&self) -> impl Iterator<Item = &ProofGate> {
        self.gates.iter().filter(|gate| gate.phase == GatePhase::Proposed)
    }
}

/// A team goal's evidence: where its task graph came from, each slice's attempts, agent runs and
/// merge, the merge queue's batches, and the tasks agents proposed.
///
/// The slices' agent runs are kept here only: they never feed the goal's own `agent`, changed
/// files, commits or gates, which speak for the integrated tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TeamEvidence {
    /// Where the task graph came from.
    pub source: PlanSource,
    /// How many slices run at once.
    pub max_agents: u32,
    /// How many slices are in each state.
    pub task_graph: TaskGraphSummary,
    /// Every slice, in graph order: the planned tasks, then accepted proposals as accepted.
    pub slices: Vec<SliceEvidence>,
    /// The merge queue's batches, in the order they were merged.
    pub queue: Vec<QueueBatchEvidence>,
    /// Every task a slice's agent proposed, accepted or not, in order.
    pub proposals: Vec<ProposalEvidence>,
}

/// How many of a team goal's slices are in each state; the counts add up to `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskGraphSummary {
    /// Slices in the graph, accepted proposals included.
    pub total: u32,
    /// Slices that landed on the integration branch.
    pub landed: u32,
    /// Slices whose change waits in the merge queue.
    pub queued: u32,
    /// Slices merged onto the integration branch, waiting for the gates.
    pub merging: u32,
    /// Slices whose agent is running.
    pub running: u32,
    /// Slices not started yet, or waiting for a retry.
    pub pending: u32,
    /// Slices that failed for good.
    pub failed: u32,
    /// Slices taken out of the goal's change.
    pub taken_out: u32,
}

impl std::fmt::Display for TaskGraphSummary {
    /// Writes `3 slices: 2 landed, 1 taken out`, naming only the states that hold a slice.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let noun = if self.total == 1 { "slice" } else { "slices" };
        write!(f, "{} {noun}", self.total)?;
        let states = [
            (self.landed, "landed"),
            (self.merging, "merging"),
            (self.queued, "queued"),
            (self.running, "running"),
            (self.pending, "pending"),
            (self.failed, "failed"),
            (self.taken_out, "taken out"),
        ];
        let mut first = true;
        for (count, state) in states.into_iter().filter(|(count, _)| *count > 0) {
            f.write_str(if first { ": " } else { ", " })?;
            write!(f, "{count} {state}")?;
            first = false;
        }
        Ok(())
    }
}

/// One slice of a team goal: its task, its attempts, its agent's runs and its merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SliceEvidence {
    /// The task's id.
    pub id: String,
    /// What the slice's agent was asked to do.
    pub prompt: String,
    /// Tasks that had to land before this one started.
    pub depends_on: Vec<String>,
    /// The paths the task may write; empty when undeclared.
    pub writes: Vec<String>,
    /// The agent the task asked for; `None` is the goal's agent.
    pub agent: Option<String>,
    /// The task whose agent proposed this one; `None` for a planned task.
    pub proposed_by: Option<String>,
    /// Where the slice is.
    pub status: SliceStatus,
    /// Every attempt, in order.
    pub attempts: Vec<AttemptEvidence>,
    /// The slice's agent runs over all attempts, once one finished.
    pub agent_runs: Option<AgentEvidence>,
    /// Every answer of omk's approval policy to the slice's agent, in order.
    pub approvals: Vec<ApprovalDecided>,
    /// The commit of the slice's change on its branch, once completed.
    pub commit: Option<String>,
    /// Its tree.
    pub tree_id: Option<String>,
    /// The paths the slice changed.
    pub paths: Vec<String>,
    /// How its merge ended: landed, or why it was taken out; `None` until then.
    pub merge: Option<SliceMerge>,
    /// The integration gates that decided it: those of the batch it landed in, or of the batch
    /// it broke alone; empty otherwise.
    pub gates: Vec<IntegrationGate>,
}

impl SliceEvidence {
    /// Returns what to say after the slice's status: how its merge ended (`landed at …`,
    /// `conflict in …`), why its last attempt failed, or the worker that runs it.
    pub fn detail(&self) -> Option<String> {
        if let Some(merge) = &self.merge {
            return Some(merge.to_string());
        }
        let attempt = self.attempts.last()?;
        match (&attempt.outcome, self.status) {
            (AttemptOutcome::Running, SliceStatus::Running) => {
                Some(format!("on {}", attempt.worker))
            }
            (AttemptOutcome::Failed { .. }, _) => Some(attempt.outcome.to_string()),
            _ => None,
        }
    }
}

/// Where a slice is in a team run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SliceStatus {
    /// Not claimed yet, or waiting for its next attempt.
    Pending,
    /// A worker runs its agent.
    Running,
    /// Its change is committed on its branch and waits in the merge queue.
    Queued,
    /// Merged onto the integration branch; the gates decide whether it stays.
    Merging,
    /// On the integration branch, with the gates passing.
    Landed,
    /// Taken out of the goal's change (a conflict, broken gates, or a dependency).
    TakenOut,
    /// Failed for good: its retries are spent, or a retry cannot help.
    Failed,
}

impl SliceStatus {
    /// Returns whether the slice will not move on by itself: landed, taken out or failed.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Landed | Self::TakenOut | Self::Failed)
    }
}

impl std::fmt::Display for SliceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Queued => "queued",
            Self::Merging => "merging",
            Self::Landed => "landed",
            Self::TakenOut => "taken out",
            Self::Failed => "failed",
        })
    }
}

/// One attempt at a slice's task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AttemptEvidence {
    /// The attempt, from 1.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker: String,
    /// The slice's branch.
    pub branch: String,
    /// The commit the branch started from.
    pub base_commit: String,
    /// How the attempt ended, or that it is still running.
    pub outcome: AttemptOutcome,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// No end was recorded: it runs, or its controller stopped.
    Running,
    /// Its change was committed and queued for merging.
    Completed,
    /// It failed.
    Failed {
        /// Why, in a word.
        cause: FailureCause,
        /// Why, in a sentence.
        reason: String,
        /// Whether another attempt followed.
        retry: bool,
    },
}

impl std::fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Running => f.write_str("running"),
            Self::Completed => f.write_str("completed"),
            Self::Failed { cause, reason, .. } => {
                write!(f, "failed ({cause}): {reason}")
            }
        }
    }
}

// Written `{"result": "landed", ...}`, or a `TakeOutReason` with its kind under `result`
// (`{"result": "conflict", "paths": [...]}`) by hand in `take_out.rs`, since the event
// names the kind under `why`.
/// How a slice's merge ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(tag = "result", rename_all = "snake_case", transform = crate::take_out::merge_schema)
)]
pub enum SliceMerge {
    /// Its batch's gates passed: the slice is on the integration branch.
    Landed {
        /// The integration branch's head after the batch.
        commit: String,
        /// Its tree.
        tree_id: String,
    },
    /// Taken out of the goal's change, for the reason given.
    #[cfg_attr(feature = "schema", schemars(skip))]
    TakenOut(TakeOutReason),
}

impl std::fmt::Display for SliceMerge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Landed { commit, .. } => write!(f, "landed at {}", short_id(commit)),
            Self::TakenOut(TakeOutReason::Conflict { paths }) => {
                write!(f, "conflict in {}", paths.join(", "))
            }
            Self::TakenOut(TakeOutReason::BrokeGates { gates, .. }) => {
                write!(f, "broke {}", gates.join(", "))
            }
            Self::TakenOut(TakeOutReason::Dependency { task }) => {
                write!(f, "depends on {task}, which did not land")
            }
        }
    }
}

/// One integration gate on the tree a batch of slices merged into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IntegrationGate {
    /// The gate's name.
    pub name: String,
    /// Whether it is required.
    pub required: bool,
    /// Whether every run of it on the tree passed.
    pub passed: bool,
    /// The test counts of its latest run, when parsed.
    pub tests: Option<TestCounts>,
    /// The merged tree it ran on.
    pub tree_id: String,
    /// The latest run's captured output: its path and SHA-256.
    pub output: Option<ArtifactRef>,
}

/// One batch of the merge queue: slices merged onto the integration branch together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QueueBatchEvidence {
    /// The slices, in merge order.
    pub tasks: Vec<String>,
    /// The integration branch's head before the batch.
    pub from_commit: String,
    /// Its head after the batch.
    pub commit: String,
    /// The merged tree the gates ran on.
    pub tree_id: String,
    /// Whether the batch landed, was reverted, or waits for its gates.
    pub result: BatchResult,
    /// The required gates that failed on it, when reverted.
    pub failed_gates: Vec<String>,
}

/// How a batch of the merge queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchResult {
    /// Merged; its gates have not decided yet.
    Open,
    /// Its gates passed: its slices stay on the integration branch.
    Landed,
    /// It broke a gate: the integration branch went back to before it.
    Reverted,
}

impl std::fmt::Display for BatchResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Open => "open",
            Self::Landed => "landed",
            Self::Reverted => "reverted",
        })
    }
}

/// A task a slice's agent proposed, and the controller's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProposalEvidence {
    /// The proposed task's id.
    pub id: String,
    /// The task whose agent proposed it.
    pub by: Option<String>,
    /// How many proposals deep it is.
    pub depth: u32,
    /// Whether it joined the graph.
    pub accepted: bool,
    /// Why, in a sentence.
    pub reason: String,
}

/// Returns the sentence of `readiness`, from the first of `gaps` that holds it.
pub(crate) fn readiness_sentence<'a>(
    readiness: Readiness,
    mut gaps: impl Iterator<Item = &'a Gap>,
) -> &'static str {
    gaps.find(|gap| gap.rung() == Some(readiness))
        .and_then(Gap::rung_sentence)
        .unwrap_or_else(|| readiness.sentence())
}
