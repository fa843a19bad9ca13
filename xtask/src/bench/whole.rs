//! The whole-process figures: what `crates/omk-cli/benches/process.rs` writes as one
//! `<group>.json` per group into the directory `OMK_BENCH_PROCESS_DIR` names, read back and
//! rendered as the report's "Whole process" section.

use std::{fmt::Write as _, fs, path::Path};

use anyhow::{Context, Result};
use serde_json::Value;

use super::{escape, format_rate, format_ratio, format_time};

/// The variable that tells the whole-process bench where to write its figures.
pub(crate) const DIR_VARIABLE: &str = "OMK_BENCH_PROCESS_DIR";

/// One group of commands measured in interleaved rounds; the first row is the baseline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProcessGroup {
    pub(crate) group: String,
    pub(crate) rows: Vec<ProcessRow>,
    /// The peak resident memory of the bench's children, in KiB, when the group measured it.
    pub(crate) peak_rss_kib: Option<u64>,
}

/// One command's runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProcessRow {
    pub(crate) function: String,
    pub(crate) median_ns: f64,
    pub(crate) min_ns: f64,
    pub(crate) max_ns: f64,
    pub(crate) runs: u64,
    /// The median CPU time (user and system) of a run, the command's children included.
    pub(crate) cpu_ns: Option<f64>,
    /// Units processed per run, for a throughput.
    pub(crate) elements: Option<u64>,
}

/// Reads every `<group>.json` in `dir`, sorted by group; a missing directory is no group.
pub(crate) fn read_groups(dir: &Path) -> Result<Vec<ProcessGroup>> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut paths: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            parse_group(&text).with_context(|| {
                format!("failed to read the whole-process figures in {}", path.display())
            })
        })
        .collect()
}

/// Parses one group's JSON document.
pub(crate) fn parse_group(text: &str) -> Result<ProcessGroup> {
    let document: Value = serde_json::from_str(text).context("the file is not valid JSON")?;
    let group = document["group"].as_str().context("no string `group`")?.to_owned();
    let rows = document["rows"]
        .as_array()
        .context("no array `rows`")?
        .iter()
        .map(|row| {
            let number = |key: &str| {
                row[key].as_f64().with_context(|| format!("a row has no number `{key}`"))
            };
            Ok(ProcessRow {
                function: row["function"]
                    .as_str()
                    .context("a row has no string `function`")?
                    .to_owned(),
                median_ns: number("median_ns")?,
                min_ns: number("min_ns")?,
                max_ns: number("max_ns")?,
                runs: row["runs"].as_u64().context("a row has no number `runs`")?,
                cpu_ns: row["cpu_ns"].as_f64(),
                elements: row["elements"].as_u64(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    anyhow::ensure!(!rows.is_empty(), "`rows` is empty");
    Ok(ProcessGroup { group, rows, peak_rss_kib: document["peak_rss_kib"].as_u64() })
}

/// Renders the "Whole process" section, or nothing without groups.
pub(crate) fn render(groups: &[ProcessGroup]) -> String {
    let mut out = String::new();
    if groups.is_empty() {
        return out;
    }
    out.push_str("\n## Whole process\n\n");
    out.push_str(
        "Each command runs as a user's shell runs it, from spawn to exit, with `omk` built by \
         `cargo bench`.\nThe commands of a group run in interleaved rounds after one warm-up run \
         each, so other load on the machine falls on all of them alike.\n\"CPU\" is the median CPU \
         time (user and system) of a run, steadier than the wall time on a loaded machine.\n\
         \"vs baseline\" is the median divided by the median of the group's first command.\n",
    );
    for group in groups {
        let baseline = group.rows[0].median_ns;
        let _ = write!(
            out,
            "\n### {}\n\n| command | median | fastest – slowest | runs | CPU | throughput | vs baseline |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            escape(&group.group)
        );
        for (n, row) in group.rows.iter().enumerate() {
            let throughput = row.elements.map_or_else(
                || "—".to_owned(),
                |count| format_rate(count as f64 * 1e9 / row.median_ns, "elem"),
            );
            let ratio =
                if n == 0 { "baseline".to_owned() } else { format_ratio(row.median_ns / baseline) };
            let _ = writeln!(
                out,
                "| {} | {} | {} – {} | {} | {} | {throughput} | {ratio} |",
                escape(&row.function),
                format_time(row.median_ns),
                format_time(row.min_ns),
                format_time(row.max_ns),
                row.runs,
                row.cpu_ns.map_or_else(|| "—".to_owned(), format_time),
            );
        }
        if let Some(kib) = group.peak_rss_kib {
            let _ = writeln!(
                out,
                "\nPeak resident memory of the largest process the group ran: {:.1} MiB.",
                kib as f64 / 1024.0
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_render_with_ratios_throughput_and_memory() -> Result<()> {
        let group = parse_group(
            r#"{"group":"process_replay_1m","peak_rss_kib":20480,"rows":[
                {"function":"baseline_wc_l","median_ns":2.0e7,"min_ns":1.9e7,"max_ns":2.5e7,"runs":7,"cpu_ns":1.5e7,"elements":1000000},
                {"function":"omk_replay","median_ns":8.0e8,"min_ns":7.5e8,"max_ns":9.0e8,"runs":7,"elements":1000000}]}"#,
        )?;
        insta::assert_snapshot!(render(&[group]), @r#"

        ## Whole process

        Each command runs as a user's shell runs it, from spawn to exit, with `omk` built by `cargo bench`.
        The commands of a group run in interleaved rounds after one warm-up run each, so other load on the machine falls on all of them alike.
        "CPU" is the median CPU time (user and system) of a run, steadier than the wall time on a loaded machine.
        "vs baseline" is the median divided by the median of the group's first command.

        ### process_replay_1m

        | command | median | fastest – slowest | runs | CPU | throughput | vs baseline |
        | --- | ---: | ---: | ---: | ---: | ---: | ---: |
        | baseline_wc_l | 20.0 ms | 19.0 ms – 25.0 ms | 7 | 15.0 ms | 50.0 Melem/s | baseline |
        | omk_replay | 800 ms | 750 ms – 900 ms | 7 | — | 1.25 Melem/s | 40.0× |

        Peak resident memory of the largest process the group ran: 20.0 MiB.
        "#);
        assert_eq!(render(&[]), "");
        Ok(())
    }

    #[test]
    fn a_malformed_group_says_what_is_missing() {
        let err = parse_group(r#"{"group":"g","rows":[{"function":"f"}]}"#).unwrap_err();
        assert_eq!(format!("{err:#}"), "a row has no number `median_ns`");
        assert!(parse_group(r#"{"group":"g","rows":[]}"#).is_err());
    }
}
