//! Identifiers that carry their own validity, goal ids and sequence numbers, and how omk shows
//! the long ids of commits, trees and hashes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The id of a goal, such as `20261121-200000-3fa2c1`.
///
/// A goal id is 1 to 64 characters of lowercase ASCII letters, digits and `-`, starting with a
/// letter or digit, so it is safe as a directory name and as part of a git branch name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct GoalId(String);

/// Returned when a string is not a valid [`GoalId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid goal id {0:?}: use 1 to 64 lowercase letters, digits and '-', starting with a letter or digit"
)]
pub struct InvalidGoalId(pub String);

impl GoalId {
    /// Returns the goal id for `text`, or an error when it is not a valid id.
    pub fn parse(text: &str) -> Result<Self, InvalidGoalId> {
        let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let starts_well = text.chars().next().is_some_and(|c| c != '-');
        if text.is_empty() || text.len() > 64 || !starts_well || !text.chars().all(valid_char) {
            return Err(InvalidGoalId(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    /// Returns the id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GoalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for GoalId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The 1-based position of an event in its goal's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Seq(pub u64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Returns the first 12 characters of `id`, as omk shows commit, tree and hash ids; a shorter
/// `id` whole.
pub fn short_id(id: &str) -> &str {
    // Characters, not bytes: an id read from a hand-edited log may hold any text.
    id.char_indices().nth(12).map_or(id, |(end, _)| &id[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_ids_are_validated() {
        for good in ["a", "20261121-200000-3fa2c1", "demo-1"] {
            assert_eq!(GoalId::parse(good).map(|id| id.to_string()), Ok(good.to_owned()));
        }
        for bad in ["", "-a", "A", "a/b", "a b", "..", &"x".repeat(65)] {
            assert_eq!(GoalId::parse(bad), Err(InvalidGoalId(bad.to_owned())));
        }
    }

    #[test]
    fn goal_ids_are_validated_when_deserialized() {
        let err = serde_json::from_str::<GoalId>("\"../etc\"").unwrap_err();
        assert!(err.to_string().contains("invalid goal id"), "{err}");
    }

    #[test]
    fn short_ids_are_the_first_twelve_characters() {
        assert_eq!(short_id("4b825dc642cb6eb9a060e54bf8d69288fc3f6c1d"), "4b825dc642cb");
        assert_eq!(short_id("4b825dc642cb"), "4b825dc642cb");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(short_id("ééééééééééééé"), "éééééééééééé");
    }
}
