//! Tests of the run controller on the demo project: real git, real processes.

mod report;

use std::{fs, path::Path};

use chrono::{TimeZone, Utc};

use omk_agent::AgentSpec;
use omk_events::{Envelope, Event};
use omk_goal::{Error, FixedClock, RunOutcome, RunRequest};
use omk_proof::{Gap, ProofStatus, Readiness};
use omk_testkit::RunEnvironment;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn clock() -> FixedClock {
    FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).single().expect("valid time"))
}

/// Runs `prompt` with `agent` in `repo` and returns the outcome and the kinds of events seen,
/// without agent activity and gate starts (whose order depends on timing).
fn run(
    repo: &Path,
    prompt: &str,
    agent: &AgentSpec,
    extra_gates: &[String],
) -> Result<(RunOutcome, Vec<String>), Error> {
    let clock = clock();
    let seen = std::sync::Mutex::new(Vec::new());
    let observer = |envelope: &Envelope| {
        let kind = envelope.event.kind();
        if kind != "agent_activity" && kind != "gate_started" {
            seen.lock().expect("not poisoned").push(kind.to_owned());
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime builds");
    let environment = RunEnvironment::new(omk_agent::AgentEnvironment::default());
    let outcome = runtime.block_on(omk_goal::run_goal(RunRequest {
        repo_dir: repo,
        prompt,
        agent: Some(agent),
        kind: None,
        budget: omk_events::BudgetLimits::default(),
        extra_gates,
        team: None,
        env: environment.run_env(&clock, observer, true),
        waive_fail_to_pass: false,
        repair_rounds: None,
    }))?;
    Ok((outcome, seen.into_inner().expect("not poisoned")))
}

/// Returns the path of a proposed gate's log.
fn gate_log(outcome: &RunOutcome, name: &str) -> std::path::PathBuf {
    let gate = outcome
        .proof
        .proposed_gates()
        .find(|gate| gate.name == name)
        .expect("the gate ran on the change");
    outcome.paths.goal_dir.join(&gate.output.as_ref().expect("the gate has a log").path)
}

#[test]
fn the_demo_goal_passes_its_gates_and_awaits_the_review_wall() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    let agent = AgentSpec::Script(demo.scenario.clone());
    let (outcome, seen) = run(&demo.repo, demo.prompt, &agent, &[])?;

    let seen = seen.join(" ");
    // The baseline gates run beside the agent; their results follow its events in the log.
    assert!(
        seen.starts_with(
            "goal_created checkout_fingerprinted goal_classified worktree_created \
             agent_started agent_finished gate_finished gate_finished \
             changes_captured changes_committed gate_surface_checked"
        ),
        "{seen}"
    );
    let proof = &outcome.proof;
    assert_eq!(
        (proof.status, proof.readiness),
        (ProofStatus::NotReady, Readiness::AwaitingAcceptance),
        "{:?}",
        proof.known_gaps
    );
    // The baseline shows the failure was there before the agent; the change fixes it.
    let baseline: Vec<(&str, bool)> = proof
        .gates
        .iter()
        .filter(|gate| gate.phase == omk_events::GatePhase::Baseline)
        .map(|gate| (gate.name.as_str(), gate.passed))
        .collect();
    assert_eq!(baseline, [("test", false), ("syntax", true)]);
    // So the bugfix shows a test that fails without it, from the baseline, with no extra run.
    let fail_to_pass = proof.oracle.as_ref().and_then(|it| it.fail_to_pass.as_ref());
    let flips: Vec<(&str, omk_proof::FailToPassSource)> = fail_to_pass
        .map(|it| it.flips.iter().map(|flip| (flip.gate.as_str(), flip.source)).collect())
        .unwrap_or_default();
    assert_eq!(flips, [("test", omk_proof::FailToPassSource::Baseline)]);
    assert!(!seen.contains("fail_to_pass_started"), "{seen}");
    assert_eq!(proof.commits.len(), 1, "the change is committed on the goal's branch");
    assert_eq!(proof.git.dirty, Some(false));
    // The fix touches calc.sh only, not what the gates check.
    let surface = proof.gate_surface.as_ref().expect("the gate surface was checked");
    assert_eq!(surface.changed_paths, Vec::<String>::new());
    assert_eq!(surface.base_digest, surface.proposed_digest);
    let files: Vec<(&str, Option<u64>, Option<u64>)> = proof
        .changed_files
        .iter()
        .map(|file| (file.path.as_str(), file.lines_added, file.lines_removed))
        .collect();
    assert_eq!(files, [("calc.sh", Some(1), Some(1))]);
    assert!(proof.proposed_gates().all(|gate| gate.passed && gate.after_last_mutation));

    // proof.json is the fold of the log on disk.
    let stored = fs::read_to_string(&outcome.paths.proof)?;
    assert_eq!(stored, proof.to_json());
    let loaded = omk_goal::load_proof(&demo.repo, None)?;
    assert_eq!(loaded.proof, *proof);
    assert_eq!(
        omk_goal::load_proof(&demo.repo, Some(outcome.proof.goal_id.as_str()))?.proof,
        *proof
    );

    // The user's checkout is untouched, and .omk/ is excluded from git.
    assert_eq!(fs::read_to_string(demo.repo.join("calc.sh"))?.matches(" - ").count(), 1);
    assert_eq!(omk_testkit::git(&demo.repo, &["status", "--porcelain"]), "");
    Ok(())
}

#[test]
fn a_second_goal_on_the_same_tree_takes_passed_gates_from_the_cache() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    let agent = AgentSpec::Script(demo.scenario.clone());
    let (first, _) = run(&demo.repo, demo.prompt, &agent, &[])?;
    let (second, seen) = run(&demo.repo, "the same fix again", &agent, &[])?;
    assert_eq!(first.proof.git.tree_id, second.proof.git.tree_id);
    assert!(seen.iter().any(|it| it == "gate_finished"), "{seen:?}");
    let first_id = first.proof.goal_id.to_string();
    // Passed results are cached: every proposed gate, and the baseline syntax gate; the
    // baseline test gate failed, so it ran again.
    for gate in &second.proof.gates {
        let expected = (gate.passed).then_some(first_id.as_str());
        assert_eq!(gate.cached_from.as_deref(), expected, "{} ({})", gate.name, gate.phase);
    }
    assert_eq!(second.proof.gates.iter().filter(|gate| gate.cached_from.is_some()).count(), 3);
    let log = fs::read_to_string(gate_log(&second, "test"))?;
    assert!(log.contains("ok    add 2 3"), "the cached log is in the second goal: {log}");
    Ok(())
}

#[test]
fn an_agent_that_weakens_the_test_script_changes_the_gate_surface() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    let scenario = dir.path().join("cheat.scenario");
    fs::write(
        &scenario,
        "tool_call: {\"id\":\"1\",\"name\":\"WriteFile\",\"arguments\":\"{\\\"path\\\":\\\"test.sh\\\",\\\"content\\\":\\\"exit 0\\\\n\\\"}\"}\n---\ntext: Tests pass now.",
    )?;
    let (outcome, _) = run(&demo.repo, demo.prompt, &AgentSpec::Script(scenario), &[])?;
    let surface = outcome.proof.gate_surface.as_ref().expect("the gate surface was checked");
    assert_eq!(surface.changed_paths, ["test.sh"]);
    assert!(
        outcome.proof.known_gaps.iter().any(|it| matches!(it.gap, Gap::GateSurfaceChanged { .. })),
        "{:?}",
        outcome.proof.known_gaps
    );
    Ok(())
}

#[test]
fn a_failing_gate_keeps_the_goal_not_ready() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    // A scenario that "fixes" the wrong thing: the test still fails.
    let scenario = dir.path().join("wrong.scenario");
    fs::write(
        &scenario,
        "tool_call: {\"id\":\"1\",\"name\":\"WriteFile\",\"arguments\":\"{\\\"path\\\":\\\"NOTES.md\\\",\\\"content\\\":\\\"looked at it\\\\n\\\"}\"}\n---\ntext: All fixed, tests pass!",
    )?;
    let (outcome, _) = run(&demo.repo, demo.prompt, &AgentSpec::Script(scenario), &[])?;
    assert_eq!(outcome.proof.readiness, Readiness::GatesFailing);
    let test_gate = outcome.proof.proposed_gates().next().expect("gates ran on the change");
    assert_eq!((test_gate.name.as_str(), test_gate.exit_code), ("test", Some(1)));
    let log = fs::read_to_string(gate_log(&outcome, "test"))?;
    assert!(log.contains("FAIL  add 2 3: expected 5, got -1"), "{log}");
    Ok(())
}

#[test]
fn extra_gates_run_after_configured_ones_and_must_have_unique_names() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    let agent = AgentSpec::Script(demo.scenario.clone());
    let (outcome, _) = run(&demo.repo, demo.prompt, &agent, &["test -f README.md".to_owned()])?;
    let names: Vec<&str> = outcome.proof.proposed_gates().map(|gate| gate.name.as_str()).collect();
    assert_eq!(names, ["test", "syntax", "gate-1"]);

    fs::write(demo.repo.join("omk.toml"), "[[gates]]\nname = \"gate-1\"\ncommand = [\"true\"]\n")?;
    let err = run(&demo.repo, demo.prompt, &agent, &["true".to_owned()]).unwrap_err();
    assert_eq!(err.to_string(), "gate name \"gate-1\" is used twice; rename one of the gates");
    Ok(())
}

#[test]
fn bad_input_creates_no_goal() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    let agent = AgentSpec::Script(demo.scenario.clone());
    let plain = dir.path().join("plain");
    fs::create_dir(&plain)?;
    let check = |repo: &Path, prompt: &str, agent: &AgentSpec, expect: &str| {
        let err = run(repo, prompt, agent, &[]).expect_err("the input is bad");
        assert_eq!(err.to_string().replace(&dir.path().display().to_string(), "TMP"), expect);
    };
    check(&demo.repo, "  \n", &agent, "the prompt is empty; say what the agent should change");
    check(
        &plain,
        "fix",
        &agent,
        "TMP/plain is not inside a git repository; run `git init` there or pass -C with a repository",
    );
    check(
        &demo.repo,
        "fix",
        &AgentSpec::Script(dir.path().join("nope.txt")),
        "read scenario file TMP/nope.txt",
    );
    fs::write(demo.repo.join("omk.toml"), "[[gates]]\nname = \"t\"\n")?;
    check(&demo.repo, "fix", &agent, "TMP/demo/calc/omk.toml:1:1: missing field `command`");
    assert!(!demo.repo.join(".omk").exists(), "no goal state was created");
    Ok(())
}

#[test]
fn a_worktree_failure_is_recorded_and_the_proof_says_failed_infra() -> TestResult {
    let dir = tempfile::tempdir()?;
    let demo = omk_goal::create_demo_project(&dir.path().join("demo"))?;
    let agent = AgentSpec::Script(demo.scenario.clone());
    // The first run's worktree directory is in the way of the second run's.
    let (first, _) = run(&demo.repo, demo.prompt, &agent, &[])?;
    let second_id = format!("{}-2", first.proof.goal_id);
    fs::create_dir_all(demo.repo.join(".omk/worktrees").join(&second_id).join("occupied"))?;
    let (second, seen) = run(&demo.repo, demo.prompt, &agent, &[])?;
    assert_eq!(second.proof.goal_id.as_str(), second_id);
    assert_eq!(seen, ["goal_created", "checkout_fingerprinted", "goal_classified", "goal_failed"]);
    assert_eq!(second.proof.status, ProofStatus::FailedInfra);
    let gap = &second.proof.known_gaps[0].message;
    assert!(gap.starts_with("the worktree step failed: create worktree at "), "{gap}");
    assert!(matches!(
        omk_events::read_log(&second.paths.events)?.events[3].event,
        Event::GoalFailed(_)
    ));
    Ok(())
}

#[test]
fn concurrent_anchors_of_one_goal_are_all_kept() -> TestResult {
    let repo = omk_testkit::TestRepo::with_files(&[("a.txt", "a\n")]);
    let goal = omk_events::GoalId::parse("20261121-200000-abcdef")?;
    let head_before = repo.git(&["rev-parse", "HEAD"]);
    // Eight writers race on the goal's one reference; compare-and-swap with a re-read makes
    // each append land after the others instead of replacing them.
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=8u64)
            .map(|idx| {
                let (root, goal) = (repo.root(), &goal);
                scope.spawn(move || {
                    let anchor = omk_goal::Anchor {
                        events: idx,
                        head: format!("{idx:064x}"),
                        status: "not_ready".to_owned(),
                        at: "2026-11-21T20:00:00.000Z".to_owned(),
                    };
                    omk_goal::append_anchor(root, goal, &anchor)
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|it| it.join().map_err(|_| "a writer panicked")?.map_err(Into::into))
    })
    .map_err(|err: Box<dyn std::error::Error>| err.to_string())?;
    let blob = repo.git(&["cat-file", "-p", &omk_goal::anchor_ref(&goal)]);
    let mut counts: Vec<&str> =
        blob.lines().skip(1).filter_map(|it| it.split(' ').next()).collect();
    counts.sort_by_key(|it| it.parse::<u64>().unwrap_or(0));
    assert_eq!(blob.lines().next(), Some("omk-log-anchors 1"), "{blob}");
    assert_eq!(counts, ["1", "2", "3", "4", "5", "6", "7", "8"], "{blob}");
    // An anchor equal to the last one is not written twice.
    let last = blob.lines().last().unwrap_or_default().to_owned();
    let mut words = last.split(' ');
    let again = omk_goal::Anchor {
        events: words.next().unwrap_or_default().parse()?,
        head: words.next().unwrap_or_default().to_owned(),
        status: words.next().unwrap_or_default().to_owned(),
        at: words.next().unwrap_or_default().to_owned(),
    };
    omk_goal::append_anchor(repo.root(), &goal, &again)?;
    assert_eq!(repo.git(&["cat-file", "-p", &omk_goal::anchor_ref(&goal)]), blob);
    // The checkout is untouched: same HEAD, nothing to commit.
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head_before);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    Ok(())
}
