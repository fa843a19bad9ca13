//! `omk replay`: the timeline of a real run, byte-identical on every replay; a tampered, torn
//! or newer log; `--follow` on a live log.

use std::{
    fs,
    io::Read as _,
    path::{Path, PathBuf},
    thread,
    time::Duration,
};

use chrono::{DateTime, Utc};
use omk_events::{
    ActivityKind, AgentActivity, AgentStarted, Event, EventLog, GoalCreated, GoalId, TokenUsage,
};
use serde_json::Value;

use crate::{FIX_ADD, LIB_SH, OMK_TOML, TEST_SH, TestEnv};

/// Runs the fix in a new repository and returns the repository and the goal's log.
fn fixed_repo(env: &TestEnv) -> anyhow::Result<(PathBuf, PathBuf)> {
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let fix = env.write("fix.scenario", FIX_ADD)?;
    let agent = format!("script:{}", fix.display());
    let output = env.omk(&repo, &["run", "fix add", "--agent", &agent])?;
    assert_eq!(output.code, Some(0), "{output}");
    let goals = repo.join(".omk/goals");
    let goal = fs::read_dir(&goals)?.next().ok_or_else(|| anyhow::anyhow!("one goal"))??;
    Ok((repo, goal.path().join("events.jsonl")))
}

#[test]
fn replay_of_a_run_is_the_same_bytes_every_time() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, _) = fixed_repo(&env)?;
    let first = env.omk(&repo, &["replay"])?;
    assert_eq!(first.code, Some(0), "{first}");
    let second = env.omk(&repo, &["replay"])?;
    assert_eq!(first.stdout, second.stdout);
    let mut settings = env.insta_settings();
    settings.add_filter(r"\(\d+\.\d s\)", "([S] s)");
    settings.add_filter(r"head [0-9a-f]{12}", "head [HASH]");
    settings.bind(|| insta::assert_snapshot!("replay", first));

    let json = env.omk(&repo, &["replay", "--json"])?;
    assert_eq!(json.code, Some(0), "{json}");
    let document: Value = serde_json::from_str(&json.stdout)?;
    assert_eq!(document["schema_version"], 1);
    let entries = document["entries"].as_array().map_or(0, Vec::len);
    assert_eq!(Some(entries as u64), document["summary"]["events"].as_u64());
    assert_eq!(document["summary"]["gates_passed"], 1);
    assert_eq!(document["entries"][0]["event"]["kind"], "goal_created");
    assert_eq!(env.omk(&repo, &["replay", "--json"])?.stdout, json.stdout);

    // The document, each entry, the summary and the chain validate against the schema.
    crate::schemas::check_shape(&document, "replay")?;
    // The entries are streamed, each on a line of its own.
    assert_eq!(json.stdout.lines().count(), entries + 2);
    Ok(())
}

#[test]
fn a_changed_byte_stops_the_replay_at_its_line() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, log) = fixed_repo(&env)?;
    let text = fs::read_to_string(&log)?;
    fs::write(&log, text.replacen("\"fix add\"", "\"fix ADD\"", 1))?;
    let output = env.omk(&repo, &["replay"])?;
    assert_eq!(output.code, Some(5), "{output}");
    assert!(
        output.stderr.ends_with(
            "events.jsonl line 1: the line does not match its hash: it was changed after it was \
             written\n"
        ),
        "{output}"
    );

    // Removing a whole line is named too, after the lines before it were shown.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(2);
    fs::write(&log, lines.join("\n") + "\n")?;
    let output = env.omk(&repo, &["replay"])?;
    assert_eq!(output.code, Some(5), "{output}");
    assert!(output.stdout.contains("#2 "), "the lines before are shown: {output}");
    assert!(
        output.stderr.contains("line 3: expected sequence number 3, found 4: an event is missing"),
        "{output}"
    );
    Ok(())
}

#[test]
fn a_torn_last_line_is_reported_not_an_error() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let (repo, log) = fixed_repo(&env)?;
    let mut bytes = fs::read(&log)?;
    let events = bytes.iter().filter(|it| **it == b'\n').count();
    bytes.extend_from_slice(b"{\"format\":\"1.2\",\"seq\":");
    fs::write(&log, bytes)?;
    let output = env.omk(&repo, &["replay"])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(
        output.stdout.contains(&format!(
            "; line {} is torn (22 bytes a crash cut short); the next run of this goal repairs it",
            events + 1
        )),
        "{output}"
    );
    Ok(())
}

fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000 + second, 0).unwrap_or_default()
}

/// Creates the log of goal `g1` in `repo` with its first event, holding its lock.
fn live_log(repo: &Path) -> anyhow::Result<EventLog> {
    let dir = repo.join(".omk/goals/g1");
    fs::create_dir_all(&dir)?;
    let mut log = EventLog::create(&dir.join("events.jsonl"), &GoalId::parse("g1")?)?;
    log.append(
        at(0),
        Event::GoalCreated(GoalCreated {
            prompt: "watch me".into(),
            repo_root: repo.to_owned(),
            base_branch: Some("main".into()),
            base_commit: "0123456789abcdef0123456789abcdef01234567".into(),
            agent: "cmd:true".into(),
            omk_version: "0.1.0".into(),
            extra_gates: Vec::new(),
        }),
    )?;
    Ok(log)
}

#[test]
fn follow_shows_a_live_run_and_ends_when_the_run_lets_go() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let mut log = live_log(&repo)?;
    let mut child = env.spawn_omk(&repo, &["replay", "g1", "--follow"])?;
    thread::sleep(Duration::from_millis(300));
    log.append(at(1), Event::AgentStarted(AgentStarted { agent: "cmd:true".into() }))?;
    for step in 1..=3 {
        let usage = TokenUsage { output: 10 * u64::from(step), ..TokenUsage::default() };
        log.append(
            at(1 + i64::from(step)),
            Event::AgentActivity(AgentActivity {
                step,
                activity: ActivityKind::Usage,
                tool: None,
                tool_call_id: None,
                ok: None,
                usage: Some(usage),
                text: None,
            }),
        )?;
    }
    thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait()?.is_none(), "follow waits while the run holds the log");
    drop(log);

    let mut waited = Duration::ZERO;
    while child.try_wait()?.is_none() && waited < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    let status = child.try_wait()?.ok_or_else(|| anyhow::anyhow!("follow ends with the run"))?;
    let mut stdout = String::new();
    child.stdout.take().ok_or_else(|| anyhow::anyhow!("piped"))?.read_to_string(&mut stdout)?;
    assert!(status.success(), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1 + 5 + 2, "{stdout}");
    assert!(lines[0].starts_with("goal g1 started 2026-"), "{stdout}");
    assert!(lines[5].ends_with("agent     30 tokens so far"), "{stdout}");
    Ok(())
}

#[test]
fn a_kind_from_a_newer_omk_is_shown_as_written() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo = env.repo("repo", &[("lib.sh", LIB_SH)])?;
    let log = live_log(&repo)?;
    let head = log.head();
    let path = log.path().to_owned();
    drop(log);
    // The line a newer omk would write: its own kind, chained and hashed like any other.
    let body = format!(
        "{{\"format\":\"1.9\",\"seq\":2,\"at\":\"2026-11-21T20:00:01.000Z\",\"goal_id\":\"g1\",\
         \"event\":{{\"kind\":\"hologram_projected\",\"colour\":\"teal\"}},\"prev\":\"{head}\"}}"
    );
    let hash = omk_events::sha256_hex(body.as_bytes());
    let line = format!("{},\"hash\":\"{hash}\"}}\n", &body[..body.len() - 1]);
    let mut text = fs::read_to_string(&path)?;
    text.push_str(&line);
    fs::write(&path, text)?;

    let output = env.omk(&repo, &["replay", "g1"])?;
    assert_eq!(output.code, Some(0), "{output}");
    assert!(
        output.stdout.contains(
            "?         {\"colour\":\"teal\",\"kind\":\"hologram_projected\"} (a kind from a newer \
             omk, shown as written)"
        ),
        "{output}"
    );
    assert!(output.stdout.contains("1 event(s) of kinds this omk does not know"), "{output}");
    Ok(())
}
