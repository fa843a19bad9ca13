//! The real Claude Code 2.1.332 and Codex 0.171.0 through `omk run --agent claude` and `--agent
//! codex`, under omk's sandbox, against a scripted model server on 127.0.0.1
//! (`model_server.rs`): their own tools edit the repository and run a command, omk reads the
//! change from git, the tool calls, permission decisions, usage, cost and session from their
//! streams, and a timeout, a cancel and a model error end them as they should.
//!
//! `scripts/install-claude-code.sh` and `scripts/install-codex.sh` install them; `cargo xtask
//! ci` runs both and sets `OMK_REAL_CLAUDE`, `OMK_REAL_CODEX` and their `OMK_REQUIRE_*`
//! (`real_client.rs` says how a missing client fails, is skipped, or is a note).

use std::{
    fs,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    LIB_SH, TEST_SH, TestEnv,
    env::Output,
    gap_kinds,
    model_server::{Call, ModelServer, Reply, Usage},
    real_client::{CLAUDE, CODEX},
    sandbox::processes_in,
    usage,
};

/// The repos' `omk.toml`: the test gate, no retries of a failed agent, and a price table for
/// the agents that do not report their cost.
const OMK_TOML: &str = "[agent]\nretries = 0\n\n[[gates]]\nname = \"unit\"\nkind = \"test\"\n\
     command = \"sh test.sh\"\ntimeout_secs = 60\n\n[prices.codex]\ninput_per_mtok = 2.0\n\
     output_per_mtok = 8.0\ncache_read_per_mtok = 0.5\ncache_write_per_mtok = 2.5\n";

const OLD_LINE: &str = "add() { echo $(($1 - $2)); }";
const NEW_LINE: &str = "add() { echo $(($1 + $2)); }";

/// Fixes `add`, runs the test, tries to push, and says it is done.
fn fix_and_push(push: bool) -> Vec<Reply> {
    let mut calls = vec![Call::Command("sh test.sh")];
    if push {
        calls.push(Call::Command("git push origin main"));
    }
    vec![
        Reply::Turn {
            text: "Fixing the operator.",
            calls: vec![Call::Edit { path: "lib.sh", old_line: OLD_LINE, new_line: NEW_LINE }],
            usage: Usage { input: 100, cache_read: 20, cache_write: 5, output: 10 },
        },
        Reply::Turn {
            text: "",
            calls,
            usage: Usage { input: 40, cache_read: 120, cache_write: 0, output: 20 },
        },
        Reply::Turn {
            text: "Fixed add().",
            calls: Vec::new(),
            usage: Usage { input: 10, cache_read: 0, cache_write: 0, output: 8 },
        },
    ]
}

/// The fix, then a model that never answers.
fn fix_then_hang() -> Vec<Reply> {
    let mut turns = fix_and_push(false);
    turns[1] = Reply::Hang;
    turns
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    Claude,
    Codex,
}

/// A repository, the model server and the environment `omk run --agent CLIENT` needs.
struct Setup {
    env: TestEnv,
    repo: PathBuf,
    server: ModelServer,
    client: Client,
    vars: Vec<(String, String)>,
}

impl Setup {
    /// Returns the setup, or `None` when the client is not there and need not be.
    fn new(client: Client, turns: Vec<Reply>, omk_toml: &str) -> anyhow::Result<Option<Self>> {
        let found = match client {
            Client::Claude => CLAUDE.find()?,
            Client::Codex => CODEX.find()?,
        };
        let Some(program) = found else { return Ok(None) };
        let env = TestEnv::new()?;
        let repo =
            env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", omk_toml)])?;
        let server = ModelServer::start(turns)?;
        let bin = program.parent().expect("the client's executable is in a directory");
        let mut vars = vec![("PATH".to_owned(), TestEnv::path_with(bin))];
        let mut set = |key: &str, value: &str| vars.push((key.to_owned(), value.to_owned()));
        match client {
            Client::Claude => {
                set("ANTHROPIC_BASE_URL", &server.url());
                set("ANTHROPIC_API_KEY", "sk-ant-omk-test");
                // No telemetry, error reports, update checks or other traffic, and no retries
                // of a failed request (the test's model error is final).
                set("DISABLE_TELEMETRY", "1");
                set("DISABLE_ERROR_REPORTING", "1");
                set("DISABLE_AUTOUPDATER", "1");
                set("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
                set("CLAUDE_CODE_MAX_RETRIES", "0");
            }
            Client::Codex => {
                // Codex's home in the test's HOME: a model provider that is the server.
                let home = env.root().join("home/.codex");
                fs::create_dir_all(&home)?;
                fs::write(
                    home.join("config.toml"),
                    format!(
                        "model = \"gpt-5.5\"\nmodel_provider = \"omk_test\"\n\
                         check_for_update_on_startup = false\n\n[analytics]\nenabled = false\n\n\
                         [model_providers.omk_test]\nname = \"omk test\"\nbase_url = \"{}/v1\"\n\
                         wire_api = \"responses\"\nenv_key = \"OMK_TEST_CODEX_KEY\"\n\
                         request_max_retries = 0\nstream_max_retries = 0\n",
                        server.url()
                    ),
                )?;
                set("OMK_TEST_CODEX_KEY", "omk-test");
            }
        }
        Ok(Some(Self { env, repo, server, client, vars }))
    }

    fn agent(&self) -> &'static str {
        match self.client {
            Client::Claude => "claude",
            Client::Codex => "codex",
        }
    }

    fn vars(&self) -> Vec<(&str, &str)> {
        self.vars.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect()
    }

    /// Runs `omk run "fix add" --agent CLIENT --json`; returns its output and the goal's proof.
    fn run(&self) -> anyhow::Result<(Output, Value)> {
        let output = self.env.omk_with(
            &self.repo,
            &["run", "fix add", "--agent", self.agent(), "--json"],
            &self.vars(),
        )?;
        let document: Value = serde_json::from_str(&output.stdout)
            .map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
        let goal = document["goal_id"].as_str().unwrap_or_default();
        anyhow::ensure!(!goal.is_empty(), "no goal id: {output}");
        Ok((output, crate::proof(&self.repo, goal)?))
    }

    /// Returns the lines of the agent's raw stdout, as JSON.
    fn stdout_lines(&self, proof: &Value) -> anyhow::Result<Vec<Value>> {
        let goal = proof["goal_id"].as_str().unwrap_or_default();
        let path = self.repo.join(".omk/goals").join(goal).join("artifacts/agent/stdout.log");
        Ok(fs::read_to_string(path)?
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect())
    }

    /// Fails when a process of the test (the client, its children) is still running.
    fn no_processes_left(&self) -> anyhow::Result<()> {
        let left = processes_in(self.env.root());
        anyhow::ensure!(left.is_empty(), "processes left running: {left:#?}");
        Ok(())
    }
}

/// Returns the proof's tool calls as `id ok`.
fn tool_calls(agent: &Value) -> Vec<String> {
    agent["tool_call_log"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| format!("{} {} {}", it["name"].as_str().unwrap_or_default(), it["id"], it["ok"]))
        .collect()
}

/// Checks what every successful scenario run shows: the fix from git, the gate, the agent.
fn check_fixed(setup: &Setup, output: &Output, proof: &Value) -> anyhow::Result<()> {
    assert_eq!(output.code, Some(0), "{output}");
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    let changed: Vec<&str> = proof["changed_files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|it| it["path"].as_str())
        .collect();
    assert_eq!(changed, ["lib.sh"], "{proof:#}");
    let branch = format!("omk/{}", proof["goal_id"].as_str().unwrap_or_default());
    let fixed = setup.env.git(&setup.repo, &["show", &format!("{branch}:lib.sh")])?;
    assert_eq!(fixed, format!("{NEW_LINE}\n"));
    assert_eq!(proof["sandbox"]["mode"], "landlock", "{proof:#}");
    let agent = &proof["agent"];
    assert_eq!(agent["status"], "completed", "{agent:#}");
    assert_eq!(agent["final_message"], "Fixed add().");
    assert_eq!(usage(agent), "150/140/5/38", "{agent:#}");
    setup.no_processes_left()
}

#[test]
fn real_claude_edits_the_repo_and_denies_git_push_itself() -> anyhow::Result<()> {
    let Some(setup) = Setup::new(Client::Claude, fix_and_push(true), OMK_TOML)? else {
        return Ok(());
    };
    let (output, proof) = setup.run()?;
    check_fixed(&setup, &output, &proof)?;
    let agent = &proof["agent"];
    assert_eq!(agent["version"], "2.1.332");
    assert_eq!(
        tool_calls(agent),
        [r#"Edit "toolu_0_0" true"#, r#"Bash "toolu_1_0" true"#, r#"Bash "toolu_1_1" false"#]
    );
    // Claude Code decides permissions itself, with the flags omk passes, and says so.
    let decisions: Vec<String> = proof["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| {
            format!("{} {} {} {}", it["decision"], it["tool"], it["command"], it["rule_source"])
        })
        .collect();
    assert_eq!(
        decisions,
        [
            r#""allow" "Edit" null "claude""#,
            r#""allow" "Bash" "sh test.sh" "claude""#,
            r#""deny" "Bash" "git push origin main" "claude""#,
        ],
        "{proof:#}"
    );
    // The session and the cost are Claude's own, from its stream.
    let lines = setup.stdout_lines(&proof)?;
    let init = lines.iter().find(|it| it["subtype"] == "init").cloned().unwrap_or_default();
    assert_eq!(agent["session_id"], init["session_id"], "{agent:#}");
    assert!(init["session_id"].as_str().is_some_and(|it| it.len() == 36), "{init}");
    let result = lines.iter().find(|it| it["type"] == "result").cloned().unwrap_or_default();
    let reported = result["total_cost_usd"].as_f64().unwrap_or_default();
    assert!(reported > 0.0, "{result}");
    assert_eq!(agent["cost"]["usd"].as_f64(), Some(reported), "{agent:#}");
    assert_eq!(agent["cost"]["source"]["type"], "reported", "{agent:#}");
    // Claude's requests went to the scripted server, its tools among them.
    let requests = setup.server.requests();
    assert!(requests.iter().all(|(path, _)| path.starts_with("/v1/messages")), "{requests:?}");
    assert_eq!(requests.iter().filter(|(_, it)| it["tools"].is_array()).count(), 3);
    Ok(())
}

#[test]
fn real_codex_edits_the_repo_and_runs_a_command() -> anyhow::Result<()> {
    let Some(setup) = Setup::new(Client::Codex, fix_and_push(false), OMK_TOML)? else {
        return Ok(());
    };
    let (output, proof) = setup.run()?;
    check_fixed(&setup, &output, &proof)?;
    let agent = &proof["agent"];
    let calls = tool_calls(agent);
    assert_eq!(calls.len(), 2, "{agent:#}");
    assert!(calls[0].starts_with("file_change ") && calls[0].ends_with(" true"), "{calls:?}");
    assert!(calls[1].starts_with("command_execution ") && calls[1].ends_with(" true"), "{calls:?}");
    // Codex asks nobody: its own sandbox flag is its permission, and no decision is invented.
    assert_eq!(proof["approvals"].as_array().map_or(0, Vec::len), 0, "{proof:#}");
    let lines = setup.stdout_lines(&proof)?;
    let started = lines.iter().find(|it| it["type"] == "thread.started").cloned();
    let thread = started.unwrap_or_default()["thread_id"].clone();
    assert!(thread.as_str().is_some_and(|it| !it.is_empty()));
    assert_eq!(agent["session_id"], thread, "{agent:#}");
    // Codex reports no cost: it is estimated from omk.toml's [prices.codex].
    // 150 * 2.0 + 140 * 0.5 + 5 * 2.5 + 38 * 8.0 per million tokens.
    let usd = agent["cost"]["usd"].as_f64().unwrap_or_default();
    assert!((usd - 0.000_686_5).abs() < 1e-12, "{agent:#}");
    assert_eq!(agent["cost"]["source"]["type"], "estimated", "{agent:#}");
    // Codex ran without its own sandbox, inside omk's: its requests' turn metadata says so.
    let requests = setup.server.requests();
    assert!(requests.iter().all(|(path, _)| path == "/v1/responses"), "{requests:?}");
    let modes: Vec<String> = requests
        .iter()
        .filter_map(|(_, it)| it["client_metadata"]["x-codex-turn-metadata"].as_str())
        .filter_map(|it| serde_json::from_str::<Value>(it).ok())
        .map(|it| it["sandbox_mode"].to_string())
        .collect();
    assert_eq!(modes, [r#""danger-full-access""#; 3], "{requests:?}");
    Ok(())
}

/// Runs the scenario with a model error at the first turn; returns the proof's agent.
fn model_error(client: Client, status: u16) -> anyhow::Result<Option<Value>> {
    let Some(setup) = Setup::new(client, vec![Reply::Error(status)], OMK_TOML)? else {
        return Ok(None);
    };
    let (output, proof) = setup.run()?;
    assert_ne!(output.code, Some(0), "{output}");
    assert_eq!(proof["changed_files"].as_array().map_or(0, Vec::len), 0, "{proof:#}");
    assert!(gap_kinds(&proof).iter().any(|it| it == "agent_failed"), "{proof:#}");
    setup.no_processes_left()?;
    Ok(Some(proof["agent"].clone()))
}

#[test]
fn real_claude_model_errors_fail_the_run_retryable_or_not() -> anyhow::Result<()> {
    let Some(overloaded) = model_error(Client::Claude, 529)? else { return Ok(()) };
    assert_eq!(overloaded["status"], "failed");
    let error = overloaded["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("claude's model request failed (529): API Error"), "{overloaded:#}");
    assert_eq!(overloaded["retryable"], true, "{overloaded:#}");
    assert_eq!(overloaded["steps"], 0, "the error message is Claude's own, not a model step");
    let Some(rejected) = model_error(Client::Claude, 400)? else { return Ok(()) };
    let error = rejected["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("claude's model request failed (400)"), "{rejected:#}");
    assert_eq!(rejected["retryable"], false, "{rejected:#}");
    Ok(())
}

#[test]
fn real_codex_model_errors_fail_the_run_retryable_or_not() -> anyhow::Result<()> {
    let Some(overloaded) = model_error(Client::Codex, 500)? else { return Ok(()) };
    assert_eq!(overloaded["status"], "failed");
    assert!(
        overloaded["error"].as_str().unwrap_or_default().starts_with("codex failed: "),
        "{overloaded:#}"
    );
    assert_eq!(overloaded["retryable"], true, "{overloaded:#}");
    let Some(rejected) = model_error(Client::Codex, 400)? else { return Ok(()) };
    let error = rejected["error"].as_str().unwrap_or_default();
    assert!(error.contains("scripted failure"), "{rejected:#}");
    assert_eq!(rejected["retryable"], false, "{rejected:#}");
    Ok(())
}

/// Runs the fix with a model that hangs at the second turn and `[agent] timeout_secs = 3`.
fn timeout(client: Client) -> anyhow::Result<()> {
    let omk_toml = OMK_TOML.replace("retries = 0\n", "retries = 0\ntimeout_secs = 3\n");
    let Some(setup) = Setup::new(client, fix_then_hang(), &omk_toml)? else { return Ok(()) };
    let started = Instant::now();
    let (output, proof) = setup.run()?;
    assert_ne!(output.code, Some(0), "{output}");
    let agent = &proof["agent"];
    assert_eq!(agent["status"], "failed", "{agent:#}");
    assert_eq!(agent["process"]["timed_out"], true, "{agent:#}");
    assert!(agent["error"].as_str().unwrap_or_default().contains("timeout of 3 s"), "{agent:#}");
    // The edit before the hang is the agent's work, read from git.
    assert_eq!(proof["changed_files"][0]["path"], "lib.sh", "{proof:#}");
    // Polite stop, SIGTERM and SIGKILL are 5 s apart: the run ends within them.
    assert!(started.elapsed() < Duration::from_secs(40), "{:?}", started.elapsed());
    setup.no_processes_left()
}

#[test]
fn real_claude_timeout_stops_it() -> anyhow::Result<()> {
    timeout(Client::Claude)
}

#[test]
fn real_codex_timeout_stops_it() -> anyhow::Result<()> {
    timeout(Client::Codex)
}

/// Starts the fix with a model that hangs at the second turn, cancels the goal from another
/// process once the client waits for it, and checks that the run stops with nothing left.
fn cancel(client: Client) -> anyhow::Result<()> {
    let Some(setup) = Setup::new(client, fix_then_hang(), OMK_TOML)? else { return Ok(()) };
    let vars = setup.vars();
    let run = setup.env.spawn_omk_with(
        &setup.repo,
        &["run", "fix add", "--agent", setup.agent(), "--json"],
        &vars,
    )?;
    // The second model request is the hang: the client is waiting for the model.
    let started = Instant::now();
    while setup.server.requests().iter().filter(|(_, it)| it["tools"].is_array()).count() < 2 {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "no second model request");
        thread::sleep(Duration::from_millis(50));
    }
    let goal = goal_of(&setup.repo)?;
    let cancelled = setup.env.omk(&setup.repo, &["cancel", &goal, "--json"])?;
    assert_eq!(cancelled.code, Some(0), "{cancelled}");
    let stopped_at = Instant::now();
    let output = run.wait_with_output()?;
    assert!(stopped_at.elapsed() < Duration::from_secs(10), "{:?}", stopped_at.elapsed());
    assert_eq!(output.status.code(), Some(130), "{}", String::from_utf8_lossy(&output.stderr));
    let proof = crate::proof(&setup.repo, &goal)?;
    assert_eq!(proof["status"], "cancelled", "{proof:#}");
    let agent = &proof["agent"];
    assert_eq!(agent["status"], "failed", "{agent:#}");
    let error = agent["error"].as_str().unwrap_or_default();
    assert_eq!(error, "omk stopped the agent: cancelled (omk cancel)", "{agent:#}");
    // A cancelled goal captures nothing; the edit before the hang stays in its worktree, and
    // its call is recorded.
    let worktree = setup.repo.join(".omk/worktrees").join(&goal);
    assert_eq!(setup.env.git(&worktree, &["diff", "--name-only"])?, "lib.sh\n");
    assert_eq!(agent["tool_calls"], 1, "{agent:#}");
    setup.no_processes_left()
}

/// Returns the one goal of `repo`.
fn goal_of(repo: &Path) -> anyhow::Result<String> {
    let goals: Vec<String> = fs::read_dir(repo.join(".omk/goals"))?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    anyhow::ensure!(goals.len() == 1, "goals: {goals:?}");
    Ok(goals[0].clone())
}

#[test]
fn real_claude_cancel_stops_it() -> anyhow::Result<()> {
    cancel(Client::Claude)
}

#[test]
fn real_codex_cancel_stops_it() -> anyhow::Result<()> {
    cancel(Client::Codex)
}

#[test]
fn omk_agents_reports_the_real_versions_against_the_tested_ones() -> anyhow::Result<()> {
    let (Some(claude), Some(codex)) = (CLAUDE.find()?, CODEX.find()?) else { return Ok(()) };
    let env = TestEnv::new()?;
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        claude.parent().unwrap_or(Path::new("/")).display(),
        codex.parent().unwrap_or(Path::new("/")).display()
    );
    let output = env.omk_with(env.root(), &["agents", "--json"], &[("PATH", &path)])?;
    let document: Value = serde_json::from_str(&output.stdout)?;
    let entries: Vec<String> = document["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| {
            format!("{} {} {} {}", it["program"], it["status"], it["version"], it["tested_version"])
        })
        .collect();
    assert_eq!(
        entries,
        [
            r#""kimi" "missing" null "1.51.0""#,
            r#""claude" "supported" "2.1.332" "2.1.332""#,
            r#""codex" "supported" "0.171.0" "0.171.0""#,
        ],
        "{output}"
    );
    Ok(())
}

/// `omk run` registers `omk mcp` with Claude Code, which starts the server and lists its tools,
/// as its `init` event says (it offers MCP tools to the model through its ToolSearch).
#[test]
fn real_claude_starts_omk_mcp_and_lists_its_tools() -> anyhow::Result<()> {
    let Some(setup) = Setup::new(Client::Claude, fix_and_push(false), OMK_TOML)? else {
        return Ok(());
    };
    let (_, proof) = setup.run()?;
    let lines = setup.stdout_lines(&proof)?;
    let init = lines.iter().find(|it| it["subtype"] == "init").cloned().unwrap_or_default();
    assert_eq!(
        init["mcp_servers"],
        serde_json::json!([{"name": "omk", "source": "dynamic", "status": "connected"}]),
        "{init}"
    );
    let tools: Vec<&str> =
        init["tools"].as_array().into_iter().flatten().filter_map(|it| it.as_str()).collect();
    for tool in ["mcp__omk__gates_list", "mcp__omk__gates_run", "mcp__omk__goal_status"] {
        assert!(tools.contains(&tool), "{tool} is not among Claude's tools: {tools:?}");
    }
    Ok(())
}
