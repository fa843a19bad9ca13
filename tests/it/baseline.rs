//! Gates never write the change, and the baseline gates run beside the agent (issue 23, parts 2
//! and 3), end to end: `omk run` with `cmd:` agents and shell gates on real repositories.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Child,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{TestEnv, env::Output, gap_kinds, proof};

/// A test whose last line is the count omk reads.
const T_SH: &str = "echo '1 passed, 0 failed'\n";

fn repo(env: &TestEnv, name: &str) -> anyhow::Result<PathBuf> {
    env.repo(name, &[("t.sh", T_SH), ("keep.txt", "kept\n")])
}

/// Runs `omk run --json` with `agent` and `gates` in `repo`; returns the goal and its proof.
fn run(env: &TestEnv, repo: &Path, agent: &str, gates: &[&str]) -> anyhow::Result<(String, Value)> {
    let mut args = vec!["run", "add a.txt", "--agent", agent, "--json"];
    for gate in gates {
        args.extend(["--gate", gate]);
    }
    let (output, proof) = env.omk_goal_proof(repo, &args)?;
    anyhow::ensure!(matches!(output.code, Some(0 | 1)), "{output}");
    Ok((proof["goal_id"].as_str().unwrap_or_default().to_owned(), proof))
}

fn events(repo: &Path, goal: &str) -> anyhow::Result<Vec<Value>> {
    let text = fs::read_to_string(repo.join(".omk/goals").join(goal).join("events.jsonl"))?;
    text.lines().map(|line| Ok(serde_json::from_str(line)?)).collect()
}

/// Returns the `gate_finished` events of `phase`, as `name:exit code`.
fn gate_results(log: &[Value], phase: &str) -> Vec<String> {
    log.iter()
        .filter(|it| it["event"]["kind"] == "gate_finished" && it["event"]["phase"] == phase)
        .map(|it| {
            format!("{}:{}", it["event"]["name"].as_str().unwrap_or(""), it["event"]["exit_code"])
        })
        .collect()
}

fn seq_of(log: &[Value], kind: &str) -> Option<u64> {
    log.iter().find(|it| it["event"]["kind"] == kind).and_then(|it| it["seq"].as_u64())
}

fn changed_paths(proof: &Value) -> Vec<String> {
    proof["changed_files"]
        .as_array()
        .map(|files| files.iter().map(|it| it["path"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

/// Returns the paths of the goal branch's tree.
fn branch_files(env: &TestEnv, repo: &Path, goal: &str) -> anyhow::Result<Vec<String>> {
    let listing = env.git(repo, &["ls-tree", "-r", "--name-only", &format!("omk/{goal}")])?;
    Ok(listing.lines().map(str::to_owned).collect())
}

/// Checks that nothing of the baseline's scratch worktree is left: not on disk, not registered.
fn assert_no_baseline_worktree(env: &TestEnv, repo: &Path, goal: &str) -> anyhow::Result<()> {
    let scratch = repo.join(".omk/verify").join(goal).join("baseline");
    anyhow::ensure!(!scratch.exists(), "{} is left", scratch.display());
    let worktrees = env.git(repo, &["worktree", "list", "--porcelain"])?;
    anyhow::ensure!(!worktrees.contains("/baseline\n"), "still registered: {worktrees}");
    Ok(())
}

/// The issue's example: a gate that writes `junk.txt` beside an agent that adds only `a.txt`.
#[test]
fn files_a_gate_writes_are_never_captured_committed_or_proposed() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let (goal, proof) = run(&env, &repo, "cmd:echo hi > a.txt", &["sh t.sh; date +%N > junk.txt"])?;
    assert_eq!(changed_paths(&proof), ["a.txt"], "{proof:#}");
    assert_eq!(branch_files(&env, &repo, &goal)?, ["a.txt", "keep.txt", "t.sh"]);
    // The proof says what the gates left, and that it was not the change.
    let left = &proof["gates_left_files"];
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{proof:#}");
    assert_eq!(left[0]["phase"], "proposed");
    assert_eq!(left[0]["created"], serde_json::json!(["junk.txt"]));
    assert_eq!(left[0]["rewritten"], serde_json::json!([]));
    assert_eq!(left[0]["tree_id"], proof["git"]["tree_id"]);
    assert!(!gap_kinds(&proof).contains(&"gate_rewrote_tree".to_owned()), "{proof:#}");
    // The goal's worktree holds the proposed tree, and the baseline ran elsewhere.
    let worktree = repo.join(".omk/worktrees").join(&goal);
    assert!(!worktree.join("junk.txt").exists());
    let log = events(&repo, &goal)?;
    assert_eq!(gate_results(&log, "baseline"), ["gate-1:0"]);
    assert_eq!(gate_results(&log, "proposed"), ["gate-1:0"]);
    assert_no_baseline_worktree(&env, &repo, &goal)?;
    // `omk proof verify` agrees with the stored proof and the branch.
    let verified = env.omk(&repo, &["proof", "verify", &goal])?;
    assert_eq!(verified.code, Some(0), "{verified}");
    Ok(())
}

/// A gate that rewrites a file of the proposed tree (a formatter without its check flag): the
/// change stays as the agent made it, and the proof says the gates judged a tree that changed
/// under them.
#[test]
fn a_gate_that_rewrites_the_change_is_undone_and_named_in_the_proof() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = repo(&env, "repo")?;
    let gate = "sh t.sh; [ ! -e a.txt ] || echo formatted > a.txt; rm -f keep.txt";
    let (goal, proof) = run(&env, &repo, "cmd:echo hi > a.txt", &[gate])?;
    assert_eq!(changed_paths(&proof), ["a.txt"], "{proof:#}");
    let committed = env.git(&repo, &["show", &format!("omk/{goal}:a.txt")])?;
    assert_eq!(committed, "hi\n");
    let worktree = repo.join(".omk/worktrees").join(&goal);
    assert_eq!(fs::read_to_string(worktree.join("a.txt"))?, "hi\n");
    assert_eq!(fs::read_to_string(worktree.join("keep.txt"))?, "kept\n");
    assert_eq!(proof["gates_left_files"][0]["rewritten"], serde_json::json!(["a.txt", "keep.txt"]));
    assert!(gap_kinds(&proof).contains(&"gate_rewrote_tree".to_owned()), "{proof:#}");
    assert_ne!(proof["readiness"], "ready");
    assert_ne!(proof["readiness"], "awaiting_acceptance", "{proof:#}");
    Ok(())
}

/// The baseline gates run while the agent works: here the agent waits for a file that only the
/// baseline gate writes, so a baseline that ran before or after the agent would fail the run.
#[test]
fn the_baseline_gates_run_beside_the_agent_on_the_base_tree() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    env.allow_writes_outside()?;
    let repo = repo(&env, "repo")?;
    let signal = env.root().join("baseline-ran");
    let agent = env.write(
        "agent.sh",
        &format!(
            "n=0; while [ ! -e '{s}' ]; do n=$((n+1)); [ $n -lt 600 ] || exit 7; sleep 0.05; done\n\
             echo hi > a.txt\n",
            s = signal.display()
        ),
    )?;
    // The gate records the tree it sees: the base tree has no a.txt.
    let gate = format!(
        "[ -e a.txt ] && echo proposed >> '{log}' || {{ echo base >> '{log}'; touch '{s}'; }}; sh t.sh",
        log = env.root().join("gate.log").display(),
        s = signal.display()
    );
    let (goal, proof) = run(&env, &repo, &format!("cmd:sh {}", agent.display()), &[&gate])?;
    assert_eq!(proof["agent"]["status"], "completed", "{proof:#}");
    assert_eq!(fs::read_to_string(env.root().join("gate.log"))?, "base\nproposed\n");
    let log = events(&repo, &goal)?;
    // The baseline ran while the agent did (the agent waited for it); its results follow the
    // agent's events in the log, so the log's order does not depend on which finished first.
    let kinds: Vec<&str> = log.iter().filter_map(|it| it["event"]["kind"].as_str()).collect();
    let agent_finished = kinds.iter().position(|it| *it == "agent_finished");
    assert_eq!(
        agent_finished.map(|idx| &kinds[idx..idx + 4]),
        Some(&["agent_finished", "gate_started", "gate_finished", "changes_captured"][..]),
        "{kinds:?}"
    );
    // The baseline means what it meant: the gate on the base tree, the base commit's tree.
    let base_tree = env.git(&repo, &["rev-parse", "main^{tree}"])?;
    let baseline = log
        .iter()
        .find(|it| it["event"]["kind"] == "gate_finished" && it["event"]["phase"] == "baseline");
    assert_eq!(baseline.map(|it| it["event"]["tree_id"].clone()), Some(base_tree.trim().into()));
    assert_eq!(changed_paths(&proof), ["a.txt"]);
    assert_no_baseline_worktree(&env, &repo, &goal)?;
    Ok(())
}

/// Killed (SIGKILL) while the agent and the baseline gate both run, then resumed: the goal ends
/// as an uninterrupted run does, with each gate's result once per phase and no scratch left.
#[test]
fn a_run_killed_while_agent_and_baseline_run_resumes_to_the_same_result() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    env.allow_writes_outside()?;
    let (agent_ran, gate_ran) = (env.root().join("agent-ran"), env.root().join("gate-ran"));
    let agent = format!("cmd:touch '{}'; sleep 2; echo hi > a.txt", agent_ran.display());
    let gate = format!("[ -e a.txt ] || touch '{}'; sleep 1; sh t.sh", gate_ran.display());
    let reference = repo(&env, "reference")?;
    let (_, expected) = run(&env, &reference, &agent, &[&gate])?;
    fs::remove_file(&agent_ran)?;
    fs::remove_file(&gate_ran)?;

    let repo = repo(&env, "repo")?;
    let mut omk =
        env.spawn_omk(&repo, &["run", "add a.txt", "--agent", &agent, "--gate", &gate])?;
    wait_for(&[&agent_ran, &gate_ran])?;
    omk.kill()?;
    let killed = finish(omk)?;
    assert_eq!(killed.code, None, "{killed}");
    let goal = only_goal(&repo)?;
    let log = events(&repo, &goal)?;
    assert_eq!(seq_of(&log, "agent_finished"), None, "the agent was running: {log:#?}");
    assert_eq!(gate_results(&log, "baseline"), Vec::<String>::new());
    assert!(repo.join(".omk/verify").join(&goal).join("baseline").exists());

    let resumed = env.omk(&repo, &["resume"])?;
    assert!(matches!(resumed.code, Some(0 | 1)), "{resumed}");
    let after = proof(&repo, &goal)?;
    for field in ["status", "readiness", "known_gaps", "changed_files"] {
        assert_eq!(after[field], expected[field], "{field}");
    }
    let log = events(&repo, &goal)?;
    assert_eq!(gate_results(&log, "baseline"), ["gate-1:0"]);
    assert_eq!(gate_results(&log, "proposed"), ["gate-1:0"]);
    assert!(seq_of(&log, "recovery_performed").is_some());
    assert_no_baseline_worktree(&env, &repo, &goal)?;
    Ok(())
}

/// `omk pause` while both run stops both: neither result is recorded, nothing is left, and
/// `omk resume` runs both again. A wall-time budget and `omk cancel` stop both alike.
#[test]
fn pause_budget_and_cancel_stop_the_agent_and_the_baseline_together() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    env.allow_writes_outside()?;
    let repo = repo(&env, "repo")?;
    let marker = env.root().join("agent-ran");
    let agent = env.write(
        "agent.sh",
        &format!(
            "if [ -e '{m}' ]; then echo hi > a.txt; else touch '{m}'; sleep 30; fi\n",
            m = marker.display()
        ),
    )?;
    let agent = format!("cmd:sh {}", agent.display());
    let gate_started = env.root().join("gate-started");
    let slow_gate = format!(
        "if [ ! -e a.txt ] && [ ! -e '{g}' ]; then touch '{g}'; sleep 30; fi; sh t.sh",
        g = gate_started.display()
    );
    let run =
        env.spawn_omk(&repo, &["run", "add a.txt", "--agent", &agent, "--gate", &slow_gate])?;
    wait_for(&[&marker, &gate_started])?;
    let goal = only_goal(&repo)?;
    let paused = env.omk(&repo, &["pause", &goal])?;
    assert_eq!(paused.code, Some(0), "{paused}");
    let stopped = finish(run)?;
    assert_eq!(stopped.code, Some(130), "{stopped}");
    let log = events(&repo, &goal)?;
    assert_eq!(
        gate_results(&log, "baseline"),
        Vec::<String>::new(),
        "a cut-short gate is no result"
    );
    assert_eq!(proof(&repo, &goal)?["status"], "paused");
    assert_no_baseline_worktree(&env, &repo, &goal)?;
    let resumed = env.omk(&repo, &["resume", &goal])?;
    assert!(matches!(resumed.code, Some(0 | 1)), "{resumed}");
    let log = events(&repo, &goal)?;
    assert_eq!(gate_results(&log, "baseline"), ["gate-1:0"]);
    assert_eq!(changed_paths(&proof(&repo, &goal)?), ["a.txt"]);

    // A wall-time budget stops both at once.
    let hang = "cmd:sleep 30";
    let budget = repo_dir_goal(&env, "budget", |repo| {
        env.omk(
            repo,
            &["run", "add a.txt", "--agent", hang, "--gate", "sleep 30", "--budget-time", "2s"],
        )
    })?;
    let (repo, goal, output) = budget;
    assert_eq!(output.code, Some(4), "{output}");
    let log = events(&repo, &goal)?;
    assert!(seq_of(&log, "budget_exhausted").is_some());
    assert_eq!(gate_results(&log, "baseline"), Vec::<String>::new());
    assert_no_baseline_worktree(&env, &repo, &goal)?;

    // `omk cancel` too.
    let repo = self::repo(&env, "cancel")?;
    let gate_ran = env.root().join("cancel-gate-ran");
    let gate = format!("touch '{}'; sleep 30", gate_ran.display());
    let run = env.spawn_omk(&repo, &["run", "add a.txt", "--agent", hang, "--gate", &gate])?;
    wait_for(&[&gate_ran])?;
    let goal = wait_for_goal_event(&repo, "agent_started")?;
    let cancelled = env.omk(&repo, &["cancel", &goal])?;
    assert_eq!(cancelled.code, Some(0), "{cancelled}");
    finish(run)?;
    let log = events(&repo, &goal)?;
    assert!(seq_of(&log, "goal_cancelled").is_some());
    assert_eq!(gate_results(&log, "baseline"), Vec::<String>::new());
    assert_no_baseline_worktree(&env, &repo, &goal)?;
    Ok(())
}

/// Makes a repository `name`, runs `run` in it, and returns it with its one goal.
fn repo_dir_goal(
    env: &TestEnv,
    name: &str,
    run: impl FnOnce(&Path) -> anyhow::Result<Output>,
) -> anyhow::Result<(PathBuf, String, Output)> {
    let repo = repo(env, name)?;
    let output = run(&repo)?;
    let goal = only_goal(&repo)?;
    Ok((repo, goal, output))
}

fn only_goal(repo: &Path) -> anyhow::Result<String> {
    let mut goals: Vec<String> = fs::read_dir(repo.join(".omk/goals"))?
        .flatten()
        .map(|it| it.file_name().to_string_lossy().into_owned())
        .collect();
    anyhow::ensure!(goals.len() == 1, "goals: {goals:?}");
    Ok(goals.remove(0))
}

/// Waits until every file of `paths` exists, or fails after 30 s.
fn wait_for(paths: &[&Path]) -> anyhow::Result<()> {
    let started = Instant::now();
    while !paths.iter().all(|it| it.exists()) {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "{paths:?} never appeared");
        thread::sleep(Duration::from_millis(25));
    }
    Ok(())
}

/// Waits until the repository's one goal has an event of `kind`, or fails after 30 s.
fn wait_for_goal_event(repo: &Path, kind: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        if let Ok(goal) = only_goal(repo)
            && events(repo, &goal).is_ok_and(|log| seq_of(&log, kind).is_some())
        {
            return Ok(goal);
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "no {kind} event");
        thread::sleep(Duration::from_millis(25));
    }
}

fn finish(child: Child) -> anyhow::Result<Output> {
    let output = child.wait_with_output()?;
    Ok(Output {
        stdout: String::from_utf8(output.stdout)?,
        stderr: String::from_utf8(output.stderr)?,
        code: output.status.code(),
    })
}
