//! The anchor checks of `omk proof verify`: the log's end against every digest of it that omk
//! recorded outside `.omk/` (the goal's anchor reference, an acceptance's git note, a signed
//! bundle's verdict).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    path::Path,
};

use omk_attest::{Check, CheckStatus};
use omk_events::{EventHash, GoalId, short_id};
use omk_worktree::Repo;

use crate::{
    anchor::{Anchors, anchor_ref, parse_note, read_anchors},
    error::Error,
    layout::GoalPaths,
    run::accept_step::NOTES_REF,
};

/// The log as one verified pass saw it: how many events, and the hash of each event whose
/// position an anchor names.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogEnd {
    /// The number of events.
    pub events: u64,
    /// The hash of the event at each wanted position (1-based, as `seq`).
    pub hashes: BTreeMap<u64, EventHash>,
}

/// The goal's anchors as read before the log, so one pass over the log can collect the hashes
/// they name.
#[derive(Debug, Clone)]
pub(crate) struct GoalAnchors {
    goal: GoalId,
    anchors: Anchors,
}

impl GoalAnchors {
    /// Reads the anchors of `goal` from the repository.
    pub(crate) fn read(repo: &Repo, goal: &GoalId) -> Result<Self, Error> {
        Ok(Self { goal: goal.clone(), anchors: read_anchors(repo, goal)? })
    }

    /// Returns the positions of the log whose hashes the anchors name.
    pub(crate) fn wanted(&self) -> BTreeSet<u64> {
        match &self.anchors {
            Anchors::Found(anchors) => anchors.iter().map(|it| it.events).collect(),
            Anchors::Missing | Anchors::Unreadable(_) => BTreeSet::new(),
        }
    }

    /// Returns the check of the anchor reference against the log's end.
    pub(crate) fn check(&self, log: &LogEnd) -> Check {
        let name = format!("anchor {}", anchor_ref(&self.goal));
        let anchors = match &self.anchors {
            Anchors::Missing | Anchors::Found(_) if self.is_empty() => {
                return Check::new(
                    name,
                    CheckStatus::Warning,
                    "missing: the goal was run by an omk that did not anchor its log, or the reference was deleted, so a log cut short after its last proof cannot be told from a whole one".to_owned(),
                );
            }
            Anchors::Unreadable(problem) => {
                return Check::new(
                    name,
                    CheckStatus::Failed,
                    format!("the reference does not hold omk's log anchors: {problem}"),
                );
            }
            Anchors::Missing => Vec::new(),
            Anchors::Found(anchors) => anchors.clone(),
        };
        let total = anchors.len();
        for (idx, anchor) in anchors.iter().enumerate() {
            let which = format!(
                "anchor {} of {total} (written when the proof was {}, at {})",
                idx + 1,
                anchor.status,
                anchor.at
            );
            if let Some(problem) = disagreement(anchor.events, &anchor.head, log) {
                return Check::new(name, CheckStatus::Failed, format!("{which} {problem}"));
            }
        }
        let latest = anchors.last().map(|it| (it.events, it.head.as_str(), it.status.as_str()));
        let (events, head, status) = latest.unwrap_or((0, "", ""));
        let mut message = format!(
            "{total} {} the log; the latest: {events} events, head {}, when the proof was {status}",
            if total == 1 { "anchor matches" } else { "anchors match" },
            short_id(head)
        );
        if log.events > events {
            write!(
                message,
                "; the log's last {} event(s) came after it and are not anchored",
                log.events - events
            )
            .ok();
            return Check::new(name, CheckStatus::Warning, message);
        }
        Check::new(name, CheckStatus::Passed, message)
    }

    fn is_empty(&self) -> bool {
        match &self.anchors {
            Anchors::Missing => true,
            Anchors::Found(anchors) => anchors.is_empty(),
            Anchors::Unreadable(_) => false,
        }
    }
}

/// Returns the check of the digest an acceptance's git note records on the merge commit
/// `commit`; `None` when the commit has no note (it was removed, or written by another tool).
pub(crate) fn check_note(
    repo: &Repo,
    events_path: &Path,
    commit: &str,
    log: &LogEnd,
) -> Result<Option<Check>, Error> {
    let name = format!("anchor {NOTES_REF} on {}", short_id(commit));
    let Some(note) = omk_worktree::read_note(repo, commit, NOTES_REF)? else {
        return Ok(Some(Check::new(
            name,
            CheckStatus::Warning,
            "missing: the merge commit has no omk note (it was removed, or the notes were not fetched)".to_owned(),
        )));
    };
    let Some((events, head)) = parse_note(&note) else {
        return Ok(Some(Check::new(
            name,
            CheckStatus::Warning,
            "the note records no log digest: it was written by an omk that did not anchor its log"
                .to_owned(),
        )));
    };
    let mut log = log.clone();
    if events <= log.events && !log.hashes.contains_key(&events) {
        log.hashes.extend(hashes_at(events_path, &BTreeSet::from([events]))?);
    }
    Ok(Some(match disagreement(events, &head, &log) {
        Some(problem) => Check::new(name, CheckStatus::Failed, format!("the note {problem}")),
        None => Check::new(
            name,
            CheckStatus::Passed,
            format!(
                "the acceptance's note records {events} events, head {}, as the log has",
                short_id(&head)
            ),
        ),
    }))
}

/// Returns the checks of the log digest a signed bundle's verdict records (`events` events
/// ending in `head`) against the goal's log, and of the log against its anchors, so that a
/// bundle signed over a log cut short fails too.
pub fn check_bundle_log(paths: &GoalPaths, events: u64, head: &str) -> Result<Vec<Check>, Error> {
    let repo = omk_worktree::open(&paths.repo_root)?;
    let anchors = GoalAnchors::read(&repo, &paths.goal_id)?;
    let mut wanted = anchors.wanted();
    wanted.insert(events);
    let (count, hashes) = match read_log_end(&paths.events, &wanted) {
        Ok(read) => read,
        Err(err) => {
            return Ok(vec![Check::new(
                "log",
                CheckStatus::Failed,
                format!(
                    "the goal's log does not verify, so the bundle's log digest cannot be compared with it: {}",
                    crate::error_chain(&err)
                ),
            )]);
        }
    };
    let log = LogEnd { events: count, hashes };
    let bundle = match disagreement(events, head, &log) {
        Some(problem) => {
            Check::new("log", CheckStatus::Failed, format!("the bundle's verdict {problem}"))
        }
        None if count > events => Check::new(
            "log",
            CheckStatus::Warning,
            format!(
                "the bundle's verdict records {events} events, head {}; the log has {} more since, which the bundle does not speak for",
                short_id(head),
                count - events
            ),
        ),
        None => Check::new(
            "log",
            CheckStatus::Passed,
            format!(
                "the bundle's verdict records {events} events, head {}, as the log has",
                short_id(head)
            ),
        ),
    };
    Ok(vec![bundle, anchors.check(&log)])
}

/// Returns how an anchor of `events` events ending in `head` disagrees with the log, as the
/// end of a sentence; `None` when the log holds it.
pub(crate) fn disagreement(events: u64, head: &str, log: &LogEnd) -> Option<String> {
    if events > log.events {
        return Some(format!(
            "records {events} events ending in {}; the log has {}: its last {} event(s) were removed",
            short_id(head),
            log.events,
            events - log.events
        ));
    }
    let found = log.hashes.get(&events).map(ToString::to_string);
    match found {
        Some(found) if found == head => None,
        found => Some(format!(
            "records event {events} with hash {}; the log's event {events} has hash {}: the log was rewritten",
            short_id(head),
            found.as_deref().map_or("(none)", short_id)
        )),
    }
}

/// Reads the log once, without folding it: its event count and the hashes at `wanted`.
pub(crate) fn read_log_end(
    path: &Path,
    wanted: &BTreeSet<u64>,
) -> Result<(u64, BTreeMap<u64, EventHash>), Error> {
    let mut count = 0;
    let mut hashes = BTreeMap::new();
    for envelope in omk_events::LogReader::open(path)?.parallel_if_long() {
        let envelope = envelope?;
        count += 1;
        if let (true, Some(hash)) = (wanted.contains(&count), envelope.hash) {
            hashes.insert(count, hash);
        }
    }
    Ok((count, hashes))
}

/// Returns the hashes of the log's events at `wanted`.
fn hashes_at(path: &Path, wanted: &BTreeSet<u64>) -> Result<BTreeMap<u64, EventHash>, Error> {
    Ok(read_log_end(path, wanted)?.1)
}
