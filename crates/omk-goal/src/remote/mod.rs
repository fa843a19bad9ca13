//! Goals that travel in git: the evidence a goal's run leaves, pushed to a remote under
//! `refs/omk/goals/<goal-id>` ([`push`]), and goals fetched from one into
//! `.omk/goals/<goal-id>/` with their `origin.json` ([`fetch`], [`origin`]).
//!
//! The evidence of a goal is a commit whose tree holds the log, the proof, the signed bundle
//! when there is one, every artifact the proof names (at its path in the goal directory, checked
//! against its recorded digest) and `origin.json`. A second push of a goal makes a commit whose
//! parent is the previous one, so the remote's reference only moves forward.

pub(crate) mod error;
pub(crate) mod fetch;
pub(crate) mod origin;
pub(crate) mod push;

use omk_events::GoalId;

/// The prefix of every goal's evidence reference.
pub const GOALS_REF_PREFIX: &str = "refs/omk/goals/";

/// The prefix under which `omk fetch` keeps what it fetched from each remote.
pub const FETCHED_REF_PREFIX: &str = "refs/omk/fetched/";

/// The notes reference acceptances are recorded under, pushed when it exists.
pub(crate) use crate::run::accept_step::NOTES_REF;

/// The files of an evidence tree besides the artifacts.
pub(crate) mod files {
    /// The log, byte for byte.
    pub(crate) const EVENTS: &str = "events.jsonl";
    /// The proof as written.
    pub(crate) const PROOF: &str = "proof.json";
    /// The in-toto bundle, when there is one.
    pub(crate) const BUNDLE: &str = "proof.intoto.jsonl";
    /// Where the goal ran and when it was pushed.
    pub(crate) const ORIGIN: &str = "origin.json";
    /// Every top-level file an evidence tree may hold besides artifacts.
    pub(crate) const ALL: [&str; 4] = [EVENTS, PROOF, BUNDLE, ORIGIN];
}

/// Returns the name of `goal`'s evidence reference, `refs/omk/goals/<goal-id>`.
pub fn evidence_ref(goal: &GoalId) -> String {
    format!("{GOALS_REF_PREFIX}{goal}")
}

/// Returns whether `name` works as a remote's name inside reference names: a configured
/// remote such as `origin`, not a URL or path.
pub(crate) fn is_plain_remote_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['.', '-'])
        && !name.contains("..")
        && name.bytes().all(|it| it.is_ascii_alphanumeric() || matches!(it, b'.' | b'_' | b'-'))
}

/// Checks that `remote` is a configured remote of the repository containing `repo_dir`, as
/// `omk run --push` does before it runs anything.
pub fn check_push_remote(repo_dir: &std::path::Path, remote: &str) -> Result<(), crate::Error> {
    check_remote(&omk_worktree::open(repo_dir)?, remote)
}

/// Checks that `remote` is one of the repository's configured remotes.
pub(crate) fn check_remote(repo: &omk_worktree::Repo, remote: &str) -> Result<(), crate::Error> {
    let known = omk_worktree::remote_names(repo)?;
    if is_plain_remote_name(remote) && known.iter().any(|it| it == remote) {
        return Ok(());
    }
    Err(error::RemoteError::NoSuchRemote { remote: remote.to_owned(), known }.into())
}
