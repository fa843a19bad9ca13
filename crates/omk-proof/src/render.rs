//! Human renderings of a proof: a short text summary for terminals and a Markdown PR body.

use std::fmt::Write;

use omk_events::{ChangedFile, FileOperation, GatePhase, PlanSource, short_id};

use crate::{
    model::{
        FailToPassEvidence, FailToPassSource, IntegrationDecision, IntegrationGate, Proof,
        ProofGate, ProposalEvidence, TeamEvidence,
    },
    readiness::ProofStatus,
};

/// Returns the proof as plain text for a terminal: verdict, change, agent, gates, gaps.
pub fn render_text(proof: &Proof) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("goal       {}", proof.goal_id));
    line(format!("status     {}", proof.status));
    line(format!("readiness  {} ({})", proof.readiness, proof.readiness_sentence()));
    line(format!("prompt     {}", one_line(&proof.task.prompt)));
    let branch = proof.git.branch.as_deref().unwrap_or("(no worktree)");
    line(format!("branch     {branch} from {}", short_id(&proof.git.base_commit)));
    if let Some(tree_id) = &proof.git.tree_id {
        line(format!("tree       {tree_id}"));
    }
    if let Some(commit) = &proof.git.head_commit {
        line(format!("commit     {commit}"));
    }
    if let Some(agent) = &proof.agent {
        let mut text = format!(
            "agent      {} {}, steps {}, tool calls {} ({} failed)",
            agent.agent, agent.status, agent.steps, agent.tool_calls, agent.failed_tool_calls
        );
        if let Some(usage) = &agent.usage {
            let _ = write!(text, ", tokens {}", usage.total());
        }
        if let Some(cost) = &agent.cost {
            let _ = write!(text, ", ${:.4} ({})", cost.usd, cost_source(&cost.source));
        }
        line(text);
        if let Some(checks) = agent_checks_summary(agent) {
            line(format!("           {checks}"));
        }
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
    if let Some(tests) = &proof.tests {
        line(format!("tests      {}", tests.why));
    }
    if let Some(evidence) = proof.oracle.as_ref().and_then(|it| it.fail_to_pass.as_ref()) {
        line(format!("fail-to-pass  {}", fail_to_pass_summary(evidence)));
    }
    if let Some(repair) = &proof.repair {
        line(String::new());
        line(format!("repair rounds ({} of at most {})", repair.rounds.len(), repair.limit));
        for round in &repair.rounds {
            line(format!("  {}", round_line(round)));
        }
    }
    if let Some(team) = &proof.team {
        line(String::new());
        for text in team_text(team).lines() {
            line(text.to_owned());
        }
    }
    if !proof.reviews.is_empty() {
        line(String::new());
        line(format!("reviews ({})", proof.reviews.len()));
        for review in &proof.reviews {
            line(format!("  {:<7} {}", review.status.to_string(), review.check));
        }
    }
    if let Some(integration) = &proof.integration {
        line(String::new());
        line(format!(
            "integration  {} by {} on tree {}",
            integration.decision, integration.by, integration.tree_id
        ));
    }
    if !proof.known_gaps.is_empty() {
        line(String::new());
        line("known gaps".to_owned());
        for gap in &proof.known_gaps {
            line(format!("  - {}", gap.message));
            line(format!("    next: {}", gap.next_step));
        }
    }
    out
}

/// Returns the proof as Markdown for a pull request body: verdict, gates table, changed files,
/// gaps, reviews and integration.
pub fn render_markdown(proof: &Proof) -> String {
    let mut md = String::new();
    let verdict = if proof.status == ProofStatus::Ready { "✅" } else { "❌" };
    let _ = writeln!(md, "## omk proof: {verdict} `{}`\n", proof.status);
    let _ = writeln!(md, "{}\n", escape(&proof.summary));
    let _ = writeln!(md, "- **Goal:** `{}`", proof.goal_id);
    let _ = writeln!(md, "- **Prompt:** {}", escape(&one_line(&proof.task.prompt)));
    let _ = writeln!(md, "- **Readiness:** `{}`", proof.readiness);
    let base = proof.git.base_branch.as_deref().unwrap_or("(detached)");
    let _ = writeln!(md, "- **Base:** `{base}` at `{}`", short_id(&proof.git.base_commit));
    if let Some(tree) = &proof.git.tree_id {
        let _ = writeln!(md, "- **Proposed tree:** `{tree}`");
    }
    if let Some(agent) = &proof.agent {
        let usage = agent.usage.map(|it| format!(", {} tokens", it.total())).unwrap_or_default();
        let _ = writeln!(
            md,
            "- **Agent:** `{}` {} ({} runs, {} steps{usage})",
            agent.agent, agent.status, agent.runs, agent.steps
        );
        if let Some(checks) = agent_checks_summary(agent) {
            let _ = writeln!(md, "- **Agent's own checks:** {}", escape(&checks));
        }
    }
    if let Some(evidence) = proof.oracle.as_ref().and_then(|it| it.fail_to_pass.as_ref()) {
        let _ = writeln!(md, "- **Fail-to-pass:** {}", escape(&fail_to_pass_summary(evidence)));
    }
    if let Some(repair) = &proof.repair {
        let _ = writeln!(
            md,
            "- **Repair rounds:** {} of at most {}",
            repair.rounds.len(),
            repair.limit
        );
        for round in &repair.rounds {
            let _ = writeln!(md, "  - {}", escape(&round_line(round)));
        }
    }

    md.push_str("\n### Gates\n\n");
    if proof.gates.is_empty() {
        md.push_str("No gate ran.\n");
    } else {
        md.push_str("| Gate | Phase | Required | Result | Tests | Duration | Command |\n");
        md.push_str("|---|---|---|---|---|---|---|\n");
        for gate in &proof.gates {
            let tests = gate
                .tests
                .map(|it| format!("{} passed, {} failed", it.passed, it.failed))
                .unwrap_or_else(|| "–".to_owned())
                + &weaker_marks(gate);
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {tests} | {} ms | `{}` |",
                gate.name,
                gate.phase,
                if gate.required { "yes" } else { "no" },
                verdict_word(gate),
                gate.duration_ms,
                escape(&gate.command.join(" ")).replace('`', "'"),
            );
        }
    }

    if let Some(team) = &proof.team {
        md.push_str(&team_markdown(team));
    }

    let _ = writeln!(md, "\n### Changed files ({})\n", proof.changed_files.len());
    if proof.changed_files.is_empty() {
        md.push_str("None.\n");
    }
    for file in &proof.changed_files {
        let _ = writeln!(md, "- {}", escape(&changed_file_line(file)));
    }

    if !proof.known_gaps.is_empty() {
        md.push_str("\n### Known gaps\n\n");
        for gap in &proof.known_gaps {
            let _ = writeln!(md, "- {} — *next:* {}", escape(&gap.message), escape(&gap.next_step));
        }
    }

    md.push_str("\n### Reviews\n\n");
    if proof.reviews.is_empty() {
        md.push_str("The review wall has not run on this tree.\n");
    }
    for review in &proof.reviews {
        let _ = writeln!(md, "- **{}**: {}", review.check, review.status);
        for evidence in &review.evidence {
            let _ = writeln!(md, "  - {}", escape(evidence));
        }
        for risk in &review.risks {
            let _ = writeln!(md, "  - risk: {}", escape(risk));
        }
    }

    md.push_str("\n### Integration\n\n");
    match &proof.integration {
        None => md.push_str("Not accepted yet.\n"),
        Some(integration) => {
            let decision = match integration.decision {
                IntegrationDecision::Accepted => "Accepted",
                IntegrationDecision::Rejected => "Rejected",
            };
            let reason = integration
                .reason
                .as_deref()
                .map(|it| format!(": {}", escape(it)))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "{decision} by {} at {}{reason}",
                escape(&integration.by.to_string()),
                integration.at.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
    }
    md
}

/// Returns the team section of the text rendering: the graph, one line per slice, the queue.
fn team_text(team: &TeamEvidence) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "team       {} · {} · {} at once",
        team.task_graph,
        plan_source(&team.source),
        team.max_agents
    );
    let width = team.slices.iter().map(|it| it.id.chars().count()).max().unwrap_or(0);
    for slice in &team.slices {
        let mut text = format!(
            "  {:<width$}  {:<9}  {:<10}",
            slice.id,
            slice.status.to_string(),
            attempts(slice.attempts.len())
        );
        if let Some(detail) = slice.detail() {
            let _ = write!(text, "  {detail}");
        }
        if !slice.gates.is_empty() {
            let _ = write!(text, " · gates {}", integration_gates(&slice.gates));
        }
        let _ = writeln!(out, "{}", text.trim_end());
    }
    if !team.queue.is_empty() {
        let _ = writeln!(out, "queue ({})", plural(team.queue.len(), "batch", "batches"));
        let tasks: Vec<String> = team.queue.iter().map(|it| it.tasks.join(", ")).collect();
        let width = tasks.iter().map(|it| it.chars().count()).max().unwrap_or(0);
        for (idx, (batch, tasks)) in team.queue.iter().zip(&tasks).enumerate() {
            let failed = if batch.failed_gates.is_empty() {
                String::new()
            } else {
                format!(" · failed {}", batch.failed_gates.join(", "))
            };
            let _ = writeln!(
                out,
                "  {}. {:<8}  {tasks:<width$}  tree {}{failed}",
                idx + 1,
                batch.result.to_string(),
                short_id(&batch.tree_id)
            );
        }
    }
    if !team.proposals.is_empty() {
        let _ = writeln!(out, "proposals ({})", team.proposals.len());
        for proposal in &team.proposals {
            let _ = writeln!(out, "  {}", proposal_line(proposal));
        }
    }
    out
}

/// Returns the team section of the Markdown rendering.
fn team_markdown(team: &TeamEvidence) -> String {
    let mut md = String::from("\n### Team\n\n");
    let _ = writeln!(
        md,
        "{} · {} · {} at once\n",
        team.task_graph,
        escape(&plan_source(&team.source)),
        team.max_agents
    );
    if !team.slices.is_empty() {
        md.push_str("| Slice | Status | Attempts | Merge | Integration gates |\n");
        md.push_str("|---|---|---|---|---|\n");
        for slice in &team.slices {
            let detail = slice.detail().map_or_else(|| "–".to_owned(), |it| escape(&it));
            let gates = if slice.gates.is_empty() {
                "–".to_owned()
            } else {
                escape(&integration_gates(&slice.gates))
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {detail} | {gates} |",
                slice.id,
                slice.status,
                slice.attempts.len()
            );
        }
    }
    if !team.queue.is_empty() {
        md.push_str("\n**Merge queue**\n\n");
        for (idx, batch) in team.queue.iter().enumerate() {
            let tasks: Vec<String> = batch.tasks.iter().map(|it| format!("`{it}`")).collect();
            let failed = if batch.failed_gates.is_empty() {
                String::new()
            } else {
                format!(", failed {}", escape(&batch.failed_gates.join(", ")))
            };
            let _ = writeln!(
                md,
                "{}. {}: {}{failed} (tree `{}`)",
                idx + 1,
                tasks.join(", "),
                batch.result,
                short_id(&batch.tree_id)
            );
        }
    }
    if !team.proposals.is_empty() {
        md.push_str("\n**Proposals**\n\n");
        for proposal in &team.proposals {
            let _ = writeln!(md, "- {}", escape(&proposal_line(proposal)));
        }
    }
    md
}

fn integration_gates(gates: &[IntegrationGate]) -> String {
    let words: Vec<String> = gates
        .iter()
        .map(|gate| format!("{} {}", gate.name, if gate.passed { "pass" } else { "FAIL" }))
        .collect();
    words.join(", ")
}

fn proposal_line(proposal: &ProposalEvidence) -> String {
    let by = proposal.by.as_deref().map(|it| format!(" by {it}")).unwrap_or_default();
    let decision = if proposal.accepted { "accepted" } else { "rejected" };
    format!("{}{by}: {decision} ({})", proposal.id, proposal.reason)
}

fn plan_source(source: &PlanSource) -> String {
    match source {
        PlanSource::Slices { count } => format!("planned as {count} slices"),
        PlanSource::File { path, sha256 } => {
            format!("planned in {} ({})", path.display(), short_id(sha256))
        }
    }
}

/// Returns a repair round in one line: what it was told, what its agent left, how it ended.
fn round_line(round: &crate::model::RepairRound) -> String {
    let mut told: Vec<String> = round.failed_gates.iter().map(|it| format!("gate {it}")).collect();
    told.extend(round.findings.iter().map(|it| format!("review {it}")));
    let agent = round
        .agent
        .as_ref()
        .map_or("agent not finished".to_owned(), |agent| format!("agent {}", agent.status));
    let tree = round.tree_id.as_deref().map_or("no tree yet".to_owned(), |tree| {
        let passed = round.gates.iter().filter(|it| it.passed).count();
        format!("tree {}, {passed}/{} gates passed", short_id(tree), round.gates.len())
    });
    let outcome = round.outcome.map_or("not ended".to_owned(), |it| it.to_string());
    format!("{}: told {}; {agent}; {tree}; {outcome}", round.round, told.join(", "))
}

fn attempts(count: usize) -> String {
    plural(count, "attempt", "attempts")
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn verdict_word(gate: &ProofGate) -> &'static str {
    match (gate.passed, gate.timed_out) {
        (true, _) => "pass",
        (false, true) => "timeout",
        (false, false) => "FAIL",
    }
}

fn cost_source(source: &omk_events::CostSource) -> &'static str {
    match source {
        omk_events::CostSource::Reported => "reported",
        omk_events::CostSource::Estimated { .. } => "estimated",
    }
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
    let ending = match (&gate.spawn_error, gate.exit_code, gate.signal) {
        (Some(error), _, _) => format!("could not start: {error}"),
        (None, Some(code), _) => format!("exit {code}"),
        (None, None, Some(signal)) => format!("signal {signal}"),
        (None, None, None) => "no exit status".to_owned(),
    };
    let required = if gate.required { "required" } else { "optional" };
    let when = match (gate.phase, gate.after_last_mutation) {
        (GatePhase::Baseline, _) => ", baseline",
        (GatePhase::Proposed, true) => "",
        (GatePhase::Proposed, false) => ", before the change",
        (GatePhase::Integration, _) => ", integration",
    };
    let mut tests = gate
        .tests
        .map(|it| format!(", {} tests passed, {} failed", it.passed, it.failed))
        .unwrap_or_default();
    tests.push_str(&weaker_marks(gate));
    match &gate.junit {
        Some(junit) if junit.counted => {
            let _ = write!(tests, ", counted from JUnit {}", junit.files.join(", "));
        }
        Some(junit) => match &junit.error {
            Some(error) => {
                let _ = write!(tests, ", JUnit not read: {error}");
            }
            None if junit.stale.is_empty() => {
                let _ = write!(tests, ", no JUnit report written at {}", junit.pattern);
            }
            None => {
                let _ = write!(tests, ", JUnit {} not written by this run", junit.stale.join(", "));
            }
        },
        None => {}
    }
    let output = gate.output.as_ref().map(|it| format!("  log {}", it.path)).unwrap_or_default();
    format!(
        "{:<7} {}  ({required}, {ending}, {} ms{when}{tests})  {}{output}",
        verdict_word(gate),
        gate.name,
        gate.duration_ms,
        gate.command.join(" ")
    )
}

/// Returns the fail-to-pass evidence in a sentence: which gates fail without the change and pass
/// with it, and where; or why the goal needs none, or that it has none yet.
fn fail_to_pass_summary(evidence: &FailToPassEvidence) -> String {
    if evidence.flips.is_empty() {
        let state = if evidence.rule.needs_evidence() { "none yet" } else { "not needed" };
        return format!("{state}: {}", evidence.reason);
    }
    let flips: Vec<String> = evidence
        .flips
        .iter()
        .map(|flip| {
            let place = match flip.source {
                FailToPassSource::Baseline => "in the baseline run",
                FailToPassSource::Check => "on the base tree with the change's test files",
            };
            let failing = if flip.tests.is_empty() {
                flip.failed.map(|it| format!(", {it} failed")).unwrap_or_default()
            } else {
                format!(", failing {}", flip.tests.join(", "))
            };
            format!("{} fails without the change ({place}{failing}) and passes with it", flip.gate)
        })
        .collect();
    flips.join("; ")
}

/// Returns the marks of evidence weaker than it looks: tests judged by the exit code alone, and a
/// result that differs on the same tree.
fn weaker_marks(gate: &ProofGate) -> String {
    let mut marks = String::new();
    if gate.tests_by_exit_code && gate.tests.is_none() {
        marks.push_str(", tests by exit code only (weaker evidence)");
    }
    match &gate.flaky_with {
        Some(with) if gate.flaky => {
            let _ = write!(marks, ", flaky (differs from {with})");
        }
        _ if gate.flaky => marks.push_str(", flaky"),
        _ => {}
    }
    marks
}

/// Escapes the characters that Markdown would read as markup or table cells.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '|' | '*' | '_' | '<' | '>' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    if text.lines().nth(1).is_some() { format!("{first} …") } else { first.to_owned() }
}

/// Returns a line about the agent's own checks through `omk mcp`, `None` without any: how many,
/// how the last one went, and that they are no gate.
fn agent_checks_summary(agent: &crate::model::AgentEvidence) -> Option<String> {
    let last = agent.checks.last()?;
    let verdict = if last.passed {
        "passed".to_owned()
    } else if last.failing_tests.is_empty() {
        "failed".to_owned()
    } else {
        format!("failed ({})", last.failing_tests.join(", "))
    };
    Some(format!(
        "{} own check{} through omk mcp, the last {verdict}; not gates of this proof",
        agent.checks.len(),
        if agent.checks.len() == 1 { "" } else { "s" }
    ))
}
