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
    path::PathBuf,
    sync::{
        Arc, Mutex,
        mpsc::{Receiver, SyncSender, sync_channel},
    },
    thread,
};

use crate::{
    error::Error,
    event::Envelope,
    read::{TornTail, check_alone},
};

/// Lines per batch: big enough to amortize the hand-offs, small enough to keep memory low.
const BATCH_LINES: usize = 512;
/// Batches read ahead of the reader.
const IN_FLIGHT: usize = 8;

/// A batch of whole lines, each ending in a newline.
struct Work {
    first_line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    done: SyncSender<Vec<Result<Envelope, Error>>>,
}

/// What the cutting thread hands the reader, in file order.
enum Cut {
    Batch { first_line: u64, results: Receiver<Vec<Result<Envelope, Error>>> },
    End { lines: u64, torn_tail: Option<TornTail> },
    Failed(Error),
}

/// The next item of a parallel read.
#[expect(clippy::large_enum_variant, reason = "moved once per event; boxing costs an allocation")]
pub(crate) enum Next {
    /// The event on a line.
    Event(u64, Envelope),
    /// The end of the log: how many whole lines it has, and its torn tail.
    End { lines: u64, torn_tail: Option<TornTail> },
}

/// The reader's side of a parallel read.
pub(crate) struct Batches {
    path: PathBuf,
    cuts: Receiver<Cut>,
    current: std::vec::IntoIter<Result<Envelope, Error>>,
    next_line: u64,
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
        Self { path, cuts: cut_rx, current: Vec::new().into_iter(), next_line: 1 }
    }

    /// Returns the next event in file order, or the first error of a line on its own.
    pub(crate) fn next(&mut self) -> Result<Next, Error> {
        loop {
            if let Some(result) = self.current.next() {
                let line = self.next_line;
                self.next_line += 1;
                return result.map(|envelope| Next::Event(line, envelope));
            }
            // A closed channel means a thread died: say so rather than end early.
            let lost = || Error::Io {
                action: "read",
                path: self.path.clone(),
                source: std::io::Error::other("a log reading thread stopped"),
            };
            match self.cuts.recv().map_err(|_| lost())? {
                Cut::Batch { first_line, results } => {
                    self.next_line = first_line;
                    self.current = results.recv().map_err(|_| lost())?.into_iter();
                }
                Cut::End { lines, torn_tail } => {
                    // Later calls see the end again: the channel stays empty.
                    self.current = Vec::new().into_iter();
                    return Ok(Next::End { lines, torn_tail });
                }
                Cut::Failed(err) => return Err(err),
            }
        }
    }
}

/// Parses and hashes batches until the cutting thread stops.
fn work(path: &std::path::Path, work_rx: &Mutex<Receiver<Work>>) {
    // Every line of a log names one goal: once validated, its id is only compared.
    let mut goal_hint = None;
    loop {
        // A poisoned lock means another worker panicked; this one stops too.
        let Ok(next) = work_rx.lock().map(|rx| rx.recv()) else { return };
        let Ok(work) = next else { return };
        let mut results = Vec::with_capacity(work.ends.len());
        let mut start = 0;
        for (idx, &end) in work.ends.iter().enumerate() {
            let line_no = work.first_line + idx as u64;
            let result =
                check_alone(path, line_no, &work.bytes[start..end - 1], goal_hint.as_ref());
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
            start = end;
        }
        if work.done.send(results).is_err() {
            return;
        }
    }
}

/// Cuts `input` into batches of whole lines, in order; ends with the torn tail, if any.
fn cut(
    path: &std::path::Path,
    mut input: BufReader<File>,
    work_tx: &SyncSender<Work>,
    cut_tx: &SyncSender<Cut>,
) {
    let mut carry: Vec<u8> = Vec::new();
    let mut next_line = 1u64;
    let mut offset = 0u64;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let read = match input.read(&mut chunk) {
            Ok(read) => read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                let failed = Error::Io { action: "read", path: path.to_owned(), source };
                cut_tx.send(Cut::Failed(failed)).ok();
                return;
            }
        };
        if read == 0 {
            let torn_tail = (!carry.is_empty()).then_some(TornTail {
                line: next_line,
                offset,
                bytes: carry.len() as u64,
            });
            cut_tx.send(Cut::End { lines: next_line - 1, torn_tail }).ok();
            return;
        }
        carry.extend_from_slice(&chunk[..read]);
        // Hand off every whole line read so far, in batches.
        let mut start = 0;
        while start < carry.len() {
            let mut ends = Vec::with_capacity(BATCH_LINES);
            let mut pos = start;
            while ends.len() < BATCH_LINES {
                match carry[pos..].iter().position(|&c| c == b'\n') {
                    Some(newline) => {
                        pos += newline + 1;
                        ends.push(pos - start);
                    }
                    None => break,
                }
            }
            if ends.is_empty() {
                break;
            }
            let bytes = carry[start..pos].to_vec();
            let (done_tx, done_rx) = sync_channel(1);
            let first_line = next_line;
            next_line += ends.len() as u64;
            offset += bytes.len() as u64;
            start = pos;
            let cut = Cut::Batch { first_line, results: done_rx };
            if cut_tx.send(cut).is_err()
                || work_tx.send(Work { first_line, bytes, ends, done: done_tx }).is_err()
            {
                // The reader was dropped: stop reading.
                return;
            }
        }
        carry.drain(..start);
    }
}
