//! Errors of the run controller.

use std::{io, path::PathBuf};

/// Returned when a goal cannot be started, recorded or found.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The prompt is empty or only whitespace.
    #[error("the prompt is empty; say what the agent should change")]
    EmptyPrompt,
    /// No agent was named and `omk.toml` names no default.
    #[error(
        "no agent given: pass --agent (kimi, kimi-print, claude, codex, cmd:COMMAND, script:FILE) or set [agent] default in omk.toml"
    )]
    NoAgent,
    /// The repository cannot be used.
    #[error(transparent)]
    Repo(#[from] omk_worktree::Error),
    /// The agent cannot be prepared.
    #[error(transparent)]
    Agent(#[from] omk_agent::Error),
    /// `omk.toml` cannot be read.
    #[error("read {path}")]
    ReadConfig {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `omk.toml` is invalid.
    #[error(transparent)]
    Config(#[from] omk_gates::ConfigError),
    /// The `[review]` or `[oracle]` section of `omk.toml` is invalid.
    #[error("read {path}:{line}:{column}: {message}")]
    GoalConfig {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The 1-based column.
        column: usize,
        /// What is wrong and the expected form.
        message: String,
    },
    /// A gate given on the command line clashes with a configured one.
    #[error("gate name {name:?} is used twice; rename one of the gates")]
    DuplicateGate {
        /// The name.
        name: String,
    },
    /// The goal's log cannot be written or read.
    #[error(transparent)]
    Log(#[from] omk_events::Error),
    /// The proof cannot be synthesized from the log.
    #[error(transparent)]
    Proof(#[from] omk_proof::Error),
    /// A file of the goal's state cannot be written.
    #[error("write {path}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// No goal has run in the repository.
    #[error("no goal has run in {repo}; start one with `omk run PROMPT`")]
    NoGoals {
        /// The repository root.
        repo: PathBuf,
    },
    /// The named goal does not exist.
    #[error("no goal {goal} in {repo}")]
    NoSuchGoal {
        /// The goal id as given.
        goal: String,
        /// The repository root.
        repo: PathBuf,
    },
    /// The goal id is malformed.
    #[error(transparent)]
    GoalId(#[from] omk_events::InvalidGoalId),
}

impl Error {
    /// Returns whether the error is caused by the user's input, which the message names.
    ///
    /// Such errors happen before a goal is created, so they leave nothing behind.
    pub fn is_bad_input(&self) -> bool {
        use omk_worktree::Error as RepoError;
        match self {
            Self::Agent(agent_error) => !matches!(
                agent_error,
                omk_agent::Error::Transcript { .. } | omk_agent::Error::Start { .. }
            ),
            Self::EmptyPrompt
            | Self::NoAgent
            | Self::Config(_)
            | Self::GoalConfig { .. }
            | Self::ReadConfig { .. }
            | Self::DuplicateGate { .. }
            | Self::NoGoals { .. }
            | Self::NoSuchGoal { .. }
            | Self::GoalId(_) => true,
            Self::Repo(
                RepoError::NotARepository { .. }
                | RepoError::NoSuchDirectory { .. }
                | RepoError::NoCommits { .. }
                | RepoError::Config { .. },
            ) => true,
            Self::Repo(_) | Self::Write { .. } | Self::Log(_) | Self::Proof(_) => false,
        }
    }
}

/// Returns `error` and its sources as one line, `outer: inner: root`.
pub use omk_worktree::error_chain;
