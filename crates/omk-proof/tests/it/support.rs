//! The goal log builder of omk-testkit, and the proof of a built log.

use omk_proof::Proof;
pub(crate) use omk_testkit::{BASE, CHECKS, Log, T1, T2, artifact, gate_run, review_result};

/// The proof of a built log: omk-testkit does not depend on omk-proof, so this crate's tests
/// add it.
pub(crate) trait ProofOf {
    /// Returns the proof of this log.
    fn proof(&self) -> Proof;
}

impl ProofOf for Log {
    fn proof(&self) -> Proof {
        omk_proof::synthesize(&self.events).expect("test logs start with goal_created")
    }
}
