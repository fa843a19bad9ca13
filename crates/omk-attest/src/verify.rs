//! Checking a bundle (`omk proof verify --bundle`): its envelopes, their signatures, and the
//! verdict that names the other attestations.

use std::collections::BTreeMap;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE},
};

use omk_events::short_id;
use omk_proof::intoto::{self, DsseEnvelope, Statement};

use crate::{
    check::{Check, CheckStatus},
    keys::PublicKey,
};

/// Checks a bundle: every line is a DSSE envelope of an in-toto Statement v1 signed by `key`,
/// exactly one is a verification summary, every attestation the summary names is in the bundle
/// unchanged, and the summary's subject is `commit` when given; with `require_passed`, the
/// summary's `verificationResult` must also be `PASSED` (the proof was `ready`).
pub fn verify_bundle(
    text: &str,
    key: &PublicKey,
    commit: Option<&str>,
    require_passed: bool,
) -> Vec<Check> {
    let (mut checks, read) = read_envelopes(text, key);
    let summaries: Vec<&Read> =
        read.iter().filter(|it| it.statement.predicate_type == intoto::VSA_PREDICATE).collect();
    let named = named_inputs(summaries.first().map(|it| &it.statement));
    checks.extend(read.iter().map(|it| signature_check(it, &named, key)));
    match summaries.as_slice() {
        [] => checks.push(Check::new(
            "verdict",
            CheckStatus::Failed,
            "the bundle has no verification summary (the verdict); it was removed or never exported".to_owned(),
        )),
        [summary] => {
            checks.extend(check_verdict(&summary.statement, &named, &read, commit, require_passed));
        }
        many => checks.push(Check::new(
            "verdict",
            CheckStatus::Failed,
            format!("the bundle has {} verification summaries; an omk bundle has one", many.len()),
        )),
    }
    if checks.is_empty() {
        checks.push(Check::new("bundle", CheckStatus::Failed, "the bundle is empty".to_owned()));
    }
    checks
}

/// The digest of a goal's log that a bundle's verdict records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleLog {
    /// The goal whose log it is.
    pub goal_id: String,
    /// How many events the log had.
    pub events: u64,
    /// The hash of its last event.
    pub head: String,
}

/// Returns the log digest the bundle's verification summary records; `None` when the bundle
/// has no summary with one (a bundle of an omk before log digests).
///
/// It does not check signatures: [`verify_bundle`] does, and a caller compares the digest with
/// the log only next to those checks.
pub fn bundle_log(text: &str) -> Option<BundleLog> {
    text.lines().find_map(|line| {
        let envelope: DsseEnvelope = serde_json::from_str(line).ok()?;
        let statement: Statement = serde_json::from_slice(&envelope.payload_bytes().ok()?).ok()?;
        if statement.predicate_type != intoto::VSA_PREDICATE {
            return None;
        }
        let log = statement.predicate.get(intoto::LOG_DIGEST_KEY)?;
        Some(BundleLog {
            goal_id: log.get("goal_id")?.as_str()?.to_owned(),
            events: log.get("events")?.as_u64()?,
            head: log.get("head")?.as_str()?.to_owned(),
        })
    })
}

/// The signatures of a bundle's verification summary (the verdict): the key ids they name and
/// which of the caller's keys, if any, verifies one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signers {
    /// The key ids the verdict's signatures name (an unauthenticated hint), sorted, each once.
    pub named: Vec<String>,
    /// How many signatures the verdict has.
    pub signatures: usize,
    /// The index in the caller's keys of the first key whose signature of the verdict verifies.
    pub verified_by: Option<usize>,
}

/// Returns who signed the bundle's verification summary, checked against `keys`; the other
/// envelopes' signatures are [`verify_bundle`]'s to check, with the key found here.
pub fn bundle_signers(text: &str, keys: &[PublicKey]) -> Signers {
    let mut signers = Signers::default();
    for line in text.lines() {
        let Ok(envelope) = serde_json::from_str::<DsseEnvelope>(line) else { continue };
        let Ok(payload) = envelope.payload_bytes() else { continue };
        let is_verdict = serde_json::from_slice::<Statement>(&payload)
            .is_ok_and(|it| it.predicate_type == intoto::VSA_PREDICATE);
        if !is_verdict {
            continue;
        }
        let signing_input = intoto::pae(&envelope.payload_type, &payload);
        for signature in &envelope.signatures {
            signers.signatures += 1;
            signers.named.extend(signature.keyid.clone());
            let bytes =
                STANDARD.decode(&signature.sig).or_else(|_| URL_SAFE.decode(&signature.sig));
            if signers.verified_by.is_none()
                && let Ok(bytes) = bytes
            {
                signers.verified_by =
                    keys.iter().position(|key| key.verifies(&signing_input, &bytes));
            }
        }
    }
    signers.named.sort();
    signers.named.dedup();
    signers
}

/// An in-toto statement read from a line of a bundle.
struct Read {
    /// The 1-based line.
    line: usize,
    /// The statement.
    statement: Statement,
    /// The SHA-256 of the envelope's payload, hex.
    digest: String,
    /// Whether a signature by the key verified.
    signed: bool,
    /// Why no signature verified, when none did.
    unsigned_reason: String,
}

/// Reads every line of the bundle as an envelope of an in-toto statement: returns a failed
/// check for each line that is not one, and the statements read, in line order.
fn read_envelopes(text: &str, key: &PublicKey) -> (Vec<Check>, Vec<Read>) {
    let mut checks = Vec::new();
    let mut read = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let number = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        match read_envelope(line, number, key) {
            Ok(statement) => read.push(statement),
            Err(check) => checks.push(check),
        }
    }
    (checks, read)
}

/// Reads the line `number` of a bundle, or returns the failed check that says why it is not an
/// envelope of an in-toto statement.
fn read_envelope(line: &str, number: usize, key: &PublicKey) -> Result<Read, Check> {
    let name = format!("envelope {number}");
    let envelope: DsseEnvelope = serde_json::from_str(line).map_err(|err| {
        Check::new(
            name.clone(),
            CheckStatus::Failed,
            format!("line {number} is not a DSSE envelope: {err}"),
        )
    })?;
    let Ok(payload) = envelope.payload_bytes() else {
        return Err(Check::new(
            name,
            CheckStatus::Failed,
            "the payload is not base64 any more: it was changed".to_owned(),
        ));
    };
    let signed = envelope.signatures.iter().any(|it| {
        let bytes = STANDARD.decode(&it.sig).or_else(|_| URL_SAFE.decode(&it.sig));
        bytes.is_ok_and(|sig| key.verifies(&intoto::pae(&envelope.payload_type, &payload), &sig))
    });
    let digest = omk_events::sha256_hex(&payload);
    match serde_json::from_slice::<Statement>(&payload) {
        Ok(statement) if statement.statement_type == intoto::STATEMENT_TYPE => {
            let unsigned_reason =
                if signed { String::new() } else { unsigned_reason(&envelope, key) };
            Ok(Read { line: number, statement, digest, signed, unsigned_reason })
        }
        Ok(statement) => Err(Check::new(
            name,
            CheckStatus::Failed,
            format!(
                "the payload's _type is {:?}, not {}",
                statement.statement_type,
                intoto::STATEMENT_TYPE
            ),
        )),
        Err(err) => Err(Check::new(
            name,
            CheckStatus::Failed,
            format!(
                "{}the payload is not an in-toto statement any more ({err}): it was changed",
                if signed { "" } else { "no signature verifies and " }
            ),
        )),
    }
}

/// Returns why no signature of `envelope` verifies with `key`.
fn unsigned_reason(envelope: &DsseEnvelope, key: &PublicKey) -> String {
    let others: Vec<&str> =
        envelope.signatures.iter().filter_map(|it| it.keyid.as_deref()).collect();
    if envelope.signatures.is_empty() {
        "the envelope is not signed; export it with --sign-key".to_owned()
    } else if !others.is_empty() && others.iter().all(|it| *it != key.keyid()) {
        format!("it is signed by key {}, not by key {}", short_id(others[0]), short_id(key.keyid()))
    } else {
        format!("the signature by key {} does not verify", short_id(key.keyid()))
    }
}

/// Returns the attestations the verdict `summary` names, by name and payload SHA-256.
fn named_inputs(summary: Option<&Statement>) -> Vec<(String, String)> {
    summary
        .and_then(|it| it.predicate.get("inputAttestations"))
        .and_then(|it| it.as_array())
        .map(|inputs| {
            inputs
                .iter()
                .filter_map(|input| {
                    Some((
                        input.get("name")?.as_str()?.to_owned(),
                        input.pointer("/digest/sha256")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the check of a statement's signature; a failure says, when it can, whether the
/// payload or the signature was changed.
fn signature_check(read: &Read, named: &[(String, String)], key: &PublicKey) -> Check {
    let name = format!("envelope {} ({})", read.line, describe(&read.statement));
    if read.signed {
        return Check::new(
            name,
            CheckStatus::Passed,
            format!(
                "signed by key {}; payload sha256 {}",
                short_id(key.keyid()),
                short_id(&read.digest)
            ),
        );
    }
    let reason = &read.unsigned_reason;
    let is_summary = read.statement.predicate_type == intoto::VSA_PREDICATE;
    let own_key = !reason.starts_with("it is signed by key") && !reason.contains("not signed");
    let which = if is_summary || named.is_empty() || !own_key {
        ""
    } else if named.iter().any(|(_, sha)| *sha == read.digest) {
        ": the payload is the one the verdict names, so the signature was changed"
    } else {
        ": the payload's sha256 is not one the verdict names, so the payload was changed"
    };
    Check::new(name, CheckStatus::Failed, format!("{reason}{which}"))
}

/// Checks the verdict: what it is about, and that every attestation it names is present.
fn check_verdict(
    summary: &Statement,
    named: &[(String, String)],
    read: &[Read],
    commit: Option<&str>,
    require_passed: bool,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let digests: BTreeMap<String, String> =
        summary.subject.first().map(|it| it.digest.clone()).unwrap_or_default();
    let subject_commit = digests.get("gitCommit");
    checks.push(match (commit, subject_commit) {
        (Some(expected), Some(found)) if expected == found => Check::new(
            "subject",
            CheckStatus::Passed,
            format!("the verdict is about commit {}, as expected", short_id(found)),
        ),
        (Some(expected), Some(found)) => Check::new(
            "subject",
            CheckStatus::Failed,
            format!(
                "the verdict is about commit {}, not commit {}",
                short_id(found),
                short_id(expected)
            ),
        ),
        (Some(expected), None) => Check::new(
            "subject",
            CheckStatus::Failed,
            format!(
                "the verdict names no commit (tree {} only), so it cannot speak for commit {}",
                digests.get("gitTree").map_or("none", |it| short_id(it)),
                short_id(expected)
            ),
        ),
        (None, found) => Check::new(
            "subject",
            CheckStatus::Skipped,
            format!(
                "no commit to compare with; the verdict is about commit {}",
                found.map_or("none", |it| short_id(it))
            ),
        ),
    });
    let missing: Vec<&(String, String)> = named
        .iter()
        .filter(|(_, sha)| !read.iter().any(|it| it.digest == *sha && it.signed))
        .collect();
    checks.push(if named.is_empty() {
        Check::new("inputs", CheckStatus::Failed, "the verdict names no attestations".to_owned())
    } else if missing.is_empty() {
        Check::new(
            "inputs",
            CheckStatus::Passed,
            format!("all {} attestations the verdict names are in the bundle, signed", named.len()),
        )
    } else {
        let list: Vec<String> = missing
            .iter()
            .map(|(name, sha)| format!("{name} (sha256 {})", short_id(sha)))
            .collect();
        Check::new(
            "inputs",
            CheckStatus::Failed,
            format!(
                "the verdict names attestations the bundle lacks signed and unchanged: {}",
                list.join(", ")
            ),
        )
    });
    let result = summary.predicate.get("verificationResult").and_then(|it| it.as_str());
    let status = summary.predicate.get("omk_status").and_then(|it| it.as_str());
    let passed = result == Some("PASSED");
    let mut message = format!(
        "verificationResult {} (proof status {})",
        result.unwrap_or("missing"),
        status.unwrap_or("unknown")
    );
    if require_passed && !passed {
        message.push_str("; --require-passed needs PASSED, a proof that was ready");
    }
    let verdict = if require_passed && !passed { CheckStatus::Failed } else { CheckStatus::Passed };
    checks.push(Check::new("verdict", verdict, message));
    checks
}

/// Returns what a statement attests, for check names.
fn describe(statement: &Statement) -> String {
    match statement.predicate_type.as_str() {
        intoto::PROVENANCE_PREDICATE => "provenance".to_owned(),
        intoto::VSA_PREDICATE => "verification summary".to_owned(),
        intoto::TEST_RESULT_PREDICATE => {
            let gate = statement.predicate.get("omk_gate").and_then(|it| it.as_str());
            format!("test result {}", gate.unwrap_or("?"))
        }
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::SigningKey;

    /// Returns a bundle line: an envelope of a statement of `predicate_type`, signed by each of
    /// `signers` (a key, and the key id its signature names).
    fn line(predicate_type: &str, signers: &[(&SigningKey, Option<&str>)]) -> String {
        let statement = Statement {
            statement_type: intoto::STATEMENT_TYPE.to_owned(),
            subject: Vec::new(),
            predicate_type: predicate_type.to_owned(),
            predicate: json!({}),
        };
        let mut envelope = DsseEnvelope::new(&statement);
        for (key, keyid) in signers {
            let signature = key.sign(&envelope.signing_input().expect("the payload is base64"));
            envelope.add_signature(keyid.map(str::to_owned), &signature);
        }
        serde_json::to_string(&envelope).expect("an envelope serializes")
    }

    #[test]
    fn the_key_that_signed_the_verdict_is_found_among_several() {
        let [alice, bob, mallory] = [1u8, 2, 3].map(|seed| SigningKey::from_seed(&[seed; 32]));
        let keys = [alice.public_key(), bob.public_key()];
        let id = |key: &SigningKey| key.keyid().to_owned();
        // Only the verdict's signature counts: the provenance is alice's, the verdict bob's.
        let bundle = format!(
            "{}\n{}\n",
            line(intoto::PROVENANCE_PREDICATE, &[(&alice, Some(alice.keyid()))]),
            line(intoto::VSA_PREDICATE, &[(&bob, Some(bob.keyid()))])
        );
        let signers = bundle_signers(&bundle, &keys);
        assert_eq!(signers, Signers { named: vec![id(&bob)], signatures: 1, verified_by: Some(1) });
        // An unknown key is named by its id and verified by none.
        let bundle = line(intoto::VSA_PREDICATE, &[(&mallory, Some(mallory.keyid()))]);
        let signers = bundle_signers(&bundle, &keys);
        assert_eq!(
            signers,
            Signers { named: vec![id(&mallory)], signatures: 1, verified_by: None }
        );
        // A signature that claims alice's key id does not make it alice's.
        let bundle = line(intoto::VSA_PREDICATE, &[(&mallory, Some(alice.keyid()))]);
        assert_eq!(bundle_signers(&bundle, &keys).verified_by, None);
        // Without a key id hint, the key that verifies is still found.
        let bundle = line(intoto::VSA_PREDICATE, &[(&mallory, None), (&alice, None)]);
        let signers = bundle_signers(&bundle, &keys);
        assert_eq!(signers, Signers { named: Vec::new(), signatures: 2, verified_by: Some(0) });
        // Unsigned.
        let bundle = line(intoto::VSA_PREDICATE, &[]);
        assert_eq!(bundle_signers(&bundle, &keys), Signers::default());
    }
}
