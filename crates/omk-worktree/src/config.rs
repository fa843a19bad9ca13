//! The `[worktree]` section of `omk.toml`.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::{error::Error, merge::MergeStrategy};

/// How omk prepares, commits and merges worktrees (`[worktree]` in omk.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeConfig {
    /// Untracked files to copy from the checkout into each new worktree (`copy`, like `.env`).
    pub copy: Vec<String>,
    /// Commands run with `sh -c` in each new worktree before the agent starts (`setup`).
    pub setup: Vec<String>,
    /// How an accepted goal is merged when it is not a fast-forward (`merge`).
    pub merge: MergeStrategy,
    /// The author and committer name of omk's commits (`author_name`).
    pub author_name: String,
    /// The author and committer email of omk's commits (`author_email`).
    pub author_email: String,
}

impl Default for WorktreeConfig {
    fn default() -> Self {
        Self {
            copy: Vec::new(),
            setup: Vec::new(),
            merge: MergeStrategy::Merge,
            author_name: "omk".to_owned(),
            author_email: "omk@localhost".to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct File {
    worktree: Option<Section>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    copy: Vec<Spanned<String>>,
    #[serde(default)]
    setup: Vec<String>,
    merge: Option<Spanned<String>>,
    author_name: Option<String>,
    author_email: Option<String>,
}

/// Parses the `[worktree]` section of `text`, the content of an `omk.toml`.
///
/// Other top-level keys are left to their own parsers; a missing section gives the defaults.
/// Errors carry the byte offset of the problem, which the caller turns into the file, line
/// and column.
pub fn parse_config(text: &str) -> Result<WorktreeConfig, Error> {
    let error_at = |offset: usize, message: String| Error::Config { offset, message };
    let file: File = toml::from_str(text).map_err(|err| {
        error_at(err.span().map_or(0, |span| span.start), err.message().to_owned())
    })?;
    let mut config = WorktreeConfig::default();
    let Some(section) = file.worktree else { return Ok(config) };
    config.merge = match &section.merge {
        None => MergeStrategy::Merge,
        Some(merge) if merge.get_ref() == "merge" => MergeStrategy::Merge,
        Some(merge) if merge.get_ref() == "squash" => MergeStrategy::Squash,
        Some(merge) => {
            let other = merge.get_ref();
            return Err(error_at(
                merge.span().start,
                format!("[worktree] merge is {other:?}; expected \"merge\" or \"squash\""),
            ));
        }
    };
    for file in &section.copy {
        let relative = Path::new(file.get_ref());
        if relative.is_absolute()
            || relative.components().any(|part| matches!(part, std::path::Component::ParentDir))
        {
            return Err(error_at(
                file.span().start,
                format!(
                    "[worktree] copy lists {:?}; expected a path relative to the repository \
                     root that stays inside it",
                    file.get_ref()
                ),
            ));
        }
    }
    config.copy = section.copy.into_iter().map(Spanned::into_inner).collect();
    config.setup = section.setup;
    if let Some(name) = section.author_name {
        config.author_name = name;
    }
    if let Some(email) = section.author_email {
        config.author_email = email;
    }
    Ok(config)
}
