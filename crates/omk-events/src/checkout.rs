//! The payload of `checkout_fingerprinted`: what the user's checkout looked like before the agent
//! started and after the last gate, and the differences between two such fingerprints.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

/// The user's checkout was fingerprinted: a baseline, which the fingerprints after the gates are
/// compared with, so a write anywhere in the checkout while the goal runs is seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckoutFingerprinted {
    /// When in the run it was taken.
    pub moment: CheckoutMoment,
    /// What the checkout looked like.
    pub fingerprint: CheckoutFingerprint,
}

/// When in a run the checkout was fingerprinted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutMoment {
    /// A baseline: right after the goal was created, before any worktree setup, agent or gate
    /// ran; or when a later run of the goal starts after the previous one ended cleanly (a
    /// resume after a pause or a follow-up, `omk accept` verifying a moved base), since what
    /// changed in between is the user's own. A run resumed after a crash takes none: it is
    /// compared with the baseline before the crash.
    Baseline,
    /// After the last gate and the review on the proposed tree (for a team goal, after its
    /// merge queue too); compared with the baseline.
    AfterGates,
    /// When a run resumes after one that stopped cleanly midway (a pause, a budget stop, a
    /// failed step), before its new baseline; compared with the old baseline, so what the
    /// stopped run wrote is not taken into the new one.
    Resumed,
}

/// What the user's checkout looked like: HEAD, refs, index, `git status` with untracked files,
/// the git config and the hooks, each part as digests (SHA-256, lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckoutFingerprint {
    /// The branch HEAD is on (or `(detached)`) and the commit it resolves to.
    pub head: String,
    /// Every ref but omk's own (see `ignored_refs`), by full name: its commit, or `-> target`
    /// for a symbolic ref.
    pub refs: BTreeMap<String, String>,
    /// The prefixes of the refs left out because omk writes them while it runs.
    pub ignored_refs: Vec<String>,
    /// The digest of the index's entries.
    pub index: String,
    /// Every path `git status` lists (changed, staged, untracked, unmerged): the digest of its
    /// status line and its content.
    pub files: BTreeMap<String, String>,
    /// The digests of the git directory's config files, by name (`config`, `config.worktree`).
    pub git_config: BTreeMap<String, String>,
    /// The digest of every file beneath the git directory's `hooks/`, by path relative to it.
    pub hooks: BTreeMap<String, String>,
}

impl CheckoutFingerprint {
    /// Returns what differs in `later` from `self`, part by part, in a stable order.
    pub fn differences(&self, later: &Self) -> Vec<CheckoutDifference> {
        let mut differences = Vec::new();
        let mut push = |part, name: &str| {
            differences.push(CheckoutDifference { part, name: name.to_owned() });
        };
        if self.head != later.head {
            push(CheckoutPart::Head, &later.head);
        }
        for name in changed_keys(&self.refs, &later.refs) {
            push(CheckoutPart::Ref, name);
        }
        if self.index != later.index {
            push(CheckoutPart::Index, "index");
        }
        for name in changed_keys(&self.files, &later.files) {
            push(CheckoutPart::File, name);
        }
        for name in changed_keys(&self.git_config, &later.git_config) {
            push(CheckoutPart::GitConfig, name);
        }
        for name in changed_keys(&self.hooks, &later.hooks) {
            push(CheckoutPart::Hook, name);
        }
        differences
    }
}

/// One part of the user's checkout that changed between two fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckoutDifference {
    /// Which part.
    pub part: CheckoutPart,
    /// Its name: the ref, the path relative to the checkout's root, the config file or hook
    /// relative to the git directory, or HEAD's new position.
    pub name: String,
}

/// A part of a checkout's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutPart {
    /// HEAD moved or switched branches.
    Head,
    /// A ref was created, moved or deleted.
    Ref,
    /// The index changed.
    Index,
    /// A file of the checkout changed, appeared or went away.
    File,
    /// A git config file changed.
    GitConfig,
    /// A hook was written, changed or removed.
    Hook,
}

impl fmt::Display for CheckoutDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part {
            CheckoutPart::Head => write!(f, "HEAD (now {})", self.name),
            CheckoutPart::Ref => write!(f, "ref {}", self.name),
            CheckoutPart::Index => f.write_str("the index"),
            CheckoutPart::File => write!(f, "file {}", self.name),
            CheckoutPart::GitConfig => write!(f, ".git/{}", self.name),
            CheckoutPart::Hook => write!(f, ".git/hooks/{}", self.name),
        }
    }
}

/// Returns the keys whose values differ between `before` and `after`, or that only one has.
fn changed_keys<'a>(
    before: &'a BTreeMap<String, String>,
    after: &'a BTreeMap<String, String>,
) -> Vec<&'a str> {
    let mut keys: Vec<&str> = before
        .iter()
        .filter(|(key, value)| after.get(*key) != Some(*value))
        .map(|(key, _)| key.as_str())
        .chain(after.keys().filter(|key| !before.contains_key(*key)).map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys
}
