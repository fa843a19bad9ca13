//! Synthesis of a proof from 100,000 events, against parsing the same log from JSON.
//!
//! Also prints the peak heap used while folding a log that is generated on the fly, to show
//! that the fold's memory follows the proof, not the log.

#![expect(clippy::print_stdout, reason = "the bench prints its memory figure beside criterion's")]

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use omk_events::{
    AgentFinished, AgentStarted, AgentStatus, ArtifactRef, ChangedFile, ChangesCaptured, Envelope,
    Event, FileOperation, GateFinished, GateKind, GatePhase, GateSurfaceChecked, GoalCreated,
    GoalId, ProcessExit, ReviewFinished, ReviewStarted, ReviewStatus, Seq, TestCounts, TokenUsage,
};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const EVENTS: u64 = 100_000;
const TREES: [&str; 2] =
    ["1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"];

/// Returns event `seq` of a long goal: rounds of agent run, capture, four gates, surface check
/// and a one-check review wall.
fn event(seq: u64) -> Envelope {
    let goal_id = GoalId::parse("20261121-200000-3fa2c1").expect("a valid id");
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).single().expect("a valid time")
        + Duration::milliseconds(seq as i64);
    let tree = TREES[(seq / 10 % 2) as usize];
    let event = match (seq, seq % 10) {
        (1, _) => Event::GoalCreated(GoalCreated {
            prompt: "fix the failing test in calc.sh".into(),
            repo_root: "/repo".into(),
            base_branch: Some("main".into()),
            base_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".into(),
            agent: "kimi".into(),
            omk_version: "0.1.0".into(),
            extra_gates: Vec::new(),
        }),
        (_, 0 | 1) => Event::AgentStarted(AgentStarted { agent: "kimi".into() }),
        (_, 2) => Event::AgentFinished(AgentFinished {
            agent: "kimi".into(),
            agent_version: Some("1.51.0".into()),
            status: AgentStatus::Completed,
            process: Some(ProcessExit {
                exit_code: Some(0),
                signal: None,
                timed_out: false,
                idle_timed_out: false,
                garbage_lines: 0,
                oversized_lines: 0,
            }),
            error: None,
            final_message: Some("done".into()),
            steps: 3,
            tool_calls: 2,
            failed_tool_calls: 0,
            usage: Some(TokenUsage {
                input_uncached: 100,
                input_cache_read: 0,
                input_cache_write: 0,
                output: 10,
            }),
            cost: None,
            transcript: Some(artifact("artifacts/agent/transcript.jsonl")),
            duration_ms: 1000,
            ..AgentFinished::new("x")
        }),
        (_, 3) => Event::ChangesCaptured(ChangesCaptured {
            base_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".into(),
            tree_id: tree.into(),
            files: vec![ChangedFile {
                path: "calc.sh".into(),
                operation: FileOperation::Modified,
                renamed_from: None,
                lines_added: Some(1),
                lines_removed: Some(1),
                blob_id: Some("9daeafb9864cf43055ae93beb0afd6c7d144bfa4".into()),
            }],
            patch: None,
        }),
        (_, n @ 4..=7) => {
            let name = ["test", "lint", "fmt", "build"][(n - 4) as usize];
            Event::GateFinished(GateFinished {
                name: name.into(),
                gate_kind: GateKind::Test,
                command: vec!["sh".into(), "-c".into(), format!("./{name}.sh")],
                required: true,
                phase: GatePhase::Proposed,
                tree_id: Some(tree.into()),
                allow_no_tests: false,
                exit_code: Some(0),
                signal: None,
                timed_out: false,
                spawn_error: None,
                duration_ms: 100,
                output: Some(artifact(&format!("artifacts/gates/{name}.{seq}.log"))),
                tests: Some(TestCounts { passed: 10, failed: 0, skipped: 0 }),
                cached_from: None,
                tests_by_exit_code: false,
                flaky_with: None,
                junit: None,
            })
        }
        (_, 8) => Event::GateSurfaceChecked(GateSurfaceChecked {
            tree_id: tree.into(),
            base_digest: "a".repeat(64),
            proposed_digest: "a".repeat(64),
            changed_paths: Vec::new(),
        }),
        _ => {
            if seq % 20 == 9 {
                Event::ReviewStarted(ReviewStarted {
                    tree_id: tree.into(),
                    checks: vec!["secrets".into()],
                })
            } else {
                Event::ReviewFinished(ReviewFinished {
                    check: "secrets".into(),
                    tree_id: tree.into(),
                    status: ReviewStatus::Passed,
                    evidence: vec!["nothing found".into()],
                    risks: Vec::new(),
                    next_step: None,
                })
            }
        }
    };
    Envelope::new(Seq(seq), at, goal_id, event)
}

fn artifact(path: &str) -> ArtifactRef {
    ArtifactRef { path: path.into(), sha256: "c".repeat(64), bytes: 42 }
}

fn log() -> impl Iterator<Item = Envelope> {
    (1..=EVENTS).map(event)
}

fn synthesize(c: &mut Criterion) {
    let events: Vec<Envelope> = log().collect();
    let lines: Vec<String> =
        events.iter().map(|it| serde_json::to_string(it).expect("events serialize")).collect();

    // Peak heap of a streaming fold: events are made one at a time and dropped after folding.
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let proof = omk_proof::synthesize(log()).expect("a valid log");
    let peak = ALLOCATOR.peak_usage() - before;
    let log_bytes: usize = lines.iter().map(|it| it.len() + 1).sum();
    println!(
        "memory: peak heap of the streaming fold of {EVENTS} events {} KiB; proof JSON {} KiB; log {} KiB",
        peak / 1024,
        proof.to_json().len() / 1024,
        log_bytes / 1024
    );

    let mut group = c.benchmark_group("synthesize_100k_events");
    group.sample_size(20);
    group.bench_function("fold", |b| {
        b.iter(|| omk_proof::synthesize(black_box(&events)).expect("a valid log"));
    });
    group.bench_function("baseline_parse_log", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(serde_json::from_str::<Envelope>(line).expect("a valid line"));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, synthesize);
criterion_main!(benches);
