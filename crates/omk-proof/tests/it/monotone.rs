//! The monotonicity properties of readiness, one set for every generator of logs: removing
//! supporting evidence or appending failing evidence never raises the rung or makes a proof
//! ready. `props.rs` checks them on a goal's own steps, `team.rs` on team logs; each says which
//! events support and which steps fail.

use omk_events::{Envelope, Event, GateFinished, Seq};
use omk_proof::{Proof, ProofStatus};
use proptest::{prop_assert, test_runner::TestCaseError};

use crate::support::Log;

/// Returns the proof of `events`.
pub(crate) fn proof_of(events: &[Envelope]) -> Proof {
    omk_proof::synthesize(events).expect("generated logs start with goal_created")
}

/// Checks that removing any event of `log` that `supports` calls supporting evidence never
/// makes its proof better. A gate's clean pass on a tree where the same gate's run was not clean
/// before is not supporting evidence whatever `supports` says: it shows the gate flaky, which
/// holds the worse run against the gate, so removing it hides the flake (see [`shows_a_flake`]).
pub(crate) fn removing_evidence_never_helps(
    log: &Log,
    supports: impl Fn(&Event) -> bool,
) -> Result<(), TestCaseError> {
    let before = proof_of(&log.events);
    for idx in 1..log.events.len() {
        if !supports(&log.events[idx].event) || shows_a_flake(&log.events, idx) {
            continue;
        }
        let mut events = log.events.clone();
        events.remove(idx);
        renumber(&mut events);
        no_better(&before, &proof_of(&events))?;
    }
    Ok(())
}

/// Checks that appending any of the failing `steps` to `log` never makes its proof ready, nor
/// raises its rung unless `may_move_rung` says the step may (a step that is also a change of
/// the worktree makes earlier results stale, which moves the rung).
pub(crate) fn appending_failure_never_helps<S>(
    log: &Log,
    steps: &[S],
    apply: impl Fn(Log, &S) -> Log,
    may_move_rung: impl Fn(&S) -> bool,
) -> Result<(), TestCaseError> {
    let before = proof_of(&log.events);
    for step in steps {
        let after = proof_of(&apply(log.clone(), step).events);
        prop_assert!(
            after.status != ProofStatus::Ready || before.status == ProofStatus::Ready,
            "{:?} became ready",
            before.status
        );
        if !may_move_rung(step) {
            no_better(&before, &after)?;
        }
    }
    Ok(())
}

/// Returns whether event `idx` is a gate's clean pass on a tree where the same gate, in the
/// same phase, earlier had a run that was not clean (it failed, counted no test, or printed no
/// count): two results on the same files that disagree are a flaky gate, and the proof holds the
/// worse one against it.
pub(crate) fn shows_a_flake(events: &[Envelope], idx: usize) -> bool {
    let Event::GateFinished(pass) = &events[idx].event else { return false };
    clean(pass)
        && pass.tree_id.is_some()
        && events[..idx].iter().any(|earlier| {
            matches!(&earlier.event, Event::GateFinished(run)
                if !clean(run)
                    && run.name == pass.name
                    && run.phase == pass.phase
                    && run.tree_id == pass.tree_id)
        })
}

/// Returns whether a gate run passed and, for a test gate, counted one or more tests (or may
/// count none, or declared its exit code to stand for its tests).
fn clean(run: &GateFinished) -> bool {
    let no_tests = run.gate_kind.is_test()
        && !run.allow_no_tests
        && run.tests.is_some_and(|tests| tests.ran() == 0);
    let uncounted = run.gate_kind.is_test() && run.tests.is_none() && !run.tests_by_exit_code;
    run.passed() && !no_tests && !uncounted
}

/// Numbers `events` densely from 1 again, after one was removed.
pub(crate) fn renumber(events: &mut [Envelope]) {
    for (idx, envelope) in events.iter_mut().enumerate() {
        envelope.seq = Seq(idx as u64 + 1);
    }
}

/// Checks `after` is no better than `before`: not a higher rung, and not newly ready.
fn no_better(before: &Proof, after: &Proof) -> Result<(), TestCaseError> {
    prop_assert!(
        after.readiness <= before.readiness,
        "{:?} rose to {:?}",
        before.readiness,
        after.readiness
    );
    prop_assert!(
        after.status != ProofStatus::Ready || before.status == ProofStatus::Ready,
        "{:?} became ready",
        before.status
    );
    Ok(())
}
