//! Goals that travel in git: the evidence a goal's run leaves, pushed to a remote under
//! `refs/omk/goals/<goal-id>`, and goals fetched from one (`docs/remote.md`).

pub(crate) mod error;
pub(crate) mod origin;
