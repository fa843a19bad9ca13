//! The fold from a goal's events to its proof.
//!
//! [`Synthesizer`] keeps only what the proof shows (the latest run of each gate, the latest
//! review of each check, running totals), so its memory follows the proof, not the log.

mod fail_to_pass;
mod ladder;
mod repair;

use std::borrow::Borrow;

use chrono::{DateTime, Utc};

use omk_events::{
    ApprovalDecided, ArtifactRef, BudgetExhausted, ChangedFile, DecisionMade, DecisionSubject,
    Envelope, Event, FailToPassChecked, FailToPassWaiver, GateFinished, GateKind, GatePhase,
    GateSurfaceChecked, GoalClassified, GoalCreated, GoalId, ReviewFinished, ReviewStarted,
    SandboxApplied, SandboxMode, Seq,
};

use crate::{
    agent::add_agent_run,
    budget::BudgetMeter,
    error::Error,
    gap::Gap,
    model::{
        AgentEvidence, CommitEvidence, DecisionRecord, HumanDecision, IntegrationDecision,
        IntegrationEvidence, Proof, Recovery,
    },
    team::TeamFold,
};

/// Returns the proof of the goal whose whole event log is `events`.
///
/// The events must be one goal's log in order, starting with `goal_created`, as
/// `omk_events::read_log` returns it. The result depends on nothing but `events`: the same
/// events give a byte-identical [`Proof::to_json`].
pub fn synthesize<I>(events: I) -> Result<Proof, Error>
where
    I: IntoIterator,
    I::Item: Borrow<Envelope>,
{
    let mut synthesizer = Synthesizer::new();
    for envelope in events {
        synthesizer.apply(envelope.borrow())?;
    }
    synthesizer.finish()
}

/// An incremental [`synthesize`]: feed events one at a time, then [`Synthesizer::finish`].
#[derive(Debug, Default)]
pub struct Synthesizer {
    created: Option<Created>,
    last_seq: Option<Seq>,
    last_at: Option<DateTime<Utc>>,
    events: u64,
    /// The hash of the last event folded: the log's head.
    log_head: Option<omk_events::EventHash>,
    halt: Option<Gap>,
    branch: Option<String>,
    classified: Option<GoalClassified>,
    meter: BudgetMeter,
    exhausted: Option<BudgetExhausted>,
    agent: Option<AgentEvidence>,
    /// The agent's own checks through `omk mcp`, shown with the agent and never judged.
    agent_checks: Vec<crate::model::AgentCheck>,
    last_agent_start: Option<Seq>,
    last_agent_finish: Option<Seq>,
    /// The proposed tree: the latest captured or committed tree.
    proposed_tree: Option<String>,
    last_mutation: Option<Seq>,
    last_capture: Option<Seq>,
    changed_files: Vec<ChangedFile>,
    /// The patch of the latest capture, with its tree.
    patch: Option<(String, ArtifactRef)>,
    commits: Vec<CommitEvidence>,
    gates: Vec<GateRecord>,
    /// The latest gate-surface check of each tree.
    surfaces: Vec<GateSurfaceChecked>,
    /// The latest decision on each proposed gate-surface digest.
    surface_decisions: Vec<(String, DecisionRecord)>,
    /// The latest review round of each tree.
    reviews: Vec<ReviewRound>,
    requested: Vec<HumanDecision>,
    /// The latest accept or reject decision on each tree, the latest decision last.
    integrations: Vec<IntegrationEvidence>,
    recovery: Vec<Recovery>,
    approvals: Vec<ApprovalDecided>,
    /// A team goal's slices and merge queue, from its `task_graph_planned` on.
    team: Option<TeamFold>,
    /// The sandbox of the latest run.
    sandbox: Option<SandboxApplied>,
    /// Why a run of the goal was unconfined, the first time one was: what it wrote cannot be
    /// known, whatever later runs did.
    unconfined: Option<String>,
    /// Who waived the fail-to-pass rule, if anyone did.
    fail_to_pass_waiver: Option<FailToPassWaiver>,
    /// The latest fail-to-pass check of each proposed tree.
    fail_to_pass_checks: Vec<FailToPassChecked>,
    /// The latest baseline fingerprint of the user's checkout, which the fingerprints after the
    /// gates are compared with.
    checkout_baseline: Option<omk_events::CheckoutFingerprint>,
    /// What any fingerprint after the gates found changed since its baseline; a later baseline
    /// does not take a difference back.
    checkout_changes: std::collections::BTreeSet<omk_events::CheckoutDifference>,
    /// What gates left in the goal's worktree, in order.
    gates_left_files: Vec<omk_events::GateLeftFiles>,
    /// The repair rounds.
    repair: repair::RepairFold,
}

#[derive(Debug)]
struct Created {
    goal_id: GoalId,
    at: DateTime<Utc>,
    event: GoalCreated,
}

/// What the proof must remember of one gate's runs in one phase.
#[derive(Debug)]
struct GateRecord {
    /// The latest run overall.
    latest: (Seq, GateFinished),
    /// Every run.
    all: Counts,
    /// The latest run before the last change: it counts against the gate until the gate runs
    /// on another tree (a repair round's fix); a rerun on the same tree does not take it back.
    stale: Counts,
    /// The tree the stale run ran on.
    stale_tree: Option<String>,
    /// The runs since the last change, by the tree they ran on.
    current: Vec<(Option<String>, Counts)>,
}

impl GateRecord {
    fn add(&mut self, seq: Seq, gate: &GateFinished) {
        self.all.add(gate);
        match self.current.iter_mut().find(|(tree, _)| *tree == gate.tree_id) {
            Some((_, counts)) => counts.add(gate),
            None => self.current.push((gate.tree_id.clone(), Counts::of(gate))),
        }
        self.latest = (seq, gate.clone());
    }

    /// Returns the runs that count against the gate: all since the change, and the stale one
    /// unless every run since passed cleanly (counted tests) on a tree other than the stale
    /// run's. A clean pass on a new tree (a repair round's fix) speaks for that tree; a failure,
    /// then a pass on the same files, is a flaky gate; and a run since that is no clean pass
    /// never takes the stale one back, so failing evidence cannot help.
    fn counting(&self) -> Counts {
        let clean =
            |counts: &Counts| counts.failed == 0 && counts.no_tests == 0 && counts.uncounted == 0;
        let moved_on = self.stale_tree.is_some()
            && !self.current.is_empty()
            && self
                .current
                .iter()
                .all(|(tree, counts)| tree.is_some() && *tree != self.stale_tree && clean(counts));
        let stale = if moved_on { Counts::default() } else { self.stale };
        self.current.iter().fold(stale, |sum, (_, counts)| sum + *counts)
    }
}

/// How many runs a set holds, how many failed, how many passed without running a test, and
/// how many test-gate runs passed with no count omk could read.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    runs: u32,
    failed: u32,
    no_tests: u32,
    uncounted: u32,
}

impl Counts {
    fn of(gate: &GateFinished) -> Self {
        let mut counts = Self::default();
        counts.add(gate);
        counts
    }

    fn add(&mut self, gate: &GateFinished) {
        self.runs += 1;
        self.failed += u32::from(!gate.passed());
        self.no_tests += u32::from(gate.passed() && ran_no_tests(gate));
        self.uncounted += u32::from(gate.passed() && uncounted(gate));
    }
}

impl std::ops::Add for Counts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            runs: self.runs + other.runs,
            failed: self.failed + other.failed,
            no_tests: self.no_tests + other.no_tests,
            uncounted: self.uncounted + other.uncounted,
        }
    }
}

/// Returns whether a test gate counted zero tests and is not allowed to.
fn ran_no_tests(gate: &GateFinished) -> bool {
    gate.gate_kind == GateKind::Test
        && !gate.allow_no_tests
        && gate.tests.is_some_and(|tests| tests.ran() == 0)
}

/// Returns whether a test gate's output had no count omk reads and the project did not declare
/// its exit code to stand for its tests.
fn uncounted(gate: &GateFinished) -> bool {
    gate.gate_kind.is_test() && gate.tests.is_none() && !gate.tests_by_exit_code
}

/// The latest review round on one tree: the declared checks and the latest result of each.
#[derive(Debug)]
struct ReviewRound {
    started: ReviewStarted,
    results: Vec<ReviewFinished>,
}

impl Synthesizer {
    /// Returns a synthesizer that has seen no event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one event into the proof.
    ///
    /// Fails when the first event is not `goal_created`, when an event belongs to another goal,
    /// or when sequence numbers do not increase.
    pub fn apply(&mut self, envelope: &Envelope) -> Result<(), Error> {
        self.admit(envelope)?;
        let seq = envelope.seq;
        self.last_seq = Some(seq);
        self.meter.apply(envelope);
        self.last_at = Some(envelope.at);
        self.events += 1;
        self.log_head = envelope.hash;

        // Team runs: the slices' runs, the merge queue and its gates go to the team section
        // only, never to the goal's own agent, change or gates.
        let event = &envelope.event;
        let integration_gate =
            matches!(event, Event::GateFinished(gate) if gate.phase == GatePhase::Integration);
        if event.is_team() || integration_gate {
            self.apply_team(seq, event);
        } else {
            self.apply_goal(envelope);
        }
        Ok(())
    }

    /// Checks that `envelope` may follow the events folded so far, and takes the goal's
    /// creation from the first.
    fn admit(&mut self, envelope: &Envelope) -> Result<(), Error> {
        let seq = envelope.seq;
        match (&self.created, &envelope.event) {
            (None, Event::GoalCreated(created)) => {
                self.created = Some(Created {
                    goal_id: envelope.goal_id.clone(),
                    at: envelope.at,
                    event: created.clone(),
                });
            }
            (None, event) => {
                return Err(Error::MissingGoalCreated { found: event.kind().to_owned() });
            }
            (Some(_), Event::GoalCreated(_)) => return Err(Error::DuplicateGoalCreated { seq }),
            (Some(created), _) if created.goal_id != envelope.goal_id => {
                return Err(Error::GoalMismatch {
                    seq,
                    expected: created.goal_id.clone(),
                    found: envelope.goal_id.clone(),
                });
            }
            (Some(_), _) => {}
        }
        if let Some(previous) = self.last_seq.filter(|previous| *previous >= seq) {
            return Err(Error::OutOfOrder { seq, previous });
        }
        Ok(())
    }

    /// Folds a team event or an integration gate; the task graph starts the team section.
    fn apply_team(&mut self, seq: Seq, event: &Event) {
        match (&mut self.team, event) {
            (Some(team), _) => team.apply(seq, event),
            (None, Event::TaskGraphPlanned(planned)) => {
                self.team = Some(TeamFold::new(seq, planned));
            }
            // Nothing of a team run counts before its graph is planned.
            (None, _) => {}
        }
    }

    /// Folds an event of the goal's own run.
    fn apply_goal(&mut self, envelope: &Envelope) {
        let seq = envelope.seq;
        self.repair.apply(&envelope.event);
        match &envelope.event {
            // Activity is detail the agent's finish summarizes; a newer omk's kinds say nothing
            // this build could weigh, so they cannot raise readiness.
            Event::GoalCreated(_)
            | Event::GateStarted(_)
            | Event::AgentActivity(_)
            | Event::BudgetWarned(_)
            | Event::Unknown(_) => {}
            Event::AgentStarted(_) => self.last_agent_start = Some(seq),
            // The agent's own account: shown, never a gate, never a mutation of the tree.
            Event::AgentCheckRan(check) => {
                self.agent_checks.push(crate::agent::agent_check(check, envelope.at));
            }
            Event::WorktreeCreated(worktree) => self.branch = Some(worktree.branch.clone()),
            Event::GoalClassified(classified) => self.classified = Some(classified.clone()),
            Event::BudgetSet(_) => {}
            Event::BudgetExhausted(exhausted) => {
                self.exhausted = Some(*exhausted);
                self.halt_with(Gap::BudgetExhausted {
                    resource: exhausted.resource,
                    limit: exhausted.limit,
                    used: exhausted.used,
                });
            }
            Event::AgentFinished(finished) => {
                self.last_agent_finish = Some(seq);
                self.mutated(seq);
                add_agent_run(&mut self.agent, finished);
            }
            Event::ChangesCaptured(changes) => {
                self.last_capture = Some(seq);
                self.propose_tree(seq, &changes.tree_id);
                self.changed_files.clone_from(&changes.files);
                self.patch = changes.patch.clone().map(|patch| (changes.tree_id.clone(), patch));
            }
            Event::ChangesCommitted(commit) => {
                self.propose_tree(seq, &commit.tree_id);
                self.commits.push(CommitEvidence {
                    commit: commit.commit.clone(),
                    tree_id: commit.tree_id.clone(),
                    parent: commit.parent.clone(),
                });
            }
            Event::GateFinished(gate) => self.record_gate(seq, gate),
            Event::GateSurfaceChecked(check) => {
                self.surfaces.retain(|it| it.tree_id != check.tree_id);
                self.surfaces.push(check.clone());
            }
            Event::ReviewStarted(started) => {
                self.reviews.retain(|it| it.started.tree_id != started.tree_id);
                self.reviews.push(ReviewRound { started: started.clone(), results: Vec::new() });
            }
            Event::ReviewFinished(finished) => self.record_review(finished),
            Event::DecisionRequested(requested) => {
                self.requested.retain(|it| it.subject != requested.subject);
                self.requested.push(HumanDecision {
                    subject: requested.subject.clone(),
                    question: requested.question.clone(),
                });
            }
            Event::DecisionMade(made) => self.record_decision(made, envelope.at),
            Event::ChangeAccepted(accepted) => {
                self.decide_integration(IntegrationEvidence {
                    decision: IntegrationDecision::Accepted,
                    by: accepted.by.clone(),
                    at: envelope.at,
                    reason: accepted.reason.clone(),
                    tree_id: accepted.tree_id.clone(),
                    merge_commit: accepted.merge_commit.clone(),
                });
            }
            Event::ChangeRejected(rejected) => {
                self.decide_integration(IntegrationEvidence {
                    decision: IntegrationDecision::Rejected,
                    by: rejected.by.clone(),
                    at: envelope.at,
                    reason: Some(rejected.reason.clone()),
                    tree_id: rejected.tree_id.clone(),
                    merge_commit: None,
                });
            }
            Event::GoalFailed(failed) => {
                self.halt_with(Gap::InfraFailure {
                    step: failed.step,
                    error: failed.error.clone(),
                });
            }
            Event::GoalPaused(paused) => {
                self.halt_with(Gap::Paused { reason: paused.reason.clone() });
            }
            Event::GoalCancelled(cancelled) => {
                self.halt_with(Gap::Cancelled { reason: cancelled.reason.clone() });
            }
            Event::GoalBlocked(blocked) => {
                self.halt_with(Gap::BlockedOnExternal { reason: blocked.reason.clone() });
            }
            Event::GoalResumed(_) => self.halt = None,
            Event::ApprovalDecided(decided) => self.approvals.push(decided.clone()),
            Event::RecoveryPerformed(recovery) => self.recovery.push(Recovery {
                action: recovery.action,
                detail: recovery.detail.clone(),
                at: envelope.at,
            }),
            Event::SandboxApplied(_)
            | Event::FailToPassWaived(_)
            | Event::FailToPassStarted(_)
            | Event::FailToPassChecked(_)
            | Event::CheckoutFingerprinted(_) => self.apply_safeguard(&envelope.event),
            Event::GateLeftFiles(left) => self.gates_left_files.push(left.clone()),
            // The repair section is folded above, from every event of the goal's own run.
            Event::RepairRoundsSet(_)
            | Event::RepairRoundStarted(_)
            | Event::RepairRoundEnded(_) => {}
            // `apply` hands the team's kinds (`Event::is_team`) to the team fold.
            _ => {}
        }
    }

    /// Folds what guards the evidence of a run: the sandbox it ran in, the fail-to-pass check,
    /// and the fingerprints of the user's checkout.
    fn apply_safeguard(&mut self, event: &Event) {
        match event {
            Event::SandboxApplied(applied) => {
                if applied.mode != SandboxMode::Landlock && self.unconfined.is_none() {
                    let why = applied.reason.clone().unwrap_or_else(|| applied.mode.to_string());
                    self.unconfined = Some(why);
                }
                self.sandbox = Some(applied.clone());
            }
            Event::FailToPassWaived(waived) => self.fail_to_pass_waiver = Some(waived.by),
            // A check that started and did not finish says nothing; its rerun does.
            Event::FailToPassStarted(_) => {}
            Event::FailToPassChecked(checked) => {
                self.fail_to_pass_checks.retain(|it| it.tree_id != checked.tree_id);
                self.fail_to_pass_checks.push(checked.clone());
            }
            Event::CheckoutFingerprinted(taken) => match (taken.moment, &self.checkout_baseline) {
                (omk_events::CheckoutMoment::Baseline, _) | (_, None) => {
                    self.checkout_baseline = Some(taken.fingerprint.clone());
                }
                (
                    omk_events::CheckoutMoment::AfterGates | omk_events::CheckoutMoment::Resumed,
                    Some(baseline),
                ) => {
                    self.checkout_changes.extend(baseline.differences(&taken.fingerprint));
                }
            },
            _ => {}
        }
    }

    /// Records a review result; it counts only within a round started on its tree.
    fn record_review(&mut self, finished: &ReviewFinished) {
        if let Some(round) =
            self.reviews.iter_mut().find(|it| it.started.tree_id == finished.tree_id)
        {
            round.results.retain(|it| it.check != finished.check);
            round.results.push(finished.clone());
        }
    }

    /// Records a decision: it answers its request, and one on a gate surface is kept.
    fn record_decision(&mut self, made: &DecisionMade, at: DateTime<Utc>) {
        self.requested.retain(|it| it.subject != made.subject);
        if let DecisionSubject::GateSurface { proposed_digest } = &made.subject {
            self.surface_decisions.retain(|(digest, _)| digest != proposed_digest);
            self.surface_decisions.push((
                proposed_digest.clone(),
                DecisionRecord {
                    approved: made.approved,
                    by: made.by.clone(),
                    at,
                    reason: made.reason.clone(),
                },
            ));
        }
    }

    /// Records a halt; cancelled and paused are sticky until a resume, cancelled over paused.
    fn halt_with(&mut self, gap: Gap) {
        let rank = |gap: &Gap| match gap {
            Gap::Cancelled { .. } => 2,
            Gap::Paused { .. } => 1,
            _ => 0,
        };
        if self.halt.as_ref().is_none_or(|current| rank(&gap) >= rank(current)) {
            self.halt = Some(gap);
        }
    }

    /// Makes `tree_id` the proposed tree; a tree other than the current one is a mutation.
    fn propose_tree(&mut self, seq: Seq, tree_id: &str) {
        if self.proposed_tree.as_deref() != Some(tree_id) {
            self.proposed_tree = Some(tree_id.to_owned());
            self.mutated(seq);
        }
    }

    /// Records an accept or reject decision; it replaces earlier decisions on the same tree only.
    fn decide_integration(&mut self, decision: IntegrationEvidence) {
        self.integrations.retain(|it| it.tree_id != decision.tree_id);
        self.integrations.push(decision);
    }

    /// Records a change of the worktree: gate runs before it no longer speak for the change.
    fn mutated(&mut self, seq: Seq) {
        self.last_mutation = Some(seq);
        for record in &mut self.gates {
            record.current.clear();
            record.stale = Counts::of(&record.latest.1);
            record.stale_tree.clone_from(&record.latest.1.tree_id);
        }
    }

    fn record_gate(&mut self, seq: Seq, gate: &GateFinished) {
        let same_gate =
            |it: &GateRecord| it.latest.1.phase == gate.phase && it.latest.1.name == gate.name;
        match self.gates.iter_mut().find(|it| same_gate(it)) {
            Some(record) => record.add(seq, gate),
            None => self.gates.push(GateRecord {
                latest: (seq, gate.clone()),
                all: Counts::of(gate),
                stale: Counts::default(),
                stale_tree: None,
                current: vec![(gate.tree_id.clone(), Counts::of(gate))],
            }),
        }
    }
}
