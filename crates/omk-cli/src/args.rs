//! The command-line surface, declared with clap.

use std::path::PathBuf;

pub(crate) use omk_goal::parse_duration_ms;

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
    ///
    /// Team run: omk run "add these:\n- a\n- b\n- c" --slices 3, or omk run --plan tasks.toml;
    /// each slice runs in its own worktree, and finished slices merge one batch at a time onto
    /// the goal's branch, with the gates run after each merge (docs/teams.md).
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
    /// Push GOAL's branch and evidence to a remote, for other clones to fetch, verify and merge
    ///
    /// The evidence is a commit under refs/omk/goals/<goal-id>: the log, the proof, every
    /// artifact (checked against its recorded digest first), the signed bundle when there is
    /// one, and origin.json (this machine, OMK_HOST or the host name, and the time). One `git
    /// push --atomic` sends it with the branch omk/<goal-id>, the log's anchors and
    /// refs/notes/omk. A second push follows the first (a fast-forward); a remote that holds
    /// another history for the goal id is refused. See docs/remote.md.
    ///
    /// Example: omk push --remote origin --sign-key .omk/keys/signing
    Push(PushArgs),
    /// Fetch the goals other machines pushed to a remote
    ///
    /// Fetches refs/omk/goals/*, refs/omk/anchors/* and the goals' branches into
    /// refs/omk/fetched/<remote>/, then writes each goal into .omk/goals/<goal-id>/ with its
    /// origin.json, whole or not at all. A goal that ran in this clone is left alone; a goal's
    /// branch and anchors are set when absent. `omk list` then shows where each ran.
    ///
    /// Example: omk fetch && omk list
    Fetch(FetchArgs),
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
    /// Serve a goal's gates to its agent over the Model Context Protocol (stdio)
    ///
    /// Tools: gates_list (the gates that will judge the goal), gates_run (run them, or the ones
    /// named, in the goal's worktree with omk's configuration, sandbox and redaction) and
    /// goal_status. `omk run` registers this server with agents that take MCP configuration
    /// (Kimi, Claude Code, Codex) unless `[agent] mcp = false`. The agent's runs are recorded
    /// as its own checks (`agent_check_ran`, the proof's agent.checks) and never count as gates.
    ///
    /// Example: omk -C /path/to/repo mcp --goal 20260101-120000-fix-add
    Mcp(McpArgs),
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
    /// Make the Ed25519 keys that sign exported proofs
    #[command(subcommand)]
    Key(KeyCommand),
}

/// Arguments of `omk run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What the agent should change (with --plan: what the plan is for [default: the plan's
    /// task ids])
    #[arg(required_unless_present = "plan")]
    pub prompt: Option<String>,

    /// Split the goal into N slices, one per group of the prompt's list items, run by agents
    /// at once, each in its own worktree
    #[arg(long, value_name = "N", conflicts_with = "plan")]
    pub slices: Option<u32>,

    /// Run the tasks of a task plan (TOML: ids, prompts, dependencies, read and write paths,
    /// agents, budgets) as slices; see docs/teams.md
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Run at most N slices at once [default: the plan's max_agents, else the number of tasks
    /// up to 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_agents: Option<u32>,

    /// Retry a failed slice up to N times [default: the plan's retries, else 1]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Give a slice's task to another worker when its worker sent no heartbeat for this long
    /// (such as 30s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "30s")]
    pub lease: u64,

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

    /// Run every gate even when the gate cache has its result for the same tree (fresh results
    /// are still stored)
    #[arg(long)]
    pub no_gate_cache: bool,

    /// Waive the fail-to-pass rule: a bugfix or test goal (or a feature goal that adds tests)
    /// then needs no test that fails without its change; the proof names the waiver ([oracle]
    /// fail_to_pass = false in omk.toml waives it for every goal)
    #[arg(long)]
    pub no_fail_to_pass: bool,

    /// When required gates fail (or the review finds weakened tests or the like), give the
    /// agent up to N follow-ups with what failed, in the same conversation, and check again; 0
    /// turns repair off [default: [run] repair_rounds in omk.toml, else 2]
    #[arg(long, value_name = "N")]
    pub repair: Option<u32>,

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

    /// Also write the proof as a self-contained HTML page, report.html beside proof.json, and
    /// print its path; `omk resume`, `omk accept` and `omk reject` keep it up to date
    #[arg(long)]
    pub html: bool,

    /// After the run, push the goal's branch and evidence as `omk push` does; the exit code is
    /// the verdict's, or 6 when the push fails
    #[arg(long)]
    pub push: bool,

    /// The remote --push pushes to
    #[arg(long, value_name = "REMOTE", default_value = "origin", requires = "push")]
    pub remote: String,

    /// With --push, sign the goal's in-toto bundle with this Ed25519 private key first
    #[arg(long, value_name = "FILE", requires = "push")]
    pub sign_key: Option<PathBuf>,
}

/// Arguments of `omk push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The goal: its id, a unique prefix of it, or `latest` [default: latest]
    pub goal: Option<String>,

    /// The remote to push to
    #[arg(long, value_name = "REMOTE", default_value = "origin")]
    pub remote: String,

    /// Export the goal's in-toto bundle signed with this Ed25519 private key (as `omk proof
    /// export --format in-toto --sign-key FILE`) and push it with the evidence
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
}

/// Arguments of `omk fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The remote to fetch from
    #[arg(long, value_name = "REMOTE", default_value = "origin")]
    pub remote: String,
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

    /// A new limit on the goal's repair rounds, counting those already run (0 stops the loop)
    #[arg(long, value_name = "N")]
    pub repair: Option<u32>,

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

/// The subcommands of `omk proof`.
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Show the proof of GOAL, or of the latest goal
    ///
    /// The proof is folded from the goal's event log. With --since, show what changed since an
    /// earlier proof of the same goal instead: status, readiness, gaps added and removed, gates
    /// whose outcome changed, the tree, and the budget used.
    ///
    /// Example: omk proof show --since run-1
    Show(ProofShowArgs),
    /// Recompute the proof of GOAL from its log and compare it with proof.json, byte for byte
    ///
    /// Exits 0 when they are equal, 1 with the first difference (byte, line and field)
    /// otherwise.
    Rebuild(ProofGoalArgs),
    /// Check the proof of GOAL, or a signed in-toto bundle; exit 0 only when it is verified
    ///
    /// Checks the log's hash chain, the SHA-256 of every artifact the proof names (gate logs,
    /// transcripts, the diff), that proof.json is the fold of the log, that the goal's
    /// branch holds the recorded tree, and that the log's end matches every anchor of it omk
    /// recorded outside .omk/ (refs/omk/anchors/GOAL, the acceptance's note under
    /// refs/notes/omk), so a log cut short fails; a missing anchor is a warning. With --rerun, the recorded tree is checked out in a
    /// scratch worktree and every gate runs again (without the gate cache); an outcome or test
    /// count that differs is reported as flaky (it differs between two reruns) or not
    /// reproducible. With --bundle and --key, checks a bundle from `omk proof export` instead,
    /// and the log digest its verdict binds against the goal's log and anchors.
    /// Exit codes: 0 verified, 1 not verified.
    ///
    /// Example: omk proof verify --rerun
    Verify(ProofVerifyArgs),
    /// Export the proof of GOAL as a signed in-toto bundle, a pull request description or an
    /// HTML report
    ///
    /// `--format in-toto` writes one DSSE envelope per line (.intoto.jsonl): SLSA provenance
    /// of the run, a test result per gate and a verification summary (the verdict), about the
    /// goal's commit and tree; signed with --sign-key, unsigned without. `--format markdown`
    /// writes the proof as a pull request description. `--format html` writes one
    /// self-contained page (no network, no script): the verdict and the readiness ladder, a
    /// timeline of the run, the gates with their outputs, the changed files with their diffs,
    /// reviews, budget, approvals, integration, and the log's anchors and signature.
    ///
    /// Example: omk proof export --format in-toto --sign-key .omk/keys/signing
    Export(ProofExportArgs),
}

/// Arguments of commands that take one goal.
#[derive(Debug, Args)]
pub struct ProofGoalArgs {
    /// The goal id [default: the latest goal]
    pub goal: Option<String>,
}

/// How `omk proof show` renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    /// A terminal summary.
    Text,
    /// A pull request description.
    Markdown,
    /// The proof's JSON, as --json prints it.
    Json,
}

/// Arguments of `omk proof show`.
#[derive(Debug, Args)]
pub struct ProofShowArgs {
    /// The goal id [default: the latest goal]
    pub goal: Option<String>,

    /// How to render the proof [default: text, or json with --json]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ShowFormat>,

    /// Show what changed since an earlier proof of the goal: run-N (after the goal's N-th
    /// agent run) or N (after event N of the log)
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
}

/// Arguments of `omk proof verify`.
#[derive(Debug, Args)]
pub struct ProofVerifyArgs {
    /// The goal id [default: the latest goal]
    pub goal: Option<String>,

    /// Re-run every gate on the recorded tree in a scratch worktree and compare the outcomes
    #[arg(long, conflicts_with = "bundle")]
    pub rerun: bool,

    /// How many gates to re-run at once [default: the number of CPUs]
    #[arg(long, short = 'j', value_name = "N", requires = "rerun")]
    pub jobs: Option<usize>,

    /// Check this in-toto bundle (from `omk proof export`) instead of the goal's files
    #[arg(long, value_name = "FILE", requires = "key")]
    pub bundle: Option<PathBuf>,

    /// The public key (PEM) whose signatures the bundle must carry
    #[arg(long, value_name = "PUB", requires = "bundle")]
    pub key: Option<PathBuf>,

    /// The commit the bundle's verdict must be about [default: the goal's recorded commit]
    #[arg(long, value_name = "REV", requires = "bundle")]
    pub commit: Option<String>,

    /// Also require the bundle's verdict to be PASSED (the proof was ready), as a merge gate
    /// in CI would
    #[arg(long, requires = "bundle")]
    pub require_passed: bool,
}

/// What `omk proof export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// An in-toto bundle: one DSSE envelope per line.
    #[value(name = "in-toto")]
    InToto,
    /// A pull request description.
    Markdown,
    /// A self-contained HTML report.
    Html,
}

/// Arguments of `omk proof export`.
#[derive(Debug, Args)]
pub struct ProofExportArgs {
    /// The goal id [default: the latest goal]
    pub goal: Option<String>,

    /// What to write
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// Sign every envelope with this Ed25519 private key (PKCS#8 PEM, from `omk key generate`)
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,

    /// Where to write; `-` is stdout [default: .omk/goals/<goal-id>/proof.intoto.jsonl for
    /// in-toto, .omk/goals/<goal-id>/report.html for html, stdout for markdown]
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// The repository's URI in the verdict, such as git+https://github.com/org/repo
    /// [default: urn:omk:goal:<goal-id>]
    #[arg(long, value_name = "URI")]
    pub repo_uri: Option<String>,
}

/// The subcommands of `omk key`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an Ed25519 key pair for signing exported proofs
    ///
    /// Writes the private key as PKCS#8 PEM with mode 0600, and the public key as
    /// SubjectPublicKeyInfo PEM beside it, named FILE.pub; prints the key id (the SHA-256 of
    /// the raw public key, hex). An existing file is not replaced without --force.
    ///
    /// Example: omk key generate .omk/keys/signing
    Generate(KeyGenerateArgs),
}

/// Arguments of `omk key generate`.
#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// The private key file [default: .omk/keys/signing]
    pub file: Option<PathBuf>,

    /// Replace existing key files
    #[arg(long)]
    pub force: bool,
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

/// Arguments of `omk mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve the gates of GOAL (an id, a unique prefix, or latest) [default: latest]
    #[arg(long, value_name = "GOAL")]
    pub goal: Option<String>,

    /// Run at most N gates at once [default: the number of CPUs]
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
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
