//! The content of a worktree as the cache sees it: every tracked and untracked file that git does
//! not ignore, each with a digest of its content and mode.
//!
//! omk-gates lists the files with `git ls-files -co --exclude-standard -z` (one small process
//! call, so it needs no git library and stays below omk-worktree) and hashes them itself, so the
//! digest covers uncommitted and untracked changes exactly as the gates see them.

use std::{
    fmt::Write as _,
    fs, io,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Mutex,
    thread::JoinHandle,
};

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use crate::git::git_output;

/// The files of a worktree, sorted by path, each with the SHA-256 of its mode and content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeFiles {
    /// `(path, digest)`, sorted by path; paths use `/`.
    pub files: Vec<(String, String)>,
}

/// Returned when the files of a worktree cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// git could not be run or failed.
    #[error("list the files of {dir} with git: {message}")]
    Git {
        /// The worktree.
        dir: String,
        /// git's error output or the reason it did not start.
        message: String,
    },
    /// A pattern of `inputs` is not a valid glob.
    #[error("input pattern {pattern:?} is not a valid glob")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// The parser's error.
        #[source]
        source: globset::Error,
    },
}

/// Returns the files of the worktree at `dir`: tracked and untracked, not ignored, and not under
/// `state_dir` (relative, `/`-terminated: the caller's own state, which no gate checks).
///
/// `env` is the environment git runs with, less the `GIT_*` variables that would point it at
/// another repository.
pub fn tree_files(
    dir: &Path,
    env: &[(String, String)],
    state_dir: Option<&str>,
) -> Result<TreeFiles, TreeError> {
    let git_error = |message: String| TreeError::Git { dir: dir.display().to_string(), message };
    let stdout = git_output(dir, env, &["ls-files", "-co", "--exclude-standard", "-z"])
        .map_err(git_error)?;
    let mut paths: Vec<String> = stdout
        .split(|byte| *byte == 0)
        .filter(|it| !it.is_empty())
        .map(|it| String::from_utf8_lossy(it).into_owned())
        .filter(|path| state_dir.is_none_or(|state_dir| !path.starts_with(state_dir)))
        .collect();
    // A path both modified and untracked-listed cannot happen, but a deleted tracked file is
    // listed once by -c; sort and dedup keep the list canonical either way.
    paths.sort();
    paths.dedup();
    let files = paths
        .into_iter()
        .map(|path| {
            let digest = file_digest(&dir.join(&path));
            (path, digest)
        })
        .collect();
    Ok(TreeFiles { files })
}

/// A listing of a worktree's files ([`tree_files`]) started on a thread of its own, so that the
/// `git ls-files` and the hashing overlap what the caller does before its gates start (loading
/// the configuration, detecting gates, making the run's directories); [`crate::run_gates`] takes
/// its result instead of listing the files itself.
///
/// Start it only where nothing changes the worktree's files between the start and the first
/// gate: the listing is what the cache keys say the gates ran on.
#[derive(Debug)]
pub struct TreeListing {
    worktree: PathBuf,
    env: Vec<(String, String)>,
    state_dir: Option<String>,
    thread: Mutex<Option<JoinHandle<Result<TreeFiles, TreeError>>>>,
}

impl TreeListing {
    /// Starts listing the files of `worktree` as [`tree_files`] does, with the same arguments.
    pub fn start(worktree: &Path, env: &[(String, String)], state_dir: Option<&str>) -> Self {
        let (dir, thread_env, thread_state) =
            (worktree.to_owned(), env.to_vec(), state_dir.map(ToOwned::to_owned));
        // A thread that cannot start leaves the listing to `wait`, on the caller's thread.
        let thread = std::thread::Builder::new()
            .name("omk-tree-listing".to_owned())
            .spawn(move || tree_files(&dir, &thread_env, thread_state.as_deref()))
            .ok();
        Self {
            worktree: worktree.to_owned(),
            env: env.to_vec(),
            state_dir: state_dir.map(ToOwned::to_owned),
            thread: Mutex::new(thread),
        }
    }

    /// Returns the worktree whose files are listed.
    pub fn worktree(&self) -> &Path {
        &self.worktree
    }

    /// Waits for the listing and returns it; a second call lists the files again.
    pub fn wait(&self) -> Result<TreeFiles, TreeError> {
        let thread = self.thread.lock().map(|mut it| it.take()).unwrap_or_default();
        match thread.map(JoinHandle::join) {
            Some(Ok(listed)) => listed,
            // The thread panicked or never started: list the files here.
            Some(Err(_)) | None => tree_files(&self.worktree, &self.env, self.state_dir.as_deref()),
        }
    }
}

impl TreeFiles {
    /// Returns the SHA-256 of the files that match `inputs`, or of all files when `inputs` is
    /// empty.
    ///
    /// An input without glob characters matches that path and everything under it.
    pub fn digest(&self, inputs: &[String]) -> Result<String, TreeError> {
        let matcher = if inputs.is_empty() { None } else { Some(input_matcher(inputs)?) };
        let mut hasher = Sha256::new();
        for (path, digest) in &self.files {
            if matcher.as_ref().is_none_or(|it| it.is_match(path)) {
                hasher.update(path.as_bytes());
                hasher.update([0]);
                hasher.update(digest.as_bytes());
                hasher.update([b'\n']);
            }
        }
        Ok(hex(&hasher.finalize()))
    }
}

/// Returns a matcher for `inputs`: globs, and plain paths with everything under them.
pub(crate) fn input_matcher(inputs: &[String]) -> Result<GlobSet, TreeError> {
    let mut builder = GlobSetBuilder::new();
    for input in inputs {
        let input = input.trim_end_matches('/');
        let patterns = if input.contains(['*', '?', '[', '{']) {
            vec![input.to_owned()]
        } else {
            vec![input.to_owned(), format!("{input}/**")]
        };
        for pattern in patterns {
            let glob = Glob::new(&pattern)
                .map_err(|source| TreeError::Pattern { pattern: pattern.clone(), source })?;
            builder.add(glob);
        }
    }
    builder.build().map_err(|source| TreeError::Pattern { pattern: inputs.join(", "), source })
}

/// Returns the digest of one file: its kind, executable bit and content; a file that cannot be
/// read (deleted since listing) has a digest of its own.
fn file_digest(path: &Path) -> String {
    let mut hasher = Sha256::new();
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            hasher.update(b"link\0");
            if let Ok(target) = fs::read_link(path) {
                hasher.update(target.to_string_lossy().as_bytes());
            }
        }
        Ok(meta) if meta.is_file() => {
            let executable = meta.permissions().mode() & 0o111 != 0;
            hasher.update(if executable { b"exec\0" } else { b"file\0" });
            if let Err(err) =
                fs::File::open(path).and_then(|mut file| io::copy(&mut file, &mut hasher))
            {
                hasher.update(format!("unreadable: {}", err.kind()).as_bytes());
            }
        }
        // A directory here is a submodule or nested repository: its own content is not hashed.
        Ok(_) => hasher.update(b"other\0"),
        Err(_) => hasher.update(b"missing\0"),
    }
    hex(&hasher.finalize())
}

/// Returns `digest` as lowercase hex.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().fold(String::with_capacity(digest.len() * 2), |mut text, byte| {
        write!(text, "{byte:02x}").expect("writing to a String cannot fail");
        text
    })
}
