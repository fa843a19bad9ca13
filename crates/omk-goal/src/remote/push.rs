//! `omk push`: a goal's evidence as a commit under `refs/omk/goals/<goal-id>`, pushed with the
//! goal's branch, its anchors and the acceptance notes in one `git push`.

use std::{fs, path::Component, path::Path};

use omk_events::{EventLog, GoalId, sha256_hex, short_id};
use omk_proof::Proof;
use omk_worktree::{GitIdentity, Identity, PushedRef, Repo, TreeFile};

use crate::{
    anchor::anchor_ref,
    clock::Clock,
    error::Error,
    layout::GoalPaths,
    remote::{
        NOTES_REF, check_remote, error::RemoteError, evidence_ref, files, origin::ORIGIN_FORMAT,
        origin::Origin,
    },
    store::find_goal,
};

/// What `omk push` is asked to push.
pub struct PushRequest<'a> {
    /// A directory in the repository.
    pub repo_dir: &'a Path,
    /// The goal: an id, a unique prefix, `latest`; `None` is the latest.
    pub goal: Option<&'a str>,
    /// The remote's name, such as `origin`.
    pub remote: &'a str,
    /// The machine's name for `origin.json`.
    pub host: &'a str,
    /// Who pushes (`$USER`); `None` falls back to git's `user.name`, then `unknown`.
    pub user: Option<&'a str>,
    /// The clock that dates the evidence commit and `pushed_at`.
    pub clock: &'a dyn Clock,
    /// The pushing process's environment: no file of the evidence may hold the value of one of
    /// its secret-looking variables (`*_API_KEY`, `*TOKEN*`, …), since an agent's transcript is
    /// stored as the agent wrote it.
    pub secret_env: &'a [(String, String)],
}

/// What `omk push` did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The goal's files.
    pub paths: GoalPaths,
    /// The remote pushed to.
    pub remote: String,
    /// The evidence commit now under `refs/omk/goals/<goal-id>` here and on the remote.
    pub evidence: String,
    /// The evidence commit it follows, from an earlier push; `None` for the first.
    pub previous: Option<String>,
    /// Whether this push made a new evidence commit (not when nothing changed since the last).
    pub new_commit: bool,
    /// The files in the evidence tree, and their bytes.
    pub files: usize,
    /// The bytes of those files.
    pub bytes: u64,
    /// What became of the goal's in-toto bundle.
    pub bundle: BundleState,
    /// Each reference's line of `git push`.
    pub refs: Vec<PushedRef>,
    /// References that were not pushed, each with why.
    pub skipped: Vec<(String, String)>,
    /// Whether git pushed atomically.
    pub atomic: bool,
    /// The origin recorded in the evidence.
    pub origin: Origin,
}

/// The goal's `proof.intoto.jsonl` in a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleState {
    /// The goal has none.
    Missing,
    /// It speaks for the log as it is and is in the evidence.
    Included,
    /// It was exported for an earlier log (`events` events) and was left out.
    Stale {
        /// The events of the log it speaks for, when it says.
        events: Option<u64>,
    },
}

/// Builds `goal`'s evidence commit, moves `refs/omk/goals/<goal-id>` to it, and pushes it with
/// the goal's branch, its anchors and `refs/notes/omk` in one `git push` (atomic when the
/// remote supports it).
///
/// Refused before anything moves: a goal that is running, a fetched goal, a proof that is not
/// the fold of its log, an artifact that differs from its recorded digest. Refused by the remote
/// check: evidence or anchors of the same id the remote has that this clone's history lacks.
pub fn push_goal(request: &PushRequest<'_>) -> Result<Pushed, Error> {
    let paths = find_goal(request.repo_dir, request.goal)?;
    let goal = paths.goal_id.clone();
    if let Some(pid) = EventLog::holder(&paths.events)? {
        return Err(RemoteError::Running { goal: goal.to_string(), pid }.into());
    }
    if let Some(origin) = crate::remote::origin::read_origin(&paths)? {
        return Err(RemoteError::FetchedGoal { goal: goal.to_string(), host: origin.host }.into());
    }
    let repo = omk_worktree::open(&paths.repo_root)?;
    check_remote(&repo, request.remote)?;
    let (proof, mut tree, bundle) = evidence_files(&paths)?;
    let secrets = omk_gates::SecretValues::new(
        request.secret_env.iter().map(|(name, value)| (name.as_str(), value.as_str())),
    );
    for file in &tree {
        let held = secrets.held_in(&file.content);
        if !held.is_empty() {
            return Err(RemoteError::SecretInEvidence {
                goal: goal.to_string(),
                path: file.path.clone(),
                variables: held.join(", "),
            }
            .into());
        }
    }
    let origin = Origin {
        format: ORIGIN_FORMAT,
        goal: goal.to_string(),
        host: request.host.to_owned(),
        user: request
            .user
            .map(str::to_owned)
            .or_else(|| omk_worktree::user_name(&repo))
            .unwrap_or_else(|| "unknown".to_owned()),
        // Whole seconds, as the evidence commit's time.
        pushed_at: chrono::DateTime::from_timestamp(request.clock.now().timestamp(), 0)
            .unwrap_or_else(|| request.clock.now()),
        omk_version: env!("CARGO_PKG_VERSION").to_owned(),
        readiness: proof.readiness.to_string(),
        remote: None,
        evidence: None,
        fetched_events: None,
    };
    tree.push(TreeFile { path: files::ORIGIN.to_owned(), content: origin.to_json().into_bytes() });
    let bytes = tree.iter().map(|it| it.content.len() as u64).sum();
    let (evidence, previous, kept) = commit_evidence(&repo, &goal, &proof, &tree, request)?;
    let new_commit = kept.is_none();
    // An unchanged goal keeps its evidence commit, and with it the origin of its last push.
    let origin = kept.unwrap_or(origin);
    let plan = plan_refs(&repo, request.remote, &goal, &proof, &evidence)?;
    let outcome = omk_worktree::push(&repo, request.remote, &plan.refspecs, &plan.leases)?;
    let rejected: Vec<&PushedRef> = outcome.refs.iter().filter(|it| it.rejected()).collect();
    if !outcome.success || !rejected.is_empty() {
        let goal_text = goal.to_string();
        let evidence_name = evidence_ref(&goal);
        // Another machine's evidence got there first (between the check and the push).
        let lost_race = |it: &&PushedRef| {
            it.name == evidence_name
                && ["non-fast-forward", "fetch first", "stale info"]
                    .iter()
                    .any(|reason| it.summary.contains(reason))
        };
        if rejected.iter().any(lost_race) {
            return Err(RemoteError::DifferentEvidence {
                goal: goal_text,
                remote: request.remote.to_owned(),
                theirs: "a commit pushed meanwhile".to_owned(),
            }
            .into());
        }
        let refs = rejected.iter().map(|it| format!("{} {}", it.name, it.summary)).collect();
        return Err(RemoteError::Rejected {
            goal: goal_text,
            remote: request.remote.to_owned(),
            refs,
            stderr: outcome.stderr,
        }
        .into());
    }
    Ok(Pushed {
        paths,
        remote: request.remote.to_owned(),
        evidence,
        previous,
        new_commit,
        files: tree.len(),
        bytes,
        bundle,
        refs: outcome.refs,
        skipped: plan.skipped,
        atomic: outcome.atomic,
        origin,
    })
}

/// Returns the proof and the files of the evidence tree but `origin.json`: the log, the proof,
/// the bundle when it speaks for this log, and every artifact, each checked against its digest.
fn evidence_files(paths: &GoalPaths) -> Result<(Proof, Vec<TreeFile>, BundleState), Error> {
    let goal = paths.goal_id.to_string();
    let rebuild = crate::check::verify::rebuild_proof(paths)?;
    if !rebuild.stored {
        return Err(RemoteError::NoProof { goal, path: paths.proof.clone() }.into());
    }
    if let Some(difference) = &rebuild.difference {
        return Err(RemoteError::ProofNotFold { goal, difference: difference.describe() }.into());
    }
    let proof = rebuild.proof;
    let read = |path: &Path| {
        fs::read(path).map_err(|source| Error::ReadInput { path: path.to_owned(), source })
    };
    let events = read(&paths.events)?;
    let proof_bytes = read(&paths.proof)?;
    let lines = events.iter().filter(|it| **it == b'\n').count() as u64;
    if lines != proof.task.events || proof_bytes != proof.to_json().as_bytes() {
        return Err(RemoteError::LogMoved { goal }.into());
    }
    let mut tree = vec![
        TreeFile { path: files::EVENTS.to_owned(), content: events },
        TreeFile { path: files::PROOF.to_owned(), content: proof_bytes },
    ];
    let bundle_path = paths.goal_dir.join(files::BUNDLE);
    let bundle = match fs::read(&bundle_path) {
        Ok(bytes) => {
            let log = omk_attest::bundle_log(&String::from_utf8_lossy(&bytes));
            let current = log.as_ref().is_some_and(|it| {
                it.goal_id == goal
                    && it.events == proof.task.events
                    && proof.task.log_head.as_deref() == Some(it.head.as_str())
            });
            if current {
                tree.push(TreeFile { path: files::BUNDLE.to_owned(), content: bytes });
                BundleState::Included
            } else {
                BundleState::Stale { events: log.map(|it| it.events) }
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => BundleState::Missing,
        Err(source) => return Err(Error::ReadInput { path: bundle_path, source }),
    };
    for artifact in &proof.artifacts {
        tree.push(TreeFile {
            path: artifact.path.clone(),
            content: artifact_bytes(paths, artifact)?,
        });
    }
    tree.sort_by(|a, b| a.path.cmp(&b.path));
    tree.dedup_by(|a, b| a.path == b.path);
    Ok((proof, tree, bundle))
}

/// Returns the bytes of `artifact`, checked against its recorded digest and size.
fn artifact_bytes(paths: &GoalPaths, artifact: &omk_events::ArtifactRef) -> Result<Vec<u8>, Error> {
    let goal = paths.goal_id.to_string();
    let relative = Path::new(&artifact.path);
    let inside = !artifact.path.is_empty()
        && relative.components().all(|it| matches!(it, Component::Normal(_)))
        && !files::ALL.contains(&artifact.path.as_str());
    if !inside {
        return Err(RemoteError::ArtifactPath { goal, path: artifact.path.clone() }.into());
    }
    let bytes = match fs::read(paths.goal_dir.join(relative)) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(RemoteError::ArtifactMissing { goal, path: artifact.path.clone() }.into());
        }
        Err(source) => {
            return Err(Error::ReadInput { path: paths.goal_dir.join(relative), source });
        }
    };
    let found = sha256_hex(&bytes);
    if found != artifact.sha256 || bytes.len() as u64 != artifact.bytes {
        return Err(RemoteError::ArtifactChanged {
            goal,
            path: artifact.path.clone(),
            recorded: short_id(&artifact.sha256).to_owned(),
            found: short_id(&found).to_owned(),
        }
        .into());
    }
    Ok(bytes)
}

/// Writes the evidence commit after the goal's previous one and moves `refs/omk/goals/<goal-id>`
/// to it; returns it and the previous one. When the previous one holds the same evidence but for
/// `origin.json`, no commit is written: it is returned with the origin it holds.
fn commit_evidence(
    repo: &Repo,
    goal: &GoalId,
    proof: &Proof,
    tree: &[TreeFile],
    request: &PushRequest<'_>,
) -> Result<(String, Option<String>, Option<Origin>), Error> {
    let name = evidence_ref(goal);
    let previous = omk_worktree::ref_target(repo, &name)?;
    let who = GitIdentity {
        identity: Identity { name: "omk", email: "omk@localhost" },
        time: request.clock.now().timestamp(),
    };
    let message = format!(
        "omk: evidence of goal {goal}\n\n{} events, {}, pushed from {}\n",
        proof.task.events, proof.readiness, request.host
    );
    let parents: Vec<&str> = previous.iter().map(String::as_str).collect();
    if let Some(previous) = &previous
        && let Some(origin) = same_evidence(repo, goal, previous, tree)?
    {
        return Ok((previous.clone(), Some(previous.clone()), Some(origin)));
    }
    let written = omk_worktree::write_files_commit(repo, tree, &parents, &message, who)?;
    let log = format!("omk push: evidence of goal {goal}");
    omk_worktree::set_ref(repo, &name, &written.commit, previous.as_deref(), &log)?;
    Ok((written.commit, previous, None))
}

/// Returns the origin the evidence commit `previous` holds when it holds `tree` otherwise:
/// nothing but the time and place of the push would change.
fn same_evidence(
    repo: &Repo,
    goal: &GoalId,
    previous: &str,
    tree: &[TreeFile],
) -> Result<Option<Origin>, Error> {
    let Some(old) = omk_worktree::read_files_commit(repo, previous)? else { return Ok(None) };
    let Some(origin) = old.iter().find(|it| it.path == files::ORIGIN) else { return Ok(None) };
    let Ok(origin) = Origin::parse(&origin.content, goal.as_str()) else { return Ok(None) };
    let without_origin = |files: &[TreeFile]| -> Vec<TreeFile> {
        let mut kept: Vec<TreeFile> =
            files.iter().filter(|it| it.path != files::ORIGIN).cloned().collect();
        kept.sort_by(|a, b| a.path.cmp(&b.path));
        kept
    };
    Ok((without_origin(&old) == without_origin(tree)).then_some(origin))
}

/// The references one push sends.
struct RefPlan {
    refspecs: Vec<String>,
    leases: Vec<(String, String)>,
    skipped: Vec<(String, String)>,
}

/// Decides what to push from what the remote holds: the evidence (which must extend the
/// remote's), the branch, the anchors (a blob: replaced with a lease, only when it extends the
/// remote's) and the notes (only when they extend the remote's).
fn plan_refs(
    repo: &Repo,
    remote: &str,
    goal: &GoalId,
    proof: &Proof,
    evidence: &str,
) -> Result<RefPlan, Error> {
    let evidence_name = evidence_ref(goal);
    let branch = proof.git.branch.clone().unwrap_or_else(|| format!("omk/{goal}"));
    let branch_name = format!("refs/heads/{branch}");
    let anchors_name = anchor_ref(goal);
    let names = [evidence_name.as_str(), branch_name.as_str(), anchors_name.as_str(), NOTES_REF];
    let theirs = omk_worktree::ls_remote(repo, remote, &names)?;
    let remote_value = |name: &str| theirs.iter().find(|it| it.0 == name).map(|it| it.1.clone());
    let diverged = |kind: &'static str, at: String| RemoteError::DifferentEvidence {
        goal: goal.to_string(),
        remote: remote.to_owned(),
        theirs: format!("{kind} at {}", short_id(&at)),
    };
    if let Some(at) = remote_value(&evidence_name)
        && !omk_worktree::is_ancestor(repo, &at, evidence)?
    {
        return Err(diverged("refs/omk/goals", at).into());
    }
    let mut plan = RefPlan {
        refspecs: vec![format!("{evidence_name}:{evidence_name}")],
        leases: Vec::new(),
        skipped: Vec::new(),
    };
    match omk_worktree::ref_target(repo, &branch_name)? {
        Some(_) => plan.refspecs.push(format!("{branch_name}:{branch_name}")),
        None => plan.skipped.push((branch_name, "this clone has no such branch".to_owned())),
    }
    match (omk_worktree::read_blob_ref(repo, &anchors_name)?, remote_value(&anchors_name)) {
        (None, _) => plan.skipped.push((anchors_name, "the goal has no anchors".to_owned())),
        (Some(ours), Some(at)) if ours.id == at => {}
        (Some(ours), at) => {
            if let Some(at) = &at {
                let extends = omk_worktree::has_object(repo, at)?
                    && omk_worktree::read_blob(repo, at)?
                        .is_some_and(|old| ours.content.starts_with(&old));
                if !extends {
                    return Err(diverged("refs/omk/anchors", at.clone()).into());
                }
            }
            plan.leases.push((anchors_name.clone(), at.unwrap_or_default()));
            plan.refspecs.push(format!("{anchors_name}:{anchors_name}"));
        }
    }
    match (omk_worktree::ref_target(repo, NOTES_REF)?, remote_value(NOTES_REF)) {
        (None, _) => {}
        (Some(ours), Some(at)) if ours == at => {}
        (Some(ours), Some(at)) if !omk_worktree::is_ancestor(repo, &at, &ours)? => {
            return Err(RemoteError::NotesDiverged { remote: remote.to_owned() }.into());
        }
        (Some(_), _) => plan.refspecs.push(format!("{NOTES_REF}:{NOTES_REF}")),
    }
    Ok(plan)
}
