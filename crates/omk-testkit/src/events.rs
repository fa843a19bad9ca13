//! Events the benchmarks of several crates replay by the million.

use omk_events::{ActivityKind, AgentActivity, Event, TokenUsage};

/// Returns the `n`-th of a chatty agent's events, as an agent reports them while it works:
/// steps, tool calls, tool results and token usage, in turn.
pub fn chatty_activity(n: u64) -> Event {
    let (activity, tool, text, usage) = match n % 4 {
        0 => (ActivityKind::Step, None, None, None),
        1 => (ActivityKind::ToolCall, Some("Shell"), Some("cargo test -p omk-events"), None),
        2 => (ActivityKind::ToolResult, Some("Shell"), None, None),
        _ => {
            let usage =
                TokenUsage { input_uncached: 1200 + n, output: 300, ..TokenUsage::default() };
            (ActivityKind::Usage, None, None, Some(usage))
        }
    };
    Event::AgentActivity(AgentActivity {
        step: u32::try_from(n / 4).unwrap_or(u32::MAX),
        activity,
        tool: tool.map(str::to_owned),
        tool_call_id: tool.map(|_| format!("tc-{n}")),
        ok: (activity == ActivityKind::ToolResult).then_some(true),
        usage,
        text: text.map(str::to_owned),
    })
}
