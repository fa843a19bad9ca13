//! Detecting the gates of a project from its files: Cargo, Node, Python, Go, Make and just.

use std::{
    ffi::OsStr,
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use omk_events::GateKind;

use crate::spec::{GateCommand, GateSpec};

/// A gate found by looking at the project's files, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedGate {
    /// The gate.
    pub spec: GateSpec,
    /// What in the project made omk choose it, such as "Cargo.toml; cargo-nextest on PATH".
    pub reason: String,
}

/// Returns the gates the project in `dir` implies, ecosystem by ecosystem, in a fixed order.
///
/// `path` is the `PATH` to look for optional tools on (cargo-nextest); omk-cli reads it.
/// Only the top of `dir` is read; every ecosystem found there contributes its gates.
pub fn detect_gates(dir: &Path, path: Option<&OsStr>) -> Vec<DetectedGate> {
    let mut gates = Vec::new();
    let mut add = |name: &str, kind: GateKind, argv: &[&str], reason: String| {
        gates.push(DetectedGate { spec: GateSpec::new(name, kind, GateCommand::of(argv)), reason });
    };
    let exists = |name: &str| dir.join(name).is_file();

    if exists("Cargo.toml") {
        add("cargo-fmt", GateKind::Fmt, &["cargo", "fmt", "--all", "--check"], "Cargo.toml".into());
        add(
            "cargo-clippy",
            GateKind::Lint,
            &["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
            "Cargo.toml".into(),
        );
        if find_program("cargo-nextest", path).is_some() {
            add(
                "cargo-test",
                GateKind::Test,
                &["cargo", "nextest", "run", "--workspace"],
                "Cargo.toml; cargo-nextest on PATH".into(),
            );
        } else {
            add(
                "cargo-test",
                GateKind::Test,
                &["cargo", "test", "--workspace"],
                "Cargo.toml; no cargo-nextest on PATH".into(),
            );
        }
    }

    if let Some(scripts) = package_scripts(&dir.join("package.json")) {
        let (manager, lockfile) = node_package_manager(dir);
        let why = |script: &str| match lockfile {
            Some(lockfile) => format!("package.json script {script:?}; {lockfile}"),
            None => format!("package.json script {script:?}; no lockfile, so npm"),
        };
        if scripts.iter().any(|it| it == "test") {
            add("node-test", GateKind::Test, &[manager, "run", "test"], why("test"));
        }
        if scripts.iter().any(|it| it == "lint") {
            add("node-lint", GateKind::Lint, &[manager, "run", "lint"], why("lint"));
        }
    }

    let pyproject = fs::read_to_string(dir.join("pyproject.toml")).unwrap_or_default();
    let python_marker = ["pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini"]
        .into_iter()
        .find(|name| exists(name));
    if let Some(marker) = python_marker {
        add("pytest", GateKind::Test, &["python3", "-m", "pytest"], marker.into());
        let ruff_config = ["ruff.toml", ".ruff.toml"].into_iter().find(|name| exists(name));
        let ruff_reason = match ruff_config {
            Some(config) => Some(config.to_owned()),
            None if pyproject.contains("[tool.ruff") => Some("pyproject.toml [tool.ruff]".into()),
            None => None,
        };
        if let Some(reason) = ruff_reason {
            add("ruff", GateKind::Lint, &["ruff", "check", "."], reason);
        }
    }

    if exists("go.mod") {
        add("go-vet", GateKind::Lint, &["go", "vet", "./..."], "go.mod".into());
        // -v prints one line per test, which is how omk counts them.
        add("go-test", GateKind::Test, &["go", "test", "-v", "./..."], "go.mod".into());
    }

    if let Some(makefile) =
        ["GNUmakefile", "makefile", "Makefile"].into_iter().find(|it| exists(it))
    {
        let text = fs::read_to_string(dir.join(makefile)).unwrap_or_default();
        for target in ["test", "check", "lint"] {
            if make_defines(&text, target) {
                let name = format!("make-{target}");
                let reason = format!("{makefile} target {target:?}");
                add(&name, target_kind(target), &["make", target], reason);
            }
        }
    }

    if let Some(justfile) = ["justfile", "Justfile", ".justfile"].into_iter().find(|it| exists(it))
    {
        let text = fs::read_to_string(dir.join(justfile)).unwrap_or_default();
        for recipe in ["test", "check", "lint"] {
            if just_defines(&text, recipe) {
                let name = format!("just-{recipe}");
                let reason = format!("{justfile} recipe {recipe:?}");
                add(&name, target_kind(recipe), &["just", recipe], reason);
            }
        }
    }
    gates
}

/// Returns the full path of `program` on `path`, if it is an executable file there.
pub fn find_program(program: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    let path = path?;
    std::env::split_paths(path).map(|dir| dir.join(program)).find(|candidate| {
        fs::metadata(candidate).is_ok_and(|it| it.is_file() && it.permissions().mode() & 0o111 != 0)
    })
}

fn target_kind(target: &str) -> GateKind {
    match target {
        "test" => GateKind::Test,
        "lint" => GateKind::Lint,
        _ => GateKind::Other,
    }
}

/// Returns the names of the scripts of `package.json`, leaving out npm's placeholder test script.
fn package_scripts(path: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(path).ok()?;
    let document: serde_json::Value = serde_json::from_str(&text).ok()?;
    let scripts = document.get("scripts")?.as_object()?;
    Some(
        scripts
            .iter()
            .filter(|(_, command)| {
                // `npm init` writes a test script that always fails.
                command.as_str().is_some_and(|it| !it.contains("Error: no test specified"))
            })
            .map(|(name, _)| name.clone())
            .collect(),
    )
}

/// Returns the package manager the lockfile in `dir` belongs to, and the lockfile.
fn node_package_manager(dir: &Path) -> (&'static str, Option<&'static str>) {
    [
        ("pnpm-lock.yaml", "pnpm"),
        ("yarn.lock", "yarn"),
        ("bun.lock", "bun"),
        ("bun.lockb", "bun"),
        ("package-lock.json", "npm"),
        ("npm-shrinkwrap.json", "npm"),
    ]
    .into_iter()
    .find(|(lockfile, _)| dir.join(lockfile).is_file())
    .map_or(("npm", None), |(lockfile, manager)| (manager, Some(lockfile)))
}

/// Returns whether a Makefile defines `target` as a rule (not a variable assignment).
fn make_defines(text: &str, target: &str) -> bool {
    text.lines().any(|line| {
        let Some((targets, rest)) = line.split_once(':') else { return false };
        !line.starts_with(['\t', ' ', '#'])
            && !rest.starts_with('=')
            && !targets.contains('=')
            && targets.split_whitespace().any(|it| it == target)
    })
}

/// Returns whether a justfile defines a recipe named `recipe`.
fn just_defines(text: &str, recipe: &str) -> bool {
    text.lines().any(|line| {
        let line = line.strip_prefix('@').unwrap_or(line);
        let Some(rest) = line.strip_prefix(recipe) else { return false };
        let Some((params, after)) = rest.split_once(':') else { return false };
        (params.is_empty() || params.starts_with(' ')) && !after.starts_with('=')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_and_just_targets() {
        let makefile = "X := 1\ntest: build\n\tcargo test\ncheck lint:\n# test:\nfoo: ; echo\n";
        assert!(make_defines(makefile, "test"));
        assert!(make_defines(makefile, "lint"));
        assert!(make_defines(makefile, "check"));
        assert!(!make_defines("test := 1\n", "test"));
        assert!(!make_defines("\ttest: x\n", "test"));
        let justfile = "set shell := [\"sh\"]\ntest *args:\n  cargo test\n@lint:\n  x\ntesting:\n";
        assert!(just_defines(justfile, "test"));
        assert!(just_defines(justfile, "lint"));
        assert!(!just_defines(justfile, "check"));
        assert!(!just_defines("test := \"1\"\n", "test"));
    }
}
