//! `omk demo`: the whole pipeline on a sample project, explained as it happens.

use std::fmt::Write as _;

use omk_goal::AgentSpec;
use omk_proof::Proof;

use crate::{
    args::DemoArgs,
    commands::{
        run::run_goal,
        shared::{self, Context},
    },
    error::{CliError, ExitCodes},
    output::{self, paint, style},
    progress::Progress,
};

pub(crate) fn run_demo(ctx: &Context, args: &DemoArgs) -> Result<u8, CliError> {
    let dir = match &args.dir {
        Some(dir) => ctx.resolve(dir),
        // The sample project is kept, so that the commands printed at the end can be tried.
        None => tempfile::Builder::new().prefix("omk-demo-").tempdir()?.keep(),
    };
    let demo = omk_goal::create_demo_project(&dir)?;
    let progress = Progress::new(ctx.progress, true);
    if progress.is_on() {
        progress.line(&format!(
            "{}\n\n\
             project  {}  (a git repo; `sh test.sh` fails because add() subtracts)\n\
             agent    script:{}  (the built-in scripted agent: no network, no API key)\n\
             prompt   {}",
            paint(
                style::STRONG,
                "omk demo: a sample project with a failing test, a scripted agent that fixes \
                 it, and gates that omk runs itself."
            ),
            demo.repo.display(),
            demo.scenario.display(),
            demo.prompt
        ));
    }
    let agent = AgentSpec::Script(demo.scenario.clone());
    let outcome = run_goal(
        ctx,
        &progress,
        &demo.repo,
        demo.prompt,
        None,
        Some(&agent),
        None,
        omk_events::BudgetLimits::default(),
        &[],
        super::run::GateRun { max_parallel_gates: None, reuse_cache: true },
        false,
        false,
        None,
    )?;
    drop(progress);
    super::run::write_report(ctx, &outcome)?;
    if ctx.json {
        output::print_stdout(&shared::run_json(&outcome))?;
        return Ok(shared::exit_code_of(&outcome.proof));
    }
    let as_expected = demo_went_as_expected(&outcome.proof);
    let verdict = if as_expected {
        "The agent's change passed every required gate and every review check omk ran on it, \
         and the baseline shows the test failed before the agent. The proof waits for one \
         thing only: a person (you) accepting the change."
    } else {
        "The proof is not what the demo expects; its known gaps say why."
    };
    let repo = demo.repo.display();
    let goal = outcome.proof.goal_id.as_str();
    let worktree = omk_goal::Layout::new(&demo.repo).worktree(goal);
    let tries = [
        ("look at the run in a browser", outcome.paths.report.display().to_string()),
        ("replay the run from its event log", format!("omk -C {repo} replay {goal}")),
        (
            "read the proof as a PR description",
            format!("omk -C {repo} proof show {goal} --format markdown"),
        ),
        ("see the agent's commit", format!("git -C {} show", worktree.display())),
        ("merge it into main", format!("omk -C {repo} accept {goal}")),
    ];
    let mut text = format!(
        "\n{}\n{verdict}\n\n{}\n{}\n",
        paint(style::STRONG, "8. Proof"),
        shared::run_text(&outcome),
        paint(style::STRONG, "Try next:"),
    );
    for (what, command) in tries {
        let _ = writeln!(
            text,
            "  {}  {}",
            paint(style::COMMAND, &command),
            paint(style::DIM, &format!("# {what}"))
        );
    }
    output::print_stdout(&text)?;
    Ok(if as_expected { ExitCodes::SUCCESS } else { ExitCodes::NOT_READY })
}

/// Returns whether the demo's proof is what a working omk produces: the agent changed a file
/// and the change passed every gate, so only the steps after a run are missing.
fn demo_went_as_expected(proof: &Proof) -> bool {
    shared::exit_code_of(proof) == ExitCodes::SUCCESS && !proof.changed_files.is_empty()
}
