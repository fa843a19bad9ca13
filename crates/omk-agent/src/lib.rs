//! Agent adapters: how omk hands a prompt to an agent and reads back what it did.
//!
//! This crate starts with the built-in scripted agent (`script:FILE`): it replays a scenario
//! written in the echo DSL of the Kimi CLI's `_scripted_echo` provider, executing each tool call
//! (`WriteFile`, `StrReplaceFile`, `ReadFile`, `Shell`) in the worktree for real, so the same
//! scenario file can later drive the real Kimi CLI. See `docs/scenario-format.md`.
//!
//! Invariants:
//! - Nothing an agent reports is taken as the truth about files: callers read changes from git.
//! - The scripted agent does not write outside the worktree: paths with `..` or outside the
//!   root are refused as failed tool calls.
//! - A failed agent run is an outcome ([`AgentStatus::Failed`]), not an error; errors are for
//!   omk's own machinery (a transcript that cannot be written).
//! - Every run leaves its raw transcript as an artifact.
//!
//! Entry points: [`AgentSpec::parse`], [`prepare`], [`Agent::run`].

mod agent;
mod error;
mod scenario;
mod scripted;

pub use omk_events::AgentStatus;

pub use crate::agent::{Agent, AgentSpec, RunContext, prepare};
pub use crate::error::Error;
pub use crate::scenario::{Scenario, ScenarioStep, ToolCall, parse_scenario};
