//! Signed in-toto bundles of a proof (`omk proof export --format in-toto`), their
//! verification (`omk proof verify --bundle`), and Ed25519 key files (`omk key generate`).
//!
//! Keys are files a standard tool can load: the private key is PKCS#8 PEM (`PRIVATE KEY`),
//! written with mode 0600, and the public key SubjectPublicKeyInfo PEM (`PUBLIC KEY`) beside it
//! with `.pub` added to the name. A key's id is the SHA-256 of its 32 raw public key bytes, in
//! lowercase hex; envelopes carry it as the DSSE `keyid` hint.

use std::{
    collections::BTreeMap,
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE},
};
use ed25519_dalek::{
    Signer, Verifier,
    pkcs8::{
        DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
        spki::der::pem::LineEnding,
    },
};

use omk_proof::{
    Proof,
    intoto::{self, DsseEnvelope, ExportOptions, Statement},
};

use crate::{
    check::verify::{Check, CheckStatus},
    error::Error,
};

/// A private key that signs envelopes.
#[derive(Debug)]
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
    keyid: String,
}

impl SigningKey {
    /// Returns the key from the 32-byte seed `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let inner = ed25519_dalek::SigningKey::from_bytes(seed);
        let keyid = key_id(&inner.verifying_key());
        Self { inner, keyid }
    }

    /// Returns the key's id: the SHA-256 of its raw public key, hex.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// Returns the matching public key.
    pub fn public_key(&self) -> PublicKey {
        let inner = self.inner.verifying_key();
        PublicKey { keyid: key_id(&inner), inner }
    }

    /// Returns the Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.inner.sign(message).to_bytes()
    }
}

/// A public key that verifies envelopes.
#[derive(Debug, Clone)]
pub struct PublicKey {
    inner: ed25519_dalek::VerifyingKey,
    keyid: String,
}

impl PublicKey {
    /// Returns the key's id: the SHA-256 of its raw public key, hex.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// Returns whether `signature` is this key's Ed25519 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.inner.verify(message, &signature).is_ok()
    }
}

/// The key files [`generate_key`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    /// The private key, PKCS#8 PEM, mode 0600.
    pub private_key: PathBuf,
    /// The public key, SubjectPublicKeyInfo PEM.
    pub public_key: PathBuf,
    /// The key's id.
    pub keyid: String,
}

/// Returns where the public key of the private key file `private_key` is kept: its name with
/// `.pub` added.
pub fn public_key_path(private_key: &Path) -> PathBuf {
    let mut name = private_key.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Generates an Ed25519 key from the operating system's randomness and writes it to
/// `private_key` (PKCS#8 PEM, mode 0600) and its public key beside it ([`public_key_path`]).
///
/// Each file is written to a temporary file and renamed into place; an existing file is
/// replaced only when `replace` is set, else nothing is written.
pub fn generate_key(private_key: &Path, replace: bool) -> Result<KeyFiles, Error> {
    let public_path = public_key_path(private_key);
    if !replace {
        for path in [private_key, public_path.as_path()] {
            if path.symlink_metadata().is_ok() {
                return Err(Error::KeyExists { path: path.to_owned() });
            }
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|err| Error::Write {
        path: private_key.to_owned(),
        source: std::io::Error::other(format!("the operating system gave no random seed: {err}")),
    })?;
    let key = SigningKey::from_seed(&seed);
    let private_pem = key.inner.to_pkcs8_pem(LineEnding::LF).map_err(|err| Error::Key {
        path: private_key.to_owned(),
        problem: format!("encode the key: {err}"),
    })?;
    let public_pem =
        key.inner.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|err| Error::Key {
            path: public_path.clone(),
            problem: format!("encode the key: {err}"),
        })?;
    write_new(private_key, private_pem.as_bytes(), 0o600, replace)?;
    write_new(&public_path, public_pem.as_bytes(), 0o644, replace)?;
    Ok(KeyFiles { private_key: private_key.to_owned(), public_key: public_path, keyid: key.keyid })
}

/// Reads an Ed25519 private key from a PKCS#8 PEM file.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, Error> {
    let text = read_key_file(path)?;
    let inner = ed25519_dalek::SigningKey::from_pkcs8_pem(&text).map_err(|err| Error::Key {
        path: path.to_owned(),
        problem: format!(
            "it is not an Ed25519 private key in PKCS#8 PEM (BEGIN PRIVATE KEY) ({err}); make one with `omk key generate`"
        ),
    })?;
    let keyid = key_id(&inner.verifying_key());
    Ok(SigningKey { inner, keyid })
}

/// Reads an Ed25519 public key from a SubjectPublicKeyInfo PEM file.
pub fn load_public_key(path: &Path) -> Result<PublicKey, Error> {
    let text = read_key_file(path)?;
    let inner = ed25519_dalek::VerifyingKey::from_public_key_pem(&text).map_err(|err| Error::Key {
        path: path.to_owned(),
        problem: format!(
            "it is not an Ed25519 public key in SubjectPublicKeyInfo PEM (BEGIN PUBLIC KEY) ({err}); `omk key generate` writes one beside the private key, named *.pub"
        ),
    })?;
    Ok(PublicKey { keyid: key_id(&inner), inner })
}

/// An exported bundle: one DSSE envelope per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The bundle's text, JSON Lines, each line ending in a newline.
    pub text: String,
    /// The number of envelopes.
    pub envelopes: usize,
    /// The id of the key that signed every envelope, if one did.
    pub keyid: Option<String>,
}

/// Returns the in-toto bundle of `proof`: SLSA provenance, a test result per proposed gate and
/// the verification summary, each a DSSE envelope on its own line, signed with `key` if given.
pub fn export_bundle(
    proof: &Proof,
    options: &ExportOptions,
    key: Option<&SigningKey>,
) -> Result<Bundle, Error> {
    let statements = intoto::statements(proof, options)?;
    let mut text = String::new();
    for statement in &statements {
        let mut envelope = DsseEnvelope::new(statement);
        if let Some(key) = key {
            let signature = key.sign(&envelope.signing_input()?);
            envelope.add_signature(Some(key.keyid.clone()), &signature);
        }
        text.push_str(
            &serde_json::to_string(&envelope).expect("an envelope serializes: it is strings"),
        );
        text.push('\n');
    }
    Ok(Bundle { text, envelopes: statements.len(), keyid: key.map(|it| it.keyid.clone()) })
}

/// Writes an export to `path` through a synced temporary file renamed over it, creating its
/// directory; the file is left with mode 0644.
pub fn write_export(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|it| !it.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|source| Error::Write { path: parent.to_owned(), source })?;
    }
    crate::files::write_atomic(path, bytes)
        .map_err(|source| Error::Write { path: path.to_owned(), source })
}

/// Returns the root of the repository containing `dir`, where `.omk/` lives.
pub fn find_repo_root(dir: &Path) -> Result<PathBuf, Error> {
    Ok(omk_worktree::open(dir)?.root)
}

/// Returns the commit `revision` (an id, a branch, any revision) names in the repository
/// containing `dir`.
pub fn resolve_commit(dir: &Path, revision: &str) -> Result<String, Error> {
    let repo = omk_worktree::open(dir)?;
    match omk_worktree::commit_tip(&repo, revision)? {
        Some(tip) => Ok(tip.commit),
        None => Err(Error::NoSuchCommit { revision: revision.to_owned(), repo: repo.root }),
    }
}

/// Reads a bundle file for [`verify_bundle`].
pub fn read_bundle(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::ReadInput { path: path.to_owned(), source })
}

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
    let mut checks = Vec::new();
    // (line, statement, its payload's sha256, whether a signature by `key` verified)
    let mut read: Vec<(usize, Statement, String, bool)> = Vec::new();
    let mut signature_failures: Vec<(usize, String)> = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let number = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        let name = format!("envelope {number}");
        let envelope: DsseEnvelope = match serde_json::from_str(line) {
            Ok(envelope) => envelope,
            Err(err) => {
                checks.push(Check::new(
                    name,
                    CheckStatus::Failed,
                    format!("line {number} is not a DSSE envelope: {err}"),
                ));
                continue;
            }
        };
        let Ok(payload) = envelope.payload_bytes() else {
            checks.push(Check::new(
                name,
                CheckStatus::Failed,
                "the payload is not base64 any more: it was changed".to_owned(),
            ));
            continue;
        };
        let signed = envelope.signatures.iter().any(|it| {
            let bytes = STANDARD.decode(&it.sig).or_else(|_| URL_SAFE.decode(&it.sig));
            bytes
                .is_ok_and(|sig| key.verifies(&intoto::pae(&envelope.payload_type, &payload), &sig))
        });
        let digest = omk_events::sha256_hex(&payload);
        match serde_json::from_slice::<Statement>(&payload) {
            Ok(statement) if statement.statement_type == intoto::STATEMENT_TYPE => {
                if !signed {
                    let others: Vec<&str> =
                        envelope.signatures.iter().filter_map(|it| it.keyid.as_deref()).collect();
                    let reason = if envelope.signatures.is_empty() {
                        "the envelope is not signed; export it with --sign-key".to_owned()
                    } else if !others.is_empty() && others.iter().all(|it| *it != key.keyid) {
                        format!(
                            "it is signed by key {}, not by key {}",
                            short(others[0]),
                            short(&key.keyid)
                        )
                    } else {
                        format!("the signature by key {} does not verify", short(&key.keyid))
                    };
                    signature_failures.push((read.len(), reason));
                }
                read.push((number, statement, digest, signed));
            }
            Ok(statement) => checks.push(Check::new(
                name,
                CheckStatus::Failed,
                format!(
                    "the payload's _type is {:?}, not {}",
                    statement.statement_type,
                    intoto::STATEMENT_TYPE
                ),
            )),
            Err(err) => checks.push(Check::new(
                name,
                CheckStatus::Failed,
                format!(
                    "{}the payload is not an in-toto statement any more ({err}): it was changed",
                    if signed { "" } else { "no signature verifies and " }
                ),
            )),
        }
    }
    let summaries: Vec<&(usize, Statement, String, bool)> =
        read.iter().filter(|it| it.1.predicate_type == intoto::VSA_PREDICATE).collect();
    let named: Vec<(String, String)> = summaries
        .first()
        .and_then(|it| it.1.predicate.get("inputAttestations"))
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
        .unwrap_or_default();
    for (idx, (number, statement, digest, signed)) in read.iter().enumerate() {
        let name = format!("envelope {number} ({})", describe(statement));
        if *signed {
            checks.push(Check::new(
                name,
                CheckStatus::Passed,
                format!("signed by key {}; payload sha256 {}", short(&key.keyid), short(digest)),
            ));
            continue;
        }
        let reason = signature_failures
            .iter()
            .find(|(at, _)| *at == idx)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_default();
        let is_summary = statement.predicate_type == intoto::VSA_PREDICATE;
        let own_key = !reason.starts_with("it is signed by key") && !reason.contains("not signed");
        let which = if is_summary || named.is_empty() || !own_key {
            String::new()
        } else if named.iter().any(|(_, sha)| sha == digest) {
            ": the payload is the one the verdict names, so the signature was changed".to_owned()
        } else {
            ": the payload's sha256 is not one the verdict names, so the payload was changed"
                .to_owned()
        };
        checks.push(Check::new(name, CheckStatus::Failed, format!("{reason}{which}")));
    }
    match summaries.as_slice() {
        [] => checks.push(Check::new(
            "verdict",
            CheckStatus::Failed,
            "the bundle has no verification summary (the verdict); it was removed or never exported".to_owned(),
        )),
        [summary] => {
            checks.extend(check_verdict(&summary.1, &named, &read, commit, require_passed));
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

/// Checks the verdict: what it is about, and that every attestation it names is present.
fn check_verdict(
    summary: &Statement,
    named: &[(String, String)],
    read: &[(usize, Statement, String, bool)],
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
            format!("the verdict is about commit {}, as expected", short(found)),
        ),
        (Some(expected), Some(found)) => Check::new(
            "subject",
            CheckStatus::Failed,
            format!("the verdict is about commit {}, not commit {}", short(found), short(expected)),
        ),
        (Some(expected), None) => Check::new(
            "subject",
            CheckStatus::Failed,
            format!(
                "the verdict names no commit (tree {} only), so it cannot speak for commit {}",
                digests.get("gitTree").map_or("none", |it| short(it)),
                short(expected)
            ),
        ),
        (None, found) => Check::new(
            "subject",
            CheckStatus::Skipped,
            format!(
                "no commit to compare with; the verdict is about commit {}",
                found.map_or("none", |it| short(it))
            ),
        ),
    });
    let missing: Vec<&(String, String)> = named
        .iter()
        .filter(|(_, sha)| !read.iter().any(|(.., digest, signed)| digest == sha && *signed))
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
        let list: Vec<String> =
            missing.iter().map(|(name, sha)| format!("{name} (sha256 {})", short(sha))).collect();
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

fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    omk_events::sha256_hex(key.as_bytes())
}

fn read_key_file(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|err| Error::Key {
        path: path.to_owned(),
        problem: match err.kind() {
            std::io::ErrorKind::NotFound => {
                "no such file; make a key with `omk key generate`".to_owned()
            }
            _ => err.to_string(),
        },
    })
}

/// Writes `bytes` to `path` with `mode` through a temporary file in the same directory: renamed
/// over an existing file when `replace` is set, else linked only if the path is still free.
fn write_new(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let write_error = |source| Error::Write { path: path.to_owned(), source };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(write_error)?;
    // The temporary file is created with mode 0600, so the key is never readable by others.
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(write_error)?;
    temp.write_all(bytes).map_err(write_error)?;
    temp.as_file().set_permissions(fs::Permissions::from_mode(mode)).map_err(write_error)?;
    temp.as_file().sync_all().map_err(write_error)?;
    if replace {
        temp.persist(path).map_err(|err| write_error(err.error))?;
    } else {
        temp.persist_noclobber(path).map_err(|err| {
            if err.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::KeyExists { path: path.to_owned() }
            } else {
                write_error(err.error)
            }
        })?;
    }
    fs::File::open(&dir).and_then(|it| it.sync_all()).map_err(write_error)
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|idx| u8::from_str_radix(&text[idx..idx + 2], 16).expect("test vectors are hex"))
            .collect()
    }

    /// RFC 8032, section 7.1, TEST 1: the empty message.
    #[test]
    fn signatures_match_rfc_8032_test_1() {
        let seed: [u8; 32] =
            hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .try_into()
                .expect("32 bytes");
        let key = SigningKey::from_seed(&seed);
        assert_eq!(
            key.public_key().inner.as_bytes().to_vec(),
            hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        let signature = key.sign(b"");
        assert_eq!(
            signature.to_vec(),
            hex(concat!(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155",
                "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            ))
        );
        assert!(key.public_key().verifies(b"", &signature));
        assert!(!key.public_key().verifies(b"x", &signature));
    }

    #[test]
    fn dsse_signatures_cover_the_pae_of_the_spec_vector() {
        let pae = intoto::pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(pae, b"DSSEv1 29 http://example.com/HelloWorld 11 hello world");
        let key = SigningKey::from_seed(&[7; 32]);
        let signature = key.sign(&pae);
        assert!(key.public_key().verifies(&pae, &signature));
        assert!(
            !key.public_key()
                .verifies(b"DSSEv1 29 http://example.com/HelloWorld 11 hello worle", &signature)
        );
    }

    #[test]
    fn key_files_round_trip_and_are_not_overwritten() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keys").join("signing");
        let files = generate_key(&path, false)?;
        assert_eq!(files.public_key, dir.path().join("keys").join("signing.pub"));
        let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(fs::read_to_string(&path)?.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(fs::read_to_string(&files.public_key)?.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let private = load_signing_key(&path)?;
        let public = load_public_key(&files.public_key)?;
        assert_eq!((private.keyid(), public.keyid()), (files.keyid.as_str(), files.keyid.as_str()));
        let before = fs::read(&path)?;
        assert!(matches!(generate_key(&path, false), Err(Error::KeyExists { .. })));
        assert_eq!(fs::read(&path)?, before);
        let replaced = generate_key(&path, true)?;
        assert_ne!(replaced.keyid, files.keyid);
        assert!(matches!(load_public_key(&path), Err(Error::Key { .. })));
        Ok(())
    }
}
