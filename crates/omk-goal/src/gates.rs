//! `omk gates list` and `omk gates run` outside a goal: the gates of a checkout and where a
//! standalone run keeps its logs.

use std::{
    ffi::OsStr,
    fs, io,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};

use omk_config::ConfigEnv;
use omk_gates::{GateConfig, GatePlan};

use crate::error::Error;

/// The gates of a checkout, as `omk gates` sees them.
#[derive(Debug, Clone)]
pub struct CheckoutGates {
    /// The root of the repository (or linked worktree).
    pub repo_root: PathBuf,
    /// Every gate considered: configured, detected and skipped ones, with their sources.
    pub plan: GatePlan,
    /// The gate sections of `omk.toml` (defaults when there is none).
    pub config: GateConfig,
}

/// Returns the gates of the repository containing `dir`: `omk.toml` at its root and the gates
/// detected there, with `PATH` from `environment` deciding optional tools.
///
/// Every layer of the configuration is read and checked, as a run would (`config_env` says
/// where the user config is), though only `omk.toml` sets gates.
/// Also adds `/.omk/` to `.git/info/exclude`, as every omk command that keeps state does.
pub fn checkout_gates(
    dir: &Path,
    environment: &[(String, String)],
    config_env: &ConfigEnv,
) -> Result<CheckoutGates, Error> {
    let repo = omk_worktree::open(dir)?;
    omk_worktree::exclude(&repo, "/.omk/")?;
    let config = omk_config::load_settings(Some(&repo.root), config_env, &[])?.gates;
    let search_path =
        environment.iter().find(|(name, _)| name == "PATH").map(|(_, it)| OsStr::new(it));
    let detected = omk_gates::detect_gates(&repo.root, search_path);
    let plan = omk_gates::plan_gates(&config, detected, &[]);
    Ok(CheckoutGates { repo_root: repo.root, plan, config })
}

/// Creates `.omk/gate-runs/<run-id>` for a standalone gate run started at `at`, and returns the
/// run id and the directory; the id is unique in the repository.
pub fn create_gate_run_dir(
    repo_root: &Path,
    at: DateTime<Utc>,
) -> Result<(String, PathBuf), Error> {
    let runs_dir = repo_root.join(".omk").join("gate-runs");
    fs::create_dir_all(&runs_dir)
        .map_err(|source| Error::Write { path: runs_dir.clone(), source })?;
    let stamp = at.format("%Y%m%d-%H%M%S-%3f");
    for attempt in 1u32.. {
        let run_id = match attempt {
            1 => format!("gates-{stamp}"),
            n => format!("gates-{stamp}-{n}"),
        };
        let dir = runs_dir.join(&run_id);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok((run_id, dir)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(Error::Write { path: dir, source }),
        }
    }
    unreachable!("some attempt number is free")
}
