//! The checks of the review wall other than `secrets`.

use std::{collections::BTreeSet, sync::LazyLock};

use globset::GlobBuilder;
use regex::Regex;

use omk_events::{GateFinished, GateSurfaceChecked, GoalKind, ReviewStatus};
use omk_worktree::{ChangeStatus, FileDiff};

use crate::decide::review::{ReviewConfig, Verdict, count, push_findings, truncate};

/// Checks whether the change weakens what the gates check.
///
/// Failed: a test file is deleted (or renamed out of the test paths), an added line has a
/// skip marker, or a removed line has an assertion that no added line of the diff restores.
/// Blocked (a person decides): only gate configuration or CI files changed, from
/// [`omk_gates::is_gate_config`] and the non-test paths of `surface`.
pub(super) fn check_gate_surface(
    files: &[FileDiff],
    surface: Option<&GateSurfaceChecked>,
) -> Verdict {
    let added: BTreeSet<&str> =
        files.iter().flat_map(FileDiff::added).map(str::trim).filter(|it| !it.is_empty()).collect();
    let mut deleted_tests = Vec::new();
    let mut skips = Vec::new();
    let mut removed_asserts = Vec::new();
    let mut config_paths = BTreeSet::new();
    for file in files {
        let was_test = match &file.status {
            ChangeStatus::Deleted => omk_gates::is_test_file(&file.path),
            ChangeStatus::Renamed { from } => {
                omk_gates::is_test_file(from) && !omk_gates::is_test_file(&file.path)
            }
            ChangeStatus::Added | ChangeStatus::Modified => false,
        };
        if was_test {
            deleted_tests.push(format!("{}: test file deleted", old_path(file)));
            continue;
        }
        if omk_gates::is_gate_config(&file.path) {
            config_paths.insert(file.path.clone());
        }
        for (line_number, line) in file.added_lines() {
            if is_comment(line) {
                continue;
            }
            if let Some(marker) = SKIP_MARKERS.iter().find_map(|regex| regex.find(line)) {
                skips.push(format!(
                    "{}:{line_number}: adds skip marker `{}`",
                    file.path,
                    marker.as_str()
                ));
            }
        }
        if file.status == ChangeStatus::Deleted {
            continue;
        }
        for (line_number, line) in file.removed_lines() {
            if is_comment(line) || added.contains(line.trim()) {
                continue;
            }
            if ASSERTIONS.iter().any(|regex| regex.is_match(line)) {
                removed_asserts.push(format!(
                    "{}:{line_number}: removes assertion `{}`",
                    old_path(file),
                    truncate(line.trim(), 80)
                ));
            }
        }
    }
    if let Some(surface) = surface {
        config_paths.extend(
            surface.changed_paths.iter().filter(|path| !omk_gates::is_test_file(path)).cloned(),
        );
    }

    let mut evidence = vec![format!("looked at {}", count(files.len() as u64, "changed file"))];
    let weakened = !(deleted_tests.is_empty() && skips.is_empty() && removed_asserts.is_empty());
    push_findings(&mut evidence, &deleted_tests);
    push_findings(&mut evidence, &skips);
    push_findings(&mut evidence, &removed_asserts);
    let config_findings: Vec<String> = config_paths
        .iter()
        .map(|path| format!("{path}: gate configuration or CI changed"))
        .collect();
    push_findings(&mut evidence, &config_findings);
    if weakened {
        let mut verdict = Verdict::new(ReviewStatus::Failed, evidence);
        verdict.risks.push(
            "the gates may pass because they check less, not because the change works".to_owned(),
        );
        verdict.next_step = Some(
            "restore the deleted tests and removed assertions and drop the skip markers listed \
             in the evidence, then run the goal again"
                .to_owned(),
        );
        return verdict;
    }
    if !config_paths.is_empty() {
        let mut verdict = Verdict::new(ReviewStatus::Blocked, evidence);
        verdict.risks.push(
            "a change to gate configuration or CI can change what the gates check".to_owned(),
        );
        verdict.next_step = Some(format!(
            "a person must approve or reject the changes to {}",
            config_paths.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
        return verdict;
    }
    evidence.push("no test deleted, no skip marker added, no assertion removed, no gate configuration or CI file changed".to_owned());
    Verdict::new(ReviewStatus::Passed, evidence)
}

/// Checks the number of changed files and lines against `max_files` and `max_lines`.
pub(super) fn check_diff_size(files: &[FileDiff], config: &ReviewConfig) -> Verdict {
    let n_added: u64 = files.iter().map(|file| file.added().count() as u64).sum();
    let n_removed: u64 = files.iter().map(|file| file.removed().count() as u64).sum();
    let n_files = files.len() as u64;
    let n_lines = n_added + n_removed;
    let evidence = vec![
        format!("{} changed, at most {} allowed", count(n_files, "file"), config.max_files),
        format!(
            "{} changed ({n_added} added, {n_removed} removed), at most {} allowed",
            count(n_lines, "line"),
            config.max_lines
        ),
    ];
    if n_files <= config.max_files && n_lines <= config.max_lines {
        return Verdict::new(ReviewStatus::Passed, evidence);
    }
    let mut verdict = Verdict::new(ReviewStatus::Failed, evidence);
    verdict.risks.push("a change this large is hard to review and to revert".to_owned());
    verdict.next_step = Some(
        "split the goal into smaller goals, or raise [review] max_files or max_lines in omk.toml"
            .to_owned(),
    );
    verdict
}

/// Checks the binary files the change adds or changes against `allow_binary` and
/// `max_binary_bytes`.
pub(super) fn check_binary_files(files: &[FileDiff], config: &ReviewConfig) -> Verdict {
    let binaries: Vec<&FileDiff> =
        files.iter().filter(|file| file.binary && file.status != ChangeStatus::Deleted).collect();
    if binaries.is_empty() {
        return Verdict::new(
            ReviewStatus::Passed,
            vec!["no binary file added or changed".to_owned()],
        );
    }
    let mut evidence = Vec::new();
    let mut too_large = Vec::new();
    for file in &binaries {
        evidence.push(format!("{}: binary, {} bytes", file.path, file.new_size));
        if file.new_size > config.max_binary_bytes {
            too_large.push(file.path.as_str());
        }
    }
    let mut risks = vec!["binary content cannot be reviewed line by line".to_owned()];
    let next_step = if !config.allow_binary {
        evidence.push("binary files are not allowed ([review] allow_binary = false)".to_owned());
        Some("remove the binary files from the change, or set [review] allow_binary = true in omk.toml".to_owned())
    } else if !too_large.is_empty() {
        evidence.push(format!(
            "{} larger than {} bytes ([review] max_binary_bytes)",
            too_large.join(", "),
            config.max_binary_bytes
        ));
        Some("remove the large binary files from the change, or raise [review] max_binary_bytes in omk.toml".to_owned())
    } else {
        None
    };
    let status = if next_step.is_some() { ReviewStatus::Failed } else { ReviewStatus::Passed };
    if status == ReviewStatus::Passed {
        risks.clear();
    }
    Verdict { status, evidence, risks, next_step }
}

/// Checks that no changed path (or renamed-from path) matches a glob of `forbidden`.
///
/// `*` and `?` stay within a path component and `**` crosses them, as in `.gitignore`. A glob
/// that does not compile is reported as a risk and skipped.
pub(super) fn check_forbidden_paths(files: &[FileDiff], forbidden: &[String]) -> Verdict {
    let mut risks = Vec::new();
    let mut globs = Vec::new();
    for pattern in forbidden {
        match GlobBuilder::new(pattern).literal_separator(true).build() {
            Ok(glob) => globs.push((pattern.as_str(), glob.compile_matcher())),
            Err(err) => risks.push(format!("forbidden path glob {pattern:?} is invalid: {err}")),
        }
    }
    let mut findings = Vec::new();
    for file in files {
        let mut paths = vec![file.path.as_str()];
        if let ChangeStatus::Renamed { from } = &file.status {
            paths.push(from);
        }
        for path in paths {
            if let Some((pattern, _)) = globs.iter().find(|(_, glob)| glob.is_match(path)) {
                findings.push(format!("{path}: matches forbidden path {pattern}"));
            }
        }
    }
    let mut evidence = vec![format!(
        "checked {} against {}",
        count(files.len() as u64, "changed file"),
        count(globs.len() as u64, "glob")
    )];
    if findings.is_empty() {
        return Verdict { status: ReviewStatus::Passed, evidence, risks, next_step: None };
    }
    push_findings(&mut evidence, &findings);
    Verdict {
        status: ReviewStatus::Failed,
        evidence,
        risks,
        next_step: Some(
            "remove the changes to the forbidden paths from the change; the list is [review] \
             forbidden_paths in omk.toml"
                .to_owned(),
        ),
    }
}

/// Checks that the agent's last message does not claim success while a required gate failed.
pub(super) fn check_claims(final_message: Option<&str>, gates: &[&GateFinished]) -> Verdict {
    let Some(message) = final_message.filter(|it| !it.trim().is_empty()) else {
        return Verdict::new(
            ReviewStatus::Passed,
            vec!["the agent left no final message".to_owned()],
        );
    };
    let claim = message
        .lines()
        .find(|line| CLAIMS.iter().any(|regex| regex.is_match(line)))
        .map(|line| truncate(line.trim(), 120));
    let Some(claim) = claim else {
        return Verdict::new(
            ReviewStatus::Passed,
            vec!["the final message claims no success".to_owned()],
        );
    };
    let failed: Vec<String> = gates
        .iter()
        .filter(|gate| gate.required)
        .filter_map(|gate| {
            gate.failure().map(|why| format!("required gate {} failed: {why}", gate.name))
        })
        .collect();
    let mut evidence = vec![format!("the final message claims: {claim:?}")];
    if failed.is_empty() {
        let mut verdict = Verdict::new(ReviewStatus::Passed, evidence);
        if gates.iter().any(|gate| gate.required) {
            verdict.evidence.push("every required gate passed".to_owned());
        } else {
            verdict.risks.push("no required gate ran, so the claim is unchecked".to_owned());
        }
        return verdict;
    }
    push_findings(&mut evidence, &failed);
    Verdict {
        status: ReviewStatus::Failed,
        evidence,
        risks: vec!["the agent reports success that omk's own gates contradict".to_owned()],
        next_step: Some(
            "do not trust the agent's summary: read the failed gates' logs and fix the change"
                .to_owned(),
        ),
    }
}

/// Checks that every oracle gate ran on the tree and passed.
pub(super) fn check_oracle(oracle: &[String], gates: &[&GateFinished], kind: GoalKind) -> Verdict {
    if oracle.is_empty() {
        return match kind {
            GoalKind::Docs | GoalKind::Chore => Verdict::new(
                ReviewStatus::Passed,
                vec![format!("a {kind} goal needs no oracle gate")],
            ),
            GoalKind::Feature
            | GoalKind::Bugfix
            | GoalKind::Refactor
            | GoalKind::Rewrite
            | GoalKind::Test => Verdict {
                status: ReviewStatus::Blocked,
                evidence: vec![format!("no oracle gate proves this {kind} goal")],
                risks: vec!["nothing but review shows the change does what was asked".to_owned()],
                next_step: Some(format!(
                    "add a test gate to omk.toml ([[gates]] with kind = \"test\") or list the \
                     gates that prove a {kind} goal in [oracle] {kind}"
                )),
            },
        };
    }
    let mut evidence = Vec::new();
    let mut next_steps = Vec::new();
    for name in oracle {
        // The last result of a gate is the one that speaks for the tree.
        match gates.iter().rev().find(|gate| gate.name == *name) {
            None => {
                evidence.push(format!("oracle gate {name} did not run"));
                next_steps.push(format!("add a gate named {name} to omk.toml ([[gates]])"));
            }
            Some(gate) => match gate.failure() {
                None => evidence.push(format!("oracle gate {name} passed")),
                Some(why) => {
                    evidence.push(format!("oracle gate {name} failed: {why}"));
                    next_steps.push(format!("fix the change so that gate {name} passes ({why})"));
                }
            },
        }
    }
    if next_steps.is_empty() {
        return Verdict::new(ReviewStatus::Passed, evidence);
    }
    Verdict {
        status: ReviewStatus::Failed,
        evidence,
        risks: Vec::new(),
        next_step: Some(next_steps.join("; ")),
    }
}

/// Skip markers of the test frameworks omk knows; `iter().skip(1)` is not one.
static SKIP_MARKERS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    regexes(&[
        concat!(r"#\[", r"ignore\b"),
        r"\b(?:it|describe|test|context|suite)\.skip\s*\(",
        r"\b(?:xit|xdescribe|xtest)\s*\(",
        r"@pytest\.mark\.skip(?:if)?\b",
        r"\bpytest\.skip\s*\(",
        r"@unittest\.skip(?:If|Unless)?\b",
        r"\bself\.skipTest\s*\(",
        r"\bt\.Skip(?:Now|f)?\s*\(",
        r"@(?:Disabled|Ignore)\b",
    ])
});

/// Assertions; Rust's `.expect(` on a `Result` is not one, Jest's `expect(` is.
static ASSERTIONS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    regexes(&[
        r"\b(?:debug_)?assert\w*\s*(?:!\s*)?\(",
        r"^\s*assert\s",
        r"\bassert\.\w+\s*\(",
        r"(?:^|[^.\w])expect\s*\(",
        r"\.should\b",
    ])
});

/// Phrases with which an agent claims success.
static CLAIMS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    regexes(&[
        r"(?i)\b(?:all\s+)?tests?\s+(?:now\s+)?pass(?:es|ed|ing)?\b",
        r"(?i)\b(?:fixed|done|completed|resolved|implemented)\b",
        r"(?i)\bsuccessfully\b",
        r"(?i)\b(?:works|working)\s+now\b|\bnow\s+works\b",
        "\u{2705}",
    ])
});

fn regexes(patterns: &[&str]) -> Vec<Regex> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).expect("the review patterns are literals tested in review::tests")
        })
        .collect()
}

/// Returns whether `line` is a comment in the common languages, so markers in it do nothing.
fn is_comment(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("//")
        || line.starts_with("/*")
        || line.starts_with('*')
        || line.starts_with("--")
        || (line.starts_with('#') && !line.starts_with("#["))
}

/// Returns the path a file had before the change.
fn old_path(file: &FileDiff) -> &str {
    match &file.status {
        ChangeStatus::Renamed { from } => from,
        _ => &file.path,
    }
}
