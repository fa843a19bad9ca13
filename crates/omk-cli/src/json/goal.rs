//! The documents of goals: `omk run`, `status`, `list`, `show`, `pause`/`cancel` and `budget add`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use omk_goal::{GoalStatus, RunOutcome};
use omk_proof::{BudgetEvidence, Proof, ProofStatus, Readiness, TeamEvidence};

/// The version of the JSON documents `--json` prints. Adding a field keeps it; renaming or
/// removing one, or changing its meaning, bumps it.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Returns `document` as pretty JSON with a final newline.
pub(crate) fn to_string<T: Serialize>(document: &T) -> String {
    let mut text = serde_json::to_string_pretty(document)
        .expect("a --json document serializes: it is plain data with string keys");
    text.push('\n');
    text
}

/// `omk run`, `omk resume` and `omk demo`: the finished run and its proof.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct RunDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal's id.
    pub(crate) goal_id: &'a str,
    /// `.omk/goals/<goal-id>`.
    pub(crate) goal_dir: &'a PathBuf,
    /// The goal's event log.
    pub(crate) events: &'a PathBuf,
    /// The goal's proof file.
    pub(crate) proof_file: &'a PathBuf,
    /// The goal's worktree.
    pub(crate) worktree: &'a PathBuf,
    /// The proof, as `omk proof show --json` prints it.
    pub(crate) proof: &'a Proof,
}

impl<'a> RunDocument<'a> {
    pub(crate) fn new(outcome: &'a RunOutcome) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            goal_id: outcome.proof.goal_id.as_str(),
            goal_dir: &outcome.paths.goal_dir,
            events: &outcome.paths.events,
            proof_file: &outcome.paths.proof,
            worktree: &outcome.paths.worktree,
            proof: &outcome.proof,
        }
    }
}

/// One goal in `omk status`, `omk list` and `omk show`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GoalSummary<'a> {
    /// The goal's id.
    pub(crate) goal_id: &'a str,
    /// The prompt the goal was created with.
    pub(crate) prompt: &'a str,
    /// The proof's status.
    pub(crate) status: ProofStatus,
    /// The proof's readiness: the first rung of the ladder the goal has not cleared.
    pub(crate) readiness: Readiness,
    /// The proof's one-sentence summary.
    pub(crate) summary: &'a str,
    /// The step the goal is at: the next one to run, or why it stopped.
    pub(crate) step: &'a str,
    /// Whether an omk process is running the goal now.
    pub(crate) running: bool,
    /// The pid of that process, when it recorded one.
    pub(crate) pid: Option<u32>,
    /// When the goal was created (RFC 3339, UTC, milliseconds).
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub(crate) started_at: DateTime<Utc>,
    /// Milliseconds from the first to the last event.
    pub(crate) elapsed_ms: u64,
    /// The budget: limits, use, and what ran out.
    pub(crate) budget: &'a BudgetEvidence,
    /// The goal's branch, once its worktree exists.
    pub(crate) branch: Option<&'a str>,
    /// The proposed tree, once the change is captured.
    pub(crate) tree_id: Option<&'a str>,
    /// The command that moves the goal on, when there is one.
    pub(crate) next_command: Option<String>,
    /// Where the goal ran, when it was fetched from a remote (`omk fetch`); absent for a goal
    /// that ran in this clone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) origin: Option<OriginDocument<'a>>,
}

/// Where a fetched goal ran: its `origin.json`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct OriginDocument<'a> {
    /// The machine that ran and pushed the goal (its `OMK_HOST`, else its host name).
    pub(crate) host: &'a str,
    /// Who pushed it.
    pub(crate) user: &'a str,
    /// When it was pushed (RFC 3339, UTC).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub(crate) pushed_at: DateTime<Utc>,
    /// The version of the omk that pushed it.
    pub(crate) omk_version: &'a str,
    /// The remote it was fetched from.
    pub(crate) remote: Option<&'a str>,
    /// The evidence commit it was fetched from (`refs/omk/goals/<goal-id>` on the remote).
    pub(crate) evidence: Option<&'a str>,
}

impl<'a> OriginDocument<'a> {
    pub(crate) fn new(origin: &'a omk_goal::Origin) -> Self {
        Self {
            host: &origin.host,
            user: &origin.user,
            pushed_at: origin.pushed_at,
            omk_version: &origin.omk_version,
            remote: origin.remote.as_deref(),
            evidence: origin.evidence.as_deref(),
        }
    }
}

impl<'a> GoalSummary<'a> {
    pub(crate) fn new(status: &'a GoalStatus) -> Self {
        let proof = &status.proof;
        Self {
            goal_id: proof.goal_id.as_str(),
            prompt: &proof.task.prompt,
            status: proof.status,
            readiness: proof.readiness,
            summary: &proof.summary,
            step: &status.step,
            running: status.running.is_some(),
            pid: status.running.flatten(),
            started_at: proof.task.started_at,
            elapsed_ms: proof.task.elapsed_ms,
            budget: &status.budget,
            branch: proof.git.branch.as_deref(),
            tree_id: proof.git.tree_id.as_deref(),
            next_command: crate::render::next_command(proof),
            origin: status.origin.as_ref().map(OriginDocument::new),
        }
    }
}

/// `omk status`: one goal.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct StatusDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal: GoalSummary<'a>,
    /// A team goal's task graph, slices and merge queue, as in its proof; absent for a single
    /// run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) team: Option<&'a TeamEvidence>,
}

/// `omk list`: every goal of the repository, oldest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ListDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goals.
    pub(crate) goals: Vec<GoalSummary<'a>>,
}

/// `omk show`: one goal and its proof.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ShowDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal: GoalSummary<'a>,
    /// Its proof, folded from the log as it is now.
    pub(crate) proof: &'a Proof,
}

/// `omk pause` and `omk cancel`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct StopDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal_id: &'a str,
    /// `paused` or `cancelled`.
    pub(crate) action: &'a str,
    /// Whether a live run was stopped (otherwise the stop was recorded in the log directly).
    pub(crate) was_running: bool,
    /// The pid of the run that stopped, when it recorded one.
    pub(crate) pid: Option<u32>,
    /// The proof's status afterwards.
    pub(crate) status: ProofStatus,
}

/// `omk budget add`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct BudgetDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal_id: &'a str,
    /// The budget with its new limits.
    pub(crate) budget: &'a BudgetEvidence,
}
