//! The sandbox in the proof: an unconfined run holds the proof below `ready` until a person,
//! not a policy, accepts the tree; a confined run changes nothing; the section is the latest
//! run's.

use omk_events::{Actor, ChangeAccepted, Event, SandboxApplied, SandboxMode};
use omk_proof::{Gap, ProofStatus, Readiness, validate_for_merge};

use crate::support::{Log, ProofOf, T1};

fn applied(mode: SandboxMode) -> Event {
    let confined = mode == SandboxMode::Landlock;
    Event::SandboxApplied(SandboxApplied {
        mode,
        abi: confined.then_some(7),
        reason: (!confined).then(|| "the kernel has no Landlock".to_owned()),
        writable: vec![".omk/worktrees/g".to_owned()],
        agent_writable: Vec::new(),
        network: true,
        network_enforced: true,
        caches: Vec::new(),
        gate_writable: Vec::new(),
    })
}

/// Returns the verified log of a goal whose runs had these sandboxes, first after creation.
fn verified_after(modes: &[SandboxMode]) -> Log {
    let mut log = Log::new();
    for mode in modes {
        log.push(applied(*mode));
    }
    let verified = Log::verified();
    for envelope in verified.events.into_iter().skip(1) {
        log.push(envelope.event);
    }
    log
}

fn accepted_by(log: Log, by: Actor) -> Log {
    log.with(Event::ChangeAccepted(ChangeAccepted {
        tree_id: T1.into(),
        by,
        reason: None,
        merge_commit: None,
    }))
}

#[test]
fn a_confined_run_is_ready_once_accepted_and_shows_its_sandbox() {
    let proof =
        accepted_by(verified_after(&[SandboxMode::Landlock]), omk_testkit::person()).proof();
    assert_eq!(proof.status, ProofStatus::Ready, "{:?}", proof.known_gaps);
    assert_eq!(proof.sandbox.map(|it| it.mode), Some(SandboxMode::Landlock));
}

#[test]
fn an_unconfined_run_is_merged_by_a_person_only() {
    let policy = Actor::Policy { name: "run --accept".to_owned() };
    for modes in
        [[SandboxMode::Unavailable, SandboxMode::Landlock], [SandboxMode::Off, SandboxMode::Off]]
    {
        let verified = verified_after(&modes);
        let proof = verified.proof();
        assert_eq!(proof.readiness, Readiness::AwaitingAcceptance);
        assert!(
            proof.known_gaps.iter().any(|it| matches!(it.gap, Gap::Unconfined { .. })),
            "{:?}",
            proof.known_gaps
        );
        // A later confined run does not make up for an unconfined one.
        let by_policy = accepted_by(verified.clone(), policy.clone()).proof();
        assert_eq!(by_policy.status, ProofStatus::NotReady, "{modes:?}");
        assert!(validate_for_merge(&by_policy, T1).is_err());
        let by_person = accepted_by(verified, omk_testkit::person()).proof();
        assert_eq!(by_person.status, ProofStatus::Ready, "{:?}", by_person.known_gaps);
        assert!(validate_for_merge(&by_person, T1).is_ok());
        assert_eq!(by_person.sandbox.map(|it| it.mode), modes.last().copied());
    }
}

#[test]
fn a_log_without_a_sandbox_event_has_no_section_and_no_gap() {
    let proof = Log::ready().proof();
    assert_eq!(proof.status, ProofStatus::Ready);
    assert!(proof.sandbox.is_none());
}
