//! The fingerprint of a checkout: HEAD, refs, index, status with untracked files, the git config
//! and the hooks, so a later fingerprint shows what anything wrote there in between.

use std::{
    collections::BTreeMap,
    fs,
    io::ErrorKind,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

use crate::{error::Error, repo::Repo};

/// What a checkout looked like at one moment; two are compared part by part.
///
/// Digests are SHA-256 in lowercase hex. Ignored files are not part of it (they are build
/// output by the repository's own word), nor is `.git/info/exclude`, which omk writes itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckoutFingerprint {
    /// The branch HEAD is on (or `(detached)`) and the commit it resolves to.
    pub head: String,
    /// Every ref but the ignored ones, by full name: its commit, or `-> target` for a symbolic
    /// ref.
    pub refs: BTreeMap<String, String>,
    /// The digest of the index's entries: path, mode, object id, stage and the
    /// assume-unchanged, skip-worktree and intent-to-add flags.
    pub index: String,
    /// Every path `git status` lists (changed, staged, untracked, unmerged), by path relative to
    /// the root: the digest of its status line and of its content in the checkout.
    pub files: BTreeMap<String, String>,
    /// The digests of the repository's config files (`config`, and `config.worktree` when it
    /// exists), by name relative to the git directory; a missing `config` is `missing`.
    pub git_config: BTreeMap<String, String>,
    /// The digest of every file beneath the git directory's `hooks/`, by path relative to it.
    pub hooks: BTreeMap<String, String>,
}

/// Takes the fingerprint of `repo`'s checkout, leaving out refs whose full name starts with one
/// of `ignored_ref_prefixes` (omk's own branches, written while it runs).
///
/// It writes nothing: `git status` runs with `--no-optional-locks`, so even the index's stat
/// cache is not refreshed.
pub fn fingerprint_checkout(
    repo: &Repo,
    ignored_ref_prefixes: &[&str],
) -> Result<CheckoutFingerprint, Error> {
    let (head, files) = status(&repo.root)?;
    let git = crate::repo::gix_open(&repo.root)?;
    Ok(CheckoutFingerprint {
        head,
        refs: refs(&git, &repo.root, ignored_ref_prefixes)?,
        index: index_digest(&git, &repo.root)?,
        files,
        git_config: git_config(&repo.common_dir)?,
        hooks: hooks(&repo.common_dir.join("hooks"))?,
    })
}

/// Reads `git status` of the checkout: HEAD from its branch header, and each listed path with
/// the digest of its line and content.
fn status(root: &Path) -> Result<(String, BTreeMap<String, String>), Error> {
    let args = [
        "--no-optional-locks",
        "status",
        "--porcelain=v2",
        "-z",
        "--branch",
        "--untracked-files=all",
    ];
    let output = crate::git::run(root, &args)?;
    let mut branch = "(unknown)";
    let mut commit = "(none)";
    let mut files = BTreeMap::new();
    let mut records = output.split('\0');
    while let Some(record) = records.next() {
        if let Some(header) = record.strip_prefix("# ") {
            if let Some(name) = header.strip_prefix("branch.head ") {
                branch = name;
            } else if let Some(id) = header.strip_prefix("branch.oid ") {
                commit = id;
            }
            continue;
        }
        let Some(path) = status_path(record) else { continue };
        let mut hasher = Sha256::new();
        hasher.update(record.as_bytes());
        // A rename's record is followed by the path it came from.
        if record.starts_with("2 ") {
            hasher.update(records.next().unwrap_or_default().as_bytes());
        }
        hash_content(&mut hasher, &root.join(path))?;
        files.insert(path.to_owned(), hex(hasher.finalize().as_slice()));
    }
    Ok((format!("{branch} at {commit}"), files))
}

/// Returns the path of one porcelain v2 record, `None` for a record without one.
fn status_path(record: &str) -> Option<&str> {
    // Fields before the path: 1 → 8, 2 → 9, u → 10, ? and ! → 1.
    let fields = match record.split(' ').next()? {
        "1" => 8,
        "2" => 9,
        "u" => 10,
        "?" | "!" => 1,
        _ => return None,
    };
    record.splitn(fields + 1, ' ').nth(fields)
}

/// Feeds what is at `path` into `hasher`: a file's bytes, a symlink's target, or a marker for a
/// directory (a submodule) or nothing.
fn hash_content(hasher: &mut Sha256, path: &Path) -> Result<(), Error> {
    let io_error = |source| Error::Io { action: "read", path: path.to_owned(), source };
    match fs::symlink_metadata(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => hasher.update(b"\0absent"),
        Err(err) => return Err(io_error(err)),
        Ok(meta) if meta.is_symlink() => {
            hasher.update(b"\0symlink\0");
            hasher.update(fs::read_link(path).map_err(io_error)?.as_os_str().as_encoded_bytes());
        }
        Ok(meta) if meta.is_file() => {
            hasher.update(b"\0file\0");
            hasher.update(fs::read(path).map_err(io_error)?);
        }
        Ok(_) => hasher.update(b"\0directory"),
    }
    Ok(())
}

/// Reads every ref of the repository but the ignored ones.
fn refs(
    git: &gix::Repository,
    root: &Path,
    ignored_prefixes: &[&str],
) -> Result<BTreeMap<String, String>, Error> {
    let walk_error = || Error::gix("read the refs", root);
    let platform = git.references().map_err(walk_error())?;
    let mut refs = BTreeMap::new();
    for reference in platform.all().map_err(walk_error())? {
        let reference = reference.map_err(|err| walk_error()(gix::Error::from_error(err)))?;
        let name = reference.name().as_bstr().to_string();
        if ignored_prefixes.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let target = match reference.target() {
            gix::refs::TargetRef::Object(id) => id.to_string(),
            gix::refs::TargetRef::Symbolic(target) => format!("-> {}", target.as_bstr()),
        };
        refs.insert(name, target);
    }
    Ok(refs)
}

/// Returns the digest of the checkout's index entries, or `none` when it has no index.
fn index_digest(git: &gix::Repository, root: &Path) -> Result<String, Error> {
    use gix::index::entry::Flags;
    if !git.index_path().exists() {
        return Ok("none".to_owned());
    }
    let index = git.open_index().map_err(Error::gix("read the index", root))?;
    let kept =
        Flags::STAGE_MASK | Flags::ASSUME_VALID | Flags::SKIP_WORKTREE | Flags::INTENT_TO_ADD;
    let mut hasher = Sha256::new();
    for entry in index.entries() {
        hasher.update(entry.path(&index));
        hasher.update([0]);
        hasher.update(entry.mode.bits().to_be_bytes());
        hasher.update((entry.flags & kept).bits().to_be_bytes());
        hasher.update(entry.id.as_bytes());
    }
    Ok(hex(hasher.finalize().as_slice()))
}

/// Returns the digests of the config files in the git directory.
fn git_config(common_dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut digests = BTreeMap::new();
    for name in ["config", "config.worktree"] {
        match file_digest(&common_dir.join(name))? {
            Some(digest) => digests.insert(name.to_owned(), digest),
            None if name == "config" => digests.insert(name.to_owned(), "missing".to_owned()),
            None => None,
        };
    }
    Ok(digests)
}

/// Returns the digest of every file beneath `dir`, by path relative to it.
fn hooks(dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut digests = BTreeMap::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        let entries = match fs::read_dir(&current) {
            Err(err) if err.kind() == ErrorKind::NotFound => continue,
            other => other.map_err(|source| Error::Io {
                action: "list",
                path: current.clone(),
                source,
            })?,
        };
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                action: "list",
                path: current.clone(),
                source,
            })?;
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|it| it.is_dir());
            if is_dir {
                pending.push(path);
                continue;
            }
            let mut hasher = Sha256::new();
            hash_content(&mut hasher, &path)?;
            let name = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
            digests.insert(name, hex(hasher.finalize().as_slice()));
        }
    }
    Ok(digests)
}

/// Returns the digest of the file at `path`, `None` when there is none.
fn file_digest(path: &Path) -> Result<Option<String>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(hex(Sha256::digest(bytes).as_slice()))),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { action: "read", path: path.to_owned(), source }),
    }
}

/// Returns `bytes` in lowercase hex.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
