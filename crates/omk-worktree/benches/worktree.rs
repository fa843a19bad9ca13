//! Benchmarks of omk-worktree on a generated 20,000-file repository, each against the git
//! command that does the same job, run in the same process (the `baseline_git_*` functions), so
//! `cargo xtask bench` reports omk's time as a ratio of git's.
//!
//! - `create_worktree_20k`: [`omk_worktree::create`] against `git worktree add -b`.
//! - `changed_files_100_edits_20k`: [`omk_worktree::capture_changes`] (snapshot tree, renames,
//!   line counts) against `git status --porcelain=v2 --untracked-files=all`.
//! - `merge_check_20k`: [`omk_worktree::merge_check`] against `git merge-tree --write-tree`.
//! - `fingerprint_checkout_20k`: [`omk_worktree::fingerprint_checkout`] of a checkout with a
//!   hundred edits (status, refs, index, config, hooks, and the content of every listed file)
//!   against `git status --porcelain=v2 --untracked-files=all`.

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};

use omk_sandbox::Sandbox;
use omk_worktree::CreateOptions;

#[path = "../tests/it/fixture.rs"]
mod fixture;

const FILES: usize = 20_000;

fn git_status(dir: &Path, args: &[&str]) {
    let status = omk_testkit::git_command(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

fn create(criterion: &mut Criterion) {
    let (dir, repo, base) = generated_repo();
    let root = repo.root.clone();
    let mut group = criterion.benchmark_group("create_worktree_20k");
    group.sample_size(10);
    let mut counter = 0;
    let mut next = || {
        counter += 1;
        (dir.path().join(format!("wt{counter}")), format!("omk/bench{counter}"))
    };
    // Worktrees are moved aside and deleted only after both functions ran. On an ext4 file system
    // without a journal, creating a file skips every inode freed in the last minute or more, one by
    // one, so deleting each worktree right away made the next creation pay for it, and the
    // function that ran second paid for all the deletions of the first.
    let graveyard = dir.path().join("graveyard");
    fs::create_dir(&graveyard).expect("create the graveyard of benchmark worktrees");
    let mut buried = 0;
    let mut cleanup = |path: &Path| {
        buried += 1;
        fs::rename(path, graveyard.join(buried.to_string())).expect("move the worktree aside");
        fixture::git(&root, &["worktree", "prune"]);
    };
    group.bench_function("baseline_git_worktree_add", |bencher| {
        bencher.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (path, branch) = next();
                let path_text = path.to_str().expect("temp paths are UTF-8");
                let started = Instant::now();
                git_status(&root, &["worktree", "add", "--quiet", "-b", &branch, path_text, &base]);
                total += started.elapsed();
                cleanup(&path);
            }
            total
        });
    });
    group.bench_function("omk_create", |bencher| {
        bencher.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let (path, branch) = next();
                let options = CreateOptions {
                    path: &path,
                    branch: &branch,
                    base_commit: &base,
                    copy: &[],
                    setup: &[],
                    sandbox: &Sandbox::direct(),
                };
                let started = Instant::now();
                omk_worktree::create(&repo, &options).expect("create a worktree");
                total += started.elapsed();
                cleanup(&path);
            }
            total
        });
    });
    group.finish();
    fs::remove_dir_all(&graveyard).expect("remove the benchmark's worktrees");
}

/// Generates the 20,000-file repository; returns its directory, the repository and its HEAD.
fn generated_repo() -> (tempfile::TempDir, omk_worktree::Repo, String) {
    let dir = tempfile::tempdir().expect("the benchmark needs a temporary directory");
    let root = fixture::many_files_repo(dir.path(), FILES);
    let repo = omk_worktree::open(&root).expect("open the generated repository");
    let base = omk_worktree::head(&repo).expect("the repository has a commit").commit;
    (dir, repo, base)
}

/// Creates a worktree on `branch` from `base` and makes the fixture's hundred edits in it.
fn edited_worktree(
    dir: &tempfile::TempDir,
    repo: &omk_worktree::Repo,
    base: &str,
    branch: &str,
) -> std::path::PathBuf {
    let path = dir.path().join("wt");
    let options = CreateOptions {
        path: &path,
        branch,
        base_commit: base,
        copy: &[],
        setup: &[],
        sandbox: &Sandbox::direct(),
    };
    omk_worktree::create(repo, &options).expect("create a worktree");
    fixture::hundred_edits(&path);
    path
}

fn changed_files(criterion: &mut Criterion) {
    let (dir, repo, base) = generated_repo();
    let path = edited_worktree(&dir, &repo, &base, "omk/edits");
    let mut group = criterion.benchmark_group("changed_files_100_edits_20k");
    group.sample_size(10);
    group.bench_function("baseline_git_status_porcelain_v2_untracked_all", |bencher| {
        bencher.iter(|| {
            git_status(&path, &["status", "--porcelain=v2", "--untracked-files=all"]);
        });
    });
    group.bench_function("omk_capture_changes", |bencher| {
        bencher.iter(|| omk_worktree::capture_changes(&path, &base).expect("capture changes"));
    });
    group.finish();
}

fn merge_check(criterion: &mut Criterion) {
    let (dir, repo, base) = generated_repo();
    let root = repo.root.clone();
    let path = edited_worktree(&dir, &repo, &base, "omk/agent");
    fixture::git(&path, &["add", "--all"]);
    fixture::git(&path, &["commit", "--quiet", "-m", "agent"]);
    // The user moves main meanwhile: 5 of the agent's files conflict, 20 others are clean.
    for n in 0..25 {
        let file = fixture::file_path(if n < 5 { n * 97 } else { n * 89 + 1 });
        fs::write(root.join(&file), format!("main's version {n}\n")).expect("write file");
    }
    fixture::git(&root, &["commit", "--quiet", "-am", "main moves"]);
    let mut group = criterion.benchmark_group("merge_check_20k");
    group.sample_size(20);
    group.bench_function("baseline_git_merge_tree_write_tree", |bencher| {
        bencher.iter(|| {
            // Exit code 1 means conflicts, which this merge has.
            omk_testkit::git_command(&root)
                .args(["merge-tree", "--write-tree", "main", "omk/agent"])
                .output()
                .expect("git runs")
        });
    });
    group.bench_function("omk_merge_check", |bencher| {
        bencher.iter(|| {
            let check = omk_worktree::merge_check(&repo, "main", "omk/agent").expect("merge check");
            assert_eq!(check.conflicts.len(), 5);
        });
    });
    group.finish();
}

fn fingerprint(criterion: &mut Criterion) {
    let (_dir, repo, _base) = generated_repo();
    // The user's own checkout, with work in progress: omk hashes every file status lists.
    fixture::hundred_edits(&repo.root);
    let mut group = criterion.benchmark_group("fingerprint_checkout_20k");
    group.sample_size(10);
    group.bench_function("baseline_git_status_porcelain_v2_untracked_all", |bencher| {
        bencher.iter(|| {
            git_status(&repo.root, &["status", "--porcelain=v2", "--untracked-files=all"]);
        });
    });
    group.bench_function("omk_fingerprint_checkout", |bencher| {
        bencher.iter(|| {
            omk_worktree::fingerprint_checkout(&repo, &["refs/heads/omk/"]).expect("fingerprint")
        });
    });
    group.finish();
}

criterion_group!(benches, create, changed_files, merge_check, fingerprint);
criterion_main!(benches);
