//! The agent adapters end to end, against the protocol-twin fake agent: Kimi Wire and print,
//! Claude Code, Codex, any command, failures on demand, and detection.

use std::{fs, path::Path};

use serde_json::Value;

use crate::{LIB_SH, OMK_TOML, TEST_SH, TestEnv, usage};

/// Fixes `add`, tries to push (which the default policy denies), then reports.
const FIX_AND_PUSH: &str = r#"id: s1
usage: {"input_other": 120, "output": 15}
text: Fixing the operator.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
---
id: s2
usage: {"input_other": 40, "input_cache_read": 120, "output": 30}
text: Pushing it.
tool_call: {"id": "tc-2", "name": "Shell", "arguments": "{\"command\": \"git push origin main\"}"}
---
id: s3
usage: {"input_other": 10, "output": 8}
text: Fixed add().
"#;

/// Fixes `add` and reports.
const FIX: &str = r#"id: s1
usage: {"input_other": 120, "output": 15}
text: Fixing the operator.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
---
id: s2
usage: {"input_other": 10, "input_cache_read": 100, "output": 8}
text: Fixed add().
"#;

/// Runs `omk run --agent AGENT --json` with the fake agents on `PATH`, the `scenario` and the
/// `omk_toml`; returns the run's JSON document and the kinds of its events.
fn check(
    agent: &str,
    scenario: &str,
    omk_toml: &str,
) -> anyhow::Result<(Value, Vec<String>, TestEnv)> {
    let env = TestEnv::new()?;
    let omk_toml = format!("{OMK_TOML}\n{omk_toml}");
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", &omk_toml)])?;
    let scenario_path = env.write("scenario.txt", scenario)?;
    let bin = env.fake_agents()?;
    let share = env.root().join("home/.kimi");
    let output = env.omk_with(
        &repo,
        &["run", "fix add", "--agent", agent, "--json"],
        &[
            ("PATH", &TestEnv::path_with(&bin)),
            ("KIMI_SCRIPTED_ECHO_SCRIPTS", &scenario_path.display().to_string()),
            ("KIMI_SHARE_DIR", &share.display().to_string()),
        ],
    )?;
    let document: Value =
        serde_json::from_str(&output.stdout).map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    let events = fs::read_to_string(document["events"].as_str().unwrap_or_default())?;
    let kinds = events
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).map(|it| it["event"]["kind"].to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((document, kinds, env))
}

#[test]
fn kimi_wire_answers_approvals_by_policy_and_the_proof_shows_the_denial() -> anyhow::Result<()> {
    let (document, kinds, _env) = check("kimi", FIX_AND_PUSH, "")?;
    let proof = &document["proof"];
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert_eq!(proof["changed_files"][0]["path"], "lib.sh");
    let agent = &proof["agent"];
    assert_eq!(usage(agent), "170/120/0/53");
    assert_eq!(agent["final_message"], "Fixed add().");
    assert_eq!(agent["version"], "1.51.0-fake");
    assert_eq!(agent["tool_call_log"][1]["ok"], false);
    assert_eq!(agent["stdout"]["path"], "artifacts/agent/stdout.log");
    let approvals: Vec<String> = proof["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| format!("{} {} ({})", it["decision"], it["tool"], it["rule"]))
        .collect();
    assert_eq!(
        approvals,
        [
            r#""allow" "StrReplaceFile" ("allow tools=[\"WriteFile\", \"StrReplaceFile\", \"Write\", \"Edit\", \"MultiEdit\"]")"#,
            r#""deny" "Shell" ("deny programs=[\"git\"] commands=[\"git push*\", \"git * push*\"]")"#,
        ]
    );
    // The agent's activity and the policy's answers are logged as they happen, interleaved.
    let position = |kind: &str| kinds.iter().position(|it| it == kind).unwrap_or(usize::MAX);
    let last_activity = kinds.iter().rposition(|it| it == "\"agent_activity\"").unwrap_or(0);
    assert!(position("\"approval_decided\"") < last_activity, "{kinds:?}");
    let steps: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|it| {
            !matches!(*it, "\"agent_activity\"" | "\"gate_started\"" | "\"review_finished\"")
        })
        .collect();
    assert_eq!(
        steps.join(" "),
        r#""goal_created" "checkout_fingerprinted" "sandbox_applied" "goal_classified" "worktree_created" "agent_started" "approval_decided" "approval_decided" "agent_finished" "gate_finished" "changes_captured" "changes_committed" "gate_surface_checked" "gate_finished" "fail_to_pass_checked" "review_started" "checkout_fingerprinted""#
    );
    assert_eq!(kinds.iter().filter(|it| *it == "\"agent_activity\"").count(), 13);
    Ok(())
}

#[test]
fn omk_toml_rules_come_before_the_defaults() -> anyhow::Result<()> {
    let toml =
        "[[approvals]]\ndecision = \"deny\"\ntools = [\"StrReplaceFile\"]\npaths = [\"lib.*\"]\n";
    let (document, _, _env) = check("kimi", FIX, toml)?;
    let proof = &document["proof"];
    assert_eq!(proof["approvals"][0]["decision"], "deny");
    assert_eq!(proof["approvals"][0]["rule_source"], "omk.toml [[approvals]] #1");
    // The edit was denied, so the gate fails on the unchanged tree and git shows no change.
    assert_eq!(proof["readiness"], "gates_failing", "{proof:#}");
    assert!(
        proof["known_gaps"]
            .as_array()
            .is_some_and(|gaps| gaps.iter().any(|it| it["gap"]["kind"] == "no_changes")),
        "{proof:#}"
    );
    Ok(())
}

#[test]
fn kimi_print_reads_usage_from_the_session_and_estimates_cost() -> anyhow::Result<()> {
    let toml =
        "[prices.kimi]\ninput_per_mtok = 1.0\noutput_per_mtok = 10.0\ncache_read_per_mtok = 0.5\n";
    let (document, _, _env) = check("kimi-print", FIX, toml)?;
    let agent = &document["proof"]["agent"];
    assert_eq!(document["proof"]["readiness"], "awaiting_acceptance");
    assert_eq!(usage(agent), "130/100/0/23");
    assert_eq!(agent["final_message"], "Fixed add().");
    // 130 × 1 + 100 × 0.5 + 23 × 10 dollars per million tokens.
    assert_eq!(agent["cost"]["usd"].as_f64().map(|usd| (usd * 1e6).round()), Some(410.0));
    assert_eq!(agent["cost"]["source"]["table"], "omk.toml [prices.kimi]");
    Ok(())
}

#[test]
fn claude_reports_cost_and_codex_reports_thread_usage() -> anyhow::Result<()> {
    let (document, _, _env) = check("claude", FIX, "")?;
    let agent = &document["proof"]["agent"];
    assert_eq!(document["proof"]["readiness"], "awaiting_acceptance");
    assert_eq!(agent["cost"]["usd"], 0.0123);
    assert_eq!(agent["cost"]["source"]["type"], "reported");
    assert_eq!(usage(agent), "130/100/0/23");
    assert_eq!(agent["steps"], 2, "two message ids, although three assistant lines");
    assert_eq!(agent["version"], "2.1.999-fake");

    let (document, _, _env) = check("codex", FIX, "")?;
    let agent = &document["proof"]["agent"];
    assert_eq!(document["proof"]["readiness"], "awaiting_acceptance");
    assert_eq!(usage(agent), "130/100/0/23");
    assert_eq!(agent["session_id"], "codex-thread");
    Ok(())
}

#[test]
fn failures_on_demand_are_failed_runs_with_their_reasons() -> anyhow::Result<()> {
    // A retryable failure with no retries left blocks the goal on the outside, quoting the agent.
    let toml = "[agent]\nretries = 0\n";
    let (document, _, _env) = check("kimi-print", "omk_fake: exit 75 overloaded\n", toml)?;
    let agent = &document["proof"]["agent"];
    assert_eq!(document["proof"]["status"], "blocked_on_external");
    assert_eq!(
        document["proof"]["known_gaps"][0]["message"],
        "the run is blocked: the agent failed with a retryable error once in a row ([agent] \
         retries = 0), the last time: kimi failed with a retryable error (exit 75): overloaded"
    );
    assert_eq!(agent["retryable"], true);
    assert_eq!(agent["error"], "kimi failed with a retryable error (exit 75): overloaded");

    let (document, _, _env) = check("kimi", "omk_fake: crash\n", "")?;
    let agent = &document["proof"]["agent"];
    assert_eq!(agent["status"], "failed");
    assert_eq!(agent["process"]["signal"], 6);
    assert_eq!(agent["error"], "kimi exited before answering the prompt");

    let toml = "[agent]\nidle_timeout_secs = 1\n";
    let (document, _, _env) = check("kimi", &format!("{FIX}---\nomk_fake: hang\n").replace("text: Fixed add().\n", "tool_call: {\"id\": \"tc-9\", \"name\": \"Shell\", \"arguments\": \"{\\\"command\\\": \\\"true\\\"}\"}\n"), toml)?;
    let agent = &document["proof"]["agent"];
    assert_eq!(agent["process"]["idle_timed_out"], true, "{agent:#}");
    assert_eq!(
        agent["error"],
        "the agent printed nothing for 1 s ([agent] idle_timeout_secs); omk stopped it"
    );
    assert!(agent["duration_ms"].as_u64().unwrap_or(u64::MAX) < 10_000, "{agent:#}");
    // The stdout artifact is saved even when the agent was stopped.
    assert!(agent["stdout"]["bytes"].as_u64().unwrap_or(0) > 0);
    Ok(())
}

#[test]
fn garbage_and_huge_lines_are_counted_not_fatal() -> anyhow::Result<()> {
    let scenario = format!("omk_fake: garbage\nomk_fake: huge_line\n{FIX}");
    let (document, _, _env) = check("kimi", &scenario, "")?;
    let agent = &document["proof"]["agent"];
    assert_eq!(document["proof"]["readiness"], "awaiting_acceptance", "{agent:#}");
    // The truncated huge line is no longer JSON, so it counts as garbage too.
    assert_eq!(agent["process"]["garbage_lines"], 2);
    assert_eq!(agent["process"]["oversized_lines"], 1);
    assert!(agent["stdout"]["bytes"].as_u64().unwrap_or(0) > 17 * 1024 * 1024);
    Ok(())
}

#[test]
fn a_command_gets_the_prompt_on_stdin_and_succeeds_by_exit_code() -> anyhow::Result<()> {
    let (document, _, _env) =
        check("cmd:cat > prompt-copy.txt && sed -i 's/- \\$2/+ $2/' lib.sh", "text: unused\n", "")?;
    let proof = &document["proof"];
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    let worktree = document["worktree"].as_str().unwrap_or_default();
    assert_eq!(fs::read_to_string(Path::new(worktree).join("prompt-copy.txt"))?, "fix add");

    let (document, _, _env) = check("cmd:exit 3", "text: unused\n", "")?;
    assert_eq!(document["proof"]["agent"]["error"], "the command exited with 3");
    Ok(())
}

#[test]
fn bad_agents_are_usage_errors_that_name_the_fix() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let empty_bin = env.root().join("empty-bin");
    fs::create_dir(&empty_bin)?;
    let path = format!("{}:/usr/bin:/bin", empty_bin.display());
    let vars = [("PATH", path.as_str())];
    let output = env.omk_with(&repo, &["run", "fix", "--agent", "kimi"], &vars)?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("agent kimi: program kimi not found; install the Python Kimi CLI 1.51.0 (scripts/install-kimi.sh"), "{output}");
    let output = env.omk_with(&repo, &["run", "fix", "--agent", "gpt"], &vars)?;
    assert_eq!(
        output.stderr,
        "error: unknown agent \"gpt\": use kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE\n"
    );
    let output = env.omk_with(&repo, &["run", "fix"], &vars)?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("no agent given: pass --agent"), "{output}");
    assert!(!repo.join(".omk").exists(), "bad input creates nothing");
    Ok(())
}

#[test]
fn detection_recognizes_the_stub_and_the_typescript_kimi_without_starting_a_bare_kimi()
-> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let check = |script: &str| -> anyhow::Result<(Value, String)> {
        let bin = env.root().join(format!("bin-{}", script.len()));
        fs::create_dir_all(&bin)?;
        let log = bin.join("calls.log");
        let program = format!("#!/bin/sh\necho \"[$*]\" >> '{}'\n{script}", log.display());
        fs::write(bin.join("kimi"), program)?;
        std::process::Command::new("chmod").args(["+x"]).arg(bin.join("kimi")).status()?;
        let path = format!("{}:/usr/bin:/bin", bin.display());
        let output = env.omk_with(env.root(), &["agents", "--json"], &[("PATH", &path)])?;
        let document: Value = serde_json::from_str(&output.stdout)?;
        Ok((document["agents"][0].clone(), fs::read_to_string(log)?))
    };
    let stub = "case \"$1\" in --version) echo 'kimi, version 1.52.0'; echo 'kimi-cli is deprecated';; *) echo 'kimi-cli is no longer maintained';; esac\n";
    let (kimi, calls) = check(stub)?;
    assert_eq!(kimi["status"], "unsupported");
    assert_eq!(kimi["version"], "1.52.0");
    assert!(kimi["note"].as_str().unwrap_or_default().contains("deprecation stub"), "{kimi:#}");
    assert_eq!(calls, "[--version]\n[info --json]\n", "never a bare kimi");

    let (kimi, calls) = check("echo 0.38.0\n")?;
    assert_eq!(kimi["status"], "unsupported");
    assert!(kimi["note"].as_str().unwrap_or_default().starts_with("TypeScript Kimi Code CLI"));
    assert_eq!(calls, "[--version]\n");
    Ok(())
}

#[test]
fn a_retryable_failure_is_retried_from_a_clean_worktree_then_blocks_on_external()
-> anyhow::Result<()> {
    // Each attempt edits lib.sh, then the provider is overloaded (Kimi print mode's exit 75).
    let scenario = r#"text: Editing.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 - $2 + 1\"}}"}
---
omk_fake: exit 75 overloaded, try again later
"#;
    let toml = "[agent]\nretries = 2\nretry_backoff_ms = 20\n";
    let (document, kinds, env) = check("kimi-print", scenario, toml)?;
    let proof = &document["proof"];
    assert_eq!(proof["status"], "blocked_on_external", "{proof:#}");
    let count = |kind: &str| kinds.iter().filter(|it| *it == &format!("\"{kind}\"")).count();
    assert_eq!(count("agent_started"), 3, "the first run and two retries: {kinds:?}");
    assert_eq!(count("gate_finished"), 1, "only the baseline gate ran: {kinds:?}");
    let retries: Vec<&str> = proof["recovery"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|it| it["action"] == "agent_retried")
        .filter_map(|it| it["detail"].as_str())
        .collect();
    assert_eq!(retries.len(), 2, "{proof:#}");
    assert!(retries[1].starts_with("retry 2 of 2 in 40 ms, the worktree reset to "), "{retries:?}");
    let gap = &proof["known_gaps"][0];
    assert_eq!(gap["gap"]["kind"], "blocked_on_external", "{proof:#}");
    let message = gap["message"].as_str().unwrap_or_default();
    assert!(message.contains("3 times in a row"), "{message}");
    assert!(message.ends_with("(exit 75): overloaded, try again later"), "{message}");
    // Every attempt started from the branch's commit: the edit is in the worktree once.
    let goal = proof["goal_id"].as_str().unwrap_or_default();
    let repo = env.root().join("repo");
    let lib = fs::read_to_string(repo.join(".omk/worktrees").join(goal).join("lib.sh"))?;
    assert_eq!(lib.matches("+ 1").count(), 1, "{lib}");
    // `omk status` names the agent's own error, not a gate.
    let status = env.omk(&repo, &["status"])?;
    assert!(status.stdout.contains("overloaded, try again later"), "{status}");
    assert!(!status.stdout.contains("required gate"), "{status}");
    Ok(())
}
