//! The run controller: from a prompt to a proof, every step an event in the goal's log.
//!
//! [`run_goal`] checks its inputs, creates the goal and drives its steps — intake, worktree,
//! baseline gates, agent, change capture, commit, gate surface, gates, review wall — through the
//! crates below it, appending one event per step to `.omk/goals/<goal-id>/events.jsonl` and
//! writing `proof.json` as the fold of that log. [`resume_goal`] continues a goal from its last
//! completed step; [`accept_goal`] and [`reject_goal`] decide on its change; [`stop_goal`]
//! pauses or cancels it from another process.
//!
//! Invariants:
//! - The controller's state is a fold over the log (`state.rs`); between steps nothing else
//!   is kept, so a run killed anywhere resumes from its last completed step, and every step
//!   adopts what a crashed run of it left (a worktree, a commit) instead of doing it twice.
//! - Bad input (empty prompt, no repository, no commits, detached HEAD, unknown agent, missing
//!   scenario, invalid `omk.toml`) is an error before anything is created.
//! - Once the goal exists, a failing step is recorded as a `goal_failed` event and the run still
//!   ends with a proof; errors are returned only when the log itself cannot be written.
//! - The proof is computed from the log as read back from disk, never from in-memory state.
//! - This crate does not read the environment or print: the clock, the observer and the
//!   interrupt flag are parameters.
//! - Configuration comes from omk-config, whose crate doc states the layer order; the user
//!   config's path comes from the caller.
//! - Gates come from the user's checkout (`omk.toml` at the repository root, and detection
//!   there), never from the agent's worktree, so an agent cannot weaken the gates that judge it;
//!   what the change does to the files that define the gates is recorded as the gate surface.
//!
//! Entry points: [`run_goal`], [`resume_goal`], [`accept_goal`], [`reject_goal`],
//! [`stop_goal`], [`add_budget`], [`goal_status`], [`list_goals`], [`load_proof`],
//! [`create_demo_project`], [`checkout_gates`]; for `omk mcp`, [`goal_gates`] and
//! [`run_agent_check`]; for checking proofs, [`rebuild_proof`],
//! [`verify_goal`] (with a rerun of the gates in a scratch worktree) and [`proof_since`];
//! [`find_repo_root`] and [`resolve_commit`] for the commands that only need the repository;
//! [`append_anchor`] and [`anchor_ref`], where a goal's log is anchored outside `.omk/`;
//! [`render_report`] and [`write_report`], the goal's HTML report; [`push_goal`] and
//! [`fetch_goals`], goals that travel in git, and [`read_origin`], where a fetched goal ran
//! ([`Origin`]).
//! Signed in-toto bundles and their keys are omk-attest's.

mod accept;
mod agent_check;
mod anchor;
mod builds;
mod check;
mod clock;
mod decide;
mod demo;
mod error;
mod gate_run;
mod goal_id;
mod layout;
mod remote;
mod repo;
mod report;
mod run;
mod sandbox;
mod status;
mod store;
mod team;
mod worktrees;

pub use omk_agent::{
    AgentEnvironment, AgentSpec, DetectedAgent, Detection, TESTED_VERSIONS, detect_agents,
};
pub use omk_gates::{
    GateEvent, GateRun, GateSource, GateSpec, PlannedGate, failure_reason, gate_passed,
};
pub use omk_worktree::{GcEntry, GcVerdict, KeepReason, WorktreeInfo};

pub use crate::accept::{DecideRequest, accept_goal, reject_goal};
pub use crate::agent_check::{
    AgentCheck, AgentCheckRequest, GoalGates, goal_gates, run_agent_check,
};
pub use crate::anchor::{ANCHOR_REF_PREFIX, Anchor, anchor_ref, append_anchor};
pub use crate::check::anchors::check_bundle_log;
pub use crate::check::history::{Since, proof_since};
pub use crate::check::trust::{Trust, TrustedKey, is_fetched, load_trust};
pub use crate::check::verify::{
    Difference, Rebuild, RerunOptions, Verification, VerifyOptions, is_tampered_log, rebuild_proof,
    verify_goal,
};
pub use crate::clock::{Clock, FixedClock, SystemClock};
pub use crate::decide::intake::{Intake, classify, oracle_gates};
pub use crate::decide::review::{CHECKS, MAX_FINDINGS, ReviewInput, review};
pub use crate::demo::{DemoProject, create_demo_project};
pub use crate::error::{Error, error_chain};
pub use crate::gate_run::{
    CheckoutGateRequest, CheckoutGateRun, CheckoutGates, checkout_gates, checkout_gates_to_run,
    run_checkout_gates,
};
pub use crate::layout::{GoalPaths, Layout};
pub use crate::remote::error::RemoteError;
pub use crate::remote::fetch::{FetchReport, FetchedGoal, GoalOutcome, RefOutcome, fetch_goals};
pub use crate::remote::origin::{ORIGIN_FORMAT, Origin, read_origin};
pub use crate::remote::push::{BundleState, PushRequest, Pushed, push_goal};
pub use crate::remote::{FETCHED_REF_PREFIX, GOALS_REF_PREFIX, check_push_remote, evidence_ref};
pub use crate::repo::{find_repo_root, resolve_commit};
pub use crate::report::{render_report, write_report};
pub use crate::run::accept_step::NOTES_REF;
pub use crate::run::control::{ControlAction, StopOutcome};
pub use crate::run::controller::{
    ResumeRequest, RunEnv, RunRequest, TeamRequest, TeamSource, resume_goal, run_goal,
};
pub use crate::status::{BudgetAdd, GoalStatus, add_budget, goal_status, list_goals, stop_goal};
pub use crate::store::{LoadedProof, RunOutcome, find_goal, load_proof};
pub use crate::team::plan::parse_duration_ms;
pub use crate::worktrees::{gc_worktrees, list_worktrees};
