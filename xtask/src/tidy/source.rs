//! Checks of the shape of non-test source code: how long files and functions are, where the
//! `.omk` state directory may be spelled, and where `unsafe` code may be.
//!
//! Test code is exempt: files named `tests.rs`, anything under a `tests/`, `benches/` or
//! `examples/` directory, a file that says `#![cfg(test)]`, the body of a
//! `#[cfg(test)] mod … { … }` block, and the test kit (`crates/omk-testkit`, a dev-dependency
//! only).

use std::path::Path;

use anyhow::Result;

use super::{Problem, display_path, is_comment, read, rust_files};

/// The longest a non-test source file may be, in lines.
pub(crate) const MAX_FILE_LINES: usize = 800;
/// The longest a non-test function may be, in lines, from its `fn` line to its closing brace.
pub(crate) const MAX_FN_LINES: usize = 120;

/// Where the size limits apply, relative to the workspace root.
const SIZED_DIRS: &[&str] = &["crates", "xtask/src"];

/// Files and functions allowed over the limits, with the reason; each entry is a path, then the
/// function's name or `*` for the file's length.
///
/// Empty on purpose: a long function is cut at its phases, a long file at its seams. An entry
/// needs a reason a reviewer agrees with.
const SIZE_EXCEPTIONS: &[(&str, &str, &str)] = &[];

/// The one file that spells the state directory: `Layout` in omk-goal.
const LAYOUT_FILE: &str = "crates/omk-goal/src/layout.rs";
/// The state directory's name, split so that this file does not contain it.
const STATE_DIR: &str = concat!(".", "omk");

/// The one file with `unsafe` code: omk-sandbox's hook between fork and exec.
pub(crate) const UNSAFE_FILE: &str = "crates/omk-sandbox/src/child.rs";
/// What marks `unsafe` code or code between fork and exec, split so that this file does not
/// contain them.
const UNSAFE_MARKS: &[&str] = &[
    concat!("unsafe", " {"),
    concat!("unsafe", " fn"),
    concat!("unsafe", " impl"),
    concat!("(unsafe", "_code"),
    concat!(".pre", "_exec("),
];

/// Checks that `unsafe` code and `pre_exec` hooks appear only in [`UNSAFE_FILE`], test code
/// included: the workspace denies `unsafe_code`, and this keeps the one exception in one place.
pub(crate) fn check_unsafe(root: &Path) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for dir in ["crates", "xtask/src", "tests"] {
        for file in rust_files(&root.join(dir), &["target", "fixtures"])? {
            let path = display_path(root, &file);
            if path != UNSAFE_FILE {
                problems.extend(unsafe_problems(&path, &read(&file)?));
            }
        }
    }
    Ok(problems)
}

/// Returns the lines of `text` with `unsafe` code or a `pre_exec` hook.
pub(crate) fn unsafe_problems(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (line_idx, line) in text.lines().enumerate() {
        if !is_comment(line) && UNSAFE_MARKS.iter().any(|mark| line.contains(mark)) {
            problems.push(Problem::at(
                path,
                line_idx + 1,
                format!("`unsafe` code outside {UNSAFE_FILE}: use or extend its safe API instead"),
            ));
        }
    }
    problems
}

/// Checks that no non-test source file is longer than [`MAX_FILE_LINES`] and no non-test
/// function longer than [`MAX_FN_LINES`], except those in `SIZE_EXCEPTIONS`.
pub(crate) fn check_sizes(root: &Path) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for dir in SIZED_DIRS {
        for file in rust_files(&root.join(dir), &["tests", "benches", "examples", "target"])? {
            let path = display_path(root, &file);
            let text = read(&file)?;
            if is_test_file(&path) || is_test_module(&text) {
                continue;
            }
            problems.extend(size_problems(&path, &text));
        }
    }
    Ok(problems)
}

/// Checks that the state directory's name appears in a string literal of non-test code only in
/// `Layout`, which owns the `.omk/` layout.
pub(crate) fn check_layout_literals(root: &Path) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for dir in SIZED_DIRS {
        for file in rust_files(&root.join(dir), &["tests", "benches", "examples", "target"])? {
            let path = display_path(root, &file);
            let text = read(&file)?;
            if is_test_file(&path) || is_test_module(&text) || path == LAYOUT_FILE {
                continue;
            }
            problems.extend(layout_problems(&path, &text));
        }
    }
    Ok(problems)
}

/// The test kit's source, test code although it sits in `src/`.
const TEST_KIT: &str = "crates/omk-testkit/";

/// Returns whether `path` holds test code only.
fn is_test_file(path: &str) -> bool {
    path.ends_with("/tests.rs")
        || path.split('/').any(|part| part == "tests")
        || path.starts_with(TEST_KIT)
}

/// Returns whether a file is compiled for tests only: it says `#![cfg(test)]` before its code.
fn is_test_module(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .take_while(|line| line.starts_with("#!["))
        .any(|line| line == "#![cfg(test)]")
}

/// Returns the file's and its functions' size problems.
pub(crate) fn size_problems(path: &str, text: &str) -> Vec<Problem> {
    let lines = code_lines(text);
    let mut problems = Vec::new();
    let exempt =
        |item: &str| SIZE_EXCEPTIONS.iter().any(|(file, it, _)| *file == path && *it == item);
    if lines.len() > MAX_FILE_LINES && !exempt("*") {
        problems.push(Problem::in_file(
            path,
            format!(
                "the file has {} lines, over {MAX_FILE_LINES}: split it at a seam",
                lines.len()
            ),
        ));
    }
    for (start, name, length) in functions(&lines) {
        if length > MAX_FN_LINES && !exempt(name) {
            problems.push(Problem::at(
                path,
                start + 1,
                format!("fn {name} has {length} lines, over {MAX_FN_LINES}: cut it at its phases"),
            ));
        }
    }
    problems
}

/// Returns the spellings of the state directory in string literals outside comments.
pub(crate) fn layout_problems(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (line_idx, line) in code_lines(text).iter().enumerate() {
        let Some(line) = line else { continue };
        if is_comment(line) {
            continue;
        }
        if string_literals(line).any(names_state_dir) {
            problems.push(Problem::at(
                path,
                line_idx + 1,
                format!(
                    "`{STATE_DIR}` spelled outside {LAYOUT_FILE}: ask `omk_goal::Layout` (or \
                     take the path as a parameter) instead"
                ),
            ));
        }
    }
    problems
}

/// Returns the file's lines, with `None` for the lines of `#[cfg(test)] mod … { … }` blocks.
fn code_lines(text: &str) -> Vec<Option<&str>> {
    let mut lines = Vec::new();
    let mut test_module: Option<String> = None;
    let mut after_cfg_test = false;
    for line in text.lines() {
        if let Some(indent) = &test_module {
            if line.starts_with(&format!("{indent}}}")) && line.trim() == "}" {
                test_module = None;
            }
            lines.push(None);
            continue;
        }
        let trimmed = line.trim_start();
        if after_cfg_test && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
            test_module = Some(line[..line.len() - trimmed.len()].to_owned());
            lines.push(None);
            after_cfg_test = false;
            continue;
        }
        after_cfg_test = trimmed.starts_with("#[cfg(test)]");
        lines.push(Some(line));
    }
    lines
}

/// Returns each function's first line (0-based), name and length in lines: from its `fn` line
/// to the closing brace at the same indentation. A declaration without a body has none.
fn functions<'a>(lines: &[Option<&'a str>]) -> Vec<(usize, &'a str, usize)> {
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(line) = line else { continue };
        let Some((indent, name)) = fn_name(line) else { continue };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        let end = lines[start..].iter().position(|it| {
            it.is_some_and(|it| it.starts_with(&close) && it[close.len()..].trim().is_empty())
        });
        if let Some(end) = end {
            found.push((start, name, end + 1));
        }
    }
    found
}

/// Returns the indentation and name of the function a line declares, if it declares one.
fn fn_name(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let mut rest = trimmed;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some((indent, &rest[..end]))
}

/// Returns the contents of the string literals on `line`, roughly: the text between pairs of
/// unescaped double quotes.
fn string_literals(line: &str) -> impl Iterator<Item = &str> {
    let mut quotes = Vec::new();
    let mut escaped = false;
    for (idx, ch) in line.char_indices() {
        match ch {
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => quotes.push(idx),
            _ => {}
        }
        escaped = false;
    }
    let pairs: Vec<(usize, usize)> = quotes.chunks_exact(2).map(|it| (it[0], it[1])).collect();
    pairs.into_iter().map(move |(start, end)| &line[start + 1..end])
}

/// Returns whether `literal` names the state directory as a path piece.
fn names_state_dir(literal: &str) -> bool {
    literal.match_indices(STATE_DIR).any(|(idx, _)| {
        let before = literal[..idx].chars().next_back();
        let after = literal[idx + STATE_DIR.len()..].chars().next();
        before.is_none_or(|c| c == '/' || c == '{' || c == '}')
            && after.is_none_or(|c| c == '/' || c == '\\')
    })
}
