//! The one wrapper through which this crate runs the `git` program.

use std::{
    ffi::OsStr,
    path::Path,
    process::{Command, Stdio},
};

use crate::error::Error;

/// Variables that point git at another repository, index or object store than `dir`'s.
const REDIRECTING_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
];

/// Runs `git args` in `dir` and returns its stdout.
pub(crate) fn run(dir: &Path, args: &[&str]) -> Result<String, Error> {
    run_with_env(dir, args, &[])
}

/// What a git command printed and whether it succeeded.
pub(crate) struct Output {
    /// Whether git exited successfully.
    pub(crate) success: bool,
    /// Its stdout, lossily decoded.
    pub(crate) stdout: String,
    /// Its stderr, lossily decoded and trimmed.
    pub(crate) stderr: String,
}

/// Runs `git args` in `dir` with extra variables `env` and returns its output, whether it
/// succeeded or not; only a git that cannot start is an error.
pub(crate) fn output(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Result<Output, Error> {
    let output = command(dir, args, env)
        .output()
        .map_err(|source| Error::Spawn { dir: dir.to_owned(), source })?;
    Ok(Output {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// Runs `git args` in `dir` with extra variables `env` and returns its stdout.
pub(crate) fn run_with_env(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &OsStr)],
) -> Result<String, Error> {
    let output = command(dir, args, env)
        .output()
        .map_err(|source| Error::Spawn { dir: dir.to_owned(), source })?;
    if !output.status.success() {
        return Err(Error::Git {
            args: args.join(" "),
            dir: dir.to_owned(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    String::from_utf8(output.stdout)
        .map_err(|_| Error::Output { args: args.join(" "), problem: "it is not UTF-8".to_owned() })
}

/// Returns the command `git args` in `dir` with extra variables `env`, its environment cleaned.
fn command(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Command {
    tracing::debug!(?args, dir = %dir.display(), "run git");
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
    for var in REDIRECTING_VARS {
        command.env_remove(var);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
}
