//! The `.omk/` directory at a repository's root: the one place that names its folders and
//! files.
//!
//! Every path omk keeps state in is a method here, so the layout ARCHITECTURE.md draws is the
//! layout of the code; `cargo xtask tidy` fails on a `.omk` path piece spelled anywhere else.
//! Paths inside a goal's directory that the log records (artifacts) are relative to the goal
//! directory and named here too.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use omk_events::{GoalId, short_id};

/// The state directory's name at the repository root.
pub(crate) const STATE_DIR: &str = ".omk";

/// The `.git/info/exclude` pattern that keeps the state directory out of `git status`.
pub(crate) const EXCLUDE_PATTERN: &str = "/.omk/";

/// The state directory as a path prefix relative to the repository root, which the gate
/// cache's tree digest leaves out.
pub(crate) const STATE_DIR_PREFIX: &str = ".omk/";

/// The state directory of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    repo_root: PathBuf,
    root: PathBuf,
}

/// The files and directories of one goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalPaths {
    /// The goal.
    pub goal_id: GoalId,
    /// The root of the repository (or linked worktree) the goal belongs to.
    pub repo_root: PathBuf,
    /// `.omk/goals/<goal-id>`.
    pub goal_dir: PathBuf,
    /// `.omk/goals/<goal-id>/events.jsonl`, the source of truth.
    pub events: PathBuf,
    /// `.omk/goals/<goal-id>/proof.json`, derived from the events.
    pub proof: PathBuf,
    /// `.omk/goals/<goal-id>/report.html`, the proof as a page, once asked for.
    pub report: PathBuf,
    /// `.omk/worktrees/<goal-id>`, the goal's worktree.
    pub worktree: PathBuf,
}

impl Layout {
    /// Returns the layout of the repository (or linked worktree) whose root is `repo_root`.
    pub fn new(repo_root: &Path) -> Self {
        Self { repo_root: repo_root.to_owned(), root: repo_root.join(STATE_DIR) }
    }

    /// Returns `.omk` itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns `.omk/goals`, one directory per goal.
    pub fn goals_dir(&self) -> PathBuf {
        self.root.join("goals")
    }

    /// Returns the paths of goal `goal`.
    pub fn goal(&self, goal: &GoalId) -> GoalPaths {
        let goal_dir = self.goals_dir().join(goal.as_str());
        GoalPaths {
            events: goal_dir.join(EVENTS_FILE),
            proof: goal_dir.join("proof.json"),
            report: goal_dir.join("report.html"),
            worktree: self.worktree(goal.as_str()),
            goal_dir,
            repo_root: self.repo_root.clone(),
            goal_id: goal.clone(),
        }
    }

    /// Returns the log of the goal whose directory is named `goal`, which need not be a valid
    /// goal id (a worktree's name, say).
    pub(crate) fn goal_events(&self, goal: &str) -> PathBuf {
        self.goals_dir().join(goal).join(EVENTS_FILE)
    }

    /// Returns `.omk/worktrees`, where goals' and slices' worktrees live.
    pub fn worktrees_dir(&self) -> PathBuf {
        self.root.join("worktrees")
    }

    /// Returns `.omk/worktrees/<name>`: a goal's worktree (`<goal-id>`) or a slice's
    /// (`<goal-id>.<task>`).
    pub fn worktree(&self, name: &str) -> PathBuf {
        self.worktrees_dir().join(name)
    }

    /// Returns `.omk/worktrees/<goal-id>.<task>`, the worktree of a team goal's slice.
    pub fn slice_worktree(&self, goal: &GoalId, task: &str) -> PathBuf {
        self.worktree(&format!("{goal}.{task}"))
    }

    /// Returns `.omk/cache/gates`, the gate cache shared by goals and `omk gates run`.
    pub fn gate_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("gates")
    }

    /// Returns `.omk/cache/toolchains`, where confined processes keep the caches of cargo, npm,
    /// pip, go and XDG tools (`docs/sandbox.md`).
    pub fn toolchain_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("toolchains")
    }

    /// Returns `.omk/cache/build`, where the gates of each worktree build when warm builds are
    /// on (`docs/sandbox.md#warm-builds`).
    pub fn build_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("build")
    }

    /// Returns `.omk/gate-runs`, one directory per `omk gates run`.
    pub fn gate_runs_dir(&self) -> PathBuf {
        self.root.join("gate-runs")
    }

    /// Returns `.omk/gate-runs/<run-id>`, the logs of one `omk gates run`.
    pub fn gate_run_dir(&self, run_id: &str) -> PathBuf {
        self.gate_runs_dir().join(run_id)
    }

    /// Returns `.omk/verify`, where `omk proof verify --rerun` keeps its scratch worktrees.
    pub fn verify_root(&self) -> PathBuf {
        self.root.join("verify")
    }

    /// Returns `.omk/verify/<goal-id>`, the reruns of one goal.
    pub fn verify_dir(&self, goal: &GoalId) -> PathBuf {
        self.verify_root().join(goal.as_str())
    }

    /// Returns `.omk/verify/<goal-id>/rerun-<n>`, the `n`-th rerun of a goal's gates: its
    /// scratch worktree ([`rerun::WORKTREE`]) and the logs of its two runs ([`rerun::FIRST`],
    /// [`rerun::SECOND`]).
    pub fn rerun_dir(&self, goal: &GoalId, n: u32) -> PathBuf {
        self.verify_dir(goal).join(format!("rerun-{n}"))
    }

    /// Returns `.omk/verify/<goal-id>/fail-to-pass`, the scratch worktree in which a goal's
    /// required test gates run on the base tree with the change's test files; removed
    /// afterwards.
    pub fn fail_to_pass_worktree(&self, goal: &GoalId) -> PathBuf {
        self.verify_dir(goal).join("fail-to-pass")
    }

    /// Returns `.omk/verify/<goal-id>/baseline`, the scratch worktree in which a goal's gates run
    /// on the base tree while its agent works; removed afterwards.
    pub fn baseline_worktree(&self, goal: &GoalId) -> PathBuf {
        self.verify_dir(goal).join("baseline")
    }

    /// Returns `.omk/fetch`, where `omk fetch` writes a fetched goal's directory before it
    /// renames it into `.omk/goals/`.
    pub fn fetch_dir(&self) -> PathBuf {
        self.root.join("fetch")
    }

    /// Returns `.omk/keys/signing`, the signing key `omk key generate` writes by default (its
    /// public key is beside it, with `.pub`).
    pub fn default_signing_key(&self) -> PathBuf {
        self.root.join("keys").join("signing")
    }
}

/// Returns the goal a worktree under `.omk/worktrees` belongs to, by the worktree's directory
/// name: its own (`<goal-id>`), or a slice's (`<goal-id>.<task>`), which goes with its goal.
pub(crate) fn worktree_goal(name: &str) -> &str {
    name.split_once('.').map_or(name, |(goal, _)| goal)
}

/// Creates the first directory that does not exist yet among `candidate(1)`, `candidate(2)`,
/// ..., each a value and its directory, after creating their parent `parent`; returns the one
/// created. Creating it is the claim: two processes never get the same one.
pub(crate) fn create_fresh_dir<T>(
    parent: &Path,
    candidate: impl Fn(u32) -> (T, PathBuf),
) -> Result<(T, PathBuf), (PathBuf, io::Error)> {
    fs::create_dir_all(parent).map_err(|err| (parent.to_owned(), err))?;
    for attempt in 1u32.. {
        let (value, dir) = candidate(attempt);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok((value, dir)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err((dir, err)),
        }
    }
    unreachable!("some attempt number is free")
}

/// The log's file name in a goal directory.
pub(crate) const EVENTS_FILE: &str = "events.jsonl";

impl GoalPaths {
    /// Returns `origin.json`, where a goal fetched from a remote ran and when it was pushed
    /// ([`crate::Origin`]); a goal that ran here has none.
    pub fn origin(&self) -> PathBuf {
        self.goal_dir.join("origin.json")
    }

    /// Returns `control.json`, a pending `omk pause`/`omk cancel` request to the live run.
    pub fn control(&self) -> PathBuf {
        self.goal_dir.join("control.json")
    }

    /// Returns `proof.intoto.jsonl`, the signed bundle of the proof (`omk proof export --format
    /// in-toto`; carried with a fetched goal's evidence).
    pub fn bundle(&self) -> PathBuf {
        self.goal_dir.join("proof.intoto.jsonl")
    }

    /// Returns `tmp/`, the private temporary directory of the goal's processes (`TMPDIR`).
    pub fn tmp(&self) -> PathBuf {
        self.goal_dir.join("tmp")
    }

    /// Returns `processes/`, one record per running process group of the goal (leader pid and
    /// start time), so that a resumed run ends what a killed one left.
    pub fn processes(&self) -> PathBuf {
        self.goal_dir.join("processes")
    }

    /// Returns `agent-checks/`, where `omk mcp` keeps the agent's own checks: `<n>.json`, the
    /// record the controller folds into the log as `agent_check_ran`, and `<n>/`, the gate logs.
    /// The agent's sandbox may write it, as the server runs inside it.
    pub fn agent_checks(&self) -> PathBuf {
        self.goal_dir.join(artifacts::AGENT_CHECKS)
    }

    /// Returns `leases/`, the leases of a team goal's running slices.
    pub fn leases_dir(&self) -> PathBuf {
        self.goal_dir.join("leases")
    }

    /// Returns `leases/<task>.json`, the lease of a running slice.
    pub fn lease(&self, task: &str) -> PathBuf {
        self.leases_dir().join(format!("{task}.json"))
    }
}

/// The parts of a rerun's directory ([`Layout::rerun_dir`]).
pub(crate) mod rerun {
    /// The scratch worktree the gates run in, removed afterwards.
    pub(crate) const WORKTREE: &str = "worktree";
    /// The logs of the first run of every gate.
    pub(crate) const FIRST: &str = "first";
    /// The logs of the second run of the gates whose outcome differed.
    pub(crate) const SECOND: &str = "second";
}

/// The artifact paths of a goal, relative to its directory, as the log records them.
pub(crate) mod artifacts {
    use super::short_id;

    /// Returns where the `run`-th run of the goal's agent keeps its transcript.
    pub(crate) fn agent_transcript(run: u64) -> String {
        match run {
            1 => "artifacts/agent/transcript.jsonl".to_owned(),
            run => format!("artifacts/agent/run-{run}/transcript.jsonl"),
        }
    }

    /// Returns where the `run`-th run of a slice's agent keeps its transcript.
    pub(crate) fn slice_transcript(task: &str, run: u64) -> String {
        format!("artifacts/slices/{task}/run-{run}/transcript.jsonl")
    }

    /// Returns the directory of the gate logs of `phase` on `tree_id`.
    pub(crate) fn gate_logs(phase: impl std::fmt::Display, tree_id: &str) -> String {
        format!("artifacts/gates/{phase}-{}", short_id(tree_id))
    }

    /// Returns the directory of the gate logs of an `omk gates run`, in its run directory.
    pub(crate) const CHECKOUT_GATE_LOGS: &str = "artifacts/gates";

    /// The directory of the agent's own checks, relative to the goal directory.
    pub(crate) const AGENT_CHECKS: &str = "agent-checks";

    /// Returns the directory of the logs of the fail-to-pass check of the proposed tree
    /// `tree_id`: its required test gates on the base tree with the change's test files.
    pub(crate) fn fail_to_pass_logs(tree_id: &str) -> String {
        gate_logs("fail-to-pass", tree_id)
    }

    /// Returns where the follow-up of repair round `round` is kept.
    pub(crate) fn repair_follow_up(round: u32) -> String {
        format!("artifacts/repair/round-{round}.txt")
    }

    /// Returns where the diff of the proposed tree `tree_id` is kept.
    pub(crate) fn diff(tree_id: &str) -> String {
        format!("artifacts/diff/{}.patch", short_id(tree_id))
    }
}
