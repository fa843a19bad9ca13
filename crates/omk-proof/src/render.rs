//! Human renderings of a proof.

use std::fmt::Write;

use omk_events::{ChangedFile, FileOperation};

use crate::model::{Proof, ProofGate};

/// Returns the proof as plain text for a terminal: verdict, changes, gates, gaps.
pub fn render_text(proof: &Proof) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("goal       {}", proof.goal_id));
    line(format!("status     {}", proof.status));
    line(format!("readiness  {} ({})", proof.readiness, proof.readiness.sentence()));
    line(format!("prompt     {}", one_line(&proof.prompt)));
    let branch = proof.git.branch.as_deref().unwrap_or("(no worktree)");
    line(format!("branch     {branch} from {}", short(&proof.git.base_commit)));
    if let Some(tree_id) = &proof.git.tree_id {
        line(format!("tree       {tree_id}"));
    }
    if let Some(agent) = &proof.agent {
        let mut text = format!(
            "agent      {} {}, steps {}, tool calls {} ({} failed)",
            agent.agent, agent.status, agent.steps, agent.tool_calls, agent.failed_tool_calls
        );
        if let Some(usage) = &agent.usage {
            let _ = write!(text, ", tokens {}", usage.total());
        }
        line(text);
    }
    line(String::new());
    line(format!("changed files ({})", proof.changed_files.len()));
    for file in &proof.changed_files {
        line(format!("  {}", changed_file_line(file)));
    }
    line(String::new());
    line(format!("gates ({})", proof.gates.len()));
    for gate in &proof.gates {
        line(format!("  {}", gate_line(gate)));
    }
    line(String::new());
    line("known gaps".to_owned());
    for gap in &proof.known_gaps {
        line(format!("  - {}", gap.message));
        line(format!("    next: {}", gap.next_step));
    }
    out
}

fn changed_file_line(file: &ChangedFile) -> String {
    let counts = match (file.lines_added, file.lines_removed) {
        (Some(added), Some(removed)) => format!("+{added} -{removed}"),
        _ => "binary".to_owned(),
    };
    let path = match (&file.operation, &file.renamed_from) {
        (FileOperation::Renamed, Some(from)) => format!("{from} -> {}", file.path),
        _ => file.path.clone(),
    };
    format!("{:<9} {path}  {counts}", file.operation.to_string())
}

fn gate_line(gate: &ProofGate) -> String {
    let verdict = match (gate.passed, gate.timed_out) {
        (true, _) => "pass",
        (false, true) => "timeout",
        (false, false) => "FAIL",
    };
    let ending = match (&gate.spawn_error, gate.exit_code, gate.signal) {
        (Some(error), _, _) => format!("could not start: {error}"),
        (None, Some(code), _) => format!("exit {code}"),
        (None, None, Some(signal)) => format!("signal {signal}"),
        (None, None, None) => "no exit status".to_owned(),
    };
    let required = if gate.required { "required" } else { "optional" };
    let stale = if gate.after_last_mutation { "" } else { ", before the change" };
    let output = gate.output.as_ref().map(|it| format!("  log {}", it.path)).unwrap_or_default();
    format!(
        "{verdict:<7} {}  ({required}, {ending}, {} ms{stale})  {}{output}",
        gate.name,
        gate.duration_ms,
        gate.command.join(" ")
    )
}

fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    if text.lines().nth(1).is_some() { format!("{first} …") } else { first.to_owned() }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
