//! The repair section: every round in which omk told the agent what failed and let it try again,
//! with the agent's run, the tree it left and the gates on that tree.

use serde::{Deserialize, Serialize};

use omk_events::{AgentStatus, ArtifactRef, RepairOutcome};

/// The repair loop of a goal whose checks failed: the limit and every round, oldest first. The
/// proof's other sections judge the last tree; this one shows how the goal got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RepairEvidence {
    /// The most rounds the goal may run (`--repair`, `[run] repair_rounds`).
    pub limit: u32,
    /// Every round started, oldest first.
    pub rounds: Vec<RepairRound>,
}

/// One repair round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RepairRound {
    /// The round, from 1.
    pub round: u32,
    /// The tree whose failures the follow-up described.
    pub from_tree: String,
    /// The required gates that failed on that tree.
    pub failed_gates: Vec<String>,
    /// The review checks that failed on that tree and that the agent could act on.
    pub findings: Vec<String>,
    /// The follow-up the agent was given.
    pub follow_up: ArtifactRef,
    /// The round's agent run, once one finished (the latest, when it ran again).
    pub agent: Option<RoundAgent>,
    /// The tree the round's agent left, once captured.
    pub tree_id: Option<String>,
    /// The latest proposed run of each gate on that tree, in the order they finished.
    pub gates: Vec<RoundGate>,
    /// How the round ended; `None` while it is under way or was stopped (a budget, a pause, a
    /// crash), until `omk resume` finishes it.
    pub outcome: Option<RepairOutcome>,
}

/// The agent's run in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoundAgent {
    /// How many runs the round took (more than one after a stop or a retried failure).
    pub runs: u32,
    /// How the latest run ended.
    pub status: AgentStatus,
    /// The session the latest run continued or reported, when the agent has sessions.
    pub session_id: Option<String>,
    /// Why the latest run failed, when it did.
    pub error: Option<String>,
    /// The latest run's transcript.
    pub transcript: Option<ArtifactRef>,
    /// Wall time of the round's runs, in milliseconds.
    pub duration_ms: u64,
}

/// A gate's latest run on a round's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoundGate {
    /// The gate's name.
    pub name: String,
    /// Whether it is required.
    pub required: bool,
    /// Whether it passed.
    pub passed: bool,
    /// Its exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Its log.
    pub output: Option<ArtifactRef>,
}
