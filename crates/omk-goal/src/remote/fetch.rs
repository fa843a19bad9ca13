//! `omk fetch`: the goals a remote holds, fetched under `refs/omk/fetched/<remote>/` and
//! written into `.omk/goals/<goal-id>/` with their `origin.json`, never over a goal that ran
//! here.

use std::{
    fs, io,
    path::{Component, Path, PathBuf},
};

use omk_events::GoalId;
use omk_worktree::{Repo, TreeFile};

use crate::{
    anchor::anchor_ref,
    error::Error,
    layout::{EXCLUDE_PATTERN, GoalPaths, Layout},
    remote::{
        FETCHED_REF_PREFIX, NOTES_REF, check_remote, error::RemoteError, files, origin::Origin,
        origin::read_origin,
    },
};

/// What `omk fetch` fetched from one remote.
#[derive(Debug, Clone)]
pub struct FetchReport {
    /// The remote.
    pub remote: String,
    /// Every goal the remote holds, by id.
    pub goals: Vec<FetchedGoal>,
    /// What happened to `refs/notes/omk`, the acceptance notes.
    pub notes: RefOutcome,
}

/// One goal the remote holds and what became of it here.
#[derive(Debug, Clone)]
pub struct FetchedGoal {
    /// The goal's id as the remote's reference names it.
    pub goal: String,
    /// Its evidence commit.
    pub evidence: String,
    /// What happened to its directory.
    pub outcome: GoalOutcome,
    /// What happened to its branch `omk/<goal-id>`.
    pub branch: RefOutcome,
    /// What happened to its anchors `refs/omk/anchors/<goal-id>`.
    pub anchors: RefOutcome,
    /// Where it ran, when its evidence says.
    pub origin: Option<Origin>,
}

/// What `omk fetch` did with a goal's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoalOutcome {
    /// The goal is new here: its directory was written.
    Added,
    /// It was fetched before and its evidence moved: its directory was rewritten.
    Updated,
    /// It was fetched before from the same evidence commit.
    Unchanged,
    /// The goal ran here (its directory has no `origin.json`): left alone.
    LocalRun,
    /// It was fetched before and its log here has events the remote's does not (a decision
    /// recorded in this clone, such as `omk accept`): left alone, so they are not lost.
    LocalEvents,
    /// The evidence is not a goal omk can write; the text says why. Nothing was written.
    Invalid(String),
}

/// What `omk fetch` did with a reference of a fetched goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefOutcome {
    /// The reference was absent here and was set.
    Set,
    /// It was already what the remote has.
    Same,
    /// It was an earlier value of the remote's (anchors that the remote extends) and moved.
    Updated,
    /// It differs here and was left alone.
    LeftAlone,
    /// The remote has none, or the goal is not written here.
    Skipped,
}

/// Fetches every goal `remote` holds (`git fetch` of `refs/omk/goals/*`, `refs/omk/anchors/*`
/// and `refs/heads/omk/*` into `refs/omk/fetched/<remote>/{goals,anchors,branches}/`), then
/// writes each goal that did not run here into `.omk/goals/<goal-id>/` from its evidence.
///
/// Each goal's directory is written whole in `.omk/fetch/` and renamed into place, so a fetch
/// that fails or is killed leaves no half-written goal; the goal's branch and anchors are set
/// when absent here.
pub fn fetch_goals(repo_dir: &Path, remote: &str) -> Result<FetchReport, Error> {
    let repo = omk_worktree::open(repo_dir)?;
    check_remote(&repo, remote)?;
    let prefix = format!("{FETCHED_REF_PREFIX}{remote}/");
    let refspecs = vec![
        format!("+refs/omk/goals/*:{prefix}goals/*"),
        format!("+refs/omk/anchors/*:{prefix}anchors/*"),
        format!("+refs/heads/omk/*:{prefix}branches/*"),
        // A pattern, so that a remote without notes is no error.
        format!("+refs/notes/*:{prefix}notes/*"),
    ];
    omk_worktree::fetch(&repo, remote, &refspecs)
        .map_err(|source| RemoteError::Fetch { remote: remote.to_owned(), source })?;
    let layout = Layout::new(&repo.root);
    omk_worktree::exclude(&repo, EXCLUDE_PATTERN)?;
    clean_staging(&layout);
    let mut goals = Vec::new();
    let mut to_write = Vec::new();
    for (name, evidence) in omk_worktree::refs_under(&repo, &format!("{prefix}goals/"))? {
        let id = name.trim_start_matches(&format!("{prefix}goals/")).to_owned();
        let mut fetched = FetchedGoal {
            goal: id.clone(),
            evidence: evidence.clone(),
            outcome: GoalOutcome::Unchanged,
            branch: RefOutcome::Skipped,
            anchors: RefOutcome::Skipped,
            origin: None,
        };
        match GoalId::parse(&id) {
            Ok(goal) => {
                let paths = layout.goal(&goal);
                match prepare_goal(&repo, &paths, remote, &evidence, &mut fetched)? {
                    Prepared::Done(outcome) => fetched.outcome = outcome,
                    Prepared::Write { tree, existing } => {
                        to_write.push((goals.len(), paths, tree, existing));
                    }
                }
            }
            Err(err) => fetched.outcome = GoalOutcome::Invalid(format!("not a goal id: {err}")),
        }
        goals.push(fetched);
    }
    // Writing is mostly waiting for the disk to sync each file, so goals are staged at once.
    let staged = stage_all(&layout, &to_write);
    if let Some(failed) = staged.iter().position(Result::is_err) {
        // Nothing is placed when one goal cannot be written: what was staged goes.
        for staging in staged.iter().flatten() {
            fs::remove_dir_all(staging).ok();
        }
        let goal = to_write[failed].1.goal_id.to_string();
        let (path, source) = staged
            .into_iter()
            .nth(failed)
            .and_then(Result::err)
            .expect("the failed position holds an error because position found it");
        return Err(RemoteError::Materialize { goal, path, source }.into());
    }
    let goals_dir = layout.goals_dir();
    for ((idx, paths, _, existing), staging) in to_write.iter().zip(staged.into_iter().flatten()) {
        goals[*idx].outcome = place(&layout, paths, &staging, *existing)?;
    }
    if !to_write.is_empty() {
        fs::File::open(&goals_dir).and_then(|dir| dir.sync_all()).map_err(|source| {
            RemoteError::Materialize { goal: String::new(), path: goals_dir.clone(), source }
        })?;
    }
    for fetched in &mut goals {
        if matches!(
            fetched.outcome,
            GoalOutcome::Added | GoalOutcome::Updated | GoalOutcome::Unchanged
        ) && let Ok(goal) = GoalId::parse(&fetched.goal)
        {
            fetched.branch = adopt_branch(&repo, &prefix, &goal)?;
            fetched.anchors = adopt_anchors(&repo, &prefix, &goal)?;
        }
    }
    let notes = adopt_notes(&repo, &prefix)?;
    Ok(FetchReport { remote: remote.to_owned(), goals, notes })
}

/// Sets `refs/notes/omk` to the fetched notes when absent here, or moves it forward when they
/// extend it; diverged notes are left alone (`git notes --ref=omk merge` joins them).
fn adopt_notes(repo: &Repo, prefix: &str) -> Result<RefOutcome, Error> {
    let fetched = format!("{prefix}notes/omk");
    let Some(theirs) = omk_worktree::ref_target(repo, &fetched)? else {
        return Ok(RefOutcome::Skipped);
    };
    let message = "omk fetch: acceptance notes";
    Ok(match omk_worktree::ref_target(repo, NOTES_REF)? {
        None => {
            omk_worktree::set_ref(repo, NOTES_REF, &theirs, None, message)?;
            RefOutcome::Set
        }
        Some(ours) if ours == theirs => RefOutcome::Same,
        Some(ours) if omk_worktree::is_ancestor(repo, &ours, &theirs)? => {
            omk_worktree::set_ref(repo, NOTES_REF, &theirs, Some(&ours), message)?;
            RefOutcome::Updated
        }
        Some(_) => RefOutcome::LeftAlone,
    })
}

/// What to do with a fetched goal's directory.
enum Prepared {
    /// Nothing: the outcome is decided.
    Done(GoalOutcome),
    /// Write these files; `existing` when they replace an earlier fetch of the goal.
    Write { tree: Vec<TreeFile>, existing: bool },
}

/// Decides what to do with the goal's directory: nothing when it ran here or is up to date,
/// else the files to write from its evidence, `origin.json` completed.
fn prepare_goal(
    repo: &Repo,
    paths: &GoalPaths,
    remote: &str,
    evidence: &str,
    fetched: &mut FetchedGoal,
) -> Result<Prepared, Error> {
    let existing = if paths.goal_dir.exists() {
        match read_origin(paths) {
            Ok(Some(origin)) => Some(origin),
            // A directory without origin.json (or with one omk cannot read) is not omk fetch's.
            Ok(None) | Err(_) => return Ok(Prepared::Done(GoalOutcome::LocalRun)),
        }
    } else {
        None
    };
    if let Some(origin) = &existing
        && origin.evidence.as_deref() == Some(evidence)
    {
        fetched.origin = Some(origin.clone());
        return Ok(Prepared::Done(GoalOutcome::Unchanged));
    }
    let invalid = |problem: String| Ok(Prepared::Done(GoalOutcome::Invalid(problem)));
    let Some(mut tree) = omk_worktree::read_files_commit(repo, evidence)? else {
        return invalid(format!("the evidence commit {evidence} is missing"));
    };
    if let Some(problem) = check_tree(&tree) {
        return invalid(problem);
    }
    if let Some(origin) = &existing
        && has_events_of_its_own(paths, &tree)
    {
        fetched.origin = Some(origin.clone());
        return Ok(Prepared::Done(GoalOutcome::LocalEvents));
    }
    // Counted here from the log itself, never taken from the pushed file: the checks tell the
    // events that came with the evidence from those recorded here by it.
    let fetched_events = tree
        .iter()
        .find(|it| it.path == files::EVENTS)
        .map(|log| log.content.iter().filter(|byte| **byte == b'\n').count() as u64);
    let Some(origin_file) = tree.iter_mut().find(|it| it.path == files::ORIGIN) else {
        return invalid("the evidence has no origin.json".to_owned());
    };
    let mut origin = match Origin::parse(&origin_file.content, paths.goal_id.as_str()) {
        Ok(origin) => origin,
        Err(problem) => return invalid(format!("origin.json: {problem}")),
    };
    origin.remote = Some(remote.to_owned());
    origin.evidence = Some(evidence.to_owned());
    origin.fetched_events = fetched_events;
    origin_file.content = origin.to_json().into_bytes();
    fetched.origin = Some(origin);
    Ok(Prepared::Write { tree, existing: existing.is_some() })
}

/// Returns whether the log of an earlier fetch of the goal has events that the fetched log does
/// not start with: this clone appended to it (an acceptance, a rejection), and rewriting the
/// directory would lose them. A log that cannot be read has none.
fn has_events_of_its_own(paths: &GoalPaths, tree: &[TreeFile]) -> bool {
    let Ok(here) = fs::read(&paths.events) else { return false };
    let fetched = tree.iter().find(|it| it.path == files::EVENTS).map(|it| it.content.as_slice());
    !fetched.unwrap_or_default().starts_with(&here)
}

/// Stages every goal of `to_write` in `.omk/fetch/<goal-id>.<pid>`, on up to four threads;
/// returns each staging directory, or the path that failed and why (its staging removed).
fn stage_all(
    layout: &Layout,
    to_write: &[(usize, GoalPaths, Vec<TreeFile>, bool)],
) -> Vec<Result<PathBuf, (PathBuf, io::Error)>> {
    let stage_one = |(_, paths, tree, _): &(usize, GoalPaths, Vec<TreeFile>, bool)| {
        let staging = layout.fetch_dir().join(format!("{}.{}", paths.goal_id, std::process::id()));
        match stage(&staging, tree) {
            Ok(()) => Ok(staging),
            Err(err) => {
                fs::remove_dir_all(&staging).ok();
                Err((staging, err))
            }
        }
    };
    crate::store::map_on_threads(to_write.iter().collect(), to_write.len().clamp(1, 4), stage_one)
}

/// Renames a staged goal directory into `.omk/goals/`, replacing an earlier fetch of it.
fn place(
    layout: &Layout,
    paths: &GoalPaths,
    staging: &Path,
    existing: bool,
) -> Result<GoalOutcome, Error> {
    let goal = paths.goal_id.as_str();
    let materialize = |path: &Path| {
        let path = path.to_owned();
        let goal = goal.to_owned();
        move |source| RemoteError::Materialize { goal, path, source }
    };
    let goals_dir = layout.goals_dir();
    fs::create_dir_all(&goals_dir).map_err(materialize(&goals_dir))?;
    if existing {
        let old = layout.fetch_dir().join(format!("{goal}.{}.old", std::process::id()));
        fs::rename(&paths.goal_dir, &old).map_err(materialize(&paths.goal_dir))?;
        fs::rename(staging, &paths.goal_dir).map_err(materialize(&paths.goal_dir))?;
        fs::remove_dir_all(&old).ok();
        return Ok(GoalOutcome::Updated);
    }
    match fs::rename(staging, &paths.goal_dir) {
        Ok(()) => Ok(GoalOutcome::Added),
        // A run here created the goal meanwhile: it wins.
        Err(_) if paths.goal_dir.exists() => {
            fs::remove_dir_all(staging).ok();
            Ok(GoalOutcome::LocalRun)
        }
        Err(source) => {
            fs::remove_dir_all(staging).ok();
            Err(materialize(&paths.goal_dir)(source).into())
        }
    }
}

/// Returns why an evidence tree cannot be written as a goal's directory, if it cannot: a path
/// that leaves it, or a missing log or proof.
fn check_tree(tree: &[TreeFile]) -> Option<String> {
    for file in tree {
        let inside =
            Path::new(&file.path).components().all(|it| matches!(it, Component::Normal(_)));
        if !inside || file.path.is_empty() {
            return Some(format!("its path {:?} leaves the goal directory", file.path));
        }
    }
    for required in [files::EVENTS, files::PROOF] {
        if !tree.iter().any(|it| it.path == required) {
            return Some(format!("the evidence has no {required}"));
        }
    }
    None
}

/// Writes every file of `tree` under the new directory `staging`, each file and directory
/// synced. The directory is invisible to every reader until it is renamed into place, so its
/// files need no temporary names of their own: the rename is what makes the goal appear whole.
fn stage(staging: &Path, tree: &[TreeFile]) -> io::Result<()> {
    if staging.exists() {
        fs::remove_dir_all(staging)?;
    }
    fs::create_dir_all(staging)?;
    let mut dirs = std::collections::BTreeSet::from([staging.to_owned()]);
    for file in tree {
        let path = staging.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
            dirs.extend(
                parent.ancestors().take_while(|it| it.starts_with(staging)).map(Path::to_owned),
            );
        }
        let mut out = fs::File::create(&path)?;
        io::Write::write_all(&mut out, &file.content)?;
        out.sync_all()?;
    }
    for dir in dirs {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Removes what fetches that were killed left in `.omk/fetch/`; a goal directory moved aside
/// while it was replaced goes back when nothing took its place.
fn clean_staging(layout: &Layout) {
    let Ok(entries) = fs::read_dir(layout.fetch_dir()) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (stem, old) = match name.strip_suffix(".old") {
            Some(stem) => (stem.to_owned(), true),
            None => (name.clone(), false),
        };
        let Some((goal, pid)) = stem.rsplit_once('.') else { continue };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        if is_alive(pid) {
            continue;
        }
        let path: PathBuf = entry.path();
        let goal_dir = layout.goals_dir().join(goal);
        if old && !goal_dir.exists() && fs::rename(&path, &goal_dir).is_ok() {
            continue;
        }
        fs::remove_dir_all(&path).ok();
    }
}

/// Returns whether a process `pid` exists.
fn is_alive(pid: i32) -> bool {
    pid == std::process::id() as i32
        || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// Sets the goal's branch `omk/<goal-id>` to the fetched one when absent here.
fn adopt_branch(repo: &Repo, prefix: &str, goal: &GoalId) -> Result<RefOutcome, Error> {
    let fetched = format!("{prefix}branches/{goal}");
    let Some(theirs) = omk_worktree::ref_target(repo, &fetched)? else {
        return Ok(RefOutcome::Skipped);
    };
    let local = format!("refs/heads/omk/{goal}");
    Ok(match omk_worktree::ref_target(repo, &local)? {
        None => {
            let message = format!("omk fetch: goal {goal}'s branch");
            omk_worktree::set_ref(repo, &local, &theirs, None, &message)?;
            RefOutcome::Set
        }
        Some(ours) if ours == theirs => RefOutcome::Same,
        Some(_) => RefOutcome::LeftAlone,
    })
}

/// Sets the goal's anchors to the fetched ones when absent here, or when the fetched ones
/// extend them.
fn adopt_anchors(repo: &Repo, prefix: &str, goal: &GoalId) -> Result<RefOutcome, Error> {
    let fetched = format!("{prefix}anchors/{goal}");
    let Some(theirs) = omk_worktree::ref_target(repo, &fetched)? else {
        return Ok(RefOutcome::Skipped);
    };
    let local = anchor_ref(goal);
    let message = format!("omk fetch: goal {goal}'s anchors");
    Ok(match omk_worktree::ref_target(repo, &local)? {
        None => {
            omk_worktree::set_ref(repo, &local, &theirs, None, &message)?;
            RefOutcome::Set
        }
        Some(ours) if ours == theirs => RefOutcome::Same,
        Some(ours) => {
            let old = omk_worktree::read_blob(repo, &ours)?;
            let new = omk_worktree::read_blob(repo, &theirs)?;
            match (old, new) {
                (Some(old), Some(new)) if new.starts_with(&old) => {
                    omk_worktree::set_ref(repo, &local, &theirs, Some(&ours), &message)?;
                    RefOutcome::Updated
                }
                _ => RefOutcome::LeftAlone,
            }
        }
    })
}
