//! The steps of a goal, each ending with its event; see [`crate::decide::state::Next`] for the order.

use std::{
    path::Path,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use omk_agent::{RunContext, RunControl};
use omk_events::{
    ActivityKind, AgentActivity, AgentStarted, BudgetExhausted, BudgetResource, BudgetWarned,
    ChangesCaptured, ChangesCommitted, Event, RecoveryAction, RecoveryPerformed, Step,
    WorktreeCreated, files::write_atomic,
};
use omk_worktree::{CommitOptions, CreateOptions, Identity};

use crate::{
    error::Error,
    layout::artifacts,
    run::{
        control::{Stop, Stopper},
        controller::{Controller, Flow, Recorder, changed_file},
    },
};

impl Controller<'_> {
    /// Creates the goal's worktree on branch `omk/<goal-id>`, or adopts the one a crashed run
    /// created without recording it.
    pub(crate) fn create_worktree(&mut self) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let branch = format!("omk/{}", state.goal_id);
        let base_commit = state.created.base_commit.clone();
        let path = self.paths.worktree.clone();
        let worktree = match self.ensure_worktree(&path, &branch, &base_commit) {
            Ok(worktree) => worktree,
            Err(err) => {
                self.rec.fail(Step::Worktree, &err)?;
                return Ok(Flow::Stop);
            }
        };
        self.rec.record(Event::WorktreeCreated(WorktreeCreated {
            path: worktree.path,
            branch: worktree.branch,
            base_commit: worktree.base_commit,
        }))?;
        self.lease_worktree();
        Ok(Flow::Continue)
    }

    /// Returns the worktree at `path` on `branch`: the one an interrupted run registered, else
    /// a new one from `base_commit`, else (the branch is left, its worktree gone) one on the
    /// branch. The goal's worktree and a team's slice worktrees are made alike.
    pub(crate) fn ensure_worktree(
        &self,
        path: &std::path::Path,
        branch: &str,
        base_commit: &str,
    ) -> Result<omk_worktree::Worktree, omk_worktree::Error> {
        let registered = omk_worktree::list(&self.repo)?
            .into_iter()
            .find(|it| same_path(&it.path, path) && it.branch.as_deref() == Some(branch));
        if let Some(info) = registered.filter(|it| !it.prunable) {
            return Ok(omk_worktree::Worktree {
                path: info.path,
                branch: branch.to_owned(),
                base_commit: base_commit.to_owned(),
            });
        }
        let options = CreateOptions {
            path,
            branch,
            base_commit,
            copy: &self.config.worktree.copy,
            setup: &self.config.worktree.setup,
            sandbox: &self.sandbox.for_setup(path),
        };
        match omk_worktree::create(&self.repo, &options) {
            Err(omk_worktree::Error::BranchExists { .. }) => {
                omk_worktree::attach(&self.repo, &options)
            }
            other => other,
        }
    }

    /// Re-creates the goal's worktree when it is gone (removed by hand or by `omk worktree gc`)
    /// from its branch, or from the base when the branch is gone too, and records the repair.
    pub(crate) fn restore_worktree(&mut self) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let Some(worktree) = state.worktree.clone() else { return Ok(Flow::Continue) };
        if worktree.path.exists() {
            return Ok(Flow::Continue);
        }
        let base_commit = state.created.base_commit.clone();
        let options = CreateOptions {
            path: &worktree.path,
            branch: &worktree.branch,
            base_commit: &base_commit,
            copy: &self.config.worktree.copy,
            setup: &self.config.worktree.setup,
            sandbox: &self.sandbox.for_setup(&worktree.path),
        };
        let (restored, from) = match omk_worktree::attach(&self.repo, &options) {
            Err(omk_worktree::Error::InvalidName { .. }) => {
                (omk_worktree::create(&self.repo, &options), "the base commit")
            }
            other => (other, "its branch"),
        };
        match restored {
            Ok(_) => {
                self.rec.record(Event::RecoveryPerformed(RecoveryPerformed {
                    action: RecoveryAction::WorktreeRestored,
                    detail: format!(
                        "the worktree {} was gone; re-created it from {from} {}",
                        worktree.path.display(),
                        worktree.branch
                    ),
                }))?;
                Ok(Flow::Continue)
            }
            Err(err) => {
                self.rec.fail(Step::Worktree, &err)?;
                Ok(Flow::Stop)
            }
        }
    }

    /// Runs the agent in the worktree, with omk's hold on it: its activity becomes events as it
    /// happens, and a pause, a cancel, Ctrl-C or a budget stops it. In repair round `round`,
    /// the agent continues its conversation with the round's follow-up. Beside it, on a thread
    /// of their own, the baseline gates with no result yet run in their scratch worktree; the
    /// step ends when both are done, and a stop ends both.
    pub(crate) fn run_agent(
        &mut self,
        stopper: &Stopper<'_>,
        follow_up: Option<&str>,
        round: Option<u32>,
    ) -> Result<Flow, Error> {
        let round_follow_up = match round.map(|_| self.round_follow_up()).transpose() {
            Ok(it) => it,
            Err(err) => {
                self.rec.fail(Step::Agent, &err)?;
                return Ok(Flow::Stop);
            }
        };
        let state = &self.rec.state;
        let session = state.repair.session.clone();
        let continuation =
            round.zip(round_follow_up.as_ref()).map(|(round, it)| omk_agent::Continuation {
                round,
                follow_up: &it.text,
                follow_up_file: &it.path,
                session_id: session.as_deref(),
            });
        let Some(worktree) = state.worktree.clone() else { return Ok(Flow::Stop) };
        let run = state.agent_runs + 1;
        let transcript_path = artifacts::agent_transcript(run.into());
        let prompt = match follow_up {
            Some(follow_up) => format!("{}\n\nFollow-up: {follow_up}", state.created.prompt),
            None => state.created.prompt.clone(),
        };
        let goal_id = state.goal_id.to_string();
        let used = state.meter.used();
        let limits = state.meter.limits();
        let baseline = self.baseline_job();
        let Some(agent) = &self.agent else { return Ok(Flow::Stop) };
        self.rec.record(Event::AgentStarted(AgentStarted { agent: agent.spec().to_string() }))?;

        let (mcp, sandbox) = self.agent_sandbox(&worktree.path, agent)?;
        let checks_dir = self.paths.agent_checks();
        let (ran, baseline_end, stop) = {
            let rec = Mutex::new(&mut self.rec);
            let hold = Hold {
                agent,
                used_usd: used.usd.unwrap_or_default(),
                rec: &rec,
                stopper,
                stop: Mutex::new(None),
                error: Mutex::new(None),
                live: Mutex::new(Live::default()),
                approvals: Mutex::new(0),
                used_tokens: used.tokens,
                used_turns: used.turns,
                limits,
            };
            let ctx = RunContext {
                worktree: &worktree.path,
                prompt: &prompt,
                goal_id: &goal_id,
                artifact_root: &self.paths.goal_dir,
                transcript_path: &transcript_path,
                control: Some(&hold),
                sandbox: &sandbox,
                mcp: mcp.as_ref(),
                continuation,
            };
            let agent_failed = AtomicBool::new(false);
            // The baseline stops with the agent: on a stop the agent heard (its budget too), and
            // when the agent step fails.
            let stop = || {
                let failed = agent_failed
                    .load(Ordering::Relaxed)
                    .then(|| Stop::Pause("the agent step failed".to_owned()));
                stopper.check().or_else(|| lock(&hold.stop).clone()).or(failed)
            };
            let (ran, baseline_end) = std::thread::scope(|scope| {
                let beside = baseline.as_ref().map(|job| {
                    let stop = &stop;
                    scope.spawn(move || crate::run::baseline::run_baseline_job(job, stop))
                });
                let outcome = agent.run(&ctx);
                // The agent's end is recorded as it ends, while the baseline may still run.
                let ran = hold.finish(outcome, &checks_dir);
                if !matches!(ran, Ok(None)) {
                    agent_failed.store(true, Ordering::Relaxed);
                }
                let end =
                    beside.map(|it| it.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                (ran, end)
            });
            let stop = lock(&hold.stop).take();
            (ran, baseline_end, stop)
        };
        let agent_error = ran?;
        // The baseline's results follow the agent's events, whichever finished first.
        let mut baseline_end = baseline_end.transpose()?;
        if let Some(run) = &mut baseline_end {
            for event in std::mem::take(&mut run.events) {
                self.rec.record(event)?;
            }
        }
        if let Some(err) = agent_error {
            self.rec.fail(Step::Agent, &err)?;
            return Ok(Flow::Stop);
        }
        let Some(stop) = stop else {
            return match baseline_end {
                Some(run) => self.end_baseline(stopper, run),
                None => Ok(Flow::Continue),
            };
        };
        if matches!(stop, Stop::Budget(_)) {
            // The partial work is evidence: the proof lists what the agent changed so far.
            self.capture()?;
        }
        self.rec.halt(&stop)?;
        stopper.clear();
        Ok(Flow::Stop)
    }

    /// Returns omk's MCP server for the agent, when it gets one, and the agent's sandbox: the
    /// server runs in it and keeps its checks there, so their directory is made writable
    /// (Landlock grants only directories that exist, and the goal directory is not the agent's to
    /// write).
    fn agent_sandbox(
        &self,
        worktree: &Path,
        agent: &omk_agent::Agent,
    ) -> Result<(Option<omk_agent::McpServer>, omk_sandbox::Sandbox), Error> {
        let mcp = self.mcp_server();
        let mut sandbox = self.sandbox.for_agent(worktree, agent);
        if mcp.is_some() {
            let checks = self.paths.agent_checks();
            std::fs::create_dir_all(&checks)
                .map_err(|source| Error::Write { path: checks.clone(), source })?;
            sandbox.policy.writable.push(checks);
        }
        Ok((mcp, sandbox))
    }

    /// Reads the changes of a worktree the goal's processes ran in, against `base_commit`. Its
    /// `.git` file must still name its registration first (`verify_pointer`): the sandbox cannot
    /// keep that one file read-only, and git reads the worktree through it.
    pub(crate) fn capture_worktree(
        &self,
        path: &Path,
        base_commit: &str,
    ) -> Result<omk_worktree::Changes, omk_worktree::Error> {
        omk_worktree::verify_pointer(&self.repo, path)?;
        omk_worktree::capture_changes(path, base_commit)
    }

    /// Reads the worktree's changes against the base from git.
    pub(crate) fn capture(&mut self) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let Some(worktree) = state.worktree.clone() else { return Ok(Flow::Stop) };
        let base_commit = state.base_commit.clone();
        let captured = self
            .capture_worktree(&worktree.path, &base_commit)
            .map_err(Error::from)
            .and_then(|changes| self.captured(&worktree.path, &base_commit, changes));
        match captured {
            Ok(captured) => {
                self.rec.record(Event::ChangesCaptured(captured))?;
                Ok(Flow::Continue)
            }
            Err(err) => {
                self.rec.fail(Step::Changes, &err)?;
                Ok(Flow::Stop)
            }
        }
    }

    /// Returns the `changes_captured` event of `changes` (the worktree at `worktree` against
    /// `base_commit`), after writing its patch artifact.
    pub(crate) fn captured(
        &self,
        worktree: &std::path::Path,
        base_commit: &str,
        changes: omk_worktree::Changes,
    ) -> Result<ChangesCaptured, Error> {
        let diff = omk_worktree::diff_trees(worktree, base_commit, &changes.tree_id)?;
        let relative = artifacts::diff(&changes.tree_id);
        let path = self.paths.goal_dir.join(&relative);
        let write = |path: &std::path::Path| -> std::io::Result<omk_events::ArtifactRef> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_atomic(path, omk_worktree::unified_patch(&diff).as_bytes())?;
            omk_events::ArtifactRef::of_file(&self.paths.goal_dir, &relative)
        };
        let patch = write(&path).map_err(|source| Error::Write { path, source })?;
        Ok(ChangesCaptured {
            base_commit: base_commit.to_owned(),
            tree_id: changes.tree_id,
            files: changes.files.into_iter().map(changed_file).collect(),
            patch: Some(patch),
        })
    }

    /// Commits the captured change on the goal's branch, or adopts the commit a crashed run
    /// made without recording it.
    pub(crate) fn commit(&mut self) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let Some(worktree) = state.worktree.clone() else { return Ok(Flow::Stop) };
        let first_line = state.created.prompt.lines().next().unwrap_or_default();
        let mut subject: String = first_line.chars().take(68).collect();
        if subject.len() < first_line.len() {
            subject.push('…');
        }
        let message = format!("omk: {subject}\n\n{}", state.created.prompt);
        let committed = match self.commit_worktree(&worktree.path, &message) {
            Ok(commit) => commit,
            Err(err) => {
                self.rec.fail(Step::Commit, &err)?;
                return Ok(Flow::Stop);
            }
        };
        self.rec.record(Event::ChangesCommitted(ChangesCommitted {
            commit: committed.id,
            tree_id: committed.tree_id,
            parent: committed.parent,
            branch: worktree.branch,
            merged_base: None,
        }))?;
        Ok(Flow::Continue)
    }

    /// Commits the worktree at `path` as it is on its branch, with omk's identity and the goal's
    /// trailer; when there is nothing to commit (the branch holds the tree already, as after a
    /// crash right after the commit), returns the branch's head.
    pub(crate) fn commit_worktree(
        &self,
        path: &Path,
        message: &str,
    ) -> Result<omk_worktree::Commit, omk_worktree::Error> {
        let goal_id = self.rec.state.goal_id.to_string();
        let config = &self.config.worktree;
        let options = CommitOptions {
            identity: Identity { name: &config.author_name, email: &config.author_email },
            message,
            goal_id: &goal_id,
            time: self.rec.clock.now().timestamp(),
        };
        match omk_worktree::commit(path, &options)? {
            Some(commit) => Ok(commit),
            None => omk_worktree::head_commit(path),
        }
    }

    /// Compares what the gates check between the base and the proposed tree.
    pub(crate) fn check_surface(&mut self) -> Result<Flow, Error> {
        let state = &self.rec.state;
        let (Some(worktree), Some(tree)) = (state.worktree.clone(), state.tree.clone()) else {
            return Ok(Flow::Stop);
        };
        let mut named = omk_gates::files_named_by(&self.config.gates);
        // Whose signatures count is part of what judges a change, as the gates are.
        named
            .extend(self.config.trust_keys.iter().map(|it| it.trim_start_matches("./").to_owned()));
        let base = state.base_commit.clone();
        match omk_gates::check_gate_surface(
            &worktree.path,
            &base,
            &tree,
            &named,
            self.gate_environment,
        ) {
            Ok(check) => {
                self.rec.record(Event::GateSurfaceChecked(check))?;
                Ok(Flow::Continue)
            }
            Err(err) => {
                self.rec.fail(Step::Gates, &err)?;
                Ok(Flow::Stop)
            }
        }
    }

    /// Runs the review wall on the proposed tree.
    pub(crate) fn review(&mut self) -> Result<Flow, Error> {
        crate::run::review::review(self)
    }

    /// Folds the log on disk into the proof and writes `proof.json`.
    pub(crate) fn write_proof(&self) -> Result<crate::RunOutcome, Error> {
        crate::store::write_proof(&self.paths)
    }
}

/// Returns whether `a` and `b` name the same directory.
fn same_path(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// What the agent reported so far in this run.
#[derive(Debug, Default)]
struct Live {
    tokens: u64,
    steps: u64,
    /// The latest cumulative usage the agent reported, which its price table turns into cost.
    usage: Option<omk_events::TokenUsage>,
}

/// omk's hold on the running agent (see [`RunControl`]).
struct Hold<'h, 'e> {
    /// The running agent, whose price table estimates the cost of its usage so far.
    agent: &'h omk_agent::Agent,
    /// The cost of the goal's earlier agent runs.
    used_usd: f64,
    rec: &'h Mutex<&'h mut Recorder<'e>>,
    stopper: &'h Stopper<'h>,
    stop: Mutex<Option<Stop>>,
    error: Mutex<Option<Error>>,
    live: Mutex<Live>,
    /// How many approvals were recorded as they were sent.
    approvals: Mutex<usize>,
    used_tokens: u64,
    used_turns: u64,
    limits: omk_events::BudgetLimits,
}

impl Hold<'_, '_> {
    /// Records how the agent's run ended: the approvals not recorded yet and `agent_finished`.
    /// Returns the agent step's failure, which the caller records once the baseline is done
    /// too; an error is the log's.
    fn finish(
        &self,
        outcome: Result<omk_agent::AgentOutcome, omk_agent::Error>,
        checks: &Path,
    ) -> Result<Option<omk_agent::Error>, Error> {
        // What the agent checked through `omk mcp` goes in before its finish, so a crash between
        // them runs the agent step again and folds them then.
        let records = {
            let rec = self.rec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            crate::agent_check::read_records(checks, &rec.state)
        };
        for record in records {
            self.record(Event::AgentCheckRan(record));
        }
        let failed = match outcome {
            Ok(outcome) => {
                let recorded_live = *lock(&self.approvals);
                // Answers sent while the agent ran are in the log already.
                for decided in outcome.approvals.into_iter().skip(recorded_live) {
                    self.record(Event::ApprovalDecided(decided));
                }
                self.record(Event::AgentFinished(outcome.finished));
                None
            }
            Err(err) => Some(err),
        };
        match lock(&self.error).take() {
            Some(error) => Err(error),
            None => Ok(failed),
        }
    }

    fn record(&self, event: Event) {
        let mut error = self.error.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if error.is_none() {
            let mut rec = self.rec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Err(err) = rec.record(event) {
                *error = Some(err);
            }
        }
    }

    /// Returns the budget stop the agent's usage so far calls for, warning at 80 % first.
    #[expect(clippy::cast_precision_loss, reason = "budgets are far below 2^52")]
    fn budget_stop(&self) -> Option<Stop> {
        let live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A turn is spent when it starts, so turns stop when one more would start; tokens stop
        // when the limit is reached.
        // Cost counts as the agent reports usage, at its price table: a run that reports cost
        // only at its end (Claude's result) is checked after it, as before.
        let live_usd = live.usage.and_then(|usage| self.agent.estimated_cost(&usage));
        let checks = [
            (
                BudgetResource::Tokens,
                self.limits.tokens.map(|it| it as f64),
                (self.used_tokens + live.tokens) as f64,
                0.0,
            ),
            (
                BudgetResource::Turns,
                self.limits.turns.map(|it| it as f64),
                (self.used_turns + live.steps) as f64,
                1.0,
            ),
            (
                BudgetResource::Usd,
                self.limits.usd.filter(|_| live_usd.is_some()),
                self.used_usd + live_usd.map_or(0.0, |cost| cost.usd),
                0.0,
            ),
        ];
        drop(live);
        for (resource, limit, used, past) in checks {
            let Some(limit) = limit else { continue };
            if used >= limit + past {
                return Some(Stop::Budget(BudgetExhausted { resource, limit, used }));
            }
            let warned = {
                let rec = self.rec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                rec.state.warned.contains(&resource.to_string())
            };
            if used >= limit * 0.8 && !warned {
                self.record(Event::BudgetWarned(BudgetWarned { resource, limit, used }));
            }
        }
        None
    }
}

impl RunControl for Hold<'_, '_> {
    fn on_activity(&self, activity: &AgentActivity) {
        {
            let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match activity.activity {
                ActivityKind::Step => live.steps = live.steps.max(u64::from(activity.step)),
                ActivityKind::Usage => {
                    if let Some(usage) = activity.usage {
                        live.tokens = usage.total();
                        live.usage = Some(usage);
                    }
                }
                ActivityKind::ToolCall | ActivityKind::ToolResult | ActivityKind::Message => {}
            }
        }
        self.record(Event::AgentActivity(activity.clone()));
    }

    fn on_approval(&self, decided: &omk_events::ApprovalDecided) {
        self.record(Event::ApprovalDecided(decided.clone()));
        *self.approvals.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
    }

    fn stop_requested(&self) -> Option<String> {
        let mut stop = self.stop.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if stop.is_none() {
            *stop = self.stopper.check().or_else(|| self.budget_stop());
        }
        stop.as_ref().map(Stop::reason)
    }
}

/// Locks `mutex`, whatever a panicking holder left in it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
