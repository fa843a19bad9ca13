//! Errors of git operations.

use std::{io, path::PathBuf};

/// Returned when a git operation fails.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `git` program could not be started.
    #[error("run git in {dir}: is git installed and on PATH?")]
    Spawn {
        /// The directory git was to run in.
        dir: PathBuf,
        /// Why it could not start.
        #[source]
        source: io::Error,
    },
    /// Git ran and failed.
    #[error("git {args} in {dir} exited with {status}: {stderr}")]
    Git {
        /// The arguments, joined by spaces.
        args: String,
        /// The directory git ran in.
        dir: PathBuf,
        /// The exit status.
        status: String,
        /// What git wrote to stderr, trimmed.
        stderr: String,
    },
    /// Git printed something omk cannot read.
    #[error("read the output of git {args}: {problem}")]
    Output {
        /// The arguments, joined by spaces.
        args: String,
        /// What is wrong with the output.
        problem: String,
    },
    /// The directory to open does not exist.
    #[error("{path} does not exist or is not a directory")]
    NoSuchDirectory {
        /// The directory that was opened.
        path: PathBuf,
    },
    /// The directory is not inside a git repository.
    #[error(
        "{path} is not inside a git repository; run `git init` there or pass -C with a repository"
    )]
    NotARepository {
        /// The directory that was opened.
        path: PathBuf,
    },
    /// The repository has no commit to start from.
    #[error("the repository at {path} has no commits yet; commit something first")]
    NoCommits {
        /// The repository's root.
        path: PathBuf,
    },
    /// The worktree's directory already exists.
    #[error("create worktree at {path}: the directory already exists")]
    PathExists {
        /// The directory.
        path: PathBuf,
    },
    /// Something other than omk rewrote a worktree's `.git` file, which names the repository
    /// its git commands use: omk restored it, but what ran with it pointing elsewhere is unknown.
    #[error(
        "use worktree {path}: its .git file was rewritten to {found:?} by a process of the goal \
         (omk restored it); the run cannot trust what git read there"
    )]
    PointerChanged {
        /// The worktree.
        path: PathBuf,
        /// What the `.git` file said.
        found: String,
    },
    /// A file operation omk does itself failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A worktree still differs from the tree it was put back to.
    #[error("restore worktree {worktree} to tree {tree_id}: it holds tree {holds} afterwards")]
    NotRestored {
        /// The worktree.
        worktree: PathBuf,
        /// The tree it should hold.
        tree_id: String,
        /// The tree it holds.
        holds: String,
    },
    /// Git reported the worktree removed, but its directory is still on disk.
    #[error("remove worktree {path}: git reported success but the directory is still there")]
    StillOnDisk {
        /// The directory.
        path: PathBuf,
    },
    /// A gix (in-process git) operation failed.
    #[error("{action} in {path}")]
    Gix {
        /// What was being done, readable after "failed to".
        action: String,
        /// The repository or worktree.
        path: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// The branch to create already exists.
    #[error(
        "create branch {branch}: it already exists; delete it with `git branch -D {branch}` or \
         use another name"
    )]
    BranchExists {
        /// The branch's short name.
        branch: String,
    },
    /// A branch or revision name is not valid.
    #[error("use {name:?} as a {what}: {problem}")]
    InvalidName {
        /// What the name is for (branch, revision).
        what: &'static str,
        /// The name as given.
        name: String,
        /// Why it cannot be used.
        problem: String,
    },
    /// The path is not a linked worktree of the repository.
    #[error("find worktree {path}: it is not a linked worktree of {repo}; see `omk worktree list`")]
    NoSuchWorktree {
        /// The path that was asked for.
        path: PathBuf,
        /// The repository's root.
        repo: PathBuf,
    },
    /// Copying a listed untracked file into a new worktree failed.
    #[error("copy {file} into the new worktree {worktree}")]
    Copy {
        /// The file, relative to the repository root.
        file: String,
        /// The new worktree.
        worktree: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A setup command of `[worktree] setup` failed in the new worktree.
    #[error(
        "run the setup command `{command}` in {dir}: {problem}; fix it in [worktree] setup of omk.toml"
    )]
    Setup {
        /// The command, as written in omk.toml.
        command: String,
        /// The worktree it ran in.
        dir: PathBuf,
        /// The exit status and stderr, or why it could not start.
        problem: String,
    },
    /// The `[worktree]` section of `omk.toml` is invalid; the caller names the file, line and
    /// column.
    #[error("{message}")]
    Config {
        /// The byte offset of the problem in the text.
        offset: usize,
        /// What is wrong and the expected form.
        message: String,
    },
    /// Merging would conflict.
    #[error("merge {branch} into {target}: {} conflicting path(s): {}", paths.len(), paths.join(", "))]
    Conflicts {
        /// The branch being merged.
        branch: String,
        /// The branch merged into.
        target: String,
        /// The conflicting paths, sorted.
        paths: Vec<String>,
    },
    /// The checkout of the target branch has uncommitted changes to paths the merge changes.
    #[error(
        "merge {branch} into {target}: the checkout {checkout} has uncommitted changes to {}; \
         commit or stash them first",
        paths.join(", ")
    )]
    DirtyCheckout {
        /// The branch being merged.
        branch: String,
        /// The branch merged into.
        target: String,
        /// The worktree that has `target` checked out.
        checkout: PathBuf,
        /// The paths that both the merge and the uncommitted changes touch, sorted.
        paths: Vec<String>,
    },
    /// A reference moved while omk was updating it (compare-and-swap failed).
    #[error("update {reference}: it moved from {expected} while omk worked; run the command again")]
    RefMoved {
        /// The full reference name.
        reference: String,
        /// The value omk expected it to have.
        expected: String,
    },
}

impl Error {
    /// Returns a [`Error::Gix`] maker for `action` in `path`, for `map_err`.
    pub(crate) fn gix<E: Into<gix::Error>>(
        action: impl Into<String>,
        path: &std::path::Path,
    ) -> impl FnOnce(E) -> Self {
        let action = action.into();
        let path = path.to_owned();
        move |source| Self::Gix { action, path, source: source.into() }
    }
}

/// Returns `err` and its sources as one line, `outer: inner: root`, for a worktree `gc` keeps.
///
/// The public joiner is `omk_events::error_chain`; this crate sits beside omk-events, not above
/// it, so it keeps its own for the one sentence it records.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
