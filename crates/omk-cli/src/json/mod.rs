//! The documents `--json` prints: one typed struct per command, each with a `schema_version`.
//!
//! Every document is a struct deriving `Serialize` (and `JsonSchema` with the `schema`
//! feature), registered in [`json_schemas`], so `cargo xtask codegen` writes its JSON Schema to
//! `docs/reference/json/<name>.schema.json` and checks it stays fresh.

mod checkout;
mod goal;
mod proof;
mod remote;
mod replay;
#[cfg(feature = "schema")]
mod schemas;

pub(crate) use crate::json::checkout::*;
pub(crate) use crate::json::goal::*;
pub(crate) use crate::json::proof::*;
pub(crate) use crate::json::remote::*;
pub(crate) use crate::json::replay::*;
#[cfg(feature = "schema")]
pub use crate::json::schemas::json_schemas;
