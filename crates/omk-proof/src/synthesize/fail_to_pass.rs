//! The fail-to-pass part of the [`Readiness::GatesFailing`] rung: a goal whose kind needs it
//! must show a required test gate that fails without the change (on the base tree in the
//! baseline, or on the base tree with the change's test files in omk's check) and passes with it.

#[cfg(doc)]
use crate::readiness::Readiness;

use omk_events::{FailToPassChecked, FileOperation, GateKind, GatePhase, GoalKind};

use crate::{
    gap::Gap,
    model::{
        FailToPassCheck, FailToPassCheckGate, FailToPassEvidence, FailToPassFlip, FailToPassRule,
        FailToPassSource, ProofGate,
    },
};

use super::Synthesizer;

impl Synthesizer {
    /// Returns the fail-to-pass evidence of a classified goal and its gaps, judged against the
    /// `proposed` gates.
    pub(super) fn fail_to_pass_rung(
        &self,
        kind: GoalKind,
        proposed: &[&ProofGate],
    ) -> (FailToPassEvidence, Vec<Gap>) {
        let proposed_tree = self.proposed_tree.as_deref();
        let checked = self
            .fail_to_pass_checks
            .iter()
            .find(|it| proposed_tree.is_some_and(|tree| it.tree_id == tree));
        let rule = self.fail_to_pass_rule(kind, checked);
        // Fail closed: only a required test gate that passed every run on the proposed tree
        // since the last change can show that the change makes a failing test pass. A goal
        // without a required test gate has its oracle gates (the `--gate` checks) stand in, as
        // they do for the oracle.
        let is_test = |gate: &&ProofGate| gate.required && gate.kind == GateKind::Test;
        let oracle = self.oracle_names();
        let stand_in = !proposed.iter().any(is_test);
        let passing: Vec<&ProofGate> = proposed
            .iter()
            .copied()
            .filter(|gate| is_test(gate) || (stand_in && oracle.contains(&gate.name.as_str())))
            .filter(|gate| {
                gate.passed
                    && gate.runs_on_tree > 0
                    && gate.counting_failures == 0
                    && gate.counting_no_tests == 0
            })
            .collect();
        // The baseline speaks only through the check of the proposed tree, and not for a change
        // that removes a test file: it could pass by dropping the test that failed on the base.
        let baseline_counts = checked.is_some_and(|checked| {
            !checked.test_paths.iter().any(|path| {
                self.changed_files.iter().any(|file| {
                    (file.path == *path && file.operation == FileOperation::Deleted)
                        || file.renamed_from.as_ref() == Some(path)
                })
            })
        });
        let mut flips = Vec::new();
        for gate in passing.iter().filter(|_| baseline_counts) {
            let baseline = self
                .gates
                .iter()
                .map(|record| &record.latest.1)
                .find(|it| it.phase == GatePhase::Baseline && it.name == gate.name);
            if let Some(run) = baseline.filter(|it| it.exited_failing()) {
                flips.push(FailToPassFlip {
                    gate: gate.name.clone(),
                    source: FailToPassSource::Baseline,
                    tests: Vec::new(),
                    failed: run.tests.map(|it| it.failed),
                });
            }
        }
        for gate in &passing {
            let run = checked
                .iter()
                .flat_map(|it| &it.gates)
                .find(|it| it.run.name == gate.name && it.run.exited_failing());
            if let Some(run) = run {
                flips.push(FailToPassFlip {
                    gate: gate.name.clone(),
                    source: FailToPassSource::Check,
                    tests: run.failing_tests.clone(),
                    failed: run.run.tests.map(|it| it.failed),
                });
            }
        }
        let mut gaps = Vec::new();
        if rule.needs_evidence() && flips.is_empty() {
            gaps.push(match checked {
                Some(checked) => Gap::NoTestFailsWithoutChange {
                    gates: checked.gates.iter().map(|it| it.run.name.clone()).collect(),
                    test_paths: checked.test_paths.clone(),
                },
                None => Gap::FailToPassNotChecked,
            });
        }
        let evidence = FailToPassEvidence {
            rule,
            reason: rule.sentence(kind, self.fail_to_pass_waiver),
            waived_by: self.fail_to_pass_waiver.filter(|_| rule == FailToPassRule::Waived),
            check: checked.map(check_evidence),
            flips,
        };
        (evidence, gaps)
    }

    /// Returns the rule for a goal of `kind` whose proposed tree had the fail-to-pass check
    /// `checked`, if it had one.
    fn fail_to_pass_rule(
        &self,
        kind: GoalKind,
        checked: Option<&FailToPassChecked>,
    ) -> FailToPassRule {
        let needed = match kind {
            GoalKind::Bugfix | GoalKind::Test => FailToPassRule::Required,
            GoalKind::Feature => match checked {
                None => FailToPassRule::Unchecked,
                Some(checked) if checked.test_paths.is_empty() => FailToPassRule::NoTestsAdded,
                Some(_) => FailToPassRule::TestsAdded,
            },
            GoalKind::Refactor | GoalKind::Rewrite | GoalKind::Docs | GoalKind::Chore => {
                return FailToPassRule::NotRequired;
            }
        };
        if self.fail_to_pass_waiver.is_some() { FailToPassRule::Waived } else { needed }
    }
}

/// Returns the proof's view of a fail-to-pass check.
fn check_evidence(checked: &FailToPassChecked) -> FailToPassCheck {
    FailToPassCheck {
        test_paths: checked.test_paths.clone(),
        tree_id: checked.checked_tree_id.clone(),
        gates: checked
            .gates
            .iter()
            .map(|it| FailToPassCheckGate {
                name: it.run.name.clone(),
                failed: it.run.exited_failing(),
                exit_code: it.run.exit_code,
                tests: it.run.tests,
                failing_tests: it.failing_tests.clone(),
                output: it.run.output.clone(),
            })
            .collect(),
        skipped: checked.skipped,
    }
}
