//! Checking a goal's proof: `omk proof rebuild` and `omk proof verify`.
//!
//! A proof is verified when the log's hash chain holds, every artifact the proof names has the
//! digest the log recorded, `proof.json` is byte for byte the fold of the log, and the recorded
//! tree is the one on the goal's branch, and the log's end matches every anchor of it omk
//! recorded outside `.omk/` (`check/anchors.rs`): a log cut short and folded again into
//! `proof.json` still disagrees with them. A signed bundle beside the log is checked against
//! the keys `[trust]` lists and against the log (`check/trust.rs`); a fetched goal must have one
//! when a signature is required. With a rerun, every proposed gate also runs again on
//! that tree, in a scratch worktree, and must give the recorded outcome and test counts.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    fs, io,
    path::{Component, Path},
};

use omk_attest::{Check, CheckStatus};
use omk_config::ConfigEnv;
use omk_events::{ArtifactRef, GoalId, short_id};
use omk_proof::Proof;
use omk_worktree::Repo;

use crate::{
    check::{
        anchors::{GoalAnchors, LogEnd},
        trust::{Against, GoalBundle, Trust, check_bundle, is_fetched},
    },
    error::Error,
    layout::{EXCLUDE_PATTERN, GoalPaths},
};

/// What [`verify_goal`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The goal.
    pub goal_id: GoalId,
    /// Every check, in the order made.
    pub checks: Vec<Check>,
}

impl Verification {
    /// Returns whether no check failed.
    pub fn verified(&self) -> bool {
        self.checks.iter().all(|it| it.status != CheckStatus::Failed)
    }
}

/// How to re-run the gates; see [`verify_goal`].
#[derive(Debug, Clone, Copy)]
pub struct RerunOptions<'a> {
    /// The environment the gates run with; `PATH` in it also decides which gates are detected.
    pub gate_environment: &'a [(String, String)],
    /// How many gates run at once.
    pub max_parallel: usize,
    /// Where the user config is: the gates are read through the same layers as a run's.
    pub config: &'a ConfigEnv,
    /// The `omk` binary, which watches the gates it starts (omk-sandbox's watcher); `None`
    /// starts them directly, unconfined and unwatched.
    pub omk_binary: Option<&'a Path>,
}

/// What [`verify_goal`] checks beyond the files on disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// Re-run every proposed gate on the recorded tree; `None` to trust the recorded results.
    pub rerun: Option<RerunOptions<'a>>,
    /// The keys `[trust]` lists ([`load_trust`](crate::load_trust)), which the goal's signed
    /// bundle is checked against; `None` trusts no key and requires no signature.
    pub trust: Option<&'a Trust>,
}

/// The first place where `proof.json` and the fold of the log differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The 0-based byte offset of the first differing byte.
    pub byte: usize,
    /// The 1-based line of that byte.
    pub line: usize,
    /// The first JSON field whose value differs, as a path such as `gates[0].passed`, when
    /// the stored file is JSON.
    pub field: Option<String>,
    /// The stored value of that field, as compact JSON.
    pub stored: Option<String>,
    /// The value the log gives it, as compact JSON.
    pub rebuilt: Option<String>,
}

impl Difference {
    /// Returns the difference as a sentence naming the byte, line and field.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "proof.json differs from the fold of the log at byte {} (line {})",
            self.byte, self.line
        );
        match (&self.field, &self.stored, &self.rebuilt) {
            (Some(field), stored, rebuilt) => {
                let show = |it: &Option<String>| it.clone().unwrap_or_else(|| "nothing".to_owned());
                write!(
                    text,
                    ", field `{field}`: stored {}, the log gives {}",
                    show(stored),
                    show(rebuilt)
                )
                .ok();
            }
            (None, ..) => text.push_str(", and the stored file is not a proof's JSON"),
        }
        text
    }
}

/// What [`rebuild_proof`] found.
#[derive(Debug, Clone)]
pub struct Rebuild {
    /// The proof folded from the log.
    pub proof: Proof,
    /// Whether `proof.json` exists.
    pub stored: bool,
    /// The first difference between `proof.json` and the fold; `None` when they are equal or
    /// there is no `proof.json`.
    pub difference: Option<Difference>,
}

impl Rebuild {
    /// Returns whether `proof.json` exists and equals the fold of the log byte for byte.
    pub fn identical(&self) -> bool {
        self.stored && self.difference.is_none()
    }
}

/// Folds the goal's log into its proof and compares it with `proof.json`, byte for byte.
///
/// A log that does not verify is an [`Error::Log`] naming its line;
/// [`is_tampered_log`] tells it from a log that cannot be read.
pub fn rebuild_proof(paths: &GoalPaths) -> Result<Rebuild, Error> {
    let proof = crate::store::fold_log(&paths.events)?;
    let (stored, difference) = match fs::read(&paths.proof) {
        Ok(bytes) => (true, first_difference(&bytes, proof.to_json().as_bytes())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => (false, None),
        Err(source) => return Err(Error::ReadInput { path: paths.proof.clone(), source }),
    };
    Ok(Rebuild { proof, stored, difference })
}

/// Returns whether `error` says a log's lines were changed, removed or reordered after they
/// were written (rather than that the log cannot be read at all).
pub fn is_tampered_log(error: &Error) -> bool {
    use omk_events::Error as LogError;
    matches!(
        error,
        Error::Log(
            LogError::Parse { .. }
                | LogError::Tampered { .. }
                | LogError::ChainBroken { .. }
                | LogError::MixedChain { .. }
                | LogError::Sequence { .. }
                | LogError::GoalMismatch { .. }
        )
    )
}

/// Checks the goal's proof: the log's hash chain, the digest of every artifact the proof
/// names, `proof.json` against the fold of the log, the recorded tree against the goal's
/// branch and, with [`VerifyOptions::rerun`], every proposed gate run again on that tree.
///
/// Every finding is a [`Check`]; errors are for what stops checking (no repository, an
/// invalid `omk.toml` for a rerun, a scratch worktree that cannot be made or removed).
pub async fn verify_goal(
    paths: &GoalPaths,
    options: &VerifyOptions<'_>,
) -> Result<Verification, Error> {
    let mut checks = Vec::new();
    let repo = omk_worktree::open(&paths.repo_root)?;
    let fetched = is_fetched(paths);
    if fetched {
        // A clone that only fetched goals may never have run omk: `.omk/` stays out of its
        // `git status`, so a rerun's checkout check sees only what the gates write.
        omk_worktree::exclude(&repo, EXCLUDE_PATTERN)?;
    }
    // The anchors are read first, so the one pass over the log collects the hashes they name.
    let anchors = GoalAnchors::read(&repo, &paths.goal_id)?;
    let bundle = GoalBundle::read(paths)?;
    let mut wanted = anchors.wanted();
    wanted.extend(bundle.wanted());
    let mut log_end = None;
    // One pass over the log both checks every line and folds it.
    let (log_ok, folded) = match read_and_fold(&paths.events, &wanted)? {
        Ok(read) => match read.torn {
            Some(torn) => {
                checks.push(Check::new(
                    "log",
                    CheckStatus::Failed,
                    format!(
                        "line {} is cut short ({} bytes without a newline): the log was truncated or appended to by hand",
                        torn.line, torn.bytes
                    ),
                ));
                (false, None)
            }
            None => {
                let head = read.head.map(|it| format!(", head {}", it.short())).unwrap_or_default();
                checks.push(Check::new(
                    "log",
                    CheckStatus::Passed,
                    format!(
                        "{} events, every line matches its hash and chains to the one before{head}",
                        read.events
                    ),
                ));
                log_end = Some(read.end);
                (true, Some(read.proof))
            }
        },
        Err(err) => {
            checks.push(Check::new("log", CheckStatus::Failed, describe_log_error(paths, &err)));
            (false, None)
        }
    };
    let stored = match fs::read(&paths.proof) {
        Ok(bytes) => Some(bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(source) => return Err(Error::ReadInput { path: paths.proof.clone(), source }),
    };
    checks.push(match (&folded, &stored) {
        (_, None) => Check::new(
            "proof",
            CheckStatus::Failed,
            "proof.json is missing: the goal has not finished, or the file was removed; `omk resume` finishes a goal and writes it".to_owned(),
        ),
        (None, Some(_)) => Check::new(
            "proof",
            CheckStatus::Skipped,
            "the log does not verify, so there is no fold to compare proof.json with".to_owned(),
        ),
        (Some(proof), Some(bytes)) => {
            let json = proof.to_json();
            match first_difference(bytes, json.as_bytes()) {
                None => Check::new(
                    "proof",
                    CheckStatus::Passed,
                    format!("proof.json is the fold of the log, byte for byte ({} bytes)", json.len()),
                ),
                Some(difference) => Check::new("proof", CheckStatus::Failed, difference.describe()),
            }
        }
    });
    checks.extend(check_log_anchors(&repo, paths, &anchors, log_end.as_ref(), folded.as_ref())?);
    let no_trust = Trust::default();
    checks.extend(check_bundle(
        &bundle,
        &Against {
            paths,
            trust: options.trust.unwrap_or(&no_trust),
            fetched,
            log: log_end.as_ref(),
            proof: folded.as_ref(),
        },
    )?);
    // What the checks below compare with: the fold, else (the log being broken) the stored
    // proof, so that a tampered artifact is still named.
    let reference = folded.or_else(|| {
        stored.as_ref().and_then(|bytes| Proof::from_json(&String::from_utf8_lossy(bytes)).ok())
    });
    let Some(proof) = reference else {
        checks.push(Check::new(
            "artifacts",
            CheckStatus::Skipped,
            "neither the log nor proof.json gives a proof to check the artifacts of".to_owned(),
        ));
        return Ok(Verification { goal_id: paths.goal_id.clone(), checks });
    };
    checks.extend(check_artifacts(&paths.goal_dir, &proof.artifacts));
    checks.push(check_tree(&repo, &proof)?);
    if let Some(rerun) = &options.rerun {
        let trusted =
            log_ok && !(fetched && checks.iter().any(|it| it.status == CheckStatus::Failed));
        checks.extend(rerun_checks(paths, &repo, &proof, rerun, (log_ok, trusted)).await?);
    }
    Ok(Verification { goal_id: paths.goal_id.clone(), checks })
}

/// Returns the rerun's checks, or why it was skipped: `log_ok` when the log verifies, `trusted`
/// when it does and, for a fetched goal, every other check passed too.
async fn rerun_checks(
    paths: &GoalPaths,
    repo: &Repo,
    proof: &Proof,
    rerun: &RerunOptions<'_>,
    (log_ok, trusted): (bool, bool),
) -> Result<Vec<Check>, Error> {
    // A fetched goal's log names command lines from another machine (its `--gate`s, its gates'
    // recorded commands): they run here only once everything else verified.
    if trusted {
        return crate::check::rerun::rerun_gates(paths, repo, proof, rerun).await;
    }
    let why = if log_ok {
        "the fetched goal's evidence does not verify, so the commands its log names are not run here"
    } else {
        "the log does not verify, so its gates are not re-run"
    };
    Ok(vec![Check::new("rerun", CheckStatus::Skipped, why.to_owned())])
}

/// Returns the checks of the log's end against its anchors: the goal's anchor reference and,
/// once the change was merged, the acceptance's git note.
fn check_log_anchors(
    repo: &Repo,
    paths: &GoalPaths,
    anchors: &GoalAnchors,
    log_end: Option<&LogEnd>,
    proof: Option<&Proof>,
) -> Result<Vec<Check>, Error> {
    let Some(log_end) = log_end else {
        return Ok(vec![Check::new(
            "anchors",
            CheckStatus::Skipped,
            "the log does not verify, so its end is not compared with its anchors".to_owned(),
        )]);
    };
    let mut checks = vec![anchors.check(log_end)];
    let merge_commit =
        proof.and_then(|it| it.integration.as_ref()).and_then(|it| it.merge_commit.as_deref());
    if let Some(commit) = merge_commit {
        checks.extend(crate::check::anchors::check_note(repo, &paths.events, commit, log_end)?);
    }
    Ok(checks)
}

/// What one pass over a log that verifies gives.
struct LogRead {
    events: u64,
    end: LogEnd,
    head: Option<omk_events::EventHash>,
    torn: Option<omk_events::TornTail>,
    proof: Proof,
}

/// Reads the log at `path` once, checking every line and folding it into the proof; the inner
/// error is the first line that does not verify, the outer one a log the proof cannot be
/// synthesized from. The hashes of the events at `wanted` positions are kept.
fn read_and_fold(
    path: &Path,
    wanted: &BTreeSet<u64>,
) -> Result<Result<LogRead, omk_events::Error>, Error> {
    let mut reader = match omk_events::LogReader::open(path) {
        Ok(reader) => reader.parallel_if_long(),
        Err(err) => return Ok(Err(err)),
    };
    let mut synthesizer = omk_proof::Synthesizer::new();
    let (mut events, mut head) = (0, None);
    let mut hashes = BTreeMap::new();
    for envelope in reader.by_ref() {
        let envelope = match envelope {
            Ok(envelope) => envelope,
            Err(err) => return Ok(Err(err)),
        };
        events += 1;
        head = envelope.hash;
        if let (true, Some(hash)) = (wanted.contains(&events), head) {
            hashes.insert(events, hash);
        }
        synthesizer.apply(&envelope)?;
    }
    let torn = reader.torn_tail().cloned();
    let end = LogEnd { events, hashes };
    Ok(Ok(LogRead { events, end, head, torn, proof: synthesizer.finish()? }))
}

/// Returns the first difference between the stored proof `stored` and the fold `rebuilt`.
pub(crate) fn first_difference(stored: &[u8], rebuilt: &[u8]) -> Option<Difference> {
    let byte =
        stored.iter().zip(rebuilt).position(|(a, b)| a != b).or_else(|| {
            (stored.len() != rebuilt.len()).then_some(stored.len().min(rebuilt.len()))
        })?;
    let line = stored[..byte].iter().filter(|it| **it == b'\n').count() + 1;
    let mut difference = Difference { byte, line, field: None, stored: None, rebuilt: None };
    let parse = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).ok();
    if let (Some(old), Some(new)) = (parse(stored), parse(rebuilt)) {
        if let Some((field, old, new)) = first_field(&old, &new, String::new()) {
            difference.field =
                Some(if field.is_empty() { "(the whole proof)".to_owned() } else { field });
            difference.stored = old.map(|it| it.to_string());
            difference.rebuilt = new.map(|it| it.to_string());
        } else {
            // Same values, different bytes: whitespace or key order.
            difference.field = Some("(formatting)".to_owned());
        }
    }
    Some(difference)
}

type FieldDifference<'a> = (String, Option<&'a serde_json::Value>, Option<&'a serde_json::Value>);

/// Returns the path of the first field, in document order, whose values differ.
fn first_field<'a>(
    old: &'a serde_json::Value,
    new: &'a serde_json::Value,
    path: String,
) -> Option<FieldDifference<'a>> {
    use serde_json::Value;
    match (old, new) {
        (Value::Object(old_map), Value::Object(new_map)) => {
            for (key, old_value) in old_map {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match new_map.get(key) {
                    Some(new_value) => {
                        if let Some(found) = first_field(old_value, new_value, child) {
                            return Some(found);
                        }
                    }
                    None => return Some((child, Some(old_value), None)),
                }
            }
            new_map.iter().find(|(key, _)| !old_map.contains_key(*key)).map(|(key, value)| {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                (child, None, Some(value))
            })
        }
        (Value::Array(old_items), Value::Array(new_items)) => {
            for idx in 0..old_items.len().max(new_items.len()) {
                let child = format!("{path}[{idx}]");
                match (old_items.get(idx), new_items.get(idx)) {
                    (Some(a), Some(b)) => {
                        if let Some(found) = first_field(a, b, child) {
                            return Some(found);
                        }
                    }
                    (a, b) => return Some((child, a, b)),
                }
            }
            None
        }
        (a, b) if a == b => None,
        (a, b) => Some((path, Some(a), Some(b))),
    }
}

/// Returns a log error as a sentence naming the line and its event's kind, with the log's
/// path relative to the repository.
fn describe_log_error(paths: &GoalPaths, err: &omk_events::Error) -> String {
    use omk_events::Error as LogError;
    let kind_of = |line: u64| -> String {
        let text = fs::read(&paths.events).unwrap_or_default();
        let found = text
            .split(|it| *it == b'\n')
            .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX))
            .and_then(|it| serde_json::from_slice::<serde_json::Value>(it).ok())
            .and_then(|it| {
                it.pointer("/event/kind").and_then(|kind| kind.as_str().map(str::to_owned))
            });
        found.unwrap_or_else(|| "not valid JSON any more".to_owned())
    };
    match err {
        LogError::Tampered { line, .. } => format!(
            "event {line} ({}) does not match its hash: the log was edited at line {line}",
            kind_of(*line)
        ),
        LogError::ChainBroken { line, .. } => format!(
            "event {line} ({}) does not chain to the line before it: a line was replaced, inserted or removed before line {line}",
            kind_of(*line)
        ),
        LogError::Parse { line, .. } => format!(
            "event {line} ({}) does not parse any more: the log was edited at line {line} ({})",
            kind_of(*line),
            crate::error_chain(err).rsplit(": ").next().unwrap_or_default()
        ),
        other => {
            let text = crate::error_chain(other);
            let relative = relative(paths, &paths.events);
            text.replace(&paths.events.display().to_string(), &relative)
        }
    }
}

pub(crate) fn relative(paths: &GoalPaths, path: &Path) -> String {
    path.strip_prefix(&paths.repo_root).unwrap_or(path).display().to_string()
}

/// Returns one check per artifact: its file's SHA-256 and size against the recorded ones.
fn check_artifacts(goal_dir: &Path, artifacts: &[ArtifactRef]) -> Vec<Check> {
    if artifacts.is_empty() {
        return vec![Check::new(
            "artifacts",
            CheckStatus::Skipped,
            "the proof names no artifacts".to_owned(),
        )];
    }
    artifacts
        .iter()
        .map(|recorded| {
            let name = format!("artifact {}", recorded.path);
            let inside = !recorded.path.is_empty()
                && Path::new(&recorded.path)
                    .components()
                    .all(|it| matches!(it, Component::Normal(_)));
            if !inside {
                return Check::new(
                    name,
                    CheckStatus::Failed,
                    "the recorded path leaves the goal directory, so it is not omk's artifact"
                        .to_owned(),
                );
            }
            match ArtifactRef::of_file(goal_dir, &recorded.path) {
                Ok(found) if found.sha256 == recorded.sha256 && found.bytes == recorded.bytes => {
                    Check::new(
                        name,
                        CheckStatus::Passed,
                        format!("sha256 {} ({} bytes), as recorded", short_id(&found.sha256), found.bytes),
                    )
                }
                Ok(found) => Check::new(
                    name,
                    CheckStatus::Failed,
                    format!(
                        "sha256 {} ({} bytes) recorded, {} ({} bytes) on disk: the file was changed",
                        short_id(&recorded.sha256),
                        recorded.bytes,
                        short_id(&found.sha256),
                        found.bytes
                    ),
                ),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Check::new(
                    name,
                    CheckStatus::Failed,
                    format!(
                        "the file is missing (sha256 {}, {} bytes recorded)",
                        short_id(&recorded.sha256),
                        recorded.bytes
                    ),
                ),
                Err(err) => Check::new(name, CheckStatus::Failed, format!("cannot read the file: {err}")),
            }
        })
        .collect()
}

/// Checks that the goal's branch holds the recorded tree (and commit), or, once the branch is
/// gone after an acceptance, that the recorded commit still has the recorded tree.
fn check_tree(repo: &Repo, proof: &Proof) -> Result<Check, Error> {
    let Some(tree_id) = proof.git.tree_id.as_deref() else {
        return Ok(Check::new(
            "tree",
            CheckStatus::Skipped,
            "the goal recorded no proposed tree".to_owned(),
        ));
    };
    let branch = proof.git.branch.clone().unwrap_or_else(|| format!("omk/{}", proof.goal_id));
    let commit = proof.git.head_commit.as_deref();
    let check = match omk_worktree::branch_tip(repo, &branch)? {
        Some(tip) if tip.tree_id != tree_id => Check::new(
            "tree",
            CheckStatus::Failed,
            format!(
                "branch {branch} is at commit {} with tree {}; the proof records tree {}",
                short_id(&tip.commit),
                short_id(&tip.tree_id),
                short_id(tree_id)
            ),
        ),
        Some(tip) if commit.is_some_and(|it| it != tip.commit) => Check::new(
            "tree",
            CheckStatus::Failed,
            format!(
                "branch {branch} is at commit {}; the proof records commit {} (same tree {})",
                short_id(&tip.commit),
                short_id(commit.unwrap_or_default()),
                short_id(tree_id)
            ),
        ),
        Some(tip) => Check::new(
            "tree",
            CheckStatus::Passed,
            format!(
                "branch {branch} is at commit {} with tree {}, as recorded",
                short_id(&tip.commit),
                short_id(tree_id)
            ),
        ),
        None => match commit.map(|it| omk_worktree::commit_tip(repo, it)).transpose()?.flatten() {
            Some(tip) if tip.tree_id == tree_id => Check::new(
                "tree",
                CheckStatus::Passed,
                format!(
                    "branch {branch} is gone (removed after acceptance); commit {} still has tree {}",
                    short_id(&tip.commit),
                    short_id(tree_id)
                ),
            ),
            Some(tip) => Check::new(
                "tree",
                CheckStatus::Failed,
                format!(
                    "commit {} has tree {}; the proof records tree {}",
                    short_id(&tip.commit),
                    short_id(&tip.tree_id),
                    short_id(tree_id)
                ),
            ),
            None => Check::new(
                "tree",
                CheckStatus::Failed,
                format!(
                    "branch {branch} does not exist and the repository has no recorded commit with tree {}",
                    short_id(tree_id)
                ),
            ),
        },
    };
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_the_byte_line_and_field() {
        let stored = b"{\n  \"a\": 1,\n  \"status\": \"ready\"\n}\n";
        let rebuilt = b"{\n  \"a\": 1,\n  \"status\": \"not_ready\"\n}\n";
        let difference = first_difference(stored, rebuilt);
        assert_eq!(
            difference.map(|it| it.describe()).as_deref(),
            Some(
                "proof.json differs from the fold of the log at byte 25 (line 3), field `status`: stored \"ready\", the log gives \"not_ready\""
            )
        );
        assert_eq!(first_difference(stored, stored), None);
        let nested = first_difference(b"{\"g\":[{\"p\":true}]}", b"{\"g\":[{\"p\":false}]}");
        assert_eq!(nested.and_then(|it| it.field).as_deref(), Some("g[0].p"));
        let cut = first_difference(b"{\"a\":1}", b"{\"a\":1}\n");
        assert_eq!(cut.map(|it| (it.byte, it.field)), Some((7, Some("(formatting)".to_owned()))));
        let garbage = first_difference(b"xyz", b"{}");
        assert_eq!(garbage.map(|it| (it.byte, it.field)), Some((0, None)));
    }
}
