//! What the controller's benchmarks share: git with a fixed identity, and running one goal.

use std::{path::Path, process::Command};

use omk_goal::{AgentSpec, RunEnv, RunOutcome, RunRequest, SystemClock, TeamRequest};

/// Runs git with `args` in `dir`, without the user's config; panics when it fails.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

/// What one benchmarked goal runs.
pub(crate) struct Goal<'a> {
    pub(crate) repo: &'a Path,
    pub(crate) prompt: &'a str,
    pub(crate) agent: &'a AgentSpec,
    pub(crate) team: Option<TeamRequest<'a>>,
    pub(crate) reuse_cached_gates: bool,
}

/// Runs `goal` to its proof with the system clock, two gates at once and `PATH` for agents
/// and gates; `on_event` hears every event.
pub(crate) fn run(
    goal: Goal<'_>,
    on_event: impl FnMut(&omk_events::Envelope) + Send,
) -> RunOutcome {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let agent_environment =
        omk_goal::AgentEnvironment { path: std::env::var_os("PATH"), kimi_share_dir: None };
    let gate_environment = vec![("PATH".to_owned(), std::env::var("PATH").unwrap_or_default())];
    runtime
        .block_on(omk_goal::run_goal(RunRequest {
            repo_dir: goal.repo,
            prompt: goal.prompt,
            agent: Some(goal.agent),
            kind: None,
            budget: omk_events::BudgetLimits::default(),
            extra_gates: &[],
            team: goal.team,
            env: RunEnv {
                agent_environment: &agent_environment,
                config: &omk_config::ConfigEnv::default(),
                max_parallel_gates: 2,
                gate_environment: &gate_environment,
                reuse_cached_gates: goal.reuse_cached_gates,
                clock: &SystemClock,
                observer: Box::new(on_event),
                interrupt: None,
                accept: false,
            },
        }))
        .expect("the goal runs")
}
