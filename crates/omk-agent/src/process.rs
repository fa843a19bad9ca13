//! Running an agent's process: its own process group, raw output saved, timeouts enforced.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, PipeReader, PipeWriter, Write},
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::ExitStatus,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use nix::sys::signal::Signal;
use serde_json::Value;

use omk_events::ProcessExit;
use omk_sandbox::{Child, Sandbox, Spawn};

use crate::{
    control::{Hold, POLL_INTERVAL},
    report::Report,
};

/// The longest stdout line omk parses; longer lines are truncated for parsing only.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// What to start and how.
pub(crate) struct Launch<'a> {
    /// The program and its arguments; never a bare program without arguments for `kimi`.
    pub(crate) argv: Vec<String>,
    /// The working directory (the worktree).
    pub(crate) cwd: PathBuf,
    /// Variables added to the inherited environment.
    pub(crate) env: Vec<(String, String)>,
    /// What the process reads on stdin.
    pub(crate) stdin: StdinMode,
    /// Where the raw stdout and stderr go.
    pub(crate) stdout_path: PathBuf,
    /// Where the raw stderr goes.
    pub(crate) stderr_path: PathBuf,
    /// How the program starts: through the goal's sandbox.
    pub(crate) sandbox: &'a Sandbox,
}

/// What an agent reads on stdin.
pub(crate) enum StdinMode {
    /// Nothing: stdin is `/dev/null`.
    Closed,
    /// The text, then end of file.
    Text(String),
    /// A conversation: the protocol writes lines and closes stdin when it is done.
    Protocol,
}

/// How long an agent may run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The wall-clock limit of the whole run.
    pub wall: Duration,
    /// The longest time without a line on stdout.
    pub idle: Duration,
    /// After a timeout, how long each step of stopping (cancel, SIGTERM) gets before the next.
    pub grace: Duration,
    /// The same when omk's control asked to stop the run: short, so that the agent's whole
    /// process group is gone soon after the request.
    pub stop_grace: Duration,
}

/// A protocol spoken on the agent's stdout (and stdin, when bidirectional).
///
/// The defaults fit one-way protocols: nothing to send, never done early, no polite cancel.
pub(crate) trait Protocol {
    /// Returns the report the protocol fills in.
    fn report_mut(&mut self) -> &mut Report;
    /// Returns the lines to write on stdin once the process started (bidirectional protocols).
    fn opening(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Handles one JSON line of stdout; returns lines to write back.
    fn on_line(&mut self, line: &Value) -> Vec<String>;
    /// Handles a line of stdout that is not JSON: the last non-blank one is kept for errors.
    fn on_garbage(&mut self, line: &str) {
        if !line.trim().is_empty() {
            self.report_mut().last_garbage = Some(line.trim().to_owned());
        }
    }
    /// Returns whether the conversation is over, so stdin can be closed.
    fn is_done(&self) -> bool {
        false
    }
    /// Returns the line that politely cancels the run, if the protocol has one.
    fn cancel_line(&mut self) -> Option<String> {
        None
    }
}

/// Runs `launch` to its end, feeding stdout lines to `protocol`.
///
/// After each line the activities the protocol queued go to `hold`'s control, and the control
/// is asked whether to stop, as it is at least every [`POLL_INTERVAL`]; on a stop request the
/// agent is stopped with `limits.stop_grace` and `hold` keeps the reason.
/// Returns an error only when the process cannot be started or its files cannot be written.
pub(crate) fn run(
    launch: Launch<'_>,
    limits: Limits,
    protocol: &mut dyn Protocol,
    hold: &mut Hold<'_>,
) -> io::Result<ProcessExit> {
    let stdout_file = File::create(&launch.stdout_path)?;
    let stderr_file = File::create(&launch.stderr_path)?;
    let Started { mut child, mut stdin, stdout } = spawn(&launch, stderr_file)?;
    // The record lets a later run end this group if omk and its watcher are both killed.
    let _supervised = match launch.sandbox.supervise(child.id()) {
        Ok(record) => record,
        Err(err) => {
            child.end().ok();
            return Err(err);
        }
    };
    hold.spawned(child.id());
    if let StdinMode::Text(text) = &launch.stdin {
        // The prompt is written from a thread so a child that does not read cannot block omk.
        if let Some(mut pipe) = stdin.take() {
            let text = text.clone();
            thread::spawn(move || pipe.write_all(text.as_bytes()).ok());
        }
    }
    let (lines_tx, lines_rx) = mpsc::channel();
    let reader = thread::spawn(move || read_lines(stdout, stdout_file, &lines_tx));

    let started = Instant::now();
    let mut last_line = Instant::now();
    let mut exit = ProcessExit {
        exit_code: None,
        signal: None,
        timed_out: false,
        idle_timed_out: false,
        garbage_lines: 0,
        oversized_lines: 0,
    };
    write_lines(&mut stdin, &protocol.opening());
    let mut stopped = false;
    loop {
        if hold.stop_requested() {
            stop(&mut child, &mut stdin, protocol, limits.stop_grace);
            stopped = true;
            break;
        }
        let wall_left = limits.wall.saturating_sub(started.elapsed());
        let idle_left = limits.idle.saturating_sub(last_line.elapsed());
        match lines_rx.recv_timeout(wall_left.min(idle_left).min(POLL_INTERVAL)) {
            Ok(line) => {
                last_line = Instant::now();
                on_line(&line, &mut exit, protocol, &mut stdin, hold);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if started.elapsed() >= limits.wall {
                    exit.timed_out = true;
                } else if last_line.elapsed() >= limits.idle {
                    exit.idle_timed_out = true;
                } else {
                    continue;
                }
                stop(&mut child, &mut stdin, protocol, limits.grace);
                stopped = true;
                break;
            }
        }
    }
    drop(stdin);
    // Waiting for the leader ends the rest of its group before the leader is reaped: no process
    // of the agent outlives it and keeps writing.
    let status = if stopped {
        child.wait_blocking()?
    } else {
        // Stdout is closed, but the agent may still run: the wall clock and omk's control
        // still hold.
        let left = limits.wall.saturating_sub(started.elapsed()).max(limits.grace);
        match wait_timeout(&mut child, left, hold)? {
            Some(status) => status,
            None => {
                let grace = if hold.stop_reason().is_some() {
                    limits.stop_grace
                } else {
                    exit.timed_out = true;
                    limits.grace
                };
                let mut none = None;
                stop(&mut child, &mut none, protocol, grace);
                child.wait_blocking()?
            }
        }
    };
    reader.join().ok();
    exit.exit_code = status.code();
    exit.signal = status.signal();
    Ok(exit)
}

/// A started agent: its process, and omk's ends of its stdin (when it reads one) and stdout.
struct Started {
    child: Child,
    stdin: Option<PipeWriter>,
    stdout: PipeReader,
}

/// Starts the program of `launch` in its own process group, stderr going to `stderr_file`.
fn spawn(launch: &Launch<'_>, stderr_file: File) -> io::Result<Started> {
    if launch.argv.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command line"));
    }
    tracing::debug!(argv = ?launch.argv, cwd = %launch.cwd.display(), "start the agent");
    let (stdout, stdout_writer) = io::pipe()?;
    let (stdin_reader, stdin) = match launch.stdin {
        StdinMode::Closed => (None, None),
        StdinMode::Text(_) | StdinMode::Protocol => {
            let (reader, writer) = io::pipe()?;
            (Some(reader.into()), Some(writer))
        }
    };
    let child = launch.sandbox.spawn(Spawn {
        argv: launch.argv.clone(),
        cwd: launch.cwd.clone(),
        env: launch.sandbox.inherited_env(&launch.env),
        stdin: stdin_reader,
        stdout: Some(stdout_writer.into()),
        stderr: Some(stderr_file.into()),
    })?;
    Ok(Started { child, stdin, stdout })
}

/// Hands one line of stdout to `protocol`, writes its replies, and passes on what it queued.
fn on_line(
    line: &Line,
    exit: &mut ProcessExit,
    protocol: &mut dyn Protocol,
    stdin: &mut Option<PipeWriter>,
    hold: &mut Hold<'_>,
) {
    if line.oversized {
        exit.oversized_lines += 1;
    }
    match serde_json::from_str::<Value>(&line.text) {
        Ok(value) if value.is_object() => {
            let replies = protocol.on_line(&value);
            write_lines(stdin, &replies);
        }
        _ if line.text.trim().is_empty() => {}
        _ => {
            exit.garbage_lines += 1;
            protocol.on_garbage(&line.text);
        }
    }
    hold.deliver(&mut protocol.report_mut().activities);
    hold.deliver_approvals(&protocol.report_mut().approvals);
    if protocol.is_done() {
        // Closing stdin ends a bidirectional agent cleanly.
        *stdin = None;
    }
}

/// One line of stdout, without its newline.
struct Line {
    text: String,
    oversized: bool,
}

/// Copies every byte of `stdout` to `raw` and sends each line, truncated to [`MAX_LINE_BYTES`].
fn read_lines(stdout: impl io::Read, mut raw: File, lines: &mpsc::Sender<Line>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut current = Vec::new();
    let mut oversized = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(chunk) => chunk,
        };
        let (used, line_end) = match chunk.iter().position(|&byte| byte == b'\n') {
            Some(idx) => (idx + 1, true),
            None => (chunk.len(), false),
        };
        raw.write_all(&chunk[..used]).ok();
        let content = &chunk[..if line_end { used - 1 } else { used }];
        let room = MAX_LINE_BYTES.saturating_sub(current.len());
        if content.len() > room {
            oversized = true;
        }
        current.extend_from_slice(&content[..content.len().min(room)]);
        reader.consume(used);
        if line_end {
            let text = String::from_utf8_lossy(&current).into_owned();
            current.clear();
            if lines.send(Line { text, oversized }).is_err() {
                break;
            }
            oversized = false;
        }
    }
    if !current.is_empty() {
        lines.send(Line { text: String::from_utf8_lossy(&current).into_owned(), oversized }).ok();
    }
    raw.sync_all().ok();
}

fn write_lines(stdin: &mut Option<PipeWriter>, lines: &[String]) {
    if let Some(pipe) = stdin {
        for line in lines {
            if pipe.write_all(line.as_bytes()).and_then(|()| pipe.write_all(b"\n")).is_err() {
                // The agent closed its stdin; it will end on its own or by timeout.
                *stdin = None;
                return;
            }
        }
        pipe.flush().ok();
    }
}

/// Stops the agent: a polite cancel, then SIGTERM, then SIGKILL to its process group.
fn stop(
    child: &mut Child,
    stdin: &mut Option<PipeWriter>,
    protocol: &mut dyn Protocol,
    grace: Duration,
) {
    match (stdin.is_some(), protocol.cancel_line()) {
        (true, Some(line)) => write_lines(stdin, &[line]),
        _ => child.signal_group(Signal::SIGINT),
    }
    let mut no_control = Hold::new(None);
    if matches!(wait_timeout(child, grace, &mut no_control), Ok(Some(_))) {
        return;
    }
    child.signal_group(Signal::SIGTERM);
    if matches!(wait_timeout(child, grace, &mut no_control), Ok(Some(_))) {
        return;
    }
    child.signal_group(Signal::SIGKILL);
}

/// Waits up to `limit` for `child` to exit; `None` when it did not, or when omk asked to stop.
fn wait_timeout(
    child: &mut Child,
    limit: Duration,
    hold: &mut Hold<'_>,
) -> io::Result<Option<ExitStatus>> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= limit || hold.stop_requested() {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}
