//! The record of each running process group in the goal's state (leader pid and start time),
//! and the ending of groups that a killed run left behind.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use serde::{Deserialize, Serialize};

/// A process group omk started: its leader's pid (the group's id) and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// The leader's pid, which is also the group's id.
    pub pid: u32,
    /// The leader's start time in clock ticks after boot (`/proc/<pid>/stat`, field 22), which
    /// tells the leader from a later process that got the same pid.
    pub start_time: u64,
}

/// Removes a record when the group it names has ended.
#[derive(Debug)]
pub struct RecordGuard {
    path: Option<PathBuf>,
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // A record left behind only makes a later run look for a group that is gone.
            fs::remove_file(path).ok();
        }
    }
}

/// Records the group led by `pid` in `dir` (created if missing) until the guard is dropped;
/// `None` for `dir` records nothing.
pub fn record_process(dir: Option<&Path>, pid: u32) -> io::Result<RecordGuard> {
    let Some(dir) = dir else { return Ok(RecordGuard { path: None }) };
    let Some(start_time) = stat(pid).map(|it| it.start_time) else {
        // The leader is already gone: there is nothing to end later.
        return Ok(RecordGuard { path: None });
    };
    fs::create_dir_all(dir)?;
    let path = dir.join(format!("{pid}.json"));
    let record = ProcessRecord { pid, start_time };
    let bytes = serde_json::to_vec(&record).map_err(io::Error::other)?;
    // A record speaks of a process of this boot, which a crash of the machine ends too: it
    // needs no sync, only to be whole (the rename), and syncs would cost every start.
    let options = omk_events::files::WriteOptions { durable: false, ..Default::default() };
    omk_events::files::write_atomic_with(&path, &bytes, &options)?;
    Ok(RecordGuard { path: Some(path) })
}

/// Kills every process group recorded in `dir` that still runs, and removes the records;
/// returns the ids of the groups it killed.
///
/// A group counts as still running when its leader is alive with the recorded start time, or,
/// when the leader is gone, when processes of that group started no earlier than it did (the
/// kernel does not reuse a pid while a group of that id has members).
pub fn kill_leftovers(dir: &Path) -> io::Result<Vec<u32>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut killed = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|it| it != "json") {
            continue;
        }
        let record = fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ProcessRecord>(&bytes).ok());
        if let Some(record) = record
            && group_alive(record)
        {
            kill_group(record.pid);
            killed.push(record.pid);
        }
        fs::remove_file(&path)?;
    }
    killed.sort_unstable();
    Ok(killed)
}

/// Kills the process group led by `pid` with SIGKILL: the leader and everything it started that
/// stayed in its group. A group already gone is no error, since gone is the goal.
///
/// Call it only for a group this process started and has not yet known to be ended, or one whose
/// leader was checked by its start time ([`kill_leftovers`]): a group id is a pid, which the
/// system reuses once the group is empty.
pub(crate) fn kill_group(pid: u32) {
    if let Ok(pgid) = i32::try_from(pid) {
        killpg(Pid::from_raw(pgid), Signal::SIGKILL).ok();
    }
}

/// What omk reads of `/proc/<pid>/stat`.
pub(crate) struct Stat {
    pub(crate) group: u32,
    pub(crate) start_time: u64,
}

pub(crate) fn stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; the fields after its closing
    // parenthesis start at field 3 (state).
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat { group: fields.get(2)?.parse().ok()?, start_time: fields.get(19)?.parse().ok()? })
}

pub(crate) fn group_alive(record: ProcessRecord) -> bool {
    if let Some(leader) = stat(record.pid) {
        return leader.start_time == record.start_time && leader.group == record.pid;
    }
    let Ok(processes) = fs::read_dir("/proc") else { return false };
    processes.flatten().any(|entry| {
        entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
            .and_then(stat)
            .is_some_and(|it| it.group == record.pid && it.start_time >= record.start_time)
    })
}
