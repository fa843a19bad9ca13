//! `omk push` and `omk fetch`: a goal's evidence to a remote and other machines' goals back,
//! and the push that ends `omk run --push`.

use std::{env, fmt::Write as _, path::Path};

use omk_goal::{BundleState, FetchReport, GoalOutcome, Origin, PushRequest, Pushed, RefOutcome};

use crate::{
    args::{FetchArgs, PushArgs},
    commands::{
        proof::{in_toto_bundle, in_toto_path},
        shared::{Context, SCHEMA_VERSION},
    },
    error::{CliError, ErrorKind, ExitCodes},
    json::{
        FetchDocument, FetchedGoalDocument, OriginDocument, PushDocument, PushedRefDocument,
        SkippedRefDocument,
    },
    output, text,
};

pub(crate) fn run_push(ctx: &Context, args: &PushArgs) -> Result<u8, CliError> {
    let pushed = push(ctx, args.goal.as_deref(), &args.remote, args.sign_key.as_deref())?;
    output::print_stdout(&if ctx.json { push_json(&pushed) } else { push_text(&pushed) })?;
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_fetch(ctx: &Context, args: &FetchArgs) -> Result<u8, CliError> {
    let report = omk_goal::fetch_goals(&ctx.dir, &args.remote).map_err(transfer_error)?;
    output::print_stdout(&if ctx.json { fetch_json(&report) } else { fetch_text(&report) })?;
    Ok(ExitCodes::SUCCESS)
}

/// Pushes `goal` to `remote` as `omk push` does, after signing its bundle with `sign_key` when
/// given; a failure is a [`ErrorKind::Transfer`] error (exit 6) unless the input was bad.
pub(crate) fn push(
    ctx: &Context,
    goal: Option<&str>,
    remote: &str,
    sign_key: Option<&Path>,
) -> Result<Pushed, CliError> {
    if let Some(key) = sign_key {
        let loaded = omk_goal::load_proof(&ctx.dir, goal)?;
        let bundle = in_toto_bundle(ctx, &loaded.proof, Some(key), None)?;
        omk_attest::write_export(&in_toto_path(&loaded.paths), bundle.text.as_bytes())?;
    }
    let host = host_name();
    let user = env::var("USER").ok().filter(|it| !it.is_empty());
    // Variables whose names or values are not UTF-8 are none omk could have masked either.
    let secret_env: Vec<(String, String)> = env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let request = PushRequest {
        repo_dir: &ctx.dir,
        goal,
        remote,
        host: &host,
        user: user.as_deref(),
        clock: ctx.clock.as_ref(),
        secret_env: &secret_env,
    };
    omk_goal::push_goal(&request).map_err(transfer_error)
}

/// Returns the machine's name for `origin.json`: `OMK_HOST` when set, else the host name.
fn host_name() -> String {
    env::var("OMK_HOST")
        .ok()
        .filter(|it| !it.trim().is_empty())
        .or_else(|| nix::unistd::gethostname().ok().and_then(|it| it.into_string().ok()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Classifies an error of a push or fetch: bad input stays a usage error, the rest is a
/// transfer failure.
fn transfer_error(error: omk_goal::Error) -> CliError {
    let mut cli = CliError::from(error);
    if cli.kind != ErrorKind::Usage {
        cli.kind = ErrorKind::Transfer;
    }
    cli
}

/// Returns `origin` in words: "ran on HOST, pushed TIME".
pub(crate) fn origin_words(origin: &Origin) -> String {
    format!("ran on {}, pushed {}", origin.host, origin.pushed_at.format("%Y-%m-%d %H:%M UTC"))
}

pub(crate) fn push_text(pushed: &Pushed) -> String {
    let goal = &pushed.paths.goal_id;
    let follows = match (&pushed.previous, pushed.new_commit) {
        (Some(previous), true) => format!("; follows {}", omk_events::short_id(previous)),
        (Some(_), false) => "; unchanged since the last push".to_owned(),
        (None, _) => String::new(),
    };
    let mut out = format!(
        "pushed goal {goal} to {}: evidence {} ({} files, {}{follows})\n",
        pushed.remote,
        omk_events::short_id(&pushed.evidence),
        pushed.files,
        bytes(pushed.bytes),
    );
    for pushed_ref in &pushed.refs {
        writeln!(out, "  {:<52} {}", pushed_ref.name, pushed_ref.summary).ok();
    }
    for (name, reason) in &pushed.skipped {
        writeln!(out, "  {name:<52} not pushed: {reason}").ok();
    }
    match &pushed.bundle {
        BundleState::Included => writeln!(out, "signed bundle  included").ok(),
        BundleState::Missing => None,
        BundleState::Stale { .. } => writeln!(
            out,
            "signed bundle  left out: proof.intoto.jsonl was exported for an earlier log; push with --sign-key FILE to sign the current proof"
        )
        .ok(),
    };
    writeln!(out, "origin         {} as {}", origin_words(&pushed.origin), pushed.origin.user).ok();
    out
}

fn push_json(pushed: &Pushed) -> String {
    crate::json::to_string(&PushDocument {
        schema_version: SCHEMA_VERSION,
        goal_id: pushed.paths.goal_id.as_str(),
        remote: &pushed.remote,
        evidence: &pushed.evidence,
        previous: pushed.previous.as_deref(),
        new_commit: pushed.new_commit,
        files: pushed.files,
        bytes: pushed.bytes,
        bundle: match pushed.bundle {
            BundleState::Included => "included",
            BundleState::Missing => "missing",
            BundleState::Stale { .. } => "stale",
        },
        atomic: pushed.atomic,
        refs: pushed
            .refs
            .iter()
            .map(|it| PushedRefDocument { name: &it.name, summary: &it.summary })
            .collect(),
        skipped: pushed
            .skipped
            .iter()
            .map(|(name, reason)| SkippedRefDocument { name, reason })
            .collect(),
        origin: OriginDocument::new(&pushed.origin),
    })
}

fn outcome_word(outcome: &GoalOutcome) -> &'static str {
    match outcome {
        GoalOutcome::Added => "added",
        GoalOutcome::Updated => "updated",
        GoalOutcome::Unchanged => "unchanged",
        GoalOutcome::LocalRun => "local_run",
        GoalOutcome::LocalEvents => "local_events",
        GoalOutcome::Invalid(_) => "invalid",
    }
}

fn ref_word(outcome: &RefOutcome) -> &'static str {
    match outcome {
        RefOutcome::Set => "set",
        RefOutcome::Same => "same",
        RefOutcome::Updated => "updated",
        RefOutcome::LeftAlone => "left_alone",
        RefOutcome::Skipped => "skipped",
    }
}

fn fetch_text(report: &FetchReport) -> String {
    if report.goals.is_empty() {
        return format!("{} holds no goals (nothing under refs/omk/goals/)\n", report.remote);
    }
    let notes = match report.notes {
        RefOutcome::Set => "acceptance notes  refs/notes/omk set from the remote's\n",
        RefOutcome::Updated => "acceptance notes  refs/notes/omk moved forward to the remote's\n",
        RefOutcome::LeftAlone => {
            "acceptance notes  refs/notes/omk left alone: it and the remote's diverged (git notes --ref=omk merge joins them)\n"
        }
        RefOutcome::Same | RefOutcome::Skipped => "",
    };
    let count = |outcome: fn(&GoalOutcome) -> bool| {
        report.goals.iter().filter(|it| outcome(&it.outcome)).count()
    };
    let mut out = format!(
        "fetched {} from {}: {} added, {} updated, {} unchanged, {} left alone\n",
        text::plural(report.goals.len() as u64, "goal"),
        report.remote,
        count(|it| *it == GoalOutcome::Added),
        count(|it| *it == GoalOutcome::Updated),
        count(|it| *it == GoalOutcome::Unchanged),
        count(|it| {
            matches!(it, GoalOutcome::LocalRun | GoalOutcome::LocalEvents | GoalOutcome::Invalid(_))
        }),
    );
    for goal in &report.goals {
        let what = match &goal.outcome {
            GoalOutcome::LocalRun => {
                "left alone: it ran in this clone (its directory has no origin.json)".to_owned()
            }
            GoalOutcome::LocalEvents => "left alone: its log here has events the remote's does not \
                 (a decision recorded in this clone); move its directory aside and fetch again to take \
                 the remote's"
                .to_owned(),
            GoalOutcome::Invalid(problem) => format!("left out: {problem}"),
            _ => goal.origin.as_ref().map(origin_words).unwrap_or_default(),
        };
        let word = match &goal.outcome {
            GoalOutcome::LocalRun | GoalOutcome::LocalEvents => "left alone",
            GoalOutcome::Invalid(_) => "left out",
            other => outcome_word(other),
        };
        writeln!(out, "  {word:<10} {:<40} {what}", goal.goal).ok();
        if goal.branch == RefOutcome::LeftAlone {
            writeln!(
                out,
                "             branch omk/{} left alone: it differs here (the fetched one is refs/omk/fetched/{}/branches/{})",
                goal.goal, report.remote, goal.goal
            )
            .ok();
        }
        if goal.anchors == RefOutcome::LeftAlone {
            writeln!(
                out,
                "             refs/omk/anchors/{} left alone: it differs here",
                goal.goal
            )
            .ok();
        }
    }
    out.push_str(notes);
    out
}

fn fetch_json(report: &FetchReport) -> String {
    crate::json::to_string(&FetchDocument {
        schema_version: SCHEMA_VERSION,
        remote: &report.remote,
        notes: ref_word(&report.notes),
        goals: report
            .goals
            .iter()
            .map(|goal| FetchedGoalDocument {
                goal_id: &goal.goal,
                evidence: &goal.evidence,
                outcome: outcome_word(&goal.outcome),
                problem: match &goal.outcome {
                    GoalOutcome::Invalid(problem) => Some(problem),
                    _ => None,
                },
                branch: ref_word(&goal.branch),
                anchors: ref_word(&goal.anchors),
                origin: goal.origin.as_ref().map(OriginDocument::new),
            })
            .collect(),
    })
}

/// Returns a size in bytes as `512 B`, `12.3 KiB` or `4.5 MiB`.
fn bytes(n: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let value = n as f64;
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", value / 1024.0),
        _ => format!("{:.1} MiB", value / 1_048_576.0),
    }
}
