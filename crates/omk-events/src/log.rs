//! The append-only JSONL event log of one goal: the writer, its lock and its durability policy.

use std::{
    fs::{self, File, OpenOptions, TryLockError},
    io::{self, Read as _, Seek as _, SeekFrom, Write},
    path::{Path, PathBuf},
};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use crate::{
    error::Error,
    event::{Durability, Envelope, Event},
    evidence::{RecoveryAction, RecoveryPerformed},
    format::{FORMAT_VERSION, TornTail},
    hash::EventHash,
    ids::{GoalId, Seq},
    read::LogReader,
};

/// The most chatty events written before their group is synced.
const GROUP_MAX_EVENTS: u32 = 4096;
/// The longest a chatty event stays unsynced, measured on the events' own timestamps.
const GROUP_MAX_AGE: TimeDelta = TimeDelta::milliseconds(200);

/// An open event log that appends events for one goal.
///
/// Holding an `EventLog` holds the goal's lock (`events.lock` beside the log), so a second
/// writer gets [`Error::Locked`] naming this process instead of interleaving lines.
///
/// Durability follows [`Event::durability`]: an event that changes the goal's state is synced
/// to disk before [`EventLog::append`] returns, together with every chatty event before it;
/// chatty events are written at once and synced in groups (at most 4096 events or 200 ms of
/// event time). Each line is one `write`, so a crash leaves at most a torn last line.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    goal_id: GoalId,
    file: File,
    // Held for its lock, released when the log is dropped.
    _lock: LogLock,
    next_seq: u64,
    prev: EventHash,
    len: u64,
    line: Vec<u8>,
    unsynced: u32,
    unsynced_since: Option<DateTime<Utc>>,
    poisoned: bool,
}

/// What [`EventLog::open`] found and repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The number of events in the log before anything was appended.
    pub events: u64,
    /// The torn last line that was cut off, and where its bytes were kept.
    pub repaired: Option<(TornTail, PathBuf)>,
}

impl EventLog {
    /// Creates the log of a new goal at `path`; fails if a log already exists there.
    pub fn create(path: &Path, goal_id: &GoalId) -> Result<Self, Error> {
        let lock = LogLock::acquire(path, || Some(goal_id.to_string()))?;
        let file =
            OpenOptions::new().append(true).create_new(true).open(path).map_err(|source| {
                if source.kind() == io::ErrorKind::AlreadyExists {
                    Error::AlreadyExists { path: path.to_owned() }
                } else {
                    Error::Io { action: "create", path: path.to_owned(), source }
                }
            })?;
        Ok(Self::new(path, goal_id.clone(), file, lock, 1, EventHash::GENESIS, 0))
    }

    /// Opens an existing log to append more events, as a resumed run does.
    ///
    /// The whole log is read and its chain checked first. A torn last line left by a crash is
    /// cut off: its bytes are kept in a file beside the log, and the repair is appended as a
    /// [`Event::RecoveryPerformed`] stamped `at`. Anything else wrong with the log is an error
    /// and changes nothing.
    pub fn open(path: &Path, at: DateTime<Utc>) -> Result<(Self, Opened), Error> {
        let lock = LogLock::acquire(path, || first_goal_id(path))?;
        let mut reader = LogReader::open(path)?.parallel_if_long();
        let mut last: Option<Envelope> = None;
        for envelope in reader.by_ref() {
            last = Some(envelope?);
        }
        let torn = reader.torn_tail().cloned();
        let last = last.ok_or_else(|| Error::Empty { path: path.to_owned() })?;
        let (Some(_), Some(prev)) = (last.prev, last.hash) else {
            return Err(Error::Unchained { path: path.to_owned(), format: last.format.clone() });
        };
        let events = last.seq.0;
        let io_error = |action, source| Error::Io { action, path: path.to_owned(), source };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error("open", e))?;
        let mut len = file.metadata().map_err(|e| io_error("read", e))?.len();
        let repaired = match torn {
            None => None,
            Some(torn) => {
                let kept = keep_torn_tail(path, &mut file, &torn)?;
                file.set_len(torn.offset)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io_error("truncate", e))?;
                len = torn.offset;
                Some((torn, kept))
            }
        };
        let mut log = Self::new(path, last.goal_id, file, lock, events + 1, prev, len);
        if let Some((torn, kept)) = &repaired {
            let kept_name = kept.file_name().unwrap_or_default().to_string_lossy();
            log.append(
                at,
                Event::RecoveryPerformed(RecoveryPerformed {
                    action: RecoveryAction::TornTailRepaired,
                    detail: format!(
                        "cut the torn line {} ({} bytes) that a crash left at the end of the log; \
                         its bytes are kept in {kept_name}",
                        torn.line, torn.bytes
                    ),
                }),
            )?;
        }
        Ok((log, Opened { events, repaired }))
    }

    fn new(
        path: &Path,
        goal_id: GoalId,
        file: File,
        lock: LogLock,
        next_seq: u64,
        prev: EventHash,
        len: u64,
    ) -> Self {
        Self {
            path: path.to_owned(),
            goal_id,
            file,
            _lock: lock,
            next_seq,
            prev,
            len,
            line: Vec::with_capacity(512),
            unsynced: 0,
            unsynced_since: None,
            poisoned: false,
        }
    }

    /// Returns the path of the log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the goal the log belongs to.
    pub fn goal_id(&self) -> &GoalId {
        &self.goal_id
    }

    /// Returns the hash of the last line written, [`EventHash::GENESIS`] when there is none.
    pub fn head(&self) -> EventHash {
        self.prev
    }

    /// Appends `event`, stamped `at` (truncated to milliseconds), and returns its envelope.
    ///
    /// When the write fails, the log is cut back to its last whole line; if even that fails,
    /// every later append is refused rather than written after a torn line.
    pub fn append(&mut self, at: DateTime<Utc>, event: Event) -> Result<Envelope, Error> {
        if self.poisoned {
            return Err(Error::Poisoned { path: self.path.clone() });
        }
        let at = at.trunc_subsecs(3);
        let durability = event.durability();
        let mut envelope = Envelope {
            format: FORMAT_VERSION.to_owned(),
            seq: Seq(self.next_seq),
            at,
            goal_id: self.goal_id.clone(),
            event,
            prev: Some(self.prev),
            hash: None,
        };
        let hash = self.encode(&envelope)?;
        if let Err(source) = self.file.write_all(&self.line) {
            // A partial line must not stay in front of the next one.
            if self.file.set_len(self.len).is_err() {
                self.poisoned = true;
            }
            return Err(Error::Io { action: "append to", path: self.path.clone(), source });
        }
        self.len += self.line.len() as u64;
        self.next_seq += 1;
        self.prev = hash;
        envelope.hash = Some(hash);
        self.unsynced += 1;
        let since = *self.unsynced_since.get_or_insert(at);
        let group_full = self.unsynced >= GROUP_MAX_EVENTS || at - since >= GROUP_MAX_AGE;
        if durability == Durability::Sync || group_full {
            self.sync()?;
        }
        Ok(envelope)
    }

    /// Serializes `envelope` into `self.line` with its hash last, and returns the hash.
    fn encode(&mut self, envelope: &Envelope) -> Result<EventHash, Error> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, envelope)
            .map_err(|source| Error::Encode { path: self.path.clone(), source })?;
        // The body is the object as serialized; the hash member goes in before its brace.
        let hash = EventHash::of_body(&self.line);
        self.line.pop();
        self.line.extend_from_slice(b",\"hash\":\"");
        hash.write_hex(&mut self.line);
        self.line.extend_from_slice(b"\"}\n");
        Ok(hash)
    }

    /// Syncs every event written so far to disk.
    pub fn sync(&mut self) -> Result<(), Error> {
        if self.unsynced > 0 {
            self.file.sync_data().map_err(|source| Error::Io {
                action: "sync",
                path: self.path.clone(),
                source,
            })?;
            self.unsynced = 0;
            self.unsynced_since = None;
        }
        Ok(())
    }

    /// Returns the process holding the lock of the log at `path`, if any process does.
    ///
    /// `Some(None)` means the lock is held but the holder did not record its pid.
    pub fn holder(path: &Path) -> Result<Option<Option<u32>>, Error> {
        let lock_path = lock_path(path);
        let file = match OpenOptions::new().read(true).open(&lock_path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Io { action: "open", path: lock_path, source }),
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(None),
            Err(TryLockError::WouldBlock) => Ok(Some(read_pid(&lock_path))),
            Err(TryLockError::Error(source)) => {
                Err(Error::Io { action: "lock", path: lock_path, source })
            }
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        // Best effort: a chatty group still unsynced is synced when the run lets go of its log.
        if self.unsynced > 0 {
            self.file.sync_data().ok();
        }
    }
}

/// The exclusive lock of a goal's log: `events.lock` beside it, holding the owner's pid.
#[derive(Debug)]
struct LogLock {
    _file: File,
}

impl LogLock {
    fn acquire(log: &Path, goal: impl FnOnce() -> Option<String>) -> Result<Self, Error> {
        let path = lock_path(log);
        let io_error = |action, source| Error::Io { action, path: path.clone(), source };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error("open", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: log.to_owned(),
                    goal: goal().unwrap_or_else(|| "?".to_owned()),
                    pid: read_pid(&path),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error("lock", source)),
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(|e| io_error("write", e))?;
        Ok(Self { _file: file })
    }
}

fn lock_path(log: &Path) -> PathBuf {
    log.with_extension("lock")
}

fn read_pid(lock_path: &Path) -> Option<u32> {
    fs::read_to_string(lock_path).ok()?.trim().parse().ok()
}

/// Reads the goal id from the first line of the log, for the message of a lock error.
fn first_goal_id(path: &Path) -> Option<String> {
    let mut reader = LogReader::open(path).ok()?;
    Some(reader.next()?.ok()?.goal_id.to_string())
}

/// Copies the torn tail into `<log>.torn-<line>` (written whole, then renamed) and returns it.
fn keep_torn_tail(path: &Path, file: &mut File, torn: &TornTail) -> Result<PathBuf, Error> {
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let kept = path.with_file_name(format!("{file_name}.torn-{}", torn.line));
    let partial = path.with_file_name(format!(".{file_name}.torn-{}.partial", torn.line));
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(torn.offset))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|source| Error::Io { action: "read", path: path.to_owned(), source })?;
    let write = || -> io::Result<()> {
        let mut out = File::create(&partial)?;
        out.write_all(&bytes)?;
        out.sync_all()?;
        fs::rename(&partial, &kept)
    };
    write().map_err(|source| Error::Io {
        action: "keep the torn tail of",
        path: kept.clone(),
        source,
    })?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{
        agent::{ActivityKind, AgentActivity, AgentStarted},
        event::{GoalFailed, Step},
        read::{read_log, verify},
    };

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
    fn appended_events_read_back_in_order_and_chained() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 3)?;
        let log = read_log(&path)?;
        let seqs: Vec<u64> = log.events.iter().map(|it| it.seq.0).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(log.events[2].event, sample_event(2));
        assert_eq!(log.events[2].at, at(2));
        assert_eq!(log.events[0].prev, Some(EventHash::GENESIS));
        assert_eq!(log.events[1].prev, log.events[0].hash);
        assert_eq!(log.events[2].prev, log.events[1].hash);
        assert_eq!(log.torn_tail, None);
        Ok(())
    }

    #[test]
    fn lines_are_stable_json_hashed_over_the_line_without_its_hash() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut log = EventLog::create(&path, &GoalId::parse("g1")?)?;
        let precise = at(7) + chrono::Duration::microseconds(123_456);
        log.append(
            precise,
            Event::GoalFailed(GoalFailed { step: Step::Agent, error: "boom".into() }),
        )?;
        let body = "{\"format\":\"1.2\",\"seq\":1,\"at\":\"2026-11-21T20:00:07.123Z\",\
                    \"goal_id\":\"g1\",\"event\":{\"kind\":\"goal_failed\",\"step\":\"agent\",\
                    \"error\":\"boom\"},\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}";
        let hash = crate::sha256_hex(body.as_bytes());
        let expected = format!("{},\"hash\":\"{hash}\"}}\n", &body[..body.len() - 1]);
        assert_eq!(fs::read_to_string(&path)?, expected);
        Ok(())
    }

    #[test]
    fn creating_over_an_existing_log_fails() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 1)?;
        let err = EventLog::create(&path, &GoalId::parse("g1")?).unwrap_err();
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
        assert_eq!(read_log(&path)?.events.len(), 1, "the existing log is untouched");
        Ok(())
    }

    #[test]
    fn a_second_writer_is_told_who_holds_the_goal() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut first = EventLog::create(&path, &GoalId::parse("g1")?)?;
        first.append(at(0), sample_event(0))?;
        assert_eq!(EventLog::holder(&path)?, Some(Some(std::process::id())));

        let err = EventLog::open(&path, at(1)).unwrap_err();
        assert_eq!(
            err.to_string().replace(&path.display().to_string(), "LOG"),
            format!(
                "open event log LOG: goal g1 is being run by pid {}; wait for that run to end \
                 or stop it",
                std::process::id()
            )
        );
        drop(first);
        assert_eq!(EventLog::holder(&path)?, None);
        let (mut second, opened) = EventLog::open(&path, at(1))?;
        assert_eq!(opened, Opened { events: 1, repaired: None });
        second.append(at(2), sample_event(2))?;
        drop(second);
        assert_eq!(verify(&path)?.events, 2);
        Ok(())
    }

    #[test]
    fn open_cuts_a_torn_tail_keeps_its_bytes_and_records_the_repair() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = write_log(dir.path(), 2)?;
        let mut bytes = fs::read(&path)?;
        bytes.extend_from_slice(b"{\"format\":\"1.2\",\"seq\":3,\"at\":\"2026-");
        fs::write(&path, &bytes)?;

        let torn = read_log(&path)?.torn_tail.ok_or("the torn tail is reported")?;
        assert_eq!((torn.line, torn.bytes), (3, 35));

        let (mut log, opened) = EventLog::open(&path, at(9))?;
        let (repaired, kept) = opened.repaired.ok_or("the tail is repaired")?;
        assert_eq!(repaired, torn);
        assert_eq!(fs::read(&kept)?, b"{\"format\":\"1.2\",\"seq\":3,\"at\":\"2026-");
        log.append(at(10), sample_event(10))?;
        drop(log);

        let log = read_log(&path)?;
        assert_eq!(log.torn_tail, None);
        let kinds: Vec<&str> = log.events.iter().map(|it| it.event.kind()).collect();
        assert_eq!(
            kinds,
            ["agent_started", "agent_started", "recovery_performed", "agent_started"]
        );
        let Event::RecoveryPerformed(recovery) = &log.events[2].event else {
            panic!("the third event is the recovery");
        };
        assert_eq!(recovery.action, RecoveryAction::TornTailRepaired);
        assert!(recovery.detail.contains("line 3 (35 bytes)"), "{}", recovery.detail);
        assert!(recovery.detail.contains("events.jsonl.torn-3"), "{}", recovery.detail);
        assert_eq!(verify(&path)?.events, 4);
        Ok(())
    }

    #[test]
    fn chatty_events_are_synced_in_groups_and_state_changes_at_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut log = EventLog::create(&path, &GoalId::parse("g1")?)?;
        let activity = Event::AgentActivity(AgentActivity {
            step: 1,
            activity: ActivityKind::Message,
            tool: None,
            tool_call_id: None,
            ok: None,
            usage: None,
            text: Some("thinking".into()),
        });
        for _ in 0..3 {
            log.append(at(0), activity.clone())?;
        }
        assert_eq!(log.unsynced, 3, "chatty events wait for their group");
        log.append(at(0), sample_event(0))?;
        assert_eq!(log.unsynced, 0, "a state change syncs everything before it");
        for _ in 0..GROUP_MAX_EVENTS {
            log.append(at(1), activity.clone())?;
        }
        assert_eq!(log.unsynced, 0, "a full group is synced");
        log.append(at(1), activity.clone())?;
        log.append(at(1) + GROUP_MAX_AGE, activity)?;
        assert_eq!(log.unsynced, 0, "an old group is synced");
        Ok(())
    }

    #[test]
    fn open_refuses_logs_it_cannot_continue() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        fs::write(&path, "")?;
        assert!(matches!(EventLog::open(&path, at(0)), Err(Error::Empty { .. })));
        fs::write(
            &path,
            "{\"format\":\"1.0\",\"seq\":1,\"at\":\"2026-11-21T20:00:07.123Z\",\"goal_id\":\"g1\",\
             \"event\":{\"kind\":\"goal_failed\",\"step\":\"agent\",\"error\":\"boom\"}}\n",
        )?;
        let err = EventLog::open(&path, at(0)).unwrap_err();
        assert!(matches!(err, Error::Unchained { .. }), "{err:?}");
        assert_eq!(read_log(&path)?.events.len(), 1, "format 1.0 logs still read");
        Ok(())
    }
}
