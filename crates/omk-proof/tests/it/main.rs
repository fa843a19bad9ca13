//! Spec tests of omk-proof: scenarios per rung and status, properties of the readiness rules,
//! the proof's outputs, and team goals.

mod outputs;
mod props;
mod scenarios;
mod support;
mod team;
