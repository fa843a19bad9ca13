//! The named checks a verification reports, of a bundle here and of a goal in omk-goal.

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// The check held.
    Passed,
    /// The check failed: the message names what changed.
    Failed,
    /// The check could not be made; the message says why. It does not fail verification.
    Skipped,
    /// The check held only in part, or found something a person should know (an anchor of the
    /// log that is missing); the message says what it could not vouch for. It does not fail
    /// verification.
    Warning,
}

impl CheckStatus {
    /// Returns the status as one word: `passed`, `failed`, `skipped` or `warning`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Warning => "warning",
        }
    }
}

/// One named check of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked: `log`, `proof`, `artifact <path>`, `tree`, `rerun <gate>`, ...
    pub name: String,
    /// The verdict.
    pub status: CheckStatus,
    /// What was found; for a failure, what changed.
    pub message: String,
}

impl Check {
    /// Returns the check `name` with its verdict and what was found.
    pub fn new(name: impl Into<String>, status: CheckStatus, message: String) -> Self {
        Self { name: name.into(), status, message }
    }
}
