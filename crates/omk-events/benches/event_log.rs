//! Benchmarks of the event log.
//!
//! - `event_log_append`: `EventLog::append` with group commit (chatty agent activity) and with
//!   a sync per event (state changes), against `baseline_write_line`, a plain append of the same
//!   line without hashing or sync. The ratios are the price of the chain and of durability.
//!
//! Reading a long log back and rendering its timeline, `event_log_replay_1m`, is measured by
//! omk-cli's `replay` benchmark, where the timeline is.

use std::{
    fs::{self, OpenOptions},
    io::Write as _,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use omk_events::{Event, EventLog, GoalFailed, GoalId, Step};
use omk_testkit::chatty_activity;
use tempfile::TempDir;

fn start() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

fn append(criterion: &mut Criterion) {
    let dir = TempDir::new().expect("the benchmark needs a temporary directory");
    let goal_id = GoalId::parse("bench-goal").expect("bench-goal is a valid goal id");
    let state_change = Event::GoalFailed(GoalFailed {
        step: Step::Gates,
        error: "gate `cargo test` could not start: No such file or directory".to_owned(),
    });
    let chatty = chatty_activity(1);

    let mut group = criterion.benchmark_group("event_log_append");
    group.throughput(Throughput::Elements(1));
    // Each measurement starts a fresh file, so the files do not grow without bound.
    group.bench_function("baseline_write_line", |bencher| {
        let mut line = serde_json::to_vec(&chatty).expect("an event always serializes");
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
    for (name, event) in [("append_group_commit", &chatty), ("append_synced", &state_change)] {
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iterations| {
                let path = dir.path().join("events.jsonl");
                fs::remove_file(&path).ok();
                let mut log = EventLog::create(&path, &goal_id)
                    .expect("the benchmark can create a log in its temporary directory");
                let mut at = start();
                let started = Instant::now();
                for _ in 0..iterations {
                    at += Duration::from_micros(5);
                    log.append(at, event.clone()).expect("the benchmark can append to its log");
                }
                // The last group is synced inside the measurement.
                log.sync().expect("the benchmark can sync its log");
                started.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
