//! The command-line surface, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run AI coding agents in isolated git worktrees and prove their changes with gates omk runs
/// itself.
#[derive(Debug, Parser)]
#[command(name = "omk", version, propagate_version = true)]
pub struct Cli {
    /// Run as if omk was started in DIR
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Print results as JSON on stdout, with a schema_version, and no progress on stderr
    #[arg(long, global = true)]
    pub json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of omk.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an agent on PROMPT in a new worktree, run the gates, and write the proof
    ///
    /// The agent works in `.omk/worktrees/<goal-id>` on branch `omk/<goal-id>`; your checkout is
    /// not touched. Gates come from `[[gates]]` in omk.toml at the repository root, then --gate.
    ///
    /// Example: omk run "fix the failing test" --agent script:fix.scenario --gate "cargo test"
    Run(RunArgs),
    /// Inspect proofs
    #[command(subcommand)]
    Proof(ProofCommand),
    /// Show the timeline of GOAL, or of the latest goal, from its event log
    ///
    /// One line per event: its number, time, offset from the start, step and what happened,
    /// with durations, token usage and gate results, then a summary. The log's hash chain is
    /// checked as it is read: a changed, missing or reordered event stops the replay with an
    /// error naming its line. The output depends on nothing but the log, so it is the same on
    /// every run.
    ///
    /// Example: omk replay --follow
    Replay(ReplayArgs),
    /// List the agent programs installed on this machine and whether omk can drive them
    ///
    /// Looks for kimi, claude and codex on PATH. A kimi is probed with `kimi --version` and
    /// `kimi info --json`, never started bare: the kimi-cli 1.52 deprecation stub and the
    /// TypeScript Kimi Code CLI are recognized and explained.
    Agents,
    /// List or run the project's gates, as `omk run` would, without an agent
    ///
    /// Gates are detected from the project's files (Cargo, Node, Python, Go, Makefile,
    /// justfile) and configured with `[[gates]]` in omk.toml; see docs/gates.md.
    #[command(subcommand)]
    Gates(GatesCommand),
    /// Run the whole pipeline on a sample project with a scripted agent, offline
    ///
    /// Creates a small git project with a failing test, lets the built-in scripted agent fix it,
    /// runs the gates and prints the proof. Needs nothing but git.
    Demo(DemoArgs),
    /// List or clean up the worktrees omk runs agents in
    #[command(subcommand)]
    Worktree(WorktreeCommand),
}

/// Arguments of `omk run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What the agent should change
    pub prompt: String,

    /// The agent to run: kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE
    /// [default: `[agent] default` in omk.toml]
    ///
    /// kimi drives the Python Kimi CLI in Wire mode and answers its approval requests with the
    /// `[[approvals]]` policy of omk.toml; kimi-print uses its print mode; cmd:COMMAND runs
    /// COMMAND with `sh -c`, the prompt on stdin (or in {prompt_file}, or as {prompt});
    /// script:FILE replays a scenario with the built-in scripted agent.
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,

    /// Run CMD with `sh -c` in the worktree as a required gate named gate-N (can be repeated)
    #[arg(long = "gate", value_name = "CMD")]
    pub gates: Vec<String>,

    /// Run at most N gates at once [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub max_parallel_gates: Option<usize>,
}

/// The subcommands of `omk proof`.
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Show the proof of GOAL, or of the latest goal
    Show(ProofShowArgs),
}

/// Arguments of `omk proof show`.
#[derive(Debug, Args)]
pub struct ProofShowArgs {
    /// The goal id [default: the latest goal]
    pub goal: Option<String>,
}

/// Arguments of `omk replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The goal id [default: the latest goal]
    pub goal: Option<String>,

    /// Keep reading while the goal's run is alive, and stop when it lets go of the log
    #[arg(long, short = 'f')]
    pub follow: bool,
}

/// The subcommands of `omk gates`.
#[derive(Debug, Subcommand)]
pub enum GatesCommand {
    /// List the gates of the repository: which run, where each comes from, and why
    List,
    /// Run the gates in the checkout; exit 0 only when every required gate passed
    ///
    /// Logs go to .omk/gate-runs/<run-id>/artifacts/gates/. A gate whose spec, input files
    /// and cache-relevant environment are unchanged since it last passed is taken from the
    /// cache (.omk/cache/gates) instead of running again.
    ///
    /// Example: omk gates run --json --jobs 4
    Run(GatesRunArgs),
}

/// Arguments of `omk gates run`.
#[derive(Debug, Args)]
pub struct GatesRunArgs {
    /// Run only the gates named NAME, even ones omk.toml skips (can be repeated) [default: every
    /// gate `omk gates list` marks as run]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Run at most N gates at once [default: the number of CPUs]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Run every gate even when the cache has its result (fresh results are still stored)
    #[arg(long)]
    pub no_cache: bool,
}

/// The subcommands of `omk worktree`.
#[derive(Debug, Subcommand)]
pub enum WorktreeCommand {
    /// List the repository's linked worktrees with their branch, commit and lock
    List,
    /// Remove the worktrees of finished goals that hold nothing to lose
    ///
    /// A worktree under .omk/worktrees is removed, with its omk/<goal-id> branch, only when its
    /// goal has finished, no running omk holds its lock, it has no uncommitted changes and every
    /// commit of its branch is on another branch. Every other one is listed with the reason it
    /// stays. Removal is checked before it is reported.
    Gc(WorktreeGcArgs),
}

/// Arguments of `omk worktree gc`.
#[derive(Debug, Args)]
pub struct WorktreeGcArgs {
    /// Show what would be removed and why the others stay, and remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `omk demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Create the sample project in DIR, which must be empty or new [default: a new temp dir]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
