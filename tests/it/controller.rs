//! The run controller end to end: accept and reject, follow-ups, questions, pause, cancel,
//! Ctrl-C, budgets, torn logs, bad input, and a kill at every step boundary.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Child,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{LIB_SH, OMK_TOML, TEST_SH, TestEnv, env::Output, proof};

/// A scenario that fixes `add` in `lib.sh`, then says so.
const FIX: &str = r#"text: Fixing the operator.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
usage: {"input_other": 300, "output": 100}
---
text: Fixed add(); the test passes now.
usage: {"input_other": 300, "output": 100}
"#;

fn repo(env: &TestEnv, name: &str) -> anyhow::Result<PathBuf> {
    env.repo(name, &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])
}

fn script(env: &TestEnv, name: &str, text: &str) -> anyhow::Result<String> {
    Ok(format!("script:{}", env.write(name, text)?.display()))
}

/// Runs `omk run PROMPT --agent <the FIX scenario> ARGS` in `repo`, checks its exit code and
/// returns the goal's id.
fn run_fix(
    env: &TestEnv,
    repo: &Path,
    prompt: &str,
    args: &[&str],
    code: i32,
) -> anyhow::Result<String> {
    let fix = script(env, "fix.scenario", FIX)?;
    let mut command = vec!["run", prompt, "--agent", fix.as_str()];
    command.extend_from_slice(args);
    let output = env.omk(repo, &command)?;
    anyhow::ensure!(output.code == Some(code), "omk run {prompt:?} {args:?}: {output}");
    goal_id(env, repo)
}

/// Returns the latest goal's status document (`omk status --json`).
fn status(env: &TestEnv, repo: &Path) -> anyhow::Result<Value> {
    let output = env.omk(repo, &["status", "--json"])?;
    anyhow::ensure!(output.code == Some(0), "omk status: {output}");
    Ok(serde_json::from_str::<Value>(&output.stdout)?["goal"].clone())
}

/// Returns the latest goal's id.
fn goal_id(env: &TestEnv, repo: &Path) -> anyhow::Result<String> {
    Ok(status(env, repo)?["goal_id"].as_str().unwrap_or_default().to_owned())
}

/// Returns the events of goal `goal`, as JSON.
fn events(repo: &Path, goal: &str) -> anyhow::Result<Vec<Value>> {
    let text = fs::read_to_string(repo.join(".omk/goals").join(goal).join("events.jsonl"))?;
    text.lines().map(|line| Ok(serde_json::from_str(line)?)).collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|it| it["event"]["kind"].as_str().unwrap_or_default().to_owned()).collect()
}

fn count(events: &[Value], kind: &str) -> usize {
    kinds(events).iter().filter(|it| *it == kind).count()
}

/// Returns the goal directories of the repository.
fn goal_dirs(repo: &Path) -> Vec<String> {
    fs::read_dir(repo.join(".omk/goals"))
        .map(|dirs| {
            dirs.flatten().map(|it| it.file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default()
}

/// Waits until the log of a goal not in `known` has an event of `kind`, or fails after 30 s.
fn wait_for_event(repo: &Path, kind: &str, known: &[String]) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        if let Ok(dirs) = fs::read_dir(repo.join(".omk/goals")) {
            for dir in dirs.flatten() {
                if known.contains(&dir.file_name().to_string_lossy().into_owned()) {
                    continue;
                }
                let log = fs::read_to_string(dir.path().join("events.jsonl")).unwrap_or_default();
                if log.contains(&format!("\"kind\":\"{kind}\"")) {
                    return Ok(dir.file_name().to_string_lossy().into_owned());
                }
            }
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "no {kind} event in 30 s");
        thread::sleep(Duration::from_millis(25));
    }
}

/// Waits for a spawned omk to exit and returns what it printed.
fn finish(child: Child) -> anyhow::Result<Output> {
    let output = child.wait_with_output()?;
    Ok(Output {
        stdout: String::from_utf8(output.stdout)?,
        stderr: String::from_utf8(output.stderr)?,
        code: output.status.code(),
    })
}

/// Starts `omk run` with [`slow_agent`] in a new repository and waits until its agent runs;
/// returns the repository, the run's process and the goal.
fn start_slow_run(env: &TestEnv) -> anyhow::Result<(PathBuf, Child, String)> {
    let repo = repo(env, "repo")?;
    let agent = slow_agent(env)?;
    let known = goal_dirs(&repo);
    let run = env.spawn_omk(&repo, &["run", "fix add", "--agent", &agent])?;
    let goal = wait_for_event(&repo, "agent_started", &known)?;
    Ok((repo, run, goal))
}

/// An agent (`cmd:`) that sleeps for 30 s the first time it runs and fixes `add` after.
fn slow_agent(env: &TestEnv) -> anyhow::Result<String> {
    env.allow_writes_outside()?;
    let marker = env.root().join("slow-agent-ran");
    let agent = env.write(
        "slow-agent.sh",
        &format!(
            "if [ -e '{marker}' ]; then sed -i 's/\\$1 - \\$2/$1 + $2/' lib.sh; echo fixed add; \
             else touch '{marker}'; sleep 30; fi\n",
            marker = marker.display()
        ),
    )?;
    Ok(format!("cmd:sh {}", agent.display()))
}

#[test]
fn the_ready_path_runs_every_step_and_accept_merges_with_a_note() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let goal = run_fix(&env, &repo, "fix add in lib.sh", &[], 0)?;
    let log = events(&repo, &goal)?;
    let steps: Vec<String> = kinds(&log)
        .into_iter()
        .filter(|it| it != "agent_activity" && it != "gate_started")
        .collect();
    assert_eq!(
        steps.join(" "),
        "goal_created checkout_fingerprinted sandbox_applied goal_classified worktree_created agent_started \
         agent_finished gate_finished changes_captured changes_committed gate_surface_checked gate_finished \
         fail_to_pass_checked review_started review_finished review_finished review_finished review_finished \
         review_finished review_finished review_finished checkout_fingerprinted"
    );
    let before = proof(&repo, &goal)?;
    assert_eq!(before["readiness"], "awaiting_acceptance", "{before:#}");
    assert_eq!(before["oracle"]["gates"][0]["name"], "unit");
    assert_eq!(before["gates"][0]["phase"], "baseline");
    assert_eq!(before["gates"][0]["passed"], false, "the failure was there before the agent");
    assert_eq!(status(&env, &repo)?["step"], "waiting for omk accept or omk reject");

    let accepted = env.omk(&repo, &["accept", "--reason", "looks right"])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    let after = proof(&repo, &goal)?;
    assert_eq!(after["status"], "ready", "{after:#}");
    assert_eq!(after["known_gaps"], Value::Array(Vec::new()));
    assert_eq!(after["integration"]["by"]["kind"], "person");
    let merge = after["integration"]["merge_commit"].as_str().unwrap_or_default().to_owned();
    // The base did not move: main fast-forwards to the goal's commit, which has the trailer.
    assert_eq!(env.git(&repo, &["rev-parse", "main"])?.trim(), merge);
    assert!(
        env.git(&repo, &["log", "-1", "--format=%B", "main"])?
            .contains(&format!("Omk-Goal: {goal}"))
    );
    let note = env.git(&repo, &["notes", "--ref=omk", "show", "main"])?;
    assert!(note.contains(&format!("omk-goal: {goal}\nstatus: ready\n")), "{note}");
    assert!(fs::read_to_string(repo.join("lib.sh"))?.contains("$1 + $2"), "the checkout moved");
    assert_eq!(env.git(&repo, &["status", "--porcelain"])?, "");

    let again = env.omk(&repo, &["resume"])?;
    assert_eq!(again.code, Some(2), "{again}");
    assert!(again.stderr.contains("was already accepted and merged"), "{again}");
    Ok(())
}

#[test]
fn run_accept_accepts_as_a_policy_only_when_everything_passes() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let goal = run_fix(&env, &repo, "fix add", &["--accept"], 0)?;
    let ready = proof(&repo, &goal)?;
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        ready["integration"]["by"],
        serde_json::json!({"kind": "policy", "name": "run --accept"})
    );

    // A change that fails its gate is not accepted by the policy.
    let noop = script(&env, "noop.scenario", "text: Done, all tests pass!\n")?;
    let output =
        env.omk(&repo, &["run", "fix add again", "--agent", &noop, "--gate", "false", "--accept"])?;
    assert_eq!(output.code, Some(1), "{output}");
    let goal = goal_id(&env, &repo)?;
    let refused = proof(&repo, &goal)?;
    assert_eq!(refused["integration"], Value::Null);
    assert_eq!(count(&events(&repo, &goal)?, "change_accepted"), 0);
    Ok(())
}

#[test]
fn accept_merges_a_moved_base_in_and_checks_the_merged_tree_again() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let goal = run_fix(&env, &repo, "fix add", &[], 0)?;
    // Someone else lands a change on main meanwhile.
    fs::write(repo.join("README"), "calc\n")?;
    env.git(&repo, &["add", "README"])?;
    env.git(&repo, &["commit", "--quiet", "-m", "readme"])?;

    let accepted = env.omk(&repo, &["accept"])?;
    assert_eq!(accepted.code, Some(0), "{accepted}");
    let log = events(&repo, &goal)?;
    let committed: Vec<&Value> =
        log.iter().filter(|it| it["event"]["kind"] == "changes_committed").collect();
    assert_eq!(committed.len(), 2, "the goal's commit, then the merge of main into it");
    assert!(committed[1]["event"]["merged_base"].is_string());
    let proposed_runs = log
        .iter()
        .filter(|it| it["event"]["kind"] == "gate_finished" && it["event"]["phase"] == "proposed")
        .count();
    assert_eq!(proposed_runs, 2, "the gate ran again on the merged tree");
    let ready = proof(&repo, &goal)?;
    assert_eq!(ready["status"], "ready", "{ready:#}");
    assert_eq!(
        ready["changed_files"].as_array().map(Vec::len),
        Some(1),
        "measured against the new base"
    );
    assert!(repo.join("README").exists() && fs::read_to_string(repo.join("lib.sh"))?.contains("+"));
    Ok(())
}

#[test]
fn accept_refuses_a_branch_that_conflicts_with_the_base() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let fix = script(&env, "fix.scenario", FIX)?;
    let output = env.omk(&repo, &["run", "fix add", "--agent", &fix])?;
    assert_eq!(output.code, Some(0), "{output}");
    fs::write(repo.join("lib.sh"), "add() { echo $(($1 * $2)); }\n")?;
    env.git(&repo, &["commit", "--quiet", "-am", "multiply"])?;
    let head = env.git(&repo, &["rev-parse", "main"])?;

    let refused = env.omk(&repo, &["accept"])?;
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("1 conflicting path(s): lib.sh"), "{refused}");
    assert_eq!(env.git(&repo, &["rev-parse", "main"])?, head, "nothing merged");
    let goal = goal_id(&env, &repo)?;
    assert_eq!(count(&events(&repo, &goal)?, "change_accepted"), 0);
    Ok(())
}

#[test]
fn a_rejected_change_gets_a_follow_up_run_on_the_same_worktree() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    // Fixes add on the first run; on a follow-up, documents it as asked.
    let agent = env.write(
        "agent.sh",
        "prompt=$(cat)\ncase \"$prompt\" in\n  *Follow-up:*) echo '# add returns the sum' >> lib.sh ;;\n  *) sed -i 's/\\$1 - \\$2/$1 + $2/' lib.sh ;;\nesac\necho done\n",
    )?;
    let agent = format!("cmd:sh {}", agent.display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent])?;
    assert_eq!(output.code, Some(0), "{output}");
    let goal = goal_id(&env, &repo)?;
    let first_tree = proof(&repo, &goal)?["git"]["tree_id"].clone();

    let rejected = env.omk(&repo, &["reject", "--reason", "document what add returns"])?;
    assert_eq!(rejected.code, Some(0), "{rejected}");
    let after_reject = proof(&repo, &goal)?;
    assert_eq!(after_reject["known_gaps"][0]["gap"]["kind"], "change_rejected", "{after_reject:#}");
    assert_eq!(
        env.git(&repo, &["rev-parse", "--verify", "--quiet", &format!("omk/{goal}")])?.len(),
        41
    );
    let nothing = env.omk(&repo, &["resume"])?;
    assert_eq!(nothing.code, Some(2), "a rejected goal resumes only with a follow-up: {nothing}");

    let follow_up =
        env.omk(&repo, &["resume", &goal[..12], "--prompt", "document what add returns"])?;
    assert_eq!(follow_up.code, Some(0), "{follow_up}");
    let after = proof(&repo, &goal)?;
    assert_ne!(after["git"]["tree_id"], first_tree);
    assert_eq!(after["readiness"], "awaiting_acceptance", "{after:#}");
    assert_eq!(after["commits"].as_array().map(Vec::len), Some(2));
    assert_eq!(after["agent"]["runs"], 2);
    let worktree = repo.join(".omk/worktrees").join(&goal);
    assert!(fs::read_to_string(worktree.join("lib.sh"))?.contains("# add returns the sum"));
    Ok(())
}

#[test]
fn a_vague_prompt_asks_a_question_and_the_answer_lets_the_goal_go_on() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let goal = run_fix(&env, &repo, "Make it awesome", &[], 3)?;
    let blocked = proof(&repo, &goal)?;
    assert_eq!(blocked["status"], "blocked_on_human");
    let question = blocked["human_decisions_required"][0]["question"].as_str().unwrap_or_default();
    assert!(question.contains("Make it awesome"), "{question}");
    assert!(!repo.join(".omk/worktrees").join(&goal).exists(), "nothing ran before the answer");

    let unanswered = env.omk(&repo, &["resume"])?;
    assert_eq!(unanswered.code, Some(2), "{unanswered}");
    assert!(unanswered.stderr.contains("answer with `omk resume --prompt ANSWER`"), "{unanswered}");
    let answered =
        env.omk(&repo, &["resume", "--prompt", "fix add in lib.sh so sh test.sh passes"])?;
    assert_eq!(answered.code, Some(0), "{answered}");
    let log = events(&repo, &goal)?;
    assert_eq!(count(&log, "decision_made"), 1);
    let going = proof(&repo, &goal)?;
    assert_eq!(going["readiness"], "awaiting_acceptance", "{going:#}");
    assert_eq!(going["human_decisions_required"], Value::Array(Vec::new()));
    Ok(())
}

#[test]
fn pause_from_another_terminal_stops_the_agent_and_resume_finishes() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, run, goal) = start_slow_run(&env)?;
    let live = status(&env, &repo)?;
    assert_eq!(live["running"], true, "{live:#}");
    assert_eq!(live["pid"], run.id());
    assert_eq!(live["step"], "running: the agent step");

    let started = Instant::now();
    let paused = env.omk(&repo, &["pause", &goal])?;
    let run = finish(run)?;
    let latency = started.elapsed();
    assert_eq!(paused.code, Some(0), "{paused}");
    assert!(paused.stdout.starts_with(&format!("goal {goal} paused: its run (pid ")), "{paused}");
    assert_eq!(run.code, Some(130), "{run}");
    // The issue asks for a stop within a second; a loaded 2-core machine gets some slack.
    assert!(latency < Duration::from_secs(5), "the run stopped after {latency:?}");
    let log = events(&repo, &goal)?;
    let finished = log.iter().find(|it| it["event"]["kind"] == "agent_finished").expect("recorded");
    assert!(finished["event"]["stopped"].as_str().unwrap_or_default().contains("omk pause"));
    assert_eq!(status(&env, &repo)?["status"], "paused");
    assert!(!repo.join(".omk/goals").join(&goal).join("control.json").exists());

    let resumed = env.omk(&repo, &["resume"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let done = proof(&repo, &goal)?;
    assert_eq!(done["readiness"], "awaiting_acceptance", "{done:#}");
    assert_eq!(done["agent"]["runs"], 2);
    Ok(())
}

#[test]
fn ctrl_c_pauses_and_cancel_is_final() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, run, goal) = start_slow_run(&env)?;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(run.id())?);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT)?;
    let run = finish(run)?;
    assert_eq!(run.code, Some(130), "{run}");
    assert_eq!(proof(&repo, &goal)?["status"], "paused");
    assert!(kinds(&events(&repo, &goal)?).contains(&"goal_paused".to_owned()));

    let cancelled = env.omk(&repo, &["cancel", "--reason", "not needed"])?;
    assert_eq!(cancelled.code, Some(0), "{cancelled}");
    assert!(cancelled.stdout.contains("no run was live"), "{cancelled}");
    assert_eq!(proof(&repo, &goal)?["status"], "cancelled");
    let refused = env.omk(&repo, &["resume"])?;
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(refused.stderr.contains("was cancelled, which is final"), "{refused}");
    Ok(())
}

#[test]
fn a_live_run_cancelled_from_another_terminal_stops() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, run, goal) = start_slow_run(&env)?;
    let cancelled = env.omk(&repo, &["cancel", &goal, "--json"])?;
    let run = finish(run)?;
    assert_eq!(cancelled.code, Some(0), "{cancelled}");
    let document: Value = serde_json::from_str(&cancelled.stdout)?;
    assert_eq!(document["was_running"], true);
    assert_eq!(run.code, Some(130), "{run}");
    assert_eq!(proof(&repo, &goal)?["status"], "cancelled");
    Ok(())
}

#[test]
fn budgets_stop_the_run_and_budget_add_lets_it_go_on() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;

    // No time at all: the run stops before its first step.
    let goal = run_fix(&env, &repo, "fix add", &["--budget-time", "0s"], 4)?;
    let stopped = proof(&repo, &goal)?;
    assert_eq!(stopped["status"], "needs_more_budget");
    assert_eq!(stopped["budget"]["exhausted"]["resource"], "wall_time");
    let added = env.omk(&repo, &["budget", "add", "--time", "10m"])?;
    assert_eq!(added.code, Some(0), "{added}");
    let resumed = env.omk(&repo, &["resume"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    assert_eq!(proof(&repo, &goal)?["readiness"], "awaiting_acceptance");

    // One turn: the agent is stopped as its second turn starts, its partial work kept.
    let goal = run_fix(&env, &repo, "fix add again", &["--max-turns", "1"], 4)?;
    let stopped = proof(&repo, &goal)?;
    assert_eq!(stopped["status"], "needs_more_budget", "{stopped:#}");
    assert_eq!(stopped["budget"]["exhausted"]["resource"], "turns");
    assert_eq!(stopped["changed_files"][0]["path"], "lib.sh", "the partial work is evidence");
    assert!(
        stopped["agent"]["error"].as_str().unwrap_or_default().starts_with("omk stopped the agent")
    );

    // Tokens: 400 per step, so a limit of 480 warns at the first report and stops the agent
    // at the second.
    let goal = run_fix(&env, &repo, "fix add a third time", &["--budget-tokens", "480"], 4)?;
    let log = events(&repo, &goal)?;
    let warned = log.iter().find(|it| it["event"]["kind"] == "budget_warned").expect("a warning");
    assert_eq!(warned["event"]["resource"], "tokens");
    let replay = env.omk(&repo, &["replay", &goal])?;
    assert!(replay.stdout.contains("80 % of the tokens budget is used (400 of 480)"), "{replay}");
    assert_eq!(proof(&repo, &goal)?["budget"]["exhausted"]["resource"], "tokens");
    let added = env.omk(&repo, &["budget", "add", &goal, "--tokens", "5000", "--json"])?;
    assert_eq!(added.code, Some(0), "{added}");
    let document: Value = serde_json::from_str(&added.stdout)?;
    assert_eq!(document["budget"]["limits"]["tokens"], 5480);
    let resumed = env.omk(&repo, &["resume", &goal])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    Ok(())
}

#[test]
fn resume_repairs_a_torn_log_and_replay_verifies_it() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let fix = script(&env, "fix.scenario", FIX)?;
    let killed = env.omk_with(
        &repo,
        &["run", "fix add", "--agent", &fix],
        &[("OMK_TEST_KILL_AFTER", "changes_captured")],
    )?;
    assert_eq!(killed.code, None, "killed by SIGKILL: {killed}");
    let goal = goal_id(&env, &repo)?;
    let log_path = repo.join(".omk/goals").join(&goal).join("events.jsonl");
    let mut log = fs::read(&log_path)?;
    log.extend_from_slice(b"{\"format\":\"1.2\",\"seq\":99,\"at\":\"2026-");
    fs::write(&log_path, log)?;

    let resumed = env.omk(&repo, &["resume"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let log = events(&repo, &goal)?;
    let recoveries: Vec<&str> = log
        .iter()
        .filter(|it| it["event"]["kind"] == "recovery_performed")
        .map(|it| it["event"]["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(recoveries, ["torn_tail_repaired", "resumed_after_crash"]);
    let replay = env.omk(&repo, &["replay"])?;
    assert_eq!(replay.code, Some(0), "{replay}");
    assert!(replay.stdout.contains("hash chain verified"), "{replay}");
    assert!(replay.stdout.contains("going on from the commit"), "{replay}");
    Ok(())
}

#[test]
fn bad_input_names_the_problem_and_loses_nothing() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let fix = script(&env, "fix.scenario", FIX)?;
    let check = |args: &[&str], code: i32, message: &str| -> anyhow::Result<()> {
        let output = env.omk(&repo, args)?;
        assert_eq!(output.code, Some(code), "{args:?}: {output}");
        assert!(output.stderr.contains(message), "{args:?}: {output}");
        Ok(())
    };
    check(&["resume"], 2, "no goal has run in")?;
    check(&["status", "nope"], 2, "no goal nope in")?;
    let first = env.omk(&repo, &["run", "fix add", "--agent", &fix])?;
    assert_eq!(first.code, Some(0), "{first}");
    let second = env.omk(&repo, &["run", "fix add too", "--agent", &fix])?;
    assert_eq!(second.code, Some(0), "{second}");
    check(&["show", "2026"], 2, "names 2 goals")?;
    check(&["reject", "latest", "--reason", "  "], 2, "say why the change is rejected")?;
    check(&["budget", "add"], 2, "say what to add")?;
    check(&["pause"], 2, "is not running, so there is nothing to pause")?;

    // A goal another process runs is refused, naming the process.
    let agent = slow_agent(&env)?;
    let known = goal_dirs(&repo);
    let run =
        env.spawn_omk(&repo, &["run", "fix add slowly", "--agent", &agent, "--gate", "true"])?;
    let goal = wait_for_event(&repo, "agent_started", &known)?;
    let busy = env.omk(&repo, &["resume", &goal])?;
    assert_eq!(busy.code, Some(2), "{busy}");
    assert!(busy.stderr.contains(&format!("is being run by pid {}", run.id())), "{busy}");
    env.omk(&repo, &["cancel", &goal])?;
    finish(run)?;

    // A changed byte in a log is named by its line, and the log is left as it was.
    let path = repo.join(".omk/goals").join(&goal).join("events.jsonl");
    let text = fs::read_to_string(&path)?.replacen("\"fix add slowly\"", "\"fix add quickly\"", 1);
    fs::write(&path, &text)?;
    let corrupt = env.omk(&repo, &["resume", &goal])?;
    assert_eq!(corrupt.code, Some(5), "{corrupt}");
    assert!(corrupt.stderr.contains("line 1"), "{corrupt}");
    assert_eq!(fs::read_to_string(&path)?, text);

    // A repository without commits, and a detached HEAD.
    let empty = env.root().join("empty");
    fs::create_dir(&empty)?;
    env.git(&empty, &["init", "--quiet"])?;
    let output = env.omk(&empty, &["run", "fix add", "--agent", &fix])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("has no commits yet"), "{output}");
    let head = env.git(&repo, &["rev-parse", "HEAD"])?;
    env.git(&repo, &["checkout", "--quiet", "--detach", head.trim()])?;
    let output = env.omk(&repo, &["run", "fix add", "--agent", &fix])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("HEAD is detached at"), "{output}");
    Ok(())
}

/// Kills `omk run` with SIGKILL right after each event of a full run, then resumes: every time
/// the goal finishes with a valid proof, its log verifies, no step's result is recorded twice,
/// the branch has one commit, and the goal's worktree is there, registered once and unlocked.
#[test]
fn a_run_killed_at_any_step_boundary_resumes_without_duplicating_anything() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let fix = script(&env, "fix.scenario", FIX)?;
    let run_args = ["run", "fix add", "--agent", fix.as_str(), "--gate", "true"];
    let reference = repo(&env, "reference")?;
    let output = env.omk(&reference, &run_args)?;
    assert_eq!(output.code, Some(0), "{output}");
    let reference_goal = goal_id(&env, &reference)?;
    let reference_kinds = kinds(&events(&reference, &reference_goal)?);
    let reference_proof = proof(&reference, &reference_goal)?;

    let mut points = Vec::new();
    for (idx, kind) in reference_kinds.iter().enumerate() {
        let n = reference_kinds[..=idx].iter().filter(|it| *it == kind).count();
        points.push(format!("{kind}#{n}"));
    }
    for (idx, point) in points.iter().enumerate() {
        let repo = repo(&env, &format!("kill-{idx}"))?;
        let killed = env.omk_with(&repo, &run_args, &[("OMK_TEST_KILL_AFTER", point)])?;
        assert_eq!(killed.code, None, "killed after {point}: {killed}");
        let goal = goal_id(&env, &repo)?;
        let resumed = env.omk(&repo, &["resume"])?;
        assert_eq!(resumed.code, Some(0), "resume after {point}: {resumed}");

        let log = events(&repo, &goal)?;
        let replay = env.omk(&repo, &["replay", &goal])?;
        assert_eq!(replay.code, Some(0), "the log verifies after {point}: {replay}");
        for kind in [
            "goal_classified",
            "worktree_created",
            "changes_committed",
            "review_started",
            "agent_finished",
        ] {
            assert_eq!(count(&log, kind), 1, "{kind} once after {point}");
        }
        assert_eq!(count(&log, "review_finished"), 7, "each review check once after {point}");
        let mut gate_results: Vec<String> = log
            .iter()
            .filter(|it| it["event"]["kind"] == "gate_finished")
            .map(|it| format!("{}/{}", it["event"]["phase"], it["event"]["name"]))
            .collect();
        let all = gate_results.len();
        gate_results.sort();
        gate_results.dedup();
        assert_eq!((all, gate_results.len()), (4, 4), "each gate once per phase after {point}");

        let after = proof(&repo, &goal)?;
        for field in ["status", "readiness", "known_gaps", "changed_files"] {
            assert_eq!(after[field], reference_proof[field], "{field} after {point}");
        }
        assert_eq!(after["git"]["tree_id"], reference_proof["git"]["tree_id"], "after {point}");
        let commits = env.git(&repo, &["rev-list", "--count", &format!("main..omk/{goal}")])?;
        assert_eq!(commits.trim(), "1", "one commit on the branch after {point}");
        let worktrees = env.git(&repo, &["worktree", "list", "--porcelain"])?;
        let linked: Vec<&str> =
            worktrees.lines().filter(|it| it.starts_with("worktree ")).skip(1).collect();
        assert_eq!(linked.len(), 1, "one worktree after {point}: {worktrees}");
        assert!(linked[0].ends_with(&format!(".omk/worktrees/{goal}")), "{worktrees}");
        assert!(
            !worktrees.contains("\nlocked"),
            "the lease is released after {point}: {worktrees}"
        );
    }
    Ok(())
}

#[test]
fn pause_during_the_gates_cancels_them_and_resume_runs_them_again() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let fix = script(&env, "fix.scenario", FIX)?;
    // A gate that hangs on the proposed tree the first time only.
    let marker = env.root().join("slow-gate-ran");
    env.allow_writes_outside()?;
    let gate = format!(
        "if grep -q '+' lib.sh && [ ! -e '{m}' ]; then touch '{m}'; sleep 30; fi; sh test.sh",
        m = marker.display()
    );
    let known = goal_dirs(&repo);
    let run = env.spawn_omk(&repo, &["run", "fix add", "--agent", &fix, "--gate", &gate])?;
    let goal = wait_for_event(&repo, "gate_surface_checked", &known)?;
    let started = Instant::now();
    while !marker.exists() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the slow gate never started");
        thread::sleep(Duration::from_millis(25));
    }
    let paused = env.omk(&repo, &["pause", &goal])?;
    let run = finish(run)?;
    assert_eq!(paused.code, Some(0), "{paused}");
    assert_eq!(run.code, Some(130), "{run}");
    let log = events(&repo, &goal)?;
    let proposed = log
        .iter()
        .filter(|it| it["event"]["kind"] == "gate_finished" && it["event"]["phase"] == "proposed")
        .filter(|it| it["event"]["name"] == "gate-1")
        .count();
    assert_eq!(proposed, 0, "a gate cut short by the pause is not a result");
    assert_eq!(proof(&repo, &goal)?["status"], "paused");

    let resumed = env.omk(&repo, &["resume"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let done = proof(&repo, &goal)?;
    assert_eq!(done["readiness"], "awaiting_acceptance", "{done:#}");
    Ok(())
}

#[test]
fn the_time_budget_stops_a_running_agent() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let agent = slow_agent(&env)?;
    let started = Instant::now();
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent, "--budget-time", "1s"])?;
    let took = started.elapsed();
    assert_eq!(output.code, Some(4), "{output}");
    assert!(took < Duration::from_secs(15), "the 30 s agent was stopped, after {took:?} in all");
    let goal = goal_id(&env, &repo)?;
    let stopped = proof(&repo, &goal)?;
    assert_eq!(stopped["budget"]["exhausted"]["resource"], "wall_time");
    assert!(stopped["budget"]["exhausted"]["used"].as_f64().unwrap_or(0.0) >= 1000.0);
    assert!(
        stopped["agent"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("the wall time budget ran out")
    );
    Ok(())
}

#[test]
fn a_worktree_removed_by_hand_is_restored_from_its_branch() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let goal = run_fix(&env, &repo, "fix add", &[], 0)?;
    let worktree = repo.join(".omk/worktrees").join(&goal);
    fs::remove_dir_all(&worktree)?;
    env.omk(&repo, &["reject", "--reason", "say what add does"])?;

    // The scripted agent cannot follow up (its edit no longer applies), so the tree is the one
    // rejected, and the rejection still stands: exit 1.
    let resumed = env.omk(&repo, &["resume", "--prompt", "say what add does"])?;
    assert_eq!(resumed.code, Some(1), "{resumed}");
    assert_eq!(proof(&repo, &goal)?["known_gaps"][0]["gap"]["kind"], "change_rejected");
    let log = events(&repo, &goal)?;
    let restored = log
        .iter()
        .find(|it| it["event"]["action"] == "worktree_restored")
        .expect("the repair is recorded");
    assert!(restored["event"]["detail"].as_str().unwrap_or_default().contains("from its branch"));
    // The goal's commit came back with the branch: the fix is there.
    assert!(fs::read_to_string(worktree.join("lib.sh"))?.contains("$1 + $2"));
    Ok(())
}

#[test]
fn a_usd_budget_stops_the_agent_while_it_runs_when_its_usage_has_a_price() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    // 400 tokens a step at $1000 per million: $0.40 after the first step, $0.80 after the second.
    fs::write(
        repo.join("omk.toml"),
        "[prices.script]\ninput_per_mtok = 1000.0\noutput_per_mtok = 1000.0\n",
    )?;
    let goal =
        run_fix(&env, &repo, "fix add", &["--gate", "sh test.sh", "--budget-usd", "0.5"], 4)?;
    let log = events(&repo, &goal)?;
    let warned = log.iter().find(|it| it["event"]["kind"] == "budget_warned").expect("a warning");
    assert_eq!(warned["event"]["resource"], "usd");
    let finished = log.iter().find(|it| it["event"]["kind"] == "agent_finished").expect("finished");
    assert!(
        finished["event"]["stopped"].as_str().is_some_and(|it| it.contains("budget")),
        "omk stopped the agent at the limit, not after its run: {finished:#}"
    );
    let proof = proof(&repo, &goal)?;
    assert_eq!(proof["status"], "needs_more_budget", "{proof:#}");
    assert_eq!(proof["budget"]["exhausted"]["resource"], "usd", "{proof:#}");
    Ok(())
}
