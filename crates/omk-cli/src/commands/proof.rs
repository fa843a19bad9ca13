//! `omk proof show`: a goal's proof, folded from its event log.

use crate::{
    args::ProofShowArgs,
    commands::shared::Context,
    error::{CliError, ExitCodes},
    output,
};

pub(crate) fn run_proof_show(ctx: &Context, args: &ProofShowArgs) -> Result<u8, CliError> {
    let loaded = omk_goal::load_proof(&ctx.dir, args.goal.as_deref())?;
    let text = if ctx.json {
        loaded.proof.to_json()
    } else {
        let relative = loaded
            .paths
            .events
            .strip_prefix(&loaded.paths.repo_root)
            .unwrap_or(&loaded.paths.events);
        format!("{}\nevent log  {}\n", omk_proof::render_text(&loaded.proof), relative.display())
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}
