//! The JUnit XML reader on reports real runners wrote, and the runner reading the reports a gate
//! writes: only those this run wrote count, a malformed one falls back to the output.

use std::{fs, process::Command};

use omk_events::{GateKind, TestCounts};
use omk_gates::GateSpec;

use crate::{TestResult, options, run_with, shell};

fn fixture(name: &str) -> Result<Vec<u8>, std::io::Error> {
    fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit").join(name))
}

fn of(passed: u64, failed: u64, skipped: u64) -> TestCounts {
    TestCounts { passed, failed, skipped }
}

#[test]
fn real_reports_count_their_tests() -> TestResult {
    // nextest: the suite's attributes (2 tests, 1 failure); the ignored test is not in the report.
    let nextest = omk_gates::parse_report("nextest-fail.xml", &fixture("nextest-fail.xml")?)?;
    assert_eq!(nextest, of(1, 1, 0));
    // node: three bare cases (pass, fail, skip) and a suite of two by its attributes.
    let node = omk_gates::parse_report("node-test.xml", &fixture("node-test.xml")?)?;
    assert_eq!(node, of(3, 1, 1));
    // Cut short, as by a runner killed while writing: an error, not a partial count.
    let bytes = fixture("nextest-fail.xml")?;
    let cut = omk_gates::parse_report("cut.xml", &bytes[..bytes.len() / 2]);
    assert!(cut.is_err(), "{cut:?}");
    Ok(())
}

fn junit_gate(name: &str, line: &str, junit: &str) -> GateSpec {
    GateSpec {
        kind: GateKind::Test,
        junit: Some(junit.to_owned()),
        ..shell(name, line, std::time::Duration::from_secs(60))
    }
}

#[test]
fn a_report_the_gate_writes_counts_before_its_output_and_a_stale_one_never_counts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let worktree = dir.path().join("wt");
    fs::create_dir_all(worktree.join("reports"))?;
    let report = String::from_utf8(fixture("node-test.xml")?)?;
    fs::write(worktree.join("report.xml"), &report)?;
    // Stale reports: one as committed, one dated in the future as an agent could leave it.
    fs::write(worktree.join("reports/stale.xml"), &report)?;
    fs::write(worktree.join("stale.xml"), &report)?;
    let touched = Command::new("touch")
        .args(["-d", "2099-01-01", "stale.xml"])
        .current_dir(&worktree)
        .status()?;
    assert!(touched.success());
    let gates = [
        // Prints no count; writes its report (the real node report, copied) while it runs.
        junit_gate("writes", "mkdir -p out && cp report.xml out/junit.xml", "out/*.xml"),
        // Rewrites a report that was there before: written by this run, so it counts.
        junit_gate(
            "rewrites",
            "cp report.xml reports/stale.xml && echo '5 passed, 0 failed'",
            "reports/*.xml",
        ),
        // Leaves the stale reports alone and prints no count: nothing counts.
        junit_gate("stale", "true", "stale.xml"),
        // Writes a malformed report: the error is shown and the output's summary counts.
        junit_gate(
            "broken",
            "printf '<testsuites><testsuite' > broken.xml; echo '2 passed, 0 failed'",
            "broken.xml",
        ),
    ];
    let runs = run_with(&gates, &options(dir.path(), 1));
    let [writes, rewrites, stale, broken] = [&runs[0], &runs[1], &runs[2], &runs[3]];

    assert_eq!(writes.result.tests, Some(of(3, 1, 1)));
    let read = writes.result.junit.as_ref().ok_or("a junit gate records what it read")?;
    assert!(read.counted && read.error.is_none(), "{read:?}");
    assert_eq!(read.files, ["out/junit.xml"]);

    assert_eq!(rewrites.result.tests, Some(of(3, 1, 1)), "the report counts before the output");
    assert_eq!(
        rewrites.result.junit.as_ref().map(|it| it.files.clone()),
        Some(vec!["reports/stale.xml".to_owned()])
    );

    assert_eq!(stale.result.tests, None, "a report the run did not write never counts");
    let read = stale.result.junit.as_ref().ok_or("recorded")?;
    assert!(!read.counted && read.files.is_empty(), "{read:?}");
    assert_eq!(read.stale, ["stale.xml"]);

    assert_eq!(broken.result.tests, Some(of(2, 0, 0)), "the output's summary stands in");
    let read = broken.result.junit.as_ref().ok_or("recorded")?;
    assert!(!read.counted);
    let error = read.error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("read the JUnit report broken.xml")
            || error.starts_with("parse the JUnit report broken.xml"),
        "{error}"
    );
    Ok(())
}

#[test]
fn the_junit_key_is_read_and_checked() -> TestResult {
    let config = omk_gates::parse_config(
        "[[gates]]\nname = \"t\"\ncommand = \"x\"\njunit = \"target/nextest/ci/junit.xml\"\n",
    )?;
    assert_eq!(config.gates[0].junit.as_deref(), Some("target/nextest/ci/junit.xml"));
    for bad in ["/tmp/junit.xml", "../junit.xml", "reports/[.xml"] {
        let text = format!("[[gates]]\nname = \"t\"\ncommand = \"x\"\njunit = \"{bad}\"\n");
        let err = omk_gates::parse_config(&text).err().ok_or("a bad junit key is an error")?;
        assert!(
            err.to_string().contains("must be a relative path or glob inside the worktree"),
            "{err}"
        );
    }
    Ok(())
}
