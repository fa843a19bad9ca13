//! Payloads of the events that carry evidence beyond the agent and the gates: the goal's kind
//! and oracle, budgets, the gate surface, commits, the review wall, human decisions,
//! integration, and the run's control flow (pause, resume, cancel, block, recovery).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gate::GateKind;

/// The payload of [`crate::Event::GoalClassified`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalClassified {
    /// What kind of change the goal asks for.
    pub goal_kind: GoalKind,
    /// Who decided the kind.
    pub source: ClassificationSource,
    /// The gates that must pass on the change to prove a goal of this kind, by name.
    pub oracle_gates: Vec<String>,
}

/// What kind of change a goal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoalKind {
    /// New behaviour.
    Feature,
    /// A fix for wrong behaviour.
    Bugfix,
    /// A change of structure that keeps behaviour.
    Refactor,
    /// A replacement of a component.
    Rewrite,
    /// Documentation only.
    Docs,
    /// Tests only.
    Test,
    /// Maintenance: dependencies, build, configuration.
    Chore,
}

impl fmt::Display for GoalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Feature => "feature",
            Self::Bugfix => "bugfix",
            Self::Refactor => "refactor",
            Self::Rewrite => "rewrite",
            Self::Docs => "docs",
            Self::Test => "test",
            Self::Chore => "chore",
        })
    }
}

/// Who decided a goal's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClassificationSource {
    /// The user, with a flag or in `omk.toml`.
    User,
    /// omk, from the prompt.
    Inferred,
}

/// Limits on what a goal may spend; a missing limit is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetLimits {
    /// Wall time in milliseconds.
    pub wall_ms: Option<u64>,
    /// Tokens, input and output together.
    pub tokens: Option<u64>,
    /// Cost in US dollars.
    pub usd: Option<f64>,
    /// Agent turns (model steps).
    pub turns: Option<u64>,
}

/// A resource a budget limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BudgetResource {
    /// Wall time.
    WallTime,
    /// Tokens.
    Tokens,
    /// Cost in US dollars.
    Usd,
    /// Agent turns.
    Turns,
}

impl fmt::Display for BudgetResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WallTime => "wall time",
            Self::Tokens => "tokens",
            Self::Usd => "cost",
            Self::Turns => "turns",
        })
    }
}

/// The payload of [`crate::Event::BudgetSet`]: the limits from now on, replacing earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetSet {
    /// The limits.
    pub limits: BudgetLimits,
}

/// The payload of [`crate::Event::BudgetExhausted`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetExhausted {
    /// The resource that ran out.
    pub resource: BudgetResource,
    /// Its limit, in the resource's unit (ms, tokens, USD, turns).
    pub limit: f64,
    /// What was used when omk stopped the run.
    pub used: f64,
}

/// The payload of [`crate::Event::BudgetWarned`]: a resource passed 80 % of its limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetWarned {
    /// The resource.
    pub resource: BudgetResource,
    /// Its limit, in the resource's unit (ms, tokens, USD, turns).
    pub limit: f64,
    /// What was used when omk noticed.
    pub used: f64,
}

/// The payload of [`crate::Event::GateStarted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateStarted {
    /// The gate's name.
    pub name: String,
    /// What the gate checks.
    pub gate_kind: GateKind,
    /// The command line, one element per argument.
    pub command: Vec<String>,
}

/// The payload of [`crate::Event::GateSurfaceChecked`]: did the change touch what the gates
/// check (gate configuration, CI files, tests and test configuration)?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateSurfaceChecked {
    /// The tree the check looked at: the proposed change.
    pub tree_id: String,
    /// The SHA-256 of the gate surface in the base commit.
    pub base_digest: String,
    /// The SHA-256 of the gate surface in the proposed tree.
    pub proposed_digest: String,
    /// The gate-surface files that differ, sorted; empty when the surface is unchanged.
    pub changed_paths: Vec<String>,
}

/// The payload of [`crate::Event::GateLeftFiles`]: files the gates of one phase left in a
/// worktree whose tree omk captures, which omk then put back as they were before the gates.
///
/// What a gate writes is never the agent's work: files it created (outside what `.gitignore`
/// ignores) are removed, and tracked files of the tree it changed or deleted are restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateLeftFiles {
    /// The phase of the gates that ran.
    pub phase: crate::GatePhase,
    /// The tree the worktree held before the gates, and holds again.
    pub tree_id: String,
    /// Files the gates created, removed again, sorted.
    pub created: Vec<String>,
    /// Files of the tree the gates changed or deleted, restored, sorted: the gates ran on a tree
    /// that changed under them.
    pub rewritten: Vec<String>,
}

/// The payload of [`crate::Event::ChangesCommitted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangesCommitted {
    /// The new commit's id.
    pub commit: String,
    /// The commit's tree id.
    pub tree_id: String,
    /// The commit's parent.
    pub parent: String,
    /// The branch the commit was made on.
    pub branch: String,
    /// For a merge of the base branch into the goal's branch (on accept, when the base moved):
    /// the base commit merged, which the change is measured against from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_base: Option<String>,
}

/// The payload of [`crate::Event::ReviewStarted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewStarted {
    /// The tree under review.
    pub tree_id: String,
    /// The checks the wall will run, by name (`secrets`, `gate_surface`, `diff_size`, ...).
    pub checks: Vec<String>,
}

/// The payload of [`crate::Event::ReviewFinished`]: one section of the review wall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewFinished {
    /// The check's name, as declared by [`ReviewStarted`].
    pub check: String,
    /// The tree it reviewed.
    pub tree_id: String,
    /// Its verdict.
    pub status: ReviewStatus,
    /// What the check looked at and found, one fact per entry.
    pub evidence: Vec<String>,
    /// Risks the check sees, one per entry.
    pub risks: Vec<String>,
    /// What to do when the check did not pass.
    pub next_step: Option<String>,
}

/// The verdict of one review check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// The check found nothing wrong.
    Passed,
    /// The check found a problem with the change.
    Failed,
    /// The check could not decide; a person must look.
    Blocked,
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Blocked => "blocked",
        })
    }
}

/// What a human decision is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionSubject {
    /// The change touched the gate surface with this digest; may it stand?
    GateSurface {
        /// The proposed gate surface digest the decision is about.
        proposed_digest: String,
    },
    /// A question about the goal itself, such as what a vague prompt should achieve.
    Question {
        /// An id for the question, unique within the goal.
        id: String,
    },
}

/// The payload of [`crate::Event::DecisionRequested`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionRequested {
    /// What the decision is about.
    pub subject: DecisionSubject,
    /// The question, as shown to the person.
    pub question: String,
}

/// The payload of [`crate::Event::DecisionMade`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionMade {
    /// What the decision is about.
    pub subject: DecisionSubject,
    /// Whether the request was approved.
    pub approved: bool,
    /// Who decided.
    pub by: Actor,
    /// Why, or the answer to the question.
    pub reason: Option<String>,
}

/// Who took a decision: a person, or a named policy acting for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A person, by name (such as the git user name).
    Person {
        /// The person's name.
        name: String,
    },
    /// A policy, by name (such as `run --accept`).
    Policy {
        /// The policy's name.
        name: String,
    },
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person { name } => write!(f, "{name}"),
            Self::Policy { name } => write!(f, "policy {name}"),
        }
    }
}

/// The payload of [`crate::Event::ChangeAccepted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangeAccepted {
    /// The tree that was accepted; acceptance speaks for this exact tree only.
    pub tree_id: String,
    /// Who accepted.
    pub by: Actor,
    /// Why, if they said.
    pub reason: Option<String>,
    /// The commit that merged the change into the base branch, once merged.
    pub merge_commit: Option<String>,
}

/// The payload of [`crate::Event::ChangeRejected`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangeRejected {
    /// The tree that was rejected.
    pub tree_id: String,
    /// Who rejected.
    pub by: Actor,
    /// Why.
    pub reason: String,
}

/// The payload of [`crate::Event::GoalPaused`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalPaused {
    /// Why, such as `interrupted` or `omk pause`.
    pub reason: String,
}

/// The payload of [`crate::Event::GoalResumed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalResumed {
    /// Who or what resumed the run, such as `omk resume`.
    pub reason: String,
    /// A follow-up instruction for the agent (`omk resume --prompt`): the agent runs again on
    /// the goal's worktree with it, and the steps after it run on the new tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<String>,
}

/// The payload of [`crate::Event::GoalCancelled`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalCancelled {
    /// Why.
    pub reason: String,
}

/// The payload of [`crate::Event::GoalBlocked`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalBlocked {
    /// What the run waits on, such as an agent's rate limit or a missing credential.
    pub reason: String,
}

/// The payload of [`crate::Event::RecoveryPerformed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RecoveryPerformed {
    /// What omk repaired.
    pub action: RecoveryAction,
    /// The details, such as the torn line's number.
    pub detail: String,
}

/// What omk repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecoveryAction {
    /// A torn last line of the event log was cut off.
    TornTailRepaired,
    /// A run that died mid-step was resumed from its last completed step.
    ResumedAfterCrash,
    /// A lost or broken worktree was re-created from its branch.
    WorktreeRestored,
    /// The agent's run failed with a retryable error (a rate limit, an overloaded provider): the
    /// worktree went back to the branch's commit and the agent runs again after a wait.
    AgentRetried,
}

impl fmt::Display for RecoveryAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TornTailRepaired => "torn log tail repaired",
            Self::ResumedAfterCrash => "resumed after a crash",
            Self::WorktreeRestored => "worktree restored",
            Self::AgentRetried => "agent retried",
        })
    }
}
