//! What a gate is: a named command with a kind, a timeout and whether it is required.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use omk_events::GateKind;

use crate::kind::infer_kind;

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
    /// Variables set for the gate on top of the environment the caller gives the runner.
    pub env: BTreeMap<String, String>,
    /// The files the gate's result depends on, as paths or globs relative to the worktree root
    /// (`src/**`, `*.md`, `docs`); empty for the whole tree. Only the cache reads them.
    pub inputs: Vec<String>,
    /// Whether a test gate may pass without running a test.
    pub allow_no_tests: bool,
    /// Whether the project declared that this test gate's exit code stands for its tests
    /// (`tests = "exit-code"`): for a runner whose summary omk cannot count, weaker evidence
    /// that the proof shows as such.
    pub tests_by_exit_code: bool,
    /// The JUnit XML report(s) the gate writes, as a path or glob relative to the worktree root
    /// (`target/nextest/ci/junit.xml`, `build/test-results/test/*.xml`): omk counts the tests
    /// of the reports this run wrote, in preference to the output's summary.
    pub junit: Option<String>,
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

    /// Returns a program and its arguments, run without a shell.
    pub fn of(argv: &[&str]) -> Self {
        Self::Argv(argv.iter().map(|it| (*it).to_owned()).collect())
    }
}

impl GateSpec {
    /// The timeout of a gate that does not set one: 30 minutes, enough for a cold `cargo test`.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    /// Returns a required gate that runs `line` with `sh -c`, of the kind its command implies
    /// ([`infer_kind`]: `test` for `cargo test`, `other` for `true`).
    pub fn shell(name: &str, line: &str) -> Self {
        let command = GateCommand::Shell(line.to_owned());
        Self::new(name, infer_kind(&command), command)
    }

    /// Returns a required gate with the default timeout, in the worktree root, without extra
    /// environment or inputs.
    pub fn new(name: &str, kind: GateKind, command: GateCommand) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            command,
            required: true,
            timeout: Self::DEFAULT_TIMEOUT,
            cwd: None,
            env: BTreeMap::new(),
            inputs: Vec::new(),
            allow_no_tests: false,
            tests_by_exit_code: false,
            junit: None,
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
