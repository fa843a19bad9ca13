//! Where a fetched goal ran: `origin.json`, written into the evidence commit by `omk push` and
//! into the goal's directory by `omk fetch`.
//!
//! A goal directory with `origin.json` is a fetched goal: its log, proof and artifacts came from
//! another machine, and no run of it happened here. A goal directory without one ran here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{layout::GoalPaths, remote::error::RemoteError};

/// The format of `origin.json` this omk writes and reads.
pub const ORIGIN_FORMAT: u32 = 1;

/// The machine and time a goal's evidence was pushed from: the parsed `origin.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The file's format, [`ORIGIN_FORMAT`].
    pub format: u32,
    /// The goal's id.
    pub goal: String,
    /// The host name of the machine that ran and pushed the goal (`OMK_HOST` overrides it).
    pub host: String,
    /// Who pushed it: `$USER`, else git's `user.name`.
    pub user: String,
    /// When it was pushed, from the pushing omk's clock.
    pub pushed_at: DateTime<Utc>,
    /// The version of the omk that pushed it.
    pub omk_version: String,
    /// The proof's readiness when it was pushed, such as `awaiting_acceptance`.
    pub readiness: String,
    /// The remote it was fetched from; only in a fetched goal's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// The evidence commit it was fetched from; only in a fetched goal's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// How many events the log had when it was fetched; only in a fetched goal's directory
    /// (absent in one an older omk fetched). Events after them were recorded here; events
    /// before them came with the evidence, whatever they record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_events: Option<u64>,
}

impl Origin {
    /// Returns the file's bytes: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .expect("an origin serializes: it is plain data with string keys");
        text.push('\n');
        text
    }

    /// Parses `origin.json`'s bytes; `goal` is the goal it must name.
    pub fn parse(bytes: &[u8], goal: &str) -> Result<Self, String> {
        let origin: Self = serde_json::from_slice(bytes).map_err(|err| err.to_string())?;
        if origin.format != ORIGIN_FORMAT {
            return Err(format!(
                "it has format {}; this omk reads format {ORIGIN_FORMAT}, so upgrade omk",
                origin.format
            ));
        }
        if origin.goal != goal {
            return Err(format!("it names goal {}, not goal {goal}", origin.goal));
        }
        Ok(origin)
    }
}

/// Returns the origin of the goal at `paths`: `None` for a goal that ran here (no
/// `origin.json`), an error naming the file when it cannot be read or parsed.
pub fn read_origin(paths: &GoalPaths) -> Result<Option<Origin>, crate::Error> {
    let path = paths.origin();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(RemoteError::ReadOrigin { path, source }.into()),
    };
    Origin::parse(&bytes, paths.goal_id.as_str())
        .map(Some)
        .map_err(|problem| RemoteError::BadOrigin { path, problem }.into())
}

/// Refuses `verb` (such as `resume`) on a fetched goal, whose log is another machine's evidence:
/// appending to it here would make it differ from what that machine pushed.
pub(crate) fn refuse_fetched(paths: &GoalPaths, verb: &'static str) -> Result<(), crate::Error> {
    match read_origin(paths)? {
        Some(origin) => Err(RemoteError::FetchedLog {
            verb,
            goal: paths.goal_id.to_string(),
            host: origin.host,
        }
        .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            format: ORIGIN_FORMAT,
            goal: "20261121-200000-abcdef".to_owned(),
            host: "ci-7".to_owned(),
            user: "runner".to_owned(),
            pushed_at: "2026-11-21T20:00:00Z".parse().expect("a valid time"),
            omk_version: "0.1.0".to_owned(),
            readiness: "awaiting_acceptance".to_owned(),
            remote: None,
            evidence: None,
            fetched_events: None,
        }
    }

    #[test]
    fn origin_round_trips_and_refuses_another_format_or_goal() {
        let text = origin().to_json();
        assert!(text.contains("\"pushed_at\": \"2026-11-21T20:00:00Z\""), "{text}");
        assert!(!text.contains("remote"), "{text}");
        assert_eq!(Origin::parse(text.as_bytes(), "20261121-200000-abcdef"), Ok(origin()));
        let fetched = Origin { remote: Some("origin".to_owned()), ..origin() };
        assert_eq!(
            Origin::parse(fetched.to_json().as_bytes(), "20261121-200000-abcdef"),
            Ok(fetched)
        );
        let newer = text.replace("\"format\": 1", "\"format\": 2");
        let err = Origin::parse(newer.as_bytes(), "20261121-200000-abcdef").unwrap_err();
        assert!(err.contains("format 2"), "{err}");
        let err = Origin::parse(text.as_bytes(), "20261121-200000-000000").unwrap_err();
        assert!(err.contains("not goal 20261121-200000-000000"), "{err}");
        assert!(Origin::parse(b"{", "x").is_err());
    }
}
