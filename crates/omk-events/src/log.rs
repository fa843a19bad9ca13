//! The append-only JSONL event log of one goal.

use std::{
    fs::{File, OpenOptions},
    io::{self, BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use chrono::{DateTime, SubsecRound, Utc};

use crate::{
    error::Error,
    event::{Envelope, Event},
    ids::{GoalId, Seq},
};

/// The log format version this build writes and reads, `major.minor`.
///
/// A reader accepts any minor of its major and refuses every other major.
pub const FORMAT_VERSION: &str = "1.0";

/// An open event log that appends events for one goal.
///
/// Each [`EventLog::append`] writes one whole line with a single write and syncs it to disk
/// before returning, so a crash leaves at most a torn last line.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    goal_id: GoalId,
    file: File,
    next_seq: u64,
}

impl EventLog {
    /// Creates the log of a new goal at `path`; fails if a log already exists there.
    pub fn create(path: &Path, goal_id: &GoalId) -> Result<Self, Error> {
        let file =
            OpenOptions::new().append(true).create_new(true).open(path).map_err(|source| {
                if source.kind() == io::ErrorKind::AlreadyExists {
                    Error::AlreadyExists { path: path.to_owned() }
                } else {
                    Error::Io { action: "create", path: path.to_owned(), source }
                }
            })?;
        Ok(Self { path: path.to_owned(), goal_id: goal_id.clone(), file, next_seq: 1 })
    }

    /// Returns the path of the log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `event`, stamped `at` (truncated to milliseconds), and returns its envelope.
    pub fn append(&mut self, at: DateTime<Utc>, event: Event) -> Result<Envelope, Error> {
        let envelope = Envelope {
            format: FORMAT_VERSION.to_owned(),
            seq: Seq(self.next_seq),
            at: at.trunc_subsecs(3),
            goal_id: self.goal_id.clone(),
            event,
        };
        let mut line = serde_json::to_vec(&envelope)
            .map_err(|source| Error::Encode { path: self.path.clone(), source })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|source| Error::Io { action: "append to", path: self.path.clone(), source })?;
        self.next_seq += 1;
        Ok(envelope)
    }
}

/// Reads every event of the log at `path`, checking format, numbering and goal of each line.
pub fn read_log(path: &Path) -> Result<Vec<Envelope>, Error> {
    let file = File::open(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            Error::Missing { path: path.to_owned() }
        } else {
            Error::Io { action: "read", path: path.to_owned(), source }
        }
    })?;
    let mut events: Vec<Envelope> = Vec::new();
    for (line_idx, line) in BufReader::new(file).lines().enumerate() {
        let line_no = line_idx as u64 + 1;
        let line =
            line.map_err(|source| Error::Io { action: "read", path: path.to_owned(), source })?;
        let envelope = parse_line(path, line_no, &line)?;
        let expected = events.len() as u64 + 1;
        if envelope.seq.0 != expected {
            return Err(Error::Sequence {
                path: path.to_owned(),
                line: line_no,
                expected,
                found: envelope.seq.0,
            });
        }
        if let Some(first) = events.first()
            && first.goal_id != envelope.goal_id
        {
            return Err(Error::GoalMismatch {
                path: path.to_owned(),
                line: line_no,
                expected: first.goal_id.to_string(),
                found: envelope.goal_id.to_string(),
            });
        }
        events.push(envelope);
    }
    if events.is_empty() {
        return Err(Error::Empty { path: path.to_owned() });
    }
    Ok(events)
}

fn parse_line(path: &Path, line_no: u64, line: &str) -> Result<Envelope, Error> {
    // The format is checked before the payload, so that a newer omk's events are reported as
    // such rather than as a parse error of a kind this build does not know.
    #[derive(serde::Deserialize)]
    struct Header {
        format: String,
    }
    let parse_error = |source| Error::Parse { path: path.to_owned(), line: line_no, source };
    let header: Header = serde_json::from_str(line).map_err(parse_error)?;
    let supported_major = FORMAT_VERSION.split('.').next();
    if header.format.split('.').next() != supported_major {
        return Err(Error::UnsupportedFormat {
            path: path.to_owned(),
            line: line_no,
            found: header.format,
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_str(line).map_err(parse_error)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use chrono::TimeZone;

    use super::*;
    use crate::event::{AgentStarted, GoalFailed, Step};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, second).single().expect("valid test time")
    }

    fn sample_event(n: u32) -> Event {
        Event::AgentStarted(AgentStarted { agent: format!("script:{n}.txt") })
    }

    fn write_log(dir: &Path, n_events: u32) -> Result<PathBuf, Error> {
        let path = dir.join("events.jsonl");
        let goal = GoalId::parse("g1").expect("valid id");
        let mut log = EventLog::create(&path, &goal)?;
        for n in 0..n_events {
            log.append(at(n), sample_event(n))?;
        }
        Ok(path)
    }

    #[test]
    fn appended_events_read_back_in_order() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 3)?;
        let events = read_log(&path)?;
        let seqs: Vec<u64> = events.iter().map(|it| it.seq.0).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(events[2].event, sample_event(2));
        assert_eq!(events[2].at, at(2));
        Ok(())
    }

    #[test]
    fn lines_are_stable_json() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut log = EventLog::create(&path, &GoalId::parse("g1")?)?;
        let precise = at(7) + chrono::Duration::microseconds(123_456);
        log.append(
            precise,
            Event::GoalFailed(GoalFailed { step: Step::Agent, error: "boom".into() }),
        )?;
        assert_eq!(
            fs::read_to_string(&path)?,
            "{\"format\":\"1.0\",\"seq\":1,\"at\":\"2026-11-21T20:00:07.123Z\",\"goal_id\":\"g1\",\
             \"event\":{\"kind\":\"goal_failed\",\"step\":\"agent\",\"error\":\"boom\"}}\n"
        );
        Ok(())
    }

    #[test]
    fn creating_over_an_existing_log_fails() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 1)?;
        let err = EventLog::create(&path, &GoalId::parse("g1")?).unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
        assert_eq!(read_log(&path)?.len(), 1, "the existing log is untouched");
        Ok(())
    }

    #[test]
    fn bad_logs_are_errors_naming_the_line() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 3)?;
        let text = fs::read_to_string(&path)?;
        let lines: Vec<&str> = text.lines().collect();

        let check = |content: String, expect: &str| -> TestResult {
            fs::write(&path, content)?;
            let err = read_log(&path).unwrap_err();
            assert_eq!(err.to_string().replace(&path.display().to_string(), "LOG"), expect);
            Ok(())
        };
        check(
            format!("{}\n{}\n", lines[0], lines[2]),
            "read event log LOG line 2: expected sequence number 2, found 3",
        )?;
        check(format!("{}\nnot json\n", lines[0]), "parse event log LOG line 2")?;
        check(
            lines[0].replace("\"format\":\"1.0\"", "\"format\":\"2.0\""),
            "read event log LOG line 1: format 2.0 is not supported (this omk reads 1.0); upgrade omk",
        )?;
        check(
            format!("{}\n{}\n", lines[0], lines[1].replace("\"g1\"", "\"g2\"")),
            "read event log LOG line 2: event of goal g2 in the log of goal g1",
        )?;
        check(String::new(), "read event log LOG: the log is empty")?;
        fs::remove_file(&path)?;
        assert!(matches!(read_log(&path), Err(Error::Missing { .. })));
        Ok(())
    }
}
