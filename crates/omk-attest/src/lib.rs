//! Signed in-toto bundles of omk proofs: exporting them (`omk proof export --format in-toto`),
//! verifying them (`omk proof verify --bundle`), and the Ed25519 key files that sign them
//! (`omk key generate`).
//!
//! omk-proof builds the in-toto statements and the DSSE pre-authentication encoding; this crate
//! signs and checks them, so the crypto dependencies stay out of the proof and the controller.
//!
//! Invariants:
//! - Verifying a bundle never fails with an error: every finding, a bad line or a signature that
//!   does not verify included, is a [`Check`]; only reading the key and the file are errors.
//! - A private key file is never readable by others, not even while it is written (mode 0600
//!   from its creation), and an existing key file is replaced only when the caller says so.
//! - This crate does not read the environment, print, or touch a goal's log or repository: the
//!   proof, the bundle text and the expected commit are parameters.
//!
//! Entry points: [`export_bundle`] and [`write_export`], [`read_bundle`], [`verify_bundle`] and
//! [`bundle_log`] (the log digest a bundle's verdict binds, for the caller to compare),
//! [`bundle_signers`] (which of several trusted keys signed a bundle's verdict),
//! [`generate_key`], [`load_signing_key`] and [`load_public_key`].

mod bundle;
mod check;
mod error;
mod keys;
mod verify;

pub use crate::bundle::{Bundle, export_bundle, read_bundle, write_export};
pub use crate::check::{Check, CheckStatus};
pub use crate::error::Error;
pub use crate::keys::{
    KeyFiles, PublicKey, SigningKey, generate_key, load_public_key, load_signing_key,
    public_key_path,
};
pub use crate::verify::{BundleLog, Signers, bundle_log, bundle_signers, verify_bundle};
