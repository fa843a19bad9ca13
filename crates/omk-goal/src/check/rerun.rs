//! `omk proof verify --rerun`: every proposed gate of a proof runs again on the recorded tree, in
//! a scratch worktree under `.omk/verify/<goal-id>/rerun-<n>/`, without the gate cache; a gate
//! whose outcome differs runs a second time, which tells a flaky gate from one that does not
//! reproduce. The user's checkout is fingerprinted before and after: a gate that wrote there
//! fails the `checkout` check.

use std::path::{Path, PathBuf};

use omk_attest::{Check, CheckStatus};
use omk_events::{GatePhase, GoalId, TestCounts};
use omk_gates::{GateCommand, GateRun, GateSpec};
use omk_proof::{Proof, ProofGate};
use omk_worktree::{Repo, ScratchOptions};

use crate::{
    check::verify::{RerunOptions, relative},
    error::Error,
    gate_run::{self, GateSite},
    layout::{GoalPaths, Layout, create_fresh_dir, rerun},
    run::{
        checkout::{OMK_OWNED_REFS, event_fingerprint},
        controller::{Config, load_config},
    },
    sandbox::{RunSandbox, SandboxSite},
};

/// Re-runs every proposed gate of `proof` on its tree, in a scratch worktree, without the gate
/// cache; a gate whose outcome differs runs a second time, which tells a flaky gate from one
/// that does not reproduce.
pub(crate) async fn rerun_gates(
    paths: &GoalPaths,
    repo: &Repo,
    proof: &Proof,
    options: &RerunOptions<'_>,
) -> Result<Vec<Check>, Error> {
    let recorded: Vec<&ProofGate> = proof.proposed_gates().collect();
    let Some(tree_id) = proof.git.tree_id.as_deref() else {
        return Ok(vec![Check::new(
            "rerun",
            CheckStatus::Skipped,
            "the goal recorded no proposed tree to re-run its gates on".to_owned(),
        )]);
    };
    if recorded.is_empty() {
        return Ok(vec![Check::new(
            "rerun",
            CheckStatus::Skipped,
            "no gate ran on the proposed tree, so there is nothing to re-run".to_owned(),
        )]);
    }
    let (_, state) = crate::store::read_state(paths)?;
    let config = load_config(
        repo,
        &state.created.extra_gates,
        options.gate_environment,
        options.config,
        &[],
    )?;
    let (specs, notes) = recorded_specs(&config, &recorded);
    // The gates run what the agent wrote: the checkout is compared around them, as in a run.
    let before = omk_worktree::fingerprint_checkout(repo, OMK_OWNED_REFS)?;
    let verify_dir = create_verify_dir(&paths.repo_root, &paths.goal_id)?;
    let scratch_path = verify_dir.join(rerun::WORKTREE);
    let sandbox = RunSandbox::new(SandboxSite {
        omk_binary: options.omk_binary,
        config: &config.sandbox,
        repo_root: &paths.repo_root,
        tmp: verify_dir.join("tmp"),
        caches: Layout::new(&paths.repo_root).toolchain_cache_dir(),
        records: None,
        worktree: &scratch_path,
        agent_state: Vec::new(),
        builds: crate::builds::enabled(config.gate_config.shared_builds, options.gate_environment)
            .then(|| Layout::new(&paths.repo_root).build_cache_dir()),
        environment: options.gate_environment,
        gates: &config.gates,
    })?;
    omk_worktree::create_scratch(
        repo,
        &ScratchOptions {
            path: &scratch_path,
            tree_id,
            commit: proof.git.head_commit.as_deref(),
            parent: &proof.git.base_commit,
            copy: &config.worktree.copy,
            setup: &config.worktree.setup,
            sandbox: &sandbox.for_setup(&scratch_path),
        },
    )?;
    let scratch = Scratch { repo, path: scratch_path.clone(), removed: false };
    let run = |specs: Vec<GateSpec>, dir: &'static str| {
        let site = GateSite {
            worktree: &scratch_path,
            artifact_root: &verify_dir,
            artifact_dir: dir.to_owned(),
            phase: GatePhase::Proposed,
            tree_id: Some(tree_id.to_owned()),
            max_parallel: options.max_parallel,
            env: options.gate_environment,
            cancel: None,
            sandbox: sandbox.for_gates(&scratch_path),
        };
        // No cache: a re-verification runs every gate and stores nothing.
        let options = gate_run::run_options(site, None);
        async move { omk_gates::run_gates(&specs, &options, &mut |_| {}).await }
    };
    let first = run(specs.clone(), rerun::FIRST).await;
    let differing: Vec<GateSpec> = specs
        .iter()
        .zip(&recorded)
        .filter(|(spec, gate)| {
            first
                .iter()
                .find(|it| it.result.name == spec.name)
                .is_none_or(|it| Outcome::of_run(it) != Outcome::of_proof(gate))
        })
        .map(|(spec, _)| spec.clone())
        .collect();
    let second =
        if differing.is_empty() { Vec::new() } else { run(differing, rerun::SECOND).await };
    scratch.remove()?;
    let log_of = |run: &GateRun| {
        run.result
            .output
            .as_ref()
            .map(|it| relative(paths, &verify_dir.join(&it.path)))
            .unwrap_or_else(|| "no log".to_owned())
    };
    let runs = Reruns { first: &first, second: &second, log_of: &log_of };
    let after = omk_worktree::fingerprint_checkout(repo, OMK_OWNED_REFS)?;
    let mut checks: Vec<Check> = recorded
        .iter()
        .zip(&specs)
        .zip(&notes)
        .map(|((gate, spec), note)| compare(gate, spec, note.as_deref(), &runs))
        .collect();
    checks.push(checkout_check(before, after));
    Ok(checks)
}

/// Returns the check of the user's checkout around the re-run: any difference fails it.
fn checkout_check(
    before: omk_worktree::CheckoutFingerprint,
    after: omk_worktree::CheckoutFingerprint,
) -> Check {
    let changes = event_fingerprint(before).differences(&event_fingerprint(after));
    if changes.is_empty() {
        return Check::new(
            "checkout",
            CheckStatus::Passed,
            "your checkout is as it was before the gates ran again".to_owned(),
        );
    }
    let listed: Vec<String> = changes.iter().map(ToString::to_string).collect();
    Check::new(
        "checkout",
        CheckStatus::Failed,
        format!(
            "the gates changed your checkout while they ran again: {}; inspect these \
             (`git status`, `git diff`, `git reflog`, `.git/config`, `.git/hooks/`) and restore \
             what you did not change yourself",
            listed.join(", ")
        ),
    )
}

/// The gates to run again for the `recorded` ones: as configured now when the command is the
/// same, else the recorded command; with a note for each that differs from the configuration.
fn recorded_specs(
    config: &Config,
    recorded: &[&ProofGate],
) -> (Vec<GateSpec>, Vec<Option<String>>) {
    let mut notes: Vec<Option<String>> = Vec::new();
    let specs: Vec<GateSpec> = recorded
        .iter()
        .map(|gate| {
            let configured = config.gates.iter().find(|it| it.name == gate.name).cloned();
            let (spec, note) = match configured {
                Some(spec) if spec.command.argv() == gate.command => (spec, None),
                Some(mut spec) => {
                    spec.command = GateCommand::Argv(gate.command.clone());
                    (spec, Some("omk.toml now runs another command; the recorded one ran"))
                }
                None => {
                    let mut spec = GateSpec::new(
                        &gate.name,
                        gate.kind,
                        GateCommand::Argv(gate.command.clone()),
                    );
                    spec.required = gate.required;
                    spec.allow_no_tests = gate.allow_no_tests;
                    spec.tests_by_exit_code = gate.tests_by_exit_code;
                    spec.junit = gate.junit.as_ref().map(|it| it.pattern.clone());
                    (spec, Some("the gate is no longer configured; its recorded command ran"))
                }
            };
            notes.push(note.map(str::to_owned));
            spec
        })
        .collect();
    (specs, notes)
}

/// The runs of a rerun, and how to name a run's log.
struct Reruns<'a> {
    first: &'a [GateRun],
    second: &'a [GateRun],
    log_of: &'a dyn Fn(&GateRun) -> String,
}

/// Returns the check of one recorded gate against its reruns.
fn compare(gate: &ProofGate, spec: &GateSpec, note: Option<&str>, runs: &Reruns<'_>) -> Check {
    let log_of = runs.log_of;
    let name = format!("rerun {}", gate.name);
    let expected = Outcome::of_proof(gate);
    let note = note.map(|it| format!("; {it}")).unwrap_or_default();
    let Some(once) = runs.first.iter().find(|it| it.result.name == spec.name) else {
        return Check::new(name, CheckStatus::Failed, format!("the gate did not run{note}"));
    };
    let got = Outcome::of_run(once);
    if got == expected {
        return Check::new(
            name,
            CheckStatus::Passed,
            format!("{} again, as recorded (log {}){note}", got.describe(), log_of(once)),
        );
    }
    let twice = runs.second.iter().find(|it| it.result.name == spec.name);
    let why = |run: &GateRun| {
        omk_gates::failure_reason(&run.result).map(|it| format!(", {it}")).unwrap_or_default()
    };
    let message = match twice {
        Some(again) if Outcome::of_run(again) != got => format!(
            "flaky: recorded {}; rerun 1 {}{}, rerun 2 {}{} on the same tree (logs {}, {}){note}",
            expected.describe(),
            got.describe(),
            why(once),
            Outcome::of_run(again).describe(),
            why(again),
            log_of(once),
            log_of(again)
        ),
        Some(again) => format!(
            "not reproducible: recorded {}; {}{} on both reruns of the recorded tree (logs {}, {}){note}",
            expected.describe(),
            got.describe(),
            why(once),
            log_of(once),
            log_of(again)
        ),
        None => format!(
            "not reproducible: recorded {}; rerun {}{} (log {}){note}",
            expected.describe(),
            got.describe(),
            why(once),
            log_of(once)
        ),
    };
    Check::new(name, CheckStatus::Failed, message)
}

/// A gate's outcome as a rerun compares it: passed or not, and its test counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcome {
    passed: bool,
    tests: Option<TestCounts>,
}

impl Outcome {
    fn of_proof(gate: &ProofGate) -> Self {
        Self { passed: gate.passed, tests: gate.tests }
    }

    fn of_run(run: &GateRun) -> Self {
        Self { passed: run.result.passed(), tests: run.result.tests }
    }

    fn describe(self) -> String {
        let verdict = if self.passed { "passed" } else { "failed" };
        match self.tests {
            Some(tests) => format!(
                "{verdict} ({} passed, {} failed, {} skipped)",
                tests.passed, tests.failed, tests.skipped
            ),
            None => verdict.to_owned(),
        }
    }
}

/// Removes the scratch worktree when dropped, so an error or a panic leaves none behind.
pub(crate) struct Scratch<'a> {
    pub(crate) repo: &'a Repo,
    pub(crate) path: PathBuf,
    pub(crate) removed: bool,
}

impl Scratch<'_> {
    pub(crate) fn remove(mut self) -> Result<(), Error> {
        self.removed = true;
        omk_worktree::remove_scratch(self.repo, &self.path)?;
        Ok(())
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if !self.removed {
            omk_worktree::remove_scratch(self.repo, &self.path).ok();
        }
    }
}

/// Creates `.omk/verify/<goal-id>/rerun-<n>`, the first number free, for one rerun: its
/// scratch worktree (`worktree/`, removed afterwards) and gate logs (`first/`, `second/`).
fn create_verify_dir(repo_root: &Path, goal: &GoalId) -> Result<PathBuf, Error> {
    let layout = Layout::new(repo_root);
    create_fresh_dir(&layout.verify_dir(goal), |attempt| ((), layout.rerun_dir(goal, attempt)))
        .map(|((), dir)| dir)
        .map_err(|(path, source)| Error::Write { path, source })
}
