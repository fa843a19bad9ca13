//! What goals are doing (`omk status`, `omk list`, `omk show`), and the commands that act on a
//! goal from outside its run: `omk pause`, `omk cancel`, `omk budget add`.

use std::{path::Path, time::Duration};

use chrono::{DateTime, Utc};

use omk_events::{BudgetLimits, BudgetSet, Event, EventLog, GoalCancelled, GoalPaused};
use omk_proof::{BudgetEvidence, Proof};

use crate::{
    RunOutcome,
    clock::Clock,
    error::Error,
    layout::{GoalPaths, Layout},
    run::control::{ControlAction, StopOutcome, ask_live_run},
    store::{GoalOrder, find_goal, fold_log, goal_ids, map_parallel, read_state, write_proof},
};

/// One goal as `omk status` and `omk list` show it.
#[derive(Debug, Clone)]
pub struct GoalStatus {
    /// The goal's files.
    pub paths: GoalPaths,
    /// The proof folded from the log as it is now.
    pub proof: Proof,
    /// The process running the goal, when one is: `Some(None)` when it recorded no pid.
    pub running: Option<Option<u32>>,
    /// The step the goal is at: the next one to run, or why it stopped.
    pub step: String,
    /// The goal's budget: limits and use.
    pub budget: BudgetEvidence,
    /// Where the goal ran, when it was fetched from a remote (`origin.json`); `None` when it
    /// ran here.
    pub origin: Option<crate::Origin>,
}

/// Returns the status of `goal` (id, unique prefix or `latest`; `None` is the latest).
pub fn goal_status(dir: &Path, goal: Option<&str>) -> Result<GoalStatus, Error> {
    let paths = find_goal(dir, goal)?;
    Ok(status_of(paths)?.0)
}

/// Returns the status of every goal in the repository at `dir`, oldest first, in the order
/// `omk_goal`'s goal lookup uses (when each goal was created, then when its log was, then id).
///
/// Each log is read once: its first event gives the order, its fold the status.
pub fn list_goals(dir: &Path) -> Result<Vec<GoalStatus>, Error> {
    let repo = omk_worktree::open(dir)?;
    let layout = Layout::new(&repo.root);
    let mut goals = map_parallel(goal_ids(&repo.root)?, |goal| {
        let (status, created_at) = status_of(layout.goal(&goal))?;
        Ok((GoalOrder::of(created_at, &status.paths.events, goal), status))
    })
    .into_iter()
    .collect::<Result<Vec<_>, Error>>()?;
    goals.sort_by(|(a, _), (b, _)| a.cmp(b));
    Ok(goals.into_iter().map(|(_, status)| status).collect())
}

/// Returns the goal's status and when it was created (its first event).
fn status_of(paths: GoalPaths) -> Result<(GoalStatus, Option<DateTime<Utc>>), Error> {
    // One read of the log serves both folds.
    let (events, state) = read_state(&paths)?;
    let created_at = events.first().map(|first| first.at);
    let proof = omk_proof::synthesize(&events)?;
    let running = EventLog::holder(&paths.events)?;
    let step = match (&state.halt, running) {
        (Some(halt), _) => halt.word().to_owned(),
        (None, Some(_)) => {
            format!("running: {}", crate::run::controller::describe_next(&state.next()))
        }
        (None, None) if state.ended_cleanly => match state.next() {
            crate::decide::state::Next::Done if state.rejected => {
                "rejected; `omk resume --prompt` for a follow-up".to_owned()
            }
            crate::decide::state::Next::Done => "waiting for omk accept or omk reject".to_owned(),
            next => format!("stopped before {}", crate::run::controller::describe_next(&next)),
        },
        (None, None) => format!(
            "interrupted before {}; `omk resume` goes on",
            crate::run::controller::describe_next(&state.next())
        ),
    };
    let budget = proof.budget.clone();
    let origin = crate::read_origin(&paths)?;
    Ok((GoalStatus { paths, proof, running, step, budget, origin }, created_at))
}

/// Asks the goal to pause or be cancelled, and returns what happened and the proof after it.
///
/// A live run is asked through the goal directory and given `wait` to stop. A goal no run holds
/// is cancelled directly in its log; pausing it is an error unless its last run crashed.
pub fn stop_goal(
    dir: &Path,
    goal: Option<&str>,
    action: ControlAction,
    reason: &str,
    wait: Duration,
    clock: &dyn Clock,
) -> Result<(StopOutcome, RunOutcome), Error> {
    let paths = find_goal(dir, goal)?;
    let verb = match action {
        ControlAction::Pause => "pause",
        ControlAction::Cancel => "cancel",
    };
    crate::remote::origin::refuse_fetched(&paths, verb)?;
    if let Some(outcome) = ask_live_run(&paths, action, reason, wait)? {
        let proof = fold_log(&paths.events)?;
        return Ok((outcome, RunOutcome { paths, proof }));
    }
    let (mut log, _) = EventLog::open(&paths.events, clock.now())?;
    let (_, state) = read_state(&paths)?;
    state.refuse_final()?;
    let goal_text = state.goal_id.to_string();
    match (&state.halt, action) {
        (Some(halt), ControlAction::Pause) => {
            return Err(Error::NotRunning { goal: goal_text, state: halt.word().to_owned() });
        }
        (None, ControlAction::Pause) if state.ended_cleanly => {
            return Err(Error::NotRunning {
                goal: goal_text,
                state: "its steps are done".to_owned(),
            });
        }
        _ => {}
    }
    let event = match action {
        ControlAction::Pause => Event::GoalPaused(GoalPaused { reason: reason.to_owned() }),
        ControlAction::Cancel => Event::GoalCancelled(GoalCancelled { reason: reason.to_owned() }),
    };
    log.append(clock.now(), event)?;
    drop(log);
    Ok((StopOutcome::Recorded, write_proof(&paths)?))
}

/// What `omk budget add` adds to a goal's limits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetAdd {
    /// Wall time in milliseconds.
    pub wall_ms: Option<u64>,
    /// Tokens.
    pub tokens: Option<u64>,
    /// US dollars.
    pub usd: Option<f64>,
    /// Agent turns.
    pub turns: Option<u64>,
}

/// Raises the goal's limits by `add`, recorded as a `budget_set` with the new limits.
///
/// A resource without a limit gets one: what the goal used so far plus `add`. The goal must not
/// be running; `omk resume` goes on with the new limits.
pub fn add_budget(
    dir: &Path,
    goal: Option<&str>,
    add: BudgetAdd,
    clock: &dyn Clock,
) -> Result<RunOutcome, Error> {
    if add == BudgetAdd::default() {
        return Err(Error::EmptyBudgetAdd);
    }
    let paths = find_goal(dir, goal)?;
    crate::remote::origin::refuse_fetched(&paths, "raise the budget of")?;
    let (mut log, _) = EventLog::open(&paths.events, clock.now())?;
    let proof = fold_log(&paths.events)?;
    let (old, used) = (proof.budget.limits, proof.budget.used);
    let limits = BudgetLimits {
        wall_ms: add.wall_ms.map(|more| old.wall_ms.unwrap_or(used.wall_ms) + more).or(old.wall_ms),
        tokens: add.tokens.map(|more| old.tokens.unwrap_or(used.tokens) + more).or(old.tokens),
        usd: add.usd.map(|more| old.usd.unwrap_or(used.usd.unwrap_or(0.0)) + more).or(old.usd),
        turns: add.turns.map(|more| old.turns.unwrap_or(used.turns) + more).or(old.turns),
    };
    log.append(clock.now(), Event::BudgetSet(BudgetSet { limits }))?;
    drop(log);
    write_proof(&paths)
}
