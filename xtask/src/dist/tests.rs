//! Tests of dist: the archive is the same bytes whatever the files' metadata and location, and
//! holds what a user installs. A small fake binary stands in for the release build, which takes
//! minutes; `cargo xtask dist` itself is run by hand (see CONTRIBUTING.md).

use std::{
    fmt::Write as _,
    fs,
    io::Read as _,
    os::unix::fs::PermissionsExt as _,
    path::Path,
    time::{Duration, SystemTime},
};

use anyhow::Result;
use clap::CommandFactory;
use flate2::read::GzDecoder;
use tempfile::TempDir;

use super::{
    ArchiveFile, archive, check_target, generated_files, parse_epoch, root_files, sha256sums,
};

const EPOCH: u64 = 1_700_000_000;

/// Packages a fake binary with the README and LICENSE of a fresh copy of the workspace files, the
/// way `run` does, with file times `mtime` and permissions `mode` on disk.
fn package(mtime_secs: u64, mode: u32) -> Result<Vec<u8>> {
    let dir = TempDir::new()?;
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime_secs);
    for (name, contents) in [
        ("README.md", "# omk\n".as_bytes()),
        ("LICENSE", b"MIT\n"),
        ("omk", b"\x7fELF fake binary"),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, contents)?;
        fs::File::options().write(true).open(&path)?.set_modified(mtime)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    }
    let mut files = vec![ArchiveFile {
        path: "omk".to_owned(),
        contents: fs::read(dir.path().join("omk"))?,
        executable: true,
    }];
    files.extend(root_files(dir.path())?);
    files.extend(generated_files(omk_cli::Cli::command())?);
    archive("omk-0.1.0-x86_64-unknown-linux-gnu", &files, EPOCH)
}

/// Lists the entries of a gzipped tar archive: type, mode, owner, time and path.
fn listing(bytes: &[u8]) -> Result<String> {
    let mut tar = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut tar)?;
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut listing = String::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let header = entry.header();
        let kind = if header.entry_type().is_dir() { 'd' } else { '-' };
        let owner = format!(
            "{}:{} {}:{}",
            header.uid()?,
            header.gid()?,
            header.username()?.unwrap_or("?"),
            header.groupname()?.unwrap_or("?")
        );
        writeln!(
            listing,
            "{kind} {:o} {owner} {} {}",
            header.mode()?,
            header.mtime()?,
            entry.path()?.display()
        )?;
    }
    Ok(listing)
}

#[test]
fn same_inputs_same_bytes_whatever_the_files_on_disk() -> Result<()> {
    let first = package(1, 0o700)?;
    let second = package(2_000_000_000, 0o755)?;
    assert!(first == second, "two packages of the same files differ");
    let sums = sha256sums(&[("a.tar.gz".to_owned(), first), ("b.tar.gz".to_owned(), second)]);
    let digests: Vec<&str> = sums.lines().map(|line| &line[..64]).collect();
    assert_eq!(digests[0], digests[1]);
    Ok(())
}

#[test]
fn another_epoch_gives_other_bytes() -> Result<()> {
    let files = [ArchiveFile { path: "omk".to_owned(), contents: b"x".to_vec(), executable: true }];
    assert_ne!(archive("top", &files, EPOCH)?, archive("top", &files, EPOCH + 1)?);
    Ok(())
}

#[test]
fn archive_holds_binary_docs_completions_and_man_pages() -> Result<()> {
    insta::assert_snapshot!(listing(&package(1, 0o600)?)?, @r"
    d 755 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/LICENSE
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/README.md
    d 755 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/completions/
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/completions/_omk
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/completions/_omk.ps1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/completions/omk.bash
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/completions/omk.elv
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/completions/omk.fish
    d 755 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/
    d 755 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-accept.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-agents.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-budget-add.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-budget.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-cancel.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-config-path.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-config-show.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-config.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-demo.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-fetch.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-gates-list.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-gates-run.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-gates.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-key-generate.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-key.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-list.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-mcp.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-pause.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-proof-export.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-proof-rebuild.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-proof-show.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-proof-verify.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-proof.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-push.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-reject.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-replay.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-resume.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-run.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-show.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-status.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-worktree-gc.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-worktree-list.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk-worktree.1
    - 644 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/man/man1/omk.1
    - 755 0:0 : 1700000000 omk-0.1.0-x86_64-unknown-linux-gnu/omk
    ");
    Ok(())
}

#[test]
fn sha256sums_lists_files_sorted_for_sha256sum_check() {
    let sums = sha256sums(&[("b".to_owned(), b"abc".to_vec()), ("a".to_owned(), Vec::new())]);
    insta::assert_snapshot!(sums, @r"
    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a
    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b
    ");
}

#[test]
fn duplicate_paths_are_an_error() {
    let file = ArchiveFile { path: "omk".to_owned(), contents: Vec::new(), executable: true };
    let err = archive("top", &[file.clone(), file], EPOCH).map(|_| ()).unwrap_err();
    assert_eq!(err.to_string(), "the archive would hold top/omk twice");
}

#[test]
fn bad_source_date_epoch_names_the_value_and_the_fix() {
    assert_eq!(parse_epoch(" 1700000000\n").ok(), Some(EPOCH));
    let err = parse_epoch("yesterday").unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"SOURCE_DATE_EPOCH=`yesterday` is not a whole number of seconds since 1970: set it to one, such as `git log -1 --format=%ct`, or unset it to use the last commit's time");
}

#[test]
fn bad_target_names_the_value_and_the_fix() {
    assert!(check_target("x86_64-unknown-linux-gnu").is_ok());
    for bad in ["", "../etc", "x86 64", "-v"] {
        let err = check_target(bad).unwrap_err();
        assert!(err.to_string().starts_with(&format!("--target `{bad}` is not a target triple")));
    }
}

#[test]
fn root_files_name_the_missing_file() -> Result<()> {
    let dir = TempDir::new()?;
    let err = root_files(dir.path()).unwrap_err();
    let expected = format!("failed to read {}", Path::new(dir.path()).join("README.md").display());
    assert_eq!(err.to_string(), expected);
    Ok(())
}
