//! The documents of the machine and the checkout: `omk agents`, `worktree`, `gates` and `config`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Serialize;

use omk_config::{ConfigFile, Layer, Settings, Source};
use omk_events::{GateFinished, GateKind};

use crate::json::SCHEMA_VERSION;

/// `omk agents`: the agent programs found on this machine.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct AgentsDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// One entry per program omk looks for.
    pub(crate) agents: Vec<AgentEntry>,
}

/// One agent program in [`AgentsDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct AgentEntry {
    /// The program's name: kimi, claude or codex.
    pub(crate) program: String,
    /// Where it was found on PATH.
    pub(crate) path: Option<PathBuf>,
    /// The version it reported.
    pub(crate) version: Option<String>,
    /// The version omk's tests run against the real program.
    pub(crate) tested_version: Option<String>,
    /// supported, unsupported or missing.
    pub(crate) status: String,
    /// The `--agent` values that drive it.
    pub(crate) agents: Vec<String>,
    /// Why, in a sentence.
    pub(crate) note: String,
}

/// `omk worktree list`: the repository's linked worktrees.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct WorktreeListDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The worktrees.
    pub(crate) worktrees: Vec<WorktreeEntry>,
}

/// One worktree in [`WorktreeListDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct WorktreeEntry {
    /// Its path, relative to the repository root when inside it.
    pub(crate) path: String,
    /// Its branch; none when detached.
    pub(crate) branch: Option<String>,
    /// Its HEAD commit.
    pub(crate) head: Option<String>,
    /// Why it is locked, when it is.
    pub(crate) lock: Option<String>,
    /// Whether its directory is gone, so git can prune it.
    pub(crate) prunable: bool,
}

/// `omk worktree gc`: what was (or would be) removed, and why the rest stays.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct WorktreeGcDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// Whether this was `--dry-run`.
    pub(crate) dry_run: bool,
    /// One entry per omk worktree.
    pub(crate) worktrees: Vec<GcItem>,
}

/// One worktree in [`WorktreeGcDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GcItem {
    /// Its path, relative to the repository root when inside it.
    pub(crate) path: String,
    /// The goal it belongs to.
    pub(crate) goal: String,
    /// Its branch.
    pub(crate) branch: Option<String>,
    /// removed, would_remove or kept.
    pub(crate) action: &'static str,
    /// Why it was kept.
    pub(crate) reason: Option<String>,
}

/// `omk gates list`: the gates of the checkout and where each comes from.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GatesListDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The repository's root.
    pub(crate) repo_root: &'a PathBuf,
    /// Every gate, configured or detected, with whether it runs.
    pub(crate) gates: Vec<GateEntry>,
}

/// One gate in [`GatesListDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GateEntry {
    /// The gate's name.
    pub(crate) name: String,
    /// What it checks.
    pub(crate) kind: GateKind,
    /// Its command line.
    pub(crate) command: Vec<String>,
    /// Whether it must pass.
    pub(crate) required: bool,
    /// How long it may run, in seconds.
    pub(crate) timeout_secs: u64,
    /// The directory it runs in, relative to the checkout.
    pub(crate) cwd: Option<PathBuf>,
    /// Variables it runs with, on top of omk's environment.
    pub(crate) env: BTreeMap<String, String>,
    /// Globs of the files whose contents key its cache entry.
    pub(crate) inputs: Vec<String>,
    /// Whether passing with no tests is allowed.
    pub(crate) allow_no_tests: bool,
    /// Whether `omk run` and `omk gates run` run it.
    pub(crate) runs: bool,
    /// Why it does not run, when it does not.
    pub(crate) skipped_because: Option<String>,
    /// configured, detected or command_line.
    pub(crate) source: &'static str,
    /// Its line in omk.toml, when configured.
    pub(crate) config_line: Option<usize>,
    /// The detected gate it replaces, when configured over one.
    pub(crate) replaces_detected: Option<String>,
    /// Why it was detected, when detected.
    pub(crate) detected_because: Option<String>,
}

/// `omk gates run`: the result of each gate.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GatesRunDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The run's id.
    pub(crate) run_id: &'a str,
    /// `.omk/gate-runs/<run-id>`, where the logs are.
    pub(crate) run_dir: &'a PathBuf,
    /// Whether every required gate passed and the tests were counted (`tests_shortfall` is null).
    pub(crate) passed: bool,
    /// One result per gate, in spec order.
    pub(crate) gates: Vec<GateRunEntry<'a>>,
    /// Why the run does not show that tests ran (a required test gate passed without a count
    /// omk reads, or none counted a test), the rule a proof applies; `null` when it does.
    pub(crate) tests_shortfall: Option<&'a str>,
}

/// One gate in [`GatesRunDocument`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GateRunEntry<'a> {
    /// Whether it passed.
    pub(crate) passed: bool,
    /// Why it failed, when it did.
    pub(crate) failure: Option<String>,
    /// Its log.
    pub(crate) log: Option<PathBuf>,
    /// Where its result came from when the cache had it, or why the cache was not used.
    pub(crate) cache_note: Option<&'a str>,
    /// The result, as a `gate_finished` event records it.
    pub(crate) result: &'a GateFinished,
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
