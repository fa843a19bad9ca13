//! End-to-end tests: the built `omk` binary on real git repositories in temporary directories.

mod env;
mod run;

pub(crate) use env::TestEnv;
