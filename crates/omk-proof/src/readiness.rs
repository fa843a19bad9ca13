//! The proof's verdict: the status and the readiness ladder, each an enum with its sentence.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether a goal's change may be merged, or why its run stopped.
///
/// The seed model's `Ready` is [`ProofStatus::Ready`], its `NotReady` is
/// [`ProofStatus::NotReady`], and its `Failed` is [`ProofStatus::FailedInfra`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    /// Verified on the proposed tree and accepted: the change may be merged.
    Ready,
    /// Some evidence is missing or failing; see the known gaps.
    NotReady,
    /// A person must answer a question or take a decision.
    BlockedOnHuman,
    /// Something outside omk and the repository must change first.
    BlockedOnExternal,
    /// The run stopped at its budget.
    NeedsMoreBudget,
    /// omk's own machinery (git, disk, a missing tool) failed.
    FailedInfra,
    /// The run was cancelled; sticky until resumed.
    Cancelled,
    /// The run is paused; sticky until resumed.
    Paused,
}

impl ProofStatus {
    /// The status in a few plain words, as the terminal result and the HTML report show it.
    pub fn word(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not ready",
            Self::BlockedOnHuman => "blocked on you",
            Self::BlockedOnExternal => "blocked",
            Self::NeedsMoreBudget => "out of budget",
            Self::FailedInfra => "failed",
            Self::Cancelled => "cancelled",
            Self::Paused => "paused",
        }
    }

    /// Every status, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::Ready,
        Self::NotReady,
        Self::BlockedOnHuman,
        Self::BlockedOnExternal,
        Self::NeedsMoreBudget,
        Self::FailedInfra,
        Self::Cancelled,
        Self::Paused,
    ];

    /// Returns the status's name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::BlockedOnHuman => "blocked_on_human",
            Self::BlockedOnExternal => "blocked_on_external",
            Self::NeedsMoreBudget => "needs_more_budget",
            Self::FailedInfra => "failed_infra",
            Self::Cancelled => "cancelled",
            Self::Paused => "paused",
        }
    }
}

impl fmt::Display for ProofStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The readiness ladder, lowest rung first.
///
/// Every requirement of readiness belongs to one rung; a proof names the lowest rung whose
/// requirement is not met, so no missing piece of evidence can be skipped. The order is the
/// ladder of omk 0.5 (gates, agent, review, mutation, rerun, acceptance) with three rungs
/// this design adds: [`Readiness::NoTestsRan`] (below all: adding any gate result to a test
/// gate that ran nothing must not look like progress), [`Readiness::GateSurfaceChanged`] and
/// [`Readiness::GatesOnDifferentTree`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// A required test gate passed without running a test: the most misleading evidence, so the
    /// lowest rung.
    NoTestsRan,
    /// No gate ran on the change, none is required, or a required or oracle gate failed.
    GatesFailing,
    /// The agent's latest run failed (below not-run: a failure is worse than no run yet).
    AgentFailed,
    /// The gates passed, but no agent run finished.
    AgentNotRun,
    /// The review wall has not run on the proposed tree.
    ReviewMissing,
    /// A review check failed, is blocked, or did not finish.
    ReviewFailed,
    /// The agent finished but no change was captured from git.
    NoChanges,
    /// The change touched the gate surface and no person approved it, or it was not checked.
    GateSurfaceChanged,
    /// A required gate has not run again since the last change.
    NotRerunAfterChange,
    /// A required gate last ran on another tree than the one proposed.
    GatesOnDifferentTree,
    /// Everything passed on the proposed tree; a person or policy must accept it.
    AwaitingAcceptance,
    /// Verified and accepted for the exact proposed tree.
    Ready,
}

impl Readiness {
    /// Every rung, lowest first.
    pub const LADDER: [Self; 12] = [
        Self::NoTestsRan,
        Self::GatesFailing,
        Self::AgentFailed,
        Self::AgentNotRun,
        Self::ReviewMissing,
        Self::ReviewFailed,
        Self::NoChanges,
        Self::GateSurfaceChanged,
        Self::NotRerunAfterChange,
        Self::GatesOnDifferentTree,
        Self::AwaitingAcceptance,
        Self::Ready,
    ];

    /// Returns the rung's name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GatesFailing => "gates_failing",
            Self::NoTestsRan => "no_tests_ran",
            Self::AgentNotRun => "agent_not_run",
            Self::AgentFailed => "agent_failed",
            Self::ReviewMissing => "review_missing",
            Self::ReviewFailed => "review_failed",
            Self::NoChanges => "no_changes",
            Self::GateSurfaceChanged => "gate_surface_changed",
            Self::NotRerunAfterChange => "not_rerun_after_change",
            Self::GatesOnDifferentTree => "gates_on_different_tree",
            Self::AwaitingAcceptance => "awaiting_acceptance",
            Self::Ready => "ready",
        }
    }

    /// Returns the sentence that explains the rung; every rung below it is met.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::GatesFailing => "required verification evidence is incomplete or failing",
            Self::NoTestsRan => "a required test gate passed without running any test",
            Self::AgentNotRun => "the gates pass, but no agent run has finished",
            Self::AgentFailed => "the gates pass, but the agent's latest run failed",
            Self::ReviewMissing => {
                "the gates pass and the agent finished, but the review wall has not run on the change"
            }
            Self::ReviewFailed => "a review check failed, is blocked, or did not finish",
            Self::NoChanges => "gates, agent and review pass, but git shows no captured change",
            Self::GateSurfaceChanged => {
                "the change touches what the gates check, and nobody has approved that"
            }
            Self::NotRerunAfterChange => "a required gate has not run again since the last change",
            Self::GatesOnDifferentTree => {
                "a required gate last ran on another tree than the one proposed"
            }
            Self::AwaitingAcceptance => {
                "the change passed verification and review on its tree; it awaits acceptance"
            }
            Self::Ready => "verified and accepted; the change may be merged",
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
