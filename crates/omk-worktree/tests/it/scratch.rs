//! Scratch worktrees (`create_scratch`, `remove_scratch`): an uncommitted tree checked out for a
//! check, removed with whatever ran in it, even when a killed run left it half made.

use std::{fs, path::Path, sync::LazyLock};

use crate::{TestResult, fixture::git, repo_with, worktree, write};
use omk_sandbox::Sandbox;
use omk_worktree::ScratchOptions;

/// The options of a scratch worktree at `path` that checks out `tree_id` in a commit on `base`,
/// copying nothing and running no setup, started directly.
fn plain<'a>(path: &'a Path, tree_id: &'a str, base: &'a str) -> ScratchOptions<'a> {
    static DIRECT: LazyLock<Sandbox> = LazyLock::new(Sandbox::direct);
    ScratchOptions {
        path,
        tree_id,
        commit: Some(base),
        parent: base,
        copy: &[],
        setup: &[],
        sandbox: &DIRECT,
    }
}

/// A repository of one committed file, `a.txt`: its directory, root, base commit and the base's
/// tree.
struct Base {
    dir: tempfile::TempDir,
    root: std::path::PathBuf,
    repo: omk_worktree::Repo,
    base: String,
    tree: String,
}

fn one_file_repo() -> Result<Base, Box<dyn std::error::Error>> {
    let (dir, root) = repo_with(&[("a.txt", "base\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let tree = omk_worktree::commit_tip(&repo, &base)?.ok_or("the base exists")?.tree_id;
    Ok(Base { dir, root, repo, base, tree })
}

#[test]
fn scratch_worktrees_check_out_an_uncommitted_tree_and_leave_nothing_behind() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "base\n")]);
    let repo = omk_worktree::open(&root)?;
    let base = omk_worktree::head(&repo)?.commit;
    let path = worktree(&repo, dir.path(), "g", &base);
    write(&path, "a.txt", "changed\n");
    write(&path, "new.txt", "untracked\n");
    // The tree is captured but never committed: the branch stays at the base.
    let tree = omk_worktree::capture_changes(&path, &base)?.tree_id;
    let tip = omk_worktree::branch_tip(&repo, "omk/g")?.ok_or("the branch exists")?;
    assert_eq!(tip.commit, base);
    assert_ne!(tip.tree_id, tree);
    assert_eq!(omk_worktree::branch_tip(&repo, "omk/none")?, None);
    assert_eq!(omk_worktree::commit_tip(&repo, &base)?.map(|it| it.tree_id), Some(tip.tree_id));

    let scratch = dir.path().join("scratch");
    let options = plain(&scratch, &tree, &base);
    let checked_out = omk_worktree::create_scratch(&repo, &options)?;
    assert_ne!(checked_out.commit, base, "the base has another tree, so a new commit holds it");
    assert_eq!(fs::read_to_string(scratch.join("a.txt"))?, "changed\n");
    assert_eq!(fs::read_to_string(scratch.join("new.txt"))?, "untracked\n");
    assert_eq!(git(&scratch, &["branch", "--show-current"]), "");
    assert_eq!(git(&root, &["branch", "--list"]).lines().count(), 2, "no branch was made");
    // Gates leave files behind; removing the scratch worktree discards them.
    write(&scratch, "target/out", "build output\n");
    omk_worktree::remove_scratch(&repo, &scratch)?;
    assert!(!scratch.exists());
    assert_eq!(git(&root, &["worktree", "list"]).lines().count(), 2);
    // A killed run can leave a scratch worktree without its `.git` file: it is still removed,
    // registration and all, and a new one can be made at its path.
    omk_worktree::create_scratch(&repo, &options)?;
    fs::remove_file(scratch.join(".git"))?;
    omk_worktree::remove_scratch(&repo, &scratch)?;
    assert!(!scratch.exists());
    assert_eq!(git(&root, &["worktree", "list"]).lines().count(), 2, "no registration is left");
    // Or with a `.git` file cut short while it was written (empty, or without its end).
    for torn in ["", "gitdir: "] {
        omk_worktree::create_scratch(&repo, &options)?;
        fs::write(scratch.join(".git"), torn)?;
        omk_worktree::remove_scratch(&repo, &scratch)?;
        assert!(!scratch.exists(), "{torn:?}");
        assert_eq!(git(&root, &["worktree", "list"]).lines().count(), 2, "{torn:?}");
    }
    omk_worktree::create_scratch(&repo, &options)?;
    omk_worktree::remove_scratch(&repo, &scratch)?;

    let err = omk_worktree::create_scratch(
        &repo,
        &ScratchOptions { tree_id: &"0".repeat(40), ..options },
    )
    .unwrap_err();
    assert!(err.to_string().contains("the repository has no such tree"), "{err}");
    assert!(!scratch.exists());
    Ok(())
}

#[test]
fn gc_removes_scratch_worktrees_whose_maker_is_gone_and_keeps_live_ones() -> TestResult {
    let Base { dir, root, repo, base, tree } = one_file_repo()?;
    let scratch_root = root.join(".omk/verify");
    let make = |name: &str| -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
        let path = scratch_root.join(name).join("rerun-1/worktree");
        omk_worktree::create_scratch(&repo, &plain(&path, &tree, &base))?;
        Ok(path)
    };
    let live = make("live-goal")?;
    let dead = make("dead-goal")?;
    // A verifier killed mid-rerun: its lease names a process that has exited.
    let mut child = std::process::Command::new("true").spawn()?;
    child.wait()?;
    omk_worktree::lock(&repo, &dead, &omk_worktree::scratch_lease_reason(child.id()))?;

    let finished = |_: &str| true;
    let omk_root = root.join(".omk/worktrees");
    let options = omk_worktree::GcOptions {
        dry_run: true,
        root: &omk_root,
        is_finished: &finished,
        scratch_root: Some(&scratch_root),
    };
    let verdicts = |entries: Vec<omk_worktree::GcEntry>| -> Vec<(String, String)> {
        entries.into_iter().map(|it| (it.goal, format!("{:?}", it.verdict))).collect()
    };
    let planned = verdicts(omk_worktree::gc(&repo, &options)?);
    let pid = std::process::id();
    assert!(planned.contains(&("dead-goal".to_owned(), "WouldRemove".to_owned())), "{planned:?}");
    assert!(
        planned.contains(&("live-goal".to_owned(), format!("Kept(Leased {{ pid: {pid} }})"))),
        "{planned:?}"
    );
    assert!(dead.exists(), "a dry run removes nothing");

    let done =
        verdicts(omk_worktree::gc(&repo, &omk_worktree::GcOptions { dry_run: false, ..options })?);
    assert!(done.contains(&("dead-goal".to_owned(), "Removed".to_owned())), "{done:?}");
    assert!(!dead.exists());
    assert!(live.exists(), "the live verifier's worktree stays");
    omk_worktree::remove_scratch(&repo, &live)?;
    assert_eq!(git(&root, &["worktree", "list"]).lines().count(), 1);
    drop(dir);
    Ok(())
}

#[test]
fn a_registration_a_killed_addition_left_does_not_block_the_next() -> TestResult {
    let Base { dir, root, repo, base, tree } = one_file_repo()?;
    // What an addition killed after it marked its registration and before it wrote its
    // `gitdir` leaves behind; and a registration being made right now by someone else, whose
    // `gitdir` is already written, which is left alone.
    let admin = root.join(".git/worktrees");
    for (id, gitdir) in
        [("baseline", ""), ("torn", "/some/where/.g"), ("other", "/elsewhere/.git\n")]
    {
        fs::create_dir_all(admin.join(id))?;
        fs::write(admin.join(id).join("locked"), "initializing\n")?;
        fs::write(admin.join(id).join("gitdir"), gitdir)?;
    }
    let scratch = dir.path().join("verify/baseline");
    omk_worktree::create_scratch(&repo, &plain(&scratch, &tree, &base))?;
    assert_eq!(fs::read_to_string(scratch.join("a.txt"))?, "base\n");
    assert!(!admin.join("torn").exists());
    assert_eq!(fs::read_to_string(admin.join("other/gitdir"))?, "/elsewhere/.git\n");
    // The new worktree took the freed id, with a `gitdir` that names it.
    let gitdir = fs::read_to_string(admin.join("baseline/gitdir"))?;
    assert!(gitdir.trim_end().ends_with("verify/baseline/.git"), "{gitdir:?}");
    omk_worktree::remove_scratch(&repo, &scratch)?;
    Ok(())
}

#[test]
fn a_process_holding_the_additions_lock_delays_an_addition_but_never_blocks_it() -> TestResult {
    let Base { dir, root, repo, base, tree } = one_file_repo()?;
    // What an agent can do: open the lock file to read (reading is allowed everywhere) and
    // take the lock, holding it for as long as it runs.
    let lock_path = root.join(".git/omk-worktree-add.lock");
    fs::write(&lock_path, "")?;
    let held = fs::File::open(&lock_path)?;
    held.lock()?;
    let scratch = dir.path().join("verify/baseline");
    let started = std::time::Instant::now();
    omk_worktree::create_scratch(&repo, &plain(&scratch, &tree, &base))?;
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
    assert_eq!(fs::read_to_string(scratch.join("a.txt"))?, "base\n");
    drop(held);
    omk_worktree::remove_scratch(&repo, &scratch)?;
    Ok(())
}
