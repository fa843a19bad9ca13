//! The goal store: finding goals, reading a goal's log back into its state and proof, and
//! writing `proof.json`. Where the files are is [`crate::Layout`]'s.

use std::{fs, path::Path};

use omk_events::GoalId;
use omk_proof::Proof;

use crate::{
    error::Error,
    layout::{EVENTS_FILE, GoalPaths, Layout},
};

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The goal's files.
    pub paths: GoalPaths,
    /// The proof, as written to `proof.json`; its `goal_id` names the goal.
    pub proof: Proof,
}

/// A proof together with where its goal lives.
#[derive(Debug, Clone)]
pub struct LoadedProof {
    /// The goal's files.
    pub paths: GoalPaths,
    /// The proof, folded from the goal's log.
    pub proof: Proof,
}

/// Returns the proof of goal `goal`, or of the latest goal, in the repository containing `dir`.
///
/// The proof is folded from the log, the source of truth, so it is right even when
/// `proof.json` is missing.
pub fn load_proof(dir: &Path, goal: Option<&str>) -> Result<LoadedProof, Error> {
    let paths = find_goal(dir, goal)?;
    let proof = fold_log(&paths.events)?;
    Ok(LoadedProof { paths, proof })
}

/// Returns the paths of `goal` in the repository at `dir`: a goal id, a unique prefix of one,
/// or `latest`; `None` is the latest goal too. A goal without a log is an error naming it, and
/// a prefix of several goals an error listing them.
pub fn find_goal(dir: &Path, goal: Option<&str>) -> Result<GoalPaths, Error> {
    let repo = omk_worktree::open(dir)?;
    let goal = match goal.map(str::trim) {
        Some(text) if text != "latest" => {
            let exact = GoalId::parse(text)?;
            if Layout::new(&repo.root).goal(&exact).events.exists() {
                exact
            } else {
                let mut candidates: Vec<GoalId> = all_goals(&repo.root)?
                    .into_iter()
                    .filter(|it| it.as_str().starts_with(text))
                    .collect();
                match candidates.len() {
                    0 => return Err(Error::NoSuchGoal { goal: text.to_owned(), repo: repo.root }),
                    1 => candidates.remove(0),
                    _ => {
                        return Err(Error::AmbiguousGoal {
                            prefix: text.to_owned(),
                            candidates: candidates.iter().map(ToString::to_string).collect(),
                        });
                    }
                }
            }
        }
        _ => latest_goal(&repo.root)?.ok_or(Error::NoGoals { repo: repo.root.clone() })?,
    };
    Ok(Layout::new(&repo.root).goal(&goal))
}

/// Reads the goal's log back and folds it into the controller's state; returns the events too.
pub(crate) fn read_state(
    paths: &GoalPaths,
) -> Result<(Vec<omk_events::Envelope>, crate::decide::state::GoalState), Error> {
    let events = omk_events::read_log(&paths.events)?.events;
    let state = crate::decide::state::GoalState::fold(&events)
        .ok_or_else(|| Error::NotAGoalLog { path: paths.events.clone() })?;
    Ok((events, state))
}

/// Folds the goal's log into its proof and writes `proof.json` (atomically).
pub(crate) fn write_proof(paths: &GoalPaths) -> Result<RunOutcome, Error> {
    let proof = fold_log(&paths.events)?;
    write_proof_file(paths, &proof)?;
    Ok(RunOutcome { paths: paths.clone(), proof })
}

/// Writes `proof` as the goal's `proof.json` (atomically), after anchoring the log it was
/// folded from outside `.omk/` ([`crate::anchor`]), so the proof never names a log end that is
/// not anchored; then refreshes the goal's `report.html` when it has one.
pub(crate) fn write_proof_file(paths: &GoalPaths, proof: &Proof) -> Result<(), Error> {
    let repo = omk_worktree::open(&paths.repo_root)?;
    crate::anchor::anchor_log(&repo, &paths.goal_id, proof)?;
    omk_events::files::write_atomic(&paths.proof, proof.to_json().as_bytes())
        .map_err(|source| Error::Write { path: paths.proof.clone(), source })?;
    crate::report::refresh_report(paths);
    Ok(())
}

/// Folds the log at `path` into its proof, streaming: memory follows the proof, not the log.
pub(crate) fn fold_log(path: &Path) -> Result<omk_proof::Proof, Error> {
    let mut synthesizer = omk_proof::Synthesizer::new();
    for envelope in omk_events::LogReader::open(path)?.parallel_if_long() {
        synthesizer.apply(&envelope?)?;
    }
    Ok(synthesizer.finish()?)
}

/// Returns the goal created last, if any.
fn latest_goal(repo_root: &Path) -> Result<Option<GoalId>, Error> {
    Ok(all_goals(repo_root)?.pop())
}

/// Returns every goal with a log in the repository, oldest first: by the time of their
/// `goal_created` event, then (for goals created in the same millisecond, as with a fixed clock)
/// by when their log file was created, then by id.
pub(crate) fn all_goals(repo_root: &Path) -> Result<Vec<GoalId>, Error> {
    let mut goals: Vec<GoalOrder> = map_parallel(goal_ids(repo_root)?, |goal| {
        let log = Layout::new(repo_root).goal(&goal).events;
        GoalOrder::of(omk_events::first_event_time(&log), &log, goal)
    });
    goals.sort();
    Ok(goals.into_iter().map(|order| order.goal).collect())
}

/// Where a goal sorts among the others: by when it was created (its first event), then by when
/// its log file was created, then by id.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GoalOrder {
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    born: Option<std::time::SystemTime>,
    goal: GoalId,
}

impl GoalOrder {
    /// Returns the order of `goal`, created at `created_at`, whose log is `log`.
    pub(crate) fn of(
        created_at: Option<chrono::DateTime<chrono::Utc>>,
        log: &Path,
        goal: GoalId,
    ) -> Self {
        let born = fs::metadata(log).ok().and_then(|meta| meta.created().or(meta.modified()).ok());
        Self { created_at, born, goal }
    }
}

/// Returns the ids of every goal with a log in the repository, sorted.
pub(crate) fn goal_ids(repo_root: &Path) -> Result<Vec<GoalId>, Error> {
    let dir = Layout::new(repo_root).goals_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::ReadGoals { path: dir, source }),
    };
    let mut goals: Vec<GoalId> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join(EVENTS_FILE).is_file())
        .filter_map(|entry| GoalId::parse(entry.file_name().to_str()?).ok())
        .collect();
    goals.sort();
    Ok(goals)
}

/// Returns `f` of every item, in order, spread over a few threads when there are many items:
/// `omk list` and `omk status` read one log per goal, and the logs do not depend on each other.
pub(crate) fn map_parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    const PER_THREAD: usize = 64;
    let threads = if items.len() < 2 * PER_THREAD {
        1
    } else {
        std::thread::available_parallelism().map_or(1, usize::from).min(4)
    };
    map_on_threads(items, threads, f)
}

/// Returns `f` of every item, in order, with the items split into `threads` runs of
/// consecutive items, each on a thread of its own (no thread for one run).
pub(crate) fn map_on_threads<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let part: Vec<T> = items.by_ref().take(chunk).collect();
        if part.is_empty() {
            break;
        }
        chunks.push(part);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|part| scope.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                // A panic in a worker is a bug; it goes on in this thread as it would have.
                handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::map_parallel;

    #[test]
    fn map_parallel_keeps_the_order_of_its_items_on_every_path() {
        for len in [0, 1, 127, 128, 129, 1000, 1001] {
            let items: Vec<u64> = (0..len).collect();
            let threads = std::sync::Mutex::new(std::collections::HashSet::new());
            let mapped = map_parallel(items, |n| {
                threads.lock().map(|mut it| it.insert(std::thread::current().id())).ok();
                n * 3
            });
            assert_eq!(mapped, (0..len).map(|n| n * 3).collect::<Vec<_>>(), "{len} items");
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            let used = threads.lock().map(|it| it.len()).unwrap_or(0);
            if len >= 128 && cores > 1 {
                assert!(used > 1, "{len} items are spread over threads, not {used}");
            } else if len > 0 {
                assert_eq!(used, 1, "{len} items stay on one thread");
            }
        }
    }
}
