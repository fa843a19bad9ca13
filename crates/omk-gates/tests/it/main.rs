//! Tests of the gate runner with real processes, and of detection, the cache and the gate
//! surface on real files and git repositories.

mod detect;
mod junit;
mod runner;
mod surface;

use std::{fs, path::Path, time::Duration};

use omk_events::{GateFinished, GatePhase, sha256_hex};
use omk_gates::{GateCommand, GateRun, GateSpec, RunOptions};
use omk_testkit::{gate_path_env, git};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn options(dir: &Path, max_parallel: usize) -> RunOptions {
    RunOptions {
        worktree: dir.join("wt"),
        artifact_root: dir.join("goal"),
        artifact_dir: "artifacts/gates".to_owned(),
        max_parallel,
        kill_grace: Duration::from_millis(300),
        phase: GatePhase::Proposed,
        tree_id: Some("1111111111111111111111111111111111111111".to_owned()),
        env: gate_path_env(),
        cache: None,
        cancel: None,
        sandbox: omk_sandbox::Sandbox::direct(),
    }
}

/// Runs `specs` with `options` on a current-thread runtime, as omk does.
fn run_with(specs: &[GateSpec], options: &RunOptions) -> Vec<GateRun> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime builds");
    runtime.block_on(omk_gates::run_gates(specs, options, &mut |_| {}))
}

fn shell(name: &str, line: &str, timeout: Duration) -> GateSpec {
    GateSpec { timeout, ..GateSpec::shell(name, line) }
}

/// Runs `specs` in a fresh worktree directory and returns the results and the temp dir.
fn run(specs: &[GateSpec], max_parallel: usize) -> (Vec<GateFinished>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir(dir.path().join("wt")).expect("create worktree dir");
    let runs = run_with(specs, &options(dir.path(), max_parallel));
    (runs.into_iter().map(|it| it.result).collect(), dir)
}

fn log_of(dir: &Path, gate: &GateFinished) -> String {
    let output = gate.output.as_ref().expect("the gate has an output artifact");
    fs::read_to_string(dir.join("goal").join(&output.path)).expect("the artifact exists")
}

#[test]
fn exit_codes_and_interleaved_output_are_captured() -> TestResult {
    let long = Duration::from_secs(60);
    let (results, dir) = run(
        &[shell("ok", "echo out; echo err >&2", long), shell("bad", "echo failing; exit 3", long)],
        2,
    );
    let [ok, bad] = &results[..] else { panic!("two results: {results:?}") };
    assert!(ok.passed());
    assert_eq!((ok.exit_code, ok.signal, ok.timed_out), (Some(0), None, false));
    assert_eq!(log_of(dir.path(), ok), "out\nerr\n");
    let output = ok.output.as_ref().expect("output");
    assert_eq!(output.path, "artifacts/gates/ok.log");
    assert_eq!(output.sha256, sha256_hex(b"out\nerr\n"));
    assert_eq!(output.bytes, 8);
    assert!(!bad.passed());
    assert_eq!(bad.exit_code, Some(3));
    assert_eq!(log_of(dir.path(), bad), "failing\n");
    assert_eq!(bad.command, ["sh", "-c", "echo failing; exit 3"]);
    // The tree and phase the caller names are recorded on every result.
    for result in &results {
        assert_eq!(result.phase, GatePhase::Proposed);
        assert_eq!(result.tree_id.as_deref(), Some("1111111111111111111111111111111111111111"));
    }
    Ok(())
}

#[test]
fn the_gate_runs_in_the_worktree_or_its_cwd_with_stdin_closed() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("wt/sub"))?;
    let specs = [
        shell("root", "pwd; cat", Duration::from_secs(60)),
        GateSpec { cwd: Some("sub".into()), ..shell("sub", "pwd", Duration::from_secs(60)) },
    ];
    let results: Vec<GateFinished> =
        run_with(&specs, &options(dir.path(), 1)).into_iter().map(|it| it.result).collect();
    let wt = dir.path().join("wt").canonicalize()?;
    assert_eq!(log_of(dir.path(), &results[0]), format!("{}\n", wt.display()));
    assert_eq!(log_of(dir.path(), &results[1]), format!("{}\n", wt.join("sub").display()));
    assert!(results[0].passed(), "cat sees end of input at once");
    Ok(())
}

#[test]
fn a_timed_out_gate_and_its_whole_process_group_are_killed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pid_file = dir.path().join("grandchild.pid");
    let line = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
    let (results, _dir) = run(&[shell("slow", &line, Duration::from_millis(300))], 1);
    let slow = &results[0];
    assert!(slow.timed_out && !slow.passed());
    assert_eq!((slow.exit_code, slow.signal), (None, Some(15)));
    let grandchild = fs::read_to_string(&pid_file)?.trim().to_owned();
    assert!(gone_soon(&grandchild), "the background sleep {grandchild} was killed with its group");
    Ok(())
}

#[test]
fn what_a_gate_leaves_in_its_group_ends_with_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pid_file = dir.path().join("left.pid");
    let line = format!("sleep 30 & echo $! > {}; exit 0", pid_file.display());
    let (results, _dir) = run(&[shell("leaves", &line, Duration::from_secs(20))], 1);
    assert!(results[0].passed(), "{:?}", results[0]);
    let left = fs::read_to_string(&pid_file)?.trim().to_owned();
    assert!(gone_soon(&left), "the background sleep {left} outlived its gate");
    Ok(())
}

/// Returns whether process `pid` is gone or a zombie within 5 s (SIGKILL is delivered
/// asynchronously).
fn gone_soon(pid: &str) -> bool {
    let is_gone = || match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.contains(") Z "),
        Err(_) => true,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !is_gone() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    is_gone()
}

#[test]
fn a_gate_that_ignores_sigterm_is_killed() {
    let line = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    let (results, _dir) = run(&[shell("stubborn", line, Duration::from_millis(300))], 1);
    assert!(results[0].timed_out);
    assert_eq!(results[0].signal, Some(9));
}

#[test]
fn a_gate_that_cannot_start_is_a_failed_gate_with_the_reason() {
    let spec = GateSpec {
        command: GateCommand::Argv(vec!["omk-no-such-program".into(), "--flag".into()]),
        ..GateSpec::shell("missing", "")
    };
    let (results, dir) = run(&[spec], 1);
    let missing = &results[0];
    assert!(!missing.passed());
    let error = missing.spawn_error.as_deref().unwrap_or_default();
    assert!(error.starts_with("omk-no-such-program: No such file or directory"), "{error}");
    assert_eq!((missing.exit_code, &missing.output), (None, &None));
    assert!(!dir.path().join("goal/artifacts/gates/missing.log").exists());
}

#[test]
fn huge_output_goes_to_the_artifact_without_deadlock() {
    let line = "head -c 30000000 /dev/zero; echo done >&2";
    let (results, _dir) = run(&[shell("huge", line, Duration::from_secs(120))], 1);
    assert!(results[0].passed());
    assert_eq!(results[0].output.as_ref().map(|it| it.bytes), Some(30_000_005));
}

#[test]
fn gates_run_in_parallel_up_to_the_limit() {
    // Each gate waits up to 2 s for the other to start, so they pass only when run together.
    let wait_for = |me: &str, other: &str| {
        format!(
            "touch ../{me}; i=0; while [ ! -f ../{other} ]; do i=$((i+1)); [ $i -gt 40 ] && exit 1; sleep 0.05; done"
        )
    };
    let specs = [
        shell("a", &wait_for("a", "b"), Duration::from_secs(60)),
        shell("b", &wait_for("b", "a"), Duration::from_secs(60)),
    ];
    let (together, _dir) = run(&specs, 2);
    assert!(together.iter().all(GateFinished::passed), "{together:?}");
    let (one_by_one, _dir) = run(&specs, 1);
    assert_eq!(one_by_one.iter().map(|it| it.exit_code).collect::<Vec<_>>(), [Some(1), Some(0)]);
}

#[test]
fn a_second_run_keeps_the_first_runs_log() -> TestResult {
    let dir = tempfile::tempdir()?;
    fs::create_dir(dir.path().join("wt"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let spec = shell("t", "echo run", Duration::from_secs(60));
    let first = runtime.block_on(omk_gates::run_gate(&spec, &options(dir.path(), 1))).result;
    let second = runtime.block_on(omk_gates::run_gate(&spec, &options(dir.path(), 1))).result;
    assert_eq!(first.output.map(|it| it.path).as_deref(), Some("artifacts/gates/t.log"));
    assert_eq!(second.output.map(|it| it.path).as_deref(), Some("artifacts/gates/t.2.log"));
    Ok(())
}
