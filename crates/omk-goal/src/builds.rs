//! Warm builds: the build directory a goal's gates use in a worktree, seeded from what the
//! user's checkout has already built (`docs/sandbox.md#warm-builds`).
//!
//! For a Cargo project (a `Cargo.toml` at the worktree's root) the gates get
//! `CARGO_TARGET_DIR=.omk/cache/build/cargo/<worktree>`, one directory per worktree, which only
//! that worktree's gates may write. The first gate run in a worktree seeds it with a copy of the
//! user's `target/debug` (never written: the copy is made by reading it), and every file of the
//! copy gets a modification time before the oldest file of the worktree, so that Cargo rebuilds
//! every unit of the worktree's own packages and keeps only what their sources cannot change
//! (registry dependencies, which Cargo fingerprints by version, not by time). Before every gate
//! run, a worktree source file whose modification time is older than its change time (set back by
//! `touch -d`, or moved in by `mv`) gets the current time, so Cargo never takes a unit built
//! before that file changed for fresh.
//!
//! One directory shared by several worktrees would not be safe: a unit built in one worktree at
//! a later time than another worktree's sources would look fresh to the other.

use std::{
    fs, io,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::layout::STATE_DIR;

/// The environment variable that turns warm builds off (`0`, `false`, `off` or `no`).
pub(crate) const SHARED_BUILDS_ENV: &str = "OMK_SHARED_BUILDS";

/// The file that marks a build directory as seeded, holding its worktree's path.
const SEEDED: &str = ".omk-seeded";

/// The profile directories of the user's target directory that seed a build directory: the one
/// `cargo build` and `cargo test` use.
const SEED_PROFILES: &[&str] = &["debug"];

/// Directories of a profile that are not copied: incremental compilation state, which only the
/// worktree's own packages use, and they are rebuilt anyway.
const SKIPPED: &[&str] = &["incremental"];

/// How much older than the worktree's oldest file the seeded files are made.
const SEED_MARGIN: Duration = Duration::from_secs(1);

/// Returns whether warm builds are on: `[cache] shared_builds` (`config`), unless the
/// environment says `OMK_SHARED_BUILDS=0`.
pub(crate) fn enabled(config: bool, environment: &[(String, String)]) -> bool {
    let off = environment.iter().any(|(name, value)| {
        name == SHARED_BUILDS_ENV
            && matches!(value.trim().to_ascii_lowercase().as_str(), "0" | "false" | "off" | "no")
    });
    config && !off
}

/// Where the gates of a repository's worktrees build, and what seeds them.
#[derive(Debug, Clone)]
pub(crate) struct SharedBuilds {
    /// `.omk/cache/build`.
    root: PathBuf,
    /// The repository root, which names the worktrees beneath it.
    repo_root: PathBuf,
    /// The user's Cargo target directory: `CARGO_TARGET_DIR` of the environment (relative to
    /// the repository root), else `target` of the checkout. Only ever read.
    cargo_seed: PathBuf,
}

impl SharedBuilds {
    /// Returns the warm builds of the repository at `repo_root`, under `root`, seeded from the
    /// checkout's target directory as `environment` names it.
    pub(crate) fn new(root: PathBuf, repo_root: &Path, environment: &[(String, String)]) -> Self {
        let target = environment
            .iter()
            .find(|(name, value)| name == "CARGO_TARGET_DIR" && !value.is_empty())
            .map_or_else(|| repo_root.join("target"), |(_, value)| repo_root.join(value));
        Self { root, repo_root: repo_root.to_owned(), cargo_seed: target }
    }

    /// Returns the Cargo build directory of the gates in `worktree` (created by [`Self::prepare`]).
    pub(crate) fn cargo_dir(&self, worktree: &Path) -> PathBuf {
        self.root.join("cargo").join(dir_name(&self.repo_root, worktree))
    }

    /// Prepares the build directory of the gates in `worktree` and returns it, or `None` when the
    /// worktree is no Cargo project: gives worktree files set back in time the current time,
    /// removes the build directories of worktrees that are gone, and seeds this worktree's on
    /// its first use.
    ///
    /// A seed that cannot be copied is left out (the gates build from nothing); only a build
    /// directory that cannot be made at all is an error.
    pub(crate) fn prepare(&self, worktree: &Path) -> io::Result<Option<PathBuf>> {
        if !worktree.join("Cargo.toml").is_file() {
            return Ok(None);
        }
        let oldest = refresh_times(worktree)?;
        let dir = self.cargo_dir(worktree);
        self.sweep(&dir);
        if dir.join(SEEDED).is_file() {
            return Ok(Some(dir));
        }
        let parent = dir.parent().unwrap_or(&self.root).to_owned();
        fs::create_dir_all(&parent)?;
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let staging = parent.join(format!(".{name}.seeding"));
        remove_if_present(&staging)?;
        remove_if_present(&dir)?;
        fs::create_dir(&staging)?;
        let latest = oldest.checked_sub(SEED_MARGIN).unwrap_or(UNIX_EPOCH);
        for profile in SEED_PROFILES {
            let from = self.cargo_seed.join(profile);
            if !from.is_dir() {
                continue;
            }
            let to = staging.join(profile);
            if let Err(err) = copy_tree(&from, &to, latest) {
                tracing::warn!(seed = %from.display(), %err, "the gates build without the seed");
                remove_if_present(&to)?;
            }
        }
        fs::write(staging.join(SEEDED), worktree.display().to_string())?;
        fs::rename(&staging, &dir)?;
        Ok(Some(dir))
    }

    /// Removes the Cargo build directories whose worktree is gone, except `keep`.
    fn sweep(&self, keep: &Path) {
        let Ok(entries) = fs::read_dir(self.root.join("cargo")) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path == keep || entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(worktree) = fs::read_to_string(path.join(SEEDED)) else { continue };
            if !Path::new(&worktree).exists() {
                // A directory another process removes at the same time is gone either way.
                fs::remove_dir_all(&path).ok();
            }
        }
    }
}

/// Returns the name of the build directory of `worktree`: its path relative to the repository's
/// state directory (or root, or the whole path), with `/` as `+` and `+` and `%` escaped.
fn dir_name(repo_root: &Path, worktree: &Path) -> String {
    let omk = repo_root.join(STATE_DIR);
    let relative = worktree
        .strip_prefix(&omk)
        .or_else(|_| worktree.strip_prefix(repo_root))
        .unwrap_or(worktree);
    let parts: Vec<String> = relative
        .components()
        .filter_map(|it| match it {
            std::path::Component::Normal(part) => {
                Some(part.to_string_lossy().replace('%', "%25").replace('+', "%2B"))
            }
            _ => None,
        })
        .collect();
    if parts.is_empty() { "root".to_owned() } else { parts.join("+") }
}

/// Gives every file of `worktree` (outside `.git`, `.omk`, `node_modules` and build output
/// directories, which hold a `CACHEDIR.TAG`) whose modification time is older than its change
/// time the current time, and returns the oldest modification time then.
fn refresh_times(worktree: &Path) -> io::Result<SystemTime> {
    let mut oldest = SystemTime::now();
    let mut pending = vec![worktree.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if dir == worktree && (entry.file_name() == ".git" || entry.file_name() == STATE_DIR) {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                // Build output (Cargo marks its target directories with CACHEDIR.TAG) is no
                // source: its times are Cargo's own record, and moving one forward would make
                // an output look newer than the change it predates.
                let path = entry.path();
                if entry.file_name() != "node_modules" && !path.join("CACHEDIR.TAG").exists() {
                    pending.push(path);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let meta = entry.metadata()?;
            let modified = meta.modified()?;
            let changed = UNIX_EPOCH
                + Duration::new(
                    u64::try_from(meta.ctime()).unwrap_or(0),
                    u32::try_from(meta.ctime_nsec()).unwrap_or(0),
                );
            let modified = if modified + SEED_MARGIN < changed {
                let now = SystemTime::now();
                fs::File::open(entry.path())?.set_modified(now)?;
                now
            } else {
                modified
            };
            oldest = oldest.min(modified);
        }
    }
    Ok(oldest)
}

/// Copies the tree `from` to `to` (which must not exist): files by content (a reflink where the
/// file system makes one), symbolic links as links, every file's modification time kept but at
/// most `latest`. Nothing is written beneath `from`.
fn copy_tree(from: &Path, to: &Path, latest: SystemTime) -> io::Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !SKIPPED.iter().any(|it| entry.file_name() == *it) {
                copy_tree(&source, &target, latest)?;
            }
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&source)?, &target)?;
        } else if kind.is_file() {
            let modified = entry.metadata()?.modified()?;
            fs::copy(&source, &target)?;
            fs::File::open(&target)?.set_modified(modified.min(latest))?;
        }
    }
    Ok(())
}

/// Removes the directory `path` with everything in it, when it exists.
fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_environment_turns_warm_builds_off() {
        assert!(enabled(true, &env(&[])));
        assert!(enabled(true, &env(&[("OMK_SHARED_BUILDS", "1")])));
        for off in ["0", "false", "OFF", "no"] {
            assert!(!enabled(true, &env(&[("OMK_SHARED_BUILDS", off)])), "{off}");
        }
        assert!(!enabled(false, &env(&[("OMK_SHARED_BUILDS", "1")])));
    }

    #[test]
    fn each_worktree_has_its_own_directory() {
        let root = Path::new("/r");
        assert_eq!(dir_name(root, Path::new("/r/.omk/worktrees/g-1")), "worktrees+g-1");
        assert_eq!(
            dir_name(root, Path::new("/r/.omk/goals/g-1/verify-2/worktree")),
            "goals+g-1+verify-2+worktree"
        );
        assert_eq!(dir_name(root, Path::new("/r/.omk/worktrees/a+b")), "worktrees+a%2Bb");
        assert_ne!(
            dir_name(root, Path::new("/r/.omk/worktrees/a+b")),
            dir_name(root, Path::new("/r/.omk/worktrees/a/b"))
        );
        assert_eq!(dir_name(root, Path::new("/elsewhere/wt")), "elsewhere+wt");
    }

    #[test]
    fn a_seed_is_older_than_the_worktree_and_the_user_target_is_untouched() {
        let temp = tempfile::tempdir().expect("temp dir");
        let repo = temp.path().join("repo");
        let worktree = repo.join(".omk/worktrees/g");
        fs::create_dir_all(worktree.join("src")).expect("worktree");
        fs::write(worktree.join("Cargo.toml"), "[package]\n").expect("manifest");
        fs::write(worktree.join("src/lib.rs"), "").expect("source");
        // The user built after the worktree was made: its outputs are newer than its files.
        let unit = repo.join("target/debug/deps/libx.rlib");
        fs::create_dir_all(unit.parent().expect("parent")).expect("target");
        fs::create_dir_all(repo.join("target/debug/incremental/x")).expect("incremental");
        fs::write(&unit, "rlib").expect("unit");
        let future = SystemTime::now() + Duration::from_secs(3600);
        fs::File::open(&unit).expect("open").set_modified(future).expect("set time");
        let builds = SharedBuilds::new(repo.join(".omk/cache/build"), &repo, &[]);

        let dir = builds.prepare(&worktree).expect("prepare").expect("a Cargo project");

        assert_eq!(dir, repo.join(".omk/cache/build/cargo/worktrees+g"));
        let copied = fs::metadata(dir.join("debug/deps/libx.rlib")).expect("copied");
        let source = fs::metadata(worktree.join("src/lib.rs")).expect("source");
        assert!(copied.modified().expect("time") < source.modified().expect("time"));
        assert!(!dir.join("debug/incremental").exists(), "incremental state is not copied");
        assert_eq!(fs::metadata(&unit).expect("unit").modified().expect("time"), future);
        assert_eq!(fs::read(&unit).expect("unit"), b"rlib");
        // Seeded once: a later build's output stays.
        fs::write(dir.join("debug/deps/new"), "").expect("output");
        builds.prepare(&worktree).expect("prepare again");
        assert!(dir.join("debug/deps/new").is_file());
    }

    #[test]
    fn a_file_set_back_in_time_gets_the_current_time_and_gone_worktrees_are_swept() {
        let temp = tempfile::tempdir().expect("temp dir");
        let repo = temp.path().join("repo");
        let (one, two) = (repo.join(".omk/worktrees/a"), repo.join(".omk/worktrees/b"));
        for worktree in [&one, &two] {
            fs::create_dir_all(worktree).expect("worktree");
            fs::write(worktree.join("Cargo.toml"), "[package]\n").expect("manifest");
        }
        let builds = SharedBuilds::new(repo.join(".omk/cache/build"), &repo, &[]);
        let gone = builds.prepare(&two).expect("prepare").expect("a Cargo project");
        fs::remove_dir_all(&two).expect("remove worktree");
        let old = SystemTime::now() - Duration::from_secs(86_400);
        fs::File::open(one.join("Cargo.toml")).expect("open").set_modified(old).expect("set");

        let output = one.join("target/debug/two");
        fs::create_dir_all(output.parent().expect("parent")).expect("target");
        fs::write(one.join("target/CACHEDIR.TAG"), "").expect("tag");
        fs::write(&output, "").expect("output");
        fs::File::open(&output).expect("open").set_modified(old).expect("set");

        builds.prepare(&one).expect("prepare");

        let kept = fs::metadata(&output).expect("meta").modified().expect("time");
        assert_eq!(kept, old, "build output keeps the time Cargo gave it");
        let modified = fs::metadata(one.join("Cargo.toml")).expect("meta").modified().expect("t");
        assert!(modified > old + Duration::from_secs(3600), "the set-back time is refreshed");
        assert!(!gone.exists(), "the build directory of a removed worktree is removed");
        assert_eq!(builds.prepare(&repo.join("nothing")).ok().flatten(), None);
    }
}
