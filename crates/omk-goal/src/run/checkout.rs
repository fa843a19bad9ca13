//! The checkout steps of the controller: fingerprint the user's checkout before the agent starts,
//! and again after the last gate, so anything a run wrote outside its worktree shows in the proof.
//!
//! The comparison is the proof's (a fold of the `checkout_fingerprinted` events, the first one
//! being the baseline), so a resumed run is compared with the first fingerprint of the goal.

use omk_events::{CheckoutFingerprint, CheckoutFingerprinted, CheckoutMoment, Event, Step};

use crate::{
    anchor::ANCHOR_REF_PREFIX,
    error::Error,
    run::{
        accept_step::NOTES_REF,
        controller::{Controller, Flow},
    },
};

/// The ref prefixes a fingerprint leaves out: omk writes them itself while goals run (goal,
/// slice and integration branches; the acceptance notes of `omk accept`; the log anchors every
/// proof write appends, which `omk proof verify` checks on its own).
pub(crate) const OMK_OWNED_REFS: &[&str] = &["refs/heads/omk/", NOTES_REF, ANCHOR_REF_PREFIX];

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

    /// Takes the fingerprints a resumed run starts with.
    ///
    /// A run that crashed takes none: it is compared with its baseline from before the crash
    /// (unless it crashed before taking one, while nothing had run yet). After a clean stop,
    /// what changed in the checkout since is the user's own, so the run takes a new baseline;
    /// when something ran since the last comparison (the previous run stopped midway), it first
    /// compares the checkout with the old baseline, so what that run wrote is not taken in.
    pub(crate) fn rebaseline_checkout(&mut self, crashed: bool) -> Result<(), Error> {
        let state = &self.rec.state;
        let nothing_ran = state.worktree.is_none() && state.agent_runs == 0;
        if !state.checkout_baseline {
            if nothing_ran {
                self.fingerprint_checkout(CheckoutMoment::Baseline)?;
            }
            return Ok(());
        }
        if crashed {
            return Ok(());
        }
        if state.checkout_pending
            && matches!(self.fingerprint_checkout(CheckoutMoment::Resumed)?, Flow::Stop)
        {
            return Ok(());
        }
        self.fingerprint_checkout(CheckoutMoment::Baseline)?;
        Ok(())
    }

    /// The last step: the checkout's fingerprint after the last gate.
    pub(crate) fn check_checkout(&mut self) -> Result<Flow, Error> {
        self.fingerprint_checkout(CheckoutMoment::AfterGates)
    }
}

/// Returns omk-worktree's fingerprint as the event records it.
pub(crate) fn event_fingerprint(taken: omk_worktree::CheckoutFingerprint) -> CheckoutFingerprint {
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
