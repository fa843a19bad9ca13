//! The review step: the deterministic review wall on the proposed tree, one event per check.

use omk_events::{Event, GateFinished, GatePhase, GateSurfaceChecked, GoalKind};

use crate::{
    decide::review::{ReviewInput, review as review_wall},
    error::Error,
    run::controller::{Controller, Flow},
};

/// Runs the review wall on the proposed tree and records the checks not recorded yet.
///
/// The wall is a pure function of the diff and the log, so a run that crashed half-way through
/// it records the missing checks with the results the first run would have had.
pub(crate) fn review(ctl: &mut Controller<'_>) -> Result<Flow, Error> {
    let state = &ctl.rec.state;
    let (Some(worktree), Some(tree)) = (state.worktree.clone(), state.tree.clone()) else {
        return Ok(Flow::Stop);
    };
    let base = state.base_commit.clone();
    let final_message = state.agent_final_message.clone();
    let missing = state.missing_reviews();

    // What the wall weighs, read back from the log.
    let mut gates: Vec<GateFinished> = Vec::new();
    let mut surface: Option<GateSurfaceChecked> = None;
    let mut oracle_gates: Vec<String> = Vec::new();
    let mut goal_kind = GoalKind::Feature;
    for envelope in omk_events::LogReader::open(&ctl.paths.events)? {
        match envelope?.event {
            Event::GateFinished(gate)
                if gate.phase == GatePhase::Proposed && gate.tree_id.as_deref() == Some(&tree) =>
            {
                gates.retain(|it| it.name != gate.name);
                gates.push(gate);
            }
            Event::GateSurfaceChecked(check) if check.tree_id == tree => surface = Some(check),
            Event::GoalClassified(classified) => {
                goal_kind = classified.goal_kind;
                oracle_gates = classified.oracle_gates;
            }
            _ => {}
        }
    }
    let files = match omk_worktree::diff_trees(&worktree.path, &base, &tree) {
        Ok(files) => files,
        Err(err) => {
            ctl.rec.fail(omk_events::Step::Review, &err)?;
            return Ok(Flow::Stop);
        }
    };
    let input = ReviewInput {
        tree_id: &tree,
        files: &files,
        gates: &gates,
        gate_surface: surface.as_ref(),
        final_message: final_message.as_deref(),
        oracle_gates: &oracle_gates,
        goal_kind,
        config: &ctl.config.goal.review,
    };
    let (started, finished) = review_wall(&input);
    match missing {
        Some(missing) => {
            for result in finished.into_iter().filter(|it| missing.contains(&it.check)) {
                ctl.rec.record(Event::ReviewFinished(result))?;
            }
        }
        None => {
            ctl.rec.record(Event::ReviewStarted(started))?;
            for result in finished {
                ctl.rec.record(Event::ReviewFinished(result))?;
            }
        }
    }
    Ok(Flow::Continue)
}
