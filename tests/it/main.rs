//! End-to-end tests: the built `omk` binary on real git repositories in temporary directories.

mod agents;
mod env;
mod real_kimi;
mod run;

pub(crate) use env::TestEnv;
