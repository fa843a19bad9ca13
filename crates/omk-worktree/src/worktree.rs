//! Creating, listing, leasing and removing worktrees, in process with gix.

use std::{
    fs,
    io::Read as _,
    path::{Path, PathBuf},
    process::Output,
    sync::atomic::AtomicBool,
};

use gix::refs::transaction::PreviousValue;
use omk_sandbox::{Sandbox, Spawn};

use crate::{
    error::Error,
    repo::{Repo, gix_open, resolve_commit},
};

/// What [`create`] needs: where, on which new branch, from which commit, and how to prepare it.
#[derive(Debug, Clone)]
pub struct CreateOptions<'a> {
    /// The directory of the new worktree; it must not exist.
    pub path: &'a Path,
    /// The new branch's short name, such as `omk/<goal-id>`; it must not exist.
    pub branch: &'a str,
    /// The commit the branch starts at.
    pub base_commit: &'a str,
    /// Untracked files of the user's checkout (like `.env`), relative to its root, to copy into
    /// the new worktree; missing ones are skipped.
    pub copy: &'a [String],
    /// Commands to run with `sh -c` in the new worktree, in order; the first failure undoes the
    /// creation.
    pub setup: &'a [String],
    /// How the setup commands start: confined to the new worktree's sandbox, in their own
    /// process group, ended with omk.
    pub sandbox: &'a Sandbox,
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

/// A linked worktree of a repository, as [`list`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeInfo {
    /// The worktree's directory.
    pub path: PathBuf,
    /// The branch checked out in it; `None` when detached or unreadable.
    pub branch: Option<String>,
    /// The commit its HEAD points at; `None` when unreadable.
    pub head: Option<String>,
    /// The reason of its lock, if it is locked (`git worktree lock`).
    pub lock: Option<String>,
    /// Whether its directory is gone, so git would prune its registration.
    pub prunable: bool,
}

/// Creates a worktree on a new branch; fails, changing nothing, if the path or branch exists.
///
/// The branch is created with compare-and-swap (it must not exist), then gix checks the tree out
/// in parallel into the new directory. Files of [`CreateOptions::copy`] are copied and setup
/// commands run after the checkout; if any of that fails, the worktree and branch are removed
/// again and the error names the step.
pub fn create(repo: &Repo, options: &CreateOptions<'_>) -> Result<Worktree, Error> {
    if options.path.symlink_metadata().is_ok() {
        return Err(Error::PathExists { path: options.path.to_owned() });
    }
    let git = gix_open(&repo.root)?;
    let branch = branch_name(options.branch)?;
    let base = resolve_commit(&git, options.base_commit)?;
    // gix accepts "must not exist" when the branch already has the value; omk never reuses one.
    if git.try_find_reference(branch.as_ref()).ok().flatten().is_some() {
        return Err(Error::BranchExists { branch: options.branch.to_owned() });
    }
    git.reference(branch.clone(), base, PreviousValue::MustNotExist, "omk: create worktree branch")
        .map_err(|err| {
            if git.find_reference(branch.as_ref()).is_ok() {
                Error::BranchExists { branch: options.branch.to_owned() }
            } else {
                Error::gix(format!("create branch {}", options.branch), &repo.root)(err)
            }
        })?;
    let add = || -> Result<(), Error> {
        add_worktree(&git, repo, options.path, gix::worktree::add::Head::Attached(branch.clone()))?;
        Ok(())
    };
    if let Err(err) = add() {
        // The branch is new and still at `base`; nothing else can have used it.
        let mut git = git;
        git.delete_local_branches_if_unchanged([(branch, gix::refs::Target::Object(base))]).ok();
        return Err(err);
    }
    let worktree = Worktree {
        path: options.path.to_owned(),
        branch: options.branch.to_owned(),
        base_commit: base.to_string(),
    };
    if let Err(err) = prepare(repo, &worktree, options) {
        // Nothing of anyone's work is in the worktree yet: undo it whole.
        remove_with(repo, &worktree.path, gix::worktree::remove::Force::DiscardChanges).ok();
        let mut git = git;
        git.delete_local_branches_if_unchanged([(branch, gix::refs::Target::Object(base))]).ok();
        return Err(err);
    }
    Ok(worktree)
}

/// Creates a worktree for the existing branch `options.branch` (whatever its commit), as a
/// resumed run does when the worktree of its goal is gone or was never finished.
///
/// Fails, changing nothing, if the path exists or the branch does not. A stale registration of
/// the same path (its directory removed by hand) is pruned first. Copy and setup run as in
/// [`create`]; if they fail, the worktree is removed again and the branch kept.
pub fn attach(repo: &Repo, options: &CreateOptions<'_>) -> Result<Worktree, Error> {
    if options.path.symlink_metadata().is_ok() {
        return Err(Error::PathExists { path: options.path.to_owned() });
    }
    let git = gix_open(&repo.root)?;
    let branch = branch_name(options.branch)?;
    if git.try_find_reference(branch.as_ref()).ok().flatten().is_none() {
        return Err(Error::InvalidName {
            what: "branch to attach a worktree to",
            name: options.branch.to_owned(),
            problem: "the branch does not exist".to_owned(),
        });
    }
    // The registration of a worktree whose directory was removed by hand still claims the
    // branch; drop it, as `git worktree prune` would.
    for proxy in git.worktrees().map_err(Error::gix("list worktrees", &repo.root))? {
        let here = proxy.base().is_ok_and(|base| base == options.path);
        if here && proxy.is_prunable() {
            let admin = proxy.git_dir().to_owned();
            fs::remove_dir_all(&admin).map_err(|source| Error::Io {
                action: "prune",
                path: admin,
                source,
            })?;
        }
    }
    add_worktree(&git, repo, options.path, gix::worktree::add::Head::Attached(branch))?;
    let worktree = Worktree {
        path: options.path.to_owned(),
        branch: options.branch.to_owned(),
        base_commit: options.base_commit.to_owned(),
    };
    if let Err(err) = prepare(repo, &worktree, options) {
        remove_with(repo, &worktree.path, gix::worktree::remove::Force::DiscardChanges).ok();
        return Err(err);
    }
    Ok(worktree)
}

/// Checks `head` (a branch, or a commit on a detached HEAD) out into a new linked worktree at
/// `path`, creating its parent directories.
pub(crate) fn add_worktree(
    git: &gix::Repository,
    repo: &Repo,
    path: &Path,
    head: gix::worktree::add::Head,
) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| Error::Io {
            action: "create",
            path: parent.to_owned(),
            source,
        })?;
    }
    // One addition at a time per repository, across omk processes: while this holds the lock,
    // a registration still marked as being made is one a killed addition left. Anyone can
    // take the lock (an agent can open the file to read), so a lock not had within
    // `ADDITIONS_LOCK_WAIT` only skips the clearing: the addition goes on as it would without.
    let additions = lock_additions(git, ADDITIONS_LOCK_WAIT)?;
    if additions.is_some() {
        clear_cut_short_registrations(git)?;
    }
    let should_interrupt = AtomicBool::new(false);
    git.add_worktree(path, head, gix::progress::Discard, &should_interrupt)
        .map_err(Error::gix(format!("add worktree {}", path.display()), &repo.root))?;
    Ok(())
}

/// The file in the common git directory that omk locks while it adds a worktree.
const ADDITIONS_LOCK: &str = "omk-worktree-add.lock";

/// How long an addition waits for [`ADDITIONS_LOCK`] before it goes on without clearing.
const ADDITIONS_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Takes the lock on [`ADDITIONS_LOCK`] (an advisory `flock`, released when the file closes,
/// even by a killed process), waiting up to `wait` while another omk adds a worktree to the
/// repository; `None` when it stayed taken that long.
fn lock_additions(
    git: &gix::Repository,
    wait: std::time::Duration,
) -> Result<Option<fs::File>, Error> {
    let path = git.common_dir().join(ADDITIONS_LOCK);
    let io_error = |action| {
        let path = path.clone();
        move |source| Error::Io { action, path, source }
    };
    let file = fs::File::options()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error("open"))?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(fs::TryLockError::WouldBlock) => {
                tracing::debug!(path = %path.display(), "the worktree additions lock stays taken");
                return Ok(None);
            }
            Err(fs::TryLockError::Error(err)) => return Err(io_error("lock")(err)),
        }
    }
}

/// Removes the registrations (`<common dir>/worktrees/<id>/`) that an addition killed part way
/// left: still locked as `initializing`, which git and gix write first, with a `gitdir` file
/// missing, empty or without its end. gix refuses to add any worktree while such a
/// registration exists ("Refusing to read an empty path"), so a run killed while it made its
/// baseline worktree would keep every later run of the repository from making one.
///
/// Called with [`lock_additions`] held, so no addition of omk's is under way; an addition by
/// another tool in the same instant is the one case this could cut short.
fn clear_cut_short_registrations(git: &gix::Repository) -> Result<(), Error> {
    let Ok(entries) = fs::read_dir(git.common_dir().join("worktrees")) else { return Ok(()) };
    for entry in entries.flatten() {
        let admin = entry.path();
        let initializing = fs::read(admin.join("locked")).is_ok_and(|it| it == b"initializing\n");
        let readable =
            fs::read(admin.join("gitdir")).is_ok_and(|it| it.len() > 1 && it.ends_with(b"\n"));
        if initializing && !readable {
            tracing::debug!(admin = %admin.display(), "remove a registration a killed addition left");
            fs::remove_dir_all(&admin).map_err(|source| Error::Io {
                action: "remove",
                path: admin.clone(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Removes the worktree at `path`, refusing if it holds changes or is locked; the branch is
/// kept.
///
/// Fails unless the directory and its registration are really gone afterwards.
pub fn remove(repo: &Repo, path: &Path) -> Result<(), Error> {
    remove_with(repo, path, gix::worktree::remove::Force::Never)
}

/// Lists the linked worktrees of `repo` (not the main one), sorted by path.
pub fn list(repo: &Repo) -> Result<Vec<WorktreeInfo>, Error> {
    let git = gix_open(&repo.root)?;
    let proxies = git.worktrees().map_err(Error::gix("list worktrees", &repo.root))?;
    let mut infos = Vec::with_capacity(proxies.len());
    for proxy in proxies {
        let path = proxy.base().unwrap_or_else(|_| proxy.git_dir().to_owned());
        let lock = proxy.lock_reason().map(|reason| reason.to_string());
        let prunable = proxy.is_prunable();
        let (branch, head) = match proxy.into_repo_with_possibly_inaccessible_worktree() {
            Ok(linked) => match linked.head() {
                Ok(head) => (
                    head.referent_name()
                        .filter(|_| !head.is_detached())
                        .map(|name| short_branch(name.as_bstr().to_string())),
                    head.id().map(|id| id.to_string()),
                ),
                Err(_) => (None, None),
            },
            Err(_) => (None, None),
        };
        infos.push(WorktreeInfo { path, branch, head, lock, prunable });
    }
    infos.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(infos)
}

/// Locks the worktree at `path` with `reason`, as `git worktree lock --reason` does.
///
/// omk locks a worktree while a run uses it ([`lease_reason`]), so that `omk worktree gc` and
/// `git worktree remove`/`prune` leave it alone.
pub fn lock(repo: &Repo, path: &Path, reason: &str) -> Result<(), Error> {
    set_lock(repo, path, Some(reason))
}

/// Unlocks the worktree at `path`; unlocking an unlocked worktree does nothing.
pub fn unlock(repo: &Repo, path: &Path) -> Result<(), Error> {
    set_lock(repo, path, None)
}

/// Returns the lock reason omk writes while process `pid` runs goal `goal_id`.
pub fn lease_reason(goal_id: &str, pid: u32) -> String {
    format!("omk goal {goal_id} pid {pid}")
}

/// Reads back the goal id and pid of a lock reason written by [`lease_reason`].
pub fn parse_lease_reason(reason: &str) -> Option<(&str, u32)> {
    let rest = reason.strip_prefix("omk goal ")?;
    let (goal, pid) = rest.split_once(" pid ")?;
    Some((goal, pid.trim().parse().ok()?))
}

/// Returns the full name of local branch `short`, or an error naming the problem.
pub(crate) fn branch_name(short: &str) -> Result<gix::refs::FullName, Error> {
    gix::refs::FullName::try_from(format!("refs/heads/{short}")).map_err(|err| Error::InvalidName {
        what: "branch",
        name: short.to_owned(),
        problem: err.to_string(),
    })
}

/// Strips `refs/heads/` from a full branch name.
pub(crate) fn short_branch(full: String) -> String {
    full.strip_prefix("refs/heads/").map_or_else(|| full.clone(), str::to_owned)
}

/// Removes the worktree at `path` with `force`, then verifies it is gone.
pub(crate) fn remove_with(
    repo: &Repo,
    path: &Path,
    force: gix::worktree::remove::Force,
) -> Result<(), Error> {
    let git = gix_open(&repo.root)?;
    git.remove_worktree(path, force, gix::progress::Discard)
        .map_err(Error::gix(format!("remove worktree {}", path.display()), &repo.root))?;
    if path.exists() {
        return Err(Error::StillOnDisk { path: path.to_owned() });
    }
    if find_proxy(&gix_open(&repo.root)?, repo, path).is_ok() {
        return Err(Error::StillOnDisk { path: path.to_owned() });
    }
    Ok(())
}

/// Returns the registration of the linked worktree at `path`.
fn find_proxy<'repo>(
    git: &'repo gix::Repository,
    repo: &Repo,
    path: &Path,
) -> Result<gix::worktree::Proxy<'repo>, Error> {
    let wanted = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let proxies = git.worktrees().map_err(Error::gix("list worktrees", &repo.root))?;
    proxies
        .into_iter()
        .find(|proxy| {
            proxy.base().is_ok_and(|base| {
                base == wanted || fs::canonicalize(&base).is_ok_and(|base| base == wanted)
            })
        })
        .ok_or_else(|| Error::NoSuchWorktree { path: path.to_owned(), repo: repo.root.clone() })
}

fn set_lock(repo: &Repo, path: &Path, reason: Option<&str>) -> Result<(), Error> {
    let git = gix_open(&repo.root)?;
    let proxy = find_proxy(&git, repo, path)?;
    let action = if reason.is_some() { "lock" } else { "unlock" };
    proxy
        .set_lock(reason.map(Into::into))
        .map_err(Error::gix(format!("{action} worktree {}", path.display()), &repo.root))
}

/// Copies the listed untracked files and runs the setup commands in a new worktree.
pub(crate) fn prepare(
    repo: &Repo,
    worktree: &Worktree,
    options: &CreateOptions<'_>,
) -> Result<(), Error> {
    for file in options.copy {
        let relative = Path::new(file);
        let escapes = relative.is_absolute()
            || relative.components().any(|part| matches!(part, std::path::Component::ParentDir));
        let copy_error =
            |source| Error::Copy { file: file.clone(), worktree: worktree.path.clone(), source };
        if escapes {
            return Err(copy_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the path must be relative to the repository root and stay inside it",
            )));
        }
        let source = repo.root.join(relative);
        if !source.exists() {
            continue;
        }
        let target = worktree.path.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(copy_error)?;
        }
        copy_recursively(&source, &target).map_err(copy_error)?;
    }
    for command in options.setup {
        let output =
            run_setup(command, &worktree.path, options.sandbox).map_err(|err| Error::Setup {
                command: command.clone(),
                dir: worktree.path.clone(),
                problem: format!("it could not start: {err}"),
            })?;
        if !output.status.success() {
            return Err(Error::Setup {
                command: command.clone(),
                dir: worktree.path.clone(),
                problem: format!(
                    "it exited with {}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
    }
    Ok(())
}

/// Runs one setup command with `sh -c` in `dir` through `sandbox`, in its own process group,
/// and returns its output; whatever it left running is killed when it ends.
fn run_setup(command: &str, dir: &Path, sandbox: &Sandbox) -> std::io::Result<Output> {
    let (stdout, stdout_writer) = std::io::pipe()?;
    let (stderr, stderr_writer) = std::io::pipe()?;
    let spawn = Spawn {
        argv: vec!["sh".to_owned(), "-c".to_owned(), command.to_owned()],
        cwd: dir.to_owned(),
        env: sandbox.inherited_env(&[]),
        stdin: None,
        stdout: Some(stdout_writer.into()),
        stderr: Some(stderr_writer.into()),
    };
    let mut child = sandbox.spawn(spawn)?;
    let supervised = sandbox.supervise(child.id());
    let read_all = |mut pipe: std::io::PipeReader| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).map(|_| bytes)
        })
    };
    let (stdout, stderr) = (read_all(stdout), read_all(stderr));
    // Waiting ends what the leader left in its group, so the pipes close once it has ended.
    let status = child.wait_blocking();
    drop(supervised);
    let joined = |reader: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
        reader.join().unwrap_or_else(|_| Err(std::io::Error::other("reading the output panicked")))
    };
    let (stdout, stderr) = (joined(stdout), joined(stderr));
    Ok(Output { status: status?, stdout: stdout?, stderr: stderr? })
}

/// Copies a file, or a directory with its content, refusing to overwrite anything.
fn copy_recursively(source: &Path, target: &Path) -> std::io::Result<()> {
    if source.is_dir() {
        fs::create_dir(target)?;
        for entry in fs::read_dir(source)? {
            let entry = entry?;
            copy_recursively(&entry.path(), &target.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if target.symlink_metadata().is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a tracked file of that name is already in the worktree",
            ));
        }
        fs::copy(source, target).map(|_| ())
    }
}

/// Checks that the `.git` file of the worktree at `path` still names its registration in the
/// repository, as omk created it; if a process rewrote it (the sandbox cannot keep one file of
/// a writable tree read-only), restores it and fails with what it said.
///
/// Callers check before they let git read the worktree: a `.git` file that names another
/// repository would make git read, and omk commit, there.
pub fn verify_pointer(repo: &Repo, path: &Path) -> Result<(), Error> {
    let git = gix_open(&repo.root)?;
    let admin = git
        .worktrees()
        .map_err(Error::gix("list worktrees", &repo.root))?
        .into_iter()
        .find(|proxy| {
            proxy.base().is_ok_and(|base| {
                base == path || (fs::canonicalize(&base).ok() == fs::canonicalize(path).ok())
            })
        })
        .map(|proxy| proxy.git_dir().to_owned())
        .ok_or_else(|| Error::InvalidName {
            what: "worktree",
            name: path.display().to_string(),
            problem: "the repository has no worktree registered there".to_owned(),
        })?;
    let pointer = path.join(".git");
    let expected = format!("gitdir: {}", admin.display());
    let io = |action: &'static str| {
        let path = pointer.clone();
        move |source| Error::Io { action, path, source }
    };
    let found = match fs::symlink_metadata(&pointer) {
        Ok(meta) if meta.is_file() => {
            fs::read_to_string(&pointer).map_err(io("read the .git file of"))?
        }
        Ok(_) => "(not a file)".to_owned(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => "(removed)".to_owned(),
        Err(source) => return Err(io("inspect the .git file of")(source)),
    };
    if found.trim_end() == expected {
        return Ok(());
    }
    if fs::symlink_metadata(&pointer).is_ok_and(|meta| meta.is_dir()) {
        fs::remove_dir_all(&pointer).map_err(io("remove the planted .git directory of"))?;
    } else if fs::symlink_metadata(&pointer).is_ok() {
        fs::remove_file(&pointer).map_err(io("remove the rewritten .git file of"))?;
    }
    fs::write(&pointer, format!("{expected}\n")).map_err(io("restore the .git file of"))?;
    Err(Error::PointerChanged { path: path.to_owned(), found: found.trim_end().to_owned() })
}
