//! What a gate checks, inferred from its command: the one place omk decides a gate's kind when
//! `omk.toml` does not say (`--gate`, a `[[gates]]` table without `kind`).

use std::path::Path;

use omk_events::GateKind;

use crate::spec::GateCommand;

/// Returns the kind of gate `command` is: `test` when any step of it runs a test runner, else
/// `lint`, `fmt` or `build` for a step that runs one of those tools, else `other`.
///
/// A shell line is cut into its steps at `&&`, `||`, `;`, `|` and newlines; in each step,
/// variable assignments (`RUST_LOG=1`) and wrappers (`env`, `time`, `nice`, `timeout 60`,
/// `npx`, `uv run`, `poetry run`, `bundle exec`, …) are skipped, and the program is matched by
/// its file name (`./gradlew`, `vendor/bin/phpunit`). The test runners are cargo test and
/// nextest, pytest (`python -m pytest`, `py.test`), `python -m unittest`, go test, the `test`
/// script of npm, pnpm, yarn and bun (`npm test`, `npm run test`, `test:unit`), jest, vitest,
/// mocha, ava, `node --test`, deno and bun test, Maven and Gradle (`test`, `verify`, `check`),
/// ctest, rspec, `rake test`, phpunit, pest, dotnet test, `make test`/`check`, `just test`,
/// tox and nox.
pub fn infer_kind(command: &GateCommand) -> GateKind {
    let steps: Vec<Vec<String>> = match command {
        GateCommand::Argv(argv) => vec![argv.clone()],
        GateCommand::Shell(line) => shell_steps(line),
    };
    let kinds: Vec<GateKind> = steps.iter().map(|words| step_kind(program_words(words))).collect();
    [GateKind::Test, GateKind::Lint, GateKind::Fmt, GateKind::Build]
        .into_iter()
        .find(|kind| kinds.contains(kind))
        .unwrap_or(GateKind::Other)
}

/// Returns the kind of one step, given its words from the program on.
fn step_kind(words: &[String]) -> GateKind {
    let Some((program, args)) = words.split_first() else {
        return GateKind::Other;
    };
    let program = program_name(program);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sub = args.iter().copied().find(|it| !it.starts_with('-') && !it.starts_with('+'));
    let has = |word: &str| args.contains(&word);
    let is_test_target = |it: &str| matches!(it, "test" | "tests" | "check" | "verify");
    match program.as_str() {
        "cargo" => match sub {
            Some("test" | "t") => GateKind::Test,
            Some("nextest") => GateKind::Test,
            Some("clippy") => GateKind::Lint,
            Some("fmt") => GateKind::Fmt,
            Some("build" | "b" | "check" | "c") => GateKind::Build,
            _ => GateKind::Other,
        },
        "pytest" | "py.test" | "tox" | "nox" | "jest" | "vitest" | "mocha" | "ava" | "ctest"
        | "rspec" | "phpunit" | "pest" => GateKind::Test,
        "python" | "python3" if has("pytest") || has("unittest") => GateKind::Test,
        "go" => match sub {
            Some("test") => GateKind::Test,
            Some("vet") => GateKind::Lint,
            Some("build") => GateKind::Build,
            _ => GateKind::Other,
        },
        "npm" | "pnpm" | "yarn" | "bun" => {
            let script = if sub == Some("run") || sub == Some("run-script") {
                args.iter().copied().filter(|it| !it.starts_with('-')).nth(1)
            } else {
                sub
            };
            match script {
                Some(script) if script == "t" || is_script(script, "test") => GateKind::Test,
                Some(script) if is_script(script, "lint") => GateKind::Lint,
                Some(script) if is_script(script, "build") => GateKind::Build,
                _ => GateKind::Other,
            }
        }
        "node" if has("--test") => GateKind::Test,
        "deno" if sub == Some("test") => GateKind::Test,
        "mvn" | "mvnw" | "gradle" | "gradlew" => {
            if args.iter().any(|it| is_test_target(it) || it.ends_with(":test")) {
                GateKind::Test
            } else if args.iter().any(|it| matches!(*it, "compile" | "package" | "build")) {
                GateKind::Build
            } else {
                GateKind::Other
            }
        }
        "rake" if sub.is_some_and(|it| is_script(it, "test") || it == "spec") => GateKind::Test,
        "dotnet" if sub == Some("test") => GateKind::Test,
        "dotnet" if sub == Some("build") => GateKind::Build,
        "make" | "just" => match sub {
            Some(target) if is_test_target(target) || is_script(target, "test") => GateKind::Test,
            Some(target) if is_script(target, "lint") => GateKind::Lint,
            _ => GateKind::Other,
        },
        "eslint" | "ruff" | "flake8" | "pylint" | "mypy" | "golangci-lint" | "shellcheck"
        | "clippy-driver" => match (program.as_str(), sub) {
            ("ruff", Some("format")) => GateKind::Fmt,
            _ => GateKind::Lint,
        },
        "rustfmt" | "prettier" | "black" | "gofmt" | "isort" => GateKind::Fmt,
        _ => GateKind::Other,
    }
}

/// Returns whether the script or target `name` is `base` or one of its variants (`test:unit`,
/// `test-all`, `tests`).
fn is_script(name: &str, base: &str) -> bool {
    name.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest == "s" || rest.starts_with([':', '-', '_']))
}

/// Returns the program's file name without a version suffix (`python3.12` is `python3`).
fn program_name(program: &str) -> String {
    let name = Path::new(program).file_name().map_or(program.into(), |it| it.to_string_lossy());
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    match name.split_once('.') {
        Some((base, version))
            if base.starts_with("python") && version.chars().all(|c| c.is_ascii_digit()) =>
        {
            base.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// Returns the words of a step from its program on: assignments and wrappers are skipped.
fn program_words(words: &[String]) -> &[String] {
    let mut rest = words;
    loop {
        let Some((first, tail)) = rest.split_first() else {
            return rest;
        };
        let name = program_name(first);
        let is_assignment =
            first.contains('=') && !first.starts_with('-') && !first.starts_with('=');
        rest = if is_assignment {
            tail
        } else {
            match name.as_str() {
                "env" | "time" | "nice" | "nohup" | "exec" | "command" | "xvfb-run" | "npx"
                | "pnpx" | "bunx" | "stdbuf" => skip_options(tail),
                "timeout" => skip_options(skip_options(tail).get(1..).unwrap_or_default()),
                "uv" | "poetry" | "pipenv" | "hatch" | "pdm" | "rye" | "bundle"
                    if tail.first().is_some_and(|it| it == "run" || it == "exec") =>
                {
                    skip_options(&tail[1..])
                }
                _ => return rest,
            }
        };
    }
}

/// Returns `words` without its leading options (`-n 10` counts as one option and its value
/// only when the value is a number).
fn skip_options(words: &[String]) -> &[String] {
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        if !first.starts_with('-') {
            break;
        }
        rest = match tail.first() {
            Some(value) if value.chars().all(|c| c.is_ascii_digit()) => &tail[1..],
            _ => tail,
        };
    }
    rest
}

/// Cuts a shell line into its steps, each a list of words with simple quoting removed.
fn shell_steps(line: &str) -> Vec<Vec<String>> {
    let mut steps = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let end_word = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => word.extend(chars.next()),
            (None, ' ' | '\t') => end_word(&mut word, &mut words),
            (None, ';' | '|' | '&' | '\n' | '(' | ')') => {
                end_word(&mut word, &mut words);
                if !words.is_empty() {
                    steps.push(std::mem::take(&mut words));
                }
            }
            (None, c) => word.push(c),
        }
    }
    end_word(&mut word, &mut words);
    if !words.is_empty() {
        steps.push(words);
    }
    // `sh -c 'cargo test'` runs the quoted line: its steps are the gate's.
    let mut expanded = Vec::new();
    for step in steps {
        match step.as_slice() {
            [shell, flag, script, ..]
                if matches!(shell.as_str(), "sh" | "bash") && flag == "-c" =>
            {
                expanded.extend(shell_steps(script));
            }
            _ => expanded.push(step),
        }
    }
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expect: GateKind) {
        assert_eq!(infer_kind(&GateCommand::Shell(line.to_owned())), expect, "{line}");
    }

    #[test]
    fn test_runners_are_test_gates() {
        for line in [
            "cargo test",
            "cargo test --workspace --lib",
            "cargo +nightly test",
            "cargo nextest run --workspace",
            "RUST_LOG=info cargo nextest run",
            "pytest -q",
            "python -m pytest tests/",
            "python3.12 -m unittest discover",
            "uv run pytest",
            "poetry run pytest -x",
            "go test ./...",
            "npm test",
            "npm run test",
            "pnpm test:unit",
            "yarn run test -- --watch=false",
            "bun test",
            "npx jest --ci",
            "npx vitest run",
            "./node_modules/.bin/mocha",
            "node --test",
            "mvn -B test",
            "./mvnw verify",
            "./gradlew test",
            "gradle :core:test",
            "ctest --output-on-failure",
            "bundle exec rspec",
            "bundle exec rake test",
            "vendor/bin/phpunit",
            "dotnet test",
            "make test",
            "make -j4 check",
            "just test",
            "tox -e py312",
            "nox -s tests",
            "cd sub && cargo test",
            "cargo build && cargo test",
            "timeout 600 cargo test",
            "env CI=1 npm test",
            "sh -c 'cargo test --lib'",
            "bash -c \"pytest -q\"",
        ] {
            check(line, GateKind::Test);
        }
        let argv = GateCommand::of(&["cargo", "nextest", "run"]);
        assert_eq!(infer_kind(&argv), GateKind::Test);
    }

    #[test]
    fn other_commands_are_not_test_gates() {
        check("true", GateKind::Other);
        check("sh t.sh", GateKind::Other);
        check("./test.sh", GateKind::Other);
        check("echo cargo test", GateKind::Other);
        check("npm run start", GateKind::Other);
        check("make", GateKind::Other);
        check("cargo clippy --workspace -- -D warnings", GateKind::Lint);
        check("ruff check .", GateKind::Lint);
        check("npm run lint", GateKind::Lint);
        check("go vet ./...", GateKind::Lint);
        check("cargo fmt --all --check", GateKind::Fmt);
        check("ruff format --check", GateKind::Fmt);
        check("cargo build --release", GateKind::Build);
        check("cargo fmt --check && cargo clippy", GateKind::Lint);
        check("", GateKind::Other);
    }
}
