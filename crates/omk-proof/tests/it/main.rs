//! Spec tests of omk-proof: the spec cases of `tests/data` (scenarios.rs), properties of the readiness rules,
//! the proof's outputs, and team goals.

mod html;
mod monotone;
mod outputs;
mod props;
mod sandbox;
mod scenarios;
mod support;
mod team;
