//! Benchmarks of the event log: `EventLog::append` (serialize, one write, `sync_data`) against
//! `baseline_write_line`, a plain append of a line of the same event without sync, so the ratio
//! is the price of the envelope and of durability.

use std::{
    fs::{self, OpenOptions},
    io::Write as _,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tempfile::TempDir;

use omk_events::{Event, EventLog, GoalFailed, GoalId, Step};

fn append(criterion: &mut Criterion) {
    let dir = TempDir::new().expect("the benchmark needs a temporary directory");
    let goal_id = GoalId::parse("bench-goal").expect("bench-goal is a valid goal id");
    let at = DateTime::<Utc>::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let event = Event::GoalFailed(GoalFailed {
        step: Step::Gates,
        error: "gate `cargo test` could not start: No such file or directory".to_owned(),
    });

    let mut group = criterion.benchmark_group("event_log_append");
    group.throughput(Throughput::Elements(1));
    // Each measurement starts a fresh file, so the files do not grow without bound.
    group.bench_function("baseline_write_line", |bencher| {
        let mut line = serde_json::to_vec(&event).expect("an event always serializes");
        line.push(b'\n');
        bencher.iter_custom(|iterations| {
            let path = dir.path().join("baseline.jsonl");
            fs::remove_file(&path).ok();
            let mut file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .expect("the benchmark can create a file in its temporary directory");
            let started = Instant::now();
            for _ in 0..iterations {
                file.write_all(&line).expect("the benchmark can append to its file");
            }
            started.elapsed()
        });
    });
    group.bench_function("append_synced", |bencher| {
        bencher.iter_custom(|iterations| {
            let path = dir.path().join("events.jsonl");
            fs::remove_file(&path).ok();
            let mut log = EventLog::create(&path, &goal_id)
                .expect("the benchmark can create a log in its temporary directory");
            let started = Instant::now();
            for _ in 0..iterations {
                log.append(at, event.clone()).expect("the benchmark can append to its log");
            }
            started.elapsed()
        });
    });
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
