//! `restore_tree`: a worktree put back to the tree it held before a gate wrote in it.

use std::{fs, os::unix::fs::PermissionsExt};

use crate::{TestResult, fixture::git, repo_with, write};

#[test]
fn restore_removes_created_files_and_restores_changed_ones_but_keeps_ignored_ones() -> TestResult {
    let (_dir, root) = repo_with(&[
        (".gitignore", "target/\n"),
        ("src/lib.txt", "lib\n"),
        ("keep.txt", "keep\n"),
        ("run.sh", "echo hi\n"),
        ("gone.txt", "gone\n"),
    ]);
    // The agent's own untracked file is part of the tree before the gates.
    write(&root, "new/agent.txt", "the agent's work\n");
    let before = omk_worktree::capture_changes(&root, "HEAD")?.tree_id;
    // What a gate does: junk beside the change, in a new directory too, a rewritten file, a
    // deleted file, a mode change, and build output that .gitignore ignores.
    write(&root, "junk.txt", "123\n");
    write(&root, "deep/er/junk.log", "x\n");
    write(&root, "src/lib.txt", "formatted\n");
    write(&root, "new/agent.txt", "rewritten by a gate\n");
    fs::remove_file(root.join("gone.txt"))?;
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755))?;
    write(&root, "target/debug/out", "build\n");
    assert_ne!(omk_worktree::capture_changes(&root, "HEAD")?.tree_id, before);

    let restore = omk_worktree::restore_tree(&root, &before)?;
    assert_eq!(restore.removed, ["deep/er/junk.log", "junk.txt"]);
    assert_eq!(restore.restored, ["gone.txt", "new/agent.txt", "run.sh", "src/lib.txt"]);
    assert_eq!(omk_worktree::capture_changes(&root, "HEAD")?.tree_id, before);
    assert!(!root.join("deep").exists(), "the directories a gate made are gone");
    assert_eq!(fs::read_to_string(root.join("new/agent.txt"))?, "the agent's work\n");
    assert_eq!(fs::read_to_string(root.join("target/debug/out"))?, "build\n");
    assert_eq!(fs::metadata(root.join("run.sh"))?.permissions().mode() & 0o111, 0);
    // The index is left alone: the agent's file is still untracked.
    assert_eq!(git(&root, &["status", "--porcelain", "--", "new"]), "?? new/");
    // A worktree that holds the tree already has nothing to put back.
    assert!(omk_worktree::restore_tree(&root, &before)?.is_empty());
    Ok(())
}

#[test]
fn restore_to_a_tree_that_is_no_tree_is_an_error() -> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "a\n")]);
    write(&root, "junk.txt", "x\n");
    let err = omk_worktree::restore_tree(&root, "0123456789abcdef0123456789abcdef01234567");
    assert!(err.is_err(), "{err:?}");
    Ok(())
}
