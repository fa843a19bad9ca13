//! TEMPORARY stand-in until the review branch lands (replaced on merge).
use omk_events::{GateFinished, GateSurfaceChecked, GoalKind, ReviewFinished, ReviewStarted};
use omk_worktree::FileDiff;

use crate::config::ReviewConfig;

/// The checks.
pub const CHECKS: &[&str] = &[];

/// Input.
pub struct ReviewInput<'a> {
    /// Tree.
    pub tree_id: &'a str,
    /// Files.
    pub files: &'a [FileDiff],
    /// Gates.
    pub gates: &'a [GateFinished],
    /// Surface.
    pub gate_surface: Option<&'a GateSurfaceChecked>,
    /// Message.
    pub final_message: Option<&'a str>,
    /// Oracle.
    pub oracle_gates: &'a [String],
    /// Kind.
    pub goal_kind: GoalKind,
    /// Config.
    pub config: &'a ReviewConfig,
}

/// Reviews.
pub fn review(input: &ReviewInput<'_>) -> (ReviewStarted, Vec<ReviewFinished>) {
    (ReviewStarted { tree_id: input.tree_id.to_owned(), checks: Vec::new() }, Vec::new())
}
