//! Commits written from files and read back, references moved with compare-and-swap, and a push
//! to a bare remote, on real repositories.

use omk_worktree::{Error, GitIdentity, Identity, TreeFile};

use crate::{TestResult, fixture::git, repo_with};

fn who(time: i64) -> GitIdentity<'static> {
    GitIdentity { identity: Identity { name: "omk", email: "omk@localhost" }, time }
}

fn file(path: &str, content: &str) -> TreeFile {
    TreeFile { path: path.to_owned(), content: content.as_bytes().to_vec() }
}

#[test]
fn files_commits_round_trip_chain_and_push_as_fast_forwards() -> TestResult {
    let (dir, root) = repo_with(&[("a.txt", "a\n")]);
    let repo = omk_worktree::open(&root)?;
    let files = vec![file("events.jsonl", "{}\n"), file("artifacts/gates/x/unit.log", "ok\n")];
    let first =
        omk_worktree::write_files_commit(&repo, &files, &[], "first\n", who(1_700_000_000))?;
    // The tree is the one git builds from the same files.
    let listed = git(&root, &["ls-tree", "-r", "--name-only", &first.commit]);
    assert_eq!(listed, "artifacts/gates/x/unit.log\nevents.jsonl");
    assert_eq!(git(&root, &["log", "-1", "--format=%an %ct", &first.commit]), "omk 1700000000");
    let mut back = omk_worktree::read_files_commit(&repo, &first.commit)?.ok_or("no commit")?;
    back.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(back, vec![files[1].clone(), files[0].clone()]);
    assert_eq!(omk_worktree::read_files_commit(&repo, &"0".repeat(40))?, None);

    let second = omk_worktree::write_files_commit(
        &repo,
        &[file("events.jsonl", "{}\n{}\n")],
        &[&first.commit],
        "second\n",
        who(1_700_000_100),
    )?;
    assert!(omk_worktree::is_ancestor(&repo, &first.commit, &second.commit)?);
    assert!(!omk_worktree::is_ancestor(&repo, &second.commit, &first.commit)?);
    assert!(!omk_worktree::is_ancestor(&repo, &"1".repeat(40), &second.commit)?);

    // References move only from the value the caller read.
    let name = "refs/omk/goals/g";
    omk_worktree::set_ref(&repo, name, &first.commit, None, "create")?;
    let moved = omk_worktree::set_ref(&repo, name, &second.commit, None, "again");
    assert!(matches!(moved, Err(Error::RefMoved { .. })), "{moved:?}");
    omk_worktree::set_ref(&repo, name, &second.commit, Some(&first.commit), "forward")?;
    assert_eq!(omk_worktree::ref_target(&repo, name)?, Some(second.commit.clone()));
    assert_eq!(
        omk_worktree::refs_under(&repo, "refs/omk/goals/")?,
        vec![(name.to_owned(), second.commit.clone())]
    );

    // A push reports each reference; pushing an older commit over a newer one is refused.
    let remote = dir.path().join("remote.git");
    git(dir.path(), &["init", "--quiet", "--bare", "remote.git"]);
    git(&root, &["remote", "add", "origin", remote.to_str().ok_or("path")?]);
    assert_eq!(omk_worktree::remote_names(&repo)?, vec!["origin".to_owned()]);
    let spec = format!("{name}:{name}");
    let pushed = omk_worktree::push(&repo, "origin", std::slice::from_ref(&spec), &[])?;
    assert!(pushed.success && pushed.atomic, "{pushed:?}");
    assert_eq!(pushed.refs.len(), 1);
    assert_eq!((pushed.refs[0].name.as_str(), pushed.refs[0].flag), (name, '*'));
    let theirs = omk_worktree::ls_remote(&repo, "origin", &[name])?;
    assert_eq!(theirs, vec![(name.to_owned(), second.commit.clone())]);
    let back_spec = format!("{}:{name}", first.commit);
    let refused = omk_worktree::push(&repo, "origin", &[back_spec], &[])?;
    assert!(!refused.success && refused.refs[0].rejected(), "{refused:?}");
    assert!(refused.refs[0].summary.contains("non-fast-forward"), "{refused:?}");
    Ok(())
}
