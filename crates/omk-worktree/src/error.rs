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
    /// Git reported the worktree removed, but its directory is still on disk.
    #[error("remove worktree {path}: git reported success but the directory is still there")]
    StillOnDisk {
        /// The directory.
        path: PathBuf,
    },
}
