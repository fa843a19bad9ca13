//! The accept step: merging a goal's change for its exact tree, after `omk accept` or at the end
//! of `omk run --accept`.
//!
//! Acceptance speaks for one exact tree. The step re-checks that the branch still merges
//! cleanly; when the base branch moved since the goal started, it first merges the base into
//! the goal's branch and runs the gate surface check, the gates and the review wall again on
//! the merged tree. Only then, and only if the proof of the log plus the acceptance would be
//! `ready` for that tree ([`omk_proof::validate_for_merge`]), does it merge and record the
//! acceptance, with the merge commit; the proof is linked to that commit by a git note under
//! `refs/notes/omk`, and merge commits carry an `Omk-Goal:` trailer.

use omk_events::{
    Actor, ChangeAccepted, ChangesCommitted, CheckoutMoment, DecisionMade, DecisionSubject,
    Envelope, Event, Seq, WorktreeCreated, short_id,
};
use omk_worktree::{GitIdentity, Identity, MergeKind, MergeOptions, Merged, Repo};

use crate::{
    check::trust::is_fetched,
    error::Error,
    run::{
        control::Stopper,
        controller::{Controller, Flow},
    },
    store::RunOutcome,
};

/// The notes reference omk links proofs to merge commits under.
pub const NOTES_REF: &str = "refs/notes/omk";

/// Returns the person deciding: git's `user.name`, else `fallback`, else `unknown`.
pub(crate) fn person_named(repo: &Repo, fallback: Option<&str>) -> Actor {
    let name = omk_worktree::user_name(repo)
        .or_else(|| fallback.map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    Actor::Person { name }
}

impl Controller<'_> {
    /// `omk run --accept`: accepts as the policy when every check passed, and does nothing else.
    pub(crate) async fn accept_as_policy(&mut self) -> Result<(), Error> {
        let by = Actor::Policy { name: "run --accept".to_owned() };
        let reason = Some("every required gate and review check passed".to_owned());
        // A refusal is the proof's to show: the goal stays awaiting a person's decision.
        let _refused = self.accept(by, reason, false).await?;
        Ok(())
    }

    /// Integrates a moved base, validates the proof with the acceptance, merges, and records
    /// the acceptance; `Ok(Err(_))` when the proof refuses the merge.
    pub(crate) async fn accept(
        &mut self,
        by: Actor,
        reason: Option<String>,
        approve_surface: bool,
    ) -> Result<Result<(), omk_proof::MergeRefused>, Error> {
        let created = self.rec.state.created.clone();
        let Some(base_branch) = created.base_branch.clone() else {
            return Err(Error::DetachedHead { commit: created.base_commit.clone() });
        };
        let Some(worktree) = self.rec.state.worktree.clone() else {
            return Err(Error::NothingToDecide { goal: self.rec.state.goal_id.to_string() });
        };
        let check = omk_worktree::merge_check(&self.repo, &base_branch, &worktree.branch)?;
        if !check.conflicts.is_empty() {
            return Err(Error::Repo(omk_worktree::Error::Conflicts {
                branch: worktree.branch.clone(),
                target: base_branch,
                paths: check.conflicts,
            }));
        }
        let (author_name, author_email) =
            (self.config.worktree.author_name.clone(), self.config.worktree.author_email.clone());
        let identity = Identity { name: &author_name, email: &author_email };
        // The base already holds the branch when a run merged it and crashed before recording
        // the acceptance; the proof is still checked, and nothing is merged again.
        let up_to_date = (check.kind == MergeKind::UpToDate
            && self.rec.state.head_commit.is_some())
        .then(|| check.base_commit.clone());
        match check.kind {
            MergeKind::UpToDate | MergeKind::FastForward => {}
            MergeKind::ThreeWay => {
                let worktree = self.worktree_here(worktree.clone())?;
                self.integrate_moved_base(&worktree, &base_branch, &check.base_commit, identity)
                    .await?;
            }
        }
        let Some(tree_id) = self.rec.state.tree.clone() else {
            return Err(Error::NothingToDecide { goal: self.rec.state.goal_id.to_string() });
        };
        if is_fetched(&self.paths) {
            self.refuse_moved_branch(&worktree.branch, &tree_id)?;
        }

        // The proof as it would be with the acceptance (and the surface approval).
        let mut pending = Vec::new();
        let proof = crate::store::fold_log(&self.paths.events)?;
        if approve_surface
            && let Some(surface) = &proof.gate_surface
            && !surface.changed_paths.is_empty()
        {
            pending.push(Event::DecisionMade(DecisionMade {
                subject: DecisionSubject::GateSurface {
                    proposed_digest: surface.proposed_digest.clone(),
                },
                approved: true,
                by: by.clone(),
                reason: Some("approved with omk accept --approve-gate-surface".to_owned()),
            }));
        }
        let acceptance = |merge_commit: Option<String>| {
            Event::ChangeAccepted(ChangeAccepted {
                tree_id: tree_id.clone(),
                by: by.clone(),
                reason: reason.clone(),
                merge_commit,
            })
        };
        let mut hypothetical = pending.clone();
        hypothetical.push(acceptance(None));
        let proof = self.fold_with(&hypothetical)?;
        if let Err(refused) = omk_proof::validate_for_merge(&proof, &tree_id) {
            return Ok(Err(refused));
        }
        for event in pending {
            self.rec.record(event)?;
        }

        let subject: String =
            created.prompt.lines().next().unwrap_or_default().chars().take(60).collect();
        let message = format!(
            "omk: {subject}\n\nMerge goal {} ({}).\n\nOmk-Goal: {}\nOmk-Tree: {tree_id}\n",
            self.rec.state.goal_id, worktree.branch, self.rec.state.goal_id
        );
        let time = self.rec.clock.now().timestamp();
        let merge_commit = match up_to_date {
            Some(commit) => commit,
            None => {
                let merged = omk_worktree::merge(
                    &self.repo,
                    &MergeOptions {
                        branch: &worktree.branch,
                        target: &base_branch,
                        strategy: self.config.worktree.merge,
                        message: &message,
                        identity,
                        time,
                    },
                )?;
                match merged {
                    Merged::UpToDate { commit }
                    | Merged::FastForward { commit }
                    | Merged::Committed { commit, .. } => commit,
                }
            }
        };
        self.rec.record(acceptance(Some(merge_commit.clone())))?;
        let outcome = self.write_proof()?;
        let note = note_text(&outcome);
        omk_worktree::add_note(
            &self.repo,
            &merge_commit,
            NOTES_REF,
            &note,
            GitIdentity { identity, time },
        )?;
        Ok(Ok(()))
    }

    /// Returns the goal's worktree in this repository: for a goal another machine ran, whose
    /// log names a worktree there, one is made here on the goal's branch (at the commit the
    /// proof speaks for) and recorded, so the moved base can be merged in and checked again.
    fn worktree_here(&mut self, recorded: WorktreeCreated) -> Result<WorktreeCreated, Error> {
        if !is_fetched(&self.paths) || recorded.path == self.paths.worktree {
            return Ok(recorded);
        }
        let path = self.paths.worktree.clone();
        let made = self.ensure_worktree(&path, &recorded.branch, &recorded.base_commit)?;
        let here = WorktreeCreated {
            path: made.path,
            branch: made.branch,
            base_commit: recorded.base_commit,
        };
        self.rec.record(Event::WorktreeCreated(here.clone()))?;
        self.lease_worktree();
        Ok(here)
    }

    /// Refuses to merge `branch` unless it holds `tree_id`, the tree the proof speaks for: a
    /// fetched goal's branch is whatever the remote had, and it may have moved since.
    fn refuse_moved_branch(&self, branch: &str, tree_id: &str) -> Result<(), Error> {
        let tip = omk_worktree::branch_tip(&self.repo, branch)?;
        match tip {
            Some(tip) if tip.tree_id == tree_id => Ok(()),
            found => Err(Error::BranchMoved {
                goal: self.rec.state.goal_id.to_string(),
                branch: branch.to_owned(),
                found: found.map_or_else(
                    || "(no branch)".to_owned(),
                    |it| short_id(&it.tree_id).to_owned(),
                ),
                recorded: short_id(tree_id).to_owned(),
            }),
        }
    }

    /// Merges the moved base into the goal's branch and runs the steps after a change again on
    /// the merged tree: gate surface, gates and review.
    async fn integrate_moved_base(
        &mut self,
        worktree: &WorktreeCreated,
        base_branch: &str,
        base_commit: &str,
        identity: Identity<'_>,
    ) -> Result<(), Error> {
        if matches!(self.restore_worktree()?, Flow::Stop) {
            return Err(Error::Halted {
                goal: self.rec.state.goal_id.to_string(),
                halt: "stopped: its worktree could not be restored".to_owned(),
            });
        }
        // The gates and review that run again are run time of their own.
        self.rec.record(Event::GoalResumed(omk_events::GoalResumed {
            reason: format!("omk accept: {base_branch} moved; merging it in and checking again"),
            follow_up: None,
        }))?;
        let who = GitIdentity { identity, time: self.rec.clock.now().timestamp() };
        let message = format!(
            "omk: merge {base_branch} into {}\n\nOmk-Goal: {}\n",
            worktree.branch, self.rec.state.goal_id
        );
        // The gates ran in the worktree since it was last read: git must still read the goal's
        // repository there, for the merge as for the capture.
        omk_worktree::verify_pointer(&self.repo, &worktree.path)?;
        let merged = omk_worktree::merge_base_into(&worktree.path, base_commit, &message, who)?;
        let changes = omk_worktree::capture_changes(&worktree.path, base_commit)?;
        let captured = self.captured(&worktree.path, base_commit, changes)?;
        self.rec.record(Event::ChangesCaptured(captured))?;
        self.rec.record(Event::ChangesCommitted(ChangesCommitted {
            commit: merged.id,
            tree_id: merged.tree_id,
            parent: merged.parent,
            branch: worktree.branch.clone(),
            merged_base: Some(base_commit.to_owned()),
        }))?;
        // The base moved since the run: the checkout's own changes are the user's, so the gates
        // on the merged tree are compared with a new baseline.
        if matches!(self.fingerprint_checkout(CheckoutMoment::Baseline)?, Flow::Stop) {
            return Err(Error::Halted {
                goal: self.rec.state.goal_id.to_string(),
                halt: crate::decide::state::Halt::Failed.describe(),
            });
        }
        let stopper = Stopper::new(&self.paths, self.interrupt);
        let result = self.steps(&stopper).await;
        omk_worktree::unlock(&self.repo, &worktree.path).ok();
        result?;
        if let Some(halt) = &self.rec.state.halt {
            return Err(Error::Halted {
                goal: self.rec.state.goal_id.to_string(),
                halt: halt.describe(),
            });
        }
        Ok(())
    }

    /// Returns the proof of the log on disk followed by `extra` events, which are not written.
    fn fold_with(&self, extra: &[Event]) -> Result<omk_proof::Proof, Error> {
        let mut synthesizer = omk_proof::Synthesizer::new();
        let mut last: Option<Envelope> = None;
        for envelope in omk_events::LogReader::open(&self.paths.events)? {
            let envelope = envelope?;
            synthesizer.apply(&envelope)?;
            last = Some(envelope);
        }
        let last = last.ok_or_else(|| Error::NotAGoalLog { path: self.paths.events.clone() })?;
        let mut seq = last.seq.0;
        for event in extra {
            seq += 1;
            let envelope =
                Envelope::new(Seq(seq), self.rec.clock.now(), last.goal_id.clone(), event.clone());
            synthesizer.apply(&envelope)?;
        }
        Ok(synthesizer.finish()?)
    }
}

/// Returns the note that links a merge commit to the goal's proof.
fn note_text(outcome: &RunOutcome) -> String {
    let proof = &outcome.proof;
    let digest = omk_events::sha256_hex(proof.to_json().as_bytes());
    let relative = outcome
        .paths
        .proof
        .strip_prefix(&outcome.paths.repo_root)
        .unwrap_or(&outcome.paths.proof)
        .display()
        .to_string();
    let gates: Vec<String> = proof
        .proposed_gates()
        .map(|gate| format!("{} {}", gate.name, if gate.passed { "passed" } else { "failed" }))
        .collect();
    format!(
        "omk-goal: {}\nstatus: {}\ntree: {}\nproof: {relative}\nproof-sha256: {digest}\ngates: {}\n{}",
        proof.goal_id,
        proof.status,
        proof.git.tree_id.as_deref().unwrap_or("-"),
        if gates.is_empty() { "-".to_owned() } else { gates.join(", ") },
        // The log's digest anchors its end on the merge commit too; see `crate::anchor`.
        proof.task.log_head.as_ref().map_or(String::new(), |head| {
            format!("log-events: {}\nlog-head: {head}\n", proof.task.events)
        }),
    )
}
