//! Errors of loading the configuration.

use std::{io, path::PathBuf};

/// Returned when the configuration cannot be read, or a file or the layers together are
/// invalid.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config file (`omk.toml` or the user config) exists but cannot be read.
    #[error("read {path}")]
    ReadConfig {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A config file (`omk.toml` or the user config) is invalid: not TOML, an unknown key, a
    /// key the file may not set, or a value of the wrong form.
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The 1-based column, in characters.
        column: usize,
        /// What is wrong and the expected form.
        message: String,
    },
    /// The layers are valid one by one but not together, or a flag names no config key.
    #[error("the effective configuration is invalid: {message}; see `omk config show`")]
    EffectiveConfig {
        /// What is wrong.
        message: String,
    },
    /// The repository whose `omk.toml` to read cannot be opened.
    #[error(transparent)]
    Repo(#[from] omk_worktree::Error),
    /// The `[agent]` sections cannot be parsed for a reason other than their content.
    #[error(transparent)]
    Agent(#[from] omk_agent::Error),
}
