//! The documents `--json` prints: one typed struct per command, each with a `schema_version`.
//!
//! Every document is a struct deriving `Serialize` (and `JsonSchema` with the `schema`
//! feature), registered in [`json_schemas`], so `cargo xtask codegen` writes its JSON Schema to
//! `docs/reference/json/<name>.schema.json` and checks it stays fresh.

use std::path::{Path, PathBuf};

use serde::Serialize;

use omk_goal::{ConfigFile, Layer, RunOutcome, Settings, Source};
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

/// `omk config show`: the effective configuration, each value with its source.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ConfigDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The config files consulted, in the order their layers apply (defaults come first, flags
    /// last).
    pub(crate) files: Vec<ConfigFileJson<'a>>,
    /// Every value that is set, section by section.
    pub(crate) values: Vec<ConfigValueJson<'a>>,
}

/// `omk config path`: the config files omk reads.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ConfigPathDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The config files, in the order their layers apply.
    pub(crate) files: Vec<ConfigFileJson<'a>>,
}

/// A config file omk consults.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ConfigFileJson<'a> {
    /// `user` (the user config) or `repo` (`omk.toml` at the repository root).
    pub(crate) layer: LayerJson,
    /// The file's path.
    pub(crate) path: &'a Path,
    /// How sources name it: `omk.toml`, `~/.config/omk/config.toml`.
    pub(crate) name: &'a str,
    /// Whether it exists; a missing file sets nothing.
    pub(crate) exists: bool,
}

/// The layer of a config file.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum LayerJson {
    /// The user config.
    User,
    /// `omk.toml` at the repository root.
    Repo,
}

/// One value of the effective configuration.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ConfigValueJson<'a> {
    /// The key as TOML writes it: `agent.default`, `agent.programs.kimi`, `prices.kimi`; for an
    /// item of `[[gates]]` or `[[approvals]]`, the array's name.
    pub(crate) key: String,
    /// Whether the value is one item of an array of tables (the items keep their order).
    pub(crate) item: bool,
    /// The value, as JSON.
    pub(crate) value: serde_json::Value,
    /// Where the value comes from.
    pub(crate) source: SourceJson<'a>,
}

/// Where a value comes from.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum SourceJson<'a> {
    /// omk's built-in default.
    Default,
    /// A config file.
    File {
        /// The file's path.
        path: &'a Path,
        /// How it is named: `omk.toml`, `~/.config/omk/config.toml`.
        name: &'a str,
        /// The 1-based line of the key.
        line: usize,
    },
    /// A command-line flag.
    Flag {
        /// The flag: `--agent`.
        flag: &'a str,
    },
}

impl<'a> ConfigDocument<'a> {
    pub(crate) fn new(settings: &'a Settings) -> Self {
        let values = settings
            .entries
            .iter()
            .map(|entry| ConfigValueJson {
                key: entry.key(),
                item: entry.item,
                value: serde_json::to_value(&entry.value)
                    .expect("a TOML value converts to JSON: its tables have string keys"),
                source: match &entry.source {
                    Source::Default => SourceJson::Default,
                    Source::File { path, name, line } => {
                        SourceJson::File { path, name, line: *line }
                    }
                    Source::Flag { flag } => SourceJson::Flag { flag },
                },
            })
            .collect();
        Self { schema_version: SCHEMA_VERSION, files: config_files(&settings.files), values }
    }
}

/// Returns the files of `omk config show` and `omk config path` as JSON.
pub(crate) fn config_files(files: &[ConfigFile]) -> Vec<ConfigFileJson<'_>> {
    files
        .iter()
        .map(|file| ConfigFileJson {
            layer: match file.layer {
                Layer::User => LayerJson::User,
                Layer::Repo => LayerJson::Repo,
            },
            path: &file.path,
            name: &file.name,
            exists: file.exists,
        })
        .collect()
}

/// Returns the JSON Schema of every `--json` document, by document name.
#[cfg(feature = "schema")]
pub fn json_schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("run", schemars::schema_for!(RunDocument<'static>)),
        ("config-show", schemars::schema_for!(ConfigDocument<'static>)),
        ("config-path", schemars::schema_for!(ConfigPathDocument<'static>)),
    ]
}
