//! `omk gates list` and `omk gates run`: the project's gates without an agent, fit to be a CI
//! quality gate on their own.

use std::{
    fmt::Write as _,
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
};

use tokio::signal::unix::{SignalKind, signal};

use omk_goal::{CheckoutGateRequest, CheckoutGates, GateEvent, GateRun, GateSource, PlannedGate};

use crate::{
    args::GatesRunArgs,
    commands::shared::{self, Context, SCHEMA_VERSION, runtime},
    error::{CliError, ExitCodes},
    json::{self, GateEntry, GateRunEntry, GatesListDocument, GatesRunDocument},
    output,
    progress::ProgressMode,
};

/// How many lines of a failed gate's output `omk gates run` shows.
const FAILURE_LINES: usize = 20;

pub(crate) fn run_gates_list(ctx: &Context) -> Result<u8, CliError> {
    let environment = shared::gate_environment();
    let gates = omk_goal::checkout_gates(&ctx.dir, &environment, &ctx.config_env)?;
    let text = if ctx.json { list_json(&gates) } else { list_text(&gates) };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_gates_run(ctx: &Context, args: &GatesRunArgs) -> Result<u8, CliError> {
    let omk_binary = ctx.process_omk_binary();
    let environment = shared::gate_environment();
    let gates = omk_goal::checkout_gates_to_run(&ctx.dir, &environment, &ctx.config_env)?;
    let request = CheckoutGateRequest {
        names: &args.names,
        environment: &environment,
        max_parallel: shared::parallelism(args.jobs),
        read_cache: !args.no_cache,
        at: ctx.clock.now(),
        interrupt: Some(&INTERRUPTED),
        omk_binary,
    };
    let show_progress = ctx.progress != ProgressMode::Off;
    let mut observer = |event: GateEvent<'_>| {
        if show_progress {
            match event {
                GateEvent::Started(started) => {
                    output::progress(&format!("  start {}", started.name));
                }
                GateEvent::Finished(run) => output::progress(&format!("  {}", result_line(run))),
            }
        }
    };
    let run = runtime()?.block_on(async {
        // Ctrl-C stops the gates (the runner stops every gate's process group and reports
        // them), and the run ends with 130. The handler is in place before any gate starts,
        // so a Ctrl-C never kills omk and leaves a gate running.
        let mut sigint = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            if sigint.recv().await.is_some() {
                INTERRUPTED.store(true, Ordering::Relaxed);
            }
        });
        omk_goal::run_checkout_gates(&gates, &request, &mut observer).await.map_err(with_gate_hints)
    });
    let run = run?;

    let shortfall = run.tests_shortfall.as_deref();
    let text = if ctx.json {
        run_json(&run.run_id, &run.run_dir, &run.runs, shortfall)
    } else {
        run_text(&gates.repo_root, &run.run_dir, &run.runs, shortfall)
    };
    output::print_stdout(&text)?;
    Ok(if run.interrupted {
        ExitCodes::INTERRUPTED
    } else if run.passed() {
        ExitCodes::SUCCESS
    } else {
        ExitCodes::NOT_READY
    })
}

/// Set by Ctrl-C during `omk gates run`.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Returns the CLI error of `err`, with what to do about a gate name or an empty plan.
fn with_gate_hints(err: omk_goal::Error) -> CliError {
    let hint = match &err {
        omk_goal::Error::UnknownGate { known, .. } if known.is_empty() => {
            Some("this repository has no gates: configure one with [[gates]] in omk.toml".to_owned())
        }
        omk_goal::Error::UnknownGate { known, .. } => {
            Some(format!("the gates are: {}", known.join(", ")))
        }
        omk_goal::Error::NoGateToRun => Some(
            "configure a gate with [[gates]] in omk.toml, or see `omk gates list` for what was detected"
                .to_owned(),
        ),
        _ => None,
    };
    let mut error = CliError::from(err);
    error.hints.extend(hint);
    error
}

fn list_text(gates: &CheckoutGates) -> String {
    if gates.plan.entries.is_empty() {
        return "no gates: none configured in omk.toml and none detected (Cargo.toml, package.json, \
                pyproject.toml, go.mod, Makefile, justfile)\nconfigure one with [[gates]] in omk.toml; see docs/gates.md\n"
            .to_owned();
    }
    let width = gates.plan.entries.iter().map(|it| it.spec.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for entry in &gates.plan.entries {
        let state = if entry.skipped.is_some() { "skip" } else { "run " };
        let required = if entry.spec.required { "required" } else { "optional" };
        let mut why = entry.source.describe();
        if let Some(skipped) = &entry.skipped {
            write!(why, "; skipped: {skipped}").expect("writing to a String cannot fail");
        }
        writeln!(
            text,
            "{state}  {:width$}  {:8}  {required}  {}\n      {why}",
            entry.spec.name,
            entry.spec.kind.to_string(),
            shell_words(&entry.spec.command.argv()),
        )
        .expect("writing to a String cannot fail");
    }
    text
}

fn list_json(gates: &CheckoutGates) -> String {
    json::to_string(&GatesListDocument {
        schema_version: SCHEMA_VERSION,
        repo_root: &gates.repo_root,
        gates: gates.plan.entries.iter().map(entry_json).collect(),
    })
}

fn entry_json(entry: &PlannedGate) -> GateEntry {
    let (source, config_line, replaces_detected, detected_because) = match &entry.source {
        GateSource::Configured { line, replaces } => {
            ("configured", Some(*line), replaces.clone(), None)
        }
        GateSource::Detected { reason } => ("detected", None, None, Some(reason.clone())),
        GateSource::Extra => ("command_line", None, None, None),
    };
    let spec = &entry.spec;
    GateEntry {
        name: spec.name.clone(),
        kind: spec.kind,
        command: spec.command.argv(),
        required: spec.required,
        timeout_secs: spec.timeout.as_secs(),
        cwd: spec.cwd.clone(),
        env: spec.env.clone(),
        inputs: spec.inputs.clone(),
        allow_no_tests: spec.allow_no_tests,
        runs: entry.skipped.is_none(),
        skipped_because: entry.skipped.clone(),
        source,
        config_line,
        replaces_detected,
        detected_because,
    }
}

fn run_json(
    run_id: &str,
    run_dir: &Path,
    runs: &[GateRun],
    tests_shortfall: Option<&str>,
) -> String {
    let run_dir = run_dir.to_path_buf();
    let gates = runs
        .iter()
        .map(|run| GateRunEntry {
            passed: omk_goal::gate_passed(&run.result),
            failure: omk_goal::failure_reason(&run.result),
            log: run.result.output.as_ref().map(|it| run_dir.join(&it.path)),
            cache_note: run.cache_note.as_deref(),
            result: &run.result,
        })
        .collect();
    let passed = tests_shortfall.is_none()
        && runs.iter().all(|it| !it.result.required || omk_goal::gate_passed(&it.result));
    json::to_string(&GatesRunDocument {
        schema_version: SCHEMA_VERSION,
        run_id,
        run_dir: &run_dir,
        passed,
        gates,
        tests_shortfall,
    })
}

fn run_text(
    repo_root: &Path,
    run_dir: &Path,
    runs: &[GateRun],
    tests_shortfall: Option<&str>,
) -> String {
    let mut text = String::new();
    for run in runs {
        writeln!(text, "{}", result_line(run)).expect("writing to a String cannot fail");
        if let Some(output) = &run.result.output {
            let log = run_dir.join(&output.path);
            let log = log.strip_prefix(repo_root).unwrap_or(&log);
            writeln!(text, "      log {}", log.display()).expect("writing to a String cannot fail");
        }
        if let Some(note) = &run.cache_note {
            writeln!(text, "      {note}").expect("writing to a String cannot fail");
        }
        if !omk_goal::gate_passed(&run.result) && !run.tail.is_empty() {
            let lines: Vec<&str> = run.tail.lines().collect();
            for line in &lines[lines.len().saturating_sub(FAILURE_LINES)..] {
                writeln!(text, "      | {line}").expect("writing to a String cannot fail");
            }
        }
    }
    let failed: Vec<&str> = runs
        .iter()
        .filter(|it| !omk_goal::gate_passed(&it.result))
        .map(|it| it.result.name.as_str())
        .collect();
    let required_failed =
        runs.iter().any(|it| it.result.required && !omk_goal::gate_passed(&it.result));
    let verdict = match (failed.is_empty(), required_failed) {
        (true, _) if tests_shortfall.is_some() => "FAILED: no counted tests".to_owned(),
        (true, _) => format!("all {} gate(s) passed", runs.len()),
        (false, true) => format!("FAILED: {}", failed.join(", ")),
        (false, false) => format!("passed; optional gate(s) failed: {}", failed.join(", ")),
    };
    if let Some(shortfall) = tests_shortfall {
        writeln!(text, "tests: {shortfall}").expect("writing to a String cannot fail");
    }
    writeln!(text, "{verdict}").expect("writing to a String cannot fail");
    text
}

/// Returns one line for a gate's result: verdict, name, how it ended, tests, duration, cache.
fn result_line(run: &GateRun) -> String {
    let result = &run.result;
    let verdict = match (omk_goal::gate_passed(result), result.required) {
        (true, _) => "pass",
        (false, true) => "FAIL",
        (false, false) => "fail",
    };
    let how = omk_goal::failure_reason(result).unwrap_or_else(|| "exit 0".to_owned());
    let tests = result
        .tests
        .map(|it| {
            format!(", tests {} passed {} failed {} skipped", it.passed, it.failed, it.skipped)
        })
        .unwrap_or_default();
    let cached =
        result.cached_from.as_deref().map(|it| format!(", cached from {it}")).unwrap_or_default();
    let optional = if result.required { "" } else { " (optional)" };
    format!(
        "{verdict}  {}{optional}  ({how}{tests}, {} ms{cached})",
        result.name, result.duration_ms
    )
}

/// Returns `argv` as one line a shell would split back into it, for reading.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            if !word.is_empty()
                && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
