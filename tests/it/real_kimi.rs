//! The real Python Kimi CLI 1.51.0, offline with its scripted `_scripted_echo` model provider:
//! kimi's own tools edit the repository, omk's gates judge the change.
//!
//! `scripts/install-kimi.sh` installs it (`cargo xtask ci` runs it and sets `OMK_REAL_KIMI` and
//! `OMK_REQUIRE_REAL_KIMI=1`; `real_client.rs` says how a missing kimi fails, is skipped, or is
//! a note).

use std::{
    fs,
    path::{Path, PathBuf},
};

use serde_json::Value;

use crate::{LIB_SH, OMK_TOML, TEST_SH, TestEnv, env::Output, usage};

/// Fixes `add` with kimi's StrReplaceFile, runs a harmless command, then tries `git push`.
const FIX_AND_PUSH: &str = r#"id: s1
usage: {"input_other": 120, "output": 15}
text: Fixing the operator.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
---
id: s2
usage: {"input_other": 40, "input_cache_read": 120, "output": 30}
text: Checking, then pushing.
tool_call: {"id": "tc-2", "name": "Shell", "arguments": "{\"command\": \"sh test.sh\"}"}
tool_call: {"id": "tc-3", "name": "Shell", "arguments": "{\"command\": \"git push origin main\"}"}
---
id: s3
usage: {"input_other": 10, "output": 8}
text: Fixed add().
"#;

/// Returns the real kimi, or `None` (after saying why) when the test need not run it.
fn real_kimi() -> anyhow::Result<Option<PathBuf>> {
    crate::real_client::KIMI.find()
}

/// Runs `omk run --agent AGENT` with the real kimi on `scenario`; returns the `--json` document.
/// Writes Kimi's default config file in the test's HOME, `home/.kimi/config.toml`: the offline
/// scripted provider playing `scenario`. Returns Kimi's data directory.
pub(crate) fn write_kimi_config(env: &TestEnv, scenario: &Path) -> anyhow::Result<PathBuf> {
    let share = env.root().join("home/.kimi");
    fs::create_dir_all(&share)?;
    fs::write(
        share.join("config.toml"),
        format!(
            "default_model = \"scripted\"\ntelemetry = false\n\n[models.scripted]\nprovider = \"scripted\"\n\
             model = \"scripted_echo\"\nmax_context_size = 100000\n\n[providers.scripted]\n\
             type = \"_scripted_echo\"\nbase_url = \"\"\napi_key = \"\"\n\n[providers.scripted.env]\n\
             KIMI_SCRIPTED_ECHO_SCRIPTS = {:?}\n",
            scenario.display().to_string()
        ),
    )?;
    Ok(share)
}

fn check(kimi: &Path, agent: &str, scenario: &str) -> anyhow::Result<Value> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let scenario_path = env.write("scenario.txt", scenario)?;
    let (output, document) = run_real_kimi(&env, kimi, &repo, agent, &scenario_path)?;
    anyhow::ensure!(output.code == Some(0), "{output}");
    Ok(document)
}

/// Runs `omk run "fix add" --agent AGENT --json` in `repo` with the real Kimi CLI `kimi` on
/// `PATH`, its scripted model playing `scenario`; returns the output and its JSON document.
pub(crate) fn run_real_kimi(
    env: &TestEnv,
    kimi: &Path,
    repo: &Path,
    agent: &str,
    scenario: &Path,
) -> anyhow::Result<(Output, Value)> {
    write_kimi_config(env, scenario)?;
    let bin = kimi.parent().expect("the kimi executable is in a directory");
    let output = env.omk_with(
        repo,
        &["run", "fix add", "--agent", agent, "--json"],
        &[("PATH", &TestEnv::path_with(bin))],
    )?;
    let document: Value =
        serde_json::from_str(&output.stdout).map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
    Ok((output, document))
}

#[test]
fn real_kimi_wire_edits_the_repo_and_the_policy_denies_git_push() -> anyhow::Result<()> {
    let Some(kimi) = real_kimi()? else { return Ok(()) };
    let document = check(&kimi, "kimi", FIX_AND_PUSH)?;
    let proof = &document["proof"];
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert_eq!(proof["changed_files"][0]["path"], "lib.sh");
    assert_eq!(proof["changed_files"].as_array().map(Vec::len), Some(1));
    let agent = &proof["agent"];
    assert_eq!(agent["status"], "completed");
    assert_eq!(agent["version"], "1.51.0");
    assert_eq!(usage(agent), "170/120/0/53");
    assert_eq!(agent["final_message"], "Fixed add().");
    let decisions: Vec<String> = proof["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| format!("{} {} {}", it["decision"], it["tool"], it["command"]))
        .collect();
    assert_eq!(
        decisions,
        [
            r#""allow" "StrReplaceFile" null"#,
            r#""allow" "Shell" "sh test.sh""#,
            r#""deny" "Shell" "git push origin main""#,
        ]
    );
    let log: Vec<(String, Value)> = agent["tool_call_log"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| (it["id"].as_str().unwrap_or_default().to_owned(), it["ok"].clone()))
        .collect();
    assert_eq!(
        log,
        [
            ("tc-1".to_owned(), Value::Bool(true)),
            ("tc-2".to_owned(), Value::Bool(true)),
            ("tc-3".to_owned(), Value::Bool(false))
        ]
    );
    Ok(())
}

#[test]
fn real_kimi_print_edits_the_repo_and_usage_comes_from_its_session() -> anyhow::Result<()> {
    let Some(kimi) = real_kimi()? else { return Ok(()) };
    // Print mode approves every call itself, so the scenario does not push.
    let scenario = FIX_AND_PUSH.replace(
        "tool_call: {\"id\": \"tc-3\", \"name\": \"Shell\", \"arguments\": \"{\\\"command\\\": \\\"git push origin main\\\"}\"}\n",
        "",
    );
    let document = check(&kimi, "kimi-print", &scenario)?;
    let proof = &document["proof"];
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert_eq!(proof["changed_files"][0]["path"], "lib.sh");
    let agent = &proof["agent"];
    assert_eq!(agent["status"], "completed");
    assert_eq!(usage(agent), "170/120/0/53");
    assert_eq!(agent["final_message"], "Fixed add().");
    assert_eq!(agent["tool_calls"], 2);
    Ok(())
}

/// Returns the text of every file under `dir`, recursively.
fn texts_under(dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(texts_under(&path)?);
        } else if let Ok(text) = fs::read_to_string(&path) {
            found.push((path, text));
        }
    }
    Ok(found)
}

#[test]
fn real_kimi_continues_its_session_in_a_repair_round() -> anyhow::Result<()> {
    let Some(kimi) = real_kimi()? else { return Ok(()) };
    // Each kimi process plays the scenario from its first step: the first run only leaves a
    // mark in kimi's data directory (outside the worktree), so its change fails the gate; the
    // repair round, a new turn of the same session, fixes `add`.
    let env = TestEnv::new()?;
    let share = env.root().join("home/.kimi");
    let marker = share.join("first-run-done");
    let command = format!(
        "if [ -e {m} ]; then sed -i 's/\\$1 - \\$2/$1 + $2/' lib.sh; else touch {m}; fi",
        m = marker.display()
    );
    let arguments = serde_json::json!({ "command": command }).to_string();
    let call = serde_json::json!({ "id": "tc-1", "name": "Shell", "arguments": arguments });
    let scenario = format!(
        "id: s1\nusage: {{\"input_other\": 50, \"output\": 5}}\ntext: Working on it.\n\
         tool_call: {call}\n---\nid: s2\nusage: {{\"input_other\": 10, \"output\": 2}}\ntext: Done.\n"
    );
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let scenario_path = env.write("scenario.txt", &scenario)?;
    let (output, document) = run_real_kimi(&env, &kimi, &repo, "kimi", &scenario_path)?;
    let proof = &document["proof"];
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{output}");
    let round = &proof["repair"]["rounds"][0];
    assert_eq!(round["outcome"], "passed", "{proof:#}");
    assert_eq!(proof["agent"]["runs"], 2);
    let session = round["agent"]["session_id"].as_str().unwrap_or_default().to_owned();
    assert!(!session.is_empty(), "{round:#}");
    // The session's own record holds the goal's prompt and, in a later turn, the follow-up.
    let records: Vec<String> = texts_under(&share.join("sessions"))?
        .into_iter()
        .filter(|(path, _)| path.components().any(|it| it.as_os_str() == session.as_str()))
        .map(|(_, text)| text)
        .collect();
    let joined = records.join("\n");
    let prompt_at = joined.find("fix add").ok_or_else(|| anyhow::anyhow!("no prompt: {joined}"))?;
    let follow_up_at = joined
        .find("repair round 1 of 2")
        .ok_or_else(|| anyhow::anyhow!("the session has no follow-up turn: {joined}"))?;
    assert!(prompt_at < follow_up_at, "the follow-up is a later turn of the same session");
    Ok(())
}
