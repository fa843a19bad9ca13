//! What omk's tests and benchmarks share: hermetic git, a builder of goal logs and the parts of
//! a run environment, so that each crate's tests state only what they are about.
//!
//! This is test code. Crates take it only as a dev-dependency, for their integration tests
//! (`tests/it`) and benchmarks: a crate's unit tests cannot use it when it depends on that
//! crate, since they would see two copies of its types.
//!
//! Invariants:
//! - Git run through [`git`], [`git_command`] or [`hermetic`] does not see the developer's
//!   environment: every `GIT_*` variable and `EMAIL` from outside are removed, there is no
//!   global or system config, and the identity and dates are fixed ([`GIT_ENV`]). Tests pass
//!   whatever the shell that runs them holds, including omk running them as a gate.
//! - The [`Log`] builder does not read the clock: every event is one second after the last.
//! - This crate does not depend on the crate under test's internals, only on public APIs.
//!
//! Entry points: [`git`], [`TestRepo`], [`hermetic`], [`Log`], [`gate_path_env`],
//! [`chatty_activity`], [`odd_event`]; with
//! feature `run`, `RunEnvironment` for `omk_goal::run_goal`.

mod events;
mod git;
mod log;
#[cfg(feature = "run")]
mod run;

pub use crate::events::{chatty_activity, odd_event};
pub use crate::git::{GIT_DATE, GIT_ENV, TestRepo, git, git_command, hermetic};
pub use crate::log::{
    BASE, CHECKS, GOAL, Log, T1, T2, artifact, gate_run, person, review_result, start,
};
#[cfg(feature = "run")]
pub use crate::run::RunEnvironment;

/// Returns the environment gates run with in tests: the test's `PATH` and nothing else.
pub fn gate_path_env() -> Vec<(String, String)> {
    vec![("PATH".to_owned(), std::env::var("PATH").unwrap_or_default())]
}
