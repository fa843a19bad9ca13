//! The event vocabulary: the envelope of every log line and the typed payload of every kind.

use std::{fmt, path::PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    agent::{AgentActivity, AgentFinished, AgentStarted, ApprovalDecided},
    artifact::ArtifactRef,
    evidence::{
        BudgetExhausted, BudgetSet, BudgetWarned, ChangeAccepted, ChangeRejected, ChangesCommitted,
        DecisionMade, DecisionRequested, GateStarted, GateSurfaceChecked, GoalBlocked,
        GoalCancelled, GoalClassified, GoalPaused, GoalResumed, RecoveryPerformed, ReviewFinished,
        ReviewStarted,
    },
    gate::GateFinished,
    hash::EventHash,
    ids::{GoalId, Seq},
};

/// One line of a goal's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Envelope {
    /// The log format version, `major.minor`; see [`crate::FORMAT_VERSION`].
    pub format: String,
    /// The position of the event in the log, dense from 1.
    pub seq: Seq,
    /// When the event happened, in UTC with millisecond precision.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub at: DateTime<Utc>,
    /// The goal the event belongs to.
    pub goal_id: GoalId,
    /// What happened.
    #[serde(deserialize_with = "deserialize_event")]
    pub event: Event,
    /// The hash of the previous line, [`EventHash::GENESIS`] for the first; absent in logs of
    /// format 1.0, which predate the hash chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<EventHash>,
    /// The hash of this line; see [`crate::hash`]. Absent in logs of format 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<EventHash>,
}

impl Envelope {
    /// Returns an envelope outside any log: current format, no hash chain.
    ///
    /// For embedding and tests; [`crate::EventLog::append`] makes the envelopes of a log.
    pub fn new(seq: Seq, at: DateTime<Utc>, goal_id: GoalId, event: Event) -> Self {
        Self {
            format: crate::FORMAT_VERSION.to_owned(),
            seq,
            at,
            goal_id,
            event,
            prev: None,
            hash: None,
        }
    }
}

/// What happened, one variant per event kind.
///
/// Serialized with the kind as an internal `kind` tag, in `snake_case`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A goal was created from a prompt; always the first event of a log.
    GoalCreated(GoalCreated),
    /// The goal's isolated worktree was created.
    WorktreeCreated(WorktreeCreated),
    /// The agent was started in the worktree.
    AgentStarted(AgentStarted),
    /// The agent stopped, successfully or not.
    AgentFinished(AgentFinished),
    /// The agent ran gates on its own work through `omk mcp`: its own check, never a proof gate.
    AgentCheckRan(crate::gate::AgentCheckRan),
    /// omk read the worktree's changes from git.
    ChangesCaptured(ChangesCaptured),
    /// A verification gate finished.
    GateFinished(GateFinished),
    /// A step failed for a reason outside the change itself (git, disk, a missing tool).
    GoalFailed(GoalFailed),
    /// The goal's kind was decided, and with it the oracle gates that must prove it.
    GoalClassified(GoalClassified),
    /// The goal's budget limits were set or raised.
    BudgetSet(BudgetSet),
    /// A budget resource ran out; the run stopped to ask for more.
    BudgetExhausted(BudgetExhausted),
    /// A budget resource passed 80 % of its limit.
    BudgetWarned(BudgetWarned),
    /// A gate was started.
    GateStarted(GateStarted),
    /// The files that define what the gates check were compared between base and proposed tree.
    GateSurfaceChecked(GateSurfaceChecked),
    /// The worktree's changes were committed on the goal's branch.
    ChangesCommitted(ChangesCommitted),
    /// The review wall started on a tree, declaring the checks it will run.
    ReviewStarted(ReviewStarted),
    /// One check of the review wall finished.
    ReviewFinished(ReviewFinished),
    /// A person must decide something before the goal can go on.
    DecisionRequested(DecisionRequested),
    /// A person (or a named policy) decided.
    DecisionMade(DecisionMade),
    /// The proposed change was accepted for merging.
    ChangeAccepted(ChangeAccepted),
    /// The proposed change was rejected.
    ChangeRejected(ChangeRejected),
    /// The run was paused; it can be resumed.
    GoalPaused(GoalPaused),
    /// The run was resumed after a pause, a cancellation, a budget stop or a failure.
    GoalResumed(GoalResumed),
    /// The run was cancelled.
    GoalCancelled(GoalCancelled),
    /// The run waits on something outside omk and the repository.
    GoalBlocked(GoalBlocked),
    /// omk repaired its own state after a crash or a torn write.
    RecoveryPerformed(RecoveryPerformed),
    /// omk's approval policy answered an agent's request to use a tool.
    ApprovalDecided(ApprovalDecided),
    /// The agent did something while running: a step, a tool call, a message, token usage.
    ///
    /// The one chatty kind: the log commits these in groups rather than one by one.
    AgentActivity(AgentActivity),
    /// The goal is a team goal: its task graph, validated.
    TaskGraphPlanned(crate::team::TaskGraphPlanned),
    /// A worker claimed a task: its slice's worktree and branch exist and its agent starts.
    TaskClaimed(crate::team::TaskClaimed),
    /// An event of one slice's agent run.
    Slice(crate::team::SliceEvent),
    /// A slice's change is committed on its branch and waits in the merge queue.
    TaskCompleted(crate::team::TaskCompleted),
    /// A slice's attempt failed; it is retried or fails for good.
    TaskFailed(crate::team::TaskFailed),
    /// A batch of slices was merged onto the integration branch.
    QueueMerged(crate::team::QueueMerged),
    /// The batch's gates passed on the merged tree.
    QueueLanded(crate::team::QueueLanded),
    /// The batch broke a gate; the integration branch went back.
    QueueReverted(crate::team::QueueReverted),
    /// A slice will not be part of the goal's change.
    TaskTakenOut(crate::team::TaskTakenOut),
    /// A slice's agent proposed a follow-up task, and the policy decided.
    TaskProposed(crate::team::TaskProposed),
    /// A run of the goal started: the sandbox its processes are confined by.
    SandboxApplied(crate::sandbox::SandboxApplied),
    /// The goal needs no test that fails without its change: a person waived the rule.
    FailToPassWaived(crate::oracle::FailToPassWaived),
    /// omk started the required test gates on the base tree with the change's test files.
    FailToPassStarted(crate::oracle::FailToPassStarted),
    /// The required test gates ran on the base tree with the change's test files (or needed
    /// not run): which fail there.
    FailToPassChecked(crate::oracle::FailToPassChecked),
    /// The user's checkout was fingerprinted, before the agent started or after the last gate.
    CheckoutFingerprinted(crate::checkout::CheckoutFingerprinted),
    /// Gates left files in a worktree whose tree omk captures; omk put the tree back.
    GateLeftFiles(crate::evidence::GateLeftFiles),
    /// The goal's limit on repair rounds was set (`--repair`, `[run] repair_rounds`).
    RepairRoundsSet(crate::repair::RepairRoundsSet),
    /// A repair round started: the agent gets a follow-up about what failed.
    RepairRoundStarted(crate::repair::RepairRoundStarted),
    /// A repair round ended: the checks ran on what its agent left.
    RepairRoundEnded(crate::repair::RepairRoundEnded),
    /// An event of a kind this build does not know, written by a newer omk: kept whole, shown
    /// by replay, ignored by the proof.
    ///
    /// Read from logs only (see [`Envelope`]); it is never written, so serializing it is an
    /// error. [`UnknownEvent::to_json`] gives its JSON back.
    #[serde(skip)]
    Unknown(UnknownEvent),
}

/// How durable an appended event must be before [`crate::EventLog::append`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Synced to disk before `append` returns: every event that changes the goal's state.
    Sync,
    /// Written at once, synced with its group: chatty events whose loss in a power cut costs
    /// detail, not state.
    Group,
}

impl Event {
    /// Returns how durable this event must be when appended.
    pub fn durability(&self) -> Durability {
        match self {
            Self::AgentActivity(_) => Durability::Group,
            Self::Slice(slice) => slice.event.durability(),
            _ => Durability::Sync,
        }
    }
}

/// The one table of kinds: their names in the log and their variants. It makes
/// [`Event::KINDS`], [`Event::kind`] and the fast path of [`parse_event`].
macro_rules! kinds {
    ($($name:literal => $variant:ident,)*) => {
        impl Event {
            /// The `snake_case` names of every kind this build knows, as written in the log.
            pub const KINDS: &[&str] = &[$($name,)*];

            /// Returns the `snake_case` name of the event's kind, as written in the log.
            pub fn kind(&self) -> &str {
                match self {
                    Self::Unknown(unknown) => &unknown.kind,
                    $(Self::$variant(_) => $name,)*
                }
            }

            /// Returns the name of the event's kind when this build knows it.
            pub fn known_kind(&self) -> Option<&'static str> {
                match self {
                    $(Self::$variant(_) => Some($name),)*
                    Self::Unknown(_) => None,
                }
            }
        }

        /// Parses the event object `text` of kind `kind` straight into its payload type, which
        /// ignores the `kind` member; `None` for a kind this build does not know.
        fn parse_known(kind: &str, text: &str) -> Option<Result<Event, serde_json::Error>> {
            match kind {
                $($name => Some(serde_json::from_str(text).map(Event::$variant)),)*
                _ => None,
            }
        }
    };
}

kinds! {
    "goal_created" => GoalCreated,
    "worktree_created" => WorktreeCreated,
    "agent_started" => AgentStarted,
    "agent_finished" => AgentFinished,
    "agent_check_ran" => AgentCheckRan,
    "changes_captured" => ChangesCaptured,
    "gate_finished" => GateFinished,
    "goal_failed" => GoalFailed,
    "goal_classified" => GoalClassified,
    "budget_set" => BudgetSet,
    "budget_exhausted" => BudgetExhausted,
    "budget_warned" => BudgetWarned,
    "gate_started" => GateStarted,
    "gate_surface_checked" => GateSurfaceChecked,
    "changes_committed" => ChangesCommitted,
    "review_started" => ReviewStarted,
    "review_finished" => ReviewFinished,
    "decision_requested" => DecisionRequested,
    "decision_made" => DecisionMade,
    "change_accepted" => ChangeAccepted,
    "change_rejected" => ChangeRejected,
    "goal_paused" => GoalPaused,
    "goal_resumed" => GoalResumed,
    "goal_cancelled" => GoalCancelled,
    "goal_blocked" => GoalBlocked,
    "recovery_performed" => RecoveryPerformed,
    "approval_decided" => ApprovalDecided,
    "agent_activity" => AgentActivity,
    "task_graph_planned" => TaskGraphPlanned,
    "task_claimed" => TaskClaimed,
    "slice" => Slice,
    "task_completed" => TaskCompleted,
    "task_failed" => TaskFailed,
    "queue_merged" => QueueMerged,
    "queue_landed" => QueueLanded,
    "queue_reverted" => QueueReverted,
    "task_taken_out" => TaskTakenOut,
    "task_proposed" => TaskProposed,
    "sandbox_applied" => SandboxApplied,
    "fail_to_pass_waived" => FailToPassWaived,
    "fail_to_pass_started" => FailToPassStarted,
    "fail_to_pass_checked" => FailToPassChecked,
    "checkout_fingerprinted" => CheckoutFingerprinted,
    "gate_left_files" => GateLeftFiles,
    "repair_rounds_set" => RepairRoundsSet,
    "repair_round_started" => RepairRoundStarted,
    "repair_round_ended" => RepairRoundEnded,
}

/// Deserializes an event, keeping one of a kind this build does not know as
/// [`Event::Unknown`] while a known kind with a bad payload stays an error.
fn deserialize_event<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
    parse_event(raw.get()).map_err(serde::de::Error::custom)
}

/// Deserializes the event inside a [`crate::team::SliceEvent`] as [`deserialize_event`] does.
pub(crate) fn deserialize_boxed_event<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Box<Event>, D::Error> {
    deserialize_event(deserializer).map(Box::new)
}

/// Parses one event object; see [`Event::Unknown`].
///
/// The writer puts `kind` first, so the kind is read off the front and the payload parsed
/// directly, without buffering the object as serde's internally tagged enums do. Any other
/// layout takes the derived path.
pub(crate) fn parse_event(text: &str) -> Result<Event, serde_json::Error> {
    let kind = text.strip_prefix("{\"kind\":\"").and_then(|rest| Some(&rest[..rest.find('"')?]));
    if let Some(parsed) = kind.and_then(|kind| parse_known(kind, text)) {
        return parsed;
    }
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Event>(text).or_else(|err| {
        match serde_json::from_str::<Kind<'_>>(text) {
            Ok(Kind { kind }) if !Event::KINDS.contains(&kind.as_ref()) => {
                serde_json::from_str(text).map(Event::Unknown)
            }
            _ => Err(err),
        }
    })
}

/// An event of a kind this build does not know: its kind and its other members, verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnknownEvent {
    /// The kind, as written.
    pub kind: String,
    /// Every other member of the event object.
    // The one `flatten` the style guide allows: a kind from a newer omk has members this build
    // cannot name, and they must be kept verbatim to be shown and re-verified.
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl UnknownEvent {
    /// Returns the event object as it was written: its kind and its other members.
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = serde_json::Map::with_capacity(self.fields.len() + 1);
        object.insert("kind".to_owned(), self.kind.clone().into());
        object.extend(self.fields.iter().map(|(key, value)| (key.clone(), value.clone())));
        serde_json::Value::Object(object)
    }
}

/// The payload of [`Event::GoalCreated`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalCreated {
    /// The user's prompt, verbatim.
    pub prompt: String,
    /// The root of the repository the goal works on.
    pub repo_root: PathBuf,
    /// The branch checked out when the goal started, `None` on a detached HEAD.
    pub base_branch: Option<String>,
    /// The commit the goal's worktree starts from.
    pub base_commit: String,
    /// The agent that will make the change, as given by the user (`script:fix.txt`).
    pub agent: String,
    /// The version of omk that created the goal.
    pub omk_version: String,
    /// Gates given on the command line (`--gate CMD`), as shell command lines, run as required
    /// gates `gate-1`, `gate-2`, ... after those of `omk.toml`; kept so a resumed run runs
    /// the same gates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_gates: Vec<String>,
}

/// The payload of [`Event::WorktreeCreated`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WorktreeCreated {
    /// The worktree's directory.
    pub path: PathBuf,
    /// The branch checked out in it, `omk/<goal-id>`.
    pub branch: String,
    /// The commit the branch was created at.
    pub base_commit: String,
}

/// The payload of [`Event::ChangesCaptured`]: what changed in the worktree, according to git.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangesCaptured {
    /// The commit the changes are measured against.
    pub base_commit: String,
    /// The git tree id of the worktree's whole content, untracked files included.
    pub tree_id: String,
    /// The changed files, sorted by path.
    pub files: Vec<ChangedFile>,
    /// The change as a unified diff against `base_commit` (`artifacts/diff/<tree>.patch`), when
    /// omk wrote one; `git apply` applies it to the base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<ArtifactRef>,
}

/// A file that differs between the base commit and the captured tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChangedFile {
    /// The path relative to the repository root, with `/` separators.
    pub path: String,
    /// What happened to the file.
    pub operation: FileOperation,
    /// The old path; set exactly when `operation` is `renamed`.
    pub renamed_from: Option<String>,
    /// Lines added; `None` for binary files.
    pub lines_added: Option<u64>,
    /// Lines removed; `None` for binary files.
    pub lines_removed: Option<u64>,
    /// The git blob id of the new content; `None` when the file was deleted.
    pub blob_id: Option<String>,
}

/// What happened to a changed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileOperation {
    /// The file is new.
    Created,
    /// The file's content or mode changed.
    Modified,
    /// The file was removed.
    Deleted,
    /// The file was moved, possibly with edits.
    Renamed,
}

impl fmt::Display for FileOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
            Self::Renamed => "renamed",
        })
    }
}

/// The payload of [`Event::GoalFailed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalFailed {
    /// The step that failed.
    pub step: Step,
    /// The error, with its causes, as one line.
    pub error: String,
}

/// A step of the goal pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Creating the worktree.
    Worktree,
    /// Running the agent.
    Agent,
    /// Reading the changes from git.
    Changes,
    /// Running the gates.
    Gates,
    /// Committing the change in the worktree.
    Commit,
    /// Running the review wall.
    Review,
    /// Merging an accepted change.
    Integration,
    /// Fingerprinting the user's checkout.
    Checkout,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Worktree => "worktree",
            Self::Agent => "agent",
            Self::Changes => "changes",
            Self::Gates => "gates",
            Self::Commit => "commit",
            Self::Review => "review",
            Self::Integration => "integration",
            Self::Checkout => "checkout",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn agent_finished_stopped_is_additive() -> TestResult {
        let mut finished = AgentFinished::new("kimi");
        let before = serde_json::to_string(&Event::AgentFinished(finished.clone()))?;
        assert!(!before.contains("stopped"), "{before}");
        assert_eq!(parse_event(&before)?, Event::AgentFinished(finished.clone()));

        finished.stopped = Some("token budget of 1000 spent".to_owned());
        let after = serde_json::to_string(&Event::AgentFinished(finished.clone()))?;
        assert!(after.contains(r#""stopped":"token budget of 1000 spent""#), "{after}");
        assert_eq!(parse_event(&after)?, Event::AgentFinished(finished));
        Ok(())
    }
}
