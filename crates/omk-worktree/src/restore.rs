//! Putting a worktree back to a tree it held: what a gate wrote there is not the agent's work.

use std::{fs, io, path::Path};

use crate::{changes::snapshot_tree, error::Error, git, repo::gix_open};

/// What [`restore_tree`] put back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeRestore {
    /// Files that were not in the tree (and that `.gitignore` does not ignore), removed, sorted.
    pub removed: Vec<String>,
    /// Files of the tree that were changed or deleted, restored from it, sorted.
    pub restored: Vec<String>,
}

impl TreeRestore {
    /// Returns whether the worktree held the tree already.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.restored.is_empty()
    }
}

/// Puts the worktree at `worktree` back to `tree_id`, the tree it held before something ran in
/// it (such as the gates), so that its next capture is that tree again.
///
/// Untracked files that are not in the tree and that `.gitignore` does not ignore are removed
/// (with the directories they leave empty); files of the tree that were changed, deleted or
/// replaced are written back from it with `git restore`, which leaves the index alone. Ignored
/// files stay: they are never captured. The worktree is checked afterwards: an error says so when
/// it still does not hold `tree_id`.
pub fn restore_tree(worktree: &Path, tree_id: &str) -> Result<TreeRestore, Error> {
    let git = gix_open(worktree)?;
    let current = snapshot_tree(&git, worktree)?.to_string();
    if current == tree_id {
        return Ok(TreeRestore::default());
    }
    let listing = git::run(
        worktree,
        &["diff-tree", "-r", "-z", "--no-renames", "--name-status", tree_id, &current],
    )?;
    let mut restore = TreeRestore::default();
    let mut fields = listing.split('\0').filter(|it| !it.is_empty());
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        if status == "A" {
            restore.removed.push(path.to_owned());
        } else {
            restore.restored.push(path.to_owned());
        }
    }
    for path in &restore.removed {
        let file = worktree.join(path);
        match fs::remove_file(&file) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                return Err(Error::Io {
                    action: "remove a file a gate left",
                    path: file,
                    source: err,
                });
            }
            _ => remove_empty_parents(worktree, &file),
        }
    }
    if !restore.restored.is_empty() {
        let source = format!("--source={tree_id}");
        let mut args = vec!["--literal-pathspecs", "restore", &source, "--worktree", "--"];
        args.extend(restore.restored.iter().map(String::as_str));
        git::run(worktree, &args)?;
    }
    let after = snapshot_tree(&gix_open(worktree)?, worktree)?.to_string();
    if after != tree_id {
        return Err(Error::NotRestored {
            worktree: worktree.to_owned(),
            tree_id: tree_id.to_owned(),
            holds: after,
        });
    }
    restore.removed.sort();
    restore.restored.sort();
    Ok(restore)
}

/// Removes the directories between `file` and `root` that are empty once `file` is gone.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(current) = dir.filter(|it| *it != root && it.starts_with(root)) {
        // A directory that is not empty (or already gone) ends the walk.
        if fs::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
}
