//! The sandbox's cost per spawned gate: `sandbox_spawn` starts `/bin/true` in its own process
//! group and waits for it, confined by Landlock and watched (`landlock`), watched only
//! (`watched_unconfined`), against `baseline_direct`, the same command started directly.

use std::{path::PathBuf, process::Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

use omk_sandbox::{Policy, Sandbox};

const WATCHER: &str = env!("CARGO_BIN_EXE_omk-sandbox-watcher");

/// Starts `/bin/true` under `sandbox` as a gate is started, and waits for it.
fn spawn_and_wait(sandbox: &Sandbox) {
    let mut child = sandbox
        .command(&["/bin/true".to_owned()])
        .and_then(|mut command| command.stdin(Stdio::null()).spawn())
        .expect("the benchmark can start /bin/true");
    let supervised = sandbox.supervise(child.id()).expect("the benchmark can supervise");
    let status = child.wait().expect("the benchmark can wait for /bin/true");
    drop(supervised);
    assert!(status.success(), "{status}");
}

fn spawn(criterion: &mut Criterion) {
    let dir = tempfile::tempdir().expect("the benchmark can create a temporary directory");
    let confined = Sandbox {
        watcher: Some(PathBuf::from(WATCHER)),
        policy: Policy::confined(vec![dir.path().to_owned()], false),
        env: Vec::new(),
        records: None,
    };
    let unconfined = Sandbox { policy: Policy::unconfined(), ..confined.clone() };
    let direct = Sandbox::direct();
    let mut group = criterion.benchmark_group("sandbox_spawn");
    group.bench_function("baseline_direct", |bencher| bencher.iter(|| spawn_and_wait(&direct)));
    group.bench_function("watched_unconfined", |bencher| {
        bencher.iter(|| spawn_and_wait(&unconfined));
    });
    group.bench_function("landlock", |bencher| bencher.iter(|| spawn_and_wait(&confined)));
    group.finish();
}

criterion_group!(benches, spawn);
criterion_main!(benches);
