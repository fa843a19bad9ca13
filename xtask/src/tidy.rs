//! `cargo xtask tidy`: checks what rustc and clippy do not, and reports every problem it finds.
//!
//! The checks follow the style guide (`docs/dev/style.md`, "Tidy checks"):
//! - every workspace dependency edge is allowed by the table in ARCHITECTURE.md;
//! - every crate's `lib.rs` has crate docs with an invariant ("does not …") line, and every
//!   source file starts with a `//!` line;
//! - the pure code (omk-proof, omk-goal's decisions) uses no file system, process,
//!   environment or clock;
//! - no ignored or should-panic tests and no leftover debugging or placeholder macros;
//! - every manifest inherits the workspace lints and takes internal crates from the workspace;
//! - no trailing whitespace in Rust, TOML and Markdown files;
//! - no non-test source file over 800 lines and no non-test function over 120 (`source.rs`);
//! - the `.omk` state directory is spelled only by omk-goal's `Layout` (`source.rs`);
//! - `unsafe` code and `pre_exec` hooks appear only in omk-sandbox's `child.rs` (`source.rs`).
//!
//! Each check returns all of its problems, so one run shows everything there is to fix. The
//! checks work on text, line by line: they are heuristics for our own code, not parsers.

mod manifest;
mod source;
#[cfg(test)]
mod tests;

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt, fs, io,
    path::{Component, Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// One problem tidy found, in a file and maybe on one line of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The file, relative to the workspace root and `/`-separated.
    pub(crate) path: String,
    /// The 1-based line in `path`, when the problem is on one line.
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

/// The workspace packages as `cargo metadata` sees them, sorted by name.
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    pub(crate) packages: Vec<Package>,
}

/// One workspace package.
#[derive(Debug)]
pub(crate) struct Package {
    pub(crate) name: String,
    /// Its Cargo.toml, relative to the workspace root and `/`-separated.
    pub(crate) manifest: String,
    /// The workspace packages it depends on, with any kind of dependency (normal, dev, build).
    pub(crate) dependencies: BTreeSet<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl Problem {
    fn at(path: &str, line: usize, message: String) -> Self {
        Self { path: path.to_owned(), line: Some(line), message }
    }

    fn in_file(path: &str, message: String) -> Self {
        Self { path: path.to_owned(), line: None, message }
    }
}

const ARCHITECTURE: &str = "ARCHITECTURE.md";
const TABLE_START: &str = "<!-- tidy:dependency-table -->";
const TABLE_END: &str = "<!-- /tidy:dependency-table -->";

/// Source trees and files that must stay pure: no fs, process, env or clock (style rule 3).
/// They are omk-proof, and omk-goal's decisions: the goal's state, intake, the review wall, the
/// team's fold and its task graph.
const PURE_SOURCES: &[&str] = &[
    "crates/omk-proof/src",
    "crates/omk-goal/src/decide",
    "crates/omk-goal/src/team/fold.rs",
    "crates/omk-goal/src/team/plan.rs",
    "crates/omk-goal/src/team/plan",
];
const IMPURE_APIS: &[&str] = &[
    "std::fs",
    "std::process",
    "std::env",
    "SystemTime::now",
    "Utc::now",
    "Instant::now",
    "Local::now",
];
/// The std modules of `IMPURE_APIS`, as they appear in a grouped `use std::{…}`.
const IMPURE_STD_MODULES: &[&str] = &["fs", "process", "env"];

/// Where the banned patterns are looked for, relative to the workspace root.
const BANNED_PATTERN_DIRS: &[&str] = &["crates", "xtask/src", "tests"];
/// Banned patterns and why. The patterns are split with `concat!` so that this file, which is
/// checked too, does not contain them.
const BANNED_PATTERNS: &[(&str, &str)] = &[
    (
        concat!("#[", "ignore"),
        "ignored tests are not allowed: assert the current behavior with a FIXME comment instead",
    ),
    (
        concat!("#[", "should_panic"),
        "should-panic tests are not allowed: assert on the returned Err instead",
    ),
    (concat!("dbg", "!("), "leftover dbg! macro"),
    (concat!("todo", "!("), "leftover todo! macro"),
    (concat!("unimplemented", "!("), "leftover unimplemented! macro: return an error instead"),
];

/// Directories no check looks into.
const ALWAYS_SKIPPED_DIRS: &[&str] = &["target", ".git"];
/// The extensions of the files checked for trailing whitespace.
const WHITESPACE_CHECKED_EXTENSIONS: &[&str] = &["rs", "toml", "md"];

/// Runs every check on the workspace at `root` and returns all problems found.
pub(crate) fn run(root: &Path) -> Result<Vec<Problem>> {
    let workspace = load_workspace(root)?;
    let mut problems = check_dependency_table(root, &workspace)?;
    problems.extend(check_crate_docs(root)?);
    problems.extend(check_purity(root)?);
    problems.extend(check_banned_patterns(root)?);
    problems.extend(check_manifests(root, &workspace)?);
    problems.extend(check_trailing_whitespace(root)?);
    problems.extend(source::check_sizes(root)?);
    problems.extend(source::check_layout_literals(root)?);
    problems.extend(source::check_unsafe(root)?);
    Ok(problems)
}

/// Prints `problems` and fails if there are any.
pub(crate) fn report(problems: &[Problem]) -> Result<()> {
    if problems.is_empty() {
        println!("tidy: no problems found");
        return Ok(());
    }
    for problem in problems {
        eprintln!("{problem}");
    }
    let plural = if problems.len() == 1 { "" } else { "s" };
    bail!("tidy found {} problem{plural}", problems.len())
}

/// Reads the workspace packages and their workspace dependencies with `cargo metadata`.
pub(crate) fn load_workspace(root: &Path) -> Result<Workspace> {
    let manifest = root.join("Cargo.toml");
    // `--no-deps` resolves nothing, so this needs no network and writes no Cargo.lock.
    let output = Command::new(crate::cargo())
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(&manifest)
        .current_dir(root)
        .output()
        .context("failed to run `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata --manifest-path {}` exited with {}:\n{}",
            manifest.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let json =
        String::from_utf8(output.stdout).context("`cargo metadata` printed invalid UTF-8")?;
    parse_metadata(&json)
}

/// Checks every workspace dependency edge against the table in ARCHITECTURE.md.
pub(crate) fn check_dependency_table(root: &Path, workspace: &Workspace) -> Result<Vec<Problem>> {
    let text = read(&root.join(ARCHITECTURE))?;
    Ok(dependency_table_problems(&text, workspace))
}

/// Checks crate docs and module doc lines under `crates/`.
pub(crate) fn check_crate_docs(root: &Path) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for crate_dir in crate_dirs(root)? {
        let lib = crate_dir.join("src").join("lib.rs");
        if lib.is_file() {
            if !has_invariant_line(&read(&lib)?) {
                problems.push(Problem::in_file(
                    &display_path(root, &lib),
                    "the crate docs have no invariant line saying what the crate does not do"
                        .to_owned(),
                ));
            }
        } else {
            problems.push(Problem::in_file(
                &display_path(root, &crate_dir.join("Cargo.toml")),
                "the crate has no src/lib.rs: logic lives in a library, main.rs only calls it"
                    .to_owned(),
            ));
        }
        for file in rust_files(&crate_dir.join("src"), &["tests", "data"])? {
            if !read(&file)?.starts_with("//!") {
                problems.push(Problem::at(
                    &display_path(root, &file),
                    1,
                    "the file does not start with a `//!` doc line".to_owned(),
                ));
            }
        }
    }
    Ok(problems)
}

/// Checks that the pure crates use no file system, process, environment or clock.
pub(crate) fn check_purity(root: &Path) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for source in PURE_SOURCES {
        let source = root.join(source);
        let files = if source.is_file() { vec![source] } else { rust_files(&source, &[])? };
        for file in files {
            problems.extend(impure_uses(&display_path(root, &file), &read(&file)?));
        }
    }
    Ok(problems)
}

/// Checks for ignored and should-panic tests and leftover `dbg!`, `todo!` and `unimplemented!`.
pub(crate) fn check_banned_patterns(root: &Path) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for dir in BANNED_PATTERN_DIRS {
        for file in rust_files(&root.join(dir), &["fixtures"])? {
            let path = display_path(root, &file);
            for (line_idx, line) in read(&file)?.lines().enumerate() {
                if is_comment(line) {
                    continue;
                }
                for (pattern, message) in BANNED_PATTERNS {
                    if line.contains(pattern) {
                        problems.push(Problem::at(&path, line_idx + 1, (*message).to_owned()));
                    }
                }
            }
        }
    }
    Ok(problems)
}

/// Checks that every manifest inherits the workspace lints and internal dependencies.
pub(crate) fn check_manifests(root: &Path, workspace: &Workspace) -> Result<Vec<Problem>> {
    let internal: BTreeSet<&str> =
        workspace.packages.iter().map(|package| package.name.as_str()).collect();
    let mut problems = Vec::new();
    for package in &workspace.packages {
        let text = read(&root.join(&package.manifest))?;
        problems.extend(manifest::manifest_problems(
            &package.name,
            &package.manifest,
            &text,
            &internal,
        ));
    }
    Ok(problems)
}

/// Checks Rust, TOML and Markdown files for trailing whitespace.
///
/// In a git checkout these are the files git knows about (tracked, or untracked and not
/// ignored); elsewhere every file outside `target/` and `.git/`.
pub(crate) fn check_trailing_whitespace(root: &Path) -> Result<Vec<Problem>> {
    let files = if root.join(".git").exists() { git_files(root)? } else { walk_files(root)? };
    let mut problems = Vec::new();
    for file in files {
        let checked = Path::new(&file)
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| WHITESPACE_CHECKED_EXTENSIONS.contains(&extension));
        if !checked {
            continue;
        }
        let bytes = match fs::read(root.join(&file)) {
            Ok(bytes) => bytes,
            // A tracked file deleted from the working tree has nothing to check.
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err).with_context(|| format!("failed to read {file}")),
        };
        for (line_idx, line) in String::from_utf8_lossy(&bytes).split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.ends_with([' ', '\t']) {
                problems.push(Problem::at(&file, line_idx + 1, "trailing whitespace".to_owned()));
            }
        }
    }
    Ok(problems)
}

/// Parses `cargo metadata --format-version 1 --no-deps` output.
fn parse_metadata(json: &str) -> Result<Workspace> {
    let metadata: Value =
        serde_json::from_str(json).context("failed to parse `cargo metadata` output")?;
    let workspace_root = PathBuf::from(str_field(&metadata, "workspace_root")?);
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .context("`cargo metadata` output has no `workspace_members` array")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut packages = Vec::new();
    for package in metadata["packages"]
        .as_array()
        .context("`cargo metadata` output has no `packages` array")?
    {
        if !members.contains(str_field(package, "id")?) {
            continue;
        }
        let name = str_field(package, "name")?.to_owned();
        let manifest =
            display_path(&workspace_root, Path::new(str_field(package, "manifest_path")?));
        let mut dependencies = BTreeSet::new();
        for dependency in package["dependencies"]
            .as_array()
            .with_context(|| format!("package {name} has no `dependencies` array"))?
        {
            // Only path dependencies can be workspace packages; a registry crate may share a name.
            if dependency.get("path").is_some_and(Value::is_string) {
                dependencies.insert(str_field(dependency, "name")?.to_owned());
            }
        }
        packages.push(Package { name, manifest, dependencies });
    }
    let names: BTreeSet<String> = packages.iter().map(|package| package.name.clone()).collect();
    for package in &mut packages {
        package.dependencies.retain(|dependency| names.contains(dependency));
    }
    packages.sort_by(|left, right| left.name.cmp(&right.name));
    Ok(Workspace { packages })
}

fn str_field<'a>(value: &'a Value, key: &str) -> Result<&'a str> {
    value[key].as_str().with_context(|| format!("`cargo metadata` output has no string `{key}`"))
}

/// A row of the dependency table: the crates one crate may depend on.
#[derive(Debug, PartialEq, Eq)]
struct TableRow {
    line: usize,
    allowed: BTreeSet<String>,
}

fn dependency_table_problems(architecture: &str, workspace: &Workspace) -> Vec<Problem> {
    let (rows, mut problems) = match parse_dependency_table(architecture) {
        Ok(parsed) => parsed,
        Err(problem) => return vec![problem],
    };
    let names: BTreeSet<&str> =
        workspace.packages.iter().map(|package| package.name.as_str()).collect();
    for package in &workspace.packages {
        let Some(row) = rows.get(&package.name) else {
            problems.push(Problem::in_file(
                ARCHITECTURE,
                format!(
                    "{} is a workspace package but has no row in the dependency table",
                    package.name
                ),
            ));
            continue;
        };
        for dependency in &package.dependencies {
            if !row.allowed.contains(dependency) {
                problems.push(Problem::in_file(
                    &package.manifest,
                    format!(
                        "{} depends on {dependency}, which ARCHITECTURE.md's dependency table does not allow",
                        package.name
                    ),
                ));
            }
        }
    }
    let mut rows_by_line: Vec<(&String, &TableRow)> = rows.iter().collect();
    rows_by_line.sort_by_key(|(_, row)| row.line);
    for (name, row) in rows_by_line {
        for named in std::iter::once(name).chain(&row.allowed) {
            if !names.contains(named.as_str()) {
                problems.push(Problem::at(
                    ARCHITECTURE,
                    row.line,
                    format!("the dependency table names {named}, which is not a workspace package"),
                ));
            }
        }
    }
    problems
}

/// Parses the dependency table between the markers into rows by crate name.
///
/// Returns the rows with the problems of malformed rows, or one problem when the markers are
/// missing.
fn parse_dependency_table(
    text: &str,
) -> Result<(BTreeMap<String, TableRow>, Vec<Problem>), Problem> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|line| line.trim() == TABLE_START).ok_or_else(|| {
        Problem::in_file(
            ARCHITECTURE,
            format!("there is no dependency table between `{TABLE_START}` and `{TABLE_END}`"),
        )
    })?;
    let end = lines[start..]
        .iter()
        .position(|line| line.trim() == TABLE_END)
        .map(|offset| start + offset)
        .ok_or_else(|| {
            Problem::at(
                ARCHITECTURE,
                start + 1,
                format!("the dependency table is not closed with `{TABLE_END}`"),
            )
        })?;

    let mut rows = BTreeMap::new();
    let mut problems = Vec::new();
    let mut seen_header = false;
    for (line_idx, line) in lines.iter().enumerate().take(end).skip(start + 1) {
        let line_no = line_idx + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(cells) = table_cells(line) else {
            problems.push(Problem::at(
                ARCHITECTURE,
                line_no,
                "expected a table row `| crate | allowed crates |`".to_owned(),
            ));
            continue;
        };
        if cells.iter().all(|cell| !cell.is_empty() && cell.chars().all(|ch| "-: ".contains(ch))) {
            continue;
        }
        if !seen_header {
            seen_header = true;
            continue;
        }
        let [name, allowed] = cells.as_slice() else {
            problems.push(Problem::at(
                ARCHITECTURE,
                line_no,
                format!("expected 2 columns (crate | allowed crates), found {}", cells.len()),
            ));
            continue;
        };
        let name = clean_crate_name(name);
        if name.is_empty() {
            problems.push(Problem::at(ARCHITECTURE, line_no, "the row names no crate".to_owned()));
            continue;
        }
        let mut row = TableRow { line: line_no, allowed: BTreeSet::new() };
        if !["", "—", "–", "-"].contains(allowed) {
            for entry in allowed.split(',') {
                let entry = clean_crate_name(entry);
                if entry.is_empty() {
                    problems.push(Problem::at(
                        ARCHITECTURE,
                        line_no,
                        format!("empty crate name in `{allowed}`"),
                    ));
                } else {
                    row.allowed.insert(entry.to_owned());
                }
            }
        }
        if rows.insert(name.to_owned(), row).is_some() {
            problems.push(Problem::at(
                ARCHITECTURE,
                line_no,
                format!("{name} has more than one row in the dependency table"),
            ));
        }
    }
    Ok((rows, problems))
}

/// Splits a Markdown table row `| a | b |` into its trimmed cells.
fn table_cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.strip_prefix('|')?;
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    Some(inner.split('|').map(str::trim).collect())
}

fn clean_crate_name(cell: &str) -> &str {
    cell.trim().trim_matches('`').trim()
}

fn has_invariant_line(lib: &str) -> bool {
    lib.lines()
        .filter(|line| line.trim_start().starts_with("//!"))
        .any(|line| line.to_lowercase().contains("does not"))
}

/// Returns the uses of impure APIs in the source file at `path`, skipping comment lines.
fn impure_uses(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let code: Vec<&str> =
        text.lines().map(|line| if is_comment(line) { "" } else { line }).collect();
    for (line_idx, line) in code.iter().enumerate() {
        for api in IMPURE_APIS {
            if line.contains(api) {
                problems.push(Problem::at(path, line_idx + 1, impure_message(api)));
            }
        }
    }
    // A grouped import such as `use std::{env, fmt};` never spells `std::env`.
    let code = code.join("\n");
    for (offset, _) in code.match_indices("std::{") {
        let line = code[..offset].matches('\n').count() + 1;
        let group = brace_group(&code[offset + "std::".len()..]);
        for item in split_top_level(group, ',') {
            let module = item.trim().split("::").next().unwrap_or_default().trim();
            if IMPURE_STD_MODULES.contains(&module) {
                problems.push(Problem::at(path, line, impure_message(&format!("std::{module}"))));
            }
        }
    }
    problems.sort_by_key(|problem| problem.line);
    problems
}

fn impure_message(api: &str) -> String {
    format!("`{api}` in a pure crate: take data, time and ids as parameters instead")
}

/// Returns the text inside the braces that `text` starts with, up to the matching brace.
fn brace_group(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('{') else {
        return "";
    };
    let mut depth = 1usize;
    for (idx, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &inner[..idx];
                }
            }
            _ => {}
        }
    }
    inner
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with("//")
}

/// Splits `text` at every `separator` outside quotes and brackets.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    for (idx, ch) in text.char_indices() {
        if let Some(open) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' && open == '"' {
                escaped = true;
            } else if ch == open {
                quote = None;
            }
            continue;
        }
        match ch {
            _ if ch == separator && depth == 0 => {
                parts.push(&text[start..idx]);
                start = idx + ch.len_utf8();
            }
            '"' | '\'' => quote = Some(ch),
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Returns the directories `crates/*` that hold a Cargo.toml, sorted.
fn crate_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let crates = root.join("crates");
    if !crates.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs = Vec::new();
    for entry in
        fs::read_dir(&crates).with_context(|| format!("failed to list {}", crates.display()))?
    {
        let path = entry.with_context(|| format!("failed to list {}", crates.display()))?.path();
        if path.join("Cargo.toml").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Returns the `.rs` files under `dir`, sorted, skipping directories named in `skipped_dirs`
/// and `ALWAYS_SKIPPED_DIRS`. A missing `dir` has no files.
fn rust_files(dir: &Path, skipped_dirs: &[&str]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        walk(dir, skipped_dirs, &mut files)?;
    }
    files.retain(|file| file.extension().is_some_and(|extension| extension == "rs"));
    files.sort();
    Ok(files)
}

/// Returns every file under `root` outside `target/` and `.git/`, relative and `/`-separated.
fn walk_files(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    walk(root, &[], &mut files)?;
    let mut files: Vec<String> = files.iter().map(|file| display_path(root, file)).collect();
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, skipped_dirs: &[&str], files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("failed to list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("failed to list {}", dir.display()))?;
        let file_type = entry
            .file_type()
            .with_context(|| format!("failed to stat {}", entry.path().display()))?;
        let path = entry.path();
        if file_type.is_dir() {
            let name = entry.file_name();
            let skipped = ALWAYS_SKIPPED_DIRS.iter().chain(skipped_dirs).any(|skip| name == **skip);
            if !skipped {
                walk(&path, skipped_dirs, files)?;
            }
        } else if file_type.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Returns the files git knows about: tracked, or untracked and not ignored.
fn git_files(root: &Path) -> Result<Vec<String>> {
    let output = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output()
        .context("failed to run `git ls-files`")?;
    if !output.status.success() {
        bail!(
            "`git ls-files` in {} exited with {}:\n{}",
            root.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let stdout =
        String::from_utf8(output.stdout).context("`git ls-files` printed invalid UTF-8")?;
    let mut files: Vec<String> =
        stdout.split('\0').filter(|file| !file.is_empty()).map(str::to_owned).collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Returns `path` relative to `root` (when it is inside it), `/`-separated.
fn display_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}
