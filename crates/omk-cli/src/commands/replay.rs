//! `omk replay`: a goal's timeline, streamed from its event log.

use std::{
    io::{self, BufWriter},
    path::Path,
    thread,
    time::Duration,
};

use omk_events::{Envelope, EventHash, EventLog, LogReader, Poll};

use crate::{
    args::ReplayArgs,
    commands::shared::Context,
    error::{CliError, ExitCodes},
    replay::{ChainCheck, Entry, JsonWriter, TextWriter, Timeline, header_time},
};

/// How often `--follow` looks for new lines.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) fn run_replay(ctx: &Context, args: &ReplayArgs) -> Result<u8, CliError> {
    let paths = omk_goal::find_goal(&ctx.dir, args.goal.as_deref())?;
    let out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let sink = if ctx.json {
        Sink::Json(JsonWriter::new(out, paths.goal_id.as_str())?)
    } else {
        Sink::Text(TextWriter::new(out), true)
    };
    let mut replay = Replay { sink, timeline: Timeline::new(), head: None };
    let mut reader = LogReader::open(&paths.events)?;
    let shown = if args.follow {
        follow(&mut replay, &mut reader, &paths.events)
    } else {
        reader = reader.parallel_if_long();
        reader.by_ref().try_for_each(|envelope| replay.show(&envelope?))
    };
    match shown {
        Ok(()) => {}
        // `omk replay | head`: the reader has seen enough.
        Err(Stop::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => {
            return Ok(ExitCodes::SUCCESS);
        }
        Err(Stop::Output(err)) => return Err(err.into()),
        Err(Stop::Log(err)) => {
            // What was shown stays shown; the error names the line where the log went wrong.
            replay.sink.flush().ok();
            return Err(err.into());
        }
    }
    let check = ChainCheck { head: replay.head, torn_tail: reader.torn_tail().cloned() };
    match replay.sink.finish(&replay.timeline, &check) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(ExitCodes::SUCCESS),
    }
}

/// Shows events as the run appends them, until the run lets go of the log.
fn follow(replay: &mut Replay<'_>, reader: &mut LogReader, log: &Path) -> Result<(), Stop> {
    let mut released = false;
    loop {
        match reader.poll()? {
            Poll::Event(envelope) => replay.show(&envelope)?,
            // After the run let go of the log, one more look picked up its last lines.
            Poll::Pending if released => return Ok(()),
            Poll::Pending => {
                released = EventLog::holder(log)?.is_none();
                if !released {
                    replay.sink.flush()?;
                    thread::sleep(FOLLOW_INTERVAL);
                }
            }
        }
    }
}

/// Why a replay stopped early.
enum Stop {
    /// The log is wrong or cannot be read.
    Log(omk_events::Error),
    /// Stdout cannot be written.
    Output(io::Error),
}

impl From<omk_events::Error> for Stop {
    fn from(err: omk_events::Error) -> Self {
        Self::Log(err)
    }
}

impl From<io::Error> for Stop {
    fn from(err: io::Error) -> Self {
        Self::Output(err)
    }
}

struct Replay<'a> {
    sink: Sink<'a>,
    timeline: Timeline,
    head: Option<EventHash>,
}

impl Replay<'_> {
    fn show(&mut self, envelope: &Envelope) -> Result<(), Stop> {
        self.head = envelope.hash;
        let entry = self.timeline.entry(envelope);
        Ok(self.sink.entry(&entry, envelope)?)
    }
}

enum Sink<'a> {
    /// The text timeline, and whether its header is still to be written.
    Text(TextWriter<BufWriter<io::StdoutLock<'a>>>, bool),
    Json(JsonWriter<BufWriter<io::StdoutLock<'a>>>),
}

impl Sink<'_> {
    fn entry(&mut self, entry: &Entry, envelope: &Envelope) -> io::Result<()> {
        match self {
            Self::Text(writer, header) => {
                if std::mem::take(header) {
                    writer.line(&format!(
                        "goal {} started {}",
                        envelope.goal_id,
                        header_time(envelope.at)
                    ))?;
                }
                writer.entry(entry)
            }
            Self::Json(writer) => writer.entry(entry, &envelope.event),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Text(writer, _) => writer.flush(),
            Self::Json(writer) => writer.flush(),
        }
    }

    fn finish(self, timeline: &Timeline, check: &ChainCheck) -> io::Result<()> {
        match self {
            Self::Text(writer, _) => writer.finish(timeline.summary(), check).map(drop),
            Self::Json(writer) => writer.finish(timeline.summary(), check).map(drop),
        }
    }
}
