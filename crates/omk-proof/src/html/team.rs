//! The team section of the report: the task graph, one row per slice with its attempts, merge
//! and integration gates, the merge queue's batches and the proposed tasks.

use std::{collections::BTreeMap, fmt::Write as _};

use omk_events::{PlanSource, short_id};

use crate::model::{BatchResult, SliceStatus, TeamEvidence};

use super::{
    ArtifactContent,
    markup::{anchor, badge, code, escape, plural},
    sections::artifact_block,
};

/// Returns the team section.
pub(crate) fn team(team: &TeamEvidence, artifacts: &BTreeMap<String, ArtifactContent>) -> String {
    let mut out = String::from("<section id=\"team\">\n<h2>Team</h2>\n");
    let source = match &team.source {
        PlanSource::Slices { count } => format!("planned as {count} slices"),
        PlanSource::File { path, sha256 } => {
            format!("planned in {} ({})", path.display(), short_id(sha256))
        }
    };
    let _ = writeln!(
        out,
        "<p>{} · {} · {} at once</p>",
        escape(&team.task_graph.to_string()),
        escape(&source),
        team.max_agents
    );
    out.push_str("<table>\n<tr><th>slice</th><th>status</th><th>attempts</th><th>merge</th><th>integration gates</th></tr>\n");
    for slice in &team.slices {
        let class = match slice.status {
            SliceStatus::Landed => "good",
            SliceStatus::TakenOut | SliceStatus::Failed => "bad",
            SliceStatus::Pending
            | SliceStatus::Running
            | SliceStatus::Queued
            | SliceStatus::Merging => "wait",
        };
        let gates: Vec<String> = slice
            .gates
            .iter()
            .map(|gate| badge(if gate.passed { "good" } else { "bad" }, &gate.name))
            .collect();
        let _ = writeln!(
            out,
            "<tr id=\"{}\"><td>{}<br><span class=\"small dim\">{}</span></td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            anchor("slice", &slice.id),
            code(&slice.id),
            escape(&slice.prompt),
            badge(class, &slice.status.to_string()),
            slice.attempts.len(),
            escape(&slice.detail().unwrap_or_default()),
            gates.join(" ")
        );
    }
    out.push_str("</table>\n");
    if !team.queue.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Merge queue ({})</h3>\n<ol class=\"small\">",
            plural(team.queue.len() as u64, "batch", "batches")
        );
        for batch in &team.queue {
            let class = match batch.result {
                BatchResult::Landed => "good",
                BatchResult::Reverted => "bad",
                BatchResult::Open => "wait",
            };
            let failed = if batch.failed_gates.is_empty() {
                String::new()
            } else {
                format!(", broke {}", batch.failed_gates.join(", "))
            };
            let _ = writeln!(
                out,
                "<li>{} {} on tree {}{}</li>",
                badge(class, &batch.result.to_string()),
                escape(&batch.tasks.join(", ")),
                code(short_id(&batch.tree_id)),
                escape(&failed)
            );
        }
        out.push_str("</ol>\n");
    }
    let logs: Vec<_> = team
        .slices
        .iter()
        .flat_map(|slice| slice.gates.iter().map(move |gate| (slice, gate)))
        .filter(|(_, gate)| !gate.passed)
        .filter_map(|(slice, gate)| gate.output.as_ref().map(|it| (slice, gate, it)))
        .collect();
    for (slice, gate, output) in logs {
        let _ = writeln!(
            out,
            "<details>\n<summary>{} integration gate <b>{}</b> that decided {}</summary>\n<div class=\"body\">",
            badge("bad", "failed"),
            escape(&gate.name),
            code(&slice.id)
        );
        out.push_str(&artifact_block(output, artifacts, false));
        out.push_str("</div>\n</details>\n");
    }
    if !team.proposals.is_empty() {
        let _ = writeln!(
            out,
            "<h3>Proposed tasks ({})</h3>\n<ul class=\"plain small\">",
            team.proposals.len()
        );
        for proposal in &team.proposals {
            let by = proposal.by.as_deref().map(|it| format!(" by {it}")).unwrap_or_default();
            let (class, word) =
                if proposal.accepted { ("good", "accepted") } else { ("", "rejected") };
            let _ = writeln!(
                out,
                "<li>{} {}{}: {}</li>",
                badge(class, word),
                code(&proposal.id),
                escape(&by),
                escape(&proposal.reason)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}
