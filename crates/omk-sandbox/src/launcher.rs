//! The launcher: the hidden `omk` subcommand that confines itself, starts the command, watches
//! omk and ends as the command did.

use std::{
    ffi::OsString,
    io::{self, Write as _},
    os::unix::process::ExitStatusExt,
    process::{Command, ExitCode, ExitStatus},
    sync::{Arc, atomic::AtomicBool, mpsc},
    thread,
    time::Duration,
};

use nix::{
    sys::signal::{Signal, killpg, raise},
    unistd::{Pid, getpgrp, getpid, getppid, setpgid},
};

use crate::{policy::Policy, rules};

/// The first argument that makes the `omk` binary the launcher instead of the CLI.
pub const LAUNCHER_ARG: &str = "__omk-sandbox";

/// How often the launcher checks that omk is still its parent: the command's group is killed
/// within this much of omk's death.
const PARENT_POLL: Duration = Duration::from_millis(50);

/// The exit status when the launcher itself fails before the command starts, as a shell's
/// "cannot execute".
const CANNOT_RUN: u8 = 126;

/// The signals that stop a command, which omk (or a terminal) sends its whole process group.
const STOP_SIGNALS: [Signal; 4] =
    [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT];

/// The exit status when the command's program is not found, as a shell's.
const NOT_FOUND: u8 = 127;

/// Runs the launcher with the arguments after [`LAUNCHER_ARG`]: `probe`, which prints the
/// Landlock ABI the kernel enforces (`abi N`, or `none REASON`), or `run POLICY PROGRAM ARGS...`,
/// which runs the program under the JSON policy and exits as it did (a signal that killed it
/// kills the launcher too).
pub fn launcher_main(args: &[OsString]) -> ExitCode {
    match args.split_first() {
        Some((mode, _)) if mode == "probe" => {
            let line = match rules::probe_abi() {
                Ok(abi) => format!("abi {abi}"),
                Err(reason) => format!("none {reason}"),
            };
            writeln!(io::stdout().lock(), "{line}").ok();
            ExitCode::SUCCESS
        }
        Some((mode, rest)) if mode == "run" => run(rest),
        _ => fail("usage: omk __omk-sandbox probe | run POLICY PROGRAM [ARGS...]"),
    }
}

/// Confines this process, runs the command and waits for it while watching omk.
fn run(args: &[OsString]) -> ExitCode {
    let [policy, program, args @ ..] = args else {
        return fail("run needs a policy and a program");
    };
    let policy: Policy = match policy.to_str().map(serde_json::from_str) {
        Some(Ok(policy)) => policy,
        _ => return fail("the policy is not valid JSON"),
    };
    if !parent_alive(&policy) {
        // omk died before the launcher got going: start nothing.
        return ExitCode::from(CANNOT_RUN);
    }
    if getpgrp() != getpid() {
        // The caller should have made a group for the command; without one, killing "the group"
        // would kill the caller's.
        if let Err(err) = setpgid(Pid::from_raw(0), Pid::from_raw(0)) {
            return fail(&format!("make a process group: {err}"));
        }
    }
    if policy.confine
        && let Err(err) = rules::restrict(&policy)
    {
        return fail(&omk_events::error_chain(&err));
    }
    // The launcher outlives a signal sent to the group, so that it reports how the command
    // ended. It catches them with a handler, from before the command starts, so that a signal
    // sent right after the start cannot end the launcher first; exec resets a caught signal to
    // its default, so the command starts as it would without the launcher. (Blocking them
    // instead would leave them blocked in the command: std keeps the mask when it spawns.)
    let caught = Arc::new(AtomicBool::new(false));
    for signal in STOP_SIGNALS {
        if let Err(err) = signal_hook::flag::register(signal as i32, Arc::clone(&caught)) {
            return fail(&format!("catch {signal}: {err}"));
        }
    }
    let mut child = match Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(err) => {
            let message = format!("start {}: {err}", program.to_string_lossy());
            write_error(&message);
            let code = if err.kind() == io::ErrorKind::NotFound { NOT_FOUND } else { CANNOT_RUN };
            return ExitCode::from(code);
        }
    };
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || sender.send(child.wait()).ok());
    loop {
        match receiver.recv_timeout(PARENT_POLL) {
            Ok(Ok(status)) => return exit_as(status),
            Ok(Err(err)) => return fail(&format!("wait for the command: {err}")),
            Err(mpsc::RecvTimeoutError::Timeout) if parent_alive(&policy) => {}
            Err(_) => {
                // omk is gone: nothing it started may go on. This kills the launcher too.
                killpg(getpgrp(), Signal::SIGKILL).ok();
                return ExitCode::from(CANNOT_RUN);
            }
        }
    }
}

fn parent_alive(policy: &Policy) -> bool {
    u32::try_from(getppid().as_raw()).is_ok_and(|it| it == policy.parent)
}

/// Ends the launcher as the command ended: with its exit code, or killed by its signal.
fn exit_as(status: ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if let Some(signal) = status.signal().and_then(|it| Signal::try_from(it).ok()) {
        if STOP_SIGNALS.contains(&signal) {
            // The launcher's own handler catches it: end the way its default would.
            signal_hook::low_level::emulate_default_handler(signal as i32).ok();
        } else {
            raise(signal).ok();
        }
        // A signal whose default is not to terminate leaves the shell's convention.
        return ExitCode::from(128u8.saturating_add(u8::try_from(signal as i32).unwrap_or(0)));
    }
    ExitCode::from(1)
}

fn fail(message: &str) -> ExitCode {
    write_error(message);
    ExitCode::from(CANNOT_RUN)
}

fn write_error(message: &str) {
    writeln!(io::stderr().lock(), "omk sandbox: failed to {message}").ok();
}
