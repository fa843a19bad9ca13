//! Errors of proof synthesis and parsing.

use omk_events::{GoalId, Seq};

/// Returned when events cannot be folded into a proof, or a proof cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// There were no events at all.
    #[error("synthesize proof: the goal has no events")]
    NoEvents,
    /// The first event is not `goal_created`.
    #[error("synthesize proof: the first event is {found}, expected goal_created")]
    MissingGoalCreated {
        /// The kind of the first event.
        found: String,
    },
    /// A second `goal_created` appeared.
    #[error("synthesize proof: event {seq} is a second goal_created; a log holds one goal")]
    DuplicateGoalCreated {
        /// Its sequence number.
        seq: Seq,
    },
    /// An event belongs to another goal.
    #[error("synthesize proof: event {seq} belongs to goal {found}, not {expected}")]
    GoalMismatch {
        /// Its sequence number.
        seq: Seq,
        /// The goal of the log.
        expected: GoalId,
        /// The goal the event names.
        found: GoalId,
    },
    /// Sequence numbers do not increase.
    #[error(
        "synthesize proof: event {seq} comes after event {previous}; events must be in log order"
    )]
    OutOfOrder {
        /// The offending sequence number.
        seq: Seq,
        /// The one before it.
        previous: Seq,
    },
    /// The text is not a proof.
    #[error("read proof: not a valid proof JSON: {0}")]
    InvalidJson(String),
    /// The proof was written by a version of omk this build does not read.
    #[error(
        "read proof: proof format version {found} is not supported (this omk reads version {supported}); rebuild it with `omk proof rebuild` or use a matching omk"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
}
