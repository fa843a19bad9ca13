//! Errors of pushing and fetching goals.

use std::{io, path::PathBuf};

/// Returned when a goal's evidence cannot be pushed or fetched, or a fetched goal's origin
/// cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// `origin.json` cannot be read.
    #[error("read {path}")]
    ReadOrigin {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `origin.json` is not an origin this omk reads.
    #[error("read {path}: {problem}")]
    BadOrigin {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The remote is not one of the repository's remotes.
    #[error(
        "use remote {remote:?}: it is not a remote of this repository ({}); add it with `git remote add {remote} URL` or pass --remote NAME",
        if known.is_empty() { "it has none".to_owned() } else { format!("its remotes: {}", known.join(", ")) }
    )]
    NoSuchRemote {
        /// The name given.
        remote: String,
        /// The configured remotes.
        known: Vec<String>,
    },
    /// A run holds the goal's lock.
    #[error(
        "push goal {goal}: it is still running{}; push it once its run ends",
        pid.map(|it| format!(" (pid {it})")).unwrap_or_default()
    )]
    Running {
        /// The goal.
        goal: String,
        /// The running process, when it recorded its pid.
        pid: Option<u32>,
    },
    /// The goal was fetched, not run here.
    #[error(
        "push goal {goal}: it was fetched from a remote (it ran on {host}); omk push sends goals that ran in this clone"
    )]
    FetchedGoal {
        /// The goal.
        goal: String,
        /// Where it ran.
        host: String,
    },
    /// A command that would append to a fetched goal's log.
    #[error(
        "{verb} goal {goal}: it was fetched from a remote (it ran on {host}); its log is that machine's evidence and is not continued here"
    )]
    FetchedLog {
        /// What was asked, such as `resume`.
        verb: &'static str,
        /// The goal.
        goal: String,
        /// Where it ran.
        host: String,
    },
    /// The goal has no `proof.json`.
    #[error(
        "push goal {goal}: it has no proof ({path} is missing; its run was interrupted): `omk resume {goal}` finishes it"
    )]
    NoProof {
        /// The goal.
        goal: String,
        /// The missing file.
        path: PathBuf,
    },
    /// `proof.json` is not the fold of the log.
    #[error(
        "push goal {goal}: {difference}; nothing was pushed (`omk proof verify {goal}` shows the checks)"
    )]
    ProofNotFold {
        /// The goal.
        goal: String,
        /// The first difference.
        difference: String,
    },
    /// The log grew while the evidence was read.
    #[error("push goal {goal}: its log changed while it was read; push it again")]
    LogMoved {
        /// The goal.
        goal: String,
    },
    /// An artifact's file differs from its recorded digest.
    #[error(
        "push goal {goal}: artifact {path} was changed after omk recorded it (sha256 {recorded} recorded, {found} on disk); nothing was pushed (`omk proof verify {goal}` checks every artifact)"
    )]
    ArtifactChanged {
        /// The goal.
        goal: String,
        /// The artifact's path in the goal directory.
        path: String,
        /// The recorded digest, shortened.
        recorded: String,
        /// The file's digest, shortened.
        found: String,
    },
    /// A file of the evidence holds the value of a secret-looking variable of the environment.
    #[error(
        "push goal {goal}: {path} holds the value of {variables}, a secret of this environment; nothing was pushed (the evidence cannot be published without it: rotate the secret, and run the goal again with the agent kept from printing or writing it)"
    )]
    SecretInEvidence {
        /// The goal.
        goal: String,
        /// The file's path in the evidence.
        path: String,
        /// The variables whose values it holds, joined.
        variables: String,
    },
    /// An artifact's file is gone.
    #[error("push goal {goal}: artifact {path} is missing; nothing was pushed")]
    ArtifactMissing {
        /// The goal.
        goal: String,
        /// The artifact's path in the goal directory.
        path: String,
    },
    /// An artifact's recorded path is not a file inside the goal directory.
    #[error(
        "push goal {goal}: artifact path {path:?} is not a file inside the goal directory; nothing was pushed"
    )]
    ArtifactPath {
        /// The goal.
        goal: String,
        /// The recorded path.
        path: String,
    },
    /// The remote holds another history of the goal's evidence.
    #[error(
        "push goal {goal} to {remote}: {remote} holds a different evidence history for this goal id ({theirs}, not in this clone's history): another machine pushed another run with the same id; nothing was pushed. This clone's goal stays as it is: run the prompt again for a new goal id and push that, or look at the other run with `omk fetch --remote {remote}` in another clone"
    )]
    DifferentEvidence {
        /// The goal.
        goal: String,
        /// The remote.
        remote: String,
        /// Which of the remote's references and where.
        theirs: String,
    },
    /// The remote's acceptance notes are not in this clone's notes.
    #[error(
        "push to {remote}: its refs/notes/omk has notes this clone lacks; nothing was pushed. Merge them first: `git fetch {remote} refs/notes/omk:refs/notes/omk-{remote} && git notes --ref=omk merge -s cat_sort_uniq omk-{remote}`"
    )]
    NotesDiverged {
        /// The remote.
        remote: String,
    },
    /// The remote refused some references.
    #[error(
        "push goal {goal} to {remote}: {}{}; nothing was pushed when the push was atomic",
        if refs.is_empty() { "git push failed".to_owned() } else { format!("the remote refused {}", refs.join(", ")) },
        if stderr.is_empty() { String::new() } else { format!(" ({stderr})") }
    )]
    Rejected {
        /// The goal.
        goal: String,
        /// The remote.
        remote: String,
        /// Each refused reference with git's reason.
        refs: Vec<String>,
        /// What git said.
        stderr: String,
    },
    /// `git fetch` failed.
    #[error("fetch goals from {remote}")]
    Fetch {
        /// The remote.
        remote: String,
        /// What failed.
        #[source]
        source: omk_worktree::Error,
    },
    /// A fetched goal's files could not be written.
    #[error("write fetched goal {goal} into {path}")]
    Materialize {
        /// The goal.
        goal: String,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl RemoteError {
    /// Returns whether the error is caused by the user's input (a goal that is running, an
    /// unknown remote), which the message names; push and fetch failures are not.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::NoSuchRemote { .. }
                | Self::Running { .. }
                | Self::FetchedGoal { .. }
                | Self::FetchedLog { .. }
        )
    }

    /// Returns whether the error is a push or fetch that failed or was refused (exit code 6):
    /// the evidence, the remote or the transport; not bad input or an unreadable origin.
    pub fn is_transfer_failure(&self) -> bool {
        !self.is_bad_input() && !matches!(self, Self::ReadOrigin { .. } | Self::BadOrigin { .. })
    }
}
