//! Tests of release on a small workspace in a temporary git repository, with git made hermetic
//! by omk-testkit (no global or system config, fixed identity and dates) and a stand-in for
//! `cargo xtask ci`.

use std::{fmt::Write as _, fs, path::Path, process::Command};

use anyhow::{Result, bail};
use chrono::NaiveDate;
use tempfile::TempDir;

use super::{Commit, ReleaseContext, Version, apply, changelog_section, classify, plan};

/// A temporary git repository holding a workspace of two crates at version 0.1.0.
struct Fixture {
    dir: TempDir,
}

const ROOT_MANIFEST: &str = r#"[workspace]
resolver = "3"
members = ["crates/*"]

[workspace.package]
version = "0.1.0"
edition = "2024"
rust-version = "1.95"

[workspace.dependencies]
omk-a = { path = "crates/omk-a", version = "0.1.0" }
serde = { version = "1.0" }
"#;

impl Fixture {
    fn new() -> Result<Self> {
        let fixture = Self { dir: TempDir::new()? };
        fixture.write("Cargo.toml", ROOT_MANIFEST)?;
        fixture.write(
            "crates/omk-a/Cargo.toml",
            "[package]\nname = \"omk-a\"\nversion.workspace = true\nedition.workspace = true\n",
        )?;
        fixture.write(
            "crates/omk-b/Cargo.toml",
            "[package]\nname = \"omk-b\"\nversion.workspace = true\nedition.workspace = true\n\n\
             [dependencies]\nomk-a.workspace = true\n",
        )?;
        fixture.write("crates/omk-a/src/lib.rs", "//! A.\n")?;
        fixture.write("crates/omk-b/src/lib.rs", "//! B.\n")?;
        fixture.cargo(&["generate-lockfile", "--offline"])?;
        fixture.git(&["init", "--quiet", "--initial-branch=main"])?;
        fixture.commit("workspace: two crates")?;
        fixture.git(&["tag", "-a", "v0.1.0", "-m", "omk 0.1.0"])?;
        fixture.write("crates/omk-a/src/lib.rs", "//! A, documented.\n")?;
        fixture.commit("[omk-a] say what A is; [omk-b] nothing to say")?;
        fixture.write("crates/omk-b/src/lib.rs", "//! B.\n//! More.\n")?;
        fixture.commit("ci: run it all")?;
        fixture.write("README.md", "# readme\n")?;
        fixture.commit("Docs: a README")?;
        fixture.write("README.md", "# readme\n\nMore.\n")?;
        fixture.commit("Tweak the readme")?;
        Ok(fixture)
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn ctx(&self) -> ReleaseContext<'_> {
        ReleaseContext {
            root: self.root(),
            date: NaiveDate::from_ymd_opt(2026, 2, 3).expect("2026-02-03 is a date"),
            git: omk_testkit::git_command,
        }
    }

    fn write(&self, path: &str, contents: &str) -> Result<()> {
        let path = self.root().join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, contents)?;
        Ok(())
    }

    fn read(&self, path: &str) -> Result<String> {
        Ok(fs::read_to_string(self.root().join(path))?)
    }

    fn commit(&self, message: &str) -> Result<()> {
        self.git(&["add", "--all"])?;
        self.git(&["commit", "--quiet", "-m", message])?;
        Ok(())
    }

    fn git(&self, args: &[&str]) -> Result<String> {
        run(omk_testkit::git_command(self.root()).args(args))
    }

    fn cargo(&self, args: &[&str]) -> Result<String> {
        run(Command::new(crate::cargo()).args(args).current_dir(self.root()))
    }
}

fn run(command: &mut Command) -> Result<String> {
    let output = command.output()?;
    if !output.status.success() {
        bail!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Replaces abbreviated commit hashes, whose length git picks, with `[hash]`.
fn redact_hashes(text: &str) -> String {
    let mut out = String::new();
    for (idx, part) in text.split('(').enumerate() {
        if idx > 0 {
            out.push('(');
        }
        match part.split_once(')') {
            Some((inside, rest))
                if inside.len() >= 7 && inside.chars().all(|ch| ch.is_ascii_hexdigit()) =>
            {
                out.push_str("[hash])");
                out.push_str(rest);
            }
            _ => out.push_str(part),
        }
    }
    out
}

#[test]
fn dry_run_shows_every_change_and_writes_nothing() -> Result<()> {
    let fixture = Fixture::new()?;
    let before = (fixture.read("Cargo.toml")?, fixture.read("Cargo.lock")?);
    let plan = plan(&fixture.ctx(), "0.2.0")?;
    insta::assert_snapshot!("dry_run_plan", redact_hashes(&plan.to_string()));
    assert_eq!((fixture.read("Cargo.toml")?, fixture.read("Cargo.lock")?), before);
    assert!(!fixture.root().join("CHANGELOG.md").exists());
    assert_eq!(fixture.git(&["status", "--porcelain"])?, "");
    Ok(())
}

#[test]
fn release_bumps_writes_the_changelog_commits_and_tags() -> Result<()> {
    let fixture = Fixture::new()?;
    let ctx = fixture.ctx();
    apply(&ctx, &plan(&ctx, "0.2.0-rc.1")?, &|_| Ok(()))?;

    assert!(fixture.read("Cargo.toml")?.contains("version = \"0.2.0-rc.1\"\nedition"));
    assert!(
        fixture
            .read("Cargo.toml")?
            .contains("omk-a = { path = \"crates/omk-a\", version = \"0.2.0-rc.1\" }")
    );
    assert!(fixture.read("Cargo.toml")?.contains("serde = { version = \"1.0\" }"));
    // Cargo agrees that the lock file matches the bumped manifests.
    let metadata =
        fixture.cargo(&["metadata", "--format-version", "1", "--locked", "--offline"])?;
    assert!(metadata.contains("\"version\":\"0.2.0-rc.1\""));
    assert_eq!(fixture.git(&["status", "--porcelain"])?, "");
    assert_eq!(fixture.git(&["log", "-1", "--format=%s"])?, "release: v0.2.0-rc.1\n");
    assert_eq!(fixture.git(&["tag", "--points-at", "HEAD"])?, "v0.2.0-rc.1\n");

    // The next release takes only the commits since this one, and keeps the older section.
    fixture.write("crates/omk-a/src/lib.rs", "//! A again.\n")?;
    fixture.commit("[omk-a] once more")?;
    apply(&ctx, &plan(&ctx, "0.2.0")?, &|_| Ok(()))?;
    insta::assert_snapshot!(
        "changelog_after_two_releases",
        redact_hashes(&fixture.read("CHANGELOG.md")?)
    );
    Ok(())
}

#[test]
fn failing_ci_commits_and_tags_nothing() -> Result<()> {
    let fixture = Fixture::new()?;
    let ctx = fixture.ctx();
    let err = apply(&ctx, &plan(&ctx, "0.2.0")?, &|_| bail!("clippy found problems")).unwrap_err();
    insta::assert_snapshot!(format!("{err:#}"), @"ci failed on the release of v0.2.0, so nothing was committed or tagged; the edits are left for you to look at, `git checkout -- Cargo.toml Cargo.lock CHANGELOG.md` undoes them: clippy found problems");
    assert_eq!(fixture.git(&["tag"])?, "v0.1.0\n");
    assert_eq!(fixture.git(&["log", "-1", "--format=%s"])?, "Tweak the readme\n");
    Ok(())
}

#[test]
fn dirty_tree_is_an_error_naming_the_files_and_the_fix() -> Result<()> {
    let fixture = Fixture::new()?;
    fixture.write("README.md", "# changed\n")?;
    fixture.write("notes.txt", "untracked\n")?;
    let ctx = fixture.ctx();
    let plan = plan(&ctx, "0.2.0")?;
    assert!(
        plan.to_string().contains(
            "warning: uncommitted changes, a real release stops here: README.md, notes.txt"
        )
    );
    let err = apply(&ctx, &plan, &|_| Ok(())).unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"the working tree has uncommitted changes (README.md, notes.txt): commit or stash them first, a release is cut from a committed tree");
    assert_eq!(fixture.read("Cargo.toml")?, ROOT_MANIFEST);
    Ok(())
}

#[test]
fn bad_versions_name_the_input_and_the_fix() -> Result<()> {
    let fixture = Fixture::new()?;
    let ctx = fixture.ctx();
    let mut errors = String::new();
    for version in [
        "v0.2.0",
        "0.2",
        "0.2.0.1",
        "01.2.0",
        "0.2.0-",
        "0.2.0-rc..1",
        "0.2.0-01",
        "0.1.0",
        "0.1.0-rc.1",
        "0.0.9",
        "",
    ] {
        let err = plan(&ctx, version).unwrap_err();
        writeln!(errors, "{version:?}: {err:#}")?;
    }
    fixture.git(&["tag", "v0.3.0"])?;
    writeln!(errors, "{:#}", plan(&ctx, "0.3.0").unwrap_err())?;
    insta::assert_snapshot!("bad_versions", errors);
    Ok(())
}

#[test]
fn a_crate_with_its_own_version_is_an_error() -> Result<()> {
    let fixture = Fixture::new()?;
    fixture.write(
        "crates/omk-b/Cargo.toml",
        "[package]\nname = \"omk-b\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )?;
    let err = plan(&fixture.ctx(), "0.2.0").unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"crates/omk-b/Cargo.toml sets its own version: write `version.workspace = true` in its [package], so that every crate is released with one version");
    Ok(())
}

#[test]
fn versions_order_by_semver_precedence() -> Result<()> {
    let ordered = [
        "0.1.0",
        "0.2.0-alpha",
        "0.2.0-alpha.1",
        "0.2.0-alpha.beta",
        "0.2.0-beta.2",
        "0.2.0-beta.11",
        "0.2.0-rc.1",
        "0.2.0",
        "0.10.0",
        "1.0.0",
    ];
    let versions: Vec<Version> =
        ordered.iter().map(|text| Version::parse(text)).collect::<Result<_>>()?;
    for pair in versions.windows(2) {
        assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
    }
    let shown: Vec<String> = versions.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ordered);
    Ok(())
}

#[test]
fn subjects_are_grouped_by_crate_or_area() {
    let subjects = [
        "[omk-gates] hand the log file to the gate; [omk-worktree] one arm for not-a-worktree",
        "[omk-goal] drop RunOutcome.goal_id",
        "ci: link the stable toolchain",
        "Docs: README with the two set-up commands",
        "workspace: keep dependencies sorted",
        "Drop unused dependencies (sha2 in omk-agent)",
        "release: v0.1.0",
        "fix: a: b",
    ];
    let commits: Vec<Commit> = subjects
        .iter()
        .enumerate()
        .map(|(idx, subject)| Commit { hash: format!("c{idx}"), subject: (*subject).to_owned() })
        .collect();
    assert_eq!(classify("[] empty scope"), [("other".to_owned(), "] empty scope".to_owned())]);
    let date = NaiveDate::from_ymd_opt(2026, 2, 3).expect("2026-02-03 is a date");
    let version = Version { major: 0, minor: 2, patch: 0, pre: None };
    insta::assert_snapshot!("grouped_subjects", changelog_section(&version, date, &commits));
}
