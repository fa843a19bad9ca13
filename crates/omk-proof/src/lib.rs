//! The proof model of omk: a typed, versioned readiness report, synthesized from a goal's events.
//!
//! A [`Proof`] says whether the change a goal produced may be merged, and why not when it may
//! not. It is a pure fold over the goal's event log ([`synthesize`]), so it can always be
//! rebuilt from the log, byte for byte, and it never disagrees with replay.
//!
//! Invariants:
//! - This crate does no I/O: it does not read files, spawn processes, read the environment or
//!   read the clock. `generated_at` is the time of the last event.
//! - Readiness fails closed: [`Readiness::VerifiedAwaitingAcceptance`] (and later `ready`) is
//!   never produced without a required gate that passed after the agent's last change.
//! - Status, readiness and gaps are enums; their sentences are rendered, never parsed.
//!
//! Entry points: [`synthesize`] builds a proof, [`Proof::to_json`] and [`render_text`] render it.

mod error;
mod model;
mod render;
mod synthesize;

pub use omk_events::{AgentFinished, ArtifactRef, ChangedFile, FileOperation, GateKind};

pub use crate::error::Error;
pub use crate::model::{
    Gap, GitEvidence, KnownGap, PROOF_VERSION, Proof, ProofGate, ProofStatus, Readiness,
};
pub use crate::render::render_text;
pub use crate::synthesize::synthesize;
