//! omk's hold on a running agent: activities as they happen, and stopping it from outside.
//!
//! The Kimi fixtures in `tests/data` are the real Kimi CLI 1.51.0's output, captured offline
//! with its `_scripted_echo` provider: `kimi-wire.stdout.jsonl` is what `kimi --wire` printed,
//! `kimi-print.stdout.jsonl` what `kimi --print --output-format stream-json` printed, and
//! `kimi-print.session-wire.jsonl` the session record print mode's usage is read from.
//! Small shell scripts stand in for `kimi` and print them.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Mutex,
    thread,
    time::{Duration, Instant},
};

use nix::{errno::Errno, sys::signal::killpg, unistd::Pid};

use omk_agent::{
    AgentConfig, AgentEnvironment, AgentOutcome, AgentSpec, AgentStatus, RunContext, RunControl,
};
use omk_events::{AgentActivity, sha256_hex};

use crate::{FIX_SCENARIO, TestResult};

/// A control that records activities and stops the run when told to.
#[derive(Default)]
struct Recorder {
    activities: Mutex<Vec<AgentActivity>>,
    /// Stop once a usage activity's total exceeds this many tokens.
    token_budget: Option<u64>,
    /// Why the run is to stop, and when that was first said.
    stop: Mutex<Option<(String, Instant)>>,
}

impl RunControl for Recorder {
    fn on_activity(&self, activity: &AgentActivity) {
        self.activities.lock().expect("not poisoned").push(activity.clone());
        if let (Some(budget), Some(usage)) = (self.token_budget, activity.usage)
            && usage.total() > budget
        {
            self.request(&format!("token budget of {budget} spent ({} tokens)", usage.total()));
        }
    }

    fn stop_requested(&self) -> Option<String> {
        self.stop.lock().expect("not poisoned").as_ref().map(|(reason, _)| reason.clone())
    }
}

impl Recorder {
    fn request(&self, reason: &str) {
        self.stop
            .lock()
            .expect("not poisoned")
            .get_or_insert_with(|| (reason.to_owned(), Instant::now()));
    }

    /// Returns when the stop was first requested.
    fn requested_at(&self) -> Option<Instant> {
        self.stop.lock().expect("not poisoned").as_ref().map(|(_, at)| *at)
    }

    /// Returns the activities, one line each: step, kind, tool, id, ok, total tokens, text.
    fn lines(&self) -> Vec<String> {
        let activities = self.activities.lock().expect("not poisoned");
        activities.iter().map(describe).collect()
    }
}

fn describe(activity: &AgentActivity) -> String {
    let mut parts = vec![activity.step.to_string(), format!("{:?}", activity.activity)];
    parts.extend(
        [&activity.tool, &activity.tool_call_id, &activity.text].into_iter().flatten().cloned(),
    );
    parts.extend(activity.ok.map(|ok| if ok { "ok" } else { "failed" }.to_owned()));
    parts.extend(activity.usage.map(|usage| format!("{} tokens", usage.total())));
    parts.join(" ")
}

/// A temporary worktree and goal directory.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        fs::create_dir(dir.path().join("wt"))?;
        Ok(Self { dir })
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes an executable shell script.
    fn script(&self, name: &str, body: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
        let path = self.path(name);
        fs::write(&path, format!("#!/bin/sh\n{body}"))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        Ok(path)
    }

    /// Runs the agent `spec` with `config` in the worktree under `control`.
    fn run(
        &self,
        spec: &str,
        config: &AgentConfig,
        environment: &AgentEnvironment,
        control: Option<&dyn RunControl>,
    ) -> Result<AgentOutcome, Box<dyn std::error::Error>> {
        let agent = omk_agent::prepare(&AgentSpec::parse(spec)?, config, environment)?;
        let outcome = agent.run(&RunContext {
            worktree: &self.path("wt"),
            prompt: "Create hello.txt containing 'hello from kimi', then run: echo hi",
            goal_id: "20261121-200000-abcdef",
            artifact_root: &self.path("goal"),
            transcript_path: "artifacts/agent/transcript.jsonl",
            control,
            sandbox: &omk_sandbox::Sandbox::direct(),
            mcp: None,
            continuation: None,
        })?;
        Ok(outcome)
    }

    /// Runs `kimi` (Wire) or `kimi-print` with the program `kimi` being `script`.
    fn run_kimi(
        &self,
        spec: &str,
        script: &Path,
        control: &Recorder,
    ) -> Result<AgentOutcome, Box<dyn std::error::Error>> {
        let mut config = AgentConfig::default();
        config.programs.insert("kimi".to_owned(), script.to_owned());
        let environment = AgentEnvironment {
            path: None,
            kimi_share_dir: Some(self.path("kimi-share")),
            ..AgentEnvironment::default()
        };
        self.run(spec, &config, &environment, Some(control))
    }
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A stand-in for `kimi` that prints a captured stdout, `delay` seconds between lines.
fn replay_script(fixture: &str, delay: &str) -> String {
    format!(
        "while IFS= read -r line; do printf '%s\\n' \"$line\"; sleep {delay}; done < '{}'\n",
        data(fixture)
    )
}

#[test]
fn the_scripted_agent_reports_its_activities_in_order() -> TestResult {
    let setup = Setup::new()?;
    fs::write(setup.path("wt/lib.rs"), "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n")?;
    fs::write(setup.path("fix.txt"), FIX_SCENARIO.replace("src/lib.rs", "lib.rs"))?;
    let control = Recorder::default();
    let spec = format!("script:{}", setup.path("fix.txt").display());
    let outcome =
        setup.run(&spec, &AgentConfig::default(), &AgentEnvironment::default(), Some(&control))?;
    assert_eq!(outcome.finished.status, AgentStatus::Completed);
    assert_eq!(outcome.finished.stopped, None);
    assert_eq!(
        control.lines(),
        [
            "1 Step",
            "1 Message Reading the test.",
            "1 Usage 135 tokens",
            "1 ToolCall ReadFile tc-1 lib.rs",
            "1 ToolResult ReadFile tc-1 ok",
            "2 Step",
            "2 Usage 325 tokens",
            "2 ToolCall StrReplaceFile tc-2 lib.rs",
            "2 ToolResult StrReplaceFile tc-2 ok",
            "3 Step",
            "3 Message Fixed the sign error in add().",
            "3 Usage 503 tokens",
        ]
    );
    Ok(())
}

#[test]
fn kimi_wire_reports_its_activities_in_order() -> TestResult {
    let setup = Setup::new()?;
    let script = setup.script("kimi", &replay_script("kimi-wire.stdout.jsonl", "0"))?;
    let control = Recorder::default();
    let outcome = setup.run_kimi("kimi", &script, &control)?;
    assert_eq!(outcome.finished.status, AgentStatus::Completed, "{:?}", outcome.finished.error);
    assert_eq!(
        control.lines(),
        [
            "1 Step",
            "1 Message I'll create hello.txt.",
            "1 ToolCall WriteFile tc-1 hello.txt",
            "1 Usage 150 tokens",
            "1 ToolResult WriteFile tc-1 ok",
            "2 Step",
            "2 Message Now running a command.",
            "2 ToolCall Shell tc-2 echo hi",
            "2 Usage 462 tokens",
            "2 ToolResult Shell tc-2 ok",
            "3 Step",
            "3 Message Done: wrote hello.txt and ran echo hi.",
            "3 Usage 730 tokens",
        ]
    );
    assert_eq!(outcome.finished.usage.map(|it| it.total()), Some(730));
    Ok(())
}

#[test]
fn kimi_print_reports_its_activities_and_then_the_usage_of_its_session() -> TestResult {
    let setup = Setup::new()?;
    // Like the real one, it writes its session record under the share directory.
    let body = format!(
        "while [ $# -gt 0 ]; do [ \"$1\" = --session ] && session=$2; shift; done\n\
         mkdir -p '{share}/sessions/0123/'$session\n\
         cp '{record}' '{share}/sessions/0123/'$session/wire.jsonl\n{replay}",
        share = setup.path("kimi-share").display(),
        record = data("kimi-print.session-wire.jsonl"),
        replay = replay_script("kimi-print.stdout.jsonl", "0"),
    );
    let script = setup.script("kimi", &body)?;
    let control = Recorder::default();
    let outcome = setup.run_kimi("kimi-print", &script, &control)?;
    assert_eq!(outcome.finished.status, AgentStatus::Completed, "{:?}", outcome.finished.error);
    assert_eq!(
        control.lines(),
        [
            "1 Step",
            "1 Message I'll create hello.txt.",
            "1 ToolCall WriteFile tc-1 hello.txt",
            "1 ToolResult WriteFile tc-1 ok",
            "2 Step",
            "2 Message Now running a command.",
            "2 ToolCall Shell tc-2 echo hi",
            "2 ToolResult Shell tc-2 ok",
            "3 Step",
            "3 Message Done: wrote hello.txt and ran echo hi.",
            "3 Usage 150 tokens",
            "3 Usage 462 tokens",
            "3 Usage 730 tokens",
        ]
    );
    Ok(())
}

/// Runs `agent` (`claude` or `codex`) as a script that prints `stdout`; returns its activities.
fn stream_activities(agent: &str, stdout: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let setup = Setup::new()?;
    let script = setup.script(agent, &format!("cat <<'EOF'\n{stdout}EOF\n"))?;
    let mut config = AgentConfig::default();
    config.programs.insert(agent.to_owned(), script);
    let control = Recorder::default();
    let outcome = setup.run(agent, &config, &AgentEnvironment::default(), Some(&control))?;
    assert_eq!(outcome.finished.status, AgentStatus::Completed, "{:?}", outcome.finished.error);
    Ok(control.lines())
}

#[test]
fn claude_and_codex_report_their_activities_in_order() -> TestResult {
    let claude = stream_activities(
        "claude",
        r#"{"type":"system","subtype":"init","session_id":"s-1","claude_code_version":"2.1.0"}
{"type":"assistant","message":{"id":"m1","usage":{"input_tokens":100,"output_tokens":10},"content":[{"type":"text","text":"Looking."}]}}
{"type":"assistant","message":{"id":"m1","usage":{"input_tokens":100,"output_tokens":10},"content":[{"type":"tool_use","id":"tu-1","name":"Bash","input":{"command":"ls"}}]}}
{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"tu-1","is_error":false}]}}
{"type":"assistant","message":{"id":"m2","usage":{"input_tokens":50,"output_tokens":5},"content":[{"type":"text","text":"Done."}]}}
{"type":"result","subtype":"success","is_error":false,"result":"Done.","usage":{"input_tokens":150,"output_tokens":20},"total_cost_usd":0.01}
"#,
    )?;
    assert_eq!(
        claude,
        [
            "1 Step",
            "1 Usage 110 tokens",
            "1 Message Looking.",
            "1 ToolCall Bash tu-1 ls",
            "1 ToolResult Bash tu-1 ok",
            "2 Step",
            "2 Usage 165 tokens",
            "2 Message Done.",
            "2 Usage 170 tokens",
        ]
    );
    let codex = stream_activities(
        "codex",
        r#"{"type":"thread.started","thread_id":"t-1"}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"i1","type":"command_execution","command":"ls","status":"in_progress"}}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"ls","status":"completed","exit_code":0}}
{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"Done."}}
{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":40,"output_tokens":10}}
"#,
    )?;
    assert_eq!(
        codex,
        [
            "1 Step",
            "1 ToolCall command_execution i1 ls",
            "1 ToolResult command_execution i1 ok",
            "1 Message Done.",
            "1 Usage 110 tokens",
        ]
    );
    Ok(())
}

#[test]
fn a_token_budget_stops_the_scripted_agent_after_its_first_step() -> TestResult {
    let setup = Setup::new()?;
    fs::write(setup.path("wt/lib.rs"), "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n")?;
    fs::write(setup.path("fix.txt"), FIX_SCENARIO.replace("src/lib.rs", "lib.rs"))?;
    let control = Recorder { token_budget: Some(100), ..Recorder::default() };
    let spec = format!("script:{}", setup.path("fix.txt").display());
    let finished = setup
        .run(&spec, &AgentConfig::default(), &AgentEnvironment::default(), Some(&control))?
        .finished;
    let reason = "token budget of 100 spent (135 tokens)";
    assert_eq!(finished.status, AgentStatus::Failed);
    assert_eq!(finished.stopped.as_deref(), Some(reason));
    assert_eq!(finished.error, Some(format!("omk stopped the agent: {reason}")));
    assert_eq!((finished.steps, finished.tool_calls), (1, 0));
    assert_eq!(finished.usage.map(|it| it.total()), Some(135));
    assert_eq!(control.lines().last().map(String::as_str), Some("1 Usage 135 tokens"));
    let transcript = finished.transcript.expect("a transcript");
    let text = fs::read_to_string(setup.path("goal/artifacts/agent/transcript.jsonl"))?;
    assert_eq!(transcript.sha256, sha256_hex(text.as_bytes()));
    assert!(text.trim_end().ends_with(&format!(
        "{{\"payload\":{{\"error\":\"omk stopped the agent: {reason}\"}},\"type\":\"StepInterrupted\"}}"
    )), "{text}");
    // The file was read, never edited.
    assert!(fs::read_to_string(setup.path("wt/lib.rs"))?.contains("a - b"));
    Ok(())
}

#[test]
fn a_token_budget_stops_kimi_wire_mid_run_and_keeps_what_it_saw() -> TestResult {
    let setup = Setup::new()?;
    let script = setup.script("kimi", &replay_script("kimi-wire.stdout.jsonl", "0.05"))?;
    let control = Recorder { token_budget: Some(100), ..Recorder::default() };
    let finished = setup.run_kimi("kimi", &script, &control)?.finished;
    let reason = "token budget of 100 spent (150 tokens)";
    assert_eq!(finished.status, AgentStatus::Failed);
    assert_eq!(finished.stopped.as_deref(), Some(reason));
    assert_eq!(finished.error, Some(format!("omk stopped the agent: {reason}")));
    assert_eq!((finished.steps, finished.tool_calls), (1, 1));
    assert_eq!(finished.usage.map(|it| it.total()), Some(150));
    assert_eq!(control.lines().last().map(String::as_str), Some("1 Usage 150 tokens"));
    let stdout = finished.stdout.expect("the raw stdout");
    let text = fs::read(setup.path("goal/artifacts/agent/stdout.log"))?;
    assert_eq!(stdout.sha256, sha256_hex(&text));
    assert!(finished.stderr.is_some());
    let process = finished.process.expect("a process");
    assert!(!process.timed_out && !process.idle_timed_out);
    Ok(())
}

/// Runs `agent`, which writes its process id to `pid_file` and then blocks; another thread
/// asks to stop it as soon as that file exists, as `omk cancel` or Ctrl-C would. Returns the
/// outcome, the time from the request to the return of `run` (which includes waiting for the
/// next poll), and the process id.
fn stop_blocked(
    setup: &Setup,
    agent: &str,
    pid_file: &Path,
) -> Result<(AgentOutcome, Duration, i32), Box<dyn std::error::Error>> {
    let control = Recorder::default();
    let started = Instant::now();
    let outcome = thread::scope(|scope| {
        scope.spawn(|| {
            while !pid_file.exists() && started.elapsed() < Duration::from_secs(20) {
                thread::sleep(Duration::from_millis(5));
            }
            control.request("omk cancel");
        });
        setup.run(agent, &AgentConfig::default(), &sh_environment(), Some(&control))
    })?;
    let returned = Instant::now();
    let requested = control.requested_at().expect("the stop was requested");
    assert!(pid_file.exists(), "the agent never started: {:?}", outcome.finished);
    let pid = fs::read_to_string(pid_file)?.trim().parse()?;
    Ok((outcome, returned.duration_since(requested), pid))
}

/// Asserts that stopping took less than 3 s (the design says 1 s; the margin is for a loaded
/// machine), and shows the measured latency with `cargo test -- --nocapture`.
#[expect(clippy::print_stdout, reason = "the measured latency is reported")]
fn check_latency(what: &str, latency: Duration) {
    println!("stop latency, {what}: {latency:?}");
    assert!(latency < Duration::from_secs(3), "stopping {what} took {latency:?}");
}

fn sh_environment() -> AgentEnvironment {
    AgentEnvironment { path: Some("/usr/bin:/bin".into()), ..AgentEnvironment::default() }
}

/// Asserts that no process of the group `pgid` is alive (zombies waiting for a reaper are
/// dead). Allows a moment for the kernel to finish the SIGKILLs.
fn assert_group_gone(pgid: i32) {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        let live = live_members(pgid);
        if killpg(Pid::from_raw(pgid), None) == Err(Errno::ESRCH) || live.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "processes of group {pgid} survive: {live:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Returns the processes of group `pgid` that are not zombies, from `/proc`.
fn live_members(pgid: i32) -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            fields.get(2) == Some(&pgid.to_string().as_str()) && fields.first() != Some(&"Z")
        })
        .collect()
}

#[test]
fn a_stop_request_ends_a_sleeping_command_and_its_group_within_a_second() -> TestResult {
    let setup = Setup::new()?;
    let pid_file = setup.path("agent.pid");
    let agent =
        format!("cmd:echo $$ > '{0}.new'; mv '{0}.new' '{0}'; sleep 30", pid_file.display());
    let (outcome, latency, pid) = stop_blocked(&setup, &agent, &pid_file)?;
    let finished = outcome.finished;
    assert_eq!(finished.status, AgentStatus::Failed);
    assert_eq!(finished.stopped.as_deref(), Some("omk cancel"));
    assert_eq!(finished.error.as_deref(), Some("omk stopped the agent: omk cancel"));
    assert!(finished.stdout.is_some() && finished.stderr.is_some());
    check_latency("cmd: sleep 30", latency);
    assert_group_gone(pid);
    Ok(())
}

#[test]
fn a_stop_request_kills_a_command_that_ignores_sigterm_within_a_second() -> TestResult {
    let setup = Setup::new()?;
    let pid_file = setup.path("agent.pid");
    let agent = format!(
        "cmd:trap '' TERM INT; echo $$ > '{0}.new'; mv '{0}.new' '{0}'; sleep 30",
        pid_file.display()
    );
    let (outcome, latency, pid) = stop_blocked(&setup, &agent, &pid_file)?;
    assert_eq!(outcome.finished.stopped.as_deref(), Some("omk cancel"));
    let process = outcome.finished.process.expect("a process");
    assert_eq!(process.signal, Some(9), "only SIGKILL ends it: {process:?}");
    check_latency("cmd: trap '' TERM INT; sleep 30", latency);
    assert_group_gone(pid);
    Ok(())
}

#[test]
fn a_stop_request_interrupts_a_scripted_shell_call() -> TestResult {
    let setup = Setup::new()?;
    let scenario = "text: Waiting.\n\
        tool_call: {\"id\":\"t1\",\"name\":\"Shell\",\"arguments\":\"{\\\"command\\\":\\\"echo $$ > shell.new; mv shell.new shell.pid; sleep 30\\\"}\"}\n\
        ---\ntext: never reached";
    fs::write(setup.path("wait.txt"), scenario)?;
    let agent = format!("script:{}", setup.path("wait.txt").display());
    let (outcome, latency, pid) = stop_blocked(&setup, &agent, &setup.path("wt/shell.pid"))?;
    let finished = outcome.finished;
    assert_eq!(finished.status, AgentStatus::Failed);
    assert_eq!(finished.stopped.as_deref(), Some("omk cancel"));
    assert_eq!((finished.steps, finished.tool_calls, finished.failed_tool_calls), (1, 1, 1));
    check_latency("scripted Shell sleep 30", latency);
    assert_group_gone(pid);
    let text = fs::read_to_string(setup.path("goal/artifacts/agent/transcript.jsonl"))?;
    assert!(text.contains("was killed because omk stopped the agent"), "{text}");
    Ok(())
}
