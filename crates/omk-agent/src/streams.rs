//! Claude Code's `stream-json`, Codex's `exec --json`, and plain commands.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use omk_events::{ApprovalDecided, ApprovalDecision, TokenUsage};

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
    /// The tool calls so far by id: their tool and input, for the permission decisions.
    calls: BTreeMap<String, (String, Value)>,
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
                // Claude Code reports a failed model request as a message of its own making
                // (model `<synthetic>`, the error as its text): not a model step.
                let synthetic = str_at(line, "/message/model") == Some("<synthetic>");
                if !synthetic && self.seen_messages.insert(message_id) {
                    self.report.step();
                    if let Some(usage) = line.pointer("/message/usage").and_then(claude_usage) {
                        self.report.add_usage(usage);
                    }
                }
                for part in
                    line.pointer("/message/content").and_then(Value::as_array).into_iter().flatten()
                {
                    match str_at(part, "/type") {
                        Some("tool_use") => {
                            let id = str_at(part, "/id").unwrap_or_default();
                            let name = str_at(part, "/name").unwrap_or("unknown");
                            self.report.tool_call(id, name, part.get("input"));
                            let input = part.get("input").cloned().unwrap_or(Value::Null);
                            self.calls.insert(id.to_owned(), (name.to_owned(), input));
                        }
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
                // Claude Code decides permissions itself (omk passes its permission flags) and
                // says how in each tool result's meta: `accept` or `reject`, with its source.
                for meta in
                    line.get("tool_result_meta").and_then(Value::as_array).into_iter().flatten()
                {
                    if let Some(decision) = self.permission_decision(meta) {
                        self.report.approvals.push(decision);
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
                let terminal_reason = str_at(line, "/terminal_reason").unwrap_or_default();
                self.report.verdict = Some(if subtype == "success" && !is_error {
                    Ok(())
                } else if terminal_reason == "api_error" {
                    // A failed model request: `subtype` still says success; the status is null
                    // when the provider could not be reached at all.
                    let status = line.get("api_error_status").and_then(Value::as_u64);
                    self.report.retryable = matches!(status, None | Some(429 | 500..=599));
                    let status =
                        status.map_or_else(|| "no response".to_owned(), |it| it.to_string());
                    Err(format!(
                        "claude's model request failed ({status}): {}",
                        str_at(line, "/result").unwrap_or_default()
                    ))
                } else {
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

impl Claude {
    /// Returns the permission decision of one `tool_result_meta` entry, if it has one.
    fn permission_decision(&self, meta: &Value) -> Option<ApprovalDecided> {
        let id = str_at(meta, "/id")?;
        let decision = match str_at(meta, "/permission_decision/decision")? {
            "accept" | "allow" => ApprovalDecision::Allow,
            "reject" | "deny" => ApprovalDecision::Deny,
            _ => ApprovalDecision::Ask,
        };
        let (tool, input) = self.calls.get(id).cloned().unwrap_or_default();
        let source = str_at(meta, "/permission_decision/source").unwrap_or("unknown");
        let reason = str_at(meta, "/permission_decision/reason_type").unwrap_or("unknown");
        Some(ApprovalDecided {
            tool,
            tool_call_id: Some(id.to_owned()),
            command: str_at(&input, "/command").map(str::to_owned),
            path: str_at(&input, "/file_path").map(str::to_owned),
            decision,
            rule: format!("claude permission {reason} ({source})"),
            rule_source: "claude".to_owned(),
        })
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
            (Some(failure), _, _) => {
                self.report.retryable = codex_retryable(failure);
                Err(format!("codex failed: {failure}"))
            }
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
                    // Cached input (read and written) is part of the input tokens, and the usage
                    // is the thread's total.
                    let (cached, written) =
                        (field("cached_input_tokens"), field("cache_write_input_tokens"));
                    self.report.set_usage(TokenUsage {
                        input_uncached: field("input_tokens").saturating_sub(cached + written),
                        input_cache_read: cached,
                        input_cache_write: written,
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

/// Returns whether a Codex failure is the provider's (overloaded, rate limited, unreachable),
/// so a later run may succeed. Codex's messages carry no status code for server errors: a 5xx
/// reads "We're currently experiencing high demand", a 429 or a dropped stream after its own
/// retries "exceeded retry limit, last status: 429 Too Many Requests".
fn codex_retryable(failure: &str) -> bool {
    let lower = failure.to_lowercase();
    [
        "high demand",
        "exceeded retry limit",
        "too many requests",
        "stream disconnected",
        "error sending request",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
        || lower.split(|c: char| !c.is_ascii_digit()).any(|word| {
            word.parse::<u16>().is_ok_and(|status| status == 429 || (500..=599).contains(&status))
        })
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

#[cfg(test)]
mod tests {
    //! Lines as the real Claude Code 2.1.332 and Codex 0.171.0 print them (shortened to the
    //! fields omk reads); tests/it/real_agents.rs runs the CLIs themselves.

    use serde_json::{Value, json};

    use super::{Claude, Codex, codex_retryable};
    use crate::process::Protocol;

    fn feed(protocol: &mut dyn Protocol, lines: &[Value]) {
        for line in lines {
            protocol.on_line(line);
        }
    }

    #[test]
    fn claude_permission_decisions_become_approvals() {
        let mut claude = Claude::default();
        feed(
            &mut claude,
            &[
                json!({"type": "assistant", "message": {"id": "m1", "model": "claude-opus-5-5",
                    "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                 "input": {"command": "git push origin main"}}]}}),
                json!({"type": "user", "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "is_error": true,
                     "content": "Permission to use Bash with command git push origin main has been denied."}]},
                    "tool_result_meta": [{"id": "t1", "non_execution_kind": "permission-rule",
                        "permission_decision": {"decision": "reject", "source": "config",
                                                "reason_type": "subcommandResults"}}]}),
            ],
        );
        let approvals: Vec<String> = claude
            .report
            .approvals
            .iter()
            .map(|it| {
                format!(
                    "{} {} {:?} {} {}",
                    it.decision, it.tool, it.command, it.rule, it.rule_source
                )
            })
            .collect();
        assert_eq!(
            approvals,
            [
                "deny Bash Some(\"git push origin main\") claude permission subcommandResults (config) claude"
            ]
        );
        assert_eq!(claude.report.tool_calls[0].ok, Some(false));
    }

    #[test]
    fn a_claude_api_error_is_no_step_and_5xx_is_retryable() {
        for (status, retryable) in [(json!(529), true), (json!(400), false), (Value::Null, true)] {
            let mut claude = Claude::default();
            feed(
                &mut claude,
                &[
                    json!({"type": "assistant", "message": {"id": "x", "model": "<synthetic>",
                        "content": [{"type": "text", "text": "API Error: 529 overloaded"}]}}),
                    json!({"type": "result", "subtype": "success", "is_error": true,
                        "api_error_status": status, "terminal_reason": "api_error",
                        "result": "API Error: 529 overloaded"}),
                ],
            );
            claude.finish(Some(1));
            assert_eq!(claude.report.steps, 0);
            assert_eq!(claude.report.retryable, retryable, "{status}");
            let error = claude.report.verdict.clone().and_then(Result::err).unwrap_or_default();
            assert!(error.starts_with("claude's model request failed ("), "{error}");
        }
    }

    #[test]
    fn codex_cached_input_read_and_written_is_not_uncached() {
        let mut codex = Codex::default();
        feed(
            &mut codex,
            &[json!({"type": "turn.completed", "usage": {"input_tokens": 295,
                "cached_input_tokens": 140, "cache_write_input_tokens": 5, "output_tokens": 38,
                "reasoning_output_tokens": 0}})],
        );
        let usage = codex.report.usage.unwrap_or_default();
        assert_eq!(
            (usage.input_uncached, usage.input_cache_read, usage.input_cache_write, usage.output),
            (150, 140, 5, 38)
        );
    }

    #[test]
    fn codex_failures_of_the_provider_are_retryable() {
        for message in [
            "We’re currently experiencing high demand, which may cause temporary errors.",
            "exceeded retry limit, last status: 429 Too Many Requests",
            "unexpected status 503 Service Unavailable",
        ] {
            assert!(codex_retryable(message), "{message}");
        }
        let rejected = r#"{"error": {"type": "invalid_request_error", "message": "scripted failure", "code": null}}"#;
        assert!(!codex_retryable(rejected));
        assert!(!codex_retryable("unexpected status 400 Bad Request"));
    }
}
