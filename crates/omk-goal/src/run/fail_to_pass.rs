//! The fail-to-pass step of a goal: the required test gates run once more on the base tree with
//! only the change's test files applied, in a scratch worktree, to show that a test fails
//! without the change (a step of the controller, in its own file).
//!
//! The step ends with one `fail_to_pass_checked` event for the proposed tree; a run killed
//! during it leaves only `fail_to_pass_started`, so a resumed run does the check again, in a
//! fresh scratch worktree, and records it once.

use std::{fs, io, path::Path, time::Duration};

use omk_events::{
    Event, FailToPassChecked, FailToPassRun, FailToPassSkip, FailToPassStarted, GatePhase, Step,
};
use omk_gates::{GateRun, GateSpec};
use omk_worktree::{Repo, ScratchOptions};
use tokio::sync::watch;

use crate::{
    check::rerun::Scratch,
    decide::fail_to_pass::{TestFiles, check_gates, test_files},
    error::Error,
    gate_run::{self, GateSite},
    layout::{Layout, artifacts},
    run::{
        control::Stopper,
        controller::{Controller, Flow, changed_file},
    },
};

impl Controller<'_> {
    /// Runs the fail-to-pass check of the proposed tree, or records that nothing has to run:
    /// the change has no test file, no required test gate is configured, or a gate that failed
    /// on the base tree in the baseline passes on the proposed tree already.
    pub(crate) async fn run_fail_to_pass(&mut self, stopper: &Stopper<'_>) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let (Some(worktree), Some(tree_id)) = (state.worktree.clone(), state.tree.clone()) else {
            return Ok(Flow::Stop);
        };
        let base_commit = state.base_commit.clone();
        // The test files are read from git now; a worktree someone changed since the gates ran
        // is recorded as a new tree, and the steps after a change run on it first.
        let changes = match self.capture_worktree(&worktree.path, &base_commit) {
            Ok(changes) => changes,
            Err(err) => {
                self.rec.fail(Step::Gates, &err)?;
                return Ok(Flow::Stop);
            }
        };
        if changes.tree_id != tree_id {
            if state.gates_ran_on_tree {
                // The gates' run on this tree was cut short before it put the tree back.
                return self.restore_after_gates(&worktree.path, &tree_id, GatePhase::Proposed);
            }
            let captured = self.captured(&worktree.path, &base_commit, changes)?;
            self.rec.record(Event::ChangesCaptured(captured))?;
            return Ok(Flow::Continue);
        }
        let files: Vec<_> = changes.files.into_iter().map(changed_file).collect();
        let tests = test_files(&files);
        let specs = check_gates(&self.config.gates, &state.oracle_gates);
        // A change that removes a test could pass by dropping the one that failed on the base,
        // so the baseline counts only when it removes none; otherwise the check runs with the
        // removal applied.
        let from_baseline = tests.remove.is_empty()
            && specs.iter().any(|spec| {
                state.baseline_exited_failing.contains(&spec.name)
                    && state.passed_on_tree(&spec.name)
            });
        let scratch_path = Layout::new(&self.repo.root).fail_to_pass_worktree(&state.goal_id);
        let mut checked = FailToPassChecked {
            tree_id: tree_id.clone(),
            base_commit: base_commit.clone(),
            test_paths: tests.paths(),
            checked_tree_id: None,
            gates: Vec::new(),
            skipped: None,
        };
        checked.skipped = if from_baseline {
            Some(FailToPassSkip::Baseline)
        } else if checked.test_paths.is_empty() {
            Some(FailToPassSkip::NoTestFiles)
        } else if specs.is_empty() {
            Some(FailToPassSkip::NoTestGate)
        } else {
            None
        };
        if checked.skipped.is_some() {
            self.rec.record(Event::FailToPassChecked(checked))?;
            return Ok(Flow::Continue);
        }
        self.rec.record(Event::FailToPassStarted(FailToPassStarted {
            tree_id: tree_id.clone(),
            gates: specs.iter().map(|it| it.name.clone()).collect(),
        }))?;
        // The scratch worktree's guard holds its own handle of the repository, so the steps
        // can go on recording while it lives.
        let repo = self.repo.clone();
        let prepare = PrepareScratch {
            path: &scratch_path,
            base_commit: &base_commit,
            worktree: &worktree.path,
            tests: &tests,
            copy: &self.config.worktree.copy,
            setup: &self.config.worktree.setup,
            sandbox: self.sandbox.for_setup(&scratch_path),
        };
        let prepared = prepare_scratch(&repo, &prepare);
        let (scratch, checked_tree) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => {
                self.rec.fail(Step::Gates, &err)?;
                return Ok(Flow::Stop);
            }
        };
        let Some(runs) = self.run_check_gates(stopper, &specs, &scratch.path, &tree_id).await?
        else {
            return Ok(Flow::Stop);
        };
        checked.checked_tree_id = Some(checked_tree);
        checked.gates = runs.into_iter().map(|run| self.check_run(run)).collect();
        self.rec.record(Event::FailToPassChecked(checked))?;
        if let Err(err) = scratch.remove() {
            // The scratch worktree is locked with this process's pid: `omk worktree gc` removes
            // it once the process is gone.
            tracing::warn!(error = %crate::error::error_chain(&err), "scratch worktree left");
        }
        Ok(Flow::Continue)
    }

    /// Runs `specs` in the scratch worktree `dir` without the gate cache, their logs under the
    /// proposed tree's `artifacts/gates/fail-to-pass-<tree>/`; `None` when a pause, cancel or
    /// budget stop cut them short (the halt is recorded, the results are not).
    async fn run_check_gates(
        &mut self,
        stopper: &Stopper<'_>,
        specs: &[GateSpec],
        dir: &Path,
        tree_id: &str,
    ) -> Result<Option<Vec<GateRun>>, Error> {
        let (cancel, cancelled) = watch::channel(false);
        let site = GateSite {
            worktree: dir,
            artifact_root: &self.paths.goal_dir,
            artifact_dir: artifacts::fail_to_pass_logs(tree_id),
            phase: GatePhase::Baseline,
            tree_id: None,
            max_parallel: self.max_parallel_gates,
            env: self.gate_environment,
            cancel: Some(cancelled),
            // The check runs the change's tests: confined to the scratch worktree, as every
            // gate is to its own.
            sandbox: self.sandbox.for_gates(dir),
        };
        // No cache: the check must run the tests, and a run on a tree no goal proposes is no
        // result to keep.
        let options = gate_run::run_options(site, None);
        let watcher = async {
            loop {
                if let Some(stop) = stopper.check() {
                    cancel.send(true).ok();
                    return stop;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let mut observer = |_: omk_gates::GateEvent<'_>| {};
        let runs = tokio::select! {
            runs = omk_gates::run_gates(specs, &options, &mut observer) => runs,
            stop = watcher => {
                self.rec.halt(&stop)?;
                stopper.clear();
                return Ok(None);
            }
        };
        Ok(Some(runs))
    }

    /// Returns a gate's run in the check, with the tests its log names as failed.
    fn check_run(&self, run: GateRun) -> FailToPassRun {
        let mut result = run.result;
        let failing = result
            .output
            .as_ref()
            .and_then(|output| fs::read(self.paths.goal_dir.join(&output.path)).ok())
            .map(|bytes| omk_gates::failing_tests(&String::from_utf8_lossy(&bytes)))
            .unwrap_or_default();
        result.tree_id = None;
        FailToPassRun { run: result, failing_tests: failing }
    }
}

/// Where the fail-to-pass check's scratch worktree goes and what it holds.
pub(crate) struct PrepareScratch<'a> {
    /// The scratch worktree's directory.
    pub(crate) path: &'a Path,
    pub(crate) base_commit: &'a str,
    /// The goal's worktree, which has the change's test files.
    pub(crate) worktree: &'a Path,
    pub(crate) tests: &'a TestFiles,
    /// `[worktree] copy` and `setup`, applied as to every worktree omk makes.
    pub(crate) copy: &'a [String],
    pub(crate) setup: &'a [String],
    /// The sandbox `setup` runs in, confined to the scratch worktree like every other process
    /// of the goal.
    pub(crate) sandbox: omk_sandbox::Sandbox,
}

/// Checks the base commit out into a fresh scratch worktree (removing one a killed run left),
/// applies the change's test files, and returns the scratch worktree with the tree it now holds.
pub(crate) fn prepare_scratch<'r>(
    repo: &'r Repo,
    prepare: &PrepareScratch<'_>,
) -> Result<(Scratch<'r>, String), Error> {
    let path = prepare.path;
    if path.symlink_metadata().is_ok() {
        // Only a run of this goal makes it, and this run holds the goal's lock.
        omk_worktree::remove_scratch(repo, path)?;
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|source| Error::Write { path: parent.to_owned(), source })?;
    }
    let base = omk_worktree::commit_tip(repo, prepare.base_commit)?.ok_or_else(|| {
        omk_worktree::Error::InvalidName {
            what: "base commit",
            name: prepare.base_commit.to_owned(),
            problem: "the repository has no such commit".to_owned(),
        }
    })?;
    omk_worktree::create_scratch(
        repo,
        &ScratchOptions {
            path,
            tree_id: &base.tree_id,
            commit: Some(&base.commit),
            parent: &base.commit,
            copy: prepare.copy,
            setup: prepare.setup,
            sandbox: &prepare.sandbox,
        },
    )?;
    let scratch = Scratch { repo, path: path.to_owned(), removed: false };
    apply_test_files(prepare.worktree, path, prepare.tests)
        .map_err(|source| Error::Write { path: path.to_owned(), source })?;
    // `setup` ran in the scratch worktree: git must still read the goal's repository there.
    omk_worktree::verify_pointer(repo, path)?;
    let applied = omk_worktree::capture_changes(path, prepare.base_commit)?;
    Ok((scratch, applied.tree_id))
}

/// Writes the change's test files from `worktree` into `scratch` and removes those it deletes.
fn apply_test_files(worktree: &Path, scratch: &Path, tests: &TestFiles) -> io::Result<()> {
    for path in &tests.remove {
        match fs::remove_file(scratch.join(path)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
    }
    for path in &tests.write {
        let from = worktree.join(path);
        let to = scratch.join(path);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if to.symlink_metadata().is_ok() {
            fs::remove_file(&to)?;
        }
        if from.symlink_metadata()?.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from)?, &to)?;
        } else {
            fs::copy(&from, &to)?;
        }
    }
    Ok(())
}
