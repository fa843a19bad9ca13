//! `omk mcp`: the built binary as a real child process speaking MCP (JSON-RPC 2.0, one message a
//! line) over stdio, serving a goal's gates; and what the controller makes of the agent's checks.

use std::{
    fs,
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdin, ChildStdout},
};

use serde_json::{Value, json};

use crate::{LIB_SH, OMK_TOML, TestEnv, gap_kinds, proof};

/// The test of the end-to-end repos, naming its failed test as go test does, so the check
/// can name it.
pub(crate) const NAMED_TEST_SH: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ] || { echo \"add 2 3 is $(add 2 3)\"; \
     echo '--- FAIL: TestAdd (0.00s)'; echo '0 passed, 1 failed'; exit 1; }\necho '1 passed, 0 failed'\n";

/// A scripted agent that looks, says it is done and changes nothing: the test stays failing.
const LOOK_ONLY: &str = "text: Looked at lib.sh; nothing to change.\n";

/// An MCP client on the pipes of an `omk mcp` process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Client {
    fn start(env: &TestEnv, repo: &Path, goal: &str) -> anyhow::Result<Self> {
        let mut child = env.spawn_omk_stdio(repo, &["mcp", "--goal", goal])?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut client = Self { child, stdin, stdout, next_id: 1 };
        let init = client.request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "omk-tests", "version": "0" }
            }),
        )?;
        anyhow::ensure!(init["result"]["serverInfo"]["name"] == "omk", "{init}");
        client.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))?;
        Ok(client)
    }

    fn send(&mut self, message: &Value) -> anyhow::Result<()> {
        writeln!(self.stdin, "{message}")?;
        self.stdin.flush()?;
        Ok(())
    }

    /// Sends a request and returns the response with its id, skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))?;
        loop {
            let mut line = String::new();
            anyhow::ensure!(self.stdout.read_line(&mut line)? > 0, "omk mcp closed stdout");
            let message: Value = serde_json::from_str(&line)?;
            if message["id"] == id {
                return Ok(message);
            }
        }
    }

    fn call(&mut self, tool: &str, arguments: Value) -> anyhow::Result<Value> {
        let response =
            self.request("tools/call", json!({ "name": tool, "arguments": arguments }))?;
        anyhow::ensure!(response.get("error").is_none(), "{response}");
        Ok(response["result"].clone())
    }

    /// Closes stdin, which ends the server, and checks it exited 0.
    fn finish(self) -> anyhow::Result<()> {
        drop(self.stdin);
        let output = self.child.wait_with_output()?;
        anyhow::ensure!(
            output.status.success(),
            "omk mcp: {:?}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }
}

/// Returns the text of a tool result.
fn text(result: &Value) -> String {
    result["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

/// Runs a goal whose agent changes nothing (its test gate fails); returns the repo and goal id.
fn failing_goal(env: &TestEnv) -> anyhow::Result<(std::path::PathBuf, String)> {
    let repo = env
        .repo("repo", &[("lib.sh", LIB_SH), ("test.sh", NAMED_TEST_SH), ("omk.toml", OMK_TOML)])?;
    let scenario = env.write("look.txt", LOOK_ONLY)?;
    let agent = format!("script:{}", scenario.display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent, "--json"])?;
    let document: Value =
        serde_json::from_str(&output.stdout).map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    let goal = document["proof"]["goal_id"].as_str().unwrap_or_default().to_owned();
    anyhow::ensure!(!goal.is_empty(), "{output}");
    Ok((repo, goal))
}

#[test]
fn omk_mcp_serves_the_goals_gates_and_runs_them_in_its_worktree() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, goal) = failing_goal(&env)?;
    let mut client = Client::start(&env, &repo, &goal)?;

    let listed = client.request("tools/list", json!({}))?;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(names, ["gates_list", "gates_run", "goal_status"], "{listed}");

    let gates = client.call("gates_list", json!({}))?;
    assert_eq!(gates["structuredContent"]["gates"][0]["name"], "unit", "{gates}");
    assert_eq!(gates["structuredContent"]["gates"][0]["command"], "sh test.sh");

    // The gate runs in the goal's worktree, where add still subtracts.
    let run = client.call("gates_run", json!({}))?;
    let check = &run["structuredContent"];
    assert_eq!(run["isError"], false, "{run}");
    assert_eq!(check["check"], 1);
    assert_eq!(check["passed"], false, "{run}");
    assert_eq!(check["gates"][0]["failure"], "exit 1");
    assert_eq!(check["gates"][0]["tests"]["failed"], 1);
    assert_eq!(check["failing_tests"], json!(["TestAdd"]));
    assert!(text(&run).contains("failing tests: TestAdd\n"), "{run}");
    assert!(text(&run).contains("add 2 3 is -1"), "the failed gate's output: {run}");

    // Fixed in the worktree (as an agent would), the same gate passes: it reads the worktree.
    let worktree = repo.join(".omk/worktrees").join(&goal);
    fs::write(worktree.join("lib.sh"), "add() { echo $(($1 + $2)); }\n")?;
    let fixed = client.call("gates_run", json!({ "gates": ["unit"] }))?;
    assert_eq!(fixed["structuredContent"]["check"], 2);
    assert_eq!(fixed["structuredContent"]["passed"], true, "{fixed}");

    let unknown = client.call("gates_run", json!({ "gates": ["unti"] }))?;
    assert_eq!(unknown["isError"], true, "{unknown}");
    assert_eq!(
        text(&unknown),
        "failed to run gates: no gate named \"unti\"; the goal's gates are: unit"
    );
    let bad = client
        .request("tools/call", json!({ "name": "gates_run", "arguments": { "gates": "unit" } }))?;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap_or_default().contains("list of gate names"));

    let status = client.call("goal_status", json!({}))?;
    assert_eq!(status["structuredContent"]["goal"], goal.as_str());
    assert_eq!(status["structuredContent"]["readiness"], "gates_failing", "{status}");
    client.finish()?;

    // The records wait beside the log for the controller; the log does not have them yet.
    let checks = repo.join(".omk/goals").join(&goal).join("agent-checks");
    let record: Value = serde_json::from_slice(&fs::read(checks.join("1.json"))?)?;
    assert_eq!(record["gates"][0]["name"], "unit");
    assert_eq!(record["failing_tests"], json!(["TestAdd"]));
    assert!(checks.join("1").is_dir() && checks.join("2.json").is_file());
    Ok(())
}

#[test]
fn omk_mcp_refuses_an_unknown_goal_before_serving() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, _) = failing_goal(&env)?;
    let output = env.omk(&repo, &["mcp", "--goal", "no-such-goal"])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("no-such-goal"), "{output}");
    Ok(())
}

/// An agent that wants to look done writes a passing check record itself (its sandbox may write
/// there): the controller folds it as the agent's own check, and the proof stays not ready.
#[test]
fn a_passing_agent_check_never_counts_as_a_gate() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, goal) = failing_goal(&env)?;
    let mut client = Client::start(&env, &repo, &goal)?;
    let worktree = repo.join(".omk/worktrees").join(&goal);
    // The check passes on a fixed worktree, which the agent then puts back.
    fs::write(worktree.join("lib.sh"), "add() { echo $(($1 + $2)); }\n")?;
    let passed = client.call("gates_run", json!({}))?;
    assert_eq!(passed["structuredContent"]["passed"], true, "{passed}");
    client.finish()?;
    fs::write(worktree.join("lib.sh"), LIB_SH)?;
    // It also forges a record of its own, copies one under another number, and leaves junk.
    let checks_dir = repo.join(".omk/goals").join(&goal).join("agent-checks");
    let real = fs::read_to_string(checks_dir.join("1.json"))?;
    fs::write(checks_dir.join("2.json"), real.replacen("\"check\":1", "\"check\":2", 1))?;
    fs::write(checks_dir.join("3.json"), &real)?;
    fs::write(checks_dir.join("4.json"), "{\"passed\": true}")?;

    // The next run of the goal's agent folds the records into the log.
    let output = env.omk(&repo, &["resume", &goal, "--prompt", "look again", "--json"])?;
    let proof = proof(&repo, &goal)?;
    let checks = &proof["agent"]["checks"];
    let numbers: Vec<&Value> =
        checks.as_array().into_iter().flatten().map(|it| &it["check"]).collect();
    assert_eq!(numbers, [&json!(1), &json!(2)], "3 names check 1, 4 is no record: {output}");
    assert_eq!(checks[0]["passed"], true);
    assert_eq!(checks[1]["passed"], true);
    assert_eq!(checks[0]["gates"][0]["name"], "unit");
    assert_ne!(proof["status"], "ready", "{proof:#}");
    assert_eq!(proof["readiness"], "gates_failing", "{proof:#}");
    assert!(
        gap_kinds(&proof).contains(&"required_gate_failed".to_owned()),
        "{:?}",
        gap_kinds(&proof)
    );
    let events = fs::read_to_string(repo.join(".omk/goals").join(&goal).join("events.jsonl"))?;
    assert_eq!(events.matches("\"kind\":\"agent_check_ran\"").count(), 2);

    let shown = env.omk(&repo, &["proof", "show", &goal])?;
    assert!(
        shown
            .stdout
            .contains("2 own checks through omk mcp, the last passed; not gates of this proof"),
        "{shown}"
    );
    // A second resume does not fold it twice.
    env.omk(&repo, &["resume", &goal, "--prompt", "once more", "--json"])?;
    let events = fs::read_to_string(repo.join(".omk/goals").join(&goal).join("events.jsonl"))?;
    assert_eq!(events.matches("\"kind\":\"agent_check_ran\"").count(), 2);
    Ok(())
}

/// The scripted model checks with omk's gates first (kimi registers `omk mcp` from omk's
/// `--mcp-config`), then fixes the operator.
const CHECK_THEN_FIX: &str = r#"id: s1
usage: {"input_other": 100, "output": 10}
text: Checking with the goal's gates first.
tool_call: {"id": "tc-1", "name": "gates_run", "arguments": "{}"}
---
id: s2
usage: {"input_other": 50, "output": 20}
text: TestAdd fails; fixing the operator.
tool_call: {"id": "tc-2", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
---
id: s3
usage: {"input_other": 10, "output": 8}
text: Fixed add().
"#;

#[test]
fn real_kimi_calls_gates_run_and_sees_the_failing_test() -> anyhow::Result<()> {
    let Some(kimi) = crate::real_client::KIMI.find()? else { return Ok(()) };
    let env = TestEnv::new()?;
    let repo = env
        .repo("repo", &[("lib.sh", LIB_SH), ("test.sh", NAMED_TEST_SH), ("omk.toml", OMK_TOML)])?;
    let scenario = env.write("scenario.txt", CHECK_THEN_FIX)?;
    let (output, document) =
        crate::real_kimi::run_real_kimi(&env, &kimi, &repo, "kimi", &scenario)?;
    let proof = &document["proof"];
    let goal = proof["goal_id"].as_str().unwrap_or_default();
    let stdout = fs::read_to_string(
        repo.join(".omk/goals")
            .join(goal)
            .join(proof["agent"]["stdout"]["path"].as_str().unwrap_or_default()),
    )?;
    let result = stdout
        .lines()
        .find(|line| line.contains("\"ToolResult\"") && line.contains("\"tc-1\""))
        .unwrap_or_default();
    assert!(result.contains("failing tests: TestAdd"), "kimi's ToolResult of gates_run: {result}");
    assert!(result.contains("\"is_error\":false"), "{result}");
    // The agent's own check saw the failing test, before its fix.
    let checks = &proof["agent"]["checks"];
    assert_eq!(checks.as_array().map(Vec::len), Some(1), "{proof:#}");
    assert_eq!(checks[0]["passed"], false);
    assert_eq!(checks[0]["failing_tests"], json!(["TestAdd"]));
    assert_eq!(checks[0]["gates"][0]["failure"], "exit 1");
    // omk's policy allowed the call, and kimi got the result: the failing test by name.
    let decisions: Vec<String> = proof["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| format!("{} {}", it["decision"], it["tool"]))
        .collect();
    assert_eq!(decisions, [r#""allow" "gates_run""#, r#""allow" "StrReplaceFile""#]);
    // omk's own gates judge the fixed change; the agent's check is not one of them.
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert_eq!(
        proof["gates"].as_array().map(Vec::len),
        Some(2),
        "baseline and proposed: {proof:#}"
    );
    assert_eq!(output.code, Some(0), "{output}");
    Ok(())
}

/// A scenario whose shell call keeps the agent program's own command line (its parent's, for
/// the shell) in the worktree.
const KEEP_ARGV: &str = r#"tool_call: {"id": "tc-1", "name": "Shell", "arguments": "{\"command\": \"tr '\\\\0' '\\\\n' < /proc/$PPID/cmdline > argv.txt\"}"}
---
text: Kept my command line.
"#;

/// Returns the command line the fake `agent` was started with by `omk run`, with `omk_toml`.
fn agent_argv(agent: &str, omk_toml: &str) -> anyhow::Result<(Vec<String>, TestEnv)> {
    let env = TestEnv::new()?;
    let omk_toml = format!("{OMK_TOML}\n{omk_toml}");
    let repo = env
        .repo("repo", &[("lib.sh", LIB_SH), ("test.sh", NAMED_TEST_SH), ("omk.toml", &omk_toml)])?;
    let scenario = env.write("scenario.txt", KEEP_ARGV)?;
    let bin = env.fake_agents()?;
    let output = env.omk_with(
        &repo,
        // One run of the agent: the command line of a repair round is not what this checks.
        &["run", "fix add", "--agent", agent, "--json", "--repair", "0"],
        &[
            ("PATH", &TestEnv::path_with(&bin)),
            ("KIMI_SCRIPTED_ECHO_SCRIPTS", &scenario.display().to_string()),
            ("KIMI_SHARE_DIR", &env.root().join("home/.kimi").display().to_string()),
        ],
    )?;
    let document: Value =
        serde_json::from_str(&output.stdout).map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    let goal = document["proof"]["goal_id"].as_str().unwrap_or_default();
    let argv = fs::read_to_string(repo.join(".omk/worktrees").join(goal).join("argv.txt"))
        .map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    Ok((argv.lines().map(str::to_owned).collect(), env))
}

#[test]
fn omk_run_registers_the_server_with_each_agent_unless_agent_mcp_is_false() -> anyhow::Result<()> {
    let after = |argv: &[String], flag: &str| {
        argv.iter().position(|it| it == flag).and_then(|idx| argv.get(idx + 1)).cloned()
    };
    for agent in ["kimi", "kimi-print", "claude"] {
        let (argv, env) = agent_argv(agent, "")?;
        let config = after(&argv, "--mcp-config").unwrap_or_default();
        let config: Value = serde_json::from_str(&config)
            .map_err(|err| anyhow::anyhow!("{agent}: {err}: {argv:?}"))?;
        let server = &config["mcpServers"]["omk"];
        assert_eq!(
            server["command"].as_str().map(|it| it.ends_with("omk-dup")),
            Some(true),
            "{agent}: {config}"
        );
        let args = server["args"].as_array().cloned().unwrap_or_default();
        assert_eq!(args.len(), 5, "{agent}: {config}");
        assert_eq!((&args[0], &args[2], &args[3]), (&json!("-C"), &json!("mcp"), &json!("--goal")));
        assert_eq!(server["env"]["HOME"], env.root().join("home").display().to_string());
        if agent == "claude" {
            let allowed: Vec<&String> =
                argv.iter().filter(|it| it.contains("mcp__omk__")).collect();
            assert_eq!(
                allowed,
                ["mcp__omk__gates_list,mcp__omk__gates_run,mcp__omk__goal_status"],
                "{argv:?}"
            );
        }
        let (off, _) = agent_argv(agent, "[agent]\nmcp = false\n")?;
        assert!(
            !off.iter().any(|it| it == "--mcp-config" || it.contains("mcp__omk__")),
            "{agent} with mcp = false: {off:?}"
        );
    }
    let (codex, _) = agent_argv("codex", "")?;
    let (codex_off, _) = agent_argv("codex", "[agent]\nmcp = false\n")?;
    assert!(!codex_off.iter().any(|it| it.starts_with("mcp_servers.")), "{codex_off:?}");
    assert!(
        codex
            .iter()
            .any(|it| it.starts_with("mcp_servers.omk.command=\"") && it.ends_with("omk-dup\"")),
        "{codex:?}"
    );
    assert!(codex.iter().any(|it| it.starts_with("mcp_servers.omk.args=[\"-C\"")), "{codex:?}");
    assert_eq!(
        codex.last().map(String::as_str),
        Some("fix add"),
        "the prompt stays last: {codex:?}"
    );
    Ok(())
}
