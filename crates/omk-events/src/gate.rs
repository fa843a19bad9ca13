//! The payload of a finished gate: what it checks, when it ran, how it ended and its test counts.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::Event;

use crate::artifact::ArtifactRef;

/// The payload of [`Event::GateFinished`]: the facts of one gate run, as omk measured them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateFinished {
    /// The gate's name, unique within a run.
    pub name: String,
    /// What the gate checks.
    pub gate_kind: GateKind,
    /// The command line as run, one element per argument.
    pub command: Vec<String>,
    /// Whether the proof requires this gate to pass.
    pub required: bool,
    /// Whether the gate ran on the base tree (to show what already failed) or on the change.
    #[serde(default)]
    pub phase: GatePhase,
    /// The git tree id of the worktree content the gate ran on, when omk recorded it.
    #[serde(default)]
    pub tree_id: Option<String>,
    /// Whether a test gate may pass without running any test.
    #[serde(default)]
    pub allow_no_tests: bool,
    /// The exit code, `None` when the gate was killed by a signal or could not start.
    pub exit_code: Option<i32>,
    /// The signal that ended the gate, if any.
    pub signal: Option<i32>,
    /// Whether omk killed the gate because it ran past its timeout.
    pub timed_out: bool,
    /// Why the gate could not be started, if it could not.
    pub spawn_error: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The captured stdout and stderr, interleaved.
    pub output: Option<ArtifactRef>,
    /// The test counts parsed from the output, when the output has a format omk knows.
    #[serde(default)]
    pub tests: Option<TestCounts>,
    /// The goal whose identical run this result was taken from, when it came from the cache.
    #[serde(default)]
    pub cached_from: Option<String>,
    /// Whether the project declared that this test gate's exit code stands for its tests
    /// (`tests = "exit-code"` in `omk.toml`): weaker evidence than counted tests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tests_by_exit_code: bool,
    /// The goal or gate run whose recorded result of the same gate on the same files differs
    /// from this one (one passed, the other failed): the gate is flaky there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaky_with: Option<String>,
    /// What omk read from the JUnit XML reports the gate's `junit` key names, when it names any:
    /// the reports this run wrote, and whether `tests` came from them rather than the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junit: Option<JunitRead>,
}

/// The JUnit XML reports of one gate run, as omk read them after the gate exited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JunitRead {
    /// The pattern of the gate's `junit` key, relative to the worktree.
    pub pattern: String,
    /// The matching files this run wrote (new, or changed since the gate started), relative to
    /// the worktree; only these are read.
    pub files: Vec<String>,
    /// Matching files this run did not write, so they were not read: a stale report proves
    /// nothing about this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<String>,
    /// Whether the gate's `tests` are the sum of `files`; otherwise they come from its output.
    pub counted: bool,
    /// Why a report could not be read (malformed, truncated, too large), if one could not; the
    /// counts then come from the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl GateFinished {
    /// Returns whether the gate's process passed: it started, exited 0 and did not time out.
    ///
    /// A test gate that ran no tests passed this way but still fails; see
    /// [`GateFinished::failure`].
    pub fn passed(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && self.spawn_error.is_none()
    }

    /// Returns whether the gate ran to its end and exited non-zero: its checks failed, rather
    /// than it not starting, timing out or being killed.
    ///
    /// This is what "fails without the change" means for fail-to-pass evidence.
    pub fn exited_failing(&self) -> bool {
        matches!(self.exit_code, Some(code) if code != 0)
            && !self.timed_out
            && self.spawn_error.is_none()
    }

    /// Returns why the gate failed, `None` when it passed: it could not start, timed out,
    /// exited non-zero or was killed, or it is a test gate that ran no tests without
    /// `allow_no_tests`.
    pub fn failure(&self) -> Option<String> {
        if let Some(error) = &self.spawn_error {
            return Some(format!("could not start: {error}"));
        }
        if self.timed_out {
            return Some("timed out".to_owned());
        }
        match (self.exit_code, self.signal) {
            (Some(0), _) => {}
            (Some(code), _) => return Some(format!("exit {code}")),
            (None, Some(signal)) => return Some(format!("killed by signal {signal}")),
            (None, None) => return Some("no exit status".to_owned()),
        }
        let no_tests = self.gate_kind == GateKind::Test
            && !self.allow_no_tests
            && self.tests.is_some_and(|it| it.ran() == 0);
        no_tests.then(|| "ran no tests (set allow_no_tests = true if that is fine)".to_owned())
    }
}

/// When a gate ran, relative to the agent's change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GatePhase {
    /// On the base tree, before the agent ran: shows which failures were already there.
    Baseline,
    /// On the changed worktree: the result that speaks for the change.
    #[default]
    Proposed,
    /// On a team goal's integration branch, after a batch of slices merged: decides whether the
    /// batch lands (see `queue_merged`).
    Integration,
}

impl fmt::Display for GatePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Baseline => "baseline",
            Self::Proposed => "proposed",
            Self::Integration => "integration",
        })
    }
}

/// The runner summaries omk-gates counts tests from, as the proof names them to a test gate
/// whose output it could not count.
pub const COUNTED_RUNNERS: &str = "cargo test, cargo nextest, pytest, Python unittest, go test -v or -json, jest, \
     vitest, mocha, node --test, Maven Surefire, ctest, RSpec, PHPUnit, dotnet test, or a last \
     `N passed, N failed` line";

/// Test counts parsed from a gate's output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were skipped or ignored.
    pub skipped: u64,
}

impl TestCounts {
    /// Returns the number of tests that ran: passed plus failed.
    pub fn ran(&self) -> u64 {
        self.passed + self.failed
    }
}

/// What a gate checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Runs tests.
    Test,
    /// Runs a linter.
    Lint,
    /// Checks formatting.
    Fmt,
    /// Builds the project.
    Build,
    /// Runs a security scanner.
    Security,
    /// Anything else.
    #[default]
    Other,
}

impl GateKind {
    /// Returns whether a gate of this kind runs tests: the kind whose counts readiness requires
    /// and whose failures on the base tree show what a change fixes.
    pub fn is_test(self) -> bool {
        self == Self::Test
    }
}

impl fmt::Display for GateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Test => "test",
            Self::Lint => "lint",
            Self::Fmt => "fmt",
            Self::Build => "build",
            Self::Security => "security",
            Self::Other => "other",
        })
    }
}

/// The payload of [`Event::AgentCheckRan`]: gates the agent ran on its own work, through
/// `omk mcp`'s `gates_run` tool, while it worked.
///
/// The server runs inside the agent's sandbox and writes its record where the agent can write,
/// so this is the agent's own account: a proof shows it as `agent.checks` and never counts it as
/// a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentCheckRan {
    /// The check's number in the goal, from 1 (`agent-checks/<n>.json` beside the log).
    pub check: u32,
    /// Each gate's result, in the order they were asked for; their `phase` is `proposed` and
    /// their logs are under `agent-checks/<n>/`.
    pub gates: Vec<GateFinished>,
    /// The failed tests the gates' output names, at most 50 per gate, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing_tests: Vec<String>,
}

impl AgentCheckRan {
    /// Returns whether every required gate of the check passed.
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|gate| !gate.required || gate.failure().is_none())
    }
}
