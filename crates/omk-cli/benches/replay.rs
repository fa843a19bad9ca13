//! Benchmark of `omk replay`: reading, verifying and rendering the timeline of a log of
//! 1,000,000 events (`event_log_replay_1m`), against `baseline_read_lines`, which only splits
//! the same file into lines.
//!
//! Also prints the peak heap of one replay of the 1,000,000-event log, to show that replay
//! memory is flat whatever the log's length. The group keeps the name it had when the timeline
//! was in omk-events, so `docs/benchmarks.md` compares like with like.

#![expect(clippy::print_stdout, reason = "the bench prints its memory figure beside criterion's")]

use std::{
    fs::{self, File},
    hint::black_box,
    io::{self, BufRead as _, BufReader},
    path::Path,
    time::Duration,
};

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use omk_cli::replay::{ChainCheck, TextWriter, Timeline};
use omk_events::{
    AgentFinished, AgentStarted, AgentStatus, Event, EventLog, GateFinished, GateKind, GatePhase,
    GoalCreated, GoalId, LogReader, TestCounts, TokenUsage,
};
use omk_testkit::chatty_activity;
use peak_alloc::PeakAlloc;
use tempfile::TempDir;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const REPLAY_EVENTS: u64 = 1_000_000;

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

/// Returns event `n` of a long goal: mostly agent activity, with an agent run and gates every
/// thousand events.
fn event(n: u64) -> Event {
    match n % 1000 {
        0 => Event::AgentStarted(AgentStarted { agent: "kimi".into() }),
        997 => {
            let mut finished = AgentFinished::new("kimi");
            finished.status = AgentStatus::Completed;
            finished.steps = 250;
            finished.duration_ms = 60_000;
            finished.usage = Some(TokenUsage {
                input_uncached: 300_000,
                output: 75_000,
                ..TokenUsage::default()
            });
            Event::AgentFinished(finished)
        }
        998 | 999 => Event::GateFinished(GateFinished {
            name: if n % 1000 == 998 { "test".into() } else { "clippy".into() },
            gate_kind: GateKind::Test,
            command: vec!["cargo".into(), "test".into()],
            required: true,
            phase: GatePhase::Proposed,
            tree_id: Some("2222222222222222222222222222222222222222".into()),
            allow_no_tests: false,
            exit_code: Some(0),
            signal: None,
            timed_out: false,
            spawn_error: None,
            duration_ms: 12_345,
            output: None,
            tests: Some(TestCounts { passed: 140, failed: 0, skipped: 2 }),
            cached_from: None,
            tests_by_exit_code: false,
            flaky_with: None,
        }),
        _ => chatty_activity(n),
    }
}

/// Writes the 1,000,000-event log of `event` into `dir` and returns its path.
fn write_replay_log(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("replay.jsonl");
    let goal_id = GoalId::parse("bench-replay").expect("a valid goal id");
    let mut log = EventLog::create(&path, &goal_id).expect("the bench can create its log");
    log.append(
        start(),
        Event::GoalCreated(GoalCreated {
            prompt: "make the log long".into(),
            repo_root: "/repo".into(),
            base_branch: Some("main".into()),
            base_commit: "1111111111111111111111111111111111111111".into(),
            agent: "kimi".into(),
            omk_version: "0.1.0".into(),
            extra_gates: Vec::new(),
        }),
    )
    .expect("the bench can append");
    for n in 1..REPLAY_EVENTS {
        let at = start() + Duration::from_millis(n);
        log.append(at, event(n)).expect("the bench can append");
    }
    path
}

/// Replays the log at `path` as `omk replay` does, into a sink; returns the number of events.
fn replay(path: &Path) -> u64 {
    let mut timeline = Timeline::new();
    let mut writer = TextWriter::new(io::sink());
    let mut reader = LogReader::open(path).expect("the log opens").parallel_if_long();
    let mut head = None;
    for envelope in reader.by_ref() {
        let envelope = envelope.expect("the bench log verifies");
        head = envelope.hash;
        writer.entry(&timeline.entry(&envelope)).expect("a sink takes anything");
    }
    let check = ChainCheck { head, torn_tail: None };
    writer.finish(timeline.summary(), &check).expect("a sink takes anything");
    timeline.summary().events
}

fn replay_1m(c: &mut Criterion) {
    let dir = TempDir::new().expect("the bench needs a temporary directory");
    let path = write_replay_log(dir.path());
    let bytes = fs::metadata(&path).expect("the log exists").len();

    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let events = replay(&path);
    let peak = ALLOCATOR.peak_usage() - before;
    println!(
        "memory: peak heap of replaying {events} events ({} MiB of log) {} KiB",
        bytes / (1024 * 1024),
        peak / 1024
    );

    let mut group = c.benchmark_group("event_log_replay_1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REPLAY_EVENTS));
    group.bench_function("baseline_read_lines", |b| {
        b.iter(|| {
            let mut input = BufReader::with_capacity(256 * 1024, File::open(&path).expect("opens"));
            let mut line = Vec::with_capacity(1024);
            let mut lines = 0u64;
            while input.read_until(b'\n', &mut line).expect("reads") > 0 {
                lines += 1;
                line.clear();
            }
            assert_eq!(lines, REPLAY_EVENTS);
        });
    });
    group.bench_function("replay", |b| {
        b.iter(|| assert_eq!(black_box(replay(&path)), REPLAY_EVENTS));
    });
    group.finish();
}

criterion_group!(benches, replay_1m);
criterion_main!(benches);
