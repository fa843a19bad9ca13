//! The gate cache: a passed gate's result, keyed by the gate's spec, the content of the files it
//! depends on and an allow-list of environment variables.
//!
//! An entry is `<dir>/<key>.json` (format version 2:
//! `{"version":2,"run_id":…,"result":…,"digest":…}`, the result a `gate_finished` payload and the
//! digest the SHA-256 of the entry's other fields) beside `<key>.log`, the output the result
//! names. Only passed gates are served, so a failure is always re-run; a failure is recorded too,
//! as `<key>.failed.json` (same format), so that a pass is never served for files on which the
//! same gate also failed, and a fresh result that differs from the recorded one is marked flaky.
//! A pass is written over the old entry in place (see [`store`]) and served only when its digest
//! and its log check out; a failure is written to a temporary file, synced and renamed.

use std::{
    collections::HashMap,
    fs,
    io::{self, Write as _},
    path::{Path, PathBuf},
    time::SystemTime,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use omk_events::{
    GateFinished, GateKind,
    files::{WriteOptions, in_dir, write_atomic_with},
};

use crate::{
    spec::GateSpec,
    tree::{TreeFiles, TreeListing, hex},
};

/// How a run uses the cache.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// The directory of the entries, such as `.omk/cache/gates`.
    pub dir: PathBuf,
    /// The id of this run (a goal id, or the id of an `omk gates run`), recorded in the entries
    /// it writes and reported as `cached_from` by the runs that reuse them.
    pub run_id: String,
    /// The environment variables whose values are part of the key; see [`DEFAULT_CACHE_ENV`].
    pub env_names: Vec<String>,
    /// Whether to reuse entries; `false` (`--no-cache`) still stores fresh results.
    pub read: bool,
    /// A directory of the worktree, relative and `/`-terminated, whose files are never part of
    /// the key: the caller's own state (omk's `.omk/`), which the gates do not check.
    pub state_dir: Option<String>,
    /// The worktree's files, listed ahead by the caller ([`TreeListing::start`] with this
    /// worktree, environment and `state_dir`); `None` lists them when the run starts.
    pub listing: Option<std::sync::Arc<TreeListing>>,
}

/// The variables whose values key every cache entry: they change what builds and tests do.
pub const DEFAULT_CACHE_ENV: &[&str] = &[
    "PATH",
    "CI",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "NODE_ENV",
    "NODE_OPTIONS",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "GOFLAGS",
    "GOOS",
    "GOARCH",
    "CGO_ENABLED",
];

/// The version of the entry format; it is part of every key, so entries of another version are
/// never looked up.
const ENTRY_VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    version: u32,
    run_id: String,
    result: GateFinished,
    /// The SHA-256 of the other fields (see [`Entry::body_digest`]): an entry written over
    /// another in place and cut short by a crash mixes the two, and then its digest fails.
    digest: String,
}

/// The fields of an entry its digest covers, in their order.
#[derive(Serialize)]
struct EntryBody<'a> {
    version: u32,
    run_id: &'a str,
    result: &'a GateFinished,
}

impl Entry {
    fn new(run_id: &str, result: &GateFinished) -> Self {
        let mut entry = Self {
            version: ENTRY_VERSION,
            run_id: run_id.to_owned(),
            result: result.clone(),
            digest: String::new(),
        };
        entry.digest = entry.body_digest();
        entry
    }

    fn body_digest(&self) -> String {
        let body = EntryBody { version: self.version, run_id: &self.run_id, result: &self.result };
        let json = serde_json::to_vec(&body)
            .expect("a cache entry serializes because it is plain data with string keys");
        hex(&Sha256::digest(&json))
    }

    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self)
            .expect("a cache entry serializes because it is plain data with string keys")
    }

    /// Reads the entry at `path`: `None` when it is missing, does not parse, is of another
    /// version or fails its digest.
    fn read(path: &Path) -> Option<Self> {
        let text = fs::read_to_string(path).ok()?;
        let entry: Self = serde_json::from_str(&text).ok()?;
        (entry.version == ENTRY_VERSION && entry.digest == entry.body_digest()).then_some(entry)
    }
}

/// What the key is computed from, serialized to JSON in this field order.
#[derive(Serialize)]
struct KeyMaterial<'a> {
    version: u32,
    name: &'a str,
    kind: GateKind,
    argv: Vec<String>,
    cwd: Option<String>,
    env: &'a std::collections::BTreeMap<String, String>,
    inputs: &'a [String],
    allow_no_tests: bool,
    timeout_ms: u128,
    // Absent from keys of gates without reports, so their cached results stay valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    junit: Option<&'a str>,
    tree: &'a str,
    cache_env: Vec<(&'a str, Option<&'a str>)>,
}

/// Returns the cache key of `spec` on the worktree's files `tree`, when a run uses the cache.
///
/// `Ok(None)` when it does not (no `cache`, or no tree listed); the reason the key cannot be
/// computed (the files could not be listed, an input is not a valid glob) as the error.
pub(crate) fn key_for(
    spec: &GateSpec,
    tree: Option<&Result<TreeFiles, String>>,
    cache: Option<&CacheOptions>,
    env: &[(String, String)],
) -> Result<Option<String>, String> {
    match (cache, tree) {
        (Some(cache), Some(Ok(tree))) => match tree.digest(&spec.inputs) {
            Ok(digest) => Ok(Some(cache_key(spec, &digest, env, &cache.env_names))),
            Err(err) => Err(err.to_string()),
        },
        (Some(_), Some(Err(err))) => Err(err.clone()),
        _ => Ok(None),
    }
}

/// Returns the cache key of `spec` on a tree whose digest (over the spec's inputs) is `tree`.
fn cache_key(
    spec: &GateSpec,
    tree: &str,
    env: &[(String, String)],
    env_names: &[String],
) -> String {
    let mut cache_env: Vec<(&str, Option<&str>)> = env_names
        .iter()
        .map(|name| {
            let value = env.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
            (name.as_str(), value)
        })
        .collect();
    cache_env.sort_unstable();
    cache_env.dedup();
    let material = KeyMaterial {
        version: ENTRY_VERSION,
        name: &spec.name,
        kind: spec.kind,
        argv: spec.command.argv(),
        cwd: spec.cwd.as_ref().map(|it| it.to_string_lossy().into_owned()),
        env: &spec.env,
        inputs: &spec.inputs,
        allow_no_tests: spec.allow_no_tests,
        timeout_ms: spec.timeout.as_millis(),
        junit: spec.junit.as_deref(),
        tree,
        cache_env,
    };
    let json = serde_json::to_vec(&material)
        .expect("the key material serializes because it is strings, numbers and a string map");
    hex(&Sha256::digest(&json))
}

/// Returns the stored pass for `key` and the path of its log, if there is a usable entry and no
/// failure of the same gate on the same files is recorded.
pub(crate) fn lookup(dir: &Path, key: &str) -> Option<(String, GateFinished, PathBuf)> {
    if recorded_failure(dir, key).is_some() {
        return None;
    }
    let entry = Entry::read(&dir.join(format!("{key}.json")))?;
    let log = dir.join(format!("{key}.log"));
    if let Some(output) = &entry.result.output
        && !log_matches(&log, output)
    {
        return None;
    }
    Some((entry.run_id, entry.result, log))
}

/// Returns whether the stored log at `log` is the one `output` describes: its size and digest.
fn log_matches(log: &Path, output: &omk_events::ArtifactRef) -> bool {
    fs::read(log).is_ok_and(|bytes| {
        bytes.len() as u64 == output.bytes && omk_events::sha256_hex(&bytes) == output.sha256
    })
}

/// Returns the run that recorded the result opposite to `passed` for `key`: for a pass, the run
/// whose failure is recorded; for a failure, the run whose pass is stored.
pub(crate) fn differing_run(dir: &Path, key: &str, passed: bool) -> Option<String> {
    if passed {
        return recorded_failure(dir, key);
    }
    let entry = Entry::read(&dir.join(format!("{key}.json")))?;
    Some(entry.result.cached_from.clone().unwrap_or(entry.run_id))
}

/// Records that run `run_id` failed with `result` under `key`, beside any stored pass.
pub(crate) fn record_failure(
    dir: &Path,
    key: &str,
    run_id: &str,
    result: &GateFinished,
) -> io::Result<()> {
    let json = Entry::new(run_id, result).to_json();
    // A failure record stays durable: after a crash it must still keep the pass from being
    // served (the cache fails closed).
    let options = WriteOptions { mode: 0o600, replace: true, durable: true };
    let path = dir.join(format!("{key}.failed.json"));
    in_dir(dir, || write_atomic_with(&path, &json, &options))
}

/// Returns the run whose failure of the gate is recorded for `key`, if any.
fn recorded_failure(dir: &Path, key: &str) -> Option<String> {
    let path = dir.join(format!("{key}.failed.json"));
    let text = fs::read_to_string(&path).ok()?;
    // An unreadable record still says a failure happened: fail closed, never serve the pass.
    Some(
        serde_json::from_str::<Entry>(&text)
            .map_or_else(|_| path.display().to_string(), |it| it.run_id),
    )
}

/// Stores `result` of run `run_id` under `key`, with a copy of the log at `log`.
pub(crate) fn store(
    dir: &Path,
    key: &str,
    run_id: &str,
    result: &GateFinished,
    log: Option<&Path>,
) -> io::Result<()> {
    in_dir(dir, || {
        // Both files are written over the old ones in place, not through a temporary file and a
        // rename, which would allocate a new inode for each (the costliest part of writing a file
        // on ext4) for every gate of every run; and not emptied first, which makes ext4 free the
        // file's blocks and flush the new ones when it is closed. Nothing is synced. So a write
        // that a crash (or another omk writing the same key) cut short leaves the new bytes over
        // part of the old ones. An entry is checked whenever it is used: it must parse, its digest
        // must match its fields, its log must match the size and digest it records when it is
        // looked up, and the copy a run takes of the log must match them again. A mixed entry or
        // log is a miss, never a wrong result.
        if let Some(log) = log {
            // A copy, not a second name (a hard link) for the run's log: the run's log is evidence,
            // and nothing done to the cache may change it.
            let mut source = fs::File::open(log)?;
            let (mut target, old_len) = open_in_place(&dir.join(format!("{key}.log")))?;
            let written = io::copy(&mut source, &mut target)?;
            cut_to(&target, old_len, written)?;
        }
        let json = Entry::new(run_id, result).to_json();
        let (mut target, old_len) = open_in_place(&dir.join(format!("{key}.json")))?;
        target.write_all(&json)?;
        cut_to(&target, old_len, json.len() as u64)
    })
}

/// Cuts a file written over from its start, which was `old_len` bytes long, to the `written`
/// bytes of its new content; a file as long as before (the usual case: the same gate on the
/// same files) is left as it is.
fn cut_to(file: &fs::File, old_len: u64, written: u64) -> io::Result<()> {
    if old_len > written { file.set_len(written) } else { Ok(()) }
}

/// Opens the cache file at `path` to be written over from its start, with mode 0600 when it is
/// made (only omk reads the cache); returns it and its length.
///
/// omk writes here unconfined, while a gate of `omk gates run` may write anywhere in the
/// checkout, the cache included: so it never writes through a symbolic link (which would let
/// a gate point the write at any file of the user), and never into a file with another name
/// (a hard link): either is removed and the file made anew.
fn open_in_place(path: &Path) -> io::Result<(fs::File, u64)> {
    use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
    let open = || {
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    };
    match open() {
        Ok(file) => {
            let metadata = file.metadata()?;
            if metadata.is_file() && metadata.nlink() == 1 {
                Ok((file, metadata.len()))
            } else {
                drop(file);
                fs::remove_file(path)?;
                Ok((open()?, 0))
            }
        }
        // ELOOP: the path is a symbolic link.
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
            fs::remove_file(path)?;
            Ok((open()?, 0))
        }
        Err(err) => Err(err),
    }
}

/// How many keys the cache keeps: at the end of a run that used it, the keys written longest
/// ago beyond these are removed (see [`prune`]). Each new state of the files a gate depends on
/// is a new key, and its log can be megabytes of test output.
pub(crate) const MAX_KEYS: usize = 1000;

/// The kinds of file a key has, in the order [`prune`] removes them: the pass and its log
/// before the failure record, so that a pass is never left without the failure that must keep
/// it from being served.
const KEY_FILES: [&str; 3] = ["json", "log", "failed.json"];

/// Removes every file of the keys in `dir` written longest ago (by the newest modification
/// time among a key's files) beyond the newest `keep`. Only files named as the cache names them
/// (`<64 hex digits>.json`, `.log`, `.failed.json`) count, and links are removed, never
/// followed. A file that cannot be removed stays, and the next run tries again; a reader that
/// loses an entry meanwhile has a miss.
pub(crate) fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut keys: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for entry in entries.filter_map(Result::ok) {
        let Ok(name) = entry.file_name().into_string() else { continue };
        if let Some(key) = key_of(&name) {
            keys.entry(key.to_owned()).or_default().push(entry.path());
        }
    }
    if keys.len() <= keep {
        return;
    }
    let written = |paths: &[PathBuf]| {
        paths
            .iter()
            .filter_map(|path| fs::symlink_metadata(path).and_then(|it| it.modified()).ok())
            .max()
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let mut by_age: Vec<(SystemTime, String)> =
        keys.iter().map(|(key, paths)| (written(paths), key.clone())).collect();
    by_age.sort();
    let excess = by_age.len() - keep;
    for (_, key) in by_age.into_iter().take(excess) {
        for kind in KEY_FILES {
            let path = dir.join(format!("{key}.{kind}"));
            if let Err(err) = fs::remove_file(&path)
                && err.kind() != io::ErrorKind::NotFound
            {
                tracing::debug!(path = %path.display(), %err, "a cache file stays");
                // Never leave the pass without its failure record: stop at this key.
                break;
            }
        }
    }
}

/// Returns the key of a cache file named `name`, or `None` for a name the cache does not use.
fn key_of(name: &str) -> Option<&str> {
    let (key, kind) = name.split_once('.')?;
    let is_key = key.len() == 64 && key.bytes().all(|it| it.is_ascii_hexdigit());
    (is_key && KEY_FILES.contains(&kind)).then_some(key)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn touch(path: &Path, at: u64) {
        fs::write(path, "x").expect("write a cache file");
        let file = fs::File::options().write(true).open(path).expect("open a cache file");
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(at)).expect("set its time");
    }

    #[test]
    fn pruning_removes_the_keys_written_longest_ago_with_all_their_files() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let key = |n: u8| format!("{n:064x}");
        // Five keys written at 10, 20, ..., 50; key 1's failure was recorded last, at 60.
        for n in 0..5u8 {
            touch(&dir.path().join(format!("{}.json", key(n))), 10 * (u64::from(n) + 1));
            touch(&dir.path().join(format!("{}.log", key(n))), 10 * (u64::from(n) + 1));
        }
        touch(&dir.path().join(format!("{}.failed.json", key(0))), 5);
        touch(&dir.path().join(format!("{}.failed.json", key(1))), 60);
        // Names the cache does not use, however old, and a link to a file of the user's.
        touch(&dir.path().join("notes.txt"), 1);
        touch(&dir.path().join(format!("{}.json.tmp", key(9))), 1);
        let users = dir.path().join("users-file");
        touch(&users, 1);
        std::os::unix::fs::symlink(&users, dir.path().join(format!("{}.log", key(7))))
            .expect("a link");

        let left = || {
            let mut left: Vec<String> = fs::read_dir(dir.path())
                .expect("read the cache")
                .map(|it| it.expect("an entry").file_name().to_string_lossy().into_owned())
                .collect();
            left.sort();
            left
        };
        // The link is a key's file too, written now: the newest key.
        prune(dir.path(), 3);
        let mut expected = vec![
            format!("{}.failed.json", key(1)),
            format!("{}.json", key(1)),
            format!("{}.log", key(1)),
            format!("{}.json", key(4)),
            format!("{}.log", key(4)),
            format!("{}.log", key(7)),
            format!("{}.json.tmp", key(9)),
            "notes.txt".to_owned(),
            "users-file".to_owned(),
        ];
        expected.sort();
        assert_eq!(left(), expected);
        prune(dir.path(), 0);
        assert_eq!(
            left(),
            [format!("{}.json.tmp", key(9)), "notes.txt".into(), "users-file".into()]
        );
        assert_eq!(fs::read_to_string(&users).expect("the user's file"), "x");
    }

    #[test]
    fn only_names_the_cache_uses_are_keys() {
        let key = "a".repeat(64);
        for kind in ["json", "log", "failed.json"] {
            assert_eq!(key_of(&format!("{key}.{kind}")), Some(key.as_str()));
        }
        for name in [
            format!("{key}.json.tmp"),
            format!("{key}.txt"),
            format!("{}.json", "a".repeat(63)),
            format!("{}.json", "g".repeat(64)),
            "notes".to_owned(),
        ] {
            assert_eq!(key_of(&name), None, "{name}");
        }
    }
}
