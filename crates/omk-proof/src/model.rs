//! The proof's data model: every field explicit and typed, in the order it is written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use omk_events::{
    Actor, AgentStatus, ApprovalDecided, ArtifactRef, BudgetExhausted, BudgetLimits, ChangedFile,
    ClassificationSource, Cost, DecisionSubject, FailureCause, GateKind, GatePhase, GoalId,
    GoalKind, PlanSource, ProcessExit, RecoveryAction, TestCounts, TokenUsage, ToolCallRecord,
    short_id,
};

use crate::{
    error::Error,
    gap::{Gap, KnownGap},
    readiness::{ProofStatus, Readiness},
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

/// What the goal was asked to do, and how long it has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TaskSummary {
    /// The user's prompt, verbatim.
    pub prompt: String,
    /// The agent, as given by the user.
    pub agent: String,
    /// The goal's kind, once classified.
    pub goal_kind: Option<GoalKind>,
    /// The version of omk that created the goal.
    pub omk_version: String,
    /// When the goal was created.
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub started_at: DateTime<Utc>,
    /// Milliseconds from the goal's first event to its last.
    pub elapsed_ms: u64,
    /// The number of events folded into the proof.
    pub events: u64,
}

/// Where the goal's change lives in git.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GitEvidence {
    /// The branch the goal started from, `None` on a detached HEAD.
    pub base_branch: Option<String>,
    /// The commit the goal's worktree started from.
    pub base_commit: String,
    /// The goal's branch, once its worktree exists.
    pub branch: Option<String>,
    /// The latest commit on the goal's branch, once the change was committed.
    pub head_commit: Option<String>,
    /// The tree id of the proposed change: the latest captured or committed tree.
    pub tree_id: Option<String>,
    /// Whether the proposed tree differs from the head commit's tree (uncommitted changes);
    /// `None` until both are known.
    pub dirty: Option<bool>,
    /// The proposed change as a unified diff against the base, when omk wrote one.
    #[serde(default)]
    pub patch: Option<ArtifactRef>,
}

/// A commit omk made on the goal's branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CommitEvidence {
    /// The commit id.
    pub commit: String,
    /// Its tree id.
    pub tree_id: String,
    /// Its parent.
    pub parent: String,
}

/// One gate as the proof sees it: its latest run, and counts of the runs that decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProofGate {
    /// The gate's name.
    pub name: String,
    /// What the gate checks.
    pub kind: GateKind,
    /// Whether it ran on the base tree or on the change.
    pub phase: GatePhase,
    /// The command line as run.
    pub command: Vec<String>,
    /// Whether the proof requires the gate to pass (oracle gates are required too).
    pub required: bool,
    /// Whether a test gate may pass without running a test.
    pub allow_no_tests: bool,
    /// Whether the run passed: it started, exited 0 and did not time out.
    pub passed: bool,
    /// The exit code, if the gate exited.
    pub exit_code: Option<i32>,
    /// The signal that ended the gate, if any.
    pub signal: Option<i32>,
    /// Whether omk killed the gate at its timeout.
    pub timed_out: bool,
    /// Why the gate could not start, if it could not.
    pub spawn_error: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Test counts parsed from the output, when omk knows its format.
    pub tests: Option<TestCounts>,
    /// The captured output: its path and SHA-256.
    pub output: Option<ArtifactRef>,
    /// The tree the gate ran on, when recorded.
    pub tree_id: Option<String>,
    /// Whether the run came after the last change, so its result speaks for the change.
    pub after_last_mutation: bool,
    /// The goal whose identical run this result was taken from, when it came from the cache.
    pub cached_from: Option<String>,
    /// How many times the gate ran in this phase.
    pub runs: u32,
    /// How many of those runs failed.
    pub failed_runs: u32,
    /// How many times it ran on the proposed tree since the last change: only these runs speak
    /// for the change.
    pub runs_on_tree: u32,
    /// Failed runs that count against the gate: every run since the last change, and the last
    /// run before it. One failure fails the gate even beside later passes (flaky).
    pub counting_failures: u32,
    /// Runs among those that passed without running a test, when the gate must run tests.
    pub counting_no_tests: u32,
}

/// Whether the change touched what the gates check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateSurfaceEvidence {
    /// The tree that was checked.
    pub tree_id: String,
    /// The SHA-256 of the gate surface in the base commit.
    pub base_digest: String,
    /// The SHA-256 of the gate surface in the checked tree.
    pub proposed_digest: String,
    /// The gate-surface files that differ; empty when unchanged.
    pub changed_paths: Vec<String>,
    /// The human decision on the change, when one was taken after the check.
    pub decision: Option<DecisionRecord>,
}

/// A decision a person or policy took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionRecord {
    /// Whether it was approved.
    pub approved: bool,
    /// Who decided.
    pub by: Actor,
    /// When.
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: DateTime<Utc>,
    /// Why, if they said.
    pub reason: Option<String>,
}

/// One section of the review wall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewSection {
    /// The check's name.
    pub check: String,
    /// Its verdict, or `missing` when the wall declared it but it did not finish.
    pub status: ReviewSectionStatus,
    /// What the check looked at and found.
    pub evidence: Vec<String>,
    /// Risks the check sees.
    pub risks: Vec<String>,
    /// What to do when it did not pass.
    pub next_step: Option<String>,
}

/// The verdict of a review section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewSectionStatus {
    /// The check found nothing wrong.
    Passed,
    /// The check found a problem.
    Failed,
    /// The check could not decide; a person must look.
    Blocked,
    /// The check was declared but did not finish on the proposed tree.
    Missing,
}

impl std::fmt::Display for ReviewSectionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Blocked => "blocked",
            Self::Missing => "missing",
        })
    }
}

/// The goal's kind and the gates that must prove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OracleEvidence {
    /// The goal's kind.
    pub goal_kind: GoalKind,
    /// Who decided the kind.
    pub source: ClassificationSource,
    /// The oracle gates and whether each passed on the proposed tree after the last change.
    pub gates: Vec<OracleGate>,
}

/// One gate the goal's kind requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OracleGate {
    /// The gate's name.
    pub name: String,
    /// Whether it ran and passed.
    pub status: OracleGateStatus,
}

/// Whether an oracle gate proved the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OracleGateStatus {
    /// Its latest run passed.
    Passed,
    /// Its latest run failed.
    Failed,
    /// It never ran on the change.
    Missing,
}

/// The agent's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentEvidence {
    /// The agent, as given by the user.
    pub agent: String,
    /// The agent CLI's version, when known.
    pub version: Option<String>,
    /// How the latest run ended.
    pub status: AgentStatus,
    /// The latest run's exit code, when the agent was a process that exited.
    pub exit_code: Option<i32>,
    /// How the latest run's process ended, for agents that are processes.
    pub process: Option<ProcessExit>,
    /// Whether the latest run's failure is worth retrying (an overloaded model provider).
    pub retryable: bool,
    /// The latest run's session id, when the agent has sessions.
    pub session_id: Option<String>,
    /// Why the latest run failed, when it did.
    pub error: Option<String>,
    /// The agent's last message in the latest run.
    pub final_message: Option<String>,
    /// The number of runs (more than one after a resume or a follow-up).
    pub runs: u32,
    /// Model steps, over all runs.
    pub steps: u64,
    /// Tool calls, over all runs.
    pub tool_calls: u64,
    /// Failed tool calls, over all runs.
    pub failed_tool_calls: u64,
    /// The latest run's tool calls, in order, as the agent reported them.
    pub tool_call_log: Vec<ToolCallRecord>,
    /// Token usage over all runs that reported it; `None` when none did.
    pub usage: Option<TokenUsage>,
    /// Cost over all runs; `None` unless every run had a cost. `estimated` when any run's was.
    pub cost: Option<Cost>,
    /// The latest run's transcript: path and SHA-256.
    pub transcript: Option<ArtifactRef>,
    /// The latest run's raw stdout, for agents that are processes.
    pub stdout: Option<ArtifactRef>,
    /// The latest run's raw stderr, for agents that are processes.
    pub stderr: Option<ArtifactRef>,
    /// Wall time over all runs, in milliseconds.
    pub duration_ms: u64,
}

/// The goal's budget: limits and use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetEvidence {
    /// The limits in force at the end (the latest `budget_set`); no limit when unset.
    pub limits: BudgetLimits,
    /// What the goal used.
    pub used: BudgetUsed,
    /// The latest time a resource ran out, if one did.
    pub exhausted: Option<BudgetExhausted>,
}

/// What a goal used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetUsed {
    /// Wall time the goal was being run, in milliseconds: from its creation and from each
    /// resume to the last event before the next resume (pauses and crashes do not count).
    pub wall_ms: u64,
    /// Tokens over all agent runs.
    pub tokens: u64,
    /// Cost in US dollars over all agent runs, when known.
    pub usd: Option<f64>,
    /// Agent turns over all runs.
    pub turns: u64,
}

/// Whether the change was accepted or rejected, by whom and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IntegrationEvidence {
    /// Accepted or rejected.
    pub decision: IntegrationDecision,
    /// Who decided: a person, or a named policy.
    pub by: Actor,
    /// When.
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: DateTime<Utc>,
    /// Why, if they said.
    pub reason: Option<String>,
    /// The tree the decision is about.
    pub tree_id: String,
    /// The merge commit on the base branch, once merged.
    pub merge_commit: Option<String>,
}

/// An accept or reject decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntegrationDecision {
    /// The change may be merged.
    Accepted,
    /// The change must not be merged.
    Rejected,
}

impl std::fmt::Display for IntegrationDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        })
    }
}

/// A decision a person must take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HumanDecision {
    /// What the decision is about.
    pub subject: DecisionSubject,
    /// The question to answer.
    pub question: String,
}

/// One repair omk made to its own state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Recovery {
    /// What was repaired.
    pub action: RecoveryAction,
    /// The details.
    pub detail: String,
    /// When.
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: DateTime<Utc>,
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

/// How a slice's merge ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SliceMerge {
    /// Its batch's gates passed: the slice is on the integration branch.
    Landed {
        /// The integration branch's head after the batch.
        commit: String,
        /// Its tree.
        tree_id: String,
    },
    /// Taken out: its branch does not merge onto the integration branch.
    Conflict {
        /// The conflicting paths.
        paths: Vec<String>,
    },
    /// Taken out: merged alone, it broke required gates.
    BrokeGates {
        /// The gates.
        gates: Vec<String>,
        /// The merged tree they failed on.
        tree_id: String,
    },
    /// Taken out: a task it depends on failed or was taken out.
    Dependency {
        /// That task.
        task: String,
    },
}

impl std::fmt::Display for SliceMerge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Landed { commit, .. } => write!(f, "landed at {}", short_id(commit)),
            Self::Conflict { paths } => write!(f, "conflict in {}", paths.join(", ")),
            Self::BrokeGates { gates, .. } => write!(f, "broke {}", gates.join(", ")),
            Self::Dependency { task } => write!(f, "depends on {task}, which did not land"),
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
