//! The sandbox on real processes: the launcher binary confines real commands, ends as they do,
//! and takes their process group with it when its parent dies.

use std::{
    error::Error,
    fs,
    net::TcpListener,
    os::unix::{
        fs::symlink,
        process::{CommandExt, ExitStatusExt},
    },
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

use omk_sandbox::{Policy, Sandbox};

type TestResult = Result<(), Box<dyn Error>>;

const LAUNCHER: &str = env!("CARGO_BIN_EXE_omk-sandbox-launcher");

fn sandbox(writable: &[&Path], network: bool) -> Sandbox {
    Sandbox {
        launcher: Some(PathBuf::from(LAUNCHER)),
        policy: Policy::confined(writable.iter().map(|it| it.to_path_buf()).collect(), network),
        env: Vec::new(),
        records: None,
    }
}

/// Runs `script` with `sh -c` under `sandbox`, in its own process group, as omk does.
fn run(sandbox: &Sandbox, script: &str) -> Result<ExitStatus, Box<dyn Error>> {
    let line = sandbox.command_line(&["sh".to_owned(), "-c".to_owned(), script.to_owned()]);
    let (program, args) = line.split_first().ok_or("empty command line")?;
    let status = Command::new(program)
        .args(args)
        .envs(sandbox.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .process_group(0)
        .status()?;
    Ok(status)
}

#[test]
fn a_confined_command_writes_only_beneath_its_writable_roots() -> TestResult {
    let inside = tempfile::tempdir()?;
    let outside = tempfile::tempdir()?;
    fs::write(outside.path().join("kept.txt"), "original\n")?;
    symlink(outside.path().join("through-link.txt"), inside.path().join("link"))?;
    let script = format!(
        "echo ok > {inside}/made.txt; echo pwned >> {outside}/kept.txt; \
         echo escaped > {outside}/new.txt; echo linked > {inside}/link; \
         echo quiet > /dev/null && echo devnull > {inside}/devnull.txt; exit 0",
        inside = inside.path().display(),
        outside = outside.path().display(),
    );
    let status = run(&sandbox(&[inside.path()], true), &script)?;
    assert!(status.success(), "{status}");
    assert_eq!(fs::read_to_string(inside.path().join("made.txt"))?, "ok\n");
    assert_eq!(fs::read_to_string(inside.path().join("devnull.txt"))?, "devnull\n");
    assert_eq!(fs::read_to_string(outside.path().join("kept.txt"))?, "original\n");
    assert!(!outside.path().join("new.txt").exists());
    assert!(!outside.path().join("through-link.txt").exists());
    Ok(())
}

#[test]
fn an_unconfined_policy_writes_anywhere() -> TestResult {
    let outside = tempfile::tempdir()?;
    let mut sandbox = sandbox(&[], true);
    sandbox.policy = Policy::unconfined();
    let status = run(&sandbox, &format!("echo free > {}/new.txt", outside.path().display()))?;
    assert!(status.success());
    assert_eq!(fs::read_to_string(outside.path().join("new.txt"))?, "free\n");
    Ok(())
}

#[test]
fn network_off_refuses_tcp_connect_and_on_allows_it() -> TestResult {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let script = format!("exec bash -c 'echo hi > /dev/tcp/127.0.0.1/{port}'");
    let refused = run(&sandbox(&[], false), &script)?;
    assert_eq!(refused.code(), Some(1), "{refused}");
    let allowed = run(&sandbox(&[], true), &script)?;
    assert!(allowed.success(), "{allowed}");
    Ok(())
}

#[test]
fn the_launcher_ends_as_the_command_did() -> TestResult {
    let sandbox = sandbox(&[], true);
    assert_eq!(run(&sandbox, "exit 3")?.code(), Some(3));
    let killed = run(&sandbox, "kill -TERM $$; sleep 5")?;
    assert_eq!(killed.signal(), Some(15), "{killed}");
    assert_eq!(run(&sandbox, "exec /no/such/program")?.code(), Some(127));
    Ok(())
}

#[test]
fn a_group_signal_reaches_the_command_once_and_the_launcher_reports_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sandbox = sandbox(&[dir.path()], true);
    let script = format!(
        "trap 'echo term >> {log}; exit 7' TERM; echo ready > {ready}; while :; do sleep 0.05; done",
        log = dir.path().join("log").display(),
        ready = dir.path().join("ready").display(),
    );
    let line = sandbox.command_line(&["sh".to_owned(), "-c".to_owned(), script]);
    let (program, args) = line.split_first().ok_or("empty command line")?;
    let mut child = Command::new(program).args(args).process_group(0).spawn()?;
    wait_for(|| dir.path().join("ready").exists())?;
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM)?;
    let status = child.wait()?;
    assert_eq!(status.code(), Some(7), "{status}");
    assert_eq!(fs::read_to_string(dir.path().join("log"))?, "term\n");
    Ok(())
}

#[test]
fn the_command_group_dies_within_a_second_of_its_parent() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    // A parent that is not the test: a shell that starts the launcher, then is killed -9.
    let inner = format!("echo $$ >> {0}; sleep 30 & echo $! >> {0}; wait", pids.display());
    let policy = Policy::confined(vec![dir.path().to_owned()], true);
    // The parent is the shell, whose pid it prints into the policy's template.
    let template = serde_json::to_string(&policy)?
        .replace(&format!("\"parent\":{}", policy.parent), "\"parent\":%d");
    let middle = r#""$L" __omk-sandbox run "$(printf "$POLICY" $$)" sh -c "$INNER"; :"#;
    let mut parent = Command::new("sh")
        .args(["-c", middle])
        .env("L", LAUNCHER)
        .env("POLICY", template)
        .env("INNER", inner)
        .process_group(0)
        .spawn()?;
    wait_for(|| fs::read_to_string(&pids).is_ok_and(|it| it.lines().count() == 2))?;
    let inner_pids: Vec<u32> =
        fs::read_to_string(&pids)?.lines().map(str::parse).collect::<Result<_, _>>()?;
    assert!(inner_pids.iter().all(|&pid| running(pid)));
    parent.kill()?;
    parent.wait()?;
    let killed = Instant::now();
    wait_for(|| inner_pids.iter().all(|&pid| !running(pid)))?;
    assert!(killed.elapsed() < Duration::from_secs(1), "took {:?}", killed.elapsed());
    Ok(())
}

#[test]
fn leftover_groups_are_killed_by_record_and_a_reused_pid_is_spared() -> TestResult {
    let records = tempfile::tempdir()?;
    let mut leftover =
        Command::new("sh").args(["-c", "sleep 30 & sleep 30"]).process_group(0).spawn()?;
    let guard = omk_sandbox::record_process(Some(records.path()), leftover.id())?;
    // The record stays when the guard is forgotten, as when omk is killed.
    std::mem::forget(guard);
    let stale = omk_sandbox::ProcessRecord { pid: std::process::id(), start_time: 1 };
    fs::write(records.path().join("stale.json"), serde_json::to_vec(&stale)?)?;
    let killed = omk_sandbox::kill_leftovers(records.path())?;
    assert_eq!(killed, vec![leftover.id()]);
    assert_eq!(leftover.wait()?.signal(), Some(9));
    assert_eq!(fs::read_dir(records.path())?.count(), 0);
    Ok(())
}

#[test]
fn a_record_is_removed_when_its_group_ends() -> TestResult {
    let records = tempfile::tempdir()?;
    let mut child = Command::new("true").spawn()?;
    let guard = omk_sandbox::record_process(Some(records.path()), child.id())?;
    assert_eq!(fs::read_dir(records.path())?.count(), 1);
    child.wait()?;
    drop(guard);
    assert_eq!(fs::read_dir(records.path())?.count(), 0);
    Ok(())
}

#[test]
fn probe_names_the_abi_or_why_there_is_none() {
    let support = omk_sandbox::probe(Path::new(LAUNCHER));
    // This machine and CI have Landlock; elsewhere the reason must say why not.
    assert!(support.abi.is_some() != support.reason.is_some(), "{support:?}");
}

/// Returns whether `pid` is a live process (a zombie is not).
fn running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|it| {
        it.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn wait_for(mut condition: impl FnMut() -> bool) -> TestResult {
    let started = Instant::now();
    while !condition() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("timed out waiting".into());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
