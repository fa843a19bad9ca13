//! The one way omk-gates runs git: in the given directory, with stdin closed and the caller's
//! environment less the `GIT_*` variables that would point git at another repository.

use std::{
    path::Path,
    process::{Command, Stdio},
};

/// Runs `git` with `args` in `dir` and returns its stdout.
///
/// `env` is the whole environment git runs with, `GIT_*` variables left out. The error is the
/// reason git did not start, or its trimmed error output when it failed.
pub(crate) fn git_output(
    dir: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().filter(|(name, _)| !name.starts_with("GIT_")).map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|err| err.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    Ok(output.stdout)
}
