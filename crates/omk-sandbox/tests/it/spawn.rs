//! `Sandbox::spawn` on real processes: the command gets exactly its directory, environment,
//! streams and signal state, ends as it would alone, is confined and watched like a `Command`'s
//! child, and is never left running or unreaped.

use std::{
    ffi::OsString,
    fs,
    io::{self, Read as _, Write as _},
    os::{fd::OwnedFd, unix::process::ExitStatusExt},
    path::Path,
    process::ExitStatus,
    time::Duration,
};

use omk_sandbox::{Child, Sandbox, Spawn};

use super::{
    TestResult, children_of, group_dies_within_a_second_of_its_parent, running, sandbox, wait_for,
};

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs.iter().map(|(name, value)| (name.into(), value.into())).collect()
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|it| (*it).to_owned()).collect()
}

/// A spawn of `argv` in `cwd` with `PATH` only, output and errors to one pipe.
fn spawn_of(argv: Vec<String>, cwd: &Path) -> io::Result<(Spawn, io::PipeReader)> {
    let (reader, writer) = io::pipe()?;
    let spawn = Spawn {
        argv,
        cwd: cwd.to_owned(),
        env: env(&[("PATH", "/usr/bin:/bin")]),
        stdin: None,
        stdout: Some(writer.try_clone()?.into()),
        stderr: Some(writer.into()),
    };
    Ok((spawn, reader))
}

/// Spawns `spawn`, waits for it, and returns its status and everything it wrote.
fn run_to_end(
    sandbox: &Sandbox,
    spawn: Spawn,
    output: io::PipeReader,
) -> io::Result<(ExitStatus, String)> {
    let mut child = sandbox.spawn(spawn)?;
    let _supervised = sandbox.supervise(child.id())?;
    let status = runtime()?.block_on(child.wait())?;
    let mut text = String::new();
    let mut output = output;
    output.read_to_string(&mut text)?;
    Ok((status, text))
}

fn sh(script: &str) -> Vec<String> {
    argv(&["sh", "-c", script])
}

#[test]
fn the_command_gets_exactly_its_directory_environment_and_streams() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (stdin_reader, mut stdin_writer) = io::pipe()?;
    stdin_writer.write_all(b"from stdin\n")?;
    drop(stdin_writer);
    let (mut spawn, output) =
        spawn_of(sh("pwd; echo \"$A ${HOME-no home}\"; cat; echo to stderr >&2"), dir.path())?;
    // Of two entries with one name the later wins; nothing of this process is inherited.
    spawn.env.extend(env(&[("A", "first"), ("A", "second")]));
    spawn.stdin = Some(OwnedFd::from(stdin_reader));
    let (status, text) = run_to_end(&sandbox(&[], true), spawn, output)?;
    assert!(status.success(), "{status}");
    let cwd = fs::canonicalize(dir.path())?;
    assert_eq!(text, format!("{}\nsecond no home\nfrom stdin\nto stderr\n", cwd.display()));
    Ok(())
}

#[test]
fn an_inherited_environment_is_omks_then_the_callers_then_the_sandboxs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut sandbox = sandbox(&[], true);
    sandbox.env = vec![("TMPDIR".to_owned(), "/sandbox/tmp".to_owned())];
    let extra = [
        ("OMK_TEST_EXTRA".to_owned(), "extra".to_owned()),
        ("TMPDIR".to_owned(), "/caller/tmp".to_owned()),
    ];
    let (mut spawn, output) = spawn_of(sh("echo \"$HOME|$OMK_TEST_EXTRA|$TMPDIR\""), dir.path())?;
    spawn.env = sandbox.inherited_env(&extra);
    let (status, text) = run_to_end(&sandbox, spawn, output)?;
    assert!(status.success(), "{status}");
    // HOME comes from this process; the sandbox's TMPDIR wins over the caller's.
    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(text, format!("{home}|extra|/sandbox/tmp\n"));
    Ok(())
}

#[test]
fn a_script_without_a_hash_bang_line_runs_with_the_shell_as_execvp_runs_it() -> TestResult {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("check");
    fs::write(&script, "echo \"script $1\"\nexit 6\n")?;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
    let (mut spawn, output) = spawn_of(argv(&["check", "one"]), dir.path())?;
    spawn.env = env(&[("PATH", &format!("/nowhere:{}", dir.path().display()))]);
    let (status, text) = run_to_end(&sandbox(&[], true), spawn, output)?;
    assert_eq!((status.code(), text.as_str()), (Some(6), "script one\n"));
    Ok(())
}

#[test]
fn the_command_ends_as_it_would_alone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sandbox = sandbox(&[], true);
    let (spawn, output) = spawn_of(sh("exit 3"), dir.path())?;
    assert_eq!(run_to_end(&sandbox, spawn, output)?.0.code(), Some(3));
    let (spawn, output) = spawn_of(sh("kill -TERM $$; sleep 5"), dir.path())?;
    assert_eq!(run_to_end(&sandbox, spawn, output)?.0.signal(), Some(15));
    Ok(())
}

#[test]
fn a_command_that_cannot_start_is_an_error_naming_why() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sandbox = sandbox(&[], true);
    let error = |argv: Vec<String>, cwd: &Path, path: &str| -> io::Result<io::Error> {
        let (mut spawn, _output) = spawn_of(argv, cwd)?;
        spawn.env = env(&[("PATH", path)]);
        sandbox.spawn(spawn).err().ok_or_else(|| io::Error::other("it started"))
    };
    let missing = error(argv(&["/no/such/program"]), dir.path(), "/bin")?;
    assert_eq!(missing.kind(), io::ErrorKind::NotFound, "{missing}");
    let nowhere = error(argv(&["no-such-program-anywhere"]), dir.path(), "/bin:/usr/bin")?;
    assert_eq!(nowhere.kind(), io::ErrorKind::NotFound, "{nowhere}");
    // Found in PATH but not executable, as execvp reports it.
    fs::write(dir.path().join("tool"), "#!/bin/sh\n")?;
    let denied = error(argv(&["tool"]), dir.path(), &format!("/nowhere:{}", dir.path().display()))?;
    assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied, "{denied}");
    let gone = dir.path().join("gone");
    let no_dir = error(argv(&["true"]), &gone, "/bin:/usr/bin")?;
    assert_eq!(no_dir.kind(), io::ErrorKind::NotFound, "{no_dir}");
    assert!(no_dir.to_string().contains("could not change to the working directory"), "{no_dir}");
    let empty = error(Vec::new(), dir.path(), "/bin")?;
    assert_eq!(empty.kind(), io::ErrorKind::InvalidInput, "{empty}");
    let nul = error(argv(&["echo", "a\0b"]), dir.path(), "/bin")?;
    assert_eq!(nul.kind(), io::ErrorKind::InvalidInput, "{nul}");
    // Each child that failed was reaped: none is left as a zombie of this process.
    assert_eq!(zombie_children(), Vec::<u32>::new());
    Ok(())
}

#[test]
fn the_command_starts_with_no_signal_blocked_and_sigpipe_default() -> TestResult {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
    let dir = tempfile::tempdir()?;
    // This thread blocks a signal and (as every Rust program) ignores SIGPIPE.
    let mut blocked = SigSet::empty();
    blocked.add(Signal::SIGUSR2);
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&blocked), None)?;
    let (spawn, output) = spawn_of(argv(&["cat", "/proc/self/status"]), dir.path())?;
    let (status, text) = run_to_end(&sandbox(&[], true), spawn, output)?;
    assert!(status.success(), "{status}");
    let field = |name: &str| -> Result<u64, Box<dyn std::error::Error>> {
        let line = text.lines().find(|it| it.starts_with(name)).ok_or(format!("no {name}"))?;
        Ok(u64::from_str_radix(line[name.len()..].trim(), 16)?)
    };
    assert_eq!(field("SigBlk:")?, 0, "{text}");
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    assert_eq!(field("SigIgn:")? & sigpipe, 0, "{text}");
    Ok(())
}

#[test]
fn a_spawned_command_is_confined_like_a_commands_child() -> TestResult {
    let inside = tempfile::tempdir()?;
    let outside = tempfile::tempdir()?;
    let script = format!(
        "echo ok > {inside}/made.txt; echo escaped > {outside}/new.txt; exit 0",
        inside = inside.path().display(),
        outside = outside.path().display(),
    );
    let (spawn, output) = spawn_of(sh(&script), inside.path())?;
    let (status, _) = run_to_end(&sandbox(&[inside.path()], true), spawn, output)?;
    assert!(status.success(), "{status}");
    assert_eq!(fs::read_to_string(inside.path().join("made.txt"))?, "ok\n");
    assert!(!outside.path().join("new.txt").exists());
    Ok(())
}

#[test]
fn a_spawned_group_dies_within_a_second_of_its_parent() -> TestResult {
    group_dies_within_a_second_of_its_parent("spawn-parent")
}

/// The role of [`a_spawned_group_dies_within_a_second_of_its_parent`]'s parent: starts a group
/// of two with `Sandbox::spawn` and waits until the test kills it with SIGKILL.
pub(crate) fn spawn_parent(sandbox: &Sandbox, dir: &Path) -> TestResult {
    let script =
        format!("echo $$ >> {0}; sleep 30 & echo $! >> {0}; wait", dir.join("pids").display());
    let (spawn, _output) = spawn_of(sh(&script), dir)?;
    let mut child = sandbox.spawn(spawn)?;
    let _supervised = sandbox.supervise(child.id())?;
    runtime()?.block_on(child.wait())?;
    Ok(())
}

/// Starts `sh` in `dir` with a `sleep 30` in the background of its group, then `then` (such as
/// `wait`); returns the child and the sleep's pid, once the shell has written it.
fn with_member(
    sandbox: &Sandbox,
    dir: &Path,
    then: &str,
) -> Result<(Child, u32), Box<dyn std::error::Error>> {
    let member = dir.join("member");
    let script = format!("sleep 30 & echo $! > {}; {then}", member.display());
    let (spawn, _output) = spawn_of(sh(&script), dir)?;
    let child = sandbox.spawn(spawn)?;
    wait_for(|| fs::read_to_string(&member).is_ok_and(|it| it.ends_with('\n')))?;
    Ok((child, fs::read_to_string(&member)?.trim().parse()?))
}

#[test]
fn a_child_dropped_unwaited_is_killed_with_its_group_and_reaped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (child, member) = with_member(&sandbox(&[dir.path()], true), dir.path(), "wait")?;
    let pid = child.id();
    assert!(running(pid) && running(member));
    drop(child);
    // The leader is gone from /proc altogether (killed and reaped, not a zombie), and so is the
    // rest of its group.
    wait_for(|| !Path::new(&format!("/proc/{pid}")).exists() && !running(member))?;
    Ok(())
}

#[test]
fn waiting_for_the_leader_ends_what_it_left_in_its_group() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (mut child, member) = with_member(&sandbox(&[dir.path()], true), dir.path(), "exit 0")?;
    let status = runtime()?.block_on(child.wait())?;
    assert!(status.success(), "{status}");
    wait_for(|| !running(member))?;
    Ok(())
}

#[test]
fn end_kills_the_whole_group_and_wait_blocking_needs_no_runtime() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sandbox = sandbox(&[dir.path()], true);
    let (mut child, member) = with_member(&sandbox, dir.path(), "wait")?;
    let ended = child.end()?;
    assert_eq!(ended.signal(), Some(9), "{ended}");
    wait_for(|| !running(member))?;
    // Asked again, it keeps the status it ended with.
    assert_eq!(child.end()?.signal(), Some(9));
    let (spawn, _output) = spawn_of(sh("exit 5"), dir.path())?;
    assert_eq!(sandbox.spawn(spawn)?.wait_blocking()?.code(), Some(5));
    Ok(())
}

#[test]
fn concurrent_spawns_from_many_threads_keep_their_own_streams() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sandbox = sandbox(&[dir.path()], true);
    // Long sleepers started beside the others: a write end of another command's pipe that
    // leaked into one of them would hold that pipe open for 20 s.
    let mut sleepers = Vec::new();
    for _ in 0..4 {
        let (spawn, _output) = spawn_of(argv(&["sleep", "20"]), dir.path())?;
        sleepers.push(sandbox.spawn(spawn)?);
    }
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let (sandbox, cwd) = (sandbox.clone(), dir.path().to_owned());
            std::thread::spawn(move || -> Result<(), String> {
                for round in 0..25 {
                    let token = format!("{thread}-{round}");
                    let (spawn, output) =
                        spawn_of(argv(&["echo", &token]), &cwd).map_err(|err| err.to_string())?;
                    let (sleeper_spawn, _sleeper_output) =
                        spawn_of(argv(&["sleep", "20"]), &cwd).map_err(|err| err.to_string())?;
                    let mut child = sandbox.spawn(spawn).map_err(|err| err.to_string())?;
                    // Another long sleeper, started between this command's spawn and its read.
                    let sleeper = sandbox.spawn(sleeper_spawn).map_err(|err| err.to_string())?;
                    let started = std::time::Instant::now();
                    let mut text = String::new();
                    let mut output = output;
                    output.read_to_string(&mut text).map_err(|err| err.to_string())?;
                    if started.elapsed() > Duration::from_secs(10) || text != format!("{token}\n") {
                        return Err(format!("{token}: read {text:?} in {:?}", started.elapsed()));
                    }
                    let status = child.wait_blocking().map_err(|err| err.to_string())?;
                    if !status.success() {
                        return Err(format!("{token}: {status}"));
                    }
                    drop(sleeper);
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a spawning thread panicked")??;
    }
    drop(sleepers);
    // A dropped child still running is reaped on a thread of its own once its kill lands.
    wait_for(|| zombie_children().is_empty())?;
    Ok(())
}

#[test]
fn waiting_is_cancel_safe() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (spawn, _output) = spawn_of(sh("sleep 0.3; exit 4"), dir.path())?;
    let mut child: Child = sandbox(&[], true).spawn(spawn)?;
    let runtime = runtime()?;
    let first = runtime
        .block_on(async { tokio::time::timeout(Duration::from_millis(20), child.wait()).await });
    assert!(first.is_err(), "the command ended within 20 ms: {first:?}");
    assert_eq!(child.try_wait()?, None);
    let status = runtime.block_on(child.wait())?;
    assert_eq!(status.code(), Some(4));
    // Asked again, it keeps its status.
    assert_eq!(child.try_wait()?.and_then(|it| it.code()), Some(4));
    Ok(())
}

/// The pids of this process's children that are zombies.
fn zombie_children() -> Vec<u32> {
    // A child that is no longer running but still has its /proc entry is a zombie.
    children_of(std::process::id())
        .into_iter()
        .filter(|&pid| !running(pid) && Path::new(&format!("/proc/{pid}")).exists())
        .collect()
}
