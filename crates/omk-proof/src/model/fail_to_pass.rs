//! The oracle's fail-to-pass section: whether a required test gate fails without the change and
//! passes with it, and which rule decided that the goal needs such evidence.

use serde::{Deserialize, Serialize};

use omk_events::{ArtifactRef, FailToPassSkip, FailToPassWaiver, GoalKind, TestCounts};

/// Whether the change is shown to fix something: a required test gate (kind `test`) that fails
/// without it and passes with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassEvidence {
    /// The rule that applied to the goal.
    pub rule: FailToPassRule,
    /// The rule as a sentence, rendered from `rule` and the goal's kind.
    pub reason: String,
    /// Who waived the rule, when it was waived.
    pub waived_by: Option<FailToPassWaiver>,
    /// omk's run of the required test gates on the base tree with only the change's test files,
    /// for the proposed tree; `None` when omk made none for it.
    pub check: Option<FailToPassCheck>,
    /// The required test gates that fail without the change and pass with it.
    pub flips: Vec<FailToPassFlip>,
}

/// Which rule decided whether the goal needs fail-to-pass evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailToPassRule {
    /// A bugfix or test goal: it needs the evidence.
    Required,
    /// A feature goal whose change adds or changes test files: it needs the evidence.
    TestsAdded,
    /// A feature goal whose test files omk has not looked at yet: it needs the evidence until
    /// omk finds the change has none.
    Unchecked,
    /// A feature goal whose change has no test file: it needs no evidence.
    NoTestsAdded,
    /// A refactor, rewrite, docs or chore goal: it needs no evidence.
    NotRequired,
    /// A person waived the rule for the goal.
    Waived,
}

impl FailToPassRule {
    /// Returns whether a goal under this rule needs a test that fails without its change.
    pub fn needs_evidence(self) -> bool {
        matches!(self, Self::Required | Self::TestsAdded | Self::Unchecked)
    }

    /// Returns the rule as a sentence about a goal of `kind`, waived by `waiver` if it was.
    pub fn sentence(self, kind: GoalKind, waiver: Option<FailToPassWaiver>) -> String {
        match self {
            Self::Required => format!(
                "a {kind} goal must show a required test gate that fails without the change and \
                 passes with it"
            ),
            Self::TestsAdded => "a feature goal whose change adds or changes tests must show a \
                                 required test gate that fails without the change and passes \
                                 with it"
                .to_owned(),
            Self::Unchecked => "a feature goal must show a test that fails without the change \
                                when its change adds tests; omk has not looked at its test files \
                                yet"
            .to_owned(),
            Self::NoTestsAdded => {
                "a feature goal whose change adds or changes no test file needs no test that \
                 fails without it"
                    .to_owned()
            }
            Self::NotRequired => {
                format!("a {kind} goal needs no test that fails without the change")
            }
            Self::Waived => match waiver {
                Some(by) => {
                    format!("waived by {by}: no test that fails without the change is needed")
                }
                None => "waived: no test that fails without the change is needed".to_owned(),
            },
        }
    }
}

/// omk's run of the required test gates on the base tree with only the change's test files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassCheck {
    /// The change's test files that were applied to the base tree.
    pub test_paths: Vec<String>,
    /// The tree the gates ran on; `None` when nothing had to run.
    pub tree_id: Option<String>,
    /// Each gate's run there.
    pub gates: Vec<FailToPassCheckGate>,
    /// Why no gate ran, when none did: `baseline` (the baseline is the evidence),
    /// `no_test_files` or `no_test_gate`.
    pub skipped: Option<FailToPassSkip>,
}

/// One required test gate's run on the base tree with the change's test files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassCheckGate {
    /// The gate's name.
    pub name: String,
    /// Whether it failed there: it ran to its end and exited non-zero.
    pub failed: bool,
    /// The exit code, `None` when it was killed or could not start.
    pub exit_code: Option<i32>,
    /// The test counts parsed from its output.
    pub tests: Option<TestCounts>,
    /// The tests its output names as failed.
    pub failing_tests: Vec<String>,
    /// Its output.
    pub output: Option<ArtifactRef>,
}

/// A required test gate that fails without the change and passes with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FailToPassFlip {
    /// The gate's name.
    pub gate: String,
    /// Where it failed without the change.
    pub source: FailToPassSource,
    /// The tests that failed there, when the runner named them.
    pub tests: Vec<String>,
    /// How many tests failed there, when the runner's summary said.
    pub failed: Option<u64>,
}

/// Where a gate failed without the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailToPassSource {
    /// On the base tree, in the baseline run before the agent ran.
    Baseline,
    /// On the base tree with the change's test files, in omk's fail-to-pass check.
    Check,
}
