//! The human result of a goal: a verdict block (status, why, the next command), the gates
//! table, the changed files and the budget.

use std::fmt::Write as _;

use omk_events::{BudgetResource, ChangedFile, DecisionSubject, FileOperation, GatePhase};
use omk_proof::{BudgetEvidence, Proof, ProofGate, ProofStatus, Readiness};

use crate::{
    output::{paint, style},
    progress::plural,
};

/// Returns the verdict block: the status, why, and the next step as a command to copy.
pub(crate) fn verdict(proof: &Proof) -> String {
    let (word, style) = match proof.status {
        ProofStatus::Ready => ("ready", style::GOOD),
        ProofStatus::NotReady if proof.readiness == Readiness::AwaitingAcceptance => {
            ("not ready", style::WAIT)
        }
        ProofStatus::NotReady | ProofStatus::FailedInfra | ProofStatus::Cancelled => {
            (status_word(proof.status), style::BAD)
        }
        other => (status_word(other), style::WAIT),
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

fn status_word(status: ProofStatus) -> &'static str {
    match status {
        ProofStatus::Ready => "ready",
        ProofStatus::NotReady => "not ready",
        ProofStatus::BlockedOnHuman => "blocked on you",
        ProofStatus::BlockedOnExternal => "blocked",
        ProofStatus::NeedsMoreBudget => "out of budget",
        ProofStatus::FailedInfra => "failed",
        ProofStatus::Cancelled => "cancelled",
        ProofStatus::Paused => "paused",
    }
}

/// Returns the command that moves the goal on, when there is one.
pub(crate) fn next_command(proof: &Proof) -> Option<String> {
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
        ProofStatus::NotReady => format!("omk resume {goal} --prompt \"WHAT TO FIX\""),
    })
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

/// Returns `ms` as `12.3s`, `4m05s` or `1h30m`.
pub(crate) fn seconds(ms: u64) -> String {
    let whole = ms / 1000;
    if whole < 60 {
        #[expect(clippy::cast_precision_loss, reason = "under a minute of milliseconds")]
        let secs = ms as f64 / 1000.0;
        format!("{secs:.1}s")
    } else if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}
