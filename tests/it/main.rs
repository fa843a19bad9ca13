//! End-to-end tests: the built `omk` binary on real git repositories in temporary directories.

mod agents;
mod checkout;
mod cli;
mod config;
mod controller;
mod env;
mod gates;
mod proof_verify;
mod real_kimi;
mod replay;
mod run;
mod team;

pub(crate) use env::TestEnv;

/// A shell library whose `add` subtracts: the bug every end-to-end scenario fixes.
pub(crate) const LIB_SH: &str = "add() { echo $(($1 - $2)); }\n";
/// The test that fails until `add` adds.
pub(crate) const TEST_SH: &str =
    ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ] || { echo \"add 2 3 is $(add 2 3)\"; exit 1; }\n";

/// Returns the proof's agent token usage as `uncached/cache-read/cache-write/output`.
pub(crate) fn usage(agent: &serde_json::Value) -> String {
    let usage = &agent["usage"];
    format!(
        "{}/{}/{}/{}",
        usage["input_uncached"],
        usage["input_cache_read"],
        usage["input_cache_write"],
        usage["output"]
    )
}
