//! The proof's outputs: Markdown and text renderings, in-toto statements, merge validation,
//! and logs written by older omk versions.

use std::fs;

use omk_events::{AgentStatus, Envelope, Event, GoalPaused};
use omk_proof::{
    Gap, ProofStatus, Readiness, RefusalReason,
    intoto::{self, DsseEnvelope, ExportOptions},
    validate_for_merge,
};

use crate::support::{Log, ProofOf, T1, T2};

#[test]
fn markdown_of_a_ready_proof() {
    let proof = Log::ready().proof();
    insta::assert_snapshot!(omk_proof::render_markdown(&proof));
}

#[test]
fn markdown_and_text_of_a_failing_proof() {
    let log = Log::new()
        .worktree()
        .agent(AgentStatus::Completed)
        .capture(T1, 2)
        .gate("test", true, false, T1);
    let proof = log.proof();
    insta::assert_snapshot!(format!(
        "{}\n---- text ----\n{}",
        omk_proof::render_markdown(&proof),
        omk_proof::render_text(&proof)
    ));
}

#[test]
fn in_toto_statements_of_a_ready_proof() {
    let proof = Log::ready().commit("5555555555555555555555555555555555555555", T1).proof();
    let statements =
        intoto::statements(&proof, &ExportOptions::default()).expect("a proposed tree exists");
    let kinds: Vec<&str> = statements.iter().map(|it| it.predicate_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            intoto::PROVENANCE_PREDICATE,
            intoto::TEST_RESULT_PREDICATE,
            intoto::TEST_RESULT_PREDICATE,
            intoto::VSA_PREDICATE
        ]
    );
    let verdict = &statements[3];
    assert_eq!(verdict.predicate["verificationResult"], "PASSED");
    assert_eq!(verdict.subject[0].digest["gitCommit"], "5555555555555555555555555555555555555555");
    assert_eq!(verdict.subject[0].digest["gitTree"], T1);
    // The verdict names every other statement by the digest of its bytes.
    for (idx, input) in statements[..3].iter().enumerate() {
        assert_eq!(verdict.predicate["inputAttestations"][idx]["digest"]["sha256"], input.sha256());
    }
    // The envelope's payload is the statement's bytes, and signing covers their PAE.
    let envelope = DsseEnvelope::new(verdict);
    assert_eq!(envelope.payload_bytes(), Ok(verdict.to_bytes()));
    let signing_input = envelope.signing_input().expect("a valid payload");
    assert!(signing_input.starts_with(b"DSSEv1 28 application/vnd.in-toto+json "));
    let lines: Vec<String> = statements
        .iter()
        .map(|it| serde_json::to_string_pretty(it).expect("statements serialize"))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_failing_proof_exports_a_failed_verdict() {
    let proof = Log::verified().proof();
    let statements =
        intoto::statements(&proof, &ExportOptions::default()).expect("a proposed tree exists");
    let verdict = statements.last().expect("a verdict");
    assert_eq!(verdict.predicate["verificationResult"], "FAILED");
    assert!(!verdict.subject[0].digest.contains_key("gitCommit"), "nothing was committed");
    let levels = verdict.predicate["verifiedLevels"].to_string();
    assert_eq!(
        levels,
        r#"["ORG_SOURCE_OMK_GATES_PASSED","ORG_SOURCE_OMK_REVIEW_PASSED","ORG_SOURCE_OMK_GATE_SURFACE_KEPT"]"#
    );

    let nothing = Log::new().proof();
    let err = intoto::statements(&nothing, &ExportOptions::default()).expect_err("no subject");
    assert!(err.to_string().contains("nothing to attest"), "{err}");
}

#[test]
fn merge_is_allowed_only_for_a_ready_proof_of_that_exact_tree() {
    let ready = Log::ready().proof();
    assert_eq!(validate_for_merge(&ready, T1), Ok(()));

    let err = validate_for_merge(&ready, T2).expect_err("another tree");
    assert_eq!(
        err.reasons,
        [RefusalReason::TreeMismatch { proof_tree: Some(T1.into()), requested: T2.into() }]
    );

    let paused =
        Log::ready().with(Event::GoalPaused(GoalPaused { reason: "Ctrl-C".into() })).proof();
    let err = validate_for_merge(&paused, T1).expect_err("paused");
    assert_eq!(
        err.reasons,
        [
            RefusalReason::NotReady { status: ProofStatus::Paused },
            RefusalReason::Gap(Gap::Paused { reason: "Ctrl-C".into() })
        ]
    );

    let verified = Log::verified().proof();
    let err = validate_for_merge(&verified, T1).expect_err("not accepted");
    insta::assert_snapshot!(err.to_string(), @r"
    the proof does not allow this merge:
      - the proof's status is not_ready, not ready
      - nobody has accepted the change yet
    ");
}

/// Logs written by omk 0.1, before the evidence fields existed, still fold into proofs.
#[test]
fn logs_of_omk_0_1_still_read() {
    let text = fs::read_to_string("tests/data/omk-0.1-log.jsonl").expect("test data is readable");
    let events: Vec<Envelope> =
        text.lines().map(|line| serde_json::from_str(line).expect("0.1 lines parse")).collect();
    let proof = omk_proof::synthesize(&events).expect("a valid log");
    // Its test gate printed no count omk reads, which no longer stands for tests; and its gates
    // did not record their tree, so they do not speak for the captured one.
    assert_eq!(proof.readiness, Readiness::NoTestsRan);
    assert!(proof.known_gaps.iter().any(|it| matches!(it.gap, Gap::TestsNotCounted { .. })));
    assert!(
        proof
            .known_gaps
            .iter()
            .any(|it| matches!(it.gap, Gap::GateRanOnDifferentTree { tree_id: None, .. }))
    );
}

#[test]
fn synthesis_rejects_logs_that_are_not_one_goal_in_order() {
    let log = Log::ready();
    assert_eq!(omk_proof::synthesize(Vec::<Envelope>::new()), Err(omk_proof::Error::NoEvents));
    let err = omk_proof::synthesize(&log.events[1..]).expect_err("no goal_created");
    assert_eq!(
        err.to_string(),
        "synthesize proof: the first event is worktree_created, expected goal_created"
    );
    let mut swapped = log.events.clone();
    swapped.swap(2, 3);
    let err = omk_proof::synthesize(&swapped).expect_err("out of order");
    assert_eq!(
        err.to_string(),
        "synthesize proof: event 3 comes after event 4; events must be in log order"
    );
    let mut twice = log.events.clone();
    twice[1].event = twice[0].event.clone();
    assert!(omk_proof::synthesize(&twice).is_err());
}

#[test]
fn proofs_of_another_version_are_refused_with_the_fix() {
    let proof = Log::ready().proof();
    let json = proof.to_json().replacen("\"version\": 2", "\"version\": 9", 1);
    let err = omk_proof::Proof::from_json(&json).expect_err("version 9");
    assert!(err.to_string().contains("version 9 is not supported"), "{err}");
    assert!(omk_proof::Proof::from_json("{").is_err());
}
