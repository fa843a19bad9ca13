//! A generated repository of many files, shared by the tests and the benchmarks.

use std::{
    fs,
    path::{Path, PathBuf},
};

pub(crate) use omk_testkit::git;

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
