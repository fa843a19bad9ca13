//! The goal's HTML report (`report.html` beside `proof.json`): the files omk-proof's pure
//! [`omk_proof::render_html`] needs — the log, the artifacts the proof names, the anchors and a
//! signed export's checks — read here, and the page written atomically.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    io::{self, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use omk_attest::{Check, CheckStatus};
use omk_config::ConfigEnv;
use omk_events::{ArtifactRef, Envelope};
use omk_proof::{
    ArtifactContent, ArtifactText, Proof, ReportCheck, ReportCheckStatus, ReportContext,
};

use crate::{
    check::{
        anchors::{GoalAnchors, LogEnd},
        trust::{Against, GoalBundle, check_bundle, is_fetched, trust_from},
    },
    error::Error,
    layout::{GoalPaths, Layout},
};

/// The most of a gate's output a report keeps: its end, where a failure is told.
const LOG_TAIL_BYTES: u64 = 64 * 1024;
/// The most of the change's patch a report keeps: its start.
const PATCH_HEAD_BYTES: u64 = 1024 * 1024;

/// Returns the goal's report as a self-contained HTML page, rendered from its log as read back
/// from disk (the log must verify), the artifacts its proof names, and the checks of its
/// anchors and of its signed export when there is one.
pub fn render_report(paths: &GoalPaths) -> Result<String, Error> {
    let events = omk_events::read_log(&paths.events)?.events;
    let proof = omk_proof::synthesize(&events)?;
    let artifacts = read_artifacts(&paths.goal_dir, &proof);
    let checks = seal_checks(paths, &events, &proof)?;
    Ok(omk_proof::render_html(&ReportContext {
        proof: &proof,
        events: &events,
        artifacts: &artifacts,
        checks: &checks,
    }))
}

/// Renders the goal's report and writes it to `report.html` in the goal's directory (a
/// temporary file, synced and renamed, so a reader never sees half a page); returns its path.
pub fn write_report(paths: &GoalPaths) -> Result<PathBuf, Error> {
    let page = render_report(paths)?;
    omk_events::files::write_atomic(&paths.report, page.as_bytes())
        .map_err(|source| Error::Write { path: paths.report.clone(), source })?;
    Ok(paths.report.clone())
}

/// Writes the goal's report again when it has one, so that a report once asked for follows
/// the proof (`omk resume`, `omk accept`, `omk reject`). The report is derived: a failure to
/// write it is logged and does not fail the step that wrote the proof.
pub(crate) fn refresh_report(paths: &GoalPaths) {
    if !paths.report.exists() {
        return;
    }
    if let Err(err) = write_report(paths) {
        tracing::warn!(
            "failed to refresh {}: {}",
            paths.report.display(),
            crate::error_chain(&err)
        );
    }
}

/// Reads every gate log and the patch the proof names: a log's end, the patch's start, each
/// checked against the SHA-256 the log recorded.
fn read_artifacts(goal_dir: &Path, proof: &Proof) -> BTreeMap<String, ArtifactContent> {
    let logs = proof.gates.iter().filter_map(|it| it.output.as_ref());
    let team_logs = proof
        .team
        .iter()
        .flat_map(|team| &team.slices)
        .flat_map(|slice| &slice.gates)
        .filter_map(|gate| gate.output.as_ref());
    let mut artifacts = BTreeMap::new();
    for artifact in logs.chain(team_logs) {
        artifacts
            .entry(artifact.path.clone())
            .or_insert_with(|| read_artifact(goal_dir, artifact, Keep::Tail(LOG_TAIL_BYTES)));
    }
    if let Some(patch) = &proof.git.patch {
        artifacts.insert(
            patch.path.clone(),
            read_artifact(goal_dir, patch, Keep::Head(PATCH_HEAD_BYTES)),
        );
    }
    artifacts
}

/// Which part of a long artifact a report keeps.
#[derive(Debug, Clone, Copy)]
enum Keep {
    Head(u64),
    Tail(u64),
}

fn read_artifact(goal_dir: &Path, artifact: &ArtifactRef, keep: Keep) -> ArtifactContent {
    let unreadable = |err: io::Error| ArtifactContent::Unreadable { reason: err.to_string() };
    // The digest is of the whole file, streamed; only the part kept is held in memory.
    let found = match ArtifactRef::of_file(goal_dir, &artifact.path) {
        Ok(found) => found,
        Err(err) => return unreadable(err),
    };
    if found.sha256 != artifact.sha256 {
        return ArtifactContent::Altered { sha256: found.sha256 };
    }
    match read_part(&goal_dir.join(&artifact.path), found.bytes, keep) {
        Ok(text) => ArtifactContent::Text(text),
        Err(err) => unreadable(err),
    }
}

fn read_part(path: &Path, size: u64, keep: Keep) -> io::Result<ArtifactText> {
    let mut file = fs::File::open(path)?;
    let (offset, len) = match keep {
        Keep::Head(max) => (0, size.min(max)),
        Keep::Tail(max) => (size.saturating_sub(max), size.min(max)),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(len).read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    let (mut before, mut after) = (offset, size - offset - bytes.len() as u64);
    // Cut at whole lines, so no line is shown half.
    if before > 0
        && let Some(newline) = text.find('\n')
    {
        before += newline as u64 + 1;
        text.drain(..=newline);
    }
    if after > 0
        && let Some(newline) = text.rfind('\n')
    {
        after += (text.len() - newline - 1) as u64;
        text.truncate(newline + 1);
    }
    Ok(ArtifactText { text, omitted_before: before, omitted_after: after })
}

/// Returns the checks of where the log is anchored (the goal's anchor reference, the
/// acceptance's note) and of the signed export (`proof.intoto.jsonl`) when there is one.
fn seal_checks(
    paths: &GoalPaths,
    events: &[Envelope],
    proof: &Proof,
) -> Result<Vec<ReportCheck>, Error> {
    let repo = omk_worktree::open(&paths.repo_root)?;
    let anchors = GoalAnchors::read(&repo, &paths.goal_id)?;
    let bundle = GoalBundle::read(paths)?;
    let mut wanted: BTreeSet<u64> = anchors.wanted();
    wanted.extend(bundle.wanted());
    let hashes = events
        .iter()
        .filter(|it| wanted.contains(&it.seq.0))
        .filter_map(|it| Some((it.seq.0, it.hash?)))
        .collect();
    let log_end = LogEnd { events: events.len() as u64, hashes };
    let mut checks = vec![anchors.check(&log_end)];
    let merge_commit = proof.integration.as_ref().and_then(|it| it.merge_commit.as_deref());
    if let Some(commit) = merge_commit {
        checks.extend(crate::check::anchors::check_note(&repo, &paths.events, commit, &log_end)?);
    }
    checks.extend(trusted_bundle_checks(paths, &bundle, &log_end, proof)?);
    Ok(checks.into_iter().map(report_check).collect())
}

/// Returns the checks of the goal's bundle as `omk proof verify` makes them, against the keys
/// `[trust]` in `omk.toml` lists (a fetched goal, or a goal with a bundle and listed keys);
/// otherwise [`bundle_checks`]'s, against the repository's default key.
fn trusted_bundle_checks(
    paths: &GoalPaths,
    bundle: &GoalBundle,
    log_end: &LogEnd,
    proof: &Proof,
) -> Result<Vec<Check>, Error> {
    // `[trust]` is the project's: only `omk.toml` sets it, so no user config is read.
    let settings = omk_config::load_settings(Some(&paths.repo_root), &ConfigEnv::default(), &[]);
    let trust = match settings
        .map_err(Error::from)
        .and_then(|it| trust_from(&paths.repo_root, &it.trust))
    {
        Ok(trust) => trust,
        Err(err) => {
            return Ok(vec![Check::new(
                "signature",
                CheckStatus::Skipped,
                format!(
                    "[trust] in omk.toml cannot be read, so the bundle is not checked: {}",
                    crate::error_chain(&err)
                ),
            )]);
        }
    };
    let against = Against {
        paths,
        trust: &trust,
        fetched: is_fetched(paths),
        log: Some(log_end),
        proof: Some(proof),
    };
    let checks = check_bundle(bundle, &against)?;
    if checks.is_empty() { bundle_checks(paths, proof) } else { Ok(checks) }
}

/// Returns the checks of the goal's exported bundle: its signatures against the repository's
/// default public key when it has one, and the log digest its verdict records.
fn bundle_checks(paths: &GoalPaths, proof: &Proof) -> Result<Vec<Check>, Error> {
    let bundle = paths.goal_dir.join(BUNDLE_FILE);
    let text = match fs::read_to_string(&bundle) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok(vec![Check::new(
                "signature",
                CheckStatus::Skipped,
                format!(
                    "no signed export: `omk proof export {} --format in-toto --sign-key KEY` writes one",
                    paths.goal_id
                ),
            )]);
        }
        Err(source) => return Err(Error::ReadInput { path: bundle, source }),
    };
    let mut checks = Vec::new();
    let public = omk_attest::public_key_path(&Layout::new(&paths.repo_root).default_signing_key());
    match omk_attest::load_public_key(&public) {
        Ok(key) => {
            let commit = proof.git.head_commit.as_deref().filter(|_| proof.git.dirty == Some(false));
            checks.extend(
                omk_attest::verify_bundle(&text, &key, commit, false)
                    .into_iter()
                    .map(|it| Check { name: format!("bundle {}", it.name), ..it }),
            );
        }
        Err(_) => checks.push(Check::new(
            "bundle",
            CheckStatus::Skipped,
            format!("{BUNDLE_FILE} is here, but its signatures are not checked: the repository has no default public key at {}", public.display()),
        )),
    }
    if let Some(log) = omk_attest::bundle_log(&text) {
        checks.extend(
            crate::check::anchors::check_bundle_log(paths, log.events, &log.head)?
                .into_iter()
                .take(1)
                .map(|it| Check { name: "bundle log".to_owned(), ..it }),
        );
    }
    Ok(checks)
}

/// The name of a goal's exported in-toto bundle, beside its log.
const BUNDLE_FILE: &str = "proof.intoto.jsonl";

fn report_check(check: Check) -> ReportCheck {
    ReportCheck {
        status: match check.status {
            CheckStatus::Passed => ReportCheckStatus::Passed,
            CheckStatus::Warning => ReportCheckStatus::Warning,
            CheckStatus::Failed => ReportCheckStatus::Failed,
            CheckStatus::Skipped => ReportCheckStatus::Skipped,
        },
        name: check.name,
        message: check.message,
    }
}
