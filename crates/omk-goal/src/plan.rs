//! PLACEHOLDER until the task-graph module lands (branch team-plan): the signatures the
//! scheduler uses, with minimal bodies.

use std::path::Path;

use omk_events::{BudgetLimits, TaskSpec};

use crate::error::Error;

/// A parsed plan file.
pub(crate) struct Plan {
    pub(crate) tasks: Vec<TaskSpec>,
    pub(crate) max_agents: Option<u32>,
    pub(crate) retries: Option<u32>,
}

pub(crate) fn parse_plan(path: &Path, text: &str) -> Result<Plan, Error> {
    let _ = (path, text);
    Err(Error::Plan { source_name: path.display().to_string(), problems: vec!["todo".into()] })
}

pub(crate) fn validate(tasks: &[TaskSpec]) -> Result<(), Vec<String>> {
    if tasks.is_empty() { Err(vec!["no tasks".into()]) } else { Ok(()) }
}

pub(crate) fn slices_from_prompt(
    prompt: &str,
    n: u32,
    retries: u32,
) -> Result<Vec<TaskSpec>, Error> {
    let items: Vec<&str> = prompt.lines().filter(|it| it.trim_start().starts_with("- ")).collect();
    if items.len() < n as usize {
        return Err(Error::Plan {
            source_name: "from --slices".into(),
            problems: vec!["too few items".into()],
        });
    }
    let n = n as usize;
    Ok((0..n)
        .map(|i| TaskSpec {
            id: format!("slice-{}", i + 1),
            prompt: items.iter().skip(i).step_by(n).copied().collect::<Vec<_>>().join("\n"),
            depends_on: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            agent: None,
            budget: BudgetLimits::default(),
            retries,
            proposed_by: None,
            depth: 0,
        })
        .collect())
}

pub(crate) fn path_in_write_set(path: &str, writes: &[String]) -> bool {
    writes.iter().any(|it| path == it || (it.ends_with('/') && path.starts_with(it.as_str())))
}

pub(crate) struct ProposedTask {
    pub(crate) id: String,
    pub(crate) prompt: String,
}

pub(crate) fn parse_proposals(final_message: &str) -> Vec<Result<ProposedTask, String>> {
    let _ = final_message;
    Vec::new()
}

pub(crate) struct ProposalPolicy {
    pub(crate) max_depth: u32,
    pub(crate) max_tasks: u32,
    pub(crate) budget_left: BudgetLimits,
}

pub(crate) fn decide_proposal(
    graph: &[TaskSpec],
    proposer: &TaskSpec,
    proposal: ProposedTask,
    policy: &ProposalPolicy,
) -> (TaskSpec, Result<String, String>) {
    let _ = (graph, policy);
    let task = TaskSpec {
        id: proposal.id,
        prompt: proposal.prompt,
        depends_on: vec![proposer.id.clone()],
        reads: Vec::new(),
        writes: Vec::new(),
        agent: None,
        budget: BudgetLimits::default(),
        retries: proposer.retries,
        proposed_by: Some(proposer.id.clone()),
        depth: proposer.depth + 1,
    };
    (task, Err("todo".into()))
}
