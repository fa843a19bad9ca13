//! Intake: what kind of change a prompt asks for, whether it is too vague to prove, and which
//! gates prove a goal of its kind (the oracle).

use omk_config::OracleConfig;
use omk_events::{GateKind, GoalKind};
use omk_gates::GateSpec;

/// What the intake makes of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    /// The kind of change the prompt asks for.
    pub kind: GoalKind,
    /// A question for the user when the prompt names no testable outcome; `None` when it does.
    pub question: Option<String>,
}

/// Returns the kind of change `prompt` asks for and, when the prompt is vague, the question that
/// asks for a testable outcome.
///
/// The rules look at whole words (lowercased; `_` joins a word, so `parse_date` is one word and
/// `prefix` is not `fix`). The first rule that matches decides, in this order:
///
/// 1. rewrite: `rewrite`, `reimplement`, `port` as the first word, or `replace … with`;
/// 2. test: `coverage`, or a first word such as `add`, `write` or `increase` with `test` or
///    `tests` in the prompt (`add tests for parse_line`);
/// 3. bugfix, strong words: `bug`, `crash`, `broken`, `failing`, `regression`, `wrong`,
///    `panic`, …;
/// 4. docs: `docs`, `documentation`, `readme`, `changelog`, `docstring`, `comment`, or
///    `document` as the first word;
/// 5. chore: `bump`, `upgrade`, `dependencies`, `ci`, `lint`, `clippy`, `format`, …;
/// 6. refactor: `refactor`, `rename`, `extract`, `clean up`, `simplify`, `restructure`, …;
/// 7. bugfix, weak words: `fix`, `error`, `repair`, …;
/// 8. otherwise feature.
///
/// So "fix the failing test" is a bugfix, "fix typo in README" is docs and "fix clippy lints" is
/// a chore: a specific object wins over the generic verb `fix`.
///
/// A prompt is vague when, apart from filler (`make`, `it`, `the`, `code`, `things`, `stuff`,
/// `project`, `app`, …), it has only quality words (`awesome`, `better`, `improve`, `cleaner`,
/// `faster`, …) and nothing concrete: no file name, path, identifier, quoted text or number.
pub fn classify(prompt: &str) -> Intake {
    let words = words(prompt);
    let kind = kind_of(&words);
    let question = is_vague(prompt, &words).then(|| {
        format!(
            "the prompt {:?} does not say what should change or how to check it; run again with \
             a prompt that names the behavior to change and how to check it, e.g. omk run \
             \"make parse_date accept ISO week dates; cargo test passes\"",
            prompt.trim()
        )
    });
    Intake { kind, question }
}

/// Returns the names of the gates that must pass to prove a goal of `kind`: the names
/// `[oracle]` configures for it, even those not in `gates` (the proof reports them missing),
/// otherwise every required test gate for feature, bugfix, refactor, rewrite and test goals,
/// and none for docs and chore goals.
pub fn oracle_gates(kind: GoalKind, config: &OracleConfig, gates: &[GateSpec]) -> Vec<String> {
    if let Some(names) = config.gates.get(&kind) {
        return names.clone();
    }
    match kind {
        GoalKind::Docs | GoalKind::Chore => Vec::new(),
        GoalKind::Feature
        | GoalKind::Bugfix
        | GoalKind::Refactor
        | GoalKind::Rewrite
        | GoalKind::Test => gates
            .iter()
            .filter(|gate| gate.required && gate.kind == GateKind::Test)
            .map(|gate| gate.name.clone())
            .collect(),
    }
}

const STRONG_BUG_WORDS: &[&str] = &[
    "bug",
    "bugs",
    "buggy",
    "crash",
    "crashes",
    "crashing",
    "broken",
    "breaks",
    "failing",
    "fails",
    "failure",
    "regression",
    "wrong",
    "incorrect",
    "incorrectly",
    "panic",
    "panics",
    "segfault",
    "hang",
    "hangs",
    "leak",
    "leaks",
];

const WEAK_BUG_WORDS: &[&str] =
    &["fix", "fixes", "fixing", "error", "errors", "repair", "resolve", "patch"];

const DOCS_WORDS: &[&str] = &[
    "doc",
    "docs",
    "documentation",
    "readme",
    "changelog",
    "docstring",
    "docstrings",
    "rustdoc",
    "javadoc",
    "comment",
    "comments",
    "manual",
];

const CHORE_WORDS: &[&str] = &[
    "bump",
    "upgrade",
    "downgrade",
    "dependency",
    "dependencies",
    "deps",
    "ci",
    "lint",
    "lints",
    "linter",
    "clippy",
    "eslint",
    "rustfmt",
    "prettier",
    "fmt",
    "format",
    "formatting",
    "gitignore",
    "license",
];

const REFACTOR_WORDS: &[&str] = &[
    "refactor",
    "refactoring",
    "rename",
    "extract",
    "cleanup",
    "simplify",
    "restructure",
    "reorganize",
    "deduplicate",
    "dedupe",
    "decouple",
    "modularize",
];

const TEST_VERBS: &[&str] = &["add", "write", "create", "increase", "improve", "extend", "expand"];

/// Words that say nothing about what to change.
const FILLER_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "my",
    "our",
    "your",
    "code",
    "codebase",
    "things",
    "thing",
    "stuff",
    "project",
    "app",
    "repo",
    "everything",
    "all",
    "something",
    "anything",
    "make",
    "do",
    "please",
    "just",
    "some",
    "more",
    "much",
    "lot",
    "lots",
    "bit",
    "little",
    "very",
    "really",
    "so",
    "and",
    "or",
    "up",
    "of",
    "in",
    "overall",
    "general",
    "generally",
    "be",
    "is",
    "way",
    "look",
    "looks",
    "work",
    "go",
];

/// Words that judge quality without naming a target.
const QUALITY_WORDS: &[&str] = &[
    "awesome",
    "better",
    "best",
    "good",
    "great",
    "nice",
    "nicer",
    "improve",
    "improved",
    "improvements",
    "enhance",
    "clean",
    "cleaner",
    "fast",
    "faster",
    "quicker",
    "speed",
    "pretty",
    "prettier",
    "beautiful",
    "elegant",
    "perfect",
    "amazing",
    "polish",
    "optimize",
    "tidy",
    "robust",
    "modern",
    "performance",
    "quality",
    "readability",
    "maintainability",
];

/// Returns the lowercased words of `text`: runs of letters, digits and `_`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn kind_of(words: &[String]) -> GoalKind {
    let has = |list: &[&str]| words.iter().any(|word| list.contains(&word.as_str()));
    let has_word = |wanted: &str| words.iter().any(|word| word == wanted);
    let first = words.first().map_or("", String::as_str);
    let replace_with = words
        .iter()
        .position(|word| word == "replace")
        .is_some_and(|replace_idx| words[replace_idx..].iter().any(|word| word == "with"));
    if has(&["rewrite", "rewrites", "reimplement", "rewriting"]) || first == "port" || replace_with
    {
        GoalKind::Rewrite
    } else if has_word("coverage")
        || (TEST_VERBS.contains(&first) && has(&["test", "tests", "testcase", "testcases"]))
    {
        GoalKind::Test
    } else if has(STRONG_BUG_WORDS) {
        GoalKind::Bugfix
    } else if has(DOCS_WORDS) || first == "document" {
        GoalKind::Docs
    } else if has(CHORE_WORDS) {
        GoalKind::Chore
    } else if has(REFACTOR_WORDS) || (has_word("clean") && has_word("up")) {
        GoalKind::Refactor
    } else if has(WEAK_BUG_WORDS) {
        GoalKind::Bugfix
    } else {
        GoalKind::Feature
    }
}

fn is_vague(prompt: &str, words: &[String]) -> bool {
    let concrete_mark = prompt.chars().any(|c| {
        c.is_ascii_digit() || matches!(c, '"' | '\'' | '`' | '/' | '.' | '(' | '_' | ':' | '=')
    });
    // An identifier such as `parseDate` or `HttpClient`: a capital after the first letter.
    let camel_case =
        prompt.split_whitespace().any(|word| word.chars().skip(1).any(char::is_uppercase));
    if concrete_mark || camel_case {
        return false;
    }
    // "do something" has no quality word, and no object either.
    !words.is_empty()
        && words.iter().all(|word| {
            QUALITY_WORDS.contains(&word.as_str()) || FILLER_WORDS.contains(&word.as_str())
        })
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, path::PathBuf, time::Duration};

    use omk_events::{GateKind, GoalKind};
    use omk_gates::{GateCommand, GateSpec};

    use super::{classify, oracle_gates};
    use omk_config::OracleConfig;

    /// Checks each prompt's kind and whether it is vague.
    fn check(cases: &[(&str, GoalKind, bool)]) {
        let mut wrong = Vec::new();
        for (prompt, kind, vague) in cases {
            let intake = classify(prompt);
            if intake.kind != *kind || intake.question.is_some() != *vague {
                wrong.push(format!(
                    "{prompt:?}: got {} vague={}, expected {kind} vague={vague}",
                    intake.kind,
                    intake.question.is_some()
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn prompts_are_classified_by_whole_words_in_the_documented_order() {
        use GoalKind::{Bugfix, Chore, Docs, Feature, Refactor, Rewrite, Test};
        check(&[
            ("fix the failing test in calc.sh", Bugfix, false),
            ("Fix add() in calc.sh: it subtracts instead of adding", Bugfix, false),
            ("Create hello.txt containing hello", Feature, false),
            ("add a --json flag to the list command", Feature, false),
            ("rename Foo to Bar", Refactor, false),
            ("update README install section", Docs, false),
            ("bump serde to 1.0.200", Chore, false),
            ("Speed up parse_line", Feature, false),
            ("make the parser faster than 100 MB/s", Feature, false),
            ("the app crashes when the config file is empty", Bugfix, false),
            ("login is broken for users with a plus in their email", Bugfix, false),
            ("add a prefix option to the logger", Feature, false),
            ("fix typo in the README", Docs, false),
            ("document the retry policy of HttpClient", Docs, false),
            ("add tests for parse_line", Test, false),
            ("increase test coverage of the tokenizer", Test, false),
            ("add a regression test for the crash in parse", Test, false),
            ("refactor the session store into its own module", Refactor, false),
            ("extract the retry loop into a helper", Refactor, false),
            ("clean up the error handling in main.rs", Refactor, false),
            ("simplify the config loader", Refactor, false),
            ("rewrite the tokenizer in Rust", Rewrite, false),
            ("Port the CLI to Go", Rewrite, false),
            ("replace the hand-written parser with nom", Rewrite, false),
            ("change the default port to 8080", Feature, false),
            ("upgrade tokio and fix the build", Chore, false),
            ("fix clippy lints in the gates crate", Chore, false),
            ("set up CI for pull requests", Chore, false),
            ("return an error when the input is empty", Bugfix, false),
            ("support dark mode in the settings page", Feature, false),
            ("Make it awesome", Feature, true),
            ("improve the code", Feature, true),
            ("make it better", Feature, true),
            ("clean things up", Refactor, true),
            ("do something", Feature, true),
            ("make the app faster", Feature, true),
            ("improve performance", Feature, true),
            ("Make it nicer and more robust", Feature, true),
        ]);
    }

    #[test]
    fn the_question_quotes_the_prompt_and_shows_a_better_one() {
        let intake = classify("  Make it awesome ");
        assert_eq!(
            intake.question.as_deref(),
            Some(
                "the prompt \"Make it awesome\" does not say what should change or how to check \
                 it; run again with a prompt that names the behavior to change and how to check \
                 it, e.g. omk run \"make parse_date accept ISO week dates; cargo test passes\""
            )
        );
    }

    fn gate(name: &str, kind: GateKind, required: bool) -> GateSpec {
        GateSpec {
            name: name.to_owned(),
            kind,
            command: GateCommand::Shell("true".to_owned()),
            required,
            timeout: Duration::from_secs(60),
            cwd: None::<PathBuf>,
            env: BTreeMap::new(),
            inputs: Vec::new(),
            allow_no_tests: false,
            tests_by_exit_code: false,
            junit: None,
        }
    }

    #[test]
    fn oracle_gates_are_configured_or_the_required_test_gates() {
        let gates = [
            gate("unit", GateKind::Test, true),
            gate("flaky", GateKind::Test, false),
            gate("lint", GateKind::Lint, true),
            gate("e2e", GateKind::Test, true),
        ];
        let none = OracleConfig::default();
        assert_eq!(oracle_gates(GoalKind::Feature, &none, &gates), ["unit", "e2e"]);
        assert_eq!(oracle_gates(GoalKind::Test, &none, &gates), ["unit", "e2e"]);
        assert_eq!(oracle_gates(GoalKind::Docs, &none, &gates), [""; 0]);
        assert_eq!(oracle_gates(GoalKind::Chore, &none, &gates), [""; 0]);
        let configured = OracleConfig {
            gates: BTreeMap::from([
                (GoalKind::Docs, vec!["docs-build".to_owned()]),
                (GoalKind::Bugfix, Vec::new()),
            ]),
            waive_fail_to_pass: false,
        };
        assert_eq!(oracle_gates(GoalKind::Docs, &configured, &gates), ["docs-build"]);
        assert_eq!(oracle_gates(GoalKind::Bugfix, &configured, &gates), [""; 0]);
        assert_eq!(oracle_gates(GoalKind::Refactor, &configured, &gates), ["unit", "e2e"]);
    }
}
