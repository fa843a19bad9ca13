//! Making a new repository with a first commit, for sample projects and fixtures.

use std::path::Path;

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
    let name = format!("user.name={}", identity.name);
    let email = format!("user.email={}", identity.email);
    git::run(dir, &["-c", &name, "-c", &email, "commit", "--quiet", "--no-verify", "-m", message])?;
    crate::repo::open(dir)
}
