//! The proof's data model: every field explicit and typed.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use omk_events::{
    AgentFinished, ApprovalDecided, ArtifactRef, ChangedFile, GateKind, GoalId, Step,
};

/// The version of the proof format this build writes.
pub const PROOF_VERSION: u32 = 1;

/// A goal's readiness report: what was done, what omk verified, and what is still missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proof {
    /// The proof format version, [`PROOF_VERSION`].
    pub version: u32,
    /// The goal the proof is about.
    pub goal_id: GoalId,
    /// Whether the change may be merged, or why the goal stopped.
    pub status: ProofStatus,
    /// The highest rung of the readiness ladder the goal reached.
    pub readiness: Readiness,
    /// One sentence rendered from `status` and `readiness`.
    pub summary: String,
    /// The time of the last event folded into the proof.
    #[serde(with = "omk_events::timestamp")]
    pub generated_at: DateTime<Utc>,
    /// The user's prompt.
    pub prompt: String,
    /// Where the change lives in git.
    pub git: GitEvidence,
    /// The agent's run, once it finished.
    pub agent: Option<AgentFinished>,
    /// The files that differ from the base commit, according to git, sorted by path.
    pub changed_files: Vec<ChangedFile>,
    /// Every gate run, in the order they finished.
    pub gates: Vec<ProofGate>,
    /// Whether at least one gate ran after the agent's last change.
    pub post_mutation_gates_ran: bool,
    /// What is missing before the change may be merged, each with its next step.
    pub known_gaps: Vec<KnownGap>,
    /// Every artifact the events name (transcripts, gate logs), in event order.
    pub artifacts: Vec<ArtifactRef>,
    /// Every answer of omk's approval policy to the agent, with the rule that matched, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<ApprovalDecided>,
}

/// Whether a goal's change may be merged, or why its run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    /// Verified and accepted: the change may be merged.
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
    /// The user cancelled the run.
    Cancelled,
    /// The run is paused and can be resumed.
    Paused,
}

impl fmt::Display for ProofStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ready => "ready",
            Self::NotReady => "not_ready",
            Self::BlockedOnHuman => "blocked_on_human",
            Self::BlockedOnExternal => "blocked_on_external",
            Self::NeedsMoreBudget => "needs_more_budget",
            Self::FailedInfra => "failed_infra",
            Self::Cancelled => "cancelled",
            Self::Paused => "paused",
        })
    }
}

/// The readiness ladder, lowest rung first.
///
/// The proof names the lowest rung whose requirement is not met, so a goal climbs one rung at a
/// time and a missing piece of evidence can never be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// omk's own machinery failed before the goal could be verified.
    InfraFailed,
    /// The agent has not finished a run yet.
    AgentNotRun,
    /// The agent's run failed.
    AgentFailed,
    /// The agent finished but git shows no change.
    NoChanges,
    /// The change exists but no required gate passed on it.
    Unverified,
    /// A required gate failed on the change.
    GatesFailing,
    /// Every required gate passed after the last change; a person or policy must accept it.
    VerifiedAwaitingAcceptance,
}

impl Readiness {
    /// Returns the sentence that explains the rung.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::InfraFailed => {
                "omk could not finish the run, so nothing about the change is verified"
            }
            Self::AgentNotRun => "the agent has not finished a run yet",
            Self::AgentFailed => "the agent's run failed",
            Self::NoChanges => "the agent finished but changed no file",
            Self::Unverified => "the change exists but no required gate passed on it",
            Self::GatesFailing => "a required gate failed on the change",
            Self::VerifiedAwaitingAcceptance => {
                "every required gate passed on the change; it awaits acceptance"
            }
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InfraFailed => "infra_failed",
            Self::AgentNotRun => "agent_not_run",
            Self::AgentFailed => "agent_failed",
            Self::NoChanges => "no_changes",
            Self::Unverified => "unverified",
            Self::GatesFailing => "gates_failing",
            Self::VerifiedAwaitingAcceptance => "verified_awaiting_acceptance",
        })
    }
}

/// Where the goal's change lives in git.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitEvidence {
    /// The branch the goal started from, `None` on a detached HEAD.
    pub base_branch: Option<String>,
    /// The commit the goal's worktree started from.
    pub base_commit: String,
    /// The goal's branch, once its worktree exists.
    pub branch: Option<String>,
    /// The tree id of the captured change, once captured.
    pub tree_id: Option<String>,
}

/// One gate run as the proof sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofGate {
    /// The gate's name.
    pub name: String,
    /// What the gate checks.
    pub kind: GateKind,
    /// The command line as run.
    pub command: Vec<String>,
    /// Whether the proof requires the gate to pass.
    pub required: bool,
    /// Whether the gate passed: it started, exited 0 and did not time out.
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
    /// The captured output.
    pub output: Option<ArtifactRef>,
    /// Whether the gate ran after the agent's last change, so its result speaks for the change.
    pub after_last_mutation: bool,
}

/// A piece of evidence the proof lacks, with the sentence that explains it and the next step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownGap {
    /// What is missing.
    pub gap: Gap,
    /// The gap as a sentence, rendered from `gap`.
    pub message: String,
    /// What to do about it, rendered from `gap`.
    pub next_step: String,
}

/// What a proof lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// A step failed for a reason outside the change.
    InfraFailure {
        /// The step that failed.
        step: Step,
        /// The error.
        error: String,
    },
    /// No agent run finished.
    AgentNotRun,
    /// The agent's run failed.
    AgentFailed {
        /// Why, when the agent said.
        error: Option<String>,
    },
    /// The agent finished, but omk did not capture the changes from git afterwards.
    ChangesNotCaptured,
    /// Git shows no change.
    NoChanges,
    /// No gate is configured or detected.
    NoGates,
    /// Gates ran, but none of them after the agent's last change.
    GatesNotRunAfterChange,
    /// Gates ran after the change, but none of them is required.
    NoRequiredGate,
    /// A required gate did not pass on the change.
    RequiredGateFailed {
        /// The gate's name.
        gate: String,
    },
    /// The change is verified and waits for a person or policy to accept it.
    AcceptanceMissing,
}

impl Gap {
    /// Returns the gap as a sentence.
    pub fn message(&self) -> String {
        match self {
            Self::InfraFailure { step, error } => format!("the {step} step failed: {error}"),
            Self::AgentNotRun => "no agent run has finished".to_owned(),
            Self::AgentFailed { error: Some(error) } => format!("the agent's run failed: {error}"),
            Self::AgentFailed { error: None } => "the agent's run failed".to_owned(),
            Self::ChangesNotCaptured => {
                "the changes were not read from git after the agent's run".to_owned()
            }
            Self::NoChanges => "git shows no changed file in the worktree".to_owned(),
            Self::NoGates => "no verification gate ran".to_owned(),
            Self::GatesNotRunAfterChange => {
                "no gate ran after the agent's last change, so no result speaks for it".to_owned()
            }
            Self::NoRequiredGate => "no required gate ran after the change".to_owned(),
            Self::RequiredGateFailed { gate } => {
                format!("required gate {gate} did not pass on the change")
            }
            Self::AcceptanceMissing => "nobody has accepted the change yet".to_owned(),
        }
    }

    /// Returns the next step that closes the gap.
    pub fn next_step(&self) -> String {
        match self {
            Self::InfraFailure { .. } => {
                "fix the cause named in the error, then run the goal again".to_owned()
            }
            Self::AgentNotRun | Self::ChangesNotCaptured => "run the goal to the end".to_owned(),
            Self::AgentFailed { .. } => {
                "read the agent transcript, adjust the prompt or agent, and run again".to_owned()
            }
            Self::NoChanges => "make the prompt say what should change, and run again".to_owned(),
            Self::NoGates => {
                "configure a gate in omk.toml ([[gates]]) or pass --gate 'CMD', and run again"
                    .to_owned()
            }
            Self::GatesNotRunAfterChange => "run the gates on the changed worktree".to_owned(),
            Self::NoRequiredGate => "mark at least one gate required in omk.toml".to_owned(),
            Self::RequiredGateFailed { gate } => {
                format!("read gate {gate}'s output artifact, fix the change, and run again")
            }
            Self::AcceptanceMissing => {
                "review the change in the goal's worktree (.omk/worktrees/<goal-id>) and merge it if you agree".to_owned()
            }
        }
    }
}

impl From<Gap> for KnownGap {
    fn from(gap: Gap) -> Self {
        Self { message: gap.message(), next_step: gap.next_step(), gap }
    }
}

impl Proof {
    /// Returns the proof as pretty-printed JSON with a trailing newline: the bytes of `proof.json`.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self)
            .expect("a proof serializes because every field is plain data with string keys");
        json.push('\n');
        json
    }
}
