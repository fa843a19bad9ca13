//! The gate surface: the files that define what the gates check (gate configuration, CI files,
//! build and test configuration, tests), and its comparison between two git trees.
//!
//! The classification is deliberately broad: a change to `package.json` or a `Makefile` can
//! change what `npm test` or `make test` runs, so such files are surface too. A changed surface
//! is not a failure; it is evidence a person decides on.

use std::{collections::BTreeMap, path::Path, sync::LazyLock};

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest, Sha256};

use omk_events::GateSurfaceChecked;

use crate::{git::git_output, tree::hex};

/// Returned when a tree cannot be read to check its gate surface.
#[derive(Debug, thiserror::Error)]
#[error("read tree {tree} with git in {dir}: {message}")]
pub struct SurfaceError {
    /// The tree or commit.
    pub tree: String,
    /// The repository directory.
    pub dir: String,
    /// git's error output or the reason it did not start.
    pub message: String,
}

/// The patterns of the gate surface's configuration (omk's, CI's, the tools the gates run),
/// matched against paths relative to the repository root.
const CONFIG_PATTERNS: &[&str] = &[
    // omk's own gate configuration.
    "omk.toml",
    // CI configuration.
    ".github/workflows/**",
    ".github/actions/**",
    ".gitlab-ci.yml",
    ".gitlab/ci/**",
    ".circleci/**",
    ".buildkite/**",
    ".ci/**",
    "ci/**",
    ".travis.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".pre-commit-config.yaml",
    // Files that define what the detected gates run and how strictly.
    "Makefile",
    "GNUmakefile",
    "makefile",
    "justfile",
    "Justfile",
    ".justfile",
    "**/Cargo.toml",
    ".cargo/config.toml",
    ".cargo/config",
    ".config/nextest.toml",
    "**/clippy.toml",
    "**/.clippy.toml",
    "**/rustfmt.toml",
    "**/.rustfmt.toml",
    "deny.toml",
    "**/package.json",
    "**/jest.config.*",
    "**/vitest.config.*",
    "**/vitest.workspace.*",
    "**/.eslintrc*",
    "**/eslint.config.*",
    "**/tsconfig.json",
    "**/pyproject.toml",
    "**/setup.cfg",
    "**/pytest.ini",
    "**/tox.ini",
    "**/conftest.py",
    "**/ruff.toml",
    "**/.ruff.toml",
    "**/.golangci.yml",
    "**/.golangci.yaml",
];

/// The patterns of test files, the other part of the gate surface.
const TEST_PATTERNS: &[&str] = &[
    "tests/**",
    "test/**",
    "**/tests/**",
    "**/test/**",
    "**/__tests__/**",
    "**/spec/**",
    "**/testdata/**",
    "**/*_test.go",
    "**/test_*.py",
    "**/*_test.py",
    "**/*.test.*",
    "**/*.spec.*",
    "**/*_test.rs",
];

fn glob_set(patterns: &[&str]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).expect("the surface patterns are literals tested below"));
    }
    builder.build().expect("the surface patterns are literals tested below")
}

static CONFIG: LazyLock<GlobSet> = LazyLock::new(|| glob_set(CONFIG_PATTERNS));
static TESTS: LazyLock<GlobSet> = LazyLock::new(|| glob_set(TEST_PATTERNS));

/// Returns whether `path` (relative to the repository root, `/`-separated) is gate surface:
/// [gate configuration](is_gate_config) or a [test file](is_test_file).
pub fn is_gate_surface(path: &str) -> bool {
    is_gate_config(path) || is_test_file(path)
}

/// Returns whether `path` configures what the gates check: `omk.toml`, CI files, build and test
/// tool configuration (`Makefile`, `Cargo.toml`, `package.json`, `pytest.ini`, ...).
pub fn is_gate_config(path: &str) -> bool {
    CONFIG.is_match(path)
}

/// Returns whether `path` is a test file by its place or name (`tests/`, `*_test.go`,
/// `*.spec.ts`, ...).
pub fn is_test_file(path: &str) -> bool {
    TESTS.is_match(path)
}

/// Returns the scripts the gates run, such as `test.sh` in `sh test.sh` or `./ci/check`: they
/// define what the gates check, so they are gate surface too.
///
/// A script is the program when it is a relative path, or the first argument of an interpreter
/// (`sh`, `bash`, `python3`, `node`, …) given without options; `sh -n calc.sh` checks calc.sh
/// rather than running it, so calc.sh stays code.
pub fn files_named_by(gates: &[crate::GateSpec]) -> Vec<String> {
    const INTERPRETERS: &[&str] =
        &["sh", "bash", "dash", "zsh", "python", "python3", "node", "ruby", "perl", "deno", "bun"];
    let mut files: Vec<String> = Vec::new();
    for gate in gates {
        let argv = gate.command.argv();
        let words: Vec<&str> = match &gate.command {
            // One level of `sh -c LINE`: the words of the line, up to the first operator.
            crate::GateCommand::Shell(line) => line
                .split_whitespace()
                .take_while(|word| !matches!(*word, ";" | "&&" | "||" | "|"))
                .collect(),
            crate::GateCommand::Argv(_) => argv.iter().map(String::as_str).collect(),
        };
        let script = match words.as_slice() {
            [program, ..] if program.contains('/') => Some(*program),
            [interpreter, script, ..]
                if INTERPRETERS.contains(interpreter) && !script.starts_with('-') =>
            {
                Some(*script)
            }
            _ => None,
        };
        let Some(script) = script.map(|it| it.trim_start_matches("./")) else { continue };
        if script.starts_with('/') || script.contains("..") || script.contains('$') {
            continue;
        }
        files.push(match &gate.cwd {
            Some(cwd) => format!("{}/{script}", cwd.to_string_lossy()),
            None => script.to_owned(),
        });
    }
    files.sort();
    files.dedup();
    files
}

/// Compares the gate surface of the git trees (or commits) `base` and `proposed`, read with
/// `git ls-tree` in the repository or worktree at `dir`.
///
/// The surface is the files [`is_gate_surface`] names, plus `extra_files` (from
/// [`files_named_by`]). Its digest is the SHA-256 of its files' paths, modes and blob ids.
pub fn check_gate_surface(
    dir: &Path,
    base: &str,
    proposed: &str,
    extra_files: &[String],
    env: &[(String, String)],
) -> Result<GateSurfaceChecked, SurfaceError> {
    let base_files = surface_files(dir, base, extra_files, env)?;
    let proposed_files = surface_files(dir, proposed, extra_files, env)?;
    let mut changed_paths: Vec<String> = base_files
        .iter()
        .filter(|(path, entry)| proposed_files.get(*path) != Some(entry))
        .map(|(path, _)| path.clone())
        .chain(proposed_files.keys().filter(|path| !base_files.contains_key(*path)).cloned())
        .collect();
    changed_paths.sort();
    changed_paths.dedup();
    Ok(GateSurfaceChecked {
        tree_id: proposed.to_owned(),
        base_digest: digest(&base_files),
        proposed_digest: digest(&proposed_files),
        changed_paths,
    })
}

/// Returns the surface files of `tree`: path → `mode blob-id`.
fn surface_files(
    dir: &Path,
    tree: &str,
    extra_files: &[String],
    env: &[(String, String)],
) -> Result<BTreeMap<String, String>, SurfaceError> {
    let error = |message: String| SurfaceError {
        tree: tree.to_owned(),
        dir: dir.display().to_string(),
        message,
    };
    let stdout =
        git_output(dir, env, &["ls-tree", "-r", "-z", "--full-tree", tree]).map_err(error)?;
    let mut files = BTreeMap::new();
    for record in stdout.split(|byte| *byte == 0).filter(|it| !it.is_empty()) {
        let record = String::from_utf8_lossy(record);
        // `<mode> <type> <object>\t<path>`
        let Some((meta, path)) = record.split_once('\t') else { continue };
        let mut fields = meta.split(' ');
        let (Some(mode), Some(_kind), Some(object)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if is_gate_surface(path) || extra_files.iter().any(|it| it == path) {
            files.insert(path.to_owned(), format!("{mode} {object}"));
        }
    }
    Ok(files)
}

fn digest(files: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (path, entry) in files {
        hasher.update(format!("{entry}\t{path}\n").as_bytes());
    }
    hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_gate_surface() {
        let surface = [
            "omk.toml",
            ".github/workflows/ci.yml",
            "Makefile",
            "Cargo.toml",
            "crates/a/Cargo.toml",
            "package.json",
            "web/package.json",
            "pyproject.toml",
            "tests/it/main.rs",
            "crates/a/tests/x.rs",
            "pkg/calc_test.go",
            "src/app.test.ts",
            "tests/test_calc.py",
            ".config/nextest.toml",
        ];
        for path in surface {
            assert!(is_gate_surface(path), "{path} is surface");
        }
        let not_surface = ["src/lib.rs", "README.md", "calc.sh", "docs/testing.md", "latest/x.rs"];
        for path in not_surface {
            assert!(!is_gate_surface(path), "{path} is not surface");
        }
    }
}
