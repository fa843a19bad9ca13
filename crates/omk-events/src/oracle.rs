//! The payloads of the fail-to-pass step: a waiver of the rule, and the run of the required test
//! gates on the base tree with only the change's test files applied.

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::Event;

use crate::gate::GateFinished;

/// The payload of [`Event::FailToPassWaived`]: the goal needs no test that fails without its
/// change, because a person said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassWaived {
    /// Who waived it.
    pub by: FailToPassWaiver,
}

/// Where a waiver of the fail-to-pass rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailToPassWaiver {
    /// `omk run --no-fail-to-pass`.
    Flag,
    /// `[oracle] fail_to_pass = false` in `omk.toml`.
    Config,
}

impl std::fmt::Display for FailToPassWaiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Flag => "omk run --no-fail-to-pass",
            Self::Config => "[oracle] fail_to_pass = false in omk.toml",
        })
    }
}

/// The payload of [`Event::FailToPassStarted`]: omk starts the required test gates on the base
/// tree with the change's test files applied, in a scratch worktree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassStarted {
    /// The proposed tree whose test files are applied.
    pub tree_id: String,
    /// The gates that run, by name.
    pub gates: Vec<String>,
}

/// The payload of [`Event::FailToPassChecked`]: which required test gates fail on the base tree
/// with only the change's test files applied.
///
/// `gates` is empty when nothing had to run, and `skipped` says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassChecked {
    /// The proposed tree the check speaks for.
    pub tree_id: String,
    /// The base commit the test files were applied to.
    pub base_commit: String,
    /// The change's test files (created, modified, deleted or renamed), as the gate surface
    /// names tests; sorted.
    pub test_paths: Vec<String>,
    /// The tree the gates ran on: the base with the test files applied; `None` when nothing ran.
    pub checked_tree_id: Option<String>,
    /// Each required test gate's run on that tree.
    pub gates: Vec<FailToPassRun>,
    /// Why no gate ran, when none did.
    pub skipped: Option<FailToPassSkip>,
}

/// Why the fail-to-pass check ran no gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailToPassSkip {
    /// A gate that failed on the base tree in the baseline passes with the change: the baseline
    /// is the evidence.
    Baseline,
    /// The change has no test file to apply.
    NoTestFiles,
    /// No required test gate (nor an oracle gate standing in) is configured.
    NoTestGate,
}

impl std::fmt::Display for FailToPassSkip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Baseline => "a test gate failed in the baseline and passes with the change",
            Self::NoTestFiles => "the change has no test file",
            Self::NoTestGate => "no required test gate is configured",
        })
    }
}

/// One gate's run on the base tree with the change's test files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassRun {
    /// The run, as a gate's result is recorded (phase `baseline`, the checked tree).
    pub run: GateFinished,
    /// The tests the runner's output names as failed (cargo test, nextest, pytest, go test),
    /// at most 50; empty when it names none.
    pub failing_tests: Vec<String>,
}
