//! TEMPORARY stand-in until the review branch lands (replaced on merge).
use std::path::Path;

use crate::error::Error;

/// `[review]`.
#[derive(Debug, Clone, Default)]
pub struct ReviewConfig {}
/// `[oracle]`.
#[derive(Debug, Clone, Default)]
pub struct OracleConfig {}
/// Both.
#[derive(Debug, Clone, Default)]
pub struct GoalConfig {
    /// `[review]`.
    pub review: ReviewConfig,
    /// `[oracle]`.
    pub oracle: OracleConfig,
}

/// Parses.
pub fn parse_goal_config(_text: &str, _path: &Path) -> Result<GoalConfig, Error> {
    Ok(GoalConfig::default())
}
