//! The CLI's error type and the exit codes it maps to; every library error is converted here.

use std::fmt;

/// The documented exit codes of omk (`docs/reference/exit-codes.md`).
#[derive(Debug)]
pub struct ExitCodes;

impl ExitCodes {
    /// The command did what it was asked; for `run` and `demo`, every required gate passed.
    pub const SUCCESS: u8 = 0;
    /// The run finished but its proof is not ready for acceptance; for `omk gates run`, a
    /// required gate failed.
    pub const NOT_READY: u8 = 1;
    /// `omk proof verify` and `omk proof rebuild`: the proof or bundle is not verified; the
    /// output names every failed check.
    pub const NOT_VERIFIED: u8 = 1;
    /// Bad input: arguments, prompt, repository, agent, scenario or config.
    pub const USAGE: u8 = 2;
    /// The goal waits on a person (a question to answer, a decision to take) or on something
    /// outside omk.
    pub const BLOCKED: u8 = 3;
    /// The goal stopped at its budget; `omk budget add`, then `omk resume`.
    pub const BUDGET: u8 = 4;
    /// omk's own machinery failed: git, disk, a log that cannot be written.
    pub const INFRA: u8 = 5;
    /// `omk push`, `omk fetch` and the push of `omk run --push`: the remote refused the push or
    /// could not be reached, or the evidence was refused before it was pushed (an artifact that
    /// differs from its digest, another history of the goal id on the remote).
    pub const TRANSFER: u8 = 6;
    /// The run was paused (Ctrl-C or `omk pause`) or cancelled; `omk gates run` stopped its
    /// gates on Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

/// What kind of failure an error is, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input is wrong; the message names it and the fix.
    Usage,
    /// Something outside the input failed.
    Infra,
    /// The proof does not allow what was asked (`omk accept` of a change that is not ready).
    NotReady,
    /// A push or fetch failed or was refused.
    Transfer,
}

impl ErrorKind {
    /// Returns the exit code of this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Usage => ExitCodes::USAGE,
            Self::Infra => ExitCodes::INFRA,
            Self::NotReady => ExitCodes::NOT_READY,
            Self::Transfer => ExitCodes::TRANSFER,
        }
    }
}

/// An error as the CLI reports it: a kind, a one-line message with its causes, and hints.
#[derive(Debug)]
pub struct CliError {
    /// The kind, which picks the exit code.
    pub kind: ErrorKind,
    /// The message, with the error's sources joined by `: `.
    pub message: String,
    /// Suggestions printed after the message.
    pub hints: Vec<String>,
}

impl CliError {
    /// Returns a usage error with `message`.
    pub fn usage(message: String) -> Self {
        Self { kind: ErrorKind::Usage, message, hints: Vec::new() }
    }

    fn from_chain(kind: ErrorKind, error: &dyn std::error::Error) -> Self {
        Self { kind, message: omk_events::error_chain(error), hints: Vec::new() }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<omk_goal::Error> for CliError {
    fn from(error: omk_goal::Error) -> Self {
        let kind = match &error {
            _ if error.is_refusal() => ErrorKind::NotReady,
            omk_goal::Error::Remote(remote) if remote.is_transfer_failure() => ErrorKind::Transfer,
            omk_goal::Error::Log(omk_events::Error::Locked { .. }) => ErrorKind::Usage,
            _ if error.is_bad_input() => ErrorKind::Usage,
            _ => ErrorKind::Infra,
        };
        Self::from_chain(kind, &error)
    }
}

impl From<omk_config::Error> for CliError {
    /// A config error is classified as the controller classifies it when it reads the
    /// configuration for a run, so `omk config` and `omk run` exit alike on the same file.
    fn from(error: omk_config::Error) -> Self {
        omk_goal::Error::from(error).into()
    }
}

impl From<omk_attest::Error> for CliError {
    fn from(error: omk_attest::Error) -> Self {
        let kind = if error.is_bad_input() { ErrorKind::Usage } else { ErrorKind::Infra };
        Self::from_chain(kind, &error)
    }
}

impl From<omk_events::Error> for CliError {
    fn from(error: omk_events::Error) -> Self {
        use omk_events::Error as LogError;
        let kind = match error {
            LogError::Missing { .. }
            | LogError::Empty { .. }
            | LogError::UnsupportedFormat { .. }
            | LogError::Locked { .. } => ErrorKind::Usage,
            _ => ErrorKind::Infra,
        };
        Self::from_chain(kind, &error)
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        Self::from_chain(ErrorKind::Infra, &error)
    }
}
