//! End-to-end tests: the built `omk` binary on real git repositories in temporary directories.

mod agents;
mod anchor;
mod baseline;
mod checkout;
mod cli;
mod config;
mod controller;
mod counted;
mod env;
mod fail_to_pass;
mod fetched;
mod gates;
mod html_report;
mod jobs;
mod junit;
mod mcp;
mod model_server;
mod proof_verify;
mod real_agents;
mod real_client;
mod real_kimi;
mod remote;
mod repair;
mod replay;
mod run;
mod sandbox;
mod schemas;
mod team;
mod warm;

pub(crate) use env::TestEnv;

/// A shell library whose `add` subtracts: the bug every end-to-end scenario fixes.
pub(crate) const LIB_SH: &str = "add() { echo $(($1 - $2)); }\n";
/// The test that fails until `add` adds; its last line is the count omk reads.
pub(crate) const TEST_SH: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ] || { echo \"add 2 3 is $(add 2 3)\"; \
     echo '0 passed, 1 failed'; exit 1; }\necho '1 passed, 0 failed'\n";
/// A scenario in the Kimi echo DSL that fixes `add` in `lib.sh`.
pub(crate) const FIX_ADD: &str = r#"text: Fixing the operator.
tool_call: {"id": "tc-1", "name": "StrReplaceFile", "arguments": "{\"path\": \"lib.sh\", \"edit\": {\"old\": \"$1 - $2\", \"new\": \"$1 + $2\"}}"}
---
text: Fixed add().
"#;
/// The repos' `omk.toml`: `sh test.sh` as a test gate. `sh` implies no kind, so it is declared,
/// and the script prints a count omk reads, so the proof can be ready.
pub(crate) const OMK_TOML: &str =
    "[[gates]]\nname = \"unit\"\nkind = \"test\"\ncommand = \"sh test.sh\"\ntimeout_secs = 60\n";

/// Returns the stored proof of goal `goal` in `repo`.
pub(crate) fn proof(repo: &std::path::Path, goal: &str) -> anyhow::Result<serde_json::Value> {
    let path = repo.join(".omk/goals").join(goal).join("proof.json");
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// Returns the kinds of a proof's gaps, in the proof's order.
pub(crate) fn gap_kinds(proof: &serde_json::Value) -> Vec<String> {
    proof["known_gaps"]
        .as_array()
        .map(|gaps| {
            gaps.iter()
                .map(|it| it["gap"]["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

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
