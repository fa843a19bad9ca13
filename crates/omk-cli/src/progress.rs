//! Live progress on stderr while a goal runs: one line per event, and on a terminal a status
//! line that keeps time while the agent, a team's slices or the gates run.
//!
//! Progress is for people. It is off with `--json`, `-q` or `--progress never`, and when
//! stderr is not a terminal unless `--progress always`; stdout only ever gets the result.

use std::{
    fmt::Write as _,
    io::IsTerminal,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use omk_events::{
    ActivityKind, AgentStatus, Envelope, Event, GatePhase, ReviewStatus, TakeOutReason,
};

use crate::{
    args::ProgressWhen,
    output::{self, paint, style},
    replay::{Entry, Timeline},
    text::{plural, seconds},
};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Not at all.
    Off,
    /// One line per event, for a file or a pipe.
    Lines,
    /// One line per event and a status line redrawn in place, for a terminal.
    Live,
}

impl ProgressMode {
    /// Returns the mode for the global options.
    pub(crate) fn choose(when: ProgressWhen, json: bool, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_none_or(|term| term != "dumb");
        match when {
            _ if json || quiet => Self::Off,
            ProgressWhen::Never => Self::Off,
            ProgressWhen::Auto | ProgressWhen::Always if terminal => Self::Live,
            ProgressWhen::Always => Self::Lines,
            ProgressWhen::Auto => Self::Off,
        }
    }
}

/// How often the status line is redrawn.
const TICK: Duration = Duration::from_millis(120);

/// The frames of the status line's spinner.
const SPINNER: [&str; 8] = ["⣾", "⣽", "⣻", "⢿", "⡿", "⣟", "⣯", "⣷"];

/// The progress of one run; dropping it clears the status line.
pub(crate) struct Progress {
    inner: Arc<Mutex<Inner>>,
    ticker: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

struct Inner {
    mode: ProgressMode,
    timeline: Timeline,
    /// `omk demo`: explain each stage of the pipeline the first time it starts.
    explain: bool,
    explained: Vec<&'static str>,
    agent: Option<AgentLive>,
    /// Whether an agent has started: gates before that are the baseline.
    agent_started: bool,
    /// Whether the change was captured (or a team's slice claimed): gates from then on run on
    /// the change; the baseline's run beside the agent, on the base tree.
    on_change: bool,
    gates: Option<GatesLive>,
    /// A team goal's slices, from its task graph on.
    team: Option<TeamLive>,
    status_shown: bool,
    frame: usize,
}

struct AgentLive {
    started: Instant,
    step: u32,
    tool_calls: u32,
    tokens: u64,
}

struct GatesLive {
    started: Instant,
    baseline: bool,
    running: Vec<String>,
    done: usize,
}

/// A team goal's slices that are under way, by where they are.
struct TeamLive {
    started: Instant,
    running: Vec<String>,
    queued: Vec<String>,
    merging: Vec<String>,
}

/// Where a slice under way is.
#[derive(Clone, Copy)]
enum Place {
    Running,
    Queued,
    Merging,
}

impl TeamLive {
    /// Moves `task` to `to` (`None`: no longer under way), out of every other list.
    fn put(&mut self, task: &str, to: Option<Place>) {
        for list in [&mut self.running, &mut self.queued, &mut self.merging] {
            list.retain(|it| it != task);
        }
        let list = match to {
            Some(Place::Running) => &mut self.running,
            Some(Place::Queued) => &mut self.queued,
            Some(Place::Merging) => &mut self.merging,
            None => return,
        };
        list.push(task.to_owned());
    }

    /// Whether a slice runs, waits in the queue or is being merged.
    fn busy(&self) -> bool {
        !(self.running.is_empty() && self.queued.is_empty() && self.merging.is_empty())
    }
}

impl Progress {
    /// Starts showing progress in `mode`; `explain` adds the demo's explanations.
    pub(crate) fn new(mode: ProgressMode, explain: bool) -> Self {
        let inner = Arc::new(Mutex::new(Inner::new(mode, explain)));
        let ticker = (mode == ProgressMode::Live).then(|| {
            let stop = Arc::new(AtomicBool::new(false));
            let thread = {
                let (inner, stop) = (Arc::clone(&inner), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        let mut inner = lock(&inner);
                        inner.frame = inner.frame.wrapping_add(1);
                        let text = inner.redraw();
                        if !text.is_empty() {
                            output::print_stderr(&text);
                        }
                    }
                })
            };
            (stop, thread)
        });
        Self { inner, ticker }
    }

    /// Returns whether anything is shown.
    pub(crate) fn is_on(&self) -> bool {
        lock(&self.inner).mode != ProgressMode::Off
    }

    /// Shows a line of text (such as a notice) above the status line.
    pub(crate) fn line(&self, text: &str) {
        let mut inner = lock(&self.inner);
        if inner.mode != ProgressMode::Off {
            let text = inner.with_line(text);
            output::print_stderr(&text);
        }
    }

    /// Returns the callback that shows each event of the run.
    pub(crate) fn observer(&self) -> impl FnMut(&Envelope) + Send + 'static {
        let inner = Arc::clone(&self.inner);
        move |envelope| {
            let mut inner = lock(&inner);
            if inner.mode != ProgressMode::Off {
                let text = inner.event(envelope);
                output::print_stderr(&text);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.ticker.take() {
            stop.store(true, Ordering::Relaxed);
            thread.join().ok();
        }
        let mut inner = lock(&self.inner);
        let text = inner.clear_status();
        output::print_stderr(&text);
    }
}

/// Locks `inner`; a panic elsewhere while holding it leaves progress usable.
fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    fn new(mode: ProgressMode, explain: bool) -> Self {
        Self {
            mode,
            timeline: Timeline::new(),
            explain,
            explained: Vec::new(),
            agent: None,
            agent_started: false,
            on_change: false,
            gates: None,
            team: None,
            status_shown: false,
            frame: 0,
        }
    }

    /// Returns what to write for `envelope`: its explanation and line, then the status line.
    fn event(&mut self, envelope: &Envelope) -> String {
        let entry = self.timeline.entry(envelope);
        let mut lines = Vec::new();
        if self.explain
            && let Some((stage, text)) = explanation(&envelope.event, self.on_change)
            && !self.explained.contains(&stage)
        {
            self.explained.push(stage);
            lines.push(String::new());
            lines.push(paint(style::STRONG, stage));
            lines.push(paint(style::DIM, text));
        }
        self.track(&envelope.event);
        if let Some(line) = self.narration(&envelope.event, &entry) {
            lines.push(line);
        }
        let mut text = self.clear_status();
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(&self.status());
        text
    }

    /// Follows what is running, for the status line.
    fn track(&mut self, event: &Event) {
        match event {
            Event::ChangesCaptured(_) => self.on_change = true,
            Event::AgentStarted(_) => {
                self.agent_started = true;
                self.agent =
                    Some(AgentLive { started: Instant::now(), step: 0, tool_calls: 0, tokens: 0 });
            }
            Event::AgentActivity(activity) => {
                if let Some(agent) = &mut self.agent {
                    agent.step = agent.step.max(activity.step);
                    match activity.activity {
                        ActivityKind::ToolCall => agent.tool_calls += 1,
                        ActivityKind::Usage => {
                            if let Some(usage) = activity.usage {
                                agent.tokens = usage.total();
                            }
                        }
                        _ => {}
                    }
                }
            }
            Event::AgentFinished(_) => {
                self.agent = None;
                self.gates = None;
            }
            Event::GoalPaused(_) | Event::GoalCancelled(_) => {
                self.agent = None;
                self.gates = None;
                self.team = None;
            }
            Event::TaskGraphPlanned(_) => {
                self.team = Some(TeamLive {
                    started: Instant::now(),
                    running: Vec::new(),
                    queued: Vec::new(),
                    merging: Vec::new(),
                });
            }
            Event::TaskClaimed(claimed) => {
                // Gates from now on run on the change, not on the base.
                self.agent_started = true;
                self.on_change = true;
                if let Some(team) = &mut self.team {
                    team.put(&claimed.task, Some(Place::Running));
                }
            }
            Event::TaskCompleted(completed) => {
                if let Some(team) = &mut self.team {
                    team.put(&completed.task, Some(Place::Queued));
                }
            }
            Event::QueueMerged(merged) => {
                if let Some(team) = &mut self.team {
                    for task in &merged.tasks {
                        team.put(task, Some(Place::Merging));
                    }
                }
            }
            Event::QueueReverted(reverted) => {
                if let Some(team) = &mut self.team {
                    for task in &reverted.tasks {
                        team.put(task, Some(Place::Queued));
                    }
                }
            }
            Event::QueueLanded(landed) => {
                if let Some(team) = &mut self.team {
                    for task in &landed.tasks {
                        team.put(task, None);
                    }
                }
            }
            Event::TaskFailed(failed) => {
                if let Some(team) = &mut self.team {
                    team.put(&failed.task, None);
                }
            }
            Event::TaskTakenOut(out) => {
                if let Some(team) = &mut self.team {
                    team.put(&out.task, None);
                }
            }
            Event::GateStarted(started) => {
                let baseline = !self.on_change;
                let gates = self.gates.get_or_insert_with(|| GatesLive {
                    started: Instant::now(),
                    baseline,
                    running: Vec::new(),
                    done: 0,
                });
                gates.running.push(started.name.clone());
            }
            Event::GateFinished(finished) => {
                if let Some(gates) = &mut self.gates {
                    gates.running.retain(|name| *name != finished.name);
                    gates.done += 1;
                    if gates.running.is_empty() {
                        self.gates = None;
                    }
                }
            }
            _ => {}
        }
    }

    /// Returns the line that narrates `event`, styled; `None` for events the status line
    /// shows on a terminal, and for gate starts, whose order depends on timing.
    fn narration(&self, event: &Event, entry: &Entry) -> Option<String> {
        let live = self.mode == ProgressMode::Live;
        if let Some((style, text)) = team_narration(event) {
            return Some(format!("  {}", paint(style, &text)));
        }
        let style = match event {
            Event::GateStarted(_) => return None,
            Event::AgentActivity(activity)
                if live
                    && matches!(activity.activity, ActivityKind::Step | ActivityKind::Usage) =>
            {
                return None;
            }
            // A slice's events read as the goal's own, prefixed with `[task]` by the timeline.
            Event::Slice(slice) => match &*slice.event {
                Event::AgentActivity(activity)
                    if live
                        && matches!(
                            activity.activity,
                            ActivityKind::Step | ActivityKind::Usage
                        ) =>
                {
                    return None;
                }
                Event::AgentFinished(finished) if finished.status == AgentStatus::Failed => {
                    style::WAIT
                }
                _ => anstyle::Style::new(),
            },
            Event::GateFinished(finished) if finished.passed() => style::GOOD,
            Event::GateFinished(finished) if finished.phase == GatePhase::Baseline => style::WAIT,
            Event::GateFinished(_) | Event::GoalFailed(_) => style::BAD,
            Event::ReviewFinished(review) => match review.status {
                ReviewStatus::Passed => style::GOOD,
                ReviewStatus::Failed => style::BAD,
                ReviewStatus::Blocked => style::WAIT,
            },
            Event::BudgetWarned(_)
            | Event::BudgetExhausted(_)
            | Event::GoalPaused(_)
            | Event::GoalBlocked(_)
            | Event::DecisionRequested(_) => style::WAIT,
            Event::ChangeAccepted(_) => style::GOOD,
            _ => anstyle::Style::new(),
        };
        let mut line = format!("  {}", paint(style, &entry.what));
        if let Some(ms) = entry.duration_ms {
            line.push(' ');
            line.push_str(&paint(style::DIM, &format!("({ms} ms)")));
        }
        Some(line)
    }

    /// Returns `text` as a line above the status line.
    fn with_line(&mut self, text: &str) -> String {
        let mut out = self.clear_status();
        out.push_str(text);
        out.push('\n');
        out.push_str(&self.status());
        out
    }

    /// Returns the status line, when one is due; it stays until [`Inner::clear_status`].
    fn status(&mut self) -> String {
        if self.mode != ProgressMode::Live {
            return String::new();
        }
        let spinner = SPINNER[self.frame % SPINNER.len()];
        let text = if let Some(team) = self.team.as_ref().filter(|it| it.busy()) {
            let mut text = format!(
                "{spinner} team {} · agents {} running · queue {}",
                elapsed(team.started),
                team.running.len(),
                team.queued.len()
            );
            if !team.merging.is_empty() {
                let _ = write!(text, " · merging {}", team.merging.len());
            }
            if let Some(gates) = &self.gates {
                let _ = write!(text, " · gates running {}", gates.running.join(", "));
            }
            text
        } else if let Some(gates) = &self.gates {
            let phase = if gates.baseline { "baseline gates" } else { "gates" };
            format!(
                "{spinner} {phase} {} · {} done · running {}",
                elapsed(gates.started),
                gates.done,
                gates.running.join(", ")
            )
        } else if let Some(agent) = &self.agent {
            format!(
                "{spinner} agent {} · step {} · {} · {} tokens",
                elapsed(agent.started),
                agent.step,
                plural(u64::from(agent.tool_calls), "tool call"),
                agent.tokens
            )
        } else {
            return String::new();
        };
        self.status_shown = true;
        // The status line never wraps: a wrapped line cannot be redrawn in place.
        let text: String = text.chars().take(terminal_width().saturating_sub(2)).collect();
        paint(style::COMMAND, &text)
    }

    /// Returns what redraws the status line after a tick.
    fn redraw(&mut self) -> String {
        let mut text = self.clear_status();
        text.push_str(&self.status());
        text
    }

    /// Returns what erases the status line, when one is shown.
    fn clear_status(&mut self) -> String {
        if std::mem::take(&mut self.status_shown) { "\r\x1b[2K".to_owned() } else { String::new() }
    }
}

/// Returns the line of a team event, shorter than the timeline's, with its style; `None` for
/// other events.
fn team_narration(event: &Event) -> Option<(anstyle::Style, String)> {
    let plain = anstyle::Style::new();
    Some(match event {
        Event::TaskClaimed(claimed) => (
            plain,
            format!(
                "[{}] claimed by {} (attempt {})",
                claimed.task, claimed.worker, claimed.attempt
            ),
        ),
        Event::TaskCompleted(completed) => (
            plain,
            format!(
                "[{}] queued: {}",
                completed.task,
                plural(completed.paths.len() as u64, "file")
            ),
        ),
        Event::TaskFailed(failed) => (
            if failed.retry { style::WAIT } else { style::BAD },
            format!(
                "[{}] attempt {} failed: {}; {}",
                failed.task,
                failed.attempt,
                failed.reason,
                if failed.retry { "retrying" } else { "no retry left" }
            ),
        ),
        Event::QueueMerged(merged) => {
            (plain, format!("merging {} · gates next", merged.tasks.join(", ")))
        }
        Event::QueueLanded(landed) => (style::GOOD, format!("landed {}", landed.tasks.join(", "))),
        Event::QueueReverted(reverted) => {
            let then = if reverted.tasks.len() > 1 { "; bisecting" } else { "" };
            (
                style::BAD,
                format!(
                    "reverted {}: {} failed{then}",
                    reverted.tasks.join(", "),
                    reverted.failed_gates.join(", ")
                ),
            )
        }
        Event::TaskTakenOut(out) => {
            let why = match &out.reason {
                TakeOutReason::Conflict { paths } => format!("conflict in {}", paths.join(", ")),
                TakeOutReason::BrokeGates { gates, .. } => format!("broke {}", gates.join(", ")),
                TakeOutReason::Dependency { task } => format!("depends on {task}"),
            };
            (style::BAD, format!("[{}] taken out: {why}", out.task))
        }
        Event::TaskProposed(proposed) => {
            let by = proposed.task.proposed_by.as_deref().unwrap_or("?");
            let decision = if proposed.accepted {
                "accepted".to_owned()
            } else {
                format!("rejected ({})", proposed.reason)
            };
            (plain, format!("[{by}] proposed {}: {decision}", proposed.task.id))
        }
        _ => return None,
    })
}

/// Returns the explanation `omk demo` shows before the first event of each stage.
fn explanation(event: &Event, on_change: bool) -> Option<(&'static str, &'static str)> {
    Some(match event {
        Event::GoalCreated(_) => (
            "1. Intake",
            "omk records the goal in an append-only, hash-chained event log; every line below is \
             an event in it, and the proof is computed from the log alone.",
        ),
        Event::WorktreeCreated(_) => (
            "2. Worktree",
            "the agent gets its own git worktree and branch, so your checkout is never touched.",
        ),
        Event::AgentStarted(_) => (
            "3. Agent",
            "the agent works in the worktree; omk drives it from outside and records each step, \
             tool call and token.",
        ),
        Event::GateStarted(_) if !on_change => (
            "4. Baseline gates",
            "meanwhile omk ran the project's gates on the untouched base, in a worktree of their \
             own, so the proof can show what was broken before the agent's change.",
        ),
        Event::ChangesCaptured(_) => (
            "5. Change",
            "omk reads the change from git itself, not from the agent's report, and commits it on \
             the goal's branch.",
        ),
        Event::GateStarted(_) => (
            "6. Gates on the change",
            "the same gates run again on the agent's tree; only results on that exact tree count \
             for the proof.",
        ),
        Event::ReviewStarted(_) => (
            "7. Review wall",
            "deterministic checks of the diff: secrets, weakened tests, size, binaries, forbidden \
             paths, claims the gates contradict, and the oracle gate.",
        ),
        _ => return None,
    })
}

/// Returns `started`'s elapsed time as `4.2s` or `3m05s`.
fn elapsed(started: Instant) -> String {
    seconds(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX))
}

/// Returns the terminal's width from `COLUMNS`, else 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|it| it.parse().ok()).unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use omk_events::{AgentActivity, AgentStarted};

    use super::*;
    use crate::fixtures::{envelopes, team_events};

    #[test]
    fn progress_shows_only_where_asked() {
        // Tests run with stderr piped: auto is off, always prints lines.
        assert_eq!(ProgressMode::choose(ProgressWhen::Auto, false, false), ProgressMode::Off);
        assert_eq!(ProgressMode::choose(ProgressWhen::Always, false, false), ProgressMode::Lines);
        assert_eq!(ProgressMode::choose(ProgressWhen::Always, true, false), ProgressMode::Off);
        assert_eq!(ProgressMode::choose(ProgressWhen::Always, false, true), ProgressMode::Off);
        assert_eq!(ProgressMode::choose(ProgressWhen::Never, false, false), ProgressMode::Off);
    }

    #[test]
    fn a_terminal_gets_a_status_line_that_each_line_clears() {
        let events = envelopes(vec![
            Event::AgentStarted(AgentStarted { agent: "script:fix.scenario".to_owned() }),
            Event::AgentActivity(AgentActivity {
                tool: Some("ReadFile".to_owned()),
                tool_call_id: Some("tc-1".to_owned()),
                text: Some("\"calc.sh\"".to_owned()),
                ..AgentActivity::new(1, ActivityKind::ToolCall)
            }),
        ]);
        let mut live = Inner::new(ProgressMode::Live, false);
        let started = live.event(&events[0]);
        assert!(started.contains("agent script:fix.scenario started"), "{started:?}");
        assert!(started.contains("agent 0.0s · step 0 · 0 tool calls · 0 tokens"), "{started:?}");
        let call = live.event(&events[1]);
        assert!(call.starts_with("\r\x1b[2K"), "the status line is cleared first: {call:?}");
        assert!(call.contains("step 1 · 1 tool call ·"), "{call:?}");

        let mut lines = Inner::new(ProgressMode::Lines, false);
        let text: String = events.iter().map(|it| lines.event(it)).collect();
        assert!(!text.contains('\r'), "a file gets plain lines: {text:?}");
        assert!(text.contains("calls ReadFile"), "{text:?}");
    }

    #[test]
    fn a_team_run_gets_a_line_per_team_event() {
        let mut lines = Inner::new(ProgressMode::Lines, false);
        let text: String = envelopes(team_events()).iter().map(|it| lines.event(it)).collect();
        let text = anstream::adapter::strip_str(&text).to_string();
        let text: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(
            text[1..],
            [
                "[api] claimed by w1 (attempt 1)",
                "[cli] claimed by w2 (attempt 1)",
                "[api] calls ReadFile: \"src/api.rs\"",
                "[api] proposed docs: accepted",
                "[api] queued: 3 files",
                "[cli] attempt 1 failed: the agent exited 1; retrying",
                "[cli] claimed by w1 (attempt 2)",
                "[cli] queued: 1 file",
                "merging api, cli · gates next",
                "reverted api, cli: test failed; bisecting",
                "merging api · gates next",
                "landed api",
                "[cli] taken out: conflict in src/main.rs",
            ]
        );
        assert!(text[0].starts_with("task graph of 2 task(s), 2 at once"), "{text:?}");
    }

    #[test]
    fn a_terminal_shows_the_team_on_the_status_line() {
        let events = envelopes(team_events());
        let mut live = Inner::new(ProgressMode::Live, false);
        let texts: Vec<String> = events.iter().map(|it| live.event(it)).collect();
        assert!(texts[2].contains("team 0.0s · agents 2 running · queue 0"), "{:?}", texts[2]);
        assert!(texts[5].contains("agents 1 running · queue 1"), "{:?}", texts[5]);
        assert!(texts[9].contains("agents 0 running · queue 0 · merging 2"), "{:?}", texts[9]);
        assert!(texts[10].contains("agents 0 running · queue 2"), "{:?}", texts[10]);
        // With nothing under way the team's line goes.
        assert!(!texts[13].contains("team"), "{:?}", texts[13]);
    }
}
