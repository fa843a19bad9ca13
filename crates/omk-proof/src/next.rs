//! The command that moves a goal on from its proof: what the terminal result and the HTML
//! report both print under the verdict.

use omk_events::{BudgetResource, DecisionSubject};

use crate::{
    gap::Gap,
    model::Proof,
    readiness::{ProofStatus, Readiness},
};

/// Returns the `omk` command that moves the goal on from this proof, when there is one.
///
/// A ready proof's next step is to read it as a pull request description; a cancelled goal has
/// none.
pub fn next_command(proof: &Proof) -> Option<String> {
    let goal = proof.goal_id.as_str();
    Some(match proof.status {
        ProofStatus::Ready => format!("omk proof show {goal} --format markdown"),
        ProofStatus::Cancelled => return None,
        ProofStatus::Paused | ProofStatus::FailedInfra | ProofStatus::BlockedOnExternal => {
            format!("omk resume {goal}")
        }
        ProofStatus::NeedsMoreBudget => {
            let add = match proof.budget.exhausted.as_ref().map(|it| it.resource) {
                Some(BudgetResource::Tokens) => "--tokens 100000",
                Some(BudgetResource::Usd) => "--usd 1",
                Some(BudgetResource::Turns) => "--turns 10",
                Some(BudgetResource::WallTime) | None => "--time 10m",
            };
            format!("omk budget add {goal} {add} && omk resume {goal}")
        }
        ProofStatus::BlockedOnHuman => {
            let question = proof
                .human_decisions_required
                .iter()
                .any(|it| matches!(it.subject, DecisionSubject::Question { .. }));
            if question {
                format!("omk resume {goal} --prompt \"ANSWER\"")
            } else {
                format!("omk accept {goal} --approve-gate-surface")
            }
        }
        ProofStatus::NotReady if proof.readiness == Readiness::AwaitingAcceptance => {
            format!("omk accept {goal}")
        }
        // A team run that did not finish goes on where it stopped; a follow-up prompt would
        // leave its slices behind.
        ProofStatus::NotReady
            if proof.known_gaps.iter().any(|it| matches!(it.gap, Gap::SlicesUnfinished { .. })) =>
        {
            format!("omk resume {goal}")
        }
        ProofStatus::NotReady => format!("omk resume {goal} --prompt \"WHAT TO FIX\""),
    })
}
