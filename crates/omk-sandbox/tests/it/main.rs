//! The sandbox on real processes: it confines real commands, which end as they would alone, and
//! its watcher takes their process groups with it when the process that started them dies.

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

mod spawn;

type TestResult = Result<(), Box<dyn Error>>;

const WATCHER: &str = env!("CARGO_BIN_EXE_omk-sandbox-watcher");

fn sandbox(writable: &[&Path], network: bool) -> Sandbox {
    Sandbox {
        watcher: Some(PathBuf::from(WATCHER)),
        policy: Policy::confined(writable.iter().map(|it| it.to_path_buf()).collect(), network),
        env: Vec::new(),
        records: None,
    }
}

/// Runs `script` with `sh -c` under `sandbox`, in its own process group, as omk does.
fn run(sandbox: &Sandbox, script: &str) -> Result<ExitStatus, Box<dyn Error>> {
    let mut command = sandbox.command(&["sh".to_owned(), "-c".to_owned(), script.to_owned()])?;
    let mut child =
        command.envs(sandbox.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null()).spawn()?;
    let _supervised = sandbox.supervise(child.id())?;
    Ok(child.wait()?)
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
fn a_sandboxed_command_ends_as_it_would_alone() -> TestResult {
    let sandbox = sandbox(&[], true);
    assert_eq!(run(&sandbox, "exit 3")?.code(), Some(3));
    let killed = run(&sandbox, "kill -TERM $$; sleep 5")?;
    assert_eq!(killed.signal(), Some(15), "{killed}");
    assert_eq!(run(&sandbox, "exec /no/such/program")?.code(), Some(127));
    let missing = sandbox.command(&["/no/such/program".to_owned()])?.spawn();
    assert_eq!(missing.err().map(|it| it.kind()), Some(std::io::ErrorKind::NotFound));
    Ok(())
}

#[test]
fn a_group_signal_reaches_the_command_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sandbox = sandbox(&[dir.path()], true);
    let script = format!(
        "trap 'echo term >> {log}; exit 7' TERM; echo ready > {ready}; while :; do sleep 0.05; done",
        log = dir.path().join("log").display(),
        ready = dir.path().join("ready").display(),
    );
    let mut child = sandbox.command(&["sh".to_owned(), "-c".to_owned(), script])?.spawn()?;
    wait_for(|| dir.path().join("ready").exists())?;
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM)?;
    let status = child.wait()?;
    assert_eq!(status.code(), Some(7), "{status}");
    assert_eq!(fs::read_to_string(dir.path().join("log"))?, "term\n");
    Ok(())
}

/// Set in a child of this test binary, which then plays a role in [`role_in_a_child`] (for the
/// tests that kill the process that started a command, or its watcher).
const ROLE: &str = "OMK_SANDBOX_TEST_ROLE";
/// The directory the child's role works in.
const ROLE_DIR: &str = "OMK_SANDBOX_TEST_DIR";

/// Runs this test binary as a child that plays `role` in `dir`.
fn spawn_role(role: &str, dir: &Path) -> Result<std::process::Child, Box<dyn Error>> {
    let child = Command::new(std::env::current_exe()?)
        .args(["role_in_a_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(ROLE_DIR, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()?;
    Ok(child)
}

/// Not a test of its own: the roles that [`spawn_role`] starts.
#[test]
fn role_in_a_child() -> TestResult {
    let (Ok(role), Some(dir)) = (std::env::var(ROLE), std::env::var_os(ROLE_DIR)) else {
        return Ok(());
    };
    let dir = PathBuf::from(dir);
    let pids = dir.join("pids");
    let sandbox = sandbox(&[&dir], true);
    // A group leader and a background member, which print their pids.
    let script = format!("echo $$ >> {0}; sleep 30 & echo $! >> {0}; wait", pids.display());
    match role.as_str() {
        "parent" => {
            // Waits until the test kills this process with SIGKILL.
            let mut child =
                sandbox.command(&["sh".to_owned(), "-c".to_owned(), script])?.spawn()?;
            let _supervised = sandbox.supervise(child.id())?;
            child.wait()?;
        }
        "releases" => {
            // The leader ends and the group is released, while its member still runs.
            let script = format!("sleep 30 & echo $! >> {}", pids.display());
            let mut child =
                sandbox.command(&["sh".to_owned(), "-c".to_owned(), script])?.spawn()?;
            let supervised = sandbox.supervise(child.id())?;
            child.wait()?;
            drop(supervised);
        }
        "spawn-parent" => spawn::spawn_parent(&sandbox, &dir)?,
        "watcher-killed" => {
            sandbox.command(&["true".to_owned()])?.status()?;
            let watcher = children_of(std::process::id())
                .into_iter()
                .find(|&pid| {
                    fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|it| it.ends_with(b"__omk-sandbox\0watch\0"))
                })
                .ok_or("no watcher among the children")?;
            kill_9(watcher)?;
            wait_for(|| !running(watcher))?;
            let ran = dir.join("ran");
            let script = format!("echo ran > {}", ran.display());
            let spawned = sandbox
                .command(&["sh".to_owned(), "-c".to_owned(), script])
                .and_then(|mut command| command.spawn());
            let refused = spawned.as_ref().err().map(ToString::to_string).unwrap_or_default();
            fs::write(dir.join("refused"), refused)?;
            // Found gone, the watcher was reaped: not even a zombie is left.
            let reaped = !Path::new(&format!("/proc/{watcher}")).exists();
            fs::write(dir.join("reaped"), reaped.to_string())?;
            if let Ok(mut child) = spawned {
                child.wait()?;
            }
        }
        other => return Err(format!("no role {other}").into()),
    }
    Ok(())
}

#[test]
fn the_command_group_dies_within_a_second_of_its_parent() -> TestResult {
    group_dies_within_a_second_of_its_parent("parent")
}

/// Runs `role` (a parent that starts a group of two and waits), kills it with SIGKILL, and
/// checks that the watcher ends the group within a second.
pub(crate) fn group_dies_within_a_second_of_its_parent(role: &str) -> TestResult {
    let dir = tempfile::tempdir()?;
    let pids = dir.path().join("pids");
    let mut parent = spawn_role(role, dir.path())?;
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
fn a_released_group_is_left_alone_when_its_parent_exits() -> TestResult {
    let dir = tempfile::tempdir()?;
    let status = spawn_role("releases", dir.path())?.wait()?;
    assert!(status.success(), "{status}");
    let member: u32 = fs::read_to_string(dir.path().join("pids"))?.trim().parse()?;
    // The watcher has had the end of its input; give it time to act, wrongly.
    thread::sleep(Duration::from_millis(300));
    let alive = running(member);
    kill_9(member).ok();
    assert!(alive, "the watcher killed a group that was released");
    Ok(())
}

#[test]
fn without_its_watcher_a_sandboxed_command_does_not_start() -> TestResult {
    let dir = tempfile::tempdir()?;
    let status = spawn_role("watcher-killed", dir.path())?.wait()?;
    assert!(status.success(), "{status}");
    let refused = fs::read_to_string(dir.path().join("refused"))?;
    assert!(refused.contains("omk's process watcher (pid "), "{refused:?}");
    assert!(refused.contains("has exited"), "{refused:?}");
    assert_eq!(fs::read_to_string(dir.path().join("reaped"))?, "true");
    assert!(!dir.path().join("ran").exists());
    Ok(())
}

/// Kills process `pid` with SIGKILL.
fn kill_9(pid: u32) -> TestResult {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid)?);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL)?;
    Ok(())
}

/// Returns the pids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|it| {
                it.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
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
    let support = omk_sandbox::probe();
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

#[test]
fn a_writable_root_removed_and_made_again_stays_writable() -> TestResult {
    let parent = tempfile::tempdir()?;
    let root = parent.path().join("root");
    fs::create_dir(&root)?;
    let sandbox = sandbox(&[&root], true);
    let write = format!("echo one > {}/file", root.display());
    assert!(run(&sandbox, &write)?.success());
    // The same policy again, now for a new directory at the same path.
    fs::remove_dir_all(&root)?;
    fs::create_dir(&root)?;
    assert!(run(&sandbox, &write)?.success(), "the new directory was not writable");
    assert_eq!(fs::read_to_string(root.join("file"))?, "one\n");
    let outside = format!("echo two > {}/escaped", parent.path().display());
    assert!(!run(&sandbox, &outside)?.success());
    assert!(!parent.path().join("escaped").exists());
    Ok(())
}
