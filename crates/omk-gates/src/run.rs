//! Running gates: one process group each, output to an artifact file, timeouts enforced.

use std::{
    fs::{self, File},
    io,
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::{ExitStatus, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use tokio::{process::Command, sync::Semaphore};

use omk_events::{ArtifactRef, GateFinished, GatePhase};

use crate::spec::GateSpec;

/// Where and how gates run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The worktree the gates run in.
    pub worktree: PathBuf,
    /// The directory artifact paths are relative to (the goal directory).
    pub artifact_root: PathBuf,
    /// The directory, relative to `artifact_root`, that receives the gate logs.
    pub artifact_dir: String,
    /// How many gates run at once; at least 1.
    pub max_parallel: usize,
    /// How long a timed-out gate gets between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Whether the gates check the base tree or the change; recorded on every result.
    pub phase: GatePhase,
    /// The git tree id of the worktree content the gates run on, when the caller knows it;
    /// recorded on every result.
    pub tree_id: Option<String>,
}

/// Runs `specs`, up to `options.max_parallel` at once, and returns their results in spec order.
pub async fn run_gates(specs: &[GateSpec], options: &RunOptions) -> Vec<GateFinished> {
    let permits = Arc::new(Semaphore::new(options.max_parallel.max(1)));
    let mut tasks = Vec::new();
    for spec in specs {
        let (spec, options, permits) = (spec.clone(), options.clone(), Arc::clone(&permits));
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            run_gate(&spec, &options).await
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for (task, spec) in tasks.into_iter().zip(specs) {
        let result = task.await.unwrap_or_else(|err| GateFinished {
            spawn_error: Some(format!("the gate's task failed: {err}")),
            ..not_started(spec, options)
        });
        results.push(result);
    }
    results
}

/// Runs one gate and returns what omk measured; every failure is recorded, never returned.
pub async fn run_gate(spec: &GateSpec, options: &RunOptions) -> GateFinished {
    let started = Instant::now();
    let elapsed_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (log, log_path, relative_path) = match create_log(spec, options) {
        Ok(created) => created,
        Err(err) => {
            return GateFinished {
                spawn_error: Some(format!("create the gate's log file: {err}")),
                duration_ms: elapsed_ms(),
                ..not_started(spec, options)
            };
        }
    };
    let outcome = spawn_and_wait(spec, options, log).await;
    let duration_ms = elapsed_ms();
    match outcome {
        Ok((status, timed_out)) => GateFinished {
            exit_code: status.code(),
            signal: status.signal(),
            timed_out,
            duration_ms,
            output: ArtifactRef::of_file(&options.artifact_root, &relative_path).ok(),
            ..not_started(spec, options)
        },
        Err(err) => {
            // The log file holds nothing when the program could not start.
            fs::remove_file(&log_path).ok();
            GateFinished { spawn_error: Some(err), duration_ms, ..not_started(spec, options) }
        }
    }
}

fn not_started(spec: &GateSpec, options: &RunOptions) -> GateFinished {
    GateFinished {
        name: spec.name.clone(),
        gate_kind: spec.kind,
        command: spec.command.argv(),
        required: spec.required,
        phase: options.phase,
        tree_id: options.tree_id.clone(),
        allow_no_tests: false,
        exit_code: None,
        signal: None,
        timed_out: false,
        spawn_error: None,
        duration_ms: 0,
        output: None,
        tests: None,
        cached_from: None,
    }
}

/// Creates a fresh log file for the gate, never overwriting the log of an earlier run.
///
/// Returns the open file, its path, and its path relative to the artifact root.
fn create_log(spec: &GateSpec, options: &RunOptions) -> io::Result<(File, PathBuf, String)> {
    let dir = options.artifact_root.join(&options.artifact_dir);
    fs::create_dir_all(&dir)?;
    for attempt in 1u32.. {
        let file_name = match attempt {
            1 => format!("{}.log", spec.name),
            n => format!("{}.{n}.log", spec.name),
        };
        let path = dir.join(&file_name);
        match File::options().write(true).create_new(true).open(&path) {
            Ok(file) => {
                return Ok((file, path, format!("{}/{file_name}", options.artifact_dir)));
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other("no free log file name"))
}

/// Runs the gate's process group to its end; returns its status and whether it timed out.
async fn spawn_and_wait(
    spec: &GateSpec,
    options: &RunOptions,
    log: File,
) -> Result<(ExitStatus, bool), String> {
    let argv = spec.command.argv();
    let (program, args) = argv.split_first().ok_or("the gate's command is empty")?;
    let log_for_stderr = log.try_clone().map_err(|err| format!("open the log: {err}"))?;
    let cwd = match &spec.cwd {
        Some(cwd) => options.worktree.join(cwd),
        None => options.worktree.clone(),
    };
    let mut child = Command::new(program)
        .args(args)
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("{program}: {err} (in {})", cwd.display()))?;
    let pgid = child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw);

    let (status, timed_out) = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(status) => (status.map_err(|err| format!("wait for the gate: {err}"))?, false),
        Err(_elapsed) => {
            signal_group(pgid, Signal::SIGTERM);
            let status = match tokio::time::timeout(options.kill_grace, child.wait()).await {
                Ok(status) => status,
                Err(_elapsed) => {
                    signal_group(pgid, Signal::SIGKILL);
                    child.wait().await
                }
            };
            (status.map_err(|err| format!("wait for the gate: {err}"))?, true)
        }
    };
    // Whatever the leader's fate, no process of the gate may outlive it and keep writing.
    signal_group(pgid, Signal::SIGKILL);
    Ok((status, timed_out))
}

fn signal_group(pgid: Option<Pid>, signal: Signal) {
    if let Some(pgid) = pgid {
        // ESRCH means the group is already gone, which is the goal.
        killpg(pgid, signal).ok();
    }
}
