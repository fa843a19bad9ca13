//! The controller's state: a pure fold over a goal's events, and the decision of what comes next.
//!
//! The controller never keeps state of its own between steps: it appends an event, folds it
//! here, and asks [`GoalState::next`] what to do. A resumed run folds the log from the start and
//! asks the same question, so a run that crashed anywhere continues from its last completed step.

use std::collections::{BTreeMap, BTreeSet};

use omk_events::{
    AgentStatus, ChangesCaptured, DecisionSubject, Envelope, Event, GateFinished, GatePhase,
    GoalCreated, GoalId, GoalKind, Seq, WorktreeCreated,
};
use omk_proof::BudgetMeter;

/// What the controller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Decide the goal's kind and oracle, or stop on a vague prompt.
    Classify,
    /// Create (or adopt) the goal's worktree.
    Worktree,
    /// Run the gates on the base tree, those not yet finished there, in their own scratch
    /// worktree: a team goal's before its slices, otherwise when the agent step is done and a
    /// baseline gate still has no result (the agent step runs them beside the agent).
    Baseline,
    /// Run the team's slices and merge queue until every slice landed or is out.
    Team,
    /// Run the agent, with the follow-up instruction when there is one, and beside it the
    /// baseline gates that have no result yet.
    Agent {
        /// The follow-up of `omk resume --prompt`, if this run answers one.
        follow_up: Option<String>,
        /// The repair round this run belongs to, whose follow-up it answers.
        round: Option<u32>,
    },
    /// Start repair round `round`: the follow-up about what fails on the proposed tree.
    Repair { round: u32 },
    /// End the repair round under way: its checks are in.
    EndRound(crate::decide::repair::RoundEnd),
    /// Read the worktree's changes from git.
    Capture,
    /// Commit the captured changes on the goal's branch.
    Commit,
    /// Compare the gate surface of the base and the proposed tree.
    Surface,
    /// Run the gates on the proposed tree, those not yet finished there.
    Gates,
    /// Run the required test gates on the base tree with the change's test files, to see one
    /// fail without the change.
    FailToPass,
    /// Run the review wall on the proposed tree.
    Review,
    /// Fingerprint the user's checkout again and compare it with the first fingerprint.
    Checkout,
    /// Every step is done: the change waits for acceptance.
    Done,
}

/// Why a goal does not go on by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Halt {
    /// Paused; `omk resume` goes on.
    Paused,
    /// Cancelled; final.
    Cancelled,
    /// A budget ran out; `omk budget add`, then `omk resume`.
    Budget,
    /// A person must answer a question first.
    Question(String),
    /// Waiting on something outside omk.
    Blocked,
    /// A step failed for a reason outside the change; `omk resume` retries it.
    Failed,
    /// The change was accepted; the goal is over.
    Accepted,
}

impl Halt {
    /// Returns the halt in a word or two, as `omk status` shows it.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Self::Paused => "paused",
            Self::Cancelled => "cancelled",
            Self::Budget => "out of budget",
            Self::Question(_) => "waiting for an answer",
            Self::Blocked => "blocked",
            Self::Failed => "failed",
            Self::Accepted => "accepted and merged",
        }
    }

    /// Returns the halt as a phrase with its next step.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Paused => "paused; resume it with `omk resume`".to_owned(),
            Self::Cancelled => "cancelled".to_owned(),
            Self::Budget => {
                "stopped at its budget; raise it with `omk budget add`, then `omk resume`"
                    .to_owned()
            }
            Self::Question(question) => format!(
                "waiting for an answer to: {question} (answer with `omk resume --prompt ANSWER`)"
            ),
            Self::Blocked => {
                "blocked on something outside omk; `omk resume` once it is fixed".to_owned()
            }
            Self::Failed => "stopped by a failed step; `omk resume` retries it".to_owned(),
            Self::Accepted => "accepted and merged".to_owned(),
        }
    }
}

/// Everything the controller needs to know about a goal, folded from its events.
#[derive(Debug, Clone)]
pub(crate) struct GoalState {
    pub(crate) goal_id: GoalId,
    pub(crate) created: GoalCreated,
    /// The commit changes are measured against: the goal's base, or the base merged in last.
    pub(crate) base_commit: String,
    pub(crate) classified: bool,
    pub(crate) worktree: Option<WorktreeCreated>,
    pub(crate) halt: Option<Halt>,
    pub(crate) meter: BudgetMeter,
    /// Resources warned about at 80 % under the current limits.
    pub(crate) warned: BTreeSet<String>,
    /// Baseline gates that finished, by name.
    pub(crate) baseline_done: BTreeSet<String>,
    /// Baseline gates whose latest run failed, by name.
    pub(crate) baseline_failed: BTreeSet<String>,
    /// A team goal's task graph, slices and merge queue.
    pub(crate) team: Option<crate::team::fold::TeamState>,
    /// Whether an agent run was started and has not finished.
    pub(crate) agent_running: bool,
    /// The number of agent runs started.
    pub(crate) agent_runs: u32,
    /// The agent's own checks through `omk mcp` already in the log, by number.
    pub(crate) agent_checks: BTreeSet<u32>,
    /// Whether the agent's latest run is complete: finished by itself, not stopped by omk.
    agent_complete: bool,
    /// The latest agent run's final message and status.
    pub(crate) agent_final_message: Option<String>,
    pub(crate) agent_failed: bool,
    /// The follow-up of the latest resume, until an agent run starts for it.
    follow_up: Option<String>,
    /// The latest capture after the latest agent run.
    pub(crate) captured: Option<ChangesCaptured>,
    /// Tree ids of the commits on the goal's branch, and the branch's head commit.
    committed_trees: BTreeSet<String>,
    pub(crate) head_commit: Option<String>,
    /// The proposed tree: the latest captured or committed tree.
    pub(crate) tree: Option<String>,
    /// Whether a gate started on the proposed tree in the goal's worktree since it was
    /// captured, so what the worktree holds beyond that tree was left by gates.
    pub(crate) gates_ran_on_tree: bool,
    surface_checked: BTreeSet<String>,
    /// Proposed-phase gates that finished, by tree, by name.
    gates_done: BTreeMap<String, BTreeSet<String>>,
    /// Review checks declared and finished, by tree.
    reviews: BTreeMap<String, (Vec<String>, BTreeSet<String>)>,
    /// Whether the latest decision on the proposed tree was a rejection.
    pub(crate) rejected: bool,
    /// The number of events folded, and the last one's number.
    pub(crate) last_seq: Option<Seq>,
    /// Whether the log's last event ends a run (a halt or the end of the pipeline), so a run
    /// that resumes knows whether the previous one crashed.
    pub(crate) ended_cleanly: bool,
    /// The goal's kind, once classified.
    pub(crate) goal_kind: Option<GoalKind>,
    /// The gates that prove the goal's kind, once classified.
    pub(crate) oracle_gates: Vec<String>,
    /// Whether the fail-to-pass rule was waived for the goal.
    pub(crate) fail_to_pass_waived: bool,
    /// The proposed trees whose fail-to-pass check is recorded.
    fail_to_pass_checked: BTreeSet<String>,
    /// Baseline gates whose latest run ran to its end and exited non-zero, by name.
    pub(crate) baseline_exited_failing: BTreeSet<String>,
    /// Proposed-phase gates whose latest run on a tree passed, by tree, by name.
    gates_passed: BTreeMap<String, BTreeSet<String>>,
    /// Whether the user's checkout was fingerprinted before the agent started (goals of older
    /// omk versions were not).
    pub(crate) checkout_baseline: bool,
    /// Whether something that runs processes (worktree setup, an agent, a gate, a slice) happened
    /// since the checkout was last fingerprinted.
    pub(crate) checkout_pending: bool,
    /// Whether the agent's latest run failed with a retryable error (and was not stopped by
    /// omk), so the agent step runs again.
    pub(crate) agent_retry_pending: bool,
    /// How many runs in a row failed with a retryable error since the last other end of a run
    /// or the last resume.
    pub(crate) agent_retryable_failures: u32,
    /// The follow-up the latest agent run answered, which its retry answers again.
    pub(crate) agent_run_follow_up: Option<String>,
    /// The latest agent run's error, as the agent said it.
    pub(crate) agent_error: Option<String>,
    /// The repair loop: its limit, the round under way, what fails on each tree.
    pub(crate) repair: crate::decide::repair::RepairState,
}

impl GoalState {
    /// Returns the state after `goal_created`.
    pub(crate) fn new(goal_id: GoalId, created: GoalCreated) -> Self {
        Self {
            goal_id,
            base_commit: created.base_commit.clone(),
            created,
            classified: false,
            worktree: None,
            halt: None,
            meter: BudgetMeter::new(),
            warned: BTreeSet::new(),
            baseline_done: BTreeSet::new(),
            baseline_failed: BTreeSet::new(),
            team: None,
            agent_running: false,
            agent_runs: 0,
            agent_checks: BTreeSet::new(),
            agent_complete: false,
            agent_final_message: None,
            agent_failed: false,
            follow_up: None,
            captured: None,
            committed_trees: BTreeSet::new(),
            head_commit: None,
            tree: None,
            gates_ran_on_tree: false,
            surface_checked: BTreeSet::new(),
            gates_done: BTreeMap::new(),
            reviews: BTreeMap::new(),
            rejected: false,
            last_seq: None,
            ended_cleanly: false,
            goal_kind: None,
            oracle_gates: Vec::new(),
            fail_to_pass_waived: false,
            fail_to_pass_checked: BTreeSet::new(),
            baseline_exited_failing: BTreeSet::new(),
            gates_passed: BTreeMap::new(),
            checkout_baseline: false,
            checkout_pending: false,
            agent_retry_pending: false,
            agent_retryable_failures: 0,
            agent_run_follow_up: None,
            agent_error: None,
            repair: crate::decide::repair::RepairState::default(),
        }
    }

    /// Fails when the goal is cancelled or accepted: nothing can run or be decided on it.
    pub(crate) fn refuse_final(&self) -> Result<(), crate::error::Error> {
        let goal = self.goal_id.to_string();
        match self.halt {
            Some(Halt::Cancelled) => Err(crate::error::Error::Cancelled { goal }),
            Some(Halt::Accepted) => Err(crate::error::Error::AlreadyAccepted { goal }),
            _ => Ok(()),
        }
    }

    /// Folds the events of a whole log; `None` when the first is not `goal_created`.
    pub(crate) fn fold<'e>(events: impl IntoIterator<Item = &'e Envelope>) -> Option<Self> {
        let mut events = events.into_iter();
        let first = events.next()?;
        let Event::GoalCreated(created) = &first.event else { return None };
        let mut state = Self::new(first.goal_id.clone(), created.clone());
        state.apply(first);
        for envelope in events {
            state.apply(envelope);
        }
        Some(state)
    }

    /// Folds one event.
    pub(crate) fn apply(&mut self, envelope: &Envelope) {
        self.meter.apply(envelope);
        self.last_seq = Some(envelope.seq);
        self.ended_cleanly = false;
        self.repair.apply(&envelope.event, &self.oracle_gates);
        match &envelope.event {
            Event::GoalClassified(classified) => {
                self.classified = true;
                self.goal_kind = Some(classified.goal_kind);
                self.oracle_gates.clone_from(&classified.oracle_gates);
            }
            Event::FailToPassWaived(_) => self.fail_to_pass_waived = true,
            Event::FailToPassChecked(checked) => {
                self.fail_to_pass_checked.insert(checked.tree_id.clone());
            }
            Event::BudgetSet(_) => self.warned.clear(),
            Event::BudgetWarned(warned) => {
                self.warned.insert(warned.resource.to_string());
            }
            Event::WorktreeCreated(worktree) => self.worktree = Some(worktree.clone()),
            Event::GateFinished(gate) => self.fold_gate(gate),
            Event::AgentStarted(_) => {
                self.agent_running = true;
                self.agent_runs += 1;
                self.agent_complete = false;
                self.agent_retry_pending = false;
                self.agent_run_follow_up = self.follow_up.take();
                self.captured = None;
                self.gates_ran_on_tree = false;
            }
            Event::AgentFinished(finished) => self.fold_agent_finished(finished),
            Event::AgentCheckRan(check) => {
                self.agent_checks.insert(check.check);
            }
            Event::ChangesCaptured(changes) => {
                self.captured = Some(changes.clone());
                self.base_commit.clone_from(&changes.base_commit);
                self.tree = Some(changes.tree_id.clone());
                self.gates_ran_on_tree = false;
            }
            Event::ChangesCommitted(commit) => {
                self.committed_trees.insert(commit.tree_id.clone());
                self.head_commit = Some(commit.commit.clone());
                if let Some(base) = &commit.merged_base {
                    self.base_commit.clone_from(base);
                }
                self.tree = Some(commit.tree_id.clone());
                self.gates_ran_on_tree = false;
            }
            // Baseline gates run before the capture (beside the agent, or right after it), in
            // their own worktree; a gate started once a tree is captured is a proposed one.
            Event::GateStarted(_) if self.captured.is_some() => {
                self.gates_ran_on_tree = true;
            }
            Event::GateSurfaceChecked(check) => {
                self.surface_checked.insert(check.tree_id.clone());
            }
            Event::ReviewStarted(started) => {
                self.reviews
                    .insert(started.tree_id.clone(), (started.checks.clone(), BTreeSet::new()));
            }
            Event::ReviewFinished(finished) => {
                if let Some((_, done)) = self.reviews.get_mut(&finished.tree_id) {
                    done.insert(finished.check.clone());
                }
            }
            Event::DecisionRequested(_)
            | Event::DecisionMade(_)
            | Event::ChangeAccepted(_)
            | Event::ChangeRejected(_) => self.fold_decision(&envelope.event),
            Event::GoalPaused(_) => self.halt_with(Halt::Paused),
            Event::GoalCancelled(_) => self.halt_with(Halt::Cancelled),
            Event::BudgetExhausted(_) => self.halt_with(Halt::Budget),
            Event::GoalBlocked(_) => self.halt_with(Halt::Blocked),
            Event::GoalFailed(_) => self.halt_with(Halt::Failed),
            Event::GoalResumed(resumed) => self.fold_resumed(resumed),
            Event::GoalCreated(_)
            | Event::GateStarted(_)
            | Event::ApprovalDecided(_)
            | Event::AgentActivity(_)
            | Event::RecoveryPerformed(_)
            | Event::FailToPassStarted(_)
            | Event::GateLeftFiles(_)
            | Event::RepairRoundsSet(_)
            | Event::RepairRoundStarted(_)
            | Event::RepairRoundEnded(_)
            | Event::Unknown(_) => {}
            Event::TaskGraphPlanned(planned) => {
                self.team = Some(crate::team::fold::TeamState::new(planned));
            }
            Event::CheckoutFingerprinted(_) => {
                self.checkout_baseline = true;
                self.checkout_pending = false;
            }
            // The team's kinds (`Event::is_team` names them, once for every fold) are the
            // team fold's.
            event if event.is_team() => {
                if let Some(team) = &mut self.team {
                    team.apply(event);
                }
            }
            // No kind reaches this arm: every other kind is named above, and the compiler does
            // not count the guarded arm.
            _ => {}
        }
        if self.checkout_baseline && runs_processes(&envelope.event) {
            self.checkout_pending = true;
        }
        // A run whose steps are all done ended as it should.
        if self.next() == Next::Done {
            self.ended_cleanly = true;
        }
    }

    /// Folds a resume: it lifts a halt that is not final, gives a retryable failure a fresh set
    /// of retries, and a follow-up makes the agent run again.
    fn fold_resumed(&mut self, resumed: &omk_events::GoalResumed) {
        if !matches!(self.halt, Some(Halt::Cancelled | Halt::Accepted)) {
            self.halt = None;
        }
        self.agent_retryable_failures = 0;
        if let Some(follow_up) = &resumed.follow_up {
            self.agent_retry_pending = false;
            self.follow_up = Some(follow_up.clone());
            self.rejected = false;
        }
    }

    /// Folds the end of an agent run: whether it completed, failed, or failed in a way worth a
    /// retry.
    fn fold_agent_finished(&mut self, finished: &omk_events::AgentFinished) {
        // The proof counts gate runs only after the agent's last run, whatever tree it left:
        // the gates run again (from the cache when the tree is the same).
        self.gates_done.clear();
        self.agent_running = false;
        self.agent_complete = finished.stopped.is_none();
        self.agent_failed = finished.status == AgentStatus::Failed;
        self.agent_final_message.clone_from(&finished.final_message);
        self.agent_error.clone_from(&finished.error);
        self.agent_retry_pending =
            self.agent_failed && finished.retryable && finished.stopped.is_none();
        if self.agent_retry_pending {
            self.agent_retryable_failures += 1;
        } else {
            self.agent_retryable_failures = 0;
        }
    }

    /// Folds a gate's result: the baseline's failures, and which gates ran on which tree.
    fn fold_gate(&mut self, gate: &GateFinished) {
        match gate.phase {
            GatePhase::Baseline => {
                self.baseline_done.insert(gate.name.clone());
                if gate.failure().is_some() {
                    self.baseline_failed.insert(gate.name.clone());
                } else {
                    self.baseline_failed.remove(&gate.name);
                }
                if gate.exited_failing() {
                    self.baseline_exited_failing.insert(gate.name.clone());
                } else {
                    self.baseline_exited_failing.remove(&gate.name);
                }
            }
            GatePhase::Proposed => {
                if let Some(tree) = &gate.tree_id {
                    self.gates_done.entry(tree.clone()).or_default().insert(gate.name.clone());
                    let passed = self.gates_passed.entry(tree.clone()).or_default();
                    if gate.failure().is_none() {
                        passed.insert(gate.name.clone());
                    } else {
                        passed.remove(&gate.name);
                    }
                }
            }
            GatePhase::Integration => {}
        }
    }

    /// Folds a question asked or answered, and a person's or the policy's decision on the change.
    fn fold_decision(&mut self, event: &Event) {
        match event {
            Event::DecisionRequested(requested) => {
                if let DecisionSubject::Question { .. } = requested.subject {
                    self.halt = Some(Halt::Question(requested.question.clone()));
                    self.ended_cleanly = true;
                }
            }
            Event::DecisionMade(made)
                if matches!(made.subject, DecisionSubject::Question { .. })
                    && matches!(self.halt, Some(Halt::Question(_))) =>
            {
                self.halt = None;
            }
            Event::ChangeAccepted(accepted) => {
                if accepted.merge_commit.is_some() {
                    self.halt = Some(Halt::Accepted);
                }
                self.rejected = false;
                self.ended_cleanly = true;
            }
            Event::ChangeRejected(_) => {
                self.rejected = true;
                self.ended_cleanly = true;
            }
            _ => {}
        }
    }

    /// Records a halt; cancelled and accepted are final and stay.
    fn halt_with(&mut self, halt: Halt) {
        if !matches!(self.halt, Some(Halt::Cancelled | Halt::Accepted)) {
            self.halt = Some(halt);
        }
        self.ended_cleanly = true;
    }

    /// Returns the step to run next, given the gates the run has.
    ///
    /// Baseline and proposed gates are checked by name against `gates` in
    /// [`GoalState::missing_baseline`] and [`GoalState::missing_gates`]; here a step is due
    /// when any is missing.
    pub(crate) fn next(&self) -> Next {
        self.next_with(None)
    }

    /// Like [`GoalState::next`], checking the gate steps against the names in `gates`.
    pub(crate) fn next_with(&self, gates: Option<&[String]>) -> Next {
        if !self.classified {
            return Next::Classify;
        }
        if self.worktree.is_none() {
            return Next::Worktree;
        }
        // Baseline gates run on the base tree in a scratch worktree of their own, so the agent's
        // work never mixes with theirs: beside the agent, or (a team goal's, or after a run
        // stopped while they ran) on their own.
        let baseline_missing = gates.is_some_and(|gates| !self.missing_baseline(gates).is_empty());
        if baseline_missing && self.team.is_some() {
            return Next::Baseline;
        }
        // A repair round's agent runs (again, when stopped or failing retryably) on the round's
        // follow-up.
        if let Some(round) = self.repair.agent_due(self.agent_complete, self.agent_retry_pending) {
            return Next::Agent { follow_up: None, round: Some(round) };
        }
        // A team goal's slices do its agent work, all of it before anything else; a follow-up
        // then runs the goal's agent on the integrated tree, as for a single run.
        if let Some(team) = &self.team {
            if !team.complete() {
                return Next::Team;
            }
            if self.follow_up.is_some() || (self.agent_runs > 0 && !self.agent_complete) {
                return Next::Agent { follow_up: self.follow_up.clone(), round: None };
            }
        } else if self.follow_up.is_some() || !self.agent_complete {
            return Next::Agent { follow_up: self.follow_up.clone(), round: None };
        }
        if self.agent_retry_pending {
            return Next::Agent { follow_up: self.agent_run_follow_up.clone(), round: None };
        }
        if baseline_missing {
            return Next::Baseline;
        }
        let Some(captured) = &self.captured else { return Next::Capture };
        if !captured.files.is_empty()
            && !self.committed_trees.contains(&captured.tree_id)
            && self.tree.as_deref() == Some(captured.tree_id.as_str())
        {
            return Next::Commit;
        }
        let Some(tree) = &self.tree else { return Next::Capture };
        if !self.surface_checked.contains(tree) {
            return Next::Surface;
        }
        if let Some(gates) = gates
            && !self.missing_gates(gates).is_empty()
        {
            return Next::Gates;
        }
        if self.needs_fail_to_pass() && !self.fail_to_pass_checked.contains(tree) {
            return Next::FailToPass;
        }
        match self.reviews.get(tree) {
            Some((checks, done)) if checks.iter().all(|it| done.contains(it)) => {}
            _ => return Next::Review,
        }
        // With the checks of the tree in, a round under way ends, or a new one starts.
        if let Some(end) = self.repair.end_due(tree, self.agent_failed) {
            return Next::EndRound(end);
        }
        if let Some(round) = self.repair.start_due(tree, self.agent_failed) {
            return Next::Repair { round };
        }
        // After the last gate, the checkout is compared with its first fingerprint.
        if self.checkout_pending { Next::Checkout } else { Next::Done }
    }

    /// Returns whether the goal's kind needs a test that fails without the change (bugfix and
    /// test goals, and feature goals, whose check finds out whether the change adds tests),
    /// unless the rule was waived.
    pub(crate) fn needs_fail_to_pass(&self) -> bool {
        let kind_needs =
            matches!(self.goal_kind, Some(GoalKind::Bugfix | GoalKind::Test | GoalKind::Feature));
        kind_needs && !self.fail_to_pass_waived
    }

    /// Returns whether gate `name`'s latest run on the proposed tree passed.
    pub(crate) fn passed_on_tree(&self, name: &str) -> bool {
        let passed = self.tree.as_ref().and_then(|tree| self.gates_passed.get(tree));
        passed.is_some_and(|passed| passed.contains(name))
    }

    /// Returns the names in `gates` with no baseline result yet.
    pub(crate) fn missing_baseline(&self, gates: &[String]) -> Vec<String> {
        gates.iter().filter(|it| !self.baseline_done.contains(*it)).cloned().collect()
    }

    /// Returns the names in `gates` with no result on the proposed tree yet.
    pub(crate) fn missing_gates(&self, gates: &[String]) -> Vec<String> {
        let done = self.tree.as_ref().and_then(|tree| self.gates_done.get(tree));
        gates.iter().filter(|it| done.is_none_or(|done| !done.contains(*it))).cloned().collect()
    }

    /// Returns the review checks declared on the proposed tree that did not finish, or `None`
    /// when the wall has not started on it.
    pub(crate) fn missing_reviews(&self) -> Option<Vec<String>> {
        let (checks, done) = self.reviews.get(self.tree.as_ref()?)?;
        Some(checks.iter().filter(|it| !done.contains(*it)).cloned().collect())
    }
}

/// Returns whether `event` says a process of the run ran (worktree setup, an agent, a gate, a
/// slice), which the checkout's fingerprint after the gates must then cover.
fn runs_processes(event: &Event) -> bool {
    matches!(
        event,
        Event::WorktreeCreated(_)
            | Event::AgentStarted(_)
            | Event::GateStarted(_)
            | Event::GateFinished(_)
    ) || event.is_team()
}

#[cfg(test)]
mod tests;
