//! The payloads of an agent's run: its start, activity, end, approvals, cost and token usage.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::Event;

use crate::artifact::ArtifactRef;

/// The payload of [`Event::AgentActivity`]: one thing an agent did while it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentActivity {
    /// The model step the activity belongs to, from 1.
    pub step: u32,
    /// What happened.
    pub activity: ActivityKind,
    /// The tool, for tool calls and their results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The agent's id of the tool call, for tool calls and their results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Whether a tool call succeeded, for results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// Token usage of the run so far, for usage reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
    /// A short text: the message, or what the tool call does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl AgentActivity {
    /// Returns an activity of `kind` in model step `step`, with no tool, usage or text yet.
    pub fn new(step: u32, kind: ActivityKind) -> Self {
        Self {
            step,
            activity: kind,
            tool: None,
            tool_call_id: None,
            ok: None,
            usage: None,
            text: None,
        }
    }
}

/// What an agent did, in an [`AgentActivity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A model step began.
    Step,
    /// The agent called a tool.
    ToolCall,
    /// A tool call returned.
    ToolResult,
    /// The agent said something.
    Message,
    /// The agent reported its token usage so far.
    Usage,
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Step => "step",
            Self::ToolCall => "tool call",
            Self::ToolResult => "tool result",
            Self::Message => "message",
            Self::Usage => "usage",
        })
    }
}

/// The payload of [`Event::AgentStarted`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentStarted {
    /// The agent, as given by the user.
    pub agent: String,
}

/// The payload of [`Event::AgentFinished`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentFinished {
    /// The agent, as given by the user.
    pub agent: String,
    /// Whether the agent's run completed; this is not whether the change is good.
    pub status: AgentStatus,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// The agent's last message to the user, if it sent one.
    pub final_message: Option<String>,
    /// The number of model steps the agent took.
    pub steps: u32,
    /// The number of tool calls the agent made.
    pub tool_calls: u32,
    /// The number of those tool calls that failed.
    pub failed_tool_calls: u32,
    /// Token usage, when the agent reports it.
    pub usage: Option<TokenUsage>,
    /// The raw transcript of the run.
    pub transcript: Option<ArtifactRef>,
    /// Wall time of the run in milliseconds.
    pub duration_ms: u64,
    /// The agent program's version, when omk could read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// The session id of the run, chosen by omk where the agent allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// How the agent's process ended; `None` for agents that run inside omk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessExit>,
    /// Whether the failure is worth retrying (an overloaded or unreachable model provider).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
    /// The tool calls the agent reported, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_call_log: Vec<ToolCallRecord>,
    /// What the run cost, reported by the agent or estimated from a price table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// The raw stdout of the agent's process, saved whatever happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<ArtifactRef>,
    /// The raw stderr of the agent's process, saved whatever happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<ArtifactRef>,
    /// Why omk stopped the run while it went on (a budget, `omk pause`, `omk cancel`, Ctrl-C),
    /// as the controller said it; `None` when the run ended on its own or by a timeout.
    ///
    /// A stopped run is `failed`, and its `error` is `omk stopped the agent: <reason>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl AgentFinished {
    /// Returns the report of a run of `agent` that has not done anything yet: failed, no steps.
    pub fn new(agent: &str) -> Self {
        Self {
            agent: agent.to_owned(),
            status: AgentStatus::Failed,
            error: None,
            final_message: None,
            steps: 0,
            tool_calls: 0,
            failed_tool_calls: 0,
            usage: None,
            transcript: None,
            duration_ms: 0,
            agent_version: None,
            session_id: None,
            process: None,
            retryable: false,
            tool_call_log: Vec::new(),
            cost: None,
            stdout: None,
            stderr: None,
            stopped: None,
        }
    }
}

/// How an agent's process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcessExit {
    /// The exit code, `None` when a signal ended the process.
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if any.
    pub signal: Option<i32>,
    /// Whether omk stopped the process because it ran past its wall-clock timeout.
    pub timed_out: bool,
    /// Whether omk stopped the process because it printed nothing for too long.
    pub idle_timed_out: bool,
    /// Lines of stdout that were not part of the protocol (not JSON), kept as diagnostics.
    pub garbage_lines: u32,
    /// Lines longer than omk's line limit, truncated when parsed (the raw artifact is whole).
    pub oversized_lines: u32,
}

/// One tool call an agent reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ToolCallRecord {
    /// The call's id, as the agent named it.
    pub id: String,
    /// The tool's name, such as `WriteFile` or `Bash`.
    pub name: String,
    /// Whether the call succeeded; `None` when the agent did not say.
    pub ok: Option<bool>,
}

/// What an agent run cost, in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Cost {
    /// The amount in US dollars.
    pub usd: f64,
    /// Where the amount comes from.
    pub source: CostSource,
}

/// Where a cost comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CostSource {
    /// The agent reported it (Claude Code's `total_cost_usd`).
    Reported,
    /// omk computed it from the token usage and a price table.
    Estimated {
        /// The price table, such as `omk.toml [prices.kimi]`.
        table: String,
    },
}

/// The payload of [`Event::ApprovalDecided`]: one answer of omk's approval policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApprovalDecided {
    /// The tool the agent asked to use, such as `Shell`.
    pub tool: String,
    /// The agent's id of the tool call, when it gave one.
    pub tool_call_id: Option<String>,
    /// The shell command of the call, if it runs one.
    pub command: Option<String>,
    /// The file path the call writes, if it writes one.
    pub path: Option<String>,
    /// The answer.
    pub decision: ApprovalDecision,
    /// The rule that matched, as written in the policy (`deny command "git push*"`).
    pub rule: String,
    /// Where the rule comes from: `omk.toml` or `default`, or `claude` when Claude Code
    /// decided itself.
    pub rule_source: String,
}

/// An answer of the approval policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// The call may run.
    Allow,
    /// The call is refused.
    Deny,
    /// A person must decide; in an unattended run, the call is refused.
    Ask,
}

impl fmt::Display for ApprovalDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Ask => "ask",
        })
    }
}

/// How an agent's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// The agent finished its turn.
    Completed,
    /// The agent stopped with an error.
    Failed,
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
        })
    }
}

/// Token usage of an agent run, normalized across agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenUsage {
    /// Input tokens not read from a cache.
    pub input_uncached: u64,
    /// Input tokens read from a cache.
    pub input_cache_read: u64,
    /// Input tokens written to a cache.
    pub input_cache_write: u64,
    /// Output tokens.
    pub output: u64,
}

impl TokenUsage {
    /// Returns the sum of all input and output tokens.
    pub fn total(&self) -> u64 {
        self.input_uncached + self.input_cache_read + self.input_cache_write + self.output
    }
}

impl std::ops::AddAssign for TokenUsage {
    fn add_assign(&mut self, other: Self) {
        self.input_uncached += other.input_uncached;
        self.input_cache_read += other.input_cache_read;
        self.input_cache_write += other.input_cache_write;
        self.output += other.output;
    }
}
