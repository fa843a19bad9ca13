//! The commands that act on an existing goal: pause, cancel, accept, reject, budget add,
//! status, list and show.

use std::{env, fmt::Write as _, time::Duration};

use omk_goal::{BudgetAdd, ControlAction, DecideRequest, GoalStatus, StopOutcome};
use omk_proof::ProofStatus;

use crate::{
    args::{AcceptArgs, BudgetAddArgs, GoalArgs, RejectArgs, StopArgs},
    commands::{
        run::with_env,
        shared::{self, Context, SCHEMA_VERSION},
    },
    error::{CliError, ExitCodes},
    json::{
        self, BudgetDocument, GoalSummary, ListDocument, ShowDocument, StatusDocument, StopDocument,
    },
    output, render, text,
};

/// How long `omk pause` and `omk cancel` wait for a live run to stop.
const STOP_WAIT: Duration = Duration::from_secs(10);

pub(crate) fn run_stop(
    ctx: &Context,
    args: &StopArgs,
    action: ControlAction,
) -> Result<u8, CliError> {
    let (verb, default_reason) = match action {
        ControlAction::Pause => ("paused", "omk pause"),
        ControlAction::Cancel => ("cancelled", "omk cancel"),
    };
    let reason = args.reason.as_deref().unwrap_or(default_reason);
    let (stopped, outcome) = omk_goal::stop_goal(
        &ctx.dir,
        args.goal.as_deref(),
        action,
        reason,
        STOP_WAIT,
        ctx.clock.as_ref(),
    )?;
    let goal = &outcome.proof.goal_id;
    if ctx.json {
        let (live, pid) = match stopped {
            StopOutcome::Stopped { pid } => (true, pid),
            StopOutcome::Recorded => (false, None),
        };
        output::print_stdout(&json::to_string(&StopDocument {
            schema_version: SCHEMA_VERSION,
            goal_id: goal.as_str(),
            action: verb,
            was_running: live,
            pid,
            status: outcome.proof.status,
        }))?;
    } else {
        let how = match stopped {
            StopOutcome::Stopped { pid: Some(pid) } => format!("its run (pid {pid}) stopped"),
            StopOutcome::Stopped { pid: None } => "its run stopped".to_owned(),
            StopOutcome::Recorded => "no run was live; recorded in its log".to_owned(),
        };
        let next = match action {
            ControlAction::Pause => format!("\nnext: omk resume {goal}"),
            ControlAction::Cancel => String::new(),
        };
        output::print_stdout(&format!("goal {goal} {verb}: {how}{next}\n"))?;
    }
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_accept(ctx: &Context, args: &AcceptArgs) -> Result<u8, CliError> {
    let user = env::var("USER").ok();
    let outcome = with_env(ctx, None, false, |env| {
        let request = DecideRequest {
            repo_dir: &ctx.dir,
            goal: args.goal.as_deref(),
            reason: args.reason.as_deref(),
            fallback_name: user.as_deref(),
            approve_gate_surface: args.approve_gate_surface,
            env,
        };
        shared::runtime()?.block_on(omk_goal::accept_goal(request))
    })?;
    let proof = &outcome.proof;
    if ctx.json {
        output::print_stdout(&shared::run_json(&outcome))?;
    } else {
        let merge = proof.integration.as_ref().and_then(|it| it.merge_commit.as_deref());
        let base = proof.git.base_branch.as_deref().unwrap_or("the base branch");
        output::print_stdout(&format!(
            "accepted goal {}: merged into {base} at {}; the proof is {} (git notes --ref=omk show {})\n",
            proof.goal_id,
            merge.unwrap_or("?"),
            proof.status,
            merge.unwrap_or("HEAD"),
        ))?;
    }
    Ok(if proof.status == ProofStatus::Ready { ExitCodes::SUCCESS } else { ExitCodes::NOT_READY })
}

pub(crate) fn run_reject(ctx: &Context, args: &RejectArgs) -> Result<u8, CliError> {
    let user = env::var("USER").ok();
    let outcome = with_env(ctx, None, false, |env| {
        omk_goal::reject_goal(DecideRequest {
            repo_dir: &ctx.dir,
            goal: args.goal.as_deref(),
            reason: Some(&args.reason),
            fallback_name: user.as_deref(),
            approve_gate_surface: false,
            env,
        })
    })?;
    let goal = &outcome.proof.goal_id;
    if ctx.json {
        output::print_stdout(&shared::run_json(&outcome))?;
    } else {
        output::print_stdout(&format!(
            "rejected goal {goal}: {}\nbranch omk/{goal} and its worktree stay; for a follow-up: \
             omk resume {goal} --prompt TEXT\n",
            args.reason
        ))?;
    }
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_budget_add(ctx: &Context, args: &BudgetAddArgs) -> Result<u8, CliError> {
    if let Some(usd) = args.usd
        && !(usd.is_finite() && usd >= 0.0)
    {
        return Err(CliError::usage(format!("--usd {usd} is not an amount of dollars")));
    }
    let add =
        BudgetAdd { wall_ms: args.time, tokens: args.tokens, usd: args.usd, turns: args.turns };
    let outcome = omk_goal::add_budget(&ctx.dir, args.goal.as_deref(), add, ctx.clock.as_ref())?;
    let budget = &outcome.proof.budget;
    if ctx.json {
        output::print_stdout(&json::to_string(&BudgetDocument {
            schema_version: SCHEMA_VERSION,
            goal_id: outcome.proof.goal_id.as_str(),
            budget,
        }))?;
    } else {
        let goal = &outcome.proof.goal_id;
        let next = if outcome.proof.status == ProofStatus::Cancelled {
            "none: the goal is cancelled".to_owned()
        } else {
            format!("omk resume {goal}")
        };
        output::print_stdout(&format!(
            "raised the budget of goal {goal}\n{}next       {next}\n",
            render::budget(budget),
        ))?;
    }
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_status(ctx: &Context, args: &GoalArgs) -> Result<u8, CliError> {
    let status = omk_goal::goal_status(&ctx.dir, args.goal.as_deref())?;
    if ctx.json {
        output::print_stdout(&json::to_string(&StatusDocument {
            schema_version: SCHEMA_VERSION,
            goal: GoalSummary::new(&status),
            team: status.proof.team.as_ref(),
        }))?;
    } else {
        let mut text = status_text(&status);
        if let Some(team) = &status.proof.team {
            text.push('\n');
            text.push_str(&render::team_table(team));
        }
        output::print_stdout(&text)?;
    }
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_list(ctx: &Context) -> Result<u8, CliError> {
    let goals = omk_goal::list_goals(&ctx.dir)?;
    if ctx.json {
        output::print_stdout(&json::to_string(&ListDocument {
            schema_version: SCHEMA_VERSION,
            goals: goals.iter().map(GoalSummary::new).collect(),
        }))?;
        return Ok(ExitCodes::SUCCESS);
    }
    if goals.is_empty() {
        output::print_stdout("no goals yet; start one with `omk run PROMPT`\n")?;
        return Ok(ExitCodes::SUCCESS);
    }
    let mut text = String::new();
    for goal in &goals {
        let proof = &goal.proof;
        let prompt: String =
            proof.task.prompt.lines().next().unwrap_or_default().chars().take(50).collect();
        let origin = goal
            .origin
            .as_ref()
            .map(|it| format!("; {}", super::remote::origin_words(it)))
            .unwrap_or_default();
        writeln!(
            text,
            "{:<40} {:<18} {:>8}  {}  ({}{origin})",
            proof.goal_id.as_str(),
            proof.status.as_str(),
            text::seconds(proof.budget.used.wall_ms),
            prompt,
            goal.step,
        )
        .expect("writing to a String cannot fail");
    }
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_show(ctx: &Context, args: &GoalArgs) -> Result<u8, CliError> {
    let status = omk_goal::goal_status(&ctx.dir, args.goal.as_deref())?;
    if ctx.json {
        output::print_stdout(&json::to_string(&ShowDocument {
            schema_version: SCHEMA_VERSION,
            goal: GoalSummary::new(&status),
            proof: &status.proof,
        }))?;
    } else {
        let mut text = status_text(&status);
        text.push('\n');
        text.push_str(&omk_proof::render_text(&status.proof));
        output::print_stdout(&text)?;
    }
    Ok(ExitCodes::SUCCESS)
}

fn status_text(status: &GoalStatus) -> String {
    let proof = &status.proof;
    let running = match status.running {
        Some(Some(pid)) => format!("running (pid {pid})"),
        Some(None) => "running".to_owned(),
        None => "not running".to_owned(),
    };
    let mut text = format!(
        "goal       {}\nprompt     {}\nstep       {} · {running}\nelapsed    {} of run time, {} events\n{}\n",
        proof.goal_id,
        proof.task.prompt.lines().next().unwrap_or_default(),
        status.step,
        text::seconds(proof.budget.used.wall_ms),
        proof.task.events,
        render::budget(&status.budget).trim_end(),
    );
    if let Some(origin) = &status.origin {
        let from = origin.remote.as_deref().map(|it| format!(" from {it}")).unwrap_or_default();
        let evidence = origin
            .evidence
            .as_deref()
            .map(|it| format!(", evidence {}", omk_events::short_id(it)))
            .unwrap_or_default();
        writeln!(
            text,
            "origin     {} as {} (fetched{from}{evidence})",
            super::remote::origin_words(origin),
            origin.user
        )
        .expect("writing to a String cannot fail");
    }
    text.push_str(&render::verdict(proof));
    text
}
