//! What every protocol collects about a run, folded into an [`AgentFinished`] at the end.

use serde_json::Value;

use omk_events::{AgentFinished, AgentStatus, ApprovalDecided, TokenUsage, ToolCallRecord};

/// The facts a protocol read from the agent, before the process's exit is known.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) steps: u32,
    pub(crate) tool_calls: Vec<ToolCallRecord>,
    pub(crate) usage: Option<TokenUsage>,
    pub(crate) final_message: Option<String>,
    /// `Some(Ok(()))` when the agent said it finished its turn, `Some(Err(why))` when it failed.
    pub(crate) verdict: Option<Result<(), String>>,
    pub(crate) retryable: bool,
    pub(crate) session_id: Option<String>,
    pub(crate) agent_version: Option<String>,
    pub(crate) reported_cost_usd: Option<f64>,
    pub(crate) approvals: Vec<ApprovalDecided>,
    /// The last line that was not JSON, kept as a diagnostic.
    pub(crate) last_garbage: Option<String>,
}

impl Report {
    /// Records a tool call, or updates it when the agent repeats its id.
    pub(crate) fn tool_call(&mut self, id: &str, name: &str) {
        if !self.tool_calls.iter().any(|call| call.id == id) {
            self.tool_calls.push(ToolCallRecord {
                id: id.to_owned(),
                name: name.to_owned(),
                ok: None,
            });
        }
    }

    /// Records the result of the tool call `id`.
    pub(crate) fn tool_result(&mut self, id: &str, ok: bool) {
        if let Some(call) = self.tool_calls.iter_mut().find(|call| call.id == id) {
            call.ok = Some(ok);
        }
    }

    /// Adds one step's usage.
    pub(crate) fn add_usage(&mut self, usage: TokenUsage) {
        *self.usage.get_or_insert_with(TokenUsage::default) += usage;
    }

    /// Writes the collected facts into `finished`.
    pub(crate) fn fill(&self, finished: &mut AgentFinished) {
        finished.steps = self.steps;
        finished.tool_calls = u32::try_from(self.tool_calls.len()).unwrap_or(u32::MAX);
        finished.failed_tool_calls =
            u32::try_from(self.tool_calls.iter().filter(|call| call.ok == Some(false)).count())
                .unwrap_or(u32::MAX);
        finished.tool_call_log.clone_from(&self.tool_calls);
        finished.usage = self.usage;
        finished.final_message.clone_from(&self.final_message);
        finished.retryable = self.retryable;
        finished.session_id.clone_from(&self.session_id);
        finished.agent_version.clone_from(&self.agent_version);
        match &self.verdict {
            Some(Ok(())) => finished.status = AgentStatus::Completed,
            Some(Err(error)) => {
                finished.status = AgentStatus::Failed;
                finished.error = Some(error.clone());
            }
            None => finished.status = AgentStatus::Failed,
        }
    }
}

/// Returns Kimi's `token_usage` object as normalized usage, or `None` when it is not one.
pub(crate) fn kimi_usage(value: &Value) -> Option<TokenUsage> {
    let object = value.as_object()?;
    let field = |key: &str| object.get(key).and_then(Value::as_u64).unwrap_or(0);
    Some(TokenUsage {
        input_uncached: field("input_other"),
        input_cache_read: field("input_cache_read"),
        input_cache_write: field("input_cache_creation"),
        output: field("output"),
    })
}

/// Returns the text of a message `content`: a string, or the `text` parts of an array.
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            if texts.is_empty() { None } else { Some(texts.join("")) }
        }
        _ => None,
    }
    .filter(|text| !text.is_empty())
}

/// Returns the string at `pointer` in `value`.
pub(crate) fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}
