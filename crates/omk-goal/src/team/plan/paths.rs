//! The paths a task reads and writes, and when two write sets overlap.
//!
//! A path is relative to the repository root and `/`-separated. It names a file or a directory
//! and everything under it (a trailing `/` only says that it is a directory), or it is a glob:
//! `*` matches within one path segment and `**` any number of segments.

use std::fmt;

/// Returns the first pair of paths, one of `a` and one of `b` as they were written, that
/// overlap; paths that are not valid (see [`path_problem`]) are skipped.
///
/// Two paths overlap when they are equal, when one is a directory that contains the other,
/// when a glob matches the other path or something under it, or, for two globs, when their
/// literal prefixes before the first `*` are prefix-related (conservatively: `src/*.rs` and
/// `src/api/*.rs` overlap).
pub(crate) fn write_overlap(a: &[String], b: &[String]) -> Option<(String, String)> {
    a.iter().filter_map(|it| Some((it, PathPattern::parse(it).ok()?))).find_map(
        |(a_text, a_path)| {
            b.iter()
                .filter_map(|it| Some((it, PathPattern::parse(it).ok()?)))
                .find(|(_, b_path)| a_path.overlaps(b_path))
                .map(|(b_text, _)| (a_text.clone(), b_text.clone()))
        },
    )
}

/// Returns whether the changed file `path` is inside the declared write set `writes`.
///
/// A path matches a directory it is under, an equal path, or a glob that matches it. An
/// invalid `path` (absolute, with `..`) matches nothing.
pub(crate) fn path_in_write_set(path: &str, writes: &[String]) -> bool {
    let Ok(changed) = PathPattern::parse(path) else { return false };
    let segments: Vec<&str> = changed.segments.iter().map(String::as_str).collect();
    writes.iter().filter_map(|it| PathPattern::parse(it).ok()).any(|it| it.covers(&segments))
}

/// Returns the problem with `path` as a path that `task` (`task "x"`) `verb`s (reads or
/// writes), as a sentence with the fix, or `None` when it is valid.
pub(crate) fn path_problem(task: &str, verb: &str, path: &str) -> Option<String> {
    let fix = match PathPattern::parse(path).err()? {
        PathProblem::Empty => {
            "name a file, a directory (ending in /) or a glob under the repository root"
        }
        PathProblem::Absolute => "paths are relative to the repository root",
        PathProblem::ParentDir => {
            "paths may not leave the repository; remove the \"..\" components"
        }
    };
    Some(format!("{task} {verb} {path:?}: {fix}"))
}

/// Returns whether the path `inner` lies inside the write set `scope`: every file it can name
/// is one that `scope` covers.
///
/// A glob is inside a directory of `scope` when its literal segments before the first glob
/// segment are under it, and inside an equal glob; other globs are not (conservatively).
pub(crate) fn path_within(inner: &str, scope: &[String]) -> bool {
    let Ok(inner) = PathPattern::parse(inner) else { return false };
    let scope: Vec<PathPattern> =
        scope.iter().filter_map(|it| PathPattern::parse(it).ok()).collect();
    if !inner.is_glob() {
        let segments: Vec<&str> = inner.segments.iter().map(String::as_str).collect();
        return scope.iter().any(|it| it.covers(&segments));
    }
    let literal: Vec<&str> =
        inner.segments.iter().map(String::as_str).take_while(|it| !it.contains('*')).collect();
    scope.iter().any(|it| {
        (it.segments == inner.segments && it.dir == inner.dir)
            || (!it.is_glob() && it.covers(&literal))
    })
}

/// Returns how a message names what two overlapping paths both write: the directory that
/// contains the other path, the file a glob matches, or the broader of two globs.
pub(crate) fn overlap_label(a: &str, b: &str) -> String {
    let (Ok(a), Ok(b)) = (PathPattern::parse(a), PathPattern::parse(b)) else {
        return a.to_owned();
    };
    let label = match (a.is_glob(), b.is_glob()) {
        (false, false) => {
            if a.segments.len() <= b.segments.len() {
                a
            } else {
                b
            }
        }
        (true, false) if a.covers(&b.strs()) => b,
        (false, true) if b.covers(&a.strs()) => a,
        (true, false) => a,
        (false, true) => b,
        (true, true) => {
            if a.literal_prefix().len() <= b.literal_prefix().len() {
                a
            } else {
                b
            }
        }
    };
    label.to_string()
}

/// Why a path cannot be a read or write path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathProblem {
    /// It names no file: empty, `.` or `./`.
    Empty,
    /// It starts with `/`.
    Absolute,
    /// It has a `..` component.
    ParentDir,
}

/// A valid path, normalized: no `.` or empty segments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathPattern {
    /// Its segments, at least one.
    segments: Vec<String>,
    /// Whether it was written with a trailing `/`.
    dir: bool,
}

impl PathPattern {
    /// Checks and normalizes `text`: `./src//api/` is `src/api/`.
    fn parse(text: &str) -> Result<Self, PathProblem> {
        if text.starts_with('/') {
            return Err(PathProblem::Absolute);
        }
        let mut segments = Vec::new();
        for segment in text.split('/') {
            match segment {
                "" | "." => {}
                ".." => return Err(PathProblem::ParentDir),
                _ => segments.push(segment.to_owned()),
            }
        }
        if segments.is_empty() {
            return Err(PathProblem::Empty);
        }
        Ok(Self { segments, dir: text.ends_with('/') })
    }

    /// Returns whether it has a `*`.
    fn is_glob(&self) -> bool {
        self.segments.iter().any(|it| it.contains('*'))
    }

    /// Returns its segments as string slices.
    fn strs(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// Returns the text before its first `*`, such as `src/a` for `src/a*.rs`.
    fn literal_prefix(&self) -> String {
        let text = self.to_string();
        match text.find('*') {
            Some(star) => text[..star].to_owned(),
            None => text,
        }
    }

    /// Returns the segments a glob matches against: a glob directory (`crates/*/`) matches
    /// everything under the directories it matches.
    fn glob_segments(&self) -> Vec<&str> {
        let mut segments = self.strs();
        if self.dir {
            segments.push("**");
        }
        segments
    }

    /// Returns whether the file at `path` (segments) is covered: equal to or under a literal
    /// path, or matched by a glob.
    fn covers(&self, path: &[&str]) -> bool {
        if self.is_glob() {
            matches_segments(&self.glob_segments(), path)
        } else {
            path.len() >= self.segments.len()
                && self.segments.iter().zip(path).all(|(mine, theirs)| mine == theirs)
        }
    }

    /// Returns whether some file can be covered by both paths.
    fn overlaps(&self, other: &Self) -> bool {
        match (self.is_glob(), other.is_glob()) {
            (false, false) => {
                let shorter = self.segments.len().min(other.segments.len());
                self.segments[..shorter] == other.segments[..shorter]
            }
            (true, false) => self.glob_overlaps_literal(other),
            (false, true) => other.glob_overlaps_literal(self),
            (true, true) => {
                let (mine, theirs) = (self.literal_prefix(), other.literal_prefix());
                mine.starts_with(&theirs) || theirs.starts_with(&mine)
            }
        }
    }

    /// Returns whether the glob `self` matches the literal `other` or a path under it.
    fn glob_overlaps_literal(&self, literal: &Self) -> bool {
        let glob = self.glob_segments();
        let path = literal.strs();
        matches_segments(&glob, &path) || may_match_under(&glob, &path)
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("/"))?;
        if self.dir {
            f.write_str("/")?;
        }
        Ok(())
    }
}

/// Returns whether the glob segments `pattern` match the path segments `path` whole.
fn matches_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| matches_segments(rest, &path[skip..])),
        Some((first, rest)) => path.split_first().is_some_and(|(segment, path_rest)| {
            matches_segment(first, segment) && matches_segments(rest, path_rest)
        }),
    }
}

/// Returns whether the glob segments `pattern` match some path strictly under the directory
/// `dir`.
fn may_match_under(pattern: &[&str], dir: &[&str]) -> bool {
    match (pattern.split_first(), dir.split_first()) {
        (None, _) => false,
        // `**` takes the rest of the directory, and every segment pattern matches some name.
        (Some((&"**", _)), _) | (Some(_), None) => true,
        (Some((first, rest)), Some((segment, dir_rest))) => {
            matches_segment(first, segment) && may_match_under(rest, dir_rest)
        }
    }
}

/// Returns whether the segment pattern `pattern`, where `*` matches any run of characters,
/// matches `name`.
fn matches_segment(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else { return pattern == name };
    let Some(mut remaining) = name.strip_prefix(first) else { return false };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or_default();
    for part in parts {
        match remaining.find(part) {
            Some(found) => remaining = &remaining[found + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}
