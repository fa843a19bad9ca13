//! The fold of a team goal's events into the proof's team section and its gaps.
//!
//! [`TeamFold`] follows each slice through its attempts, its agent's runs and the merge queue.
//! It reads the slices' wrapped events and the integration gates only: the goal's own fold never
//! sees them, so a slice's run cannot stand for the goal's agent, change or gates.

use omk_events::{
    ArtifactRef, Event, GateFinished, GatePhase, PlanSource, QueueLanded, QueueMerged,
    QueueReverted, Seq, SliceEvent, TakeOutReason, TaskClaimed, TaskCompleted, TaskFailed,
    TaskGraphPlanned, TaskProposed, TaskSpec,
};

use crate::{
    agent::add_agent_run,
    gap::{Gap, NotLanded},
    model::{
        AttemptEvidence, AttemptOutcome, BatchResult, IntegrationGate, ProposalEvidence,
        QueueBatchEvidence, SliceEvidence, SliceMerge, SliceStatus, TaskGraphSummary, TeamEvidence,
    },
};

/// What the proof keeps of a team goal's events.
#[derive(Debug)]
pub(crate) struct TeamFold {
    source: PlanSource,
    max_agents: u32,
    slices: Vec<SliceState>,
    batches: Vec<BatchState>,
    proposals: Vec<ProposalEvidence>,
    /// The latest `queue_landed`: the integration branch changed, so the goal's change must be
    /// captured again after it.
    last_landed: Option<Seq>,
}

#[derive(Debug)]
struct SliceState {
    evidence: SliceEvidence,
    /// Why the slice stopped short of landing, while it stays stopped.
    not_landed: Option<NotLanded>,
    /// The batch whose integration gates decided the slice.
    deciding_batch: Option<usize>,
    /// The latest event about the slice.
    last_seq: Seq,
}

#[derive(Debug)]
struct BatchState {
    evidence: QueueBatchEvidence,
    gates: Vec<IntegrationGate>,
}

impl TeamFold {
    /// Returns the fold of a team goal whose graph is `planned`.
    pub(crate) fn new(seq: Seq, planned: &TaskGraphPlanned) -> Self {
        let mut fold = Self {
            source: planned.source.clone(),
            max_agents: planned.max_agents,
            slices: Vec::new(),
            batches: Vec::new(),
            proposals: Vec::new(),
            last_landed: None,
        };
        fold.plan(seq, planned);
        fold
    }

    /// Takes a (re)planned graph: new tasks join, known ones keep their evidence.
    pub(crate) fn plan(&mut self, seq: Seq, planned: &TaskGraphPlanned) {
        self.source.clone_from(&planned.source);
        self.max_agents = planned.max_agents;
        for task in &planned.tasks {
            self.add_task(seq, task);
        }
    }

    /// Returns the latest `queue_landed`, when a batch landed.
    pub(crate) fn last_landed(&self) -> Option<Seq> {
        self.last_landed
    }

    /// Returns whether the graph has a slice: a team goal's slices stand for its agent run.
    pub(crate) fn has_slices(&self) -> bool {
        !self.slices.is_empty()
    }

    /// Folds one team event; other events are not the team's.
    pub(crate) fn apply(&mut self, seq: Seq, event: &Event) {
        match event {
            Event::TaskGraphPlanned(planned) => self.plan(seq, planned),
            Event::TaskProposed(proposed) => self.propose(seq, proposed),
            Event::TaskClaimed(claimed) => self.claim(seq, claimed),
            Event::Slice(slice) => self.slice_event(seq, slice),
            Event::TaskCompleted(completed) => self.complete(seq, completed),
            Event::TaskFailed(failed) => self.fail(seq, failed),
            Event::QueueMerged(merged) => self.merge(seq, merged),
            Event::GateFinished(gate) => self.integration_gate(gate),
            Event::QueueLanded(landed) => self.land(seq, landed),
            Event::QueueReverted(reverted) => self.revert(seq, reverted),
            Event::TaskTakenOut(out) => {
                let why = NotLanded::TakenOut(out.reason.clone());
                let merge = SliceMerge::TakenOut(out.reason.clone());
                let batch = match &out.reason {
                    TakeOutReason::BrokeGates { tree_id, .. } => self.batch_on(tree_id),
                    _ => None,
                };
                let slice = self.slice(seq, &out.task);
                slice.evidence.status = SliceStatus::TakenOut;
                slice.evidence.merge = Some(merge);
                slice.not_landed = Some(why);
                slice.deciding_batch = batch;
            }
            _ => {}
        }
    }

    /// Returns the team section of the proof.
    pub(crate) fn evidence(&self) -> TeamEvidence {
        let mut summary = TaskGraphSummary::default();
        let slices: Vec<SliceEvidence> = self
            .slices
            .iter()
            .map(|slice| {
                summary.total += 1;
                *match slice.evidence.status {
                    SliceStatus::Pending => &mut summary.pending,
                    SliceStatus::Running => &mut summary.running,
                    SliceStatus::Queued => &mut summary.queued,
                    SliceStatus::Merging => &mut summary.merging,
                    SliceStatus::Landed => &mut summary.landed,
                    SliceStatus::TakenOut => &mut summary.taken_out,
                    SliceStatus::Failed => &mut summary.failed,
                } += 1;
                let mut evidence = slice.evidence.clone();
                if let Some(batch) = slice.deciding_batch.and_then(|idx| self.batches.get(idx)) {
                    evidence.gates.clone_from(&batch.gates);
                }
                evidence
            })
            .collect();
        TeamEvidence {
            source: self.source.clone(),
            max_agents: self.max_agents,
            task_graph: summary,
            slices,
            queue: self.batches.iter().map(|batch| batch.evidence.clone()).collect(),
            proposals: self.proposals.clone(),
        }
    }

    /// Returns the team's gaps: the slices that have not finished, and each slice that will
    /// not land.
    ///
    /// A run of the goal's own agent that completed after a slice's latest event (`follow_up`,
    /// an `omk resume --prompt`) took the slice's part over: the slice is no gap then, though
    /// its evidence still says what happened to it.
    pub(crate) fn gaps(&self, follow_up: Option<Seq>) -> Vec<Gap> {
        let open: Vec<&SliceState> = self
            .slices
            .iter()
            .filter(|slice| follow_up.is_none_or(|follow_up| follow_up < slice.last_seq))
            .collect();
        let mut gaps = Vec::new();
        let unfinished: Vec<String> = open
            .iter()
            .filter(|slice| !slice.evidence.status.is_final())
            .map(|slice| slice.evidence.id.clone())
            .collect();
        if !unfinished.is_empty() {
            gaps.push(Gap::SlicesUnfinished { tasks: unfinished });
        }
        for slice in open {
            if let Some(why) = &slice.not_landed {
                gaps.push(Gap::SliceNotLanded {
                    task: slice.evidence.id.clone(),
                    why: why.clone(),
                });
            }
        }
        gaps
    }

    /// Returns every artifact the team section names: each slice's agent runs' files, then
    /// the logs of the integration gates that decided it.
    pub(crate) fn artifacts(&self) -> impl Iterator<Item = &ArtifactRef> {
        let runs = self
            .slices
            .iter()
            .filter_map(|slice| slice.evidence.agent_runs.as_ref())
            .flat_map(|runs| [&runs.transcript, &runs.stdout, &runs.stderr])
            .flatten();
        let logs = self
            .slices
            .iter()
            .filter_map(|slice| slice.deciding_batch.and_then(|idx| self.batches.get(idx)))
            .flat_map(|batch| &batch.gates)
            .filter_map(|gate| gate.output.as_ref());
        runs.chain(logs)
    }

    fn add_task(&mut self, seq: Seq, task: &TaskSpec) {
        if self.slices.iter().any(|slice| slice.evidence.id == task.id) {
            return;
        }
        self.slices.push(SliceState {
            evidence: SliceEvidence {
                id: task.id.clone(),
                prompt: task.prompt.clone(),
                depends_on: task.depends_on.clone(),
                writes: task.writes.clone(),
                agent: task.agent.clone(),
                proposed_by: task.proposed_by.clone(),
                status: SliceStatus::Pending,
                attempts: Vec::new(),
                agent_runs: None,
                approvals: Vec::new(),
                commit: None,
                tree_id: None,
                paths: Vec::new(),
                merge: None,
                gates: Vec::new(),
            },
            not_landed: None,
            deciding_batch: None,
            last_seq: seq,
        });
    }

    /// Returns the slice of `task`, which event `seq` is about; a task the graph does not know
    /// joins it, so no evidence about it is lost.
    fn slice(&mut self, seq: Seq, task: &str) -> &mut SliceState {
        let idx = match self.slices.iter().position(|slice| slice.evidence.id == task) {
            Some(idx) => idx,
            None => {
                self.add_task(seq, &TaskSpec::new(task, ""));
                self.slices.len() - 1
            }
        };
        let slice = &mut self.slices[idx];
        slice.last_seq = seq;
        slice
    }

    fn propose(&mut self, seq: Seq, proposed: &TaskProposed) {
        self.proposals.push(ProposalEvidence {
            id: proposed.task.id.clone(),
            by: proposed.task.proposed_by.clone(),
            depth: proposed.task.depth,
            accepted: proposed.accepted,
            reason: proposed.reason.clone(),
        });
        if proposed.accepted {
            self.add_task(seq, &proposed.task);
        }
    }

    fn claim(&mut self, seq: Seq, claimed: &TaskClaimed) {
        let slice = self.slice(seq, &claimed.task);
        // A new attempt after the slice failed or was taken out runs it again.
        slice.evidence.status = SliceStatus::Running;
        slice.evidence.merge = None;
        slice.not_landed = None;
        slice.deciding_batch = None;
        let attempt = AttemptEvidence {
            attempt: claimed.attempt,
            worker: claimed.worker.clone(),
            branch: claimed.branch.clone(),
            base_commit: claimed.base_commit.clone(),
            outcome: AttemptOutcome::Running,
        };
        // A run resumed after a pause claims the same attempt again: it goes on.
        match slice.evidence.attempts.last_mut() {
            Some(last) if last.attempt == claimed.attempt => *last = attempt,
            _ => slice.evidence.attempts.push(attempt),
        }
    }

    fn slice_event(&mut self, seq: Seq, slice_event: &SliceEvent) {
        let slice = self.slice(seq, &slice_event.task);
        match &*slice_event.event {
            Event::AgentFinished(finished) => {
                add_agent_run(&mut slice.evidence.agent_runs, finished);
            }
            Event::ApprovalDecided(decided) => slice.evidence.approvals.push(decided.clone()),
            // The slice's change is judged by its merge, from `task_completed` on.
            _ => {}
        }
    }

    fn complete(&mut self, seq: Seq, completed: &TaskCompleted) {
        let slice = self.slice(seq, &completed.task);
        slice.evidence.status = SliceStatus::Queued;
        slice.evidence.commit = Some(completed.commit.clone());
        slice.evidence.tree_id = Some(completed.tree_id.clone());
        slice.evidence.paths.clone_from(&completed.paths);
        if let Some(attempt) = attempt_mut(&mut slice.evidence, completed.attempt) {
            attempt.outcome = AttemptOutcome::Completed;
        }
    }

    fn fail(&mut self, seq: Seq, failed: &TaskFailed) {
        let slice = self.slice(seq, &failed.task);
        if let Some(attempt) = attempt_mut(&mut slice.evidence, failed.attempt) {
            attempt.outcome = AttemptOutcome::Failed {
                cause: failed.cause,
                reason: failed.reason.clone(),
                retry: failed.retry,
            };
        }
        if failed.retry {
            slice.evidence.status = SliceStatus::Pending;
        } else {
            slice.evidence.status = SliceStatus::Failed;
            slice.not_landed =
                Some(NotLanded::Failed { cause: failed.cause, reason: failed.reason.clone() });
        }
    }

    fn merge(&mut self, seq: Seq, merged: &QueueMerged) {
        self.batches.push(BatchState {
            evidence: QueueBatchEvidence {
                tasks: merged.tasks.clone(),
                from_commit: merged.from_commit.clone(),
                commit: merged.commit.clone(),
                tree_id: merged.tree_id.clone(),
                result: BatchResult::Open,
                failed_gates: Vec::new(),
            },
            gates: Vec::new(),
        });
        for task in &merged.tasks {
            self.slice(seq, task).evidence.status = SliceStatus::Merging;
        }
    }

    /// Records an integration gate's run on the batch merged into its tree; a failure sticks.
    fn integration_gate(&mut self, gate: &GateFinished) {
        if gate.phase != GatePhase::Integration {
            return;
        }
        let Some(tree_id) = gate.tree_id.as_deref() else { return };
        let Some(idx) = self.batch_on(tree_id) else { return };
        let gates = &mut self.batches[idx].gates;
        let run = IntegrationGate {
            name: gate.name.clone(),
            required: gate.required,
            passed: gate.passed(),
            tests: gate.tests,
            tree_id: tree_id.to_owned(),
            output: gate.output.clone(),
        };
        match gates.iter_mut().find(|it| it.name == gate.name) {
            Some(known) => {
                let passed = known.passed && run.passed;
                *known = IntegrationGate { passed, ..run };
            }
            None => gates.push(run),
        }
    }

    fn land(&mut self, seq: Seq, landed: &QueueLanded) {
        self.last_landed = Some(seq);
        let batch = self.batch_on(&landed.tree_id).or_else(|| self.open_batch());
        if let Some(idx) = batch {
            self.batches[idx].evidence.result = BatchResult::Landed;
        }
        for task in &landed.tasks {
            let slice = self.slice(seq, task);
            slice.evidence.status = SliceStatus::Landed;
            slice.evidence.merge = Some(SliceMerge::Landed {
                commit: landed.commit.clone(),
                tree_id: landed.tree_id.clone(),
            });
            slice.not_landed = None;
            slice.deciding_batch = batch;
        }
    }

    fn revert(&mut self, seq: Seq, reverted: &QueueReverted) {
        if let Some(idx) = self.batch_on(&reverted.tree_id).or_else(|| self.open_batch()) {
            let batch = &mut self.batches[idx].evidence;
            batch.result = BatchResult::Reverted;
            batch.failed_gates.clone_from(&reverted.failed_gates);
        }
        // Back in the queue: a batch is split and merged again, a slice alone is taken out.
        for task in &reverted.tasks {
            self.slice(seq, task).evidence.status = SliceStatus::Queued;
        }
    }

    /// Returns the latest batch merged into `tree_id`.
    fn batch_on(&self, tree_id: &str) -> Option<usize> {
        self.batches.iter().rposition(|batch| batch.evidence.tree_id == tree_id)
    }

    /// Returns the latest batch whose gates have not decided.
    fn open_batch(&self) -> Option<usize> {
        self.batches.iter().rposition(|batch| batch.evidence.result == BatchResult::Open)
    }
}

/// Returns attempt `attempt` of `slice`, the latest one with that number.
fn attempt_mut(slice: &mut SliceEvidence, attempt: u32) -> Option<&mut AttemptEvidence> {
    slice.attempts.iter_mut().rev().find(|it| it.attempt == attempt)
}
