//! Writing a file so that a crash never leaves half of it: the one atomic write of omk.
//!
//! It lives beside the log because the log crate owns omk's durable files, and every crate that
//! writes one (the proof, control requests, leases, key files, the gate cache) depends on it.

use std::{
    fs,
    io::{self, Write as _},
    os::unix::fs::PermissionsExt as _,
    path::Path,
};

/// How [`write_atomic_with`] writes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// The file's permission bits. The temporary file is created with mode 0600 and gets these
    /// before it is renamed, so a private key is never readable by others, not even for a moment.
    pub mode: u32,
    /// Whether an existing file at the path is replaced. When `false`, the file is linked into
    /// place only while the path is still free, and an existing file is left alone with an
    /// [`io::ErrorKind::AlreadyExists`] error.
    pub replace: bool,
    /// Whether the file must survive a crash of the machine: the temporary file and then the
    /// directory are synced. Without it the write is still atomic for every reader while the
    /// machine runs (a rename), which is all a file needs that is checked when read (a gate
    /// cache entry) or that speaks only of what this boot runs (a process record).
    pub durable: bool,
}

impl Default for WriteOptions {
    /// Mode 0644, as `fs::write` gives under the usual umask, replacing an existing file,
    /// durable.
    fn default() -> Self {
        Self { mode: 0o644, replace: true, durable: true }
    }
}

/// Writes `bytes` to `path` with the [default options](WriteOptions::default): mode 0644,
/// replacing an existing file; see [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, bytes, &WriteOptions::default())
}

/// Writes `bytes` to `path` through a temporary file in the same directory, which is renamed
/// over `path` (or linked, when `options` forbid replacing); when `options` ask for a durable
/// write, the temporary file is synced before and the directory after.
///
/// A reader sees the old file or the whole new one, never part of it, and after a crash of omk
/// the file is either the old one or the new one; after a crash of the machine too when the
/// write is durable. The directory must exist.
pub fn write_atomic_with(path: &Path, bytes: &[u8], options: &WriteOptions) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().set_permissions(fs::Permissions::from_mode(options.mode))?;
    if options.durable {
        temp.as_file().sync_all()?;
    }
    if options.replace {
        temp.persist(path).map_err(|err| err.error)?;
    } else {
        temp.persist_noclobber(path).map_err(|err| err.error)?;
    }
    if options.durable {
        // Syncing the directory makes the rename itself durable.
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Runs `write`, and once more after making `dir` (with its parents) when it failed with
/// [`io::ErrorKind::NotFound`]: for files written into a directory that usually exists, which
/// are spared a `mkdir` of it before each write.
pub fn in_dir<T>(dir: &Path, mut write: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    match write() {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir)?;
            write()
        }
        written => written,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_by_default_and_not_when_told() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("file");
        write_atomic(&path, b"one")?;
        write_atomic(&path, b"two")?;
        assert_eq!(fs::read(&path)?, b"two");
        assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o644);
        let keep = WriteOptions { mode: 0o600, replace: false, durable: true };
        let err = write_atomic_with(&path, b"three", &keep).expect_err("the file exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path)?, b"two");
        let private = dir.path().join("private");
        write_atomic_with(&private, b"key", &keep)?;
        assert_eq!(fs::metadata(&private)?.permissions().mode() & 0o777, 0o600);
        let quick = WriteOptions { durable: false, ..WriteOptions::default() };
        write_atomic_with(&path, b"four", &quick)?;
        assert_eq!(fs::read(&path)?, b"four");
        // Nothing but the two files is left in the directory.
        assert_eq!(fs::read_dir(dir.path())?.count(), 2);
        Ok(())
    }

    #[test]
    fn in_dir_makes_a_missing_directory_once_and_passes_other_errors_on() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let nested = dir.path().join("a/b");
        let mut calls = 0;
        in_dir(&nested, || {
            calls += 1;
            fs::write(nested.join("file"), b"x")
        })?;
        assert_eq!((calls, fs::read(nested.join("file"))?), (2, b"x".to_vec()));
        calls = 0;
        in_dir(&nested, || {
            calls += 1;
            fs::write(nested.join("file"), b"y")
        })?;
        assert_eq!(calls, 1, "an existing directory is not made again");
        // A write that still finds something missing fails after the one retry.
        let err = in_dir(&nested, || fs::write(nested.join("gone/file"), b"z")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = in_dir(&nested, || fs::create_dir(&nested)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        Ok(())
    }
}
