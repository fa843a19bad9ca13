//! The sandbox's cost per spawned gate: `sandbox_spawn` starts `/bin/true` in its own process
//! group and waits for it, confined by Landlock and watched (`landlock`), watched only
//! (`watched_unconfined`), against `baseline_direct`, the same command started directly; and
//! confined and watched through `Sandbox::spawn`'s vfork-style clone instead of std's fork
//! (`landlock_cloned`, in a current-thread tokio runtime as the gate runner waits).

use std::{path::PathBuf, process::Stdio};

use criterion::{Criterion, criterion_group, criterion_main};

use omk_sandbox::{Policy, Sandbox, Spawn};

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

/// The same through [`Sandbox::spawn`], waited for on `runtime`.
fn clone_and_wait(sandbox: &Sandbox, runtime: &tokio::runtime::Runtime) {
    let spawn = Spawn {
        argv: vec!["/bin/true".to_owned()],
        cwd: PathBuf::from("/"),
        env: Vec::new(),
        stdin: None,
        stdout: None,
        stderr: None,
    };
    let mut child = sandbox.spawn(spawn).expect("the benchmark can start /bin/true");
    let supervised = sandbox.supervise(child.id()).expect("the benchmark can supervise");
    let status = runtime.block_on(child.wait()).expect("the benchmark can wait for /bin/true");
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the benchmark can build a runtime");
    group.bench_function("landlock_cloned", |bencher| {
        bencher.iter(|| clone_and_wait(&confined, &runtime));
    });
    group.finish();
}

criterion_group!(benches, spawn);
criterion_main!(benches);
