//! Choosing an agent and running it.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use omk_events::AgentFinished;

use crate::{error::Error, scenario, scripted};

/// An agent as the user names it: `script:FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSpec {
    /// The built-in scripted agent replaying the scenario at the path.
    Script(PathBuf),
}

impl AgentSpec {
    /// Parses an agent name such as `script:fix.txt`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text.split_once(':') {
            Some(("script", path)) if !path.is_empty() => Ok(Self::Script(PathBuf::from(path))),
            _ => Err(Error::UnknownAgent { agent: text.to_owned() }),
        }
    }
}

impl fmt::Display for AgentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Script(path) => write!(f, "script:{}", path.display()),
        }
    }
}

/// An agent ready to run: its inputs are read and checked.
#[derive(Debug, Clone)]
pub struct Agent {
    spec: AgentSpec,
    kind: AgentKind,
}

#[derive(Debug, Clone)]
enum AgentKind {
    Script(scenario::Scenario),
}

/// What a run needs: where to work, what to do, where to keep the transcript.
#[derive(Debug, Clone)]
pub struct RunContext<'a> {
    /// The worktree the agent works in.
    pub worktree: &'a Path,
    /// The user's prompt.
    pub prompt: &'a str,
    /// The directory artifact paths are relative to (the goal directory).
    pub artifact_root: &'a Path,
    /// The transcript's path relative to `artifact_root`, with `/` separators.
    pub transcript_path: &'a str,
}

/// Checks that the agent of `spec` can run, reading its inputs (the scenario file).
///
/// Callers run this before creating anything, so bad input leaves no trace.
pub fn prepare(spec: &AgentSpec) -> Result<Agent, Error> {
    let kind = match spec {
        AgentSpec::Script(path) => AgentKind::Script(scenario::load(path)?),
    };
    Ok(Agent { spec: spec.clone(), kind })
}

impl Agent {
    /// Returns what the agent was prepared from.
    pub fn spec(&self) -> &AgentSpec {
        &self.spec
    }

    /// Runs the agent to the end of its turn and returns what it reported.
    pub fn run(&self, ctx: &RunContext<'_>) -> Result<AgentFinished, Error> {
        match &self.kind {
            AgentKind::Script(scenario) => scripted::run(&self.spec.to_string(), scenario, ctx),
        }
    }
}
