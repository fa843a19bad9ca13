//! `omk demo`: the whole pipeline on a sample project, explained as it happens.

use omk_goal::AgentSpec;
use omk_proof::Proof;

use crate::{
    args::DemoArgs,
    commands::{
        run::run_goal,
        shared::{self, Context},
    },
    error::{CliError, ExitCodes},
    output,
};

pub(crate) fn run_demo(ctx: &Context, args: &DemoArgs) -> Result<u8, CliError> {
    let dir = match &args.dir {
        Some(dir) => ctx.resolve(dir),
        // The sample project is kept, so that the commands printed at the end can be tried.
        None => tempfile::Builder::new().prefix("omk-demo-").tempdir()?.keep(),
    };
    let demo = omk_goal::create_demo_project(&dir)?;
    if !ctx.json {
        output::progress(&format!(
            "omk demo: a sample project with a failing test, a scripted agent that fixes it, \
             and gates that omk runs itself.\n\n\
             project  {}  (git repo; `sh test.sh` fails because add() subtracts)\n\
             agent    script:{}  (built-in scripted agent: no network, no API key)\n\
             prompt   {}\n",
            demo.repo.display(),
            demo.scenario.display(),
            demo.prompt
        ));
    }
    let agent = AgentSpec::Script(demo.scenario.clone());
    let outcome = run_goal(
        ctx,
        &demo.repo,
        demo.prompt,
        Some(&agent),
        None,
        omk_events::BudgetLimits::default(),
        &[],
        None,
        false,
    )?;
    if ctx.json {
        output::print_stdout(&shared::run_json(&outcome))?;
        return Ok(shared::exit_code_of(&outcome.proof));
    }
    let repo = demo.repo.display();
    let verdict = if demo_went_as_expected(&outcome.proof) {
        "The agent's change passed every required gate and every review check omk ran on it; \
         the baseline run shows the test failed before the agent. The proof stays not_ready \
         until you accept the change: `omk accept` merges it into main."
    } else {
        "The proof is not what the demo expects; read its known gaps below."
    };
    let text = format!(
        "\n{verdict}\n\n{}\nTry next:\n  omk -C {repo} replay\n  omk -C {repo} proof show --json\n  \
         git -C {repo}/.omk/worktrees/{goal} show\n  omk -C {repo} accept\n",
        shared::run_text(&outcome),
        goal = outcome.proof.goal_id,
    );
    output::print_stdout(&text)?;
    Ok(if demo_went_as_expected(&outcome.proof) {
        ExitCodes::SUCCESS
    } else {
        ExitCodes::NOT_READY
    })
}

/// Returns whether the demo's proof is what a working omk produces: the agent changed a file
/// and the change passed every gate, so only the steps after a run are missing.
fn demo_went_as_expected(proof: &Proof) -> bool {
    shared::exit_code_of(proof) == ExitCodes::SUCCESS && !proof.changed_files.is_empty()
}
