//! A generated repository of many files, shared by the tests and the benchmarks.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// Runs git hermetically in `dir` and returns its trimmed stdout; panics if git fails.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-11-21T20:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-21T20:00:00Z")
        .output()
        .expect("git runs in tests");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Creates a repository at `dir/repo` with `n_files` files of 20 lines in directories of 50,
/// committed on `main`, and returns its root.
pub(crate) fn many_files_repo(dir: &Path, n_files: usize) -> PathBuf {
    let root = dir.join("repo");
    fs::create_dir_all(&root).expect("create repo dir");
    git(&root, &["init", "--quiet", "--initial-branch=main"]);
    // No background gc racing the test; the objects are packed once below, as a clone has them.
    git(&root, &["config", "gc.auto", "0"]);
    for file_idx in 0..n_files {
        let path = root.join(file_path(file_idx));
        if file_idx % 50 == 0 {
            fs::create_dir_all(path.parent().expect("files are in a directory")).expect("mkdir");
        }
        let content: String =
            (0..20).map(|line| format!("file {file_idx} line {line}\n")).collect();
        fs::write(path, content).expect("write file");
    }
    git(&root, &["add", "--all"]);
    git(&root, &["commit", "--quiet", "-m", "many files"]);
    git(&root, &["repack", "-a", "-d", "-q"]);
    git(&root, &["prune-packed"]);
    root
}

/// The path of file `file_idx` of [`many_files_repo`], relative to its root.
pub(crate) fn file_path(file_idx: usize) -> String {
    format!("dir{:03}/file{:05}.txt", file_idx / 50, file_idx)
}

/// Makes 100 edits in `worktree`: 60 files modified, 20 deleted and 20 new untracked ones.
pub(crate) fn hundred_edits(worktree: &Path) {
    for n in 0..60 {
        let path = worktree.join(file_path(n * 97));
        let mut content = fs::read_to_string(&path).expect("read file");
        content.push_str("one more line\n");
        fs::write(path, content).expect("write file");
    }
    for n in 0..20 {
        fs::remove_file(worktree.join(file_path(n * 97 + 13))).expect("remove file");
    }
    fs::create_dir_all(worktree.join("new")).expect("mkdir");
    for n in 0..20 {
        fs::write(worktree.join(format!("new/untracked{n}.txt")), format!("new {n}\n"))
            .expect("write file");
    }
}
