//! Reading what changed in a worktree since its base commit, from git alone.

use std::{collections::BTreeSet, path::Path};

use gix::object::tree::diff::ChangeDetached as Change;

use crate::{
    error::Error,
    repo::{gix_open, resolve_commit},
};

/// The content of a worktree compared with a base commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The id of a git tree holding the worktree's whole content, untracked files included.
    pub tree_id: String,
    /// The files that differ from the base commit, sorted by path.
    pub files: Vec<FileChange>,
}

/// One file that differs from the base commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The path relative to the worktree root, with `/` separators.
    pub path: String,
    /// What happened to it.
    pub status: ChangeStatus,
    /// Lines added and removed; `None` for binary files.
    pub lines: Option<(u64, u64)>,
    /// The blob id of the new content; `None` when the file was deleted.
    pub blob_id: Option<String>,
}

/// What happened to a changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeStatus {
    /// The file is new.
    Added,
    /// The file's content, mode or type changed.
    Modified,
    /// The file was removed.
    Deleted,
    /// The file was moved from `from`, possibly with edits.
    Renamed {
        /// The old path.
        from: String,
    },
}

/// Snapshots the worktree at `worktree` into a tree and lists its changes against `base_commit`.
///
/// The snapshot is the tree `git add --all && git write-tree` would give, built in process
/// without an index: the worktree's own index, files and branch are left exactly as they were,
/// and no `index.lock` is taken. Untracked files count; ignored files do not. The snapshot's
/// objects are written to the object database, so its id can be shown, diffed and committed.
pub fn capture_changes(worktree: &Path, base_commit: &str) -> Result<Changes, Error> {
    let git = gix_open(worktree)?;
    let tree_id = snapshot_tree(&git, worktree)?;
    let base = resolve_commit(&git, base_commit)?;
    let files = diff_against(&git, worktree, base, tree_id)?;
    Ok(Changes { tree_id: tree_id.to_string(), files })
}

/// Writes the content of the worktree of `git` as a tree, starting from its `HEAD` tree and
/// replacing every path `git status` reports (staged, unstaged or untracked).
pub(crate) fn snapshot_tree(git: &gix::Repository, path: &Path) -> Result<gix::ObjectId, Error> {
    let status_error = Error::gix("read the status of the worktree", path);
    let head_tree = match git.head_tree_id_or_empty() {
        Ok(id) => id.detach(),
        Err(err) => return Err(status_error(err)),
    };
    let mut touched = BTreeSet::new();
    let iter = git
        .status(gix::progress::Discard)
        .and_then(|status| {
            status
                .untracked_files(gix::status::UntrackedFiles::Files)
                .index_worktree_rewrites(None)
                .tree_index_track_renames(gix::status::tree_index::TrackRenames::Disabled)
                .index_worktree_submodules(gix::status::Submodule::Given {
                    ignore: gix::submodule::config::Ignore::All,
                    check_dirty: false,
                })
                .into_iter(None)
        })
        .map_err(Error::gix("read the status of the worktree", path))?;
    for item in iter {
        let item = item.map_err(Error::gix("read the status of the worktree", path))?;
        let counts = match &item {
            gix::status::Item::TreeIndex(_) => true,
            gix::status::Item::IndexWorktree(change) => change.summary().is_some(),
        };
        if counts {
            touched.insert(item.location().to_owned());
        }
    }
    let write_error = || Error::gix("write the snapshot tree of the worktree", path);
    let (mut pipeline, index) = git.filter_pipeline(None).map_err(write_error())?;
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    for rela_path in touched {
        match pipeline.worktree_file_to_object(rela_path.as_ref(), &index).map_err(write_error())? {
            Some((id, kind, _)) => upserts.push((rela_path, kind, id)),
            None => removals.push(rela_path),
        }
    }
    let mut editor = git.edit_tree(head_tree).map_err(write_error())?;
    // Removals first, so a file replaced by a directory (or the reverse) ends up right.
    for rela_path in &removals {
        editor.remove(rela_path).map_err(write_error())?;
    }
    for (rela_path, kind, id) in upserts {
        editor.upsert(&rela_path, kind, id).map_err(write_error())?;
    }
    Ok(editor.write().map_err(write_error())?.detach())
}

/// Lists the files that differ between the trees of `base` (a commit) and `tree`, with renames
/// and line counts, sorted by path.
pub(crate) fn diff_against(
    git: &gix::Repository,
    path: &Path,
    base: gix::ObjectId,
    tree: gix::ObjectId,
) -> Result<Vec<FileChange>, Error> {
    let mut files = Vec::new();
    walk_changes(git, path, base, tree, &mut |change, prepared| {
        let counts = prepared.and_then(|prepared| match prepared.operation {
            gix::diff::blob::platform::prepare_diff::Operation::InternalDiff { algorithm } => {
                let input = prepared.interned_input();
                let diff = gix::diff::blob::Diff::compute(algorithm, &input);
                Some((u64::from(diff.count_additions()), u64::from(diff.count_removals())))
            }
            _ => None,
        });
        files.push(FileChange {
            path: change.path,
            status: change.status,
            lines: counts,
            blob_id: change.new.map(|(id, _)| id.to_string()),
        });
        Ok(())
    })?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// One file that differs between two trees, as [`walk_changes`] reports it.
pub(crate) struct TreeChange {
    /// The path in the new tree (the old one for a deletion).
    pub(crate) path: String,
    /// What happened to it.
    pub(crate) status: ChangeStatus,
    /// The blob id and mode on the base side; `None` for an added file.
    pub(crate) old: Option<(gix::ObjectId, gix::object::tree::EntryMode)>,
    /// The blob id and mode on the new side; `None` for a deleted file.
    pub(crate) new: Option<(gix::ObjectId, gix::object::tree::EntryMode)>,
}

/// The two sides of a changed file as gix prepared them for a line diff.
pub(crate) type Prepared<'a> = gix::diff::blob::platform::prepare_diff::Outcome<'a>;

/// What [`walk_changes`] calls for each changed file.
pub(crate) type Visit<'v> = dyn FnMut(TreeChange, Option<Prepared<'_>>) -> Result<(), Error> + 'v;

/// Calls `visit` for every file (not directory) that differs between the trees of `base` (a
/// commit) and `tree`, with renames detected, in gix's order.
///
/// `visit` gets the file's content prepared for a line diff, or `None` for a submodule.
pub(crate) fn walk_changes(
    git: &gix::Repository,
    path: &Path,
    base: gix::ObjectId,
    tree: gix::ObjectId,
    visit: &mut Visit<'_>,
) -> Result<(), Error> {
    let diff_error = || Error::gix("diff the worktree against its base", path);
    let base_tree = git.find_commit(base).map_err(diff_error())?.tree().map_err(diff_error())?;
    let new_tree = git.find_tree(tree).map_err(diff_error())?;
    let options = gix::diff::Options::default().with_rewrites(Some(gix::diff::Rewrites::default()));
    let changes = git.diff_tree_to_tree(&base_tree, &new_tree, options).map_err(diff_error())?;
    let mut cache = git.diff_resource_cache_for_tree_diff().map_err(diff_error())?;
    for change in changes {
        if change.entry_mode().is_tree() {
            continue;
        }
        let text = |bytes: &gix::bstr::BStr| bytes.to_string();
        let (status, old, new) = match &change {
            Change::Addition { id, entry_mode, .. } => {
                (ChangeStatus::Added, None, Some((*id, *entry_mode)))
            }
            Change::Modification { previous_id, previous_entry_mode, id, entry_mode, .. } => (
                ChangeStatus::Modified,
                Some((*previous_id, *previous_entry_mode)),
                Some((*id, *entry_mode)),
            ),
            Change::Deletion { id, entry_mode, .. } => {
                (ChangeStatus::Deleted, Some((*id, *entry_mode)), None)
            }
            Change::Rewrite {
                source_location,
                source_id,
                source_entry_mode,
                id,
                entry_mode,
                ..
            } => (
                ChangeStatus::Renamed { from: text(source_location.as_ref()) },
                Some((*source_id, *source_entry_mode)),
                Some((*id, *entry_mode)),
            ),
        };
        let tree_change = TreeChange { path: text(change.location()), status, old, new };
        if change.entry_mode().is_commit() {
            visit(tree_change, None)?;
            continue;
        }
        cache
            .set_resource_by_change(change.to_ref(), &git.objects)
            .map_err(|err| diff_error()(err.into_error()))?;
        let prepared = cache.prepare_diff().map_err(|err| diff_error()(err.into_error()))?;
        visit(tree_change, Some(prepared))?;
        cache.clear_resource_cache_keep_allocation();
    }
    Ok(())
}
