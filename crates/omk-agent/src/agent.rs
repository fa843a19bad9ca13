//! Choosing an agent and running it.

use std::{
    ffi::OsString,
    fmt, fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use omk_events::{
    AgentFinished, ApprovalDecided, ArtifactRef, Cost, CostSource, ProcessExit, TokenUsage,
};

use crate::{
    config::AgentConfig,
    context::RunContext,
    control::{Hold, stopped_error},
    error::Error,
    kimi,
    mcp::McpServer,
    process::{self, Launch, Limits, Protocol, StdinMode},
    report::Report,
    scenario, scripted, streams,
};

/// An agent as the user names it, with `--agent` or `[agent] default` in `omk.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSpec {
    /// `script:FILE`: the built-in scripted agent replaying the scenario at the path.
    Script(PathBuf),
    /// `kimi`: the Python Kimi CLI in Wire mode, approvals answered by omk's policy.
    Kimi,
    /// `kimi-print`: the Python Kimi CLI in print mode (it approves every tool call itself).
    KimiPrint,
    /// `claude`: Claude Code in print mode with stream-json output.
    Claude,
    /// `codex`: `codex exec --json`, confined by omk's sandbox (by its own `workspace-write`
    /// sandbox when omk does not confine it).
    Codex,
    /// `cmd:COMMAND`: any command, run with `sh -c`; success is exit code 0.
    Cmd(String),
}

impl AgentSpec {
    /// Parses an agent name such as `kimi` or `script:fix.txt`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "kimi" => return Ok(Self::Kimi),
            "kimi-print" => return Ok(Self::KimiPrint),
            "claude" => return Ok(Self::Claude),
            "codex" => return Ok(Self::Codex),
            _ => {}
        }
        match text.split_once(':') {
            Some(("script", path)) if !path.is_empty() => Ok(Self::Script(PathBuf::from(path))),
            Some(("cmd", command)) if !command.trim().is_empty() => {
                Ok(Self::Cmd(command.to_owned()))
            }
            _ => Err(Error::UnknownAgent { agent: text.to_owned() }),
        }
    }

    /// Returns the agent's short name, which keys `[agent.programs]` and `[prices]`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Script(_) => "script",
            Self::Kimi => "kimi",
            Self::KimiPrint => "kimi-print",
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Cmd(_) => "cmd",
        }
    }
}

impl fmt::Display for AgentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Script(path) => write!(f, "script:{}", path.display()),
            Self::Cmd(command) => write!(f, "cmd:{command}"),
            other => f.write_str(other.name()),
        }
    }
}

/// How long each step of stopping an agent (polite cancel or SIGINT, then SIGTERM) gets
/// before the next when omk's control asks to stop it: the whole process group is gone within
/// twice this, plus one poll of the control, after the request.
pub(crate) const STOP_GRACE: Duration = Duration::from_millis(300);

/// What omk-cli reads from the environment on behalf of agents.
#[derive(Debug, Clone, Default)]
pub struct AgentEnvironment {
    /// `PATH`, to find agent programs.
    pub path: Option<OsString>,
    /// Kimi's data directory (`KIMI_SHARE_DIR`, else `~/.kimi`), where print mode's usage is.
    pub kimi_share_dir: Option<PathBuf>,
    /// Where Claude Code keeps its state (`CLAUDE_CONFIG_DIR`, else `~/.claude`), which it
    /// writes as it runs.
    pub claude_config_dir: Option<PathBuf>,
    /// Claude Code's configuration file, `~/.claude.json` when `CLAUDE_CONFIG_DIR` is not set.
    pub claude_config_file: Option<PathBuf>,
    /// Codex's home (`CODEX_HOME`, else `~/.codex`), which it writes as it runs.
    pub codex_home: Option<PathBuf>,
}

/// An agent ready to run: its inputs are read and checked.
#[derive(Debug, Clone)]
pub struct Agent {
    spec: AgentSpec,
    kind: AgentKind,
    config: AgentConfig,
    kimi_share_dir: Option<PathBuf>,
    claude_config_dir: Option<PathBuf>,
    claude_config_file: Option<PathBuf>,
    codex_home: Option<PathBuf>,
}

#[derive(Debug, Clone)]
enum AgentKind {
    Script(scenario::Scenario),
    Program(PathBuf),
}

/// What a program agent's run keeps from one phase to the next: its program, where its files
/// go, its session and its limits.
struct ProgramRun {
    program: String,
    /// The transcript's directory, relative to the artifact root; the other files go beside it.
    artifact_dir: String,
    stdout_rel: String,
    stderr_rel: String,
    session_id: String,
    limits: Limits,
    started: Instant,
}

impl ProgramRun {
    /// Returns the path of the artifact `name`, relative to the artifact root.
    fn artifact(&self, name: &str) -> String {
        artifact_path(&self.artifact_dir, name)
    }
}

/// Returns the path of the artifact `name` in `dir`, both relative to the artifact root.
fn artifact_path(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }
}

/// What a run reported: the decisions of the approval policy, then the run itself.
#[derive(Debug, Clone)]
pub struct AgentOutcome {
    /// Every answer of the approval policy, in order.
    pub approvals: Vec<ApprovalDecided>,
    /// The run's report.
    pub finished: AgentFinished,
}

/// Checks that the agent of `spec` can run: reads its scenario, or finds its program.
///
/// Callers run this before creating anything, so bad input leaves no trace.
pub fn prepare(
    spec: &AgentSpec,
    config: &AgentConfig,
    environment: &AgentEnvironment,
) -> Result<Agent, Error> {
    let kind = match spec {
        AgentSpec::Script(path) => AgentKind::Script(scenario::load(path)?),
        AgentSpec::Cmd(_) => AgentKind::Program(find_program("sh", environment)?),
        AgentSpec::Kimi | AgentSpec::KimiPrint | AgentSpec::Claude | AgentSpec::Codex => {
            let program = match spec {
                AgentSpec::Claude => "claude",
                AgentSpec::Codex => "codex",
                _ => "kimi",
            };
            let path =
                match config.programs.get(spec.name()).or_else(|| config.programs.get(program)) {
                    Some(path) if path.is_file() => path.clone(),
                    Some(path) => {
                        return Err(Error::ProgramNotFound {
                            agent: spec.to_string(),
                            program: path.display().to_string(),
                            hint: "fix [agent.programs] in omk.toml".to_owned(),
                        });
                    }
                    None => {
                        find_program(program, environment).map_err(|_| Error::ProgramNotFound {
                            agent: spec.to_string(),
                            program: program.to_owned(),
                            hint: install_hint(spec).to_owned(),
                        })?
                    }
                };
            AgentKind::Program(path)
        }
    };
    Ok(Agent {
        spec: spec.clone(),
        kind,
        config: config.clone(),
        kimi_share_dir: environment.kimi_share_dir.clone(),
        claude_config_dir: environment.claude_config_dir.clone(),
        claude_config_file: environment.claude_config_file.clone(),
        codex_home: environment.codex_home.clone(),
    })
}

impl Agent {
    /// Returns what the agent was prepared from.
    pub fn spec(&self) -> &AgentSpec {
        &self.spec
    }

    /// Returns the directories outside the worktree the agent's program writes as it runs (its
    /// session and configuration state), which its sandbox must leave writable.
    pub fn state_dirs(&self) -> Vec<PathBuf> {
        let dir = match self.spec {
            AgentSpec::Kimi | AgentSpec::KimiPrint => &self.kimi_share_dir,
            AgentSpec::Claude => &self.claude_config_dir,
            AgentSpec::Codex => &self.codex_home,
            AgentSpec::Script(_) | AgentSpec::Cmd(_) => &None,
        };
        dir.iter().cloned().collect()
    }

    /// Returns the files outside those directories that the agent's program writes as it runs
    /// (Claude Code's `~/.claude.json`).
    pub fn state_files(&self) -> Vec<PathBuf> {
        match self.spec {
            AgentSpec::Claude => self.claude_config_file.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Runs the agent to the end of its turn and returns what it reported.
    ///
    /// A failing, crashing or hanging agent is a failed outcome; errors are for omk's own
    /// machinery (an artifact that cannot be written, a program that cannot be started).
    /// With a [`RunControl`](crate::RunControl) in `ctx`, what the agent does is handed to it
    /// as it happens, and when it asks to stop, the agent's process group is stopped (polite
    /// cancel or SIGINT, SIGTERM, SIGKILL, 300 ms apart) and the run is a failed outcome whose
    /// `stopped` says why; its artifacts and what it reported so far are kept.
    pub fn run(&self, ctx: &RunContext<'_>) -> Result<AgentOutcome, Error> {
        let program = match &self.kind {
            AgentKind::Script(scenario) => {
                let finished = scripted::run(&self.spec.to_string(), scenario, ctx)?;
                return Ok(AgentOutcome { approvals: Vec::new(), finished });
            }
            AgentKind::Program(program) => program.display().to_string(),
        };
        let run = self.prepare_run(ctx, program)?;
        let mut hold = Hold::new(ctx.control);
        let (exit, report) = self.spawn(ctx, &run, &mut hold)?;
        self.collect(ctx, run, exit, report, &hold)
    }

    /// Prepares a program's run: the directory of its artifacts, its session and its limits.
    fn prepare_run(&self, ctx: &RunContext<'_>, program: String) -> Result<ProgramRun, Error> {
        let started = Instant::now();
        let artifact_dir = ctx.transcript_path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let run = ProgramRun {
            program,
            artifact_dir: artifact_dir.to_owned(),
            stdout_rel: artifact_path(artifact_dir, "stdout.log"),
            stderr_rel: artifact_path(artifact_dir, "stderr.log"),
            session_id: session_id(ctx.goal_id),
            limits: Limits {
                wall: self.config.timeout,
                idle: self.config.idle_timeout,
                grace: Duration::from_secs(5),
                stop_grace: STOP_GRACE,
            },
            started,
        };
        let dir = ctx.artifact_root.join(artifact_dir);
        fs::create_dir_all(&dir)
            .map_err(|source| Error::Transcript { path: dir.clone(), source })?;
        Ok(run)
    }

    /// Starts the agent's program with the command line of its kind and follows its protocol
    /// to the end; returns how the process ended and what the protocol learned.
    fn spawn(
        &self,
        ctx: &RunContext<'_>,
        run: &ProgramRun,
        hold: &mut Hold<'_>,
    ) -> Result<(ProcessExit, Report), Error> {
        let (program, session_id, limits) = (&run.program, &run.session_id, run.limits);
        let stdout_rel = &run.stdout_rel;
        let worktree = ctx.worktree.display().to_string();
        let mut launch = Launch {
            argv: Vec::new(),
            cwd: ctx.worktree.to_owned(),
            env: Vec::new(),
            stdin: StdinMode::Closed,
            stdout_path: ctx.artifact_root.join(&run.stdout_rel),
            stderr_path: ctx.artifact_root.join(&run.stderr_rel),
            sandbox: ctx.sandbox,
        };
        let args = |items: &[&str]| items.iter().map(|&it| it.to_owned()).collect::<Vec<_>>();
        // The session a repair round resumes, and what the agent is told: the follow-up in a
        // resumed conversation, the prompt and the follow-up in a new one.
        let resumed = ctx.continuation.and_then(|it| it.session_id);
        let prompt = |resuming: bool| match ctx.continuation {
            Some(continuation) if resuming => continuation.follow_up.to_owned(),
            Some(continuation) => continuation.fresh_prompt(ctx.prompt),
            None => ctx.prompt.to_owned(),
        };
        Ok(match &self.spec {
            AgentSpec::Kimi => {
                // A repair round is a new turn in the same session: Kimi resumes the session
                // `--session` names, whose history holds the prompt and the earlier turns.
                let session_id = resumed.unwrap_or(session_id);
                launch.argv =
                    args(&[program, "--wire", "--work-dir", &worktree, "--session", session_id]);
                launch.argv.extend(ctx.mcp.map(McpServer::kimi_args).unwrap_or_default());
                launch.stdin = StdinMode::Protocol;
                let prompt = ctx.continuation.map_or(ctx.prompt, |it| it.follow_up);
                let mut wire = kimi::Wire::new(prompt, &self.config.approvals, ctx.worktree);
                let exit = run_process(launch, limits, &mut wire, hold, stdout_rel)?;
                wire.finish();
                (exit, wire.report)
            }
            AgentSpec::KimiPrint => {
                let session_id = resumed.unwrap_or(session_id);
                launch.argv = args(&[
                    program,
                    "--print",
                    "--output-format",
                    "stream-json",
                    "--work-dir",
                    &worktree,
                    "--session",
                    session_id,
                    "-p",
                    ctx.continuation.map_or(ctx.prompt, |it| it.follow_up),
                ]);
                launch.argv.extend(ctx.mcp.map(McpServer::kimi_args).unwrap_or_default());
                let mut print = kimi::Print::default();
                let exit = run_process(launch, limits, &mut print, hold, stdout_rel)?;
                let record = self
                    .kimi_share_dir
                    .as_deref()
                    .and_then(|share| kimi::find_session_record(share, session_id));
                print.finish(exit.exit_code, record.as_deref());
                print.report.session_id = Some(session_id.to_owned());
                (exit, print.report)
            }
            AgentSpec::Claude => {
                // A repair round resumes the session of the previous run; `--session-id` of a
                // session that exists is refused.
                let session = match resumed {
                    Some(id) => format!("--resume={id}"),
                    None => format!("--session-id={session_id}"),
                };
                launch.argv = args(&[
                    program,
                    "-p",
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--permission-mode",
                    "acceptEdits",
                    "--allowedTools",
                    "Bash,Read,Edit,Write,MultiEdit,Glob,Grep,LS,TodoWrite",
                    "--disallowedTools",
                    "Bash(git push:*),Bash(curl:*),Bash(wget:*),WebFetch,WebSearch",
                    &session,
                ]);
                launch.argv.extend(ctx.mcp.map(McpServer::claude_args).unwrap_or_default());
                launch.stdin = StdinMode::Text(prompt(resumed.is_some()));
                let mut claude = streams::Claude::default();
                let exit = run_process(launch, limits, &mut claude, hold, stdout_rel)?;
                claude.finish(exit.exit_code);
                (exit, claude.report)
            }
            AgentSpec::Codex => {
                let sandbox = codex_sandbox(ctx.sandbox);
                let text = prompt(resumed.is_some());
                launch.argv = codex_argv(program, &worktree, sandbox, ctx.mcp, resumed, text);
                let mut codex = streams::Codex::default();
                let exit = run_process(launch, limits, &mut codex, hold, stdout_rel)?;
                codex.finish(exit.exit_code);
                (exit, codex.report)
            }
            AgentSpec::Cmd(command) => {
                cmd_launch(ctx, run, command, &mut launch)?;
                let mut plain = streams::Plain::default();
                let mut exit = run_process(launch, limits, &mut plain, hold, stdout_rel)?;
                exit.garbage_lines = 0;
                plain.finish(exit.exit_code);
                (exit, plain.report)
            }
            AgentSpec::Script(_) => unreachable!("the scripted agent returned above"),
        })
    }

    /// Turns how the process ended and what its protocol reported into the run's outcome.
    fn collect(
        &self,
        ctx: &RunContext<'_>,
        run: ProgramRun,
        exit: ProcessExit,
        mut report: Report,
        hold: &Hold<'_>,
    ) -> Result<AgentOutcome, Error> {
        // What the protocol learned after the process ended (print mode's usage) is news too.
        hold.deliver(&mut report.activities);
        if let Some(reason) = hold.stop_reason() {
            report.verdict = Some(Err(stopped_error(reason)));
            report.retryable = false;
        } else if exit.timed_out || exit.idle_timed_out {
            let limit = if exit.timed_out {
                format!(
                    "ran past its timeout of {} s ([agent] timeout_secs)",
                    run.limits.wall.as_secs()
                )
            } else {
                format!(
                    "printed nothing for {} s ([agent] idle_timeout_secs)",
                    run.limits.idle.as_secs()
                )
            };
            report.verdict = Some(Err(format!("the agent {limit}; omk stopped it")));
        }
        let mut finished = AgentFinished::new(&self.spec.to_string());
        report.fill(&mut finished);
        finished.cost = self.cost(&report);
        finished.stdout = Some(artifact_ref(ctx.artifact_root, &run.stdout_rel)?);
        finished.stderr = Some(artifact_ref(ctx.artifact_root, &run.stderr_rel)?);
        if finished.session_id.is_none() && matches!(self.spec, AgentSpec::Kimi | AgentSpec::Claude)
        {
            finished.session_id = Some(run.session_id);
        }
        finished.process = Some(exit);
        finished.stopped = hold.stop_reason().map(str::to_owned);
        finished.duration_ms = u64::try_from(run.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(AgentOutcome { approvals: report.approvals, finished })
    }

    fn cost(&self, report: &Report) -> Option<Cost> {
        if let Some(usd) = report.reported_cost_usd {
            return Some(Cost { usd, source: CostSource::Reported });
        }
        self.estimated_cost(&report.usage?)
    }

    /// Returns what `usage` costs at the agent's price table (`[prices.<agent>]`), `None` without
    /// one; the controller checks `--budget-usd` with it while the agent runs.
    pub fn estimated_cost(&self, usage: &TokenUsage) -> Option<Cost> {
        let (key, price) =
            [self.spec.name(), if self.spec == AgentSpec::KimiPrint { "kimi" } else { "" }]
                .into_iter()
                .find_map(|key| self.config.prices.get(key).map(|price| (key, price)))?;
        let per_token = |per_mtok: f64| per_mtok / 1_000_000.0;
        #[expect(clippy::cast_precision_loss, reason = "token counts are far below 2^52")]
        let usd = usage.input_uncached as f64 * per_token(price.input_per_mtok)
            + usage.output as f64 * per_token(price.output_per_mtok)
            + usage.input_cache_read as f64
                * per_token(price.cache_read_per_mtok.unwrap_or(price.input_per_mtok))
            + usage.input_cache_write as f64
                * per_token(price.cache_write_per_mtok.unwrap_or(price.input_per_mtok));
        Some(Cost {
            usd,
            source: CostSource::Estimated {
                table: format!(
                    "{} [prices.{key}]",
                    self.config.price_files.get(key).map_or("omk.toml", String::as_str)
                ),
            },
        })
    }
}

/// Returns Codex's command line: `codex exec` on `text` with its `sandbox` mode, or, resuming
/// the thread `resumed`, `codex exec … resume -- THREAD TEXT` (`exec resume` takes exec's
/// options before it).
fn codex_argv(
    program: &str,
    worktree: &str,
    sandbox: &str,
    mcp: Option<&McpServer>,
    resumed: Option<&str>,
    text: String,
) -> Vec<String> {
    let mut argv: Vec<String> =
        [program, "exec", "--json", "-C", worktree, "--sandbox", sandbox, "--skip-git-repo-check"]
            .iter()
            .map(|&it| it.to_owned())
            .collect();
    // exec's options, the MCP registration too, go before `resume` and the prompt.
    argv.extend(mcp.map(McpServer::codex_args).unwrap_or_default());
    if let Some(thread) = resumed {
        argv.extend(["resume".to_owned(), "--".to_owned(), thread.to_owned()]);
    }
    argv.push(text);
    argv
}

/// Sets up the launch of a `cmd:` agent: `sh -c COMMAND` with its placeholders filled in, the
/// prompt in `prompt.txt` (`OMK_PROMPT_FILE`) and on stdin unless the command takes it as a
/// placeholder; in a repair round, the follow-up on stdin and in `OMK_FOLLOW_UP_FILE`, with
/// `OMK_REPAIR_ROUND`.
fn cmd_launch(
    ctx: &RunContext<'_>,
    run: &ProgramRun,
    command: &str,
    launch: &mut Launch<'_>,
) -> Result<(), Error> {
    let prompt_path = ctx.artifact_root.join(run.artifact("prompt.txt"));
    fs::write(&prompt_path, ctx.prompt)
        .map_err(|source| Error::Transcript { path: prompt_path.clone(), source })?;
    let uses_placeholder = command.contains("{prompt_file}") || command.contains("{prompt}");
    let line = command
        .replace("{prompt_file}", &shell_quote(&prompt_path.display().to_string()))
        .replace("{prompt}", &shell_quote(ctx.prompt));
    launch.argv = vec![run.program.clone(), "-c".to_owned(), line];
    launch.env.push(("OMK_PROMPT_FILE".to_owned(), prompt_path.display().to_string()));
    if let Some(continuation) = ctx.continuation {
        // A repair round: the follow-up on stdin and in a file; the prompt as before.
        let file = continuation.follow_up_file.display().to_string();
        launch.env.push(("OMK_FOLLOW_UP_FILE".to_owned(), file));
        launch.env.push(("OMK_REPAIR_ROUND".to_owned(), continuation.round.to_string()));
        launch.stdin = StdinMode::Text(continuation.follow_up.to_owned());
    } else if !uses_placeholder {
        launch.stdin = StdinMode::Text(ctx.prompt.to_owned());
    }
    Ok(())
}

fn run_process(
    launch: Launch<'_>,
    limits: Limits,
    protocol: &mut dyn Protocol,
    hold: &mut Hold<'_>,
    stdout_rel: &str,
) -> Result<ProcessExit, Error> {
    let program = launch.argv.first().cloned().unwrap_or_default();
    process::run(launch, limits, protocol, hold).map_err(|source| Error::Start {
        program,
        stdout: stdout_rel.to_owned(),
        source,
    })
}

fn artifact_ref(root: &Path, relative: &str) -> Result<ArtifactRef, Error> {
    ArtifactRef::of_file(root, relative)
        .map_err(|source| Error::Transcript { path: root.join(relative), source })
}

/// Returns a UUID-shaped session id derived from the goal id, so reruns are reproducible.
fn session_id(goal_id: &str) -> String {
    let hex = omk_events::sha256_hex(goal_id.as_bytes());
    format!("{}-{}-4{}-8{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// Returns Codex's `--sandbox` mode under `sandbox`. Codex's own `workspace-write` sandbox
/// (bubblewrap) cannot start inside omk's Landlock confinement, and Codex then reports success
/// with every edit and command failed; omk's sandbox confines it to the same writable roots.
fn codex_sandbox(sandbox: &omk_sandbox::Sandbox) -> &'static str {
    if sandbox.is_confined() { "danger-full-access" } else { "workspace-write" }
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Returns the path of `program` found on the `PATH` of `environment`.
pub(crate) fn find_program(
    program: &str,
    environment: &AgentEnvironment,
) -> Result<PathBuf, Error> {
    let not_found = || Error::ProgramNotFound {
        agent: program.to_owned(),
        program: program.to_owned(),
        hint: "put it on PATH".to_owned(),
    };
    let path = environment.path.as_ref().ok_or_else(not_found)?;
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(not_found)
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn install_hint(spec: &AgentSpec) -> &'static str {
    match spec {
        AgentSpec::Claude => {
            "install Claude Code (npm install -g @anthropic-ai/claude-code) or set [agent.programs] claude in omk.toml"
        }
        AgentSpec::Codex => {
            "install Codex (npm install -g @openai/codex) or set [agent.programs] codex in omk.toml"
        }
        _ => {
            "install the Python Kimi CLI 1.51.0 (scripts/install-kimi.sh, or pip install kimi-cli==1.51.0) or set [agent.programs] kimi in omk.toml"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::codex_argv;
    use crate::McpServer;

    #[test]
    fn a_repair_round_resumes_codex_thread_after_execs_options() {
        let fresh = codex_argv("codex", "/wt", "workspace-write", None, None, "fix it".to_owned());
        assert_eq!(
            fresh.join(" "),
            "codex exec --json -C /wt --sandbox workspace-write --skip-git-repo-check fix it"
        );
        let server =
            McpServer { program: "/bin/omk".into(), args: vec!["mcp".into()], env: Vec::new() };
        let resumed = codex_argv(
            "codex",
            "/wt",
            "workspace-write",
            Some(&server),
            Some("0199a2"),
            "-the tests fail".to_owned(),
        );
        let resume = resumed.iter().position(|it| it == "resume").expect("resume");
        assert!(resumed[8..resume].iter().any(|it| it == "-c"), "{resumed:?}");
        assert_eq!(
            resumed[resume..].join(" "),
            "resume -- 0199a2 -the tests fail",
            "exec's options, the MCP server's too, go before `resume`; a follow-up that starts \
             with `-` stays the prompt"
        );
    }
}
