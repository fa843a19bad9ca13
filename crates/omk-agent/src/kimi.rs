//! The Python Kimi CLI: Wire mode (JSON-RPC 2.0 over stdio) and print mode (stream-json).

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use serde_json::{Value, json};

use crate::{
    policy::{ApprovalPolicy, ApprovalRequest},
    process::Protocol,
    report::{Report, content_text, kimi_usage, str_at},
};

/// The Wire protocol version omk speaks.
const WIRE_PROTOCOL_VERSION: &str = "1.10";
const INIT_ID: &str = "init-1";
const PROMPT_ID: &str = "p-1";

/// What the 1.52 deprecation stub prints instead of doing anything.
const STUB_MARKER: &str = "no longer maintained";

/// The Wire client: initialize, one prompt, approvals answered by the policy.
pub(crate) struct Wire<'a> {
    pub(crate) report: Report,
    prompt: String,
    policy: &'a ApprovalPolicy,
    worktree: PathBuf,
    /// Tool call arguments by call id, for approval requests that name only the id.
    arguments: BTreeMap<String, String>,
    last_call: Option<String>,
    step_text: String,
    /// How much of `step_text` was already reported as a message.
    step_text_reported: usize,
    done: bool,
    retried: bool,
}

impl<'a> Wire<'a> {
    pub(crate) fn new(prompt: &str, policy: &'a ApprovalPolicy, worktree: &Path) -> Self {
        Self {
            report: Report::default(),
            prompt: prompt.to_owned(),
            policy,
            worktree: worktree.to_owned(),
            arguments: BTreeMap::new(),
            last_call: None,
            step_text: String::new(),
            step_text_reported: 0,
            done: false,
            retried: false,
        }
    }

    /// Settles the verdict once the process is gone.
    pub(crate) fn finish(&mut self) {
        if self.report.verdict.is_none() {
            let why = match &self.report.last_garbage {
                Some(line) if line.contains(STUB_MARKER) => stub_error(),
                Some(line) => {
                    format!("kimi exited before answering the prompt; its last output: {line}")
                }
                None => "kimi exited before answering the prompt".to_owned(),
            };
            self.report.verdict = Some(Err(why));
        }
    }

    fn on_event(&mut self, event_type: &str, payload: &Value) {
        if event_type != "ContentPart" {
            // Text arrives in parts; whatever comes next shows the message so far is whole.
            self.report_message();
        }
        match event_type {
            "StepBegin" => {
                self.report.step();
                self.step_text.clear();
                self.step_text_reported = 0;
            }
            "ContentPart" if str_at(payload, "/type") == Some("text") => {
                self.step_text.push_str(str_at(payload, "/text").unwrap_or_default());
            }
            "ToolCall" => {
                let id = str_at(payload, "/id").unwrap_or_default().to_owned();
                let name = str_at(payload, "/function/name").unwrap_or("unknown");
                let arguments = str_at(payload, "/function/arguments").unwrap_or_default();
                let parsed = serde_json::from_str::<Value>(arguments).ok();
                self.report.tool_call(&id, name, parsed.as_ref());
                self.arguments.insert(id.clone(), arguments.to_owned());
                self.last_call = Some(id);
            }
            "ToolCallPart" => {
                if let (Some(id), Some(part)) =
                    (&self.last_call, str_at(payload, "/arguments_part"))
                {
                    self.arguments.entry(id.clone()).or_default().push_str(part);
                }
            }
            "ToolResult" => {
                let id = str_at(payload, "/tool_call_id").unwrap_or_default();
                let is_error = payload.pointer("/return_value/is_error").and_then(Value::as_bool);
                self.report.tool_result(id, is_error == Some(false));
            }
            "StatusUpdate" => {
                if let Some(usage) = payload.get("token_usage").and_then(kimi_usage) {
                    self.report.add_usage(usage);
                }
            }
            "SubagentEvent" => {
                // Subagents' usage arrives nested; their approvals arrive at the top level.
                if str_at(payload, "/event/type") == Some("StatusUpdate")
                    && let Some(usage) =
                        payload.pointer("/event/payload/token_usage").and_then(kimi_usage)
                {
                    self.report.add_usage(usage);
                }
            }
            "StepRetry" => self.retried = true,
            "TurnEnd" => self.take_final_message(),
            // Unknown and purely informative events are kept in the raw transcript only.
            _ => {}
        }
    }

    /// Reports the step's text received since the last report as a message.
    fn report_message(&mut self) {
        let text = &self.step_text[self.step_text_reported..];
        self.report.message(text);
        self.step_text_reported = self.step_text.len();
    }

    fn take_final_message(&mut self) {
        if !self.step_text.trim().is_empty() {
            self.report.final_message = Some(self.step_text.trim().to_owned());
        }
    }

    fn on_request(&mut self, id: &Value, request_type: &str, payload: &Value) -> Value {
        let request_id = payload.get("id").cloned().unwrap_or_else(|| id.clone());
        match request_type {
            "ApprovalRequest" => {
                let tool_call_id = str_at(payload, "/tool_call_id").map(str::to_owned);
                let tool = str_at(payload, "/sender").unwrap_or("unknown").to_owned();
                let arguments: Value = tool_call_id
                    .as_ref()
                    .and_then(|call| self.arguments.get(call))
                    .and_then(|text| serde_json::from_str(text).ok())
                    .unwrap_or(Value::Null);
                let display_path = payload
                    .get("display")
                    .and_then(Value::as_array)
                    .and_then(|blocks| blocks.iter().find_map(|block| str_at(block, "/path")));
                let display_command = payload
                    .get("display")
                    .and_then(Value::as_array)
                    .and_then(|blocks| blocks.iter().find_map(|block| str_at(block, "/command")));
                let request = ApprovalRequest {
                    tool,
                    tool_call_id,
                    command: str_at(&arguments, "/command").or(display_command).map(str::to_owned),
                    path: str_at(&arguments, "/path").or(display_path).map(str::to_owned),
                };
                let decided = self.policy.decide(&self.worktree, &request);
                let allowed = decided.decision == omk_events::ApprovalDecision::Allow;
                let feedback = if allowed {
                    String::new()
                } else {
                    format!("refused by omk's approval policy: {}", decided.rule)
                };
                self.report.approvals.push(decided);
                json!({
                    "request_id": request_id,
                    "response": if allowed { "approve" } else { "reject" },
                    "feedback": feedback,
                })
            }
            "QuestionRequest" => json!({ "request_id": request_id, "answers": {} }),
            "HookRequest" => json!({ "request_id": request_id, "action": "allow", "reason": "" }),
            _ => Value::Null,
        }
    }
}

impl Protocol for Wire<'_> {
    fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    fn opening(&mut self) -> Vec<String> {
        let initialize = json!({
            "jsonrpc": "2.0", "id": INIT_ID, "method": "initialize",
            "params": {
                "protocol_version": WIRE_PROTOCOL_VERSION,
                "client": { "name": "omk", "version": env!("CARGO_PKG_VERSION") },
                "capabilities": { "supports_question": false, "supports_plan_mode": false },
            },
        });
        let prompt = json!({
            "jsonrpc": "2.0", "id": PROMPT_ID, "method": "prompt",
            "params": { "user_input": self.prompt },
        });
        vec![initialize.to_string(), prompt.to_string()]
    }

    fn on_line(&mut self, line: &Value) -> Vec<String> {
        match (str_at(line, "/method"), line.get("id")) {
            (Some("event"), _) => {
                let event_type = str_at(line, "/params/type").unwrap_or_default().to_owned();
                let payload = line.pointer("/params/payload").cloned().unwrap_or(Value::Null);
                self.on_event(&event_type, &payload);
                Vec::new()
            }
            (Some("request"), Some(id)) => {
                let request_type = str_at(line, "/params/type").unwrap_or_default().to_owned();
                let payload = line.pointer("/params/payload").cloned().unwrap_or(Value::Null);
                let result = self.on_request(id, &request_type, &payload);
                let reply = if result.is_null() {
                    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32601, "message": format!("omk does not handle {request_type}") } })
                } else {
                    json!({ "jsonrpc": "2.0", "id": id, "result": result })
                };
                vec![reply.to_string()]
            }
            (None, Some(Value::String(id))) if id == INIT_ID => {
                if let Some(version) = str_at(line, "/result/server/version") {
                    self.report.agent_version = Some(version.to_owned());
                }
                Vec::new()
            }
            (None, Some(Value::String(id))) if id == PROMPT_ID => {
                self.done = true;
                self.report_message();
                self.take_final_message();
                self.report.verdict = Some(match (line.get("result"), line.get("error")) {
                    (Some(result), _) => match str_at(result, "/status") {
                        Some("finished") => Ok(()),
                        Some(status) => Err(format!("kimi ended the turn with status {status}")),
                        None => Err(format!("kimi answered the prompt with {result}")),
                    },
                    (None, Some(error)) => {
                        let code = error.get("code").and_then(Value::as_i64).unwrap_or_default();
                        self.report.retryable = code == -32003 && self.retried;
                        Err(format!(
                            "kimi failed the prompt (code {code}): {}",
                            str_at(error, "/message").unwrap_or_default()
                        ))
                    }
                    (None, None) => {
                        Err("kimi answered the prompt with neither result nor error".to_owned())
                    }
                });
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn cancel_line(&mut self) -> Option<String> {
        Some(json!({ "jsonrpc": "2.0", "id": "c-1", "method": "cancel" }).to_string())
    }
}

/// Print mode: stream-json messages on stdout, errors as plain text, usage from the session.
#[derive(Default)]
pub(crate) struct Print {
    pub(crate) report: Report,
}

impl Print {
    /// Settles the verdict from the exit code, and reads usage from kimi's session record.
    pub(crate) fn finish(&mut self, exit_code: Option<i32>, session_record: Option<&Path>) {
        if let Some(path) = session_record {
            self.report.usage = None;
            for usage in session_usage(path) {
                self.report.add_usage(usage);
            }
        }
        let last = self.report.last_garbage.clone();
        self.report.verdict = Some(match exit_code {
            Some(0) if last.as_deref().is_some_and(|line| line.contains(STUB_MARKER)) => {
                Err(stub_error())
            }
            Some(0) => Ok(()),
            Some(75) => {
                self.report.retryable = true;
                Err(format!(
                    "kimi failed with a retryable error (exit 75): {}",
                    last.unwrap_or_default()
                ))
            }
            Some(code) => Err(format!("kimi exited with {code}: {}", last.unwrap_or_default())),
            None => Err("kimi was killed by a signal".to_owned()),
        });
    }
}

impl Protocol for Print {
    fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    fn on_line(&mut self, line: &Value) -> Vec<String> {
        match str_at(line, "/role") {
            Some("assistant") => {
                self.report.step();
                if let Some(text) = line.get("content").and_then(content_text) {
                    self.report.message(&text);
                    self.report.final_message = Some(text);
                }
                for call in line.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                    let id = str_at(call, "/id").unwrap_or_default();
                    let name = str_at(call, "/function/name").unwrap_or("unknown");
                    let arguments = str_at(call, "/function/arguments")
                        .and_then(|text| serde_json::from_str::<Value>(text).ok());
                    self.report.tool_call(id, name, arguments.as_ref());
                }
            }
            Some("tool") => {
                let id = str_at(line, "/tool_call_id").unwrap_or_default();
                let first = match line.get("content") {
                    Some(Value::String(text)) => Some(text.as_str()),
                    Some(Value::Array(parts)) => {
                        parts.first().and_then(|part| str_at(part, "/text"))
                    }
                    _ => None,
                };
                let failed = first.is_some_and(|text| text.starts_with("<system>ERROR"));
                self.report.tool_result(id, !failed);
            }
            _ => {}
        }
        Vec::new()
    }
}

/// Returns the session record `wire.jsonl` of `session_id` under kimi's share directory.
pub(crate) fn find_session_record(share_dir: &Path, session_id: &str) -> Option<PathBuf> {
    let sessions = fs::read_dir(share_dir.join("sessions")).ok()?;
    sessions
        .filter_map(Result::ok)
        .map(|dir| dir.path().join(session_id).join("wire.jsonl"))
        .find(|path| path.is_file())
}

/// Returns the usage of every `StatusUpdate` in a session record, nested subagents included.
pub(crate) fn session_usage(path: &Path) -> Vec<omk_events::TokenUsage> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| {
            let message = record.get("message")?;
            match str_at(message, "/type")? {
                "StatusUpdate" => message.pointer("/payload/token_usage").and_then(kimi_usage),
                "SubagentEvent"
                    if str_at(message, "/payload/event/type") == Some("StatusUpdate") =>
                {
                    message.pointer("/payload/event/payload/token_usage").and_then(kimi_usage)
                }
                _ => None,
            }
        })
        .collect()
}

fn stub_error() -> String {
    "this `kimi` is the kimi-cli 1.52 deprecation stub, which does nothing; install kimi-cli==1.51.0 \
     (scripts/install-kimi.sh) or set [agent.programs] kimi in omk.toml"
        .to_owned()
}
