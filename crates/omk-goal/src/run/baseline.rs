//! The baseline gates: the goal's gates on the base tree, in a scratch worktree of their own
//! (`.omk/verify/<goal-id>/baseline/`), run beside the agent or, when the agent step is done
//! without them, on their own.
//!
//! Nothing a baseline gate writes reaches the goal's worktree, and the time to a verdict is the
//! longer of the agent and the baseline, plus the proposed gates. The results mean what they
//! always meant: each gate on the base tree. A stop (pause, cancel, a budget) ends both; a
//! result the stop cut short is not recorded, so a resumed run runs that gate again, and the
//! scratch worktree is removed whatever happens (a killed run's is removed by the next one, or
//! by `omk worktree gc` once its lock's holder is gone).

use std::{
    path::PathBuf,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use omk_events::{Event, GatePhase, Step};
use omk_gates::{GateEvent, GateSpec};
use omk_worktree::Repo;
use tokio::sync::watch;

use crate::{
    decide::fail_to_pass::TestFiles,
    error::Error,
    gate_run::{self, GateCache, GateSite},
    layout::{Layout, artifacts},
    run::{
        control::{Stop, Stopper},
        controller::{Controller, Flow},
        fail_to_pass::{PrepareScratch, prepare_scratch},
    },
};

/// Everything a run of the baseline gates needs, owned, so it can run on a thread of its own
/// while the agent runs on the controller's.
pub(crate) struct BaselineJob {
    repo: Repo,
    /// The scratch worktree's directory.
    path: PathBuf,
    /// The goal's base commit, checked out in the scratch worktree.
    base_commit: String,
    /// The baseline gates with no result yet.
    specs: Vec<GateSpec>,
    /// `[worktree] copy` and `setup`, applied as to every worktree omk makes.
    copy: Vec<String>,
    setup: Vec<String>,
    setup_sandbox: omk_sandbox::Sandbox,
    /// The run's sandbox, which makes the gates' once the scratch worktree exists: warm builds
    /// look at the worktree's own files (its lockfile, its dependencies).
    sandbox: crate::sandbox::RunSandbox,
    goal_dir: PathBuf,
    max_parallel: usize,
    env: Vec<(String, String)>,
    layout: Layout,
    run_id: String,
    cache_env: Vec<String>,
    read_cache: bool,
}

/// How a run of the baseline gates ended, with the events of the gates that ran to their end.
pub(crate) struct BaselineRun {
    /// The `gate_started` and `gate_finished` events of the gates that finished before any stop,
    /// in the order the runner reported them: the caller records them once the agent's events
    /// are in the log, so the log's order does not depend on which of the two finished first.
    pub(crate) events: Vec<Event>,
    pub(crate) end: BaselineEnd,
}

/// How a run of the baseline gates ended.
pub(crate) enum BaselineEnd {
    /// Every gate ran to its end.
    Done,
    /// A stop cut the gates short; results after it are dropped.
    Stopped(Stop),
    /// The scratch worktree could not be made: a failure of the gate step, recorded by the
    /// caller.
    Failed(Error),
}

impl Controller<'_> {
    /// Returns the run of the baseline gates that have no result yet, or `None` when every one
    /// has.
    pub(crate) fn baseline_job(&self) -> Option<BaselineJob> {
        let state = &self.rec.state;
        let missing = state.missing_baseline(&self.config.gate_names);
        let specs: Vec<GateSpec> =
            self.config.gates.iter().filter(|it| missing.contains(&it.name)).cloned().collect();
        if specs.is_empty() {
            return None;
        }
        let layout = Layout::new(&self.repo.root);
        let path = layout.baseline_worktree(&state.goal_id);
        Some(BaselineJob {
            repo: self.repo.clone(),
            base_commit: state.created.base_commit.clone(),
            specs,
            copy: self.config.worktree.copy.clone(),
            setup: self.config.worktree.setup.clone(),
            setup_sandbox: self.sandbox.for_setup(&path),
            sandbox: self.sandbox.clone(),
            goal_dir: self.paths.goal_dir.clone(),
            max_parallel: self.max_parallel_gates,
            env: self.gate_environment.to_vec(),
            layout,
            run_id: state.goal_id.to_string(),
            cache_env: self.config.gate_config.cache_env.clone(),
            read_cache: self.reuse_cached_gates,
            path,
        })
    }

    /// Runs the baseline gates that have no result yet on their own: a team goal's before its
    /// slices, or a goal's whose agent step ended while they ran (a stop, a crash).
    pub(crate) fn run_baseline(&mut self, stopper: &Stopper<'_>) -> Result<Flow, Error> {
        let Some(job) = self.baseline_job() else { return Ok(Flow::Continue) };
        let run = std::thread::scope(|scope| {
            let gates = scope.spawn(|| run_baseline_job(&job, &|| stopper.check()));
            gates.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        self.end_baseline(stopper, run)
    }

    /// Removes the scratch worktrees a killed run of the goal left (the baseline's, the
    /// fail-to-pass check's): a step that needs one makes it afresh, and one whose step is done
    /// would otherwise wait for `omk worktree gc`.
    pub(crate) fn remove_scratch_leftovers(&self) {
        let layout = Layout::new(&self.repo.root);
        let goal = &self.rec.state.goal_id;
        for path in [layout.baseline_worktree(goal), layout.fail_to_pass_worktree(goal)] {
            if path.symlink_metadata().is_ok()
                && let Err(err) = omk_worktree::remove_scratch(&self.repo, &path)
            {
                tracing::warn!(error = %crate::error::error_chain(&err), "scratch worktree left");
            }
        }
    }

    /// Records a baseline run: its gates' events, then, when it did not end with its gates
    /// done, the stop (as a halt) or the failure; returns whether the run goes on.
    pub(crate) fn end_baseline(
        &mut self,
        stopper: &Stopper<'_>,
        run: BaselineRun,
    ) -> Result<Flow, Error> {
        for event in run.events {
            self.rec.record(event)?;
        }
        match run.end {
            BaselineEnd::Done => Ok(Flow::Continue),
            BaselineEnd::Stopped(stop) => {
                self.rec.halt(&stop)?;
                stopper.clear();
                Ok(Flow::Stop)
            }
            BaselineEnd::Failed(err) => {
                self.rec.fail(Step::Gates, &err)?;
                Ok(Flow::Stop)
            }
        }
    }
}

/// Runs `job`'s gates on the base tree in its scratch worktree (made afresh, and removed
/// afterwards), until they finish or `stop` says to stop; `stop` is asked at least every
/// 100 ms. Returns the events of the gates that finished before any stop, for the caller to
/// record.
///
/// Blocks the calling thread: the gates run on a runtime of its own, so the caller's thread can
/// run the agent meanwhile. A scratch worktree that cannot be made is [`BaselineEnd::Failed`].
pub(crate) fn run_baseline_job(
    job: &BaselineJob,
    stop: &(dyn Fn() -> Option<Stop> + Sync),
) -> Result<BaselineRun, Error> {
    let ended = |end| Ok(BaselineRun { events: Vec::new(), end });
    if let Some(stop) = stop() {
        return ended(BaselineEnd::Stopped(stop));
    }
    let tests = TestFiles::default();
    let prepare = PrepareScratch {
        path: &job.path,
        base_commit: &job.base_commit,
        worktree: &job.path,
        tests: &tests,
        copy: &job.copy,
        setup: &job.setup,
        sandbox: job.setup_sandbox.clone(),
    };
    let (scratch, tree_id) = match prepare_scratch(&job.repo, &prepare) {
        Ok(prepared) => prepared,
        Err(err) => return ended(BaselineEnd::Failed(err)),
    };
    let (cancel, cancelled) = watch::channel(false);
    let site = GateSite {
        worktree: &job.path,
        artifact_root: &job.goal_dir,
        artifact_dir: artifacts::gate_logs(GatePhase::Baseline, &tree_id),
        phase: GatePhase::Baseline,
        tree_id: Some(tree_id),
        max_parallel: job.max_parallel,
        env: &job.env,
        cancel: Some(cancelled),
        sandbox: job.sandbox.for_gates(&job.path),
    };
    let cache = GateCache {
        layout: &job.layout,
        run_id: job.run_id.clone(),
        cache_env: &job.cache_env,
        read: job.read_cache,
    };
    let options = gate_run::run_options(site, Some(cache));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Write { path: "tokio runtime".into(), source })?;
    let stopped: Mutex<Option<Stop>> = Mutex::new(None);
    let mut started: Vec<(String, Event)> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut observer = |event: GateEvent<'_>| {
        // Results of gates the stop cut short say nothing about the base tree.
        if stopped.lock().unwrap_or_else(PoisonError::into_inner).is_some() {
            return;
        }
        match event {
            GateEvent::Started(gate) => {
                started.push((gate.name.clone(), Event::GateStarted(gate.clone())));
            }
            GateEvent::Finished(run) => {
                // Each result follows its start, and a start without a result is dropped.
                if let Some(idx) = started.iter().position(|(name, _)| *name == run.result.name) {
                    events.push(started.remove(idx).1);
                }
                events.push(Event::GateFinished(run.result.clone()));
            }
        }
    };
    let watcher = async {
        loop {
            if let Some(stop) = stop() {
                *stopped.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop);
                cancel.send(true).ok();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        std::future::pending::<()>().await;
    };
    runtime.block_on(async {
        tokio::select! {
            _ = omk_gates::run_gates(&job.specs, &options, &mut observer) => {}
            () = watcher => {}
        }
    });
    if let Err(err) = scratch.remove() {
        // The scratch worktree is locked with this process's pid: the next run of the goal,
        // or `omk worktree gc` once the process is gone, removes it.
        tracing::warn!(error = %crate::error::error_chain(&err), "baseline worktree left");
    }
    let end = match stopped.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some(stop) => BaselineEnd::Stopped(stop),
        None => BaselineEnd::Done,
    };
    Ok(BaselineRun { events, end })
}
