//! What a confined process may do ([`Policy`]), how a caller starts one ([`Sandbox`]), and what
//! the kernel supports ([`probe`]).

use std::{
    io,
    os::{fd::RawFd, unix::process::CommandExt},
    path::{Path, PathBuf},
    process::Command,
};

use crate::{
    records::{RecordGuard, record_process},
    rules,
};

/// What a sandboxed process may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Whether Landlock applies; `false` runs the command unconfined but still supervised (its
    /// process group dies with omk).
    pub confine: bool,
    /// The directories (and files) beneath which the command may write, besides
    /// [`DEVICES`](crate::DEVICES); paths that do not exist are left out.
    pub writable: Vec<PathBuf>,
    /// Whether the command may bind and connect TCP ports.
    pub network: bool,
}

impl Policy {
    /// Returns a policy that writes only beneath `writable`.
    pub fn confined(writable: Vec<PathBuf>, network: bool) -> Self {
        Self { confine: true, writable, network }
    }

    /// Returns a policy that confines nothing but still ends the command with this process.
    pub fn unconfined() -> Self {
        Self { confine: false, writable: Vec::new(), network: true }
    }
}

/// How a caller starts a process for a goal.
///
/// Each caller (agent, gate, worktree setup) starts its command with [`Sandbox::spawn`], giving
/// its directory, environment (ending with [`Sandbox::env`]) and standard streams, and keeps
/// the guard of [`Sandbox::supervise`] until the process group has ended. The command
/// leads a process group of its own, which the caller signals to stop it.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The program whose hidden `__omk-sandbox watch` mode watches this process (the `omk`
    /// binary); `None` starts commands directly, unconfined and unwatched, which only library
    /// tests do.
    pub watcher: Option<PathBuf>,
    /// What the command may do.
    pub policy: Policy,
    /// Variables set in the command's environment after the caller's own: the private temporary
    /// directory and the toolchain caches.
    pub env: Vec<(String, String)>,
    /// The directory where each running group's leader is recorded ([`crate::record_process`]),
    /// so a later run can end what a killed omk and watcher left; `None` keeps no record.
    pub records: Option<PathBuf>,
}

impl Sandbox {
    /// Returns a sandbox that starts commands directly: no watcher, no confinement, no record.
    pub fn direct() -> Self {
        Self { watcher: None, policy: Policy::unconfined(), env: Vec::new(), records: None }
    }

    /// Returns the command that runs `argv` (program first) under this sandbox, in a process
    /// group of its own: before it execs, the child registers with this process's watcher
    /// (started on first use) and, when the policy confines, applies the policy's Landlock
    /// ruleset to itself. A child that cannot do either fails to spawn instead of running.
    pub fn command(&self, argv: &[String]) -> io::Result<Command> {
        let (program, args) = argv.split_first().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the command line is empty")
        })?;
        let mut command = Command::new(program);
        command.args(args).process_group(0);
        let Some(watcher) = &self.watcher else { return Ok(command) };
        let socket = crate::watcher::socket(watcher)?;
        let ruleset = if self.policy.confine {
            let ruleset = rules::ruleset(&self.policy)
                .map_err(|err| io::Error::other(omk_events::error_chain(&err)))?;
            Some(ruleset)
        } else {
            None
        };
        crate::child::prepare(&mut command, Some(socket), ruleset);
        Ok(command)
    }

    /// Supervises the group led by `pid`, which [`Sandbox::command`] started, until the guard
    /// is dropped: records it for [`crate::kill_leftovers`] and, on drop, removes the record and
    /// tells the watcher the group has ended. Drop the guard only after the group has ended.
    pub fn supervise(&self, pid: u32) -> io::Result<Supervised> {
        let record = record_process(self.records.as_deref(), pid)?;
        let watcher = match &self.watcher {
            Some(watcher) => Some(crate::watcher::socket(watcher)?),
            None => None,
        };
        Ok(Supervised { pid, watcher, _record: record })
    }

    /// Returns whether commands run confined by Landlock.
    pub fn is_confined(&self) -> bool {
        self.watcher.is_some() && self.policy.confine
    }

    /// Returns this sandbox with `root` as its first writable root, for a command that works in
    /// another worktree (a team slice's, a re-verification's scratch worktree).
    pub fn for_worktree(&self, root: &Path) -> Self {
        let mut sandbox = self.clone();
        sandbox.policy.writable.insert(0, root.to_owned());
        sandbox
    }
}

/// A running group under supervision: see [`Sandbox::supervise`].
#[derive(Debug)]
pub struct Supervised {
    pid: u32,
    watcher: Option<RawFd>,
    _record: RecordGuard,
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(socket) = self.watcher {
            crate::watcher::release(socket, self.pid);
        }
    }
}

/// What the kernel offers for confinement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Support {
    /// The Landlock ABI version the kernel supports, or `None` without Landlock.
    pub abi: Option<u32>,
    /// Why there is no Landlock, when there is none.
    pub reason: Option<String>,
}

impl Support {
    /// Returns whether the network rules (TCP bind and connect, ABI 4) can be enforced.
    pub fn network_enforceable(&self) -> bool {
        self.abi.is_some_and(|abi| abi >= 4)
    }
}

/// The variable that makes [`probe`] report no Landlock, for tests of what omk does then.
const SIMULATE_NO_LANDLOCK: &str = "OMK_TEST_NO_LANDLOCK";

/// Returns what the kernel offers: the Landlock ABI it supports, or why there is none.
///
/// `OMK_TEST_NO_LANDLOCK` set to a non-empty value reports no Landlock without asking: tests
/// use it to see what omk does on a kernel without it.
pub fn probe() -> Support {
    if std::env::var_os(SIMULATE_NO_LANDLOCK).is_some_and(|it| !it.is_empty()) {
        return Support {
            abi: None,
            reason: Some(format!("{SIMULATE_NO_LANDLOCK} is set (a test simulates it)")),
        };
    }
    match crate::child::landlock_abi() {
        Ok(abi) => Support { abi: Some(abi), reason: None },
        Err(reason) => Support { abi: None, reason: Some(reason) },
    }
}
