//! Spec tests of omk-proof: scenarios per rung and status, properties of the readiness rules,
//! and the proof's outputs.

mod outputs;
mod props;
mod scenarios;
mod support;
