//! Agent adapters: how omk hands a prompt to an agent and reads back what it did.
//!
//! One adapter per agent, chosen by [`AgentSpec`] (`--agent` or `[agent] default` in
//! `omk.toml`): the Python Kimi CLI in Wire mode (`kimi`, JSON-RPC over stdio, approvals
//! answered by omk's [`ApprovalPolicy`]) and print mode (`kimi-print`), Claude Code
//! (`claude`), Codex (`codex`), any command (`cmd:…`) and the built-in scripted agent
//! (`script:FILE`), which replays a scenario in the echo DSL of the Kimi CLI's `_scripted_echo`
//! provider so the same file drives the real Kimi CLI. [`detect_agents`] finds installed agent
//! programs and tells the Python Kimi CLI from its 1.52 stub and from the TypeScript Kimi Code.
//!
//! Invariants:
//! - Nothing an agent reports is taken as the truth about files: callers read changes from git.
//! - Every agent process runs in the worktree in its own process group, with stdin closed
//!   unless the protocol is bidirectional; wall-clock and idle timeouts stop it (polite cancel,
//!   SIGTERM, SIGKILL of the group), and its raw stdout and stderr are saved whatever happens.
//! - A [`RunControl`] hears what a running agent does as it happens and may stop it: the
//!   agent's process group is gone within a second of the request, and the stopped run is a
//!   failed outcome that says why (`stopped`).
//! - Agent output is parsed leniently: unknown events, fields and non-JSON lines are kept in
//!   the raw artifacts and never fail a run.
//! - A bare `kimi` is never started: the kimi-cli 1.52 stub runs a remote install script then.
//! - The scripted agent does not write outside the worktree.
//! - A failed agent run is an outcome ([`AgentStatus::Failed`]), not an error; errors are for
//!   omk's own machinery (an artifact that cannot be written, a program that cannot start).
//! - This crate does not read the environment: [`AgentEnvironment`] is a parameter.
//!
//! [`McpServer`] is omk's own MCP server (`omk mcp`), which `RunContext::mcp` registers with the
//! agents that take MCP configuration.
//!
//! Entry points: [`AgentSpec::parse`], [`parse_config`], [`prepare`], [`Agent::run`] (with
//! an optional [`RunControl`]), [`detect_agents`].

mod agent;
mod config;
mod context;
mod control;
mod detect;
mod error;
mod kimi;
mod mcp;
mod policy;
mod process;
mod report;
mod scenario;
mod scripted;
mod streams;

pub use omk_events::AgentStatus;

pub use crate::agent::{Agent, AgentEnvironment, AgentOutcome, AgentSpec, prepare};
pub use crate::config::{AgentConfig, Price, parse_config};
pub use crate::context::{Continuation, RunContext};
pub use crate::control::RunControl;
pub use crate::detect::{DetectedAgent, Detection, TESTED_VERSIONS, detect_agents};
pub use crate::error::Error;
pub use crate::mcp::{MCP_SERVER_NAME, MCP_TOOLS, McpServer};
pub use crate::policy::{ApprovalPolicy, ApprovalRequest, Decision, Rule};
pub use crate::process::Limits;
pub use crate::scenario::{Scenario, ScenarioStep, ToolCall, parse_scenario};
