//! The `[review]`, `[oracle]` and `[run]` sections of `omk.toml`, which the run controller reads.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use omk_events::GoalKind;

use crate::keys::{FAIL_TO_PASS_KEY, ORACLE_NAMES, Problem, REVIEW_KEYS, RUN_KEYS, unknown_key};

/// The sections of `omk.toml` the controller reads itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoalConfig {
    /// How the review wall judges a change (`[review]`).
    pub review: ReviewConfig,
    /// Which gates prove each kind of goal (`[oracle]`).
    pub oracle: OracleConfig,
    /// How a run goes on by itself (`[run]`).
    pub run: RunConfig,
}

/// How a run goes on by itself (`[run]` in omk.toml); see `docs/config.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// How many repair rounds a run may give the agent when required gates fail or the review
    /// finds something it can fix (`repair_rounds`, default 2; 0 turns repair off).
    pub repair_rounds: u32,
}

/// The number of repair rounds when neither `[run] repair_rounds` nor `--repair` says.
pub const DEFAULT_REPAIR_ROUNDS: u32 = 2;

impl Default for RunConfig {
    fn default() -> Self {
        Self { repair_rounds: DEFAULT_REPAIR_ROUNDS }
    }
}

/// The limits and lists of the review wall (`[review]` in omk.toml); see `docs/review.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewConfig {
    /// At most this many changed files pass `diff_size` (`max_files`, default 100).
    pub max_files: u64,
    /// At most this many changed lines, added plus removed, pass `diff_size` (`max_lines`,
    /// default 5000).
    pub max_lines: u64,
    /// No binary file may be larger than this (`max_binary_bytes`, default 1 MiB).
    pub max_binary_bytes: u64,
    /// Whether the change may add or change binary files at all (`allow_binary`, default true).
    pub allow_binary: bool,
    /// Globs of paths the change must not touch (`forbidden_paths`); `*` and `?` stay within a
    /// path component, `**` crosses them. Setting the key replaces the default list.
    pub forbidden_paths: Vec<String>,
    /// Regular expressions of allowed secrets, such as test fixtures (`secrets_allow`): a
    /// finding is allowed when one matches its file's path or its line.
    pub secrets_allow: Vec<String>,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            max_files: 100,
            max_lines: 5000,
            max_binary_bytes: 1024 * 1024,
            allow_binary: true,
            forbidden_paths: DEFAULT_FORBIDDEN_PATHS.iter().map(|it| (*it).to_owned()).collect(),
            secrets_allow: Vec::new(),
        }
    }
}

/// The gates that prove each kind of goal (`[oracle]` in omk.toml), by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleConfig {
    /// The configured gate names of each kind; kinds not listed take the default.
    pub gates: BTreeMap<GoalKind, Vec<String>>,
    /// Whether `fail_to_pass = false` waives the fail-to-pass rule: bugfix and test goals (and
    /// feature goals that add tests) then need no test that fails without their change.
    pub waive_fail_to_pass: bool,
}

/// The paths a change must not touch when `forbidden_paths` is not set.
const DEFAULT_FORBIDDEN_PATHS: &[&str] = &[".git/**", "**/.env", "**/*.pem", "**/id_rsa*"];

/// Parses the `[review]` and `[oracle]` sections of `text`, the content of an `omk.toml`.
///
/// Other top-level tables are left to their own parsers; missing sections give the defaults.
/// An unknown key in either section is an error that suggests the closest known key.
pub(crate) fn parse_goal_config(text: &str) -> Result<GoalConfig, Problem> {
    let error_at = |offset: usize, message: String| Problem { offset, message };
    let file: File = toml::from_str(text).map_err(|err| {
        error_at(err.span().map_or(0, |span| span.start), err.message().to_owned())
    })?;
    let mut config = GoalConfig::default();
    for (key, value) in file.review.unwrap_or_default() {
        let at = value.span().start;
        let review = &mut config.review;
        match key.get_ref().as_str() {
            "max_files" => review.max_files = count(&value, "review", "max_files", at, &error_at)?,
            "max_lines" => review.max_lines = count(&value, "review", "max_lines", at, &error_at)?,
            "max_binary_bytes" => {
                review.max_binary_bytes =
                    count(&value, "review", "max_binary_bytes", at, &error_at)?;
            }
            "allow_binary" => {
                review.allow_binary = value.get_ref().as_bool().ok_or_else(|| {
                    error_at(at, "[review] allow_binary must be true or false".to_owned())
                })?;
            }
            "forbidden_paths" => {
                let globs = strings(&value, "review", "forbidden_paths", at, &error_at)?;
                for glob in &globs {
                    if let Err(err) = globset::Glob::new(glob) {
                        return Err(error_at(
                            at,
                            format!("[review] forbidden_paths has an invalid glob {glob:?}: {err}"),
                        ));
                    }
                }
                review.forbidden_paths = globs;
            }
            "secrets_allow" => {
                let patterns = strings(&value, "review", "secrets_allow", at, &error_at)?;
                for pattern in &patterns {
                    if let Err(err) = regex::Regex::new(pattern) {
                        return Err(error_at(
                            at,
                            format!(
                                "[review] secrets_allow has an invalid regular expression \
                                 {pattern:?}: {err}"
                            ),
                        ));
                    }
                }
                review.secrets_allow = patterns;
            }
            other => {
                return Err(error_at(
                    key.span().start,
                    unknown_key("in [review]", other, REVIEW_KEYS),
                ));
            }
        }
    }
    for (key, value) in file.oracle.unwrap_or_default() {
        let at = value.span().start;
        if key.get_ref() == FAIL_TO_PASS_KEY {
            let required = value.get_ref().as_bool().ok_or_else(|| {
                error_at(at, "[oracle] fail_to_pass must be true or false".to_owned())
            })?;
            config.oracle.waive_fail_to_pass = !required;
            continue;
        }
        let Some(kind) = GOAL_KINDS.iter().find(|kind| kind.to_string() == *key.get_ref()) else {
            return Err(error_at(
                key.span().start,
                unknown_key("in [oracle]", key.get_ref(), &ORACLE_NAMES),
            ));
        };
        let gates = strings(&value, "oracle", key.get_ref(), at, &error_at)?;
        config.oracle.gates.insert(*kind, gates);
    }
    for (key, value) in file.run.unwrap_or_default() {
        let at = value.span().start;
        match key.get_ref().as_str() {
            "repair_rounds" => {
                let rounds = count(&value, "run", "repair_rounds", at, &error_at)?;
                config.run.repair_rounds = u32::try_from(rounds).map_err(|_| {
                    error_at(at, "[run] repair_rounds must be at most 4294967295".to_owned())
                })?;
            }
            other => {
                return Err(error_at(key.span().start, unknown_key("in [run]", other, RUN_KEYS)));
            }
        }
    }
    Ok(config)
}

const GOAL_KINDS: [GoalKind; 7] = [
    GoalKind::Feature,
    GoalKind::Bugfix,
    GoalKind::Refactor,
    GoalKind::Rewrite,
    GoalKind::Docs,
    GoalKind::Test,
    GoalKind::Chore,
];

type Section = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
struct File {
    review: Option<Section>,
    oracle: Option<Section>,
    run: Option<Section>,
}

fn count(
    value: &Spanned<toml::Value>,
    section: &str,
    key: &str,
    at: usize,
    error_at: &dyn Fn(usize, String) -> Problem,
) -> Result<u64, Problem> {
    value
        .get_ref()
        .as_integer()
        .and_then(|it| u64::try_from(it).ok())
        .ok_or_else(|| error_at(at, format!("[{section}] {key} must be a whole number, 0 or more")))
}

fn strings(
    value: &Spanned<toml::Value>,
    section: &str,
    key: &str,
    at: usize,
    error_at: &dyn Fn(usize, String) -> Problem,
) -> Result<Vec<String>, Problem> {
    let wrong = || error_at(at, format!("[{section}] {key} must be an array of strings"));
    let items = value.get_ref().as_array().ok_or_else(wrong)?;
    items.iter().map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong)).collect()
}

#[cfg(test)]
mod tests {
    use omk_events::GoalKind;

    use super::{GoalConfig, ReviewConfig, parse_goal_config};
    use crate::keys::line_column;

    fn check(text: &str, expect: &str) {
        let actual = match parse_goal_config(text) {
            Ok(config) => format!("{config:?}"),
            Err(problem) => {
                let (line, column) = line_column(text, problem.offset);
                format!("{line}:{column}: {}", problem.message)
            }
        };
        assert_eq!(actual, expect);
    }

    #[test]
    fn missing_sections_give_the_defaults_and_other_tables_are_left_alone() {
        let text = "[[gates]]\nname = \"t\"\ncommand = \"true\"\n[agent]\ndefault = \"kimi\"\n";
        let config = parse_goal_config(text).expect("valid");
        assert_eq!(config, GoalConfig::default());
        assert_eq!(config.review.forbidden_paths, [".git/**", "**/.env", "**/*.pem", "**/id_rsa*"]);
    }

    #[test]
    fn every_key_is_read() {
        let text = "[review]\nmax_files = 3\nmax_lines = 40\nmax_binary_bytes = 10\n\
                    allow_binary = false\nforbidden_paths = [\"secrets/**\"]\n\
                    secrets_allow = [\"^tests/fixtures/\"]\n\
                    [oracle]\nfeature = [\"test\", \"e2e\"]\ndocs = []\n";
        let config = parse_goal_config(text).expect("valid");
        assert_eq!(
            config.review,
            ReviewConfig {
                max_files: 3,
                max_lines: 40,
                max_binary_bytes: 10,
                allow_binary: false,
                forbidden_paths: vec!["secrets/**".to_owned()],
                secrets_allow: vec!["^tests/fixtures/".to_owned()],
            }
        );
        assert_eq!(config.oracle.gates[&GoalKind::Feature], ["test", "e2e"]);
        assert_eq!(config.oracle.gates[&GoalKind::Docs], [""; 0]);
        assert_eq!(config.oracle.gates.len(), 2);
        assert!(!config.oracle.waive_fail_to_pass);
        let waived = parse_goal_config("[oracle]\nfail_to_pass = false\n").unwrap();
        assert!(waived.oracle.waive_fail_to_pass);
        assert!(waived.oracle.gates.is_empty());
        assert_eq!(config.run.repair_rounds, 2);
        let off = parse_goal_config("[run]\nrepair_rounds = 0\n").unwrap();
        assert_eq!(off.run.repair_rounds, 0);
    }

    #[test]
    fn mistakes_name_the_line_column_and_the_closest_key() {
        check(
            "[review]\nmax_line = 10\n",
            "2:1: unknown key `max_line` in [review]; did you mean `max_lines`?",
        );
        check(
            "[review]\nbananas = 1\n",
            "2:1: unknown key `bananas` in [review]; expected one of max_files, \
             max_lines, max_binary_bytes, allow_binary, forbidden_paths, secrets_allow",
        );
        check(
            "[run]\nrepair = 3\n",
            "2:1: unknown key `repair` in [run]; did you mean `repair_rounds`?",
        );
        check(
            "[run]\nrepair_rounds = -1\n",
            "2:17: [run] repair_rounds must be a whole number, 0 or more",
        );
        check(
            "[oracle]\nfeatuer = [\"test\"]\n",
            "2:1: unknown key `featuer` in [oracle]; did you mean `feature`?",
        );
        check(
            "[review]\nmax_files = -1\n",
            "2:13: [review] max_files must be a whole number, 0 or more",
        );
        check(
            "[review]\nallow_binary = \"yes\"\n",
            "2:16: [review] allow_binary must be true or false",
        );
        check("[oracle]\ndocs = \"test\"\n", "2:8: [oracle] docs must be an array of strings");
        check(
            "[oracle]\nfail_to_pass = \"no\"\n",
            "2:16: [oracle] fail_to_pass must be true or false",
        );
        check(
            "[review]\nsecrets_allow = [\"(\"]\n",
            "2:17: [review] secrets_allow has an invalid regular expression \"(\": \
             regex parse error:\n    (\n    ^\nerror: unclosed group",
        );
        check("[review\n", "1:8: unclosed table, expected `]`");
    }
}
