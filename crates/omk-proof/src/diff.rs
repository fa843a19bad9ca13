//! What changed between two proofs of the same goal: status, readiness, gaps, gates, tree and
//! budget.

use std::fmt::Write as _;

use omk_events::short_id;

use crate::{
    model::{Proof, ProofGate},
    readiness::{ProofStatus, Readiness},
};

/// The differences between an earlier and a later proof of one goal.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofDiff {
    /// The status before and after, when it changed.
    pub status: Option<(ProofStatus, ProofStatus)>,
    /// The readiness before and after, when it changed.
    pub readiness: Option<(Readiness, Readiness)>,
    /// The proposed tree before and after, when it changed.
    pub tree: Option<(Option<String>, Option<String>)>,
    /// The messages of gaps the later proof has and the earlier one had not.
    pub gaps_added: Vec<String>,
    /// The messages of gaps the earlier proof had and the later one has not.
    pub gaps_removed: Vec<String>,
    /// The proposed gates whose result changed, were added or were removed.
    pub gates: Vec<GateChange>,
    /// What the later proof used of the budget beyond the earlier one.
    pub budget: BudgetDelta,
    /// The number of events each proof was folded from.
    pub events: (u64, u64),
}

/// One proposed gate whose result differs between two proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateChange {
    /// The gate's name.
    pub name: String,
    /// Its outcome in the earlier proof, `None` when it had not run.
    pub before: Option<String>,
    /// Its outcome in the later proof, `None` when it no longer runs.
    pub after: Option<String>,
}

/// The budget the later proof used beyond the earlier one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetDelta {
    /// Wall-clock milliseconds.
    pub wall_ms: i64,
    /// Tokens.
    pub tokens: i64,
    /// Agent turns.
    pub turns: i64,
    /// US dollars, when both proofs know their cost.
    pub usd: Option<f64>,
}

impl ProofDiff {
    /// Returns whether nothing the diff compares changed.
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.readiness.is_none()
            && self.tree.is_none()
            && self.gaps_added.is_empty()
            && self.gaps_removed.is_empty()
            && self.gates.is_empty()
    }
}

/// Returns what changed from `before` to `after`, two proofs of the same goal.
pub fn diff_proofs(before: &Proof, after: &Proof) -> ProofDiff {
    let messages = |proof: &Proof| -> Vec<String> {
        proof.known_gaps.iter().map(|it| it.message.clone()).collect()
    };
    let (old_gaps, new_gaps) = (messages(before), messages(after));
    let mut gates = Vec::new();
    for gate in after.proposed_gates() {
        let old = before.proposed_gates().find(|it| it.name == gate.name).map(outcome);
        let new = Some(outcome(gate));
        if old != new {
            gates.push(GateChange { name: gate.name.clone(), before: old, after: new });
        }
    }
    for gate in before.proposed_gates() {
        if !after.proposed_gates().any(|it| it.name == gate.name) {
            gates.push(GateChange {
                name: gate.name.clone(),
                before: Some(outcome(gate)),
                after: None,
            });
        }
    }
    let delta = |a: u64, b: u64| {
        i64::try_from(b).unwrap_or(i64::MAX) - i64::try_from(a).unwrap_or(i64::MAX)
    };
    let (old_used, new_used) = (&before.budget.used, &after.budget.used);
    ProofDiff {
        status: changed(before.status, after.status),
        readiness: changed(before.readiness, after.readiness),
        tree: changed(before.git.tree_id.clone(), after.git.tree_id.clone()),
        gaps_added: new_gaps.iter().filter(|it| !old_gaps.contains(it)).cloned().collect(),
        gaps_removed: old_gaps.iter().filter(|it| !new_gaps.contains(it)).cloned().collect(),
        gates,
        budget: BudgetDelta {
            wall_ms: delta(old_used.wall_ms, new_used.wall_ms),
            tokens: delta(old_used.tokens, new_used.tokens),
            turns: delta(old_used.turns, new_used.turns),
            usd: old_used.usd.zip(new_used.usd).map(|(old, new)| new - old),
        },
        events: (before.task.events, after.task.events),
    }
}

fn changed<T: PartialEq>(before: T, after: T) -> Option<(T, T)> {
    (before != after).then_some((before, after))
}

/// Returns a gate's outcome as the diff shows it: `passed` or `failed`, with its test counts.
fn outcome(gate: &ProofGate) -> String {
    let verdict = if gate.passed { "passed" } else { "failed" };
    match gate.tests {
        Some(tests) => format!(
            "{verdict} ({} passed, {} failed, {} skipped)",
            tests.passed, tests.failed, tests.skipped
        ),
        None => verdict.to_owned(),
    }
}

/// Returns the diff as text for a terminal, one change a line.
pub fn render_diff(diff: &ProofDiff) -> String {
    let mut out = String::new();
    let (old_events, new_events) = diff.events;
    writeln!(out, "changes from event {old_events} to event {new_events}").ok();
    if diff.is_empty() {
        out.push_str("  no change in status, readiness, gaps, gates or tree\n");
    }
    if let Some((old, new)) = diff.status {
        writeln!(out, "  status     {old} -> {new}").ok();
    }
    if let Some((old, new)) = diff.readiness {
        writeln!(out, "  readiness  {old} -> {new}").ok();
    }
    if let Some((old, new)) = &diff.tree {
        let show = |tree: &Option<String>| tree.as_deref().map_or("none", short_id).to_owned();
        writeln!(out, "  tree       {} -> {}", show(old), show(new)).ok();
    }
    for gate in &diff.gates {
        let show = |it: &Option<String>| it.clone().unwrap_or_else(|| "not run".to_owned());
        writeln!(out, "  gate {}  {} -> {}", gate.name, show(&gate.before), show(&gate.after)).ok();
    }
    for gap in &diff.gaps_added {
        writeln!(out, "  + gap  {gap}").ok();
    }
    for gap in &diff.gaps_removed {
        writeln!(out, "  - gap  {gap}").ok();
    }
    let budget = diff.budget;
    write!(
        out,
        "  budget     +{} ms, +{} tokens, +{} turns",
        budget.wall_ms, budget.tokens, budget.turns
    )
    .ok();
    if let Some(usd) = budget.usd {
        write!(out, ", +${usd:.4}").ok();
    }
    out.push('\n');
    out
}
