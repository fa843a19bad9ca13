//! The built-in scripted agent: replays a scenario, executing its tool calls in the worktree.

use std::{
    fs::{self, File},
    io::{self, BufWriter, Read, Write},
    path::{Component, Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use omk_events::{
    ActivityKind, AgentActivity, AgentFinished, AgentStatus, ArtifactRef, TokenUsage,
    ToolCallRecord,
};
use omk_sandbox::{Sandbox, Spawn};

use crate::{
    context::RunContext,
    control::{Hold, short_text, stopped_error},
    error::Error,
    report::describe_call,
    scenario::{Scenario, ToolCall},
};

/// How long a `Shell` tool call may run.
const SHELL_TIMEOUT: Duration = Duration::from_secs(60);

/// Replays `scenario` in `ctx.worktree` and writes the transcript.
///
/// What it does goes to `ctx.control` as it happens; a stop request is honored between steps
/// and tool calls, and interrupts a running `Shell` call.
pub(crate) fn run(
    agent: &str,
    scenario: &Scenario,
    ctx: &RunContext<'_>,
) -> Result<AgentFinished, Error> {
    let started = Instant::now();
    let mut transcript = Transcript::create(ctx.artifact_root.join(ctx.transcript_path))?;
    let mut hold = Hold::new(ctx.control);

    let round = ctx.continuation.map_or(0, |it| it.round);
    let user_input = ctx.continuation.map_or(ctx.prompt, |it| it.follow_up);
    transcript.record("TurnBegin", json!({ "user_input": user_input }))?;
    let mut finished = AgentFinished::new(agent);
    finished.agent_version = Some(format!("omk-scripted {}", env!("CARGO_PKG_VERSION")));
    let mut turn_ended = false;
    // A repair round plays the scenario's part after its `===`; past the last, the agent gives
    // up.
    let Some(steps) = scenario.round(round) else {
        finished.error = Some(format!(
            "the scenario has no repair round {round}: it describes {}; the agent gives up",
            match scenario.rounds.len() {
                0 => "none".to_owned(),
                1 => "1 round".to_owned(),
                n => format!("{n} rounds"),
            }
        ));
        transcript.record("StepInterrupted", json!({ "error": finished.error }))?;
        return finish(finished, transcript, ctx, started);
    };
    'steps: for (step_idx, step) in steps.iter().enumerate() {
        if hold.stop_requested() {
            break;
        }
        let n = step_idx + 1;
        finished.steps += 1;
        let step_number = finished.steps;
        let activity = |kind: ActivityKind| AgentActivity::new(step_number, kind);
        transcript.record("StepBegin", json!({ "n": n }))?;
        hold.emit(&activity(ActivityKind::Step));
        // As for a process after each line: a turn budget stops the run as a turn starts.
        if hold.stop_requested() {
            break;
        }
        if let Some(error) = &step.error {
            transcript.record("StepInterrupted", json!({ "error": error }))?;
            finished.error = Some(format!("step {n}: the model provider failed: {error}"));
            turn_ended = true;
            break;
        }
        for think in &step.think {
            transcript.record("ContentPart", json!({ "type": "think", "think": think }))?;
        }
        for text in &step.text {
            transcript.record("ContentPart", json!({ "type": "text", "text": text }))?;
        }
        let text = step.text.join("\n");
        if !text.trim().is_empty() {
            hold.emit(&AgentActivity {
                text: Some(short_text(&text)),
                ..activity(ActivityKind::Message)
            });
        }
        if let Some(usage) = step.usage {
            let total = finished.usage.get_or_insert_with(TokenUsage::default);
            *total += usage;
            let total = *total;
            let token_usage = json!({
                "input_other": usage.input_uncached,
                "input_cache_read": usage.input_cache_read,
                "input_cache_creation": usage.input_cache_write,
                "output": usage.output,
            });
            transcript.record("StatusUpdate", json!({ "token_usage": token_usage }))?;
            hold.emit(&AgentActivity { usage: Some(total), ..activity(ActivityKind::Usage) });
            // A token budget stops the run on the report that crosses it, as for a process.
            if hold.stop_requested() {
                break;
            }
        }
        for call in &step.tool_calls {
            if hold.stop_requested() {
                break 'steps;
            }
            let site = ToolSite { worktree: ctx.worktree, sandbox: ctx.sandbox };
            call_tool(call, step_number, &site, &mut hold, &mut transcript, &mut finished)?;
        }
        if step.tool_calls.is_empty() {
            // A response without tool calls ends the turn, as in the Kimi CLI.
            finished.status = AgentStatus::Completed;
            finished.final_message = Some(text).filter(|text| !text.is_empty());
            transcript.record("TurnEnd", json!({}))?;
            turn_ended = true;
            break;
        }
    }
    if let Some(reason) = hold.stop_reason() {
        finished.status = AgentStatus::Failed;
        finished.error = Some(stopped_error(reason));
        finished.stopped = Some(reason.to_owned());
        transcript.record("StepInterrupted", json!({ "error": finished.error }))?;
    } else if !turn_ended {
        finished.error = Some(format!(
            "the scenario ran out after step {}, which made tool calls; end it with a step without tool_call",
            steps.len()
        ));
        transcript.record("StepInterrupted", json!({ "error": finished.error }))?;
    }
    finish(finished, transcript, ctx, started)
}

/// Closes the transcript and completes `finished` with it and the run's duration.
fn finish(
    mut finished: AgentFinished,
    transcript: Transcript,
    ctx: &RunContext<'_>,
    started: Instant,
) -> Result<AgentFinished, Error> {
    let path = transcript.finish()?;
    let artifact = ArtifactRef::of_file(ctx.artifact_root, ctx.transcript_path);
    finished.transcript = Some(artifact.map_err(|source| Error::Transcript { path, source })?);
    finished.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(finished)
}

/// Runs one tool call of step `step_number`: records it, tells `hold`, executes it in
/// `worktree`, and records its result.
/// Where the scripted agent's tools act: its worktree, and the sandbox its Shell tool runs in.
struct ToolSite<'a> {
    worktree: &'a Path,
    sandbox: &'a Sandbox,
}

fn call_tool(
    call: &ToolCall,
    step_number: u32,
    site: &ToolSite<'_>,
    hold: &mut Hold<'_>,
    transcript: &mut Transcript,
    finished: &mut AgentFinished,
) -> Result<(), Error> {
    let activity = |kind: ActivityKind| AgentActivity::new(step_number, kind);
    finished.tool_calls += 1;
    let call_json = json!({
        "id": call.id,
        "function": { "name": call.name, "arguments": call.arguments.to_string() },
    });
    transcript.record("ToolCall", call_json)?;
    hold.emit(&AgentActivity {
        tool: Some(call.name.clone()),
        tool_call_id: Some(call.id.clone()),
        text: describe_call(&call.arguments),
        ..activity(ActivityKind::ToolCall)
    });
    let result = execute(call, site, hold);
    if result.is_err() {
        finished.failed_tool_calls += 1;
    }
    finished.tool_call_log.push(ToolCallRecord {
        id: call.id.clone(),
        name: call.name.clone(),
        ok: Some(result.is_ok()),
    });
    hold.emit(&AgentActivity {
        tool: Some(call.name.clone()),
        tool_call_id: Some(call.id.clone()),
        ok: Some(result.is_ok()),
        ..activity(ActivityKind::ToolResult)
    });
    let (is_error, message) = match result {
        Ok(message) => (false, message),
        Err(message) => (true, message),
    };
    let return_value = json!({ "is_error": is_error, "message": message });
    transcript
        .record("ToolResult", json!({ "tool_call_id": call.id, "return_value": return_value }))?;
    Ok(())
}

/// The transcript file, written one wire-shaped event per line.
struct Transcript {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Transcript {
    /// Creates the transcript file; fails if it exists, so no earlier transcript is lost.
    fn create(path: PathBuf) -> Result<Self, Error> {
        let open = || {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            File::options().write(true).create_new(true).open(&path)
        };
        match open() {
            Ok(file) => Ok(Self { out: BufWriter::new(file), path }),
            Err(source) => Err(Error::Transcript { path, source }),
        }
    }

    /// Appends one event line, `{"type": .., "payload": ..}`.
    fn record(&mut self, event_type: &str, payload: Value) -> Result<(), Error> {
        let line = json!({ "type": event_type, "payload": payload });
        writeln!(self.out, "{line}")
            .map_err(|source| Error::Transcript { path: self.path.clone(), source })
    }

    /// Flushes and syncs the transcript to disk, and returns its path.
    fn finish(self) -> Result<PathBuf, Error> {
        match self.out.into_inner().map_err(|err| err.into_error()).and_then(|f| f.sync_all()) {
            Ok(()) => Ok(self.path),
            Err(source) => Err(Error::Transcript { path: self.path, source }),
        }
    }
}

/// Executes one tool call; returns the message the model would see, or the error message.
fn execute(call: &ToolCall, site: &ToolSite<'_>, hold: &mut Hold<'_>) -> Result<String, String> {
    let worktree = site.worktree;
    let args = &call.arguments;
    let text_arg = |key: &str| {
        args.get(key).and_then(Value::as_str).ok_or_else(|| {
            format!("{}: the argument {key:?} is missing or not a string", call.name)
        })
    };
    match call.name.as_str() {
        "WriteFile" => {
            let (relative, content) = (text_arg("path")?, text_arg("content")?);
            let path = confine(worktree, relative)?;
            let append = match args.get("mode").and_then(Value::as_str) {
                None | Some("overwrite") => false,
                Some("append") => true,
                Some(other) => {
                    return Err(format!(
                        "WriteFile: unknown mode {other:?}; use overwrite or append"
                    ));
                }
            };
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|err| format!("WriteFile {relative}: {err}"))?;
            }
            let mut file = File::options()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(&path)
                .map_err(|err| format!("WriteFile {relative}: {err}"))?;
            file.write_all(content.as_bytes())
                .map_err(|err| format!("WriteFile {relative}: {err}"))?;
            Ok(if append {
                "File successfully appended."
            } else {
                "File successfully overwritten."
            }
            .to_owned())
        }
        "StrReplaceFile" => {
            let relative = text_arg("path")?;
            let path = confine(worktree, relative)?;
            let mut content = fs::read_to_string(&path)
                .map_err(|err| format!("StrReplaceFile {relative}: {err}"))?;
            let edits = match args.get("edit") {
                Some(Value::Array(edits)) => edits.clone(),
                Some(edit @ Value::Object(_)) => vec![edit.clone()],
                _ => {
                    return Err(format!(
                        "StrReplaceFile {relative}: the argument \"edit\" must be an object or an array of objects"
                    ));
                }
            };
            for edit in &edits {
                let old = edit.get("old").and_then(Value::as_str).unwrap_or_default();
                let new = edit.get("new").and_then(Value::as_str).unwrap_or_default();
                if old.is_empty() || !content.contains(old) {
                    return Err(format!(
                        "StrReplaceFile {relative}: the text to replace was not found: {old:?}"
                    ));
                }
                content = if edit.get("replace_all").and_then(Value::as_bool).unwrap_or(false) {
                    content.replace(old, new)
                } else {
                    content.replacen(old, new, 1)
                };
            }
            fs::write(&path, content).map_err(|err| format!("StrReplaceFile {relative}: {err}"))?;
            Ok("File successfully edited.".to_owned())
        }
        "ReadFile" => {
            let relative = text_arg("path")?;
            let path = confine(worktree, relative)?;
            fs::read_to_string(&path).map_err(|err| format!("ReadFile {relative}: {err}"))
        }
        "Shell" => run_shell(text_arg("command")?, site, hold),
        other => Err(format!(
            "tool {other:?} is not supported by the scripted agent; use WriteFile, StrReplaceFile, ReadFile or Shell"
        )),
    }
}

/// Returns `worktree/relative`, refusing paths that leave the worktree.
fn confine(worktree: &Path, relative: &str) -> Result<PathBuf, String> {
    let path = Path::new(relative);
    let path = if path.is_absolute() {
        path.strip_prefix(worktree)
            .map_err(|_| format!("path {relative} is outside the worktree"))?
    } else {
        path
    };
    if path.as_os_str().is_empty()
        || !path.components().all(|it| matches!(it, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "path {relative} must be a file path inside the worktree, without '..'"
        ));
    }
    Ok(worktree.join(path))
}

/// Runs `command` with `sh -c` in the worktree through the sandbox, in its own process group,
/// which is killed after [`SHELL_TIMEOUT`] or when omk asks to stop the run.
fn run_shell(command: &str, site: &ToolSite<'_>, hold: &mut Hold<'_>) -> Result<String, String> {
    let start_error = |err: io::Error| format!("Shell: start sh: {err}");
    let (mut stdout, writer) = io::pipe().map_err(start_error)?;
    let spawn = Spawn {
        argv: vec!["sh".to_owned(), "-c".to_owned(), command.to_owned()],
        cwd: site.worktree.to_owned(),
        env: site.sandbox.inherited_env(&[]),
        stdin: None,
        stdout: Some(writer.into()),
        stderr: None,
    };
    let mut child = site.sandbox.spawn(spawn).map_err(start_error)?;
    let _supervised = site.sandbox.supervise(child.id()).map_err(|err| {
        child.end().ok();
        format!("Shell: record the process: {err}")
    })?;
    // The reader drains the pipe while the command runs, so a large output cannot block it.
    let reader = thread::spawn(move || {
        let mut output = String::new();
        stdout.read_to_string(&mut output).ok();
        output
    });
    let started = Instant::now();
    let status = loop {
        let ended = match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > SHELL_TIMEOUT => {
                format!("Shell: {command:?} timed out after {} s", SHELL_TIMEOUT.as_secs())
            }
            Ok(None) if hold.stop_requested() => {
                format!("Shell: {command:?} was killed because omk stopped the agent")
            }
            Ok(None) => {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(err) => return Err(format!("Shell: wait for {command:?}: {err}")),
        };
        // Ending the whole group also ends what the command started, which holds the pipe.
        child.end().ok();
        return Err(ended);
    };
    let output = reader.join().unwrap_or_default();
    if status.success() {
        Ok(output)
    } else {
        Err(format!("Shell: {command:?} failed with {status}: {output}"))
    }
}
