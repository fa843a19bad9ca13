//! The timeline's lanes, collected from the goal's events: the run's steps, the agent's runs
//! with their tool calls, approvals and token use, one lane per gate phase, the repair rounds,
//! and a team goal's slices and merge queue.
//!
//! Phases and event kinds are named as the log names them, so a phase or a kind this build
//! does not know still gets a lane or a marker of its own.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use omk_events::{
    ActivityKind, AgentActivity, ApprovalDecision, Envelope, Event, GateFinished, GatePhase,
    short_id,
};

use super::markup::{duration, plural};

/// A point in time, in milliseconds since the first event.
pub(crate) type Ms = i64;

/// One lane of the timeline.
#[derive(Debug, Default)]
pub(crate) struct Lane {
    /// The name on its left.
    pub label: String,
    /// A second, dimmer line under the name.
    pub note: String,
    /// Its bars, ticks and markers.
    pub items: Vec<Item>,
    /// Cumulative token counts, for the token lane.
    pub tokens: Vec<(Ms, u64)>,
}

/// Something drawn in a lane.
#[derive(Debug)]
pub(crate) enum Item {
    /// A span of time: a gate run, an agent run, a slice's attempt, a batch.
    Bar { start: Ms, end: Ms, class: &'static str, label: String, title: String },
    /// A thin mark: a tool call.
    Tick { at: Ms, class: &'static str, title: String },
    /// A point event: a step, an approval, a decision.
    Marker { at: Ms, class: &'static str, title: String },
}

/// A band behind every lane: one repair round of the goal's agent.
#[derive(Debug)]
pub(crate) struct Round {
    pub start: Ms,
    pub end: Ms,
    pub label: String,
}

/// What the timeline draws.
#[derive(Debug, Default)]
pub(crate) struct Lanes {
    /// The time of the last event.
    pub span: Ms,
    /// The lanes, top to bottom.
    pub lanes: Vec<Lane>,
    /// The repair rounds, when the goal's agent ran more than once.
    pub rounds: Vec<Round>,
}

/// Returns the lanes of `events`.
pub(crate) fn collect(events: &[Envelope]) -> Lanes {
    let Some(first) = events.first() else { return Lanes::default() };
    let origin = first.at;
    let at = |time: DateTime<Utc>| (time - origin).num_milliseconds().max(0);
    let span = events.last().map_or(0, |it| at(it.at));
    let mut steps = Lane { label: "steps".to_owned(), ..Lane::default() };
    let mut agent = AgentLanes::default();
    let mut gates = GateLanes::default();
    let mut team = TeamLanes::default();
    for envelope in events {
        let now = at(envelope.at);
        match &envelope.event {
            Event::AgentStarted(_)
            | Event::AgentFinished(_)
            | Event::AgentActivity(_)
            | Event::ApprovalDecided(_) => agent.apply(&envelope.event, now),
            Event::GateStarted(started) => gates.start(&started.name, now),
            Event::GateFinished(finished) => gates.finish(finished, now),
            Event::FailToPassChecked(checked) => {
                for run in &checked.gates {
                    gates.finish_in("fail-to-pass", &run.run, now);
                }
            }
            event if event.is_team() => team.apply(event, now),
            event => steps.items.push(step_marker(event, now)),
        }
    }
    let rounds = agent.rounds(span);
    let mut lanes = vec![steps];
    lanes.extend(agent.into_lanes(span));
    lanes.extend(gates.into_lanes());
    lanes.extend(team.into_lanes(span));
    Lanes { span, lanes, rounds }
}

/// The lanes of the goal's own agent: its runs with their tool calls and approvals, and the
/// tokens it used.
#[derive(Debug)]
struct AgentLanes {
    agent: Lane,
    tokens: Lane,
    /// When each run started, and whether it ended.
    runs: Vec<(Ms, bool)>,
    counter: TokenCounter,
    n_tool_calls: u64,
    n_approvals: u64,
}

impl Default for AgentLanes {
    fn default() -> Self {
        Self {
            agent: Lane { label: "agent".to_owned(), ..Lane::default() },
            tokens: Lane { label: "tokens".to_owned(), ..Lane::default() },
            runs: Vec::new(),
            counter: TokenCounter::default(),
            n_tool_calls: 0,
            n_approvals: 0,
        }
    }
}

impl AgentLanes {
    fn apply(&mut self, event: &Event, now: Ms) {
        match event {
            Event::AgentStarted(_) => {
                self.runs.push((now, false));
                self.counter.next_run();
            }
            Event::AgentFinished(finished) => {
                let start = self.runs.last().filter(|it| !it.1).map_or_else(
                    || now - i64::try_from(finished.duration_ms).unwrap_or(0),
                    |it| it.0,
                );
                let class = if finished.status == omk_events::AgentStatus::Completed {
                    "good"
                } else {
                    "bad"
                };
                let mut title = format!(
                    "{} {} after {}: {}, {}",
                    finished.agent,
                    finished.status,
                    duration(finished.duration_ms),
                    plural(u64::from(finished.steps), "step", "steps"),
                    plural(u64::from(finished.tool_calls), "tool call", "tool calls"),
                );
                if let Some(error) = &finished.error {
                    title.push_str(": ");
                    title.push_str(error);
                }
                let label = finished.status.to_string();
                self.agent.items.push(Item::Bar { start, end: now, class, label, title });
                if let Some(last) = self.runs.last_mut() {
                    last.1 = true;
                }
                if let Some(usage) = finished.usage {
                    self.usage(now, usage.total());
                }
            }
            Event::AgentActivity(activity) => {
                if let Some(tick) = activity_tick(now, activity) {
                    self.n_tool_calls += u64::from(activity.activity == ActivityKind::ToolCall);
                    self.agent.items.push(tick);
                }
                if let Some(usage) = activity.usage {
                    self.usage(now, usage.total());
                }
            }
            Event::ApprovalDecided(approval) => {
                self.n_approvals += 1;
                let class = match approval.decision {
                    ApprovalDecision::Allow => "good",
                    ApprovalDecision::Deny => "bad",
                    ApprovalDecision::Ask => "wait",
                };
                let what = approval.command.as_deref().or(approval.path.as_deref()).unwrap_or("");
                let title = format!(
                    "approval: {} {} {what} (rule {})",
                    approval.decision, approval.tool, approval.rule
                );
                self.agent.items.push(Item::Marker { at: now, class, title });
            }
            _ => {}
        }
    }

    fn usage(&mut self, now: Ms, run_total: u64) {
        self.counter.report(run_total);
        self.tokens.tokens.push((now, self.counter.total()));
    }

    /// Returns one round per run of the goal's agent, when it ran more than once.
    fn rounds(&self, span: Ms) -> Vec<Round> {
        if self.runs.len() < 2 {
            return Vec::new();
        }
        self.runs
            .iter()
            .enumerate()
            .map(|(idx, (start, _))| Round {
                start: *start,
                end: self.runs.get(idx + 1).map_or(span, |next| next.0),
                label: format!("round {}", idx + 1),
            })
            .collect()
    }

    fn into_lanes(self, span: Ms) -> Vec<Lane> {
        let Self { mut agent, mut tokens, runs, n_tool_calls, n_approvals, .. } = self;
        if let Some(&(start, false)) = runs.last() {
            agent.items.push(Item::Bar {
                start,
                end: span,
                class: "wait",
                label: "running".to_owned(),
                title: "the agent's run has no end in the log: it runs, or omk stopped".to_owned(),
            });
        }
        let mut notes = Vec::new();
        if runs.len() > 1 {
            notes.push(plural(runs.len() as u64, "run", "runs"));
        }
        if n_tool_calls > 0 {
            notes.push(plural(n_tool_calls, "tool call", "tool calls"));
        }
        if n_approvals > 0 {
            notes.push(plural(n_approvals, "approval", "approvals"));
        }
        agent.note = notes.join(", ");
        let mut lanes = Vec::new();
        if !agent.items.is_empty() {
            lanes.push(agent);
        }
        if let Some(&(_, total)) = tokens.tokens.last() {
            tokens.note = format!("{} in all", super::markup::number(total));
            lanes.push(tokens);
        }
        lanes
    }
}

/// Tokens over the goal's runs: each run reports its own running total.
#[derive(Debug, Default)]
struct TokenCounter {
    before: u64,
    current: u64,
}

impl TokenCounter {
    fn next_run(&mut self) {
        self.before += self.current;
        self.current = 0;
    }

    fn report(&mut self, run_total: u64) {
        self.current = self.current.max(run_total);
    }

    fn total(&self) -> u64 {
        self.before + self.current
    }
}

/// Returns the tick of a tool call, or of a tool result that failed.
fn activity_tick(now: Ms, activity: &AgentActivity) -> Option<Item> {
    let tool = activity.tool.as_deref().unwrap_or("a tool");
    let text = activity.text.as_deref().map(|it| format!(": {it}")).unwrap_or_default();
    match activity.activity {
        ActivityKind::ToolCall => Some(Item::Tick {
            at: now,
            class: "",
            title: format!("step {}: tool call {tool}{text}", activity.step),
        }),
        ActivityKind::ToolResult if activity.ok == Some(false) => Some(Item::Tick {
            at: now,
            class: "bad",
            title: format!("step {}: {tool} failed{text}", activity.step),
        }),
        _ => None,
    }
}

/// Returns the marker of an event in the steps lane: its kind, and a word of its payload.
fn step_marker(event: &Event, now: Ms) -> Item {
    let (class, detail) = match event {
        Event::GoalCreated(_) => ("info", "the goal was created".to_owned()),
        Event::WorktreeCreated(created) => ("info", format!("worktree on {}", created.branch)),
        Event::ChangesCaptured(captured) => (
            "info",
            format!(
                "{} captured, tree {}",
                plural(captured.files.len() as u64, "changed file", "changed files"),
                short_id(&captured.tree_id)
            ),
        ),
        Event::ChangesCommitted(_) => ("info", "the change was committed".to_owned()),
        Event::ReviewFinished(review) => {
            let class = match review.status {
                omk_events::ReviewStatus::Passed => "good",
                omk_events::ReviewStatus::Failed => "bad",
                omk_events::ReviewStatus::Blocked => "wait",
            };
            (class, format!("review check {} {}", review.check, review.status))
        }
        Event::ChangeAccepted(_) => ("good", "the change was accepted".to_owned()),
        Event::ChangeRejected(_) => ("bad", "the change was rejected".to_owned()),
        Event::GoalFailed(failed) => {
            ("bad", format!("the {} step failed: {}", failed.step, failed.error))
        }
        Event::GoalCancelled(_) => ("bad", "the run was cancelled".to_owned()),
        Event::GoalPaused(_) | Event::GoalBlocked(_) | Event::BudgetExhausted(_) => {
            ("wait", event.kind().replace('_', " "))
        }
        Event::BudgetWarned(_) | Event::DecisionRequested(_) => {
            ("wait", event.kind().replace('_', " "))
        }
        Event::Unknown(unknown) => {
            ("neutral", format!("{} (a kind this omk does not know)", unknown.kind))
        }
        other => ("neutral", other.kind().replace('_', " ")),
    };
    Item::Marker { at: now, class, title: format!("{}: {detail}", event.kind()) }
}

/// The gate lanes: one per phase, in the order the phases first ran.
#[derive(Debug, Default)]
struct GateLanes {
    started: BTreeMap<String, Vec<Ms>>,
    phases: Vec<(String, Lane)>,
}

impl GateLanes {
    fn start(&mut self, name: &str, now: Ms) {
        self.started.entry(name.to_owned()).or_default().push(now);
    }

    fn finish(&mut self, finished: &GateFinished, now: Ms) {
        let phase = finished.phase.to_string();
        let started = self
            .started
            .get_mut(&finished.name)
            .and_then(|it| (!it.is_empty()).then(|| it.remove(0)));
        self.push(&phase, finished, started, now);
    }

    fn finish_in(&mut self, phase: &str, finished: &GateFinished, now: Ms) {
        self.push(phase, finished, None, now);
    }

    fn push(&mut self, phase: &str, finished: &GateFinished, started: Option<Ms>, now: Ms) {
        let measured = now - i64::try_from(finished.duration_ms).unwrap_or(i64::MAX / 4);
        let start = started.unwrap_or(measured).max(0).min(now);
        let (class, verdict) = match finished.failure() {
            None => ("good", "passed".to_owned()),
            Some(why) => ("bad", format!("failed: {why}")),
        };
        let tests = finished
            .tests
            .map(|it| format!(", {} passed, {} failed", it.passed, it.failed))
            .unwrap_or_default();
        let cached = finished
            .cached_from
            .as_deref()
            .map(|it| format!(", cached from {it}"))
            .unwrap_or_default();
        let title = format!(
            "gate {} ({phase}) {verdict} in {}{tests}{cached}",
            finished.name,
            duration(finished.duration_ms)
        );
        let idx = match self.phases.iter().position(|it| it.0 == phase) {
            Some(idx) => idx,
            None => {
                let label = format!("gates · {phase}");
                self.phases.push((phase.to_owned(), Lane { label, ..Lane::default() }));
                self.phases.len() - 1
            }
        };
        self.phases[idx].1.items.push(Item::Bar {
            start,
            end: now,
            class,
            label: finished.name.clone(),
            title,
        });
    }

    fn into_lanes(self) -> impl Iterator<Item = Lane> {
        // The baseline first: it is the context the other phases are read against.
        let mut phases = self.phases;
        phases.sort_by_key(|(phase, _)| *phase != GatePhase::Baseline.to_string());
        phases.into_iter().map(|(_, mut lane)| {
            let runs = lane.items.len() as u64;
            let failed =
                lane.items.iter().filter(|it| matches!(it, Item::Bar { class: "bad", .. })).count()
                    as u64;
            lane.note = if failed > 0 {
                format!("{}, {failed} failed", plural(runs, "run", "runs"))
            } else {
                plural(runs, "run", "runs")
            };
            lane
        })
    }
}

/// A slice's lane: its task, the lane, and its open attempts (when each was claimed, by which
/// worker).
type SliceLane = (String, Lane, BTreeMap<u32, (Ms, String)>);

/// A team goal's lanes: one per slice, and the merge queue.
#[derive(Debug, Default)]
struct TeamLanes {
    slices: Vec<SliceLane>,
    queue: Lane,
    /// The open batch: when it merged, its tasks and tree.
    open: Option<(Ms, Vec<String>, String)>,
    /// The tasks of every reverted batch, to tell a bisection.
    reverted: Vec<Vec<String>>,
}

impl TeamLanes {
    fn slice(&mut self, task: &str) -> &mut SliceLane {
        let idx = match self.slices.iter().position(|it| it.0 == task) {
            Some(idx) => idx,
            None => {
                let lane = Lane { label: task.to_owned(), ..Lane::default() };
                self.slices.push((task.to_owned(), lane, BTreeMap::new()));
                self.slices.len() - 1
            }
        };
        &mut self.slices[idx]
    }

    fn apply(&mut self, event: &Event, now: Ms) {
        match event {
            Event::TaskGraphPlanned(planned) => {
                for task in &planned.tasks {
                    self.slice(&task.id);
                }
            }
            Event::TaskClaimed(claimed) => {
                let slice = self.slice(&claimed.task);
                slice.2.insert(claimed.attempt, (now, claimed.worker.clone()));
            }
            Event::TaskCompleted(completed) => {
                self.end_attempt(&completed.task, completed.attempt, now, "good", || {
                    format!(
                        "completed: commit {}, {}",
                        short_id(&completed.commit),
                        plural(completed.paths.len() as u64, "path", "paths")
                    )
                });
            }
            Event::TaskFailed(failed) => {
                let retry = if failed.retry { ", retried" } else { ", for good" };
                self.end_attempt(&failed.task, failed.attempt, now, "bad", || {
                    format!("failed ({}): {}{retry}", failed.cause, failed.reason)
                });
            }
            Event::Slice(slice) => {
                if let Event::AgentActivity(activity) = slice.event.as_ref()
                    && let Some(tick) = activity_tick(now, activity)
                {
                    self.slice(&slice.task).1.items.push(tick);
                }
                if let Event::ApprovalDecided(approval) = slice.event.as_ref() {
                    let class =
                        if approval.decision == ApprovalDecision::Deny { "bad" } else { "good" };
                    let title = format!("approval: {} {}", approval.decision, approval.tool);
                    self.slice(&slice.task).1.items.push(Item::Marker { at: now, class, title });
                }
            }
            Event::TaskTakenOut(out) => {
                let title = format!(
                    "taken out: {}",
                    crate::model::SliceMerge::TakenOut(out.reason.clone())
                );
                self.slice(&out.task).1.items.push(Item::Marker { at: now, class: "bad", title });
            }
            Event::TaskProposed(proposed) => {
                let by = proposed.task.proposed_by.clone().unwrap_or_default();
                let decision = if proposed.accepted { "accepted" } else { "rejected" };
                let class = if proposed.accepted { "info" } else { "neutral" };
                let title =
                    format!("proposed task {} {decision}: {}", proposed.task.id, proposed.reason);
                if proposed.accepted {
                    self.slice(&proposed.task.id);
                }
                self.slice(&by).1.items.push(Item::Marker { at: now, class, title });
            }
            Event::QueueMerged(merged) => {
                self.open = Some((now, merged.tasks.clone(), merged.tree_id.clone()));
            }
            Event::QueueLanded(landed) => {
                self.close_batch(now, "good", "landed", &landed.tasks, "");
            }
            Event::QueueReverted(reverted) => {
                let why = format!(", broke {}", reverted.failed_gates.join(", "));
                self.close_batch(now, "bad", "reverted", &reverted.tasks, &why);
                self.reverted.push(reverted.tasks.clone());
            }
            _ => {}
        }
    }

    fn end_attempt(
        &mut self,
        task: &str,
        attempt: u32,
        now: Ms,
        class: &'static str,
        title: impl FnOnce() -> String,
    ) {
        let slice = self.slice(task);
        let (start, worker) = slice.2.remove(&attempt).unwrap_or((now, String::new()));
        slice.1.items.push(Item::Bar {
            start,
            end: now,
            class,
            label: format!("#{attempt}"),
            title: format!("{task} attempt {attempt} on {worker} {}", title()),
        });
    }

    fn close_batch(
        &mut self,
        now: Ms,
        class: &'static str,
        result: &str,
        tasks: &[String],
        why: &str,
    ) {
        let (start, merged, tree) =
            self.open.take().unwrap_or((now, tasks.to_vec(), String::new()));
        let bisect = self
            .reverted
            .iter()
            .any(|it| it.len() > merged.len() && merged.iter().all(|task| it.contains(task)));
        let label =
            if bisect { format!("bisect: {}", merged.join(", ")) } else { merged.join(", ") };
        let title = format!(
            "batch {} {result} on tree {}{why}{}",
            merged.join(", "),
            short_id(&tree),
            if bisect { " (a half of a reverted batch: bisection)" } else { "" }
        );
        self.queue.items.push(Item::Bar { start, end: now, class, label, title });
    }

    fn into_lanes(self, span: Ms) -> Vec<Lane> {
        let mut lanes = Vec::new();
        for (task, mut lane, open) in self.slices {
            for (attempt, (start, worker)) in open {
                lane.items.push(Item::Bar {
                    start,
                    end: span,
                    class: "wait",
                    label: format!("#{attempt}"),
                    title: format!("{task} attempt {attempt} on {worker}: no end in the log"),
                });
            }
            let attempts = lane.items.iter().filter(|it| matches!(it, Item::Bar { .. })).count();
            lane.note = format!("slice · {}", plural(attempts as u64, "attempt", "attempts"));
            lanes.push(lane);
        }
        let mut queue = self.queue;
        if let Some((start, tasks, tree)) = self.open {
            queue.items.push(Item::Bar {
                start,
                end: span,
                class: "wait",
                label: tasks.join(", "),
                title: format!(
                    "batch {} on tree {}: its gates have not decided",
                    tasks.join(", "),
                    short_id(&tree)
                ),
            });
        }
        if !queue.items.is_empty() {
            queue.label = "merge queue".to_owned();
            queue.note = plural(queue.items.len() as u64, "batch", "batches");
            lanes.push(queue);
        }
        lanes
    }
}
