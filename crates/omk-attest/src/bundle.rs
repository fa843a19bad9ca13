//! Exporting a proof as a bundle of signed in-toto attestations (`omk proof export --format
//! in-toto`), and reading and writing bundle files.

use std::{fs, path::Path};

use omk_events::files::write_atomic;
use omk_proof::{
    Proof,
    intoto::{self, DsseEnvelope, ExportOptions},
};

use crate::{error::Error, keys::SigningKey};

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
            envelope.add_signature(Some(key.keyid().to_owned()), &signature);
        }
        text.push_str(
            &serde_json::to_string(&envelope).expect("an envelope serializes: it is strings"),
        );
        text.push('\n');
    }
    Ok(Bundle { text, envelopes: statements.len(), keyid: key.map(|it| it.keyid().to_owned()) })
}

/// Writes an export to `path` through a synced temporary file renamed over it, creating its
/// directory; the file is left with mode 0644.
pub fn write_export(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|it| !it.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|source| Error::Write { path: parent.to_owned(), source })?;
    }
    write_atomic(path, bytes).map_err(|source| Error::Write { path: path.to_owned(), source })
}

/// Reads a bundle file for [`verify_bundle`](crate::verify_bundle).
pub fn read_bundle(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::ReadInput { path: path.to_owned(), source })
}
