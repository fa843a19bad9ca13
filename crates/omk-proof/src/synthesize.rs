//! The fold from a goal's events to its proof.

use std::collections::BTreeSet;

use omk_events::{AgentStatus, Envelope, Event, GateFinished, Seq};

use crate::{
    error::Error,
    model::{Gap, GitEvidence, KnownGap, PROOF_VERSION, Proof, ProofGate, ProofStatus, Readiness},
};

/// Returns the proof of the goal whose whole event log is `events`.
///
/// The events must be one goal's log in order, starting with `goal_created`, as
/// `omk_events::read_log` returns it. The result depends on nothing but `events`.
pub fn synthesize(events: &[Envelope]) -> Result<Proof, Error> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Err(Error::NoEvents);
    };
    let Event::GoalCreated(created) = &first.event else {
        return Err(Error::MissingGoalCreated { found: first.event.kind() });
    };

    let mut git = GitEvidence {
        base_branch: created.base_branch.clone(),
        base_commit: created.base_commit.clone(),
        branch: None,
        tree_id: None,
    };
    let mut agent = None;
    let mut changed_files = Vec::new();
    let mut gate_runs: Vec<(Seq, &GateFinished)> = Vec::new();
    let mut artifacts = Vec::new();
    let mut infra_failure = None;
    let mut approvals = Vec::new();
    // The agent's last change is bounded by its last start; the capture that follows it is
    // the evidence gates must come after.
    let mut last_agent_start: Option<Seq> = None;
    let mut last_agent_finish: Option<Seq> = None;
    let mut last_capture: Option<Seq> = None;

    for envelope in events {
        match &envelope.event {
            Event::GoalCreated(_) => {}
            Event::WorktreeCreated(worktree) => git.branch = Some(worktree.branch.clone()),
            Event::AgentStarted(_) => last_agent_start = Some(envelope.seq),
            Event::AgentFinished(finished) => {
                last_agent_finish = Some(envelope.seq);
                artifacts.extend(finished.transcript.clone());
                artifacts.extend(finished.stdout.clone());
                artifacts.extend(finished.stderr.clone());
                agent = Some(finished.clone());
            }
            Event::ChangesCaptured(changes) => {
                last_capture = Some(envelope.seq);
                git.tree_id = Some(changes.tree_id.clone());
                changed_files.clone_from(&changes.files);
            }
            Event::GateFinished(gate) => {
                artifacts.extend(gate.output.clone());
                gate_runs.push((envelope.seq, gate));
            }
            Event::GoalFailed(failed) => {
                infra_failure =
                    Some(Gap::InfraFailure { step: failed.step, error: failed.error.clone() });
            }
            Event::ApprovalDecided(decided) => approvals.push(decided.clone()),
        }
    }

    // Fail closed: a run counts only when it was started and finished, in that order, and
    // the changes count only when captured after it finished.
    let agent_done = matches!((last_agent_start, last_agent_finish), (Some(start), Some(finish)) if finish > start);
    let captured_after_agent = agent_done
        && matches!((last_capture, last_agent_finish), (Some(capture), Some(finish)) if capture > finish);
    let after_last_mutation =
        |seq: Seq| captured_after_agent && last_capture.is_some_and(|capture| seq > capture);
    let gates: Vec<ProofGate> =
        gate_runs.iter().map(|&(seq, gate)| proof_gate(gate, after_last_mutation(seq))).collect();
    let post_mutation_gates_ran = gates.iter().any(|gate| gate.after_last_mutation);

    // Collect every gap, then take the readiness rung from the lowest one.
    let mut gaps = Vec::new();
    let mut readiness = Readiness::VerifiedAwaitingAcceptance;
    let mut lower_to = |rung: Readiness| readiness = readiness.min(rung);
    if let Some(failure) = infra_failure.clone() {
        gaps.push(failure);
        lower_to(Readiness::InfraFailed);
    }
    match agent.as_ref().filter(|_| agent_done) {
        None => {
            gaps.push(Gap::AgentNotRun);
            lower_to(Readiness::AgentNotRun);
        }
        Some(finished) if finished.status == AgentStatus::Failed => {
            gaps.push(Gap::AgentFailed { error: finished.error.clone() });
            lower_to(Readiness::AgentFailed);
        }
        Some(_) if !captured_after_agent => {
            gaps.push(Gap::ChangesNotCaptured);
            lower_to(Readiness::Unverified);
        }
        Some(_) if changed_files.is_empty() => {
            gaps.push(Gap::NoChanges);
            lower_to(Readiness::NoChanges);
        }
        Some(_) => {}
    }

    let required: BTreeSet<&str> =
        gates.iter().filter(|gate| gate.required).map(|gate| gate.name.as_str()).collect();
    if gates.is_empty() {
        gaps.push(Gap::NoGates);
        lower_to(Readiness::Unverified);
    } else if !post_mutation_gates_ran {
        gaps.push(Gap::GatesNotRunAfterChange);
        lower_to(Readiness::Unverified);
    } else if required.is_empty() {
        gaps.push(Gap::NoRequiredGate);
        lower_to(Readiness::Unverified);
    }
    for name in &required {
        // The latest run after the change decides; a required gate with no such run fails.
        let verdict = gates
            .iter()
            .rev()
            .find(|gate| gate.name == *name && gate.after_last_mutation)
            .map(|gate| gate.passed);
        if verdict != Some(true) && post_mutation_gates_ran {
            gaps.push(Gap::RequiredGateFailed { gate: (*name).to_owned() });
            lower_to(Readiness::GatesFailing);
        }
    }
    if gaps.is_empty() {
        gaps.push(Gap::AcceptanceMissing);
    }

    let status =
        if infra_failure.is_some() { ProofStatus::FailedInfra } else { ProofStatus::NotReady };
    Ok(Proof {
        version: PROOF_VERSION,
        goal_id: first.goal_id.clone(),
        status,
        readiness,
        summary: format!("{status}: {}", readiness.sentence()),
        generated_at: last.at,
        prompt: created.prompt.clone(),
        git,
        agent,
        changed_files,
        gates,
        post_mutation_gates_ran,
        known_gaps: gaps.into_iter().map(KnownGap::from).collect(),
        artifacts,
        approvals,
    })
}

fn proof_gate(gate: &GateFinished, after_last_mutation: bool) -> ProofGate {
    ProofGate {
        name: gate.name.clone(),
        kind: gate.gate_kind,
        command: gate.command.clone(),
        required: gate.required,
        passed: gate.passed(),
        exit_code: gate.exit_code,
        signal: gate.signal,
        timed_out: gate.timed_out,
        spawn_error: gate.spawn_error.clone(),
        duration_ms: gate.duration_ms,
        output: gate.output.clone(),
        after_last_mutation,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use omk_events::{
        AgentFinished, AgentStarted, ChangedFile, ChangesCaptured, FileOperation, GateKind,
        GoalCreated, GoalId, WorktreeCreated,
    };

    use super::*;

    /// The events a goal can go through, as building blocks of arbitrary logs.
    fn alphabet() -> Vec<Event> {
        let finished = |status| {
            Event::AgentFinished(AgentFinished {
                agent: "script:a".into(),
                status,
                error: None,
                final_message: None,
                steps: 1,
                tool_calls: 0,
                failed_tool_calls: 0,
                usage: None,
                transcript: None,
                duration_ms: 1,
                ..AgentFinished::new("script:a")
            })
        };
        let captured = |n_files: usize| {
            let file = ChangedFile {
                path: "a.txt".into(),
                operation: FileOperation::Modified,
                renamed_from: None,
                lines_added: Some(1),
                lines_removed: Some(0),
                blob_id: Some("b".into()),
            };
            Event::ChangesCaptured(ChangesCaptured {
                base_commit: "c".into(),
                tree_id: "t".into(),
                files: vec![file; n_files],
            })
        };
        let gate = |exit_code, required| {
            Event::GateFinished(GateFinished {
                name: if required { "test".into() } else { "lint".into() },
                gate_kind: GateKind::Test,
                command: vec!["true".into()],
                required,
                exit_code: Some(exit_code),
                signal: None,
                timed_out: false,
                spawn_error: None,
                duration_ms: 1,
                output: None,
            })
        };
        vec![
            Event::WorktreeCreated(WorktreeCreated {
                path: "/w".into(),
                branch: "omk/g".into(),
                base_commit: "c".into(),
            }),
            Event::AgentStarted(AgentStarted { agent: "script:a".into() }),
            finished(AgentStatus::Completed),
            finished(AgentStatus::Failed),
            captured(0),
            captured(1),
            gate(0, true),
            gate(1, true),
            gate(0, false),
        ]
    }

    fn log_of(kinds: &[usize], alphabet: &[Event]) -> Vec<Envelope> {
        let goal_id = GoalId::parse("g").expect("valid id");
        let created = Event::GoalCreated(GoalCreated {
            prompt: "p".into(),
            repo_root: "/r".into(),
            base_branch: None,
            base_commit: "c".into(),
            agent: "script:a".into(),
            omk_version: "0".into(),
        });
        std::iter::once(created)
            .chain(kinds.iter().map(|&kind_idx| alphabet[kind_idx].clone()))
            .enumerate()
            .map(|(idx, event)| Envelope {
                format: "1.0".into(),
                seq: Seq(idx as u64 + 1),
                at: Utc.timestamp_opt(idx as i64, 0).single().expect("valid time"),
                goal_id: goal_id.clone(),
                event,
            })
            .collect()
    }

    /// Checks the fail-closed invariant on every log of up to five events after `goal_created`.
    #[test]
    fn verified_needs_a_passing_required_gate_after_the_last_change() {
        let alphabet = alphabet();
        let mut n_verified = 0;
        let mut kinds: Vec<usize> = Vec::new();
        loop {
            let events = log_of(&kinds, &alphabet);
            let proof = synthesize(&events).expect("every generated log starts with goal_created");
            if proof.readiness == Readiness::VerifiedAwaitingAcceptance {
                n_verified += 1;
                let last_start = events
                    .iter()
                    .rposition(|it| matches!(it.event, Event::AgentStarted(_)))
                    .expect("a verified goal has an agent run");
                let last_capture = events
                    .iter()
                    .rposition(|it| matches!(it.event, Event::ChangesCaptured(_)))
                    .expect("a verified goal has captured changes");
                assert!(last_capture > last_start, "{kinds:?}");
                let passing_required_after = events[last_capture..].iter().any(|it| {
                    matches!(&it.event, Event::GateFinished(gate) if gate.required && gate.passed())
                });
                assert!(passing_required_after, "{kinds:?}");
                assert!(!proof.changed_files.is_empty(), "{kinds:?}");
                assert_eq!(proof.known_gaps.len(), 1, "{kinds:?}");
            } else {
                assert!(
                    proof.known_gaps.iter().all(|gap| gap.gap != Gap::AcceptanceMissing),
                    "{kinds:?}"
                );
            }
            if !next_sequence(&mut kinds, alphabet.len(), 5) {
                break;
            }
        }
        assert!(n_verified > 0, "the generator reaches the verified rung");
    }

    /// Advances `kinds` to the next sequence in length-then-lexicographic order.
    fn next_sequence(kinds: &mut Vec<usize>, n_kinds: usize, max_len: usize) -> bool {
        for idx in (0..kinds.len()).rev() {
            if kinds[idx] + 1 < n_kinds {
                kinds[idx] += 1;
                kinds[idx + 1..].iter_mut().for_each(|it| *it = 0);
                return true;
            }
        }
        if kinds.len() == max_len {
            return false;
        }
        kinds.iter_mut().for_each(|it| *it = 0);
        kinds.push(0);
        true
    }

    #[test]
    fn a_log_must_start_with_goal_created() {
        assert_eq!(synthesize(&[]), Err(Error::NoEvents));
        let mut events = log_of(&[1], &alphabet());
        events.remove(0);
        assert_eq!(synthesize(&events), Err(Error::MissingGoalCreated { found: "agent_started" }));
    }
}
