//! What one run of an agent needs: where to work, what to do, where to keep its artifacts, and
//! omk's hold on it; shared by the scripted agent and the agents run as processes.

use std::{fmt, path::Path};

use omk_sandbox::Sandbox;

use crate::{control::RunControl, mcp::McpServer};

/// What a run needs: where to work, what to do, where to keep the transcript.
#[derive(Clone)]
pub struct RunContext<'a> {
    /// The worktree the agent works in.
    pub worktree: &'a Path,
    /// The user's prompt.
    pub prompt: &'a str,
    /// The goal's id; agents' session ids are derived from it.
    pub goal_id: &'a str,
    /// The directory artifact paths are relative to (the goal directory).
    pub artifact_root: &'a Path,
    /// The transcript's path relative to `artifact_root`, with `/` separators; the raw stdout
    /// and stderr of agent processes go beside it.
    pub transcript_path: &'a str,
    /// omk's hold on the run: it hears each [`AgentActivity`](omk_events::AgentActivity) as
    /// it happens and may stop the run. `None` runs the agent to its end or its timeouts.
    pub control: Option<&'a dyn RunControl>,
    /// How the agent's processes (and the scripted agent's Shell tool) start: confined to the
    /// goal's writable roots, and ended with omk.
    pub sandbox: &'a Sandbox,
    /// omk's MCP server (`omk mcp`), registered with the agents that take MCP configuration
    /// (Kimi, Claude Code, Codex); `None` registers nothing.
    pub mcp: Option<&'a McpServer>,
}

impl fmt::Debug for RunContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("worktree", &self.worktree)
            .field("prompt", &self.prompt)
            .field("goal_id", &self.goal_id)
            .field("artifact_root", &self.artifact_root)
            .field("transcript_path", &self.transcript_path)
            .field("control", &self.control.map(|_| "RunControl"))
            .field("sandbox", &self.sandbox)
            .field("mcp", &self.mcp)
            .finish()
    }
}
