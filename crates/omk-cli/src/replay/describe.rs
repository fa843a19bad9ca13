//! The sentence of each event in a replay, one function per family of events.

use std::{borrow::Cow, path::Path};

use omk_events::{
    ActivityKind, AgentActivity, BudgetResource, Event, SandboxApplied, SandboxMode, TakeOutReason,
    short_id,
};

use crate::replay::text::push_number;

/// Returns the step of `event` and a sentence about it, with paths relative to `root`.
pub(crate) fn describe(event: &Event, root: Option<&Path>) -> (&'static str, String) {
    // Every kind is named here, so a new kind does not compile until it has its family.
    match event {
        Event::GoalCreated(_)
        | Event::GoalClassified(_)
        | Event::BudgetSet(_)
        | Event::WorktreeCreated(_) => describe_intake(event, root),
        Event::SandboxApplied(applied) => ("sandbox", describe_sandbox(applied)),
        Event::AgentStarted(_)
        | Event::AgentActivity(_)
        | Event::AgentFinished(_)
        | Event::AgentCheckRan(_)
        | Event::ApprovalDecided(_) => ("agent", describe_agent(event)),
        Event::ChangesCaptured(_)
        | Event::ChangesCommitted(_)
        | Event::GateStarted(_)
        | Event::GateFinished(_)
        | Event::GateSurfaceChecked(_)
        | Event::ReviewStarted(_)
        | Event::ReviewFinished(_) => describe_checks(event),
        Event::DecisionRequested(_)
        | Event::DecisionMade(_)
        | Event::ChangeAccepted(_)
        | Event::ChangeRejected(_) => ("decision", describe_decision(event)),
        Event::GoalFailed(_)
        | Event::BudgetExhausted(_)
        | Event::BudgetWarned(_)
        | Event::GoalPaused(_)
        | Event::GoalResumed(_)
        | Event::GoalCancelled(_)
        | Event::GoalBlocked(_)
        | Event::RecoveryPerformed(_) => ("control", describe_control(event)),
        Event::Unknown(unknown) => {
            ("?", format!("{} (a kind from a newer omk, shown as written)", unknown.to_json()))
        }
        Event::Slice(slice) => {
            let (_, what) = describe(&slice.event, root);
            ("slice", format!("[{}] {what}", slice.task))
        }
        Event::TaskGraphPlanned(_)
        | Event::TaskClaimed(_)
        | Event::TaskCompleted(_)
        | Event::TaskFailed(_)
        | Event::TaskProposed(_) => ("team", describe_team(event)),
        Event::QueueMerged(_)
        | Event::QueueLanded(_)
        | Event::QueueReverted(_)
        | Event::TaskTakenOut(_) => ("queue", describe_queue(event)),
        Event::FailToPassWaived(_) | Event::FailToPassStarted(_) | Event::FailToPassChecked(_) => {
            ("oracle", describe_fail_to_pass(event))
        }
        Event::CheckoutFingerprinted(taken) => ("checkout", describe_checkout(taken)),
        Event::GateLeftFiles(left) => ("gates", describe_gate_left_files(left)),
        Event::RepairRoundsSet(_) | Event::RepairRoundStarted(_) | Event::RepairRoundEnded(_) => {
            ("repair", describe_repair(event))
        }
    }
}

/// Describes the repair loop: its limit, and each round's start and end.
fn describe_repair(event: &Event) -> String {
    match event {
        Event::RepairRoundsSet(set) if set.rounds == 0 => "repair rounds off".to_owned(),
        Event::RepairRoundsSet(set) => {
            format!("at most {} of repair", crate::text::plural(set.rounds.into(), "round"))
        }
        Event::RepairRoundStarted(started) => {
            let mut what: Vec<String> =
                started.failed_gates.iter().map(|gate| format!("gate {gate}")).collect();
            what.extend(started.findings.iter().map(|check| format!("review {check}")));
            format!(
                "repair round {} on tree {}: the agent is told what failed ({}); {}",
                started.round,
                short_id(&started.tree_id),
                what.join(", "),
                started.follow_up.path
            )
        }
        Event::RepairRoundEnded(ended) => {
            format!("repair round {} ended: {}", ended.round, ended.outcome)
        }
        other => elsewhere(other),
    }
}

/// Describes files the gates left in a worktree and omk put back.
fn describe_gate_left_files(left: &omk_events::GateLeftFiles) -> String {
    let mut parts = Vec::new();
    if !left.created.is_empty() {
        parts.push(format!("removed {} they created", left.created.join(", ")));
    }
    if !left.rewritten.is_empty() {
        parts.push(format!("restored {} they changed", left.rewritten.join(", ")));
    }
    format!(
        "{} gates left files in the worktree, not part of the change: {}",
        left.phase,
        parts.join("; ")
    )
}

/// Describes the fail-to-pass step: its waiver, its start and which gates fail without the
/// change.
fn describe_fail_to_pass(event: &Event) -> String {
    match event {
        Event::FailToPassWaived(waived) => {
            format!("fail-to-pass evidence waived by {}", waived.by)
        }
        Event::FailToPassStarted(started) => format!(
            "running {} on the base tree with the change's test files",
            started.gates.join(", ")
        ),
        Event::FailToPassChecked(checked) if checked.gates.is_empty() => match checked.skipped {
            Some(why) => format!("fail-to-pass: nothing to run on the base tree: {why}"),
            None => "fail-to-pass: nothing ran on the base tree".to_owned(),
        },
        Event::FailToPassChecked(checked) => {
            let failing: Vec<&str> = checked
                .gates
                .iter()
                .filter(|it| it.run.exited_failing())
                .map(|it| it.run.name.as_str())
                .collect();
            if failing.is_empty() {
                "fail-to-pass: every test gate passes without the change".to_owned()
            } else {
                format!("fail-to-pass: {} fails without the change", failing.join(", "))
            }
        }
        other => elsewhere(other),
    }
}

/// The sentence of a run's sandbox: confined where, or why not.
fn describe_sandbox(applied: &SandboxApplied) -> String {
    match applied.mode {
        SandboxMode::Landlock => {
            let abi = applied.abi.map(|it| format!(" (ABI {it})")).unwrap_or_default();
            let network = match (applied.network, applied.network_enforced) {
                (true, _) => "",
                (false, true) => "; gates without network",
                (false, false) => {
                    "; gates should have no network, but the kernel cannot enforce it"
                }
            };
            format!(
                "processes confined by Landlock{abi}: they write only in {}{network}",
                applied.writable.join(", ")
            )
        }
        SandboxMode::Off | SandboxMode::Unavailable => format!(
            "processes run unconfined: {}",
            applied.reason.as_deref().unwrap_or("no sandbox")
        ),
    }
}

/// Describes a fingerprint of the user's checkout; the proof compares it with the first.
fn describe_checkout(taken: &omk_events::CheckoutFingerprinted) -> String {
    let when = match taken.moment {
        omk_events::CheckoutMoment::Baseline => "as the baseline",
        omk_events::CheckoutMoment::AfterGates => "after the gates",
        omk_events::CheckoutMoment::Resumed => "on resuming a stopped run",
    };
    let fingerprint = &taken.fingerprint;
    let count = |n: usize, noun: &str| crate::text::plural(n as u64, noun);
    format!(
        "your checkout fingerprinted {when}: {}, {}, {}",
        count(fingerprint.refs.len(), "ref"),
        count(fingerprint.files.len(), "changed or untracked file"),
        count(fingerprint.hooks.len(), "hook file"),
    )
}

/// The sentence of a kind that [`describe`] sends to another family; it never sends one.
fn elsewhere(event: &Event) -> String {
    event.kind().to_owned()
}

/// Describes the goal's creation, classification, budget and worktree.
fn describe_intake(event: &Event, root: Option<&Path>) -> (&'static str, String) {
    match event {
        Event::GoalCreated(created) => {
            let base = created.base_branch.as_deref().unwrap_or("HEAD");
            let commit = short_id(&created.base_commit);
            let prompt = one_line(&created.prompt, 80);
            (
                "intake",
                format!("goal created from {base}@{commit} for {}: {prompt:?}", created.agent),
            )
        }
        Event::GoalClassified(classified) => {
            let oracle = if classified.oracle_gates.is_empty() {
                "none".to_owned()
            } else {
                classified.oracle_gates.join(", ")
            };
            ("intake", format!("goal kind {}; oracle gates: {oracle}", classified.goal_kind))
        }
        Event::BudgetSet(_) => ("intake", "budget set".to_owned()),
        Event::WorktreeCreated(worktree) => {
            let path = &worktree.path;
            let relative = root.and_then(|root| path.strip_prefix(root).ok()).unwrap_or(path);
            (
                "worktree",
                format!(
                    "worktree {} on branch {}; your checkout is not touched",
                    relative.display(),
                    worktree.branch
                ),
            )
        }
        other => ("?", elsewhere(other)),
    }
}

/// Describes the agent's run: its start, activity, end and approvals.
fn describe_agent(event: &Event) -> String {
    match event {
        Event::AgentStarted(started) => format!("agent {} started", started.agent),
        Event::AgentActivity(activity) => describe_activity(activity),
        Event::AgentFinished(finished) => {
            let tokens =
                finished.usage.map(|it| format!(", {} tokens", it.total())).unwrap_or_default();
            let said = finished
                .final_message
                .as_deref()
                .map(|it| format!(": {:?}", one_line(it, 120)))
                .unwrap_or_default();
            format!(
                "agent {} after {} steps and {} tool calls{tokens}{said}",
                finished.status, finished.steps, finished.tool_calls
            )
        }
        Event::AgentCheckRan(check) => {
            let gates: Vec<String> = check
                .gates
                .iter()
                .map(|gate| match gate.failure() {
                    None => format!("{} passed", gate.name),
                    Some(why) => format!("{} failed ({why})", gate.name),
                })
                .collect();
            let failing = match check.failing_tests.as_slice() {
                [] => String::new(),
                names => format!("; failing: {}", names.join(", ")),
            };
            format!(
                "agent's own check #{} through omk mcp (not a proof gate): {}{failing}",
                check.check,
                gates.join(", ")
            )
        }
        Event::ApprovalDecided(decided) => {
            let what = decided
                .command
                .as_deref()
                .or(decided.path.as_deref())
                .map(|it| format!(" {it:?}"))
                .unwrap_or_default();
            format!(
                "approval: {} {}{what} by rule `{}` ({})",
                decided.decision, decided.tool, decided.rule, decided.rule_source
            )
        }
        other => elsewhere(other),
    }
}

/// Describes what omk checked of the change: its files, commit, gates and review.
fn describe_checks(event: &Event) -> (&'static str, String) {
    match event {
        Event::ChangesCaptured(changes) => {
            let files: Vec<String> = changes
                .files
                .iter()
                .map(|file| match (file.lines_added, file.lines_removed) {
                    (Some(added), Some(removed)) => {
                        format!("{} +{added} -{removed}", file.path)
                    }
                    _ => format!("{} (binary)", file.path),
                })
                .collect();
            let list =
                if files.is_empty() { String::new() } else { format!(": {}", files.join(", ")) };
            ("changes", format!("git shows {} changed file(s){list}", files.len()))
        }
        Event::ChangesCommitted(commit) => {
            ("changes", format!("committed {} on {}", short_id(&commit.commit), commit.branch))
        }
        Event::GateStarted(gate) => ("gates", format!("gate {} started", gate.name)),
        Event::GateFinished(gate) => {
            let failure = gate.failure();
            let verdict = if failure.is_none() { "passed" } else { "FAILED" };
            let how = failure.unwrap_or_else(|| "exit 0".to_owned());
            let tests = gate
                .tests
                .map(|it| {
                    format!(
                        ", tests {} passed {} failed {} skipped",
                        it.passed, it.failed, it.skipped
                    )
                })
                .unwrap_or_default();
            let cached = gate
                .cached_from
                .as_deref()
                .map(|it| format!(", cached from {it}"))
                .unwrap_or_default();
            (
                "gates",
                format!("gate {} ({}) {verdict}: {how}{tests}{cached}", gate.name, gate.phase),
            )
        }
        Event::GateSurfaceChecked(check) if check.changed_paths.is_empty() => {
            ("gates", "the gate surface is unchanged".to_owned())
        }
        Event::GateSurfaceChecked(check) => (
            "gates",
            format!("the change touches the gate surface: {}", check.changed_paths.join(", ")),
        ),
        Event::ReviewStarted(review) => {
            ("review", format!("review wall: {}", review.checks.join(", ")))
        }
        Event::ReviewFinished(review) => {
            ("review", format!("review {} {}", review.check, review.status))
        }
        other => ("?", elsewhere(other)),
    }
}

/// Describes a person's decision and its request.
fn describe_decision(event: &Event) -> String {
    match event {
        Event::DecisionRequested(requested) => {
            format!("a person must decide: {}", requested.question)
        }
        Event::DecisionMade(made) => {
            format!("{} {}", made.by, if made.approved { "approved" } else { "declined" })
        }
        Event::ChangeAccepted(accepted) => format!("{} accepted the change", accepted.by),
        Event::ChangeRejected(rejected) => {
            format!("{} rejected the change: {}", rejected.by, rejected.reason)
        }
        other => elsewhere(other),
    }
}

/// Describes what stopped, resumed or repaired the run.
fn describe_control(event: &Event) -> String {
    match event {
        Event::GoalFailed(failed) => format!("the {} step failed: {}", failed.step, failed.error),
        Event::BudgetExhausted(exhausted) => {
            let (used, limit) = (
                budget_amount(exhausted.resource, exhausted.used),
                budget_amount(exhausted.resource, exhausted.limit),
            );
            format!("the {} budget ran out ({used} of {limit})", exhausted.resource)
        }
        Event::BudgetWarned(warned) => format!(
            "80 % of the {} budget is used ({} of {})",
            warned.resource,
            budget_amount(warned.resource, warned.used),
            budget_amount(warned.resource, warned.limit)
        ),
        Event::GoalPaused(paused) => format!("paused: {}", paused.reason),
        Event::GoalResumed(resumed) => match &resumed.follow_up {
            Some(follow_up) => format!(
                "resumed: {}, with a follow-up: {}",
                resumed.reason,
                one_line(follow_up, 80)
            ),
            None => format!("resumed: {}", resumed.reason),
        },
        Event::GoalCancelled(cancelled) => format!("cancelled: {}", cancelled.reason),
        Event::GoalBlocked(blocked) => format!("blocked: {}", blocked.reason),
        Event::RecoveryPerformed(recovery) => format!("{}: {}", recovery.action, recovery.detail),
        other => elsewhere(other),
    }
}

/// Describes a team goal's task graph and its slices' claims, ends and proposals.
fn describe_team(event: &Event) -> String {
    match event {
        Event::TaskGraphPlanned(planned) => {
            let tasks: Vec<String> = planned
                .tasks
                .iter()
                .map(|task| match task.depends_on.as_slice() {
                    [] => task.id.clone(),
                    deps => format!("{} (after {})", task.id, deps.join(", ")),
                })
                .collect();
            format!(
                "task graph of {} task(s), {} at once: {}",
                planned.tasks.len(),
                planned.max_agents,
                tasks.join(", ")
            )
        }
        Event::TaskClaimed(claimed) => format!(
            "[{}] attempt {} claimed by {} on {} from {}",
            claimed.task,
            claimed.attempt,
            claimed.worker,
            claimed.branch,
            short_id(&claimed.base_commit)
        ),
        Event::TaskCompleted(completed) => format!(
            "[{}] committed {} ({} path(s)); queued for merging",
            completed.task,
            short_id(&completed.commit),
            completed.paths.len()
        ),
        Event::TaskFailed(failed) => format!(
            "[{}] attempt {} on {} failed ({}): {}; {}",
            failed.task,
            failed.attempt,
            failed.worker,
            failed.cause,
            failed.reason,
            if failed.retry { "retrying" } else { "no retry" }
        ),
        Event::TaskProposed(proposed) => format!(
            "[{}] proposed task {}: {} ({})",
            proposed.task.proposed_by.as_deref().unwrap_or("?"),
            proposed.task.id,
            if proposed.accepted { "accepted" } else { "rejected" },
            proposed.reason
        ),
        other => elsewhere(other),
    }
}

/// Describes the merge queue: merges, landings, reverts and slices taken out.
fn describe_queue(event: &Event) -> String {
    match event {
        Event::QueueMerged(merged) => format!(
            "merged {} onto the integration branch: {} (tree {}); gates next",
            merged.tasks.join(", "),
            short_id(&merged.commit),
            short_id(&merged.tree_id)
        ),
        Event::QueueLanded(landed) => {
            format!("landed {} at {}", landed.tasks.join(", "), short_id(&landed.commit))
        }
        Event::QueueReverted(reverted) => format!(
            "{} broke {}; the integration branch is back at {}",
            reverted.tasks.join(", "),
            reverted.failed_gates.join(", "),
            short_id(&reverted.reset_to)
        ),
        Event::TaskTakenOut(out) => {
            let why = match &out.reason {
                TakeOutReason::Conflict { paths } => {
                    format!("its merge conflicts in {}", paths.join(", "))
                }
                TakeOutReason::BrokeGates { gates, .. } => {
                    format!("merged alone it breaks {}", gates.join(", "))
                }
                TakeOutReason::Dependency { task } => format!("it depends on {task}"),
            };
            format!("[{}] taken out: {why}", out.task)
        }
        other => elsewhere(other),
    }
}

/// Returns an amount of a budget resource in its unit: seconds, tokens, dollars or turns.
fn budget_amount(resource: BudgetResource, amount: f64) -> String {
    match resource {
        BudgetResource::WallTime => format!("{:.1} s", amount / 1000.0),
        BudgetResource::Usd => format!("${amount:.2}"),
        BudgetResource::Tokens | BudgetResource::Turns => format!("{amount:.0}"),
    }
}

fn describe_activity(activity: &AgentActivity) -> String {
    let text = activity.text.as_deref().map(|it| one_line(it, 80));
    let tool = activity.tool.as_deref().unwrap_or("tool");
    // The chattiest kind: its sentences are put together without the formatting machinery.
    let number_after = |prefix: &str, n: u64, suffix: &str| {
        let mut what = String::with_capacity(prefix.len() + 20 + suffix.len());
        what.push_str(prefix);
        push_number(&mut what, n);
        what.push_str(suffix);
        what
    };
    match activity.activity {
        ActivityKind::Step => number_after("step ", u64::from(activity.step), ""),
        ActivityKind::ToolCall => match text {
            // Printable ASCII without quotes or backslashes is its own `{text:?}`.
            Some(text)
                if text.bytes().all(|c| (b' '..=b'~').contains(&c) && c != b'"' && c != b'\\') =>
            {
                ["calls ", tool, ": \"", &*text, "\""].concat()
            }
            Some(text) => format!("calls {tool}: {text:?}"),
            None => ["calls ", tool].concat(),
        },
        ActivityKind::ToolResult => match activity.ok {
            Some(false) => [tool, " failed"].concat(),
            _ => [tool, " returned"].concat(),
        },
        ActivityKind::Message => format!("says {:?}", text.unwrap_or_default()),
        ActivityKind::Usage => {
            number_after("", activity.usage.map_or(0, |it| it.total()), " tokens so far")
        }
    }
}

/// Returns `text` on one line, cut to `max` characters with `…`.
fn one_line(text: &str, max: usize) -> Cow<'_, str> {
    // Most texts are on one line already, with single spaces: no copy then.
    let flat = !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && text.chars().all(|c| c == ' ' || !c.is_whitespace());
    if flat && (text.len() <= max || text.chars().count() <= max) {
        return Cow::Borrowed(text);
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return Cow::Owned(flat);
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    Cow::Owned(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::text::clock;

    #[test]
    fn clocks_and_lines_render_compactly() {
        assert_eq!(clock(0), "0:00.000");
        assert_eq!(clock(61_234), "1:01.234");
        assert_eq!(clock(3_723_004), "1:02:03.004");
        assert_eq!(one_line("a\n  b", 10), "a b");
        assert_eq!(one_line("abcdefghijk", 5), "abcd…");
        assert_eq!(one_line(" a b", 10), "a b");
        assert_eq!(one_line("a\u{a0}b", 10), "a b");
        assert_eq!(one_line("éééé", 4), "éééé");
        assert_eq!(one_line("ééééé", 4), "ééé…");
        assert!(matches!(one_line("a b", 3), Cow::Borrowed("a b")));
        for text in ["cargo test -p x", "say \"hi\"", "a\\b", "tab\there", "é", "\u{7f}", ""] {
            let activity = AgentActivity {
                step: 1,
                activity: ActivityKind::ToolCall,
                tool: Some("Shell".to_owned()),
                tool_call_id: None,
                ok: None,
                usage: None,
                text: Some(text.to_owned()),
            };
            let flat = one_line(text, 80);
            assert_eq!(describe_activity(&activity), format!("calls Shell: {flat:?}"));
        }
    }
}
