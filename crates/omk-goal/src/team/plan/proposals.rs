//! Follow-up tasks a slice's agent proposes with `omk-task: {JSON}` lines in its final
//! message, and the policy that decides whether one joins the graph.

use serde::Deserialize;

use omk_events::{BudgetLimits, TaskSpec};

use super::{
    dependency_problems, format_duration_ms, id_problem, overlap_problem, parse_duration_ms, paths,
    write_overlap,
};

/// A follow-up task as an agent proposed it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProposedTask {
    /// The new task's id.
    pub(crate) id: String,
    /// What its agent is asked to do.
    pub(crate) prompt: String,
    /// The paths it may write; a proposal must declare them.
    pub(crate) writes: Vec<String>,
    /// The paths it reads; informational.
    pub(crate) reads: Vec<String>,
    /// Tasks of the graph it depends on besides the proposer.
    pub(crate) depends_on: Vec<String>,
    /// The budget it asks for; a missing limit is no limit beyond the goal's.
    pub(crate) budget: BudgetLimits,
}

/// The limits on proposed tasks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProposalPolicy {
    /// The most proposals deep a task may be (a planned task is at depth 0).
    pub(crate) max_depth: u32,
    /// The most tasks the graph may grow to.
    pub(crate) max_tasks: u32,
    /// What is left of the goal's budget; `None` for a resource is unlimited.
    pub(crate) budget_left: BudgetLimits,
}

/// The prefix of a proposal line.
const PREFIX: &str = "omk-task:";

/// Returns the proposals of an agent's `final_message`: one result for each line that starts
/// with `omk-task:` (after optional whitespace), in order.
///
/// A line whose JSON is not a proposal is an `Err` with a sentence that names the line.
pub(crate) fn parse_proposals(final_message: &str) -> Vec<Result<ProposedTask, String>> {
    final_message
        .lines()
        .enumerate()
        .filter_map(|(line_idx, line)| {
            let json = line.trim_start().strip_prefix(PREFIX)?;
            Some(parse_proposal(json.trim()).map_err(|reason| {
                format!(
                    "line {} of the final message is not a task proposal: {reason}",
                    line_idx + 1
                )
            }))
        })
        .collect()
}

/// Returns `proposal` as the task it would be in `graph`, proposed by `proposer`, and whether
/// it joins: `Ok` with why, or `Err` with why not.
///
/// The task depends on the proposal's dependencies and the proposer, is retried as often as
/// the proposer, runs with the goal's agent (an agent may not choose which program runs), and
/// is one proposal deeper than the proposer. It is rejected, for the first reason in this
/// order, when it would be deeper than `max_depth`; when the graph has `max_tasks` tasks; when
/// its id is invalid or taken; when its prompt is blank; when it declares no writes or a path
/// is invalid; when a dependency is not in the graph; when the proposer declared writes and a
/// write path is not inside them (a slice may only hand on work inside its own scope); when a
/// write path overlaps the writes of a task it is not ordered with (it comes after the
/// proposer and its dependencies, and their dependencies); or when its budget asks for more
/// of a resource than the goal has left.
pub(crate) fn decide_proposal(
    graph: &[TaskSpec],
    proposer: &TaskSpec,
    proposal: ProposedTask,
    policy: &ProposalPolicy,
) -> (TaskSpec, Result<String, String>) {
    let mut depends_on = proposal.depends_on;
    if !depends_on.contains(&proposer.id) {
        depends_on.push(proposer.id.clone());
    }
    let task = TaskSpec {
        id: proposal.id,
        prompt: proposal.prompt,
        depends_on,
        reads: proposal.reads,
        writes: proposal.writes,
        agent: None,
        budget: proposal.budget,
        retries: proposer.retries,
        proposed_by: Some(proposer.id.clone()),
        depth: proposer.depth + 1,
    };
    let verdict = match rejection(graph, proposer, &task, policy) {
        Some(reason) => Err(reason),
        None => Ok(format!(
            "task {:?} proposed by {:?} joins the graph after {} (depth {} of at most {}, task \
             {} of at most {})",
            task.id,
            proposer.id,
            task.depends_on.iter().map(|it| format!("{it:?}")).collect::<Vec<_>>().join(", "),
            task.depth,
            policy.max_depth,
            graph.len() + 1,
            policy.max_tasks,
        )),
    };
    (task, verdict)
}

/// The JSON of an `omk-task:` line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalLine {
    id: String,
    prompt: String,
    #[serde(default)]
    writes: Vec<String>,
    #[serde(default)]
    reads: Vec<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    budget: ProposalBudget,
}

/// The `budget` of an `omk-task:` line.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalBudget {
    time: Option<String>,
    tokens: Option<u64>,
    usd: Option<f64>,
    turns: Option<u64>,
}

/// Parses the JSON of one `omk-task:` line; an error says what is wrong and the fix.
fn parse_proposal(json: &str) -> Result<ProposedTask, String> {
    let line: ProposalLine = serde_json::from_str(json).map_err(|err| {
        let message = err.to_string();
        let position = format!(" at line {} column {}", err.line(), err.column());
        let message = message.strip_suffix(&position).unwrap_or(&message);
        format!(
            "{message} at column {} of the JSON; write omk-task: {{\"id\": \"...\", \"prompt\": \
             \"...\", \"writes\": [\"...\"]}}",
            err.column()
        )
    })?;
    let wall_ms = line.budget.time.as_deref().map(parse_duration_ms).transpose()?;
    if let Some(usd) = line.budget.usd
        && !(usd.is_finite() && usd >= 0.0)
    {
        return Err(format!("budget usd is {usd}, not a number of US dollars, 0 or more"));
    }
    Ok(ProposedTask {
        id: line.id,
        prompt: line.prompt,
        writes: line.writes,
        reads: line.reads,
        depends_on: line.depends_on,
        budget: BudgetLimits {
            wall_ms,
            tokens: line.budget.tokens,
            usd: line.budget.usd,
            turns: line.budget.turns,
        },
    })
}

/// Returns why `task`, proposed by `proposer`, may not join `graph`, or `None` when it may.
fn rejection(
    graph: &[TaskSpec],
    proposer: &TaskSpec,
    task: &TaskSpec,
    policy: &ProposalPolicy,
) -> Option<String> {
    let name = format!("task {:?}", task.id);
    if task.depth > policy.max_depth {
        return Some(format!(
            "{name} proposed by {:?} would be {} proposals deep, more than the limit of {}",
            proposer.id, task.depth, policy.max_depth
        ));
    }
    if graph.len() >= policy.max_tasks as usize {
        return Some(format!(
            "{name} cannot join: the graph has {} tasks, the most it may grow to (limit {})",
            graph.len(),
            policy.max_tasks
        ));
    }
    if let Some(problem) = id_problem(&task.id) {
        return Some(problem);
    }
    if graph.iter().any(|it| it.id == task.id) {
        return Some(format!(
            "{name} is already in the graph; propose the follow-up under an id no task has"
        ));
    }
    if task.prompt.trim().is_empty() {
        return Some(format!("{name} has an empty prompt; say what its agent should do"));
    }
    if task.writes.is_empty() {
        return Some(format!("{name} declares no writes; a proposed task must declare its writes"));
    }
    let reads = task.reads.iter().filter_map(|it| paths::path_problem(&name, "reads", it));
    let writes = task.writes.iter().filter_map(|it| paths::path_problem(&name, "writes", it));
    if let Some(problem) = reads.chain(writes).next() {
        return Some(problem);
    }
    let ids: Vec<&str> = graph.iter().map(|it| it.id.as_str()).collect();
    if let Some(problem) =
        dependency_problems(&name, &task.id, &task.depends_on, &ids).into_iter().next()
    {
        return Some(problem);
    }
    if !proposer.writes.is_empty()
        && let Some(outside) =
            task.writes.iter().find(|it| !paths::path_within(it, &proposer.writes))
    {
        return Some(format!(
            "{name} writes {outside:?}, outside the write set of {:?}, which proposed it ({}); a \
             slice may only hand on work inside its own scope",
            proposer.id,
            proposer.writes.join(", ")
        ));
    }
    let mut with_task = graph.to_vec();
    with_task.push(task.clone());
    for other in graph {
        if super::depends_transitively(&with_task, &task.id, &other.id) {
            continue;
        }
        if let Some(overlap) = write_overlap(&task.writes, &other.writes) {
            return Some(overlap_problem(&task.id, &other.id, &overlap));
        }
    }
    budget_rejection(&name, &task.budget, &policy.budget_left)
}

/// Returns why the budget `asked` of the task `name` is more than the goal has `left`.
fn budget_rejection(name: &str, asked: &BudgetLimits, left: &BudgetLimits) -> Option<String> {
    let over = |asked: Option<u64>, left: Option<u64>| asked.zip(left).filter(|(a, l)| a > l);
    if let Some((asked, left)) = over(asked.wall_ms, left.wall_ms) {
        return Some(format!(
            "{name} asks for {} of wall time, but the goal has {} left",
            format_duration_ms(asked),
            format_duration_ms(left)
        ));
    }
    if let Some((asked, left)) = over(asked.tokens, left.tokens) {
        return Some(format!("{name} asks for {asked} tokens, but the goal has {left} left"));
    }
    if let Some((asked, left)) = asked.usd.zip(left.usd).filter(|(a, l)| a > l) {
        return Some(format!("{name} asks for ${asked:.2}, but the goal has ${left:.2} left"));
    }
    if let Some((asked, left)) = over(asked.turns, left.turns) {
        return Some(format!("{name} asks for {asked} turns, but the goal has {left} left"));
    }
    None
}
