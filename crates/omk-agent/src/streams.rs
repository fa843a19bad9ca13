//! Claude Code's `stream-json`, Codex's `exec --json`, and plain commands.

use std::collections::BTreeSet;

use serde_json::Value;

use omk_events::TokenUsage;

use crate::{
    process::Protocol,
    report::{Report, str_at},
};

/// Claude Code: `claude -p --output-format stream-json --verbose`.
#[derive(Default)]
pub(crate) struct Claude {
    pub(crate) report: Report,
    /// Assistant message ids already counted: messages sharing an id repeat the same usage.
    seen_messages: BTreeSet<String>,
}

impl Claude {
    pub(crate) fn finish(&mut self, exit_code: Option<i32>) {
        if self.report.verdict.is_none() {
            let last = self.report.last_garbage.clone().unwrap_or_default();
            self.report.verdict = Some(Err(match exit_code {
                Some(code) => format!("claude exited with {code} without a result: {last}"),
                None => "claude was killed by a signal before its result".to_owned(),
            }));
        }
    }
}

impl Protocol for Claude {
    fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    fn on_line(&mut self, line: &Value) -> Vec<String> {
        match str_at(line, "/type") {
            Some("system") if str_at(line, "/subtype") == Some("init") => {
                self.report.session_id = str_at(line, "/session_id").map(str::to_owned);
                self.report.agent_version = str_at(line, "/claude_code_version").map(str::to_owned);
            }
            Some("assistant") => {
                let message_id = str_at(line, "/message/id").unwrap_or_default().to_owned();
                if self.seen_messages.insert(message_id) {
                    self.report.step();
                    if let Some(usage) = line.pointer("/message/usage").and_then(claude_usage) {
                        self.report.add_usage(usage);
                    }
                }
                for part in
                    line.pointer("/message/content").and_then(Value::as_array).into_iter().flatten()
                {
                    match str_at(part, "/type") {
                        Some("tool_use") => self.report.tool_call(
                            str_at(part, "/id").unwrap_or_default(),
                            str_at(part, "/name").unwrap_or("unknown"),
                            part.get("input"),
                        ),
                        Some("text") => {
                            let text = str_at(part, "/text");
                            self.report.message(text.unwrap_or_default());
                            self.report.final_message = text.map(str::to_owned);
                        }
                        _ => {}
                    }
                }
            }
            Some("user") => {
                for part in
                    line.pointer("/message/content").and_then(Value::as_array).into_iter().flatten()
                {
                    if str_at(part, "/type") == Some("tool_result") {
                        let failed = part.get("is_error").and_then(Value::as_bool).unwrap_or(false);
                        self.report
                            .tool_result(str_at(part, "/tool_use_id").unwrap_or_default(), !failed);
                    }
                }
            }
            Some("result") => {
                // The result's usage is the run's cumulative total, and its cost is authoritative.
                if let Some(usage) = line.get("usage").and_then(claude_usage) {
                    self.report.set_usage(usage);
                }
                self.report.reported_cost_usd = line.get("total_cost_usd").and_then(Value::as_f64);
                if let Some(text) = str_at(line, "/result") {
                    self.report.final_message = Some(text.to_owned());
                }
                let subtype = str_at(line, "/subtype").unwrap_or_default();
                let is_error = line.get("is_error").and_then(Value::as_bool).unwrap_or(false);
                self.report.verdict = Some(if subtype == "success" && !is_error {
                    Ok(())
                } else {
                    let status = line.get("api_error_status").and_then(Value::as_u64);
                    self.report.retryable = matches!(status, Some(429 | 500..=599));
                    Err(format!(
                        "claude's result is {subtype}{}",
                        if is_error { " (is_error)" } else { "" }
                    ))
                });
            }
            _ => {}
        }
        Vec::new()
    }
}

fn claude_usage(value: &Value) -> Option<TokenUsage> {
    let object = value.as_object()?;
    let field = |key: &str| object.get(key).and_then(Value::as_u64).unwrap_or(0);
    Some(TokenUsage {
        input_uncached: field("input_tokens"),
        input_cache_read: field("cache_read_input_tokens"),
        input_cache_write: field("cache_creation_input_tokens"),
        output: field("output_tokens"),
    })
}

/// Codex: `codex exec --json`.
#[derive(Default)]
pub(crate) struct Codex {
    pub(crate) report: Report,
    failure: Option<String>,
    completed: bool,
}

impl Codex {
    pub(crate) fn finish(&mut self, exit_code: Option<i32>) {
        let last = self.report.last_garbage.clone().unwrap_or_default();
        self.report.verdict = Some(match (&self.failure, self.completed, exit_code) {
            (Some(failure), _, _) => Err(format!("codex failed: {failure}")),
            (None, true, Some(0)) => Ok(()),
            (None, _, Some(code)) => {
                Err(format!("codex exited with {code} without completing its turn: {last}"))
            }
            (None, _, None) => Err("codex was killed by a signal".to_owned()),
        });
    }
}

impl Protocol for Codex {
    fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    fn on_line(&mut self, line: &Value) -> Vec<String> {
        match str_at(line, "/type") {
            Some("thread.started") => {
                self.report.session_id = str_at(line, "/thread_id").map(str::to_owned);
            }
            Some("turn.started") => self.report.step(),
            Some("item.started" | "item.completed") => {
                let item = line.get("item").cloned().unwrap_or(Value::Null);
                let id = str_at(&item, "/id").unwrap_or_default();
                let completed = str_at(line, "/type") == Some("item.completed");
                match str_at(&item, "/type") {
                    Some("agent_message") if completed => {
                        let text = str_at(&item, "/text");
                        self.report.message(text.unwrap_or_default());
                        self.report.final_message = text.map(str::to_owned);
                    }
                    Some(
                        kind @ ("command_execution" | "file_change" | "mcp_tool_call"
                        | "web_search"),
                    ) => {
                        let name = str_at(&item, "/tool").unwrap_or(kind);
                        let what = match str_at(&item, "/command") {
                            Some(_) => Some(&item),
                            None => item.pointer("/changes/0"),
                        };
                        self.report.tool_call(id, name, what);
                        if completed {
                            let ok = match str_at(&item, "/status") {
                                Some("completed") => item
                                    .get("exit_code")
                                    .and_then(Value::as_i64)
                                    .is_none_or(|code| code == 0),
                                _ => false,
                            };
                            self.report.tool_result(id, ok);
                        }
                    }
                    _ => {}
                }
            }
            Some("turn.completed") => {
                self.completed = true;
                if let Some(usage) = line.get("usage").and_then(Value::as_object) {
                    let field = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
                    // Cached input is part of the input tokens, and the usage is the thread's total.
                    let cached = field("cached_input_tokens");
                    self.report.set_usage(TokenUsage {
                        input_uncached: field("input_tokens").saturating_sub(cached),
                        input_cache_read: cached,
                        input_cache_write: 0,
                        output: field("output_tokens"),
                    });
                }
            }
            Some("turn.failed") => {
                self.failure =
                    Some(str_at(line, "/error/message").unwrap_or("turn failed").to_owned());
            }
            Some("error") => {
                self.failure = Some(str_at(line, "/message").unwrap_or("error").to_owned());
            }
            _ => {}
        }
        Vec::new()
    }
}

/// Any command: no protocol; the last line of output is its final message, the exit code its verdict.
#[derive(Default)]
pub(crate) struct Plain {
    pub(crate) report: Report,
}

impl Plain {
    pub(crate) fn finish(&mut self, exit_code: Option<i32>) {
        self.report.final_message = self.report.last_garbage.clone();
        self.report.verdict = Some(match exit_code {
            Some(0) => Ok(()),
            Some(code) => Err(format!("the command exited with {code}")),
            None => Err("the command was killed by a signal".to_owned()),
        });
    }
}

impl Protocol for Plain {
    fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    fn on_line(&mut self, line: &Value) -> Vec<String> {
        self.report.last_garbage = Some(line.to_string());
        Vec::new()
    }
}
