//! Starting a command without forking omk ([`Sandbox::spawn`]), and waiting for it ([`Child`]).
//!
//! [`Sandbox::command`] gives a std `Command`, which std starts with a `fork` because of its
//! pre-exec hook: the multi-threaded omk's page tables are copied, and both sides take
//! copy-on-write faults until the child execs, as long as a small command's whole run.
//! [`Sandbox::spawn`] starts the same command, registered and confined the same way, with a
//! vfork-style clone (`child.rs`) and follows it with a pidfd, which a tokio reactor polls.
//! Kernels without pidfds for waiting (before Linux 5.4) get the `Command` path instead.

use std::{
    collections::BTreeMap,
    ffi::{CString, OsStr, OsString, c_char},
    fs::File,
    io,
    os::{
        fd::{AsFd, OwnedFd},
        unix::{ffi::OsStrExt, process::ExitStatusExt},
    },
    path::PathBuf,
    process::{ExitStatus, Stdio},
    sync::OnceLock,
};

use nix::{
    errno::Errno,
    sys::{
        signal::{Signal, killpg},
        wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid},
    },
    unistd::Pid,
};
use tokio::io::unix::AsyncFd;

use crate::{Sandbox, child, records::kill_group, rules};

/// The `PATH` a command gets when its environment has none, as `execvp` uses.
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// A command for [`Sandbox::spawn`].
#[derive(Debug)]
pub struct Spawn {
    /// The program and its arguments. A program without a slash is looked up in the `PATH` of
    /// `env`, as `execvp` would.
    pub argv: Vec<String>,
    /// The working directory.
    pub cwd: PathBuf,
    /// The command's whole environment (nothing is inherited); of two entries with one name,
    /// the later one wins.
    pub env: Vec<(OsString, OsString)>,
    /// Standard input; `None` reads `/dev/null`.
    pub stdin: Option<OwnedFd>,
    /// Standard output; `None` writes to `/dev/null`.
    pub stdout: Option<OwnedFd>,
    /// Standard error; `None` writes to `/dev/null`.
    pub stderr: Option<OwnedFd>,
}

/// A command started by [`Sandbox::spawn`], leader of its own process group.
///
/// When its leader ends, waiting for it kills the rest of its group ([`Child::try_wait`]);
/// dropped before that, it kills the whole group and reaps the leader. The caller stops it
/// earlier with [`Child::signal_group`].
#[derive(Debug)]
pub struct Child {
    pid: u32,
    /// The leader's status, once it is reaped; from then on its id may be another process's.
    status: Option<ExitStatus>,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// Started by the clone.
    Pidfd(PidFd),
    /// Started by std's `Command` (the fallback).
    Forked(std::process::Child),
}

#[derive(Debug)]
enum PidFd {
    Plain(OwnedFd),
    Polled(AsyncFd<OwnedFd>),
}

impl PidFd {
    fn fd(&self) -> &OwnedFd {
        match self {
            Self::Plain(fd) => fd,
            Self::Polled(fd) => fd.get_ref(),
        }
    }
}

/// How [`Sandbox::spawn_by`] starts a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Clone,
    Fork,
}

impl Sandbox {
    /// Returns the environment of a command that inherits omk's: omk's own variables, then
    /// `extra`, then this sandbox's ([`Sandbox::env`]); of two entries with one name, the later
    /// wins.
    pub fn inherited_env(&self, extra: &[(String, String)]) -> Vec<(OsString, OsString)> {
        let set = extra.iter().chain(&self.env).map(|(name, value)| (name.into(), value.into()));
        std::env::vars_os().chain(set).collect()
    }

    /// Starts `spawn` under this sandbox, as [`Sandbox::command`] would (own process group,
    /// registered with the watcher, confined by the policy) but without copying omk: on a
    /// kernel with pidfds (Linux 5.4 or later) by a vfork-style clone, otherwise through
    /// [`Sandbox::command`].
    ///
    /// Returns once the command has exec'd; a program that cannot be found or run, a directory
    /// that cannot be entered, or a child that cannot register or confine itself is an error.
    /// Call [`Sandbox::supervise`] with [`Child::id`] as with a `Command`'s child. Needs no
    /// runtime; only [`Child::wait`] does.
    pub fn spawn(&self, spawn: Spawn) -> io::Result<Child> {
        let method = if pidfds_work() { Method::Clone } else { Method::Fork };
        self.spawn_by(spawn, method)
    }

    pub(crate) fn spawn_by(&self, spawn: Spawn, method: Method) -> io::Result<Child> {
        if spawn.argv.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the command line is empty"));
        }
        match method {
            Method::Clone => self.spawn_by_clone(spawn),
            Method::Fork => self.spawn_by_fork(spawn),
        }
    }

    fn spawn_by_clone(&self, spawn: Spawn) -> io::Result<Child> {
        let watcher = self.watcher.as_deref().map(crate::watcher::socket).transpose()?;
        let ruleset = match (&watcher, self.policy.confine) {
            (Some(_), true) => Some(
                rules::ruleset(&self.policy)
                    .map_err(|err| io::Error::other(omk_events::error_chain(&err)))?,
            ),
            _ => None,
        };
        let env = environment(&spawn.env);
        let argv = spawn
            .argv
            .iter()
            .map(|it| c_string(it.as_bytes(), "an argument"))
            .collect::<io::Result<Vec<_>>>()?;
        let envp = env
            .iter()
            .map(|(name, value)| {
                let mut entry = name.as_bytes().to_vec();
                entry.push(b'=');
                entry.extend_from_slice(value.as_bytes());
                c_string(&entry, "an environment variable")
            })
            .collect::<io::Result<Vec<_>>>()?;
        let candidates =
            candidates(&spawn.argv[0], env.get(OsStr::new("PATH")).map(OsString::as_os_str))?;
        let cwd = c_string(spawn.cwd.as_os_str().as_bytes(), "the working directory")?;
        let null = |fd: Option<OwnedFd>, write: bool| -> io::Result<OwnedFd> {
            match fd {
                Some(fd) => Ok(fd),
                None => Ok(File::options().read(!write).write(write).open("/dev/null")?.into()),
            }
        };
        let stdin = null(spawn.stdin, false)?;
        let stdout = null(spawn.stdout, true)?;
        let stderr = null(spawn.stderr, true)?;
        let shell = c"/bin/sh";
        let as_scripts: Vec<Vec<*const c_char>> = candidates
            .iter()
            .map(|candidate| {
                let rest = argv[1..].iter().map(|it| it.as_ptr());
                [shell.as_ptr(), candidate.as_ptr()]
                    .into_iter()
                    .chain(rest)
                    .chain(std::iter::once(std::ptr::null()))
                    .collect()
            })
            .collect();
        let argv_ptrs = pointers(&argv);
        let envp_ptrs = pointers(&envp);
        let exec = child::Exec {
            candidates: &candidates,
            as_scripts: &as_scripts,
            argv: &argv_ptrs,
            envp: &envp_ptrs,
            cwd: &cwd,
            stdio: [stdin.as_fd(), stdout.as_fd(), stderr.as_fd()],
            watcher,
            ruleset: ruleset.as_ref().map(|it| it.as_fd()),
        };
        let (pid, fd) = child::clone_exec(&exec)?;
        Ok(Child { pid, status: None, inner: Inner::Pidfd(PidFd::Plain(fd)) })
    }

    fn spawn_by_fork(&self, spawn: Spawn) -> io::Result<Child> {
        let mut command = self.command(&spawn.argv)?;
        let stdio = |fd: Option<OwnedFd>| fd.map_or_else(Stdio::null, Stdio::from);
        command
            .current_dir(&spawn.cwd)
            .env_clear()
            .envs(environment(&spawn.env))
            .stdin(stdio(spawn.stdin))
            .stdout(stdio(spawn.stdout))
            .stderr(stdio(spawn.stderr));
        let child = command.spawn()?;
        Ok(Child { pid: child.id(), status: None, inner: Inner::Forked(child) })
    }
}

impl Child {
    /// The leader's pid, which is also its process group's id.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Returns the leader's status if it has ended, reaping it; `None` while it runs.
    ///
    /// When the leader has ended, this first kills what is left of its process group: no
    /// process of a command outlives its leader. It does so before reaping the leader, whose
    /// pid (the group's id) the kernel cannot give to another process until then, so the kill
    /// never hits a group that is not the command's. (The fallback for kernels without pidfds
    /// can only kill the group after std reaped the leader.)
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.wait_with(WaitPidFlag::WNOHANG)
    }

    /// Waits for the leader to end, blocking this thread, and returns its status; ends the rest
    /// of the group as [`Child::try_wait`] does.
    pub fn wait_blocking(&mut self) -> io::Result<ExitStatus> {
        self.wait_with(WaitPidFlag::empty())?.ok_or_else(lost)
    }

    /// Kills the command's whole group, its leader included, and reaps the leader; returns the
    /// leader's status (a command that had already ended gives the status it ended with). The
    /// kill comes before the reaping, so it never hits a reused group id.
    pub fn end(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        kill_group(self.pid);
        self.wait_blocking()
    }

    /// Sends `signal` to the command's whole group while its leader is not reaped (until then
    /// the group's id is the command's); afterwards the group has ended with its leader, and
    /// nothing is sent.
    pub fn signal_group(&self, signal: Signal) {
        if self.status.is_none()
            && let Ok(pgid) = i32::try_from(self.pid)
        {
            // ESRCH means the group is already gone, which is the goal.
            killpg(Pid::from_raw(pgid), signal).ok();
        }
    }

    fn wait_with(&mut self, hang: WaitPidFlag) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = match &mut self.inner {
            Inner::Forked(child) => {
                let status =
                    if hang.is_empty() { Some(child.wait()?) } else { child.try_wait()? };
                let Some(status) = status else { return Ok(None) };
                // std has reaped the leader: the fallback can end the group only now.
                kill_group(self.pid);
                status
            }
            Inner::Pidfd(pidfd) => {
                // Seen, not yet reaped.
                if reap(pidfd.fd(), hang | WaitPidFlag::WNOWAIT)?.is_none() {
                    return Ok(None);
                }
                kill_group(self.pid);
                reap(pidfd.fd(), WaitPidFlag::WNOHANG)?.ok_or_else(|| {
                    io::Error::other("the command's leader ended but was not reaped")
                })?
            }
        };
        self.status = Some(status);
        Ok(Some(status))
    }

    /// Waits for the leader to end and returns its status; ends the rest of the group as
    /// [`Child::try_wait`] does. Cancel-safe: dropping the future loses nothing, and a later
    /// call waits on. Needs a tokio runtime with I/O and time enabled.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            let pidfd = match &mut self.inner {
                // The fallback has no descriptor to wait on: it asks again shortly.
                Inner::Forked(_) => {
                    tokio::time::sleep(FORKED_POLL).await;
                    continue;
                }
                Inner::Pidfd(pidfd) => pidfd,
            };
            if let PidFd::Plain(plain) = pidfd {
                // Registered with the reactor on the first wait: a child may be spawned where
                // no runtime runs, and waited for where one does.
                let fd = plain.try_clone()?;
                *pidfd = PidFd::Polled(child::poll_pidfd(fd)?);
            }
            if let PidFd::Polled(polled) = pidfd {
                // A pidfd reads ready once its process has ended.
                polled.readable().await?.clear_ready();
            }
        }
    }
}

/// How often [`Child::wait`] asks again after a command started by the fallback.
const FORKED_POLL: std::time::Duration = std::time::Duration::from_millis(5);

fn lost() -> io::Error {
    io::Error::other("the command's status was lost")
}

impl Drop for Child {
    /// Kills the whole group of a command not yet reaped (the leader included), then reaps the
    /// leader, off the caller's thread if it has not ended yet.
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        // Not yet reaped, so the group's id is still this command's.
        kill_group(self.pid);
        let pid = Pid::from_raw(self.pid.cast_signed());
        if matches!(waitpid(pid, Some(WaitPidFlag::WNOHANG)), Ok(WaitStatus::StillAlive)) {
            std::thread::spawn(move || waitpid(pid, None));
        }
    }
}

/// Returns the status of the process of `pidfd` if it has ended (or, without `WNOHANG`, once
/// it ends), reaping it unless `flags` has `WNOWAIT`.
fn reap(pidfd: &OwnedFd, flags: WaitPidFlag) -> io::Result<Option<ExitStatus>> {
    loop {
        return match waitid(Id::PIDFd(pidfd.as_fd()), WaitPidFlag::WEXITED | flags) {
            Ok(WaitStatus::Exited(_, code)) => Ok(Some(ExitStatus::from_raw((code & 0xff) << 8))),
            Ok(WaitStatus::Signaled(_, signal, core)) => {
                Ok(Some(ExitStatus::from_raw(signal as i32 | if core { 0x80 } else { 0 })))
            }
            Ok(_) => Ok(None),
            Err(Errno::EINTR) => continue,
            Err(err) => Err(err.into()),
        };
    }
}

/// Whether this kernel has what [`Method::Clone`] needs: `CLONE_PIDFD` (Linux 5.2), polling a
/// pidfd (5.3) and `waitid(P_PIDFD)` (5.4). Asked once per process.
fn pidfds_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        // Our own pidfd: waiting on it fails with ECHILD where P_PIDFD is known (we are not our
        // own child), with EINVAL where it is not.
        let Ok(own) = child::pidfd_open(std::process::id()) else { return false };
        matches!(
            waitid(Id::PIDFd(own.as_fd()), WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG),
            Err(Errno::ECHILD)
        )
    })
}

/// The environment with later entries winning.
fn environment(env: &[(OsString, OsString)]) -> BTreeMap<OsString, OsString> {
    env.iter().cloned().collect()
}

fn c_string(bytes: &[u8], what: &str) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{what} holds a NUL byte, which no command can be given: {}",
                String::from_utf8_lossy(bytes)
            ),
        )
    })
}

/// The paths `execvp` would try for `program`: itself when it names a directory, otherwise one
/// per entry of `path` (an empty entry is the working directory).
fn candidates(program: &str, path: Option<&OsStr>) -> io::Result<Vec<CString>> {
    if program.contains('/') {
        return Ok(vec![c_string(program.as_bytes(), "the program")?]);
    }
    if program.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the program's name is empty"));
    }
    let path = path.map_or(DEFAULT_PATH.as_bytes(), OsStrExt::as_bytes);
    path.split(|it| *it == b':')
        .map(|dir| {
            let mut candidate = dir.to_vec();
            if !candidate.is_empty() {
                candidate.push(b'/');
            }
            candidate.extend_from_slice(program.as_bytes());
            c_string(&candidate, "the program's path")
        })
        .collect()
}

/// The pointers of `strings`, ending with a null pointer, as `execve` takes them.
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|it| it.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn candidates_are_the_paths_execvp_tries() -> io::Result<()> {
        let strings = |it: Vec<CString>| -> Vec<String> {
            it.into_iter().map(|it| it.to_string_lossy().into_owned()).collect()
        };
        assert_eq!(strings(candidates("./run.sh", Some(OsStr::new("/p")))?), ["./run.sh"]);
        assert_eq!(strings(candidates("x", Some(OsStr::new("/p::/q")))?), ["/p/x", "x", "/q/x"]);
        assert_eq!(strings(candidates("x", None)?), ["/bin/x", "/usr/bin/x"]);
        assert_eq!(
            candidates("", None).err().map(|it| it.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
        Ok(())
    }

    /// The fallback for kernels without pidfds starts the same command, seen the same way.
    #[test]
    fn both_methods_start_the_same_command() -> io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let dir = std::env::temp_dir();
        let _context = runtime.enter();
        let mut seen = Vec::new();
        for method in [Method::Clone, Method::Fork] {
            let (mut reader, writer) = io::pipe()?;
            let spawn = Spawn {
                argv: ["sh", "-c", "echo \"$A\"; pwd; exit 5"].map(str::to_owned).to_vec(),
                cwd: dir.clone(),
                env: vec![("A".into(), "one".into()), ("A".into(), "two".into())],
                stdin: None,
                stdout: Some(writer.into()),
                stderr: None,
            };
            let mut child = Sandbox::direct().spawn_by(spawn, method)?;
            let status = runtime.block_on(child.wait())?;
            let mut text = String::new();
            reader.read_to_string(&mut text)?;
            seen.push((status.code(), text));
        }
        let expected = (Some(5), format!("two\n{}\n", std::fs::canonicalize(&dir)?.display()));
        assert_eq!(seen, [expected.clone(), expected]);
        Ok(())
    }
}
