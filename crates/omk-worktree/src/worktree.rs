//! Creating and removing a goal's worktree.

use std::path::{Path, PathBuf};

use crate::{error::Error, git, repo::Repo};

/// What [`create`] needs: where, on which new branch, from which commit.
#[derive(Debug, Clone)]
pub struct CreateOptions<'a> {
    /// The directory of the new worktree; it must not exist.
    pub path: &'a Path,
    /// The new branch's short name, such as `omk/<goal-id>`; it must not exist.
    pub branch: &'a str,
    /// The commit the branch starts at.
    pub base_commit: &'a str,
}

/// A worktree omk created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    /// The worktree's directory.
    pub path: PathBuf,
    /// The branch checked out in it.
    pub branch: String,
    /// The commit the branch was created at.
    pub base_commit: String,
}

/// Creates a worktree on a new branch; fails, changing nothing, if the path or branch exists.
pub fn create(repo: &Repo, options: &CreateOptions<'_>) -> Result<Worktree, Error> {
    if options.path.exists() {
        return Err(Error::PathExists { path: options.path.to_owned() });
    }
    let path = options.path.to_str().ok_or_else(|| Error::Output {
        args: "worktree add".to_owned(),
        problem: format!("the worktree path {} is not UTF-8", options.path.display()),
    })?;
    git::run(
        &repo.root,
        &["worktree", "add", "--quiet", "-b", options.branch, path, options.base_commit],
    )?;
    Ok(Worktree {
        path: options.path.to_owned(),
        branch: options.branch.to_owned(),
        base_commit: options.base_commit.to_owned(),
    })
}

/// Removes the worktree at `path`, refusing if it holds changes; the branch is kept.
///
/// Fails unless the directory is really gone afterwards.
pub fn remove(repo: &Repo, path: &Path) -> Result<(), Error> {
    let path_text = path.to_string_lossy();
    git::run(&repo.root, &["worktree", "remove", &path_text])?;
    if path.exists() {
        return Err(Error::StillOnDisk { path: path.to_owned() });
    }
    Ok(())
}
