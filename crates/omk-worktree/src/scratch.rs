//! Scratch worktrees: a recorded tree checked out on a detached HEAD, to re-run gates on it,
//! and reading which commit and tree a branch or commit names.

use std::path::Path;

use omk_sandbox::Sandbox;

use crate::{
    error::Error,
    init::Identity,
    repo::{Repo, gix_open, resolve_commit},
    worktree::{CreateOptions, Worktree, add_worktree, lock, prepare, remove_with},
};

/// A commit and its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    /// The commit id.
    pub commit: String,
    /// The id of the commit's tree.
    pub tree_id: String,
}

/// What [`create_scratch`] checks out, and how to prepare it.
#[derive(Debug, Clone, Copy)]
pub struct ScratchOptions<'a> {
    /// The directory of the scratch worktree; it must not exist.
    pub path: &'a Path,
    /// The tree to check out.
    pub tree_id: &'a str,
    /// A commit whose tree is `tree_id`, if one is known; when it is missing or has another
    /// tree, an unreferenced commit of `tree_id` on `parent` is written instead.
    pub commit: Option<&'a str>,
    /// The parent of that unreferenced commit (the goal's base commit).
    pub parent: &'a str,
    /// Untracked files of the user's checkout to copy in, as [`CreateOptions::copy`].
    pub copy: &'a [String],
    /// Setup commands to run in it, as [`CreateOptions::setup`].
    pub setup: &'a [String],
    /// How the setup commands start, as [`CreateOptions::sandbox`].
    pub sandbox: &'a Sandbox,
}

/// Returns the commit `branch` points at and its tree; `None` when there is no such branch.
pub fn branch_tip(repo: &Repo, branch: &str) -> Result<Option<Tip>, Error> {
    let git = gix_open(&repo.root)?;
    let name = crate::worktree::branch_name(branch)?;
    let Some(mut reference) = git.try_find_reference(name.as_ref()).ok().flatten() else {
        return Ok(None);
    };
    let commit = reference
        .peel_to_commit()
        .map_err(Error::gix(format!("read the commit of branch {branch}"), &repo.root))?;
    let tree_id = commit
        .tree_id()
        .map_err(Error::gix(format!("read the tree of branch {branch}"), &repo.root))?;
    Ok(Some(Tip { commit: commit.id.to_string(), tree_id: tree_id.to_string() }))
}

/// Returns the tree of commit `commit`; `None` when the repository has no such commit.
pub fn commit_tip(repo: &Repo, commit: &str) -> Result<Option<Tip>, Error> {
    let git = gix_open(&repo.root)?;
    let Ok(id) = resolve_commit(&git, commit) else { return Ok(None) };
    let object =
        git.find_commit(id).map_err(Error::gix(format!("read commit {commit}"), &repo.root))?;
    let tree_id =
        object.tree_id().map_err(Error::gix(format!("read the tree of {commit}"), &repo.root))?;
    Ok(Some(Tip { commit: id.to_string(), tree_id: tree_id.to_string() }))
}

/// Checks `options.tree_id` out into a new worktree on a detached HEAD, copies files and runs
/// setup as [`crate::create`] does, and returns the commit checked out.
///
/// No branch is created: when no known commit has the tree, the commit checked out is a new
/// one that no reference names. If preparing the worktree fails, it is removed again.
pub fn create_scratch(repo: &Repo, options: &ScratchOptions<'_>) -> Result<Tip, Error> {
    if options.path.symlink_metadata().is_ok() {
        return Err(Error::PathExists { path: options.path.to_owned() });
    }
    let git = gix_open(&repo.root)?;
    let tree =
        gix::ObjectId::from_hex(options.tree_id.as_bytes()).map_err(|err| Error::InvalidName {
            what: "tree id",
            name: options.tree_id.to_owned(),
            problem: err.to_string(),
        })?;
    git.find_tree(tree).map_err(|err| Error::InvalidName {
        what: "tree id",
        name: options.tree_id.to_owned(),
        problem: format!("the repository has no such tree ({err})"),
    })?;
    let known = match options.commit {
        Some(commit) => commit_tip(repo, commit)?.filter(|tip| tip.tree_id == options.tree_id),
        None => None,
    };
    let commit = match known {
        Some(tip) => resolve_commit(&git, &tip.commit)?,
        None => {
            let parent = resolve_commit(&git, options.parent)?;
            let identity = Identity { name: "omk", email: "omk@localhost" };
            let signature = identity.signature(0);
            let mut time_buf = gix::date::parse::TimeBuf::default();
            let signature = signature.to_ref(&mut time_buf);
            git.new_commit_as(
                signature,
                signature,
                "omk: scratch commit of a recorded tree\n",
                tree,
                [parent],
            )
            .map_err(Error::gix("write a commit of the recorded tree", &repo.root))?
            .id
        }
    };
    add_worktree(&git, repo, options.path, gix::worktree::add::Head::Detached(commit))?;
    // The lease tells `gc` whether the process that made it still runs.
    if let Err(err) = lock(repo, options.path, &scratch_lease_reason(std::process::id())) {
        remove_scratch(repo, options.path).ok();
        return Err(err);
    }
    let worktree = Worktree {
        path: options.path.to_owned(),
        branch: String::new(),
        base_commit: commit.to_string(),
    };
    let create = CreateOptions {
        path: options.path,
        branch: "",
        base_commit: options.parent,
        copy: options.copy,
        setup: options.setup,
        sandbox: options.sandbox,
    };
    if let Err(err) = prepare(repo, &worktree, &create) {
        remove_scratch(repo, options.path).ok();
        return Err(err);
    }
    Ok(Tip { commit: commit.to_string(), tree_id: options.tree_id.to_owned() })
}

/// Removes a scratch worktree made by [`create_scratch`], discarding whatever ran in it left
/// behind and its lease, and verifies it is gone.
///
/// A scratch worktree whose making a killed run cut short has no `.git` file yet, or one not
/// yet written whole, or other state git cannot read as a worktree: its directory and any
/// registration of it are removed as they are (a scratch worktree holds nothing of the user's).
pub fn remove_scratch(repo: &Repo, path: &Path) -> Result<(), Error> {
    let pointer = std::fs::read(path.join(".git"));
    let removed = if pointer.is_ok_and(|it| it.starts_with(b"gitdir: ") && it.ends_with(b"\n")) {
        remove_with(repo, path, gix::worktree::remove::Force::OverrideLock)
    } else {
        remove_half_made(repo, path)
    };
    match removed {
        Ok(()) => Ok(()),
        Err(err) => {
            tracing::debug!(path = %path.display(), %err, "remove the scratch worktree as it is");
            remove_half_made(repo, path).map_err(|_| err)?;
            if path.symlink_metadata().is_ok() {
                return Err(Error::StillOnDisk { path: path.to_owned() });
            }
            Ok(())
        }
    }
}

/// Removes the directory of a scratch worktree that has no `.git` file, and the registration
/// that names it, if git got as far as writing one.
fn remove_half_made(repo: &Repo, path: &Path) -> Result<(), Error> {
    let io_error = |action, path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { action, path, source }
    };
    let git = gix_open(&repo.root)?;
    let wanted = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let proxies = git.worktrees().map_err(Error::gix("list worktrees", &repo.root))?;
    for proxy in proxies {
        let names_it = proxy.base().is_ok_and(|base| {
            base == path
                || base == wanted
                || std::fs::canonicalize(&base).is_ok_and(|it| it == wanted)
        });
        if names_it {
            let admin = proxy.git_dir().to_owned();
            std::fs::remove_dir_all(&admin).map_err(io_error("remove", &admin))?;
        }
    }
    if path.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(path).map_err(io_error("remove", path))?;
    }
    Ok(())
}

/// Returns the lock reason of a scratch worktree that process `pid` made.
pub fn scratch_lease_reason(pid: u32) -> String {
    format!("omk scratch pid {pid}")
}

/// Reads back the pid of a lock reason written by [`scratch_lease_reason`].
pub(crate) fn parse_scratch_lease(reason: &str) -> Option<u32> {
    reason.strip_prefix("omk scratch pid ")?.trim().parse().ok()
}
