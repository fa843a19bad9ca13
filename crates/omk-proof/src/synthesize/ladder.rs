//! The readiness ladder of [`Synthesizer::finish`]: one function per rung, each returning the
//! evidence the proof shows for it and the gaps it leaves, then the verdict over all gaps.
//!
//! A new rung of [`Readiness`] is a new function here, called from `finish` in ladder order.

use omk_events::{
    Actor, AgentStatus, ArtifactRef, DecisionSubject, GatePhase, GateSurfaceChecked, GoalKind,
    ReviewStatus, Seq,
};

use crate::{
    budget::elapsed_ms,
    error::Error,
    gap::{Gap, KnownGap},
    model::{
        BudgetEvidence, DecisionRecord, GateSurfaceEvidence, GitEvidence, HumanDecision,
        IntegrationDecision, IntegrationEvidence, OracleEvidence, OracleGate, OracleGateStatus,
        PROOF_VERSION, Proof, ProofGate, ReviewSection, ReviewSectionStatus, TaskSummary,
        TestEvidence, TestRule, readiness_sentence,
    },
    readiness::{ProofStatus, Readiness},
    team::TeamFold,
};

use super::{Created, GateRecord, ReviewRound, Synthesizer};

/// The gate-surface rung's evidence: the check of the proposed tree with its decision, and
/// the decisions a person must take (the requested ones and the surface's own).
struct SurfaceEvidence {
    surface: Option<GateSurfaceEvidence>,
    human_decisions_required: Vec<HumanDecision>,
}

/// The proof's verdict: its status, its rung, the summary sentence and the gaps in rung order.
struct Verdict {
    status: ProofStatus,
    readiness: Readiness,
    summary: String,
    known_gaps: Vec<KnownGap>,
}

impl Synthesizer {
    /// Returns the proof of the events folded so far.
    pub fn finish(self) -> Result<Proof, Error> {
        let Some(created) = self.created.as_ref() else {
            return Err(Error::NoEvents);
        };
        let last_at = self.last_at.unwrap_or(created.at);
        let gates = self.proof_gates();
        let proposed: Vec<&ProofGate> =
            gates.iter().filter(|gate| gate.phase == GatePhase::Proposed).collect();
        let post_mutation_gates_ran =
            self.last_mutation.is_some() && proposed.iter().any(|gate| gate.after_last_mutation);

        // Halts and questions first, then the rungs from the lowest up. The verdict orders the
        // gaps by rung and keeps this order within a rung.
        let mut gaps = self.halt_gaps();
        gaps.extend(self.checkout_rung());
        let (oracle, gate_gaps) = self.gates_rung(&proposed);
        gaps.extend(gate_gaps);
        let (tests, test_gaps) = self.tests_rung(&proposed);
        gaps.extend(test_gaps);
        gaps.extend(self.agent_rung());
        let (reviews, review_gaps) = self.review_rung();
        gaps.extend(review_gaps);
        gaps.extend(self.change_rung());
        let (surface, surface_gaps) = self.surface_rung();
        gaps.extend(surface_gaps);
        gaps.extend(self.rerun_rung(&proposed));
        gaps.extend(self.rewrite_rung());
        let (integration, acceptance_gaps) = self.acceptance_rung();
        gaps.extend(acceptance_gaps);
        gaps.extend(self.flaky_rung(&proposed, integration.as_ref()));
        let verdict = self.verdict(gaps, &surface.human_decisions_required);

        let patch = self
            .patch
            .as_ref()
            .filter(|(tree, _)| Some(tree.as_str()) == self.proposed_tree.as_deref())
            .map(|(_, patch)| patch.clone());
        let artifacts = self.artifacts(patch.as_ref(), &gates, oracle.as_ref());
        let Created { goal_id, at: started_at, event: goal } = created;
        Ok(Proof {
            version: PROOF_VERSION,
            goal_id: goal_id.clone(),
            status: verdict.status,
            readiness: verdict.readiness,
            summary: verdict.summary,
            generated_at: last_at,
            task: TaskSummary {
                prompt: goal.prompt.clone(),
                agent: goal.agent.clone(),
                goal_kind: self.classified.as_ref().map(|it| it.goal_kind),
                omk_version: goal.omk_version.clone(),
                started_at: *started_at,
                elapsed_ms: elapsed_ms(*started_at, last_at),
                events: self.events,
                log_head: self.log_head.map(|it| it.to_string()),
            },
            git: self.git(created, patch),
            commits: self.commits.clone(),
            changed_files: self.changed_files.clone(),
            gates,
            post_mutation_gates_ran,
            gate_surface: surface.surface,
            reviews,
            oracle,
            tests: Some(tests),
            agent: self.agent.clone().map(|mut agent| {
                agent.checks.clone_from(&self.agent_checks);
                agent
            }),
            team: self.team.as_ref().map(TeamFold::evidence),
            approvals: self.approvals.clone(),
            budget: BudgetEvidence {
                limits: self.meter.limits(),
                used: self.meter.used(),
                exhausted: self.exhausted,
            },
            integration,
            human_decisions_required: surface.human_decisions_required,
            recovery: self.recovery.clone(),
            known_gaps: verdict.known_gaps,
            artifacts,
            sandbox: self.sandbox.clone(),
            gates_left_files: self.gates_left_files.clone(),
            repair: self.repair.evidence(),
        })
    }

    /// Returns the gap of proposed gates that changed files of the proposed tree as they ran.
    fn rewrite_rung(&self) -> Vec<Gap> {
        let mut paths: Vec<String> = self
            .gates_left_files
            .iter()
            .filter(|left| {
                left.phase == GatePhase::Proposed
                    && Some(left.tree_id.as_str()) == self.proposed_tree.as_deref()
            })
            .flat_map(|left| left.rewritten.iter().cloned())
            .collect();
        paths.sort();
        paths.dedup();
        if paths.is_empty() { Vec::new() } else { vec![Gap::GateRewroteTree { paths }] }
    }

    /// Returns every gate: baseline first, then proposed, each in the order first seen.
    fn proof_gates(&self) -> Vec<ProofGate> {
        let proposed_tree = self.proposed_tree.as_deref();
        let oracle_names = self.oracle_names();
        let mut records: Vec<&GateRecord> = self.gates.iter().collect();
        records.sort_by_key(|record| record.latest.1.phase);
        records
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
                    after_last_mutation: self.after_last_mutation(*seq),
                    cached_from: gate.cached_from.clone(),
                    runs: record.all.runs,
                    failed_runs: record.all.failed,
                    runs_on_tree: on_tree.map_or(0, |it| it.runs),
                    counting_failures: counting.failed,
                    counting_no_tests: counting.no_tests,
                    tests_by_exit_code: gate.tests_by_exit_code,
                    // Runs on the proposed tree since the last change that disagree, or a
                    // result the cache recorded for the same files that differs.
                    flaky: on_tree.is_some_and(|it| it.failed > 0 && it.failed < it.runs)
                        || gate.flaky_with.is_some(),
                    flaky_with: gate.flaky_with.clone(),
                    junit: gate.junit.clone(),
                }
            })
            .collect()
    }

    /// Returns the gates the goal's kind requires.
    pub(super) fn oracle_names(&self) -> Vec<&str> {
        self.classified
            .as_ref()
            .map(|it| it.oracle_gates.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Returns whether event `seq` came after the last change of the worktree.
    fn after_last_mutation(&self, seq: Seq) -> bool {
        self.last_mutation.is_none_or(|last| seq > last)
    }

    /// Returns the gaps that sit beside the ladder: the halt, then the questions pending.
    fn halt_gaps(&self) -> Vec<Gap> {
        let mut gaps: Vec<Gap> = self.halt.iter().cloned().collect();
        for decision in &self.requested {
            if !matches!(decision.subject, DecisionSubject::GateSurface { .. }) {
                gaps.push(Gap::DecisionPending {
                    subject: decision.subject.clone(),
                    question: decision.question.clone(),
                });
            }
        }
        gaps
    }

    /// The rungs [`Readiness::NoTestsRan`] and [`Readiness::GatesFailing`]: the latest
    /// proposed run of each required gate, and the gates the goal's kind requires.
    /// Returns the gap of a user's checkout that changed while the goal ran: whatever wrote
    /// there, nothing the run shows can be trusted to be all it did.
    fn checkout_rung(&self) -> Vec<Gap> {
        if self.checkout_changes.is_empty() {
            return Vec::new();
        }
        vec![Gap::CheckoutChanged { changes: self.checkout_changes.iter().cloned().collect() }]
    }

    fn gates_rung(&self, proposed: &[&ProofGate]) -> (Option<OracleEvidence>, Vec<Gap>) {
        let mut gaps = Vec::new();
        if proposed.is_empty() {
            gaps.push(Gap::NoGates);
        } else if !proposed.iter().any(|gate| gate.required) && self.oracle_names().is_empty() {
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
        }
        let mut fail_to_pass_gaps = Vec::new();
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
            fail_to_pass: {
                let (evidence, gaps) = self.fail_to_pass_rung(classified.goal_kind, proposed);
                fail_to_pass_gaps = gaps;
                Some(evidence)
            },
        });
        for gate in oracle.iter().flat_map(|oracle| &oracle.gates) {
            if gate.status == OracleGateStatus::Missing {
                gaps.push(Gap::OracleGateMissing { gate: gate.name.clone() });
            }
        }
        gaps.extend(fail_to_pass_gaps);
        (oracle, gaps)
    }

    /// The rungs [`Readiness::NoTestsRan`] and [`Readiness::GatesFailing`] for tests: unless
    /// the goal's kind needs no test oracle (docs, chore: `[oracle]` decides), at least one
    /// required test gate must pass having counted one or more tests, or be declared
    /// `tests = "exit-code"` (weaker evidence, listed apart).
    fn tests_rung(&self, proposed: &[&ProofGate]) -> (TestEvidence, Vec<Gap>) {
        let kind = self.classified.as_ref().map(|it| it.goal_kind);
        let rule = match kind {
            Some(GoalKind::Docs | GoalKind::Chore) => TestRule::OracleOnly,
            _ => TestRule::CountedTests,
        };
        let test_gates: Vec<&ProofGate> =
            proposed.iter().copied().filter(|gate| gate.required && gate.kind.is_test()).collect();
        let counted: Vec<String> = test_gates
            .iter()
            .filter(|gate| gate.passed && gate.tests.is_some_and(|tests| tests.ran() > 0))
            .map(|gate| gate.name.clone())
            .collect();
        let exit_code_only: Vec<String> = test_gates
            .iter()
            .filter(|gate| gate.passed && gate.tests_by_exit_code && gate.tests.is_none())
            .map(|gate| gate.name.clone())
            .collect();
        let evidence = TestEvidence { rule, why: rule.why(kind), counted, exit_code_only };
        if rule == TestRule::OracleOnly {
            return (evidence, Vec::new());
        }
        let mut gaps = Vec::new();
        if test_gates.is_empty() {
            gaps.push(Gap::NoTestGate);
        }
        let uncounted = |gate: &&&ProofGate| self.counting_uncounted(gate) > 0;
        for gate in test_gates.iter().filter(uncounted) {
            gaps.push(Gap::TestsNotCounted { gate: gate.name.clone() });
        }
        // A failed gate or one that ran no test already holds this rung or a lower one.
        let explained = test_gates.iter().any(|gate| {
            gate.counting_failures > 0 || gate.counting_no_tests > 0 || uncounted(&gate)
        });
        if !test_gates.is_empty()
            && evidence.counted.is_empty()
            && evidence.exit_code_only.is_empty()
            && !explained
        {
            let gates = test_gates.iter().map(|gate| gate.name.clone()).collect();
            gaps.push(Gap::NoCountedTests { gates });
        }
        (evidence, gaps)
    }

    /// Returns how many runs of gate `gate` that count against it passed without a count.
    fn counting_uncounted(&self, gate: &ProofGate) -> u32 {
        self.gates
            .iter()
            .find(|record| record.latest.1.name == gate.name && record.latest.1.phase == gate.phase)
            .map_or(0, |record| record.counting().uncounted)
    }

    /// The rung [`Readiness::AwaitingAcceptance`] for flaky gates: a required gate whose result
    /// differs on the same tree waits on a person's acceptance of the tree; a policy's does not
    /// count.
    fn flaky_rung(
        &self,
        proposed: &[&ProofGate],
        integration: Option<&IntegrationEvidence>,
    ) -> Vec<Gap> {
        let proposed_tree = self.proposed_tree.as_deref();
        let accepted_by_person = integration.is_some_and(|it| {
            Some(it.tree_id.as_str()) == proposed_tree
                && it.decision == IntegrationDecision::Accepted
                && matches!(it.by, Actor::Person { .. })
        });
        if accepted_by_person {
            return Vec::new();
        }
        proposed
            .iter()
            .filter(|gate| gate.required && gate.flaky)
            .map(|gate| Gap::GateFlaky { gate: gate.name.clone(), with: gate.flaky_with.clone() })
            .collect()
    }

    /// Returns whether the goal's agent finished its latest run.
    ///
    /// Fail closed: a run counts only when it was started and finished, in that order.
    fn agent_done(&self) -> bool {
        matches!((self.last_agent_start, self.last_agent_finish),
            (Some(start), Some(finish)) if finish > start)
    }

    /// The rungs [`Readiness::AgentFailed`] and [`Readiness::AgentNotRun`]: the goal's agent,
    /// or a team goal's slices.
    fn agent_rung(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        let agent_done = self.agent_done();
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
        gaps
    }

    /// The rungs [`Readiness::ReviewMissing`] and [`Readiness::ReviewFailed`]: the review wall
    /// on the proposed tree, one section per declared check in declared order.
    fn review_rung(&self) -> (Vec<ReviewSection>, Vec<Gap>) {
        let proposed_tree = self.proposed_tree.as_deref();
        let round =
            self.reviews.iter().find(|it| Some(it.started.tree_id.as_str()) == proposed_tree);
        let Some(ReviewRound { started, results }) = round else {
            return (Vec::new(), vec![Gap::ReviewNotRun]);
        };
        let mut gaps = Vec::new();
        let mut reviews = Vec::new();
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
        reviews.sort_by_key(|section| (order(&section.check).is_none(), order(&section.check)));
        (reviews, gaps)
    }

    /// The rung [`Readiness::NoChanges`]: the change itself, captured after the work.
    fn change_rung(&self) -> Vec<Gap> {
        // The work that changes the worktree: the agent's finished run, or a team's landings.
        let work_end = self
            .last_agent_finish
            .filter(|_| self.agent_done())
            .max(self.team.as_ref().and_then(TeamFold::last_landed));
        let captured_after_work = matches!((self.last_capture, work_end),
            (Some(capture), Some(end)) if capture > end);
        if work_end.is_some() && !captured_after_work {
            vec![Gap::ChangesNotCaptured]
        } else if self.changed_files.is_empty() {
            vec![Gap::NoChanges]
        } else {
            Vec::new()
        }
    }

    /// The rung [`Readiness::GateSurfaceChanged`]: the gate surface of the proposed tree, and
    /// the decision on its change.
    fn surface_rung(&self) -> (SurfaceEvidence, Vec<Gap>) {
        let proposed_tree = self.proposed_tree.as_deref();
        let surface = self.surfaces.iter().find(|it| Some(it.tree_id.as_str()) == proposed_tree);
        let surface_decision = surface.and_then(|check| {
            self.surface_decisions
                .iter()
                .find(|(digest, _)| *digest == check.proposed_digest)
                .map(|(_, decision)| decision)
        });
        let mut human_decisions_required = self.requested.clone();
        let mut gaps = Vec::new();
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
                        human_decisions_required.push(surface_question(check, subject));
                    }
                }
            }
            Some(_) => {}
        }
        let evidence = SurfaceEvidence {
            surface: surface.map(|check| surface_evidence(check, surface_decision)),
            human_decisions_required,
        };
        (evidence, gaps)
    }

    /// The rungs [`Readiness::NotRerunAfterChange`] and [`Readiness::GatesOnDifferentTree`]:
    /// each required gate ran again after the last change, on the proposed tree.
    fn rerun_rung(&self, proposed: &[&ProofGate]) -> Vec<Gap> {
        let proposed_tree = self.proposed_tree.as_deref();
        let mut gaps = Vec::new();
        for gate in proposed.iter().filter(|gate| gate.required) {
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
        gaps
    }

    /// The rung [`Readiness::AwaitingAcceptance`]: acceptance of the exact proposed tree.
    fn acceptance_rung(&self) -> (Option<IntegrationEvidence>, Vec<Gap>) {
        let proposed_tree = self.proposed_tree.as_deref();
        // The decision on the proposed tree counts; another tree's is shown when there is none.
        let integration = self
            .integrations
            .iter()
            .find(|it| Some(it.tree_id.as_str()) == proposed_tree)
            .or(self.integrations.last());
        // A rejection speaks for its tree only: a new tree (a follow-up) awaits a decision.
        let gaps = match integration {
            None => vec![Gap::AcceptanceMissing],
            Some(integration) if Some(integration.tree_id.as_str()) != proposed_tree => {
                vec![match integration.decision {
                    IntegrationDecision::Accepted => {
                        Gap::AcceptedOtherTree { tree_id: integration.tree_id.clone() }
                    }
                    IntegrationDecision::Rejected => Gap::AcceptanceMissing,
                }]
            }
            Some(integration) if integration.decision == IntegrationDecision::Rejected => {
                vec![Gap::ChangeRejected {
                    by: integration.by.clone(),
                    reason: integration.reason.clone().unwrap_or_default(),
                }]
            }
            Some(_) => Vec::new(),
        };
        let mut gaps = gaps;
        // Only a person can take a change whose processes ran unconfined; a policy cannot.
        if let Some(reason) = &self.unconfined {
            let by_person = integration.is_some_and(|it| {
                Some(it.tree_id.as_str()) == proposed_tree
                    && it.decision == IntegrationDecision::Accepted
                    && matches!(it.by, Actor::Person { .. })
            });
            if !by_person {
                gaps.push(Gap::Unconfined { reason: reason.clone() });
            }
        }
        (integration.cloned(), gaps)
    }

    /// Returns the verdict: halts first, then the lowest rung; gaps listed in that order.
    fn verdict(&self, mut gaps: Vec<Gap>, human_decisions_required: &[HumanDecision]) -> Verdict {
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
        Verdict {
            status,
            readiness,
            summary,
            known_gaps: gaps.into_iter().map(KnownGap::from).collect(),
        }
    }

    /// Returns where the goal's change lives in git; `patch` is the proposed tree's.
    fn git(&self, created: &Created, patch: Option<ArtifactRef>) -> GitEvidence {
        let dirty = match (self.commits.last(), self.proposed_tree.as_deref()) {
            (Some(commit), Some(tree)) => Some(commit.tree_id != tree),
            _ => None,
        };
        GitEvidence {
            base_branch: created.event.base_branch.clone(),
            base_commit: created.event.base_commit.clone(),
            branch: self.branch.clone(),
            head_commit: self.commits.last().map(|it| it.commit.clone()),
            tree_id: self.proposed_tree.clone(),
            dirty,
            patch,
        }
    }

    /// Returns every artifact the proof names, each once, in the order first named.
    fn artifacts(
        &self,
        patch: Option<&ArtifactRef>,
        gates: &[ProofGate],
        oracle: Option<&OracleEvidence>,
    ) -> Vec<ArtifactRef> {
        let mut artifacts: Vec<ArtifactRef> = Vec::new();
        let named = self
            .agent
            .iter()
            .flat_map(|it| [&it.transcript, &it.stdout, &it.stderr])
            .flatten()
            .chain(patch)
            .chain(gates.iter().filter_map(|it| it.output.as_ref()))
            .chain(oracle_outputs(oracle))
            .chain(self.team.iter().flat_map(TeamFold::artifacts));
        for artifact in named {
            if !artifacts.iter().any(|it| it.path == artifact.path) {
                artifacts.push(artifact.clone());
            }
        }
        artifacts
    }
}

/// Returns the outputs of the fail-to-pass check's gates, which the proof names as artifacts.
fn oracle_outputs(oracle: Option<&OracleEvidence>) -> impl Iterator<Item = &ArtifactRef> {
    oracle
        .and_then(|it| it.fail_to_pass.as_ref())
        .and_then(|it| it.check.as_ref())
        .into_iter()
        .flat_map(|check| &check.gates)
        .filter_map(|gate| gate.output.as_ref())
}

/// Returns the question a changed gate surface puts to a person.
fn surface_question(check: &GateSurfaceChecked, subject: DecisionSubject) -> HumanDecision {
    HumanDecision {
        subject,
        question: format!(
            "the change touches what the gates check ({}); may it stand?",
            check.changed_paths.join(", ")
        ),
    }
}

/// Returns the gate-surface section: the decision shows only when the surface changed.
fn surface_evidence(
    check: &GateSurfaceChecked,
    decision: Option<&DecisionRecord>,
) -> GateSurfaceEvidence {
    GateSurfaceEvidence {
        tree_id: check.tree_id.clone(),
        base_digest: check.base_digest.clone(),
        proposed_digest: check.proposed_digest.clone(),
        changed_paths: check.changed_paths.clone(),
        decision: if check.changed_paths.is_empty() { None } else { decision.cloned() },
    }
}
