//! Leases: a running slice's heartbeat, written to `leases/<task>.json` beside the log so that a
//! resumed run knows which attempts a dead controller left, and whose agents to stop.

use std::{
    sync::{PoisonError, atomic::Ordering},
    time::{Duration, Instant},
};

use omk_events::{FailureCause, files::write_atomic};

use crate::{
    error::Error,
    run::controller::Controller,
    team::worker::{Crew, Running},
};

/// How often the leases of running workers are written.
const LEASE_WRITE: Duration = Duration::from_secs(1);

/// A running slice's lease, `.omk/goals/<goal-id>/leases/<task>.json`: who holds the task,
/// the agent's process group, and the latest heartbeat.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Lease {
    task: String,
    attempt: u32,
    worker: String,
    /// The controller's process.
    pid: u32,
    /// The agent's process group; 0 before it started.
    agent_pgid: u32,
    #[serde(with = "omk_events::timestamp")]
    heartbeat_at: chrono::DateTime<chrono::Utc>,
}

impl Controller<'_> {
    /// Releases the lease a dead controller left for `task`: stops the agent it left running
    /// and removes the file; returns what the lease said, for the failure's reason.
    pub(crate) fn release_dead_lease(&self, task: &str) -> String {
        let path = self.paths.lease(task);
        let Ok(text) = std::fs::read_to_string(&path) else { return String::new() };
        std::fs::remove_file(&path).ok();
        let Ok(lease) = serde_json::from_str::<Lease>(&text) else { return String::new() };
        // The group was ended by its record when this run started, which checks the leader's
        // start time; a bare pid from the lease is never signalled again, as it may be reused.
        let orphan = lease.agent_pgid > 0 && self.killed_leftovers.contains(&lease.agent_pgid);
        format!(
            " (its lease was held by pid {}, last heartbeat at {}{})",
            lease.pid,
            lease.heartbeat_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            if orphan { "; its agent was still running and was stopped" } else { "" }
        )
    }

    /// Fails the task of every worker whose heartbeat is older than the lease, and stops it.
    pub(crate) fn check_leases(&mut self, crew: &mut Crew) -> Result<(), Error> {
        let Some(team) = &self.rec.state.team else { return Ok(()) };
        let lease_ms = team.planned.lease_ms;
        let now = crew.now_ms();
        let mut expired = Vec::new();
        for running in &mut crew.running {
            let beat = running.beat.load(Ordering::Relaxed);
            if !running.expired && now.saturating_sub(beat) > lease_ms {
                running.expired = true;
                *running.cancel.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some("its lease expired".to_owned());
                expired.push((
                    running.task.clone(),
                    running.attempt,
                    running.worker.clone(),
                    now - beat,
                ));
            }
        }
        for (task, attempt, worker, silent) in expired {
            self.fail_attempt(
                &task,
                attempt,
                &worker,
                FailureCause::LeaseExpired,
                &format!(
                    "worker {worker} sent no heartbeat for {silent} ms (the lease is {lease_ms} ms)"
                ),
            )?;
        }
        Ok(())
    }

    /// Writes each running worker's lease with its latest heartbeat: once a second, and at
    /// once when its agent's process group is new, so a controller killed right after a start
    /// leaves the group's id behind.
    pub(crate) fn write_leases(&self, crew: &mut Crew) {
        let second = crew.last_lease_write.is_none_or(|it| it.elapsed() >= LEASE_WRITE);
        let fresh =
            |running: &Running| running.leased_pgid != Some(running.pgid.load(Ordering::Relaxed));
        if !second && !crew.running.iter().any(fresh) {
            return;
        }
        crew.last_lease_write = Some(Instant::now());
        let dir = self.paths.leases_dir();
        if crew.running.is_empty() || std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let now = self.rec.clock.now();
        let elapsed = crew.now_ms();
        for running in &mut crew.running {
            let ago = elapsed.saturating_sub(running.beat.load(Ordering::Relaxed));
            let pgid = running.pgid.load(Ordering::Relaxed);
            let lease = Lease {
                task: running.task.clone(),
                attempt: running.attempt,
                worker: running.worker.clone(),
                pid: std::process::id(),
                agent_pgid: pgid,
                heartbeat_at: now - chrono::Duration::milliseconds(i64::try_from(ago).unwrap_or(0)),
            };
            let Ok(bytes) = serde_json::to_vec(&lease) else { continue };
            let path = self.paths.lease(&running.task);
            if write_atomic(&path, &bytes).is_ok() {
                running.leased_pgid = Some(pgid);
            }
        }
    }
}
