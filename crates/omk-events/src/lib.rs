//! The event vocabulary of omk and the append-only log that stores it.
//!
//! Every step of a goal is recorded as an [`Envelope`] in the goal's `events.jsonl`: one JSON
//! object per line, numbered densely from 1. The log is omk's source of truth; the proof,
//! replay and resume are folds over it.
//!
//! Invariants:
//! - Every event kind that any omk crate emits is defined here, in the one tagged enum [`Event`].
//! - The log is append-only: [`EventLog`] never rewrites or truncates a line it wrote.
//! - Reading is strict: a line that does not parse, a gap in the sequence or a line of another
//!   goal is an error naming the line number, never skipped.
//! - This crate does not spawn processes, read the environment or read the clock: timestamps
//!   are parameters.
//! - It does not narrate: it holds the vocabulary and the log, and the sentences a replay shows
//!   are omk-cli's.
//!
//! Entry points: [`EventLog::create`] and [`EventLog::append`] to write, [`read_log`] to read,
//! [`short_id`] and [`error_chain`] for how omk shows ids and errors.

// The crate is published: every public item is part of its manual on docs.rs.
#![deny(missing_docs)]

mod agent;
mod artifact;
mod batch;
mod checkout;
mod error;
mod event;
mod evidence;
pub mod files;
mod format;
mod gate;
pub mod hash;
mod ids;
mod log;
mod oracle;
mod read;
mod repair;
mod sandbox;
mod team;
pub mod timestamp;

pub use crate::agent::{
    ActivityKind, AgentActivity, AgentFinished, AgentStarted, AgentStatus, ApprovalDecided,
    ApprovalDecision, Cost, CostSource, ProcessExit, TokenUsage, ToolCallRecord,
};
pub use crate::artifact::{ArtifactRef, sha256_hex};
pub use crate::checkout::{
    CheckoutDifference, CheckoutFingerprint, CheckoutFingerprinted, CheckoutMoment, CheckoutPart,
};
pub use crate::error::{Error, error_chain};
pub use crate::event::{
    ChangedFile, ChangesCaptured, Durability, Envelope, Event, FileOperation, GoalCreated,
    GoalFailed, Step, UnknownEvent, WorktreeCreated,
};
pub use crate::evidence::{
    Actor, BudgetExhausted, BudgetLimits, BudgetResource, BudgetSet, BudgetWarned, ChangeAccepted,
    ChangeRejected, ChangesCommitted, ClassificationSource, DecisionMade, DecisionRequested,
    DecisionSubject, GateLeftFiles, GateStarted, GateSurfaceChecked, GoalBlocked, GoalCancelled,
    GoalClassified, GoalKind, GoalPaused, GoalResumed, RecoveryAction, RecoveryPerformed,
    ReviewFinished, ReviewStarted, ReviewStatus,
};
pub use crate::format::{FORMAT_VERSION, TornTail};
pub use crate::gate::{
    AgentCheckRan, COUNTED_RUNNERS, GateFinished, GateKind, GatePhase, JunitRead, TestCounts,
};
pub use crate::hash::EventHash;
pub use crate::ids::{GoalId, InvalidGoalId, Seq, short_id};
pub use crate::log::{EventLog, Opened};
pub use crate::oracle::{
    FailToPassChecked, FailToPassRun, FailToPassSkip, FailToPassStarted, FailToPassWaived,
    FailToPassWaiver,
};
pub use crate::read::{LogReader, Poll, ReadLog, Verified, first_event_time, read_log, verify};
pub use crate::repair::{RepairOutcome, RepairRoundEnded, RepairRoundStarted, RepairRoundsSet};
pub use crate::sandbox::{SandboxApplied, SandboxMode, ToolchainCache};
pub use crate::team::{
    FailureCause, PlanSource, QueueLanded, QueueMerged, QueueReverted, SliceEvent, TakeOutReason,
    TaskClaimed, TaskCompleted, TaskFailed, TaskGraphPlanned, TaskProposed, TaskSpec, TaskTakenOut,
};
