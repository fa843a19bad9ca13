//! The JSON Schema of every `--json` document, for `cargo xtask codegen`.

use schemars::schema_for;

use crate::json::{
    AgentsDocument, BudgetDocument, ConfigDocument, ConfigPathDocument, ExportDocument,
    GatesListDocument, GatesRunDocument, KeyDocument, ListDocument, ProofDiffDocument,
    RebuildDocument, ReplayDocument, RunDocument, ShowDocument, StatusDocument, StopDocument,
    VerifyDocument, WorktreeGcDocument, WorktreeListDocument,
};

/// Returns the JSON Schema of every `--json` document, by document name.
pub fn json_schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("run", schema_for!(RunDocument<'static>)),
        ("status", schema_for!(StatusDocument<'static>)),
        ("list", schema_for!(ListDocument<'static>)),
        ("show", schema_for!(ShowDocument<'static>)),
        ("stop", schema_for!(StopDocument<'static>)),
        ("budget", schema_for!(BudgetDocument<'static>)),
        ("agents", schema_for!(AgentsDocument)),
        ("worktree-list", schema_for!(WorktreeListDocument)),
        ("worktree-gc", schema_for!(WorktreeGcDocument)),
        ("gates-list", schema_for!(GatesListDocument<'static>)),
        ("gates-run", schema_for!(GatesRunDocument<'static>)),
        ("config-show", schema_for!(ConfigDocument<'static>)),
        ("config-path", schema_for!(ConfigPathDocument<'static>)),
        ("proof-verify", schema_for!(VerifyDocument)),
        ("proof-rebuild", schema_for!(RebuildDocument)),
        ("proof-export", schema_for!(ExportDocument)),
        ("proof-diff", schema_for!(ProofDiffDocument)),
        ("key-generate", schema_for!(KeyDocument)),
        ("replay", schema_for!(ReplayDocument<'static>)),
    ]
}
