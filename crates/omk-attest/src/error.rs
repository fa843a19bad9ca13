//! Errors of key files and bundles.

use std::{io, path::PathBuf};

/// Returned when a key or a bundle cannot be read, made or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key file cannot be read or is not an Ed25519 key in the expected PEM form.
    #[error("read key {path}: {problem}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong and the fix.
        problem: String,
    },
    /// A key file to write exists already.
    #[error(
        "write key {path}: the file exists; pass --force to replace it, or choose another path"
    )]
    KeyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A file given as input (a bundle) cannot be read.
    #[error("read {path}")]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The proof cannot be exported as in-toto attestations.
    #[error(transparent)]
    Export(#[from] omk_proof::intoto::ExportError),
    /// A key file or an export cannot be written.
    #[error("write {path}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// Returns whether the error is caused by the user's input (a key file, a bundle, a proof
    /// that cannot be exported, a path to write that is taken), which the message names.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Key { .. }
            | Self::KeyExists { .. }
            | Self::ReadInput { .. }
            | Self::Export(_) => true,
            Self::Write { .. } => false,
        }
    }
}
