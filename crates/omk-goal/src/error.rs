//! Errors of the run controller.

use std::{io, path::PathBuf};

/// Returned when a goal cannot be started, recorded or found.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The prompt is empty or only whitespace.
    #[error("the prompt is empty; say what the agent should change")]
    EmptyPrompt,
    /// No agent was named and no config file names a default.
    #[error(
        "no agent given: pass --agent (kimi, kimi-print, claude, codex, cmd:COMMAND, script:FILE) or set [agent] default in omk.toml or in your user config"
    )]
    NoAgent,
    /// No agent was named, no config file names a default, and some tasks of a team plan name
    /// no agent of their own.
    #[error(
        "no agent for tasks {}: pass --agent, set [agent] default in omk.toml or in your user config, or name an agent in each of these tasks",
        tasks.join(", ")
    )]
    TasksWithoutAgent {
        /// The tasks without an agent, in plan order.
        tasks: Vec<String>,
    },
    /// The repository cannot be used.
    #[error(transparent)]
    Repo(#[from] omk_worktree::Error),
    /// The agent cannot be prepared.
    #[error(transparent)]
    Agent(#[from] omk_agent::Error),
    /// The configuration cannot be read, or a file or the layers together are invalid.
    #[error(transparent)]
    Config(#[from] omk_config::Error),
    /// A gate given on the command line clashes with a configured one.
    #[error("gate name {name:?} is used twice; rename one of the gates")]
    DuplicateGate {
        /// The name.
        name: String,
    },
    /// `omk gates run NAME` names a gate the plan does not have.
    #[error("no gate named {name:?}")]
    UnknownGate {
        /// The name asked for.
        name: String,
        /// The gates the plan has.
        known: Vec<String>,
    },
    /// `omk gates run` found no gate to run.
    #[error("no gate to run")]
    NoGateToRun,
    /// A file given as input (a task plan, a goal's proof) cannot be read.
    #[error("read {path}")]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A revision names no commit of the repository.
    #[error("find commit {revision:?} in {repo}: no commit has that name")]
    NoSuchCommit {
        /// The revision as given.
        revision: String,
        /// The repository's root.
        repo: PathBuf,
    },
    /// A key `[trust] keys` lists is missing or not a public key.
    #[error(
        "load the key {path} that [trust] keys in omk.toml lists (paths are relative to the repository root; commit the .pub file `omk key generate` writes there, or remove the entry)"
    )]
    TrustedKey {
        /// The file, as omk.toml names it.
        path: String,
        /// What is wrong with it.
        #[source]
        source: omk_attest::Error,
    },
    /// `omk accept` of a fetched goal whose evidence does not verify, or is not signed by a
    /// trusted key when a signature is required.
    #[error(
        "accept goal {goal}: its evidence does not verify, so nothing was merged: {}; `omk proof verify {goal}` shows every check",
        failed.join("; ")
    )]
    Untrusted {
        /// The goal.
        goal: String,
        /// Each failed check, as `name: message`.
        failed: Vec<String>,
    },
    /// The goal's branch no longer holds the tree its proof speaks for.
    #[error(
        "merge goal {goal}: branch {branch} is at tree {found}, not the tree {recorded} the proof speaks for; it moved after the proof, so nothing was merged"
    )]
    BranchMoved {
        /// The goal.
        goal: String,
        /// The branch.
        branch: String,
        /// The tree the branch holds, short.
        found: String,
        /// The tree the proof records, short.
        recorded: String,
    },
    /// `--since` names no earlier proof of the goal.
    #[error("use {since:?} as an earlier proof of goal {goal}: {problem}")]
    BadSince {
        /// The goal.
        goal: String,
        /// The value given.
        since: String,
        /// What is wrong and the accepted forms.
        problem: String,
    },
    /// A goal's evidence cannot be pushed or fetched, or a fetched goal's origin read.
    #[error(transparent)]
    Remote(Box<crate::remote::error::RemoteError>),
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
    /// The goals directory cannot be read.
    #[error("read {path}")]
    ReadGoals {
        /// The directory.
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
    #[error("no goal {goal} in {repo}; `omk list` shows its goals")]
    NoSuchGoal {
        /// The goal id as given.
        goal: String,
        /// The repository root.
        repo: PathBuf,
    },
    /// The goal id is malformed.
    #[error(transparent)]
    GoalId(#[from] omk_events::InvalidGoalId),
    /// A goal prefix matches several goals.
    #[error("{prefix:?} names {} goals ({}); give more of the id", candidates.len(), candidates.join(", "))]
    AmbiguousGoal {
        /// The prefix as given.
        prefix: String,
        /// The goals it matches.
        candidates: Vec<String>,
    },
    /// HEAD is detached, so there is no branch to merge the change into.
    #[error(
        "HEAD is detached at {commit}; check out the branch the change should go to (git switch main) and run again"
    )]
    DetachedHead {
        /// The commit HEAD points at.
        commit: String,
    },
    /// `omk mcp` was asked to run gates for a goal whose worktree does not exist yet.
    #[error("goal {goal} has no worktree yet; its gates run once its agent has started")]
    NoWorktreeYet {
        /// The goal.
        goal: String,
    },
    /// The log does not start with `goal_created`.
    #[error("{path} is not a goal's event log: its first event is not goal_created")]
    NotAGoalLog {
        /// The log.
        path: PathBuf,
    },
    /// The goal was cancelled, which is final.
    #[error("goal {goal} was cancelled, which is final; start a new goal with `omk run`")]
    Cancelled {
        /// The goal.
        goal: String,
    },
    /// The goal's change was accepted and merged.
    #[error("goal {goal} was already accepted and merged")]
    AlreadyAccepted {
        /// The goal.
        goal: String,
    },
    /// Resume was asked of a goal whose steps are all done.
    #[error(
        "goal {goal} has nothing to resume: its steps are done and it waits for `omk accept` or `omk reject`; to have the agent change more, run `omk resume {goal} --prompt TEXT`"
    )]
    NothingToResume {
        /// The goal.
        goal: String,
    },
    /// The goal is halted, so it cannot be decided on.
    #[error("goal {goal} is {halt}")]
    Halted {
        /// The goal.
        goal: String,
        /// The halt, as a phrase with its next step.
        halt: String,
    },
    /// The goal's steps are not done, so there is nothing to accept yet.
    #[error("goal {goal} has not finished its steps (next: {next}); run `omk resume {goal}` first")]
    StepsNotDone {
        /// The goal.
        goal: String,
        /// The next step.
        next: String,
    },
    /// The proof does not allow the merge.
    #[error("goal {goal} cannot be accepted: {refused}")]
    MergeRefused {
        /// The goal.
        goal: String,
        /// Why.
        refused: omk_proof::MergeRefused,
    },
    /// `omk reject` without a reason.
    #[error("say why the change is rejected: omk reject GOAL --reason TEXT")]
    NoRejectReason,
    /// The goal has no proposed change to decide on.
    #[error("goal {goal} has no proposed change yet; run `omk resume {goal}` to finish its steps")]
    NothingToDecide {
        /// The goal.
        goal: String,
    },
    /// `omk pause` of a goal no process runs.
    #[error("goal {goal} is not running, so there is nothing to pause ({state})")]
    NotRunning {
        /// The goal.
        goal: String,
        /// What the goal is doing instead.
        state: String,
    },
    /// The live run did not stop in time.
    #[error(
        "goal {goal} is run by pid {}, which did not stop within {waited_ms} ms; the request was withdrawn, try again or stop the process",
        pid.map_or_else(|| "?".to_owned(), |it| it.to_string())
    )]
    StopTimedOut {
        /// The goal.
        goal: String,
        /// The run's pid, if recorded.
        pid: Option<u32>,
        /// How long omk waited.
        waited_ms: u64,
    },
    /// `omk budget add` without anything to add.
    #[error("say what to add: omk budget add GOAL --time 10m --tokens 50000 --usd 1 --turns 10")]
    EmptyBudgetAdd,
    /// A team goal's task plan is not a valid graph: every problem, each naming the task and
    /// the fix.
    #[error(
        "the task plan {source_name} is invalid:{}",
        problems.iter().map(|it| format!("\n  - {it}")).collect::<String>()
    )]
    Plan {
        /// Where the plan came from: the plan file's path, or `from --slices`.
        source_name: String,
        /// The problems, each a sentence.
        problems: Vec<String>,
    },
}

impl Error {
    /// Returns whether the error is a refusal to merge: the proof does not allow it, or the
    /// branch conflicts with the base. Nothing was changed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::MergeRefused { .. }
                | Self::Untrusted { .. }
                | Self::BranchMoved { .. }
                | Self::Repo(omk_worktree::Error::Conflicts { .. })
        )
    }

    /// Returns whether the error is caused by the user's input, which the message names.
    ///
    /// Such errors happen before a goal is created, so they leave nothing behind.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Agent(agent_error) => is_bad_agent_input(agent_error),
            Self::Config(omk_config::Error::Agent(agent_error)) => is_bad_agent_input(agent_error),
            Self::Repo(repo_error) | Self::Config(omk_config::Error::Repo(repo_error)) => {
                is_bad_repository(repo_error)
            }
            Self::EmptyPrompt
            | Self::NoAgent
            | Self::TasksWithoutAgent { .. }
            | Self::Config(
                omk_config::Error::Config { .. }
                | omk_config::Error::EffectiveConfig { .. }
                | omk_config::Error::ReadConfig { .. },
            )
            | Self::DuplicateGate { .. }
            | Self::UnknownGate { .. }
            | Self::NoGateToRun
            | Self::NoWorktreeYet { .. }
            | Self::NoGoals { .. }
            | Self::NoSuchGoal { .. }
            | Self::GoalId(_)
            | Self::AmbiguousGoal { .. }
            | Self::DetachedHead { .. }
            | Self::Cancelled { .. }
            | Self::AlreadyAccepted { .. }
            | Self::NothingToResume { .. }
            | Self::Halted { .. }
            | Self::StepsNotDone { .. }
            | Self::NoRejectReason
            | Self::NothingToDecide { .. }
            | Self::NotRunning { .. }
            | Self::ReadInput { .. }
            | Self::BadSince { .. }
            | Self::NoSuchCommit { .. }
            | Self::TrustedKey { .. }
            | Self::EmptyBudgetAdd
            | Self::Plan { .. } => true,
            Self::ReadGoals { .. }
            | Self::MergeRefused { .. }
            | Self::Untrusted { .. }
            | Self::BranchMoved { .. }
            | Self::StopTimedOut { .. }
            | Self::NotAGoalLog { .. } => false,
            Self::Write { .. } | Self::Log(_) | Self::Proof(_) => false,
            Self::Remote(remote) => remote.is_bad_input(),
        }
    }
}

impl From<crate::remote::error::RemoteError> for Error {
    fn from(error: crate::remote::error::RemoteError) -> Self {
        Self::Remote(Box::new(error))
    }
}

/// Returns whether the agent cannot be prepared because of the user's input: anything but a
/// transcript that cannot be written or a program that cannot start.
fn is_bad_agent_input(error: &omk_agent::Error) -> bool {
    !matches!(error, omk_agent::Error::Transcript { .. } | omk_agent::Error::Start { .. })
}

/// Returns whether the repository cannot be used because of the user's input: the directory
/// is no repository, is missing or has no commits, or `[worktree]` is invalid.
fn is_bad_repository(error: &omk_worktree::Error) -> bool {
    use omk_worktree::Error as RepoError;
    matches!(
        error,
        RepoError::NotARepository { .. }
            | RepoError::NoSuchDirectory { .. }
            | RepoError::NoCommits { .. }
            | RepoError::Config { .. }
    )
}

/// Returns `error` and its sources as one line, `outer: inner: root`.
pub use omk_events::error_chain;
