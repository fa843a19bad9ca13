//! What a goal used of its budget: the one rule the proof and the run controller share.

use chrono::{DateTime, Utc};

use omk_events::{BudgetLimits, BudgetResource, Envelope, Event};

use crate::model::BudgetUsed;

/// Measures a goal's budget use, event by event.
///
/// - Wall time is the time the goal was being run: from `goal_created`, and from each
///   `goal_resumed`, to the last step event before the next resume. Time spent paused, stopped,
///   crashed or waiting for a decision does not count: decisions, limits, pauses and
///   cancellations do not extend a run's time, since commands outside a run record them.
/// - Tokens, turns (model steps) and cost add up over every finished agent run; the cost is
///   known only while every run had one.
///
/// The controller adds the live part (the open run segment, the agent's usage so far) with
/// [`BudgetMeter::used_at`] and [`BudgetMeter::exceeded`].
#[derive(Debug, Clone, Default)]
pub struct BudgetMeter {
    limits: BudgetLimits,
    closed_ms: u64,
    segment: Option<(DateTime<Utc>, DateTime<Utc>)>,
    tokens: u64,
    usd: Option<f64>,
    runs: u64,
    turns: u64,
}

impl BudgetMeter {
    /// Returns a meter that has seen no event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one event into the meter.
    pub fn apply(&mut self, envelope: &Envelope) {
        let at = envelope.at;
        // A team goal's slices spend from the goal's budget too.
        let event = match &envelope.event {
            Event::Slice(slice) if matches!(*slice.event, Event::AgentFinished(_)) => &*slice.event,
            other => other,
        };
        match event {
            Event::GoalResumed(_) => {
                if let Some((start, last)) = self.segment {
                    self.closed_ms += elapsed_ms(start, last);
                }
                self.segment = Some((at, at));
                return;
            }
            Event::BudgetSet(set) => {
                self.limits = set.limits;
                if self.segment.is_some() {
                    return;
                }
            }
            Event::AgentFinished(finished) => {
                self.tokens += finished.usage.map_or(0, |usage| usage.total());
                self.turns += u64::from(finished.steps);
                self.usd = match (self.runs, self.usd, &finished.cost) {
                    (0, _, cost) => cost.as_ref().map(|it| it.usd),
                    (_, Some(total), Some(cost)) => Some(total + cost.usd),
                    _ => None,
                };
                self.runs += 1;
            }
            // Decisions and limits are recorded by commands outside a run (accept, reject,
            // budget add, pause or cancel of an idle goal): the time before them was not run time.
            Event::ChangeAccepted(_)
            | Event::ChangeRejected(_)
            | Event::DecisionMade(_)
            | Event::GoalPaused(_)
            | Event::GoalCancelled(_) => return,
            _ => {}
        }
        match &mut self.segment {
            Some((_, last)) => *last = at,
            None => self.segment = Some((at, at)),
        }
    }

    /// Returns the limits in force: those of the latest `budget_set`.
    pub fn limits(&self) -> BudgetLimits {
        self.limits
    }

    /// Returns what was used up to the last event.
    pub fn used(&self) -> BudgetUsed {
        let open = self.segment.map_or(0, |(start, last)| elapsed_ms(start, last));
        BudgetUsed {
            wall_ms: self.closed_ms + open,
            tokens: self.tokens,
            usd: self.usd,
            turns: self.turns,
        }
    }

    /// Returns what was used by `now`, while a run is live: the open segment runs to `now`.
    pub fn used_at(&self, now: DateTime<Utc>) -> BudgetUsed {
        let open = self.segment.map_or(0, |(start, last)| elapsed_ms(start, now.max(last)));
        BudgetUsed { wall_ms: self.closed_ms + open, ..self.used() }
    }

    /// Returns the first resource of `used` at or past its limit, with the limit and the use,
    /// in the order wall time, tokens, cost, turns.
    pub fn exceeded(&self, used: &BudgetUsed) -> Option<(BudgetResource, f64, f64)> {
        self.over(used, 1.0)
    }

    /// Returns the resources of `used` at or past `fraction` of their limit, in the order wall
    /// time, tokens, cost, turns.
    pub fn at_fraction(&self, used: &BudgetUsed, fraction: f64) -> Vec<(BudgetResource, f64, f64)> {
        amounts(&self.limits, used)
            .into_iter()
            .filter(|(_, limit, used)| *used >= limit * fraction)
            .collect()
    }

    fn over(&self, used: &BudgetUsed, fraction: f64) -> Option<(BudgetResource, f64, f64)> {
        self.at_fraction(used, fraction).into_iter().next()
    }
}

/// Returns each limited resource with its limit and its use, in the resource's unit.
#[expect(clippy::cast_precision_loss, reason = "budgets are far below 2^52")]
fn amounts(limits: &BudgetLimits, used: &BudgetUsed) -> Vec<(BudgetResource, f64, f64)> {
    let mut amounts = Vec::new();
    if let Some(limit) = limits.wall_ms {
        amounts.push((BudgetResource::WallTime, limit as f64, used.wall_ms as f64));
    }
    if let Some(limit) = limits.tokens {
        amounts.push((BudgetResource::Tokens, limit as f64, used.tokens as f64));
    }
    if let (Some(limit), Some(usd)) = (limits.usd, used.usd) {
        amounts.push((BudgetResource::Usd, limit, usd));
    }
    if let Some(limit) = limits.turns {
        amounts.push((BudgetResource::Turns, limit as f64, used.turns as f64));
    }
    amounts
}

pub(crate) fn elapsed_ms(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}
