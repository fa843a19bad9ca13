//! The documents of proofs: `omk proof show|verify|rebuild|export` and `omk key generate`.

use std::path::PathBuf;

use serde::Serialize;

use omk_attest::Check;
use omk_goal::{GoalPaths, Rebuild};
use omk_proof::{Proof, ProofDiff, ProofStatus, Readiness};

use crate::json::SCHEMA_VERSION;

/// Returns `omk proof show --json`: the proof as proof.json holds it, with `schema_version` as
/// its first member.
///
/// The proof's own bytes follow unchanged, so whatever reads proof.json reads this too. The
/// member is written in front of them because the derive that would merge it in,
/// `#[serde(flatten)]`, is banned for documented formats.
pub(crate) fn proof_show_json(proof: &Proof) -> String {
    let json = proof.to_json();
    let members = json.strip_prefix('{').expect("a proof serializes to a JSON object");
    format!("{{\n  \"schema_version\": {SCHEMA_VERSION},{members}")
}

/// One check of `omk proof verify`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct CheckDocument {
    /// What was checked: `log`, `proof`, `artifact <path>`, `tree`, `rerun <gate>`, or for a
    /// bundle `envelope <n> (<what>)`, `subject`, `inputs`, `verdict`.
    pub(crate) name: String,
    /// `passed`, `failed`, `skipped` (a check that could not be made) or `warning` (a check
    /// that held only in part, such as a missing anchor of the log); only `failed` fails
    /// verification.
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
