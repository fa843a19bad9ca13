//! The documents `--json` prints: one typed struct per command, each with a `schema_version`.
//!
//! Every document is a struct deriving `Serialize` (and `JsonSchema` with the `schema`
//! feature), registered in [`json_schemas`], so `cargo xtask codegen` writes its JSON Schema to
//! `docs/reference/json/<name>.schema.json` and checks it stays fresh.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use serde::Serialize;

use omk_attest::Check;
use omk_config::{ConfigFile, Layer, Settings, Source};
use omk_events::{GateFinished, GateKind};
use omk_goal::{GoalPaths, GoalStatus, Rebuild, RunOutcome};
use omk_proof::{BudgetEvidence, Proof, ProofDiff, ProofStatus, Readiness, TeamEvidence};

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

/// One goal in `omk status`, `omk list` and `omk show`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GoalSummary<'a> {
    /// The goal's id.
    pub(crate) goal_id: &'a str,
    /// The prompt the goal was created with.
    pub(crate) prompt: &'a str,
    /// The proof's status.
    pub(crate) status: ProofStatus,
    /// The proof's readiness: the first rung of the ladder the goal has not cleared.
    pub(crate) readiness: Readiness,
    /// The proof's one-sentence summary.
    pub(crate) summary: &'a str,
    /// The step the goal is at: the next one to run, or why it stopped.
    pub(crate) step: &'a str,
    /// Whether an omk process is running the goal now.
    pub(crate) running: bool,
    /// The pid of that process, when it recorded one.
    pub(crate) pid: Option<u32>,
    /// When the goal was created (RFC 3339, UTC, milliseconds).
    #[serde(with = "omk_events::timestamp")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub(crate) started_at: DateTime<Utc>,
    /// Milliseconds from the first to the last event.
    pub(crate) elapsed_ms: u64,
    /// The budget: limits, use, and what ran out.
    pub(crate) budget: &'a BudgetEvidence,
    /// The goal's branch, once its worktree exists.
    pub(crate) branch: Option<&'a str>,
    /// The proposed tree, once the change is captured.
    pub(crate) tree_id: Option<&'a str>,
    /// The command that moves the goal on, when there is one.
    pub(crate) next_command: Option<String>,
}

impl<'a> GoalSummary<'a> {
    pub(crate) fn new(status: &'a GoalStatus) -> Self {
        let proof = &status.proof;
        Self {
            goal_id: proof.goal_id.as_str(),
            prompt: &proof.task.prompt,
            status: proof.status,
            readiness: proof.readiness,
            summary: &proof.summary,
            step: &status.step,
            running: status.running.is_some(),
            pid: status.running.flatten(),
            started_at: proof.task.started_at,
            elapsed_ms: proof.task.elapsed_ms,
            budget: &status.budget,
            branch: proof.git.branch.as_deref(),
            tree_id: proof.git.tree_id.as_deref(),
            next_command: crate::render::next_command(proof),
        }
    }
}

/// `omk status`: one goal.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct StatusDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal: GoalSummary<'a>,
    /// A team goal's task graph, slices and merge queue, as in its proof; absent for a single
    /// run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) team: Option<&'a TeamEvidence>,
}

/// `omk list`: every goal of the repository, oldest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ListDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goals.
    pub(crate) goals: Vec<GoalSummary<'a>>,
}

/// `omk show`: one goal and its proof.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ShowDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal: GoalSummary<'a>,
    /// Its proof, folded from the log as it is now.
    pub(crate) proof: &'a Proof,
}

/// `omk pause` and `omk cancel`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct StopDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal_id: &'a str,
    /// `paused` or `cancelled`.
    pub(crate) action: &'a str,
    /// Whether a live run was stopped (otherwise the stop was recorded in the log directly).
    pub(crate) was_running: bool,
    /// The pid of the run that stopped, when it recorded one.
    pub(crate) pid: Option<u32>,
    /// The proof's status afterwards.
    pub(crate) status: ProofStatus,
}

/// `omk budget add`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct BudgetDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal_id: &'a str,
    /// The budget with its new limits.
    pub(crate) budget: &'a BudgetEvidence,
}

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
    /// Whether every required gate passed.
    pub(crate) passed: bool,
    /// One result per gate, in spec order.
    pub(crate) gates: Vec<GateRunEntry<'a>>,
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

/// One check of `omk proof verify`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct CheckDocument {
    /// What was checked: `log`, `proof`, `artifact <path>`, `tree`, `rerun <gate>`, or for a
    /// bundle `envelope <n> (<what>)`, `subject`, `inputs`, `verdict`.
    pub(crate) name: String,
    /// `passed`, `failed` or `skipped` (a check that could not be made; it does not fail
    /// verification).
    pub(crate) status: &'static str,
    /// What was found; for a failure, what changed.
    pub(crate) message: String,
}

impl CheckDocument {
    pub(crate) fn new(check: &Check) -> Self {
        Self {
            name: check.name.clone(),
            status: check.status.word(),
            message: check.message.clone(),
        }
    }
}

/// `omk proof verify`: every check and the verdict.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct VerifyDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal whose files were checked, when a goal was.
    pub(crate) goal_id: Option<String>,
    /// The bundle that was checked, with `--bundle`.
    pub(crate) bundle: Option<PathBuf>,
    /// The id of the key the bundle's signatures were checked with, with `--bundle`.
    pub(crate) keyid: Option<String>,
    /// Whether no check failed; the exit code is 0 exactly then.
    pub(crate) verified: bool,
    /// Every check, in the order made.
    pub(crate) checks: Vec<CheckDocument>,
}

/// Where `omk proof rebuild` found the first difference.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct DifferenceDocument {
    /// The 0-based byte offset of the first differing byte.
    pub(crate) byte: usize,
    /// The 1-based line of that byte.
    pub(crate) line: usize,
    /// The first JSON field whose value differs, such as `gates[0].passed`.
    pub(crate) field: Option<String>,
    /// Its value in proof.json, as compact JSON.
    pub(crate) stored: Option<String>,
    /// Its value in the fold of the log, as compact JSON.
    pub(crate) rebuilt: Option<String>,
    /// The difference as a sentence.
    pub(crate) message: String,
}

/// `omk proof rebuild`: whether proof.json is the fold of the log.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct RebuildDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal's id.
    pub(crate) goal_id: String,
    /// The goal's proof file.
    pub(crate) proof_file: PathBuf,
    /// Whether proof.json exists.
    pub(crate) stored: bool,
    /// Whether proof.json equals the fold of the log byte for byte; the exit code is 0
    /// exactly then.
    pub(crate) identical: bool,
    /// The first difference, when there is one.
    pub(crate) difference: Option<DifferenceDocument>,
}

impl RebuildDocument {
    pub(crate) fn new(paths: &GoalPaths, rebuild: &Rebuild) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            goal_id: paths.goal_id.to_string(),
            proof_file: paths.proof.clone(),
            stored: rebuild.stored,
            identical: rebuild.identical(),
            difference: rebuild.difference.as_ref().map(|it| DifferenceDocument {
                byte: it.byte,
                line: it.line,
                field: it.field.clone(),
                stored: it.stored.clone(),
                rebuilt: it.rebuilt.clone(),
                message: it.describe(),
            }),
        }
    }
}

/// `omk proof export` to a file: what was written.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ExportDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal's id.
    pub(crate) goal_id: String,
    /// `in-toto` or `markdown`.
    pub(crate) format: &'static str,
    /// The file written.
    pub(crate) out: PathBuf,
    /// Its size in bytes.
    pub(crate) bytes: usize,
    /// The number of DSSE envelopes, for in-toto.
    pub(crate) envelopes: Option<usize>,
    /// The id of the key that signed them (SHA-256 of the raw public key, hex), if signed.
    pub(crate) keyid: Option<String>,
}

/// `omk key generate`: the key files written.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct KeyDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The private key, PKCS#8 PEM, mode 0600.
    pub(crate) private_key: PathBuf,
    /// The public key, SubjectPublicKeyInfo PEM.
    pub(crate) public_key: PathBuf,
    /// The key id: the SHA-256 of the raw 32-byte public key, hex.
    pub(crate) keyid: String,
}

/// A value before and after.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Change<T> {
    /// In the earlier proof.
    pub(crate) before: T,
    /// In the current proof.
    pub(crate) after: T,
}

impl<T> From<(T, T)> for Change<T> {
    fn from((before, after): (T, T)) -> Self {
        Self { before, after }
    }
}

/// A proposed gate whose result changed.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct GateChangeDocument {
    /// The gate.
    pub(crate) name: String,
    /// Its outcome in the earlier proof; `null` when it had not run.
    pub(crate) before: Option<String>,
    /// Its outcome now; `null` when it no longer runs.
    pub(crate) after: Option<String>,
}

/// The budget used since the earlier proof.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct BudgetDeltaDocument {
    /// Wall-clock milliseconds.
    pub(crate) wall_ms: i64,
    /// Tokens.
    pub(crate) tokens: i64,
    /// Agent turns.
    pub(crate) turns: i64,
    /// US dollars, when both proofs know their cost.
    pub(crate) usd: Option<f64>,
}

/// `omk proof show --since`: what changed between an earlier proof of a goal and its current
/// one. Unchanged parts are `null` or empty.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ProofDiffDocument {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal's id.
    pub(crate) goal_id: String,
    /// The earlier proof, as given to --since.
    pub(crate) since: String,
    /// The number of events the earlier and the current proof were folded from.
    pub(crate) events: Change<u64>,
    /// The status, when it changed.
    pub(crate) status: Option<Change<ProofStatus>>,
    /// The readiness, when it changed.
    pub(crate) readiness: Option<Change<Readiness>>,
    /// The proposed tree, when it changed.
    pub(crate) tree: Option<Change<Option<String>>>,
    /// Gaps of the current proof that the earlier one had not.
    pub(crate) gaps_added: Vec<String>,
    /// Gaps of the earlier proof that are closed now.
    pub(crate) gaps_removed: Vec<String>,
    /// Proposed gates whose outcome changed, appeared or disappeared.
    pub(crate) gates: Vec<GateChangeDocument>,
    /// The budget used since the earlier proof.
    pub(crate) budget: BudgetDeltaDocument,
}

impl ProofDiffDocument {
    pub(crate) fn new(goal_id: &str, since: &str, diff: &ProofDiff) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            goal_id: goal_id.to_owned(),
            since: since.to_owned(),
            events: Change::from(diff.events),
            status: diff.status.map(Change::from),
            readiness: diff.readiness.map(Change::from),
            tree: diff.tree.clone().map(Change::from),
            gaps_added: diff.gaps_added.clone(),
            gaps_removed: diff.gaps_removed.clone(),
            gates: diff
                .gates
                .iter()
                .map(|it| GateChangeDocument {
                    name: it.name.clone(),
                    before: it.before.clone(),
                    after: it.after.clone(),
                })
                .collect(),
            budget: BudgetDeltaDocument {
                wall_ms: diff.budget.wall_ms,
                tokens: diff.budget.tokens,
                turns: diff.budget.turns,
                usd: diff.budget.usd,
            },
        }
    }
}

/// Returns the JSON Schema of every `--json` document, by document name.
#[cfg(feature = "schema")]
pub fn json_schemas() -> Vec<(&'static str, schemars::Schema)> {
    use schemars::schema_for;
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
    ]
}
