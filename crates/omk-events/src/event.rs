//! The event vocabulary: the envelope of every log line and the typed payload of every kind.

use std::{fmt, path::PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    evidence::{
        BudgetExhausted, BudgetSet, BudgetWarned, ChangeAccepted, ChangeRejected, ChangesCommitted,
        DecisionMade, DecisionRequested, GateStarted, GateSurfaceChecked, GoalBlocked,
        GoalCancelled, GoalClassified, GoalPaused, GoalResumed, RecoveryPerformed, ReviewFinished,
        ReviewStarted,
    },
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

/// The payload of [`Event::AgentActivity`]: one thing an agent did while it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentActivity {
    /// The model step the activity belongs to, from 1.
    pub step: u32,
    /// What happened.
    pub activity: ActivityKind,
    /// The tool, for tool calls and their results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The agent's id of the tool call, for tool calls and their results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Whether a tool call succeeded, for results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// Token usage of the run so far, for usage reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
    /// A short text: the message, or what the tool call does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl AgentActivity {
    /// Returns an activity of `kind` in model step `step`, with no tool, usage or text yet.
    pub fn new(step: u32, kind: ActivityKind) -> Self {
        Self {
            step,
            activity: kind,
            tool: None,
            tool_call_id: None,
            ok: None,
            usage: None,
            text: None,
        }
    }
}

/// What an agent did, in an [`AgentActivity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A model step began.
    Step,
    /// The agent called a tool.
    ToolCall,
    /// A tool call returned.
    ToolResult,
    /// The agent said something.
    Message,
    /// The agent reported its token usage so far.
    Usage,
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Step => "step",
            Self::ToolCall => "tool call",
            Self::ToolResult => "tool result",
            Self::Message => "message",
            Self::Usage => "usage",
        })
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

/// The payload of [`Event::AgentStarted`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentStarted {
    /// The agent, as given by the user.
    pub agent: String,
}

/// The payload of [`Event::AgentFinished`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentFinished {
    /// The agent, as given by the user.
    pub agent: String,
    /// Whether the agent's run completed; this is not whether the change is good.
    pub status: AgentStatus,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// The agent's last message to the user, if it sent one.
    pub final_message: Option<String>,
    /// The number of model steps the agent took.
    pub steps: u32,
    /// The number of tool calls the agent made.
    pub tool_calls: u32,
    /// The number of those tool calls that failed.
    pub failed_tool_calls: u32,
    /// Token usage, when the agent reports it.
    pub usage: Option<TokenUsage>,
    /// The raw transcript of the run.
    pub transcript: Option<ArtifactRef>,
    /// Wall time of the run in milliseconds.
    pub duration_ms: u64,
    /// The agent program's version, when omk could read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// The session id of the run, chosen by omk where the agent allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// How the agent's process ended; `None` for agents that run inside omk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessExit>,
    /// Whether the failure is worth retrying (an overloaded or unreachable model provider).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retryable: bool,
    /// The tool calls the agent reported, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_call_log: Vec<ToolCallRecord>,
    /// What the run cost, reported by the agent or estimated from a price table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// The raw stdout of the agent's process, saved whatever happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<ArtifactRef>,
    /// The raw stderr of the agent's process, saved whatever happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<ArtifactRef>,
    /// Why omk stopped the run while it went on (a budget, `omk pause`, `omk cancel`, Ctrl-C),
    /// as the controller said it; `None` when the run ended on its own or by a timeout.
    ///
    /// A stopped run is `failed`, and its `error` is `omk stopped the agent: <reason>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl AgentFinished {
    /// Returns the report of a run of `agent` that has not done anything yet: failed, no steps.
    pub fn new(agent: &str) -> Self {
        Self {
            agent: agent.to_owned(),
            status: AgentStatus::Failed,
            error: None,
            final_message: None,
            steps: 0,
            tool_calls: 0,
            failed_tool_calls: 0,
            usage: None,
            transcript: None,
            duration_ms: 0,
            agent_version: None,
            session_id: None,
            process: None,
            retryable: false,
            tool_call_log: Vec::new(),
            cost: None,
            stdout: None,
            stderr: None,
            stopped: None,
        }
    }
}

/// How an agent's process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcessExit {
    /// The exit code, `None` when a signal ended the process.
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if any.
    pub signal: Option<i32>,
    /// Whether omk stopped the process because it ran past its wall-clock timeout.
    pub timed_out: bool,
    /// Whether omk stopped the process because it printed nothing for too long.
    pub idle_timed_out: bool,
    /// Lines of stdout that were not part of the protocol (not JSON), kept as diagnostics.
    pub garbage_lines: u32,
    /// Lines longer than omk's line limit, truncated when parsed (the raw artifact is whole).
    pub oversized_lines: u32,
}

/// One tool call an agent reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ToolCallRecord {
    /// The call's id, as the agent named it.
    pub id: String,
    /// The tool's name, such as `WriteFile` or `Bash`.
    pub name: String,
    /// Whether the call succeeded; `None` when the agent did not say.
    pub ok: Option<bool>,
}

/// What an agent run cost, in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Cost {
    /// The amount in US dollars.
    pub usd: f64,
    /// Where the amount comes from.
    pub source: CostSource,
}

/// Where a cost comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CostSource {
    /// The agent reported it (Claude Code's `total_cost_usd`).
    Reported,
    /// omk computed it from the token usage and a price table.
    Estimated {
        /// The price table, such as `omk.toml [prices.kimi]`.
        table: String,
    },
}

/// The payload of [`Event::ApprovalDecided`]: one answer of omk's approval policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApprovalDecided {
    /// The tool the agent asked to use, such as `Shell`.
    pub tool: String,
    /// The agent's id of the tool call, when it gave one.
    pub tool_call_id: Option<String>,
    /// The shell command of the call, if it runs one.
    pub command: Option<String>,
    /// The file path the call writes, if it writes one.
    pub path: Option<String>,
    /// The answer.
    pub decision: ApprovalDecision,
    /// The rule that matched, as written in the policy (`deny command "git push*"`).
    pub rule: String,
    /// Where the rule comes from: `omk.toml` or `default`.
    pub rule_source: String,
}

/// An answer of the approval policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// The call may run.
    Allow,
    /// The call is refused.
    Deny,
    /// A person must decide; in an unattended run, the call is refused.
    Ask,
}

impl fmt::Display for ApprovalDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Ask => "ask",
        })
    }
}

/// How an agent's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// The agent finished its turn.
    Completed,
    /// The agent stopped with an error.
    Failed,
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
        })
    }
}

/// Token usage of an agent run, normalized across agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenUsage {
    /// Input tokens not read from a cache.
    pub input_uncached: u64,
    /// Input tokens read from a cache.
    pub input_cache_read: u64,
    /// Input tokens written to a cache.
    pub input_cache_write: u64,
    /// Output tokens.
    pub output: u64,
}

impl TokenUsage {
    /// Returns the sum of all input and output tokens.
    pub fn total(&self) -> u64 {
        self.input_uncached + self.input_cache_read + self.input_cache_write + self.output
    }
}

impl std::ops::AddAssign for TokenUsage {
    fn add_assign(&mut self, other: Self) {
        self.input_uncached += other.input_uncached;
        self.input_cache_read += other.input_cache_read;
        self.input_cache_write += other.input_cache_write;
        self.output += other.output;
    }
}

/// A file kept beside the log, named by its path relative to the goal directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactRef {
    /// The path relative to the goal directory, with `/` separators.
    pub path: String,
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: u64,
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
}

impl GateFinished {
    /// Returns whether the gate's process passed: it started, exited 0 and did not time out.
    ///
    /// A test gate that ran no tests passed this way but still fails; see
    /// [`GateFinished::failure`].
    pub fn passed(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && self.spawn_error.is_none()
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
