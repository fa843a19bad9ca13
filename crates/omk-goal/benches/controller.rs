//! Benchmarks of the run controller, each against the same work done without omk in the same
//! process (the `baseline_*` functions), so `cargo xtask bench` reports omk's cost as a ratio.
//!
//! - `controller_demo_goal`: a whole goal on the demo project (intake, worktree, baseline gates,
//!   the scripted agent, capture, commit, gate surface, gates, review wall, proof), against doing
//!   its work by hand: `git worktree add`, the two gates on the base, the fix, the two gates on
//!   the change, `git commit`. Gates run fresh (no cache) in both.
//! - `controller_pause`: `stop_goal` pausing a live run whose agent sleeps, from the request to
//!   the run's exit (the run records the pause, writes the proof and lets go of the goal),
//!   against spawning and killing the same `sleep` process.

use std::{
    path::Path,
    process::Command,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

mod common;

use common::git;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use omk_goal::{AgentSpec, ControlAction, DemoProject, SystemClock};

fn sh(dir: &Path, line: &str) -> bool {
    Command::new("sh").args(["-c", line]).current_dir(dir).status().expect("sh runs").success()
}

fn demo() -> (tempfile::TempDir, DemoProject) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let demo = omk_goal::create_demo_project(&dir.path().join("demo")).expect("the demo project");
    (dir, demo)
}

/// Runs one goal with `agent` on `repo`, fresh gates, no cache.
fn run(
    repo: &Path,
    prompt: &str,
    agent: &AgentSpec,
    on_event: impl FnMut(&omk_events::Envelope) + Send,
) {
    common::run(
        common::Goal { repo, prompt, agent, team: None, reuse_cached_gates: false },
        on_event,
    );
}

fn demo_goal(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("controller_demo_goal");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("baseline_by_hand", |bencher| {
        bencher.iter_batched(
            demo,
            |(dir, demo)| {
                let worktree = dir.path().join("wt");
                let worktree_text = worktree.display().to_string();
                git(&demo.repo, &["worktree", "add", "--quiet", "-b", "fix", &worktree_text]);
                assert!(!sh(&worktree, "sh test.sh >/dev/null 2>&1"), "the base fails");
                assert!(sh(&worktree, "sh -n calc.sh"));
                assert!(sh(&worktree, "sed -i 's/\\$1 - \\$2/$1 + $2/' calc.sh"));
                assert!(sh(&worktree, "sh test.sh >/dev/null"), "the fix passes");
                assert!(sh(&worktree, "sh -n calc.sh"));
                git(&worktree, &["commit", "--quiet", "-am", "fix add"]);
                dir
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("omk_run_goal", |bencher| {
        bencher.iter_batched(
            demo,
            |(dir, demo)| {
                let agent = AgentSpec::Script(demo.scenario.clone());
                run(&demo.repo, demo.prompt, &agent, |_| {});
                dir
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn pause(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("controller_pause");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("baseline_kill_a_sleep", |bencher| {
        bencher.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut child = Command::new("sleep").arg("30").spawn().expect("sleep starts");
                let started = Instant::now();
                child.kill().expect("kill");
                child.wait().expect("wait");
                total += started.elapsed();
            }
            total
        });
    });
    group.bench_function("omk_pause_a_live_run", |bencher| {
        bencher.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_dir, demo) = demo();
                let (started_tx, started_rx) = mpsc::channel();
                let repo = demo.repo.clone();
                let runner = thread::spawn(move || {
                    let agent = AgentSpec::Cmd("sleep 30".to_owned());
                    run(&repo, "fix add", &agent, move |envelope| {
                        if envelope.event.kind() == "agent_started" {
                            started_tx.send(()).ok();
                        }
                    });
                });
                started_rx.recv().expect("the agent started");
                let started = Instant::now();
                omk_goal::stop_goal(
                    &demo.repo,
                    None,
                    ControlAction::Pause,
                    "bench",
                    Duration::from_secs(30),
                    &SystemClock,
                )
                .expect("the run pauses");
                total += started.elapsed();
                runner.join().expect("the run ends");
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, demo_goal, pause);
criterion_main!(benches);
