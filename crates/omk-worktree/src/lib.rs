//! omk-worktree (being written).
