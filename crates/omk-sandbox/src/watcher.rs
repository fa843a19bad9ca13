//! The watcher: one process per omk process, started with the first sandboxed command, that
//! kills every process group omk started and has not ended when omk dies, even by SIGKILL.
//!
//! omk and the watcher share a sequenced-packet socket: the watcher's end is its standard input,
//! omk's end is close-on-exec, so only omk (and its children between fork and exec) hold it.
//! Each sandboxed child sends `+PID` before it execs ([`crate::child`]), omk sends `-PID` once
//! the group has ended; when omk's end closes (omk exited or died), the watcher reads the end of
//! the stream, kills the groups still registered, and exits.

use std::{
    collections::HashMap,
    ffi::OsString,
    io::{self, Write as _},
    os::{
        fd::{AsFd, AsRawFd, OwnedFd, RawFd},
        unix::process::CommandExt,
    },
    path::Path,
    process::{Command, ExitCode, Stdio},
    sync::{Arc, Mutex, atomic::AtomicBool},
    thread,
};

use nix::{
    errno::Errno,
    poll::{PollFd, PollFlags, PollTimeout, poll},
    sys::{
        signal::Signal,
        socket::{AddressFamily, MsgFlags, SockFlag, SockType, recv, socketpair},
    },
};

use crate::{
    child::{self, MESSAGE_MAX},
    records::{self, ProcessRecord},
};

/// The first argument that makes the `omk` binary the watcher instead of the CLI.
pub const WATCHER_ARG: &str = "__omk-sandbox";

/// The signals a terminal or a job runner sends a whole process group; the watcher outlives them
/// so that it can end omk's groups after omk.
const STOP_SIGNALS: [Signal; 4] =
    [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT];

/// Runs the watcher mode with the arguments after [`WATCHER_ARG`]: `watch`, which reads
/// registrations on its standard input until it closes, then kills the groups still registered.
pub fn watcher_main(args: &[OsString]) -> ExitCode {
    match args {
        [mode] if mode == "watch" => watch(),
        _ => {
            writeln!(io::stderr().lock(), "omk sandbox: usage: omk {WATCHER_ARG} watch").ok();
            ExitCode::from(2)
        }
    }
}

fn watch() -> ExitCode {
    let ignored = Arc::new(AtomicBool::new(false));
    for signal in STOP_SIGNALS {
        // A handler that only sets a flag: the signal no longer ends the watcher.
        signal_hook::flag::register(signal as i32, Arc::clone(&ignored)).ok();
    }
    let stdin = io::stdin();
    let socket = stdin.as_fd();
    let mut groups: HashMap<u32, ProcessRecord> = HashMap::new();
    let mut buf = [0u8; MESSAGE_MAX];
    loop {
        match recv(socket.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(0) => break,
            Ok(len) => match parse(&buf[..len]) {
                Some((b'+', pid)) => {
                    // A leader already gone reads as start time 0: its group is ended only while
                    // it still has members (see `records::group_alive`).
                    let start_time = records::stat(pid).map_or(0, |it| it.start_time);
                    groups.insert(pid, ProcessRecord { pid, start_time });
                }
                Some((_, pid)) => {
                    groups.remove(&pid);
                }
                None => {}
            },
            Err(Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    for record in groups.into_values() {
        if records::group_alive(record) {
            records::kill_group(record.pid);
        }
    }
    ExitCode::SUCCESS
}

fn parse(message: &[u8]) -> Option<(u8, u32)> {
    let (&sign, digits) = message.split_first()?;
    if sign != b'+' && sign != b'-' {
        return None;
    }
    let pid = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((sign, pid))
}

/// omk's end of the socket to its watcher.
#[derive(Debug)]
struct Connection {
    socket: OwnedFd,
    /// The watcher's process (its pid is in the error that says it is gone), reaped once it is
    /// found gone (it normally outlives omk, and then init reaps it).
    process: std::process::Child,
}

impl Connection {
    /// Returns an error when the watcher has exited: its end of the socket is closed. A watcher
    /// that has exited is reaped, so that it does not stay a zombie until omk exits.
    fn check_alive(&mut self) -> io::Result<()> {
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::empty())];
        let hung_up = poll(&mut fds, PollTimeout::ZERO).is_ok()
            && fds[0].revents().is_some_and(|it| it.intersects(PollFlags::POLLHUP));
        if hung_up {
            self.process.try_wait().ok();
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!(
                    "omk's process watcher (pid {}) has exited, and omk starts no process it \
                     could not end: run the command again",
                    self.process.id()
                ),
            ));
        }
        Ok(())
    }
}

/// The watcher of this process: being started on a thread of its own, or started (an error
/// says why it could not start).
#[derive(Debug)]
enum State {
    /// The thread that starts it.
    Starting(thread::JoinHandle<Result<Connection, String>>),
    /// The connection, kept for the rest of the process, or why there is none.
    Started(Result<Connection, String>),
}

/// The watcher of this process, started once.
static WATCHER: Mutex<Option<State>> = Mutex::new(None);

/// Starts this process's watcher with `program` (the `omk` binary) on a thread of its own, if
/// it is not started yet, and returns at once: a command that will start sandboxed processes
/// calls it first, so that the watcher's start overlaps the command's own work instead of
/// delaying its first process.
pub fn start_watcher(program: &Path) {
    let mut watcher = WATCHER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if watcher.is_none() {
        let program = program.to_owned();
        let spawned = thread::Builder::new()
            .name("omk-watcher-start".to_owned())
            .spawn(move || start(&program));
        *watcher = Some(match spawned {
            Ok(handle) => State::Starting(handle),
            Err(err) => State::Started(Err(format!("start the process watcher: {err}"))),
        });
    }
}

/// Returns the socket of this process's watcher, starting it with `program` (the `omk` binary)
/// the first time, or waiting for the start [`start_watcher`] began; every later call gets the
/// same watcher, whatever its `program`.
pub(crate) fn socket(program: &Path) -> io::Result<RawFd> {
    let mut watcher = WATCHER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut connection = match watcher.take() {
        None => start(program),
        Some(State::Starting(handle)) => {
            handle.join().unwrap_or_else(|_| Err("the watcher's start panicked".to_owned()))
        }
        Some(State::Started(connection)) => connection,
    };
    let socket = match &mut connection {
        // The connection is never dropped: it stays in the static for the rest of the process,
        // so the descriptor stays valid.
        Ok(connection) => connection.check_alive().map(|()| connection.socket.as_raw_fd()),
        Err(reason) => Err(io::Error::other(reason.clone())),
    };
    *watcher = Some(State::Started(connection));
    socket
}

fn start(program: &Path) -> Result<Connection, String> {
    let (ours, theirs) =
        socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
            .map_err(|err| format!("create the socket to the process watcher: {err}"))?;
    // Its own process group: a signal to omk's group (a terminal's Ctrl-C, a job runner's
    // SIGKILL of the group) must not end the watcher before it ends omk's commands.
    // In `/`, so that it keeps no directory of omk's busy in the moment it outlives omk.
    let child = Command::new(program)
        .args([WATCHER_ARG, "watch"])
        .current_dir("/")
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|err| format!("start the process watcher {}: {err}", program.display()))?;
    Ok(Connection { socket: ours, process: child })
}

/// Tells the watcher that the group led by `pid` has ended; a watcher that is gone needs no
/// telling.
pub(crate) fn release(socket: RawFd, pid: u32) {
    let mut message = [0u8; MESSAGE_MAX];
    let len = child::encode(b'-', pid, &mut message);
    child::send(socket, &message[..len]).ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_a_sign_and_a_pid_and_nothing_else() {
        assert_eq!(parse(b"+12"), Some((b'+', 12)));
        assert_eq!(parse(b"-7"), Some((b'-', 7)));
        assert_eq!(parse(b"*7"), None);
        assert_eq!(parse(b"+"), None);
        assert_eq!(parse(b"+1x"), None);
        assert_eq!(parse(b""), None);
    }
}
