//! `omk run` and `omk resume`: a prompt in, a proof out, with progress on stderr.

use std::{
    env,
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
};

use omk_events::{BudgetLimits, Envelope, Event, GoalKind, SandboxMode};
use omk_goal::{AgentSpec, ResumeRequest, RunEnv, RunOutcome, RunRequest, TeamRequest, TeamSource};

use crate::{
    args::{GoalKindArg, ResumeArgs, RunArgs},
    commands::shared::{self, Context},
    error::CliError,
    output,
    progress::Progress,
};

pub(crate) fn run_run(ctx: &Context, args: &RunArgs) -> Result<u8, CliError> {
    let agent = match args.agent.as_deref().map(AgentSpec::parse) {
        Some(Ok(AgentSpec::Script(path))) => Some(AgentSpec::Script(ctx.resolve(&path))),
        Some(Ok(other)) => Some(other),
        Some(Err(err)) => return Err(CliError::usage(err.to_string())),
        None => None,
    };
    if let Some(usd) = args.budget_usd
        && !(usd.is_finite() && usd >= 0.0)
    {
        return Err(CliError::usage(format!(
            "--budget-usd {usd} is not an amount of dollars; give a number such as 2.50"
        )));
    }
    let budget = BudgetLimits {
        wall_ms: args.budget_time,
        tokens: args.budget_tokens,
        usd: args.budget_usd,
        turns: args.max_turns,
    };
    if args.push {
        // A push that cannot happen is bad input, found before the run creates anything.
        omk_goal::check_push_remote(&ctx.dir, &args.remote)?;
        if let Some(key) = &args.sign_key {
            omk_attest::load_signing_key(&ctx.resolve(key))?;
        }
    }
    let plan = args.plan.as_deref().map(|path| ctx.resolve(path));
    let team = match (&plan, args.slices) {
        (Some(path), _) => Some(TeamSource::Plan(path)),
        (None, Some(count)) => Some(TeamSource::Slices(count)),
        (None, None) => None,
    }
    .map(|source| TeamRequest {
        source,
        max_agents: args.max_agents,
        retries: args.retries,
        lease_ms: Some(args.lease),
    });
    let prompt = match (&args.prompt, &plan) {
        (Some(prompt), _) => prompt.clone(),
        (None, Some(path)) => format!("Run the task plan {}", path.display()),
        (None, None) => String::new(),
    };
    let outcome = run_goal(
        ctx,
        &Progress::new(ctx.progress, false),
        &ctx.dir,
        &prompt,
        team,
        agent.as_ref(),
        args.kind.map(goal_kind),
        budget,
        &args.gates,
        GateRun { max_parallel_gates: args.max_parallel_gates, reuse_cache: !args.no_gate_cache },
        args.accept,
        args.no_fail_to_pass,
        args.repair,
    )?;
    if args.html {
        write_report(ctx, &outcome)?;
    }
    let code = finish(ctx, &outcome)?;
    if args.push {
        push_after_run(ctx, &outcome, &args.remote, args.sign_key.as_deref())?;
    }
    Ok(code)
}

/// `omk run --push`: pushes the finished goal as `omk push` does; its report goes to stdout
/// after the run's, or to stderr with `--json`. A failed push is an error of its own kind
/// (exit 6), whatever the verdict.
fn push_after_run(
    ctx: &Context,
    outcome: &RunOutcome,
    remote: &str,
    sign_key: Option<&Path>,
) -> Result<(), CliError> {
    let goal = outcome.proof.goal_id.as_str();
    match super::remote::push(ctx, Some(goal), remote, sign_key) {
        Ok(pushed) => {
            let text = super::remote::push_text(&pushed);
            if ctx.json {
                output::progress(text.trim_end());
            } else {
                output::print_stdout(&format!("\n{text}"))?;
            }
            Ok(())
        }
        Err(mut err) => {
            err.kind = crate::error::ErrorKind::Transfer;
            err.hints.push(format!(
                "the run finished and its evidence is intact here; `omk push {goal} --remote {remote}` pushes it again"
            ));
            Err(err)
        }
    }
}

/// Writes the goal's HTML report beside its proof; the text result names it, and with `--json`
/// its path goes to stderr.
pub(crate) fn write_report(ctx: &Context, outcome: &RunOutcome) -> Result<(), CliError> {
    let path = omk_goal::write_report(&outcome.paths)?;
    if ctx.json {
        output::progress(&format!("report {}", path.display()));
    }
    Ok(())
}

pub(crate) fn run_resume(ctx: &Context, args: &ResumeArgs) -> Result<u8, CliError> {
    let outcome = with_env(ctx, args.max_parallel_gates, args.accept, |env| {
        shared::runtime()?.block_on(omk_goal::resume_goal(ResumeRequest {
            repo_dir: &ctx.dir,
            goal: args.goal.as_deref(),
            follow_up: args.prompt.as_deref(),
            repair_rounds: args.repair,
            env,
        }))
    })?;
    finish(ctx, &outcome)
}

/// Prints the outcome and returns the run's exit code.
fn finish(ctx: &Context, outcome: &RunOutcome) -> Result<u8, CliError> {
    let text = if ctx.json { shared::run_json(outcome) } else { shared::run_text(outcome) };
    output::print_stdout(&text)?;
    Ok(shared::exit_code_of(&outcome.proof))
}

fn goal_kind(kind: GoalKindArg) -> GoalKind {
    match kind {
        GoalKindArg::Feature => GoalKind::Feature,
        GoalKindArg::Bugfix => GoalKind::Bugfix,
        GoalKindArg::Refactor => GoalKind::Refactor,
        GoalKindArg::Rewrite => GoalKind::Rewrite,
        GoalKindArg::Docs => GoalKind::Docs,
        GoalKindArg::Test => GoalKind::Test,
        GoalKindArg::Chore => GoalKind::Chore,
    }
}

/// Runs a new goal, showing `progress`.
#[expect(clippy::too_many_arguments, reason = "the options of omk run, passed through")]
pub(crate) fn run_goal(
    ctx: &Context,
    progress: &Progress,
    repo_dir: &Path,
    prompt: &str,
    team: Option<TeamRequest<'_>>,
    agent: Option<&AgentSpec>,
    kind: Option<GoalKind>,
    budget: BudgetLimits,
    gates: &[String],
    gate_run: GateRun,
    accept: bool,
    waive_fail_to_pass: bool,
    repair_rounds: Option<u32>,
) -> Result<RunOutcome, CliError> {
    with_progress(ctx, progress, gate_run, accept, |env| {
        shared::runtime()?.block_on(omk_goal::run_goal(RunRequest {
            repo_dir,
            prompt,
            agent,
            kind,
            budget,
            extra_gates: gates,
            team,
            env,
            waive_fail_to_pass,
            repair_rounds,
        }))
    })
}

/// Set by the SIGINT handler: the run pauses at its next check (within 100 ms).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C pause the run instead of killing omk: a thread waits for SIGINT and sets
/// [`INTERRUPTED`], which the run checks between steps and while the agent or gates run. A second
/// Ctrl-C exits at once with 130; `omk resume` then recovers the run as after a crash.
fn install_sigint_handler() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let (ready, registered) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                ready.send(()).ok();
                return;
            };
            runtime.block_on(async move {
                let signal =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
                ready.send(()).ok();
                let Ok(mut signal) = signal else { return };
                while signal.recv().await.is_some() {
                    if INTERRUPTED.swap(true, Ordering::Relaxed) {
                        // A second Ctrl-C does not wait for the run to reach its next check.
                        std::process::exit(i32::from(crate::error::ExitCodes::INTERRUPTED));
                    }
                    tracing::info!("Ctrl-C: pausing at the next check; Ctrl-C again quits now");
                }
            });
        });
        // Ctrl-C is caught from here on, not only once the thread got to it.
        registered.recv().ok();
    });
}

/// Builds the run environment (progress, the Ctrl-C flag, the test-only kill hook) and calls
/// `f` with it; returns 130's outcome as a normal outcome (the proof says paused).
pub(crate) fn with_env<T>(
    ctx: &Context,
    max_parallel_gates: Option<usize>,
    accept: bool,
    f: impl FnOnce(RunEnv<'_>) -> Result<T, omk_goal::Error>,
) -> Result<T, CliError> {
    let progress = Progress::new(ctx.progress, false);
    with_progress(ctx, &progress, GateRun { max_parallel_gates, reuse_cache: true }, accept, f)
}

/// How a run runs its gates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GateRun {
    /// `--max-parallel-gates`.
    pub(crate) max_parallel_gates: Option<usize>,
    /// Whether results may come from the gate cache (not with `--no-gate-cache`).
    pub(crate) reuse_cache: bool,
}

/// [`with_env`] with the progress to show.
pub(crate) fn with_progress<T>(
    ctx: &Context,
    progress: &Progress,
    gates: GateRun,
    accept: bool,
    f: impl FnOnce(RunEnv<'_>) -> Result<T, omk_goal::Error>,
) -> Result<T, CliError> {
    install_sigint_handler();
    let mut kill = KillHook::from_env();
    let mut show = progress.observer();
    let mut warned = false;
    let observer = move |envelope: &Envelope| {
        show(envelope);
        warn_unconfined(envelope, &mut warned);
        kill.after(envelope);
    };
    let gate_environment = shared::gate_environment();
    let env = RunEnv {
        agent_environment: &ctx.agent_environment,
        config: &ctx.config_env,
        max_parallel_gates: shared::parallelism(gates.max_parallel_gates),
        gate_environment: &gate_environment,
        reuse_cached_gates: gates.reuse_cache,
        clock: ctx.clock.as_ref(),
        observer: Box::new(observer),
        interrupt: Some(&INTERRUPTED),
        accept,
        omk_binary: ctx.process_omk_binary(),
    };
    Ok(f(env)?)
}

/// Says once on stderr, whatever the progress shows, that a run's processes are unconfined.
fn warn_unconfined(envelope: &Envelope, warned: &mut bool) {
    if let Event::SandboxApplied(applied) = &envelope.event
        && applied.mode != SandboxMode::Landlock
        && !*warned
    {
        *warned = true;
        output::warn(&format!(
            "the agent and the gates run unconfined ({}); the proof will say so, and only a \
             person's `omk accept` can merge the change",
            applied.reason.as_deref().unwrap_or("no sandbox")
        ));
    }
}

/// A test-only hook: `OMK_TEST_KILL_AFTER=KIND[#N]` kills omk with SIGKILL right after the
/// N-th (default first) event of kind KIND is in the log, to test that `omk resume` recovers
/// from a crash at that point. Unset, it does nothing.
struct KillHook {
    target: Option<(String, usize)>,
    seen: usize,
}

impl KillHook {
    fn from_env() -> Self {
        let target = env::var("OMK_TEST_KILL_AFTER").ok().map(|text| match text.split_once('#') {
            Some((kind, n)) => (kind.to_owned(), n.parse().unwrap_or(1)),
            None => (text, 1),
        });
        Self { target, seen: 0 }
    }

    fn after(&mut self, envelope: &Envelope) {
        let Some((kind, n)) = &self.target else { return };
        if envelope.event.kind() == kind {
            self.seen += 1;
            if self.seen == *n {
                nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL).ok();
            }
        }
    }
}
