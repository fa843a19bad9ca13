//! Repair rounds: when required gates fail (or the review finds something the agent can fix),
//! omk gives the agent a follow-up with what failed and checks again, within `--repair N` and
//! the budget; each test runs the built `omk` on a real repository.

use std::{
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv, gap_kinds};

/// A `cmd:` agent: its first run writes notes and leaves `add` broken; a repair round fixes
/// `add`, but only when its stdin is the follow-up that `OMK_FOLLOW_UP_FILE` names and it names
/// the failing gate, its command and the test's output.
const CMD_AGENT: &str = r#"if [ -n "$OMK_REPAIR_ROUND" ]; then
  input=$(cat)
  [ "$input" = "$(cat "$OMK_FOLLOW_UP_FILE")" ] || { echo "stdin is not the follow-up file"; exit 3; }
  case "$input" in *"Failing gate \`unit\`"*"command: sh test.sh"*"add 2 3 is -1"*) ;; *) echo "the follow-up lacks the failure"; exit 4 ;; esac
  sed -i 's/\$1 - \$2/$1 + $2/' lib.sh
  echo "fixed add in round $OMK_REPAIR_ROUND"
else
  echo '# notes' > notes.md
  echo 'wrote notes'
fi
"#;

/// A scenario whose first run adds notes and leaves `add` broken, and whose repair round fixes
/// it.
fn notes_then_fix() -> String {
    format!(
        "text: Notes first.\n\
         tool_call: {{\"id\": \"tc-1\", \"name\": \"WriteFile\", \"arguments\": \"{{\\\"path\\\": \\\"notes.md\\\", \\\"content\\\": \\\"# notes\\\\n\\\"}}\"}}\n\
         ---\n\
         text: Done.\n\
         ===\n\
         {FIX_ADD}"
    )
}

fn repo(env: &TestEnv, name: &str) -> anyhow::Result<PathBuf> {
    env.repo(name, &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])
}

/// Returns the events of goal `goal` in `repo`.
fn events(repo: &Path, goal: &str) -> anyhow::Result<Vec<Value>> {
    let text = fs::read_to_string(repo.join(".omk/goals").join(goal).join("events.jsonl"))?;
    Ok(text.lines().map(serde_json::from_str).collect::<Result<_, _>>()?)
}

/// Returns each round of a proof's repair section as `round:outcome`.
fn rounds(proof: &Value) -> Vec<String> {
    proof["repair"]["rounds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| format!("{}:{}", it["round"], it["outcome"].as_str().unwrap_or("open")))
        .collect()
}

/// Returns the text of a goal's artifact at `relative`.
fn artifact(repo: &Path, goal: &str, relative: &str) -> anyhow::Result<String> {
    Ok(fs::read_to_string(repo.join(".omk/goals").join(goal).join(relative))?)
}

fn goal_of(proof: &Value) -> String {
    proof["goal_id"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_cmd_agent_gets_the_follow_up_on_stdin_and_in_a_file_and_its_fix_is_ready() -> anyhow::Result<()>
{
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let agent = env.write("agent.sh", CMD_AGENT)?;
    let agent = format!("cmd:sh {}", agent.display());
    let (output, proof) =
        env.omk_goal_proof(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--json"])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert_eq!(rounds(&proof), ["1:passed"]);
    assert_eq!(proof["repair"]["limit"], 2, "the default is [run] repair_rounds = 2");
    assert_eq!(proof["agent"]["runs"], 2);
    assert_eq!(proof["agent"]["final_message"], "fixed add in round 1");
    let round = &proof["repair"]["rounds"][0];
    assert_eq!(round["failed_gates"], serde_json::json!(["unit"]));
    assert_eq!(round["gates"][0]["passed"], true, "{round:#}");
    assert_eq!(round["tree_id"], proof["git"]["tree_id"], "the proof judges the last round's tree");
    // The unit gate failed on the first tree and passes on the round's: the pass on the new tree
    // supersedes the failure, and the gate's record says both.
    let unit = proof["gates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|it| it["phase"] == "proposed" && it["name"] == "unit")
        .ok_or_else(|| anyhow::anyhow!("no proposed unit gate: {proof:#}"))?;
    assert_eq!((unit["runs"].as_u64(), unit["failed_runs"].as_u64()), (Some(2), Some(1)));
    assert_eq!(unit["counting_failures"], 0);

    let goal = goal_of(&proof);
    let follow_up = artifact(&repo, &goal, "artifacts/repair/round-1.txt")?;
    assert!(follow_up.contains("repair round 1 of 2"), "{follow_up}");
    assert!(follow_up.contains("Failing gate `unit`\n  command: sh test.sh\n"), "{follow_up}");
    assert!(follow_up.contains("    | add 2 3 is -1\n"), "{follow_up}");
    let kinds: Vec<String> = events(&repo, &goal)?
        .iter()
        .filter_map(|it| it["event"]["kind"].as_str().map(str::to_owned))
        .filter(|kind| kind.starts_with("repair"))
        .collect();
    assert_eq!(kinds, ["repair_rounds_set", "repair_round_started", "repair_round_ended"]);
    let replay = env.omk(&repo, &["replay"])?;
    assert!(replay.stdout.contains("repair round 1 ended: checks passed"), "{replay}");
    Ok(())
}

#[test]
fn the_scripted_agent_fixes_the_code_in_its_repair_round() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let scenario = env.write("scenario.txt", &notes_then_fix())?;
    let agent = format!("script:{}", scenario.display());
    let (output, proof) =
        env.omk_goal_proof(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--json"])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert_eq!(rounds(&proof), ["1:passed"]);
    let round = &proof["repair"]["rounds"][0];
    assert_eq!(round["agent"]["status"], "completed");
    // The round's transcript starts with the follow-up as the user's input.
    let transcript = round["agent"]["transcript"]["path"].as_str().unwrap_or_default();
    let transcript = artifact(&repo, &goal_of(&proof), transcript)?;
    let first: Value = serde_json::from_str(transcript.lines().next().unwrap_or_default())?;
    let input = first.to_string();
    assert!(input.contains("Failing gate `unit`"), "{input}");
    let changed: Vec<&str> = proof["changed_files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|it| it["path"].as_str())
        .collect();
    assert_eq!(changed, ["lib.sh", "notes.md"]);
    Ok(())
}

#[test]
fn a_round_that_deletes_the_test_is_caught_fed_back_and_not_accepted() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let run_tests = "n=0\nfor t in tests/*_test.sh; do [ -f \"$t\" ] || continue; sh \"$t\" || exit 1; n=$((n+1)); done\necho \"$n passed, 0 failed\"\n";
    let toml = "[[gates]]\nname = \"unit\"\nkind = \"test\"\ncommand = \"sh run.sh\"\nallow_no_tests = true\n";
    let repo = env.repo(
        "repo",
        &[
            ("lib.sh", LIB_SH),
            ("tests/add_test.sh", TEST_SH),
            ("run.sh", run_tests),
            ("omk.toml", toml),
        ],
    )?;
    // The first run changes nothing, round 1 deletes the failing test, round 2 will not restore
    // it.
    let scenario = "text: Looking.\n===\ntext: Removing the failing test.\n\
        tool_call: {\"id\": \"tc-1\", \"name\": \"Shell\", \"arguments\": \"{\\\"command\\\": \\\"rm tests/add_test.sh\\\"}\"}\n\
        ---\ntext: The tests pass now.\n===\ntext: I will not restore it.\n";
    let scenario = env.write("scenario.txt", scenario)?;
    let agent = format!("script:{}", scenario.display());
    let (output, proof) =
        env.omk_goal_proof(&repo, &["run", "fix add in lib.sh", "--agent", &agent, "--json"])?;
    assert_eq!(output.code.map(|it| it != 0), Some(true), "not ready: {output}");
    assert_eq!(rounds(&proof), ["1:still_failing", "2:no_change"]);
    let second = &proof["repair"]["rounds"][1];
    assert_eq!(second["findings"], serde_json::json!(["gate_surface"]), "{second:#}");
    assert_eq!(second["failed_gates"], serde_json::json!([]), "the gates pass without the test");
    let follow_up = artifact(&repo, &goal_of(&proof), "artifacts/repair/round-2.txt")?;
    assert!(follow_up.contains("Review finding `gate_surface`"), "{follow_up}");
    assert!(follow_up.contains("tests/add_test.sh: test file deleted"), "{follow_up}");
    assert_ne!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    assert!(
        gap_kinds(&proof).iter().any(|it| it == "review_check_failed"),
        "{:?}",
        gap_kinds(&proof)
    );
    let accept = env.omk(&repo, &["accept"])?;
    assert_ne!(accept.code, Some(0), "a change that deleted its test is not accepted: {accept}");
    assert_eq!(env.git(&repo, &["ls-files", "tests"])?, "tests/add_test.sh\n");
    Ok(())
}

#[test]
fn the_budget_stops_the_loop_in_round_two_and_resume_finishes_the_round() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let usage = "usage: {\"input_other\": 250, \"output\": 50}\n";
    // Each part reports 300 tokens before it acts; round 1 changes a note but not `add`, round 2
    // fixes it.
    let scenario = format!(
        "{usage}text: Notes first.\n\
         tool_call: {{\"id\": \"tc-1\", \"name\": \"WriteFile\", \"arguments\": \"{{\\\"path\\\": \\\"notes.md\\\", \\\"content\\\": \\\"one\\\\n\\\"}}\"}}\n\
         ---\ntext: Done.\n===\n{usage}text: More notes.\n\
         tool_call: {{\"id\": \"tc-2\", \"name\": \"WriteFile\", \"arguments\": \"{{\\\"path\\\": \\\"notes.md\\\", \\\"content\\\": \\\"two\\\\n\\\"}}\"}}\n\
         ---\ntext: Done.\n===\n{usage}{FIX_ADD}"
    );
    let scenario = env.write("scenario.txt", &scenario)?;
    let agent = format!("script:{}", scenario.display());
    let (output, proof) = env.omk_goal_proof(
        &repo,
        &["run", "fix add", "--agent", &agent, "--budget-tokens", "650", "--repair", "3", "--json"],
    )?;
    assert_ne!(output.code, Some(0), "{output}");
    // Round 2's agent is stopped on the report that crosses the limit, before it acts.
    assert_eq!(rounds(&proof), ["1:still_failing", "2:open"], "{proof:#}");
    assert!(gap_kinds(&proof).iter().any(|it| it == "budget_exhausted"), "{proof:#}");
    assert_eq!(proof["repair"]["rounds"][1]["agent"]["status"], "failed");
    assert_eq!(proof["changed_files"].as_array().map(Vec::len), Some(1), "only notes.md");
    let goal = goal_of(&proof);
    let log = events(&repo, &goal)?;
    let count = |kind: &str| log.iter().filter(|it| it["event"]["kind"] == kind).count();
    assert_eq!((count("budget_exhausted"), count("agent_started")), (1, 3));

    let added = env.omk(&repo, &["budget", "add", "--tokens", "1000"])?;
    assert_eq!(added.code, Some(0), "{added}");
    let (resumed, proof) = env.omk_goal_proof(&repo, &["resume", "--json"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    assert_eq!(rounds(&proof), ["1:still_failing", "2:passed"]);
    assert_eq!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    Ok(())
}

#[test]
fn repair_0_runs_the_agent_once() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let agent = env.write("agent.sh", CMD_AGENT)?;
    let agent = format!("cmd:sh {}", agent.display());
    let (output, proof) = env
        .omk_goal_proof(&repo, &["run", "fix add", "--agent", &agent, "--repair", "0", "--json"])?;
    assert_ne!(output.code, Some(0), "{output}");
    assert_eq!(proof["agent"]["runs"], 1);
    assert!(proof.get("repair").is_none(), "no round, no section: {proof:#}");
    assert!(gap_kinds(&proof).iter().any(|it| it == "required_gate_failed"));
    let set: Vec<Value> = events(&repo, &goal_of(&proof))?
        .into_iter()
        .filter(|it| it["event"]["kind"] == "repair_rounds_set")
        .map(|it| it["event"]["rounds"].clone())
        .collect();
    assert_eq!(set, [0]);

    // `[run] repair_rounds` in omk.toml says the same, and `omk resume --repair` lifts it.
    let resumed = env.omk(&repo, &["resume", "--repair", "1"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let proof = crate::proof(&repo, &goal_of(&proof))?;
    assert_eq!(rounds(&proof), ["1:passed"]);
    Ok(())
}

#[test]
fn repair_rounds_in_omk_toml_turns_repair_off() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let toml = format!("{OMK_TOML}[run]\nrepair_rounds = 0\n");
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", &toml)])?;
    let scenario = env.write("scenario.txt", &notes_then_fix())?;
    let agent = format!("script:{}", scenario.display());
    let (_, proof) = env.omk_goal_proof(&repo, &["run", "fix add", "--agent", &agent, "--json"])?;
    assert_eq!(proof["agent"]["runs"], 1);
    let bad = env.repo("bad", &[("omk.toml", "[run]\nrepair_round = 1\n"), ("lib.sh", LIB_SH)])?;
    let output = env.omk(&bad, &["run", "fix add", "--agent", &agent])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("did you mean `repair_rounds`"), "{output}");
    Ok(())
}

/// A `cmd:` agent whose first run and round 1 leave `add` broken and whose round 2 fixes it; in
/// round 2 it first marks `$MARKS/round-2` and, the first time only, sleeps so the test can kill
/// omk while it runs.
const SLOW_ROUND_TWO: &str = r#"case "$OMK_REPAIR_ROUND" in
  2)
    if [ ! -e "$MARKS/round-2" ]; then touch "$MARKS/round-2"; sleep 30; fi
    sed -i 's/\$1 - \$2/$1 + $2/' lib.sh; echo fixed ;;
  1) echo "round one" >> notes.md; echo "not yet" ;;
  *) echo '# notes' > notes.md; echo notes ;;
esac
"#;

#[test]
fn a_crash_in_the_middle_of_round_two_resumes_to_the_same_result() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    env.allow_writes_outside()?;
    let script = env.write("agent.sh", SLOW_ROUND_TWO)?;
    let run = |repo: &Path, marks: &Path| -> anyhow::Result<std::process::Child> {
        fs::create_dir_all(marks)?;
        let agent = format!("cmd:MARKS={} sh {}", marks.display(), script.display());
        env.spawn_omk(repo, &["run", "fix add", "--agent", &agent, "--json"])
    };

    // Reference: the same goal, round 2 never sleeping.
    let reference = repo(&env, "reference")?;
    let marks = env.root().join("marks-reference");
    fs::create_dir_all(&marks)?;
    fs::write(marks.join("round-2"), "")?;
    let output = run(&reference, &marks)?.wait_with_output()?;
    let document: Value = serde_json::from_slice(&output.stdout)?;
    let expected = &document["proof"];
    assert_eq!(rounds(expected), ["1:still_failing", "2:passed"], "{expected:#}");

    // Killed for real (SIGKILL) while round 2's agent runs.
    let crashed = repo(&env, "crashed")?;
    let marks = env.root().join("marks-crashed");
    let mut child = run(&crashed, &marks)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marks.join("round-2").exists() {
        anyhow::ensure!(Instant::now() < deadline, "round 2 never started");
        anyhow::ensure!(child.try_wait()?.is_none(), "omk ended before round 2");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill()?;
    child.wait()?;
    let goals = fs::read_dir(crashed.join(".omk/goals"))?.collect::<Result<Vec<_>, _>>()?;
    let goal = goals[0].file_name().to_string_lossy().into_owned();
    let before = events(&crashed, &goal)?;
    assert_eq!(before.last().map(|it| it["event"]["kind"].clone()), Some("agent_started".into()));

    let resumed = env.omk(&crashed, &["resume", "--json"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let proof = crate::proof(&crashed, &goal)?;
    assert_eq!(rounds(&proof), rounds(expected));
    for key in ["readiness", "changed_files"] {
        assert_eq!(proof[key], expected[key], "{key}");
    }
    assert_eq!(proof["git"]["tree_id"], expected["git"]["tree_id"]);
    let log = events(&crashed, &goal)?;
    let count = |kind: &str| log.iter().filter(|it| it["event"]["kind"] == kind).count();
    assert_eq!((count("repair_round_started"), count("repair_round_ended")), (2, 2));
    assert_eq!(count("recovery_performed"), 1);
    assert_eq!(count("agent_started"), 4, "round 2's agent ran again after the crash");
    Ok(())
}
