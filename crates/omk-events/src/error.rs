//! Errors of reading and writing an event log.

use std::{io, path::PathBuf};

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
        "read event log {path} line {line}: expected sequence number {expected}, found {found}"
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
