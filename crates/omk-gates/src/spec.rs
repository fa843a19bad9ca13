//! What a gate is: a named command with a kind, a timeout and whether it is required.

use std::{path::PathBuf, time::Duration};

use omk_events::GateKind;

/// A gate to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSpec {
    /// The gate's name, unique within a run; letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// What the gate checks.
    pub kind: GateKind,
    /// The command to run.
    pub command: GateCommand,
    /// Whether the proof requires the gate to pass.
    pub required: bool,
    /// How long the gate may run before omk kills it.
    pub timeout: Duration,
    /// The directory to run in, relative to the worktree root; `None` for the root.
    pub cwd: Option<PathBuf>,
}

/// How a gate's command is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateCommand {
    /// A program and its arguments, run without a shell.
    Argv(Vec<String>),
    /// A command line run by `sh -c`.
    Shell(String),
}

impl GateCommand {
    /// Returns the argv that runs the command.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Self::Argv(argv) => argv.clone(),
            Self::Shell(line) => vec!["sh".to_owned(), "-c".to_owned(), line.clone()],
        }
    }
}

impl GateSpec {
    /// The timeout of a gate that does not set one: 30 minutes, enough for a cold `cargo test`.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    /// Returns a required gate of kind `other` that runs `line` with `sh -c`.
    pub fn shell(name: &str, line: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: GateKind::Other,
            command: GateCommand::Shell(line.to_owned()),
            required: true,
            timeout: Self::DEFAULT_TIMEOUT,
            cwd: None,
        }
    }

    /// Returns whether `name` is a valid gate name.
    pub fn is_valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }
}
