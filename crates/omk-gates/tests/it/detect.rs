//! Detection and the plan of configured and detected gates, on project directories.

use std::{fs, path::Path};

use omk_gates::{GateConfig, GateSpec};

use crate::TestResult;

/// Writes `files` (`path`, content) into a fresh directory, detects its gates with a PATH that
/// has only `tools` on it, plans them with `omk_toml`, and returns `omk gates list`'s lines.
fn check(files: &[(&str, &str)], tools: &[&str], omk_toml: &str, expect: &str) -> TestResult {
    let dir = tempfile::tempdir()?;
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        fs::write(path, content)?;
    }
    let bin = dir.path().join("bin");
    fs::create_dir(&bin)?;
    for tool in tools {
        fs::write(bin.join(tool), "#!/bin/sh\n")?;
        std::os::unix::fs::PermissionsExt::set_mode(
            &mut fs::metadata(bin.join(tool))?.permissions(),
            0o755,
        );
        fs::set_permissions(bin.join(tool), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    let detected = omk_gates::detect_gates(dir.path(), Some(bin.as_os_str()));
    let config = if omk_toml.is_empty() {
        GateConfig::default()
    } else {
        omk_gates::parse_config(omk_toml)?
    };
    let extra = [GateSpec::shell("gate-1", "true")];
    let plan = omk_gates::plan_gates(&config, detected, &extra);
    let actual: Vec<String> = plan
        .entries
        .iter()
        .map(|entry| {
            let state = match &entry.skipped {
                None => "run".to_owned(),
                Some(why) => format!("skip ({why})"),
            };
            format!(
                "{} {} [{}] {state}; {}",
                entry.spec.name,
                entry.spec.kind,
                entry.spec.command.argv().join(" "),
                entry.source.describe()
            )
        })
        .collect();
    assert_eq!(actual.join("\n"), expect);
    Ok(())
}

#[test]
fn every_ecosystem_of_a_project_is_detected() -> TestResult {
    check(
        &[
            ("Cargo.toml", "[package]\n"),
            (
                "package.json",
                r#"{"scripts": {"test": "vitest run", "lint": "eslint .", "build": "tsc"}}"#,
            ),
            ("pnpm-lock.yaml", ""),
            ("pyproject.toml", "[tool.ruff]\nline-length = 100\n"),
            ("go.mod", "module example.com/m\n"),
            ("Makefile", "VERSION := 1\ntest: build\n\tgo test ./...\nlint:\n\ttrue\n"),
            ("justfile", "check:\n  cargo check\n"),
        ],
        &["cargo-nextest"],
        "",
        "cargo-fmt fmt [cargo fmt --all --check] run; detected: Cargo.toml\n\
         cargo-clippy lint [cargo clippy --workspace --all-targets -- -D warnings] run; detected: Cargo.toml\n\
         cargo-test test [cargo nextest run --workspace] run; detected: Cargo.toml; cargo-nextest on PATH\n\
         node-test test [pnpm run test] run; detected: package.json script \"test\"; pnpm-lock.yaml\n\
         node-lint lint [pnpm run lint] run; detected: package.json script \"lint\"; pnpm-lock.yaml\n\
         pytest test [python3 -m pytest] run; detected: pyproject.toml\n\
         ruff lint [ruff check .] run; detected: pyproject.toml [tool.ruff]\n\
         go-vet lint [go vet ./...] run; detected: go.mod\n\
         go-test test [go test -v ./...] run; detected: go.mod\n\
         make-test test [make test] run; detected: Makefile target \"test\"\n\
         make-lint lint [make lint] run; detected: Makefile target \"lint\"\n\
         just-check other [just check] run; detected: justfile recipe \"check\"\n\
         gate-1 other [sh -c true] run; command line",
    )
}

#[test]
fn without_nextest_cargo_test_runs_and_npm_is_the_default_manager() -> TestResult {
    check(
        &[
            ("Cargo.toml", "[package]\n"),
            (
                "package.json",
                r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1", "lint": "x"}}"#,
            ),
            ("yarn.lock", ""),
            ("setup.py", ""),
        ],
        &[],
        "",
        "cargo-fmt fmt [cargo fmt --all --check] run; detected: Cargo.toml\n\
         cargo-clippy lint [cargo clippy --workspace --all-targets -- -D warnings] run; detected: Cargo.toml\n\
         cargo-test test [cargo test --workspace] run; detected: Cargo.toml; no cargo-nextest on PATH\n\
         node-lint lint [yarn run lint] run; detected: package.json script \"lint\"; yarn.lock\n\
         pytest test [python3 -m pytest] run; detected: setup.py\n\
         gate-1 other [sh -c true] run; command line",
    )?;
    check(
        &[("package.json", "{\"scripts\":{\"test\":\"node --test\"}}")],
        &[],
        "",
        "node-test test [npm run test] run; detected: package.json script \"test\"; no lockfile, so npm\n\
         gate-1 other [sh -c true] run; command line",
    )
}

#[test]
fn configured_gates_replace_or_extend_detected_ones() -> TestResult {
    let files = [("Cargo.toml", "[package]\n")];
    check(
        &files,
        &[],
        "[detect]\nexclude = [\"cargo-fmt\"]\n\n[[gates]]\nname = \"cargo-test\"\nkind = \"test\"\ncommand = \"cargo test --lib\"\n\n[[gates]]\nname = \"audit\"\nkind = \"security\"\ncommand = [\"cargo\", \"audit\"]\n",
        "cargo-test test [sh -c cargo test --lib] run; omk.toml:5, replacing the detected gate (Cargo.toml; no cargo-nextest on PATH)\n\
         audit security [cargo audit] run; omk.toml:10\n\
         cargo-fmt fmt [cargo fmt --all --check] skip ([detect] exclude in omk.toml); detected: Cargo.toml\n\
         cargo-clippy lint [cargo clippy --workspace --all-targets -- -D warnings] run; detected: Cargo.toml\n\
         gate-1 other [sh -c true] run; command line",
    )?;
    check(
        &files,
        &[],
        "[detect]\nenabled = false\n\n[[gates]]\nname = \"t\"\ncommand = \"true\"\n",
        "t other [sh -c true] run; omk.toml:5\n\
         cargo-fmt fmt [cargo fmt --all --check] skip ([detect] enabled = false in omk.toml); detected: Cargo.toml\n\
         cargo-clippy lint [cargo clippy --workspace --all-targets -- -D warnings] skip ([detect] enabled = false in omk.toml); detected: Cargo.toml\n\
         cargo-test test [cargo test --workspace] skip ([detect] enabled = false in omk.toml); detected: Cargo.toml; no cargo-nextest on PATH\n\
         gate-1 other [sh -c true] run; command line",
    )
}
