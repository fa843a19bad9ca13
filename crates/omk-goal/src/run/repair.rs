//! The repair steps: start a round (write the follow-up about what fails on the proposed tree
//! and record it), hand the round's follow-up to the agent, and end the round once its checks
//! are in. What a round decides is `decide/repair.rs`'s fold; this file does the I/O.

use std::{
    fs,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use omk_events::{
    ArtifactRef, Event, GateFinished, GatePhase, RepairRoundEnded, RepairRoundStarted,
    ReviewFinished, Step, files::write_atomic,
};

use crate::{
    decide::repair::{FailedGate, FollowUp, RoundEnd, follow_up_text},
    error::Error,
    layout::artifacts,
    run::controller::{Controller, Flow},
};

/// How much of the end of a failing gate's log the follow-up reads.
const TAIL_READ_BYTES: u64 = 64 * 1024;
/// How many of the last lines of a failing gate's log the follow-up shows.
const TAIL_LINES: usize = 40;
/// How many characters of one line of a gate's log the follow-up shows.
const LINE_CHARS: usize = 300;

/// A round's follow-up, read back for the agent.
pub(crate) struct RoundFollowUp {
    pub(crate) text: String,
    pub(crate) path: PathBuf,
}

impl Controller<'_> {
    /// Starts repair round `round` on the proposed tree (recording the limit first, when the
    /// goal has none yet): writes the follow-up (the failing
    /// required gates with their commands, failing tests and last lines of output, and the
    /// review's actionable findings; secrets masked) to `artifacts/repair/round-<n>.txt` and
    /// records `repair_round_started`.
    ///
    /// The text is a function of the log and the gate logs, so a run that crashed before
    /// recording the start writes the same file again.
    pub(crate) fn start_round(&mut self, round: u32) -> Result<Flow, Error> {
        if self.rec.state.repair.limit.is_none() {
            // The first time a round is due, the limit is recorded, once, from `[run]
            // repair_rounds`; the next decision reads it.
            let rounds = self.config.goal.run.repair_rounds;
            self.rec.record(Event::RepairRoundsSet(omk_events::RepairRoundsSet { rounds }))?;
            return Ok(Flow::Continue);
        }
        let state = &self.rec.state;
        let Some(tree) = state.tree.clone() else { return Ok(Flow::Stop) };
        let failed_gates = state.repair.failing_gates(&tree);
        let findings = state.repair.findings(&tree);
        let limit = state.repair.limit.unwrap_or(0);
        let (runs, reviews) = self.failures_on(&tree, &failed_gates, &findings)?;
        let gates = runs
            .iter()
            .map(|run| {
                let tail = run.output.as_ref().map(|it| self.log_tail(it)).unwrap_or_default();
                FailedGate {
                    run,
                    failing_tests: omk_gates::failing_tests(&tail.join("\n")),
                    tail: tail.into_iter().rev().take(TAIL_LINES).rev().collect(),
                }
            })
            .collect();
        let follow_up =
            FollowUp { round, limit, tree_id: &tree, gates, findings: reviews.iter().collect() };
        let text = omk_gates::redact_text(&follow_up_text(&follow_up), self.gate_environment);
        let relative = artifacts::repair_follow_up(round);
        let path = self.paths.goal_dir.join(&relative);
        let written = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| write_atomic(&path, text.as_bytes()))
            .and_then(|()| ArtifactRef::of_file(&self.paths.goal_dir, &relative));
        let follow_up = match written {
            Ok(artifact) => artifact,
            Err(source) => {
                self.rec.fail(Step::Agent, &Error::Write { path, source })?;
                return Ok(Flow::Stop);
            }
        };
        self.rec.record(Event::RepairRoundStarted(RepairRoundStarted {
            round,
            tree_id: tree,
            failed_gates,
            findings,
            follow_up,
        }))?;
        Ok(Flow::Continue)
    }

    /// Ends the round under way with the outcome its checks decided.
    pub(crate) fn end_round(&mut self, end: RoundEnd) -> Result<Flow, Error> {
        let tree_id = self.rec.state.tree.clone();
        self.rec.record(Event::RepairRoundEnded(RepairRoundEnded {
            round: end.round,
            outcome: end.outcome,
            tree_id,
        }))?;
        Ok(Flow::Continue)
    }

    /// Returns the follow-up of the round under way, read back from its artifact; an error when
    /// the file is gone or differs from what `repair_round_started` recorded.
    pub(crate) fn round_follow_up(&self) -> Result<RoundFollowUp, Error> {
        let open = self.rec.state.repair.open.as_ref();
        let Some(artifact) = open.map(|it| &it.follow_up) else {
            return Err(Error::ReadInput {
                path: self.paths.goal_dir.clone(),
                source: std::io::Error::other("no repair round is under way"),
            });
        };
        let path = self.paths.goal_dir.join(&artifact.path);
        let bytes =
            fs::read(&path).map_err(|source| Error::ReadInput { path: path.clone(), source })?;
        if omk_events::sha256_hex(&bytes) != artifact.sha256 {
            return Err(Error::ReadInput {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "it differs from the follow-up repair_round_started recorded",
                ),
            });
        }
        Ok(RoundFollowUp { text: String::from_utf8_lossy(&bytes).into_owned(), path })
    }

    /// Returns the latest proposed run on `tree` of each gate in `gates`, and the latest result
    /// of each review check in `checks`, read back from the log.
    fn failures_on(
        &self,
        tree: &str,
        gates: &[String],
        checks: &[String],
    ) -> Result<(Vec<GateFinished>, Vec<ReviewFinished>), Error> {
        let mut runs: Vec<GateFinished> = Vec::new();
        let mut reviews: Vec<ReviewFinished> = Vec::new();
        for envelope in omk_events::LogReader::open(&self.paths.events)? {
            match envelope?.event {
                Event::GateFinished(gate)
                    if gate.phase == GatePhase::Proposed
                        && gate.tree_id.as_deref() == Some(tree)
                        && gates.contains(&gate.name) =>
                {
                    runs.retain(|it| it.name != gate.name);
                    runs.push(gate);
                }
                Event::ReviewFinished(finished)
                    if finished.tree_id == tree && checks.contains(&finished.check) =>
                {
                    reviews.retain(|it| it.check != finished.check);
                    reviews.push(finished);
                }
                _ => {}
            }
        }
        runs.sort_by_key(|run| gates.iter().position(|it| *it == run.name));
        reviews.sort_by_key(|review| checks.iter().position(|it| *it == review.check));
        Ok((runs, reviews))
    }

    /// Returns the lines of the end of a gate's log (at most [`TAIL_READ_BYTES`]), each cut to
    /// [`LINE_CHARS`]; none when it cannot be read.
    fn log_tail(&self, output: &ArtifactRef) -> Vec<String> {
        read_tail(&self.paths.goal_dir.join(&output.path)).unwrap_or_default()
    }
}

fn read_tail(path: &Path) -> std::io::Result<Vec<String>> {
    let mut file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_READ_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        // The first line read is cut at its start.
        lines.remove(0);
    }
    Ok(lines
        .into_iter()
        .map(|line| {
            if line.chars().count() <= LINE_CHARS {
                line.to_owned()
            } else {
                let mut cut: String = line.chars().take(LINE_CHARS - 1).collect();
                cut.push('…');
                cut
            }
        })
        .collect())
}
