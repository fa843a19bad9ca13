//! Property tests of the reader on hostile input: arbitrary bytes never panic it, and any
//! change to a written log is caught (or, for the last newline, reported as a torn tail).

use std::{fs, path::Path};

use chrono::{DateTime, Utc};
use omk_events::{Envelope, Error, EventLog, GoalId, LogReader, read_log, verify};
use omk_testkit::odd_event;
use proptest::prelude::*;

/// Writes a log of `kinds` and returns its bytes.
fn write_log(dir: &Path, kinds: &[u8]) -> Vec<u8> {
    let path = dir.join("events.jsonl");
    let mut log = EventLog::create(&path, &GoalId::parse("g1").expect("valid id"))
        .expect("a log can be created in a temp dir");
    for (second, kind) in kinds.iter().enumerate() {
        let at =
            DateTime::<Utc>::from_timestamp(1_795_000_000 + second as i64, 0).unwrap_or_default();
        log.append(at, odd_event(*kind)).expect("a temp log takes appends");
    }
    drop(log);
    let bytes = fs::read(&path).expect("the log reads back");
    fs::remove_file(&path).expect("the log can be removed");
    fs::remove_file(path.with_extension("lock")).ok();
    bytes
}

/// Reads the log at `path` on `threads` threads: the events, then the error or the torn tail.
fn read_with(path: &Path, threads: usize) -> (Vec<Envelope>, String) {
    let mut reader = match LogReader::open(path) {
        Ok(reader) => reader.parallel(threads),
        Err(err) => return (Vec::new(), err.to_string()),
    };
    let mut events = Vec::new();
    for envelope in reader.by_ref() {
        match envelope {
            Ok(envelope) => events.push(envelope),
            Err(err) => return (events, err.to_string()),
        }
    }
    (events, format!("{:?}", reader.torn_tail()))
}

/// Checks that reading and verifying the log at `path` agree, whatever it holds, and that
/// reading on several threads gives what reading on one does. (That the replay timeline counts
/// every event read is omk-cli's test, where the timeline is.)
fn agree(path: &Path) -> Result<(), TestCaseError> {
    prop_assert_eq!(read_with(path, 1), read_with(path, 3));
    match (read_log(path), verify(path)) {
        (Ok(log), Ok(verified)) => {
            prop_assert_eq!(log.events.len() as u64, verified.events);
            prop_assert_eq!(log.torn_tail, verified.torn_tail);
        }
        (Err(read), Err(verified)) => prop_assert_eq!(read.to_string(), verified.to_string()),
        (read, verified) => prop_assert!(false, "read {read:?} but verify {verified:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.jsonl");
        fs::write(&path, &bytes).expect("write");
        agree(&path)?;
    }

    #[test]
    fn arbitrary_lines_after_a_valid_prefix_never_panic_the_reader(
        kinds in proptest::collection::vec(any::<u8>(), 1..6),
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bytes = write_log(dir.path(), &kinds);
        bytes.extend_from_slice(&tail);
        let path = dir.path().join("events.jsonl");
        fs::write(&path, &bytes).expect("write");
        agree(&path)?;
    }

    #[test]
    fn any_changed_byte_is_caught(
        kinds in proptest::collection::vec(any::<u8>(), 1..8),
        position in any::<prop::sample::Index>(),
        flip in 1..=255u8,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut bytes = write_log(dir.path(), &kinds);
        let position = position.index(bytes.len());
        bytes[position] ^= flip;
        let path = dir.path().join("events.jsonl");
        fs::write(&path, &bytes).expect("write");
        agree(&path)?;
        match verify(&path) {
            Err(_) => {}
            // Only the last newline can change without an error: the line becomes torn.
            Ok(verified) => {
                prop_assert_eq!(position, bytes.len() - 1, "a change went unnoticed");
                prop_assert_eq!(verified.events, kinds.len() as u64 - 1);
                prop_assert!(verified.torn_tail.is_some());
            }
        }
    }

    #[test]
    fn a_cut_log_keeps_its_whole_lines_and_reports_the_rest(
        kinds in proptest::collection::vec(any::<u8>(), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes = write_log(dir.path(), &kinds);
        let cut = cut.index(bytes.len()) + 1;
        let path = dir.path().join("events.jsonl");
        fs::write(&path, &bytes[..cut]).expect("write");
        let whole_lines = bytes[..cut].iter().filter(|it| **it == b'\n').count() as u64;
        agree(&path)?;
        match verify(&path) {
            Ok(verified) => {
                prop_assert_eq!(verified.events, whole_lines);
                prop_assert_eq!(verified.torn_tail.is_some(), bytes[cut - 1] != b'\n');
            }
            Err(Error::Empty { .. }) => prop_assert_eq!(whole_lines, 0),
            Err(err) => prop_assert!(false, "a cut log is not an error: {err}"),
        }
    }
}

#[test]
fn a_long_log_reads_alike_on_one_thread_and_on_several() -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let kinds: Vec<u8> = (0..2000u32).map(|it| (it % 251) as u8).collect();
    let bytes = write_log(dir.path(), &kinds);
    let path = dir.path().join("events.jsonl");
    fs::write(&path, &bytes).expect("write");
    let (events, end) = read_with(&path, 3);
    prop_assert_eq!(events.len(), 2000);
    prop_assert_eq!(end.as_str(), "None");
    agree(&path)?;

    // One changed byte in a later batch, and a torn tail: the same error either way.
    let mut changed = bytes.clone();
    let line_1500 =
        changed.iter().enumerate().filter(|(_, c)| **c == b'\n').nth(1498).map_or(0, |it| it.0);
    changed[line_1500 + 30] ^= 1;
    changed.extend_from_slice(b"{\"torn");
    fs::write(&path, &changed).expect("write");
    let (events, error) = read_with(&path, 3);
    prop_assert_eq!(events.len(), 1499);
    prop_assert!(error.contains("line 1500"), "{}", error);
    agree(&path)
}
