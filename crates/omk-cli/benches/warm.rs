//! Warm builds on a real crate: the first goal's `cargo test` gate against the same `cargo test`
//! rerun in the user's already-built checkout (issue 23, part 4).
//!
//! The crate is `itoa` from crates.io, as the package registry ships it (with its `Cargo.lock`
//! and its dev-dependency on criterion): its source comes from the developer's cargo registry
//! through `cargo metadata` of a scratch project that depends on it (offline first, so the bench
//! works offline once the crate was fetched; online otherwise), and is committed to a fresh git
//! repository with an `omk.toml` whose only gate is `cargo test`. The user's build, `cargo test`
//! in the checkout, runs once before the measurements. Then, in one criterion run:
//!
//! - `baseline_cargo_test_in_checkout`: one line appended to `src/lib.rs` in the checkout, then
//!   `cargo test` there (the time of `cargo test` alone), then the file restored;
//! - `omk_first_goal_gate`: `omk run` with a `cmd:` agent that appends a line of its own (a new
//!   tree each time, so no gate cache serves it) in a fresh goal worktree, measured as the
//!   proposed `cargo test` gate's own duration in the proof (the baseline gate on the base tree
//!   is served by the gate cache after the first run, so this is the worktree's first build);
//! - `omk_first_goal_run`: the same, measured as the whole `omk run` (worktree, agent, seeding
//!   the build directory, gates, proof).
//!
//! The goals' build directories are removed after each run, so each one is seeded afresh.

#![expect(
    clippy::print_stdout,
    reason = "the bench prints the user's first build beside criterion's"
)]

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use tempfile::TempDir;

/// The `omk` binary cargo built for this bench.
const OMK: &str = env!("CARGO_BIN_EXE_omk");

/// A unique number for each one-line change, so that no two trees are alike.
static CHANGE: AtomicU64 = AtomicU64::new(0);

/// The checkout of the crate, built once as the user would.
struct Checkout {
    _dir: TempDir,
    repo: PathBuf,
    home: PathBuf,
    cargo_home: PathBuf,
    rustup_home: PathBuf,
}

impl Checkout {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("the bench needs a temporary directory");
        let home = dir.path().join("home");
        fs::create_dir(&home).expect("a home");
        let real_home = std::env::var("HOME").unwrap_or_default();
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map_or_else(|| Path::new(&real_home).join(".cargo"), PathBuf::from);
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map_or_else(|| Path::new(&real_home).join(".rustup"), PathBuf::from);
        let checkout =
            Self { repo: dir.path().join("itoa"), _dir: dir, home, cargo_home, rustup_home };
        let source = checkout.itoa_source();
        copy_dir(&source, &checkout.repo);
        fs::remove_file(checkout.repo.join(".cargo_vcs_info.json")).ok();
        fs::write(checkout.repo.join(".gitignore"), "target/\n").expect("a .gitignore");
        fs::write(
            checkout.repo.join("omk.toml"),
            "[detect]\nenabled = false\n\n[[gates]]\nname = \"test\"\ncommand = \"cargo test\"\n",
        )
        .expect("an omk.toml");
        checkout.git(&["init", "--quiet", "--initial-branch=main"]);
        checkout.git(&["add", "--all"]);
        checkout.git(&["commit", "--quiet", "-m", "itoa from crates.io"]);
        let started = Instant::now();
        let built = checkout.cargo(&["test"]).status().expect("cargo runs");
        assert!(built.success(), "the user's cargo test fails in {}", checkout.repo.display());
        println!("warm: the user's first cargo test took {:.1?}", started.elapsed());
        checkout
    }

    /// Returns the directory of itoa's source in the cargo registry, fetching it when missing.
    fn itoa_source(&self) -> PathBuf {
        let scratch = self.repo.with_file_name("scratch");
        fs::create_dir_all(scratch.join("src")).expect("a scratch project");
        fs::write(
            scratch.join("Cargo.toml"),
            "[package]\nname = \"scratch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nitoa = \"1\"\n\n[workspace]\n",
        )
        .expect("a scratch manifest");
        fs::write(scratch.join("src/lib.rs"), "").expect("a scratch lib");
        let metadata = |offline: bool| {
            let mut command = Command::new("cargo");
            command.args(["metadata", "--format-version", "1"]).current_dir(&scratch);
            if offline {
                command.arg("--offline");
            }
            self.env(&mut command).stderr(Stdio::null()).output().ok()
        };
        let output = metadata(true)
            .filter(|it| it.status.success())
            .or_else(|| metadata(false))
            .expect("cargo metadata runs");
        assert!(output.status.success(), "cannot get itoa's source: run `cargo fetch` online");
        let metadata: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
        let manifest = metadata["packages"]
            .as_array()
            .and_then(|it| it.iter().find(|package| package["name"] == "itoa"))
            .and_then(|it| it["manifest_path"].as_str())
            .expect("the scratch project depends on itoa");
        Path::new(manifest).parent().expect("a manifest has a directory").to_owned()
    }

    /// The environment of the user's shell: the real cargo and rustup homes, no target directory
    /// from outside.
    fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command
            .env("HOME", &self.home)
            .env("CARGO_HOME", &self.cargo_home)
            .env("RUSTUP_HOME", &self.rustup_home)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("OMK_LOG")
            .env_remove("OMK_NOW")
            .env_remove("OMK_SHARED_BUILDS");
        omk_testkit::hermetic(command)
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new("cargo");
        command.args(args).current_dir(&self.repo).stdout(Stdio::null()).stderr(Stdio::null());
        self.env(&mut command);
        command
    }

    fn git(&self, args: &[&str]) {
        let status = omk_testkit::git_command(&self.repo).args(args).status().expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// Appends a one-line change to the checkout's `src/lib.rs`, times `cargo test`, and
    /// restores the file.
    fn cargo_test_after_a_change(&self) -> Duration {
        let lib = self.repo.join("src/lib.rs");
        let original = fs::read_to_string(&lib).expect("src/lib.rs");
        let change = CHANGE.fetch_add(1, Ordering::Relaxed);
        fs::write(&lib, format!("{original}// change {change}\n")).expect("a change");
        let started = Instant::now();
        let status = self.cargo(&["test"]).status().expect("cargo runs");
        let elapsed = started.elapsed();
        assert!(status.success(), "cargo test fails in the checkout");
        fs::write(&lib, original).expect("the file restored");
        elapsed
    }

    /// Runs a goal whose agent appends a one-line change; returns the proposed gate's duration
    /// and the whole run's.
    fn first_goal(&self) -> (Duration, Duration) {
        let change = CHANGE.fetch_add(1, Ordering::Relaxed);
        let agent = format!("cmd:echo '// change {change}' >> src/lib.rs");
        let mut command = Command::new(OMK);
        command
            .args(["run", "a one-line change", "--agent", &agent, "--json"])
            .current_dir(&self.repo)
            .stderr(Stdio::null());
        self.env(&mut command);
        let started = Instant::now();
        let output = command.output().expect("omk runs");
        let run = started.elapsed();
        let document: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("omk run --json prints JSON");
        let goal = document["goal_id"].as_str().expect("a goal id");
        let proof: serde_json::Value = serde_json::from_slice(
            &fs::read(self.repo.join(".omk/goals").join(goal).join("proof.json"))
                .expect("the proof"),
        )
        .expect("the proof is JSON");
        let gate = proof["gates"]
            .as_array()
            .and_then(|it| it.iter().find(|gate| gate["phase"] == "proposed"))
            .expect("a proposed gate");
        assert_eq!(gate["exit_code"], 0, "the gate fails: {proof:#}");
        assert!(gate["cached_from"].is_null(), "the gate cache served the change: {proof:#}");
        let gate = Duration::from_millis(gate["duration_ms"].as_u64().expect("a duration"));
        fs::remove_dir_all(self.repo.join(".omk/cache/build")).ok();
        (gate, run)
    }
}

/// Copies the directory `from` to `to`.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("a directory");
    for entry in fs::read_dir(from).expect("the crate's source").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|it| it.is_dir()) {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("a file of the crate");
        }
    }
}

fn warm(c: &mut Criterion) {
    let checkout = Checkout::new();
    let mut group = c.benchmark_group("warm_first_goal_itoa");
    group.sample_size(10).warm_up_time(Duration::from_millis(1));
    group.bench_function("baseline_cargo_test_in_checkout", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| checkout.cargo_test_after_a_change()).sum());
    });
    group.bench_function("omk_first_goal_gate", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| checkout.first_goal().0).sum());
    });
    group.bench_function("omk_first_goal_run", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| checkout.first_goal().1).sum());
    });
    group.finish();
}

criterion_group!(benches, warm);
criterion_main!(benches);
