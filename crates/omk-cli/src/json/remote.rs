//! The documents of `omk push` and `omk fetch`.

use serde::Serialize;

use crate::json::OriginDocument;

/// `omk push` (and the push of `omk run --push`, on stderr's side: its text only).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct PushDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The goal.
    pub(crate) goal_id: &'a str,
    /// The remote pushed to.
    pub(crate) remote: &'a str,
    /// The evidence commit, now `refs/omk/goals/<goal-id>` here and on the remote.
    pub(crate) evidence: &'a str,
    /// The evidence commit it follows (an earlier push of the goal).
    pub(crate) previous: Option<&'a str>,
    /// Whether this push wrote a new evidence commit (not when nothing changed).
    pub(crate) new_commit: bool,
    /// The files in the evidence tree.
    pub(crate) files: usize,
    /// Their bytes.
    pub(crate) bytes: u64,
    /// The in-toto bundle: `included`, `missing` or `stale` (exported for an earlier log, so
    /// left out: re-sign with --sign-key).
    pub(crate) bundle: &'static str,
    /// Whether git pushed atomically.
    pub(crate) atomic: bool,
    /// Each reference git pushed, with its summary.
    pub(crate) refs: Vec<PushedRefDocument<'a>>,
    /// References not pushed, with why.
    pub(crate) skipped: Vec<SkippedRefDocument<'a>>,
    /// The origin recorded in the evidence.
    pub(crate) origin: OriginDocument<'a>,
}

/// One reference of a push.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct PushedRefDocument<'a> {
    /// The remote reference.
    pub(crate) name: &'a str,
    /// git's summary, such as `[new reference]`, `[up to date]` or `abc..def`.
    pub(crate) summary: &'a str,
}

/// A reference a push left out.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct SkippedRefDocument<'a> {
    /// The reference.
    pub(crate) name: &'a str,
    /// Why.
    pub(crate) reason: &'a str,
}

/// `omk fetch`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct FetchDocument<'a> {
    /// The version of this document's shape.
    pub(crate) schema_version: u32,
    /// The remote fetched from.
    pub(crate) remote: &'a str,
    /// `refs/notes/omk`, the acceptance notes: `set` (absent here), `updated` (moved forward),
    /// `same`, `left_alone` (diverged) or `skipped` (the remote has none).
    pub(crate) notes: &'static str,
    /// Every goal the remote holds.
    pub(crate) goals: Vec<FetchedGoalDocument<'a>>,
}

/// One goal `omk fetch` found.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct FetchedGoalDocument<'a> {
    /// The goal's id.
    pub(crate) goal_id: &'a str,
    /// Its evidence commit on the remote.
    pub(crate) evidence: &'a str,
    /// `added`, `updated`, `unchanged`, `local_run` (it ran in this clone: left alone),
    /// `local_events` (its log here has events the remote's does not, such as an acceptance
    /// recorded in this clone: left alone) or `invalid`.
    pub(crate) outcome: &'static str,
    /// Why the evidence is invalid, for `invalid`.
    pub(crate) problem: Option<&'a str>,
    /// The branch `omk/<goal-id>`: `set`, `same`, `updated`, `left_alone` (it differs here) or
    /// `skipped`.
    pub(crate) branch: &'static str,
    /// The anchors `refs/omk/anchors/<goal-id>`, in the same words.
    pub(crate) anchors: &'static str,
    /// Where it ran, when its evidence says.
    pub(crate) origin: Option<OriginDocument<'a>>,
}
