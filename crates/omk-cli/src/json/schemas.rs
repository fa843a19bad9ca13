//! The JSON Schema of every `--json` document, for `cargo xtask codegen`.

use schemars::{Schema, json_schema, schema_for};

use omk_proof::Proof;

use crate::json::{
    AgentsDocument, BudgetDocument, ConfigDocument, ConfigPathDocument, ExportDocument,
    FetchDocument, GatesListDocument, GatesRunDocument, KeyDocument, ListDocument,
    ProofDiffDocument, PushDocument, RebuildDocument, ReplayDocument, RunDocument, ShowDocument,
    StatusDocument, StopDocument, VerifyDocument, WorktreeGcDocument, WorktreeListDocument,
};

/// Returns the JSON Schema of every `--json` document, by document name.
pub fn json_schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("run", schema_for!(RunDocument<'static>)),
        ("status", schema_for!(StatusDocument<'static>)),
        ("list", schema_for!(ListDocument<'static>)),
        ("show", schema_for!(ShowDocument<'static>)),
        ("push", schema_for!(PushDocument<'static>)),
        ("fetch", schema_for!(FetchDocument<'static>)),
        ("stop", schema_for!(StopDocument<'static>)),
        ("budget", schema_for!(BudgetDocument<'static>)),
        ("agents", schema_for!(AgentsDocument)),
        ("worktree-list", schema_for!(WorktreeListDocument)),
        ("worktree-gc", schema_for!(WorktreeGcDocument)),
        ("gates-list", schema_for!(GatesListDocument<'static>)),
        ("gates-run", schema_for!(GatesRunDocument<'static>)),
        ("config-show", schema_for!(ConfigDocument<'static>)),
        ("config-path", schema_for!(ConfigPathDocument<'static>)),
        ("proof-show", proof_show_schema()),
        ("proof-verify", schema_for!(VerifyDocument)),
        ("proof-rebuild", schema_for!(RebuildDocument)),
        ("proof-export", schema_for!(ExportDocument)),
        ("proof-diff", schema_for!(ProofDiffDocument)),
        ("key-generate", schema_for!(KeyDocument)),
        ("replay", schema_for!(ReplayDocument<'static>)),
    ]
}

/// Returns the schema of `omk proof show --json`: the proof's, with `schema_version`.
fn proof_show_schema() -> Schema {
    let mut schema = schema_for!(Proof);
    schema.insert("title".to_owned(), "ProofShowDocument".into());
    schema.insert(
        "description".to_owned(),
        "`omk proof show --json`: the proof as proof.json holds it (see proof.schema.json), \
         with `schema_version` as its first member."
            .into(),
    );
    let version = json_schema!({
        "description": "The version of this document's shape.",
        "type": "integer",
        "format": "uint32",
        "minimum": 0
    });
    if let Some(properties) = schema.get_mut("properties").and_then(|it| it.as_object_mut()) {
        properties.insert("schema_version".to_owned(), version.into());
    }
    if let Some(required) = schema.get_mut("required").and_then(|it| it.as_array_mut()) {
        required.insert(0, "schema_version".into());
    }
    schema
}
