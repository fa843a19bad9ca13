//! Checking proofs after the fact: `omk proof rebuild` and `omk proof verify` (with a rerun of
//! the gates in a scratch worktree, and the signed bundle against `[trust]`), and earlier proofs of a goal for `omk proof show --since`.

pub(crate) mod anchors;
pub(crate) mod history;
pub(crate) mod rerun;
pub(crate) mod trust;
pub(crate) mod verify;
