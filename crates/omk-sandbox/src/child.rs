//! The only code of omk that runs between `fork` and `exec`, and the only `unsafe` code of the
//! workspace (`cargo xtask tidy` checks both).
//!
//! A sandboxed command is confined and registered with the watcher in its own process, after the
//! fork and before the exec: a separate launcher process would cost an exec of the `omk` binary
//! per command, several times the cost of a small command itself. Between fork and exec only
//! async-signal-safe work is allowed (the parent may have other threads, holding locks the child
//! inherits locked), so the hook below makes four system calls on values prepared before the
//! fork, allocates nothing and takes no lock.

#![expect(unsafe_code, reason = "a pre_exec hook and raw system calls; see the module's docs")]

use std::{
    io,
    os::{
        fd::{AsRawFd, OwnedFd, RawFd},
        unix::process::CommandExt,
    },
    process::Command,
    sync::Arc,
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
            let mut message = [0u8; MESSAGE_MAX];
            let pid = std::process::id();
            let len = encode(b'+', pid, &mut message);
            send(socket, &message[..len])?;
        }
        if let Some(ruleset) = &ruleset {
            // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes integer arguments only.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: landlock_restrict_self takes a descriptor, which the closure shares and
            // keeps open, and flags.
            let restricted =
                unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0) };
            if restricted != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook is async-signal-safe: `std::process::id` is `getpid`, `send`, `prctl` and
    // `landlock_restrict_self` are system calls, the buffers are on the stack, and an error is an
    // OS error code (`io::Error` stores it without allocating).
    unsafe {
        command.pre_exec(hook);
    }
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
