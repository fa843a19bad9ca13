//! The `[[gates]]` tables of `omk.toml`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::{Component, Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, de};

use omk_events::GateKind;

use crate::{
    kind::infer_kind,
    spec::{GateCommand, GateSpec},
};

/// The gate sections of `omk.toml`: the configured gates, in file order, and how detection and
/// the cache are set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateConfig {
    /// The configured gates.
    pub gates: Vec<GateSpec>,
    /// The 1-based line of each configured gate's name, by name, for `omk gates list`.
    pub gate_lines: BTreeMap<String, usize>,
    /// Whether detected gates run beside the configured ones (`[detect] enabled`, default true).
    pub detect: bool,
    /// Detected gates not to run (`[detect] exclude`).
    pub detect_exclude: Vec<String>,
    /// Environment variables whose values are part of every cache key, beside the built-in
    /// list (`[cache] env`).
    pub cache_env: Vec<String>,
    /// Whether the gates of a goal build in a warm build directory of their worktree's own,
    /// seeded from the user's checkout (`[cache] shared_builds`, default true).
    pub shared_builds: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            gates: Vec::new(),
            gate_lines: BTreeMap::new(),
            detect: true,
            detect_exclude: Vec::new(),
            cache_env: Vec::new(),
            shared_builds: true,
        }
    }
}

/// Returned when `omk.toml` is not a valid gate configuration.
///
/// The error knows where in the text the problem is, not which file the text came from: the
/// caller (omk-goal's config loader) names the file, line and column, in one way for every
/// section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The byte offset of the problem in the text.
    pub offset: usize,
    /// What is wrong and the expected form.
    pub message: String,
}

/// Parses the gate sections of `text`, the content of an `omk.toml`.
///
/// The expected form is:
///
/// ```toml
/// [[gates]]
/// name = "test"                # letters, digits, '.', '_', '-'; unique
/// command = "sh test.sh"       # a shell line, or an argv array: ["cargo", "test"]
/// kind = "test"                # test | lint | fmt | build | security | other; default:
///                              # inferred from the command (`cargo test` is a test gate)
/// required = true              # default true
/// timeout_secs = 600           # default 1800
/// cwd = "sub/dir"              # default: the worktree root
/// env = { RUST_LOG = "info" }  # added to the environment omk runs gates with
/// inputs = ["src/**", "tests"] # what the result depends on (cache key); default: the tree
/// allow_no_tests = false       # a test gate that ran zero tests fails unless this is true
/// tests = "exit-code"          # a test gate whose runner prints no count omk reads: its exit
///                              # code stands for its tests (weaker evidence, shown as such)
/// junit = "reports/*.xml"      # JUnit XML the gate writes, relative to the worktree: the
///                              # reports this run wrote count before the output's summary
///
/// [detect]
/// enabled = true               # run detected gates beside configured ones (default true)
/// exclude = ["cargo-clippy"]   # detected gates not to run
///
/// [cache]
/// env = ["DATABASE_URL"]       # more variables whose values key the cache
/// ```
///
/// A configured gate with the name of a detected gate replaces it.
/// Other top-level tables are left to their own parsers: whether a key is known at all is
/// checked by the caller, which knows every section.
pub fn parse_config(text: &str) -> Result<GateConfig, ConfigError> {
    let error_at = |offset: usize, message: String| ConfigError { offset, message };
    let file: File = toml::from_str(text).map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        error_at(offset, err.message().to_owned())
    })?;

    let mut names = BTreeSet::new();
    let mut gates = Vec::new();
    let mut gate_lines = BTreeMap::new();
    for gate in file.gates {
        let name = gate.name.get_ref();
        let name_at = gate.name.span().start;
        if !GateSpec::is_valid_name(name) {
            let message = format!(
                "invalid gate name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"
            );
            return Err(error_at(name_at, message));
        }
        if !names.insert(name.clone()) {
            return Err(error_at(
                name_at,
                format!("duplicate gate name {name:?}: gate names must be unique"),
            ));
        }
        let command = gate_command(name, gate.command)?;
        if gate.timeout_secs == Some(0) {
            return Err(error_at(
                name_at,
                format!("gate {name:?}: timeout_secs must be at least 1"),
            ));
        }
        let cwd = gate.cwd.map(PathBuf::from);
        if let Some(cwd) = &cwd
            && !is_relative_inside(cwd)
        {
            return Err(error_at(
                name_at,
                format!(
                    "gate {name:?}: cwd {} must be a relative path inside the worktree",
                    cwd.display()
                ),
            ));
        }
        let env = gate.env.unwrap_or_default();
        if let Some(key) = env.keys().find(|key| !is_valid_env_name(key)) {
            return Err(error_at(
                name_at,
                format!(
                    "gate {name:?}: env key {key:?} is not a variable name: use letters, digits and '_', not starting with a digit"
                ),
            ));
        }
        let inputs = gate.inputs.unwrap_or_default();
        if let Some(input) = inputs.iter().find(|input| !is_relative_inside(Path::new(input))) {
            return Err(error_at(
                name_at,
                format!(
                    "gate {name:?}: input {input:?} must be a relative path or glob inside the worktree"
                ),
            ));
        }
        check_junit(name, name_at, gate.junit.as_deref())?;
        let kind = gate.kind.unwrap_or_else(|| infer_kind(&command));
        let tests_by_exit_code = tests_by_exit_code(name, kind, gate.tests.as_ref())?;
        gate_lines.insert(name.clone(), text[..name_at.min(text.len())].matches('\n').count() + 1);
        gates.push(GateSpec {
            name: gate.name.into_inner(),
            kind,
            command,
            required: gate.required.unwrap_or(true),
            timeout: gate.timeout_secs.map_or(GateSpec::DEFAULT_TIMEOUT, Duration::from_secs),
            cwd,
            env,
            inputs,
            allow_no_tests: gate.allow_no_tests.unwrap_or(false),
            tests_by_exit_code,
            junit: gate.junit,
        });
    }
    let detect = file.detect.unwrap_or_default();
    let mut detect_exclude = Vec::new();
    for name in detect.exclude.unwrap_or_default() {
        if !GateSpec::is_valid_name(name.get_ref()) {
            let message = format!(
                "[detect] exclude: {:?} is not a gate name; use the names `omk gates list` shows",
                name.get_ref()
            );
            return Err(error_at(name.span().start, message));
        }
        detect_exclude.push(name.into_inner());
    }
    let (cache_env_keys, shared_builds) =
        file.cache.map_or((None, None), |it| (it.env, it.shared_builds));
    let mut cache_env = Vec::new();
    for key in cache_env_keys.unwrap_or_default() {
        if !is_valid_env_name(key.get_ref()) {
            let message = format!("[cache] env: {:?} is not a variable name", key.get_ref());
            return Err(error_at(key.span().start, message));
        }
        cache_env.push(key.into_inner());
    }
    Ok(GateConfig {
        gates,
        gate_lines,
        detect: detect.enabled.unwrap_or(true),
        detect_exclude,
        cache_env,
        shared_builds: shared_builds.unwrap_or(true),
    })
}

/// Reads a gate's `command`: a non-empty shell line or argv array.
fn gate_command(
    name: &str,
    command: toml::Spanned<RawCommand>,
) -> Result<GateCommand, ConfigError> {
    let command_at = command.span().start;
    let command = match command.into_inner() {
        RawCommand::Line(line) if line.trim().is_empty() => None,
        RawCommand::Line(line) => Some(GateCommand::Shell(line)),
        RawCommand::Argv(argv) if argv.first().is_none_or(|program| program.is_empty()) => None,
        RawCommand::Argv(argv) => Some(GateCommand::Argv(argv)),
    };
    command.ok_or_else(|| ConfigError {
        offset: command_at,
        message: format!(
            "gate {name:?} has an empty command: give a shell line or a non-empty argv array"
        ),
    })
}

/// Checks a gate's `junit` key: a relative path or valid glob inside the worktree.
fn check_junit(name: &str, name_at: usize, junit: Option<&str>) -> Result<(), ConfigError> {
    match junit {
        Some(junit)
            if !is_relative_inside(Path::new(junit)) || globset::Glob::new(junit).is_err() =>
        {
            Err(ConfigError {
                offset: name_at,
                message: format!(
                    "gate {name:?}: junit {junit:?} must be a relative path or glob inside the worktree, such as \"target/nextest/ci/junit.xml\""
                ),
            })
        }
        _ => Ok(()),
    }
}

/// Reads a gate's `tests` key: `"counted"` (the default) or `"exit-code"`, which only a test gate
/// may declare.
fn tests_by_exit_code(
    name: &str,
    kind: GateKind,
    tests: Option<&toml::Spanned<String>>,
) -> Result<bool, ConfigError> {
    let error_at = |offset: usize, message: String| ConfigError { offset, message };
    match tests.map(|it| (it.get_ref().as_str(), it)) {
        None | Some(("counted", _)) => Ok(false),
        Some(("exit-code", _)) if kind == GateKind::Test => Ok(true),
        Some(("exit-code", tests)) => Err(error_at(
            tests.span().start,
            format!(
                "gate {name:?} is of kind {kind}: tests = \"exit-code\" applies to test gates; set kind = \"test\" if it runs tests"
            ),
        )),
        Some((other, tests)) => Err(error_at(
            tests.span().start,
            format!(
                "gate {name:?}: tests = {other:?} is not known: use \"counted\" (the default: omk reads the runner's summary) or \"exit-code\" (the exit code stands for the tests)"
            ),
        )),
    }
}

fn is_valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_relative_inside(path: &Path) -> bool {
    path.components().all(|it| matches!(it, Component::Normal(_) | Component::CurDir))
}

/// The gate sections; other top-level keys are ignored here (see [`parse_config`]).
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    gates: Vec<RawGate>,
    #[serde(default)]
    detect: Option<RawDetect>,
    #[serde(default)]
    cache: Option<RawCache>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    name: toml::Spanned<String>,
    command: toml::Spanned<RawCommand>,
    kind: Option<GateKind>,
    required: Option<bool>,
    timeout_secs: Option<u64>,
    cwd: Option<String>,
    env: Option<BTreeMap<String, String>>,
    inputs: Option<Vec<String>>,
    allow_no_tests: Option<bool>,
    tests: Option<toml::Spanned<String>>,
    junit: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDetect {
    enabled: Option<bool>,
    exclude: Option<Vec<toml::Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    env: Option<Vec<toml::Spanned<String>>>,
    shared_builds: Option<bool>,
}

enum RawCommand {
    Line(String),
    Argv(Vec<String>),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = RawCommand;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a shell command line string or an array of strings (argv)")
            }

            fn visit_str<E: de::Error>(self, line: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Line(line.to_owned()))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    argv.push(arg);
                }
                Ok(RawCommand::Argv(argv))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &str) {
        let actual = match parse_config(text) {
            Ok(config) => config
                .gates
                .iter()
                .map(|gate| {
                    format!(
                        "{} {} {:?} required={} timeout={}s cwd={:?}",
                        gate.name,
                        gate.kind,
                        gate.command.argv(),
                        gate.required,
                        gate.timeout.as_secs(),
                        gate.cwd
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(err) => {
                let line = text[..err.offset].matches('\n').count() + 1;
                let column =
                    text[..err.offset].rsplit('\n').next().map_or(0, |it| it.chars().count()) + 1;
                format!("error: {line}:{column}: {err}")
            }
        };
        assert_eq!(actual, expect);
    }

    #[test]
    fn valid_configs() {
        check("", "");
        // The sections other crates parse are accepted and left to them.
        check("[worktree]\ncopy = []\n[review]\nmax_files = 1\n[oracle]\ndocs = []\n", "");
        check(
            "[[gates]]\nname = \"test\"\ncommand = \"sh test.sh\"\nkind = \"test\"\n\n[[gates]]\nname = \"lint\"\ncommand = [\"cargo\", \"clippy\"]\nrequired = false\ntimeout_secs = 60\ncwd = \"sub\"\n",
            "test test [\"sh\", \"-c\", \"sh test.sh\"] required=true timeout=1800s cwd=None\n\
             lint lint [\"cargo\", \"clippy\"] required=false timeout=60s cwd=Some(\"sub\")",
        );
        // Without `kind`, the command says what the gate is; `kind` overrides it.
        check(
            "[[gates]]\nname = \"unit\"\ncommand = \"cargo nextest run\"\n[[gates]]\nname = \"x\"\ncommand = \"pytest\"\nkind = \"other\"\n[[gates]]\nname = \"v\"\ncommand = \"true\"\n",
            "unit test [\"sh\", \"-c\", \"cargo nextest run\"] required=true timeout=1800s cwd=None\n\
             x other [\"sh\", \"-c\", \"pytest\"] required=true timeout=1800s cwd=None\n\
             v other [\"sh\", \"-c\", \"true\"] required=true timeout=1800s cwd=None",
        );
        let config =
            parse_config("[[gates]]\nname = \"t\"\ncommand = \"./run-tests\"\nkind = \"test\"\ntests = \"exit-code\"\n")
                .expect("valid config");
        assert!(config.gates[0].tests_by_exit_code);
        let config = parse_config(
            "[detect]\nenabled = false\nexclude = [\"cargo-fmt\"]\n[cache]\nenv = [\"DB_URL\"]\n\n[[gates]]\nname = \"t\"\ncommand = \"x\"\nenv = { RUST_LOG = \"info\" }\ninputs = [\"src/**\"]\nallow_no_tests = true\n",
        )
        .expect("valid config");
        assert!(!config.detect);
        assert_eq!(config.detect_exclude, ["cargo-fmt"]);
        assert_eq!(config.cache_env, ["DB_URL"]);
        assert!(config.shared_builds, "shared builds are on unless [cache] says otherwise");
        assert_eq!(config.gate_lines.get("t"), Some(&8));
        let gate = &config.gates[0];
        assert_eq!(gate.env.get("RUST_LOG").map(String::as_str), Some("info"));
        assert_eq!(
            (gate.inputs.as_slice(), gate.allow_no_tests),
            (&["src/**".to_owned()][..], true)
        );
    }

    #[test]
    fn cache_shared_builds_turns_warm_builds_off() {
        let config = parse_config("[cache]\nshared_builds = false\n").expect("valid config");
        assert!(!config.shared_builds);
        check(
            "[cache]\nshared_builds = \"no\"\n",
            "error: 2:17: invalid type: string \"no\", expected a boolean",
        );
    }

    #[test]
    fn invalid_configs_name_line_and_column() {
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"x\"\ntimout = 3\n",
            "error: 4:1: unknown field `timout`, expected one of `name`, `command`, `kind`, `required`, `timeout_secs`, `cwd`, `env`, `inputs`, `allow_no_tests`, `tests`, `junit`",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"./check\"\ntests = \"exit-code\"\n",
            "error: 4:9: gate \"t\" is of kind other: tests = \"exit-code\" applies to test gates; set kind = \"test\" if it runs tests",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"cargo test\"\ntests = \"exit\"\n",
            "error: 4:9: gate \"t\": tests = \"exit\" is not known: use \"counted\" (the default: omk reads the runner's summary) or \"exit-code\" (the exit code stands for the tests)",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = 3\n",
            "error: 3:11: invalid type: integer `3`, expected a shell command line string or an array of strings (argv)",
        );
        check("[[gates]]\nname = \"t\"\n", "error: 1:1: missing field `command`");
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"x\"\nkind = \"tests\"\n",
            "error: 4:8: unknown variant `tests`, expected one of `test`, `lint`, `fmt`, `build`, `security`, `other`",
        );
        check(
            "[[gates]]\nname = \"a b\"\ncommand = \"x\"\n",
            "error: 2:8: invalid gate name \"a b\": use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"x\"\n[[gates]]\nname = \"t\"\ncommand = \"y\"\n",
            "error: 5:8: duplicate gate name \"t\": gate names must be unique",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = []\n",
            "error: 3:11: gate \"t\" has an empty command: give a shell line or a non-empty argv array",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"x\"\ncwd = \"../up\"\n",
            "error: 2:8: gate \"t\": cwd ../up must be a relative path inside the worktree",
        );
        check("[gates\n", "error: 1:7: unclosed table, expected `]`");
        // Unknown top-level tables are for the caller, which knows every section, to report.
        check("[agnet]\n", "");
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"x\"\nenv = { \"A-B\" = \"1\" }\n",
            "error: 2:8: gate \"t\": env key \"A-B\" is not a variable name: use letters, digits and '_', not starting with a digit",
        );
        check(
            "[[gates]]\nname = \"t\"\ncommand = \"x\"\ninputs = [\"/etc\"]\n",
            "error: 2:8: gate \"t\": input \"/etc\" must be a relative path or glob inside the worktree",
        );
        check(
            "[detect]\nenabled = \"no\"\n",
            "error: 2:11: invalid type: string \"no\", expected a boolean",
        );
        check(
            "[detect]\nexclude = [\"ok\", \"no way\"]\n",
            "error: 2:18: [detect] exclude: \"no way\" is not a gate name; use the names `omk gates list` shows",
        );
        check(
            "[cache]\nenvs = []\n",
            "error: 2:1: unknown field `envs`, expected `env` or `shared_builds`",
        );
    }
}
