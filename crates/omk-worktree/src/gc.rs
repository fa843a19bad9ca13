//! Removing the worktrees of finished goals, and only those that hold nothing to lose.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
};

use crate::{
    error::Error,
    merge::dirty_paths,
    repo::{Repo, gix_open},
    scratch::{parse_scratch_lease, remove_scratch},
    worktree::{WorktreeInfo, branch_name, list, parse_lease_reason, remove_with},
};

/// What [`gc`] needs to decide.
pub struct GcOptions<'a> {
    /// Only report what would be removed.
    pub dry_run: bool,
    /// The directory omk creates worktrees in (`.omk/worktrees`); others are never touched.
    pub root: &'a Path,
    /// Whether the goal with this id has finished (its proof is written).
    pub is_finished: &'a dyn Fn(&str) -> bool,
    /// The directory scratch worktrees are made in (`.omk/verify`), if any: one whose maker no
    /// longer runs is removed, since it only holds a recorded tree.
    pub scratch_root: Option<&'a Path>,
}

/// One omk worktree and what [`gc`] did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcEntry {
    /// The worktree's directory.
    pub path: PathBuf,
    /// The goal id, the directory's name.
    pub goal: String,
    /// The branch checked out in it.
    pub branch: Option<String>,
    /// Removed, would be removed, or kept and why.
    pub verdict: GcVerdict,
}

/// What [`gc`] did with a worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcVerdict {
    /// The worktree and its branch are gone; checked after removal.
    Removed,
    /// A dry run: it would be removed.
    WouldRemove,
    /// It stays, for this reason.
    Kept(KeepReason),
}

/// Why [`gc`] keeps a worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepReason {
    /// Its branch is not `omk/<goal-id>`, so omk did not make it (or someone switched it).
    NotOmkBranch,
    /// The goal has not finished.
    GoalNotFinished,
    /// A live omk process holds its lease.
    Leased {
        /// The process id.
        pid: u32,
    },
    /// It is locked by someone other than omk (`git worktree lock`).
    Locked {
        /// The lock's reason.
        reason: String,
    },
    /// It has uncommitted changes.
    UncommittedChanges {
        /// How many paths.
        paths: usize,
    },
    /// Its branch has commits that no other branch has.
    UnmergedCommits {
        /// How many commits.
        commits: usize,
    },
    /// Checking or removing it failed.
    Failed {
        /// The error, with its causes.
        error: String,
    },
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotOmkBranch => f.write_str("its branch is not omk/<goal-id>"),
            Self::GoalNotFinished => f.write_str("its goal has not finished"),
            Self::Leased { pid } => write!(f, "a running omk process (pid {pid}) holds its lease"),
            Self::Locked { reason } => write!(f, "it is locked: {reason}"),
            Self::UncommittedChanges { paths } => {
                write!(f, "{paths} path(s) have uncommitted changes")
            }
            Self::UnmergedCommits { commits } => {
                write!(f, "{commits} commit(s) on its branch are on no other branch")
            }
            Self::Failed { error } => write!(f, "checking or removing it failed: {error}"),
        }
    }
}

/// Removes the worktrees under `options.root` whose goal finished, that nobody holds, that
/// have no uncommitted changes and whose branch has no commit missing from another branch;
/// each removed worktree's `omk/<goal-id>` branch is deleted too.
///
/// Every other omk worktree is listed with the reason it stays. A removal is reported only after
/// checking that the directory, the registration and the branch are gone. Scratch worktrees
/// under `options.scratch_root` whose maker is gone (a `omk proof verify --rerun` that was
/// killed) are removed too. Worktrees outside both are not looked at.
pub fn gc(repo: &Repo, options: &GcOptions<'_>) -> Result<Vec<GcEntry>, Error> {
    let root = fs::canonicalize(options.root).unwrap_or_else(|_| options.root.to_owned());
    let scratch_root =
        options.scratch_root.map(|it| fs::canonicalize(it).unwrap_or_else(|_| it.to_owned()));
    let inside = |info: &WorktreeInfo, root: &Path| {
        info.path.strip_prefix(root).ok().map(Path::to_owned).or_else(|| {
            let path = fs::canonicalize(&info.path).ok()?;
            path.strip_prefix(root).ok().map(Path::to_owned)
        })
    };
    let mut entries = Vec::new();
    for info in list(repo)? {
        if let Some(relative) = scratch_root.as_deref().and_then(|root| inside(&info, root)) {
            let verdict = match info.lock.as_deref().map(parse_scratch_lease) {
                Some(Some(pid)) if is_alive(pid) => GcVerdict::Kept(KeepReason::Leased { pid }),
                Some(None) => GcVerdict::Kept(KeepReason::Locked {
                    reason: info.lock.clone().unwrap_or_default(),
                }),
                _ if options.dry_run => GcVerdict::WouldRemove,
                _ => match remove_scratch(repo, &info.path) {
                    Ok(()) => GcVerdict::Removed,
                    Err(err) => GcVerdict::Kept(KeepReason::Failed {
                        error: crate::error::error_chain(&err),
                    }),
                },
            };
            // The goal is the first component: `.omk/verify/<goal>/rerun-N/worktree`.
            let goal = relative
                .components()
                .next()
                .map(|it| it.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            entries.push(GcEntry { path: info.path, goal, branch: None, verdict });
            continue;
        }
        let Some(relative) = inside(&info, &root) else { continue };
        let goal = relative.to_string_lossy().into_owned();
        let verdict = match decide(repo, &info, &goal, options) {
            Ok(Some(reason)) => GcVerdict::Kept(reason),
            Ok(None) if options.dry_run => GcVerdict::WouldRemove,
            Ok(None) => match remove_omk_worktree(repo, &info) {
                Ok(()) => GcVerdict::Removed,
                Err(err) => {
                    GcVerdict::Kept(KeepReason::Failed { error: crate::error::error_chain(&err) })
                }
            },
            Err(err) => {
                GcVerdict::Kept(KeepReason::Failed { error: crate::error::error_chain(&err) })
            }
        };
        entries.push(GcEntry { path: info.path, goal, branch: info.branch, verdict });
    }
    Ok(entries)
}

/// Returns why the worktree must stay, or `None` when it can go.
fn decide(
    repo: &Repo,
    info: &WorktreeInfo,
    goal: &str,
    options: &GcOptions<'_>,
) -> Result<Option<KeepReason>, Error> {
    if info.branch.as_deref() != Some(format!("omk/{goal}").as_str()) {
        return Ok(Some(KeepReason::NotOmkBranch));
    }
    if !(options.is_finished)(goal) {
        return Ok(Some(KeepReason::GoalNotFinished));
    }
    if let Some(reason) = &info.lock {
        match parse_lease_reason(reason) {
            Some((_, pid)) if is_alive(pid) => return Ok(Some(KeepReason::Leased { pid })),
            Some(_) => {}
            None => return Ok(Some(KeepReason::Locked { reason: reason.clone() })),
        }
    }
    if info.path.is_dir() {
        let linked = gix_open(&info.path)?;
        let dirty = dirty_paths(&linked)
            .map_err(Error::gix("read the status of the worktree", &info.path))?;
        if !dirty.is_empty() {
            return Ok(Some(KeepReason::UncommittedChanges { paths: dirty.len() }));
        }
    }
    let commits = unmerged_commits(repo, goal)?;
    if commits > 0 {
        return Ok(Some(KeepReason::UnmergedCommits { commits }));
    }
    Ok(None)
}

/// Counts the commits of `omk/<goal>` that no other local branch contains.
fn unmerged_commits(repo: &Repo, goal: &str) -> Result<usize, Error> {
    let git = gix_open(&repo.root)?;
    let walk_error = || Error::gix(format!("count the unmerged commits of omk/{goal}"), &repo.root);
    let own = branch_name(&format!("omk/{goal}"))?;
    let mut tip = None;
    let mut others = Vec::new();
    let platform = git.references().map_err(walk_error())?;
    for reference in platform.local_branches().map_err(walk_error())? {
        let mut reference = reference.map_err(|err| walk_error()(gix::Error::from_error(err)))?;
        let id = reference.peel_to_id().map_err(walk_error())?.detach();
        if reference.name() == own.as_ref() {
            tip = Some(id);
        } else {
            others.push(id);
        }
    }
    let Some(tip) = tip else { return Ok(0) };
    let walk = git.rev_walk([tip]).with_hidden(others).all().map_err(walk_error())?;
    let mut commits = 0;
    for info in walk {
        info.map_err(walk_error())?;
        commits += 1;
    }
    Ok(commits)
}

/// Removes the worktree (overriding a dead holder's lease), deletes its branch if it did not
/// move, and checks that all of it is gone.
fn remove_omk_worktree(repo: &Repo, info: &WorktreeInfo) -> Result<(), Error> {
    let force = if info.lock.is_some() {
        gix::worktree::remove::Force::OverrideLock
    } else {
        gix::worktree::remove::Force::Never
    };
    remove_with(repo, &info.path, force)?;
    let (Some(branch), Some(head)) = (&info.branch, &info.head) else { return Ok(()) };
    let full = branch_name(branch)?;
    let head = gix::ObjectId::from_hex(head.as_bytes()).map_err(|err| Error::InvalidName {
        what: "commit",
        name: head.clone(),
        problem: err.to_string(),
    })?;
    let mut git = gix_open(&repo.root)?;
    git.delete_local_branches_if_unchanged([(full.clone(), gix::refs::Target::Object(head))])
        .map_err(Error::gix(format!("delete branch {branch}"), &repo.root))?;
    if git.try_find_reference(full.as_ref()).ok().flatten().is_some() {
        return Err(Error::StillOnDisk { path: repo.common_dir.join(full.as_bstr().to_string()) });
    }
    Ok(())
}

/// Whether process `pid` exists (a process of another user counts as alive).
fn is_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(errno) => errno != nix::errno::Errno::ESRCH,
    }
}
