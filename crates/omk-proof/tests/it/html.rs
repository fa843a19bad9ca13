//! The HTML report of a proof: every text from the log or an artifact escaped, every gate and
//! changed file named, kinds this build does not know drawn generically, the same bytes for the
//! same inputs.

use std::collections::BTreeMap;

use omk_events::{ChangedFile, ChangesCaptured, Envelope, Event, FileOperation, UnknownEvent};
use omk_proof::{ArtifactContent, ArtifactText, ReportCheck, ReportCheckStatus, ReportContext};

use crate::support::{BASE, Log, T1, artifact, gate_run};

const MARKUP: &str = "</script><img src=x onerror=alert(1)>";

/// Returns the page of `events` with `artifacts`.
fn page(events: &[Envelope], artifacts: &BTreeMap<String, ArtifactContent>) -> String {
    let proof = omk_proof::synthesize(events).expect("the log starts with goal_created");
    let checks = [ReportCheck {
        name: "anchor <refs>".to_owned(),
        status: ReportCheckStatus::Passed,
        message: MARKUP.to_owned(),
    }];
    omk_proof::render_html(&ReportContext { proof: &proof, events, artifacts, checks: &checks })
}

fn text(text: &str) -> ArtifactContent {
    ArtifactContent::Text(ArtifactText { text: text.to_owned(), ..ArtifactText::default() })
}

/// A verified goal whose gate, file, output and agent message are markup.
fn hostile() -> Log {
    let mut gate = gate_run("test", true, false, Some(T1));
    gate.name = format!("test {MARKUP}");
    gate.command = vec!["sh".into(), "-c".into(), format!("echo '{MARKUP}'")];
    Log::new()
        .worktree()
        .agent(omk_events::AgentStatus::Completed)
        .with(Event::ChangesCaptured(ChangesCaptured {
            base_commit: BASE.into(),
            tree_id: T1.into(),
            files: vec![ChangedFile {
                path: format!("{MARKUP}.txt"),
                operation: FileOperation::Created,
                renamed_from: None,
                lines_added: Some(1),
                lines_removed: Some(0),
                blob_id: Some("9daeafb9864cf43055ae93beb0afd6c7d144bfa4".into()),
            }],
            patch: Some(artifact("artifacts/diff/change.patch")),
        }))
        .with(Event::GateFinished(gate))
}

#[test]
fn every_text_of_the_log_and_its_artifacts_is_escaped() {
    let log = hostile();
    let artifacts = BTreeMap::from([
        (
            "artifacts/gates/test.log".to_owned(),
            text(&format!("FAIL {MARKUP}\n0 passed, 1 failed\n")),
        ),
        (
            "artifacts/diff/change.patch".to_owned(),
            text(&format!("diff --git a/{MARKUP}.txt b/{MARKUP}.txt\n+{MARKUP}\n")),
        ),
    ]);
    let page = page(&log.events, &artifacts);
    assert!(!page.contains("<img"), "no image tag reaches the page");
    assert!(!page.contains("</script>"), "no script tag is closed or opened");
    assert!(!page.contains("<script"));
    let escaped = "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;";
    // The gate's name, command and output, the file's name, its diff, and the check.
    assert!(page.matches(escaped).count() >= 6, "{}", page.matches(escaped).count());
    assert!(page.contains(&format!("<span class=\"add\">+{escaped}</span>")), "the diff line");
    assert!(page.contains(&format!("FAIL {escaped}")), "the gate's output");
}

#[test]
fn an_artifact_that_does_not_match_its_digest_is_named_not_shown() {
    let log = hostile();
    let artifacts = BTreeMap::from([(
        "artifacts/gates/test.log".to_owned(),
        ArtifactContent::Altered { sha256: "d".repeat(64) },
    )]);
    let page = page(&log.events, &artifacts);
    assert!(page.contains(">altered</span>"));
    assert!(page.contains("Not included in this report."), "the patch was not read");
}

#[test]
fn every_gate_and_changed_file_is_on_the_page_and_the_bytes_repeat() {
    let log = Log::ready();
    let artifacts = BTreeMap::new();
    let first = page(&log.events, &artifacts);
    assert_eq!(first, page(&log.events, &artifacts), "the same inputs give the same bytes");
    let proof = omk_proof::synthesize(&log.events).expect("a valid log");
    for gate in &proof.gates {
        assert!(first.contains(&format!("<b>{}</b>", gate.name)), "gate {}", gate.name);
    }
    for file in &proof.changed_files {
        assert!(first.contains(&format!("<code>{}</code>", file.path)), "file {}", file.path);
    }
    assert!(first.contains("<span class=\"word\">ready</span>"));
    assert!(first.contains("Content-Security-Policy"));
    assert!(!first.contains("http://") && !first.contains("https://"), "nothing to fetch");
}

#[test]
fn a_kind_this_build_does_not_know_is_drawn_by_its_name() {
    let mut fields = serde_json::Map::new();
    fields.insert("round".to_owned(), 2.into());
    let log = Log::verified()
        .with(Event::Unknown(UnknownEvent { kind: "repair_round_started".to_owned(), fields }))
        .agent(omk_events::AgentStatus::Completed);
    let page = page(&log.events, &BTreeMap::new());
    assert!(page.contains("repair_round_started (a kind this omk does not know)"), "{page}");
    // Two runs of the goal's agent are two rounds, drawn behind the lanes.
    assert!(page.contains("round 2"), "{page}");
}
