//! The payloads of the repair loop: the limit on rounds, and the start and end of each round in
//! which omk gives the agent what failed and lets it try again.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::Event;

use crate::artifact::ArtifactRef;

/// The payload of [`Event::RepairRoundsSet`]: how many repair rounds the goal may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RepairRoundsSet {
    /// The most rounds after the agent's first run; 0 turns repair off.
    pub rounds: u32,
}

/// The payload of [`Event::RepairRoundStarted`]: omk hands the agent a follow-up about what
/// failed on a tree, in the same conversation where its CLI allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RepairRoundStarted {
    /// The round, from 1.
    pub round: u32,
    /// The tree whose failures the follow-up describes.
    pub tree_id: String,
    /// The required gates that failed on the tree, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_gates: Vec<String>,
    /// The review checks that failed on the tree and that the agent can act on, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// The follow-up text (`artifacts/repair/round-<n>.txt`, secrets masked).
    pub follow_up: ArtifactRef,
}

/// The payload of [`Event::RepairRoundEnded`]: how a round ended, once the gates and the review
/// ran on what its agent left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RepairRoundEnded {
    /// The round, from 1.
    pub round: u32,
    /// How it ended.
    pub outcome: RepairOutcome,
    /// The tree the round's checks ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_id: Option<String>,
}

/// How a repair round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RepairOutcome {
    /// The required gates passed and the review found nothing the agent must fix: the loop ends.
    Passed,
    /// Checks still fail and rounds are left: another round follows.
    StillFailing,
    /// The agent's run changed nothing: the loop ends.
    NoChange,
    /// The agent's run failed (it gave up, crashed or ran out of its own limits): the loop ends.
    AgentGaveUp,
    /// Checks still fail and no round is left: the loop ends.
    RoundsExhausted,
}

impl RepairOutcome {
    /// Returns whether no round follows this one.
    pub fn ends_loop(self) -> bool {
        self != Self::StillFailing
    }
}

impl fmt::Display for RepairOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Passed => "checks passed",
            Self::StillFailing => "checks still failing",
            Self::NoChange => "no change",
            Self::AgentGaveUp => "the agent gave up",
            Self::RoundsExhausted => "checks still failing, no round left",
        })
    }
}
