//! The HTML report of a goal: one self-contained page with the verdict, the readiness ladder,
//! an SVG timeline of the run, and every gate, change, review and decision behind the proof.
//!
//! [`render_html`] is a pure function of what [`ReportContext`] holds (the proof, the events
//! it was folded from, the artifacts' contents the caller read, and the checks of the log's
//! anchors and signature), so the same inputs give the same bytes. The page needs no network
//! and runs no script: its styles are inline, a Content-Security-Policy forbids everything
//! else, collapsible parts are `<details>` elements, and every text from the proof, the log or
//! an artifact is escaped.

mod lanes;
mod markup;
mod sections;
mod style;
mod team;
mod timeline;
mod verdict;

use std::{collections::BTreeMap, fmt::Write as _};

use omk_events::Envelope;

use crate::model::Proof;

use self::markup::escape;

/// What the HTML report is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// The proof, as folded from `events`.
    pub proof: &'a Proof,
    /// The goal's events, in log order.
    pub events: &'a [Envelope],
    /// The contents of the artifacts the proof names, by their path relative to the goal
    /// directory (`ArtifactRef::path`); an artifact that is not here is shown by name only.
    pub artifacts: &'a BTreeMap<String, ArtifactContent>,
    /// The checks of where the log is anchored and signed, as the caller made them.
    pub checks: &'a [ReportCheck],
}

/// What the caller could read of one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactContent {
    /// The file's text, or the part of it kept.
    Text(ArtifactText),
    /// The file's bytes do not match the SHA-256 the proof names: its text is not shown, since
    /// it is not what the proof speaks for.
    Altered {
        /// The SHA-256 of the bytes found.
        sha256: String,
    },
    /// The file could not be read.
    Unreadable {
        /// Why, in a sentence.
        reason: String,
    },
}

/// The text of an artifact, whole or cut to a size the page can hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactText {
    /// The text kept, lossily decoded as UTF-8.
    pub text: String,
    /// Bytes left out before `text` (a log keeps its end).
    pub omitted_before: u64,
    /// Bytes left out after `text` (a diff keeps its start).
    pub omitted_after: u64,
}

/// One check of the log's anchors or of a signed export, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportCheck {
    /// What was checked: `log`, `anchor refs/omk/anchors/<goal>`, `bundle`, ...
    pub name: String,
    /// The verdict.
    pub status: ReportCheckStatus,
    /// What was found.
    pub message: String,
}

/// The verdict of a [`ReportCheck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportCheckStatus {
    /// The check holds.
    Passed,
    /// Something is missing or weaker than it should be.
    Warning,
    /// The check does not hold.
    Failed,
    /// The check was not made.
    Skipped,
}

impl ReportCheckStatus {
    fn word(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Warning => "warning",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Passed => "good",
            Self::Warning | Self::Skipped => "wait",
            Self::Failed => "bad",
        }
    }
}

/// Returns the goal's report as one self-contained HTML page.
///
/// The page holds, in order: the verdict (status, readiness rung, why, the next command) with
/// the whole readiness ladder; a timeline of the run drawn as SVG; the gates with their
/// commands, counts and outputs; the changed files with their diffs; a team goal's slices and
/// merge queue; the review sections, the budget, the approvals, the integration; the
/// anchor and signature checks; and the known gaps. The same context gives the same bytes.
pub fn render_html(ctx: &ReportContext<'_>) -> String {
    let proof = ctx.proof;
    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\n",
    );
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    page.push_str("<meta name=\"generator\" content=\"omk\">\n");
    let _ = writeln!(
        page,
        "<title>omk proof · {} · {}</title>",
        escape(proof.goal_id.as_str()),
        escape(proof.status.as_str())
    );
    let _ = writeln!(page, "<style>{}</style>", style::CSS);
    page.push_str("</head>\n<body>\n<main>\n");
    page.push_str(&verdict::header(proof));
    page.push_str(&verdict::verdict(proof));
    page.push_str(&timeline::timeline(ctx));
    page.push_str(&sections::gaps(proof));
    page.push_str(&sections::gates(ctx));
    page.push_str(&sections::changed_files(ctx));
    if let Some(team) = &proof.team {
        page.push_str(&team::team(team, ctx.artifacts));
    }
    page.push_str(&sections::reviews(proof));
    page.push_str(&sections::agent(proof));
    page.push_str(&sections::budget(proof));
    page.push_str(&sections::approvals(proof));
    page.push_str(&sections::integration(proof));
    page.push_str(&sections::seal(proof, ctx.checks));
    page.push_str(&sections::footer(proof));
    page.push_str("</main>\n</body>\n</html>\n");
    page
}
