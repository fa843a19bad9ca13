//! The command-line surface, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run AI coding agents in isolated git worktrees and prove their changes with gates omk runs
/// itself.
#[derive(Debug, Parser)]
#[command(
    name = "omk",
    bin_name = "omk",
    version,
    propagate_version = true,
    after_long_help = "Examples:
  omk demo                                   see the whole pipeline on a sample project
  omk run \"fix the failing test\" --agent kimi --gate \"cargo test\"
  omk status                                 the latest goal: its verdict and next command
  omk accept                                 merge the latest goal's change if its proof allows

Exit codes: 0 success, 1 not ready, 2 usage, 3 blocked, 4 budget, 5 infra, 130 interrupted
(docs/reference/exit-codes.md). Every command and flag: docs/reference/cli.md."
)]
pub struct Cli {
    /// Run as if omk was started in DIR
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Print results as JSON on stdout, with a schema_version, and no progress on stderr
    #[arg(long, global = true)]
    pub json: bool,

    /// Color the output: auto colors a terminal unless NO_COLOR is set
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,

    /// Show live progress on stderr: auto shows it on a terminal only, always also when stderr
    /// is a file or a pipe (one line per event), never hides it
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub progress: ProgressWhen,

    /// Print nothing but the result and errors: no progress, no warnings
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as
    /// omk_gates=trace instead)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// When to color the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Color a terminal, unless NO_COLOR is set to a non-empty value.
    Auto,
    /// Always color, even a file or a pipe.
    Always,
    /// Never color.
    Never,
}

/// When to show live progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressWhen {
    /// On a terminal only, with a live status line.
    Auto,
    /// Also when stderr is a file or a pipe, one line per event.
    Always,
    /// Never.
    Never,
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
    /// Continue GOAL from its last completed step, after a pause, a crash, a budget stop or a
    /// failed step
    ///
    /// With --prompt, the agent runs again on the goal's worktree with the follow-up (after a
    /// rejection, or as the answer to the question a vague prompt raised), and the gates and the
    /// review wall run again on the new tree. A cancelled goal cannot be resumed.
    ///
    /// Example: omk resume --prompt "also handle negative numbers"
    Resume(ResumeArgs),
    /// Pause the live run of GOAL; `omk resume` goes on from the last completed step
    ///
    /// The running omk sees the request within a second (it travels through the goal
    /// directory), stops the agent or the gates, records the pause and exits. Ctrl-C in the
    /// running omk pauses it the same way.
    Pause(StopArgs),
    /// Cancel GOAL for good: a live run stops within a second; its worktree and branch stay
    ///
    /// Example: omk cancel --reason "wrong approach"
    Cancel(StopArgs),
    /// Accept GOAL's change: re-check it against the base branch, then merge it
    ///
    /// The branch must merge cleanly. When the base branch moved since the goal started, it is
    /// merged into the goal's branch first and the gates and the review wall run again on the
    /// merged tree. The merge happens only if the proof, with the acceptance, is `ready` for
    /// that exact tree; the merge commit gets an Omk-Goal trailer and a git note under
    /// refs/notes/omk that names the proof. How it merges is `[worktree] merge` in omk.toml
    /// (fast-forward, merge or squash).
    ///
    /// Example: omk accept 20261121-2000 --reason "reviewed the diff"
    Accept(AcceptArgs),
    /// Reject GOAL's change with a reason; the branch and worktree stay for a follow-up
    ///
    /// Example: omk reject --reason "keep the old API" && omk resume --prompt "keep the old API"
    Reject(RejectArgs),
    /// Raise the budget of GOAL
    #[command(subcommand)]
    Budget(BudgetCommand),
    /// Show what GOAL (or the latest goal) is doing: state, step, elapsed, budget, verdict
    ///
    /// The verdict block ends with the command that moves the goal on.
    ///
    /// Example: omk status --json | jq .goal.next_command
    Status(GoalArgs),
    /// List the goals of the repository, oldest first
    List,
    /// Show GOAL in full: its status, gates, changed files and proof
    Show(GoalArgs),
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
    /// runs the gates and prints the proof, explaining each stage as it happens. Needs nothing
    /// but git.
    ///
    /// Example: omk demo --dir /tmp/omk-demo
    Demo(DemoArgs),
    /// List or clean up the worktrees omk runs agents in
    #[command(subcommand)]
    Worktree(WorktreeCommand),
    /// Show the effective configuration and where each value comes from
    ///
    /// Layers apply in this order, each over the ones before: omk's defaults, omk.toml at the
    /// repository root, the user config ($XDG_CONFIG_HOME/omk/config.toml, else
    /// ~/.config/omk/config.toml), then flags. The user config may set only what is about you
    /// and your machine, never what a proof requires. See docs/config.md.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// Arguments of `omk run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What the agent should change
    pub prompt: String,

    /// The agent to run: kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE
    /// [default: `[agent] default` in the user config, else in omk.toml]
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

    /// The goal's kind, instead of the one omk infers from the prompt; it picks the oracle gates
    /// ([oracle] in omk.toml)
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<GoalKindArg>,

    /// Stop when the run has taken this long (such as 90s, 10m, 1h30m); paused time does not
    /// count
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub budget_time: Option<u64>,

    /// Stop the agent when it has used this many tokens (input and output)
    #[arg(long, value_name = "N")]
    pub budget_tokens: Option<u64>,

    /// Stop when the agent has cost this many US dollars (reported by the agent, or priced with
    /// [prices] in omk.toml)
    #[arg(long, value_name = "USD")]
    pub budget_usd: Option<f64>,

    /// Stop the agent after this many turns (model steps)
    #[arg(long, value_name = "N")]
    pub max_turns: Option<u64>,

    /// Accept and merge the change when, and only when, every check passes (the proof names
    /// this policy as the one who accepted)
    #[arg(long)]
    pub accept: bool,
}

/// A goal kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GoalKindArg {
    /// New behaviour.
    Feature,
    /// A fix for wrong behaviour.
    Bugfix,
    /// A change of structure that keeps behaviour.
    Refactor,
    /// A replacement of a component.
    Rewrite,
    /// Documentation only.
    Docs,
    /// Tests only.
    Test,
    /// Maintenance: dependencies, build, configuration.
    Chore,
}

/// Arguments naming a goal.
#[derive(Debug, Args)]
pub struct GoalArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,
}

/// Arguments of `omk resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,

    /// A follow-up for the agent, which then runs again on the goal's worktree
    #[arg(long, value_name = "TEXT")]
    pub prompt: Option<String>,

    /// Run at most N gates at once [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub max_parallel_gates: Option<usize>,

    /// Accept and merge the change when, and only when, every check passes
    #[arg(long)]
    pub accept: bool,
}

/// Arguments of `omk pause` and `omk cancel`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,

    /// Why, recorded in the goal's log
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Arguments of `omk accept`.
#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,

    /// Why, recorded with the acceptance
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Also approve the change's edits to what the gates check (tests, gate config, CI files)
    #[arg(long)]
    pub approve_gate_surface: bool,
}

/// Arguments of `omk reject`.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,

    /// Why the change is rejected; the agent sees it if you resume with a follow-up
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
}

/// The subcommands of `omk budget`.
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Add to GOAL's limits; a resource without a limit gets what was used plus the amount
    ///
    /// Example: omk budget add --tokens 50000 && omk resume
    Add(BudgetAddArgs),
}

/// Arguments of `omk budget add`.
#[derive(Debug, Args)]
pub struct BudgetAddArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,

    /// More run time (such as 10m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub time: Option<u64>,

    /// More tokens
    #[arg(long, value_name = "N")]
    pub tokens: Option<u64>,

    /// More US dollars
    #[arg(long, value_name = "USD")]
    pub usd: Option<f64>,

    /// More agent turns
    #[arg(long, value_name = "N")]
    pub turns: Option<u64>,
}

/// Parses a duration such as `90s`, `10m`, `1h30m`, `500ms` or `45` (seconds) into milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a duration; write it like 90s, 10m, 1h30m or 500ms");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return seconds.checked_mul(1000).ok_or_else(bad);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        total = number.checked_mul(factor).and_then(|it| total.checked_add(it)).ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
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
    ///
    /// Example: omk worktree gc --dry-run
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

/// The subcommands of `omk config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, each value with the file and line, default or flag it
    /// comes from
    ///
    /// Every file is checked as a run checks it: an unknown key, a key the user config may not
    /// set or a bad value is an error naming the file, line and column.
    ///
    /// Example: omk config show --agent claude
    Show(ConfigShowArgs),
    /// List the config files omk reads, in the order they apply, and whether each exists
    Path,
}

/// Arguments of `omk config show`.
#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// Show the configuration as `omk run --agent AGENT` would see it ([agent] default)
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse_in_their_units() {
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("10m"), Ok(600_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("0s"), Ok(0));
        assert_eq!(parse_duration_ms("45"), Ok(45_000));
        for bad in ["", "m", "10x", "1.5h", "-3s", "10 m"] {
            let err = parse_duration_ms(bad).expect_err(bad);
            assert!(err.contains("90s, 10m, 1h30m"), "{err}");
        }
    }
}
