//! The gate steps of a goal: the baseline gates on the base tree and the proposed gates on the
//! change, recorded as they run and stopped with the run.

use std::{cell::RefCell, path::Path, time::Duration};

use omk_events::{Event, GateFinished, GateLeftFiles, GatePhase, Step};
use omk_gates::{GateEvent, GateSpec, RunOptions};
use tokio::sync::watch;

use crate::{
    error::Error,
    gate_run::{self, GateCache, GateSite},
    layout::{Layout, artifacts},
    run::{
        control::{Stop, Stopper},
        controller::{Controller, Flow},
    },
};

impl Controller<'_> {
    /// Runs the gates of `phase` that have no result yet: baseline ones on the base tree, in
    /// their own scratch worktree; proposed ones on the proposed tree, in the goal's worktree,
    /// which is put back to that tree afterwards ([`Controller::restore_after_gates`]).
    ///
    /// Before proposed gates the worktree is captured again: what an interrupted run of the
    /// gates left there is removed; otherwise, if someone changed it since the last capture, the
    /// new tree is recorded instead, and the steps after a change run on it.
    pub(crate) async fn run_gate_step(
        &mut self,
        stopper: &Stopper<'_>,
        phase: GatePhase,
    ) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let Some(worktree) = state.worktree.clone() else { return Ok(Flow::Stop) };
        let names = match phase {
            GatePhase::Baseline => return self.run_baseline(stopper),
            GatePhase::Proposed => state.missing_gates(&self.config.gate_names),
            GatePhase::Integration => return Ok(Flow::Continue),
        };
        let tree_id = match self.capture_worktree(&worktree.path, &state.base_commit) {
            Ok(changes) => changes,
            Err(err) => {
                self.rec.fail(Step::Gates, &err)?;
                return Ok(Flow::Stop);
            }
        };
        if let Some(tree) = state.tree.clone().filter(|it| *it != tree_id.tree_id) {
            if state.gates_ran_on_tree {
                // A run of the gates on this tree was cut short before it put the tree back.
                return self.restore_after_gates(&worktree.path, &tree, phase);
            }
            let base_commit = state.base_commit.clone();
            let captured = self.captured(&worktree.path, &base_commit, tree_id)?;
            self.rec.record(Event::ChangesCaptured(captured))?;
            return Ok(Flow::Continue);
        }
        let tree_id = tree_id.tree_id;
        let specs: Vec<GateSpec> =
            self.config.gates.iter().filter(|it| names.contains(&it.name)).cloned().collect();
        let (cancel, cancelled) = watch::channel(false);
        let options = self.gate_options(&worktree.path, phase, tree_id.clone(), cancelled);
        let stop =
            self.run_gates_recorded(stopper, &specs, &options, cancel, |_| {}, |_| {}).await?;
        if let Flow::Stop = self.restore_after_gates(&worktree.path, &tree_id, phase)? {
            stopper.clear();
            return Ok(Flow::Stop);
        }
        if let Some(stop) = stop {
            self.rec.halt(&stop)?;
            stopper.clear();
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }

    /// Puts the worktree at `worktree`, in which gates of `phase` ran, back to `tree_id`, the
    /// tree it held before them: what a gate writes is never the agent's work, so it is never
    /// captured, committed or handed to a later step. Records `gate_left_files` when the gates
    /// left anything; a worktree that cannot be put back fails the gate step.
    pub(crate) fn restore_after_gates(
        &mut self,
        worktree: &Path,
        tree_id: &str,
        phase: GatePhase,
    ) -> Result<Flow, Error> {
        match self.put_back_after_gates(worktree, tree_id, phase) {
            Ok(()) => Ok(Flow::Continue),
            Err(Error::Repo(err)) => {
                self.rec.fail(Step::Gates, &err)?;
                Ok(Flow::Stop)
            }
            Err(err) => Err(err),
        }
    }

    /// Like [`Controller::restore_after_gates`], with a worktree that cannot be put back as an
    /// error.
    pub(crate) fn put_back_after_gates(
        &mut self,
        worktree: &Path,
        tree_id: &str,
        phase: GatePhase,
    ) -> Result<(), Error> {
        // A gate may have rewritten the `.git` file, and git reads the worktree through it.
        omk_worktree::verify_pointer(&self.repo, worktree)?;
        let restored = omk_worktree::restore_tree(worktree, tree_id)?;
        if !restored.is_empty() {
            self.rec.record(Event::GateLeftFiles(GateLeftFiles {
                phase,
                tree_id: tree_id.to_owned(),
                created: restored.removed,
                rewritten: restored.restored,
            }))?;
        }
        Ok(())
    }

    /// Runs `specs` with `options`, recording their events, until they finish or `stopper`
    /// asks to stop: then `on_stop` hears of it at once, `cancel` stops the gates, and results
    /// the stop cut short are not recorded. `finished` sees each recorded result. Returns the
    /// stop, if one came; the caller records the halt.
    pub(crate) async fn run_gates_recorded(
        &mut self,
        stopper: &Stopper<'_>,
        specs: &[GateSpec],
        options: &RunOptions,
        cancel: watch::Sender<bool>,
        on_stop: impl Fn(&Stop),
        mut finished: impl FnMut(&GateFinished),
    ) -> Result<Option<Stop>, Error> {
        let stopped: RefCell<Option<Stop>> = RefCell::new(None);
        let recorded: RefCell<Result<(), Error>> = RefCell::new(Ok(()));
        let rec = RefCell::new(&mut self.rec);
        let mut observer = |event: GateEvent<'_>| {
            // Results of gates the stop cut short say nothing about the change.
            if stopped.borrow().is_some() {
                return;
            }
            let event = match event {
                GateEvent::Started(started) => Event::GateStarted(started.clone()),
                GateEvent::Finished(run) => {
                    finished(&run.result);
                    Event::GateFinished(run.result.clone())
                }
            };
            let mut recorded = recorded.borrow_mut();
            if recorded.is_ok() {
                *recorded = rec.borrow_mut().record(event);
            }
        };
        let watcher = async {
            loop {
                if let Some(stop) = stopper.check() {
                    on_stop(&stop);
                    *stopped.borrow_mut() = Some(stop);
                    cancel.send(true).ok();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = omk_gates::run_gates(specs, options, &mut observer) => {}
            () = watcher => {}
        }
        recorded.into_inner()?;
        Ok(stopped.into_inner())
    }

    /// Returns how the gates of `phase` run on `tree_id` in `worktree`: their logs under the
    /// goal's `artifacts/gates/<phase>-<tree>/`, the gate cache, and `cancelled` to stop them.
    pub(crate) fn gate_options(
        &self,
        worktree: &Path,
        phase: GatePhase,
        tree_id: String,
        cancelled: watch::Receiver<bool>,
    ) -> RunOptions {
        let site = GateSite {
            worktree,
            artifact_root: &self.paths.goal_dir,
            artifact_dir: artifacts::gate_logs(phase, &tree_id),
            phase,
            tree_id: Some(tree_id),
            max_parallel: self.max_parallel_gates,
            env: self.gate_environment,
            cancel: Some(cancelled),
            sandbox: self.sandbox.for_gates(worktree),
        };
        let cache = GateCache {
            layout: &Layout::new(&self.repo.root),
            run_id: self.rec.state.goal_id.to_string(),
            cache_env: &self.config.gate_config.cache_env,
            read: self.reuse_cached_gates,
        };
        gate_run::run_options(site, Some(cache))
    }
}
