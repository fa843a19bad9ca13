//! Checking a goal's branch against its base in memory, and merging it on accept.

use std::{collections::BTreeSet, path::PathBuf};

use gix::refs::transaction::PreviousValue;

use crate::{
    error::Error,
    git,
    init::Identity,
    repo::{Repo, gix_open, resolve_commit},
    worktree::{branch_name, short_branch},
};

/// What merging a branch onto a base would give, computed without touching any checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeCheck {
    /// The base commit ("ours").
    pub base_commit: String,
    /// The branch's commit ("theirs").
    pub branch_commit: String,
    /// What kind of merge it is.
    pub kind: MergeKind,
    /// The merged tree; with conflicts it holds git's conflict markers, and is not written to
    /// the object database.
    pub tree_id: String,
    /// The paths that conflict, sorted; empty when the merge is clean.
    pub conflicts: Vec<String>,
}

/// How a branch relates to the base it is merged onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// The base already contains the branch.
    UpToDate,
    /// The base is an ancestor of the branch: the base can move to it.
    FastForward,
    /// Both moved since their merge base: a real three-way merge.
    ThreeWay,
}

/// How [`merge`] combines a branch that is not a fast-forward (from `[worktree] merge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeStrategy {
    /// Fast-forward when possible, else a merge commit with both parents.
    #[default]
    Merge,
    /// Always one new commit on the target with the merged tree.
    Squash,
}

/// What [`merge`] needs.
#[derive(Debug, Clone, Copy)]
pub struct MergeOptions<'a> {
    /// The branch to merge, such as `omk/<goal-id>`.
    pub branch: &'a str,
    /// The branch to merge into, such as `main`.
    pub target: &'a str,
    /// Merge commit or squash.
    pub strategy: MergeStrategy,
    /// The message of a merge or squash commit.
    pub message: &'a str,
    /// The author and committer of a merge or squash commit.
    pub identity: Identity<'a>,
    /// The commit time, in seconds since the Unix epoch, UTC.
    pub time: i64,
}

/// What [`merge`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// The target already contained the branch; nothing changed.
    UpToDate {
        /// The target's commit.
        commit: String,
    },
    /// The target moved forward to the branch's commit.
    FastForward {
        /// The target's new commit.
        commit: String,
    },
    /// A merge commit (or squash commit) was made on the target.
    Committed {
        /// The new commit.
        commit: String,
        /// Whether it is a squash commit (one parent) rather than a merge commit.
        squash: bool,
    },
}

/// Merges `branch` onto `base` in memory and lists the conflicting paths.
///
/// Nothing is written: not the object database, not a reference, not any checkout. The base and
/// branch are revisions (branch names or commit ids).
pub fn merge_check(repo: &Repo, base: &str, branch: &str) -> Result<MergeCheck, Error> {
    let mut git = gix_open(&repo.root)?.with_object_memory();
    // Tree merges read the same trees and blobs again and again; git keeps them in memory too.
    git.object_cache_size_if_unset(32 * 1024 * 1024);
    let ours = resolve_commit(&git, base)?;
    let theirs = resolve_commit(&git, branch)?;
    let check_error = || Error::gix(format!("merge {branch} onto {base} in memory"), &repo.root);
    let merge_base = git.merge_base(ours, theirs).map_err(check_error())?.map(gix::Id::detach);
    let tree_of = |id: gix::ObjectId| -> Result<String, Error> {
        let commit = git.find_commit(id).map_err(check_error())?;
        Ok(commit.tree_id().map_err(check_error())?.to_string())
    };
    let (kind, tree_id, conflicts) = if merge_base == Some(theirs) {
        (MergeKind::UpToDate, tree_of(ours)?, Vec::new())
    } else if merge_base == Some(ours) {
        (MergeKind::FastForward, tree_of(theirs)?, Vec::new())
    } else {
        let outcome = three_way(&git, ours, theirs).map_err(check_error())?;
        let conflicts = unresolved_paths(&outcome);
        let tree = tree_id_of(&git, outcome).map_err(check_error())?;
        (MergeKind::ThreeWay, tree.to_string(), conflicts)
    };
    Ok(MergeCheck {
        base_commit: ours.to_string(),
        branch_commit: theirs.to_string(),
        kind,
        tree_id,
        conflicts,
    })
}

/// Merges `options.branch` into `options.target` (on accept).
///
/// Fast-forwards when possible (unless squashing), else makes a merge or squash commit. When no
/// worktree has the target checked out, its reference moves with compare-and-swap. When one
/// does (usually the user's checkout), omk refuses if that checkout has uncommitted changes to
/// any path the merge changes, and otherwise lets `git merge --ff-only` move it, which updates its
/// files and index and never overwrites local changes. Conflicts are an error listing the paths;
/// nothing is changed then.
pub fn merge(repo: &Repo, options: &MergeOptions<'_>) -> Result<Merged, Error> {
    let git = gix_open(&repo.root)?;
    let target_name = branch_name(options.target)?;
    let merge_error =
        || Error::gix(format!("merge {} into {}", options.branch, options.target), &repo.root);
    let target_tip = resolve_commit(&git, target_name.as_bstr().to_string().as_str())?;
    let branch_tip =
        resolve_commit(&git, branch_name(options.branch)?.as_bstr().to_string().as_str())?;
    let merge_base =
        git.merge_base(target_tip, branch_tip).map_err(merge_error())?.map(gix::Id::detach);
    if merge_base == Some(branch_tip) {
        return Ok(Merged::UpToDate { commit: target_tip.to_string() });
    }
    let squash = options.strategy == MergeStrategy::Squash;
    let new_tip = if merge_base == Some(target_tip) && !squash {
        branch_tip
    } else {
        let mut outcome = three_way(&git, target_tip, branch_tip).map_err(merge_error())?;
        let conflicts = unresolved_paths(&outcome);
        if !conflicts.is_empty() {
            return Err(Error::Conflicts {
                branch: options.branch.to_owned(),
                target: options.target.to_owned(),
                paths: conflicts,
            });
        }
        let signature = options.identity.signature(options.time);
        let mut time_buf = gix::date::parse::TimeBuf::default();
        let signature = signature.to_ref(&mut time_buf);
        let parents = if squash { vec![target_tip] } else { vec![target_tip, branch_tip] };
        let tree = outcome.tree_merge.tree.write().map_err(merge_error())?.detach();
        git.new_commit_as(signature, signature, options.message, tree, parents)
            .map_err(merge_error())?
            .id
    };
    let checkout = checkout_of(&git, options.target).map_err(merge_error())?;
    match checkout {
        None => {
            git.reference(
                target_name.clone(),
                new_tip,
                PreviousValue::MustExistAndMatch(gix::refs::Target::Object(target_tip)),
                format!("omk: merge {}", options.branch),
            )
            .map_err(|_| Error::RefMoved {
                reference: target_name.as_bstr().to_string(),
                expected: target_tip.to_string(),
            })?;
        }
        Some(checkout) => {
            let checkout_git = gix_open(&checkout)?;
            let dirty = dirty_paths(&checkout_git).map_err(merge_error())?;
            let changed = changed_paths(&git, target_tip, new_tip).map_err(merge_error())?;
            let overlap: Vec<String> = dirty.intersection(&changed).cloned().collect();
            if !overlap.is_empty() {
                return Err(Error::DirtyCheckout {
                    branch: options.branch.to_owned(),
                    target: options.target.to_owned(),
                    checkout,
                    paths: overlap,
                });
            }
            let new_tip_text = new_tip.to_string();
            git::run(&checkout, &["merge", "--ff-only", "--quiet", &new_tip_text])?;
        }
    }
    let commit = new_tip.to_string();
    Ok(if new_tip == branch_tip && !squash {
        Merged::FastForward { commit }
    } else {
        Merged::Committed { commit, squash }
    })
}

/// Merges the trees of `ours` and `theirs` with git's rules; the merged tree is still to be
/// written.
fn three_way<'repo>(
    git: &'repo gix::Repository,
    ours: gix::ObjectId,
    theirs: gix::ObjectId,
) -> Result<gix::merge::commit::Outcome<'repo>, gix::Error> {
    let options = gix::merge::commit::Options::from(git.tree_merge_options()?);
    let labels = gix::merge::blob::builtin_driver::text::Labels {
        ancestor: Some("base".into()),
        current: Some("ours".into()),
        other: Some("theirs".into()),
    };
    git.merge_commits(ours, theirs, labels, options)
}

/// Returns the paths of the conflicts `outcome` leaves unresolved by git's rules, sorted.
fn unresolved_paths(outcome: &gix::merge::commit::Outcome<'_>) -> Vec<String> {
    let how = gix::merge::tree::TreatAsUnresolved::git();
    let mut conflicts = BTreeSet::new();
    for conflict in &outcome.tree_merge.conflicts {
        if conflict.is_unresolved(how) {
            let (ours, theirs) = conflict.changes_in_resolution();
            conflicts.insert(ours.location().to_string());
            conflicts.insert(theirs.location().to_string());
        }
    }
    conflicts.into_iter().collect()
}

/// Returns the id the merged tree of `outcome` would have, without writing it anywhere.
///
/// gix's own write looks up every entry of every changed tree in the object database first
/// (a file-system call for each loose object), which was a sixth of a merge check; the trees
/// of a check are never read back, so their ids are all it needs. The entries' names are still
/// checked as gix's write checks them (with its defaults on Linux), so that a branch with a
/// name no checkout may hold (`.git`, `..`) fails the check as it would fail the merge.
fn tree_id_of(
    git: &gix::Repository,
    outcome: gix::merge::commit::Outcome<'_>,
) -> Result<gix::ObjectId, gix::Error> {
    use gix::{objs::WriteTo as _, validate::path::component};
    let names = component::Options {
        protect_windows: cfg!(windows),
        protect_hfs: cfg!(target_os = "macos"),
        protect_ntfs: true,
    };
    let hash_kind = git.object_hash();
    let mut editor = outcome.tree_merge.tree.detach();
    let mut buf = Vec::new();
    let id = editor.write(|tree| -> Result<gix::ObjectId, gix::Error> {
        for entry in &tree.entries {
            let mode = entry.mode.is_link().then_some(component::Mode::Symlink);
            component(entry.filename.as_ref(), mode, names).map_err(|err| {
                let name = &entry.filename;
                let problem = format!("the merged tree would hold the name {name:?}: {err}");
                gix::Error::from_error(std::io::Error::other(problem))
            })?;
        }
        buf.clear();
        tree.write_to(&mut buf).map_err(gix::Error::from_error)?;
        gix::objs::compute_hash(hash_kind, gix::objs::Kind::Tree, &buf)
            .map_err(gix::Error::from_error)
    })?;
    Ok(id)
}

/// Returns the worktree (main or linked) that has branch `short` checked out.
fn checkout_of(git: &gix::Repository, short: &str) -> Result<Option<PathBuf>, gix::Error> {
    for worktree in git.worktrees_including_main()? {
        let Ok(worktree) = worktree else { continue };
        let Ok(Some(name)) = worktree.head_name() else { continue };
        if short_branch(name.as_bstr().to_string()) == short {
            return Ok(worktree.workdir().map(ToOwned::to_owned));
        }
    }
    Ok(None)
}

/// Returns the paths with uncommitted changes (staged, unstaged or untracked) in the worktree of
/// `git`.
pub(crate) fn dirty_paths(git: &gix::Repository) -> Result<BTreeSet<String>, gix::Error> {
    let mut paths = BTreeSet::new();
    let iter = git
        .status(gix::progress::Discard)?
        .untracked_files(gix::status::UntrackedFiles::Files)
        .index_worktree_rewrites(None)
        .tree_index_track_renames(gix::status::tree_index::TrackRenames::Disabled)
        .into_iter(None)?;
    for item in iter {
        let item = item?;
        let counts = match &item {
            gix::status::Item::TreeIndex(_) => true,
            gix::status::Item::IndexWorktree(change) => change.summary().is_some(),
        };
        if counts {
            paths.insert(item.location().to_string());
        }
    }
    Ok(paths)
}

/// Returns the paths that differ between the trees of commits `from` and `to`.
fn changed_paths(
    git: &gix::Repository,
    from: gix::ObjectId,
    to: gix::ObjectId,
) -> Result<BTreeSet<String>, gix::Error> {
    let from_tree = git.find_commit(from)?.tree()?;
    let to_tree = git.find_commit(to)?.tree()?;
    let changes = git.diff_tree_to_tree(&from_tree, &to_tree, gix::diff::Options::default())?;
    let mut paths = BTreeSet::new();
    for change in changes {
        paths.insert(change.location().to_string());
        paths.insert(change.source_location().to_string());
    }
    Ok(paths)
}
