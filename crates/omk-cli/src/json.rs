//! The documents `--json` prints: one typed struct per command, each with a `schema_version`.
//!
//! Every document is a struct deriving `Serialize` (and `JsonSchema` with the `schema`
//! feature), registered in [`json_schemas`], so `cargo xtask codegen` writes its JSON Schema to
//! `docs/reference/json/<name>.schema.json` and checks it stays fresh.

use std::path::PathBuf;

use serde::Serialize;

use omk_goal::RunOutcome;
use omk_proof::Proof;

/// The version of the JSON documents `--json` prints. Adding a field keeps it; renaming or
/// removing one, or changing its meaning, bumps it.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Returns `document` as pretty JSON with a final newline.
pub(crate) fn to_string<T: Serialize>(document: &T) -> String {
    let mut text = serde_json::to_string_pretty(document)
        .expect("a --json document serializes: it is plain data with string keys");
    text.push('\n');
    text
}

/// `omk run`, `omk resume` and `omk demo`: the finished run and its proof.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct RunDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal's id.
    pub(crate) goal_id: &'a str,
    /// `.omk/goals/<goal-id>`.
    pub(crate) goal_dir: &'a PathBuf,
    /// The goal's event log.
    pub(crate) events: &'a PathBuf,
    /// The goal's proof file.
    pub(crate) proof_file: &'a PathBuf,
    /// The goal's worktree.
    pub(crate) worktree: &'a PathBuf,
    /// The proof, as `omk proof show --json` prints it.
    pub(crate) proof: &'a Proof,
}

impl<'a> RunDocument<'a> {
    pub(crate) fn new(outcome: &'a RunOutcome) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            goal_id: outcome.proof.goal_id.as_str(),
            goal_dir: &outcome.paths.goal_dir,
            events: &outcome.paths.events,
            proof_file: &outcome.paths.proof,
            worktree: &outcome.paths.worktree,
            proof: &outcome.proof,
        }
    }
}

/// Returns the JSON Schema of every `--json` document, by document name.
#[cfg(feature = "schema")]
pub fn json_schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![("run", schemars::schema_for!(RunDocument<'static>))]
}
