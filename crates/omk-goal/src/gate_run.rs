//! How omk runs gates, in one place: the run options every gate run gets (the kill grace, the
//! gate cache and the environment names its key reads), for a goal's gates, the gates a
//! re-verification runs again, and `omk gates list` / `omk gates run` outside a goal.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use omk_config::ConfigEnv;
use omk_events::{GateFinished, GatePhase};
use omk_gates::{
    CacheOptions, GateConfig, GateEvent, GatePlan, GateRun, GateSpec, RunOptions, TreeListing,
};
use tokio::sync::watch;

use crate::{
    error::Error,
    layout::{EXCLUDE_PATTERN, Layout, STATE_DIR_PREFIX, artifacts, create_fresh_dir},
    sandbox::{RunSandbox, SandboxSite},
};

/// How long a gate's process group has between SIGTERM and SIGKILL when it is stopped.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// How often a checkout gate run looks at its interrupt flag.
const INTERRUPT_POLL: Duration = Duration::from_millis(100);

/// Where one run of gates goes and what it runs with; [`run_options`] adds how omk runs gates.
pub(crate) struct GateSite<'a> {
    /// The directory the gates run in.
    pub(crate) worktree: &'a Path,
    /// The directory the gate logs' paths are relative to.
    pub(crate) artifact_root: &'a Path,
    /// The directory of the gate logs, relative to `artifact_root`.
    pub(crate) artifact_dir: String,
    pub(crate) phase: GatePhase,
    /// The tree the gates judge, when it is known.
    pub(crate) tree_id: Option<String>,
    pub(crate) max_parallel: usize,
    /// The gates' environment.
    pub(crate) env: &'a [(String, String)],
    /// Set to `true` to stop the gates.
    pub(crate) cancel: Option<watch::Receiver<bool>>,
    /// How the gates' processes start.
    pub(crate) sandbox: omk_sandbox::Sandbox,
}

/// How a run of gates uses the gate cache.
pub(crate) struct GateCache<'a> {
    pub(crate) layout: &'a Layout,
    /// The run the stored results name as their origin (a goal id or a gate run id).
    pub(crate) run_id: String,
    /// `[cache] env` of `omk.toml`: environment names the cache key reads besides omk's own.
    pub(crate) cache_env: &'a [String],
    /// Whether passed results may come from the cache (stored ones are written either way).
    pub(crate) read: bool,
}

/// Returns the options of a run of gates at `site`; with `cache`, passed results are stored in
/// and (when it says so) taken from the gate cache; without it every gate runs afresh and
/// nothing is stored, as a re-verification must.
pub(crate) fn run_options(site: GateSite<'_>, cache: Option<GateCache<'_>>) -> RunOptions {
    let cache = cache.map(|cache| {
        let mut env_names: Vec<String> =
            omk_gates::DEFAULT_CACHE_ENV.iter().map(|it| (*it).to_owned()).collect();
        env_names.extend(cache.cache_env.iter().cloned());
        CacheOptions {
            dir: cache.layout.gate_cache_dir(),
            run_id: cache.run_id,
            env_names,
            read: cache.read,
            state_dir: Some(STATE_DIR_PREFIX.to_owned()),
            listing: None,
        }
    });
    RunOptions {
        worktree: site.worktree.to_owned(),
        artifact_root: site.artifact_root.to_owned(),
        artifact_dir: site.artifact_dir,
        max_parallel: site.max_parallel,
        kill_grace: KILL_GRACE,
        phase: site.phase,
        tree_id: site.tree_id,
        env: site.env.to_vec(),
        cache,
        cancel: site.cancel,
        sandbox: site.sandbox,
    }
}

/// The gates of a checkout, as `omk gates` sees them.
#[derive(Debug, Clone)]
pub struct CheckoutGates {
    /// The root of the repository (or linked worktree).
    pub repo_root: PathBuf,
    /// Every gate considered: configured, detected and skipped ones, with their sources.
    pub plan: GatePlan,
    /// The gate sections of `omk.toml` (defaults when there is none).
    pub config: GateConfig,
    /// `[sandbox]` of the configuration.
    pub sandbox: omk_config::SandboxConfig,
    /// The checkout's files for the gate cache, listed while the rest was read
    /// ([`checkout_gates_to_run`]); `None` lists them when the gates start.
    pub listing: Option<Arc<TreeListing>>,
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
    load_checkout_gates(dir, environment, config_env, false)
}

/// Returns the gates of the repository containing `dir`, as [`checkout_gates`] does, to be run
/// with [`run_checkout_gates`]: the listing of the checkout's files that keys the gate cache
/// starts as soon as the repository is found, on a thread of its own, and overlaps the rest.
pub fn checkout_gates_to_run(
    dir: &Path,
    environment: &[(String, String)],
    config_env: &ConfigEnv,
) -> Result<CheckoutGates, Error> {
    load_checkout_gates(dir, environment, config_env, true)
}

fn load_checkout_gates(
    dir: &Path,
    environment: &[(String, String)],
    config_env: &ConfigEnv,
    list_files: bool,
) -> Result<CheckoutGates, Error> {
    let repo = omk_worktree::open(dir)?;
    // Nothing below changes the checkout's files before the gates start (the run's directory
    // is under `.omk/`, which the listing leaves out).
    let listing = list_files
        .then(|| Arc::new(TreeListing::start(&repo.root, environment, Some(STATE_DIR_PREFIX))));
    omk_worktree::exclude(&repo, EXCLUDE_PATTERN)?;
    let settings = omk_config::load_settings(Some(&repo.root), config_env, &[])?;
    let (config, sandbox) = (settings.gates, settings.sandbox);
    let search_path =
        environment.iter().find(|(name, _)| name == "PATH").map(|(_, it)| OsStr::new(it));
    let detected = omk_gates::detect_gates(&repo.root, search_path);
    let plan = omk_gates::plan_gates(&config, detected, &[]);
    Ok(CheckoutGates { repo_root: repo.root, plan, config, sandbox, listing })
}

/// What `omk gates run` asks for.
pub struct CheckoutGateRequest<'a> {
    /// The gates to run, by name; empty runs every gate the plan runs.
    pub names: &'a [String],
    /// The gates' environment (`PATH` also decides which optional tools are detected).
    pub environment: &'a [(String, String)],
    /// How many gates run at once.
    pub max_parallel: usize,
    /// Whether passed results may come from the gate cache (`--no-cache` says no).
    pub read_cache: bool,
    /// When the run starts, which names its directory.
    pub at: DateTime<Utc>,
    /// Set (by Ctrl-C) to stop the gates; they are reported as cancelled.
    pub interrupt: Option<&'a AtomicBool>,
    /// The `omk` binary, which watches the gates it starts (omk-sandbox's watcher); `None`
    /// starts them directly, unconfined and unwatched.
    pub omk_binary: Option<&'a Path>,
}

/// How an `omk gates run` ended.
#[derive(Debug)]
pub struct CheckoutGateRun {
    /// `gates-<time>`, unique in the repository.
    pub run_id: String,
    /// `.omk/gate-runs/<run-id>`, where the gate logs are.
    pub run_dir: PathBuf,
    /// Every gate's run, in the order of the plan.
    pub runs: Vec<GateRun>,
    /// Whether the interrupt stopped the gates.
    pub interrupted: bool,
    /// Why the run does not show that tests ran ([`omk_gates::tests_shortfall`], the rule a
    /// proof applies), or `None`.
    pub tests_shortfall: Option<String>,
}

impl CheckoutGateRun {
    /// Returns whether every required gate passed and the tests were counted.
    pub fn passed(&self) -> bool {
        self.tests_shortfall.is_none()
            && self.runs.iter().all(|it| !it.result.required || omk_gates::gate_passed(&it.result))
    }
}

/// Runs the gates `request` names on the checkout of `gates`, outside any goal, with their logs
/// under `.omk/gate-runs/<run-id>/`; `observer` hears of each gate's start and result.
///
/// An unknown gate name, or nothing to run, is an error before anything is created.
pub async fn run_checkout_gates(
    gates: &CheckoutGates,
    request: &CheckoutGateRequest<'_>,
    observer: &mut dyn FnMut(GateEvent<'_>),
) -> Result<CheckoutGateRun, Error> {
    let specs = select_gates(gates, request.names)?;
    let layout = Layout::new(&gates.repo_root);
    let (run_id, run_dir) = create_gate_run_dir(&layout, request.at)?;
    // Old runs are removed while the gates run (it is file-system work the gates need not
    // wait for), and before this returns.
    let pruning = {
        let (dir, current) = (layout.gate_runs_dir(), run_id.clone());
        tokio::task::spawn_blocking(move || prune_gate_runs(&dir, &current, KEEP_GATE_RUNS))
    };
    let (cancel, cancelled) = watch::channel(false);
    // Gates run on the user's own checkout here, so it is their writable root.
    let sandbox = RunSandbox::new(SandboxSite {
        omk_binary: request.omk_binary,
        config: &gates.sandbox,
        repo_root: &gates.repo_root,
        tmp: run_dir.join("tmp"),
        caches: layout.toolchain_cache_dir(),
        records: None,
        worktree: &gates.repo_root,
        agent_state: Vec::new(),
        // The user's own checkout builds where it always does.
        builds: None,
        environment: request.environment,
        gates: &[],
    })?;
    let site = GateSite {
        worktree: &gates.repo_root,
        artifact_root: &run_dir,
        artifact_dir: artifacts::CHECKOUT_GATE_LOGS.to_owned(),
        phase: GatePhase::Proposed,
        tree_id: None,
        max_parallel: request.max_parallel,
        env: request.environment,
        cancel: Some(cancelled),
        sandbox: sandbox.for_gates(&gates.repo_root),
    };
    let cache = GateCache {
        layout: &layout,
        run_id: run_id.clone(),
        cache_env: &gates.config.cache_env,
        read: request.read_cache,
    };
    let mut options = run_options(site, Some(cache));
    if let Some(cache) = &mut options.cache {
        cache.listing.clone_from(&gates.listing);
    }
    let run = omk_gates::run_gates(&specs, &options, observer);
    tokio::pin!(run);
    let interrupted = async {
        loop {
            if request.interrupt.is_some_and(|it| it.load(Ordering::Relaxed)) {
                return;
            }
            tokio::time::sleep(INTERRUPT_POLL).await;
        }
    };
    let (runs, interrupted) = tokio::select! {
        runs = &mut run => (runs, false),
        () = interrupted => {
            // The runner stops every gate's process group and reports them.
            cancel.send(true).ok();
            (run.await, true)
        }
    };
    let results: Vec<GateFinished> = runs.iter().map(|it| it.result.clone()).collect();
    let tests_shortfall = omk_gates::tests_shortfall(&results, request.names.is_empty());
    if let Err(err) = pruning.await {
        tracing::debug!(%err, "removing old gate runs failed");
    }
    Ok(CheckoutGateRun { run_id, run_dir, runs, interrupted, tests_shortfall })
}

/// How many `omk gates run` directories `.omk/gate-runs/` keeps: each run adds one, and nothing
/// reads an old one (a goal that takes a result from the cache copies its log).
pub(crate) const KEEP_GATE_RUNS: usize = 50;

/// Removes the oldest gate runs in `dir` beyond the newest `keep`, never `current`; only
/// directories named as omk names gate runs are counted or removed. A run that cannot be
/// removed stays, and the next run tries again.
fn prune_gate_runs(dir: &Path, current: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut runs: Vec<((String, u32), PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|it| it.is_dir()))
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let order = gate_run_order(&name)?;
            (name != current).then(|| (order, entry.path()))
        })
        .collect();
    // The current run is one of the `keep`.
    let keep_others = keep.saturating_sub(1);
    if runs.len() <= keep_others {
        return;
    }
    runs.sort();
    let excess = runs.len() - keep_others;
    for (_, path) in runs.into_iter().take(excess) {
        if let Err(err) = std::fs::remove_dir_all(&path) {
            tracing::debug!(path = %path.display(), %err, "an old gate run stays");
        }
    }
}

/// How a gate run's id begins; the start time ([`GATE_RUN_STAMP`]) follows, then `-<attempt>`
/// from the second attempt in the same millisecond on.
const GATE_RUN_PREFIX: &str = "gates-";

/// The format of a gate run's start time in its id: fixed width, so ids sort by time.
const GATE_RUN_STAMP: &str = "%Y%m%d-%H%M%S-%3f";

/// How many characters [`GATE_RUN_STAMP`] writes.
const GATE_RUN_STAMP_LEN: usize = "YYYYMMDD-HHMMSS-mmm".len();

/// Returns the order of a gate run named as [`create_gate_run_dir`] names them: its time, then
/// its attempt (the first is 1); `None` for any other name.
fn gate_run_order(name: &str) -> Option<(String, u32)> {
    let rest = name.strip_prefix(GATE_RUN_PREFIX)?;
    let (stamp, attempt) = match rest.get(GATE_RUN_STAMP_LEN..) {
        Some("") => (rest, 1),
        Some(suffix) => (&rest[..GATE_RUN_STAMP_LEN], suffix.strip_prefix('-')?.parse().ok()?),
        None => return None,
    };
    chrono::NaiveDateTime::parse_from_str(stamp, GATE_RUN_STAMP).ok()?;
    Some((stamp.to_owned(), attempt))
}

/// Returns the gates named `names` in the plan, in the order given, or every gate it runs when
/// `names` is empty.
fn select_gates(gates: &CheckoutGates, names: &[String]) -> Result<Vec<GateSpec>, Error> {
    let specs = if names.is_empty() {
        gates.plan.gates()
    } else {
        let mut selected: Vec<GateSpec> = Vec::new();
        for name in names {
            match gates.plan.entries.iter().find(|it| &it.spec.name == name) {
                Some(entry) if !selected.contains(&entry.spec) => selected.push(entry.spec.clone()),
                Some(_) => {}
                None => {
                    let known = gates.plan.entries.iter().map(|it| it.spec.name.clone()).collect();
                    return Err(Error::UnknownGate { name: name.clone(), known });
                }
            }
        }
        selected
    };
    if specs.is_empty() {
        return Err(Error::NoGateToRun);
    }
    Ok(specs)
}

/// Creates `.omk/gate-runs/<run-id>` for a standalone gate run started at `at`, and returns the
/// run id and the directory; the id is unique in the repository.
fn create_gate_run_dir(layout: &Layout, at: DateTime<Utc>) -> Result<(String, PathBuf), Error> {
    let stamp = at.format(GATE_RUN_STAMP);
    create_fresh_dir(&layout.gate_runs_dir(), |attempt| {
        let run_id = match attempt {
            1 => format!("{GATE_RUN_PREFIX}{stamp}"),
            n => format!("{GATE_RUN_PREFIX}{stamp}-{n}"),
        };
        let dir = layout.gate_run_dir(&run_id);
        (run_id, dir)
    })
    .map_err(|(path, source)| Error::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_runs_are_ordered_by_time_then_attempt_and_other_names_are_not_runs() {
        let order = |name| gate_run_order(name);
        assert_eq!(order("gates-20261121-200000-000"), Some(("20261121-200000-000".into(), 1)));
        assert_eq!(order("gates-20261121-200000-000-10"), Some(("20261121-200000-000".into(), 10)));
        assert!(order("gates-20261121-200000-000-2") < order("gates-20261121-200000-000-10"));
        assert!(order("gates-20261121-200000-000-10") < order("gates-20261121-200000-001"));
        for other in [
            "notes",
            "gates-",
            "gates-2026112-200000-000",
            "gates-20261121-200000-0000",
            "gates-20261121-200000-000-",
            "gates-20261121-200000-000-x",
            "gates-20261121_200000-000",
            "gates-2026112é-200000-000",
        ] {
            assert_eq!(order(other), None, "{other}");
        }
    }
}
