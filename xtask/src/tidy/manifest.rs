//! The manifest check: every crate inherits the workspace lints and takes internal crates from
//! `[workspace.dependencies]`. It reads TOML line by line, which is enough for our manifests.

use std::collections::{BTreeMap, BTreeSet};

use super::{Problem, split_top_level};

/// Returns the problems of one manifest: lints not inherited, internal dependencies not taken
/// from `[workspace.dependencies]`.
///
/// Only `[dependencies]` and `[build-dependencies]` (also per target) are checked:
/// dev-dependencies are not published, and may leave out the version on purpose.
pub(crate) fn manifest_problems(
    package: &str,
    path: &str,
    text: &str,
    internal: &BTreeSet<&str>,
) -> Vec<Problem> {
    let mut table: Vec<String> = Vec::new();
    let mut table_line = 0;
    let mut inherits_lints = false;
    // Keyed by table and dependency key, so that the dotted keys of one dependency merge.
    let mut dependencies: BTreeMap<(String, String), DependencyEntry> = BTreeMap::new();
    for (line_idx, raw) in text.lines().enumerate() {
        let line = split_top_level(raw, '#')[0].trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            table = split_dotted_key(line.trim_start_matches('[').trim_end_matches(']'));
            table_line = line_idx + 1;
            continue;
        }
        let Some((key, value)) = split_key_value(line) else {
            continue;
        };
        let key = split_dotted_key(key);
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        let table_path: Vec<&str> = table.iter().map(String::as_str).collect();
        match (table_path.as_slice(), key.as_slice()) {
            ([], ["lints", "workspace"]) | (["lints"], ["workspace"]) => {
                inherits_lints |= value == "true";
            }
            ([], ["lints"]) => {
                inherits_lints |= inline_table(value)
                    .iter()
                    .any(|(key, value)| key == "workspace" && value == "true");
            }
            (table_path, [dependency, subkey @ ..]) if is_dependency_table(table_path) => {
                let entry =
                    dependencies.entry((table_path.join("."), (*dependency).to_owned())).or_insert(
                        DependencyEntry { line: line_idx + 1, ..DependencyEntry::default() },
                    );
                entry.apply(subkey, value);
            }
            ([table_path @ .., dependency], subkey) if is_dependency_table(table_path) => {
                let entry = dependencies
                    .entry((table_path.join("."), (*dependency).to_owned()))
                    .or_insert(DependencyEntry { line: table_line, ..DependencyEntry::default() });
                entry.apply(subkey, value);
            }
            _ => {}
        }
    }

    let mut problems = Vec::new();
    if !inherits_lints {
        problems.push(Problem::in_file(
            path,
            format!("{package} does not inherit the workspace lints: add `[lints]` with `workspace = true`"),
        ));
    }
    for ((_, key), entry) in &dependencies {
        let dependency = entry.package.as_deref().unwrap_or(key);
        if internal.contains(dependency) && !entry.workspace {
            problems.push(Problem::at(
                path,
                entry.line,
                format!(
                    "{package}'s dependency on {dependency} does not use `workspace = true`: \
                     internal crates come from [workspace.dependencies], with path and version"
                ),
            ));
        }
    }
    problems.sort_by_key(|problem| problem.line);
    problems
}

/// What tidy needs to know about one dependency in a manifest.
#[derive(Debug, Default)]
struct DependencyEntry {
    line: usize,
    /// The `package = "…"` of a renamed dependency.
    package: Option<String>,
    /// Whether it says `workspace = true`.
    workspace: bool,
}

impl DependencyEntry {
    /// Records `key = value`, where `key` is relative to the dependency (empty for the
    /// dependency's own value).
    fn apply(&mut self, key: &[&str], value: &str) {
        match key {
            [] => {
                for (key, value) in inline_table(value) {
                    self.apply(&[key.as_str()], &value);
                }
            }
            ["workspace"] => self.workspace = value == "true",
            ["package"] => self.package = Some(unquote(value).to_owned()),
            _ => {}
        }
    }
}

/// Returns whether a manifest table (split at dots) lists dependencies that are published.
fn is_dependency_table(table: &[&str]) -> bool {
    matches!(table, ["dependencies" | "build-dependencies"])
        || matches!(table, ["target", _, "dependencies" | "build-dependencies"])
}

/// Splits `key = value` at the first `=` outside quotes and brackets.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let parts = split_top_level(line, '=');
    let key = parts.first()?;
    if parts.len() < 2 {
        return None;
    }
    Some((key.trim(), line[key.len() + 1..].trim()))
}

/// Splits a dotted TOML key such as `target.'cfg(unix)'.dependencies` into unquoted parts.
fn split_dotted_key(key: &str) -> Vec<String> {
    split_top_level(key, '.').into_iter().map(|part| unquote(part).to_owned()).collect()
}

/// Returns the key/value pairs of an inline table `{ a = 1, b = "x" }`; nothing for a
/// value that is not an inline table.
fn inline_table(value: &str) -> Vec<(String, String)> {
    let Some(inner) = value.trim().strip_prefix('{').and_then(|inner| inner.strip_suffix('}'))
    else {
        return Vec::new();
    };
    split_top_level(inner, ',')
        .into_iter()
        .filter_map(split_key_value)
        .map(|(key, value)| (unquote(key).to_owned(), value.to_owned()))
        .collect()
}

fn unquote(text: &str) -> &str {
    let text = text.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|inner| inner.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}
