//! The fold from a goal's events to its proof.
//!
//! [`Synthesizer`] keeps only what the proof shows (the latest run of each gate, the latest
//! review of each check, running totals), so its memory follows the proof, not the log.

use std::borrow::Borrow;

use chrono::{DateTime, Utc};

use omk_events::{
    AgentFinished, AgentStatus, ApprovalDecided, ArtifactRef, BudgetExhausted, ChangedFile, Cost,
    CostSource, DecisionSubject, Envelope, Event, GateFinished, GateKind, GatePhase,
    GateSurfaceChecked, GoalClassified, GoalCreated, GoalId, ReviewFinished, ReviewStarted,
    ReviewStatus, Seq, TokenUsage,
};

use crate::{
    budget::{BudgetMeter, elapsed_ms},
    error::Error,
    gap::{Gap, KnownGap},
    model::{
        AgentEvidence, BudgetEvidence, CommitEvidence, DecisionRecord, GateSurfaceEvidence,
        GitEvidence, HumanDecision, IntegrationDecision, IntegrationEvidence, OracleEvidence,
        OracleGate, OracleGateStatus, PROOF_VERSION, Proof, ProofGate, Recovery, ReviewSection,
        ReviewSectionStatus, TaskSummary, readiness_sentence,
    },
    readiness::{ProofStatus, Readiness},
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
    halt: Option<Gap>,
    branch: Option<String>,
    classified: Option<GoalClassified>,
    meter: BudgetMeter,
    exhausted: Option<BudgetExhausted>,
    agent: Option<AgentEvidence>,
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
    /// The latest run before the last change: it still counts against the gate until it reruns.
    stale: Counts,
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

    /// Returns the runs that count against the gate: the stale one and all since the change.
    fn counting(&self) -> Counts {
        self.current.iter().fold(self.stale, |sum, (_, counts)| sum + *counts)
    }
}

/// How many runs a set holds, how many failed, and how many passed without running a test.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    runs: u32,
    failed: u32,
    no_tests: u32,
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
    }
}

impl std::ops::Add for Counts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            runs: self.runs + other.runs,
            failed: self.failed + other.failed,
            no_tests: self.no_tests + other.no_tests,
        }
    }
}

/// Returns whether a test gate counted zero tests and is not allowed to.
fn ran_no_tests(gate: &GateFinished) -> bool {
    gate.gate_kind == GateKind::Test
        && !gate.allow_no_tests
        && gate.tests.is_some_and(|tests| tests.ran() == 0)
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
        self.last_seq = Some(seq);
        self.meter.apply(envelope);
        self.last_at = Some(envelope.at);
        self.events += 1;

        match &envelope.event {
            // Activity is detail the agent's finish summarizes; a newer omk's kinds say nothing
            // this build could weigh, so they cannot raise readiness.
            Event::GoalCreated(_)
            | Event::GateStarted(_)
            | Event::AgentActivity(_)
            | Event::BudgetWarned(_)
            | Event::Unknown(_) => {}
            // Team runs: the slices' runs, the merge queue and its gates go to the team section
            // only, never to the goal's own agent, change or gates.
            Event::TaskGraphPlanned(planned) => match &mut self.team {
                Some(team) => team.plan(seq, planned),
                None => self.team = Some(TeamFold::new(seq, planned)),
            },
            Event::TaskClaimed(_)
            | Event::Slice(_)
            | Event::TaskCompleted(_)
            | Event::TaskFailed(_)
            | Event::QueueMerged(_)
            | Event::QueueLanded(_)
            | Event::QueueReverted(_)
            | Event::TaskTakenOut(_)
            | Event::TaskProposed(_) => {
                if let Some(team) = &mut self.team {
                    team.apply(seq, &envelope.event);
                }
            }
            Event::GateFinished(gate) if gate.phase == GatePhase::Integration => {
                if let Some(team) = &mut self.team {
                    team.apply(seq, &envelope.event);
                }
            }
            Event::AgentStarted(_) => self.last_agent_start = Some(seq),
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
            Event::ReviewFinished(finished) => {
                // A result counts only within a round started on its tree.
                if let Some(round) =
                    self.reviews.iter_mut().find(|it| it.started.tree_id == finished.tree_id)
                {
                    round.results.retain(|it| it.check != finished.check);
                    round.results.push(finished.clone());
                }
            }
            Event::DecisionRequested(requested) => {
                self.requested.retain(|it| it.subject != requested.subject);
                self.requested.push(HumanDecision {
                    subject: requested.subject.clone(),
                    question: requested.question.clone(),
                });
            }
            Event::DecisionMade(made) => {
                self.requested.retain(|it| it.subject != made.subject);
                if let DecisionSubject::GateSurface { proposed_digest } = &made.subject {
                    self.surface_decisions.retain(|(digest, _)| digest != proposed_digest);
                    self.surface_decisions.push((
                        proposed_digest.clone(),
                        DecisionRecord {
                            approved: made.approved,
                            by: made.by.clone(),
                            at: envelope.at,
                            reason: made.reason.clone(),
                        },
                    ));
                }
            }
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
        }
        Ok(())
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
                current: vec![(gate.tree_id.clone(), Counts::of(gate))],
            }),
        }
    }

    /// Returns the proof of the events folded so far.
    pub fn finish(self) -> Result<Proof, Error> {
        let Some(created) = self.created.as_ref() else {
            return Err(Error::NoEvents);
        };
        let last_at = self.last_at.unwrap_or(created.at);
        let proposed_tree = self.proposed_tree.as_deref();
        let after_last_mutation = |seq: Seq| self.last_mutation.is_none_or(|last| seq > last);

        // Gates: baseline first, then proposed, each in the order first seen.
        let mut records: Vec<&GateRecord> = self.gates.iter().collect();
        records.sort_by_key(|record| record.latest.1.phase);
        let oracle_names: Vec<&str> = self
            .classified
            .as_ref()
            .map(|it| it.oracle_gates.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let gates: Vec<ProofGate> = records
            .iter()
            .map(|record| {
                let on_tree = record
                    .current
                    .iter()
                    .find(|(tree, _)| proposed_tree.is_some() && tree.as_deref() == proposed_tree)
                    .map(|(_, counts)| counts);
                let counting = record.counting();
                let (seq, gate) = &record.latest;
                let is_oracle =
                    gate.phase == GatePhase::Proposed && oracle_names.contains(&gate.name.as_str());
                ProofGate {
                    name: gate.name.clone(),
                    kind: gate.gate_kind,
                    phase: gate.phase,
                    command: gate.command.clone(),
                    required: gate.required || is_oracle,
                    allow_no_tests: gate.allow_no_tests,
                    passed: gate.passed(),
                    exit_code: gate.exit_code,
                    signal: gate.signal,
                    timed_out: gate.timed_out,
                    spawn_error: gate.spawn_error.clone(),
                    duration_ms: gate.duration_ms,
                    tests: gate.tests,
                    output: gate.output.clone(),
                    tree_id: gate.tree_id.clone(),
                    after_last_mutation: after_last_mutation(*seq),
                    cached_from: gate.cached_from.clone(),
                    runs: record.all.runs,
                    failed_runs: record.all.failed,
                    runs_on_tree: on_tree.map_or(0, |it| it.runs),
                    counting_failures: counting.failed,
                    counting_no_tests: counting.no_tests,
                }
            })
            .collect();
        let post_mutation_gates_ran = self.last_mutation.is_some()
            && gates
                .iter()
                .any(|gate| gate.phase == GatePhase::Proposed && gate.after_last_mutation);

        let mut gaps: Vec<Gap> = Vec::new();
        gaps.extend(self.halt.clone());
        for decision in &self.requested {
            if !matches!(decision.subject, DecisionSubject::GateSurface { .. }) {
                gaps.push(Gap::DecisionPending {
                    subject: decision.subject.clone(),
                    question: decision.question.clone(),
                });
            }
        }

        // Gates, tests, rerun and tree: judged on the latest proposed run of each required gate.
        let proposed: Vec<&ProofGate> =
            gates.iter().filter(|gate| gate.phase == GatePhase::Proposed).collect();
        if proposed.is_empty() {
            gaps.push(Gap::NoGates);
        } else if !proposed.iter().any(|gate| gate.required) && oracle_names.is_empty() {
            gaps.push(Gap::NoRequiredGate);
        }
        for gate in proposed.iter().filter(|gate| gate.required) {
            // Every run since the last change, and the last one before it until the gate reruns,
            // must pass: a failure is not erased by a later pass (a flaky gate proves nothing).
            if gate.counting_failures > 0 {
                gaps.push(Gap::RequiredGateFailed { gate: gate.name.clone() });
            }
            if gate.counting_no_tests > 0 {
                gaps.push(Gap::RequiredGateRanNoTests { gate: gate.name.clone() });
            }
            // Only runs on the proposed tree since the last change speak for the change.
            if gate.runs_on_tree > 0 {
                continue;
            }
            if !gate.after_last_mutation {
                gaps.push(Gap::GateNotRunAfterChange { gate: gate.name.clone() });
            } else if gate.tree_id.is_none() || gate.tree_id.as_deref() != proposed_tree {
                gaps.push(Gap::GateRanOnDifferentTree {
                    gate: gate.name.clone(),
                    tree_id: gate.tree_id.clone(),
                });
            }
        }
        let oracle = self.classified.as_ref().map(|classified| OracleEvidence {
            goal_kind: classified.goal_kind,
            source: classified.source,
            gates: classified
                .oracle_gates
                .iter()
                .map(|name| {
                    let gate = proposed.iter().find(|gate| gate.name == *name);
                    let status = match gate {
                        None => OracleGateStatus::Missing,
                        Some(gate) if gate.passed => OracleGateStatus::Passed,
                        Some(_) => OracleGateStatus::Failed,
                    };
                    OracleGate { name: name.clone(), status }
                })
                .collect(),
        });
        for gate in oracle.iter().flat_map(|oracle| &oracle.gates) {
            if gate.status == OracleGateStatus::Missing {
                gaps.push(Gap::OracleGateMissing { gate: gate.name.clone() });
            }
        }

        // The agent.
        // Fail closed: a run counts only when it was started and finished, in that order.
        let agent_done = matches!((self.last_agent_start, self.last_agent_finish),
            (Some(start), Some(finish)) if finish > start);
        // A team goal's slices are its agent runs; its own agent runs only as a follow-up.
        let slices_stand_in =
            self.last_agent_start.is_none() && self.team.as_ref().is_some_and(TeamFold::has_slices);
        match self.agent.as_ref().filter(|_| agent_done) {
            None if slices_stand_in => {}
            None => gaps.push(Gap::AgentNotRun),
            Some(agent) if agent.status == AgentStatus::Failed => {
                gaps.push(Gap::AgentFailed { error: agent.error.clone() });
            }
            Some(_) => {}
        }
        if let Some(team) = &self.team {
            // A follow-up run of the goal's agent that completed after a slice's latest event
            // takes its part over; the slice's evidence still says what happened to it.
            let follow_up = self
                .agent
                .as_ref()
                .filter(|agent| agent_done && agent.status == AgentStatus::Completed)
                .and(self.last_agent_finish);
            gaps.extend(team.gaps(follow_up));
        }

        // The review wall, on the proposed tree.
        let round =
            self.reviews.iter().find(|it| Some(it.started.tree_id.as_str()) == proposed_tree);
        let mut reviews = Vec::new();
        match round {
            None => gaps.push(Gap::ReviewNotRun),
            Some(ReviewRound { started, results }) => {
                for check in &started.checks {
                    if !results.iter().any(|it| it.check == *check) {
                        gaps.push(Gap::ReviewCheckMissing { check: check.clone() });
                        reviews.push(ReviewSection {
                            check: check.clone(),
                            status: ReviewSectionStatus::Missing,
                            evidence: Vec::new(),
                            risks: Vec::new(),
                            next_step: None,
                        });
                    }
                }
                for result in results {
                    if result.status != ReviewStatus::Passed {
                        gaps.push(Gap::ReviewCheckFailed {
                            check: result.check.clone(),
                            next_step: result.next_step.clone(),
                        });
                    }
                    reviews.push(ReviewSection {
                        check: result.check.clone(),
                        status: match result.status {
                            ReviewStatus::Passed => ReviewSectionStatus::Passed,
                            ReviewStatus::Failed => ReviewSectionStatus::Failed,
                            ReviewStatus::Blocked => ReviewSectionStatus::Blocked,
                        },
                        evidence: result.evidence.clone(),
                        risks: result.risks.clone(),
                        next_step: result.next_step.clone(),
                    });
                }
                let order = |check: &str| started.checks.iter().position(|it| it == check);
                reviews.sort_by_key(|section| {
                    (order(&section.check).is_none(), order(&section.check))
                });
            }
        }

        // The change itself.
        // The work that changes the worktree: the agent's finished run, or a team's landings.
        let work_end = self
            .last_agent_finish
            .filter(|_| agent_done)
            .max(self.team.as_ref().and_then(TeamFold::last_landed));
        let captured_after_work = matches!((self.last_capture, work_end),
            (Some(capture), Some(end)) if capture > end);
        if work_end.is_some() && !captured_after_work {
            gaps.push(Gap::ChangesNotCaptured);
        } else if self.changed_files.is_empty() {
            gaps.push(Gap::NoChanges);
        }

        // The gate surface of the proposed tree.
        let surface = self.surfaces.iter().find(|it| Some(it.tree_id.as_str()) == proposed_tree);
        let surface_decision = surface.and_then(|check| {
            self.surface_decisions
                .iter()
                .find(|(digest, _)| *digest == check.proposed_digest)
                .map(|(_, decision)| decision)
        });
        let mut human_decisions_required = self.requested.clone();
        match surface {
            None => gaps.push(Gap::GateSurfaceNotChecked),
            Some(check) if !check.changed_paths.is_empty() => {
                let approved = surface_decision.is_some_and(|it| it.approved);
                if !approved {
                    let rejected = surface_decision.is_some();
                    gaps.push(Gap::GateSurfaceChanged {
                        paths: check.changed_paths.clone(),
                        rejected,
                    });
                    let subject = DecisionSubject::GateSurface {
                        proposed_digest: check.proposed_digest.clone(),
                    };
                    if !rejected && !human_decisions_required.iter().any(|it| it.subject == subject)
                    {
                        human_decisions_required.push(HumanDecision {
                            subject,
                            question: format!(
                                "the change touches what the gates check ({}); may it stand?",
                                check.changed_paths.join(", ")
                            ),
                        });
                    }
                }
            }
            Some(_) => {}
        }

        // Acceptance of the exact proposed tree.
        // The decision on the proposed tree counts; another tree's is shown when there is none.
        let integration = self
            .integrations
            .iter()
            .find(|it| Some(it.tree_id.as_str()) == proposed_tree)
            .or(self.integrations.last());
        // A rejection speaks for its tree only: a new tree (a follow-up) awaits a decision.
        match integration {
            None => gaps.push(Gap::AcceptanceMissing),
            Some(integration) if Some(integration.tree_id.as_str()) != proposed_tree => {
                gaps.push(match integration.decision {
                    IntegrationDecision::Accepted => {
                        Gap::AcceptedOtherTree { tree_id: integration.tree_id.clone() }
                    }
                    IntegrationDecision::Rejected => Gap::AcceptanceMissing,
                });
            }
            Some(integration) if integration.decision == IntegrationDecision::Rejected => {
                gaps.push(Gap::ChangeRejected {
                    by: integration.by.clone(),
                    reason: integration.reason.clone().unwrap_or_default(),
                });
            }
            Some(_) => {}
        }

        // The verdict: halts first, then the lowest rung; gaps listed in that order.
        gaps.sort_by_key(Gap::rung);
        let readiness = gaps.iter().filter_map(Gap::rung).min().unwrap_or(Readiness::Ready);
        let status = match self.halt.as_ref().and_then(Gap::halts_with) {
            Some(status) => status,
            None if !human_decisions_required.is_empty() => ProofStatus::BlockedOnHuman,
            None if readiness == Readiness::Ready => ProofStatus::Ready,
            None => ProofStatus::NotReady,
        };
        let sentence = readiness_sentence(readiness, gaps.iter());
        let summary = match &self.halt {
            Some(halt) => format!("{status}: {}; {sentence}", halt.message()),
            None if status == ProofStatus::BlockedOnHuman => {
                format!("{status}: a person must decide before the goal can go on; {sentence}")
            }
            None => format!("{status}: {sentence}"),
        };

        let head_commit = self.commits.last().map(|it| it.commit.clone());
        let dirty = match (self.commits.last(), proposed_tree) {
            (Some(commit), Some(tree)) => Some(commit.tree_id != tree),
            _ => None,
        };
        let budget = BudgetEvidence {
            limits: self.meter.limits(),
            used: self.meter.used(),
            exhausted: self.exhausted,
        };
        let patch = self
            .patch
            .as_ref()
            .filter(|(tree, _)| Some(tree.as_str()) == proposed_tree)
            .map(|(_, patch)| patch.clone());
        let mut artifacts: Vec<ArtifactRef> = Vec::new();
        let named = self
            .agent
            .iter()
            .flat_map(|it| [&it.transcript, &it.stdout, &it.stderr])
            .flatten()
            .chain(patch.iter())
            .chain(gates.iter().filter_map(|it| it.output.as_ref()))
            .chain(self.team.iter().flat_map(TeamFold::artifacts));
        for artifact in named {
            if !artifacts.iter().any(|it| it.path == artifact.path) {
                artifacts.push(artifact.clone());
            }
        }

        let Created { goal_id, at: started_at, event: goal } = created;
        Ok(Proof {
            version: PROOF_VERSION,
            goal_id: goal_id.clone(),
            status,
            readiness,
            summary,
            generated_at: last_at,
            task: TaskSummary {
                prompt: goal.prompt.clone(),
                agent: goal.agent.clone(),
                goal_kind: self.classified.as_ref().map(|it| it.goal_kind),
                omk_version: goal.omk_version.clone(),
                started_at: *started_at,
                elapsed_ms: elapsed_ms(*started_at, last_at),
                events: self.events,
            },
            git: GitEvidence {
                base_branch: goal.base_branch.clone(),
                base_commit: goal.base_commit.clone(),
                branch: self.branch.clone(),
                head_commit,
                tree_id: self.proposed_tree.clone(),
                dirty,
                patch: patch.clone(),
            },
            commits: self.commits.clone(),
            changed_files: self.changed_files.clone(),
            gates,
            post_mutation_gates_ran,
            gate_surface: surface.map(|check| GateSurfaceEvidence {
                tree_id: check.tree_id.clone(),
                base_digest: check.base_digest.clone(),
                proposed_digest: check.proposed_digest.clone(),
                changed_paths: check.changed_paths.clone(),
                decision: if check.changed_paths.is_empty() {
                    None
                } else {
                    surface_decision.cloned()
                },
            }),
            reviews,
            oracle,
            agent: self.agent.clone(),
            team: self.team.as_ref().map(TeamFold::evidence),
            approvals: self.approvals.clone(),
            budget,
            integration: integration.cloned(),
            human_decisions_required,
            recovery: self.recovery.clone(),
            known_gaps: gaps.into_iter().map(KnownGap::from).collect(),
            artifacts,
        })
    }
}

/// Adds a finished agent run to `agent`: the latest run's details, totals over all runs.
pub(crate) fn add_agent_run(agent: &mut Option<AgentEvidence>, finished: &AgentFinished) {
    let first_run = agent.is_none();
    let agent = agent.get_or_insert_with(|| AgentEvidence {
        agent: finished.agent.clone(),
        version: None,
        status: finished.status,
        exit_code: None,
        process: None,
        retryable: false,
        session_id: None,
        error: None,
        final_message: None,
        runs: 0,
        steps: 0,
        tool_calls: 0,
        failed_tool_calls: 0,
        tool_call_log: Vec::new(),
        usage: None,
        cost: None,
        transcript: None,
        stdout: None,
        stderr: None,
        duration_ms: 0,
    });
    agent.agent.clone_from(&finished.agent);
    agent.version.clone_from(&finished.agent_version);
    agent.status = finished.status;
    agent.exit_code = finished.process.as_ref().and_then(|it| it.exit_code);
    agent.process.clone_from(&finished.process);
    agent.retryable = finished.retryable;
    agent.session_id.clone_from(&finished.session_id);
    agent.tool_call_log.clone_from(&finished.tool_call_log);
    agent.error.clone_from(&finished.error);
    agent.final_message.clone_from(&finished.final_message);
    agent.runs += 1;
    agent.steps += u64::from(finished.steps);
    agent.tool_calls += u64::from(finished.tool_calls);
    agent.failed_tool_calls += u64::from(finished.failed_tool_calls);
    if let Some(usage) = finished.usage {
        *agent.usage.get_or_insert_with(TokenUsage::default) += usage;
    }
    // The total is known only while every run had a cost.
    agent.cost = match (first_run, agent.cost.take(), &finished.cost) {
        (true, _, cost) => cost.clone(),
        (false, Some(total), Some(cost)) => Some(Cost {
            usd: total.usd + cost.usd,
            source: match cost.source {
                CostSource::Estimated { .. } => cost.source.clone(),
                CostSource::Reported => total.source,
            },
        }),
        (false, _, _) => None,
    };
    agent.transcript.clone_from(&finished.transcript);
    agent.stdout.clone_from(&finished.stdout);
    agent.stderr.clone_from(&finished.stderr);
    agent.duration_ms += finished.duration_ms;
}
