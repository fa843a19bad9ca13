//! Opening a repository and reading where its HEAD is.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use crate::{error::Error, git};

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
    let args = ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"];
    // A plain directory and a bare repository both lack the worktree omk needs.
    let stdout = git::run(dir, &args).map_err(|err| match err {
        Error::Git { ref stderr, .. }
            if stderr.contains("not a git repository")
                || stderr.contains("this operation must be run in a work tree") =>
        {
            Error::NotARepository { path: dir.to_owned() }
        }
        other => other,
    })?;
    let mut lines = stdout.lines();
    let (Some(root), Some(common_dir)) = (lines.next(), lines.next()) else {
        return Err(Error::Output {
            args: args.join(" "),
            problem: "expected two lines".to_owned(),
        });
    };
    let root = PathBuf::from(root);
    Ok(Repo { root, common_dir: PathBuf::from(common_dir) })
}

/// Returns where HEAD points in `repo`; fails when the repository has no commits.
pub fn head(repo: &Repo) -> Result<Head, Error> {
    let args = ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"];
    let commit = match git::run(&repo.root, &args) {
        Ok(stdout) => git::one_line(&stdout, &args)?,
        Err(Error::Git { .. }) => return Err(Error::NoCommits { path: repo.root.clone() }),
        Err(other) => return Err(other),
    };
    let branch = match git::run(&repo.root, &["symbolic-ref", "--quiet", "--short", "HEAD"]) {
        Ok(stdout) => stdout.lines().next().map(str::to_owned),
        // Exit 1 without output means a detached HEAD.
        Err(Error::Git { .. }) => None,
        Err(other) => return Err(other),
    };
    Ok(Head { branch, commit })
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
