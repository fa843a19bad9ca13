//! The report's sections below the timeline: known gaps, gates with their outputs, changed
//! files with their diffs, reviews, the agent, budget, approvals, integration, and the anchor
//! and signature checks.

use std::{collections::BTreeMap, fmt::Write as _};

use omk_events::{ApprovalDecision, ArtifactRef, ChangedFile, FileOperation, GatePhase, short_id};

use crate::model::{IntegrationDecision, Proof, ProofGate, ReviewSectionStatus};

use super::{
    ArtifactContent, ReportCheck, ReportContext,
    markup::{anchor, badge, code, duration, escape, number, plural, push_escaped},
};

/// Returns the known gaps, each with its next step; nothing when there is none.
pub(crate) fn gaps(proof: &Proof) -> String {
    if proof.known_gaps.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section id=\"gaps\">\n");
    let _ = writeln!(out, "<h2>Known gaps ({})</h2>\n<ul class=\"plain\">", proof.known_gaps.len());
    for gap in &proof.known_gaps {
        let rung = gap.gap.rung().map(|it| badge("", it.as_str())).unwrap_or_default();
        let _ = writeln!(
            out,
            "<li>{} {rung}<br><span class=\"dim\">next:</span> {}</li>",
            escape(&gap.message),
            escape(&gap.next_step)
        );
    }
    out.push_str("</ul>\n</section>\n");
    out
}

/// Returns the gates: one collapsible row per gate with its command, counts and output.
pub(crate) fn gates(ctx: &ReportContext<'_>) -> String {
    let proof = ctx.proof;
    let mut out = String::from("<section id=\"gates\">\n");
    let _ = writeln!(out, "<h2>Gates ({})</h2>", proof.gates.len());
    if proof.gates.is_empty() {
        out.push_str("<p class=\"dim\">No gate ran.</p>\n");
    }
    if let Some(tests) = &proof.tests {
        let _ = writeln!(out, "<p class=\"small\">{}</p>", escape(&tests.why));
    }
    let mut ordered: Vec<&ProofGate> = proof.gates.iter().collect();
    // Results on the change first; baseline results are context.
    ordered.sort_by_key(|gate| gate.phase == GatePhase::Baseline);
    for gate in ordered {
        out.push_str(&gate_details(gate, ctx.artifacts));
    }
    if let Some(evidence) = proof.oracle.as_ref().and_then(|it| it.fail_to_pass.as_ref()) {
        let flips: Vec<String> = evidence
            .flips
            .iter()
            .map(|flip| format!("{} fails without the change and passes with it", flip.gate))
            .collect();
        let text = if flips.is_empty() { evidence.reason.clone() } else { flips.join("; ") };
        let _ = writeln!(out, "<p class=\"small\"><b>fail-to-pass</b> {}</p>", escape(&text));
    }
    out.push_str("</section>\n");
    out
}

fn gate_details(gate: &ProofGate, artifacts: &BTreeMap<String, ArtifactContent>) -> String {
    let mut out = String::new();
    let (class, word) = match (gate.passed, gate.timed_out) {
        (true, _) if gate.counting_no_tests > 0 => ("bad", "no tests"),
        (true, _) => ("good", "passed"),
        (false, true) => ("bad", "timed out"),
        (false, false) => ("bad", "failed"),
    };
    // A failure on the change is what a reader looks for; one on the base tree is context.
    let open = if gate.passed || gate.phase == GatePhase::Baseline { "" } else { " open" };
    let _ = write!(out, "<details id=\"{}\"{open}>\n<summary>", anchor("gate", &gate.name));
    let _ = write!(
        out,
        "{} <b>{}</b> {} {}",
        badge(class, word),
        escape(&gate.name),
        badge("", &gate.phase.to_string()),
        badge("", if gate.required { "required" } else { "optional" }),
    );
    if let Some(tests) = gate.tests {
        let _ = write!(
            out,
            " · {} passed, {} failed, {} skipped",
            tests.passed, tests.failed, tests.skipped
        );
    }
    let _ = write!(out, " · {}", duration(gate.duration_ms));
    if gate.flaky {
        out.push(' ');
        out.push_str(&badge("wait", "flaky"));
    }
    if gate.cached_from.is_some() {
        out.push(' ');
        out.push_str(&badge("info", "cached"));
    }
    out.push_str("</summary>\n<div class=\"body\">\n<dl class=\"facts\">\n");
    let _ = writeln!(out, "<dt>command</dt><dd>{}</dd>", code(&gate.command.join(" ")));
    let ending = match (&gate.spawn_error, gate.exit_code, gate.signal) {
        (Some(error), _, _) => format!("could not start: {error}"),
        (None, Some(code), _) => format!("exit {code}"),
        (None, None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None, None) => "no exit status".to_owned(),
    };
    let _ = writeln!(out, "<dt>ended</dt><dd>{}</dd>", escape(&ending));
    let _ = writeln!(
        out,
        "<dt>runs</dt><dd>{} in this phase, {} failed; {} on the proposed tree since the last change{}</dd>",
        gate.runs,
        gate.failed_runs,
        gate.runs_on_tree,
        if gate.after_last_mutation { "" } else { " (this run came before the last change)" }
    );
    if let Some(tree) = &gate.tree_id {
        let _ = writeln!(out, "<dt>tree</dt><dd>{}</dd>", code(short_id(tree)));
    }
    if gate.tests_by_exit_code && gate.tests.is_none() {
        out.push_str("<dt>tests</dt><dd>judged by the exit code only (weaker evidence)</dd>\n");
    }
    if let Some(with) = &gate.flaky_with {
        let _ = writeln!(out, "<dt>flaky</dt><dd>differs from {}</dd>", escape(with));
    }
    if let Some(from) = &gate.cached_from {
        let _ = writeln!(out, "<dt>cached</dt><dd>the result of {}</dd>", escape(from));
    }
    if let Some(junit) = &gate.junit {
        let text = if junit.counted {
            format!("counted from {}", junit.files.join(", "))
        } else if let Some(error) = &junit.error {
            format!("not read: {error}")
        } else {
            format!("no report written at {}", junit.pattern)
        };
        let _ = writeln!(out, "<dt>JUnit</dt><dd>{}</dd>", escape(&text));
    }
    out.push_str("</dl>\n");
    match &gate.output {
        Some(output) => out.push_str(&artifact_block(output, artifacts, false)),
        None => out.push_str("<p class=\"dim\">No output was captured.</p>\n"),
    }
    out.push_str("</div>\n</details>\n");
    out
}

/// Returns an artifact's text in a `<pre>`, with what was cut and whether it matched its digest.
pub(crate) fn artifact_block(
    artifact: &ArtifactRef,
    artifacts: &BTreeMap<String, ArtifactContent>,
    diff: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p class=\"small dim\">{} · {} · sha256 {}</p>",
        code(&artifact.path),
        plural(artifact.bytes, "byte", "bytes"),
        code(short_id(&artifact.sha256))
    );
    match artifacts.get(&artifact.path) {
        None => out.push_str("<p class=\"dim\">Not included in this report.</p>\n"),
        Some(ArtifactContent::Unreadable { reason }) => {
            let _ = writeln!(
                out,
                "<p>{} could not be read: {}</p>",
                badge("bad", "unreadable"),
                escape(reason)
            );
        }
        Some(ArtifactContent::Altered { sha256 }) => {
            let _ = writeln!(
                out,
                "<p>{} the file's SHA-256 is now {}, not the one the log recorded: it is not shown, since it is not what the proof speaks for.</p>",
                badge("bad", "altered"),
                code(short_id(sha256))
            );
        }
        Some(ArtifactContent::Text(text)) => {
            out.push_str(&pre(&text.text, text.omitted_before, text.omitted_after, diff));
        }
    }
    out
}

/// Returns `text` in a `<pre>`, colored as a diff when `diff`, with notes of what was left out.
fn pre(text: &str, omitted_before: u64, omitted_after: u64, diff: bool) -> String {
    let mut out = String::from("<pre");
    out.push_str(if diff { " class=\"diff\">" } else { ">" });
    if omitted_before > 0 {
        let _ = writeln!(
            out,
            "<span class=\"cut\">… {} before this are not shown</span>",
            plural(omitted_before, "byte", "bytes")
        );
    }
    for line in text.lines() {
        let class = match line.as_bytes().first() {
            _ if !diff => None,
            Some(b'+') if !line.starts_with("+++") => Some("add"),
            Some(b'-') if !line.starts_with("---") => Some("del"),
            Some(b'@') => Some("hunk"),
            _ => None,
        };
        match class {
            Some(class) => {
                let _ = write!(out, "<span class=\"{class}\">");
                push_escaped(&mut out, line);
                out.push_str("</span>");
            }
            None => {
                push_escaped(&mut out, line);
                out.push('\n');
            }
        }
    }
    if omitted_after > 0 {
        let _ = writeln!(
            out,
            "<span class=\"cut\">… {} after this are not shown</span>",
            plural(omitted_after, "byte", "bytes")
        );
    }
    out.push_str("</pre>\n");
    out
}

/// Returns the changed files: a table, then each file's diff, cut from the change's patch.
pub(crate) fn changed_files(ctx: &ReportContext<'_>) -> String {
    let proof = ctx.proof;
    let mut out = String::from("<section id=\"changes\">\n");
    let _ = writeln!(out, "<h2>Changed files ({})</h2>", proof.changed_files.len());
    if proof.changed_files.is_empty() {
        out.push_str("<p class=\"dim\">git shows no change.</p>\n</section>\n");
        return out;
    }
    let patch = proof.git.patch.as_ref().and_then(|it| match ctx.artifacts.get(&it.path) {
        Some(ArtifactContent::Text(text)) => Some(text),
        _ => None,
    });
    let segments = patch.map(|it| split_patch(&it.text)).unwrap_or_default();
    for (idx, file) in proof.changed_files.iter().enumerate() {
        let diff = segments
            .get(idx)
            .filter(|_| segments.len() == proof.changed_files.len())
            .or_else(|| segments.iter().find(|it| header_names(it, &file.path)));
        out.push_str(&file_details(file, diff.map(String::as_str)));
    }
    if let Some(artifact) = &proof.git.patch {
        out.push_str("<details>\n<summary>The whole patch</summary>\n<div class=\"body\">\n");
        out.push_str(&artifact_block(artifact, ctx.artifacts, true));
        out.push_str("</div>\n</details>\n");
    } else {
        out.push_str("<p class=\"small dim\">omk wrote no patch of the change.</p>\n");
    }
    out.push_str("</section>\n");
    out
}

fn file_details(file: &ChangedFile, diff: Option<&str>) -> String {
    let mut out = String::new();
    let class = match file.operation {
        FileOperation::Created => "good",
        FileOperation::Deleted => "bad",
        FileOperation::Modified | FileOperation::Renamed => "info",
    };
    let counts = match (file.lines_added, file.lines_removed) {
        (Some(added), Some(removed)) => format!("+{added} −{removed}"),
        _ => "binary".to_owned(),
    };
    let path = match (&file.operation, &file.renamed_from) {
        (FileOperation::Renamed, Some(from)) => format!("{} → {}", code(from), code(&file.path)),
        _ => code(&file.path),
    };
    let _ = writeln!(
        out,
        "<details class=\"file\" id=\"{}\">\n<summary>{} {path} <span class=\"dim\">{counts}</span></summary>\n<div class=\"body\">",
        anchor("file", &file.path),
        badge(class, &file.operation.to_string())
    );
    match diff {
        Some(diff) => out.push_str(&pre(diff, 0, 0, true)),
        None => out.push_str("<p class=\"dim\">Its diff is not in this report.</p>\n"),
    }
    out.push_str("</div>\n</details>\n");
    out
}

/// Returns the patch cut at each `diff --git` header, one part per file.
fn split_patch(patch: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for line in patch.split_inclusive('\n') {
        if line.starts_with("diff --git ") || parts.is_empty() {
            parts.push(String::new());
        }
        if let Some(part) = parts.last_mut() {
            part.push_str(line);
        }
    }
    parts.retain(|it| it.starts_with("diff --git "));
    parts
}

fn header_names(part: &str, path: &str) -> bool {
    let header = part.lines().next().unwrap_or_default();
    header.ends_with(&format!(" b/{path}")) || header.ends_with(&format!(" \"b/{path}\""))
}

/// Returns the review sections.
pub(crate) fn reviews(proof: &Proof) -> String {
    let mut out = String::from("<section id=\"reviews\">\n");
    let _ = writeln!(out, "<h2>Review ({})</h2>", proof.reviews.len());
    if proof.reviews.is_empty() {
        out.push_str("<p class=\"dim\">The review wall has not run on this tree.</p>\n");
    }
    for review in &proof.reviews {
        let class = match review.status {
            ReviewSectionStatus::Passed => "good",
            ReviewSectionStatus::Failed => "bad",
            ReviewSectionStatus::Blocked | ReviewSectionStatus::Missing => "wait",
        };
        let open = if review.status == ReviewSectionStatus::Passed { "" } else { " open" };
        let _ = writeln!(
            out,
            "<details{open}>\n<summary>{} <b>{}</b></summary>\n<div class=\"body\">\n<ul class=\"plain\">",
            badge(class, &review.status.to_string()),
            escape(&review.check)
        );
        for evidence in &review.evidence {
            let _ = writeln!(out, "<li>{}</li>", escape(evidence));
        }
        for risk in &review.risks {
            let _ = writeln!(out, "<li>{} {}</li>", badge("wait", "risk"), escape(risk));
        }
        if let Some(next) = &review.next_step {
            let _ = writeln!(out, "<li><span class=\"dim\">next:</span> {}</li>", escape(next));
        }
        out.push_str("</ul>\n</div>\n</details>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Returns the agent's runs: status, steps, tool calls, tokens, cost, its last message.
pub(crate) fn agent(proof: &Proof) -> String {
    let Some(agent) = &proof.agent else { return String::new() };
    let mut out = String::from("<section id=\"agent\">\n<h2>Agent</h2>\n<dl class=\"facts\">\n");
    let class = if agent.status == omk_events::AgentStatus::Completed { "good" } else { "bad" };
    let version = agent.version.as_deref().map(|it| format!(" {it}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "<dt>agent</dt><dd>{}{} {}</dd>",
        code(&agent.agent),
        escape(&version),
        badge(class, &agent.status.to_string())
    );
    let _ = writeln!(
        out,
        "<dt>runs</dt><dd>{} · {} · {} ({} failed) · {}</dd>",
        plural(u64::from(agent.runs), "run", "runs"),
        plural(agent.steps, "step", "steps"),
        plural(agent.tool_calls, "tool call", "tool calls"),
        agent.failed_tool_calls,
        duration(agent.duration_ms)
    );
    if let Some(usage) = &agent.usage {
        let _ = writeln!(
            out,
            "<dt>tokens</dt><dd>{} ({} input, {} cached, {} output)</dd>",
            number(usage.total()),
            number(usage.input_uncached),
            number(usage.input_cache_read),
            number(usage.output)
        );
    }
    if let Some(cost) = &agent.cost {
        let _ = writeln!(out, "<dt>cost</dt><dd>${:.4}</dd>", cost.usd);
    }
    if let Some(error) = &agent.error {
        let _ = writeln!(out, "<dt>error</dt><dd>{}</dd>", escape(error));
    }
    if let Some(message) = &agent.final_message {
        let _ = writeln!(out, "<dt>said last</dt><dd>{}</dd>", escape(message));
    }
    out.push_str("</dl>\n");
    if !agent.tool_call_log.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>{} of the latest run</summary>\n<div class=\"body\"><ol class=\"small\">",
            plural(agent.tool_call_log.len() as u64, "tool call", "tool calls")
        );
        for call in &agent.tool_call_log {
            let ok = match call.ok {
                Some(true) => badge("good", "ok"),
                Some(false) => badge("bad", "failed"),
                None => badge("", "no result"),
            };
            let _ = writeln!(out, "<li>{} {ok}</li>", code(&call.name));
        }
        out.push_str("</ol></div>\n</details>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Returns the budget: each limit beside what was used.
pub(crate) fn budget(proof: &Proof) -> String {
    let budget = &proof.budget;
    let used = &budget.used;
    let limit = |it: Option<String>| it.unwrap_or_else(|| "no limit".to_owned());
    let rows = [
        ("wall time", duration(used.wall_ms), limit(budget.limits.wall_ms.map(duration))),
        ("tokens", number(used.tokens), limit(budget.limits.tokens.map(number))),
        (
            "cost",
            used.usd.map_or_else(|| "unknown".to_owned(), |it| format!("${it:.4}")),
            limit(budget.limits.usd.map(|it| format!("${it:.2}"))),
        ),
        ("turns", number(used.turns), limit(budget.limits.turns.map(number))),
    ];
    let mut out = String::from(
        "<section id=\"budget\">\n<h2>Budget</h2>\n<table>\n<tr><th>resource</th><th>used</th><th>limit</th></tr>\n",
    );
    for (name, used, limit) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&used),
            escape(&limit)
        );
    }
    out.push_str("</table>\n");
    if let Some(exhausted) = &budget.exhausted {
        let _ = writeln!(
            out,
            "<p>{} the {} budget ran out.</p>",
            badge("wait", "stopped"),
            exhausted.resource
        );
    }
    out.push_str("</section>\n");
    out
}

/// Returns every answer of the approval policy to the agent's tool requests.
pub(crate) fn approvals(proof: &Proof) -> String {
    if proof.approvals.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section id=\"approvals\">\n");
    let _ = writeln!(
        out,
        "<h2>Approvals ({})</h2>\n<table>\n<tr><th>decision</th><th>tool</th><th>request</th><th>rule</th></tr>",
        proof.approvals.len()
    );
    for approval in &proof.approvals {
        let class = match approval.decision {
            ApprovalDecision::Allow => "good",
            ApprovalDecision::Deny => "bad",
            ApprovalDecision::Ask => "wait",
        };
        let request = approval.command.as_deref().or(approval.path.as_deref()).unwrap_or("");
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"dim\">{}</span></td></tr>",
            badge(class, &approval.decision.to_string()),
            code(&approval.tool),
            if request.is_empty() { String::new() } else { code(request) },
            escape(&approval.rule),
            escape(&approval.rule_source)
        );
    }
    out.push_str("</table>\n</section>\n");
    out
}

/// Returns the integration: the accept or reject decision, the gate surface, the sandbox and
/// the decisions a person must take.
pub(crate) fn integration(proof: &Proof) -> String {
    let mut out =
        String::from("<section id=\"integration\">\n<h2>Integration</h2>\n<dl class=\"facts\">\n");
    match &proof.integration {
        None => out.push_str("<dt>decision</dt><dd>not accepted yet</dd>\n"),
        Some(integration) => {
            let class = match integration.decision {
                IntegrationDecision::Accepted => "good",
                IntegrationDecision::Rejected => "bad",
            };
            let reason =
                integration.reason.as_deref().map(|it| format!(": {it}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "<dt>decision</dt><dd>{} by {} at {}{}</dd>",
                badge(class, &integration.decision.to_string()),
                escape(&integration.by.to_string()),
                integration.at.format("%Y-%m-%d %H:%M:%S UTC"),
                escape(&reason)
            );
            let _ = writeln!(out, "<dt>tree</dt><dd>{}</dd>", code(&integration.tree_id));
            if let Some(commit) = &integration.merge_commit {
                let _ = writeln!(out, "<dt>merged as</dt><dd>{}</dd>", code(commit));
            }
        }
    }
    if let Some(surface) = &proof.gate_surface {
        let text = if surface.changed_paths.is_empty() {
            "unchanged".to_owned()
        } else {
            format!("changed: {}", surface.changed_paths.join(", "))
        };
        let _ = writeln!(out, "<dt>gate surface</dt><dd>{}</dd>", escape(&text));
    }
    if let Some(sandbox) = &proof.sandbox {
        let reason = sandbox.reason.as_deref().map(|it| format!(" ({it})")).unwrap_or_default();
        let network = if sandbox.network { "network on" } else { "network off" };
        let _ = writeln!(
            out,
            "<dt>sandbox</dt><dd>{}{} · {network}</dd>",
            escape(&sandbox.mode.to_string()),
            escape(&reason)
        );
    }
    for decision in &proof.human_decisions_required {
        let _ = writeln!(out, "<dt>to decide</dt><dd>{}</dd>", escape(&decision.question));
    }
    for recovery in &proof.recovery {
        let _ = writeln!(out, "<dt>recovered</dt><dd>{}</dd>", escape(&recovery.detail));
    }
    out.push_str("</dl>\n</section>\n");
    out
}

/// Returns the checks of the log's anchors and signature, and the log's digest.
pub(crate) fn seal(proof: &Proof, checks: &[ReportCheck]) -> String {
    let mut out = String::from(
        "<section id=\"seal\">\n<h2>Log, anchors and signature</h2>\n<dl class=\"facts\">\n",
    );
    let head = proof
        .task
        .log_head
        .as_deref()
        .map(|it| format!(", head {}", code(short_id(it))))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<dt>log</dt><dd>{}{head}</dd>",
        plural(proof.task.events, "event", "events")
    );
    out.push_str("</dl>\n");
    if checks.is_empty() {
        out.push_str("<p class=\"dim\">No anchor or signature was checked for this report.</p>\n");
    } else {
        out.push_str("<table>\n<tr><th>check</th><th>result</th><th>found</th></tr>\n");
        for check in checks {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                code(&check.name),
                badge(check.status.class(), check.status.word()),
                escape(&check.message)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Returns the page's last line: what made it and how to check it.
pub(crate) fn footer(proof: &Proof) -> String {
    format!(
        "<footer>Made by omk {} from the goal's event log. <code>omk proof verify {}</code> checks the log, its artifacts and its anchors.</footer>\n",
        escape(&proof.task.omk_version),
        escape(proof.goal_id.as_str())
    )
}
