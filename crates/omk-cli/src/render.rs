//! The human result of a goal: a verdict block (status, why, the next command), a team goal's
//! slices and merge queue, the gates table, the changed files and the budget.

use std::fmt::Write as _;

use omk_events::{ChangedFile, FileOperation, GatePhase};
use omk_proof::{
    BatchResult, BudgetEvidence, Proof, ProofGate, ProofStatus, Readiness, SliceStatus,
    TeamEvidence,
};

use crate::{
    output::{paint, style},
    text::{plural, seconds},
};

/// Returns the verdict block: the status, why, and the next step as a command to copy.
pub(crate) fn verdict(proof: &Proof) -> String {
    let (word, style) = match proof.status {
        ProofStatus::Ready => ("ready", style::GOOD),
        ProofStatus::NotReady if proof.readiness == Readiness::AwaitingAcceptance => {
            ("not ready", style::WAIT)
        }
        ProofStatus::NotReady | ProofStatus::FailedInfra | ProofStatus::Cancelled => {
            (proof.status.word(), style::BAD)
        }
        other => (other.word(), style::WAIT),
    };
    let mut out = format!(
        "{} {} {}\n",
        paint(style, "●"),
        paint(style.bold(), word),
        paint(style::DIM, &format!("· {}", proof.readiness))
    );
    match proof.known_gaps.first() {
        Some(gap) if proof.status != ProofStatus::Ready => {
            let _ = writeln!(out, "  why   {}", gap.message);
            let _ = writeln!(out, "  hint  {}", gap.next_step);
            if proof.known_gaps.len() > 1 {
                let more = plural(proof.known_gaps.len() as u64 - 1, "more gap");
                let _ = writeln!(out, "  and   {more}: omk show {}", proof.goal_id);
            }
        }
        _ => {
            let _ = writeln!(out, "  why   {}", proof.readiness.sentence());
        }
    }
    if let Some(next) = next_command(proof) {
        let _ = writeln!(out, "  next  {}", paint(style::COMMAND, &next));
    }
    out
}

/// Returns the command that moves the goal on, when there is one.
pub(crate) fn next_command(proof: &Proof) -> Option<String> {
    omk_proof::next_command(proof)
}

/// Returns the gates table: one row per gate run, newest phase first.
pub(crate) fn gates_table(gates: &[ProofGate]) -> String {
    if gates.is_empty() {
        return "gates      none ran\n".to_owned();
    }
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut ordered: Vec<&ProofGate> = gates.iter().collect();
    // Results on the change first; baseline results are context.
    ordered.sort_by_key(|gate| gate.phase == GatePhase::Baseline);
    for gate in ordered {
        let result = match (gate.passed, gate.timed_out) {
            (true, _) => "passed",
            (false, true) => "timed out",
            (false, false) => "FAILED",
        };
        let tests = match gate.tests {
            Some(counts) => format!("{} passed, {} failed", counts.passed, counts.failed),
            None => match (gate.exit_code, gate.signal) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(signal)) => format!("signal {signal}"),
                (None, None) => "did not run".to_owned(),
            },
        };
        let mut notes = Vec::new();
        notes.push(gate.phase.to_string());
        if !gate.required {
            notes.push("optional".to_owned());
        }
        if gate.cached_from.is_some() {
            notes.push("cached".to_owned());
        }
        if gate.phase != GatePhase::Baseline && !gate.after_last_mutation {
            notes.push("before the change".to_owned());
        }
        rows.push([
            gate.name.clone(),
            result.to_owned(),
            tests,
            format!("{} ms", gate.duration_ms),
            notes.join(", "),
        ]);
    }
    let width = |col: usize| rows.iter().map(|row| row[col].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2), width(4)];
    let mut out = format!("gates ({})\n", gates.len());
    for row in &rows {
        let result_style = match row[1].as_str() {
            "passed" => style::GOOD,
            _ if row[4].starts_with("baseline") => style::WAIT,
            _ => style::BAD,
        };
        let result = format!("{:<w$}", row[1], w = widths[1]);
        let notes = format!("{:<w$}", row[4], w = widths[3]);
        // The duration comes last, so the columns do not move with its digits.
        let _ = writeln!(
            out,
            "  {:<w0$}  {}  {:<w2$}  {}  {}",
            row[0],
            paint(result_style, &result),
            row[2],
            paint(style::DIM, &notes),
            row[3],
            w0 = widths[0],
            w2 = widths[2],
        );
    }
    out
}

/// Returns a team goal's slices (one row each: id, state, attempts, how its merge ended or why
/// it failed) and its merge queue's batches.
pub(crate) fn team_table(team: &TeamEvidence) -> String {
    let mut out = format!("team       {} · {} at once\n", team.task_graph, team.max_agents);
    let rows: Vec<[String; 3]> = team
        .slices
        .iter()
        .map(|slice| {
            [
                slice.id.clone(),
                slice.status.to_string(),
                plural(slice.attempts.len() as u64, "attempt"),
            ]
        })
        .collect();
    let width = |col: usize| rows.iter().map(|row| row[col].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    for (slice, row) in team.slices.iter().zip(&rows) {
        let status_style = match slice.status {
            SliceStatus::Landed => style::GOOD,
            SliceStatus::TakenOut | SliceStatus::Failed => style::BAD,
            _ => style::WAIT,
        };
        let status = format!("{:<w$}", row[1], w = widths[1]);
        let mut line = format!(
            "  {:<w0$}  {}  {:<w2$}",
            row[0],
            paint(status_style, &status),
            row[2],
            w0 = widths[0],
            w2 = widths[2],
        );
        if let Some(detail) = slice.detail() {
            line.push_str("  ");
            line.push_str(&paint(style::DIM, &detail));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if !team.queue.is_empty() {
        let noun = if team.queue.len() == 1 { "batch" } else { "batches" };
        let _ = writeln!(out, "queue      {} {noun}", team.queue.len());
        let tasks: Vec<String> = team.queue.iter().map(|it| it.tasks.join(", ")).collect();
        let width = tasks.iter().map(|it| it.chars().count()).max().unwrap_or(0);
        for (batch, tasks) in team.queue.iter().zip(&tasks) {
            let (word, result_style) = match batch.result {
                BatchResult::Landed => ("landed", style::GOOD),
                BatchResult::Reverted => ("reverted", style::BAD),
                BatchResult::Open => ("merging", style::WAIT),
            };
            // The failed gates follow the result; a result alone is not padded.
            let (result, failed) = if batch.failed_gates.is_empty() {
                (word.to_owned(), String::new())
            } else {
                (format!("{word:<8}"), format!("  {} failed", batch.failed_gates.join(", ")))
            };
            let _ = writeln!(out, "  {tasks:<width$}  {}{failed}", paint(result_style, &result));
        }
    }
    out
}

/// Returns the changed files with their line counts.
pub(crate) fn changed_files(files: &[ChangedFile]) -> String {
    if files.is_empty() {
        return "changed    nothing\n".to_owned();
    }
    let (added, removed) = files.iter().fold((0, 0), |(a, r), file| {
        (a + file.lines_added.unwrap_or(0), r + file.lines_removed.unwrap_or(0))
    });
    let mut out = format!(
        "changed ({}, {} {})\n",
        plural(files.len() as u64, "file"),
        paint(style::GOOD, &format!("+{added}")),
        paint(style::BAD, &format!("-{removed}")),
    );
    let width = files.iter().map(|file| path_of(file).chars().count()).max().unwrap_or(0);
    for file in files {
        let letter = match file.operation {
            FileOperation::Created => "A",
            FileOperation::Modified => "M",
            FileOperation::Deleted => "D",
            FileOperation::Renamed => "R",
        };
        let counts = match (file.lines_added, file.lines_removed) {
            (Some(added), Some(removed)) => format!(
                "{} {}",
                paint(style::GOOD, &format!("+{added}")),
                paint(style::BAD, &format!("-{removed}"))
            ),
            _ => "binary".to_owned(),
        };
        let _ = writeln!(out, "  {letter} {:<width$}  {counts}", path_of(file));
    }
    out
}

fn path_of(file: &ChangedFile) -> String {
    match (&file.operation, &file.renamed_from) {
        (FileOperation::Renamed, Some(from)) => format!("{from} → {}", file.path),
        _ => file.path.clone(),
    }
}

/// Returns the budget line: what was used, against the limits.
pub(crate) fn budget(budget: &BudgetEvidence) -> String {
    let (used, limits) = (&budget.used, &budget.limits);
    let of = |limit: Option<String>| limit.map(|it| format!(" of {it}")).unwrap_or_default();
    let mut parts = vec![
        format!("time {}{}", seconds(used.wall_ms), of(limits.wall_ms.map(seconds))),
        format!("tokens {}{}", used.tokens, of(limits.tokens.map(|it| it.to_string()))),
        format!("turns {}{}", used.turns, of(limits.turns.map(|it| it.to_string()))),
    ];
    if used.usd.is_some() || limits.usd.is_some() {
        let usd = used.usd.map_or_else(|| "unknown".to_owned(), |it| format!("${it:.4}"));
        parts.push(format!("cost {usd}{}", of(limits.usd.map(|it| format!("${it:.2}")))));
    }
    if let Some(exhausted) = &budget.exhausted {
        parts.push(paint(style::WAIT, &format!("{} ran out", exhausted.resource)));
    }
    format!("budget     {}\n", parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use omk_events::{
        Event, GoalCreated, PlanSource, QueueLanded, QueueMerged, QueueReverted, TakeOutReason,
        TaskCompleted, TaskFailed, TaskGraphPlanned, TaskTakenOut,
    };

    use super::*;
    use crate::fixtures::{envelopes, spec};

    fn claimed(task: &str, attempt: u32) -> Event {
        crate::fixtures::claimed(task, "w1", attempt)
    }

    fn completed(task: &str) -> Event {
        Event::TaskCompleted(TaskCompleted {
            task: task.to_owned(),
            attempt: 1,
            commit: "c".repeat(40),
            tree_id: "d".repeat(40),
            paths: vec![format!("src/{task}.rs")],
        })
    }

    /// Returns the proof of a goal whose log holds `events` after `goal_created`.
    fn proof_of(events: Vec<Event>) -> Proof {
        let created = Event::GoalCreated(GoalCreated {
            prompt: "- api\n- cli\n- docs\n- web".to_owned(),
            repo_root: "/repo".into(),
            base_branch: Some("main".to_owned()),
            base_commit: "0".repeat(40),
            agent: "script:team.txt".to_owned(),
            omk_version: "0.1.0".to_owned(),
            extra_gates: Vec::new(),
        });
        let envelopes = envelopes(std::iter::once(created).chain(events).collect());
        omk_proof::synthesize(&envelopes).expect("a log that starts with goal_created")
    }

    #[test]
    fn a_team_goal_shows_its_slices_and_queue() {
        let tree = "a".repeat(40);
        let proof = proof_of(vec![
            Event::TaskGraphPlanned(TaskGraphPlanned {
                source: PlanSource::Slices { count: 4 },
                tasks: ["api", "cli", "docs", "web"].map(spec).to_vec(),
                max_agents: 2,
                lease_ms: 30_000,
                max_depth: 1,
                max_tasks: 8,
            }),
            claimed("api", 1),
            completed("api"),
            claimed("cli", 1),
            completed("cli"),
            claimed("docs", 1),
            Event::TaskFailed(TaskFailed {
                task: "docs".to_owned(),
                attempt: 1,
                worker: "w1".to_owned(),
                cause: omk_events::FailureCause::NoChange,
                reason: "the agent changed nothing".to_owned(),
                retry: false,
            }),
            claimed("web", 1),
            Event::QueueMerged(QueueMerged {
                tasks: vec!["api".to_owned(), "cli".to_owned()],
                from_commit: "0".repeat(40),
                commit: "1".repeat(40),
                tree_id: tree.clone(),
            }),
            Event::QueueReverted(QueueReverted {
                tasks: vec!["api".to_owned(), "cli".to_owned()],
                tree_id: tree,
                failed_gates: vec!["test".to_owned()],
                reset_to: "0".repeat(40),
            }),
            Event::QueueMerged(QueueMerged {
                tasks: vec!["api".to_owned()],
                from_commit: "0".repeat(40),
                commit: "2".repeat(40),
                tree_id: "b".repeat(40),
            }),
            Event::QueueLanded(QueueLanded {
                tasks: vec!["api".to_owned()],
                commit: "2".repeat(40),
                tree_id: "b".repeat(40),
            }),
            Event::TaskTakenOut(TaskTakenOut {
                task: "cli".to_owned(),
                reason: TakeOutReason::Conflict { paths: vec!["src/main.rs".to_owned()] },
            }),
        ]);
        let team = proof.team.as_ref().expect("a team goal");
        let table = anstream::adapter::strip_str(&team_table(team)).to_string();
        assert_eq!(
            table,
            "team       4 slices: 1 landed, 1 running, 1 failed, 1 taken out · 2 at once
  api   landed     1 attempt  landed at 222222222222
  cli   taken out  1 attempt  conflict in src/main.rs
  docs  failed     1 attempt  failed (no change): the agent changed nothing
  web   running    1 attempt  on w1
queue      2 batches
  api, cli  reverted  test failed
  api       landed
"
        );
        // The next step of an unfinished team run is to resume it.
        assert_eq!(next_command(&proof), Some("omk resume 20261121-200000-abcdef".to_owned()));
    }
}
