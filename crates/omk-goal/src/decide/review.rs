//! The review wall: deterministic checks of a proposed change, one `review_finished` each.
//!
//! The wall is pure: it reads the diff, the gate results and the agent's last message it is
//! given, and returns events; it does no I/O and reads no clock. Same input, same output.

mod checks;
mod secrets;
#[cfg(test)]
mod tests;

use omk_config::ReviewConfig;
use omk_events::{
    GateFinished, GatePhase, GateSurfaceChecked, GoalKind, ReviewFinished, ReviewStarted,
    ReviewStatus,
};
use omk_worktree::FileDiff;

/// The checks of the wall, in the order they run and are reported.
pub const CHECKS: [&str; 7] =
    ["secrets", "gate_surface", "diff_size", "binary_files", "forbidden_paths", "claims", "oracle"];

/// What the review wall looks at: one proposed tree and the evidence about it.
#[derive(Debug, Clone, Copy)]
pub struct ReviewInput<'a> {
    /// The proposed tree under review.
    pub tree_id: &'a str,
    /// The files that differ from the base, from [`omk_worktree::diff_trees`].
    pub files: &'a [FileDiff],
    /// The gate results on this tree; results of the baseline phase or of another tree are
    /// ignored.
    pub gates: &'a [GateFinished],
    /// What the change does to the gate surface, when it was checked.
    pub gate_surface: Option<&'a GateSurfaceChecked>,
    /// The agent's last message, if it left one.
    pub final_message: Option<&'a str>,
    /// The gates that must pass to prove the goal (from `goal_classified`).
    pub oracle_gates: &'a [String],
    /// The kind of change the goal asks for.
    pub goal_kind: GoalKind,
    /// The limits and lists of `[review]`.
    pub config: &'a ReviewConfig,
}

/// Runs every check of [`CHECKS`] on `input` and returns the `review_started` event and one
/// `review_finished` per check, in the order of [`CHECKS`].
///
/// A check that does not pass says why in its evidence (one fact per entry, naming files and
/// lines) and what to do in `next_step`. Long lists of findings are cut after
/// [`MAX_FINDINGS`] entries, with a last entry that counts the rest.
pub fn review(input: &ReviewInput<'_>) -> (ReviewStarted, Vec<ReviewFinished>) {
    let started = ReviewStarted {
        tree_id: input.tree_id.to_owned(),
        checks: CHECKS.iter().map(|check| (*check).to_owned()).collect(),
    };
    let gates: Vec<&GateFinished> = input
        .gates
        .iter()
        .filter(|gate| gate.phase == GatePhase::Proposed)
        .filter(|gate| gate.tree_id.as_deref().is_none_or(|tree| tree == input.tree_id))
        .collect();
    // In the order of CHECKS.
    let verdicts = [
        secrets::check_secrets(input.files, &input.config.secrets_allow),
        checks::check_gate_surface(input.files, input.gate_surface),
        checks::check_diff_size(input.files, input.config),
        checks::check_binary_files(input.files, input.config),
        checks::check_forbidden_paths(input.files, &input.config.forbidden_paths),
        checks::check_claims(input.final_message, &gates),
        checks::check_oracle(input.oracle_gates, &gates, input.goal_kind),
    ];
    let results = CHECKS
        .iter()
        .zip(verdicts)
        .map(|(check, verdict)| ReviewFinished {
            check: (*check).to_owned(),
            tree_id: input.tree_id.to_owned(),
            status: verdict.status,
            evidence: verdict.evidence,
            risks: verdict.risks,
            next_step: verdict.next_step,
        })
        .collect();
    (started, results)
}

/// The most findings a check lists in its evidence; the rest are counted in one entry.
pub const MAX_FINDINGS: usize = 20;

/// What one check found.
#[derive(Debug)]
struct Verdict {
    status: ReviewStatus,
    evidence: Vec<String>,
    risks: Vec<String>,
    next_step: Option<String>,
}

impl Verdict {
    /// Returns a verdict of `status` with `evidence`, no risks and no next step.
    fn new(status: ReviewStatus, evidence: Vec<String>) -> Self {
        Self { status, evidence, risks: Vec::new(), next_step: None }
    }
}

/// Appends `findings` to `evidence`, at most [`MAX_FINDINGS`] of them and then a count of the
/// rest.
fn push_findings(evidence: &mut Vec<String>, findings: &[String]) {
    evidence.extend(findings.iter().take(MAX_FINDINGS).cloned());
    if findings.len() > MAX_FINDINGS {
        evidence.push(format!("and {} more", findings.len() - MAX_FINDINGS));
    }
}

/// Returns `n` and `noun`, with an `s` unless `n` is 1: `1 file`, `3 files`.
fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Returns `text` cut to at most `max_chars` characters, with `…` when cut.
fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}
