//! The run controller: from a prompt to a proof, every step an event in the goal's log.
//!
//! [`run_goal`] checks its inputs, then drives the pipeline worktree → agent → changes → gates →
//! proof through the crates below it, appending one event per step to
//! `.omk/goals/<goal-id>/events.jsonl` and writing `proof.json` as the fold of that log.
//!
//! Invariants:
//! - Bad input (empty prompt, no repository, unknown agent, missing scenario, invalid
//!   `omk.toml`) is an error before anything is created: no goal directory, no worktree.
//! - Once the goal exists, a failing step is recorded as a `goal_failed` event and the run still
//!   ends with a proof; errors are returned only when the log itself cannot be written.
//! - The proof is computed from the log as read back from disk, never from in-memory state.
//! - This crate does not read the environment or print: the clock and the progress observer are
//!   parameters.
//! - Gates come from the user's checkout (`omk.toml` at the repository root, and detection
//!   there), never from the agent's worktree, so an agent cannot weaken the gates that judge it;
//!   what the change does to the files that define the gates is recorded as the gate surface.
//!
//! Entry points: [`run_goal`], [`load_proof`], [`create_demo_project`], [`checkout_gates`].

mod clock;
mod config;
mod demo;
mod error;
mod files;
mod gates;
mod goal_id;
mod intake;
mod pipeline;
mod review;
mod store;
mod worktrees;

pub use omk_agent::{AgentEnvironment, AgentSpec, DetectedAgent, Detection, detect_agents};
pub use omk_gates::GateSpec;
pub use omk_worktree::{GcEntry, GcVerdict, KeepReason, WorktreeInfo};

pub use crate::clock::{Clock, FixedClock, SystemClock};
pub use crate::config::{GoalConfig, OracleConfig, ReviewConfig, parse_goal_config};
pub use crate::demo::{DemoProject, create_demo_project};
pub use crate::error::{Error, error_chain};
pub use crate::gates::{CheckoutGates, checkout_gates, create_gate_run_dir};
pub use crate::intake::{Intake, classify, oracle_gates};
pub use crate::pipeline::{RunOutcome, RunRequest, run_goal};
pub use crate::review::{CHECKS, MAX_FINDINGS, ReviewInput, review};
pub use crate::store::{GoalPaths, LoadedProof, find_goal, gate_cache_dir, goal_paths, load_proof};
pub use crate::worktrees::{gc_worktrees, list_worktrees};
