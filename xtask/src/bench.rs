//! `cargo xtask bench`: runs every benchmark of the workspace and rewrites `docs/benchmarks.md`.
//!
//! Benchmarks are criterion `[[bench]]` targets (`harness = false`) under `<crate>/benches/`.
//! They run with `CRITERION_HOME` set to a fresh `target/xtask-bench/criterion`, so the report has
//! exactly the benchmarks of this run; criterion writes `<group>/<function>[/<parameter>]/new/`
//! with `benchmark.json` (the ids) and `estimates.json` (the statistics, in nanoseconds).
//!
//! In each group, a function whose name starts with `baseline` is the baseline: every other
//! function with the same parameter is shown with the ratio of its mean to the baseline's.
//! Groups without a baseline show absolute figures. The report also names the machine.
//!
//! The whole-process figures come from omk-cli's `process` bench, which measures the `omk`
//! binary hyperfine-style rather than with criterion and writes them where [`whole`] reads.

#[cfg(test)]
mod tests;
mod whole;

use std::{
    cmp::Ordering,
    collections::BTreeMap,
    env,
    ffi::OsString,
    fs,
    path::{Path, PathBuf},
    process::Command,
    thread,
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::process;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Run only the benchmarks whose id matches REGEX (criterion's filter), such as event_log
    #[arg(long, value_name = "REGEX")]
    filter: Option<String>,
    /// Measure briefly (0.5 s warm-up, 1 s per benchmark) to check that benchmarks run; the
    /// figures are rough
    #[arg(long)]
    quick: bool,
}

/// One benchmark's result, as criterion saved it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measurement {
    pub(crate) group: String,
    /// `None` for a benchmark outside a group.
    pub(crate) function: Option<String>,
    pub(crate) parameter: Option<String>,
    /// The mean time of one iteration, with its confidence interval, in nanoseconds.
    pub(crate) mean_ns: f64,
    pub(crate) lower_ns: f64,
    pub(crate) upper_ns: f64,
    pub(crate) confidence_level: f64,
    /// Units processed per iteration, if the benchmark declared a throughput.
    pub(crate) throughput: Option<(u64, &'static str)>,
}

/// The machine a report was measured on.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: String,
    pub(crate) memory: String,
    pub(crate) os: String,
    pub(crate) rustc: String,
}

/// Everything `docs/benchmarks.md` shows.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) machine: Machine,
    /// The date, commit and command of the run, as shown.
    pub(crate) date: String,
    pub(crate) commit: String,
    pub(crate) command: String,
    pub(crate) quick: bool,
    pub(crate) measurements: Vec<Measurement>,
    /// The whole-process figures.
    pub(crate) processes: Vec<whole::ProcessGroup>,
}

const REPORT_PATH: &str = "docs/benchmarks.md";

/// Runs the benchmarks and rewrites the report.
pub(crate) fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    let targets = bench_targets(root)?;
    if targets.is_empty() {
        bail!(
            "the workspace has no benchmarks: add a `[[bench]]` with `harness = false` and a file \
             `<crate>/benches/<name>.rs` (see CONTRIBUTING.md)"
        );
    }
    let criterion_home = process::target_dir(root)?.join("xtask-bench").join("criterion");
    if criterion_home.exists() {
        fs::remove_dir_all(&criterion_home)
            .with_context(|| format!("failed to remove {}", criterion_home.display()))?;
    }
    fs::create_dir_all(&criterion_home)
        .with_context(|| format!("failed to create {}", criterion_home.display()))?;
    let process_dir = criterion_home.with_file_name("process");
    if process_dir.exists() {
        fs::remove_dir_all(&process_dir)
            .with_context(|| format!("failed to remove {}", process_dir.display()))?;
    }

    let mut cargo_args: Vec<String> = vec!["bench".to_owned(), "--locked".to_owned()];
    for (package, target) in &targets {
        cargo_args.extend(["--package".to_owned(), package.clone()]);
        cargo_args.extend(["--bench".to_owned(), target.clone()]);
    }
    cargo_args.push("--".to_owned());
    if args.quick {
        cargo_args.extend(
            ["--quick", "--warm-up-time", "0.5", "--measurement-time", "1"].map(str::to_owned),
        );
    }
    cargo_args.extend(args.filter.iter().cloned());
    let command = format!("cargo {}", cargo_args.join(" "));
    println!("bench: {command}");
    process::run(
        Command::new(crate::cargo())
            .args(&cargo_args)
            .env("CRITERION_HOME", &criterion_home)
            .env(whole::DIR_VARIABLE, &process_dir)
            .current_dir(root),
        &command,
    )?;

    let measurements = read_measurements(&criterion_home)?;
    let processes = whole::read_groups(&process_dir)?;
    if measurements.is_empty() && processes.is_empty() {
        let filter = args.filter.as_deref().unwrap_or_default();
        bail!(
            "no benchmark ran, so {REPORT_PATH} was left as it was: \
             does --filter `{filter}` match any benchmark id?"
        );
    }
    let report = Report {
        machine: machine(root),
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        commit: commit(root),
        command: match &args.filter {
            Some(filter) => format!("cargo xtask bench --filter {filter}"),
            None => "cargo xtask bench".to_owned(),
        } + if args.quick { " --quick" } else { "" },
        quick: args.quick,
        measurements,
        processes,
    };
    let path = root.join(REPORT_PATH);
    fs::write(&path, render(&report))
        .with_context(|| format!("failed to write {}", path.display()))?;
    println!(
        "bench: wrote {} ({} benchmarks, {} whole-process groups)",
        path.display(),
        report.measurements.len(),
        report.processes.len()
    );
    Ok(())
}

/// Reads every `new/benchmark.json` and its `estimates.json` under `criterion_home`, sorted by
/// group, function (baselines first) and parameter.
pub(crate) fn read_measurements(criterion_home: &Path) -> Result<Vec<Measurement>> {
    let mut files = Vec::new();
    find_benchmark_files(criterion_home, &mut files)?;
    let mut measurements = Vec::new();
    for benchmark_path in files {
        let estimates_path = benchmark_path.with_file_name("estimates.json");
        measurements.push(
            parse_measurement(&read(&benchmark_path)?, &read(&estimates_path)?).with_context(
                || format!("failed to read the criterion results in {}", benchmark_path.display()),
            )?,
        );
    }
    measurements.sort_by(compare_measurements);
    Ok(measurements)
}

/// Parses one benchmark's `benchmark.json` and `estimates.json`.
pub(crate) fn parse_measurement(benchmark: &str, estimates: &str) -> Result<Measurement> {
    let benchmark: Value =
        serde_json::from_str(benchmark).context("benchmark.json is not valid JSON")?;
    let estimates: Value =
        serde_json::from_str(estimates).context("estimates.json is not valid JSON")?;
    let group = benchmark["group_id"]
        .as_str()
        .context("benchmark.json has no string `group_id`")?
        .to_owned();
    let optional = |key: &str| benchmark[key].as_str().map(str::to_owned);
    let mean = &estimates["mean"];
    let number = |value: &Value, what: &str| {
        value.as_f64().with_context(|| format!("estimates.json has no number `{what}`"))
    };
    let throughput = match &benchmark["throughput"] {
        Value::Object(map) => map.iter().find_map(|(kind, value)| {
            let unit = match kind.as_str() {
                "Bytes" | "BytesDecimal" => "B",
                "Bits" => "bit",
                "Elements" => "elem",
                "ElementsAndBytes" => {
                    return value["elements"].as_u64().map(|elements| (elements, "elem"));
                }
                _ => return None,
            };
            value.as_u64().map(|count| (count, unit))
        }),
        _ => None,
    };
    Ok(Measurement {
        group,
        function: optional("function_id"),
        parameter: optional("value_str"),
        mean_ns: number(&mean["point_estimate"], "mean.point_estimate")?,
        lower_ns: number(
            &mean["confidence_interval"]["lower_bound"],
            "mean.confidence_interval.lower_bound",
        )?,
        upper_ns: number(
            &mean["confidence_interval"]["upper_bound"],
            "mean.confidence_interval.upper_bound",
        )?,
        confidence_level: number(
            &mean["confidence_interval"]["confidence_level"],
            "mean.confidence_interval.confidence_level",
        )?,
        throughput,
    })
}

/// Renders the report as Markdown, one table per group.
pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    let machine = &report.machine;
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line("# Benchmarks");
    line("");
    line("This file is written by `cargo xtask bench`; edit the benchmarks, not this file.");
    line(&format!(
        "Measured on {} at commit {} with `{}`.",
        report.date, report.commit, report.command
    ));
    if report.quick {
        line("This was a quick run (short warm-up and measurement), so the figures are rough.");
    }
    line("");
    line("## Machine");
    line("");
    line("| | |");
    line("| --- | --- |");
    for (name, value) in [
        ("CPU", &machine.cpu),
        ("cores", &machine.cores),
        ("memory", &machine.memory),
        ("OS", &machine.os),
        ("rustc", &machine.rustc),
    ] {
        line(&format!("| {name} | {} |", escape(value)));
    }
    line("");
    line("## Results");
    line("");
    line("Each time is criterion's mean for one iteration, with its confidence interval.");
    line(
        "In a group with a `baseline…` function, \"vs baseline\" is the mean divided by the baseline's mean for the same parameter: 2× takes twice as long as the baseline.",
    );
    line("Throughput is per second, from the mean.");

    let mut groups: BTreeMap<&str, Vec<&Measurement>> = BTreeMap::new();
    for measurement in &report.measurements {
        groups.entry(&measurement.group).or_default().push(measurement);
    }
    for (group, measurements) in groups {
        let baselines: BTreeMap<Option<&str>, &Measurement> = measurements
            .iter()
            .filter(|measurement| is_baseline(measurement))
            .rev()
            .map(|measurement| (measurement.parameter.as_deref(), *measurement))
            .collect();
        let has_parameters = measurements.iter().any(|measurement| measurement.parameter.is_some());
        line("");
        line(&format!("### {}", escape(group)));
        line("");
        let mut header = "| benchmark |".to_owned();
        let mut rule = "| --- |".to_owned();
        if has_parameters {
            header.push_str(" parameter |");
            rule.push_str(" ---: |");
        }
        header.push_str(" mean | confidence interval | throughput |");
        rule.push_str(" ---: | ---: | ---: |");
        if !baselines.is_empty() {
            header.push_str(" vs baseline |");
            rule.push_str(" ---: |");
        }
        line(&header);
        line(&rule);
        for measurement in measurements {
            let mut cells = vec![escape(measurement.function.as_deref().unwrap_or(group))];
            if has_parameters {
                cells.push(escape(measurement.parameter.as_deref().unwrap_or("—")));
            }
            cells.push(format_time(measurement.mean_ns));
            cells.push(format!(
                "{} – {} ({:.0}%)",
                format_time(measurement.lower_ns),
                format_time(measurement.upper_ns),
                measurement.confidence_level * 100.0
            ));
            cells.push(measurement.throughput.map_or_else(
                || "—".to_owned(),
                |(count, unit)| format_rate(count as f64 * 1e9 / measurement.mean_ns, unit),
            ));
            if !baselines.is_empty() {
                cells.push(if is_baseline(measurement) {
                    "baseline".to_owned()
                } else {
                    match baselines.get(&measurement.parameter.as_deref()) {
                        Some(baseline) => format_ratio(measurement.mean_ns / baseline.mean_ns),
                        None => "—".to_owned(),
                    }
                });
            }
            let row = format!("| {} |", cells.join(" | "));
            line(&row);
        }
    }
    out.push_str(&whole::render(&report.processes));
    out
}

/// Returns whether `measurement` is its group's baseline.
fn is_baseline(measurement: &Measurement) -> bool {
    measurement.function.as_deref().is_some_and(|function| function.starts_with("baseline"))
}

/// Orders by group, then baselines before the rest, then function, then parameter (numbers
/// numerically).
fn compare_measurements(left: &Measurement, right: &Measurement) -> Ordering {
    left.group
        .cmp(&right.group)
        .then_with(|| is_baseline(right).cmp(&is_baseline(left)))
        .then_with(|| left.function.cmp(&right.function))
        .then_with(|| compare_parameters(left.parameter.as_deref(), right.parameter.as_deref()))
}

fn compare_parameters(left: Option<&str>, right: Option<&str>) -> Ordering {
    match (left.map(str::parse::<f64>), right.map(str::parse::<f64>)) {
        (Some(Ok(left)), Some(Ok(right))) => left.total_cmp(&right),
        _ => left.cmp(&right),
    }
}

/// Formats nanoseconds with three significant digits and a unit from ns to s.
pub(crate) fn format_time(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", three_digits(value))
}

fn format_rate(per_second: f64, unit: &str) -> String {
    let (value, prefix) = if per_second < 1e3 {
        (per_second, "")
    } else if per_second < 1e6 {
        (per_second / 1e3, "K")
    } else if per_second < 1e9 {
        (per_second / 1e6, "M")
    } else {
        (per_second / 1e9, "G")
    };
    format!("{} {prefix}{unit}/s", three_digits(value))
}

fn format_ratio(ratio: f64) -> String {
    format!("{}×", three_digits(ratio))
}

/// Formats `value` with three significant digits (all the integer digits when there are more).
fn three_digits(value: f64) -> String {
    if value >= 99.95 {
        format!("{value:.0}")
    } else if value >= 9.995 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Escapes the characters that would break a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Returns the (package, target) of every bench target in the workspace, sorted.
fn bench_targets(root: &Path) -> Result<Vec<(String, String)>> {
    let metadata = process::workspace_metadata(root)?;
    let mut targets = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let Some(package_name) = package["name"].as_str() else { continue };
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_bench = target["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bench"));
            if let (true, Some(name)) = (is_bench, target["name"].as_str()) {
                targets.push((package_name.to_owned(), name.to_owned()));
            }
        }
    }
    targets.sort();
    Ok(targets)
}

fn find_benchmark_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("failed to list {}", dir.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("failed to list {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find_benchmark_files(&path, files)?;
        } else if path.file_name().is_some_and(|name| name == "benchmark.json")
            && dir.file_name().is_some_and(|name| name == "new")
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Describes this machine; a fact that cannot be read is "unknown".
fn machine(root: &Path) -> Machine {
    let unknown = || "unknown".to_owned();
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, name)| name))
        .map_or_else(unknown, |name| name.trim().to_owned());
    let cores = thread::available_parallelism().map_or_else(|_| unknown(), |n| n.to_string());
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| {
            let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_else(unknown);
    let distribution = fs::read_to_string("/etc/os-release").ok().and_then(|release| {
        release.lines().find_map(|line| {
            line.strip_prefix("PRETTY_NAME=").map(|name| name.trim_matches('"').to_owned())
        })
    });
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|k| k.trim().to_owned());
    let os = match (distribution, kernel) {
        (Some(distribution), Some(kernel)) => {
            format!("{distribution}, {} {kernel}", env::consts::OS)
        }
        (Some(distribution), None) => distribution,
        (None, Some(kernel)) => format!("{} {kernel}", env::consts::OS),
        (None, None) => env::consts::OS.to_owned(),
    };
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let rustc = process::read(Command::new(rustc).arg("-V").current_dir(root), "rustc -V")
        .map_or_else(|_| unknown(), |version| version.trim().to_owned());
    Machine { cpu, cores, memory, os, rustc }
}

/// Returns the abbreviated HEAD commit in backticks, saying when the tree has changes, or "unknown".
fn commit(root: &Path) -> String {
    let head = process::read(
        Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(root),
        "git rev-parse",
    );
    let dirty = process::read(
        Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .current_dir(root),
        "git status",
    )
    .is_ok_and(|status| !status.trim().is_empty());
    match head {
        Ok(head) if dirty => format!("`{}` plus uncommitted changes", head.trim()),
        Ok(head) => format!("`{}`", head.trim()),
        Err(_) => "unknown".to_owned(),
    }
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}
