//! Ed25519 key files (`omk key generate`) and the keys that sign and verify envelopes.
//!
//! Keys are files a standard tool can load: the private key is PKCS#8 PEM (`PRIVATE KEY`),
//! written with mode 0600, and the public key SubjectPublicKeyInfo PEM (`PUBLIC KEY`) beside it
//! with `.pub` added to the name. A key's id is the SHA-256 of its 32 raw public key bytes, in
//! lowercase hex; envelopes carry it as the DSSE `keyid` hint.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use ed25519_dalek::{
    Signer, Verifier,
    pkcs8::{
        DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
        spki::der::pem::LineEnding,
    },
};

use omk_events::files::{WriteOptions, write_atomic_with};

use crate::error::Error;

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
        source: io::Error::other(format!("the operating system gave no random seed: {err}")),
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

fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    omk_events::sha256_hex(key.as_bytes())
}

/// Reads a PEM key file as the PEM parser wants it: line ends made `\n` and the blank lines
/// around the block dropped, which a key pasted into a secret store and written back by a job
/// (`printf '%s\n' "$KEY"`, a Windows editor) often gains.
fn read_key_file(path: &Path) -> Result<String, Error> {
    read_key_text(path).map(|text| format!("{}\n", text.replace("\r\n", "\n").trim()))
}

fn read_key_text(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|err| Error::Key {
        path: path.to_owned(),
        problem: match err.kind() {
            io::ErrorKind::NotFound => {
                "no such file; make a key with `omk key generate`".to_owned()
            }
            _ => err.to_string(),
        },
    })
}

/// Writes `bytes` to `path` with `mode` through a temporary file in the same directory: renamed
/// over an existing file when `replace` is set, else linked only if the path is still free.
fn write_new(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<(), Error> {
    let write_error = |source| Error::Write { path: path.to_owned(), source };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(write_error)?;
    write_atomic_with(path, bytes, &WriteOptions { mode, replace, durable: true }).map_err(|err| {
        if !replace && err.kind() == io::ErrorKind::AlreadyExists {
            Error::KeyExists { path: path.to_owned() }
        } else {
            write_error(err)
        }
    })
}

#[cfg(test)]
mod tests {
    use omk_proof::intoto;

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
        // Blank lines around the block and Windows line ends, as a secret store may give back.
        let pasted = dir.path().join("pasted");
        let text = fs::read_to_string(&path)?.replace('\n', "\r\n");
        fs::write(&pasted, format!("\n{text}\n\n"))?;
        assert_eq!(load_signing_key(&pasted)?.keyid(), files.keyid);
        let replaced = generate_key(&path, true)?;
        assert_ne!(replaced.keyid, files.keyid);
        assert!(matches!(load_public_key(&path), Err(Error::Key { .. })));
        Ok(())
    }
}
