//! `omk gates list` and `omk gates run` end to end: detection, configuration, exit codes, the
//! cache and redaction.

use std::{
    thread,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{self, Signal},
    unistd::Pid,
};
use serde_json::Value;

use crate::TestEnv;

const OMK_TOML: &str = r#"[[gates]]
name = "test"
kind = "test"
command = "echo 'ok 1'; echo '2 passed, 0 failed'"

[[gates]]
name = "leaky"
command = "echo \"deploying with $DEPLOY_TOKEN\"; exit 3"
required = false

[detect]
exclude = ["make-lint"]
"#;

const MAKEFILE: &str = "test:\n\t@echo '1 passed, 0 failed'\nlint:\n\t@false\n";

#[test]
fn gates_list_and_run_work_as_a_ci_quality_gate() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("project", &[("omk.toml", OMK_TOML), ("Makefile", MAKEFILE)])?;
    let secret = [("DEPLOY_TOKEN", "tok-123456789")];

    let list = env.omk(&repo, &["gates", "list"])?;
    let first = env.omk_with(&repo, &["gates", "run"], &secret)?;
    // Unchanged tree: the passed gates come from the first run; the failure runs again.
    let second = env.omk_with(&repo, &["gates", "run"], &secret)?;
    env.insta_settings().bind(|| {
        insta::assert_snapshot!("gates_list", list);
        insta::assert_snapshot!("gates_run_first", first);
        insta::assert_snapshot!("gates_run_cached", second);
    });
    assert_eq!((list.code, first.code, second.code), (Some(0), Some(0), Some(0)));
    let stored = std::fs::read_to_string(
        repo.join(".omk/gate-runs/gates-20261121-200000-000/artifacts/gates/leaky.log"),
    )?;
    assert_eq!(stored, "deploying with [REDACTED:DEPLOY_TOKEN]\n");
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "", ".omk/ is excluded from git");
    Ok(())
}

#[test]
fn a_failing_required_gate_exits_1_and_names_are_checked() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("project", &[("omk.toml", OMK_TOML), ("Makefile", MAKEFILE)])?;

    // An excluded gate runs when named, and fails the run.
    let output = env.omk(&repo, &["gates", "run", "make-lint", "test", "--json", "--no-cache"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let document: Value = serde_json::from_str(&output.stdout)?;
    assert_eq!(document["passed"], false);
    assert_eq!(document["gates"][0]["result"]["name"], "make-lint");
    assert_eq!(document["gates"][0]["failure"], "exit 2");
    assert_eq!(document["gates"][1]["result"]["tests"]["passed"], 2);
    assert_eq!(document["gates"][1]["result"]["cached_from"], Value::Null);

    let unknown = env.omk(&repo, &["gates", "run", "tset"])?;
    assert_eq!(unknown.code, Some(2));
    assert_eq!(
        unknown.stderr,
        "error: no gate named \"tset\"\nhint: the gates are: test, leaky, make-test, make-lint\n"
    );

    std::fs::write(repo.join("omk.toml"), "[[gates]]\nname = \"t\"\n")?;
    let invalid = env.omk(&repo, &["gates", "list"])?;
    assert_eq!(invalid.code, Some(2));
    assert!(invalid.stderr.contains("omk.toml:1:1: missing field `command`"), "{invalid}");
    Ok(())
}

/// `omk gates run` keeps no process records (nothing resumes it): when it is killed with
/// SIGKILL, its watcher alone must end every process of its gates.
#[test]
fn kill_9_of_omk_gates_run_ends_its_gates_and_what_they_started() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let omk_toml = r#"[[gates]]
name = "slow"
command = "sleep 30 & echo $! > slow.pids; echo $$ >> slow.pids; wait"
"#;
    let repo = env.repo("project", &[("omk.toml", omk_toml)])?;
    let mut run = env.spawn_omk(&repo, &["gates", "run", "--no-cache"])?;
    let pid_file = repo.join("slow.pids");
    let pids = || -> Vec<u32> {
        let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
        text.lines().filter_map(|it| it.trim().parse().ok()).collect()
    };
    crate::sandbox::wait_for("the gate to start", || pids().len() == 2)?;
    let pids = pids();
    run.kill()?;
    run.wait()?;
    let killed = Instant::now();
    crate::sandbox::wait_for("the gate's processes to end with omk", || {
        pids.iter().all(|&pid| !crate::sandbox::running(pid))
    })?;
    // Within a second on an idle machine; a loaded one gets some slack above.
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    Ok(())
}

#[test]
fn ctrl_c_stops_omk_gates_run_and_its_gates_and_exits_130() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let omk_toml = r#"[[gates]]
name = "slow"
command = "echo $$ > slow.pid; exec sleep 30"
"#;
    let repo = env.repo("project", &[("omk.toml", omk_toml)])?;
    let run = env.spawn_omk(&repo, &["gates", "run", "--json", "--no-cache"])?;
    let started = Instant::now();
    let pid_file = repo.join("slow.pid");
    while !pid_file.exists() || std::fs::read_to_string(&pid_file)?.trim().is_empty() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the gate never started");
        thread::sleep(Duration::from_millis(25));
    }
    let gate = Pid::from_raw(std::fs::read_to_string(&pid_file)?.trim().parse()?);
    signal::kill(Pid::from_raw(i32::try_from(run.id())?), Signal::SIGINT)?;
    let interrupted = Instant::now();
    let output = run.wait_with_output()?;
    let latency = interrupted.elapsed();

    assert_eq!(output.status.code(), Some(130), "{}", String::from_utf8_lossy(&output.stderr));
    // Within a second of polling and the 5 s grace at most; a loaded machine gets some slack.
    assert!(latency < Duration::from_secs(8), "omk stopped after {latency:?}");
    assert!(signal::kill(gate, None).is_err(), "the gate's process outlived omk");
    let document: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(document["passed"], false);
    assert_eq!(document["gates"][0]["result"]["name"], "slow");
    assert_eq!(document["gates"][0]["passed"], false);
    Ok(())
}

/// Each `omk gates run` adds a directory under `.omk/gate-runs/`; only the newest 50 are kept,
/// oldest first out (by the time in their names, then the attempt), and nothing else there is
/// touched.
#[test]
fn omk_gates_run_keeps_the_newest_50_runs() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let toml =
        "[[gates]]\nname = \"test\"\nkind = \"test\"\ncommand = \"echo '1 passed, 0 failed'\"\n";
    let repo = env.repo("project", &[("omk.toml", toml)])?;
    let runs = repo.join(".omk/gate-runs");
    // 60 older runs, two of them in the same millisecond (attempts 2 and 10), and a directory
    // and a file of the user's.
    let mut older: Vec<String> =
        (0..58).map(|n| format!("gates-20261120-{:06}-000", 100_000 + n)).collect();
    older.push("gates-20261120-100057-000-2".to_owned());
    older.push("gates-20261120-100057-000-10".to_owned());
    for name in &older {
        std::fs::create_dir_all(runs.join(name).join("artifacts"))?;
    }
    std::fs::create_dir_all(runs.join("notes"))?;
    std::fs::write(runs.join("README"), "mine\n")?;
    // A gate may write anywhere in the checkout: a link to the user's files named as the oldest
    // run is no run and stays; a link inside an old run goes with the run, never followed.
    let users = env.root().join("users-files");
    std::fs::create_dir_all(&users)?;
    std::fs::write(users.join("keep.txt"), "keep\n")?;
    std::os::unix::fs::symlink(&users, runs.join("gates-20200101-000000-000"))?;
    std::os::unix::fs::symlink(&users, runs.join(&older[0]).join("artifacts/link"))?;

    let run = env.omk(&repo, &["gates", "run"])?;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut left: Vec<String> = std::fs::read_dir(&runs)?
        .map(|it| it.map(|it| it.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    left.sort();
    let mut expected: Vec<String> = older[11..].to_vec();
    expected.extend(
        ["README", "gates-20200101-000000-000", "gates-20261121-200000-000", "notes"]
            .map(str::to_owned),
    );
    expected.sort();
    assert_eq!(left, expected);
    assert!(older[11].ends_with("100011-000"));
    assert_eq!(std::fs::read_to_string(users.join("keep.txt"))?, "keep\n");
    Ok(())
}
