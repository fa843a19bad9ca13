//! Errors of pushing and fetching goals.

use std::{io, path::PathBuf};

/// Returned when a goal's evidence cannot be pushed or fetched, or a fetched goal's origin
/// cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// `origin.json` cannot be read.
    #[error("read {path}")]
    ReadOrigin {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `origin.json` is not an origin this omk reads.
    #[error("read {path}: {problem}")]
    BadOrigin {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl RemoteError {
    /// Returns whether the error is caused by the user's input (a goal that is running, an
    /// unknown remote), which the message names; push and fetch failures are not.
    pub fn is_bad_input(&self) -> bool {
        false
    }
}
