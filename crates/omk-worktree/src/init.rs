//! Making a new repository with a first commit, for sample projects and fixtures.

use std::{ffi::OsStr, path::Path};

use crate::{error::Error, git, repo::Repo};

/// Who a commit is by.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// The author and committer name.
    pub name: &'a str,
    /// The author and committer email.
    pub email: &'a str,
}

impl Identity<'_> {
    /// Returns the git signature of this identity at `time` (seconds since the epoch, UTC).
    pub(crate) fn signature(&self, time: i64) -> gix::actor::Signature {
        gix::actor::Signature {
            name: self.name.into(),
            email: self.email.into(),
            time: gix::date::Time::new(time, 0),
        }
    }
}

/// Initializes a repository in `dir` on `branch` and commits every file in it.
///
/// The identity is passed to this one commit only; the repository's config is not changed.
pub fn init_with_commit(
    dir: &Path,
    branch: &str,
    message: &str,
    identity: Identity<'_>,
) -> Result<Repo, Error> {
    git::run(dir, &["init", "--quiet", &format!("--initial-branch={branch}")])?;
    git::run(dir, &["add", "--all"])?;
    // Git prefers `GIT_AUTHOR_*` and `GIT_COMMITTER_*` from the environment to `user.name` and
    // `user.email`, so the identity goes in those variables, where it overrides whatever the
    // caller's environment holds.
    let (name, email) = (OsStr::new(identity.name), OsStr::new(identity.email));
    let env = [
        ("GIT_AUTHOR_NAME", name),
        ("GIT_AUTHOR_EMAIL", email),
        ("GIT_COMMITTER_NAME", name),
        ("GIT_COMMITTER_EMAIL", email),
    ];
    git::run_with_env(dir, &["commit", "--quiet", "--no-verify", "-m", message], &env)?;
    crate::repo::open(dir)
}
