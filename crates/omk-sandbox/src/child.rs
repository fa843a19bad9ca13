//! The only code of omk that runs between `fork` and `exec`, and the only `unsafe` code of the
//! workspace (`cargo xtask tidy` checks both).
//!
//! A sandboxed command is confined and registered with the watcher in its own process, after the
//! fork and before the exec: a separate launcher process would cost an exec of the `omk` binary
//! per command, several times the cost of a small command itself. Between fork and exec only
//! async-signal-safe work is allowed (the parent may have other threads, holding locks the child
//! inherits locked), so the hook below makes four system calls on values prepared before the
//! fork, allocates nothing and takes no lock.

//!
//! Two ways start such a child. [`clone_exec`], used by [`crate::Sandbox::spawn`], clones omk
//! with `CLONE_VM | CLONE_VFORK`: the child borrows omk's memory on a stack of its own until it
//! execs, so nothing of omk is copied (a fork of the multi-threaded 20 MB omk copies its page
//! tables and makes both sides take copy-on-write faults, as long as a small command's whole
//! run). The child then also does what std's `Command` would do between fork and exec: reset
//! signal handlers, set up the standard streams, change directory, start its process group.
//! [`prepare`] is the fallback for `Command`s (std forks for a command with a `pre_exec` hook).

#![expect(unsafe_code, reason = "a pre_exec hook, a vfork-style clone and raw system calls")]

use std::{
    convert::Infallible,
    ffi::{CStr, CString, c_char, c_int, c_void},
    fmt, io,
    os::{
        fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
        unix::process::CommandExt,
    },
    process::Command,
    ptr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

/// The largest message sent to the watcher: a sign and a pid.
pub(crate) const MESSAGE_MAX: usize = 24;

/// Writes `sign` and `pid` in decimal (`+1234`) into `buf`; returns the length.
pub(crate) fn encode(sign: u8, pid: u32, buf: &mut [u8; MESSAGE_MAX]) -> usize {
    let mut digits = [0u8; 10];
    let mut rest = pid;
    let mut count = 0;
    loop {
        digits[count] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        count += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    buf[0] = sign;
    for (slot, digit) in buf[1..=count].iter_mut().zip(digits[..count].iter().rev()) {
        *slot = *digit;
    }
    count + 1
}

/// Sends one message on the watcher's socket without raising SIGPIPE when the watcher is gone.
/// It is async-signal-safe: one `send` of a buffer on the stack.
pub(crate) fn send(socket: RawFd, message: &[u8]) -> io::Result<()> {
    // SAFETY: `message` is a live buffer of `message.len()` bytes; `send` only reads it.
    let sent =
        unsafe { libc::send(socket, message.as_ptr().cast(), message.len(), libc::MSG_NOSIGNAL) };
    match usize::try_from(sent) {
        Ok(sent) if sent == message.len() => Ok(()),
        // A sequenced-packet socket sends a message whole or not at all.
        Ok(_) => Err(io::Error::from_raw_os_error(libc::EMSGSIZE)),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// Makes `command`'s child, before it execs, register its pid (which is its process group's id)
/// with the watcher on `watcher`, then confine itself to `ruleset`.
///
/// When either fails the child does not exec, and spawning returns the error: a command that
/// should be watched or confined never runs unwatched or unconfined.
pub(crate) fn prepare(
    command: &mut Command,
    watcher: Option<RawFd>,
    ruleset: Option<Arc<OwnedFd>>,
) {
    let hook = move || -> io::Result<()> {
        if let Some(socket) = watcher {
            register(socket)?;
        }
        if let Some(ruleset) = &ruleset {
            confine(ruleset.as_raw_fd())?;
        }
        Ok(())
    };
    // SAFETY: the hook is async-signal-safe: `register` and `confine` only make system calls on
    // buffers on the stack, and an error is an OS error code (`io::Error` stores it without
    // allocating).
    unsafe {
        command.pre_exec(hook);
    }
}

/// Sends this process's pid (its process group's id) to the watcher on `socket`.
/// Async-signal-safe: `getpid` and one `send` of a buffer on the stack.
fn register(socket: RawFd) -> io::Result<()> {
    // The system call itself, not the C library's `getpid`: a C library that caches the pid per
    // thread (glibc before 2.25) would give omk's pid in the child of a `CLONE_VM` clone.
    // SAFETY: `getpid` takes no arguments and cannot fail.
    let pid = unsafe { libc::syscall(libc::SYS_getpid) };
    let mut message = [0u8; MESSAGE_MAX];
    let len = encode(b'+', u32::try_from(pid).unwrap_or(0), &mut message);
    send(socket, &message[..len])
}

/// Confines this process (and what it execs) to `ruleset`. Async-signal-safe: two system calls
/// with integer arguments.
fn confine(ruleset: RawFd) -> io::Result<()> {
    // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: landlock_restrict_self takes a descriptor, which the caller keeps open, and flags.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Where a child of [`clone_exec`] that did not exec stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Stage {
    Signals = 1,
    Stdio,
    Directory,
    Group,
    Register,
    Confine,
    Exec,
}

impl Stage {
    fn from_code(code: u64) -> Self {
        match code {
            1 => Self::Signals,
            2 => Self::Stdio,
            3 => Self::Directory,
            4 => Self::Group,
            5 => Self::Register,
            6 => Self::Confine,
            _ => Self::Exec,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Signals => "reset the signal handlers",
            Self::Stdio => "set up the standard streams",
            Self::Directory => "change to the working directory",
            Self::Group => "start a process group",
            Self::Register => "register with the sandbox's watcher",
            Self::Confine => "confine itself with Landlock",
            Self::Exec => "exec",
        })
    }
}

/// Everything the child of [`clone_exec`] needs, prepared before the clone; the child only reads
/// it.
pub(crate) struct Exec<'a> {
    /// The paths to exec, tried in order as `execvp` would: one for a program named with a
    /// slash, one per `PATH` entry otherwise.
    pub(crate) candidates: &'a [CString],
    /// For each candidate, the arguments that run it as a shell script, as `execvp` does with a
    /// file the kernel cannot exec (`ENOEXEC`: a script without a `#!` line): `/bin/sh`, the
    /// candidate, the other arguments, a null pointer.
    pub(crate) as_scripts: &'a [Vec<*const c_char>],
    /// The arguments, program first, ending with a null pointer.
    pub(crate) argv: &'a [*const c_char],
    /// The whole environment as `NAME=value`, ending with a null pointer.
    pub(crate) envp: &'a [*const c_char],
    pub(crate) cwd: &'a CStr,
    /// Standard input, output and error, in that order.
    pub(crate) stdio: [BorrowedFd<'a>; 3],
    pub(crate) watcher: Option<RawFd>,
    pub(crate) ruleset: Option<BorrowedFd<'a>>,
}

/// What [`clone_exec`] shares with its child: the plan, and where the child writes why it did
/// not exec (the stage in the high half, the errno in the low half; 0 while it has not failed).
struct Shared<'a> {
    exec: &'a Exec<'a>,
    failure: AtomicU64,
}

/// The child's stack: ample for the system calls below, with a guard page beneath.
const STACK_BYTES: usize = 64 * 1024;

/// Starts `exec`'s command: clones this process with `CLONE_VM | CLONE_VFORK | CLONE_PIDFD`, and
/// returns the child's pid and a pidfd for it once the child has exec'd.
///
/// When the child cannot exec, it exits; this reaps it and returns why, with the [`Stage`] that
/// failed (an exec failure keeps its OS error kind, `NotFound` for a missing program). A kernel
/// without `CLONE_PIDFD` (before Linux 5.2) returns the clone's error (`EINVAL`).
pub(crate) fn clone_exec(exec: &Exec<'_>) -> io::Result<(u32, OwnedFd)> {
    let stack = Stack::new(STACK_BYTES)?;
    let shared = Shared { exec, failure: AtomicU64::new(0) };
    // Signals stay blocked while the child runs on omk's memory: a handler of omk's must never
    // run in it. The child resets every handler before it unblocks them (`reset_signals`).
    // SAFETY: the sets are plain values on the stack, filled by the calls that take them.
    let mut previous: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&raw mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const all, &raw mut previous);
    }
    let mut pidfd: c_int = -1;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD;
    // SAFETY: the child runs `child_main` on `stack` (mapped, and unmapped only after this
    // returns) with a pointer to `shared`, which outlives it: with CLONE_VFORK the clone returns
    // only once the child has exec'd or exited. The child reads the plan and writes only
    // `shared.failure` and its own stack, takes no lock and allocates nothing. The kernel writes
    // the pidfd to `pidfd`.
    let pid = unsafe {
        libc::clone(
            child_main,
            stack.top(),
            flags,
            (&raw const shared).cast_mut().cast::<c_void>(),
            &raw mut pidfd,
        )
    };
    let cloned = io::Error::last_os_error();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &raw const previous, ptr::null_mut()) };
    drop(stack);
    let Ok(pid) = u32::try_from(pid) else { return Err(cloned) };
    if pidfd < 0 {
        // A kernel that ignored CLONE_PIDFD (callers check for pidfds first): a child omk could
        // not wait for safely runs nothing more.
        if let Ok(raw) = i32::try_from(pid) {
            let child = nix::unistd::Pid::from_raw(raw);
            nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL).ok();
            nix::sys::wait::waitpid(child, None).ok();
        }
        return Err(io::Error::other("the kernel gave no pidfd for the new process"));
    }
    // SAFETY: with CLONE_PIDFD the kernel returned a new descriptor that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    match shared.failure.load(Ordering::Acquire) {
        0 => Ok((pid, pidfd)),
        failure => {
            // The child has exited (it only exits after recording a failure): reap it.
            nix::sys::wait::waitid(
                nix::sys::wait::Id::PIDFd(pidfd.as_fd()),
                nix::sys::wait::WaitPidFlag::WEXITED,
            )
            .ok();
            let stage = Stage::from_code(failure >> 32);
            let errno = i32::try_from(failure & u64::from(u32::MAX)).unwrap_or(libc::EIO);
            let error = io::Error::from_raw_os_error(errno);
            Err(match stage {
                Stage::Exec => error,
                stage => io::Error::new(error.kind(), format!("could not {stage}: {error}")),
            })
        }
    }
}

/// An anonymous mapping for the child's stack, with an inaccessible guard page at its low end.
struct Stack {
    base: *mut c_void,
    len: usize,
}

impl Stack {
    fn new(len: usize) -> io::Result<Self> {
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Self { base, len };
        // SAFETY: the lowest page of the mapping made above.
        if unsafe { libc::mprotect(base, page_size(), libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer: the mapping's end (page-aligned, so 16-byte aligned).
    fn top(&self) -> *mut c_void {
        self.base.wrapping_byte_add(self.len)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, no longer used (the child has exec'd or exited).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf takes an integer and reads no memory.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// The child of [`clone_exec`]: runs on its own stack in omk's memory until it execs.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Shared` that `clone_exec` passed, alive until the clone returns.
    let shared = unsafe { &*arg.cast::<Shared<'_>>() };
    let Err((stage, errno)) = run_child(shared.exec);
    let code = (u64::from(stage as u8) << 32) | u64::from(errno.cast_unsigned());
    shared.failure.store(code, Ordering::Release);
    // SAFETY: `_exit` ends the child without running omk's exit handlers on omk's memory.
    unsafe { libc::_exit(127) }
}

/// What the child does between the clone and the exec, in std's order; returns only on
/// failure. Async-signal-safe throughout: system calls on the plan and on the stack.
fn run_child(exec: &Exec<'_>) -> Result<Infallible, (Stage, i32)> {
    let os_error = |stage| move |err: io::Error| (stage, err.raw_os_error().unwrap_or(libc::EIO));
    reset_signals().map_err(|()| (Stage::Signals, errno()))?;
    set_stdio(&exec.stdio).map_err(|()| (Stage::Stdio, errno()))?;
    // SAFETY: the path is a NUL-terminated string of the plan.
    if unsafe { libc::chdir(exec.cwd.as_ptr()) } != 0 {
        return Err((Stage::Directory, errno()));
    }
    // SAFETY: integer arguments only.
    if unsafe { libc::setpgid(0, 0) } != 0 {
        return Err((Stage::Group, errno()));
    }
    if let Some(socket) = exec.watcher {
        register(socket).map_err(os_error(Stage::Register))?;
    }
    if let Some(ruleset) = exec.ruleset {
        confine(ruleset.as_raw_fd()).map_err(os_error(Stage::Confine))?;
    }
    let mut denied = false;
    let mut last = libc::ENOENT;
    for (candidate, as_script) in exec.candidates.iter().zip(exec.as_scripts) {
        // SAFETY: all three are NUL-terminated, the arrays end with a null pointer.
        unsafe { libc::execve(candidate.as_ptr(), exec.argv.as_ptr(), exec.envp.as_ptr()) };
        last = errno();
        if last == libc::ENOEXEC {
            // SAFETY: as above; `as_script` starts with "/bin/sh" and ends with a null pointer.
            unsafe { libc::execve(as_script[0], as_script.as_ptr(), exec.envp.as_ptr()) };
            return Err((Stage::Exec, errno()));
        }
        match last {
            // As `execvp`: a permission error is remembered, a missing file tries the next.
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
            _ => return Err((Stage::Exec, last)),
        }
    }
    Err((Stage::Exec, if denied { libc::EACCES } else { last }))
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

/// Resets every handled signal, and SIGPIPE (which Rust programs ignore), to its default, then
/// unblocks all signals: what the command would get from std, and no handler of omk's can run
/// on omk's memory once signals are unblocked.
fn reset_signals() -> Result<(), ()> {
    for signal in 1..=libc::SIGRTMAX() {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `sigaction` reads and writes the structures on the stack; signals the C
        // library reserves for itself fail to be read and are skipped.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, ptr::null(), &raw mut current) != 0 {
                continue;
            }
            let handled =
                current.sa_sigaction != libc::SIG_DFL && current.sa_sigaction != libc::SIG_IGN;
            if handled || signal == libc::SIGPIPE {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                if libc::sigaction(signal, &raw const default, ptr::null_mut()) != 0 {
                    return Err(());
                }
            }
        }
    }
    // SAFETY: an empty set on the stack.
    unsafe {
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut none);
        if libc::sigprocmask(libc::SIG_SETMASK, &raw const none, ptr::null_mut()) != 0 {
            return Err(());
        }
    }
    Ok(())
}

/// Makes `stdio` the child's descriptors 0, 1 and 2 (without close-on-exec).
fn set_stdio(stdio: &[BorrowedFd<'_>; 3]) -> Result<(), ()> {
    let mut sources = [0; 3];
    for (slot, fd) in sources.iter_mut().zip(stdio) {
        *slot = fd.as_raw_fd();
    }
    // A source that is itself one of 0, 1, 2 (omk started with a standard stream closed) is
    // moved out of the way first, so that no dup2 overwrites a source still to come.
    for (target, source) in (0..).zip(sources.iter_mut()) {
        if *source < 3 && *source != target {
            // SAFETY: integer arguments only.
            let moved = unsafe { libc::fcntl(*source, libc::F_DUPFD_CLOEXEC, 3) };
            if moved < 0 {
                return Err(());
            }
            *source = moved;
        }
    }
    for (target, source) in (0..).zip(sources) {
        // SAFETY: integer arguments only.
        let done = unsafe {
            if source == target {
                libc::fcntl(source, libc::F_SETFD, 0)
            } else {
                libc::dup2(source, target)
            }
        };
        if done < 0 {
            return Err(());
        }
    }
    Ok(())
}

/// Returns a pidfd for `pid` (Linux 5.3 or later).
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only; the call returns a new descriptor or -1.
    let fd =
        unsafe { libc::syscall(libc::SYS_pidfd_open, libc::pid_t::try_from(pid).unwrap_or(-1), 0) };
    match RawFd::try_from(fd) {
        // SAFETY: a new descriptor that nothing else owns.
        Ok(fd) if fd >= 0 => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Registers `pidfd` with the current tokio runtime's reactor, to be polled for the end of its
/// process; fails when no runtime runs on this thread.
pub(crate) fn poll_pidfd(pidfd: OwnedFd) -> io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(io::Error::other("waiting for a command needs a tokio runtime"));
    }
    // SAFETY: an `OwnedFd` is a valid open descriptor that stays open, and returns the same
    // descriptor, until the `AsyncFd` that owns it is dropped.
    unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE)
    }
    .map_err(|err| err.into_parts().1)
}

/// Returns the Landlock ABI the kernel supports, or why it supports none.
pub(crate) fn landlock_abi() -> Result<u32, String> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the version flag, the call reads and
    // writes no memory and returns the ABI version.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if let Ok(version) = u32::try_from(version)
        && version > 0
    {
        return Ok(version);
    }
    Err(match io::Error::last_os_error().raw_os_error() {
        Some(libc::EOPNOTSUPP) => "Landlock is built into the kernel but not enabled".to_owned(),
        _ => "the kernel has no Landlock".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_a_sign_and_the_decimal_pid() {
        let mut buf = [0u8; MESSAGE_MAX];
        for (pid, text) in [(0, "+0"), (7, "+7"), (1234, "+1234"), (u32::MAX, "+4294967295")] {
            let len = encode(b'+', pid, &mut buf);
            assert_eq!(&buf[..len], text.as_bytes());
        }
        let len = encode(b'-', 42, &mut buf);
        assert_eq!(&buf[..len], b"-42");
    }
}
