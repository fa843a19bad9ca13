//! Tests of bench: criterion's JSON files in `xtask/tests/fixtures/criterion` (with the `base/`
//! copies criterion keeps, which the report ignores) to the Markdown report.

use std::{fs, path::PathBuf};

use anyhow::Result;
use tempfile::TempDir;

use super::{Machine, Report, format_time, parse_measurement, read_measurements, render};

fn fixture() -> Result<PathBuf> {
    Ok(crate::project_root()?.join("xtask/tests/fixtures/criterion"))
}

fn report(quick: bool) -> Result<Report> {
    Ok(Report {
        machine: Machine {
            cpu: "Example CPU @ 2.00GHz".to_owned(),
            cores: "2".to_owned(),
            memory: "23.4 GiB".to_owned(),
            os: "Debian GNU/Linux 13 (trixie), linux 6.1.0".to_owned(),
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".to_owned(),
        },
        date: "2026-02-03".to_owned(),
        commit: "`abc1234`".to_owned(),
        command: "cargo xtask bench".to_owned(),
        quick,
        measurements: read_measurements(&fixture()?)?,
        processes: Vec::new(),
    })
}

#[test]
fn report_has_machine_groups_and_ratios_to_baselines() -> Result<()> {
    insta::assert_snapshot!("report", render(&report(false)?));
    Ok(())
}

#[test]
fn quick_report_says_its_figures_are_rough() -> Result<()> {
    let rendered = render(&report(true)?);
    assert!(rendered.contains(
        "This was a quick run (short warm-up and measurement), so the figures are rough.\n"
    ));
    Ok(())
}

#[test]
fn measurements_are_read_from_new_and_sorted() -> Result<()> {
    let ids: Vec<String> = read_measurements(&fixture()?)?
        .iter()
        .map(|measurement| {
            [
                Some(measurement.group.as_str()),
                measurement.function.as_deref(),
                measurement.parameter.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/")
        })
        .collect();
    insta::assert_snapshot!(ids.join("\n"), @r"
    changes/baseline_git_cli/10
    changes/baseline_git_cli/100
    changes/capture/10
    changes/capture/100
    changes/capture/1000
    event_log_append/baseline_write_line
    event_log_append/append_synced
    proof_fold/events/2
    proof_fold/events/1000
    render|text
    ");
    Ok(())
}

#[test]
fn malformed_results_name_the_file_and_the_field() -> Result<()> {
    let dir = TempDir::new()?;
    let new = dir.path().join("group/function/new");
    fs::create_dir_all(&new)?;
    fs::write(new.join("benchmark.json"), r#"{"group_id": "group", "function_id": "function"}"#)?;
    fs::write(new.join("estimates.json"), r#"{"mean": {"point_estimate": "fast"}}"#)?;
    let err = read_measurements(dir.path()).unwrap_err();
    let expected = format!(
        "failed to read the criterion results in {}: estimates.json has no number `mean.point_estimate`",
        new.join("benchmark.json").display()
    );
    assert_eq!(format!("{err:#}"), expected);

    let err = parse_measurement("{", "{}").unwrap_err();
    assert!(format!("{err:#}").starts_with("benchmark.json is not valid JSON: "), "{err:#}");
    Ok(())
}

#[test]
fn times_have_three_significant_digits() {
    let shown: Vec<String> = [1.234, 12.34, 123.4, 1_234.0, 99_999.0, 1_500_000.0, 2.5e9, 1234.5e9]
        .map(format_time)
        .to_vec();
    assert_eq!(
        shown,
        ["1.23 ns", "12.3 ns", "123 ns", "1.23 µs", "100 µs", "1.50 ms", "2.50 s", "1234 s"]
    );
}
