//! Known gaps: what a proof lacks, typed, each with its sentence, its next step and its rung.

use std::fmt;

use serde::{Deserialize, Serialize};

use omk_events::{
    Actor, BudgetResource, COUNTED_RUNNERS, CheckoutDifference, DecisionSubject, FailureCause,
    Step, TakeOutReason,
};

use crate::readiness::{ProofStatus, Readiness};

/// A piece of evidence the proof lacks, with the sentence that explains it and the next step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KnownGap {
    /// What is missing.
    pub gap: Gap,
    /// The gap as a sentence, rendered from `gap`.
    pub message: String,
    /// What to do about it, rendered from `gap`.
    pub next_step: String,
}

impl From<Gap> for KnownGap {
    fn from(gap: Gap) -> Self {
        Self { message: gap.message(), next_step: gap.next_step(), gap }
    }
}

/// What a proof lacks.
///
/// A gap either belongs to a readiness rung ([`Gap::rung`]) or stops the run and sets the
/// status ([`Gap::halts_with`]); the proof's readiness is the lowest rung of its gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// The run was cancelled.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// The run is paused.
    Paused {
        /// Why.
        reason: String,
    },
    /// A step failed for a reason outside the change.
    InfraFailure {
        /// The step that failed.
        step: Step,
        /// The error.
        error: String,
    },
    /// A budget resource ran out.
    BudgetExhausted {
        /// The resource.
        resource: BudgetResource,
        /// Its limit.
        limit: f64,
        /// What was used.
        used: f64,
    },
    /// The run waits on something outside omk.
    BlockedOnExternal {
        /// On what.
        reason: String,
    },
    /// A person must answer a question.
    DecisionPending {
        /// What about.
        subject: DecisionSubject,
        /// The question.
        question: String,
    },
    /// No gate ran on the change.
    NoGates,
    /// Gates ran, but none is required.
    NoRequiredGate,
    /// A required gate's latest run failed, or one of its runs on the proposed tree since the
    /// last change did.
    RequiredGateFailed {
        /// The gate's name.
        gate: String,
    },
    /// A gate the goal's kind requires never ran on the change.
    OracleGateMissing {
        /// The gate's name.
        gate: String,
    },
    /// A required test gate passed but ran zero tests.
    RequiredGateRanNoTests {
        /// The gate's name.
        gate: String,
    },
    /// No required test gate ran on the change, so nothing shows that tests ran.
    NoTestGate,
    /// A required test gate passed, but omk read no test count from its output and the project
    /// did not declare its exit code to stand for its tests.
    TestsNotCounted {
        /// The gate's name.
        gate: String,
    },
    /// Required test gates ran on the change, but none passed on the proposed tree having
    /// counted one or more tests.
    NoCountedTests {
        /// The required test gates.
        gates: Vec<String>,
    },
    /// A gate's result differs on the same tree (it passed once and failed once), so its pass
    /// proves nothing until a person decides; policy acceptance does not.
    GateFlaky {
        /// The gate's name.
        gate: String,
        /// The goal or gate run whose result differs, when the gate cache recorded it.
        with: Option<String>,
    },
    /// No agent run finished.
    AgentNotRun,
    /// Slices of a team goal have not landed or ended yet: the team run did not finish.
    ///
    /// A team goal's slices are its agent runs, so this holds the rung of
    /// [`Gap::AgentNotRun`].
    SlicesUnfinished {
        /// The unfinished slices, in graph order.
        tasks: Vec<String>,
    },
    /// A slice of a team goal will not land: it failed for good or was taken out, and no
    /// follow-up run of the goal's agent came after.
    ///
    /// Its part of the goal is missing from the integrated tree, so this holds the rung of
    /// [`Gap::AgentFailed`].
    SliceNotLanded {
        /// The slice's task.
        task: String,
        /// Why it did not land.
        why: NotLanded,
    },
    /// The agent's latest run failed.
    AgentFailed {
        /// Why, when known.
        error: Option<String>,
    },
    /// The review wall has not run on the proposed tree.
    ReviewNotRun,
    /// A declared review check did not finish on the proposed tree.
    ReviewCheckMissing {
        /// The check.
        check: String,
    },
    /// A review check failed or is blocked.
    ReviewCheckFailed {
        /// The check.
        check: String,
        /// Its next step, as the check said.
        next_step: Option<String>,
    },
    /// The agent finished, but omk did not capture the changes from git afterwards.
    ChangesNotCaptured,
    /// Git shows no change.
    NoChanges,
    /// omk did not compare the gate surface of the proposed tree with the base.
    GateSurfaceNotChecked,
    /// The change touches the gate surface and nobody approved it.
    GateSurfaceChanged {
        /// The gate-surface files that differ.
        paths: Vec<String>,
        /// Whether a person rejected the change of the surface (rather than not deciding yet).
        rejected: bool,
    },
    /// A required gate has not run since the last change.
    GateNotRunAfterChange {
        /// The gate's name.
        gate: String,
    },
    /// A required gate last ran on another tree than the proposed one.
    GateRanOnDifferentTree {
        /// The gate's name.
        gate: String,
        /// The tree it ran on, when recorded.
        tree_id: Option<String>,
    },
    /// A proposed gate changed or deleted files of the proposed tree while the gates ran: omk
    /// put them back, but the gates' results are for a tree that changed under them.
    GateRewroteTree {
        /// The files the gates changed, sorted.
        paths: Vec<String>,
    },
    /// Nobody has accepted the proposed tree.
    AcceptanceMissing,
    /// An acceptance exists, but for another tree than the proposed one.
    AcceptedOtherTree {
        /// The tree that was accepted.
        tree_id: String,
    },
    /// The change was rejected.
    ChangeRejected {
        /// Who rejected it.
        by: Actor,
        /// Why.
        reason: String,
    },
    /// A run of the goal started its processes unconfined (no Landlock, or `[sandbox] mode =
    /// "off"`), so what they wrote outside the worktree is unknown; a person may still accept
    /// the change, a policy may not.
    Unconfined {
        /// Why, as the sandbox recorded it.
        reason: String,
    },
    /// The goal's kind needs a required test gate that fails without the change and passes
    /// with it, and none does.
    NoTestFailsWithoutChange {
        /// The required test gates that ran on the base tree with the change's test files (and
        /// passed there); empty when none ran.
        gates: Vec<String>,
        /// The change's test files; empty when it has none.
        test_paths: Vec<String>,
    },
    /// The goal's kind needs a test that fails without the change, and omk has not yet run the
    /// tests on the base tree with the change's test files.
    FailToPassNotChecked,
    /// The user's checkout (its files, index, refs, HEAD, `.git/config` or hooks) changed between
    /// a baseline fingerprint (taken before the agent started, or when a later run of the goal
    /// began) and a later one: something the run started wrote outside its worktree, or someone
    /// else did meanwhile.
    ///
    /// It holds the rung of [`Gap::RequiredGateFailed`]: a run that wrote outside its worktree
    /// may have done anything its evidence does not show.
    CheckoutChanged {
        /// What changed, part by part.
        changes: Vec<CheckoutDifference>,
    },
}

impl Gap {
    /// Returns the readiness rung this gap holds the proof at, or `None` for a gap that stops
    /// the run instead (see [`Gap::halts_with`]) or waits on a person.
    pub fn rung(&self) -> Option<Readiness> {
        Some(match self {
            Self::Cancelled { .. }
            | Self::Paused { .. }
            | Self::InfraFailure { .. }
            | Self::BudgetExhausted { .. }
            | Self::BlockedOnExternal { .. }
            | Self::DecisionPending { .. } => return None,
            Self::NoGates
            | Self::NoRequiredGate
            | Self::RequiredGateFailed { .. }
            | Self::OracleGateMissing { .. }
            | Self::NoTestGate
            | Self::CheckoutChanged { .. }
            | Self::NoTestFailsWithoutChange { .. }
            | Self::FailToPassNotChecked => Readiness::GatesFailing,
            Self::RequiredGateRanNoTests { .. }
            | Self::TestsNotCounted { .. }
            | Self::NoCountedTests { .. } => Readiness::NoTestsRan,
            Self::AgentNotRun | Self::SlicesUnfinished { .. } => Readiness::AgentNotRun,
            Self::AgentFailed { .. } | Self::SliceNotLanded { .. } => Readiness::AgentFailed,
            Self::ReviewNotRun => Readiness::ReviewMissing,
            Self::ReviewCheckMissing { .. } | Self::ReviewCheckFailed { .. } => {
                Readiness::ReviewFailed
            }
            Self::ChangesNotCaptured | Self::NoChanges => Readiness::NoChanges,
            Self::GateSurfaceNotChecked | Self::GateSurfaceChanged { .. } => {
                Readiness::GateSurfaceChanged
            }
            Self::GateNotRunAfterChange { .. } => Readiness::NotRerunAfterChange,
            Self::GateRanOnDifferentTree { .. } | Self::GateRewroteTree { .. } => {
                Readiness::GatesOnDifferentTree
            }
            Self::AcceptanceMissing
            | Self::AcceptedOtherTree { .. }
            | Self::ChangeRejected { .. }
            | Self::Unconfined { .. }
            | Self::GateFlaky { .. } => Readiness::AwaitingAcceptance,
        })
    }

    /// Returns the sentence of the rung this gap holds, said of a team goal's slices when the
    /// gap is theirs.
    pub fn rung_sentence(&self) -> Option<&'static str> {
        match self {
            Self::SlicesUnfinished { .. } => {
                Some("the gates pass, but the team's slices have not all landed")
            }
            Self::SliceNotLanded { .. } => {
                Some("the gates pass, but a slice of the team did not land")
            }
            Self::NoTestGate => Some("no required test gate ran on the change"),
            Self::TestsNotCounted { .. } => {
                Some("a required test gate passed, but omk could not count its tests")
            }
            Self::GateFlaky { .. } => {
                Some("a gate is flaky on the proposed tree; a person must decide on it")
            }
            Self::CheckoutChanged { .. } => {
                Some("the user's checkout changed while the goal ran, outside its worktree")
            }
            other => other.rung().map(Readiness::sentence),
        }
    }

    /// Returns the status this gap gives the proof when it stops the run, or `None`.
    pub fn halts_with(&self) -> Option<ProofStatus> {
        match self {
            Self::Cancelled { .. } => Some(ProofStatus::Cancelled),
            Self::Paused { .. } => Some(ProofStatus::Paused),
            Self::InfraFailure { .. } => Some(ProofStatus::FailedInfra),
            Self::BudgetExhausted { .. } => Some(ProofStatus::NeedsMoreBudget),
            Self::BlockedOnExternal { .. } => Some(ProofStatus::BlockedOnExternal),
            _ => None,
        }
    }

    /// Returns the gap as a sentence.
    pub fn message(&self) -> String {
        match self {
            Self::Cancelled { reason } => format!("the run was cancelled: {reason}"),
            Self::Paused { reason } => format!("the run is paused: {reason}"),
            Self::InfraFailure { step, error } => format!("the {step} step failed: {error}"),
            Self::BudgetExhausted { resource, limit, used } => {
                format!("the {resource} budget ran out: used {used} of {limit}")
            }
            Self::BlockedOnExternal { reason } => format!("the run is blocked: {reason}"),
            Self::DecisionPending { question, .. } => format!("a person must decide: {question}"),
            Self::NoGates => "no verification gate ran on the change".to_owned(),
            Self::NoRequiredGate => "no gate that ran on the change is required".to_owned(),
            Self::RequiredGateFailed { gate } => {
                format!("required gate {gate} failed")
            }
            Self::OracleGateMissing { gate } => {
                format!("gate {gate}, which the goal's kind requires, never ran on the change")
            }
            Self::RequiredGateRanNoTests { gate } => {
                format!("required test gate {gate} ran zero tests")
            }
            Self::NoTestGate => {
                "no required test gate ran on the change, so nothing shows that tests ran"
                    .to_owned()
            }
            Self::TestsNotCounted { gate } => format!(
                "required test gate {gate} passed, but omk read no test count from its output \
                 or from a JUnit report it wrote"
            ),
            Self::NoCountedTests { gates } => format!(
                "no required test gate ({}) passed on the proposed tree with one or more tests \
                 counted",
                gates.join(", ")
            ),
            Self::GateFlaky { gate, with: Some(with) } => format!(
                "gate {gate} is flaky: its result on the same files differs from that of {with}"
            ),
            Self::GateFlaky { gate, with: None } => {
                format!("gate {gate} is flaky: it passed and failed on the proposed tree")
            }
            Self::AgentNotRun => "no agent run has finished".to_owned(),
            Self::AgentFailed { error: Some(error) } => format!("the agent's run failed: {error}"),
            Self::AgentFailed { error: None } => "the agent's run failed".to_owned(),
            Self::SlicesUnfinished { tasks } => format!(
                "the team run did not finish: {} not landed yet ({})",
                if tasks.len() == 1 { "1 slice has" } else { "slices have" },
                tasks.join(", ")
            ),
            Self::SliceNotLanded { task, why } => format!("slice {task} did not land: {why}"),
            Self::ReviewNotRun => "the review wall has not run on the proposed tree".to_owned(),
            Self::ReviewCheckMissing { check } => {
                format!("review check {check} did not finish on the proposed tree")
            }
            Self::ReviewCheckFailed { check, .. } => format!("review check {check} did not pass"),
            Self::ChangesNotCaptured => {
                "the changes were not read from git after the agent's last run".to_owned()
            }
            Self::NoChanges => "git shows no changed file in the worktree".to_owned(),
            Self::GateSurfaceNotChecked => {
                "omk has not compared what the gates check between base and change".to_owned()
            }
            Self::GateSurfaceChanged { paths, rejected: false } => format!(
                "the change touches what the gates check ({}), and nobody has approved that",
                paths.join(", ")
            ),
            Self::GateSurfaceChanged { paths, rejected: true } => format!(
                "the change touches what the gates check ({}), and a person rejected that",
                paths.join(", ")
            ),
            Self::GateNotRunAfterChange { gate } => {
                format!("required gate {gate} has not run since the last change")
            }
            Self::GateRanOnDifferentTree { gate, tree_id: Some(tree_id) } => {
                format!("required gate {gate} last ran on tree {tree_id}, not the proposed one")
            }
            Self::GateRanOnDifferentTree { gate, tree_id: None } => {
                format!("required gate {gate} did not record the tree it ran on")
            }
            Self::GateRewroteTree { paths } => format!(
                "the gates changed {} of the proposed tree while they ran; omk put the files \
                 back, but the gates judged a tree that changed under them",
                paths.join(", ")
            ),
            Self::AcceptanceMissing => "nobody has accepted the change yet".to_owned(),
            Self::AcceptedOtherTree { tree_id } => {
                format!("the accepted tree {tree_id} is not the proposed one")
            }
            Self::ChangeRejected { by, reason } => format!("{by} rejected the change: {reason}"),
            Self::Unconfined { reason } => {
                format!("the agent and the gates ran unconfined, without a sandbox: {reason}")
            }
            Self::NoTestFailsWithoutChange { gates, test_paths } => {
                match (gates.is_empty(), test_paths.is_empty()) {
                    (_, true) => "no test fails without this change: it adds or changes no test \
                              file, and no required test gate failed on the base tree"
                        .to_owned(),
                    (true, false) => format!(
                        "no test fails without this change: no required test gate ran on the base \
                     tree with its test files ({})",
                        test_paths.join(", ")
                    ),
                    (false, false) => format!(
                        "no test fails without this change: {} passed on the base tree with its \
                     test files ({})",
                        gates.join(", "),
                        test_paths.join(", ")
                    ),
                }
            }
            Self::FailToPassNotChecked => "omk has not run the tests on the base tree with the \
                                           change's test files, to see one fail without the \
                                           change"
                .to_owned(),
            Self::CheckoutChanged { changes } => format!(
                "the user's checkout changed while the goal ran: {}",
                changes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Returns the next step that closes the gap.
    pub fn next_step(&self) -> String {
        match self {
            Self::Cancelled { .. } => "start a new goal; a cancelled run does not go on".to_owned(),
            Self::Paused { .. } => "resume the run with `omk resume`".to_owned(),
            Self::InfraFailure { .. } => {
                "fix the cause named in the error, then run the goal again".to_owned()
            }
            Self::BudgetExhausted { .. } => {
                "raise the budget with `omk budget add`, then `omk resume`".to_owned()
            }
            Self::BlockedOnExternal { .. } => {
                "remove the blocker named in the reason, then `omk resume`".to_owned()
            }
            Self::DecisionPending { .. } => "answer the question, then `omk resume`".to_owned(),
            Self::NoGates => {
                "configure a gate in omk.toml ([[gates]]) or pass --gate 'CMD', and run again"
                    .to_owned()
            }
            Self::NoRequiredGate => "mark at least one gate required in omk.toml".to_owned(),
            Self::RequiredGateFailed { gate } => {
                format!("read gate {gate}'s output artifact, fix the change, and run again")
            }
            Self::OracleGateMissing { gate } => {
                format!("configure gate {gate} in omk.toml, or classify the goal differently")
            }
            Self::RequiredGateRanNoTests { gate } => format!(
                "make gate {gate} run the tests, or set allow_no_tests = true for it in omk.toml"
            ),
            Self::NoTestGate => "add a gate that runs the tests: a [[gates]] table in omk.toml \
                 (omk infers kind = \"test\" from cargo test, nextest, pytest, go test, npm test \
                 and other runners, or set it), or --gate 'cargo test'; a docs or chore goal \
                 follows [oracle] in omk.toml instead"
                .to_owned(),
            Self::TestsNotCounted { gate } => format!(
                "make gate {gate} print a summary omk reads ({COUNTED_RUNNERS}), or have its \
                 runner write JUnit XML and name the file in the gate's junit key in omk.toml \
                 (junit = \"target/nextest/ci/junit.xml\"; only a report this run wrote counts), \
                 or set tests = \"exit-code\" for it to let its exit code stand for its tests, \
                 which the proof shows as weaker evidence"
            ),
            Self::NoCountedTests { .. } => {
                "make a required test gate run at least one test on the proposed tree".to_owned()
            }
            Self::GateFlaky { gate, .. } => format!(
                "find out why gate {gate} passes and fails on the same files; a person who accepts \
                 the change anyway takes that on (`omk accept`), policy acceptance does not"
            ),
            Self::AgentNotRun => "run the goal to the end".to_owned(),
            Self::AgentFailed { .. } => {
                "read the agent transcript, adjust the prompt or agent, and run again".to_owned()
            }
            Self::SlicesUnfinished { .. } => {
                "resume the run with `omk resume`; it runs the slices that are left".to_owned()
            }
            Self::SliceNotLanded { task, why } => slice_next_step(task, why),
            Self::ReviewNotRun | Self::ReviewCheckMissing { .. } => {
                "run the review wall on the proposed tree".to_owned()
            }
            Self::ReviewCheckFailed { check, next_step } => next_step
                .clone()
                .unwrap_or_else(|| format!("read review section {check}, fix the change")),
            Self::ChangesNotCaptured => "run the goal to the end".to_owned(),
            Self::NoChanges => "make the prompt say what should change, and run again".to_owned(),
            Self::GateSurfaceNotChecked => "run the gate-surface check on the change".to_owned(),
            Self::GateSurfaceChanged { rejected: false, .. } => {
                "review the listed files and approve or reject the change of the gate surface"
                    .to_owned()
            }
            Self::GateSurfaceChanged { rejected: true, .. } => {
                "revert the listed gate-surface files in the change, and run again".to_owned()
            }
            Self::GateNotRunAfterChange { .. } | Self::GateRanOnDifferentTree { .. } => {
                "run the gates on the proposed tree".to_owned()
            }
            Self::GateRewroteTree { .. } => "make the gates check files without rewriting \
                them (a formatter gate with its check flag, such as `cargo fmt --check`), then \
                run the gates again with `omk resume --prompt`"
                .to_owned(),
            Self::AcceptanceMissing | Self::AcceptedOtherTree { .. } => {
                "review the change on the goal's branch and accept it if you agree".to_owned()
            }
            Self::ChangeRejected { .. } => "address the reason and run a follow-up goal".to_owned(),
            Self::Unconfined { .. } => "check your checkout and $HOME for writes outside the \
                worktree, then accept it yourself with `omk accept` (`omk run --accept` does not \
                merge an unconfined run), or run it again with the sandbox on"
                .to_owned(),
            Self::NoTestFailsWithoutChange { gates, test_paths }
                if gates.is_empty() && !test_paths.is_empty() =>
            {
                "configure a required test gate in omk.toml ([[gates]] with kind = \"test\") \
                 that runs the change's tests, and run again"
                    .to_owned()
            }
            Self::NoTestFailsWithoutChange { .. } => {
                "add a test that reproduces the bug: it must fail on the base tree and pass with \
                 the change (`omk resume --prompt \"add a test that fails without the fix\"`); \
                 or, if no test can show it, waive the rule with `omk run --no-fail-to-pass` or \
                 `[oracle] fail_to_pass = false` in omk.toml"
                    .to_owned()
            }
            Self::FailToPassNotChecked => "run the goal to the end with `omk resume`".to_owned(),
            Self::CheckoutChanged { .. } => "inspect the listed paths and refs in your checkout \
                 (`git status`, `git diff`, `git reflog`, `.git/config`, `.git/hooks/`), restore \
                 what you did not change yourself, and start a new goal; this goal's change \
                 is not merged"
                .to_owned(),
        }
    }
}

/// Returns the next step for a slice of a team goal that did not land.
fn slice_next_step(task: &str, why: &NotLanded) -> String {
    let first = match why {
        NotLanded::Failed { .. } => format!("read slice {task}'s transcript"),
        NotLanded::TakenOut(TakeOutReason::Conflict { paths }) => {
            format!("look at the conflict in {}", paths.join(", "))
        }
        NotLanded::TakenOut(TakeOutReason::BrokeGates { gates, .. }) => {
            format!("find out why {task} breaks {} once merged", gates.join(", "))
        }
        NotLanded::TakenOut(TakeOutReason::Dependency { task: dependency }) => {
            format!("land task {dependency} first")
        }
    };
    format!(
        "{first}, then do task {task} in a follow-up (`omk resume --prompt \"…\"`) \
             or in a new goal"
    )
}

// Written `{"kind": "failed", ...}`, or a `TakeOutReason` with its kind under `kind`
// (`{"kind": "conflict", "paths": [...]}`) by hand in `take_out.rs`, since the event names the
// kind under `why`.
/// Why a slice of a team goal will not land.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(tag = "kind", rename_all = "snake_case", transform = crate::take_out::not_landed_schema)
)]
pub enum NotLanded {
    /// Its last attempt failed and no retry follows.
    Failed {
        /// Why, in a word.
        cause: FailureCause,
        /// Why, in a sentence.
        reason: String,
    },
    /// Taken out of the goal's change, for the reason given.
    #[cfg_attr(feature = "schema", schemars(skip))]
    TakenOut(TakeOutReason),
}

impl fmt::Display for NotLanded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { cause, reason } => {
                write!(f, "it failed for good ({cause}): {reason}")
            }
            Self::TakenOut(TakeOutReason::Conflict { paths }) => {
                write!(f, "it was taken out because its merge conflicts in {}", paths.join(", "))
            }
            Self::TakenOut(TakeOutReason::BrokeGates { gates, .. }) => {
                write!(f, "it was taken out because, merged alone, it broke {}", gates.join(", "))
            }
            Self::TakenOut(TakeOutReason::Dependency { task }) => {
                write!(f, "it was taken out because it depends on {task}, which did not land")
            }
        }
    }
}
