//! Bringing a moved base into a goal's branch on accept, and linking proofs to commits with git
//! notes: both through the git program, which does them in a worktree with its index and files.

use std::{ffi::OsStr, path::Path};

use crate::{
    commit::{Commit, head_commit},
    error::Error,
    git,
    init::Identity,
    repo::{Repo, gix_open},
};

/// Who and when, for the commits git makes here.
#[derive(Debug, Clone, Copy)]
pub struct GitIdentity<'a> {
    /// The author and committer.
    pub identity: Identity<'a>,
    /// The time, in seconds since the Unix epoch, UTC.
    pub time: i64,
}

impl GitIdentity<'_> {
    fn env(&self) -> Vec<(&'static str, String)> {
        let date = format!("@{} +0000", self.time);
        vec![
            ("GIT_AUTHOR_NAME", self.identity.name.to_owned()),
            ("GIT_AUTHOR_EMAIL", self.identity.email.to_owned()),
            ("GIT_AUTHOR_DATE", date.clone()),
            ("GIT_COMMITTER_NAME", self.identity.name.to_owned()),
            ("GIT_COMMITTER_EMAIL", self.identity.email.to_owned()),
            ("GIT_COMMITTER_DATE", date),
        ]
    }
}

/// Merges commit `base` into the branch checked out in the worktree at `worktree` with a merge
/// commit (message `message`), updating its files and index; returns the merge commit.
///
/// A conflict aborts the merge, leaving the worktree as it was, and is an error listing the
/// conflicting paths. The worktree must be clean.
pub fn merge_base_into(
    worktree: &Path,
    base: &str,
    message: &str,
    who: GitIdentity<'_>,
) -> Result<Commit, Error> {
    let env = who.env();
    let env: Vec<(&str, &OsStr)> =
        env.iter().map(|(key, value)| (*key, OsStr::new(value))).collect();
    let args = [
        "-c",
        "commit.gpgsign=false",
        "merge",
        "--no-ff",
        "--no-edit",
        "--no-verify",
        "--quiet",
        "-m",
        message,
        base,
    ];
    if let Err(err) = git::run_with_env(worktree, &args, &env) {
        let conflicts = git::run(worktree, &["diff", "--name-only", "--diff-filter=U"])
            .map(|out| out.lines().map(str::to_owned).collect::<Vec<_>>())
            .unwrap_or_default();
        git::run(worktree, &["merge", "--abort"]).ok();
        if conflicts.is_empty() {
            return Err(err);
        }
        let branch = git::run(worktree, &["symbolic-ref", "--short", "HEAD"])
            .map(|it| it.trim().to_owned())
            .unwrap_or_default();
        return Err(Error::Conflicts { branch: base.to_owned(), target: branch, paths: conflicts });
    }
    head_commit(worktree)
}

/// Moves the branch checked out in the omk-owned worktree at `worktree` back to `commit`,
/// discarding its files' changes and any merge in progress (`git reset --hard`).
///
/// For a team goal's integration worktree, after a batch of slices broke a gate. Never call it
/// on a user's checkout.
pub fn reset_hard(worktree: &Path, commit: &str) -> Result<(), Error> {
    git::run(worktree, &["merge", "--abort"]).ok();
    git::run(worktree, &["reset", "--quiet", "--hard", commit])?;
    Ok(())
}

/// Puts the omk-owned worktree at `worktree` back to `commit`: tracked files reset, untracked
/// files removed (ignored ones, such as build output, stay), so an agent's retried run does not
/// find its failed run's half-done edits (`git reset --hard` then `git clean -fd`).
///
/// Never call it on a user's checkout.
pub fn discard_changes(worktree: &Path, commit: &str) -> Result<(), Error> {
    git::run(worktree, &["reset", "--quiet", "--hard", commit])?;
    git::run(worktree, &["clean", "--quiet", "-d", "--force"])?;
    Ok(())
}

/// Adds (or replaces) the note of `commit` under `notes_ref` (such as `refs/notes/omk`).
pub fn add_note(
    repo: &Repo,
    commit: &str,
    notes_ref: &str,
    text: &str,
    who: GitIdentity<'_>,
) -> Result<(), Error> {
    let env = who.env();
    let env: Vec<(&str, &OsStr)> =
        env.iter().map(|(key, value)| (*key, OsStr::new(value))).collect();
    let reference = format!("--ref={notes_ref}");
    git::run_with_env(&repo.root, &["notes", &reference, "add", "-f", "-m", text, commit], &env)?;
    Ok(())
}

/// Returns the note of `commit` under `notes_ref`, if it has one.
pub fn read_note(repo: &Repo, commit: &str, notes_ref: &str) -> Result<Option<String>, Error> {
    let reference = format!("--ref={notes_ref}");
    match git::run(&repo.root, &["notes", &reference, "show", commit]) {
        Ok(text) => Ok(Some(text)),
        Err(Error::Git { stderr, .. }) if stderr.contains("no note found") => Ok(None),
        Err(err) => Err(err),
    }
}

/// Returns `user.name` from the repository's git configuration, if set.
pub fn user_name(repo: &Repo) -> Option<String> {
    let git = gix_open(&repo.root).ok()?;
    let config = git.config_snapshot();
    config.string("user.name").map(|name| name.to_string()).filter(|it| !it.trim().is_empty())
}
