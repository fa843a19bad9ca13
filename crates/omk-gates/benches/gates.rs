//! Benchmarks of the gate runner, each against a baseline in the same group:
//!
//! - `gates_overhead_8_true`: 8 gates of `/bin/true` through `run_gates` against
//!   `baseline_sh_loop`, one `sh` running the same 8 commands in a loop (the runner's price:
//!   a pipe, a log file, hashing and redaction per gate);
//! - `gates_8_sleep_half_second`: 8 gates of `sleep 0.5` with 8 jobs against
//!   `baseline_one_sleep`, a single `sleep 0.5` (the ratio is the wall time over 0.5 s);
//! - `gates_cache_hit`: the same 8 gates on an unchanged tree taken from the cache against
//!   `baseline_run_uncached`, running them.

use std::{
    fs,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use tempfile::TempDir;

use omk_events::GatePhase;
use omk_gates::{CacheOptions, GateCommand, GateEvent, GateSpec, RunOptions};

fn options(worktree: &Path, artifact_root: &Path, max_parallel: usize) -> RunOptions {
    RunOptions {
        worktree: worktree.to_owned(),
        artifact_root: artifact_root.to_owned(),
        artifact_dir: "artifacts/gates".to_owned(),
        max_parallel,
        kill_grace: Duration::from_secs(1),
        phase: GatePhase::Proposed,
        tree_id: None,
        env: vec![("PATH".to_owned(), std::env::var("PATH").unwrap_or_default())],
        cache: None,
        cancel: None,
        sandbox: omk_sandbox::Sandbox::direct(),
    }
}

fn gates(argv: &[&str]) -> Vec<GateSpec> {
    (1..=8)
        .map(|n| {
            GateSpec::new(&format!("g{n}"), omk_events::GateKind::Other, GateCommand::of(argv))
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the benchmark builds a tokio runtime")
}

/// Times `iterations` runs of `specs`, each with a fresh artifact directory (set up untimed).
fn time_runs(
    iterations: u64,
    specs: &[GateSpec],
    make_options: &dyn Fn(&Path) -> RunOptions,
) -> Duration {
    let runtime = runtime();
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        let artifacts = TempDir::new().expect("the benchmark can create a temporary directory");
        let options = make_options(artifacts.path());
        let started = Instant::now();
        let runs =
            runtime.block_on(omk_gates::run_gates(specs, &options, &mut |_: GateEvent<'_>| {}));
        total += started.elapsed();
        assert!(runs.iter().all(|it| it.result.passed()), "every benchmark gate passes");
    }
    total
}

fn overhead(criterion: &mut Criterion) {
    let worktree = TempDir::new().expect("the benchmark can create a temporary directory");
    let specs = gates(&["/bin/true"]);
    let mut group = criterion.benchmark_group("gates_overhead_8_true");
    group.sample_size(20);
    group.bench_function("baseline_sh_loop", |bencher| {
        bencher.iter(|| {
            let status = Command::new("sh")
                .args(["-c", "for i in 1 2 3 4 5 6 7 8; do /bin/true; done"])
                .status()
                .expect("sh runs");
            assert!(status.success());
        });
    });
    group.bench_function("run_gates_jobs_1", |bencher| {
        bencher.iter_custom(|iterations| {
            time_runs(iterations, &specs, &|artifacts| options(worktree.path(), artifacts, 1))
        });
    });
    group.bench_function("run_gates_jobs_8", |bencher| {
        bencher.iter_custom(|iterations| {
            time_runs(iterations, &specs, &|artifacts| options(worktree.path(), artifacts, 8))
        });
    });
    group.finish();
}

fn parallel_sleep(criterion: &mut Criterion) {
    let worktree = TempDir::new().expect("the benchmark can create a temporary directory");
    let specs = gates(&["sleep", "0.5"]);
    let mut group = criterion.benchmark_group("gates_8_sleep_half_second");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("baseline_one_sleep", |bencher| {
        bencher.iter(|| Command::new("sleep").arg("0.5").status().expect("sleep runs"));
    });
    group.bench_function("run_gates_jobs_8", |bencher| {
        bencher.iter_custom(|iterations| {
            time_runs(iterations, &specs, &|artifacts| options(worktree.path(), artifacts, 8))
        });
    });
    group.finish();
}

fn cache_hit(criterion: &mut Criterion) {
    // A small git project, so the cache hashes a real tree.
    let worktree = TempDir::new().expect("the benchmark can create a temporary directory");
    let git = |args: &[&str]| omk_testkit::git(worktree.path(), args);
    git(&["init", "-q"]);
    for n in 0..50 {
        fs::create_dir_all(worktree.path().join("src")).expect("the benchmark can write files");
        fs::write(
            worktree.path().join(format!("src/file{n}.rs")),
            format!("// file {n}\n").repeat(40),
        )
        .expect("the benchmark can write files");
    }
    let cache_dir = TempDir::new().expect("the benchmark can create a temporary directory");
    let with_cache = |artifacts: &Path, read: bool| RunOptions {
        cache: Some(CacheOptions {
            dir: cache_dir.path().to_owned(),
            run_id: "bench".to_owned(),
            env_names: omk_gates::DEFAULT_CACHE_ENV.iter().map(|it| (*it).to_owned()).collect(),
            read,
            state_dir: None,
            listing: None,
        }),
        ..options(worktree.path(), artifacts, 8)
    };
    let specs = gates(&["sleep", "0.5"]);
    let mut group = criterion.benchmark_group("gates_cache_hit");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function("baseline_run_uncached", |bencher| {
        bencher.iter_custom(|iterations| {
            time_runs(iterations, &specs, &|artifacts| with_cache(artifacts, false))
        });
    });
    group.bench_function("cache_hit", |bencher| {
        bencher.iter_custom(|iterations| {
            time_runs(iterations, &specs, &|artifacts| with_cache(artifacts, true))
        });
    });
    group.finish();
}

criterion_group!(benches, overhead, parallel_sleep, cache_hit);
criterion_main!(benches);
