//! Running gates: one process group each, output captured through one pipe into an artifact file
//! (redacted, hashed and counted on the way), timeouts and cancellation enforced, results cached.

use std::{
    collections::VecDeque,
    fs::{self, File},
    io::{self, Write as _},
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::ExitStatus,
    sync::Arc,
    time::{Duration, Instant},
};

use nix::sys::signal::Signal;
use sha2::{Digest, Sha256};
use tokio::{
    io::AsyncReadExt as _,
    net::unix::pipe,
    sync::{Semaphore, mpsc, oneshot, watch},
};

use omk_events::{ArtifactRef, GateFinished, GatePhase, GateStarted, TestCounts, files::in_dir};
use omk_sandbox::{Sandbox, Spawn};

use crate::{
    cache::{self, CacheOptions},
    counts::CountParser,
    junit,
    redact::Redactor,
    spec::GateSpec,
    tree::{TreeFiles, hex, tree_files},
};

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
    /// How long a timed-out or cancelled gate gets between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Whether the gates check the base tree or the change; recorded on every result.
    pub phase: GatePhase,
    /// The git tree id of the worktree content the gates run on, when the caller knows it;
    /// recorded on every result.
    pub tree_id: Option<String>,
    /// The environment the gates run with, and nothing else; each gate's `env` is added to it.
    /// Values of secret-looking variables are masked in the captured output.
    pub env: Vec<(String, String)>,
    /// The cache, or `None` to neither read nor write it.
    pub cache: Option<CacheOptions>,
    /// Turns `true` to cancel the run: running gates are stopped like timed-out ones (SIGTERM,
    /// grace, SIGKILL) and gates not started yet do not start.
    pub cancel: Option<watch::Receiver<bool>>,
    /// How each gate's process starts: confined to the writable roots of its policy, with the
    /// sandbox's environment added before the gate's own, and ended with omk.
    pub sandbox: Sandbox,
}

/// One gate's result and what only the caller needs: the end of its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRun {
    /// The result, as recorded in `gate_finished`.
    pub result: GateFinished,
    /// The last lines of the redacted output, at most [`TAIL_BYTES`] bytes.
    pub tail: String,
    /// Why the result's tree digest could not be computed and the cache was not used, if so.
    pub cache_note: Option<String>,
}

/// What the runner reports while it runs.
#[derive(Debug)]
pub enum GateEvent<'a> {
    /// A gate's process is about to start.
    Started(&'a GateStarted),
    /// A gate finished or came from the cache; reported in spec order.
    Finished(&'a GateRun),
}

/// How much of the end of a gate's output is kept in memory.
pub const TAIL_BYTES: usize = 8 * 1024;

/// Lines longer than this are written in pieces of this size; a secret across a piece boundary
/// is not masked.
const MAX_LINE: usize = 64 * 1024;

/// Runs `specs`, up to `options.max_parallel` at once, reporting each start and, in spec order,
/// each result to `observer`; returns the results in spec order.
pub async fn run_gates(
    specs: &[GateSpec],
    options: &RunOptions,
    observer: &mut dyn FnMut(GateEvent<'_>),
) -> Vec<GateRun> {
    let tree = options.cache.as_ref().map(|cache| {
        let listed = match &cache.listing {
            Some(listing) if listing.worktree() == options.worktree => listing.wait(),
            _ => tree_files(&options.worktree, &options.env, cache.state_dir.as_deref()),
        };
        listed.map_err(|err| err.to_string())
    });
    let tree = Arc::new(tree);
    let permits = Arc::new(Semaphore::new(options.max_parallel.max(1)));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (idx, spec) in specs.iter().enumerate() {
        let (spec, options) = (spec.clone(), options.clone());
        let (permits, tree, sender) = (Arc::clone(&permits), Arc::clone(&tree), sender.clone());
        tasks.push(tokio::spawn(async move {
            let run = run_cached(&spec, &options, tree.as_ref().as_ref(), &permits, &sender);
            let run = run.await;
            sender.send(Message::Finished(idx, Box::new(run))).ok();
        }));
    }
    drop(sender);

    let mut finished: Vec<Option<GateRun>> = vec![None; specs.len()];
    let mut next = 0;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Started(started) => observer(GateEvent::Started(&started)),
            Message::Finished(idx, run) => finished[idx] = Some(*run),
        }
        while let Some(Some(run)) = finished.get(next) {
            observer(GateEvent::Finished(run));
            next += 1;
        }
    }
    // A task that panicked sent no result; its gate is a failed gate with the reason.
    for (idx, task) in tasks.into_iter().enumerate() {
        if let Err(err) = task.await
            && finished[idx].is_none()
        {
            let result = GateFinished {
                spawn_error: Some(format!("the gate's task failed: {err}")),
                ..not_started(&specs[idx], options)
            };
            finished[idx] = Some(GateRun { result, tail: String::new(), cache_note: None });
        }
    }
    while let Some(Some(run)) = finished.get(next) {
        observer(GateEvent::Finished(run));
        next += 1;
    }
    if let Some(cache) = &options.cache {
        cache::prune(&cache.dir, cache::MAX_KEYS);
    }
    finished.into_iter().flatten().collect()
}

/// Runs one gate and returns what omk measured; every failure is recorded, never returned.
///
/// This does not use the cache; [`run_gates`] does.
pub async fn run_gate(spec: &GateSpec, options: &RunOptions) -> GateRun {
    run_fresh(spec, options).await
}

/// Returns whether the gate passed: it started, exited 0, did not time out and, for a test gate
/// whose output omk can count, ran at least one test unless `allow_no_tests` says it need not.
pub fn gate_passed(result: &GateFinished) -> bool {
    failure_reason(result).is_none()
}

/// Returns why the gate failed, as a phrase such as `exit 3` or `ran no tests`, or `None` when it
/// passed.
pub fn failure_reason(result: &GateFinished) -> Option<String> {
    result.failure()
}

enum Message {
    Started(GateStarted),
    Finished(usize, Box<GateRun>),
}

/// Runs the gate unless the cache has its result; stores a passed fresh result.
async fn run_cached(
    spec: &GateSpec,
    options: &RunOptions,
    tree: Option<&Result<TreeFiles, String>>,
    permits: &Semaphore,
    sender: &mpsc::UnboundedSender<Message>,
) -> GateRun {
    let key = cache::key_for(spec, tree, options.cache.as_ref(), &options.env);
    let cache_note = key.as_ref().err().map(|err| format!("cache not used: {err}"));
    let key = key.ok().flatten();
    if let (Some(cache), Some(key)) = (&options.cache, &key)
        && cache.read
        && let Some(run) = from_cache(spec, options, &cache.dir, key)
    {
        return run;
    }

    let Ok(_permit) = permits.acquire().await else {
        unreachable!("the semaphore is never closed")
    };
    if options.cancel.as_ref().is_some_and(|it| *it.borrow()) {
        let result = GateFinished {
            spawn_error: Some("the run was cancelled before the gate started".to_owned()),
            ..not_started(spec, options)
        };
        return GateRun { result, tail: String::new(), cache_note };
    }
    sender
        .send(Message::Started(GateStarted {
            name: spec.name.clone(),
            gate_kind: spec.kind,
            command: spec.command.argv(),
        }))
        .ok();
    let mut run = run_fresh(spec, options).await;
    run.cache_note = cache_note;
    if let (Some(cache), Some(key)) = (&options.cache, &key) {
        record_in_cache(cache, key, options, &mut run);
    }
    run
}

/// Records a fresh result in the cache: a pass as an entry that may be served, a failure as the
/// record that keeps passes of the same gate on the same files from being served. A result that
/// differs from the one recorded for the same files marks the gate flaky (`flaky_with`).
fn record_in_cache(cache: &CacheOptions, key: &str, options: &RunOptions, run: &mut GateRun) {
    let passed = gate_passed(&run.result);
    // A gate that could not start, timed out or was cut short by a cancel says nothing about
    // the files.
    let cancelled = options.cancel.as_ref().is_some_and(|it| *it.borrow());
    let judged = run.result.spawn_error.is_none() && !run.result.timed_out && !cancelled;
    if !judged {
        return;
    }
    run.result.flaky_with = cache::differing_run(&cache.dir, key, passed);
    let written = if passed {
        let log = run.result.output.as_ref().map(|it| options.artifact_root.join(&it.path));
        cache::store(&cache.dir, key, &cache.run_id, &run.result, log.as_deref())
    } else {
        cache::record_failure(&cache.dir, key, &cache.run_id, &run.result)
    };
    if let Err(err) = written {
        run.cache_note = Some(format!("cache not written: {err}"));
    }
}

/// Returns the cached result for `key`, with its log copied into this run's artifacts.
fn from_cache(spec: &GateSpec, options: &RunOptions, dir: &Path, key: &str) -> Option<GateRun> {
    let (run_id, cached, cached_log) = cache::lookup(dir, key)?;
    let output = match &cached.output {
        Some(recorded) => {
            let (mut file, _path, relative) = create_log(spec, options).ok()?;
            let mut source = File::open(&cached_log).ok()?;
            io::copy(&mut source, &mut file).ok()?;
            let copied = ArtifactRef::of_file(&options.artifact_root, &relative).ok()?;
            // The log may have been rewritten since the lookup checked it (another omk storing
            // the same key): only the log the entry speaks of is served.
            if copied.sha256 != recorded.sha256 || copied.bytes != recorded.bytes {
                drop(file);
                fs::remove_file(options.artifact_root.join(&relative)).ok();
                return None;
            }
            Some(copied)
        }
        None => None,
    };
    let tail = output
        .as_ref()
        .and_then(|it| fs::read(options.artifact_root.join(&it.path)).ok())
        .map(|bytes| tail_text(&bytes[bytes.len().saturating_sub(TAIL_BYTES)..]))
        .unwrap_or_default();
    let result = GateFinished {
        output,
        cached_from: Some(cached.cached_from.clone().unwrap_or(run_id)),
        exit_code: cached.exit_code,
        signal: cached.signal,
        timed_out: cached.timed_out,
        duration_ms: cached.duration_ms,
        tests: cached.tests,
        junit: cached.junit.clone(),
        ..not_started(spec, options)
    };
    Some(GateRun { result, tail, cache_note: None })
}

async fn run_fresh(spec: &GateSpec, options: &RunOptions) -> GateRun {
    let started = Instant::now();
    let elapsed_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (log, log_path, relative_path) = match create_log(spec, options) {
        Ok(created) => created,
        Err(err) => {
            let result = GateFinished {
                spawn_error: Some(format!("create the gate's log file: {err}")),
                duration_ms: elapsed_ms(),
                ..not_started(spec, options)
            };
            return GateRun { result, tail: String::new(), cache_note: None };
        }
    };
    // Taken before the gate starts, so only reports this run writes count.
    let junit_watch = spec.junit.as_deref().map(|pattern| junit::watch(&options.worktree, pattern));
    let outcome = spawn_and_wait(spec, options, log).await;
    let duration_ms = elapsed_ms();
    match outcome {
        Ok((status, timed_out, mut capture)) => {
            let output = match capture.write_error {
                None => Some(ArtifactRef {
                    path: relative_path,
                    sha256: hex(&capture.hasher.finalize()),
                    bytes: capture.bytes,
                }),
                // The log is incomplete, so it is no evidence; the gate still ran.
                Some(_) => None,
            };
            // A report this run wrote counts in preference to the output's summary.
            let (junit_counts, junit) = match &junit_watch {
                Some(watch) => {
                    let (counts, read) = junit::collect(&options.worktree, watch);
                    (counts, Some(read))
                }
                None => (None, None),
            };
            let result = GateFinished {
                exit_code: status.code(),
                signal: status.signal(),
                timed_out,
                duration_ms,
                output,
                tests: junit_counts.or(capture.counts),
                junit,
                ..not_started(spec, options)
            };
            let tail = tail_text(capture.tail.make_contiguous());
            let cache_note = capture.write_error.map(|err| format!("the log is incomplete: {err}"));
            GateRun { result, tail, cache_note }
        }
        Err(err) => {
            // The log file holds nothing when the program could not start.
            fs::remove_file(&log_path).ok();
            let result =
                GateFinished { spawn_error: Some(err), duration_ms, ..not_started(spec, options) };
            GateRun { result, tail: String::new(), cache_note: None }
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
        allow_no_tests: spec.allow_no_tests,
        exit_code: None,
        signal: None,
        timed_out: false,
        spawn_error: None,
        duration_ms: 0,
        output: None,
        tests: None,
        cached_from: None,
        tests_by_exit_code: spec.tests_by_exit_code,
        flaky_with: None,
        junit: None,
    }
}

/// Creates a fresh log file for the gate, never overwriting the log of an earlier run.
///
/// Returns the open file, its path, and its path relative to the artifact root.
fn create_log(spec: &GateSpec, options: &RunOptions) -> io::Result<(File, PathBuf, String)> {
    let dir = options.artifact_root.join(&options.artifact_dir);
    for attempt in 1u32.. {
        let file_name = match attempt {
            1 => format!("{}.log", spec.name),
            n => format!("{}.{n}.log", spec.name),
        };
        let path = dir.join(&file_name);
        // The run's first log makes the directory; the others are spared a `mkdir` each.
        match in_dir(&dir, || File::options().write(true).create_new(true).open(&path)) {
            Ok(file) => {
                return Ok((file, path, format!("{}/{file_name}", options.artifact_dir)));
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other("no free log file name"))
}

/// What capturing a gate's output produced.
struct Capture {
    hasher: Sha256,
    bytes: u64,
    tail: VecDeque<u8>,
    counts: Option<TestCounts>,
    write_error: Option<io::Error>,
}

/// Runs the gate's process group to its end; returns its status, whether it timed out, and
/// its captured output.
async fn spawn_and_wait(
    spec: &GateSpec,
    options: &RunOptions,
    log: File,
) -> Result<(ExitStatus, bool, Capture), String> {
    let argv = spec.command.argv();
    let (program, args) = argv.split_first().ok_or("the gate's command is empty")?;
    let (reader, writer) = io::pipe().map_err(|err| format!("create a pipe: {err}"))?;
    let writer_for_stderr = writer.try_clone().map_err(|err| format!("clone a pipe: {err}"))?;
    let cwd = match &spec.cwd {
        Some(cwd) => options.worktree.join(cwd),
        None => options.worktree.clone(),
    };
    tracing::debug!(gate = %spec.name, program, ?args, cwd = %cwd.display(), "start the gate");
    // The whole environment: the run's, then the sandbox's temporary and cache directories
    // unless the gate sets its own, then the gate's.
    let env = (options.env.iter().chain(&options.sandbox.env))
        .map(|(name, value)| (name.into(), value.into()))
        .chain(spec.env.iter().map(|(name, value)| (name.into(), value.into())))
        .collect();
    let spawn = Spawn {
        argv: argv.clone(),
        cwd: cwd.clone(),
        env,
        stdin: None,
        stdout: Some(writer.into()),
        stderr: Some(writer_for_stderr.into()),
    };
    // The spawn clones omk without copying it and returns once the gate has exec'd (about 0.1
    // ms before the exec itself), on this thread: a hand-off to the blocking pool cost more
    // (measured, 11.43 ms against 11.25 ms for 8 gates). It drops `spawn` here, which holds the
    // pipe's write ends: only the gate's processes may keep them open, so that the capture
    // sees the end of output when they are gone.
    let spawned = options.sandbox.spawn(spawn);
    let mut child = spawned.map_err(|err| format!("{program}: {err} (in {})", cwd.display()))?;
    let _supervised = options
        .sandbox
        .supervise(child.id())
        .map_err(|err| format!("record the gate's process: {err}"))?;

    let redactor = Redactor::new(
        options
            .env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .chain(spec.env.iter().map(|(name, value)| (name.as_str(), value.as_str()))),
    );
    let (stop_capture, stopped) = oneshot::channel();
    let reader = pipe::Receiver::from_owned_fd(reader.into())
        .map_err(|err| format!("read the gate's output: {err}"))?;
    let capture = tokio::spawn(capture(reader, log, redactor, stopped));

    let mut cancel = options.cancel.clone();
    let cancelled = async {
        match &mut cancel {
            Some(cancel) => {
                // A dropped sender means nobody can cancel any more.
                if cancel.wait_for(|it| *it).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    };
    let (grace, wait_error) = (options.kill_grace, |err| format!("wait for the gate: {err}"));
    let (status, timed_out) = tokio::select! {
        status = child.wait() => (status.map_err(wait_error)?, false),
        () = tokio::time::sleep(spec.timeout) => (stop(&mut child, grace).await?, true),
        () = cancelled => (stop(&mut child, grace).await?, false),
    };
    // Whatever the leader's fate, no process of the gate outlives it and keeps writing: waiting
    // for the leader killed the rest of its group before reaping it (and dropping the child
    // unwaited kills the whole group), so the group's id was still the gate's.
    // A process that left the group can hold the pipe open; stop reading after the grace period.
    let mut capture = capture;
    let captured = tokio::select! {
        captured = &mut capture => captured,
        () = tokio::time::sleep(options.kill_grace) => {
            stop_capture.send(()).ok();
            capture.await
        }
    };
    let captured = captured.map_err(|err| format!("capture the gate's output: {err}"))?;
    Ok((status, timed_out, captured))
}

/// Stops a gate that ran too long or was cancelled: SIGTERM to its group, then SIGKILL after
/// the grace period; returns the leader's status.
async fn stop(child: &mut omk_sandbox::Child, grace: Duration) -> Result<ExitStatus, String> {
    child.signal_group(Signal::SIGTERM);
    let status = match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_elapsed) => {
            child.signal_group(Signal::SIGKILL);
            child.wait().await
        }
    };
    status.map_err(|err| format!("wait for the gate: {err}"))
}

/// Reads the gate's output until every writer is gone or `stop` fires, and writes it redacted to
/// `log`, hashing it, counting tests and keeping the tail.
async fn capture(
    mut reader: pipe::Receiver,
    log: File,
    mut redactor: Redactor,
    mut stop: oneshot::Receiver<()>,
) -> Capture {
    let mut state = Capture {
        hasher: Sha256::new(),
        bytes: 0,
        tail: VecDeque::with_capacity(TAIL_BYTES),
        counts: None,
        write_error: None,
    };
    let mut counts = CountParser::default();
    let mut log = io::BufWriter::with_capacity(64 * 1024, log);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n_read = tokio::select! {
            read = reader.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n_read) => n_read,
            },
            _ = &mut stop => break,
        };
        pending.extend_from_slice(&buffer[..n_read]);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|it| *it == b'\n') {
            let line_end = start + end + 1;
            emit(&pending[start..line_end], &mut state, &mut log, &mut redactor, &mut counts);
            start = line_end;
        }
        pending.drain(..start);
        while pending.len() >= MAX_LINE {
            let piece: Vec<u8> = pending.drain(..MAX_LINE).collect();
            emit(&piece, &mut state, &mut log, &mut redactor, &mut counts);
        }
    }
    if !pending.is_empty() {
        emit(&pending, &mut state, &mut log, &mut redactor, &mut counts);
    }
    if let Err(err) = log.flush()
        && state.write_error.is_none()
    {
        state.write_error = Some(err);
    }
    state.counts = counts.finish();
    state
}

/// Redacts one line (or piece of a long line) and passes it to the log, the digest, the tail and
/// the test counter.
fn emit(
    raw: &[u8],
    state: &mut Capture,
    log: &mut impl io::Write,
    redactor: &mut Redactor,
    counts: &mut CountParser,
) {
    let text = String::from_utf8_lossy(raw);
    let redacted = redactor.redact(&text);
    let line = redacted.as_deref().unwrap_or(&text);
    let bytes = line.as_bytes();
    if state.write_error.is_none()
        && let Err(err) = log.write_all(bytes)
    {
        state.write_error = Some(err);
    }
    state.hasher.update(bytes);
    state.bytes += bytes.len() as u64;
    let keep = bytes.len().min(TAIL_BYTES);
    let overflow = (state.tail.len() + keep).saturating_sub(TAIL_BYTES);
    state.tail.drain(..overflow);
    state.tail.extend(&bytes[bytes.len() - keep..]);
    // No summary line of a test runner is this long; skipping giant lines keeps huge output
    // cheap. A line a terminal redraws with `\r` (a progress bar) counts by what follows the
    // last redraw.
    let line = line.trim_end_matches(['\n', '\r']);
    let shown = line.rsplit('\r').next().unwrap_or(line);
    if shown.len() <= 4096 {
        counts.feed(shown);
    }
}

/// Returns the tail as text, starting at a line boundary when it was cut.
fn tail_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if bytes.len() < TAIL_BYTES {
        return text.into_owned();
    }
    match text.find('\n') {
        Some(idx) => text[idx + 1..].to_owned(),
        None => text.into_owned(),
    }
}
