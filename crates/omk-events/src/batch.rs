//! Reading a long log on several threads: one thread cuts the file into batches of whole
//! lines, workers parse and hash each batch, and the reader takes the results back in order.
//!
//! Only the checks a line can pass on its own run on the workers ([`check_alone`]); the checks
//! that need the lines before (numbering, goal, chain) stay with the reader, so the events and
//! the first error are exactly those of reading on one thread. At most [`IN_FLIGHT`] batches
//! exist at once, so memory is bounded whatever the log's length.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        mpsc::{Receiver, SyncSender, sync_channel},
    },
    thread,
};

use crate::{
    error::Error,
    event::Envelope,
    format::{TornTail, check_alone},
};

/// Bytes read per batch (whole lines, so a little less, or one longer line): big enough to
/// amortize the hand-offs, small enough to keep memory low.
const BATCH_BYTES: usize = 256 * 1024;
/// Batches read ahead of the reader.
const IN_FLIGHT: usize = 8;

/// A batch of whole lines, each ending in a newline.
struct Work {
    first_line: u64,
    lines: usize,
    bytes: Vec<u8>,
    done: SyncSender<Vec<Result<Envelope, Error>>>,
}

/// What the cutting thread hands the reader, in file order.
enum Cut {
    Batch { first_line: u64, results: Receiver<Vec<Result<Envelope, Error>>> },
    End { lines: u64, torn_tail: Option<TornTail> },
    Failed(Error),
}

/// The reader's side of a parallel read.
pub(crate) struct Batches {
    path: PathBuf,
    cuts: Receiver<Cut>,
    current: std::vec::IntoIter<Result<Envelope, Error>>,
    next_line: u64,
    end: Option<(u64, Option<TornTail>)>,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches").field("next_line", &self.next_line).finish_non_exhaustive()
    }
}

impl Batches {
    /// Starts the cutting thread and `threads` workers on `input`.
    pub(crate) fn start(path: PathBuf, input: BufReader<File>, threads: usize) -> Self {
        let (cut_tx, cut_rx) = sync_channel(IN_FLIGHT);
        let (work_tx, work_rx) = sync_channel::<Work>(IN_FLIGHT);
        let work_rx = Arc::new(Mutex::new(work_rx));
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let path = path.clone();
            thread::spawn(move || work(&path, &work_rx));
        }
        let cut_path = path.clone();
        thread::spawn(move || cut(&cut_path, input, &work_tx, &cut_tx));
        Self { path, cuts: cut_rx, current: Vec::new().into_iter(), next_line: 1, end: None }
    }

    /// Returns the result of the next line in file order: its event, or the first error of a
    /// line on its own; `None` at the end, which [`Batches::end`] then describes.
    pub(crate) fn next(&mut self) -> Option<Result<Envelope, Error>> {
        loop {
            if let Some(result) = self.current.next() {
                self.next_line += 1;
                return Some(result);
            }
            // A closed channel means a thread died: say so rather than end early.
            let lost = || Error::Io {
                action: "read",
                path: self.path.clone(),
                source: std::io::Error::other("a log reading thread stopped"),
            };
            let Ok(cut) = self.cuts.recv() else { return Some(Err(lost())) };
            match cut {
                Cut::Batch { first_line, results } => {
                    self.next_line = first_line;
                    match results.recv() {
                        Ok(results) => self.current = results.into_iter(),
                        Err(_) => return Some(Err(lost())),
                    }
                }
                Cut::End { lines, torn_tail } => {
                    // Later calls see the end again: the channel stays empty.
                    self.current = Vec::new().into_iter();
                    self.end = Some((lines, torn_tail));
                    return None;
                }
                Cut::Failed(err) => return Some(Err(err)),
            }
        }
    }

    /// Returns the number of the line [`Batches::next`] returned last.
    pub(crate) fn line(&self) -> u64 {
        self.next_line - 1
    }

    /// Returns how many whole lines the log has and its torn tail, once [`Batches::next`] has
    /// returned `None`.
    pub(crate) fn end(&self) -> Option<&(u64, Option<TornTail>)> {
        self.end.as_ref()
    }
}

/// Parses and hashes batches until the cutting thread stops.
fn work(path: &Path, work_rx: &Mutex<Receiver<Work>>) {
    // Every line of a log names one goal: once validated, its id is only compared.
    let mut goal_hint = None;
    loop {
        // A poisoned lock means another worker panicked; this one stops too.
        let Ok(next) = work_rx.lock().map(|rx| rx.recv()) else { return };
        let Ok(work) = next else { return };
        let mut results = Vec::with_capacity(work.lines);
        let mut rest = &work.bytes[..];
        let mut line_no = work.first_line;
        while let Some(end) = find_newline(rest) {
            let result = check_alone(path, line_no, &rest[..end], goal_hint.as_ref());
            if let Ok(envelope) = &result
                && goal_hint.as_ref() != Some(&envelope.goal_id)
            {
                goal_hint = Some(envelope.goal_id.clone());
            }
            let failed = result.is_err();
            results.push(result);
            // The reader stops at the first error; the lines after it are never looked at.
            if failed {
                break;
            }
            rest = &rest[end + 1..];
            line_no += 1;
        }
        if work.done.send(results).is_err() {
            return;
        }
    }
}

/// Cuts `input` into batches of whole lines, in order; ends with the torn tail, if any.
fn cut(path: &Path, input: BufReader<File>, work_tx: &SyncSender<Work>, cut_tx: &SyncSender<Cut>) {
    // The start of a line that the last read cut short; at first, whatever the reader had
    // buffered. After that the file is read straight into each batch, without the buffer's
    // copy.
    let mut carry = input.buffer().to_vec();
    let mut file = input.into_inner();
    let mut next_line = 1u64;
    let mut offset = 0u64;
    loop {
        // A line longer than a batch doubles the read, so it is copied a bounded number of
        // times.
        let want = BATCH_BYTES.max(carry.len());
        let mut bytes = Vec::with_capacity(carry.len() + want);
        bytes.append(&mut carry);
        let read = match read_up_to(&mut file, &mut bytes, want) {
            Ok(read) => read,
            Err(source) => {
                let failed = Error::Io { action: "read", path: path.to_owned(), source };
                cut_tx.send(Cut::Failed(failed)).ok();
                return;
            }
        };
        if read == 0 {
            let torn_tail = (!bytes.is_empty()).then_some(TornTail {
                line: next_line,
                offset,
                bytes: bytes.len() as u64,
            });
            cut_tx.send(Cut::End { lines: next_line - 1, torn_tail }).ok();
            return;
        }
        let Some(last) = bytes.iter().rposition(|&c| c == b'\n') else {
            carry = bytes;
            continue;
        };
        carry.extend_from_slice(&bytes[last + 1..]);
        bytes.truncate(last + 1);
        let lines = count_newlines(&bytes);
        let (done_tx, done_rx) = sync_channel(1);
        let first_line = next_line;
        next_line += lines as u64;
        offset += bytes.len() as u64;
        let cut = Cut::Batch { first_line, results: done_rx };
        if cut_tx.send(cut).is_err()
            || work_tx.send(Work { first_line, lines, bytes, done: done_tx }).is_err()
        {
            // The reader was dropped: stop reading.
            return;
        }
    }
}

/// Appends up to `want` bytes of `file` to `bytes`, fewer only at the end of the file, and
/// returns how many.
fn read_up_to(file: &mut File, bytes: &mut Vec<u8>, want: usize) -> std::io::Result<usize> {
    let start = bytes.len();
    bytes.resize(start + want, 0);
    let mut filled = start;
    while filled < bytes.len() {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    bytes.truncate(filled);
    Ok(filled - start)
}

/// Returns the position of the first newline in `bytes`, looking at a block at a time.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut start = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |any, &c| any | (c == b'\n')) {
            return block.iter().position(|&c| c == b'\n').map(|it| start + it);
        }
        start += BLOCK;
    }
    blocks.remainder().iter().position(|&c| c == b'\n').map(|it| start + it)
}

/// Returns the number of newlines in `bytes`, summing a block at a time.
fn count_newlines(bytes: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let blocks = bytes.chunks_exact(BLOCK);
    let tail = blocks.remainder().iter().filter(|&&c| c == b'\n').count();
    // A block has at most 64 newlines, so its count fits a byte.
    let count = |block: &[u8]| block.iter().fold(0u8, |n, &c| n + u8::from(c == b'\n'));
    blocks.map(|block| usize::from(count(block))).sum::<usize>() + tail
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::{EventLog, LogReader, agent::AgentStarted, event::Event, ids::GoalId};

    #[test]
    fn newlines_are_found_and_counted_across_blocks() {
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 200] {
            for at in 0..len {
                let mut bytes = vec![b'x'; len];
                bytes[at] = b'\n';
                assert_eq!(find_newline(&bytes), Some(at));
                assert_eq!(count_newlines(&bytes), 1);
            }
            assert_eq!(find_newline(&vec![b'x'; len]), None);
            assert_eq!(count_newlines(&vec![b'\n'; len]), len);
        }
    }

    #[test]
    fn lines_longer_than_a_batch_read_alike_on_one_thread_and_on_several()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("events.jsonl");
        let mut log = EventLog::create(&path, &GoalId::parse("g1")?)?;
        for n in 0..7u32 {
            let agent = "a".repeat(if n % 3 == 1 { BATCH_BYTES * 2 + 17 } else { 5 });
            let at = Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, n).single().ok_or("a time")?;
            log.append(at, Event::AgentStarted(AgentStarted { agent }))?;
        }
        drop(log);
        let mut bytes = std::fs::read(&path)?;
        bytes.extend_from_slice(&vec![b'{'; BATCH_BYTES + 3]);
        std::fs::write(&path, &bytes)?;
        let read = |threads: usize| -> Result<_, Error> {
            let mut reader = LogReader::open(&path)?.parallel(threads);
            let events = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
            Ok((events, reader.torn_tail().cloned()))
        };
        let (events, torn_tail) = read(2)?;
        assert_eq!(events.len(), 7);
        assert_eq!(torn_tail.map(|it| it.bytes), Some(BATCH_BYTES as u64 + 3));
        assert_eq!(read(1)?, read(2)?);
        Ok(())
    }
}
