//! Every key of `omk.toml` and the user config, who may set it, and the one way config errors
//! name a place and suggest a key.
//!
//! The crates below parse their own sections and know nothing of the others'; this table is
//! the one place that knows every section, so an unknown key anywhere gets the same error with
//! the same "did you mean".

/// A problem at a byte offset of a config text; the loader names the file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The byte offset of the problem in the text.
    pub offset: usize,
    /// What is wrong and the expected form.
    pub message: String,
}

/// How a key's value is laid out, which decides how layers merge it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// A value that a later layer replaces whole (a string, number, boolean or array).
    Value,
    /// A table of the named keys, merged key by key.
    Table(&'static [Key]),
    /// A table of free names (`[agent.programs]`, `[prices]`, `[oracle]`), merged name by name;
    /// `names` lists the allowed names when they are fixed, `entry` the keys of each entry when
    /// entries are tables (which a later layer replaces whole).
    Map { names: Option<&'static [&'static str]>, entry: Option<&'static [&'static str]> },
    /// An array of tables with the named keys (`[[gates]]`, `[[approvals]]`).
    Items(&'static [&'static str]),
}

/// One key of the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    /// The key's name.
    pub(crate) name: &'static str,
    /// How its value is laid out.
    pub(crate) shape: Shape,
    /// Whether the user config may set it; the other keys are the project's, set in `omk.toml`.
    pub(crate) user: bool,
}

const fn value(name: &'static str, user: bool) -> Key {
    Key { name, shape: Shape::Value, user }
}

/// The key of `[oracle]` that is no goal kind: `fail_to_pass = false` waives the fail-to-pass
/// rule.
pub(crate) const FAIL_TO_PASS_KEY: &str = "fail_to_pass";

/// The names `[oracle]` takes: the goal kinds (as `GoalKind` displays them), then
/// `fail_to_pass`.
pub(crate) const ORACLE_NAMES: [&str; 8] =
    ["feature", "bugfix", "refactor", "rewrite", "docs", "test", "chore", FAIL_TO_PASS_KEY];

/// The keys of `[review]`.
pub(crate) const REVIEW_KEYS: &[&str] = &[
    "max_files",
    "max_lines",
    "max_binary_bytes",
    "allow_binary",
    "forbidden_paths",
    "secrets_allow",
];

/// The keys of `[run]`.
pub(crate) const RUN_KEYS: &[&str] = &["repair_rounds"];

/// Every top-level key (section), in the order `omk config show` prints them.
pub(crate) const SECTIONS: &[Key] = &[
    Key {
        name: "agent",
        shape: Shape::Table(&[
            value("default", true),
            value("timeout_secs", true),
            value("idle_timeout_secs", true),
            value("retries", true),
            value("retry_backoff_ms", true),
            value("mcp", true),
            Key { name: "programs", shape: Shape::Map { names: None, entry: None }, user: true },
        ]),
        user: true,
    },
    Key {
        name: "approvals",
        shape: Shape::Items(&[
            "decision",
            "tools",
            "programs",
            "commands",
            "paths",
            "outside_worktree",
        ]),
        user: true,
    },
    Key {
        name: "prices",
        shape: Shape::Map {
            names: None,
            entry: Some(&[
                "input_per_mtok",
                "output_per_mtok",
                "cache_read_per_mtok",
                "cache_write_per_mtok",
            ]),
        },
        user: true,
    },
    Key {
        name: "worktree",
        shape: Shape::Table(&[
            value("copy", false),
            value("setup", false),
            value("merge", false),
            value("author_name", true),
            value("author_email", true),
        ]),
        user: true,
    },
    Key {
        name: "gates",
        shape: Shape::Items(&[
            "name",
            "command",
            "kind",
            "required",
            "timeout_secs",
            "cwd",
            "env",
            "inputs",
            "allow_no_tests",
            "tests",
            "junit",
        ]),
        user: false,
    },
    Key {
        name: "detect",
        shape: Shape::Table(&[value("enabled", false), value("exclude", false)]),
        user: false,
    },
    Key {
        name: "cache",
        shape: Shape::Table(&[value("env", false), value("shared_builds", false)]),
        user: false,
    },
    Key {
        name: "review",
        shape: Shape::Table(&[
            value("max_files", false),
            value("max_lines", false),
            value("max_binary_bytes", false),
            value("allow_binary", false),
            value("forbidden_paths", false),
            value("secrets_allow", false),
        ]),
        user: false,
    },
    Key {
        name: "oracle",
        shape: Shape::Map { names: Some(&ORACLE_NAMES), entry: None },
        user: false,
    },
    Key { name: "run", shape: Shape::Table(&[value("repair_rounds", true)]), user: true },
    Key {
        name: "sandbox",
        shape: Shape::Table(&[
            value("mode", false),
            value("writable", true),
            value("network", false),
        ]),
        user: true,
    },
    Key {
        name: "trust",
        shape: Shape::Table(&[value("keys", false), value("require_signature", false)]),
        user: false,
    },
];

/// Returns the message for the unknown `key` found at `place` (such as `in [review]` or `at the
/// top level`), with the closest of `known` when one is close.
pub fn unknown_key(place: &str, key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(candidate) => format!("unknown key `{key}` {place}; did you mean `{candidate}`?"),
        None => format!("unknown key `{key}` {place}; expected one of {}", known.join(", ")),
    }
}

/// Returns the name of `known` closest to the misspelled `name`, when one is close enough to
/// suggest.
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, candidate)| {
            // A name that is the start of a known one (`timeout` for `timeout_secs`) is close.
            *distance <= 2.max(candidate.len() / 3)
                || (name.chars().count() >= 3 && candidate.starts_with(name))
        })
        .min()
        .map(|(_, candidate)| candidate)
}

/// Returns the 1-based line and column (in characters) of the byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |it| it.chars().count()) + 1;
    (line, column)
}

/// Returns the Levenshtein distance between `a` and `b`, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (a_idx, a_char) in a.chars().enumerate() {
        let mut current = vec![a_idx + 1];
        for (b_idx, b_char) in b.iter().enumerate() {
            let substitution = previous[b_idx] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[b_idx + 1] + 1).min(current[b_idx] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{edit_distance, line_column, unknown_key};

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("max_line", "max_lines"), 1);
        assert_eq!(edit_distance("featuer", "feature"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("défaut", "default"), 2);
    }

    #[test]
    fn unknown_keys_suggest_the_closest_known_key_when_one_is_close() {
        let known = ["default", "timeout_secs", "idle_timeout_secs", "programs"];
        assert_eq!(
            unknown_key("in [agent]", "defualt", &known),
            "unknown key `defualt` in [agent]; did you mean `default`?"
        );
        assert_eq!(
            unknown_key("in [agent]", "timeout", &known),
            "unknown key `timeout` in [agent]; did you mean `timeout_secs`?"
        );
        assert_eq!(
            unknown_key("in [agent]", "bananas", &known),
            "unknown key `bananas` in [agent]; expected one of default, timeout_secs, \
             idle_timeout_secs, programs"
        );
    }

    #[test]
    fn line_and_column_count_characters_and_stay_inside_the_text() {
        assert_eq!(line_column("a = 1\nbé = 2\n", 10), (2, 4));
        assert_eq!(line_column("ab", 0), (1, 1));
        assert_eq!(line_column("ab", 99), (1, 3));
        // An offset inside a character counts from the character's start.
        assert_eq!(line_column("é", 1), (1, 1));
    }
}
