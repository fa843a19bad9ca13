//! Verification gates: the commands omk runs itself to know, instead of believing the agent.
//!
//! A gate is a command (tests, lint, fmt, …) run in a worktree. omk-gates detects the gates a
//! project implies ([`detect_gates`]: Cargo, Node, Python, Go, Make, just), reads the configured
//! ones from `omk.toml` ([`parse_config`]), merges both into a [`GatePlan`] ([`plan_gates`]),
//! runs them in parallel with timeouts and a cache ([`run_gates`]), and returns what it measured
//! as [`omk_events::GateFinished`] payloads: exit code or signal, duration, the output artifact
//! named by its SHA-256, and test counts parsed from the output or from the JUnit XML reports
//! the gate wrote ([`parse_report`]). [`infer_kind`] is the one place
//! a gate's kind is decided from its command when `omk.toml` does not say.
//! [`check_gate_surface`] compares the files that define what the gates check between two git
//! trees.
//!
//! Invariants:
//! - A gate that cannot start, exits non-zero, is killed by a signal, times out or is cancelled
//!   is a failed gate with the reason recorded; running gates does not return an error.
//! - Each gate runs in its own process group with stdin closed and exactly the environment the
//!   caller gives; on timeout or cancel the whole group is sent SIGTERM, then SIGKILL after a
//!   grace period, and no process of the group outlives the gate.
//! - Output streams through one pipe to the artifact file, with secrets masked before it is
//!   stored; only a bounded tail stays in memory, so no output size can deadlock or exhaust it.
//! - An invalid `omk.toml` is an error with the byte offset of the problem (omk-goal names the
//!   file, line and column); this crate does not fall back silently to detection.
//! - This crate does not read the environment or the clock for its decisions: `PATH`, the gate
//!   environment, the parallelism and the run id are parameters. It runs `git ls-files` and
//!   `git ls-tree` (the cache's tree digest, the gate surface) and no other git command.
//!
//! Entry points: [`detect_gates`], [`parse_config`], [`plan_gates`], [`run_gates`],
//! [`check_gate_surface`], [`failing_tests`] (the failed tests a runner's output names).

mod cache;
mod config;
mod counts;
mod detect;
mod failing;
mod git;
mod junit;
mod kind;
mod plan;
mod redact;
mod run;
mod shortfall;
mod spec;
mod surface;
mod tree;

pub use crate::cache::{CacheOptions, DEFAULT_CACHE_ENV};
pub use crate::config::{ConfigError, GateConfig, parse_config};
pub use crate::detect::{DetectedGate, detect_gates, find_program};
pub use crate::failing::{MAX_FAILING_TESTS, failing_tests};
pub use crate::junit::{JunitError, parse_report};
pub use crate::kind::infer_kind;
pub use crate::plan::{GatePlan, GateSource, PlannedGate, plan_gates};
pub use crate::redact::{SecretValues, redact_text};
pub use crate::run::{
    GateEvent, GateRun, RunOptions, TAIL_BYTES, failure_reason, gate_passed, run_gate, run_gates,
};
pub use crate::shortfall::tests_shortfall;
pub use crate::spec::{GateCommand, GateSpec};
pub use crate::surface::{
    SurfaceError, check_gate_surface, files_named_by, is_gate_config, is_gate_surface, is_test_file,
};
pub use crate::tree::{TreeError, TreeFiles, TreeListing, tree_files};
