//! Git for tests: one hermetic environment, whatever the developer's shell holds.

#[cfg(test)]
mod tests;

use std::{
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// The date of every test commit, authored and committed.
pub const GIT_DATE: &str = "2026-11-21T20:00:00Z";

/// The environment every test runs git with: no global or system config, a fixed identity and
/// fixed dates, so that commit ids are the same on every machine.
pub const GIT_ENV: &[(&str, &str)] = &[
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_CONFIG_SYSTEM", "/dev/null"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_AUTHOR_NAME", "Test"),
    ("GIT_AUTHOR_EMAIL", "test@example.invalid"),
    ("GIT_AUTHOR_DATE", GIT_DATE),
    ("GIT_COMMITTER_NAME", "Test"),
    ("GIT_COMMITTER_EMAIL", "test@example.invalid"),
    ("GIT_COMMITTER_DATE", GIT_DATE),
];

/// Makes `command` hermetic for git: removes every `GIT_*` variable and `EMAIL` it would
/// inherit, then sets [`GIT_ENV`].
///
/// The removed variables would otherwise redirect git to another repository (`GIT_DIR`,
/// `GIT_WORK_TREE`, `GIT_INDEX_FILE`, as a git hook has them) or change the identity and dates
/// of commits (`GIT_AUTHOR_*`, `GIT_COMMITTER_*`, `EMAIL`), as when omk runs the tests as a gate.
/// Apply it to any process that runs git, omk itself included.
pub fn hermetic(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if is_outer_git_variable(&key) {
            command.env_remove(&key);
        }
    }
    command.envs(GIT_ENV.iter().copied())
}

/// Returns `git` to run in `dir`, made [`hermetic`].
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.current_dir(dir);
    hermetic(&mut command);
    command
}

/// Runs git with `args` in `dir` hermetically and returns its trimmed stdout.
///
/// # Panics
///
/// When git cannot start or fails; the message has git's stderr. A test helper fails the test.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = git_command(dir).args(args).output().expect("git runs in tests");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A git repository in a temporary directory, on branch `main`, removed when dropped.
#[derive(Debug)]
pub struct TestRepo {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl TestRepo {
    /// Creates an empty repository on `main` at `<tmp>/repo`.
    ///
    /// # Panics
    ///
    /// When the temporary directory or the repository cannot be created.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("repo");
        fs::create_dir(&root).expect("the repository's directory");
        git(&root, &["init", "--quiet", "--initial-branch=main"]);
        Self { dir, root }
    }

    /// Creates a repository with one commit, `base`, of `files` (path and content).
    ///
    /// # Panics
    ///
    /// When a file cannot be written or git fails.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let repo = Self::new();
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit("base");
        repo
    }

    /// Returns the repository's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the temporary directory that holds the repository, for files beside it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `content` to `path` under the root, creating its directories.
    ///
    /// # Panics
    ///
    /// When the file cannot be written.
    pub fn write(&self, path: &str, content: &str) {
        let path = self.root.join(path);
        fs::create_dir_all(path.parent().expect("a file in the repository has a parent"))
            .expect("the file's directory");
        fs::write(path, content).expect("the file");
    }

    /// Commits every change with `message` and returns the new commit's id.
    ///
    /// # Panics
    ///
    /// When git fails.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Runs git with `args` at the root; see [`git`].
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.root, args)
    }
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// Returns whether `key` is a variable from outside that would change what test git does.
fn is_outer_git_variable(key: &OsStr) -> bool {
    key.to_str().is_some_and(|key| key.starts_with("GIT_") || key == "EMAIL")
}
