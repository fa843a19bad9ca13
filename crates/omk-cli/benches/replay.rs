//! Benchmark of `omk replay`: reading, verifying and rendering the timeline of a log of
//! 1,000,000 events (`event_log_replay_1m`), against `baseline_read_lines`, which only splits
//! the same file into lines.
//!
//! Also prints the peak heap of one replay of the 1,000,000-event log, to show that replay
//! memory is flat whatever the log's length. The group keeps the name it had when the timeline
//! was in omk-events, so `docs/benchmarks.md` compares like with like.

#![expect(clippy::print_stdout, reason = "the bench prints its memory figure beside criterion's")]

mod common;

use std::{
    fs::{self, File},
    hint::black_box,
    io::{self, BufRead as _, BufReader},
    path::Path,
};

use common::{REPLAY_EVENTS, write_replay_log};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use omk_cli::replay::{ChainCheck, TextWriter, Timeline};
use omk_events::LogReader;
use peak_alloc::PeakAlloc;
use tempfile::TempDir;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

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
    let path = dir.path().join("replay.jsonl");
    write_replay_log(&path, "bench-replay");
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
