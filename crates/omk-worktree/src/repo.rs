//! Opening a repository and reading where its HEAD is.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use crate::error::Error;

/// A git repository, by the root of its main worktree or of the linked worktree it was opened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The top-level directory of the worktree the repository was opened from.
    pub root: PathBuf,
    /// The directory shared by all worktrees (`.git` of the main worktree).
    pub common_dir: PathBuf,
}

/// Where HEAD points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The checked-out branch's short name, `None` when HEAD is detached.
    pub branch: Option<String>,
    /// The commit id HEAD resolves to.
    pub commit: String,
}

/// Opens the repository that contains `dir`, from any subdirectory or worktree.
pub fn open(dir: &Path) -> Result<Repo, Error> {
    if !dir.is_dir() {
        return Err(Error::NoSuchDirectory { path: dir.to_owned() });
    }
    let not_a_repo = || Error::NotARepository { path: dir.to_owned() };
    let repo = gix::discover(dir).map_err(|_| not_a_repo())?;
    // A bare repository lacks the worktree omk needs.
    let workdir = repo.workdir().ok_or_else(not_a_repo)?;
    let absolute = |path: &Path| {
        fs::canonicalize(path).map_err(|source| Error::Io {
            action: "resolve",
            path: path.to_owned(),
            source,
        })
    };
    Ok(Repo { root: absolute(workdir)?, common_dir: absolute(repo.common_dir())? })
}

/// Returns where HEAD points in `repo`; fails when the repository has no commits.
pub fn head(repo: &Repo) -> Result<Head, Error> {
    head_of(&gix_open(&repo.root)?, &repo.root)
}

/// Returns where HEAD of the open repository `git` points; `path` names it in errors.
pub(crate) fn head_of(git: &gix::Repository, path: &Path) -> Result<Head, Error> {
    let head = git.head().map_err(Error::gix("read HEAD", path))?;
    let branch = head.referent_name().filter(|_| !head.is_detached()).map(|name| {
        let name = name.as_bstr().to_string();
        name.strip_prefix("refs/heads/").map_or(name.clone(), str::to_owned)
    });
    let commit = git.head_commit().map_err(|_| Error::NoCommits { path: path.to_owned() })?;
    Ok(Head { branch, commit: commit.id.to_string() })
}

/// Opens the repository or worktree whose root is `path` in process.
///
/// The index's trailing checksum is not verified when it is read (`index.skipHash`, set in memory
/// only; an index omk writes still gets its checksum). git verifies it only in `git fsck`, and
/// hashing the index of a 20,000-file worktree with collision-detecting SHA-1 costs more than
/// decoding it.
///
/// A reference update writes a reflog entry, which needs a committer: on a machine where git has
/// none (a fresh CI runner, a container), omk's own identity stands in, in memory only.
pub(crate) fn gix_open(path: &Path) -> Result<gix::Repository, Error> {
    let open = |overrides: &[&str]| {
        let options = gix::open::Options::default().config_overrides(overrides.iter().copied());
        gix::open_opts(path, options).map_err(Error::gix("open the repository", path))
    };
    let git = open(&["index.skipHash=true"])?;
    if git.committer().is_some_and(|it| it.is_ok()) {
        return Ok(git);
    }
    // As overrides of the open options, so that the repositories gix opens from this one (a new
    // linked worktree's) have the committer too.
    open(&["index.skipHash=true", "committer.name=omk", "committer.email=omk@localhost"])
}

/// Resolves `revision` (a commit id, branch or other revision) in `git` to a commit id.
pub(crate) fn resolve_commit(
    git: &gix::Repository,
    revision: &str,
) -> Result<gix::ObjectId, Error> {
    let invalid = |problem: String| Error::InvalidName {
        what: "revision",
        name: revision.to_owned(),
        problem,
    };
    let id = git.rev_parse_single(revision).map_err(|err| invalid(err.to_string()))?;
    let commit = id
        .object()
        .and_then(|object| object.peel_to_commit())
        .map_err(|err| invalid(format!("it does not name a commit ({err})")))?;
    Ok(commit.id)
}

/// Adds `pattern` to the repository's `info/exclude` unless a line already equals it.
///
/// omk keeps its state (`.omk/`) inside the repository without touching `.gitignore`.
pub fn exclude(repo: &Repo, pattern: &str) -> Result<(), Error> {
    let info = repo.common_dir.join("info");
    let path = info.join("exclude");
    let io_error = |action, path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { action, path, source }
    };
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(io_error("read", &path)(err)),
    };
    if existing.lines().any(|line| line.trim() == pattern) {
        return Ok(());
    }
    fs::create_dir_all(&info).map_err(io_error("create", &info))?;
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(io_error("open", &path))?;
    let separator = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
    file.write_all(format!("{separator}{pattern}\n").as_bytes())
        .map_err(io_error("append to", &path))
}
