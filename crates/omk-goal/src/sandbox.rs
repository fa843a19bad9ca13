//! The sandbox of a run's processes: the policy of `[sandbox]`, what the kernel supports and
//! the run's own directories (private temporary directory, toolchain caches, process records),
//! and the event that records it; and the controller's step that starts a run's sandbox.

use std::{
    collections::HashMap,
    fs,
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use omk_agent::Agent;
use omk_config::{SandboxConfig, SandboxSetting};
use omk_events::{Event, SandboxApplied, SandboxMode, ToolchainCache};
use omk_gates::GateSpec;
use omk_sandbox::{Policy, Sandbox};

use crate::{builds::SharedBuilds, error::Error, run::controller::Controller};

/// Where one run's processes work, besides their worktree.
pub(crate) struct SandboxSite<'a> {
    /// The `omk` binary, the watcher of the processes (omk-sandbox); `None` starts processes
    /// directly and records nothing, which only library tests do.
    pub(crate) omk_binary: Option<&'a Path>,
    pub(crate) config: &'a SandboxConfig,
    pub(crate) repo_root: &'a Path,
    /// The run's private temporary directory (`TMPDIR`, `TMP`, `TEMP`).
    pub(crate) tmp: PathBuf,
    /// Where the toolchain caches go (`Layout::toolchain_cache_dir`).
    pub(crate) caches: PathBuf,
    /// Where running process groups are recorded, for a run that can be resumed (`omk resume`
    /// first ends what a killed run left); `None` for a run nobody resumes (checkout gates, an
    /// agent check, a re-verification), whose processes the watcher alone ends with omk.
    pub(crate) records: Option<PathBuf>,
    /// The worktree the run's processes write, for the record.
    pub(crate) worktree: &'a Path,
    /// The state the run's agent writes outside the worktree ([`agent_state`]), for the record.
    pub(crate) agent_state: Vec<PathBuf>,
    /// Where the gates build (`Layout::build_cache_dir`), when warm builds are on
    /// ([`crate::builds::enabled`]); `None` leaves the gates' build directories alone.
    pub(crate) builds: Option<PathBuf>,
    /// The gates' environment: where the user's checkout builds and its cargo home are.
    pub(crate) environment: &'a [(String, String)],
    /// The gates the run may start, which decide what the user's cargo home must hold.
    pub(crate) gates: &'a [GateSpec],
}

/// The sandbox of one run: what every process shares, and what the log records of it.
#[derive(Debug, Clone)]
pub(crate) struct RunSandbox {
    /// The shared part: writable temporary directory, caches and `[sandbox] writable`, the
    /// environment and the records; each process adds its worktree.
    shared: Sandbox,
    gate_network: bool,
    /// What the log records when the run starts; `None` without the `omk` binary.
    pub(crate) applied: Option<SandboxApplied>,
    /// The gates' warm builds, when they are on.
    builds: Option<Arc<GateBuilds>>,
}

/// The warm builds of a run's gates: their build directories, and whether the user's own cargo
/// home serves a worktree's dependencies.
#[derive(Debug)]
struct GateBuilds {
    builds: SharedBuilds,
    /// The user's cargo home (`CARGO_HOME`, else `~/.cargo`), when it exists.
    user_cargo_home: Option<PathBuf>,
    /// The gates' environment, for the check of the user's cargo home.
    environment: Vec<(String, String)>,
    /// Whether the check asks for every feature's dependencies ([`needs_all_features`]).
    all_features: bool,
    /// Whether the user's cargo home has every dependency, by worktree and manifest digest.
    offline: Mutex<HashMap<(PathBuf, u64), bool>>,
}

/// How long the check of the user's cargo home may take before it counts as failed.
const CARGO_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// Each ecosystem's cache directory under the toolchain cache, and the variables that point
/// there.
const CACHES: &[(&str, &str, &[&str])] = &[
    ("cargo", "cargo", &["CARGO_HOME"]),
    ("npm", "npm", &["npm_config_cache"]),
    ("pip", "pip", &["PIP_CACHE_DIR"]),
    ("uv", "uv", &["UV_CACHE_DIR"]),
    ("yarn", "yarn", &["YARN_CACHE_FOLDER"]),
    ("go", "go/build", &["GOCACHE"]),
    ("go", "go/mod", &["GOMODCACHE"]),
    ("xdg", "xdg", &["XDG_CACHE_HOME"]),
];

impl RunSandbox {
    /// Returns the sandbox of a run at `site`, creating its temporary and cache directories,
    /// and asking the kernel what it supports.
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
        let records = site.records.clone();
        let builds = site.builds.as_ref().map(|root| {
            let builds = SharedBuilds::new(root.clone(), site.repo_root, site.environment);
            Arc::new(GateBuilds {
                builds,
                user_cargo_home: user_cargo_home(site.environment),
                environment: site.environment.to_vec(),
                all_features: needs_all_features(site.gates),
                offline: Mutex::new(HashMap::new()),
            })
        });
        let Some(omk_binary) = site.omk_binary else {
            let shared = Sandbox { watcher: None, policy: Policy::unconfined(), env, records };
            return Ok(Self { shared, gate_network: true, applied: None, builds });
        };
        let (mode, abi, reason) = match site.config.mode {
            SandboxSetting::Off => {
                (SandboxMode::Off, None, Some("[sandbox] mode = \"off\" in omk.toml".to_owned()))
            }
            SandboxSetting::Landlock => {
                let support = omk_sandbox::probe();
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
            gate_writable: builds
                .iter()
                .map(|it| shown(site.repo_root, &it.builds.cargo_dir(site.worktree)))
                .collect(),
        };
        let policy = Policy { confine, ..Policy::confined(writable, true) };
        let shared = Sandbox { watcher: Some(omk_binary.to_owned()), policy, env, records };
        Ok(Self { shared, gate_network: site.config.network, applied: Some(applied), builds })
    }

    /// Returns the `omk` binary, which watches the run's processes, if any.
    pub(crate) fn omk_binary(&self) -> Option<&Path> {
        self.shared.watcher.as_deref()
    }

    /// Returns the sandbox of an agent working in `worktree`: it may also write the state its
    /// adapter declares, and use the network.
    pub(crate) fn for_agent(&self, worktree: &Path, agent: &Agent) -> Sandbox {
        let mut sandbox = self.shared.for_worktree(worktree);
        sandbox.policy.writable.extend(agent_state(agent));
        sandbox
    }

    /// Returns the sandbox of gates running in `worktree`, with `[sandbox] network`; with warm
    /// builds, a Cargo project's gates also build in (and may write) the worktree's build
    /// directory, prepared here, and read the user's cargo home when it has every dependency.
    pub(crate) fn for_gates(&self, worktree: &Path) -> Sandbox {
        let mut sandbox = self.shared.for_worktree(worktree);
        sandbox.policy.network = self.gate_network;
        let Some(builds) = &self.builds else { return sandbox };
        let dir = match builds.builds.prepare(worktree) {
            Ok(Some(dir)) => dir,
            Ok(None) => return sandbox,
            Err(err) => {
                // The gates then build as without warm builds: in the worktree.
                tracing::warn!(worktree = %worktree.display(), %err, "no warm build directory");
                return sandbox;
            }
        };
        if let Some(home) = &builds.user_cargo_home
            && builds.has_every_dependency(&self.shared, worktree, home)
        {
            set_env(&mut sandbox.env, "CARGO_HOME", home);
        }
        set_env(&mut sandbox.env, "CARGO_TARGET_DIR", &dir);
        sandbox.policy.writable.push(dir);
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

impl GateBuilds {
    /// Returns whether `cargo metadata --offline --locked` resolves the worktree's dependencies
    /// from the cargo home `home`, run as a gate would (confined by `shared`, which does not let
    /// it write there); the answer is kept per manifest and lock file.
    fn has_every_dependency(&self, shared: &Sandbox, worktree: &Path, home: &Path) -> bool {
        let mut hasher = DefaultHasher::new();
        for file in ["Cargo.toml", "Cargo.lock"] {
            fs::read(worktree.join(file)).ok().hash(&mut hasher);
        }
        let key = (worktree.to_owned(), hasher.finish());
        let mut known = self.offline.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(answer) = known.get(&key) {
            return *answer;
        }
        let answer = self.check_offline(shared, worktree, home);
        tracing::debug!(worktree = %worktree.display(), answer, "the user's cargo home serves");
        known.insert(key, answer);
        answer
    }

    fn check_offline(&self, shared: &Sandbox, worktree: &Path, home: &Path) -> bool {
        let mut argv: Vec<String> =
            ["cargo", "metadata", "--offline", "--locked", "--format-version", "1"]
                .iter()
                .map(|it| (*it).to_owned())
                .collect();
        if self.all_features {
            argv.push("--all-features".to_owned());
        }
        let mut env = shared.env.clone();
        set_env(&mut env, "CARGO_HOME", home);
        let spawn = omk_sandbox::Spawn {
            argv,
            cwd: worktree.to_owned(),
            env: (self.environment.iter().chain(&env))
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
            stdin: None,
            stdout: None,
            stderr: None,
        };
        let Ok(mut child) = shared.spawn(spawn) else { return false };
        let supervised = shared.supervise(child.id());
        let started = Instant::now();
        // Nothing cargo started outlives the check: the child ends its group with its leader.
        let answer = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                Ok(None) if started.elapsed() < CARGO_CHECK_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    child.end().ok();
                    break false;
                }
            }
        };
        drop(supervised);
        answer
    }
}

/// Returns whether the check of the user's cargo home must ask for the dependencies of every
/// feature: unless every gate is a plain `cargo` command line that names no features and is not
/// `cargo nextest` (which reads the metadata of all features), a gate may need any of them.
fn needs_all_features(gates: &[GateSpec]) -> bool {
    gates.iter().any(|gate| {
        let argv = gate.command.argv();
        let line = match argv.as_slice() {
            [sh, c, line] if sh == "sh" && c == "-c" => line.clone(),
            _ => argv.join(" "),
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        words.first() != Some(&"cargo")
            || words.iter().any(|it| {
                ["nextest", "--all-features", "-F"].contains(it)
                    || it.starts_with("--features")
                    || ["&&", "||", ";", "|"].iter().any(|op| it.contains(op))
            })
    })
}

/// Returns the user's cargo home: `CARGO_HOME` of `environment`, else `~/.cargo`, when it is a
/// directory.
fn user_cargo_home(environment: &[(String, String)]) -> Option<PathBuf> {
    let var = |name: &str| {
        environment.iter().find(|(key, value)| key == name && !value.is_empty()).map(|it| &it.1)
    };
    let home = match var("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => Path::new(var("HOME")?).join(".cargo"),
    };
    home.is_dir().then_some(home)
}

/// Sets `name` to `value` in `env`, replacing an earlier value.
fn set_env(env: &mut Vec<(String, String)>, name: &str, value: &Path) {
    env.retain(|(key, _)| key != name);
    env.push((name.to_owned(), value.display().to_string()));
}

/// Returns `path` relative to `root` when it is beneath it, else whole.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}
