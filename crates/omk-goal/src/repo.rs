//! The repository questions of commands that need nothing else of omk-goal, such as `omk key
//! generate` and `omk proof verify --bundle`, so that omk-cli need not depend on omk-worktree.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Returns the root of the repository containing `dir`, where `.omk/` lives.
pub fn find_repo_root(dir: &Path) -> Result<PathBuf, Error> {
    Ok(omk_worktree::open(dir)?.root)
}

/// Returns the commit `revision` (an id, a branch, any revision) names in the repository
/// containing `dir`.
pub fn resolve_commit(dir: &Path, revision: &str) -> Result<String, Error> {
    let repo = omk_worktree::open(dir)?;
    match omk_worktree::commit_tip(&repo, revision)? {
        Some(tip) => Ok(tip.commit),
        None => Err(Error::NoSuchCommit { revision: revision.to_owned(), repo: repo.root }),
    }
}
