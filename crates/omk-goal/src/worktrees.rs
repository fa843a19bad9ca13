//! The goals' worktrees: listing them, and collecting those of finished goals.

use std::path::{Path, PathBuf};

use omk_worktree::{GcEntry, GcOptions, WorktreeInfo};

use crate::{
    decide::state::{GoalState, Halt},
    error::Error,
    layout::{Layout, worktree_goal},
};

/// The linked worktrees of the repository containing `dir`, and its root.
pub fn list_worktrees(dir: &Path) -> Result<(PathBuf, Vec<WorktreeInfo>), Error> {
    let repo = omk_worktree::open(dir)?;
    let worktrees = omk_worktree::list(&repo)?;
    Ok((repo.root, worktrees))
}

/// Removes the worktrees (and `omk/<goal-id>` branches) of finished goals that hold nothing to
/// lose, in the repository containing `dir`; returns every omk worktree with its verdict, and
/// the repository's root.
///
/// A goal is finished when it was accepted (merged) or cancelled. Every other goal can go on —
/// a paused one, one stopped at its budget or by a failed step, one whose run crashed, one that
/// waits for a decision — so its worktree stays, even when it holds nothing yet.
pub fn gc_worktrees(dir: &Path, dry_run: bool) -> Result<(PathBuf, Vec<GcEntry>), Error> {
    let repo = omk_worktree::open(dir)?;
    let layout = Layout::new(&repo.root);
    let is_finished = |goal: &str| {
        let Ok(log) = omk_events::read_log(&layout.goal_events(worktree_goal(goal))) else {
            return false;
        };
        GoalState::fold(&log.events)
            .is_some_and(|state| matches!(state.halt, Some(Halt::Accepted | Halt::Cancelled)))
    };
    let root = layout.worktrees_dir();
    let scratch_root = layout.verify_root();
    let options = GcOptions {
        dry_run,
        root: &root,
        is_finished: &is_finished,
        scratch_root: Some(&scratch_root),
    };
    let entries = omk_worktree::gc(&repo, &options)?;
    Ok((repo.root, entries))
}
