//! What commands share: the global context, the clock, progress and result rendering.

use std::{
    env,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use chrono::DateTime;

use omk_config::ConfigEnv;
use omk_goal::{AgentEnvironment, Clock, FixedClock, RunOutcome, SystemClock};
use omk_proof::{Gap, Proof, ProofStatus};

use crate::{
    args::Cli,
    error::{CliError, ExitCodes},
    output,
    progress::ProgressMode,
    render,
};

pub(crate) use crate::json::SCHEMA_VERSION;

/// The global options, resolved.
pub(crate) struct Context {
    /// The directory omk runs as if started in (`-C`, else the current directory).
    pub(crate) dir: PathBuf,
    /// Whether to print JSON.
    pub(crate) json: bool,
    /// How to show progress (off with `--json` and `-q`).
    pub(crate) progress: ProgressMode,
    /// The clock: `OMK_NOW` when set, else the system clock.
    pub(crate) clock: Box<dyn Clock>,
    /// `PATH` and Kimi's data directory (`KIMI_SHARE_DIR`, else `~/.kimi`), for agents.
    pub(crate) agent_environment: AgentEnvironment,
    /// Where the user config is ([`config_env`]).
    pub(crate) config_env: ConfigEnv,
    /// The `omk` binary itself, which watches every process of a goal (omk-sandbox's watcher)
    /// and serves the agent's MCP tools; `None` when it cannot be found, which runs them
    /// unconfined and unwatched.
    pub(crate) omk_binary: Option<PathBuf>,
}

impl Context {
    pub(crate) fn from_cli(cli: &Cli) -> Result<Self, CliError> {
        let cwd = env::current_dir()?;
        let dir = match &cli.directory {
            Some(dir) => cwd.join(dir),
            None => cwd,
        };
        let clock: Box<dyn Clock> = match env::var("OMK_NOW") {
            Ok(text) => {
                let start = DateTime::parse_from_rfc3339(&text).map_err(|err| {
                    CliError::usage(format!(
                        "OMK_NOW={text:?} is not an RFC 3339 time such as 2026-11-21T20:00:00Z: {err}"
                    ))
                })?;
                Box::new(FixedClock::new(start.to_utc()))
            }
            Err(_) => Box::new(SystemClock),
        };
        let kimi_share_dir = env::var_os("KIMI_SHARE_DIR")
            .map(PathBuf::from)
            .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".kimi")));
        let home = env::var_os("HOME").map(PathBuf::from);
        // Claude Code and Codex write their state as they run; their sandbox leaves it writable.
        let (claude_config_dir, claude_config_file) = match env::var_os("CLAUDE_CONFIG_DIR") {
            Some(dir) => (Some(PathBuf::from(dir)), None),
            None => (
                home.as_ref().map(|it| it.join(".claude")),
                home.as_ref().map(|it| it.join(".claude.json")),
            ),
        };
        let codex_home = env::var_os("CODEX_HOME")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|it| it.join(".codex")));
        let agent_environment = AgentEnvironment {
            path: env::var_os("PATH"),
            kimi_share_dir,
            claude_config_dir,
            claude_config_file,
            codex_home,
        };
        let progress = ProgressMode::choose(cli.progress, cli.json, cli.quiet);
        Ok(Self {
            dir,
            json: cli.json,
            progress,
            clock,
            agent_environment,
            config_env: config_env(),
            omk_binary: env::current_exe().ok(),
        })
    }

    /// Returns the `omk` binary for a command that starts a goal's processes, and begins
    /// starting the sandbox's watcher with it now, so that the watcher's start overlaps the
    /// command's own work instead of delaying its first process.
    pub(crate) fn process_omk_binary(&self) -> Option<&Path> {
        let binary = self.omk_binary.as_deref()?;
        omk_sandbox::start_watcher(binary);
        Some(binary)
    }

    /// Returns `path` resolved against the directory omk runs in.
    pub(crate) fn resolve(&self, path: &Path) -> PathBuf {
        self.dir.join(path)
    }
}

/// Returns where the user config is: `$XDG_CONFIG_HOME/omk/config.toml` when that variable is
/// an absolute path (the XDG Base Directory rule), else `$HOME/.config/omk/config.toml`; none
/// without either.
pub(crate) fn config_env() -> ConfigEnv {
    let home = env::var_os("HOME").filter(|it| !it.is_empty()).map(PathBuf::from);
    let config_home = env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|it| it.is_absolute())
        .or_else(|| home.as_ref().map(|home| home.join(".config")));
    let user_config = config_home.map(|dir| dir.join("omk").join("config.toml"));
    ConfigEnv { user_config, home }
}

/// Returns the environment gates run with: omk's own, less variables that are not UTF-8.
pub(crate) fn gate_environment() -> Vec<(String, String)> {
    env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// Returns the number of gates to run at once: `requested`, else the number of CPUs.
pub(crate) fn parallelism(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)).max(1)
}

/// Returns the exit code for a finished run's proof.
///
/// Success means the change passed everything `omk run` checks: its only gaps are the steps
/// that come after a run (a person's decision on a changed gate surface, and acceptance). A
/// paused or cancelled run is 130, a budget stop 4, a goal blocked on a question 3.
pub(crate) fn exit_code_of(proof: &Proof) -> u8 {
    let after_the_run = |gap: &Gap| {
        matches!(gap, Gap::GateSurfaceChanged { rejected: false, .. } | Gap::AcceptanceMissing)
    };
    match proof.status {
        ProofStatus::FailedInfra => return ExitCodes::INFRA,
        ProofStatus::Paused | ProofStatus::Cancelled => return ExitCodes::INTERRUPTED,
        ProofStatus::NeedsMoreBudget => return ExitCodes::BUDGET,
        ProofStatus::BlockedOnExternal => return ExitCodes::BLOCKED,
        // A question about the goal blocks it; a gate-surface decision is a step after the run.
        ProofStatus::BlockedOnHuman
            if proof.human_decisions_required.iter().any(|it| {
                !matches!(it.subject, omk_events::DecisionSubject::GateSurface { .. })
            }) =>
        {
            return ExitCodes::BLOCKED;
        }
        _ => {}
    }
    if matches!(
        proof.status,
        ProofStatus::Ready | ProofStatus::NotReady | ProofStatus::BlockedOnHuman
    ) && proof.known_gaps.iter().all(|it| after_the_run(&it.gap))
    {
        ExitCodes::SUCCESS
    } else {
        ExitCodes::NOT_READY
    }
}

/// Returns the `--json` document of a finished run.
pub(crate) fn run_json(outcome: &RunOutcome) -> String {
    crate::json::to_string(&crate::json::RunDocument::new(outcome))
}

/// Returns the human result of a finished run: the verdict, a team goal's slices and queue,
/// the gates, the change, the budget, then where its files are.
pub(crate) fn run_text(outcome: &RunOutcome) -> String {
    let repo_root = &outcome.paths.repo_root;
    let relative = |path: &Path| path.strip_prefix(repo_root).unwrap_or(path).display().to_string();
    let proof = &outcome.proof;
    let mut text = render::verdict(proof);
    text.push('\n');
    if let Some(team) = &proof.team {
        text.push_str(&render::team_table(team));
        text.push('\n');
    }
    text.push_str(&render::gates_table(&proof.gates));
    text.push('\n');
    text.push_str(&render::changed_files(&proof.changed_files));
    text.push_str(&render::budget(&proof.budget));
    text.push('\n');
    let report = Some(("report", &outcome.paths.report)).filter(|it| it.1.exists());
    let files = [
        ("proof", &outcome.paths.proof),
        ("event log", &outcome.paths.events),
        ("worktree", &outcome.paths.worktree),
    ];
    for (label, path) in report.into_iter().chain(files) {
        let _ =
            writeln!(text, "{label:<10} {}", output::paint(output::style::DIM, &relative(path)));
    }
    text
}

/// Returns the runtime a command drives the library's async work on: one thread, since the
/// work waits on processes, not on the CPU.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, omk_goal::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| omk_goal::Error::Write { path: "tokio runtime".into(), source })
}
