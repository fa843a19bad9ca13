//! One module per command; this one dispatches and holds what commands share.

mod agents;
mod demo;
mod proof;
mod run;
mod shared;
mod worktree;

use crate::{
    args::{Cli, Command, ProofCommand, WorktreeCommand},
    error::CliError,
};

/// Runs the command of `cli` and returns the exit code of its result.
pub(crate) fn run(cli: &Cli) -> Result<u8, CliError> {
    let ctx = shared::Context::from_cli(cli)?;
    match &cli.command {
        Command::Run(args) => run::run_run(&ctx, args),
        Command::Proof(ProofCommand::Show(args)) => proof::run_proof_show(&ctx, args),
        Command::Agents => agents::run_agents(&ctx),
        Command::Demo(args) => demo::run_demo(&ctx, args),
        Command::Worktree(WorktreeCommand::List) => worktree::run_worktree_list(&ctx),
        Command::Worktree(WorktreeCommand::Gc(args)) => worktree::run_worktree_gc(&ctx, args),
    }
}
