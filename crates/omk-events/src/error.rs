//! Errors of reading and writing an event log.

use std::{io, path::PathBuf};

use crate::hash::EventHash;

/// Returned when an event log cannot be created, appended to or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The log already exists where a new goal's log was to be created.
    #[error("create event log {path}: a log already exists there")]
    AlreadyExists {
        /// The path of the existing log.
        path: PathBuf,
    },
    /// The log does not exist.
    #[error("read event log {path}: no such file")]
    Missing {
        /// The path that was looked up.
        path: PathBuf,
    },
    /// The log exists but holds no events.
    #[error("read event log {path}: the log is empty")]
    Empty {
        /// The path of the empty log.
        path: PathBuf,
    },
    /// An I/O operation on the log failed.
    #[error("{action} event log {path}")]
    Io {
        /// What was being done: "create", "append to", "read".
        action: &'static str,
        /// The path of the log.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A line is not a valid event.
    #[error("parse event log {path} line {line}")]
    Parse {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// A line was written by a newer, incompatible omk.
    #[error(
        "read event log {path} line {line}: format {found} is not supported (this omk reads {supported}); upgrade omk"
    )]
    UnsupportedFormat {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The format version found on the line.
        found: String,
        /// The format version this build reads.
        supported: &'static str,
    },
    /// A line breaks the dense numbering of the log.
    #[error(
        "read event log {path} line {line}: expected sequence number {expected}, found {found}: {}",
        if found > expected { "an event is missing" } else { "an event is repeated or out of order" }
    )]
    Sequence {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The sequence number the line should carry.
        expected: u64,
        /// The sequence number it carries.
        found: u64,
    },
    /// A line belongs to another goal.
    #[error(
        "read event log {path} line {line}: event of goal {found} in the log of goal {expected}"
    )]
    GoalMismatch {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The goal of the first event.
        expected: String,
        /// The goal named on this line.
        found: String,
    },
    /// A line's bytes do not match the hash it carries.
    #[error(
        "verify event log {path} line {line}: the line does not match its hash: it was changed after it was written"
    )]
    Tampered {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
    },
    /// A line's `prev` is not the hash of the line before it.
    #[error(
        "verify event log {path} line {line}: the chain is broken: the line follows an event with hash {}, but the line before it has hash {}; a line was replaced, inserted or removed",
        found.short(),
        expected.short()
    )]
    ChainBroken {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The hash of the line before.
        expected: EventHash,
        /// The `prev` the line carries.
        found: EventHash,
    },
    /// Chained and unchained lines are mixed in one log.
    #[error(
        "verify event log {path} line {line}: the line's hash chain does not match the lines before it (hashed and unhashed lines are mixed)"
    )]
    MixedChain {
        /// The path of the log.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
    },
    /// Another process holds the goal's lock.
    #[error(
        "open event log {path}: goal {goal} is being run by {}; wait for that run to end or stop it",
        match pid { Some(pid) => format!("pid {pid}"), None => "another process".to_owned() }
    )]
    Locked {
        /// The path of the log.
        path: PathBuf,
        /// The goal whose log it is.
        goal: String,
        /// The process holding the lock, when it recorded itself.
        pid: Option<u32>,
    },
    /// The log predates the hash chain, so this omk cannot append to it.
    #[error(
        "open event log {path}: the log has format {format}, which has no hash chain; this omk only appends to logs it can verify, so start a new goal"
    )]
    Unchained {
        /// The path of the log.
        path: PathBuf,
        /// The format of the log.
        format: String,
    },
    /// An earlier failed write could not be undone, so the log takes no more lines.
    #[error(
        "append to event log {path}: an earlier write failed and could not be cut back; reopen the log to repair it"
    )]
    Poisoned {
        /// The path of the log.
        path: PathBuf,
    },
    /// An event could not be encoded as JSON.
    #[error("encode event for {path}")]
    Encode {
        /// The path of the log.
        path: PathBuf,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
}

/// Returns `err` and its sources as one line, `outer: inner: root`, as omk shows errors.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
