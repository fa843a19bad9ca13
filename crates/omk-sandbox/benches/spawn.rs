//! The sandbox's cost per spawned gate: `sandbox_spawn` starts `/bin/true` in its own process
//! group and waits for it, through the launcher confined by Landlock (`landlock`) and through
//! the launcher unconfined (`launcher_unconfined`), against `baseline_direct`, the same
//! command started directly.

use std::{
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Command, Stdio},
};

use criterion::{Criterion, criterion_group, criterion_main};

use omk_sandbox::{Policy, Sandbox};

const LAUNCHER: &str = env!("CARGO_BIN_EXE_omk-sandbox-launcher");

/// Starts `/bin/true` under `sandbox` as a gate is started, and waits for it.
fn spawn_and_wait(sandbox: &Sandbox) {
    let line = sandbox.command_line(&["/bin/true".to_owned()]);
    let (program, args) = line.split_first().expect("the command line has a program");
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .process_group(0)
        .status()
        .expect("the benchmark can start /bin/true");
    assert!(status.success(), "{status}");
}

fn spawn(criterion: &mut Criterion) {
    let dir = tempfile::tempdir().expect("the benchmark can create a temporary directory");
    let confined = Sandbox {
        launcher: Some(PathBuf::from(LAUNCHER)),
        policy: Policy::confined(vec![dir.path().to_owned()], false),
        env: Vec::new(),
        records: None,
    };
    let unconfined = Sandbox { policy: Policy::unconfined(), ..confined.clone() };
    let direct = Sandbox::direct();
    let mut group = criterion.benchmark_group("sandbox_spawn");
    group.bench_function("baseline_direct", |bencher| bencher.iter(|| spawn_and_wait(&direct)));
    group.bench_function("launcher_unconfined", |bencher| {
        bencher.iter(|| spawn_and_wait(&unconfined));
    });
    group.bench_function("landlock", |bencher| bencher.iter(|| spawn_and_wait(&confined)));
    group.finish();
}

criterion_group!(benches, spawn);
criterion_main!(benches);
