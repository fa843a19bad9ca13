//! `omk run`: a prompt in, a proof out.

use std::{path::Path, thread};

use omk_events::{Envelope, replay::Timeline};
use omk_goal::{AgentSpec, GateSpec, RunOutcome, RunRequest};

use crate::{
    args::RunArgs,
    commands::shared::{self, Context},
    error::CliError,
    output,
};

pub(crate) fn run_run(ctx: &Context, args: &RunArgs) -> Result<u8, CliError> {
    let agent = match args.agent.as_deref().map(AgentSpec::parse) {
        Some(Ok(AgentSpec::Script(path))) => Some(AgentSpec::Script(ctx.resolve(&path))),
        Some(Ok(other)) => Some(other),
        Some(Err(err)) => return Err(CliError::usage(err.to_string())),
        None => None,
    };
    let gates: Vec<GateSpec> = args
        .gates
        .iter()
        .enumerate()
        .map(|(idx, line)| GateSpec::shell(&format!("gate-{}", idx + 1), line))
        .collect();
    let outcome =
        run_goal(ctx, &ctx.dir, &args.prompt, agent.as_ref(), &gates, args.max_parallel_gates)?;
    let text = if ctx.json { shared::run_json(&outcome) } else { shared::run_text(&outcome) };
    output::print_stdout(&text)?;
    Ok(shared::exit_code_of(&outcome.proof))
}

/// Runs the goal with progress narration on stderr unless `--json`.
pub(crate) fn run_goal(
    ctx: &Context,
    repo_dir: &Path,
    prompt: &str,
    agent: Option<&AgentSpec>,
    gates: &[GateSpec],
    max_parallel_gates: Option<usize>,
) -> Result<RunOutcome, CliError> {
    let max_parallel_gates = max_parallel_gates
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let mut timeline = Timeline::new();
    let mut observer = |envelope: &Envelope| {
        if !ctx.json {
            shared::narrate(&mut timeline, envelope);
        }
    };
    let gate_environment = shared::gate_environment();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = runtime.block_on(omk_goal::run_goal(RunRequest {
        repo_dir,
        prompt,
        agent,
        agent_environment: &ctx.agent_environment,
        extra_gates: gates,
        max_parallel_gates,
        gate_environment: &gate_environment,
        reuse_cached_gates: true,
        clock: ctx.clock.as_ref(),
        observer: &mut observer,
    }))?;
    Ok(outcome)
}
