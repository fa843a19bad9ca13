//! Making new goal ids: time first, so they sort by creation, then a digest of the prompt.

use chrono::{DateTime, SecondsFormat, Utc};

use omk_events::{GoalId, sha256_hex};

/// Returns the id for a goal created `at` from `prompt`; `attempt` > 1 disambiguates collisions.
pub(crate) fn new_goal_id(at: DateTime<Utc>, prompt: &str, attempt: u32) -> GoalId {
    let seed = format!("{}\n{prompt}", at.to_rfc3339_opts(SecondsFormat::Nanos, true));
    let digest = sha256_hex(seed.as_bytes());
    let mut id = format!("{}-{}", at.format("%Y%m%d-%H%M%S"), &digest[..6]);
    if attempt > 1 {
        id = format!("{id}-{attempt}");
    }
    GoalId::parse(&id).expect("a timestamp and hex digits form a valid goal id")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn ids_start_with_the_time_and_are_deterministic() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).single().expect("valid time");
        let id = new_goal_id(at, "fix it", 1);
        assert_eq!(id, new_goal_id(at, "fix it", 1));
        assert!(id.as_str().starts_with("20261121-200000-"), "{id}");
        assert_ne!(id, new_goal_id(at, "fix that", 1));
        assert_eq!(new_goal_id(at, "fix it", 2).as_str(), format!("{id}-2"));
    }
}
