//! Whole-process benchmarks of the `omk` binary: what a user's shell or a CI job waits for,
//! from spawning `omk` to its exit, startup, linking and config layering included.
//!
//! Measured hyperfine-style rather than with criterion: each group runs its commands in
//! interleaved rounds (a baseline command first, the start rotating each round), so load from
//! other processes falls on all of them alike, and reports the median, the fastest and the
//! slowest run of each. The groups:
//!
//! - `process_version`: `omk --version` against `git --version`;
//! - `process_replay_1m`: `omk replay` of a 1,000,000-event goal log (the one the
//!   `event_log_replay_1m` bench replays in process) against `wc -l` of the same file, with the
//!   peak resident memory of the children;
//! - `process_gates_run_8_true`: `omk gates run --no-cache` with 8 test gates of `/bin/true` (their
//!   exit code standing for their tests) against
//!   one `sh` running `/bin/true` 8 times in a loop;
//! - `process_goals_1000`: `omk list` and `omk status` in a repository with 1,000 goals against
//!   `git rev-parse HEAD` there;
//! - `process_time_to_verdict`: `omk run` with a `cmd:` agent that works for 3 s and a test gate
//!   that takes 3 s, in a fresh repository each run (so no gate result comes from the cache),
//!   against the agent's command and one run of the gate one after the other. The baseline gates
//!   run beside the agent, so the ratio is near 1 (before they did, it was about 1.5).
//! - `process_repair_round`: `omk run` with the scripted agent on a shell project whose test
//!   fails, the agent fixing the code in a repair round (its second run) and the goal reaching
//!   `awaiting_acceptance` in that one `omk run`, against the same goal with an agent that fixes
//!   it in its first run (`--repair 0`).
//!
//! Every fixture is built here, with omk-testkit's hermetic git and a fresh `HOME`. With
//! `OMK_BENCH_PROCESS_DIR` set (as `cargo xtask bench` sets it), each group's figures are also
//! written there as `<group>.json` for `docs/benchmarks.md`. Arguments are those criterion
//! takes: `--quick` makes fewer runs, and a word that is not a flag keeps only the benchmarks
//! whose `group/function` contains it.

#![expect(clippy::print_stdout, reason = "the bench prints its figures as criterion would")]

mod common;

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{REPLAY_EVENTS, write_replay_log};
use omk_events::{EventLog, GoalId};
use omk_goal::Layout;
use omk_testkit::{Log, TestRepo};
use serde_json::json;

/// The `omk` binary cargo built for this bench.
const OMK: &str = env!("CARGO_BIN_EXE_omk");

/// What the command line asked for.
struct Settings {
    quick: bool,
    filter: Option<String>,
    out_dir: Option<PathBuf>,
}

impl Settings {
    fn from_env() -> Self {
        let mut quick = false;
        let mut filter = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                // Criterion's options with a value; their value is no filter.
                "--warm-up-time" | "--measurement-time" | "--sample-size" | "--save-baseline"
                | "--baseline" => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                word => filter = Some(word.to_owned()),
            }
        }
        let out_dir = std::env::var_os("OMK_BENCH_PROCESS_DIR").map(PathBuf::from);
        Self { quick, filter, out_dir }
    }

    fn wants(&self, group: &str) -> bool {
        self.filter.as_deref().is_none_or(|filter| group.contains(filter))
    }

    /// The number of timed rounds: `slow` for groups whose command takes a second.
    fn rounds(&self, slow: bool) -> usize {
        match (self.quick, slow) {
            (true, true) => 3,
            (true, false) => 5,
            (false, true) => 7,
            (false, false) => 21,
        }
    }
}

/// One command of a group, and the times of its runs.
struct Bench {
    function: &'static str,
    command: Box<dyn Fn() -> Command>,
    times: Vec<Duration>,
    /// The CPU time (user and system) of each run: steadier than the wall time when other
    /// processes load the machine.
    cpu: Vec<Duration>,
}

impl Bench {
    fn new(function: &'static str, command: impl Fn() -> Command + 'static) -> Self {
        Self { function, command: Box::new(command), times: Vec::new(), cpu: Vec::new() }
    }
}

/// The CPU time of every child waited for so far.
fn children_cpu() -> Duration {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).map_or(
        Duration::ZERO,
        |usage| {
            let time = |t: nix::sys::time::TimeVal| {
                Duration::new(
                    u64::try_from(t.tv_sec()).unwrap_or(0),
                    u32::try_from(t.tv_usec()).unwrap_or(0) * 1000,
                )
            };
            time(usage.user_time()) + time(usage.system_time())
        },
    )
}

/// Runs `command` to its end, its output discarded, and returns how long it took and the CPU
/// time it used, its children's included; a failure stops the bench with its stderr.
fn time_once(mut command: Command) -> (Duration, Duration) {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = command.output().expect("the benchmarked command starts");
    let elapsed = started.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (elapsed, cpu)
}

/// Times `benches` in `rounds` interleaved rounds after one untimed warm-up run each.
fn measure(benches: &mut [Bench], rounds: usize) {
    for bench in benches.iter() {
        time_once((bench.command)());
    }
    for round in 0..rounds {
        for offset in 0..benches.len() {
            let bench = &mut benches[(round + offset) % benches.len()];
            let (time, cpu) = time_once((bench.command)());
            bench.times.push(time);
            bench.cpu.push(cpu);
        }
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// Prints the group's figures and writes them for `cargo xtask bench`.
fn report(
    settings: &Settings,
    group: &str,
    benches: &[Bench],
    elements: Option<u64>,
    rss: Option<u64>,
) {
    let baseline = median(&benches[0].times);
    let mut rows = Vec::new();
    for bench in benches {
        let median = median(&bench.times);
        let min = bench.times.iter().min().copied().unwrap_or_default();
        let max = bench.times.iter().max().copied().unwrap_or_default();
        let ratio = median.as_secs_f64() / baseline.as_secs_f64();
        let cpu = self::median(&bench.cpu);
        let rate = elements
            .map(|n| format!(" {:.0} Kelem/s", n as f64 / median.as_secs_f64() / 1e3))
            .unwrap_or_default();
        println!(
            "{group}/{}: median {:.2} ms (min {:.2}, max {:.2}, {} runs), CPU {:.2} ms{rate} {ratio:.2}x",
            bench.function,
            median.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            bench.times.len(),
            cpu.as_secs_f64() * 1e3,
        );
        rows.push(json!({
            "group": group,
            "function": bench.function,
            "median_ns": median.as_nanos() as u64,
            "min_ns": min.as_nanos() as u64,
            "max_ns": max.as_nanos() as u64,
            "runs": bench.times.len(),
            "cpu_ns": cpu.as_nanos() as u64,
            "elements": elements,
        }));
    }
    if let Some(rss) = rss {
        println!("{group}: peak resident memory of any child so far {rss} KiB");
    }
    if let Some(dir) = &settings.out_dir {
        fs::create_dir_all(dir).expect("create the bench output directory");
        let document = json!({ "group": group, "rows": rows, "peak_rss_kib": rss });
        fs::write(dir.join(format!("{group}.json")), document.to_string())
            .expect("write the bench figures");
    }
}

/// Returns `omk args…` to run in `dir`, hermetic for git and with `home` as its home.
fn omk(dir: &Path, home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(OMK);
    command.args(args).current_dir(dir).env("HOME", home).env_remove("XDG_CONFIG_HOME");
    command.env_remove("OMK_LOG").env_remove("OMK_NOW");
    omk_testkit::hermetic(&mut command);
    command
}

/// The peak resident memory of the largest child waited for so far, in KiB.
fn children_peak_rss_kib() -> u64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map_or(0, |usage| u64::try_from(usage.max_rss()).unwrap_or(0))
}

fn replay(settings: &Settings, home: &Path) {
    let group = "process_replay_1m";
    if !settings.wants(group) {
        return;
    }
    let repo = TestRepo::new();
    let goal = GoalId::parse("bench-replay").expect("a valid goal id");
    let log = Layout::new(repo.root()).goal(&goal).events;
    fs::create_dir_all(log.parent().expect("a goal directory")).expect("create the goal");
    write_replay_log(&log, goal.as_str());
    let root = repo.root().to_owned();
    let home = home.to_owned();
    let wc_log = log.clone();
    let mut benches = [
        Bench::new("baseline_wc_l", move || {
            let mut command = Command::new("wc");
            command.arg("-l").arg(&wc_log);
            command
        }),
        Bench::new("omk_replay", move || omk(&root, &home, &["replay", goal.as_str()])),
    ];
    measure(&mut benches, settings.rounds(true));
    // Run first, before any large git, so the largest child is `omk replay`.
    report(settings, group, &benches, Some(REPLAY_EVENTS), Some(children_peak_rss_kib()));
}

fn version(settings: &Settings, home: &Path) {
    let group = "process_version";
    if !settings.wants(group) {
        return;
    }
    let (dir, home) = (home.to_owned(), home.to_owned());
    let mut benches = [
        Bench::new("baseline_git_version", || {
            let mut command = Command::new("git");
            command.arg("--version");
            command
        }),
        Bench::new("omk_version", move || omk(&dir, &home, &["--version"])),
    ];
    measure(&mut benches, settings.rounds(false));
    report(settings, group, &benches, None, None);
}

fn gates_run(settings: &Settings, home: &Path) {
    let group = "process_gates_run_8_true";
    if !settings.wants(group) {
        return;
    }
    let repo = TestRepo::new();
    let gates: String = (1..=8)
        .map(|n| {
            // Test gates whose exit code stands for their tests, so the run passes (exit 0)
            // as a user's would: without a test gate `omk gates run` says the tests are unknown.
            format!(
                "[[gates]]\nname = \"g{n}\"\ncommand = [\"/bin/true\"]\nkind = \"test\"\ntests = \"exit-code\"\n\n"
            )
        })
        .collect();
    repo.write("omk.toml", &gates);
    repo.commit("eight gates");
    let root = repo.root().to_owned();
    let home = home.to_owned();
    let mut benches = [
        Bench::new("baseline_sh_loop", || {
            let mut command = Command::new("sh");
            command.args(["-c", "for i in 1 2 3 4 5 6 7 8; do /bin/true; done"]);
            command
        }),
        Bench::new("omk_gates_run", move || omk(&root, &home, &["gates", "run", "--no-cache"])),
    ];
    measure(&mut benches, settings.rounds(false));
    report(settings, group, &benches, None, None);
    drop(repo);
}

fn goals(settings: &Settings, home: &Path) {
    let group = "process_goals_1000";
    if !settings.wants(group) {
        return;
    }
    let repo = TestRepo::with_files(&[("README.md", "a project with many goals\n")]);
    let layout = Layout::new(repo.root());
    let verified = Log::verified();
    for n in 0..1000 {
        let goal = GoalId::parse(&format!("20261121-200000-{n:06x}")).expect("a valid goal id");
        let path = layout.goal(&goal).events;
        fs::create_dir_all(path.parent().expect("a goal directory")).expect("create the goal");
        let mut log = EventLog::create(&path, &goal).expect("create the goal's log");
        for envelope in &verified.events {
            log.append(envelope.at, envelope.event.clone()).expect("append");
        }
    }
    let root = repo.root().to_owned();
    let (list_root, status_root) = (root.clone(), root.clone());
    let (list_home, status_home) = (home.to_owned(), home.to_owned());
    let mut benches = [
        Bench::new("baseline_git_rev_parse", move || {
            let mut command = omk_testkit::git_command(&root);
            command.args(["rev-parse", "HEAD"]);
            command
        }),
        Bench::new("omk_list", move || omk(&list_root, &list_home, &["list"])),
        Bench::new("omk_status", move || omk(&status_root, &status_home, &["status"])),
    ];
    measure(&mut benches, settings.rounds(false));
    report(settings, group, &benches, None, None);
    drop(repo);
}

/// What the agent of `process_time_to_verdict` does: 3 s of work, then a new file.
const VERDICT_AGENT: &str = "sleep 3; echo hi > a.txt";
/// The test gate of `process_time_to_verdict`: 3 s, then a count omk reads.
const VERDICT_GATE: &str = "sleep 3; echo '1 passed, 0 failed'\n";

fn time_to_verdict(settings: &Settings, home: &Path) {
    let group = "process_time_to_verdict";
    if !settings.wants(group) {
        return;
    }
    let dir = tempfile::tempdir().expect("a directory for the repositories");
    let root = dir.path().to_owned();
    let home = home.to_owned();
    let runs = std::sync::atomic::AtomicUsize::new(0);
    let scratch = root.join("baseline");
    fs::create_dir_all(&scratch).expect("create the baseline's directory");
    fs::write(scratch.join("test.sh"), VERDICT_GATE).expect("write the gate");
    let mut benches = [
        Bench::new("baseline_agent_then_gate", move || {
            let mut command = Command::new("sh");
            command.args(["-c", &format!("{VERDICT_AGENT}; sh test.sh")]).current_dir(&scratch);
            command
        }),
        Bench::new("omk_run", move || {
            let n = runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let repo = verdict_repo(&root.join(format!("repo-{n}")));
            let agent = format!("cmd:{VERDICT_AGENT}");
            omk(&repo, &home, &["run", "add a.txt", "--agent", &agent, "--no-fail-to-pass"])
        }),
    ];
    measure(&mut benches, settings.rounds(true));
    report(settings, group, &benches, None, None);
    drop(dir);
}

/// Creates a repository at `path` whose `omk.toml` declares the 3 s test gate.
fn verdict_repo(path: &Path) -> PathBuf {
    fs::create_dir_all(path).expect("create the repository");
    let toml = "[[gates]]\nname = \"unit\"\nkind = \"test\"\ncommand = \"sh test.sh\"\n";
    fs::write(path.join("omk.toml"), toml).expect("write omk.toml");
    fs::write(path.join("test.sh"), VERDICT_GATE).expect("write the gate");
    for args in [
        &["init", "--quiet", "--initial-branch=main"][..],
        &["add", "--all"],
        &["commit", "--quiet", "-m", "base"],
    ] {
        let status = omk_testkit::git_command(path).args(args).status().expect("git starts");
        assert!(status.success(), "git {args:?} failed in {}", path.display());
    }
    path.to_owned()
}

/// The bug every repair scenario fixes, its test and its gate.
const LIB_SH: &str = "add() { echo $(($1 - $2)); }\n";
const TEST_SH: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ] || { echo \"add 2 3 is $(add 2 3)\"; \
     echo '0 passed, 1 failed'; exit 1; }\necho '1 passed, 0 failed'\n";
const OMK_TOML: &str = "[[gates]]\nname = \"unit\"\nkind = \"test\"\ncommand = \"sh test.sh\"\n";
const FIX_ADD: &str = r#"text: Fixing the operator.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
---
text: Fixed add().
"#;
const NOTES: &str = r##"text: Notes first.
tool_call: {"id": "tc-0", "name": "WriteFile", "arguments": "{\"path\": \"notes.md\", \"content\": \"# notes\\n\"}"}
"##;

fn repair_round(settings: &Settings, home: &Path) {
    let group = "process_repair_round";
    if !settings.wants(group) {
        return;
    }
    let repo =
        TestRepo::with_files(&[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)]);
    let scenarios = tempfile::tempdir().expect("a directory for the scenarios");
    let one_round = scenarios.path().join("fix.txt");
    // The first run writes notes and leaves the test failing; the repair round fixes `add`.
    let two_rounds = scenarios.path().join("notes-then-fix.txt");
    fs::write(&one_round, format!("{NOTES}---\n{FIX_ADD}")).expect("write the scenario");
    fs::write(&two_rounds, format!("{NOTES}---\ntext: Done.\n===\n{FIX_ADD}"))
        .expect("write the scenario");
    let run = |scenario: &Path, repair: &str| {
        let (root, home) = (repo.root().to_owned(), home.to_owned());
        let agent = format!("script:{}", scenario.display());
        let repair = repair.to_owned();
        move || omk(&root, &home, &["run", "fix add", "--agent", &agent, "--repair", &repair])
    };
    // Each run is a new goal; check once that the repair round gets the goal ready.
    let output = run(&two_rounds, "2")().arg("--json").output().expect("omk run starts");
    let document: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("omk run --json prints a document");
    assert_eq!(document["proof"]["readiness"], "awaiting_acceptance", "{document:#}");
    assert_eq!(document["proof"]["repair"]["rounds"][0]["outcome"], "passed", "{document:#}");
    let mut benches = [
        Bench::new("baseline_fixed_in_one_run", run(&one_round, "0")),
        Bench::new("omk_run_fixed_in_repair_round", run(&two_rounds, "2")),
    ];
    measure(&mut benches, settings.rounds(true));
    report(settings, group, &benches, None, None);
    drop(repo);
}

fn main() {
    let settings = Settings::from_env();
    let home = tempfile::tempdir().expect("the bench needs a temporary home");
    replay(&settings, home.path());
    version(&settings, home.path());
    gates_run(&settings, home.path());
    goals(&settings, home.path());
    time_to_verdict(&settings, home.path());
    repair_round(&settings, home.path());
}
