//! The goals' worktrees: listing them, and collecting those of finished goals.

use std::path::{Path, PathBuf};

use omk_worktree::{GcEntry, GcOptions, WorktreeInfo};

use crate::{error::Error, store::goals_dir};

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
/// A goal is finished when its `proof.json` is written, which `omk run` does last; a goal whose
/// run crashed keeps its worktree, since its work was never proved.
pub fn gc_worktrees(dir: &Path, dry_run: bool) -> Result<(PathBuf, Vec<GcEntry>), Error> {
    let repo = omk_worktree::open(dir)?;
    let goals = goals_dir(&repo.root);
    let is_finished = |goal: &str| goals.join(goal).join("proof.json").is_file();
    let root = repo.root.join(".omk").join("worktrees");
    let entries =
        omk_worktree::gc(&repo, &GcOptions { dry_run, root: &root, is_finished: &is_finished })?;
    Ok((repo.root, entries))
}
