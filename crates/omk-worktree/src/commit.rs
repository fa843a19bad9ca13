//! Committing a worktree's changes on its branch, in process, with a compare-and-swap update.

use std::path::Path;

use crate::{changes::snapshot_tree, error::Error, init::Identity, repo::gix_open};

/// What [`commit`] writes: who, what message, which goal, when.
#[derive(Debug, Clone, Copy)]
pub struct CommitOptions<'a> {
    /// The author and committer (from `[worktree] author_*` of omk.toml, or omk's default).
    pub identity: Identity<'a>,
    /// The commit message; omk adds an `Omk-Goal:` trailer.
    pub message: &'a str,
    /// The goal the change belongs to, for the trailer.
    pub goal_id: &'a str,
    /// The author and commit time, in seconds since the Unix epoch, UTC (the injected clock).
    pub time: i64,
}

/// A commit omk made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The new commit's id.
    pub id: String,
    /// Its tree, the snapshot of the worktree.
    pub tree_id: String,
    /// The commit it was made on.
    pub parent: String,
}

/// Commits everything in the worktree at `worktree` (untracked files included, ignored files
/// not) on its checked-out branch; returns `None` when there is nothing to commit.
///
/// The branch moves only if it still points at the commit the snapshot was taken on
/// (compare-and-swap); otherwise the error says it moved. The worktree's index is rewritten to
/// the new tree, keeping the cached file stats of unchanged files, so `git status` is clean
/// afterwards. No hooks run and nothing is signed: omk commits are its own record of the
/// agent's work, made on omk's branch.
pub fn commit(worktree: &Path, options: &CommitOptions<'_>) -> Result<Option<Commit>, Error> {
    let git = gix_open(worktree)?;
    let commit_error = || Error::gix("commit the worktree's changes", worktree);
    let parent = git.head_commit().map_err(|_| Error::NoCommits { path: worktree.to_owned() })?;
    let parent_tree = parent.tree_id().map_err(commit_error())?.detach();
    let tree_id = snapshot_tree(&git, worktree)?;
    if tree_id == parent_tree {
        return Ok(None);
    }
    let message = format!("{}\n\nOmk-Goal: {}\n", options.message.trim_end(), options.goal_id);
    let signature = options.identity.signature(options.time);
    let mut time_buf = gix::date::parse::TimeBuf::default();
    let signature = signature.to_ref(&mut time_buf);
    let id = git
        .commit_as(signature, signature, "HEAD", &message, tree_id, [parent.id])
        .map_err(|err| {
            let head_now = git.head_id().ok().map(|id| id.detach());
            if head_now.is_some_and(|head| head != parent.id) {
                Error::RefMoved { reference: "HEAD".to_owned(), expected: parent.id.to_string() }
            } else {
                commit_error()(err)
            }
        })?
        .detach();
    write_index(&git, worktree, tree_id)?;
    Ok(Some(Commit {
        id: id.to_string(),
        tree_id: tree_id.to_string(),
        parent: parent.id.to_string(),
    }))
}

/// Returns the commit checked out in the worktree at `worktree`, with its tree and first parent.
///
/// A resumed run uses it to adopt the commit a crashed run made but did not record.
pub fn head_commit(worktree: &Path) -> Result<Commit, Error> {
    let git = gix_open(worktree)?;
    let read_error = || Error::gix("read the worktree's HEAD commit", worktree);
    let head = git.head_commit().map_err(|_| Error::NoCommits { path: worktree.to_owned() })?;
    let tree_id = head.tree_id().map_err(read_error())?.detach();
    let parent = head.parent_ids().next().map(|it| it.detach().to_string()).unwrap_or_default();
    Ok(Commit { id: head.id.to_string(), tree_id: tree_id.to_string(), parent })
}

/// Rewrites the index of the worktree of `git` to `tree`, keeping the stats of entries whose
/// content did not change and taking fresh ones for the rest.
fn write_index(git: &gix::Repository, worktree: &Path, tree: gix::ObjectId) -> Result<(), Error> {
    let index_error = || Error::gix("update the worktree's index", worktree);
    let old = git.index_or_empty().map_err(index_error())?;
    let mut new = git.index_from_tree(&tree).map_err(index_error())?;
    for (entry, path) in new.entries_mut_with_paths() {
        match old.entry_by_path(path) {
            Some(previous) if previous.id == entry.id && previous.mode == entry.mode => {
                entry.stat = previous.stat;
            }
            _ => {
                let Ok(relative) = gix::path::from_bstr(path) else { continue };
                let file = worktree.join(relative);
                if let Ok(metadata) = gix::index::fs::Metadata::from_path_no_follow(&file)
                    && let Ok(stat) = gix::index::entry::Stat::from_fs(&metadata)
                {
                    entry.stat = stat;
                }
            }
        }
    }
    new.write(gix::index::write::Options::default()).map_err(index_error())
}
