//! Reading what changed in a worktree since its base commit, from git alone.

use std::{collections::BTreeMap, ffi::OsStr, fs, path::Path};

use crate::{error::Error, git};

/// The content of a worktree compared with a base commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The id of a git tree holding the worktree's whole content, untracked files included.
    pub tree_id: String,
    /// The files that differ from the base commit, sorted by path.
    pub files: Vec<FileChange>,
}

/// One file that differs from the base commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The path relative to the worktree root, with `/` separators.
    pub path: String,
    /// What happened to it.
    pub status: ChangeStatus,
    /// Lines added and removed; `None` for binary files.
    pub lines: Option<(u64, u64)>,
    /// The blob id of the new content; `None` when the file was deleted.
    pub blob_id: Option<String>,
}

/// What happened to a changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeStatus {
    /// The file is new.
    Added,
    /// The file's content, mode or type changed.
    Modified,
    /// The file was removed.
    Deleted,
    /// The file was moved from `from`, possibly with edits.
    Renamed {
        /// The old path.
        from: String,
    },
}

/// Snapshots the worktree at `worktree` into a tree and lists its changes against `base_commit`.
///
/// The snapshot is built in a temporary index, so the worktree's own index, files and branch are
/// left exactly as they were. Untracked files count; ignored files do not.
pub fn capture_changes(worktree: &Path, base_commit: &str) -> Result<Changes, Error> {
    let index_dir = tempfile::tempdir().map_err(|source| Error::Io {
        action: "create a temporary index for",
        path: worktree.to_owned(),
        source,
    })?;
    let temp_index = index_dir.path().join("index");
    // Starting from a copy of the real index lets git reuse its cached file stats.
    let real_index =
        git::run(worktree, &["rev-parse", "--path-format=absolute", "--git-path", "index"])?;
    let real_index = real_index.trim_end();
    if Path::new(real_index).exists() {
        // The copy keeps the index's mtime: git trusts cached stats only for files older than
        // the index, so a fresh mtime would hide edits made in the second the worktree was
        // checked out ("racy git"), as fast agents do.
        let copy = || -> std::io::Result<()> {
            fs::copy(real_index, &temp_index)?;
            let modified = fs::metadata(real_index)?.modified()?;
            fs::File::options().write(true).open(&temp_index)?.set_modified(modified)
        };
        copy().map_err(|source| Error::Io { action: "copy", path: real_index.into(), source })?;
    }
    let env: [(&str, &OsStr); 1] = [("GIT_INDEX_FILE", temp_index.as_os_str())];
    git::run_with_env(worktree, &["add", "--all", "--", "."], &env)?;
    let args = ["write-tree"];
    let tree_id = git::one_line(&git::run_with_env(worktree, &args, &env)?, &args)?;

    let raw_args = ["diff-tree", "-r", "-z", "--find-renames", "--raw", base_commit, &tree_id];
    let mut files = parse_raw(&git::run(worktree, &raw_args)?, &raw_args)?;
    let numstat_args =
        ["diff-tree", "-r", "-z", "--find-renames", "--numstat", base_commit, &tree_id];
    let lines = parse_numstat(&git::run(worktree, &numstat_args)?, &numstat_args)?;
    for file in &mut files {
        file.lines = lines.get(&file.path).copied().flatten();
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Changes { tree_id, files })
}

/// Parses `git diff-tree -r -z --raw` output: `:mode mode old new STATUS\0path\0[path\0]`.
fn parse_raw(stdout: &str, args: &[&str]) -> Result<Vec<FileChange>, Error> {
    let bad = |problem: &str| Error::Output { args: args.join(" "), problem: problem.to_owned() };
    let mut fields = stdout.split('\0').filter(|field| !field.is_empty());
    let mut files = Vec::new();
    while let Some(header) = fields.next() {
        let parts: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let [_, _, _, new_blob, status] = parts[..] else {
            return Err(bad("a --raw header has not five fields"));
        };
        let mut path = || fields.next().map(str::to_owned).ok_or_else(|| bad("a path is missing"));
        let blob_id = Some(new_blob.to_owned()).filter(|blob| blob.bytes().any(|b| b != b'0'));
        let file = match status.chars().next() {
            Some('A') => {
                FileChange { path: path()?, status: ChangeStatus::Added, lines: None, blob_id }
            }
            Some('M' | 'T') => {
                FileChange { path: path()?, status: ChangeStatus::Modified, lines: None, blob_id }
            }
            Some('D') => FileChange {
                path: path()?,
                status: ChangeStatus::Deleted,
                lines: None,
                blob_id: None,
            },
            Some('R') => {
                let from = path()?;
                FileChange {
                    path: path()?,
                    status: ChangeStatus::Renamed { from },
                    lines: None,
                    blob_id,
                }
            }
            _ => return Err(bad(&format!("unknown status {status:?}"))),
        };
        files.push(file);
    }
    Ok(files)
}

/// Parses `git diff-tree -r -z --numstat` output into lines added and removed by new path.
///
/// Each entry is `added\tremoved\tpath\0`, or `added\tremoved\t\0old\0new\0` for a rename;
/// binary files show `-` for both counts.
fn parse_numstat(
    stdout: &str,
    args: &[&str],
) -> Result<BTreeMap<String, Option<(u64, u64)>>, Error> {
    let bad = |problem: &str| Error::Output { args: args.join(" "), problem: problem.to_owned() };
    let mut fields = stdout.split('\0');
    let mut lines = BTreeMap::new();
    while let Some(entry) = fields.next().filter(|field| !field.is_empty()) {
        let mut parts = entry.splitn(3, '\t');
        let (Some(added), Some(removed), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("a --numstat entry has not three fields"));
        };
        let path = if path.is_empty() {
            fields.next(); // The old path of a rename.
            fields.next().ok_or_else(|| bad("a renamed path is missing"))?
        } else {
            path
        };
        let counts = match (added.parse(), removed.parse()) {
            (Ok(added), Ok(removed)) => Some((added, removed)),
            _ => None,
        };
        lines.insert(path.to_owned(), counts);
    }
    Ok(lines)
}
