//! `cargo xtask release X.Y.Z`: bumps every crate to one version, writes the changelog, runs ci,
//! then commits and tags.
//!
//! The plan is computed first, from the committed tree and git history alone, and shown in full;
//! `--dry-run` stops there, so it never writes. A real release then checks that the tree is
//! clean, writes `Cargo.toml` (`[workspace.package]` and the internal crates of
//! `[workspace.dependencies]`), `Cargo.lock` and `CHANGELOG.md`, runs `cargo xtask ci` on the
//! result, commits `release: vX.Y.Z` and tags `vX.Y.Z`. It does not push or publish.
//!
//! The changelog groups the commit subjects since the last `v*` tag by the crate or area that
//! starts them: `[omk-gates] …` (several per subject, split at `; [`), `ci: …`, `workspace: …`;
//! anything else is under "other" (CONTRIBUTING.md states the convention).

#[cfg(test)]
mod tests;

use std::{
    cmp::Ordering,
    collections::{BTreeMap, BTreeSet},
    fmt::{self, Write as _},
    fs,
    path::Path,
    process::Command,
};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;

use crate::{process, tidy};

/// Arguments of `cargo xtask release`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReleaseArgs {
    /// The version to release: MAJOR.MINOR.PATCH, such as 0.2.0, or with a pre-release, 0.2.0-rc.1
    version: String,
    /// Show the version bump, the changelog section and the commands, and write nothing
    #[arg(long)]
    dry_run: bool,
}

/// What a release needs to know besides the version.
#[derive(Debug)]
pub(crate) struct ReleaseContext<'a> {
    /// The workspace root, a git checkout.
    pub(crate) root: &'a Path,
    /// The date of the changelog section.
    pub(crate) date: NaiveDate,
    /// Returns the git command to run in a directory; tests make it hermetic.
    pub(crate) git: fn(&Path) -> Command,
}

/// A semantic version: MAJOR.MINOR.PATCH with an optional pre-release (no build metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) major: u64,
    pub(crate) minor: u64,
    pub(crate) patch: u64,
    pub(crate) pre: Option<String>,
}

/// Everything a release writes and runs, computed without writing.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) current: Version,
    pub(crate) next: Version,
    /// The files to rewrite, with their old and new text.
    pub(crate) edits: Vec<FileEdit>,
    /// The changelog section added for this release.
    pub(crate) changelog_section: String,
    /// The uncommitted files, which stop a real release.
    pub(crate) dirty: Vec<String>,
}

/// One file a release rewrites.
#[derive(Debug)]
pub(crate) struct FileEdit {
    /// Relative to the workspace root.
    pub(crate) path: String,
    /// `None` when the file does not exist yet.
    pub(crate) old: Option<String>,
    pub(crate) new: String,
}

const CHANGELOG: &str = "CHANGELOG.md";
const CHANGELOG_HEADER: &str = "\
# Changelog

All notable changes to omk, newest first.
`cargo xtask release` writes each section from the commit subjects since the previous release, grouped by the crate or area that starts them (see CONTRIBUTING.md).
";

/// Runs `cargo xtask release`.
pub(crate) fn run(root: &Path, args: &ReleaseArgs) -> Result<()> {
    let ctx = ReleaseContext { root, date: chrono::Utc::now().date_naive(), git: plain_git };
    let plan = plan(&ctx, &args.version)?;
    print!("{plan}");
    if args.dry_run {
        println!("release: dry run, nothing was written");
        return Ok(());
    }
    apply(&ctx, &plan, &|root: &Path| crate::ci::run(root))?;
    let tag = plan.next.tag();
    println!("release: committed and tagged {tag}; push with `git push origin HEAD {tag}`");
    Ok(())
}

/// Computes the release of `version` in the checkout of `ctx`, reading but never writing.
pub(crate) fn plan(ctx: &ReleaseContext<'_>, version: &str) -> Result<Plan> {
    let next = Version::parse(version)?;
    let manifest_path = ctx.root.join("Cargo.toml");
    let manifest = read(&manifest_path)?;
    let current = workspace_version(&manifest)?;
    if next <= current {
        bail!(
            "version `{next}` is not newer than the current version {current}: \
             pass a higher version, such as {}",
            current.next_minor()
        );
    }
    let tag = next.tag();
    if git_succeeds(ctx, &["rev-parse", "--quiet", "--verify", &format!("refs/tags/{tag}")])? {
        bail!(
            "tag {tag} already exists: pick another version, or delete the tag if it is a mistake"
        );
    }

    let workspace = tidy::load_workspace(ctx.root)?;
    let mut members = BTreeSet::new();
    for package in &workspace.packages {
        let text = read(&ctx.root.join(&package.manifest))?;
        if !inherits_version(&text) {
            bail!(
                "{} sets its own version: write `version.workspace = true` in its [package], \
                 so that every crate is released with one version",
                package.manifest
            );
        }
        members.insert(package.name.as_str());
    }

    let mut edits = vec![FileEdit {
        path: "Cargo.toml".to_owned(),
        new: bump_manifest(&manifest, &members, &next),
        old: Some(manifest),
    }];
    let lock_path = ctx.root.join("Cargo.lock");
    if lock_path.is_file() {
        let lock = read(&lock_path)?;
        edits.push(FileEdit {
            path: "Cargo.lock".to_owned(),
            new: bump_lock(&lock, &members, &next),
            old: Some(lock),
        });
    }
    let commits = commits_since_last_tag(ctx)?;
    let changelog_section = changelog_section(&next, ctx.date, &commits);
    let changelog_path = ctx.root.join(CHANGELOG);
    let old_changelog = if changelog_path.is_file() { Some(read(&changelog_path)?) } else { None };
    edits.push(FileEdit {
        path: CHANGELOG.to_owned(),
        new: insert_section(old_changelog.as_deref(), &changelog_section),
        old: old_changelog,
    });
    let dirty = dirty_files(ctx)?;
    Ok(Plan { current, next, edits, changelog_section, dirty })
}

/// Writes the plan's files, runs `ci` on the result, then commits and tags.
///
/// Stops before writing when the tree is dirty; when `ci` fails, leaves the edits in place
/// for the maintainer to inspect, and says how to undo them.
pub(crate) fn apply(
    ctx: &ReleaseContext<'_>,
    plan: &Plan,
    ci: &dyn Fn(&Path) -> Result<()>,
) -> Result<()> {
    if !plan.dirty.is_empty() {
        bail!(
            "the working tree has uncommitted changes ({}): commit or stash them first, \
             a release is cut from a committed tree",
            plan.dirty.join(", ")
        );
    }
    let paths: Vec<&str> = plan.edits.iter().map(|edit| edit.path.as_str()).collect();
    for edit in &plan.edits {
        let path = ctx.root.join(&edit.path);
        fs::write(&path, &edit.new)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    let tag = plan.next.tag();
    ci(ctx.root).with_context(|| {
        format!(
            "ci failed on the release of {tag}, so nothing was committed or tagged; \
             the edits are left for you to look at, `git checkout -- {}` undoes them",
            paths.join(" ")
        )
    })?;
    let message = format!("release: {tag}");
    let mut add = vec!["add", "--"];
    add.extend(&paths);
    git_run(ctx, &add)?;
    git_run(ctx, &["commit", "--quiet", "-m", &message])?;
    git_run(ctx, &["tag", "-a", &tag, "-m", &format!("omk {}", plan.next)])?;
    Ok(())
}

impl Version {
    /// Parses `MAJOR.MINOR.PATCH[-PRE]`, with the rules of semver: numbers without leading
    /// zeros, pre-release identifiers of ASCII letters, digits and hyphens.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let invalid = || {
            anyhow::anyhow!(
                "`{text}` is not a version: pass MAJOR.MINOR.PATCH such as 0.2.0, \
                 or with a pre-release such as 0.2.0-rc.1 (no `v` prefix)"
            )
        };
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let numbers: Vec<u64> =
            core.split('.').map(parse_number).collect::<Option<_>>().ok_or_else(invalid)?;
        let [major, minor, patch] = numbers[..] else {
            return Err(invalid());
        };
        if let Some(pre) = pre {
            let valid = pre.split('.').all(|identifier| {
                !identifier.is_empty()
                    && identifier.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                    && (!identifier.chars().all(|ch| ch.is_ascii_digit())
                        || parse_number(identifier).is_some())
            });
            if !valid {
                return Err(invalid());
            }
        }
        Ok(Self { major, minor, patch, pre: pre.map(str::to_owned) })
    }

    /// Returns the git tag of this version.
    pub(crate) fn tag(&self) -> String {
        format!("v{self}")
    }

    fn next_minor(&self) -> Self {
        Self { major: self.major, minor: self.minor + 1, patch: 0, pre: None }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// Orders by semver precedence: a pre-release comes before its release, and pre-release
    /// identifiers compare numerically when both are numbers.
    fn cmp(&self, other: &Self) -> Ordering {
        let core =
            (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch));
        core.then_with(|| match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(left), Some(right)) => {
                let mut left = left.split('.');
                let mut right = right.split('.');
                loop {
                    match (left.next(), right.next()) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(left), Some(right)) => {
                            let order = match (left.parse::<u64>(), right.parse::<u64>()) {
                                (Ok(left), Ok(right)) => left.cmp(&right),
                                (Ok(_), Err(_)) => Ordering::Less,
                                (Err(_), Ok(_)) => Ordering::Greater,
                                (Err(_), Err(_)) => left.cmp(right),
                            };
                            if order != Ordering::Equal {
                                return order;
                            }
                        }
                    }
                }
            }
        })
    }
}

impl fmt::Display for Plan {
    /// Shows the whole release: the version change, each changed line of each file, the new
    /// changelog section and the commands that follow.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = self.next.tag();
        writeln!(f, "release: {} -> {} (tag {tag})", self.current, self.next)?;
        if !self.dirty.is_empty() {
            writeln!(
                f,
                "warning: uncommitted changes, a real release stops here: {}",
                self.dirty.join(", ")
            )?;
        }
        for edit in &self.edits {
            match &edit.old {
                Some(old) if edit.path != CHANGELOG => {
                    writeln!(f, "\n{}:", edit.path)?;
                    for (line_idx, (old, new)) in old.lines().zip(edit.new.lines()).enumerate() {
                        if old != new {
                            writeln!(f, "  {:>4} - {old}", line_idx + 1)?;
                            writeln!(f, "  {:>4} + {new}", line_idx + 1)?;
                        }
                    }
                }
                Some(_) => writeln!(f, "\n{}: adds this section", edit.path)?,
                None => writeln!(f, "\n{}: created, with this section", edit.path)?,
            }
        }
        for line in self.changelog_section.lines() {
            writeln!(f, "{}", format!("  | {line}").trim_end())?;
        }
        let paths: Vec<&str> = self.edits.iter().map(|edit| edit.path.as_str()).collect();
        writeln!(f, "\nthen:")?;
        writeln!(f, "  cargo xtask ci")?;
        writeln!(f, "  git add -- {}", paths.join(" "))?;
        writeln!(f, "  git commit -m \"release: {tag}\"")?;
        writeln!(f, "  git tag -a {tag} -m \"omk {}\"", self.next)
    }
}

/// Returns a number without leading zeros, as semver requires.
fn parse_number(text: &str) -> Option<u64> {
    let valid = !text.is_empty()
        && text.chars().all(|ch| ch.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if valid { text.parse().ok() } else { None }
}

/// Returns the `version` of `[workspace.package]` in the root manifest.
fn workspace_version(manifest: &str) -> Result<Version> {
    let mut table = "";
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed;
        } else if table == "[workspace.package]"
            && let Some(value) = key_value(trimmed, "version")
        {
            return Version::parse(value).context("failed to read [workspace.package] version");
        }
    }
    bail!(
        "Cargo.toml has no `version` in [workspace.package]: add one, and \
         `version.workspace = true` in every crate"
    )
}

/// Returns whether a member manifest takes its version from the workspace.
fn inherits_version(manifest: &str) -> bool {
    let mut table = "";
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed;
        } else if table == "[package]" {
            let compact: String = trimmed.chars().filter(|ch| !ch.is_whitespace()).collect();
            if compact.starts_with("version.workspace=true")
                || compact.starts_with("version={workspace=true")
            {
                return true;
            }
        }
    }
    false
}

/// Returns the root manifest with `next` as the workspace version and the version of every
/// internal crate in `[workspace.dependencies]`; other lines are unchanged.
fn bump_manifest(manifest: &str, members: &BTreeSet<&str>, next: &Version) -> String {
    let mut table = String::new();
    let mut out = String::new();
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            trimmed.clone_into(&mut table);
        }
        let bumped = match table.as_str() {
            "[workspace.package]" if key_value(trimmed, "version").is_some() => {
                replace_version(line, next)
            }
            "[workspace.dependencies]" => {
                let key = trimmed.split(['=', ' ']).next().unwrap_or_default();
                if members.contains(key) && trimmed.contains("path") {
                    replace_version(line, next)
                } else {
                    None
                }
            }
            _ => None,
        };
        out.push_str(bumped.as_deref().unwrap_or(line));
    }
    out
}

/// Returns Cargo.lock with `next` as the version of every workspace member (the packages
/// without a `source`).
fn bump_lock(lock: &str, members: &BTreeSet<&str>, next: &Version) -> String {
    let mut out = String::new();
    for block in lock.split_inclusive("[[package]]") {
        let is_member = block
            .lines()
            .any(|line| key_value(line.trim(), "name").is_some_and(|name| members.contains(name)))
            && !block.lines().any(|line| line.trim().starts_with("source ="));
        if !is_member {
            out.push_str(block);
            continue;
        }
        for line in block.split_inclusive('\n') {
            let bumped = if key_value(line.trim(), "version").is_some() {
                replace_version(line, next)
            } else {
                None
            };
            out.push_str(bumped.as_deref().unwrap_or(line));
        }
    }
    out
}

/// Returns the string value of `key = "value"`, if `line` is that.
fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?.trim();
    rest.strip_prefix('"')?.split('"').next()
}

/// Replaces the quoted value after the first `version = ` in `line` with `next`.
fn replace_version(line: &str, next: &Version) -> Option<String> {
    let start = line.find("version")?;
    let after_key = &line[start + "version".len()..];
    let quote_open = start + "version".len() + after_key.find('"')?;
    if !line[start + "version".len()..quote_open].trim().eq("=") {
        return None;
    }
    let quote_close = quote_open + 1 + line[quote_open + 1..].find('"')?;
    Some(format!("{}{next}{}", &line[..=quote_open], &line[quote_close..]))
}

/// One commit: its abbreviated hash and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    pub(crate) hash: String,
    pub(crate) subject: String,
}

/// Returns the commits since the last `v*` tag (all of them when there is none), oldest first,
/// without merges.
fn commits_since_last_tag(ctx: &ReleaseContext<'_>) -> Result<Vec<Commit>> {
    let last_tag = git_read(ctx, &["describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"])
        .ok()
        .map(|tag| tag.trim().to_owned());
    let range = match &last_tag {
        Some(tag) => format!("{tag}..HEAD"),
        None => "HEAD".to_owned(),
    };
    let log = git_read(ctx, &["log", "--reverse", "--no-merges", "--format=%h%x1f%s", &range])?;
    Ok(log
        .lines()
        .filter_map(|line| line.split_once('\x1f'))
        .map(|(hash, subject)| Commit { hash: hash.to_owned(), subject: subject.to_owned() })
        .collect())
}

/// Splits a commit subject into (group, text) entries; see the module docs.
pub(crate) fn classify(subject: &str) -> Vec<(String, String)> {
    let subject = subject.trim();
    if subject.starts_with('[') {
        let mut entries = Vec::new();
        for part in subject.split("; [") {
            let part = part.strip_prefix('[').unwrap_or(part);
            match part.split_once(']') {
                Some((scope, text)) if !scope.trim().is_empty() => {
                    entries.push((scope.trim().to_lowercase(), text.trim().to_owned()));
                }
                _ => entries.push(("other".to_owned(), part.trim().to_owned())),
            }
        }
        return entries;
    }
    if let Some((prefix, text)) = subject.split_once(": ") {
        let is_area = !prefix.is_empty()
            && prefix.starts_with(|ch: char| ch.is_ascii_alphabetic())
            && prefix.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_".contains(ch));
        if is_area {
            return vec![(prefix.to_lowercase(), text.trim().to_owned())];
        }
    }
    vec![("other".to_owned(), subject.to_owned())]
}

/// Returns the changelog section of `version`: one `###` heading per group, alphabetically with
/// "other" last, each commit once per group in the order it was made.
pub(crate) fn changelog_section(version: &Version, date: NaiveDate, commits: &[Commit]) -> String {
    let mut groups: BTreeMap<(bool, String), Vec<String>> = BTreeMap::new();
    for commit in commits {
        for (group, text) in classify(&commit.subject) {
            // Earlier release commits only bump versions.
            if group == "release" {
                continue;
            }
            let entry = format!("- {text} ({})", commit.hash);
            groups.entry((group == "other", group)).or_default().push(entry);
        }
    }
    let mut section = format!("## {version} - {}\n", date.format("%Y-%m-%d"));
    if groups.is_empty() {
        section.push_str("\nNo changes since the previous release.\n");
    }
    for ((_, group), entries) in &groups {
        write!(section, "\n### {group}\n\n").expect("writing to a String cannot fail");
        for entry in entries {
            writeln!(section, "{entry}").expect("writing to a String cannot fail");
        }
    }
    section
}

/// Returns the changelog with `section` before the first release section (or at the end),
/// creating the changelog with its header when there is none.
fn insert_section(changelog: Option<&str>, section: &str) -> String {
    let changelog = changelog.unwrap_or(CHANGELOG_HEADER);
    let mut offset = 0;
    for line in changelog.split_inclusive('\n') {
        if line.starts_with("## ") {
            return format!("{}{section}\n{}", &changelog[..offset], &changelog[offset..]);
        }
        offset += line.len();
    }
    let separator = if changelog.ends_with("\n\n") || changelog.is_empty() { "" } else { "\n" };
    format!("{changelog}{separator}{section}")
}

/// Returns the files `git status` reports as changed or untracked.
fn dirty_files(ctx: &ReleaseContext<'_>) -> Result<Vec<String>> {
    let status = git_read(ctx, &["status", "--porcelain", "--untracked-files=normal"])?;
    Ok(status.lines().map(|line| line.get(3..).unwrap_or(line).to_owned()).collect())
}

fn git(ctx: &ReleaseContext<'_>, args: &[&str]) -> Command {
    let mut command = (ctx.git)(ctx.root);
    command.args(args);
    command
}

/// Returns git in `dir`, with the maintainer's environment: a release is theirs.
fn plain_git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.current_dir(dir);
    command
}

fn git_read(ctx: &ReleaseContext<'_>, args: &[&str]) -> Result<String> {
    process::read(&mut git(ctx, args), &format!("git {}", args.join(" ")))
}

fn git_run(ctx: &ReleaseContext<'_>, args: &[&str]) -> Result<()> {
    git_read(ctx, args).map(drop)
}

fn git_succeeds(ctx: &ReleaseContext<'_>, args: &[&str]) -> Result<bool> {
    let output = git(ctx, args)
        .output()
        .with_context(|| format!("failed to start `git {}`", args.join(" ")))?;
    Ok(output.status.success())
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}
