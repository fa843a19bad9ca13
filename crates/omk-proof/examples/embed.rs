//! Another tool builds a proof from its own evidence, without omk's runtime.
//!
//! A CI bot that ran its own agent and tests records what it saw as omk events, folds them with
//! `omk_proof::synthesize`, prints the PR body, and asks whether the tree may be merged.
//!
//! Run it with `cargo run -p omk-proof --example embed`.

#![expect(clippy::print_stdout, reason = "an example prints what it built")]

use chrono::{TimeZone, Utc};
use omk_events::{
    Actor, AgentFinished, AgentStarted, AgentStatus, ChangeAccepted, ChangedFile, ChangesCaptured,
    Envelope, Event, FileOperation, GateFinished, GateKind, GatePhase, GateSurfaceChecked,
    GoalCreated, GoalId, ProcessExit, ReviewFinished, ReviewStarted, ReviewStatus, Seq, TestCounts,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tree = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
    let evidence = vec![
        Event::GoalCreated(GoalCreated {
            prompt: "make parse() reject empty input".into(),
            repo_root: "/src/app".into(),
            base_branch: Some("main".into()),
            base_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".into(),
            agent: "my-bot".into(),
            omk_version: "my-bot 2.3".into(),
            extra_gates: Vec::new(),
        }),
        Event::AgentStarted(AgentStarted { agent: "my-bot".into() }),
        Event::AgentFinished(AgentFinished {
            agent: "my-bot".into(),
            agent_version: Some("2.3".into()),
            status: AgentStatus::Completed,
            process: Some(ProcessExit {
                exit_code: Some(0),
                signal: None,
                timed_out: false,
                idle_timed_out: false,
                garbage_lines: 0,
                oversized_lines: 0,
            }),
            error: None,
            final_message: Some("parse() now returns Err on empty input".into()),
            steps: 4,
            tool_calls: 3,
            failed_tool_calls: 0,
            usage: None,
            cost: None,
            transcript: None,
            duration_ms: 41_000,
            ..AgentFinished::new("x")
        }),
        Event::ChangesCaptured(ChangesCaptured {
            base_commit: "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d".into(),
            tree_id: tree.into(),
            files: vec![ChangedFile {
                path: "src/parse.rs".into(),
                operation: FileOperation::Modified,
                renamed_from: None,
                lines_added: Some(6),
                lines_removed: Some(1),
                blob_id: Some("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391".into()),
            }],
            patch: None,
        }),
        Event::GateFinished(GateFinished {
            name: "test".into(),
            gate_kind: GateKind::Test,
            command: vec!["cargo".into(), "test".into()],
            required: true,
            phase: GatePhase::Proposed,
            tree_id: Some(tree.into()),
            allow_no_tests: false,
            exit_code: Some(0),
            signal: None,
            timed_out: false,
            spawn_error: None,
            duration_ms: 9_800,
            output: None,
            tests: Some(TestCounts { passed: 212, failed: 0, skipped: 1 }),
            cached_from: None,
            tests_by_exit_code: false,
            flaky_with: None,
            junit: None,
        }),
        Event::GateSurfaceChecked(GateSurfaceChecked {
            tree_id: tree.into(),
            base_digest: "9f".repeat(32),
            proposed_digest: "9f".repeat(32),
            changed_paths: Vec::new(),
        }),
        Event::ReviewStarted(ReviewStarted {
            tree_id: tree.into(),
            checks: vec!["secrets".into()],
        }),
        Event::ReviewFinished(ReviewFinished {
            check: "secrets".into(),
            tree_id: tree.into(),
            status: ReviewStatus::Passed,
            evidence: vec!["no secret-shaped string added".into()],
            risks: Vec::new(),
            next_step: None,
        }),
        Event::ChangeAccepted(ChangeAccepted {
            tree_id: tree.into(),
            by: Actor::Policy { name: "my-bot auto-merge".into() },
            reason: None,
            merge_commit: None,
        }),
    ];

    let goal_id = GoalId::parse("bot-run-1042")?;
    let start = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).single().ok_or("bad time")?;
    let events = evidence.into_iter().enumerate().map(|(idx, event)| {
        let at = start + chrono::Duration::seconds(idx as i64);
        Envelope::new(Seq(idx as u64 + 1), at, goal_id.clone(), event)
    });

    let proof = omk_proof::synthesize(events)?;
    print!("{}", omk_proof::render_markdown(&proof));
    match omk_proof::validate_for_merge(&proof, tree) {
        Ok(()) => println!("\nmerge of {tree}: allowed"),
        Err(refused) => println!("\n{refused}"),
    }
    Ok(())
}
