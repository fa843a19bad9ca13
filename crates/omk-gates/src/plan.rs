//! The gates of a run: configured gates and detected ones merged, each with where it came from.

use crate::{config::GateConfig, detect::DetectedGate, spec::GateSpec};

/// Every gate omk considered for a run, in run order, including those it will not run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatePlan {
    /// The gates, configured ones first in file order, then detected ones in detection order,
    /// then extra ones.
    pub entries: Vec<PlannedGate>,
}

/// One gate of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGate {
    /// The gate.
    pub spec: GateSpec,
    /// Where the gate comes from.
    pub source: GateSource,
    /// Why the gate does not run, or `None` when it runs.
    pub skipped: Option<String>,
}

/// Where a gate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateSource {
    /// A `[[gates]]` table of `omk.toml`.
    Configured {
        /// The line of the gate's name.
        line: usize,
        /// The reason of the detected gate of the same name that this one replaces, if any.
        replaces: Option<String>,
    },
    /// Detection, with its reason.
    Detected {
        /// What in the project made omk choose the gate.
        reason: String,
    },
    /// Given by the caller, such as `omk run --gate`.
    Extra,
}

impl GatePlan {
    /// Returns the specs of the gates that run, in order.
    pub fn gates(&self) -> Vec<GateSpec> {
        self.entries.iter().filter(|it| it.skipped.is_none()).map(|it| it.spec.clone()).collect()
    }
}

impl GateSource {
    /// Returns the source as a short phrase, such as `omk.toml:3` or `detected: Cargo.toml`.
    pub fn describe(&self) -> String {
        match self {
            Self::Configured { line, replaces: None } => format!("omk.toml:{line}"),
            Self::Configured { line, replaces: Some(reason) } => {
                format!("omk.toml:{line}, replacing the detected gate ({reason})")
            }
            Self::Detected { reason } => format!("detected: {reason}"),
            Self::Extra => "command line".to_owned(),
        }
    }
}

/// Returns the plan of `config`'s gates and the `detected` ones, then `extra`.
///
/// A configured gate with the name of a detected gate replaces it; `[detect] enabled = false`
/// and `[detect] exclude` keep detected gates from running, and the plan says so.
pub fn plan_gates(
    config: &GateConfig,
    detected: Vec<DetectedGate>,
    extra: &[GateSpec],
) -> GatePlan {
    let mut entries = Vec::new();
    for spec in &config.gates {
        let replaces =
            detected.iter().find(|it| it.spec.name == spec.name).map(|it| it.reason.clone());
        let line = config.gate_lines.get(&spec.name).copied().unwrap_or(0);
        entries.push(PlannedGate {
            spec: spec.clone(),
            source: GateSource::Configured { line, replaces },
            skipped: None,
        });
    }
    for gate in detected {
        let skipped = if config.gates.iter().any(|it| it.name == gate.spec.name) {
            continue;
        } else if !config.detect {
            Some("[detect] enabled = false in omk.toml".to_owned())
        } else if config.detect_exclude.contains(&gate.spec.name) {
            Some("[detect] exclude in omk.toml".to_owned())
        } else {
            None
        };
        entries.push(PlannedGate {
            spec: gate.spec,
            source: GateSource::Detected { reason: gate.reason },
            skipped,
        });
    }
    for spec in extra {
        entries.push(PlannedGate { spec: spec.clone(), source: GateSource::Extra, skipped: None });
    }
    GatePlan { entries }
}
