//! The merge check: a proof allows a merge only when it is `ready` for the exact tree.

use std::fmt;

use crate::{gap::Gap, model::Proof, readiness::ProofStatus};

/// Returns `Ok` when `proof` allows merging the tree `tree_id`, else every reason it does not.
///
/// Only a [`ProofStatus::Ready`] proof whose proposed tree is exactly `tree_id` passes; each
/// known gap of the proof is a reason of its own.
pub fn validate_for_merge(proof: &Proof, tree_id: &str) -> Result<(), MergeRefused> {
    let mut reasons = Vec::new();
    if proof.status != ProofStatus::Ready {
        reasons.push(RefusalReason::NotReady { status: proof.status });
    }
    if proof.git.tree_id.as_deref() != Some(tree_id) {
        reasons.push(RefusalReason::TreeMismatch {
            proof_tree: proof.git.tree_id.clone(),
            requested: tree_id.to_owned(),
        });
    }
    reasons.extend(proof.known_gaps.iter().map(|gap| RefusalReason::Gap(gap.gap.clone())));
    if reasons.is_empty() { Ok(()) } else { Err(MergeRefused { reasons }) }
}

/// Why [`validate_for_merge`] refused, one reason per problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct MergeRefused {
    /// The reasons, the status and tree first, then the proof's gaps in order.
    pub reasons: Vec<RefusalReason>,
}

impl fmt::Display for MergeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the proof does not allow this merge:")?;
        for reason in &self.reasons {
            write!(f, "\n  - {reason}")?;
        }
        Ok(())
    }
}

/// One reason a merge is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum RefusalReason {
    /// The proof's status is not `ready`.
    NotReady {
        /// The status it has.
        status: ProofStatus,
    },
    /// The proof speaks for another tree than the one to merge.
    TreeMismatch {
        /// The proof's proposed tree, if any.
        proof_tree: Option<String>,
        /// The tree the caller wants to merge.
        requested: String,
    },
    /// A known gap of the proof.
    Gap(Gap),
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotReady { status } => write!(f, "the proof's status is {status}, not ready"),
            Self::TreeMismatch { proof_tree: Some(proof_tree), requested } => {
                write!(f, "the proof is about tree {proof_tree}, not {requested}")
            }
            Self::TreeMismatch { proof_tree: None, requested } => {
                write!(f, "the proof has no proposed tree, so it cannot speak for {requested}")
            }
            Self::Gap(gap) => f.write_str(&gap.message()),
        }
    }
}
