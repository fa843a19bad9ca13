//! Log anchors: the digest of a goal's log (event count and head hash) kept outside `.omk/`,
//! so that a log cut short after the fact no longer matches what omk recorded.
//!
//! Every time omk writes a goal's `proof.json` (a run's end, an acceptance, a rejection, a
//! cancel, a budget change), it first appends the log's digest to the blob that the reference
//! `refs/omk/anchors/<goal-id>` names, replacing the reference with compare-and-swap. A ref per
//! goal rather than a git note: it needs no commit to hang on (a goal that failed before
//! committing is anchored too), two goals never contend for it, `omk worktree gc` and the
//! deletion of a goal's branch leave it alone, and writing it writes one blob and moves one
//! ref, never a checkout's files, index or `HEAD`.
//!
//! The blob is text, one anchor a line after a header:
//!
//! ```text
//! omk-log-anchors 1
//! <events> <head hash> <proof status> <time of the last event>
//! ```

use std::{
    fmt::{self, Write as _},
    path::Path,
};

use omk_events::GoalId;
use omk_proof::Proof;
use omk_worktree::Repo;

use crate::error::Error;

/// The prefix of every goal's anchor reference.
pub const ANCHOR_REF_PREFIX: &str = "refs/omk/anchors/";

/// The first line of an anchor blob.
const HEADER: &str = "omk-log-anchors 1";

/// How often a compare-and-swap that lost to another writer is tried again.
const CAS_ATTEMPTS: usize = 64;

/// One recorded digest of a goal's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// How many events the log had.
    pub events: u64,
    /// The hash of its last event, 64 hex digits.
    pub head: String,
    /// The proof's status when the anchor was written, such as `awaiting_acceptance`.
    pub status: String,
    /// The time of the log's last event then, RFC 3339.
    pub at: String,
}

impl Anchor {
    /// Returns the anchor of the log `proof` was folded from; `None` for a log without a hash
    /// chain (format 1.0), which has no head to anchor.
    pub fn of_proof(proof: &Proof) -> Option<Self> {
        Some(Self {
            events: proof.task.events,
            head: proof.task.log_head.clone()?,
            status: proof.status.to_string().replace(' ', "_"),
            at: proof.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.events, self.head, self.status, self.at)
    }
}

/// Returns the name of `goal`'s anchor reference.
pub fn anchor_ref(goal: &GoalId) -> String {
    format!("{ANCHOR_REF_PREFIX}{goal}")
}

/// Appends the digest of the log `proof` was folded from to `goal`'s anchors; a log without a
/// hash chain is not anchored.
pub(crate) fn anchor_log(repo: &Repo, goal: &GoalId, proof: &Proof) -> Result<(), Error> {
    match Anchor::of_proof(proof) {
        Some(anchor) => append_anchor(&repo.root, goal, &anchor),
        None => Ok(()),
    }
}

/// Appends `anchor` to the anchors of `goal` in the repository at `repo_root`, unless the last
/// anchor already is `anchor`.
///
/// The reference moves with compare-and-swap: a writer that moved it first is read back and
/// `anchor` appended after its own, so concurrent writers never lose each other's anchor.
pub fn append_anchor(repo_root: &Path, goal: &GoalId, anchor: &Anchor) -> Result<(), Error> {
    let repo = omk_worktree::open(repo_root)?;
    let name = anchor_ref(goal);
    let mut attempt = 0;
    loop {
        let current = omk_worktree::read_blob_ref(&repo, &name)?;
        let text = current
            .as_ref()
            .map(|it| String::from_utf8_lossy(&it.content).into_owned())
            .unwrap_or_else(|| format!("{HEADER}\n"));
        if text.lines().last().is_some_and(|line| parse_line(line).as_ref() == Some(anchor)) {
            return Ok(());
        }
        let mut updated = text;
        if !updated.ends_with('\n') {
            updated.push('\n');
        }
        writeln!(updated, "{anchor}").ok();
        let expected = current.as_ref().map(|it| it.id.as_str());
        let message = format!("omk: anchor goal {goal}'s log at {} events", anchor.events);
        match omk_worktree::write_blob_ref(&repo, &name, expected, updated.as_bytes(), &message) {
            Ok(_) => return Ok(()),
            Err(omk_worktree::Error::RefMoved { .. }) if attempt + 1 < CAS_ATTEMPTS => attempt += 1,
            Err(err) => return Err(err.into()),
        }
    }
}

/// What a goal's anchor reference holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Anchors {
    /// There is no anchor reference.
    Missing,
    /// The reference holds something that is not omk's anchors; the text says what.
    Unreadable(String),
    /// The anchors, oldest first.
    Found(Vec<Anchor>),
}

/// Reads `goal`'s anchors.
pub(crate) fn read_anchors(repo: &Repo, goal: &GoalId) -> Result<Anchors, Error> {
    let name = anchor_ref(goal);
    let blob = match omk_worktree::read_blob_ref(repo, &name) {
        Ok(Some(blob)) => blob,
        Ok(None) => return Ok(Anchors::Missing),
        Err(omk_worktree::Error::InvalidName { problem, .. }) => {
            return Ok(Anchors::Unreadable(problem));
        }
        Err(err) => return Err(err.into()),
    };
    let text = String::from_utf8_lossy(&blob.content);
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(Anchors::Unreadable(format!("its first line is not {HEADER:?}")));
    }
    let mut anchors = Vec::new();
    for (idx, line) in lines.enumerate() {
        match parse_line(line) {
            Some(anchor) => anchors.push(anchor),
            None => {
                return Ok(Anchors::Unreadable(format!(
                    "line {} is not `<events> <head> <status> <time>`: {line:?}",
                    idx + 2
                )));
            }
        }
    }
    Ok(Anchors::Found(anchors))
}

/// Parses one anchor line.
fn parse_line(line: &str) -> Option<Anchor> {
    let mut words = line.split(' ');
    let events = words.next()?.parse().ok()?;
    let head = words.next()?;
    let valid = head.len() == 64 && head.bytes().all(|it| matches!(it, b'0'..=b'9' | b'a'..=b'f'));
    let (status, at) = (words.next()?, words.next()?);
    (valid && words.next().is_none()).then(|| Anchor {
        events,
        head: head.to_owned(),
        status: status.to_owned(),
        at: at.to_owned(),
    })
}

/// Parses the log digest an acceptance's git note records (`log-events:` and `log-head:`
/// lines); `None` when the note has none (a note from an omk before anchors).
pub(crate) fn parse_note(note: &str) -> Option<(u64, String)> {
    let value = |key: &str| {
        note.lines().find_map(|line| line.strip_prefix(key).map(|it| it.trim().to_owned()))
    };
    Some((value("log-events:")?.parse().ok()?, value("log-head:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_lines_round_trip_and_bad_lines_are_refused() {
        let head = "ab".repeat(32);
        let anchor = Anchor {
            events: 12,
            head: head.clone(),
            status: "awaiting_acceptance".to_owned(),
            at: "2026-11-21T20:00:00.000Z".to_owned(),
        };
        assert_eq!(parse_line(&anchor.to_string()), Some(anchor));
        assert_eq!(parse_line(&format!("x {head} s t")), None);
        assert_eq!(parse_line(&format!("12 {} s t", "AB".repeat(32))), None);
        assert_eq!(parse_line(&format!("12 {head} s t extra")), None);
        assert_eq!(parse_line("12"), None);
        assert_eq!(
            parse_note(&format!("omk-goal: g\nlog-events: 7\nlog-head: {head}\n")),
            Some((7, head))
        );
        assert_eq!(parse_note("omk-goal: g\nstatus: ready\n"), None);
    }
}
