//! What the controller's benchmarks share: git with a fixed identity, and running one goal.

use std::path::Path;

use omk_goal::{AgentSpec, RunOutcome, RunRequest, SystemClock, TeamRequest};
use omk_testkit::RunEnvironment;

pub(crate) use omk_testkit::git;

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
    let environment = RunEnvironment::on_path();
    runtime
        .block_on(omk_goal::run_goal(RunRequest {
            repo_dir: goal.repo,
            prompt: goal.prompt,
            agent: Some(goal.agent),
            kind: None,
            budget: omk_events::BudgetLimits::default(),
            extra_gates: &[],
            team: goal.team,
            env: environment.run_env(&SystemClock, on_event, goal.reuse_cached_gates),
            waive_fail_to_pass: false,
            repair_rounds: Some(0),
        }))
        .expect("the goal runs")
}
