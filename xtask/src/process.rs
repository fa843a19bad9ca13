//! Running the commands that tasks are made of: cargo, git, rustc.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Runs `command` with inherited stdio and fails unless it exits with success.
///
/// `what` names the command in errors, as the user would type it.
pub(crate) fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("failed to start `{what}`"))?;
    if !status.success() {
        bail!("`{what}` exited with {status}");
    }
    Ok(())
}

/// Runs `command`, captures its output and returns its stdout, failing with its stderr unless it
/// exits with success.
pub(crate) fn read(command: &mut Command, what: &str) -> Result<String> {
    let output = command.output().with_context(|| format!("failed to start `{what}`"))?;
    if !output.status.success() {
        bail!(
            "`{what}` exited with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    String::from_utf8(output.stdout).with_context(|| format!("`{what}` printed invalid UTF-8"))
}

/// Returns `cargo metadata --no-deps` of the workspace at `root`, parsed.
pub(crate) fn workspace_metadata(root: &Path) -> Result<Value> {
    let json = read(
        Command::new(crate::cargo())
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(root),
        "cargo metadata --no-deps",
    )?;
    serde_json::from_str(&json).context("failed to parse `cargo metadata` output")
}

/// Returns cargo's target directory for the workspace at `root`, as `cargo metadata` reports it,
/// so that `CARGO_TARGET_DIR` and `build.target-dir` are respected.
pub(crate) fn target_dir(root: &Path) -> Result<PathBuf> {
    let metadata = workspace_metadata(root)?;
    let dir = metadata["target_directory"]
        .as_str()
        .context("`cargo metadata` output has no string `target_directory`")?;
    Ok(PathBuf::from(dir))
}
