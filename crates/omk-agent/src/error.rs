//! Errors of preparing and running agents.

use std::{io, path::PathBuf};

/// Returned when an agent cannot be prepared or its run cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The agent string names no known agent.
    #[error("unknown agent {agent:?}: use script:FILE (the built-in scripted agent)")]
    UnknownAgent {
        /// The agent as given.
        agent: String,
    },
    /// The scenario file could not be read.
    #[error("read scenario file {path}")]
    ReadScenario {
        /// The scenario file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The scenario file is not valid.
    #[error("scenario file {path}, step {step}: {problem}")]
    BadScenario {
        /// The scenario file.
        path: PathBuf,
        /// The 1-based step.
        step: usize,
        /// What is wrong and the expected form.
        problem: String,
    },
    /// The transcript could not be written.
    #[error("write agent transcript {path}")]
    Transcript {
        /// The transcript file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}
