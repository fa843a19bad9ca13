//! Verification gates: the commands omk runs itself to know, instead of believing the agent.
//!
//! A gate is a command (tests, lint, fmt, …) run in the goal's worktree. omk-gates reads gate
//! specs from `omk.toml` ([`parse_config`]), runs them in parallel with timeouts ([`run_gates`]),
//! and returns what it measured as [`omk_events::GateFinished`] payloads, with each gate's output
//! kept in an artifact file named by its SHA-256.
//!
//! Invariants:
//! - A gate that cannot start, exits non-zero, is killed by a signal or times out is a failed
//!   gate with the reason recorded; running gates does not return an error for any of these.
//! - Each gate runs in its own process group with stdin closed; on timeout the whole group is
//!   sent SIGTERM, then SIGKILL after a grace period, and no process of the group outlives it.
//! - Output goes straight to the artifact file, never through memory, so a huge output can
//!   neither deadlock nor exhaust memory.
//! - An invalid `omk.toml` is an error naming file, line and column; this crate does not fall
//!   back silently to anything.
//!
//! Entry points: [`parse_config`], [`GateSpec`], [`run_gates`].

mod config;
mod run;
mod spec;

pub use crate::config::{ConfigError, GateConfig, parse_config};
pub use crate::run::{RunOptions, run_gate, run_gates};
pub use crate::spec::{GateCommand, GateSpec};
