//! Earlier proofs of a goal: the fold of a prefix of its log, for `omk proof show --since`.

use omk_events::Event;
use omk_proof::Proof;

use crate::{error::Error, layout::GoalPaths};

/// Which earlier proof of a goal to compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// The proof as it stood after event `n` (its sequence number).
    Event(u64),
    /// The proof as it stood after agent run `n` and its gates: everything before the next
    /// agent run started.
    Run(u64),
}

impl Since {
    /// Parses `run-N` (after the N-th agent run) or `N` (after event N).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        match text.strip_prefix("run-") {
            Some(n) => n.parse().ok().filter(|it| *it > 0).map(Self::Run),
            None => text.parse().ok().filter(|it| *it > 0).map(Self::Event),
        }
    }
}

/// Returns the earlier proof `since` names (the fold of a prefix of the goal's log) and the
/// current proof (the fold of the whole log).
pub fn proof_since(paths: &GoalPaths, since: &str) -> Result<(Proof, Proof), Error> {
    let bad = |problem: String| Error::BadSince {
        goal: paths.goal_id.to_string(),
        since: since.to_owned(),
        problem,
    };
    let Some(parsed) = Since::parse(since) else {
        return Err(bad(
            "give run-N (the proof after the N-th agent run) or N (the proof after event N)"
                .to_owned(),
        ));
    };
    let events = omk_events::read_log(&paths.events)?.events;
    let prefix = match parsed {
        Since::Event(n) => {
            if n > events.len() as u64 {
                return Err(bad(format!("the log has {} events", events.len())));
            }
            usize::try_from(n).unwrap_or(usize::MAX)
        }
        Since::Run(n) => {
            let starts: Vec<usize> = events
                .iter()
                .enumerate()
                .filter(|(_, it)| matches!(it.event, Event::AgentStarted(_)))
                .map(|(idx, _)| idx)
                .collect();
            if n > starts.len() as u64 {
                let runs = match starts.len() {
                    0 => "no agent run yet; name an event number instead".to_owned(),
                    1 => "1 agent run, so run-1 is the only one".to_owned(),
                    count => format!("{count} agent runs: use run-1 to run-{count}"),
                };
                return Err(bad(format!("the goal has {runs}")));
            }
            starts.get(usize::try_from(n).unwrap_or(usize::MAX)).copied().unwrap_or(events.len())
        }
    };
    let earlier = omk_proof::synthesize(&events[..prefix])?;
    let current = omk_proof::synthesize(&events)?;
    Ok((earlier, current))
}
