//! The event vocabulary: the envelope of every log line and the typed payload of every kind.

use std::{fmt, path::PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    evidence::{
        BudgetExhausted, BudgetSet, ChangeAccepted, ChangeRejected, ChangesCommitted, DecisionMade,
        DecisionRequested, GateStarted, GateSurfaceChecked, GoalBlocked, GoalCancelled,
        GoalClassified, GoalPaused, GoalResumed, RecoveryPerformed, ReviewFinished, ReviewStarted,
    },
    ids::{GoalId, Seq},
};

/// One line of a goal's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Envelope {
    /// The log format version, `major.minor`; see [`crate::FORMAT_VERSION`].
    pub format: String,
    /// The position of the event in the log, dense from 1.
    pub seq: Seq,
    /// When the event happened, in UTC with millisecond precision.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: DateTime<Utc>,
    /// The goal the event belongs to.
    pub goal_id: GoalId,
    /// What happened.
    pub event: Event,
}

/// What happened, one variant per event kind.
///
/// Serialized with the kind as an internal `kind` tag, in `snake_case`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A goal was created from a prompt; always the first event of a log.
    GoalCreated(GoalCreated),
    /// The goal's isolated worktree was created.
    WorktreeCreated(WorktreeCreated),
    /// The agent was started in the worktree.
    AgentStarted(AgentStarted),
    /// The agent stopped, successfully or not.
    AgentFinished(AgentFinished),
    /// omk read the worktree's changes from git.
    ChangesCaptured(ChangesCaptured),
    /// A verification gate finished.
    GateFinished(GateFinished),
    /// A step failed for a reason outside the change itself (git, disk, a missing tool).
    GoalFailed(GoalFailed),
    /// The goal's kind was decided, and with it the oracle gates that must prove it.
    GoalClassified(GoalClassified),
    /// The goal's budget limits were set or raised.
    BudgetSet(BudgetSet),
    /// A budget resource ran out; the run stopped to ask for more.
    BudgetExhausted(BudgetExhausted),
    /// A gate was started.
    GateStarted(GateStarted),
    /// The files that define what the gates check were compared between base and proposed tree.
    GateSurfaceChecked(GateSurfaceChecked),
    /// The worktree's changes were committed on the goal's branch.
    ChangesCommitted(ChangesCommitted),
    /// The review wall started on a tree, declaring the checks it will run.
    ReviewStarted(ReviewStarted),
    /// One check of the review wall finished.
    ReviewFinished(ReviewFinished),
    /// A person must decide something before the goal can go on.
    DecisionRequested(DecisionRequested),
    /// A person (or a named policy) decided.
    DecisionMade(DecisionMade),
    /// The proposed change was accepted for merging.
    ChangeAccepted(ChangeAccepted),
    /// The proposed change was rejected.
    ChangeRejected(ChangeRejected),
    /// The run was paused; it can be resumed.
    GoalPaused(GoalPaused),
    /// The run was resumed after a pause, a cancellation, a budget stop or a failure.
    GoalResumed(GoalResumed),
    /// The run was cancelled.
    GoalCancelled(GoalCancelled),
    /// The run waits on something outside omk and the repository.
    GoalBlocked(GoalBlocked),
    /// omk repaired its own state after a crash or a torn write.
    RecoveryPerformed(RecoveryPerformed),
}

impl Event {
    /// Returns the `snake_case` name of the event's kind, as written in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::GoalCreated(_) => "goal_created",
            Self::WorktreeCreated(_) => "worktree_created",
            Self::AgentStarted(_) => "agent_started",
            Self::AgentFinished(_) => "agent_finished",
            Self::ChangesCaptured(_) => "changes_captured",
            Self::GateFinished(_) => "gate_finished",
            Self::GoalFailed(_) => "goal_failed",
            Self::GoalClassified(_) => "goal_classified",
            Self::BudgetSet(_) => "budget_set",
            Self::BudgetExhausted(_) => "budget_exhausted",
            Self::GateStarted(_) => "gate_started",
            Self::GateSurfaceChecked(_) => "gate_surface_checked",
            Self::ChangesCommitted(_) => "changes_committed",
            Self::ReviewStarted(_) => "review_started",
            Self::ReviewFinished(_) => "review_finished",
            Self::DecisionRequested(_) => "decision_requested",
            Self::DecisionMade(_) => "decision_made",
            Self::ChangeAccepted(_) => "change_accepted",
            Self::ChangeRejected(_) => "change_rejected",
            Self::GoalPaused(_) => "goal_paused",
            Self::GoalResumed(_) => "goal_resumed",
            Self::GoalCancelled(_) => "goal_cancelled",
            Self::GoalBlocked(_) => "goal_blocked",
            Self::RecoveryPerformed(_) => "recovery_performed",
        }
    }
}

/// The payload of [`Event::GoalCreated`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalCreated {
    /// The user's prompt, verbatim.
    pub prompt: String,
    /// The root of the repository the goal works on.
    pub repo_root: PathBuf,
    /// The branch checked out when the goal started, `None` on a detached HEAD.
    pub base_branch: Option<String>,
    /// The commit the goal's worktree starts from.
    pub base_commit: String,
    /// The agent that will make the change, as given by the user (`script:fix.txt`).
    pub agent: String,
    /// The version of omk that created the goal.
    pub omk_version: String,
}

/// The payload of [`Event::WorktreeCreated`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WorktreeCreated {
    /// The worktree's directory.
    pub path: PathBuf,
    /// The branch checked out in it, `omk/<goal-id>`.
    pub branch: String,
    /// The commit the branch was created at.
    pub base_commit: String,
}

/// The payload of [`Event::AgentStarted`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentStarted {
    /// The agent, as given by the user.
    pub agent: String,
}

/// The payload of [`Event::AgentFinished`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentFinished {
    /// The agent, as given by the user.
    pub agent: String,
    /// The agent CLI's version, when omk could read it.
    #[serde(default)]
    pub version: Option<String>,
    /// Whether the agent's run completed; this is not whether the change is good.
    pub status: AgentStatus,
    /// The agent process's exit code, when it was a process that exited.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// The agent's last message to the user, if it sent one.
    pub final_message: Option<String>,
    /// The number of model steps the agent took.
    pub steps: u32,
    /// The number of tool calls the agent made.
    pub tool_calls: u32,
    /// The number of those tool calls that failed.
    pub failed_tool_calls: u32,
    /// Token usage, when the agent reports it.
    pub usage: Option<TokenUsage>,
    /// What the run cost, when the agent reports it or omk can estimate it.
    #[serde(default)]
    pub cost: Option<Cost>,
    /// The raw transcript of the run.
    pub transcript: Option<ArtifactRef>,
    /// Wall time of the run in milliseconds.
    pub duration_ms: u64,
}

/// How an agent's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// The agent finished its turn.
    Completed,
    /// The agent stopped with an error.
    Failed,
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
        })
    }
}

/// Token usage of an agent run, normalized across agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenUsage {
    /// Input tokens not read from a cache.
    pub input_uncached: u64,
    /// Input tokens read from a cache.
    pub input_cache_read: u64,
    /// Input tokens written to a cache.
    pub input_cache_write: u64,
    /// Output tokens.
    pub output: u64,
}

impl TokenUsage {
    /// Returns the sum of all input and output tokens.
    pub fn total(&self) -> u64 {
        self.input_uncached + self.input_cache_read + self.input_cache_write + self.output
    }
}

impl std::ops::AddAssign for TokenUsage {
    fn add_assign(&mut self, other: Self) {
        self.input_uncached += other.input_uncached;
        self.input_cache_read += other.input_cache_read;
        self.input_cache_write += other.input_cache_write;
        self.output += other.output;
    }
}

/// What an agent run cost, and where the figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Cost {
    /// The cost in US dollars.
    pub usd: f64,
    /// Whether the agent reported the figure or omk estimated it.
    pub source: CostSource,
}

/// Where a [`Cost`] figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The agent reported the cost itself.
    Reported,
    /// omk estimated it from the token usage and the price table in `omk.toml`.
    Estimated,
}

/// A file kept beside the log, named by its path relative to the goal directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactRef {
    /// The path relative to the goal directory, with `/` separators.
    pub path: String,
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// The payload of [`Event::ChangesCaptured`]: what changed in the worktree, according to git.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangesCaptured {
    /// The commit the changes are measured against.
    pub base_commit: String,
    /// The git tree id of the worktree's whole content, untracked files included.
    pub tree_id: String,
    /// The changed files, sorted by path.
    pub files: Vec<ChangedFile>,
}

/// A file that differs between the base commit and the captured tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangedFile {
    /// The path relative to the repository root, with `/` separators.
    pub path: String,
    /// What happened to the file.
    pub operation: FileOperation,
    /// The old path; set exactly when `operation` is `renamed`.
    pub renamed_from: Option<String>,
    /// Lines added; `None` for binary files.
    pub lines_added: Option<u64>,
    /// Lines removed; `None` for binary files.
    pub lines_removed: Option<u64>,
    /// The git blob id of the new content; `None` when the file was deleted.
    pub blob_id: Option<String>,
}

/// What happened to a changed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileOperation {
    /// The file is new.
    Created,
    /// The file's content or mode changed.
    Modified,
    /// The file was removed.
    Deleted,
    /// The file was moved, possibly with edits.
    Renamed,
}

impl fmt::Display for FileOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
            Self::Renamed => "renamed",
        })
    }
}

/// The payload of [`Event::GateFinished`]: the facts of one gate run, as omk measured them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateFinished {
    /// The gate's name, unique within a run.
    pub name: String,
    /// What the gate checks.
    pub gate_kind: GateKind,
    /// The command line as run, one element per argument.
    pub command: Vec<String>,
    /// Whether the proof requires this gate to pass.
    pub required: bool,
    /// Whether the gate ran on the base tree (to show what already failed) or on the change.
    #[serde(default)]
    pub phase: GatePhase,
    /// The git tree id of the worktree content the gate ran on, when omk recorded it.
    #[serde(default)]
    pub tree_id: Option<String>,
    /// Whether a test gate may pass without running any test.
    #[serde(default)]
    pub allow_no_tests: bool,
    /// The exit code, `None` when the gate was killed by a signal or could not start.
    pub exit_code: Option<i32>,
    /// The signal that ended the gate, if any.
    pub signal: Option<i32>,
    /// Whether omk killed the gate because it ran past its timeout.
    pub timed_out: bool,
    /// Why the gate could not be started, if it could not.
    pub spawn_error: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The captured stdout and stderr, interleaved.
    pub output: Option<ArtifactRef>,
    /// The test counts parsed from the output, when the output has a format omk knows.
    #[serde(default)]
    pub tests: Option<TestCounts>,
    /// The goal whose identical run this result was taken from, when it came from the cache.
    #[serde(default)]
    pub cached_from: Option<String>,
}

impl GateFinished {
    /// Returns whether the gate passed: it started, exited 0 and did not time out.
    pub fn passed(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && self.spawn_error.is_none()
    }
}

/// When a gate ran, relative to the agent's change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GatePhase {
    /// On the base tree, before the agent ran: shows which failures were already there.
    Baseline,
    /// On the changed worktree: the result that speaks for the change.
    #[default]
    Proposed,
}

impl fmt::Display for GatePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Baseline => "baseline",
            Self::Proposed => "proposed",
        })
    }
}

/// Test counts parsed from a gate's output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were skipped or ignored.
    pub skipped: u64,
}

impl TestCounts {
    /// Returns the number of tests that ran: passed plus failed.
    pub fn ran(&self) -> u64 {
        self.passed + self.failed
    }
}

/// What a gate checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Runs tests.
    Test,
    /// Runs a linter.
    Lint,
    /// Checks formatting.
    Fmt,
    /// Builds the project.
    Build,
    /// Runs a security scanner.
    Security,
    /// Anything else.
    #[default]
    Other,
}

impl fmt::Display for GateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Test => "test",
            Self::Lint => "lint",
            Self::Fmt => "fmt",
            Self::Build => "build",
            Self::Security => "security",
            Self::Other => "other",
        })
    }
}

/// The payload of [`Event::GoalFailed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalFailed {
    /// The step that failed.
    pub step: Step,
    /// The error, with its causes, as one line.
    pub error: String,
}

/// A step of the goal pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Creating the worktree.
    Worktree,
    /// Running the agent.
    Agent,
    /// Reading the changes from git.
    Changes,
    /// Running the gates.
    Gates,
    /// Committing the change in the worktree.
    Commit,
    /// Running the review wall.
    Review,
    /// Merging an accepted change.
    Integration,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Worktree => "worktree",
            Self::Agent => "agent",
            Self::Changes => "changes",
            Self::Gates => "gates",
            Self::Commit => "commit",
            Self::Review => "review",
            Self::Integration => "integration",
        })
    }
}
