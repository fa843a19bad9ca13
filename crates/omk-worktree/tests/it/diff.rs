//! The content of a change: `diff_trees` and `unified_patch`, checked against real git.

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use omk_worktree::{ChangeStatus, DiffLine, FileDiff};

use crate::{TestResult, fixture::git, repo_with, write};

/// Captures the edits in the checkout `root` against `base`, returns the tree and its diff.
fn diff_of_checkout(
    root: &Path,
    base: &str,
) -> Result<(String, Vec<FileDiff>), omk_worktree::Error> {
    let changes = omk_worktree::capture_changes(root, base)?;
    let files = omk_worktree::diff_trees(root, base, &changes.tree_id)?;
    Ok((changes.tree_id, files))
}

/// Applies `patch` with real git in a new worktree of `root` at `base` and returns the tree
/// `git add --all && git write-tree` gives there.
fn apply_with_git(root: &Path, base: &str, patch: &str) -> String {
    let checkout = root.with_file_name("applied");
    git(root, &["worktree", "add", "--quiet", "--detach", &checkout.to_string_lossy(), base]);
    let patch_file = root.with_file_name("change.patch");
    fs::write(&patch_file, patch).expect("write the patch");
    let patch_arg = patch_file.to_string_lossy().into_owned();
    git(&checkout, &["apply", "--check", &patch_arg]);
    git(&checkout, &["apply", &patch_arg]);
    git(&checkout, &["add", "--all"]);
    git(&checkout, &["write-tree"])
}

fn summary(files: &[FileDiff]) -> Vec<String> {
    files
        .iter()
        .map(|file| {
            let status = match &file.status {
                ChangeStatus::Renamed { from } => format!("Renamed from {from}"),
                other => format!("{other:?}"),
            };
            let added: Vec<String> =
                file.added_lines().map(|(line, text)| format!("{line}:{text}")).collect();
            let removed: Vec<String> =
                file.removed_lines().map(|(line, text)| format!("{line}:{text}")).collect();
            format!(
                "{} {status} binary={} size={}->{} hunks={} +{added:?} -{removed:?}",
                file.path,
                file.binary,
                file.old_size,
                file.new_size,
                file.hunks.len()
            )
        })
        .collect()
}

#[test]
fn diff_trees_lists_each_file_with_its_lines_and_git_applies_the_patch() -> TestResult {
    let twenty: String = (1..=20).map(|n| format!("line {n}\n")).collect();
    let (_dir, root) = repo_with(&[
        ("edit.txt", &twenty),
        ("gone.txt", "bye\n"),
        ("old/name.txt", "a fairly long line so that rename detection has content to match\nx\n"),
        ("no-newline.txt", "first\nlast"),
        ("run.sh", "echo hi\n"),
        ("picture.bin", "not yet binary\n"),
        ("with space.txt", "a\n"),
    ]);
    let base = git(&root, &["rev-parse", "HEAD"]);

    write(&root, "edit.txt", &twenty.replace("line 2\n", "line two\n").replace("line 19\n", ""));
    fs::remove_file(root.join("gone.txt"))?;
    fs::remove_dir_all(root.join("old"))?;
    write(
        &root,
        "new/name.txt",
        "a fairly long line so that rename detection has content to match\ny\n",
    );
    write(&root, "no-newline.txt", "first\nlast\nmore\n");
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755))?;
    fs::write(root.join("picture.bin"), [0x89, b'P', b'N', b'G', 0, 1, 2, 3])?;
    fs::write(root.join("latin1.txt"), b"caf\xe9\n")?;
    write(&root, "with space.txt", "a\nb\n");
    write(&root, "empty.txt", "");
    write(&root, "caf\u{e9}.txt", "accent\n");

    let (tree_id, files) = diff_of_checkout(&root, &base)?;
    assert_eq!(
        summary(&files),
        [
            "caf\u{e9}.txt Added binary=false size=0->7 hunks=1 +[\"1:accent\"] -[]",
            "edit.txt Modified binary=false size=151->145 hunks=2 +[\"2:line two\"] -[\"2:line 2\", \"19:line 19\"]",
            "empty.txt Added binary=false size=0->0 hunks=0 +[] -[]",
            "gone.txt Deleted binary=false size=4->0 hunks=1 +[] -[\"1:bye\"]",
            "latin1.txt Added binary=true size=0->5 hunks=0 +[] -[]",
            "new/name.txt Renamed from old/name.txt binary=false size=67->67 hunks=1 +[\"2:y\"] -[\"2:x\"]",
            "no-newline.txt Modified binary=false size=10->16 hunks=1 +[\"2:last\", \"3:more\"] -[\"2:last\"]",
            "picture.bin Modified binary=true size=15->8 hunks=0 +[] -[]",
            "run.sh Modified binary=false size=8->8 hunks=0 +[] -[]",
            "with space.txt Modified binary=false size=2->4 hunks=1 +[\"2:b\"] -[]",
        ]
    );
    let run_sh = files.iter().find(|file| file.path == "run.sh").ok_or("run.sh is listed")?;
    assert_eq!((run_sh.old_mode, run_sh.new_mode), (Some(0o100644), Some(0o100755)));

    let patch = omk_worktree::unified_patch(&files);
    assert_eq!(apply_with_git(&root, &base, &patch), tree_id, "git applies the patch exactly");
    Ok(())
}

#[test]
fn an_unchanged_tree_has_no_diff() -> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "a\n")]);
    let base = git(&root, &["rev-parse", "HEAD"]);
    let (_, files) = diff_of_checkout(&root, &base)?;
    assert_eq!(files, []);
    assert_eq!(omk_worktree::unified_patch(&files), "");
    Ok(())
}

#[test]
fn a_bad_tree_id_is_an_error() -> TestResult {
    let (_dir, root) = repo_with(&[("a.txt", "a\n")]);
    let err = omk_worktree::diff_trees(&root, "HEAD", "not-a-tree").unwrap_err();
    assert!(err.to_string().starts_with("use \"not-a-tree\" as a tree id: "), "{err}");
    Ok(())
}

#[test]
fn a_small_patch_reads_like_git_diff() -> TestResult {
    let (_dir, root) =
        repo_with(&[("calc.sh", "add() {\n  echo $(($1 - $2))\n}\n"), ("notes.txt", "keep\n")]);
    let base = git(&root, &["rev-parse", "HEAD"]);
    write(&root, "calc.sh", "add() {\n  echo $(($1 + $2))\n}\n");
    write(&root, "test.sh", "[ \"$(sh calc.sh)\" = 3 ]");
    fs::remove_file(root.join("notes.txt"))?;
    let (tree_id, files) = diff_of_checkout(&root, &base)?;
    let calc = &files[0];
    assert_eq!(calc.hunks[0].lines[1], DiffLine::Removed("  echo $(($1 - $2))".to_owned()));
    let patch = omk_worktree::unified_patch(&files);
    insta::assert_snapshot!(patch, @r#"
    diff --git a/calc.sh b/calc.sh
    index 0ab6ed80a44fbf41bfaf3822be75523d112e125f..d01635e36fb22586e5e6afabfea15b1471abeebf 100644
    --- a/calc.sh
    +++ b/calc.sh
    @@ -1,3 +1,3 @@
     add() {
    -  echo $(($1 - $2))
    +  echo $(($1 + $2))
     }
    diff --git a/notes.txt b/notes.txt
    deleted file mode 100644
    index 2fa992c0b8b5c6acd2bdd4fa31de29d29799bdd5..0000000000000000000000000000000000000000
    --- a/notes.txt
    +++ /dev/null
    @@ -1 +0,0 @@
    -keep
    diff --git a/test.sh b/test.sh
    new file mode 100644
    index 0000000000000000000000000000000000000000..7edd39665a4e22a7d428d8863ceaa7c6eb65df21
    --- /dev/null
    +++ b/test.sh
    @@ -0,0 +1 @@
    +[ "$(sh calc.sh)" = 3 ]
    \ No newline at end of file
    "#);
    assert_eq!(apply_with_git(&root, &base, &patch), tree_id);
    Ok(())
}
