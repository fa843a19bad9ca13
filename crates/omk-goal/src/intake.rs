//! TEMPORARY stand-in until the intake branch lands (replaced on merge).
use omk_events::GoalKind;
use omk_gates::GateSpec;

use crate::config::OracleConfig;

/// What intake decided.
pub struct Intake {
    /// The kind.
    pub kind: GoalKind,
    /// The question a vague prompt raises.
    pub question: Option<String>,
}

/// Classifies a prompt.
pub fn classify(_prompt: &str) -> Intake {
    Intake { kind: GoalKind::Feature, question: None }
}

/// Returns the oracle gates.
pub fn oracle_gates(_kind: GoalKind, _config: &OracleConfig, _gates: &[GateSpec]) -> Vec<String> {
    Vec::new()
}
