//! The agent step's retries, a step of the controller: a run that failed with a retryable error
//! (a rate limit, an overloaded provider, Kimi print mode's exit 75) runs again after a wait,
//! from a clean worktree, up to `[agent] retries` times; then the goal is blocked on the outside.
//!
//! The retried run starts from the branch's commit, not from what the failed run left: the
//! failed run's half-done edits are discarded (tracked files reset, untracked files removed,
//! ignored ones kept), so an edit it made before failing is not made twice. Its transcript and
//! its `agent_finished` stay as evidence.

use std::time::{Duration, Instant};

use omk_events::{Event, GoalBlocked, RecoveryAction, RecoveryPerformed, Step, short_id};

use crate::{
    error::Error,
    run::{
        control::Stopper,
        controller::{Controller, Flow},
    },
};

impl Controller<'_> {
    /// Prepares the agent step when the agent's latest run failed with a retryable error: blocks
    /// the goal when the retries are spent, else resets the worktree and waits out the backoff.
    ///
    /// Returns [`Flow::Stop`] when the goal is blocked, failed or stopped meanwhile.
    pub(crate) fn prepare_retry(&mut self, stopper: &Stopper<'_>) -> Result<Flow, Error> {
        let state = &self.rec.state;
        if !state.agent_retry_pending {
            return Ok(Flow::Continue);
        }
        let Some(worktree) = state.worktree.clone() else { return Ok(Flow::Stop) };
        let failures = state.agent_retryable_failures;
        let retries = self.config.agent.retries;
        let error = state.agent_error.clone().unwrap_or_else(|| "no error text".to_owned());
        if failures > retries {
            self.rec.record(Event::GoalBlocked(GoalBlocked {
                reason: format!(
                    "the agent failed with a retryable error {} in a row ([agent] retries = \
                     {retries}), the last time: {error}",
                    times(failures)
                ),
            }))?;
            return Ok(Flow::Stop);
        }
        let commit = state.head_commit.clone().unwrap_or_else(|| state.created.base_commit.clone());
        if let Err(err) = omk_worktree::discard_changes(&worktree.path, &commit) {
            self.rec.fail(Step::Agent, &err)?;
            return Ok(Flow::Stop);
        }
        let doublings = failures.saturating_sub(1).min(16);
        let backoff = self.config.agent.retry_backoff.saturating_mul(1 << doublings);
        self.rec.record(Event::RecoveryPerformed(RecoveryPerformed {
            action: RecoveryAction::AgentRetried,
            detail: format!(
                "retry {} of {retries} in {} ms, the worktree reset to {}, after: {error}",
                failures.max(1),
                backoff.as_millis(),
                short_id(&commit)
            ),
        }))?;
        Ok(wait(stopper, backoff))
    }
}

/// Waits `backoff`, or less when the run is asked to stop (the step loop then records why).
fn wait(stopper: &Stopper<'_>, backoff: Duration) -> Flow {
    let deadline = Instant::now() + backoff;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Flow::Continue;
        }
        if stopper.check().is_some() {
            return Flow::Stop;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}

/// Returns `n` times in words.
fn times(n: u32) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}
