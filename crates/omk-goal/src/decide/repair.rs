//! The repair loop's part of the goal's state: the limit on rounds, the round under way, and
//! what fails on each tree that a follow-up could tell the agent.
//!
//! A round is a `repair_round_started`, the agent's run on its follow-up, the pipeline on the
//! tree it left (capture, commit, gates, review), then a `repair_round_ended` whose outcome
//! says whether another round follows. Everything here is folded from events, so a run killed
//! anywhere in a round resumes it at the same point.

use std::collections::{BTreeMap, BTreeSet};

use omk_events::{
    ArtifactRef, Event, GateFinished, GatePhase, RepairOutcome, ReviewFinished, ReviewStatus,
};

/// The review checks whose failure the agent can fix itself, and so is told about: a secret it
/// wrote, tests it weakened, a change too large, a binary file, a forbidden path. The other
/// checks repeat the gates (`claims`, `oracle`); a blocked check waits for a person.
pub(crate) const ACTIONABLE_CHECKS: [&str; 5] =
    ["secrets", "gate_surface", "diff_size", "binary_files", "forbidden_paths"];

/// The repair loop, folded from the goal's events.
#[derive(Debug, Clone, Default)]
pub(crate) struct RepairState {
    /// The most rounds (`repair_rounds_set`); `None` until recorded: with `--repair`, with the
    /// goal, else from `[run] repair_rounds` when a round is first due.
    pub(crate) limit: Option<u32>,
    /// The number of rounds started.
    pub(crate) started: u32,
    /// The round under way: started and not ended.
    pub(crate) open: Option<OpenRound>,
    /// Whether the latest round ended the loop (passed, no change, the agent gave up, no round
    /// left); a new limit opens it again.
    pub(crate) ended: bool,
    /// The required gates whose latest run on a tree failed, by tree.
    failing: BTreeMap<String, BTreeSet<String>>,
    /// The actionable review checks that failed on a tree, by tree.
    findings: BTreeMap<String, BTreeSet<String>>,
    /// The session id the agent's latest run reported, which a round continues.
    pub(crate) session: Option<String>,
    /// Whether the goal is a team goal, which runs no rounds.
    team: bool,
}

/// A round under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OpenRound {
    /// The round, from 1.
    pub(crate) round: u32,
    /// The tree the round's follow-up was about.
    pub(crate) from_tree: String,
    /// The follow-up, as recorded.
    pub(crate) follow_up: ArtifactRef,
    /// Whether the round's agent run started.
    pub(crate) agent_started: bool,
}

/// What a round's end says, once its checks are in: the outcome and the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoundEnd {
    pub(crate) round: u32,
    pub(crate) outcome: RepairOutcome,
}

impl RepairState {
    /// Folds one event of the goal's own run; `oracle` names the gates the goal's kind requires,
    /// which count as required.
    pub(crate) fn apply(&mut self, event: &Event, oracle: &[String]) {
        if self.team {
            return;
        }
        match event {
            Event::TaskGraphPlanned(_) => self.team = true,
            Event::RepairRoundsSet(set) => {
                self.limit = Some(set.rounds);
                self.ended = false;
            }
            Event::RepairRoundStarted(started) => {
                self.started = self.started.max(started.round);
                self.open = Some(OpenRound {
                    round: started.round,
                    from_tree: started.tree_id.clone(),
                    follow_up: started.follow_up.clone(),
                    agent_started: false,
                });
            }
            Event::RepairRoundEnded(ended) => {
                if self.open.as_ref().is_some_and(|open| open.round == ended.round) {
                    self.open = None;
                }
                self.ended = ended.outcome.ends_loop();
            }
            Event::AgentStarted(_) => {
                if let Some(open) = &mut self.open {
                    open.agent_started = true;
                }
            }
            Event::AgentFinished(finished) if finished.session_id.is_some() => {
                self.session.clone_from(&finished.session_id);
            }
            Event::GateFinished(gate) => self.fold_gate(gate, oracle),
            Event::ReviewStarted(started) => {
                self.findings.remove(&started.tree_id);
            }
            Event::ReviewFinished(finished) => self.fold_review(finished),
            _ => {}
        }
    }

    fn fold_gate(&mut self, gate: &GateFinished, oracle: &[String]) {
        let Some(tree) = gate.tree_id.as_ref().filter(|_| gate.phase == GatePhase::Proposed) else {
            return;
        };
        let required = gate.required || oracle.contains(&gate.name);
        let failing = self.failing.entry(tree.clone()).or_default();
        if required && gate.failure().is_some() {
            failing.insert(gate.name.clone());
        } else {
            failing.remove(&gate.name);
        }
    }

    fn fold_review(&mut self, finished: &ReviewFinished) {
        let findings = self.findings.entry(finished.tree_id.clone()).or_default();
        if finished.status == ReviewStatus::Failed
            && ACTIONABLE_CHECKS.contains(&finished.check.as_str())
        {
            findings.insert(finished.check.clone());
        } else {
            findings.remove(&finished.check);
        }
    }

    /// Returns the required gates that fail on `tree`.
    pub(crate) fn failing_gates(&self, tree: &str) -> Vec<String> {
        self.failing.get(tree).map(|it| it.iter().cloned().collect()).unwrap_or_default()
    }

    /// Returns the actionable review checks that failed on `tree`.
    pub(crate) fn findings(&self, tree: &str) -> Vec<String> {
        self.findings.get(tree).map(|it| it.iter().cloned().collect()).unwrap_or_default()
    }

    /// Returns whether `tree` has something a follow-up could tell the agent to fix.
    pub(crate) fn needs_repair(&self, tree: &str) -> bool {
        self.failing.get(tree).is_some_and(|it| !it.is_empty())
            || self.findings.get(tree).is_some_and(|it| !it.is_empty())
    }

    /// Returns the round whose agent must run (again): one started whose agent did not start,
    /// or whose agent did not complete (`agent_complete`) or waits for a retry.
    pub(crate) fn agent_due(&self, agent_complete: bool, retry_pending: bool) -> Option<u32> {
        let open = self.open.as_ref()?;
        (!open.agent_started || !agent_complete || retry_pending).then_some(open.round)
    }

    /// Returns the end of the round under way, once the pipeline on `tree` is done: whether its
    /// agent failed (`agent_failed`), changed nothing, fixed everything, or left checks failing.
    pub(crate) fn end_due(&self, tree: &str, agent_failed: bool) -> Option<RoundEnd> {
        let open = self.open.as_ref()?;
        let outcome = if agent_failed {
            RepairOutcome::AgentGaveUp
        } else if open.from_tree == tree {
            RepairOutcome::NoChange
        } else if !self.needs_repair(tree) {
            RepairOutcome::Passed
        } else if open.round >= self.limit.unwrap_or(0) {
            RepairOutcome::RoundsExhausted
        } else {
            RepairOutcome::StillFailing
        };
        Some(RoundEnd { round: open.round, outcome })
    }

    /// Returns the next round to start on `tree`, when something fails there that the agent
    /// can fix, the agent's latest run did not fail (`agent_failed`: an agent that gave up gets
    /// no follow-up), the loop did not end and a round is left (or the limit is not recorded
    /// yet: the step records it first).
    pub(crate) fn start_due(&self, tree: &str, agent_failed: bool) -> Option<u32> {
        let left = self.limit.is_none_or(|limit| limit > self.started);
        let due = !self.team && !agent_failed && self.open.is_none() && !self.ended;
        (due && left && self.needs_repair(tree)).then_some(self.started + 1)
    }
}

/// A failing gate as a follow-up tells it: its latest run on the tree and what its log shows.
#[derive(Debug, Clone)]
pub(crate) struct FailedGate<'a> {
    /// The gate's latest run on the tree.
    pub(crate) run: &'a GateFinished,
    /// The failing tests its runner named, when it names them.
    pub(crate) failing_tests: Vec<String>,
    /// The last lines of its (redacted) output.
    pub(crate) tail: Vec<String>,
}

/// What a follow-up says: the round, the tree, the failing gates, the review's findings.
#[derive(Debug, Clone)]
pub(crate) struct FollowUp<'a> {
    pub(crate) round: u32,
    pub(crate) limit: u32,
    pub(crate) tree_id: &'a str,
    pub(crate) gates: Vec<FailedGate<'a>>,
    pub(crate) findings: Vec<&'a ReviewFinished>,
}

/// The most failing test names a follow-up lists for one gate.
const MAX_TESTS: usize = 20;

/// Returns the follow-up's text: what a good engineer would paste for a colleague whose change
/// fails its checks, each failing gate with its command, failing tests and last lines of output,
/// then each review finding with its evidence and next step.
pub(crate) fn follow_up_text(follow_up: &FollowUp<'_>) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        "omk ran the checks on your change (tree {}) and they do not pass yet. This is repair \
         round {} of {}: fix the code so that they pass, in the same worktree.\n\
         Do not delete, skip or weaken tests and do not change the gates: omk reviews the whole \
         change and will not accept that.\n",
        omk_events::short_id(follow_up.tree_id),
        follow_up.round,
        follow_up.limit,
    );
    for gate in &follow_up.gates {
        let run = gate.run;
        let _ = write!(text, "\nFailing gate `{}`\n  command: {}\n", run.name, command_line(run));
        let _ =
            writeln!(text, "  result: {}", run.failure().unwrap_or_else(|| "failed".to_owned()));
        if !gate.failing_tests.is_empty() {
            let shown: Vec<&str> =
                gate.failing_tests.iter().take(MAX_TESTS).map(String::as_str).collect();
            let more = gate.failing_tests.len().saturating_sub(MAX_TESTS);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            let _ = writeln!(text, "  failing tests: {}{more}", shown.join(", "));
        }
        if !gate.tail.is_empty() {
            let _ = writeln!(text, "  last {} lines of its output:", gate.tail.len());
            for line in &gate.tail {
                let _ = writeln!(text, "    | {line}");
            }
        }
    }
    for finding in &follow_up.findings {
        let _ = write!(text, "\nReview finding `{}`\n", finding.check);
        for fact in &finding.evidence {
            let _ = writeln!(text, "  - {fact}");
        }
        for risk in &finding.risks {
            let _ = writeln!(text, "  risk: {risk}");
        }
        if let Some(next) = &finding.next_step {
            let _ = writeln!(text, "  to do: {next}");
        }
    }
    text
}

/// Returns a gate's command as the user wrote it: the line of a shell gate, else its words.
fn command_line(run: &GateFinished) -> String {
    match run.command.as_slice() {
        [shell, flag, line] if flag == "-c" && shell.ends_with("sh") => line.clone(),
        words => words.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use omk_events::{GateKind, RepairRoundStarted, RepairRoundsSet, ReviewStarted};

    use super::*;

    fn gate(name: &str, tree: &str, exit_code: i32, required: bool) -> Event {
        let mut run = omk_testkit::gate_run(name, required, exit_code == 0, Some(tree));
        run.gate_kind = GateKind::Test;
        run.command = vec!["sh".to_owned(), "-c".to_owned(), "sh t.sh".to_owned()];
        run.exit_code = Some(exit_code);
        run.output = None;
        run.tests = None;
        Event::GateFinished(run)
    }

    fn started(round: u32, tree: &str) -> Event {
        Event::RepairRoundStarted(RepairRoundStarted {
            round,
            tree_id: tree.to_owned(),
            failed_gates: vec!["test".to_owned()],
            findings: Vec::new(),
            follow_up: ArtifactRef {
                path: format!("artifacts/repair/round-{round}.txt"),
                sha256: "0".repeat(64),
                bytes: 1,
            },
        })
    }

    #[test]
    fn a_round_starts_on_a_failing_required_gate_and_ends_by_what_its_agent_left() {
        let mut state = RepairState::default();
        state.apply(&gate("test", "t1", 1, true), &[]);
        state.apply(&gate("lint", "t1", 1, false), &[]);
        assert_eq!(state.failing_gates("t1"), ["test"]);
        // Without a limit yet, the step is due that records one.
        assert_eq!(state.start_due("t1", false), Some(1));
        assert_eq!(state.start_due("t1", true), None, "an agent that failed gets no follow-up");
        state.apply(&Event::RepairRoundsSet(RepairRoundsSet { rounds: 0 }), &[]);
        assert_eq!(state.start_due("t1", false), None);
        state.apply(&Event::RepairRoundsSet(RepairRoundsSet { rounds: 2 }), &[]);
        assert_eq!(state.start_due("t1", false), Some(1));
        state.apply(&started(1, "t1"), &[]);
        assert_eq!(state.agent_due(true, false), Some(1));
        state.apply(&Event::AgentStarted(omk_events::AgentStarted { agent: "x".into() }), &[]);
        assert_eq!(state.agent_due(false, false), Some(1));
        assert_eq!(state.agent_due(true, false), None);
        let outcome = |state: &RepairState, tree: &str, failed: bool| {
            state.end_due(tree, failed).map(|it| it.outcome)
        };
        assert_eq!(outcome(&state, "t1", false), Some(RepairOutcome::NoChange));
        assert_eq!(outcome(&state, "t1", true), Some(RepairOutcome::AgentGaveUp));
        state.apply(&gate("test", "t2", 1, true), &[]);
        assert_eq!(outcome(&state, "t2", false), Some(RepairOutcome::StillFailing));
        state.apply(&gate("test", "t2", 0, true), &[]);
        assert_eq!(outcome(&state, "t2", false), Some(RepairOutcome::Passed));
    }

    #[test]
    fn the_last_round_exhausts_the_loop_and_a_new_limit_opens_it() {
        let mut state = RepairState::default();
        state.apply(&Event::RepairRoundsSet(RepairRoundsSet { rounds: 1 }), &[]);
        state.apply(&gate("test", "t1", 1, false), &["test".to_owned()]);
        assert_eq!(state.start_due("t1", false), Some(1));
        state.apply(&started(1, "t1"), &[]);
        state.apply(&gate("test", "t2", 1, false), &["test".to_owned()]);
        let end = state.end_due("t2", false).expect("the round is open");
        assert_eq!(end.outcome, RepairOutcome::RoundsExhausted);
        state.apply(
            &Event::RepairRoundEnded(omk_events::RepairRoundEnded {
                round: 1,
                outcome: end.outcome,
                tree_id: Some("t2".into()),
            }),
            &[],
        );
        assert_eq!(state.start_due("t2", false), None);
        state.apply(&Event::RepairRoundsSet(RepairRoundsSet { rounds: 3 }), &[]);
        assert_eq!(state.start_due("t2", false), Some(2));
    }

    #[test]
    fn weakened_tests_are_a_finding_and_a_blocked_check_is_not() {
        let mut state = RepairState::default();
        state.apply(&Event::RepairRoundsSet(RepairRoundsSet { rounds: 2 }), &[]);
        let review = |check: &str, status: ReviewStatus| {
            Event::ReviewFinished(ReviewFinished {
                check: check.to_owned(),
                tree_id: "t1".to_owned(),
                status,
                evidence: vec!["tests/a.sh: test file deleted".to_owned()],
                risks: Vec::new(),
                next_step: Some("restore it".to_owned()),
            })
        };
        state.apply(
            &Event::ReviewStarted(ReviewStarted { tree_id: "t1".into(), checks: Vec::new() }),
            &[],
        );
        state.apply(&review("claims", ReviewStatus::Failed), &[]);
        state.apply(&review("gate_surface", ReviewStatus::Blocked), &[]);
        assert_eq!(state.start_due("t1", false), None);
        state.apply(&review("gate_surface", ReviewStatus::Failed), &[]);
        assert_eq!(state.findings("t1"), ["gate_surface"]);
        assert_eq!(state.start_due("t1", false), Some(1));
        let finished = ReviewFinished {
            check: "gate_surface".into(),
            tree_id: "t1".into(),
            status: ReviewStatus::Failed,
            evidence: vec!["tests/a.sh: test file deleted".into()],
            risks: Vec::new(),
            next_step: Some("restore the deleted tests".into()),
        };
        let Event::GateFinished(run) = gate("test", "t1", 101, true) else { unreachable!() };
        let text = follow_up_text(&FollowUp {
            round: 1,
            limit: 2,
            tree_id: "t1",
            gates: vec![FailedGate {
                run: &run,
                failing_tests: vec!["tests::adds".into()],
                tail: vec!["test tests::adds ... FAILED".into()],
            }],
            findings: vec![&finished],
        });
        assert!(text.contains("repair round 1 of 2"), "{text}");
        assert!(text.contains("Failing gate `test`\n  command: sh t.sh\n"), "{text}");
        assert!(text.contains("  failing tests: tests::adds\n"), "{text}");
        assert!(text.contains("    | test tests::adds ... FAILED\n"), "{text}");
        assert!(text.contains("Review finding `gate_surface`\n  - tests/a.sh: test file deleted"));
        assert!(text.contains("  to do: restore the deleted tests\n"), "{text}");
    }
}
