//! The goal's HTML report on the demo project: rendered from the log, the artifacts and the
//! anchors on disk, byte for byte the same for the same goal, kept up to date by the commands
//! that write the proof, and honest about an artifact changed after the fact.

use std::fs;

use chrono::{TimeZone, Utc};

use omk_agent::AgentSpec;
use omk_goal::{DecideRequest, FixedClock, RunOutcome, RunRequest};
use omk_testkit::RunEnvironment;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs the demo goal in `dir` with a fixed clock and one gate at a time, so its events come
/// in one order.
fn demo(dir: &std::path::Path) -> Result<(omk_goal::DemoProject, RunOutcome), omk_goal::Error> {
    let demo = omk_goal::create_demo_project(&dir.join("demo"))?;
    let agent = AgentSpec::Script(demo.scenario.clone());
    let clock = FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).single().expect("a valid time"),
    );
    let environment = RunEnvironment::new(omk_agent::AgentEnvironment::default());
    let mut env = environment.run_env(&clock, |_: &omk_events::Envelope| {}, false);
    env.max_parallel_gates = 1;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime builds");
    let outcome = runtime.block_on(omk_goal::run_goal(RunRequest {
        repo_dir: &demo.repo,
        prompt: demo.prompt,
        agent: Some(&agent),
        kind: None,
        budget: omk_events::BudgetLimits::default(),
        extra_gates: &[],
        team: None,
        env,
        waive_fail_to_pass: false,
        repair_rounds: None,
    }))?;
    Ok((demo, outcome))
}

#[test]
fn the_demo_goal_s_report_is_its_proof_as_a_page() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_, outcome) = demo(dir.path())?;
    let path = omk_goal::write_report(&outcome.paths)?;
    assert_eq!(path, outcome.paths.goal_dir.join("report.html"));
    let page = fs::read_to_string(&path)?;
    // The same goal gives the same bytes.
    assert_eq!(omk_goal::render_report(&outcome.paths)?, page);
    // Every gate, its output, and the change's diff are on the page.
    for gate in &outcome.proof.gates {
        assert!(page.contains(&format!("<b>{}</b>", gate.name)), "gate {}", gate.name);
    }
    assert!(page.contains("FAIL  add 2 3: expected 5, got -1"), "the baseline's failing output");
    assert!(page.contains("<span class=\"add\">+  echo $(( $1 + $2 ))</span>"), "the fix's diff");
    assert!(page.contains("omk accept "), "the next command");
    // Measured durations, the log's hashes (which cover them), the demo's commits (made at the
    // wall clock's time) and the temporary directory are all that differ between two runs.
    let root = dir.path().display().to_string();
    insta::with_settings!({filters => vec![
        (root.as_str(), "[TMP]"),
        (r"\b\d+ ms\b", "[N] ms"),
        (r"\bhead <code>[0-9a-f]{12}</code>", "head <code>[HASH]</code>"),
        (r"head [0-9a-f]{12}", "head [HASH]"),
        (r"(at|commit) <code>[0-9a-f]{12}</code>", "$1 <code>[COMMIT]</code>"),
    ]}, {
        insta::assert_snapshot!("demo_report", page);
    });
    Ok(())
}

#[test]
fn accepting_the_demo_goal_refreshes_its_report() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (demo, outcome) = demo(dir.path())?;
    let path = omk_goal::write_report(&outcome.paths)?;
    assert!(fs::read_to_string(&path)?.contains(">not ready<"));
    let clock = FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 21, 21, 0, 0).single().expect("a valid time"),
    );
    let environment = RunEnvironment::new(omk_agent::AgentEnvironment::default());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let accepted = runtime.block_on(omk_goal::accept_goal(DecideRequest {
        repo_dir: &demo.repo,
        goal: None,
        reason: Some("looks right"),
        fallback_name: Some("reviewer"),
        approve_gate_surface: false,
        env: environment.run_env(&clock, |_: &omk_events::Envelope| {}, true),
    }))?;
    assert_eq!(accepted.proof.status, omk_proof::ProofStatus::Ready);
    let page = fs::read_to_string(&path)?;
    assert!(page.contains("<span class=\"word\">ready</span>"), "the verdict follows the proof");
    assert!(page.contains("looks right"), "the acceptance's reason");
    // The acceptance's note anchors the log too, and the report checks it.
    let note = page.find("<code>anchor refs/notes/omk on ").expect("the note's check is shown");
    let row = &page[note..page[note..].find("</tr>").map_or(page.len(), |end| note + end)];
    assert!(row.contains("<span class=\"badge good\">passed</span>"), "{row}");
    Ok(())
}

#[test]
fn a_gate_log_changed_after_the_run_is_not_shown_as_evidence() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_, outcome) = demo(dir.path())?;
    let gate = outcome.proof.proposed_gates().find(|it| it.name == "test").expect("test ran");
    let log = outcome.paths.goal_dir.join(&gate.output.as_ref().expect("a log").path);
    fs::write(&log, "3 passed, 0 failed\n<script>alert('forged')</script>\n")?;
    let page = omk_goal::render_report(&outcome.paths)?;
    assert!(page.contains(">altered</span>"), "the altered log is named");
    assert!(!page.contains("forged"), "its forged text is not shown");
    assert!(!page.contains("<script"), "no script reaches the page");
    Ok(())
}

#[test]
fn no_report_is_written_until_one_is_asked_for() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (_, outcome) = demo(dir.path())?;
    assert!(!outcome.paths.report.exists(), "a run writes no report by itself");
    Ok(())
}
