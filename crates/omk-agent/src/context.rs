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
    /// A repair round: the run continues the agent's conversation with a follow-up instead of
    /// starting on `prompt`. `None` for a goal's first run.
    pub continuation: Option<Continuation<'a>>,
}

/// What a repair round hands the agent: a follow-up in the conversation of its previous run.
///
/// Each adapter continues the conversation where its CLI can: Kimi's Wire and print modes
/// resume the session (`--session`), Claude Code resumes it (`--resume`), Codex resumes its
/// thread (`codex exec resume`), a `cmd:` agent reads the follow-up on stdin and from the file
/// `OMK_FOLLOW_UP_FILE` names (with `OMK_REPAIR_ROUND`), and the scripted agent plays its
/// scenario's round. Without a session to resume, a CLI agent starts a new conversation on the
/// prompt followed by the follow-up.
#[derive(Debug, Clone, Copy)]
pub struct Continuation<'a> {
    /// The repair round, from 1.
    pub round: u32,
    /// The follow-up: what failed and what to fix.
    pub follow_up: &'a str,
    /// The follow-up's file, which a `cmd:` agent is told about.
    pub follow_up_file: &'a Path,
    /// The session (or thread) id the agent's previous run reported, to resume.
    pub session_id: Option<&'a str>,
}

impl Continuation<'_> {
    /// Returns the text a new conversation starts on when there is no session to resume: the
    /// prompt, then the follow-up.
    pub fn fresh_prompt(&self, prompt: &str) -> String {
        format!("{prompt}\n\n{}", self.follow_up)
    }
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
            .field("continuation", &self.continuation)
            .finish()
    }
}
