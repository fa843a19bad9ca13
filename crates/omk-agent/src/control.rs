//! omk's hold on a running agent: what it does, as it happens, and a way to stop it.

use std::time::Duration;

use omk_events::{AgentActivity, ApprovalDecided};

/// omk's hold on a running agent: it hears what the agent does and may stop it.
pub trait RunControl: Sync {
    /// Called with each thing the agent does, as it happens, in order (from the thread that
    /// calls `Agent::run`).
    ///
    /// A `usage` activity carries the run's total so far, so it compares with a token budget
    /// directly.
    fn on_activity(&self, activity: &AgentActivity);
    /// Polled at least every 100 ms while the agent runs (and between scripted steps and tool
    /// calls); `Some(reason)` stops the run.
    ///
    /// It is also polled after each line the agent prints, so a budget checked in
    /// [`on_activity`](Self::on_activity) stops the run before omk reads further; keep it
    /// cheap.
    fn stop_requested(&self) -> Option<String>;
    /// Called with each answer of omk's approval policy as it is sent to the agent, in order.
    ///
    /// The same answers are in the run's [`crate::AgentOutcome::approvals`]; a control that
    /// records them here records only those after the ones it saw from the outcome.
    fn on_approval(&self, decided: &ApprovalDecided) {
        let _ = decided;
    }
    /// Called once the agent's process is started, with its id, which is also the id of its
    /// process group: a controller that dies can leave the group running, and the next one
    /// stops it by this id.
    fn on_spawn(&self, pid: u32) {
        let _ = pid;
    }
}

/// The longest time between two polls of [`RunControl::stop_requested`] while an agent runs.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The most characters of a message a `message` activity carries.
pub(crate) const MESSAGE_CHARS: usize = 200;

/// A run's control, if it has one, and the stop request once it was made.
pub(crate) struct Hold<'a> {
    control: Option<&'a dyn RunControl>,
    stop_reason: Option<String>,
    /// How many of the report's approvals went to the control.
    approvals_delivered: usize,
}

impl<'a> Hold<'a> {
    pub(crate) fn new(control: Option<&'a dyn RunControl>) -> Self {
        Self { control, stop_reason: None, approvals_delivered: 0 }
    }

    /// Hands the approvals not delivered yet to the control, in order.
    pub(crate) fn deliver_approvals(&mut self, approvals: &[ApprovalDecided]) {
        for decided in approvals.get(self.approvals_delivered..).unwrap_or_default() {
            if let Some(control) = self.control {
                control.on_approval(decided);
            }
        }
        self.approvals_delivered = approvals.len();
    }

    /// Tells the control the agent's process started.
    pub(crate) fn spawned(&self, pid: u32) {
        if let Some(control) = self.control {
            control.on_spawn(pid);
        }
    }

    /// Hands `activity` to the control.
    pub(crate) fn emit(&self, activity: &AgentActivity) {
        if let Some(control) = self.control {
            control.on_activity(activity);
        }
    }

    /// Hands the queued `activities` to the control, in order, and empties the queue.
    pub(crate) fn deliver(&self, activities: &mut Vec<AgentActivity>) {
        for activity in activities.drain(..) {
            self.emit(&activity);
        }
    }

    /// Returns whether omk asked to stop the run; once it did, the answer stays yes.
    pub(crate) fn stop_requested(&mut self) -> bool {
        if self.stop_reason.is_none() {
            self.stop_reason = self.control.and_then(|control| control.stop_requested());
        }
        self.stop_reason.is_some()
    }

    /// Returns why omk stopped the run, if it did.
    pub(crate) fn stop_reason(&self) -> Option<&str> {
        self.stop_reason.as_deref()
    }
}

/// Returns the `error` of a run omk stopped for `reason`.
pub(crate) fn stopped_error(reason: &str) -> String {
    format!("omk stopped the agent: {reason}")
}

/// Returns the first [`MESSAGE_CHARS`] characters of `text`, trimmed.
pub(crate) fn short_text(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}
