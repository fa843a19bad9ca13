//! `cargo xtask bench`.

use std::path::Path;

use anyhow::Result;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {}

pub(crate) fn run(_root: &Path, _args: &BenchArgs) -> Result<()> {
    Ok(())
}
