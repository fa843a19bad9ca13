//! The sections of the proof about the goal's own run: the task, git, gates and gate surface,
//! review, oracle, agent, budget, acceptance, decisions and recovery.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use omk_events::{
    Actor, AgentStatus, ArtifactRef, BudgetExhausted, BudgetLimits, ClassificationSource, Cost,
    DecisionSubject, GateKind, GatePhase, GoalKind, JunitRead, ProcessExit, RecoveryAction,
    TestCounts, TokenUsage, ToolCallRecord,
};

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
    /// The hash of the last event folded into the proof (64 hex digits): with `events`, the
    /// log's digest, which omk anchors outside `.omk/` and signed bundles bind, so a log cut
    /// short is told from a whole one. Absent for a log of format 1.0, which has no hash chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_head: Option<String>,
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
    /// Whether the project declared the gate's exit code to stand for its tests
    /// (`tests = "exit-code"`): weaker evidence than counted tests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tests_by_exit_code: bool,
    /// Whether the gate's result differs on the same tree: in this goal's runs on the proposed
    /// tree, or against a result the gate cache recorded for the same files (`flaky_with`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
    /// The goal or gate run whose result of the gate on the same files differs from the latest
    /// run's, when the cache recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaky_with: Option<String>,
    /// What omk read from the JUnit XML reports the gate's `junit` key names, when it names
    /// any: the reports this run wrote and whether `tests` came from them (else from the output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junit: Option<JunitRead>,
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
    /// Whether a required test gate fails without the change and passes with it, and the rule
    /// that says whether the goal needs that; `None` in proofs of an omk before the rule.
    #[serde(default)]
    pub fail_to_pass: Option<super::FailToPassEvidence>,
}

/// Which rule decides whether readiness requires counted tests, and what satisfied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestEvidence {
    /// The rule that applies to the goal.
    pub rule: TestRule,
    /// Why the rule applies, rendered from the goal's kind.
    pub why: String,
    /// The required test gates that passed on the proposed tree and counted one or more tests.
    pub counted: Vec<String>,
    /// The required test gates that passed on the proposed tree with `tests = "exit-code"`:
    /// their exit code stands for their tests, which is weaker evidence than counts.
    pub exit_code_only: Vec<String>,
}

/// Whether readiness requires a required test gate that counted tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TestRule {
    /// At least one required test gate must pass on the proposed tree having counted one or
    /// more tests (or be declared `tests = "exit-code"`, shown as weaker evidence).
    CountedTests,
    /// The goal's kind needs no test oracle (docs, chore): only the gates `[oracle]` names for
    /// it in `omk.toml` must pass.
    OracleOnly,
}

impl TestRule {
    /// Returns why the rule applies to a goal of `kind` (`None` when the goal was not
    /// classified).
    pub fn why(self, kind: Option<GoalKind>) -> String {
        match (self, kind) {
            (Self::OracleOnly, Some(kind)) => format!(
                "a {kind} goal needs no test oracle: the gates [oracle] in omk.toml names for it \
                 must pass, and no test count is required"
            ),
            (Self::CountedTests, Some(kind)) => format!(
                "a {kind} goal must show that tests ran: a required test gate must count one or \
                 more tests on the proposed tree"
            ),
            (_, None) => "the goal's kind is not known, so it must show that tests ran: a \
                 required test gate must count one or more tests on the proposed tree"
                .to_owned(),
        }
    }
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
    /// The gates the agent ran on its own work through `omk mcp` (`agent_check_ran`), in
    /// order: the agent's own account, never counted as gates of the proof.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<AgentCheck>,
}

/// One check the agent ran through `omk mcp`'s `gates_run` tool.
///
/// The server runs in the agent's sandbox and writes its record where the agent can write, so
/// this is what the agent saw, not evidence: readiness never reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentCheck {
    /// The check's number in the goal, from 1.
    pub check: u32,
    /// When omk recorded it.
    pub at: DateTime<Utc>,
    /// Whether every required gate of the check passed.
    pub passed: bool,
    /// Each gate's result.
    pub gates: Vec<AgentCheckGate>,
    /// The failed tests the gates' output named.
    pub failing_tests: Vec<String>,
}

/// One gate of an [`AgentCheck`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentCheckGate {
    /// The gate's name.
    pub name: String,
    /// Why it failed, `None` when it passed.
    pub failure: Option<String>,
    /// The tests its output counted, when it counted any.
    pub tests: Option<TestCounts>,
    /// Its redacted output, under `agent-checks/<n>/`.
    pub output: Option<ArtifactRef>,
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
