//! What every protocol collects about a run, folded into an [`AgentFinished`] at the end.

use serde_json::Value;

use omk_events::{
    ActivityKind, AgentActivity, AgentFinished, AgentStatus, ApprovalDecided, TokenUsage,
    ToolCallRecord,
};

use crate::control::short_text;

/// The facts a protocol read from the agent, before the process's exit is known.
///
/// Its methods also queue what the agent did as [`AgentActivity`]s, which the process loop
/// hands to the run's control after each line of output.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The model steps so far; count them with [`Report::step`].
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
    /// What the agent did since the queue was last handed to the run's control, in order.
    pub(crate) activities: Vec<AgentActivity>,
}

impl Report {
    /// Counts a model step that begins.
    pub(crate) fn step(&mut self) {
        self.steps += 1;
        self.queue(ActivityKind::Step);
    }

    /// Records a tool call, or updates it when the agent repeats its id; its `arguments`, when
    /// known, say what it does.
    pub(crate) fn tool_call(&mut self, id: &str, name: &str, arguments: Option<&Value>) {
        if !self.tool_calls.iter().any(|call| call.id == id) {
            self.tool_calls.push(ToolCallRecord {
                id: id.to_owned(),
                name: name.to_owned(),
                ok: None,
            });
            let activity = self.queue(ActivityKind::ToolCall);
            activity.tool = Some(name.to_owned());
            activity.tool_call_id = Some(id.to_owned());
            activity.text = arguments.and_then(describe_call);
        }
    }

    /// Records the result of the tool call `id`.
    pub(crate) fn tool_result(&mut self, id: &str, ok: bool) {
        let tool = match self.tool_calls.iter_mut().find(|call| call.id == id) {
            Some(call) => {
                call.ok = Some(ok);
                Some(call.name.clone())
            }
            None => None,
        };
        let activity = self.queue(ActivityKind::ToolResult);
        activity.tool = tool;
        activity.tool_call_id = Some(id.to_owned());
        activity.ok = Some(ok);
    }

    /// Notes that the agent said `text` (blank text is not news).
    pub(crate) fn message(&mut self, text: &str) {
        if !text.trim().is_empty() {
            self.queue(ActivityKind::Message).text = Some(short_text(text));
        }
    }

    /// Adds one step's usage.
    pub(crate) fn add_usage(&mut self, usage: TokenUsage) {
        *self.usage.get_or_insert_with(TokenUsage::default) += usage;
        self.queue(ActivityKind::Usage).usage = self.usage;
    }

    /// Sets the run's usage to `total`, for agents that report their cumulative usage.
    pub(crate) fn set_usage(&mut self, total: TokenUsage) {
        self.usage = Some(total);
        self.queue(ActivityKind::Usage).usage = self.usage;
    }

    /// Queues an activity of `kind` in the current step and returns it to be filled in.
    fn queue(&mut self, kind: ActivityKind) -> &mut AgentActivity {
        self.activities.push(AgentActivity::new(self.steps.max(1), kind));
        self.activities.last_mut().expect("an activity was pushed just above")
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

/// Returns what a tool call does, from its arguments: the command it runs or the path it
/// touches, else its arguments as JSON; shortened like a message.
pub(crate) fn describe_call(arguments: &Value) -> Option<String> {
    let named = ["command", "cmd", "path", "file_path", "pattern", "url", "query"]
        .iter()
        .find_map(|key| arguments.get(key).and_then(Value::as_str));
    let text = match named {
        Some(text) => text.to_owned(),
        None if arguments.as_object().is_some_and(|object| !object.is_empty()) => {
            arguments.to_string()
        }
        None => return None,
    };
    Some(short_text(&text)).filter(|text| !text.is_empty())
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
