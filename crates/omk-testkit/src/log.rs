//! A builder of goal event logs, so each test states only the evidence it is about.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use omk_events::{
    Actor, AgentFinished, AgentStarted, AgentStatus, ArtifactRef, ChangeAccepted, ChangeRejected,
    ChangedFile, ChangesCaptured, ChangesCommitted, Cost, CostSource, DecisionMade,
    DecisionRequested, DecisionSubject, Envelope, Event, EventLog, FileOperation, GateFinished,
    GateKind, GatePhase, GateSurfaceChecked, GoalCreated, GoalId, ProcessExit, ReviewFinished,
    ReviewStarted, ReviewStatus, Seq, TestCounts, TokenUsage, WorktreeCreated,
};

/// The goal's base commit (git's empty tree id, as any 40 hex digits would do).
pub const BASE: &str = "4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d";
/// The first tree the agent proposes.
pub const T1: &str = "1111111111111111111111111111111111111111";
/// A second proposed tree, after a follow-up or another agent run.
pub const T2: &str = "2222222222222222222222222222222222222222";
/// The goal id of every built log.
pub const GOAL: &str = "20261121-200000-3fa2c1";
/// The review checks every scenario's wall declares.
pub const CHECKS: [&str; 2] = ["secrets", "diff_size"];

/// A goal's log under construction; every event is one second after the previous one.
#[derive(Debug, Clone)]
pub struct Log {
    /// The events so far, numbered from 1.
    pub events: Vec<Envelope>,
}

/// Returns the time of the first event.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).single().expect("a valid time")
}

impl Default for Log {
    fn default() -> Self {
        Self::new()
    }
}

impl Log {
    /// Returns a log holding only `goal_created`.
    pub fn new() -> Self {
        let mut log = Self { events: Vec::new() };
        log.push(Event::GoalCreated(GoalCreated {
            prompt: "fix the failing test in calc.sh".into(),
            repo_root: "/repo".into(),
            base_branch: Some("main".into()),
            base_commit: BASE.into(),
            agent: "script:fix.txt".into(),
            omk_version: "0.1.0".into(),
            extra_gates: Vec::new(),
        }));
        log
    }

    /// Returns the log of a goal that is verified on `T1` but not accepted.
    pub fn verified() -> Self {
        Self::new()
            .worktree()
            .agent(AgentStatus::Completed)
            .capture(T1, 1)
            .gate("test", true, true, T1)
            .gate("lint", false, true, T1)
            .surface(T1, &[])
            .review(T1, ReviewStatus::Passed)
    }

    /// Returns the log of a goal verified on `T1` and accepted by a person.
    pub fn ready() -> Self {
        Self::verified().accept(T1)
    }

    /// Writes this log to a new file at `path` as omk writes a goal's log (hash-chained, with
    /// a lock file beside it while it is open), as a spec case of `omk-proof/tests/data` is made.
    ///
    /// # Errors
    ///
    /// When the file exists or cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), omk_events::Error> {
        let goal_id = GoalId::parse(GOAL).expect("a valid goal id");
        let mut log = EventLog::create(path, &goal_id)?;
        for envelope in &self.events {
            log.append(envelope.at, envelope.event.clone())?;
        }
        log.sync()
    }

    /// Appends `event`, one second after the last.
    pub fn push(&mut self, event: Event) {
        let seq = self.events.len() as u64 + 1;
        let at = start() + Duration::seconds(seq as i64 - 1);
        let goal_id = GoalId::parse(GOAL).expect("a valid goal id");
        self.events.push(Envelope::new(Seq(seq), at, goal_id, event));
    }

    /// Returns the log with `event` appended.
    pub fn with(mut self, event: Event) -> Self {
        self.push(event);
        self
    }

    /// Creates the goal's worktree on `BASE`.
    pub fn worktree(self) -> Self {
        self.with(Event::WorktreeCreated(WorktreeCreated {
            path: format!("/repo/.omk/worktrees/{GOAL}").into(),
            branch: format!("omk/{GOAL}"),
            base_commit: BASE.into(),
        }))
    }

    /// Starts and finishes one agent run.
    pub fn agent(self, status: AgentStatus) -> Self {
        let failed = status == AgentStatus::Failed;
        self.with(Event::AgentStarted(AgentStarted { agent: "script:fix.txt".into() })).with(
            Event::AgentFinished(AgentFinished {
                agent: "script:fix.txt".into(),
                agent_version: Some("omk-scripted 0.1.0".into()),
                status,
                process: Some(ProcessExit {
                    exit_code: Some(i32::from(failed)),
                    signal: None,
                    timed_out: false,
                    idle_timed_out: false,
                    garbage_lines: 0,
                    oversized_lines: 0,
                }),
                error: failed.then(|| "step 2: the model provider failed: 429".into()),
                final_message: Some("Fixed add() in calc.sh.".into()),
                steps: 3,
                tool_calls: 2,
                failed_tool_calls: 0,
                usage: Some(TokenUsage {
                    input_uncached: 1200,
                    input_cache_read: 300,
                    input_cache_write: 0,
                    output: 150,
                }),
                cost: Some(Cost {
                    usd: 0.0125,
                    source: CostSource::Estimated { table: "omk.toml [prices.kimi]".into() },
                }),
                transcript: Some(artifact("artifacts/agent/transcript.jsonl")),
                duration_ms: 2300,
                ..AgentFinished::new("x")
            }),
        )
    }

    /// Captures `n_files` changed files as tree `tree`.
    pub fn capture(self, tree: &str, n_files: usize) -> Self {
        let files = ["calc.sh", "README.md", "omk.toml"]
            .iter()
            .take(n_files)
            .map(|path| ChangedFile {
                path: (*path).into(),
                operation: FileOperation::Modified,
                renamed_from: None,
                lines_added: Some(1),
                lines_removed: Some(1),
                blob_id: Some("9daeafb9864cf43055ae93beb0afd6c7d144bfa4".into()),
            })
            .collect();
        self.with(Event::ChangesCaptured(ChangesCaptured {
            base_commit: BASE.into(),
            tree_id: tree.into(),
            files,
            patch: Some(artifact(&format!("artifacts/diff/{}.patch", &tree[..12]))),
        }))
    }

    /// Commits tree `tree` as `commit` on the goal's branch.
    pub fn commit(self, commit: &str, tree: &str) -> Self {
        self.with(Event::ChangesCommitted(ChangesCommitted {
            commit: commit.into(),
            tree_id: tree.into(),
            parent: BASE.into(),
            branch: format!("omk/{GOAL}"),
            merged_base: None,
        }))
    }

    /// Runs gate `name` (a test gate when named `test`) on `tree`.
    pub fn gate(self, name: &str, required: bool, passed: bool, tree: &str) -> Self {
        self.with(Event::GateFinished(gate_run(name, required, passed, Some(tree))))
    }

    /// Checks the gate surface of `tree`; it changed when `changed` names paths.
    pub fn surface(self, tree: &str, changed: &[&str]) -> Self {
        self.with(Event::GateSurfaceChecked(GateSurfaceChecked {
            tree_id: tree.into(),
            base_digest: "a".repeat(64),
            proposed_digest: if changed.is_empty() { "a".repeat(64) } else { "b".repeat(64) },
            changed_paths: changed.iter().map(|it| (*it).to_owned()).collect(),
        }))
    }

    /// Runs the review wall on `tree`; every check ends with `status`.
    pub fn review(mut self, tree: &str, status: ReviewStatus) -> Self {
        self.push(Event::ReviewStarted(ReviewStarted {
            tree_id: tree.into(),
            checks: CHECKS.iter().map(|it| (*it).to_owned()).collect(),
        }));
        for check in CHECKS {
            self.push(Event::ReviewFinished(review_result(check, tree, status)));
        }
        self
    }

    /// A person accepts `tree`.
    pub fn accept(self, tree: &str) -> Self {
        self.with(Event::ChangeAccepted(ChangeAccepted {
            tree_id: tree.into(),
            by: person(),
            reason: Some("looks right".into()),
            merge_commit: None,
        }))
    }

    /// A person rejects `tree`.
    pub fn reject(self, tree: &str) -> Self {
        self.with(Event::ChangeRejected(ChangeRejected {
            tree_id: tree.into(),
            by: person(),
            reason: "the fix belongs in the caller".into(),
        }))
    }

    /// The agent asks question `id`.
    pub fn question(self, id: &str) -> Self {
        self.with(Event::DecisionRequested(DecisionRequested {
            subject: DecisionSubject::Question { id: id.into() },
            question: "which behaviour should `add` have for empty input?".into(),
        }))
    }

    /// A person decides on `subject`.
    pub fn decide(self, subject: DecisionSubject, approved: bool) -> Self {
        self.with(Event::DecisionMade(DecisionMade {
            subject,
            approved,
            by: person(),
            reason: None,
        }))
    }
}

/// Returns the person who accepts, rejects and decides.
pub fn person() -> Actor {
    Actor::Person { name: "Ada".into() }
}

/// Returns a reference to an artifact at `path` (its digest and size are made up).
pub fn artifact(path: &str) -> ArtifactRef {
    ArtifactRef { path: path.into(), sha256: "c".repeat(64), bytes: 42 }
}

/// Returns a finished proposed gate `name` on `tree`: a test gate counting 4 tests when named
/// `test`, else a lint gate.
pub fn gate_run(name: &str, required: bool, passed: bool, tree: Option<&str>) -> GateFinished {
    let is_test = name == "test";
    GateFinished {
        name: name.into(),
        gate_kind: if is_test { GateKind::Test } else { GateKind::Lint },
        command: vec!["sh".into(), "-c".into(), format!("./{name}.sh")],
        required,
        phase: GatePhase::Proposed,
        tree_id: tree.map(str::to_owned),
        allow_no_tests: false,
        exit_code: Some(i32::from(!passed)),
        signal: None,
        timed_out: false,
        spawn_error: None,
        duration_ms: 120,
        output: Some(artifact(&format!("artifacts/gates/{name}.log"))),
        tests: is_test.then_some(TestCounts { passed: 4, failed: u64::from(!passed), skipped: 0 }),
        cached_from: None,
        tests_by_exit_code: false,
        flaky_with: None,
        junit: None,
    }
}

/// Returns the result of review check `check` on `tree`.
pub fn review_result(check: &str, tree: &str, status: ReviewStatus) -> ReviewFinished {
    let passed = status == ReviewStatus::Passed;
    ReviewFinished {
        check: check.into(),
        tree_id: tree.into(),
        status,
        evidence: vec![format!("{check}: looked at 1 changed file")],
        risks: if passed { Vec::new() } else { vec![format!("{check}: a finding")] },
        next_step: (!passed).then(|| format!("fix the {check} finding")),
    }
}
