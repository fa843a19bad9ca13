//! Git worktrees for omk runs: create one per goal, read what changed in it, remove it.
//!
//! Every run happens in its own worktree on its own branch, so the user's checkout is never
//! touched. What changed is read from git, never from the agent: [`capture_changes`] snapshots
//! the whole worktree (untracked files included, `.gitignore` honored) into a tree object and
//! diffs it against the base commit.
//!
//! Invariants:
//! - This crate does not modify the user's checkout: it writes only objects, the new branch, the
//!   new worktree, blob references and `.git/info/exclude`.
//! - Every git command goes through one wrapper (`git.rs`) that sets the working directory,
//!   passes argv (never a shell string), removes the `GIT_*` variables that would redirect git
//!   to another repository, and returns git's stderr in its errors.
//! - It does not read omk's events: callers map [`FileChange`] into their own types.
//!
//! Entry points: [`open`], [`head`], [`create`], [`capture_changes`], [`diff_trees`] and
//! [`unified_patch`] (the lines a change adds and removes), [`remove`], [`create_scratch`] and
//! [`remove_scratch`] (a recorded tree on a detached HEAD, to re-run gates), [`restore_tree`]
//! (a worktree put back to a tree it held, undoing what a gate wrote),
//! [`fingerprint_checkout`] (what the user's checkout looks like, to notice any write to it),
//! [`init_with_commit`] for sample projects, and [`read_blob_ref`] and [`write_blob_ref`] (a
//! small record a reference names, replaced with compare-and-swap); for goals that travel
//! between clones, [`write_files_commit`], [`read_files_commit`], [`set_ref`], [`push`] and
//! [`fetch`].

mod blob_ref;
mod changes;
mod commit;
mod config;
mod diff;
mod error;
mod fingerprint;
mod gc;
mod git;
mod init;
mod integrate;
mod merge;
mod remote;
mod repo;
mod restore;
mod scratch;
mod worktree;

pub use crate::blob_ref::{BlobRef, read_blob_ref, write_blob_ref};
pub use crate::changes::{ChangeStatus, Changes, FileChange, capture_changes};
pub use crate::commit::{Commit, CommitOptions, commit, head_commit};
pub use crate::config::{WorktreeConfig, parse_config};
pub use crate::diff::{DiffLine, FileDiff, Hunk, diff_trees, unified_patch};
pub use crate::error::Error;
pub use crate::fingerprint::{CheckoutFingerprint, fingerprint_checkout};
pub use crate::gc::{GcEntry, GcOptions, GcVerdict, KeepReason, gc};
pub use crate::init::{Identity, init_with_commit};
pub use crate::integrate::{
    GitIdentity, add_note, discard_changes, merge_base_into, read_note, reset_hard, user_name,
};
pub use crate::merge::{
    MergeCheck, MergeKind, MergeOptions, MergeStrategy, Merged, merge, merge_check,
};
pub use crate::remote::{
    FilesCommit, PushOutcome, PushedRef, TreeFile, fetch, has_object, is_ancestor, ls_remote, push,
    read_blob, read_files_commit, ref_target, refs_under, remote_names, set_ref,
    write_files_commit,
};
pub use crate::repo::{Head, Repo, exclude, head, open};
pub use crate::restore::{TreeRestore, restore_tree};
pub use crate::scratch::{
    ScratchOptions, Tip, branch_tip, commit_tip, create_scratch, remove_scratch,
    scratch_lease_reason,
};
pub use crate::worktree::{
    CreateOptions, Worktree, WorktreeInfo, attach, create, lease_reason, list, lock,
    parse_lease_reason, remove, unlock, verify_pointer,
};
