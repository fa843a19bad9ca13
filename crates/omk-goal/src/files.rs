//! Writing files so that a crash never leaves a half-written one.

use std::{fs, io::Write, path::Path};

/// Writes `bytes` to `path` through a synced temporary file renamed over it.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| err.error)?;
    // Syncing the directory makes the rename itself durable.
    fs::File::open(dir)?.sync_all()
}
