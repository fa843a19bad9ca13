//! Tests of the scripted agent on real files in a temporary worktree.

use std::{fs, path::Path};

use omk_agent::{AgentConfig, AgentEnvironment, AgentSpec, AgentStatus, Error, RunContext};
use omk_events::{AgentFinished, sha256_hex};

mod control;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Writes `scenario` and the worktree `files`, runs the scripted agent, returns its report.
fn check(
    scenario: &str,
    files: &[(&str, &str)],
) -> Result<(AgentFinished, tempfile::TempDir), Error> {
    let dir = tempfile::tempdir().expect("temp dir");
    let worktree = dir.path().join("wt");
    fs::create_dir(&worktree).expect("create worktree");
    for (path, content) in files {
        fs::write(worktree.join(path), content).expect("write worktree file");
    }
    let scenario_path = dir.path().join("scenario.txt");
    fs::write(&scenario_path, scenario).expect("write scenario");
    let spec = AgentSpec::parse(&format!("script:{}", scenario_path.display()))?;
    let agent = omk_agent::prepare(&spec, &AgentConfig::default(), &AgentEnvironment::default())?;
    let goal = dir.path().join("goal");
    let finished = agent
        .run(&RunContext {
            worktree: &worktree,
            prompt: "fix the test",
            goal_id: "20261121-200000-abcdef",
            artifact_root: &goal,
            transcript_path: "artifacts/agent/transcript.jsonl",
            control: None,
            sandbox: &omk_sandbox::Sandbox::direct(),
            mcp: None,
            continuation: None,
        })?
        .finished;
    Ok((finished, dir))
}

fn read(dir: &Path, path: &str) -> String {
    fs::read_to_string(dir.join(path)).expect("file exists")
}

/// The example of `agent-protocols.md` §6.1: the same file runs against the real Kimi CLI.
const FIX_SCENARIO: &str = r#"[
  "id: s1\nusage: {\"input_other\": 120, \"output\": 15}\ntext: Reading the test.\ntool_call: {\"id\":\"tc-1\",\"name\":\"ReadFile\",\"arguments\":\"{\\\"path\\\":\\\"src/lib.rs\\\"}\"}",
  "id: s2\nusage: {\"input_other\": 40, \"input_cache_read\": 120, \"output\": 30}\ntool_call: {\"id\":\"tc-2\",\"name\":\"StrReplaceFile\",\"arguments\":\"{\\\"path\\\":\\\"src/lib.rs\\\",\\\"edit\\\":{\\\"old\\\":\\\"a - b\\\",\\\"new\\\":\\\"a + b\\\"}}\"}",
  "id: s3\nusage: {\"input_other\": 10, \"input_cache_read\": 160, \"output\": 8}\ntext: Fixed the sign error in add()."
]"#;

#[test]
fn the_fix_scenario_edits_the_file_and_sums_usage() -> TestResult {
    let (finished, dir) = check(
        &FIX_SCENARIO.replace("src/lib.rs", "lib.rs"),
        &[("lib.rs", "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n")],
    )?;
    assert_eq!(finished.status, AgentStatus::Completed);
    assert_eq!(finished.final_message.as_deref(), Some("Fixed the sign error in add()."));
    assert_eq!((finished.steps, finished.tool_calls, finished.failed_tool_calls), (3, 2, 0));
    let usage = finished.usage.expect("usage is reported");
    assert_eq!((usage.input_uncached, usage.input_cache_read, usage.output), (170, 280, 53));
    assert_eq!(read(dir.path(), "wt/lib.rs"), "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");

    let transcript = finished.transcript.expect("a transcript");
    let text = read(dir.path(), "goal/artifacts/agent/transcript.jsonl");
    assert_eq!(transcript.sha256, sha256_hex(text.as_bytes()));
    let types: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON lines"))
        .map(|event| event["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        types.join(" "),
        "TurnBegin StepBegin ContentPart StatusUpdate ToolCall ToolResult \
         StepBegin StatusUpdate ToolCall ToolResult StepBegin ContentPart StatusUpdate TurnEnd"
    );
    Ok(())
}

#[test]
fn tool_failures_are_counted_and_paths_stay_inside_the_worktree() -> TestResult {
    let scenario = "tool_call: {\"id\":\"1\",\"name\":\"WriteFile\",\"arguments\":\"{\\\"path\\\":\\\"../escape.txt\\\",\\\"content\\\":\\\"x\\\"}\"}\n\
        tool_call: {\"id\":\"2\",\"name\":\"StrReplaceFile\",\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\",\\\"edit\\\":{\\\"old\\\":\\\"zzz\\\",\\\"new\\\":\\\"y\\\"}}\"}\n\
        tool_call: {\"id\":\"3\",\"name\":\"Teleport\",\"arguments\":\"{}\"}\n\
        tool_call: {\"id\":\"4\",\"name\":\"WriteFile\",\"arguments\":\"{\\\"path\\\":\\\"new/b.txt\\\",\\\"content\\\":\\\"b\\\\n\\\"}\"}\n\
        tool_call: {\"id\":\"5\",\"name\":\"Shell\",\"arguments\":\"{\\\"command\\\":\\\"echo shell >> a.txt\\\"}\"}\n\
        ---\ntext: done";
    let (finished, dir) = check(scenario, &[("a.txt", "a\n")])?;
    assert_eq!(finished.status, AgentStatus::Completed);
    assert_eq!((finished.tool_calls, finished.failed_tool_calls), (5, 3));
    assert!(!dir.path().join("escape.txt").exists());
    assert_eq!(read(dir.path(), "wt/new/b.txt"), "b\n");
    assert_eq!(read(dir.path(), "wt/a.txt"), "a\nshell\n");
    let transcript = read(dir.path(), "goal/artifacts/agent/transcript.jsonl");
    assert!(transcript.contains("path ../escape.txt must be a file path inside the worktree"));
    assert!(transcript.contains("the text to replace was not found"));
    assert!(transcript.contains("tool \\\"Teleport\\\" is not supported"));
    Ok(())
}

#[test]
fn provider_errors_and_running_out_of_steps_fail_the_run() -> TestResult {
    let (finished, _dir) = check("text: thinking\nerror: 429 rate limited", &[])?;
    assert_eq!(finished.status, AgentStatus::Failed);
    assert_eq!(
        finished.error.as_deref(),
        Some("step 1: the model provider failed: 429 rate limited")
    );

    let scenario = "tool_call: {\"id\":\"1\",\"name\":\"ReadFile\",\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\"}\"}";
    let (finished, _dir) = check(scenario, &[("a.txt", "a")])?;
    assert_eq!(finished.status, AgentStatus::Failed);
    assert!(
        finished
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with("the scenario ran out after step 1")
    );
    Ok(())
}

#[test]
fn bad_agent_names_and_scenario_files_are_errors() {
    let err = AgentSpec::parse("kimi-ultra").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown agent \"kimi-ultra\": use kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE"
    );
    let err = omk_agent::prepare(
        &AgentSpec::Script("/no/such/scenario.txt".into()),
        &AgentConfig::default(),
        &AgentEnvironment::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "read scenario file /no/such/scenario.txt");
    let err = check("text: ok\n---\nmagic: yes", &[]).unwrap_err();
    assert!(err.to_string().ends_with("step 2: unknown directive \"magic\"; expected id, usage, think, text, tool_call or error"), "{err}");
}
