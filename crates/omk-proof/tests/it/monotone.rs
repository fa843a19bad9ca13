//! The monotonicity properties of readiness, one set for every generator of logs: removing
//! supporting evidence or appending failing evidence never raises the rung or makes a proof
//! ready. `props.rs` checks them on a goal's own steps, `team.rs` on team logs; each says which
//! events support and which steps fail.

use omk_events::{Envelope, Event, Seq};
use omk_proof::{Proof, ProofStatus};
use proptest::{prop_assert, test_runner::TestCaseError};

use crate::support::Log;

/// Returns the proof of `events`.
pub(crate) fn proof_of(events: &[Envelope]) -> Proof {
    omk_proof::synthesize(events).expect("generated logs start with goal_created")
}

/// Checks that removing any event of `log` that `supports` calls supporting evidence never
/// makes its proof better.
pub(crate) fn removing_evidence_never_helps(
    log: &Log,
    supports: impl Fn(&Event) -> bool,
) -> Result<(), TestCaseError> {
    let before = proof_of(&log.events);
    for idx in 1..log.events.len() {
        if !supports(&log.events[idx].event) {
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
