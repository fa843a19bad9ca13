//! Stopping a live run from outside: `omk pause` and `omk cancel` requests through the goal
//! directory, Ctrl-C, and the wall-time budget.
//!
//! The run holds the goal's log lock, so another process cannot append to the log. It asks
//! instead: it writes `control.json` into the goal directory (atomically), and the run, which
//! looks for the file at least every 100 ms, stops its agent or gates, records the pause or
//! cancellation, removes the file and lets go of the lock.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use omk_events::{BudgetExhausted, BudgetResource, EventLog, files::write_atomic};

use crate::{error::Error, layout::GoalPaths};

/// What another process asks a live run to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlAction {
    /// Stop, keeping everything; `omk resume` goes on.
    Pause,
    /// Stop for good.
    Cancel,
}

/// The request file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ControlRequest {
    pub(crate) action: ControlAction,
    pub(crate) reason: String,
}

/// Why a run stops before its steps are done.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stop {
    /// `omk pause`, or Ctrl-C.
    Pause(String),
    /// `omk cancel`.
    Cancel(String),
    /// A budget ran out.
    Budget(BudgetExhausted),
}

impl Stop {
    /// Returns the reason given to the agent when it is stopped.
    pub(crate) fn reason(&self) -> String {
        match self {
            Self::Pause(reason) => format!("paused ({reason})"),
            Self::Cancel(reason) => format!("cancelled ({reason})"),
            Self::Budget(exhausted) => format!("the {} budget ran out", exhausted.resource),
        }
    }
}

/// Reads a pending request; a file that cannot be read or parsed is treated as no request.
pub(crate) fn read_request(path: &Path) -> Option<ControlRequest> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Removes a handled request.
///
/// A request that cannot be removed stops the next run at once with its reason, which is
/// harmless and visible; a missing one is what the caller wants.
pub(crate) fn clear_request(path: &Path) {
    fs::remove_file(path).ok();
}

/// Everything that can stop a live run, checked together.
pub(crate) struct Stopper<'a> {
    control: PathBuf,
    interrupt: Option<&'a AtomicBool>,
    /// The wall-time limit: when this segment started, what was used before it, the limit.
    wall: Option<(Instant, u64, u64)>,
}

impl<'a> Stopper<'a> {
    pub(crate) fn new(paths: &GoalPaths, interrupt: Option<&'a AtomicBool>) -> Self {
        Self { control: paths.control(), interrupt, wall: None }
    }

    /// Sets the wall-time limit: `used_ms` were used before now, `limit_ms` may be.
    pub(crate) fn set_wall(&mut self, used_ms: u64, limit_ms: Option<u64>) {
        self.wall = limit_ms.map(|limit| (Instant::now(), used_ms, limit));
    }

    /// Returns the wall time used so far, live, when a limit is set.
    pub(crate) fn wall_used_ms(&self) -> Option<u64> {
        self.wall.map(|(since, before, _)| {
            before + u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
        })
    }

    /// Returns why the run must stop now, if it must.
    pub(crate) fn check(&self) -> Option<Stop> {
        if self.interrupt.is_some_and(|it| it.load(Ordering::Relaxed)) {
            return Some(Stop::Pause("interrupted by Ctrl-C".to_owned()));
        }
        if let Some(request) = read_request(&self.control) {
            return Some(match request.action {
                ControlAction::Pause => Stop::Pause(request.reason),
                ControlAction::Cancel => Stop::Cancel(request.reason),
            });
        }
        let (_, _, limit) = self.wall?;
        let used = self.wall_used_ms()?;
        #[expect(clippy::cast_precision_loss, reason = "milliseconds are far below 2^52")]
        (used >= limit).then_some({
            Stop::Budget(BudgetExhausted {
                resource: BudgetResource::WallTime,
                limit: limit as f64,
                used: used as f64,
            })
        })
    }

    /// Removes the request file once its request was recorded.
    pub(crate) fn clear(&self) {
        clear_request(&self.control);
    }
}

/// What [`request_stop`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// A live run (process `pid`) stopped and recorded the request.
    Stopped {
        /// The run's process id, when it recorded one.
        pid: Option<u32>,
    },
    /// No run was live; the request was recorded in the log directly.
    Recorded,
}

/// Asks the live run of `paths`' goal to stop, and waits up to `wait` for it to let go.
///
/// Returns `Ok(None)` when no run holds the goal, so the caller records the request itself.
pub(crate) fn ask_live_run(
    paths: &GoalPaths,
    action: ControlAction,
    reason: &str,
    wait: Duration,
) -> Result<Option<StopOutcome>, Error> {
    let Some(pid) = EventLog::holder(&paths.events)? else { return Ok(None) };
    let path = paths.control();
    let request = ControlRequest { action, reason: reason.to_owned() };
    let json = serde_json::to_string(&request).expect("a control request serializes");
    write_atomic(&path, json.as_bytes())
        .map_err(|source| Error::Write { path: path.clone(), source })?;
    let started = Instant::now();
    loop {
        if EventLog::holder(&paths.events)?.is_none() {
            // A run that ended on its own just before it saw the request leaves the file.
            clear_request(&path);
            return Ok(Some(StopOutcome::Stopped { pid }));
        }
        if started.elapsed() >= wait {
            clear_request(&path);
            return Err(Error::StopTimedOut {
                goal: paths.goal_id.to_string(),
                pid,
                waited_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
