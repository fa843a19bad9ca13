//! Errors of preparing and running agents.

use std::{io, path::PathBuf};

/// Returned when an agent cannot be prepared or its run cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The agent string names no known agent.
    #[error(
        "unknown agent {agent:?}: use kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE"
    )]
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
    /// The agent's program is not installed.
    #[error("agent {agent}: program {program} not found; {hint}")]
    ProgramNotFound {
        /// The agent as given.
        agent: String,
        /// The program looked for.
        program: String,
        /// How to install or configure it.
        hint: String,
    },
    /// The agent's program could not be started or its output could not be saved.
    #[error("start {program} (its stdout goes to {stdout})")]
    Start {
        /// The program.
        program: String,
        /// The stdout artifact, relative to the goal directory.
        stdout: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The agent sections of `omk.toml` are invalid; the caller names the file, line and
    /// column.
    #[error("{message}")]
    Config {
        /// The byte offset of the problem in the text.
        offset: usize,
        /// What is wrong and the expected form.
        message: String,
    },
}
