//! Test counts from the JUnit XML reports a gate writes (its `junit` key): which files this run
//! wrote, and what they count.
//!
//! A report counts only when this gate run wrote it. Before the gate starts, omk notes the
//! matching files' identity (inode, size, modification time); after it exits, only files that
//! are new or changed are read. This leaves the tree the gates verify untouched (deleting or
//! renaming a committed report would change it), and a stale report committed by the agent or
//! left in the tree never counts, whatever modification time it carries.

use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::{self, Read as _},
    os::unix::fs::MetadataExt as _,
    path::{Path, PathBuf},
};

use globset::{Glob, GlobMatcher};
use quick_xml::{
    Reader,
    events::{BytesStart, Event},
};

use omk_events::{JunitRead, TestCounts, error_chain};

/// The largest report omk reads; a larger one is an error, not a partial count.
pub(crate) const MAX_REPORT_BYTES: u64 = 16 * 1024 * 1024;

/// The most report files one gate's pattern may match.
const MAX_REPORTS: usize = 256;

/// The most directory entries a glob's walk visits, so a pattern such as `**/*.xml` over a large
/// build directory cannot stall the gate's end.
const MAX_WALK_ENTRIES: usize = 100_000;

/// Why a JUnit report could not be counted.
#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    /// The file could not be read.
    #[error("read the JUnit report {path}")]
    Read {
        /// The report, relative to the worktree.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file is larger than omk reads of a report (16 MiB).
    #[error("read the JUnit report {path}: it is larger than {limit} bytes")]
    TooLarge {
        /// The report, relative to the worktree.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file is not well-formed XML.
    #[error("parse the JUnit report {path} at byte {position}")]
    Xml {
        /// The report, relative to the worktree.
        path: String,
        /// Where the reader stopped.
        position: u64,
        /// The cause.
        #[source]
        source: quick_xml::Error,
    },
    /// The document is not a JUnit report, or it ends before its root element closes.
    #[error("read the JUnit report {path}: {problem}")]
    NotJunit {
        /// The report, relative to the worktree.
        path: String,
        /// What is wrong, as a phrase.
        problem: String,
    },
}

/// The matching files before the gate started, to tell the reports this run wrote.
#[derive(Debug)]
pub(crate) struct JunitWatch {
    pattern: String,
    before: BTreeMap<String, Stamp>,
}

/// A file's identity: a rewrite or replacement changes at least one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    len: u64,
    mtime_ns: i128,
}

/// Notes the files `pattern` matches under `worktree`, before the gate starts.
pub(crate) fn watch(worktree: &Path, pattern: &str) -> JunitWatch {
    let before = matching(worktree, pattern).unwrap_or_default().into_iter().collect();
    JunitWatch { pattern: pattern.to_owned(), before }
}

/// Reads the reports the gate wrote since [`watch`]; returns their summed counts when every one
/// of them was read, and what was read.
pub(crate) fn collect(worktree: &Path, watch: &JunitWatch) -> (Option<TestCounts>, JunitRead) {
    let mut read = JunitRead { pattern: watch.pattern.clone(), ..JunitRead::default() };
    let found = match matching(worktree, &watch.pattern) {
        Ok(found) => found,
        Err(err) => {
            read.error = Some(err);
            return (None, read);
        }
    };
    for (path, stamp) in found {
        if watch.before.get(&path) == Some(&stamp) {
            read.stale.push(path);
        } else {
            read.files.push(path);
        }
    }
    let mut total: Option<TestCounts> = None;
    for path in &read.files {
        match read_report(worktree, path) {
            Ok(counts) => total = Some(add(total.unwrap_or_default(), counts)),
            Err(err) => {
                // One unreadable report makes the sum unknown; the output's summary stands in.
                read.error = Some(error_chain(&err));
                return (None, read);
            }
        }
    }
    read.counted = total.is_some();
    (total, read)
}

/// Reads one report file, at most [`MAX_REPORT_BYTES`], and counts its tests.
pub(crate) fn read_report(worktree: &Path, path: &str) -> Result<TestCounts, JunitError> {
    let read_error = |source| JunitError::Read { path: path.to_owned(), source };
    let file = File::open(worktree.join(path)).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(JunitError::TooLarge { path: path.to_owned(), limit: MAX_REPORT_BYTES });
    }
    parse_report(path, &bytes)
}

/// Counts the tests of a JUnit XML document.
///
/// An outermost `<testsuite>` with a `tests` attribute counts by its attributes (`tests`,
/// `failures`, `errors`, `skipped`; suites inside it are part of it); elsewhere each
/// `<testcase>` counts: failed with a `<failure>` or `<error>` child, skipped with `<skipped>`,
/// passed otherwise. The root is `<testsuites>` or `<testsuite>`.
pub fn parse_report(path: &str, bytes: &[u8]) -> Result<TestCounts, JunitError> {
    let not_junit = |problem: String| JunitError::NotJunit { path: path.to_owned(), problem };
    let mut reader = Reader::from_reader(bytes);
    let mut counter = Counter::default();
    loop {
        let event = reader.read_event().map_err(|source| JunitError::Xml {
            path: path.to_owned(),
            position: reader.error_position(),
            source,
        })?;
        match event {
            Event::Start(element) => counter.open(&element, false).map_err(not_junit)?,
            Event::Empty(element) => counter.open(&element, true).map_err(not_junit)?,
            Event::End(_) => counter.close(),
            Event::Eof => break,
            _ => {}
        }
    }
    if !counter.root_seen {
        return Err(not_junit("it has no root element".to_owned()));
    }
    if let Some(open) = counter.stack.last() {
        return Err(not_junit(format!("it ends inside an open <{}> (truncated?)", open.name())));
    }
    Ok(counter.counts)
}

/// An open element the count depends on.
#[derive(Debug)]
enum Frame {
    /// A `<testsuite>`; `counted` when its attributes were counted.
    Suite { counted: bool },
    /// A `<testcase>` and its outcome so far.
    Case(Outcome),
    /// Any other element.
    Other,
}

impl Frame {
    fn name(&self) -> &'static str {
        match self {
            Self::Suite { .. } => "testsuite",
            Self::Case(_) => "testcase",
            Self::Other => "element",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Default)]
struct Counter {
    counts: TestCounts,
    stack: Vec<Frame>,
    /// How many open suites were counted by their attributes: inside one, nothing else counts.
    counted_suites: usize,
    root_seen: bool,
}

impl Counter {
    fn open(&mut self, element: &BytesStart<'_>, empty: bool) -> Result<(), String> {
        let local = element.local_name();
        let name = local.as_ref();
        if self.stack.is_empty() {
            if self.root_seen {
                return Err("it has more than one root element".to_owned());
            }
            if name != b"testsuites" && name != b"testsuite" {
                let name = String::from_utf8_lossy(name);
                return Err(format!("its root is <{name}>, not <testsuites> or <testsuite>"));
            }
            self.root_seen = true;
        }
        let frame = match name {
            b"testsuite" if self.counted_suites == 0 => match suite_counts(element)? {
                Some(counts) => {
                    self.counts = add(self.counts, counts);
                    Frame::Suite { counted: true }
                }
                None => Frame::Suite { counted: false },
            },
            b"testsuite" => Frame::Suite { counted: false },
            b"testcase" if self.counted_suites == 0 => Frame::Case(Outcome::Passed),
            b"failure" | b"error" | b"skipped" => {
                if let Some(Frame::Case(outcome)) = self.stack.last_mut()
                    && *outcome != Outcome::Failed
                {
                    *outcome = if name == b"skipped" { Outcome::Skipped } else { Outcome::Failed };
                }
                Frame::Other
            }
            _ => Frame::Other,
        };
        if empty {
            self.end(&frame);
        } else {
            if matches!(frame, Frame::Suite { counted: true }) {
                self.counted_suites += 1;
            }
            self.stack.push(frame);
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some(frame) = self.stack.pop() {
            if matches!(frame, Frame::Suite { counted: true }) {
                self.counted_suites -= 1;
            }
            self.end(&frame);
        }
    }

    fn end(&mut self, frame: &Frame) {
        let Frame::Case(outcome) = frame else { return };
        let one = match outcome {
            Outcome::Passed => TestCounts { passed: 1, ..TestCounts::default() },
            Outcome::Failed => TestCounts { failed: 1, ..TestCounts::default() },
            Outcome::Skipped => TestCounts { skipped: 1, ..TestCounts::default() },
        };
        self.counts = add(self.counts, one);
    }
}

/// Returns a suite's counts from its attributes, or `None` when it has no `tests` attribute.
fn suite_counts(element: &BytesStart<'_>) -> Result<Option<TestCounts>, String> {
    let Some(tests) = attribute(element, "tests")? else { return Ok(None) };
    let failed = attribute(element, "failures")?
        .unwrap_or(0)
        .saturating_add(attribute(element, "errors")?.unwrap_or(0));
    let skipped = attribute(element, "skipped")?.unwrap_or(0);
    let passed = tests.saturating_sub(failed).saturating_sub(skipped);
    Ok(Some(TestCounts { passed, failed, skipped }))
}

fn attribute(element: &BytesStart<'_>, key: &str) -> Result<Option<u64>, String> {
    let attribute = element
        .try_get_attribute(key)
        .map_err(|err| format!("a <testsuite> has a malformed attribute: {err}"))?;
    let Some(attribute) = attribute else { return Ok(None) };
    let value = String::from_utf8_lossy(&attribute.value);
    let number = value
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("a <testsuite>'s {key}=\"{value}\" is not a count of tests"))?;
    Ok(Some(number))
}

fn add(total: TestCounts, counts: TestCounts) -> TestCounts {
    TestCounts {
        passed: total.passed.saturating_add(counts.passed),
        failed: total.failed.saturating_add(counts.failed),
        skipped: total.skipped.saturating_add(counts.skipped),
    }
}

/// Returns the regular files `pattern` names under `worktree`, relative to it, with their stamps.
///
/// Symbolic links are not followed: a link could name a report no gate run wrote.
fn matching(worktree: &Path, pattern: &str) -> Result<Vec<(String, Stamp)>, String> {
    let is_glob = pattern.contains(['*', '?', '[', '{']);
    if !is_glob {
        return Ok(stamp(&worktree.join(pattern))
            .map(|it| (pattern.to_owned(), it))
            .into_iter()
            .collect());
    }
    let matcher: GlobMatcher = Glob::new(pattern)
        .map_err(|err| format!("the junit pattern {pattern:?} is not a valid glob: {err}"))?
        .compile_matcher();
    // The walk starts at the pattern's longest directory prefix without glob characters.
    let prefix: PathBuf = Path::new(pattern)
        .components()
        .take_while(|it| !it.as_os_str().to_string_lossy().contains(['*', '?', '[', '{']))
        .collect();
    let mut found = Vec::new();
    let mut pending = vec![worktree.join(&prefix)];
    let mut visited = 0_usize;
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            visited += 1;
            if visited > MAX_WALK_ENTRIES {
                return Err(format!(
                    "the junit pattern {pattern:?} walks more than {MAX_WALK_ENTRIES} entries; name the reports' directory"
                ));
            }
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else { continue };
            let Ok(relative) = path.strip_prefix(worktree) else { continue };
            if file_type.is_dir() && entry.file_name() != ".git" {
                pending.push(path.clone());
            } else if file_type.is_file() && matcher.is_match(relative) {
                if found.len() == MAX_REPORTS {
                    return Err(format!(
                        "the junit pattern {pattern:?} matches more than {MAX_REPORTS} files"
                    ));
                }
                if let Some(stamp) = stamp(&path) {
                    found.push((relative.to_string_lossy().into_owned(), stamp));
                }
            }
        }
    }
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn stamp(path: &Path) -> Option<Stamp> {
    let metadata = fs::symlink_metadata(path).ok()?;
    metadata.file_type().is_file().then(|| Stamp {
        inode: metadata.ino(),
        len: metadata.len(),
        mtime_ns: i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(xml: &str) -> Result<TestCounts, String> {
        parse_report("r.xml", xml.as_bytes()).map_err(|err| error_chain(&err))
    }

    fn of(passed: u64, failed: u64, skipped: u64) -> TestCounts {
        TestCounts { passed, failed, skipped }
    }

    #[test]
    fn suite_attributes_count_and_nested_suites_are_not_counted_twice() {
        let xml = r#"<testsuites tests="9"><testsuite name="a" tests="5" failures="1" errors="1" skipped="1"><testsuite name="inner" tests="2"/><testcase name="x"/></testsuite><testsuite name="b" tests="2"/></testsuites>"#;
        assert_eq!(counts(xml), Ok(of(4, 2, 1)));
    }

    #[test]
    fn cases_count_when_the_suite_has_no_attributes() {
        let xml = r#"<?xml version="1.0"?><testsuite name="s"><testcase name="p"/><testcase name="f"><failure message="no">x</failure></testcase><testcase name="e"><error/></testcase><testcase name="s"><skipped/></testcase><testcase name="o"><system-out>ok</system-out></testcase></testsuite>"#;
        assert_eq!(counts(xml), Ok(of(2, 2, 1)));
    }

    #[test]
    fn an_empty_report_counts_zero_tests() {
        assert_eq!(counts("<testsuites/>"), Ok(of(0, 0, 0)));
    }

    #[test]
    fn bad_documents_are_errors_that_name_the_file() {
        let cases = [
            ("", "read the JUnit report r.xml: it has no root element"),
            (
                "<html><body/></html>",
                "read the JUnit report r.xml: its root is <html>, not <testsuites> or <testsuite>",
            ),
            (
                "<testsuites><testsuite tests=\"2\">",
                "read the JUnit report r.xml: it ends inside an open <testsuite> (truncated?)",
            ),
            (
                "<testsuites><testsuite tests=\"two\"/></testsuites>",
                "read the JUnit report r.xml: a <testsuite>'s tests=\"two\" is not a count of tests",
            ),
        ];
        for (xml, expected) in cases {
            assert_eq!(counts(xml), Err(expected.to_owned()), "{xml:?}");
        }
        let mismatched = counts("<testsuites><testsuite></testcase></testsuites>");
        assert!(
            mismatched
                .as_ref()
                .is_err_and(|it| it.starts_with("parse the JUnit report r.xml at byte")),
            "{mismatched:?}"
        );
    }
}
