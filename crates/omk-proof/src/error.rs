//! Errors of proof synthesis.

/// Returned when a sequence of events cannot be folded into a proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// There were no events at all.
    #[error("synthesize proof: the goal has no events")]
    NoEvents,
    /// The first event is not `goal_created`.
    #[error("synthesize proof: the first event is {found}, expected goal_created")]
    MissingGoalCreated {
        /// The kind of the first event.
        found: &'static str,
    },
}
