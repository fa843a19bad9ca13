//! One module per command; this one dispatches and holds what commands share.

mod agents;
mod config;
mod demo;
mod gates;
mod goal;
mod mcp;
mod proof;
mod remote;
mod replay;
mod run;
mod shared;
mod worktree;

use crate::{
    args::{
        BudgetCommand, Cli, Command, ConfigCommand, GatesCommand, KeyCommand, ProofCommand,
        WorktreeCommand,
    },
    error::CliError,
};

/// Runs the command of `cli` and returns the exit code of its result.
pub(crate) fn run(cli: &Cli) -> Result<u8, CliError> {
    let ctx = shared::Context::from_cli(cli)?;
    match &cli.command {
        Command::Run(args) => run::run_run(&ctx, args),
        Command::Resume(args) => run::run_resume(&ctx, args),
        Command::Pause(args) => goal::run_stop(&ctx, args, omk_goal::ControlAction::Pause),
        Command::Cancel(args) => goal::run_stop(&ctx, args, omk_goal::ControlAction::Cancel),
        Command::Accept(args) => goal::run_accept(&ctx, args),
        Command::Reject(args) => goal::run_reject(&ctx, args),
        Command::Budget(BudgetCommand::Add(args)) => goal::run_budget_add(&ctx, args),
        Command::Status(args) => goal::run_status(&ctx, args),
        Command::List => goal::run_list(&ctx),
        Command::Show(args) => goal::run_show(&ctx, args),
        Command::Push(args) => remote::run_push(&ctx, args),
        Command::Fetch(args) => remote::run_fetch(&ctx, args),
        Command::Proof(ProofCommand::Show(args)) => proof::run_proof_show(&ctx, args),
        Command::Proof(ProofCommand::Rebuild(args)) => proof::run_proof_rebuild(&ctx, args),
        Command::Proof(ProofCommand::Verify(args)) => proof::run_proof_verify(&ctx, args),
        Command::Proof(ProofCommand::Export(args)) => proof::run_proof_export(&ctx, args),
        Command::Key(KeyCommand::Generate(args)) => proof::run_key_generate(&ctx, args),
        Command::Replay(args) => replay::run_replay(&ctx, args),
        Command::Agents => agents::run_agents(&ctx),
        Command::Demo(args) => demo::run_demo(&ctx, args),
        Command::Gates(GatesCommand::List) => gates::run_gates_list(&ctx),
        Command::Gates(GatesCommand::Run(args)) => gates::run_gates_run(&ctx, args),
        Command::Mcp(args) => mcp::run_mcp(&ctx, args),
        Command::Worktree(WorktreeCommand::List) => worktree::run_worktree_list(&ctx),
        Command::Worktree(WorktreeCommand::Gc(args)) => worktree::run_worktree_gc(&ctx, args),
        Command::Config(ConfigCommand::Show(args)) => config::run_config_show(&ctx, args),
        Command::Config(ConfigCommand::Path) => config::run_config_path(&ctx),
    }
}
