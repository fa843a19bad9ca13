//! The configuration of omk: every file and flag that sets a key, merged in layers, with the
//! source of every value.
//!
//! The layers, each over the ones before, so a later layer's value wins:
//! 1. omk's built-in defaults;
//! 2. `omk.toml` at the repository root, the project's configuration;
//! 3. the user config (its path comes from the caller in a [`ConfigEnv`]), which may set only
//!    the personal keys (agent, approvals, prices, commit identity): it wins over `omk.toml`,
//!    but cannot change what a proof requires;
//! 4. flags, as [`Override`]s.
//!
//! This is the one statement of that order; [`Layer`] lists the files in it, and
//! `docs/config.md` says why.
//!
//! Invariants:
//! - Each file is checked on its own before the layers merge: every key against the table of
//!   keys ([`keys`]), then each section's parser (omk-agent, omk-gates and omk-worktree parse
//!   their own sections, this crate `[review]`, `[oracle]`, `[sandbox]` and `[trust]`), so an error names the file,
//!   line and column, and an unknown key anywhere is an error with the closest known key.
//! - No layer falls back to defaults silently: a file that cannot be read, or layers that are
//!   invalid together, are errors.
//! - This crate does not read the environment, print, or write a config file: where the user
//!   config is comes in a [`ConfigEnv`], and every file is only read.
//!
//! Entry points: [`load_settings`] (what a run works with), [`effective_config`] (`omk config
//! show`) and [`config_paths`] (`omk config path`); [`keys`] for the "did you mean" of other
//! files omk reads, such as task plans.

mod error;
pub mod keys;
mod layers;
mod sandbox;
mod sections;
mod trust;

pub use crate::error::Error;
pub use crate::layers::{
    ConfigEnv, ConfigFile, Entry, Layer, Override, Settings, Source, config_paths,
    effective_config, load_settings,
};
pub use crate::sandbox::{SandboxConfig, SandboxSetting};
pub use crate::sections::{
    DEFAULT_REPAIR_ROUNDS, GoalConfig, OracleConfig, ReviewConfig, RunConfig,
};
pub use crate::trust::TrustConfig;
