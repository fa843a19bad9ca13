//! Writing files so that a crash never leaves a half-written one.

use std::{fs, io::Write, path::Path};

/// Writes `bytes` to `path` through a synced temporary file renamed over it; the file gets mode
/// 0644, as a file written with `fs::write` would under the usual umask (the temporary file
/// starts at 0600).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().set_permissions(fs::Permissions::from_mode(0o644))?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| err.error)?;
    // Syncing the directory makes the rename itself durable.
    fs::File::open(dir)?.sync_all()
}
