//! Trust in a goal another machine proved: the keys `[trust]` in `omk.toml` lists, and the
//! checks of a goal's signed bundle (`proof.intoto.jsonl`) against them and against the goal's
//! log and proof, which `omk proof verify` and `omk accept` make.
//!
//! A fetched goal (its directory has `origin.json`, written by `omk fetch`) must carry a bundle
//! signed by a listed key when `[trust] require_signature` holds (the default once a key is
//! listed). The bundle's verdict must speak for this goal's log (its event count and head hash)
//! and for the commit the proof of that log records, so a bundle swapped in from another goal,
//! or a log and proof swapped under a bundle, fail. Events after the signed ones fail a fetched
//! goal unless they record a decision made here (`omk accept` appends to the fetched log), and
//! always when they came with the evidence (before the count `omk fetch` recorded in
//! `origin.json`): no trusted key vouches for them. A local goal's bundle is checked the same
//! way when `[trust]` lists keys; a local goal without a bundle needs none.

use std::{fs, io, path::Path};

use omk_attest::{Check, CheckStatus, PublicKey};
use omk_config::{ConfigEnv, TrustConfig};
use omk_events::short_id;
use omk_proof::Proof;

use crate::{
    check::anchors::{LogEnd, disagreement},
    error::Error,
    layout::GoalPaths,
};

/// The keys omk trusts, read from `[trust]` of the user's checkout.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The listed keys, in the order `omk.toml` names them.
    pub keys: Vec<TrustedKey>,
    /// Whether a fetched goal must carry a bundle signed by one of them.
    pub require_signature: bool,
}

/// A key `[trust] keys` lists.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The file, as `omk.toml` names it (relative to the repository root).
    pub path: String,
    /// The key.
    pub key: PublicKey,
}

/// Reads `[trust]` from `omk.toml` in the checkout containing `repo_dir` (never from a goal's
/// branch) and loads every key it lists.
///
/// A key file that is missing or not a public key is an error naming the file and the fix.
pub fn load_trust(repo_dir: &Path, config: &ConfigEnv) -> Result<Trust, Error> {
    let repo = omk_worktree::open(repo_dir)?;
    let settings = omk_config::load_settings(Some(&repo.root), config, &[])?;
    trust_from(&repo.root, &settings.trust)
}

/// Loads the keys `config` lists, relative to `repo_root`.
pub(crate) fn trust_from(repo_root: &Path, config: &TrustConfig) -> Result<Trust, Error> {
    let keys = config
        .keys
        .iter()
        .map(|path| {
            let key = omk_attest::load_public_key(&repo_root.join(path))
                .map_err(|source| Error::TrustedKey { path: path.clone(), source })?;
            Ok(TrustedKey { path: path.clone(), key })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Trust { keys, require_signature: config.requires_signature() })
}

/// Returns whether the goal was fetched from another machine: its directory has `origin.json`.
pub fn is_fetched(paths: &GoalPaths) -> bool {
    paths.origin().is_file()
}

/// The goal's bundle, read before the log so one pass over the log collects the hash of the
/// event its verdict names.
pub(crate) struct GoalBundle {
    text: Option<String>,
    log: Option<omk_attest::BundleLog>,
}

impl GoalBundle {
    /// Reads `proof.intoto.jsonl` of the goal, when there is one.
    pub(crate) fn read(paths: &GoalPaths) -> Result<Self, Error> {
        let path = paths.bundle();
        let text = match fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(Error::ReadInput { path, source }),
        };
        let log = text.as_deref().and_then(omk_attest::bundle_log);
        Ok(Self { text, log })
    }

    /// Returns the position of the log's event the verdict names, when it names one.
    pub(crate) fn wanted(&self) -> Option<u64> {
        self.log.as_ref().map(|it| it.events)
    }
}

/// What the bundle checks compare with.
pub(crate) struct Against<'a> {
    /// The goal.
    pub paths: &'a GoalPaths,
    /// The keys.
    pub trust: &'a Trust,
    /// Whether the goal was fetched.
    pub fetched: bool,
    /// The log's end, when the log verifies.
    pub log: Option<&'a LogEnd>,
    /// The fold of the whole log, when the log verifies.
    pub proof: Option<&'a Proof>,
}

/// Returns the checks of the goal's bundle: who signed it, what its verdict is about, and the
/// log it speaks for; none for a local goal without a bundle, or with one and no `[trust]`.
pub(crate) fn check_bundle(
    bundle: &GoalBundle,
    against: &Against<'_>,
) -> Result<Vec<Check>, Error> {
    let Against { trust, fetched, .. } = *against;
    let Some(text) = bundle.text.as_deref() else {
        if !fetched {
            return Ok(Vec::new());
        }
        let (status, why) = if trust.require_signature {
            (CheckStatus::Failed, "[trust] in omk.toml requires a signed bundle")
        } else {
            (CheckStatus::Warning, "who proved the goal is not checked")
        };
        return Ok(vec![Check::new(
            "signature",
            status,
            format!(
                "the goal has no signed bundle (proof.intoto.jsonl): {why}; the machine that ran it pushes one with `omk push --sign-key FILE`"
            ),
        )]);
    };
    if !fetched && trust.keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<PublicKey> = trust.keys.iter().map(|it| it.key.clone()).collect();
    let signers = omk_attest::bundle_signers(text, &keys);
    // A lacking signature fails when a signature is required, or when keys are listed and the
    // bundle names another: an unknown key is never silently accepted.
    let strict = trust.require_signature || !trust.keys.is_empty();
    let unchecked = if strict { CheckStatus::Failed } else { CheckStatus::Warning };
    let listed = || {
        let names: Vec<String> = trust
            .keys
            .iter()
            .map(|it| format!("{} (key {})", it.path, short_id(it.key.keyid())))
            .collect();
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    };
    let mut checks = Vec::new();
    let commit = signed_commit(bundle, against)?;
    match signers.verified_by.and_then(|idx| trust.keys.get(idx)) {
        Some(trusted) => {
            checks.push(Check::new(
                "signature",
                CheckStatus::Passed,
                format!(
                    "the bundle's verdict is signed by key {} ({}), which [trust] keys lists",
                    trusted.key.keyid(),
                    trusted.path
                ),
            ));
            let found = omk_attest::verify_bundle(text, &trusted.key, commit.as_deref(), false);
            checks.extend(found.into_iter().map(|it| Check {
                name: format!("bundle {}", it.name),
                ..it
            }));
        }
        None if signers.signatures == 0 => checks.push(Check::new(
            "signature",
            if trust.require_signature { CheckStatus::Failed } else { CheckStatus::Warning },
            "the bundle (proof.intoto.jsonl) is not signed, so who proved the goal is not known; export it with --sign-key".to_owned(),
        )),
        None => {
            let trusted_named: Vec<&TrustedKey> = trust
                .keys
                .iter()
                .filter(|it| signers.named.iter().any(|named| named == it.key.keyid()))
                .collect();
            let message = if let Some(trusted) = trusted_named.first() {
                format!(
                    "the bundle's verdict names key {} ({}) but its signature does not verify with it: the bundle was changed after it was signed",
                    trusted.key.keyid(),
                    trusted.path
                )
            } else if signers.named.is_empty() {
                format!(
                    "no key [trust] keys lists verifies the bundle's signature, which names no key id; [trust] keys: {}",
                    listed()
                )
            } else {
                format!(
                    "the bundle is signed by key {}, which [trust] keys in omk.toml does not list (it lists {}); add that machine's public key there if you trust it",
                    signers.named.join(", key "),
                    listed()
                )
            };
            checks.push(Check::new("signature", unchecked, message));
        }
    }
    // A fetched goal's events up to the count `omk fetch` recorded came with the evidence.
    let fetched_events = if against.fetched {
        crate::remote::origin::read_origin(against.paths)?.and_then(|it| it.fetched_events)
    } else {
        None
    };
    checks.push(check_bundle_log(bundle, against, fetched_events));
    Ok(checks)
}

/// Returns the commit the bundle's verdict must be about: the one the proof of the log as the
/// bundle saw it records (the whole log, or the prefix its digest names when the log grew since,
/// by an acceptance here), when that log prefix exists.
fn signed_commit(bundle: &GoalBundle, against: &Against<'_>) -> Result<Option<String>, Error> {
    let (Some(log), Some(proof)) = (against.log, against.proof) else { return Ok(None) };
    let events = bundle.log.as_ref().map_or(log.events, |it| it.events);
    if events >= log.events {
        return Ok(proof.git.head_commit.clone());
    }
    let read = omk_events::read_log(&against.paths.events)?;
    let prefix =
        read.events.get(..usize::try_from(events).unwrap_or(usize::MAX)).unwrap_or_default();
    Ok(omk_proof::synthesize(prefix)?.git.head_commit)
}

/// Returns the check of the log digest the bundle's verdict records against the goal's log;
/// `fetched_events` is how many events a fetched goal's log had when it was fetched, when known.
fn check_bundle_log(
    bundle: &GoalBundle,
    against: &Against<'_>,
    fetched_events: Option<u64>,
) -> Check {
    let name = "bundle log";
    let Some(signed) = &bundle.log else {
        return Check::new(
            name,
            if against.fetched { CheckStatus::Failed } else { CheckStatus::Warning },
            "the bundle's verdict records no log digest (an omk before log anchors exported it), so it does not say which log it speaks for".to_owned(),
        );
    };
    if signed.goal_id != against.paths.goal_id.as_str() {
        return Check::new(
            name,
            CheckStatus::Failed,
            format!(
                "the bundle is about goal {}, not goal {}: it was swapped in from another goal",
                signed.goal_id, against.paths.goal_id
            ),
        );
    }
    let Some(log) = against.log else {
        return Check::new(
            name,
            CheckStatus::Skipped,
            "the log does not verify, so the bundle's log digest is not compared with it"
                .to_owned(),
        );
    };
    match disagreement(signed.events, &signed.head, log) {
        Some(problem) => Check::new(
            name,
            CheckStatus::Failed,
            format!("the bundle's verdict {problem}: the log and proof are not the ones it signed"),
        ),
        // Events the evidence itself carried after the signed ones: no trusted key vouches for
        // them, whatever they record (a decision included).
        None if fetched_events.is_some_and(|fetched| fetched > signed.events) => Check::new(
            name,
            CheckStatus::Failed,
            format!(
                "the bundle's verdict records {} events, head {}; the log came with {} more when it was fetched: they were added after the bundle was signed, and no trusted key vouches for them",
                signed.events,
                short_id(&signed.head),
                fetched_events.unwrap_or_default() - signed.events
            ),
        ),
        // A fetched goal's events after the signed ones are this clone's own only when they
        // record a decision here (an acceptance or rejection, with what it ran); any other tail
        // came with the evidence and no trusted key vouches for it.
        None if log.events > signed.events
            && against.fetched
            && against.proof.is_none_or(|it| it.integration.is_none()) =>
        {
            Check::new(
                name,
                CheckStatus::Failed,
                format!(
                    "the bundle's verdict records {} events, head {}; the log has {} more, and no acceptance or rejection was recorded here: they were added after the bundle was signed, and no trusted key vouches for them",
                    signed.events,
                    short_id(&signed.head),
                    log.events - signed.events
                ),
            )
        }
        None if log.events > signed.events => Check::new(
            name,
            CheckStatus::Warning,
            format!(
                "the bundle's verdict records {} events, head {}; the log has {} more since (recorded here), which the bundle does not speak for",
                signed.events,
                short_id(&signed.head),
                log.events - signed.events
            ),
        ),
        None => Check::new(
            name,
            CheckStatus::Passed,
            format!(
                "the bundle's verdict records {} events, head {}, as the log has",
                signed.events,
                short_id(&signed.head)
            ),
        ),
    }
}
