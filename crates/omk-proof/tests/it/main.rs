//! Spec tests of proof synthesis: each `tests/data/<case>.jsonl` event log in, a rendered proof out.

use std::{fs, path::Path};

use omk_events::Envelope;

/// Folds the event log at `path` into a proof and renders it as text, then as JSON.
fn check(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("test data is readable");
    let events: Vec<Envelope> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("test data lines are events"))
        .collect();
    let proof = omk_proof::synthesize(&events).expect("test data starts with goal_created");
    let json = proof.to_json();
    let parsed: omk_proof::Proof = serde_json::from_str(&json).expect("the JSON reads back");
    assert_eq!(parsed, proof, "the JSON form round-trips");
    format!("{}\n---- proof.json ----\n{json}", omk_proof::render_text(&proof))
}

#[test]
fn proofs_of_event_logs() {
    insta::glob!("../data", "*.jsonl", |path| {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(path);
        settings.bind(|| insta::assert_snapshot!(check(path)));
    });
}
