//! Tests of omk-worktree against real git repositories in temporary directories.

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use omk_sandbox::Sandbox;
use omk_worktree::{ChangeStatus, CreateOptions, Error};

use crate::fixture::git;

mod diff;
mod fixture;
mod remote;
mod restore;
mod scratch;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Creates a repository with one commit of `files` on branch `main`.
fn repo_with(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("repo");
    fs::create_dir(&root).expect("create repo dir");
    git(&root, &["init", "--quiet", "--initial-branch=main"]);
    for (path, content) in files {
        write(&root, path, content);
    }
    git(&root, &["add", "--all"]);
    git(&root, &["commit", "--quiet", "--allow-empty", "-m", "base"]);
    (dir, root)
}

/// Returns `err` and its sources as one line, as omk shows errors (`omk_events::error_chain`,
/// which this crate may not depend on).
fn chain(err: &dyn std::error::Error) -> String {
    let causes = std::iter::successors(Some(err), |it| it.source());
    causes.map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().expect("file paths have a parent")).expect("create dirs");
    fs::write(path, content).expect("write file");
}

#[test]
fn open_finds_the_root_from_a_subdirectory() -> TestResult {
    let (_dir, root) = repo_with(&[("src/lib.txt", "x\n")]);
    let repo = omk_worktree::open(&root.join("src"))?;
    assert_eq!(repo.root.canonicalize()?, root.canonicalize()?);
    assert_eq!(repo.common_dir.canonicalize()?, root.join(".git").canonicalize()?);
    Ok(())
}

#[test]
fn open_rejects_plain_and_missing_directories() -> TestResult {
    let dir = tempfile::tempdir()?;
    let err = omk_worktree::open(dir.path()).unwrap_err();
    assert!(matches!(err, Error::NotARepository { .. }), "{err:?}");
    assert!(err.to_string().ends_with(
        "is not inside a git repository; run `git init` there or pass -C with a repository"
    ));
    let err = omk_worktree::open(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, Error::NoSuchDirectory { .. }), "{err:?}");
    Ok(())
}

#[test]
fn head_names_the_branch_and_commit() -> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let head = omk_worktree::head(&repo)?;
    assert_eq!(head.branch.as_deref(), Some("main"));
    assert_eq!(head.commit, git(&root, &["rev-parse", "HEAD"]));
    git(&root, &["checkout", "--quiet", "--detach"]);
    assert_eq!(omk_worktree::head(&repo)?.branch, None);
    Ok(())
}

#[test]
fn head_of_an_empty_repository_is_an_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    git(dir.path(), &["init", "--quiet"]);
    let repo = omk_worktree::open(dir.path())?;
    assert!(matches!(omk_worktree::head(&repo), Err(Error::NoCommits { .. })));
    Ok(())
}

#[test]
fn changes_come_from_git_and_leave_the_worktree_alone() -> TestResult {
    let (dir, root) = repo_with(&[
        ("keep.txt", "same\n"),
        ("edit.txt", "one\ntwo\nthree\n"),
        ("gone.txt", "bye\n"),
        ("old/name.txt", "a fairly long line so that rename detection has content to match\n"),
        (".gitignore", "*.log\n"),
    ]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = dir.path().join("wt");
    let worktree = omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &path,
            branch: "omk/g1",
            base_commit: &base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )?;
    assert_eq!(git(&path, &["branch", "--show-current"]), "omk/g1");

    write(&path, "edit.txt", "one\n2\nthree\nfour\n");
    fs::remove_file(path.join("gone.txt"))?;
    fs::create_dir_all(path.join("new"))?;
    fs::rename(path.join("old/name.txt"), path.join("new/name.txt"))?;
    write(&path, "added/untracked.txt", "hello\n");
    write(&path, "debug.log", "ignored\n");
    fs::write(path.join("blob.bin"), [0u8, 1, 2, 0, 255])?;
    let status_before = git(&path, &["status", "--porcelain"]);

    let changes = omk_worktree::capture_changes(&worktree.path, &base)?;
    let summary: Vec<String> = changes
        .files
        .iter()
        .map(|file| {
            let status = match &file.status {
                ChangeStatus::Renamed { from } => format!("R {from} ->"),
                other => format!("{other:?}"),
            };
            format!("{status} {} {:?} blob={}", file.path, file.lines, file.blob_id.is_some())
        })
        .collect();
    assert_eq!(
        summary,
        [
            "Added added/untracked.txt Some((1, 0)) blob=true",
            "Added blob.bin None blob=true",
            "Modified edit.txt Some((2, 1)) blob=true",
            "Deleted gone.txt Some((0, 1)) blob=false",
            "R old/name.txt -> new/name.txt Some((0, 0)) blob=true",
        ]
    );
    // The tree is what `git add --all && git write-tree` gives.
    git(&path, &["add", "--all"]);
    assert_eq!(changes.tree_id, git(&path, &["write-tree"]));
    git(&path, &["reset", "--quiet"]);
    assert_eq!(git(&path, &["status", "--porcelain"]), status_before, "the worktree is untouched");
    assert_eq!(git(&root, &["status", "--porcelain"]), "", "the user's checkout is untouched");
    Ok(())
}

#[test]
fn an_unchanged_worktree_has_no_changes_and_the_base_tree() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = dir.path().join("wt");
    omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &path,
            branch: "omk/g",
            base_commit: &base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )?;
    let changes = omk_worktree::capture_changes(&path, &base)?;
    assert_eq!(changes.files, []);
    assert_eq!(changes.tree_id, git(&root, &["rev-parse", "HEAD^{tree}"]));
    Ok(())
}

#[test]
fn create_refuses_an_existing_path_or_branch() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let taken = dir.path().join("taken");
    fs::create_dir(&taken)?;
    let err = omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &taken,
            branch: "omk/a",
            base_commit: &base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::PathExists { .. }), "{err:?}");

    git(&root, &["branch", "omk/b"]);
    let fresh = dir.path().join("fresh");
    let err = omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &fresh,
            branch: "omk/b",
            base_commit: &base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::BranchExists { .. }), "{err:?}");
    assert!(err.to_string().contains("create branch omk/b: it already exists"), "{err}");
    assert!(!fresh.exists(), "a failed create leaves no directory");
    Ok(())
}

#[test]
fn remove_deletes_a_clean_worktree_and_refuses_a_dirty_one() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let clean = dir.path().join("clean");
    omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &clean,
            branch: "omk/c",
            base_commit: &base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )?;
    omk_worktree::remove(&repo, &clean)?;
    assert!(!clean.exists());
    assert!(!git(&root, &["worktree", "list"]).contains("clean"));
    assert_eq!(git(&root, &["branch", "--list", "omk/c"]), "omk/c", "the branch is kept");

    let dirty = dir.path().join("dirty");
    omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &dirty,
            branch: "omk/d",
            base_commit: &base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )?;
    write(&dirty, "work.txt", "unsaved work\n");
    let err = omk_worktree::remove(&repo, &dirty).unwrap_err();
    assert!(chain(&err).contains("dirty"), "{}", chain(&err));
    assert_eq!(fs::read_to_string(dirty.join("work.txt"))?, "unsaved work\n", "no work is lost");
    Ok(())
}

#[test]
fn exclude_adds_a_pattern_once() -> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    omk_worktree::exclude(&repo, "/.omk/")?;
    omk_worktree::exclude(&repo, "/.omk/")?;
    let text = fs::read_to_string(root.join(".git/info/exclude"))?;
    assert_eq!(text.lines().filter(|line| *line == "/.omk/").count(), 1);
    write(&root, ".omk/goals/x/events.jsonl", "{}\n");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    Ok(())
}

#[test]
fn init_with_commit_makes_a_repository_with_one_commit() -> TestResult {
    let dir = tempfile::tempdir()?;
    write(dir.path(), "a.txt", "a\n");
    let identity = omk_worktree::Identity { name: "Demo", email: "demo@example.invalid" };
    let repo = omk_worktree::init_with_commit(dir.path(), "trunk", "first", identity)?;
    let head = omk_worktree::head(&repo)?;
    assert_eq!(head.branch.as_deref(), Some("trunk"));
    assert_eq!(
        git(dir.path(), &["log", "--format=%an <%ae> %s"]),
        "Demo <demo@example.invalid> first"
    );
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    Ok(())
}

const IDENTITY: omk_worktree::Identity<'static> =
    omk_worktree::Identity { name: "omk", email: "omk@example.invalid" };

/// Creates worktree `omk/<name>` at `dir/<name>` from `base`.
fn worktree(repo: &omk_worktree::Repo, dir: &Path, name: &str, base: &str) -> PathBuf {
    let path = dir.join(name);
    let branch = format!("omk/{name}");
    omk_worktree::create(
        repo,
        &CreateOptions {
            path: &path,
            branch: &branch,
            base_commit: base,
            copy: &[],
            setup: &[],
            sandbox: &Sandbox::direct(),
        },
    )
    .expect("create worktree");
    path
}

fn commit_all(path: &Path, goal: &str) -> omk_worktree::Commit {
    let options = omk_worktree::CommitOptions {
        identity: IDENTITY,
        message: "agent change",
        goal_id: goal,
        time: 1_795_000_000,
    };
    omk_worktree::commit(path, &options).expect("commit").expect("something to commit")
}

#[test]
fn commit_records_everything_with_a_goal_trailer_and_leaves_status_clean() -> TestResult {
    let (dir, root) =
        repo_with(&[("a.txt", "a\n"), ("gone.txt", "x\n"), (".gitignore", "*.log\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = worktree(&repo, dir.path(), "g1", &base);
    write(&path, "a.txt", "changed\n");
    write(&path, "new/file.txt", "new\n");
    write(&path, "debug.log", "ignored\n");
    fs::remove_file(path.join("gone.txt"))?;
    let captured = omk_worktree::capture_changes(&path, &base)?;

    let commit = commit_all(&path, "g1");
    assert_eq!(commit.parent, base);
    assert_eq!(commit.tree_id, captured.tree_id, "the commit holds the captured tree");
    assert_eq!(git(&path, &["rev-parse", "omk/g1"]), commit.id, "the branch moved");
    assert_eq!(
        git(&path, &["log", "-1", "--format=%an <%ae>%n%B"]),
        "omk <omk@example.invalid>\nagent change\n\nOmk-Goal: g1"
    );
    assert_eq!(git(&path, &["status", "--porcelain"]), "", "clean; the ignored file stays ignored");
    assert_eq!(git(&path, &["diff-files", "--name-only"]), "", "the index has fresh stats");
    git(&root, &["fsck", "--strict"]);
    let options = omk_worktree::CommitOptions {
        identity: IDENTITY,
        message: "again",
        goal_id: "g1",
        time: 1_795_000_000,
    };
    assert_eq!(omk_worktree::commit(&path, &options)?, None, "nothing left to commit");
    Ok(())
}

#[test]
fn merge_check_lists_conflicts_like_git_merge_tree() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "one\n"), ("b.txt", "b\n"), ("src/deep/x.txt", "x\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let clean = worktree(&repo, dir.path(), "clean", &base);
    write(&clean, "c.txt", "c\n");
    // Both sides change the same nested directories, so the merged tree is written at depth.
    write(&clean, "src/deep/theirs.txt", "theirs\n");
    commit_all(&clean, "clean");
    let clash = worktree(&repo, dir.path(), "clash", &base);
    write(&clash, "a.txt", "theirs\n");
    commit_all(&clash, "clash");

    let check = omk_worktree::merge_check(&repo, "main", "omk/clean")?;
    assert_eq!(check.kind, omk_worktree::MergeKind::FastForward);
    assert_eq!(check.tree_id, git(&root, &["rev-parse", "omk/clean^{tree}"]));

    write(&root, "a.txt", "ours\n");
    write(&root, "src/deep/ours.txt", "ours\n");
    write(&root, "src/top.txt", "ours\n");
    git(&root, &["add", "--all"]);
    git(&root, &["commit", "--quiet", "-m", "main moves"]);
    let objects_before = git(&root, &["count-objects"]);
    let check = omk_worktree::merge_check(&repo, "main", "omk/clash")?;
    assert_eq!(check.kind, omk_worktree::MergeKind::ThreeWay);
    assert_eq!(check.conflicts, ["a.txt"]);
    let check = omk_worktree::merge_check(&repo, "main", "omk/clean")?;
    assert_eq!(check.conflicts, Vec::<String>::new());
    assert_eq!(git(&root, &["count-objects"]), objects_before, "nothing was written");
    let git_tree = git(&root, &["merge-tree", "--write-tree", "main", "omk/clean"]);
    assert_eq!(check.tree_id, git_tree, "the same tree as git merge-tree");
    Ok(())
}

/// Writes the tree `entries` (as `git ls-tree` prints them) with `git mktree`, which takes names
/// git never checks out; returns its id.
fn mktree(root: &Path, entries: &str) -> String {
    let mut child = omk_testkit::git_command(root)
        .arg("mktree")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git mktree starts");
    child.stdin.take().expect("piped").write_all(entries.as_bytes()).expect("write entries");
    let output = child.wait_with_output().expect("git mktree ends");
    assert!(output.status.success(), "git mktree failed");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn merge_check_refuses_a_merged_tree_with_a_name_git_forbids() -> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "one\n"), ("src/x.txt", "x\n")]);
    let repo = omk_worktree::open(&root)?;
    // A branch (an agent can make one with plumbing) whose src/ holds an entry named `.git`.
    let (a_blob, x_blob) =
        (git(&root, &["rev-parse", "HEAD:a.txt"]), git(&root, &["rev-parse", "HEAD:src/x.txt"]));
    let src = mktree(&root, &format!("100644 blob {x_blob}\t.git\n100644 blob {x_blob}\tx.txt\n"));
    let top = mktree(&root, &format!("100644 blob {a_blob}\ta.txt\n040000 tree {src}\tsrc\n"));
    let commit = git(&root, &["commit-tree", &top, "-p", "HEAD", "-m", "a .git entry"]);
    git(&root, &["branch", "omk/sneaky", &commit]);
    // main changes src/ too, so the merge writes a new src/ with the branch's entry in it.
    write(&root, "src/y.txt", "y\n");
    git(&root, &["add", "--all"]);
    git(&root, &["commit", "--quiet", "-m", "main moves"]);
    let err = omk_worktree::merge_check(&repo, "main", "omk/sneaky")
        .expect_err("a merged tree with a .git entry is no merge omk can make");
    assert!(format!("{err:?}").contains(".git"), "{err:?}");
    Ok(())
}

#[test]
fn merge_fast_forwards_commits_or_refuses_without_touching_local_work() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "one\n"), ("b.txt", "b\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let options = |branch| omk_worktree::MergeOptions {
        branch,
        target: "main",
        strategy: omk_worktree::MergeStrategy::Merge,
        message: "Merge omk goal",
        identity: IDENTITY,
        time: 1_795_000_000,
    };

    // Fast-forward of the checked-out main: git moves the user's files.
    let ff = worktree(&repo, dir.path(), "ff", &base);
    write(&ff, "c.txt", "c\n");
    let committed = commit_all(&ff, "ff");
    let merged = omk_worktree::merge(&repo, &options("omk/ff"))?;
    assert_eq!(merged, omk_worktree::Merged::FastForward { commit: committed.id.clone() });
    assert_eq!(fs::read_to_string(root.join("c.txt"))?, "c\n");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    assert_eq!(
        omk_worktree::merge(&repo, &options("omk/ff"))?,
        omk_worktree::Merged::UpToDate { commit: committed.id }
    );

    // Uncommitted work in the user's checkout on a path the merge changes: refused.
    let main_tip = git(&root, &["rev-parse", "HEAD"]);
    let edit = worktree(&repo, dir.path(), "edit", &main_tip);
    write(&edit, "b.txt", "agent\n");
    commit_all(&edit, "edit");
    write(&root, "b.txt", "user's unsaved edit\n");
    let err = omk_worktree::merge(&repo, &options("omk/edit")).unwrap_err();
    assert!(matches!(err, Error::DirtyCheckout { ref paths, .. } if paths == &["b.txt"]), "{err}");
    assert_eq!(fs::read_to_string(root.join("b.txt"))?, "user's unsaved edit\n");
    assert_eq!(git(&root, &["rev-parse", "HEAD"]), main_tip, "main did not move");
    git(&root, &["checkout", "--quiet", "--", "b.txt"]);

    // The base moved: a merge commit when clean, an error listing paths when not.
    write(&root, "d.txt", "user\n");
    git(&root, &["add", "d.txt"]);
    git(&root, &["commit", "--quiet", "-m", "user work"]);
    let merged = omk_worktree::merge(&repo, &options("omk/edit"))?;
    let omk_worktree::Merged::Committed { commit, squash: false } = merged else {
        panic!("expected a merge commit, got {merged:?}");
    };
    assert_eq!(git(&root, &["rev-parse", "HEAD"]), commit);
    assert_eq!(git(&root, &["log", "-1", "--format=%p"]).split(' ').count(), 2);
    assert_eq!(fs::read_to_string(root.join("b.txt"))?, "agent\n");
    assert_eq!(git(&root, &["status", "--porcelain"]), "");

    let tip = git(&root, &["rev-parse", "HEAD"]);
    let clash = worktree(&repo, dir.path(), "clash", &base);
    write(&clash, "b.txt", "other agent\n");
    commit_all(&clash, "clash");
    let err = omk_worktree::merge(&repo, &options("omk/clash")).unwrap_err();
    assert!(matches!(err, Error::Conflicts { ref paths, .. } if paths == &["b.txt"]), "{err}");
    assert_eq!(git(&root, &["rev-parse", "HEAD"]), tip);
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
    Ok(())
}

#[test]
fn merge_into_a_branch_nobody_has_checked_out_moves_only_the_ref() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "one\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    git(&root, &["branch", "release"]);
    git(&root, &["commit", "--quiet", "--allow-empty", "-m", "main moves on"]);
    let path = worktree(&repo, dir.path(), "g", &base);
    write(&path, "b.txt", "b\n");
    commit_all(&path, "g");
    let options = omk_worktree::MergeOptions {
        branch: "omk/g",
        target: "release",
        strategy: omk_worktree::MergeStrategy::Squash,
        message: "Squash omk goal g",
        identity: IDENTITY,
        time: 1_795_000_000,
    };
    let merged = omk_worktree::merge(&repo, &options)?;
    let omk_worktree::Merged::Committed { commit, squash: true } = merged else {
        panic!("expected a squash commit, got {merged:?}");
    };
    assert_eq!(git(&root, &["rev-parse", "release"]), commit);
    assert_eq!(git(&root, &["rev-parse", "release^"]), base, "one parent: the old tip");
    assert_eq!(git(&root, &["show", "release:b.txt"]), "b");
    assert!(!root.join("b.txt").exists(), "the user's checkout is untouched");
    Ok(())
}

#[test]
fn lock_list_and_unlock_agree_with_git() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = worktree(&repo, dir.path(), "leased", &base);
    let reason = omk_worktree::lease_reason("g-1", 4242);
    omk_worktree::lock(&repo, &path, &reason)?;
    assert!(
        git(&root, &["worktree", "list", "--porcelain"]).contains("locked omk goal g-1 pid 4242")
    );
    let listed = omk_worktree::list(&repo)?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].lock.as_deref(), Some(reason.as_str()));
    assert_eq!(listed[0].branch.as_deref(), Some("omk/leased"));
    assert_eq!(listed[0].head.as_deref(), Some(base.as_str()));
    assert_eq!(omk_worktree::parse_lease_reason(&reason), Some(("g-1", 4242)));
    let err = omk_worktree::remove(&repo, &path).unwrap_err();
    assert!(chain(&err).contains("lock"), "{}", chain(&err));
    omk_worktree::unlock(&repo, &path)?;
    assert_eq!(omk_worktree::list(&repo)?[0].lock, None);
    omk_worktree::remove(&repo, &path)?;
    assert_eq!(omk_worktree::list(&repo)?, []);
    Ok(())
}

#[test]
fn create_copies_listed_files_runs_setup_and_undoes_a_failed_setup() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n"), (".gitignore", ".env\n")]);
    write(&root, ".env", "SECRET=1\n");
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = dir.path().join("wt");
    let copy = [".env".to_owned(), "missing.txt".to_owned()];
    let setup = ["echo ready > setup.out".to_owned()];
    omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &path,
            branch: "omk/s",
            base_commit: &base,
            copy: &copy,
            setup: &setup,
            sandbox: &Sandbox::direct(),
        },
    )?;
    assert_eq!(fs::read_to_string(path.join(".env"))?, "SECRET=1\n");
    assert_eq!(fs::read_to_string(path.join("setup.out"))?, "ready\n");

    let failing = dir.path().join("failing");
    let setup = ["echo broken >&2; exit 3".to_owned()];
    let err = omk_worktree::create(
        &repo,
        &CreateOptions {
            path: &failing,
            branch: "omk/f",
            base_commit: &base,
            copy: &[],
            setup: &setup,
            sandbox: &Sandbox::direct(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::Setup { .. }), "{err:?}");
    assert!(err.to_string().contains("exit status: 3: broken"), "{err}");
    assert!(!failing.exists(), "the failed worktree is gone");
    assert_eq!(git(&root, &["branch", "--list", "omk/f"]), "", "and its branch");
    Ok(())
}

#[test]
fn gc_removes_only_finished_unheld_clean_and_merged_worktrees() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let omk_root = root.join(".omk/worktrees");
    let make = |goal: &str| worktree(&repo, &omk_root, goal, &base);
    let done = make("done");
    make("running");
    let live = make("live");
    omk_worktree::lock(&repo, &live, &omk_worktree::lease_reason("live", std::process::id()))?;
    let crashed = make("crashed");
    let mut exited = Command::new("true").spawn()?;
    let dead_pid = exited.id();
    exited.wait()?;
    omk_worktree::lock(&repo, &crashed, &omk_worktree::lease_reason("crashed", dead_pid))?;
    let dirty = make("dirty");
    write(&dirty, "unsaved.txt", "work\n");
    let ahead = make("ahead");
    write(&ahead, "b.txt", "b\n");
    commit_all(&ahead, "ahead");
    let foreign = make("foreign");
    omk_worktree::lock(&repo, &foreign, "on a USB stick")?;
    let outside = worktree(&repo, dir.path(), "outside", &base);

    let finished = |goal: &str| goal != "running";
    let summary = |entries: Vec<omk_worktree::GcEntry>| -> Vec<String> {
        entries
            .into_iter()
            .map(|entry| match entry.verdict {
                omk_worktree::GcVerdict::Kept(reason) => format!("{} kept: {reason}", entry.goal)
                    .replace(&std::process::id().to_string(), "PID"),
                other => format!("{} {other:?}", entry.goal),
            })
            .collect()
    };
    let options = omk_worktree::GcOptions {
        dry_run: true,
        root: &omk_root,
        is_finished: &finished,
        scratch_root: None,
    };
    let expected = |removed: &str| {
        vec![
            "ahead kept: 1 commit(s) on its branch are on no other branch".to_owned(),
            format!("crashed {removed}"),
            "dirty kept: 1 path(s) have uncommitted changes".to_owned(),
            format!("done {removed}"),
            "foreign kept: it is locked: on a USB stick".to_owned(),
            "live kept: a running omk process (pid PID) holds its lease".to_owned(),
            "running kept: its goal has not finished".to_owned(),
        ]
    };
    assert_eq!(summary(omk_worktree::gc(&repo, &options)?), expected("WouldRemove"));
    assert!(done.exists() && crashed.exists(), "a dry run removes nothing");

    let options = omk_worktree::GcOptions { dry_run: false, ..options };
    assert_eq!(summary(omk_worktree::gc(&repo, &options)?), expected("Removed"));
    assert!(!done.exists() && !crashed.exists());
    assert_eq!(git(&root, &["branch", "--list", "omk/done", "omk/crashed"]), "");
    assert_eq!(fs::read_to_string(dirty.join("unsaved.txt"))?, "work\n");
    assert!(outside.exists() && ahead.exists() && live.exists());
    let listed = git(&root, &["worktree", "list"]);
    assert!(!listed.contains("/done ") && listed.contains("/ahead "), "{listed}");
    Ok(())
}

#[test]
fn the_worktree_section_of_omk_toml_is_parsed_strictly() -> TestResult {
    let text = "[[gates]]\nname = \"t\"\ncommand = \"true\"\n\n[worktree]\ncopy = [\".env\"]\nsetup = [\"make deps\"]\nmerge = \"squash\"\n";
    let config = omk_worktree::parse_config(text)?;
    assert_eq!(config.copy, [".env"]);
    assert_eq!(config.setup, ["make deps"]);
    assert_eq!(config.merge, omk_worktree::MergeStrategy::Squash);
    assert_eq!(omk_worktree::parse_config("")?, omk_worktree::WorktreeConfig::default());
    // Errors carry the byte offset of the problem; omk-goal names the file, line and column.
    let check = |text: &str, expect_offset: usize, expect: &str| {
        let err = omk_worktree::parse_config(text).unwrap_err();
        assert!(
            matches!(&err, omk_worktree::Error::Config { offset, .. } if *offset == expect_offset),
            "{err:?}"
        );
        assert!(err.to_string().starts_with(expect), "{err}");
    };
    check(
        "[worktree]\nmerge = \"rebase\"\n",
        19,
        "[worktree] merge is \"rebase\"; expected \"merge\" or \"squash\"",
    );
    check("[worktree]\ncopy = [\"../x\"]\n", 19, "[worktree] copy lists \"../x\"");
    check("[worktree]\nroot = \"x\"\n", 11, "unknown field `root`");
    Ok(())
}

#[test]
fn a_20000_file_repository_gives_the_same_trees_and_changes_as_git() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = fixture::many_files_repo(dir.path(), 20_000);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = worktree(&repo, dir.path(), "big", &base);
    assert_eq!(git(&path, &["status", "--porcelain"]), "", "git sees a clean checkout");
    assert_eq!(git(&path, &["ls-files"]).lines().count(), 20_000);
    fixture::hundred_edits(&path);

    let changes = omk_worktree::capture_changes(&path, &base)?;
    let ours: Vec<String> = changes
        .files
        .iter()
        .map(|file| {
            let status = match file.status {
                ChangeStatus::Added => 'A',
                ChangeStatus::Modified => 'M',
                ChangeStatus::Deleted => 'D',
                ChangeStatus::Renamed { .. } => 'R',
            };
            format!("{status}\t{}", file.path)
        })
        .collect();
    git(&path, &["add", "--all"]);
    assert_eq!(changes.tree_id, git(&path, &["write-tree"]));
    let theirs = git(&path, &["diff", "--cached", "--name-status", "--no-renames", &base]);
    assert_eq!(ours.len(), 100);
    assert_eq!(ours.join("\n"), theirs);
    git(&path, &["reset", "--quiet"]);

    let committed = commit_all(&path, "big");
    assert_eq!(committed.tree_id, changes.tree_id);
    assert_eq!(git(&path, &["status", "--porcelain"]), "");
    let check = omk_worktree::merge_check(&repo, "main", "omk/big")?;
    assert_eq!(check.kind, omk_worktree::MergeKind::FastForward);
    Ok(())
}

#[test]
fn blob_refs_are_created_and_replaced_with_compare_and_swap_without_touching_the_checkout()
-> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let status_before = git(&root, &["status", "--porcelain=v2", "--branch"]);
    let name = "refs/omk/anchors/g";
    assert_eq!(omk_worktree::read_blob_ref(&repo, name)?, None);
    let first = omk_worktree::write_blob_ref(&repo, name, None, b"one\n", "test")?;
    // Creating it again, or replacing a value it no longer has, is refused: a concurrent
    // writer's update is never lost.
    let again = omk_worktree::write_blob_ref(&repo, name, None, b"other\n", "test");
    assert!(matches!(again, Err(Error::RefMoved { .. })), "{again:?}");
    let second = omk_worktree::write_blob_ref(&repo, name, Some(&first), b"two\n", "test")?;
    let stale = omk_worktree::write_blob_ref(&repo, name, Some(&first), b"three\n", "test");
    assert!(matches!(stale, Err(Error::RefMoved { .. })), "{stale:?}");
    let read = omk_worktree::read_blob_ref(&repo, name)?.ok_or("the reference exists")?;
    assert_eq!((read.id.as_str(), read.content.as_slice()), (second.as_str(), &b"two\n"[..]));
    // Git agrees, keeps the blob through gc, and the checkout is as it was.
    assert_eq!(git(&root, &["cat-file", "-p", name]), "two");
    git(&root, &["gc", "--quiet", "--prune=now"]);
    assert_eq!(git(&root, &["cat-file", "-p", name]), "two");
    assert_eq!(git(&root, &["status", "--porcelain=v2", "--branch"]), status_before);
    // A reference to a commit is not a blob reference.
    git(&root, &["update-ref", "refs/omk/anchors/c", "HEAD"]);
    let commit = omk_worktree::read_blob_ref(&repo, "refs/omk/anchors/c");
    assert!(matches!(commit, Err(Error::InvalidName { .. })), "{commit:?}");
    Ok(())
}
