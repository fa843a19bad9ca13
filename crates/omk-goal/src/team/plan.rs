//! The task graph of a team goal: the plan file (`--plan FILE`), prompt slices (`--slices N`)
//! and agent-proposed follow-up tasks, their validation, and the graph queries the scheduler
//! asks (order, transitive dependencies, write sets).
//!
//! Everything here is pure: the plan file's text comes in, tasks and sentences go out, and
//! nothing reads the file system. Validation collects every problem of a graph, so one run
//! shows everything there is to fix. `docs/teams.md` documents the formats and the rules.

mod paths;
mod proposals;
mod slices;
#[cfg(test)]
mod tests;

use std::{collections::BTreeMap, path::Path};

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

use omk_config::keys::{self, Problem};
use omk_events::{BudgetLimits, TaskSpec};

use crate::error::Error;

/// How long a worker may go without a heartbeat before its lease expires, by default.
pub(crate) const DEFAULT_LEASE_MS: u64 = 30_000;
/// The deepest an agent-proposed task may be, by default: proposals of proposals are refused.
pub(crate) const DEFAULT_MAX_DEPTH: u32 = 1;

pub(crate) use self::{
    paths::{path_in_write_set, write_overlap},
    proposals::{ProposalPolicy, decide_proposal, parse_proposals},
    slices::slices_from_prompt,
};

/// A task plan as `--plan FILE` gives it: the tasks, and the defaults the file sets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// The tasks, in the file's order, with the plan's defaults applied (`retries`) and
    /// `script:` agents relative to the plan file's directory.
    pub(crate) tasks: Vec<TaskSpec>,
    /// The file's `max_agents`, the default of `--max-agents`.
    pub(crate) max_agents: Option<u32>,
    /// The file's `retries`, the default of every task's retries.
    pub(crate) retries: Option<u32>,
}

/// How many times a failed task is retried when neither the task nor the plan says.
pub(crate) const DEFAULT_RETRIES: u32 = 1;

/// The longest task id, in characters.
pub(crate) const MAX_ID_LEN: usize = 40;

/// Parses and validates the plan file at `path` whose content is `text`.
///
/// TOML syntax errors, unknown keys and values of the wrong form are [`omk_config::Error::Config`] at the
/// file's line and column; a graph that is not valid (see [`validate`]) is [`Error::Plan`] with
/// every problem.
pub(crate) fn parse_plan(path: &Path, text: &str) -> Result<Plan, Error> {
    let plan = read_plan(path, text).map_err(|problem| {
        let (line, column) = keys::line_column(text, problem.offset);
        omk_config::Error::Config { path: path.to_owned(), line, column, message: problem.message }
    })?;
    validate(&plan.tasks)
        .map_err(|problems| Error::Plan { source_name: path.display().to_string(), problems })?;
    Ok(plan)
}

/// Checks a task graph and returns every problem, each a sentence that names the task and the
/// fix.
///
/// The graph needs at least one task; ids must be valid ([`id_problem`]) and unique; prompts
/// must not be blank; dependencies must name other tasks and form no cycle; read and write
/// paths must be relative and stay inside the repository; and two tasks that are not ordered
/// (neither depends on the other, even through other tasks) must not write overlapping paths
/// ([`write_overlap`]). A task without writes is undeclared and not checked for overlaps.
pub(crate) fn validate(tasks: &[TaskSpec]) -> Result<(), Vec<String>> {
    if tasks.is_empty() {
        return Err(vec![
            "there are no tasks; add at least one [[task]] with an id and a prompt".to_owned(),
        ]);
    }
    let mut problems = Vec::new();
    let ids: Vec<&str> = tasks.iter().map(|it| it.id.as_str()).collect();
    let mut positions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (task_idx, task) in tasks.iter().enumerate() {
        let name = task_name(task_idx, task);
        if task.id.is_empty() {
            problems.push(format!(
                "{name} has no id; give it an id of letters, digits, \"-\" and \"_\""
            ));
        } else {
            problems.extend(id_problem(&task.id));
            positions.entry(&task.id).or_default().push(task_idx + 1);
        }
        if task.prompt.trim().is_empty() {
            problems.push(format!("{name} has an empty prompt; say what its agent should do"));
        }
        problems.extend(dependency_problems(&name, &task.id, &task.depends_on, &ids));
        problems.extend(path_problems(&name, task));
    }
    let mut reported = Vec::new();
    for task in tasks {
        let Some(numbers) = positions.get(task.id.as_str()) else { continue };
        if numbers.len() < 2 || reported.contains(&task.id.as_str()) {
            continue;
        }
        reported.push(task.id.as_str());
        let times = if numbers.len() == 2 {
            "twice".to_owned()
        } else {
            format!("{} times", numbers.len())
        };
        problems.push(format!(
            "task {:?} is defined {times} (tasks {}); give each task its own id",
            task.id,
            and_list(&numbers.iter().map(ToString::to_string).collect::<Vec<_>>()),
        ));
    }
    let reach = reachability(tasks);
    for cycle in cycles(tasks, &reach) {
        let mut names: Vec<&str> = cycle.iter().map(|it| tasks[*it].id.as_str()).collect();
        names.push(names[0]);
        problems.push(format!(
            "tasks depend on each other in a cycle: {}; remove one of these dependencies",
            names.join(" -> ")
        ));
    }
    for (a_idx, a) in tasks.iter().enumerate() {
        for (b_idx, b) in tasks.iter().enumerate().skip(a_idx + 1) {
            // Tasks with one id are reported as defined twice already.
            if reach[a_idx][b_idx] || reach[b_idx][a_idx] || a.id == b.id {
                continue;
            }
            if let Some(overlap) = write_overlap(&a.writes, &b.writes) {
                problems.push(overlap_problem(&a.id, &b.id, &overlap));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// Returns whether task `a` depends on task `b` through any chain of `depends_on`; `false`
/// when either id names no task.
pub(crate) fn depends_transitively(tasks: &[TaskSpec], a: &str, b: &str) -> bool {
    let index = id_index(tasks);
    let (Some(&a_idx), Some(&b_idx)) = (index.get(a), index.get(b)) else { return false };
    reachable_from(tasks, &index, a_idx)[b_idx]
}

/// Returns the problem with the task id `id`, or `None` when it is valid: letters, digits, `-`
/// and `_`, at most [`MAX_ID_LEN`] characters.
pub(crate) fn id_problem(id: &str) -> Option<String> {
    let valid = !id.is_empty()
        && id.chars().count() <= MAX_ID_LEN
        && id.chars().all(|it| it.is_ascii_alphanumeric() || it == '-' || it == '_');
    (!valid).then(|| {
        format!(
            "task {id:?} has an invalid id; use only letters, digits, \"-\" and \"_\", at most \
             {MAX_ID_LEN} characters"
        )
    })
}

/// Returns the problems with the dependencies `depends_on` of the task `name` (`task "x"`)
/// whose id is `id`, in a graph of the tasks `ids`.
fn dependency_problems(name: &str, id: &str, depends_on: &[String], ids: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for dep in depends_on {
        if !id.is_empty() && dep == id {
            problems.push(format!("{name} depends on itself; remove {dep:?} from its depends_on"));
        } else if !ids.contains(&dep.as_str()) {
            let fix = match keys::closest(dep, ids) {
                Some(close) => format!("did you mean {close:?}?"),
                None => "remove it from depends_on or add a task with that id".to_owned(),
            };
            problems.push(format!("{name} depends on {dep:?}, which no task defines; {fix}"));
        }
    }
    problems
}

/// Returns the problems with the read and write paths of `task`, named `name`.
fn path_problems(name: &str, task: &TaskSpec) -> Vec<String> {
    let reads = task.reads.iter().filter_map(|it| paths::path_problem(name, "reads", it));
    let writes = task.writes.iter().filter_map(|it| paths::path_problem(name, "writes", it));
    reads.chain(writes).collect()
}

/// Returns the problem of the tasks `a` and `b`, which are not ordered, writing the
/// overlapping paths `overlap` (`a`'s, `b`'s).
fn overlap_problem(a: &str, b: &str, overlap: &(String, String)) -> String {
    let (a_path, b_path) = overlap;
    format!(
        "tasks {a:?} and {b:?} both write {} ({a} writes {a_path:?}, {b} writes {b_path:?}) but \
         neither depends on the other; add depends_on or split the paths",
        paths::overlap_label(a_path, b_path)
    )
}

/// Returns how messages name the task at `task_idx`: by its id, or by its number when it has
/// none.
fn task_name(task_idx: usize, task: &TaskSpec) -> String {
    if task.id.is_empty() {
        format!("task {}", task_idx + 1)
    } else {
        format!("task {:?}", task.id)
    }
}

/// Returns `items` as `a`, `a and b` or `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Returns each id's index; a duplicated id is its first task's.
fn id_index(tasks: &[TaskSpec]) -> BTreeMap<&str, usize> {
    let mut index = BTreeMap::new();
    for (task_idx, task) in tasks.iter().enumerate() {
        index.entry(task.id.as_str()).or_insert(task_idx);
    }
    index
}

/// Returns, for each task, which tasks it depends on through one or more `depends_on` edges;
/// dependencies on itself and on missing tasks are left out.
fn reachability(tasks: &[TaskSpec]) -> Vec<Vec<bool>> {
    let index = id_index(tasks);
    (0..tasks.len()).map(|task_idx| reachable_from(tasks, &index, task_idx)).collect()
}

/// Returns which tasks `start` depends on through one or more edges (itself only on a cycle).
fn reachable_from(tasks: &[TaskSpec], index: &BTreeMap<&str, usize>, start: usize) -> Vec<bool> {
    let mut reached = vec![false; tasks.len()];
    let mut stack = vec![start];
    while let Some(task_idx) = stack.pop() {
        for dep in &tasks[task_idx].depends_on {
            let Some(&dep_idx) = index.get(dep.as_str()) else { continue };
            if dep_idx != task_idx && !reached[dep_idx] {
                reached[dep_idx] = true;
                stack.push(dep_idx);
            }
        }
    }
    reached
}

/// Returns one cycle of each group of tasks that depend on each other, in the order of the
/// dependencies and starting at the group's first task in plan order.
fn cycles(tasks: &[TaskSpec], reach: &[Vec<bool>]) -> Vec<Vec<usize>> {
    let index = id_index(tasks);
    let mut in_cycle = vec![false; tasks.len()];
    let mut found = Vec::new();
    for start in 0..tasks.len() {
        if in_cycle[start] || !reach[start][start] {
            continue;
        }
        let group: Vec<bool> = (0..tasks.len())
            .map(|it| it == start || (reach[start][it] && reach[it][start]))
            .collect();
        for (task_idx, member) in group.iter().enumerate() {
            in_cycle[task_idx] |= member;
        }
        let mut path = vec![start];
        let mut visited = vec![false; tasks.len()];
        visited[start] = true;
        if find_cycle(tasks, &index, &group, &mut visited, &mut path) {
            found.push(path);
        }
    }
    return found;

    /// Extends `path` depth first inside `group` until its last task depends on its first.
    fn find_cycle(
        tasks: &[TaskSpec],
        index: &BTreeMap<&str, usize>,
        group: &[bool],
        visited: &mut [bool],
        path: &mut Vec<usize>,
    ) -> bool {
        let last = *path.last().expect("the path starts with the cycle's first task");
        for dep in &tasks[last].depends_on {
            let Some(&dep_idx) = index.get(dep.as_str()) else { continue };
            if dep_idx == path[0] && dep_idx != last {
                return true;
            }
            if group[dep_idx] && !visited[dep_idx] {
                visited[dep_idx] = true;
                path.push(dep_idx);
                if find_cycle(tasks, index, group, visited, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
}

/// Reads the plan file's `text` without validating the graph; `path` places `script:` agents.
fn read_plan(path: &Path, text: &str) -> Result<Plan, Problem> {
    let root = DeTable::parse(text).map_err(toml_problem)?;
    // The span parser leaves some errors (such as a key defined twice) to the full parse.
    toml::from_str::<toml::Table>(text).map_err(toml_problem)?;
    let mut plan = Plan { tasks: Vec::new(), max_agents: None, retries: None };
    let mut task_items = None;
    for (key, value) in root.get_ref() {
        let name: &str = key.get_ref();
        match name {
            "max_agents" => plan.max_agents = Some(whole_u32(value, "max_agents", 1)?),
            "retries" => plan.retries = Some(whole_u32(value, "retries", 0)?),
            "task" => task_items = Some(value),
            _ => {
                let message = keys::unknown_key("at the top level", name, PLAN_KEYS);
                return Err(Problem { offset: key.span().start, message });
            }
        }
    }
    let Some(items) = task_items else { return Ok(plan) };
    let not_tables = || Problem {
        offset: items.span().start,
        message: "task must be a list of tables; write each task under a [[task]] header"
            .to_owned(),
    };
    let retries = plan.retries.unwrap_or(DEFAULT_RETRIES);
    for item in items.get_ref().as_array().ok_or_else(not_tables)? {
        let table = item.get_ref().as_table().ok_or_else(not_tables)?;
        plan.tasks.push(read_task(path, table, item.span().start, retries)?);
    }
    Ok(plan)
}

/// The top-level keys of a plan file.
const PLAN_KEYS: &[&str] = &["max_agents", "retries", "task"];

/// The keys of a `[[task]]`.
const TASK_KEYS: &[&str] =
    &["id", "prompt", "depends_on", "reads", "writes", "agent", "retries", "budget"];

/// The keys of a `[task.budget]`.
const BUDGET_KEYS: &[&str] = &["time", "tokens", "usd", "turns"];

/// Reads one `[[task]]`, which starts at byte `offset`; `retries` is the plan's default.
fn read_task(
    path: &Path,
    table: &DeTable<'_>,
    offset: usize,
    retries: u32,
) -> Result<TaskSpec, Problem> {
    let mut id = None;
    let mut prompt = None;
    let mut task = TaskSpec { retries, ..TaskSpec::new("", "") };
    for (key, value) in table {
        let name: &str = key.get_ref();
        match name {
            "id" => id = Some(string(value, "[[task]] id")?),
            "prompt" => prompt = Some(string(value, "[[task]] prompt")?),
            "depends_on" => task.depends_on = strings(value, "[[task]] depends_on")?,
            "reads" => task.reads = strings(value, "[[task]] reads")?,
            "writes" => task.writes = strings(value, "[[task]] writes")?,
            "agent" => task.agent = Some(agent(path, value)?),
            "retries" => task.retries = whole_u32(value, "[[task]] retries", 0)?,
            "budget" => task.budget = read_budget(value)?,
            _ => {
                let message = keys::unknown_key("in [[task]]", name, TASK_KEYS);
                return Err(Problem { offset: key.span().start, message });
            }
        }
    }
    let Some(id) = id else {
        let message = "[[task]] has no id; give the task one, such as id = \"api\"".to_owned();
        return Err(Problem { offset, message });
    };
    let Some(prompt) = prompt else {
        let message = format!(
            "[[task]] {id:?} has no prompt; say what its agent should do, such as prompt = \"...\""
        );
        return Err(Problem { offset, message });
    };
    task.id = id;
    task.prompt = prompt;
    Ok(task)
}

/// Reads a `[task.budget]` table.
fn read_budget(value: &Spanned<DeValue<'_>>) -> Result<BudgetLimits, Problem> {
    let table = value.get_ref().as_table().ok_or_else(|| Problem {
        offset: value.span().start,
        message: "[[task]] budget must be a table: write [task.budget] with time, tokens, usd \
                  or turns"
            .to_owned(),
    })?;
    let mut budget = BudgetLimits::default();
    for (key, value) in table {
        let name: &str = key.get_ref();
        match name {
            "time" => {
                let text = string(value, "[task.budget] time")?;
                let wall_ms = parse_duration_ms(&text).map_err(|message| Problem {
                    offset: value.span().start,
                    message: format!("[task.budget] time: {message}"),
                })?;
                budget.wall_ms = Some(wall_ms);
            }
            "tokens" => budget.tokens = Some(whole(value, "[task.budget] tokens", 0)?),
            "turns" => budget.turns = Some(whole(value, "[task.budget] turns", 0)?),
            "usd" => {
                let usd = match value.get_ref() {
                    DeValue::Integer(it) if it.radix() == 10 => it.as_str().parse::<f64>().ok(),
                    DeValue::Float(it) => it.as_str().parse::<f64>().ok(),
                    _ => None,
                };
                budget.usd = Some(
                    usd.filter(|it| it.is_finite() && *it >= 0.0).ok_or_else(|| Problem {
                        offset: value.span().start,
                        message: "[task.budget] usd must be a number of US dollars, 0 or more"
                            .to_owned(),
                    })?,
                );
            }
            _ => {
                let message = keys::unknown_key("in [task.budget]", name, BUDGET_KEYS);
                return Err(Problem { offset: key.span().start, message });
            }
        }
    }
    Ok(budget)
}

/// Reads a task's `agent`; a `script:` path is made relative to the plan file's directory.
fn agent(path: &Path, value: &Spanned<DeValue<'_>>) -> Result<String, Problem> {
    let agent = string(value, "[[task]] agent")?;
    if agent.trim().is_empty() {
        return Err(Problem {
            offset: value.span().start,
            message: "[[task]] agent is empty; name an agent such as kimi or script:FILE, or \
                      leave agent out to run the goal's agent"
                .to_owned(),
        });
    }
    let Some(script) = agent.strip_prefix("script:") else { return Ok(agent) };
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            Ok(format!("script:{}", dir.join(script).display()))
        }
        _ => Ok(agent),
    }
}

/// Returns the string `value` of the key `what`.
fn string(value: &Spanned<DeValue<'_>>, what: &str) -> Result<String, Problem> {
    value.get_ref().as_str().map(str::to_owned).ok_or_else(|| Problem {
        offset: value.span().start,
        message: format!("{what} must be a string"),
    })
}

/// Returns the array of strings `value` of the key `what`.
fn strings(value: &Spanned<DeValue<'_>>, what: &str) -> Result<Vec<String>, Problem> {
    let wrong = || Problem {
        offset: value.span().start,
        message: format!("{what} must be an array of strings"),
    };
    let items = value.get_ref().as_array().ok_or_else(wrong)?;
    items.iter().map(|item| item.get_ref().as_str().map(str::to_owned).ok_or_else(wrong)).collect()
}

/// Returns the whole number `value` of the key `what`, at least `min`.
fn whole(value: &Spanned<DeValue<'_>>, what: &str, min: u64) -> Result<u64, Problem> {
    value
        .get_ref()
        .as_integer()
        .and_then(|it| u64::from_str_radix(it.as_str(), it.radix()).ok())
        .filter(|it| *it >= min)
        .ok_or_else(|| Problem {
            offset: value.span().start,
            message: format!("{what} must be a whole number, {min} or more"),
        })
}

/// Returns the whole number `value` of the key `what`, at least `min`, as a `u32`.
fn whole_u32(value: &Spanned<DeValue<'_>>, what: &str, min: u64) -> Result<u32, Problem> {
    let number = whole(value, what, min)?;
    u32::try_from(number).map_err(|_| Problem {
        offset: value.span().start,
        message: format!("{what} must be a whole number from {min} to {}", u32::MAX),
    })
}

/// Returns the TOML error `err` as a problem at its place.
fn toml_problem(err: toml::de::Error) -> Problem {
    Problem { offset: err.span().map_or(0, |span| span.start), message: err.message().to_owned() }
}

/// Parses a duration such as `90s`, `10m`, `1h30m`, `500ms` or `45` (seconds) into
/// milliseconds; the syntax of `--budget-time`.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a duration; write it like 90s, 10m, 1h30m or 500ms");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return seconds.checked_mul(1000).ok_or_else(bad);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|it: char| !it.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|it: char| it.is_ascii_digit()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        total = number.checked_mul(factor).and_then(|it| total.checked_add(it)).ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Returns `ms` as a duration in the syntax [`parse_duration_ms`] reads: `1h30m`, `90s`,
/// `500ms`.
pub(crate) fn format_duration_ms(ms: u64) -> String {
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let (hours, minutes, seconds) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    let text: String = [(hours, "h"), (minutes, "m"), (seconds, "s")]
        .into_iter()
        .filter(|(amount, _)| *amount > 0)
        .map(|(amount, unit)| format!("{amount}{unit}"))
        .collect();
    if text.is_empty() { "0s".to_owned() } else { text }
}
