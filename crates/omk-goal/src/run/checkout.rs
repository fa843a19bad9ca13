//! The checkout steps of the controller: fingerprint the user's checkout before the agent starts,
//! and again after the last gate, so anything a run wrote outside its worktree shows in the proof.
//!
//! The comparison is the proof's (a fold of the `checkout_fingerprinted` events, the first one
//! being the baseline), so a resumed run is compared with the first fingerprint of the goal.

use omk_events::{CheckoutFingerprint, CheckoutFingerprinted, CheckoutMoment, Event, Step};

use crate::{
    error::Error,
    run::{
        accept_step::NOTES_REF,
        controller::{Controller, Flow},
    },
};

/// The ref prefixes a fingerprint leaves out: omk writes them itself while goals run (goal,
/// slice and integration branches; the acceptance notes of `omk accept`).
pub(crate) const OMK_OWNED_REFS: &[&str] = &["refs/heads/omk/", NOTES_REF];

impl Controller<'_> {
    /// Records a fingerprint of the user's checkout; a fingerprint that cannot be taken fails
    /// the goal at step `checkout`.
    pub(crate) fn fingerprint_checkout(&mut self, moment: CheckoutMoment) -> Result<Flow, Error> {
        match omk_worktree::fingerprint_checkout(&self.repo, OMK_OWNED_REFS) {
            Ok(fingerprint) => {
                self.rec.record(Event::CheckoutFingerprinted(CheckoutFingerprinted {
                    moment,
                    fingerprint: event_fingerprint(fingerprint),
                }))?;
                Ok(Flow::Continue)
            }
            Err(err) => {
                self.rec.fail(Step::Checkout, &err)?;
                Ok(Flow::Stop)
            }
        }
    }

    /// The last step: the checkout's fingerprint after the last gate.
    pub(crate) fn check_checkout(&mut self) -> Result<Flow, Error> {
        self.fingerprint_checkout(CheckoutMoment::AfterGates)
    }
}

/// Returns omk-worktree's fingerprint as the event records it.
fn event_fingerprint(taken: omk_worktree::CheckoutFingerprint) -> CheckoutFingerprint {
    let omk_worktree::CheckoutFingerprint { head, refs, index, files, git_config, hooks } = taken;
    CheckoutFingerprint {
        head,
        refs,
        ignored_refs: OMK_OWNED_REFS.iter().map(|it| (*it).to_owned()).collect(),
        index,
        files,
        git_config,
        hooks,
    }
}
