//! Team runs end to end: slices at once, the merge queue (conflicts, broken gates, bisection),
//! retries of a dead worker, and a controller killed while slices run.

use std::{
    fs,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::TestEnv;

/// The gate: fails when any `.txt` file says BAD; sleeps first when `GATE_SLEEP` is a file.
/// Each file checked is a test, and its last line the count omk reads.
const CHECK_SH: &str = "[ -f GATE_SLEEP ] && sleep \"$(cat GATE_SLEEP)\"\n\
    n=0\n\
    for f in *.txt; do grep -q BAD \"$f\" && { echo \"$f is BAD\"; echo \"$n passed, 1 failed\"; exit 1; }; n=$((n + 1)); done\n\
    echo \"$n passed, 0 failed\"\n";
/// `sh check.sh` as the repo's test gate.
const OMK_TOML: &str = "[[gates]]\nname = \"check\"\nkind = \"test\"\ncommand = \"sh check.sh\"\n";

/// A `cmd:` agent: for each `- NAME` item of its prompt it logs `start NAME`, sleeps as the
/// item says, writes a file, and logs `end NAME` (in `$LOG`, outside the worktree).
///
/// `fast*` items sleep 0 s, `slow*` items 3 s, others 1 s; `shared*` write `shared.txt`, `bad`
/// writes BAD, `die` kills its own process on its first attempt.
const AGENT_SH: &str = r#"log="$1"
grep '^- ' "$OMK_PROMPT_FILE" | sed 's/^- //' | while read -r name; do
  echo "start $name" >> "$log"
  case "$name" in fast*) ;; slow*) sleep 3 ;; *) sleep 1 ;; esac
  case "$name" in
    shared*) echo "written by $name" > shared.txt ;;
    bad) echo BAD > bad.txt ;;
    die) if [ ! -f "$log.died" ]; then touch "$log.died"; kill -9 $$; fi; echo "made by die" > die.txt ;;
    *) echo "made by $name" > "$name.txt" ;;
  esac
  echo "end $name" >> "$log"
done
"#;

struct Team {
    env: TestEnv,
    repo: PathBuf,
    agent: String,
    log: PathBuf,
}

impl Team {
    fn new() -> anyhow::Result<Self> {
        let env = TestEnv::new()?;
        let repo = env.repo(
            "repo",
            &[("check.sh", CHECK_SH), ("base.txt", "base\n"), ("omk.toml", OMK_TOML)],
        )?;
        let script = env.write("agent.sh", AGENT_SH)?;
        let log = env.root().join("agent.log");
        env.allow_writes_outside()?;
        let agent = format!("cmd:sh {} {}", script.display(), log.display());
        Ok(Self { env, repo, agent, log })
    }

    /// Runs `omk run` with `items` as the prompt's list, one slice each.
    fn run(&self, items: &[&str], args: &[&str]) -> anyhow::Result<crate::env::Output> {
        let prompt = format!(
            "Write the files:\n{}",
            items.iter().map(|it| format!("- {it}\n")).collect::<String>()
        );
        let slices = items.len().to_string();
        let mut command = vec![
            "run",
            prompt.as_str(),
            "--slices",
            slices.as_str(),
            "--agent",
            self.agent.as_str(),
        ];
        command.extend_from_slice(args);
        self.env.omk(&self.repo, &command)
    }

    fn goal(&self) -> anyhow::Result<String> {
        let output = self.env.omk(&self.repo, &["status", "--json"])?;
        let status: Value = serde_json::from_str(&output.stdout)?;
        Ok(status["goal"]["goal_id"].as_str().unwrap_or_default().to_owned())
    }

    fn events(&self, goal: &str) -> anyhow::Result<Vec<Value>> {
        events(&self.repo, goal)
    }

    /// Returns the agent log's lines.
    fn log(&self) -> Vec<String> {
        fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// Returns the files of the goal's branch.
    fn files(&self, goal: &str) -> anyhow::Result<Vec<String>> {
        let branch = format!("omk/{goal}");
        let out = self.env.git(&self.repo, &["ls-tree", "--name-only", &branch])?;
        Ok(out.lines().map(str::to_owned).collect())
    }
}

fn events(repo: &Path, goal: &str) -> anyhow::Result<Vec<Value>> {
    let text = fs::read_to_string(repo.join(".omk/goals").join(goal).join("events.jsonl"))?;
    text.lines().map(|line| Ok(serde_json::from_str::<Value>(line)?["event"].clone())).collect()
}

fn of_kind<'e>(events: &'e [Value], kind: &str) -> Vec<&'e Value> {
    events.iter().filter(|it| it["kind"] == kind).collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|it| it.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Returns the tasks of every `queue_landed`, in order.
fn landed(events: &[Value]) -> Vec<String> {
    of_kind(events, "queue_landed").iter().flat_map(|it| strings(&it["tasks"])).collect()
}

#[test]
fn slices_run_at_once_each_in_its_own_worktree_and_land_through_the_queue() -> anyhow::Result<()> {
    let team = Team::new()?;
    let output = team.run(&["alpha", "beta", "gamma"], &[])?;
    anyhow::ensure!(output.code == Some(0), "{output}");
    let goal = team.goal()?;
    let events = team.events(&goal)?;

    let planned = of_kind(&events, "task_graph_planned");
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0]["max_agents"], 3);
    let ids: Vec<&str> =
        planned[0]["tasks"].as_array().unwrap().iter().filter_map(|it| it["id"].as_str()).collect();
    assert_eq!(ids, ["slice-1", "slice-2", "slice-3"]);

    // Each slice on its own branch and worktree, by its own worker.
    let claims = of_kind(&events, "task_claimed");
    let mut workers: Vec<&str> = claims.iter().filter_map(|it| it["worker"].as_str()).collect();
    workers.sort_unstable();
    assert_eq!(workers, ["w1", "w2", "w3"]);
    for claim in &claims {
        let task = claim["task"].as_str().unwrap();
        assert_eq!(claim["branch"], format!("omk/{goal}.{task}"));
        assert!(
            claim["worktree"].as_str().unwrap().ends_with(&format!(".omk/worktrees/{goal}.{task}"))
        );
    }

    // At once: every slice's agent started before any finished (each takes a second).
    let slice_kinds: Vec<&str> = of_kind(&events, "slice")
        .iter()
        .filter_map(|it| it["event"]["kind"].as_str())
        .filter(|it| *it == "agent_started" || *it == "agent_finished")
        .collect();
    assert_eq!(slice_kinds[..3], ["agent_started"; 3], "{slice_kinds:?}");

    let mut all_landed = landed(&events);
    all_landed.sort();
    assert_eq!(all_landed, ["slice-1", "slice-2", "slice-3"]);
    assert!(of_kind(&events, "task_taken_out").is_empty());
    // The integration gates ran on the merged trees, and the proposed gates on the last one.
    let integration = of_kind(&events, "gate_finished")
        .into_iter()
        .filter(|it| it["phase"] == "integration")
        .count();
    assert!(integration > 0);
    assert_eq!(
        team.files(&goal)?,
        ["alpha.txt", "base.txt", "beta.txt", "check.sh", "gamma.txt", "omk.toml"]
    );
    Ok(())
}

#[test]
fn a_conflicting_slice_and_a_gate_breaking_slice_are_taken_out_and_the_others_land()
-> anyhow::Result<()> {
    let team = Team::new()?;
    // The first slice lands alone while its gates take 1.5 s; the four others finish meanwhile
    // and reach the queue as one batch, which breaks the gate and is bisected.
    fs::write(team.repo.join("GATE_SLEEP"), "1.5")?;
    team.env.git(&team.repo, &["add", "GATE_SLEEP"])?;
    team.env.git(&team.repo, &["commit", "--quiet", "-m", "slow gate"])?;
    let output =
        team.run(&["fast", "alpha", "shared1", "shared2", "bad"], &["--max-agents", "5"])?;
    let goal = team.goal()?;
    let events = team.events(&goal)?;

    let out = of_kind(&events, "task_taken_out");
    let reasons: Vec<(String, String)> = out
        .iter()
        .map(|it| {
            (
                it["task"].as_str().unwrap().to_owned(),
                it["reason"]["why"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("slice-4".to_owned(), "conflict".to_owned()),
            ("slice-5".to_owned(), "broke_gates".to_owned())
        ],
        "{output}"
    );
    assert_eq!(strings(&out[0]["reason"]["paths"]), ["shared.txt"]);
    assert_eq!(strings(&out[1]["reason"]["gates"]), ["check"]);

    let mut all_landed = landed(&events);
    all_landed.sort();
    assert_eq!(all_landed, ["slice-1", "slice-2", "slice-3"]);
    // The batch of three that broke the gate was split, not thrown away.
    let reverted = of_kind(&events, "queue_reverted");
    assert!(reverted.iter().any(|it| strings(&it["tasks"]).len() > 1), "{reverted:?}");
    assert_eq!(strings(&reverted.last().unwrap()["tasks"]), ["slice-5"]);

    let files = team.files(&goal)?;
    assert!(files.contains(&"shared.txt".to_owned()) && !files.contains(&"bad.txt".to_owned()));
    let shared = team.env.git(&team.repo, &["show", &format!("omk/{goal}:shared.txt")])?;
    assert_eq!(shared, "written by shared1\n");
    Ok(())
}

#[test]
fn a_killed_worker_is_retried_on_another_worker_up_to_the_retry_limit() -> anyhow::Result<()> {
    let team = Team::new()?;
    team.run(&["die"], &["--max-agents", "2"])?;
    let goal = team.goal()?;
    let events = team.events(&goal)?;
    let failed = of_kind(&events, "task_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["cause"], "worker_died");
    assert_eq!(failed[0]["retry"], true);
    assert!(failed[0]["reason"].as_str().unwrap().contains("signal 9"), "{failed:?}");
    let claims = of_kind(&events, "task_claimed");
    let claimed: Vec<(u64, &str)> = claims
        .iter()
        .map(|it| (it["attempt"].as_u64().unwrap(), it["worker"].as_str().unwrap()))
        .collect();
    assert_eq!(claimed, [(1, "w1"), (2, "w2")]);
    assert_eq!(landed(&events), ["slice-1"]);

    // Without retries the task fails for good, and the goal is not ready.
    fs::remove_file(team.log.with_extension("log.died"))?;
    let output = team.run(&["die"], &["--retries", "0"])?;
    assert_ne!(output.code, Some(0), "{output}");
    let goal = team.goal()?;
    let events = team.events(&goal)?;
    let failed = of_kind(&events, "task_failed");
    assert_eq!((failed.len(), &failed[0]["retry"]), (1, &Value::Bool(false)));
    assert_eq!(of_kind(&events, "task_claimed").len(), 1);
    assert!(landed(&events).is_empty());
    Ok(())
}

#[test]
fn a_controller_killed_while_three_slices_run_resumes_without_redoing_finished_work()
-> anyhow::Result<()> {
    let team = Team::new()?;
    let prompt = "Write the files:\n- fast\n- slow1\n- slow2\n- slow3\n";
    let mut child = team
        .env
        .spawn_omk(&team.repo, &["run", prompt, "--slices", "4", "--agent", &team.agent])?;
    // Wait until the fast slice landed while the three slow ones run.
    let deadline = Instant::now() + Duration::from_secs(20);
    let goal = loop {
        anyhow::ensure!(Instant::now() < deadline, "the fast slice never landed");
        thread::sleep(Duration::from_millis(50));
        let Ok(goal) = team.goal() else { continue };
        let Ok(events) = team.events(&goal) else { continue };
        if landed(&events) == ["slice-1"] {
            break goal;
        }
    };
    child.kill()?;
    child.wait()?;
    let running = team.log().iter().filter(|it| it.starts_with("start slow")).count();
    assert_eq!(running, 3, "{:?}", team.log());

    let output = team.env.omk(&team.repo, &["resume"])?;
    let events = team.events(&goal)?;
    let stopped: Vec<&str> = of_kind(&events, "task_failed")
        .iter()
        .filter(|it| it["cause"] == "controller_stopped")
        .filter_map(|it| it["task"].as_str())
        .collect();
    assert_eq!(stopped, ["slice-2", "slice-3", "slice-4"], "{output}");
    let mut all_landed = landed(&events);
    all_landed.sort();
    assert_eq!(all_landed, ["slice-1", "slice-2", "slice-3", "slice-4"]);
    // The fast slice ran once; each slow one twice, and its first agent was stopped, so it
    // ended once.
    let log = team.log();
    let count = |line: &str| log.iter().filter(|it| *it == line).count();
    assert_eq!(count("start fast"), 1, "{log:?}");
    for slow in ["slow1", "slow2", "slow3"] {
        assert_eq!(
            (count(&format!("start {slow}")), count(&format!("end {slow}"))),
            (2, 1),
            "{log:?}"
        );
    }
    assert!(!team.repo.join(".omk/goals").join(&goal).join("leases/slice-2.json").exists());
    Ok(())
}

#[test]
fn a_paused_team_run_resumes_its_stopped_slices_and_a_cancelled_one_stays_cancelled()
-> anyhow::Result<()> {
    let team = Team::new()?;
    let prompt = "Write the files:\n- fast\n- slow1\n- slow2\n";
    let child = team
        .env
        .spawn_omk(&team.repo, &["run", prompt, "--slices", "3", "--agent", &team.agent])?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while team.log().iter().filter(|it| it.starts_with("start slow")).count() < 2 {
        anyhow::ensure!(Instant::now() < deadline, "the slow slices never started");
        thread::sleep(Duration::from_millis(50));
    }
    let paused = team.env.omk(&team.repo, &["pause"])?;
    assert_eq!(paused.code, Some(0), "{paused}");
    let output = child.wait_with_output()?;
    assert_eq!(output.status.code(), Some(130));
    let goal = team.goal()?;
    let events = team.events(&goal)?;
    assert_eq!(events.last().unwrap()["kind"], "goal_paused");
    let stopped = of_kind(&events, "slice")
        .into_iter()
        .filter(|it| it["event"]["kind"] == "agent_finished" && !it["event"]["stopped"].is_null())
        .count();
    assert_eq!(stopped, 2, "both slow slices were stopped by the pause");
    assert!(of_kind(&events, "task_failed").is_empty(), "a pause is not a failure");

    let resumed = team.env.omk(&team.repo, &["resume"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let events = team.events(&goal)?;
    let mut all_landed = landed(&events);
    all_landed.sort();
    assert_eq!(all_landed, ["slice-1", "slice-2", "slice-3"]);
    let log = team.log();
    let count = |line: &str| log.iter().filter(|it| *it == line).count();
    assert_eq!(count("start fast"), 1, "{log:?}");
    assert_eq!((count("start slow1"), count("end slow1")), (2, 1), "{log:?}");

    // A cancel stops the slices for good.
    let child = team.env.spawn_omk(
        &team.repo,
        &["run", "Write:\n- slow3\n- slow4\n", "--slices", "2", "--agent", &team.agent],
    )?;
    while team.log().iter().filter(|it| it.starts_with("start slow3")).count() < 1 {
        anyhow::ensure!(Instant::now() < deadline + Duration::from_secs(20), "slow3 never started");
        thread::sleep(Duration::from_millis(50));
    }
    let cancelled = team.env.omk(&team.repo, &["cancel"])?;
    assert_eq!(cancelled.code, Some(0), "{cancelled}");
    assert_eq!(child.wait_with_output()?.status.code(), Some(130));
    let again = team.env.omk(&team.repo, &["resume"])?;
    assert_ne!(again.code, Some(0), "{again}");
    assert!(again.stderr.contains("cancelled"), "{again}");
    Ok(())
}

/// A scenario that writes `path` with `content`, then ends with `message`.
fn writer(path: &str, content: &str, message: &[&str]) -> String {
    let args = serde_json::json!({ "path": path, "content": content }).to_string();
    let call = serde_json::json!({ "id": "tc-1", "name": "WriteFile", "arguments": args });
    let text: String = message.iter().map(|line| format!("text: {line}\n")).collect();
    format!("text: writing {path}\ntool_call: {call}\n---\n{text}")
}

#[test]
fn a_plan_runs_in_dependency_order_and_follow_up_proposals_pass_the_policy_or_are_refused()
-> anyhow::Result<()> {
    let team = Team::new()?;
    let dir = team.env.root();
    fs::write(
        dir.join("core.scenario"),
        writer(
            "core/lib.txt",
            "core\n",
            &[
                "Wrote the core.",
                r#"omk-task: {"id": "docs", "prompt": "document the core", "writes": ["docs/core.md"]}"#,
                r#"omk-task: {"id": "grab", "prompt": "also change the api", "writes": ["api/x.txt"]}"#,
            ],
        ),
    )?;
    fs::write(dir.join("api.scenario"), writer("api/x.txt", "api\n", &["Wrote the api."]))?;
    fs::write(dir.join("docs.scenario"), writer("docs/core.md", "# core\n", &["Documented."]))?;
    fs::write(
        dir.join("tasks.toml"),
        r#"max_agents = 2

[[task]]
id = "core"
prompt = "write the core"
writes = ["core/", "docs/"]
agent = "script:core.scenario"

[[task]]
id = "api"
prompt = "write the api on the core"
depends_on = ["core"]
reads = ["core/"]
writes = ["api/"]
agent = "script:api.scenario"
"#,
    )?;
    let docs_agent = format!("script:{}", dir.join("docs.scenario").display());
    let plan = dir.join("tasks.toml").display().to_string();
    let output = team.env.omk(&team.repo, &["run", "--plan", &plan, "--agent", &docs_agent])?;
    assert_eq!(output.code, Some(0), "{output}");
    let goal = team.goal()?;
    let events = team.events(&goal)?;

    // api depends on core: it is claimed only after core landed, from the integrated tree.
    let position = |kind: &str, task: &str| {
        events.iter().position(|it| {
            it["kind"] == kind
                && (it["task"] == task || strings(&it["tasks"]).iter().any(|t| t == task))
        })
    };
    assert!(position("queue_landed", "core") < position("task_claimed", "api"));
    let proposals: Vec<(String, bool, String)> = of_kind(&events, "task_proposed")
        .iter()
        .map(|it| {
            (
                it["task"]["id"].as_str().unwrap().to_owned(),
                it["accepted"].as_bool().unwrap(),
                it["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(proposals.len(), 2, "{proposals:?}");
    assert_eq!((proposals[0].0.as_str(), proposals[0].1), ("docs", true), "{proposals:?}");
    assert_eq!((proposals[1].0.as_str(), proposals[1].1), ("grab", false), "{proposals:?}");
    assert!(
        proposals[1].2.contains("api"),
        "the refusal names the task it clashes with: {proposals:?}"
    );

    let mut all_landed = landed(&events);
    all_landed.sort();
    assert_eq!(all_landed, ["api", "core", "docs"]);
    let files =
        team.env.git(&team.repo, &["ls-tree", "-r", "--name-only", &format!("omk/{goal}")])?;
    for path in ["core/lib.txt", "api/x.txt", "docs/core.md"] {
        assert!(files.lines().any(|it| it == path), "{path} in {files}");
    }
    Ok(())
}

#[test]
fn an_invalid_plan_is_refused_naming_the_tasks_and_leaves_no_goal() -> anyhow::Result<()> {
    let team = Team::new()?;
    let plan = team.env.write(
        "bad.toml",
        r#"[[task]]
id = "a"
prompt = "one"
depends_on = ["b"]
writes = ["src/"]

[[task]]
id = "b"
prompt = "two"
depends_on = ["a"]

[[task]]
id = "c"
prompt = "three"
writes = ["src/lib.rs"]
"#,
    )?;
    let plan = plan.display().to_string();
    let output = team.env.omk(&team.repo, &["run", "--plan", &plan, "--agent", &team.agent])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(
        output.stderr.contains("a -> b -> a") || output.stderr.contains("b -> a -> b"),
        "{output}"
    );
    assert!(output.stderr.contains("\"a\"") && output.stderr.contains("\"c\""), "{output}");
    assert!(
        !team.repo.join(".omk/goals").exists()
            || fs::read_dir(team.repo.join(".omk/goals"))?.next().is_none()
    );

    // Fewer list items than slices.
    let output = team.env.omk(
        &team.repo,
        &["run", "Write:\n- only one\n", "--slices", "3", "--agent", &team.agent],
    )?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("--slices"), "{output}");
    Ok(())
}

#[test]
fn the_goal_budget_stops_every_slice_and_resumes_after_budget_add() -> anyhow::Result<()> {
    let team = Team::new()?;
    let output = team.run(&["slow1", "slow2"], &["--budget-time", "1s"])?;
    assert_eq!(output.code, Some(4), "{output}");
    let goal = team.goal()?;
    let events = team.events(&goal)?;
    assert_eq!(events.last().unwrap()["kind"], "budget_exhausted");
    let stopped = of_kind(&events, "slice")
        .into_iter()
        .filter(|it| it["event"]["kind"] == "agent_finished" && !it["event"]["stopped"].is_null())
        .count();
    assert_eq!(stopped, 2, "both slices stop at the goal's budget");

    let added = team.env.omk(&team.repo, &["budget", "add", "--time", "1m"])?;
    assert_eq!(added.code, Some(0), "{added}");
    let resumed = team.env.omk(&team.repo, &["resume"])?;
    assert_eq!(resumed.code, Some(0), "{resumed}");
    let mut all_landed = landed(&team.events(&goal)?);
    all_landed.sort();
    assert_eq!(all_landed, ["slice-1", "slice-2"]);
    Ok(())
}

#[test]
fn a_plan_whose_tasks_name_their_agents_needs_no_agent_and_leaves_no_slice_locked()
-> anyhow::Result<()> {
    let team = Team::new()?;
    let agent = Value::String(team.agent.clone());
    let plan = team.env.write(
        "own.toml",
        &format!(
            "[[task]]\nid = \"one\"\nprompt = \"- fast1\"\nagent = {agent}\n\n\
             [[task]]\nid = \"two\"\nprompt = \"- fast2\"\nagent = {agent}\n"
        ),
    )?;
    let plan = plan.display().to_string();
    let output = team.env.omk(&team.repo, &["run", "--plan", &plan, "--gate", "sh check.sh"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let goal = fs::read_dir(team.repo.join(".omk/goals"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("no goal"))??
        .file_name();
    let events = events(&team.repo, &goal.to_string_lossy())?;
    // The goal's own agent (for a follow-up) is the first task's.
    assert_eq!(of_kind(&events, "goal_created")[0]["agent"], agent);
    assert_eq!(landed(&events).len(), 2, "{output}");
    // The run is over: no slice worktree stays locked by its (now dead) process.
    let worktrees = team.env.git(&team.repo, &["worktree", "list", "--porcelain"])?;
    assert!(worktrees.contains(".one\n") && worktrees.contains(".two\n"), "{worktrees}");
    assert!(!worktrees.contains("locked"), "{worktrees}");

    // A task without an agent, and neither --agent nor a default: an error naming it.
    let partial = team.env.write(
        "partial.toml",
        &format!(
            "[[task]]\nid = \"one\"\nprompt = \"- fast1\"\nagent = {agent}\n\n\
             [[task]]\nid = \"bare\"\nprompt = \"- fast2\"\n"
        ),
    )?;
    let partial = partial.display().to_string();
    let output = team.env.omk(&team.repo, &["run", "--plan", &partial])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert_eq!(
        output.stderr,
        "error: no agent for tasks bare: pass --agent, set [agent] default in omk.toml or in \
         your user config, or name an agent in each of these tasks\n",
        "{output}"
    );
    assert_eq!(fs::read_dir(team.repo.join(".omk/goals"))?.count(), 1, "no second goal");
    Ok(())
}

#[test]
fn a_tasks_usd_budget_stops_its_agent_while_it_runs() -> anyhow::Result<()> {
    let team = Team::new()?;
    // 400 tokens a step at $1000 per million: $0.40 after the first step, $0.80 after the second.
    fs::write(
        team.repo.join("omk.toml"),
        "[prices.script]\ninput_per_mtok = 1000.0\noutput_per_mtok = 1000.0\n",
    )?;
    team.env.git(&team.repo, &["add", "omk.toml"])?;
    team.env.git(&team.repo, &["commit", "--quiet", "-m", "prices"])?;
    let scenario = team.env.write(
        "costly.scenario",
        r#"text: Writing.
usage: {"input_other": 300, "output": 100}
tool_call: {"id": "tc-1", "name": "WriteFile", "arguments": "{\"path\": \"a.txt\", \"content\": \"a\\n\"}"}
---
text: More.
usage: {"input_other": 300, "output": 100}
tool_call: {"id": "tc-2", "name": "WriteFile", "arguments": "{\"path\": \"b.txt\", \"content\": \"b\\n\"}"}
---
text: Done.
"#,
    )?;
    let plan = team.env.write(
        "costly.toml",
        &format!(
            "[[task]]\nid = \"costly\"\nprompt = \"write\"\nagent = \"script:{}\"\nretries = 0\n\n\
             [task.budget]\nusd = 0.5\n",
            scenario.display()
        ),
    )?;
    let plan = plan.display().to_string();
    let output = team.env.omk(&team.repo, &["run", "--plan", &plan, "--gate", "sh check.sh"])?;
    assert_ne!(output.code, Some(0), "{output}");
    let goal = fs::read_dir(team.repo.join(".omk/goals"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("no goal"))??
        .file_name();
    let events = events(&team.repo, &goal.to_string_lossy())?;
    let failed = of_kind(&events, "task_failed");
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert_eq!(failed[0]["cause"], "budget", "{:#}", failed[0]);
    assert!(failed[0]["reason"].as_str().unwrap_or_default().contains("usd"), "{:#}", failed[0]);
    // omk stopped the slice's agent at the limit, not after its run.
    let finished = of_kind(&events, "slice")
        .into_iter()
        .find(|it| it["event"]["kind"] == "agent_finished")
        .ok_or_else(|| anyhow::anyhow!("no agent_finished of the slice"))?;
    assert!(
        finished["event"]["stopped"].as_str().is_some_and(|it| it.contains("budget ran out: usd")),
        "{finished:#}"
    );
    Ok(())
}
