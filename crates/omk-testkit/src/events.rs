//! Events that the tests and benchmarks of several crates generate: the chatty activity of an
//! agent, and events with odd texts for property tests.

use omk_events::{ActivityKind, AgentActivity, AgentStarted, Event, GoalFailed, Step, TokenUsage};

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

/// Returns event `n` of three kinds with odd texts (quotes, backslashes, newlines and non-ASCII
/// characters in the log's JSON), as the log's property tests write them.
pub fn odd_event(n: u8) -> Event {
    match n % 3 {
        0 => Event::AgentStarted(AgentStarted { agent: format!("cmd:echo {n}") }),
        1 => Event::GoalFailed(GoalFailed {
            step: Step::Gates,
            error: "é\"\\\n".repeat(usize::from(n % 4)),
        }),
        _ => Event::AgentActivity(AgentActivity {
            text: Some(format!("line {n}")),
            ..AgentActivity::new(u32::from(n), ActivityKind::Message)
        }),
    }
}
