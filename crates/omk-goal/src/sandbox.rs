//! The sandbox of a run's processes: the policy of `[sandbox]`, what the kernel supports and
//! the run's own directories (private temporary directory, toolchain caches, process records),
//! and the event that records it; and the controller's step that starts a run's sandbox.

use std::{
    fs,
    path::{Path, PathBuf},
};

use omk_agent::Agent;
use omk_config::{SandboxConfig, SandboxSetting};
use omk_events::{Event, SandboxApplied, SandboxMode, ToolchainCache};
use omk_sandbox::{Policy, Sandbox};

use crate::{error::Error, run::controller::Controller};

/// Where one run's processes work, besides their worktree.
pub(crate) struct SandboxSite<'a> {
    /// The launcher (the `omk` binary); `None` starts processes directly and records nothing,
    /// which only library tests do.
    pub(crate) launcher: Option<&'a Path>,
    pub(crate) config: &'a SandboxConfig,
    pub(crate) repo_root: &'a Path,
    /// The run's private temporary directory (`TMPDIR`, `TMP`, `TEMP`).
    pub(crate) tmp: PathBuf,
    /// Where the toolchain caches go (`Layout::toolchain_cache_dir`).
    pub(crate) caches: PathBuf,
    /// Where running process groups are recorded.
    pub(crate) records: PathBuf,
    /// The worktree the run's processes write, for the record.
    pub(crate) worktree: &'a Path,
    /// The state the run's agent writes outside the worktree ([`agent_state`]), for the record.
    pub(crate) agent_state: Vec<PathBuf>,
}

/// The sandbox of one run: what every process shares, and what the log records of it.
#[derive(Debug, Clone)]
pub(crate) struct RunSandbox {
    /// The shared part: writable temporary directory, caches and `[sandbox] writable`, the
    /// environment and the records; each process adds its worktree.
    shared: Sandbox,
    gate_network: bool,
    /// What the log records when the run starts; `None` without a launcher.
    pub(crate) applied: Option<SandboxApplied>,
}

/// Each ecosystem's cache directory under the toolchain cache, and the variables that point
/// there.
const CACHES: &[(&str, &str, &[&str])] = &[
    ("cargo", "cargo", &["CARGO_HOME"]),
    ("npm", "npm", &["npm_config_cache"]),
    ("pip", "pip", &["PIP_CACHE_DIR"]),
    ("go", "go/build", &["GOCACHE"]),
    ("go", "go/mod", &["GOMODCACHE"]),
    ("xdg", "xdg", &["XDG_CACHE_HOME"]),
];

impl RunSandbox {
    /// Returns the sandbox of a run at `site`, creating its temporary and cache directories,
    /// and asking the launcher what the kernel supports.
    pub(crate) fn new(site: SandboxSite<'_>) -> Result<Self, Error> {
        let create = |dir: &Path| {
            fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_owned(), source })
        };
        create(&site.tmp)?;
        let tmp_text = site.tmp.display().to_string();
        let mut env: Vec<(String, String)> = ["TMPDIR", "TMP", "TEMP"]
            .iter()
            .map(|name| ((*name).to_owned(), tmp_text.clone()))
            .collect();
        let mut caches = Vec::new();
        for (ecosystem, dir, variables) in CACHES {
            let path = site.caches.join(dir);
            create(&path)?;
            for variable in *variables {
                env.push(((*variable).to_owned(), path.display().to_string()));
            }
            caches.push(ToolchainCache {
                ecosystem: (*ecosystem).to_owned(),
                variables: variables.iter().map(|it| (*it).to_owned()).collect(),
                dir: shown(site.repo_root, &path),
            });
        }
        let mut writable = vec![site.tmp.clone(), site.caches.clone()];
        writable.extend(site.config.writable.iter().map(|it| site.repo_root.join(it)));
        let records = Some(site.records.clone());
        let Some(launcher) = site.launcher else {
            let shared = Sandbox { launcher: None, policy: Policy::unconfined(), env, records };
            return Ok(Self { shared, gate_network: true, applied: None });
        };
        let (mode, abi, reason) = match site.config.mode {
            SandboxSetting::Off => {
                (SandboxMode::Off, None, Some("[sandbox] mode = \"off\" in omk.toml".to_owned()))
            }
            SandboxSetting::Landlock => {
                let support = omk_sandbox::probe(launcher);
                match support.abi {
                    Some(abi) => (SandboxMode::Landlock, Some(abi), None),
                    None => (SandboxMode::Unavailable, None, support.reason),
                }
            }
        };
        let confine = mode == SandboxMode::Landlock;
        let network_enforced = site.config.network || abi.is_some_and(|it| it >= 4);
        let applied = SandboxApplied {
            mode,
            abi,
            reason,
            writable: std::iter::once(site.worktree)
                .chain(writable.iter().map(PathBuf::as_path))
                .map(|it| shown(site.repo_root, it))
                .collect(),
            agent_writable: site.agent_state.iter().map(|it| shown(site.repo_root, it)).collect(),
            network: site.config.network,
            network_enforced,
            caches,
        };
        let policy = Policy { confine, ..Policy::confined(writable, true) };
        let shared = Sandbox { launcher: Some(launcher.to_owned()), policy, env, records };
        Ok(Self { shared, gate_network: site.config.network, applied: Some(applied) })
    }

    /// Returns the launcher the run's processes start through (the `omk` binary), if any.
    pub(crate) fn launcher(&self) -> Option<&Path> {
        self.shared.launcher.as_deref()
    }

    /// Returns the sandbox of an agent working in `worktree`: it may also write the state its
    /// adapter declares, and use the network.
    pub(crate) fn for_agent(&self, worktree: &Path, agent: &Agent) -> Sandbox {
        let mut sandbox = self.shared.for_worktree(worktree);
        sandbox.policy.writable.extend(agent_state(agent));
        sandbox
    }

    /// Returns the sandbox of gates running in `worktree`, with `[sandbox] network`.
    pub(crate) fn for_gates(&self, worktree: &Path) -> Sandbox {
        let mut sandbox = self.shared.for_worktree(worktree);
        sandbox.policy.network = self.gate_network;
        sandbox
    }

    /// Returns the sandbox of `[worktree] setup` commands in `worktree`, which may use the
    /// network (to install dependencies).
    pub(crate) fn for_setup(&self, worktree: &Path) -> Sandbox {
        self.shared.for_worktree(worktree)
    }
}

impl Controller<'_> {
    /// Ends the process groups a killed run of the goal left (so a resumed run never works
    /// beside a survivor), then records the sandbox this run's processes start in.
    pub(crate) fn start_sandbox(&mut self) -> Result<(), Error> {
        let records = self.paths.processes();
        self.killed_leftovers = omk_sandbox::kill_leftovers(&records)
            .map_err(|source| Error::Write { path: records, source })?;
        if !self.killed_leftovers.is_empty() {
            tracing::debug!(groups = ?self.killed_leftovers, "killed what a killed run left");
        }
        if let Some(applied) = self.sandbox.applied.clone() {
            self.rec.record(Event::SandboxApplied(applied))?;
        }
        Ok(())
    }
}

/// Returns the state `agent` declares it writes, creating its directories when they are missing
/// (the program would, and Landlock grants only paths that exist); a missing file stays out.
pub(crate) fn agent_state(agent: &Agent) -> Vec<PathBuf> {
    let mut paths = agent.state_dirs();
    for dir in &paths {
        // A directory that cannot be made stays read-only; the agent then says what failed.
        fs::create_dir_all(dir).ok();
    }
    paths.extend(agent.state_files());
    paths
}

/// Returns `path` relative to `root` when it is beneath it, else whole.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}
