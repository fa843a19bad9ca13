//! `omk accept` and `omk reject`: a person's decision on a goal's change.
//!
//! The merge itself is the controller's accept step (`run/accept_step.rs`), which `omk run
//! --accept` runs too.
//!
//! Acceptance speaks for one exact tree. `omk accept` re-checks that the branch still merges
//! cleanly; when the base branch moved since the goal started, it first merges the base into
//! the goal's branch and runs the gate surface check, the gates and the review wall again on
//! the merged tree. Only then, and only if the proof of the log plus the acceptance would be
//! `ready` for that tree ([`omk_proof::validate_for_merge`]), does it merge and record the
//! acceptance, with the merge commit; the proof is linked to that commit by a git note under
//! `refs/notes/omk`, and merge commits carry an `Omk-Goal:` trailer.
//!
//! A fetched goal (another machine ran it; `omk fetch` brought its evidence) is first checked as
//! `omk proof verify` checks it, signature against `[trust]` included, and refused with the
//! failed checks named; its branch must still hold the tree the proof speaks for when it is
//! merged.

use std::path::Path;

use omk_attest::CheckStatus;
use omk_config::ConfigEnv;
use omk_events::{ChangeRejected, Event, EventLog};

use crate::{
    check::{
        trust::{is_fetched, load_trust},
        verify::{VerifyOptions, verify_goal},
    },
    decide::state::Next,
    error::Error,
    layout::GoalPaths,
    run::{
        accept_step::person_named,
        controller::{Controller, RunEnv, load_config},
    },
    store::RunOutcome,
};

/// What `omk accept` and `omk reject` ask for.
pub struct DecideRequest<'a> {
    /// A directory inside the repository.
    pub repo_dir: &'a Path,
    /// The goal (id, unique prefix or `latest`); `None` is the latest goal.
    pub goal: Option<&'a str>,
    /// Why; required to reject.
    pub reason: Option<&'a str>,
    /// Who decides, when git's `user.name` is not set (omk-cli passes `$USER`).
    pub fallback_name: Option<&'a str>,
    /// Also approve a change of the gate surface (`omk accept --approve-gate-surface`).
    pub approve_gate_surface: bool,
    /// What a run needs, for the gates and review that run again when the base moved.
    pub env: RunEnv<'a>,
}

/// Opens a goal that no run holds, for a decision: its log, state and configuration.
fn open_for_decision<'e>(
    repo_dir: &Path,
    goal: Option<&str>,
    env: RunEnv<'e>,
) -> Result<(Controller<'e>, GoalPaths), Error> {
    let paths = crate::store::find_goal(repo_dir, goal)?;
    let repo = omk_worktree::open(&paths.repo_root)?;
    let (log, _) = EventLog::open(&paths.events, env.clock.now())?;
    let (_, state) = crate::store::read_state(&paths)?;
    state.refuse_final()?;
    let config =
        load_config(&repo, &state.created.extra_gates, env.gate_environment, env.config, &[])?;
    // A decision is no run: no policy acceptance at its end.
    let env = RunEnv { accept: false, ..env };
    let ctl = Controller::new(log, state, repo, paths.clone(), config, None, env);
    Ok((ctl?, paths))
}

/// Accepts the goal's change for its exact tree and merges it into the base branch.
///
/// Refuses (changing nothing) a goal that is running, paused, stopped or not through its steps,
/// a branch that conflicts with the base, and a proof that would not be `ready`.
pub async fn accept_goal(request: DecideRequest<'_>) -> Result<RunOutcome, Error> {
    let DecideRequest { repo_dir, goal, reason, fallback_name, approve_gate_surface, env } =
        request;
    let reason = reason.map(str::to_owned);
    let paths = crate::store::find_goal(repo_dir, goal)?;
    if is_fetched(&paths) {
        refuse_unverified(&paths, env.config).await?;
    }
    let (mut ctl, _) = open_for_decision(repo_dir, Some(paths.goal_id.as_str()), env)?;
    let state = &ctl.rec.state;
    if let Some(halt) = &state.halt {
        return Err(Error::Halted { goal: state.goal_id.to_string(), halt: halt.describe() });
    }
    let next = state.next_with(Some(&ctl.config.gate_names));
    if next != Next::Done {
        return Err(Error::StepsNotDone {
            goal: state.goal_id.to_string(),
            next: crate::run::controller::describe_next(&next).to_owned(),
        });
    }
    let by = person_named(&ctl.repo, fallback_name);
    let accepted = ctl.accept(by, reason, approve_gate_surface).await?;
    if let Err(refused) = accepted {
        return Err(Error::MergeRefused { goal: ctl.rec.state.goal_id.to_string(), refused });
    }
    ctl.write_proof()
}

/// Refuses a fetched goal whose evidence does not verify: the log chain, the proof as its fold,
/// the anchors, the artifacts, the branch's tree, and the signed bundle against `[trust]` of
/// the user's checkout (`omk proof verify`'s checks, without a rerun).
async fn refuse_unverified(paths: &GoalPaths, config: &ConfigEnv) -> Result<(), Error> {
    let trust = load_trust(&paths.repo_root, config)?;
    let options = VerifyOptions { rerun: None, trust: Some(&trust) };
    let verification = verify_goal(paths, &options).await?;
    let failed: Vec<String> = verification
        .checks
        .iter()
        .filter(|it| it.status == CheckStatus::Failed)
        .map(|it| format!("{}: {}", it.name, it.message))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::Untrusted { goal: paths.goal_id.to_string(), failed })
}

/// Rejects the goal's proposed change with `request.reason`; the branch and worktree stay.
pub fn reject_goal(request: DecideRequest<'_>) -> Result<RunOutcome, Error> {
    let DecideRequest { repo_dir, goal, reason, fallback_name, env, .. } = request;
    let reason = reason.map(str::trim).filter(|it| !it.is_empty()).map(str::to_owned);
    let Some(reason) = reason else { return Err(Error::NoRejectReason) };
    let (mut ctl, _) = open_for_decision(repo_dir, goal, env)?;
    let Some(tree_id) = ctl.rec.state.tree.clone() else {
        return Err(Error::NothingToDecide { goal: ctl.rec.state.goal_id.to_string() });
    };
    let by = person_named(&ctl.repo, fallback_name);
    ctl.rec.record(Event::ChangeRejected(ChangeRejected { tree_id, by, reason }))?;
    ctl.write_proof()
}
