//! The fold of the repair loop's events into the proof's repair section.

use omk_events::{AgentFinished, Event, GateFinished, GatePhase};

use crate::model::{RepairEvidence, RepairRound, RoundAgent, RoundGate};

/// The repair loop as far as the events went.
#[derive(Debug, Default)]
pub(super) struct RepairFold {
    /// The latest limit recorded.
    limit: Option<u32>,
    rounds: Vec<RepairRound>,
}

impl RepairFold {
    /// Folds an event of the goal's own run.
    pub(super) fn apply(&mut self, event: &Event) {
        match event {
            Event::RepairRoundsSet(set) => self.limit = Some(set.rounds),
            Event::RepairRoundStarted(started) => self.rounds.push(RepairRound {
                round: started.round,
                from_tree: started.tree_id.clone(),
                failed_gates: started.failed_gates.clone(),
                findings: started.findings.clone(),
                follow_up: started.follow_up.clone(),
                agent: None,
                tree_id: None,
                gates: Vec::new(),
                outcome: None,
            }),
            Event::RepairRoundEnded(ended) => {
                if let Some(round) = self.rounds.iter_mut().rev().find(|it| it.round == ended.round)
                {
                    round.outcome = Some(ended.outcome);
                    if ended.tree_id.is_some() {
                        round.tree_id.clone_from(&ended.tree_id);
                    }
                }
            }
            Event::AgentStarted(_) => {
                // A run that starts again leaves a new tree to capture.
                if let Some(round) = self.open() {
                    round.tree_id = None;
                    round.gates.clear();
                }
            }
            Event::AgentFinished(finished) => self.agent_finished(finished),
            Event::ChangesCaptured(changes) => self.tree(&changes.tree_id),
            Event::ChangesCommitted(commit) => self.tree(&commit.tree_id),
            Event::GateFinished(gate) => self.gate(gate),
            _ => {}
        }
    }

    /// Returns the section, once a round started.
    pub(super) fn evidence(&self) -> Option<RepairEvidence> {
        (!self.rounds.is_empty()).then(|| RepairEvidence {
            limit: self.limit.unwrap_or_default(),
            rounds: self.rounds.clone(),
        })
    }

    /// Returns the round under way.
    fn open(&mut self) -> Option<&mut RepairRound> {
        self.rounds.last_mut().filter(|round| round.outcome.is_none())
    }

    fn agent_finished(&mut self, finished: &AgentFinished) {
        let Some(round) = self.open() else { return };
        let runs = round.agent.as_ref().map_or(0, |it| it.runs) + 1;
        let duration_ms = round.agent.as_ref().map_or(0, |it| it.duration_ms);
        round.agent = Some(RoundAgent {
            runs,
            status: finished.status,
            session_id: finished.session_id.clone(),
            error: finished.error.clone(),
            transcript: finished.transcript.clone(),
            duration_ms: duration_ms + finished.duration_ms,
        });
    }

    fn tree(&mut self, tree_id: &str) {
        if let Some(round) = self.open().filter(|round| round.agent.is_some())
            && round.tree_id.as_deref() != Some(tree_id)
        {
            round.tree_id = Some(tree_id.to_owned());
            round.gates.clear();
        }
    }

    fn gate(&mut self, gate: &GateFinished) {
        let Some(round) = self.open() else { return };
        if gate.phase != GatePhase::Proposed
            || round.tree_id.is_none()
            || gate.tree_id != round.tree_id
        {
            return;
        }
        round.gates.retain(|it| it.name != gate.name);
        round.gates.push(RoundGate {
            name: gate.name.clone(),
            required: gate.required,
            passed: gate.passed(),
            exit_code: gate.exit_code,
            output: gate.output.clone(),
        });
    }
}
