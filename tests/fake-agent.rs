//! A protocol twin of the agent CLIs omk drives, for tests: `kimi` (Wire and print), `claude`
//! and `codex`, chosen by the name it is started as (tests link it under those names).
//!
//! It replays the scenario at `$KIMI_SCRIPTED_ECHO_SCRIPTS`, written in the Kimi CLI's echo DSL
//! like the real `_scripted_echo` provider, and makes real, deterministic edits in its working
//! directory. Lines `omk_fake: <what>` in a step fail on demand (the real DSL has no such
//! directive): `exit N`, `crash` (SIGABRT), `hang`, `garbage` (a non-JSON line), `huge_line`
//! (a 17 MiB line), `stderr TEXT`. `kimi --version`, `kimi info --json` and the other
//! programs' `--version` answer like the real ones.

use std::{
    env, fs,
    io::{self, BufRead, Write},
    path::{Path, PathBuf},
    process::{self, Command, ExitCode},
    thread,
    time::Duration,
};

use serde_json::{Value, json};

use omk_agent::{ScenarioStep, parse_scenario};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    let flavor =
        Path::new(&args[0]).file_name().and_then(|it| it.to_str()).unwrap_or_default().to_owned();
    let has = |flag: &str| args.iter().any(|arg| arg == flag);
    if has("--version") {
        match flavor.as_str() {
            "kimi" => say("kimi, version 1.51.0"),
            other => say(&format!("{other} 9.9.9-fake")),
        }
        return ExitCode::SUCCESS;
    }
    if flavor == "kimi" && args.get(1).map(String::as_str) == Some("info") {
        say(
            r#"{"kimi_cli_version": "1.51.0", "agent_spec_versions": ["1"], "wire_protocol_version": "1.10", "python_version": "fake"}"#,
        );
        return ExitCode::SUCCESS;
    }
    let work_dir = value_after(&args, "--work-dir")
        .or_else(|| value_after(&args, "-C"))
        .map_or_else(|| env::current_dir().expect("a current directory"), PathBuf::from);
    let (steps, fakes) = match load_scenario() {
        Ok(loaded) => loaded,
        Err(err) => {
            say(&format!("fake agent: {err}"));
            return ExitCode::from(1);
        }
    };
    let mut fake = Fake { work_dir, fakes, flavor: flavor.clone() };
    match (flavor.as_str(), has("--wire"), has("--print")) {
        ("kimi", true, _) => fake.wire(&steps),
        ("kimi", _, true) => fake.print(&steps),
        ("claude", _, _) if has("-p") && has("--verbose") => fake.claude(&steps),
        ("claude", _, _) => {
            warn("Error: When using --print, --output-format=stream-json requires --verbose");
            ExitCode::from(1)
        }
        ("codex", _, _) if args.get(1).map(String::as_str) == Some("exec") => fake.codex(&steps),
        _ => {
            warn(&format!("fake agent: unsupported arguments {args:?}"));
            ExitCode::from(2)
        }
    }
}

struct Fake {
    work_dir: PathBuf,
    /// The `omk_fake:` directives of each step.
    fakes: Vec<Vec<String>>,
    flavor: String,
}

impl Fake {
    /// Runs the failure directives of step `idx`; returns an exit code when the step ends the run.
    fn failures(&self, idx: usize) -> Option<ExitCode> {
        for directive in &self.fakes[idx] {
            let (what, rest) = directive.split_once(' ').unwrap_or((directive, ""));
            match what {
                "exit" => {
                    say(rest.split_once(' ').map_or("failing on demand", |(_, text)| text));
                    return Some(ExitCode::from(
                        rest.split(' ').next().and_then(|it| it.parse().ok()).unwrap_or(1),
                    ));
                }
                "crash" => process::abort(),
                "hang" => loop {
                    thread::sleep(Duration::from_secs(60));
                },
                "garbage" => say("this line is not JSON {"),
                "huge_line" => say(&format!(
                    "{{\"type\":\"huge\",\"pad\":\"{}\"}}",
                    "x".repeat(17 * 1024 * 1024)
                )),
                "stderr" => warn(rest),
                _ => {}
            }
        }
        None
    }

    fn print(&mut self, steps: &[ScenarioStep]) -> ExitCode {
        for (idx, step) in steps.iter().enumerate() {
            if let Some(code) = self.failures(idx) {
                return code;
            }
            if let Some(error) = &step.error {
                say(error.split_once(' ').map_or(error.as_str(), |(_, text)| text));
                return ExitCode::from(75);
            }
            let mut message = json!({ "role": "assistant", "content": step.text.join("") });
            if !step.tool_calls.is_empty() {
                message["tool_calls"] = step.tool_calls.iter().map(|call| json!({
                    "type": "function", "id": call.id,
                    "function": { "name": call.name, "arguments": call.arguments.to_string() },
                })).collect();
            }
            say(&message.to_string());
            for call in &step.tool_calls {
                let (ok, text) = self.execute(&call.name, &call.arguments);
                let system = if ok {
                    format!("<system>{text}</system>")
                } else {
                    format!("<system>ERROR: {text}</system>")
                };
                say(&json!({ "role": "tool", "content": system, "tool_call_id": call.id })
                    .to_string());
            }
            self.record_usage(step);
            if step.tool_calls.is_empty() {
                return ExitCode::SUCCESS;
            }
        }
        say(&format!("ScriptedEchoChatProvider exhausted at turn {}.", steps.len() + 1));
        ExitCode::from(1)
    }

    /// Writes the session record print mode leaves, where omk reads usage afterwards.
    fn record_usage(&self, step: &ScenarioStep) {
        let (Some(share), Some(session), Some(usage)) = (
            env::var_os("KIMI_SHARE_DIR"),
            value_after(&env::args().collect::<Vec<_>>(), "--session"),
            step.usage,
        ) else {
            return;
        };
        let dir = Path::new(&share).join("sessions/fakehash").join(session);
        fs::create_dir_all(&dir).expect("create the session dir");
        let line = json!({ "timestamp": 1.0, "message": { "type": "StatusUpdate", "payload": { "token_usage": kimi_usage(usage) } } });
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("wire.jsonl"))
            .expect("open wire.jsonl");
        writeln!(file, "{line}").expect("write wire.jsonl");
    }

    fn wire(&mut self, steps: &[ScenarioStep]) -> ExitCode {
        let stdin = io::stdin();
        let mut lines = stdin.lock().lines();
        while let Some(Ok(line)) = lines.next() {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                say(&json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Invalid JSON format"}}).to_string());
                continue;
            };
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            match message.get("method").and_then(Value::as_str) {
                Some("initialize") => say(&json!({"jsonrpc":"2.0","id":id,"result":{"protocol_version":"1.10","server":{"name":"Kimi Code CLI","version":"1.51.0-fake"},"slash_commands":[],"capabilities":{"supports_question":true}}}).to_string()),
                Some("prompt") => {
                    let input = message.pointer("/params/user_input").cloned().unwrap_or(Value::Null);
                    match self.wire_turn(steps, input, &mut lines) {
                        Ok(result) => say(&json!({"jsonrpc":"2.0","id":id,"result":result}).to_string()),
                        Err(Some(code)) => return code,
                        Err(None) => say(&json!({"jsonrpc":"2.0","id":id,"error":{"code":-32003,"message":"overloaded","data":null}}).to_string()),
                    }
                }
                _ => {}
            }
        }
        ExitCode::SUCCESS
    }

    fn wire_turn(
        &mut self,
        steps: &[ScenarioStep],
        input: Value,
        lines: &mut io::Lines<io::StdinLock<'_>>,
    ) -> Result<Value, Option<ExitCode>> {
        event("TurnBegin", json!({ "user_input": input }));
        say(&json!({"jsonrpc":"2.0","method":"event","params":{"type":"MCPLoadingBegin","payload":{}}}).to_string());
        for (idx, step) in steps.iter().enumerate() {
            event("StepBegin", json!({ "n": idx + 1 }));
            if let Some(code) = self.failures(idx) {
                return Err(Some(code));
            }
            if step.error.is_some() {
                event(
                    "StepRetry",
                    json!({"n": 1, "next_attempt": 2, "max_attempts": 3, "wait_s": 0.01, "error_type": "APIStatusError", "status_code": 503}),
                );
                event("StepInterrupted", json!({}));
                event("TurnEnd", json!({}));
                return Err(None);
            }
            // Text arrives as streaming deltas, which the client must join.
            let text = step.text.join("");
            let middle =
                text.char_indices().nth(text.chars().count() / 2).map_or(0, |(idx, _)| idx);
            for part in [&text[..middle], &text[middle..]] {
                event("ContentPart", json!({ "type": "text", "text": part }));
            }
            for call in &step.tool_calls {
                event(
                    "ToolCall",
                    json!({"type":"function","id":call.id,"function":{"name":call.name,"arguments":call.arguments.to_string()},"extras":null}),
                );
            }
            event(
                "StatusUpdate",
                json!({"context_usage": null, "token_usage": step.usage.map(kimi_usage), "message_id": step.id, "plan_mode": false, "mcp_status": null, "unknown_future_field": 1}),
            );
            for call in &step.tool_calls {
                let request_id = format!("req-{}", call.id);
                let display = match call.arguments.get("command") {
                    Some(command) => {
                        json!([{ "type": "shell", "language": "bash", "command": command }])
                    }
                    None => {
                        json!([{ "type": "diff", "path": call.arguments.get("path"), "old_text": "", "new_text": "" }])
                    }
                };
                say(&json!({"jsonrpc":"2.0","method":"request","id":request_id,"params":{"type":"ApprovalRequest","payload":{"id":request_id,"tool_call_id":call.id,"sender":call.name,"action":"run","description":"fake","display":display}}}).to_string());
                let answer = loop {
                    match lines.next() {
                        Some(Ok(line)) => {
                            let reply: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                            if reply.get("id").and_then(Value::as_str) == Some(request_id.as_str())
                            {
                                break reply
                                    .pointer("/result/response")
                                    .and_then(Value::as_str)
                                    .unwrap_or("reject")
                                    .to_owned();
                            }
                        }
                        // Closing stdin rejects the open approval and ends the server.
                        _ => return Err(Some(ExitCode::SUCCESS)),
                    }
                };
                event(
                    "ApprovalResponse",
                    json!({ "request_id": request_id, "response": answer, "feedback": "" }),
                );
                let (is_error, output) = if answer == "reject" {
                    (true, "The tool call is rejected by the user.".to_owned())
                } else {
                    let (ok, text) = self.execute(&call.name, &call.arguments);
                    (!ok, text)
                };
                event(
                    "ToolResult",
                    json!({"tool_call_id": call.id, "return_value": {"is_error": is_error, "output": output, "message": "", "display": [{"type": "brand_new_block", "data": 1}]}}),
                );
            }
            if step.tool_calls.is_empty() {
                event("TurnEnd", json!({}));
                return Ok(json!({ "status": "finished" }));
            }
        }
        Err(None)
    }

    fn claude(&mut self, steps: &[ScenarioStep]) -> ExitCode {
        let mut prompt = String::new();
        io::stdin().read_line(&mut prompt).ok();
        say(&json!({"type":"system","subtype":"init","session_id":"claude-session","cwd":self.work_dir,"claude_code_version":"2.1.999-fake","tools":["Bash","Edit"]}).to_string());
        let mut total = json!({"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0});
        for (idx, step) in steps.iter().enumerate() {
            if let Some(code) = self.failures(idx) {
                return code;
            }
            let usage = step.usage.unwrap_or_default();
            let step_usage = json!({"input_tokens":usage.input_uncached,"output_tokens":usage.output,"cache_read_input_tokens":usage.input_cache_read,"cache_creation_input_tokens":usage.input_cache_write});
            for key in [
                "input_tokens",
                "output_tokens",
                "cache_read_input_tokens",
                "cache_creation_input_tokens",
            ] {
                total[key] =
                    json!(total[key].as_u64().unwrap_or(0) + step_usage[key].as_u64().unwrap_or(0));
            }
            let message_id = format!("msg_{idx}");
            // Text and each tool use come as separate lines sharing one message id and usage.
            say(&json!({"type":"assistant","message":{"id":message_id,"role":"assistant","content":[{"type":"text","text":step.text.join("")}],"usage":step_usage}}).to_string());
            for call in &step.tool_calls {
                let name = if call.name == "Shell" { "Bash" } else { call.name.as_str() };
                say(&json!({"type":"assistant","message":{"id":message_id,"role":"assistant","content":[{"type":"tool_use","id":call.id,"name":name,"input":call.arguments}],"usage":step_usage}}).to_string());
                let (ok, text) = self.execute(&call.name, &call.arguments);
                say(&json!({"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":call.id,"content":text,"is_error":!ok}]}}).to_string());
            }
            if step.tool_calls.is_empty() {
                say(&json!({"type":"result","subtype":"success","is_error":false,"num_turns":idx + 1,"result":step.text.join(""),"session_id":"claude-session","total_cost_usd":0.0123,"usage":total}).to_string());
                return ExitCode::SUCCESS;
            }
        }
        say(&json!({"type":"result","subtype":"error_max_turns","is_error":true,"usage":total})
            .to_string());
        ExitCode::from(1)
    }

    fn codex(&mut self, steps: &[ScenarioStep]) -> ExitCode {
        say(&json!({"type":"thread.started","thread_id":"codex-thread"}).to_string());
        say(&json!({"type":"turn.started"}).to_string());
        let (mut input, mut cached, mut output) = (0, 0, 0);
        for (idx, step) in steps.iter().enumerate() {
            if let Some(code) = self.failures(idx) {
                return code;
            }
            if let Some(usage) = step.usage {
                input += usage.input_uncached + usage.input_cache_read;
                cached += usage.input_cache_read;
                output += usage.output;
            }
            for call in &step.tool_calls {
                let (ok, _) = self.execute(&call.name, &call.arguments);
                let item = match call.arguments.get("command") {
                    Some(command) => {
                        json!({"id":call.id,"type":"command_execution","command":command,"aggregated_output":"","exit_code":if ok {0} else {1},"status":"completed"})
                    }
                    None => {
                        json!({"id":call.id,"type":"file_change","changes":[{"path":call.arguments.get("path"),"kind":"update"}],"status":if ok {"completed"} else {"failed"}})
                    }
                };
                say(&json!({"type":"item.completed","item":item}).to_string());
            }
            if step.tool_calls.is_empty() {
                say(&json!({"type":"item.completed","item":{"id":format!("item_{idx}"),"type":"agent_message","text":step.text.join("")}}).to_string());
                say(&json!({"type":"turn.completed","usage":{"input_tokens":input,"cached_input_tokens":cached,"output_tokens":output}}).to_string());
                return ExitCode::SUCCESS;
            }
        }
        say(&json!({"type":"turn.failed","error":{"message":"scenario exhausted"}}).to_string());
        ExitCode::from(1)
    }

    /// Executes one tool call in the work dir; returns whether it succeeded and its output.
    fn execute(&self, name: &str, args: &Value) -> (bool, String) {
        let text = |key: &str| args.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let path = self.work_dir.join(text("path"));
        let res = match name {
            "WriteFile" | "Write" => fs::write(&path, text("content"))
                .map(|()| "File successfully overwritten.".to_owned()),
            "StrReplaceFile" | "Edit" => fs::read_to_string(&path).and_then(|content| {
                let old = args.pointer("/edit/old").and_then(Value::as_str).unwrap_or_default();
                let new = args.pointer("/edit/new").and_then(Value::as_str).unwrap_or_default();
                if old.is_empty() || !content.contains(old) {
                    return Err(io::Error::other(format!("{old:?} not found")));
                }
                fs::write(&path, content.replacen(old, new, 1))
                    .map(|()| "File successfully edited.".to_owned())
            }),
            "Shell" | "Bash" => Command::new("sh")
                .args(["-c", &text("command")])
                .current_dir(&self.work_dir)
                .output()
                .and_then(|out| {
                    if out.status.success() {
                        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
                    } else {
                        Err(io::Error::other(format!("exit {}", out.status)))
                    }
                }),
            other => {
                Err(io::Error::other(format!("{} does not know the tool {other}", self.flavor)))
            }
        };
        match res {
            Ok(text) => (true, text),
            Err(err) => (false, err.to_string()),
        }
    }
}

fn load_scenario() -> Result<(Vec<ScenarioStep>, Vec<Vec<String>>), String> {
    let path =
        env::var_os("KIMI_SCRIPTED_ECHO_SCRIPTS").ok_or("KIMI_SCRIPTED_ECHO_SCRIPTS is not set")?;
    let text = fs::read_to_string(&path)
        .map_err(|err| format!("read {}: {err}", Path::new(&path).display()))?;
    let mut fakes = Vec::new();
    let mut chunks = Vec::new();
    for chunk in text.split("\n---\n") {
        let (fake, real): (Vec<&str>, Vec<&str>) =
            chunk.lines().partition(|line| line.starts_with("omk_fake:"));
        fakes.push(fake.iter().map(|line| line["omk_fake:".len()..].trim().to_owned()).collect());
        // A step of failure directives only still needs a model response to parse.
        let real = if real.iter().all(|line| line.trim().is_empty()) {
            vec!["text: (fake)"]
        } else {
            real
        };
        chunks.push(real.join("\n"));
    }
    let scenario = parse_scenario(&chunks.join("\n---\n"))
        .map_err(|(step, problem)| format!("step {step}: {problem}"))?;
    Ok((scenario.steps, fakes))
}

fn kimi_usage(usage: omk_events::TokenUsage) -> Value {
    json!({"input_other": usage.input_uncached, "output": usage.output, "input_cache_read": usage.input_cache_read, "input_cache_creation": usage.input_cache_write})
}

fn event(event_type: &str, payload: Value) {
    say(&json!({"jsonrpc":"2.0","method":"event","params":{"type":event_type,"payload":payload}})
        .to_string());
}

fn say(line: &str) {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}").ok();
    stdout.flush().ok();
}

fn warn(line: &str) {
    writeln!(io::stderr().lock(), "{line}").ok();
}

fn value_after(args: &[String], flag: &str) -> Option<String> {
    args.iter().position(|arg| arg == flag).and_then(|idx| args.get(idx + 1)).cloned()
}
