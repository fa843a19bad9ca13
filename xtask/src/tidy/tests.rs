//! Tests of tidy: the real workspace, a fixture workspace with an illegal edge, and each check on
//! small temporary trees.

use std::{collections::BTreeSet, fs, path::Path};

use anyhow::{Context, Result};
use tempfile::TempDir;

use super::{
    Package, Problem, Workspace, check_banned_patterns, check_crate_docs, check_dependency_table,
    check_purity, check_trailing_whitespace, dependency_table_problems, impure_uses,
    load_workspace,
    manifest::manifest_problems,
    parse_dependency_table, parse_metadata,
    source::{
        MAX_FILE_LINES, MAX_FN_LINES, check_layout_literals, layout_problems, size_problems,
        unsafe_problems,
    },
};

/// Runs tidy on the omk workspace itself; this is what makes tidy part of `cargo test`.
#[test]
fn tidy() -> Result<()> {
    let problems = super::run(&crate::project_root()?)?;
    let listing: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "tidy found problems:\n{}", listing.join("\n"));
    Ok(())
}

#[test]
fn illegal_edge_is_reported() -> Result<()> {
    let workspace = copy_fixture("illegal-edge")?;
    check_dependencies(
        workspace.path(),
        &["crates/omk-proof/Cargo.toml: omk-proof depends on omk-gates, \
             which ARCHITECTURE.md's dependency table does not allow"],
    )
}

#[test]
fn illegal_edge_passes_once_the_table_allows_it() -> Result<()> {
    let workspace = copy_fixture("illegal-edge")?;
    let architecture = workspace.path().join("ARCHITECTURE.md");
    let text = fs::read_to_string(&architecture)?;
    let allowed =
        text.replace("| omk-proof | omk-events |", "| omk-proof | omk-events, omk-gates |");
    assert_ne!(allowed, text, "the fixture's omk-proof row changed");
    fs::write(&architecture, allowed)?;
    check_dependencies(workspace.path(), &[])
}

#[test]
fn metadata_keeps_only_workspace_path_dependencies() -> Result<()> {
    let json = r#"{
        "workspace_root": "/ws",
        "workspace_members": ["a-id", "b-id"],
        "packages": [
            {"id": "a-id", "name": "a", "manifest_path": "/ws/crates/a/Cargo.toml", "dependencies": [
                {"name": "b", "kind": "dev", "path": "/ws/crates/b"},
                {"name": "serde", "kind": null},
                {"name": "outside", "kind": null, "path": "/elsewhere/outside"}
            ]},
            {"id": "b-id", "name": "b", "manifest_path": "/ws/crates/b/Cargo.toml", "dependencies": [
                {"name": "a", "kind": null}
            ]}
        ]
    }"#;
    let workspace = parse_metadata(json)?;
    let packages: Vec<(&str, &str, Vec<&str>)> = workspace
        .packages
        .iter()
        .map(|package| {
            let dependencies = package.dependencies.iter().map(String::as_str).collect();
            (package.name.as_str(), package.manifest.as_str(), dependencies)
        })
        .collect();
    assert_eq!(
        packages,
        [("a", "crates/a/Cargo.toml", vec!["b"]), ("b", "crates/b/Cargo.toml", vec![])]
    );
    Ok(())
}

#[test]
fn table_parses_rows_and_dashes() -> Result<()> {
    let text = "\
# Title

<!-- tidy:dependency-table -->
| crate | may depend on |
| --- | --- |
| a | — |
| `b` | a |
| c | a, `b` |
<!-- /tidy:dependency-table -->
| d | a |
";
    let (rows, problems) = parse_dependency_table(text)
        .map_err(|problem| anyhow::anyhow!("the table did not parse: {problem}"))?;
    assert_eq!(problems, []);
    let parsed: Vec<(&str, usize, Vec<&str>)> = rows
        .iter()
        .map(|(name, row)| {
            (name.as_str(), row.line, row.allowed.iter().map(String::as_str).collect())
        })
        .collect();
    assert_eq!(parsed, [("a", 6, vec![]), ("b", 7, vec!["a"]), ("c", 8, vec!["a", "b"])]);
    Ok(())
}

#[test]
fn table_reports_malformed_rows() {
    check_table(
        "\
<!-- tidy:dependency-table -->
| crate | may depend on |
| --- | --- |
| a | — |
| a | — |
| b | a | extra |
not a row
| | a |
| c | a,, b |
<!-- /tidy:dependency-table -->
",
        &["a", "b", "c"],
        &[
            "ARCHITECTURE.md:5: a has more than one row in the dependency table",
            "ARCHITECTURE.md:6: expected 2 columns (crate | allowed crates), found 3",
            "ARCHITECTURE.md:7: expected a table row `| crate | allowed crates |`",
            "ARCHITECTURE.md:8: the row names no crate",
            "ARCHITECTURE.md:9: empty crate name in `a,, b`",
            "ARCHITECTURE.md: b is a workspace package but has no row in the dependency table",
        ],
    );
}

#[test]
fn table_without_markers() {
    check_table(
        "# Architecture\n",
        &["a"],
        &["ARCHITECTURE.md: there is no dependency table between \
           `<!-- tidy:dependency-table -->` and `<!-- /tidy:dependency-table -->`"],
    );
    check_table(
        "<!-- tidy:dependency-table -->\n| crate | deps |\n",
        &["a"],
        &["ARCHITECTURE.md:1: the dependency table is not closed with \
           `<!-- /tidy:dependency-table -->`"],
    );
}

#[test]
fn table_names_that_are_not_packages() {
    check_table(
        "\
<!-- tidy:dependency-table -->
| crate | may depend on |
| --- | --- |
| a | — |
| gone | a, missing |
<!-- /tidy:dependency-table -->
",
        &["a"],
        &[
            "ARCHITECTURE.md:5: the dependency table names gone, which is not a workspace package",
            "ARCHITECTURE.md:5: the dependency table names missing, which is not a workspace package",
        ],
    );
}

#[test]
fn crate_docs() -> Result<()> {
    check_tree(
        &[
            ("crates/good/Cargo.toml", ""),
            ("crates/good/src/lib.rs", "//! Good.\n//!\n//! It does not panic.\nmod a;\n"),
            ("crates/good/src/a.rs", "//! A module.\n"),
            ("crates/good/src/a/tests/helper.rs", "fn no_doc() {}\n"),
            ("crates/good/src/data/case.rs", "fn no_doc() {}\n"),
            ("crates/good/tests/it/main.rs", "fn no_doc() {}\n"),
            ("crates/no-invariant/Cargo.toml", ""),
            ("crates/no-invariant/src/lib.rs", "//! Does everything.\n// It does not matter.\n"),
            ("crates/no-lib/Cargo.toml", ""),
            ("crates/no-lib/src/main.rs", "fn main() {}\n"),
            ("crates/not-a-crate/src/lib.rs", "fn ignored() {}\n"),
        ],
        check_crate_docs,
        &[
            "crates/no-invariant/src/lib.rs: the crate docs have no invariant line saying what \
             the crate does not do",
            "crates/no-lib/Cargo.toml: the crate has no src/lib.rs: logic lives in a library, \
             main.rs only calls it",
            "crates/no-lib/src/main.rs:1: the file does not start with a `//!` doc line",
        ],
    )
}

#[test]
fn purity() -> Result<()> {
    let source = "\
//! Pure, it does not touch std::fs.
use std::{
    collections::BTreeMap,
    env,
};
use std::{fmt, io::{self, Read}};
// std::process is fine in a comment.
fn f() { let _ = std::fs::read(\"x\"); }
fn g() { let _ = (chrono::Utc::now(), std::time::Instant::now()); }
";
    let problems: Vec<String> =
        impure_uses("p.rs", source).iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "p.rs:2: `std::env` in a pure crate: take data, time and ids as parameters instead",
            "p.rs:8: `std::fs` in a pure crate: take data, time and ids as parameters instead",
            "p.rs:9: `Utc::now` in a pure crate: take data, time and ids as parameters instead",
            "p.rs:9: `Instant::now` in a pure crate: take data, time and ids as parameters instead",
        ]
    );
    check_tree(
        &[
            ("crates/omk-proof/src/lib.rs", "//! Pure.\n"),
            (
                "crates/omk-proof/src/clock.rs",
                "//! Clock.\nuse std::time::SystemTime;\nfn now() { SystemTime::now(); }\n",
            ),
            ("crates/omk-gates/src/lib.rs", "//! Impure.\nuse std::process;\n"),
        ],
        check_purity,
        &["crates/omk-proof/src/clock.rs:3: `SystemTime::now` in a pure crate: take data, time \
           and ids as parameters instead"],
    )
}

#[test]
fn banned_patterns() -> Result<()> {
    let ignored = concat!("#[ig", "nore]\n#[test]\nfn t() {}\n");
    let leftovers = concat!("//! X.\nfn f() {\n    db", "g!(1);\n    to", "do!()\n}\n");
    let placeholder = concat!("fn g() {\n    unimple", "mented!()\n}\n");
    let panicking = concat!("#[should", "_panic]\nfn t() {}\n");
    let commented = concat!("// Never db", "g!(x) here.\n");
    check_tree(
        &[
            ("crates/a/src/lib.rs", leftovers),
            ("crates/a/tests/it/main.rs", ignored),
            ("crates/a/tests/fixtures/f.rs", ignored),
            ("crates/a/target/debug/build/out.rs", ignored),
            ("tests/it/main.rs", panicking),
            ("xtask/src/main.rs", placeholder),
            ("xtask/src/other.rs", commented),
            ("docs/example.rs", ignored),
        ],
        check_banned_patterns,
        &[
            "crates/a/src/lib.rs:3: leftover dbg! macro",
            "crates/a/src/lib.rs:4: leftover todo! macro",
            "crates/a/tests/it/main.rs:1: ignored tests are not allowed: assert the current \
             behavior with a FIXME comment instead",
            "xtask/src/main.rs:2: leftover unimplemented! macro: return an error instead",
            "tests/it/main.rs:1: should-panic tests are not allowed: assert on the returned Err \
             instead",
        ],
    )
}

#[test]
fn manifests_inherit_lints() {
    check_manifest("[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n", &[]);
    check_manifest("lints.workspace = true\n[package]\nname = \"a\"\n", &[]);
    check_manifest("lints = { workspace = true }\n", &[]);
    check_manifest(
        "[package]\nname = \"a\"\n\n[lints]\nworkspace = false\n\n[lints.rust]\nworkspace = true\n",
        &["a/Cargo.toml: a does not inherit the workspace lints: add `[lints]` with \
           `workspace = true`"],
    );
}

#[test]
fn manifests_take_internal_crates_from_the_workspace() {
    check_manifest(
        r#"[package]
name = "a"

[dependencies]
b.workspace = true
c = { workspace = true, features = ["x"] }
serde = { version = "1", path = "../serde" } # Not internal.
d = { path = "../d", version = "0.1.0" }
renamed = { package = "e", path = "../e" }

[dependencies.f]
path = "../f"

[target.'cfg(unix)'.build-dependencies]
b = "0.1" # Registry version of an internal crate.

[dev-dependencies]
d = { path = "../d" } # Dev-dependencies may leave out the version.

[lints]
workspace = true
"#,
        &[
            "a/Cargo.toml:8: a's dependency on d does not use `workspace = true`: internal crates \
             come from [workspace.dependencies], with path and version",
            "a/Cargo.toml:9: a's dependency on e does not use `workspace = true`: internal crates \
             come from [workspace.dependencies], with path and version",
            "a/Cargo.toml:11: a's dependency on f does not use `workspace = true`: internal \
             crates come from [workspace.dependencies], with path and version",
            "a/Cargo.toml:15: a's dependency on b does not use `workspace = true`: internal \
             crates come from [workspace.dependencies], with path and version",
        ],
    );
}

#[test]
fn trailing_whitespace_outside_git() -> Result<()> {
    check_tree(
        &[
            ("Cargo.toml", "[workspace]\nmembers = [] \n"),
            ("README.md", "Line with a break  \nfine\n"),
            ("src/lib.rs", "//! Fine.\r\nfn f() {}\t\r\n"),
            ("notes.txt", "not checked \n"),
            ("target/debug/out.rs", "not checked \n"),
        ],
        check_trailing_whitespace,
        &[
            "Cargo.toml:2: trailing whitespace",
            "README.md:1: trailing whitespace",
            "src/lib.rs:2: trailing whitespace",
        ],
    )
}

/// Runs the dependency table check with `cargo metadata` on the workspace at `root`.
fn check_dependencies(root: &Path, expect: &[&str]) -> Result<()> {
    let workspace = load_workspace(root)?;
    let problems = check_dependency_table(root, &workspace)?;
    assert_eq!(render(&problems), expect);
    Ok(())
}

/// Checks an ARCHITECTURE.md text against a workspace of packages without dependencies.
fn check_table(architecture: &str, packages: &[&str], expect: &[&str]) {
    let workspace = Workspace {
        packages: packages
            .iter()
            .map(|name| Package {
                name: (*name).to_owned(),
                manifest: format!("crates/{name}/Cargo.toml"),
                dependencies: BTreeSet::new(),
            })
            .collect(),
    };
    assert_eq!(render(&dependency_table_problems(architecture, &workspace)), expect);
}

/// Checks the manifest `a/Cargo.toml` of package `a`, in a workspace of `a` to `f`.
fn check_manifest(text: &str, expect: &[&str]) {
    let internal: BTreeSet<&str> = ["a", "b", "c", "d", "e", "f"].into_iter().collect();
    assert_eq!(render(&manifest_problems("a", "a/Cargo.toml", text, &internal)), expect);
}

/// Writes `files` to a temporary directory, runs `check` on it and compares the problems.
fn check_tree(
    files: &[(&str, &str)],
    check: fn(&Path) -> Result<Vec<Problem>>,
    expect: &[&str],
) -> Result<()> {
    let root = TempDir::new()?;
    for (path, contents) in files {
        let path = root.path().join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, contents)?;
    }
    assert_eq!(render(&check(root.path())?), expect);
    Ok(())
}

fn render(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

/// Copies `xtask/tests/fixtures/<name>` to a temporary directory, so that cargo writes nothing
/// (no Cargo.lock, no target/) into the repository.
fn copy_fixture(name: &str) -> Result<TempDir> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(name);
    let destination = TempDir::new()?;
    copy_dir(&source, destination.path())
        .with_context(|| format!("failed to copy fixture {}", source.display()))?;
    Ok(destination)
}

fn copy_dir(source: &Path, destination: &Path) -> Result<()> {
    fs::create_dir_all(destination)?;
    for entry in fs::read_dir(source)? {
        let entry = entry?;
        let target = destination.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[test]
fn sizes_count_non_test_files_and_functions() {
    let long_body = "    let _ = 1;\n".repeat(MAX_FN_LINES - 1);
    let source = format!(
        "//! X.\nfn short() {{\n}}\n\npub(crate) async fn long() {{\n{long_body}}}\n\n\
         #[cfg(test)]\nmod tests {{\n    fn also_long() {{\n{long_body}{long_body}    }}\n}}\n"
    );
    assert_eq!(
        render(&size_problems("a.rs", &source)),
        [format!(
            "a.rs:5: fn long has {} lines, over {MAX_FN_LINES}: cut it at its phases",
            MAX_FN_LINES + 1
        )]
    );
    let long_file = "// line\n".repeat(MAX_FILE_LINES + 1);
    assert_eq!(
        render(&size_problems("b.rs", &long_file)),
        [format!(
            "b.rs: the file has {} lines, over {MAX_FILE_LINES}: split it at a seam",
            MAX_FILE_LINES + 1
        )]
    );
    assert!(size_problems("c.rs", &"// line\n".repeat(MAX_FILE_LINES)).is_empty());
}

#[test]
fn the_state_directory_is_spelled_by_layout_alone() -> Result<()> {
    let dir = concat!(".", "omk");
    let message = format!(
        "`{dir}` spelled outside crates/omk-goal/src/layout.rs: ask `omk_goal::Layout` (or take \
         the path as a parameter) instead"
    );
    let source = format!(
        "//! X.\n// A comment may say {dir}/goals.\nfn f(root: &Path) {{\n    root.join(\"{dir}\");\n    \
         let _ = \"omk.toml\";\n    let _ = format!(\"{{repo}}/{dir}/worktrees\");\n}}\n"
    );
    assert_eq!(
        render(&layout_problems("a.rs", &source)),
        [format!("a.rs:4: {message}"), format!("a.rs:6: {message}")]
    );
    let in_layout = format!("//! Layout.\nconst STATE: &str = \"{dir}\";\n");
    let in_tests = format!("//! Tests.\nconst STATE: &str = \"{dir}\";\n");
    let in_test_module =
        format!("//! X.\n#[cfg(test)]\nmod tests {{\n    const STATE: &str = \"{dir}\";\n}}\n");
    let elsewhere = format!("//! X.\nconst STATE: &str = \"{dir}/\";\n");
    check_tree(
        &[
            ("crates/omk-goal/src/layout.rs", &in_layout),
            ("crates/omk-goal/src/run/tests.rs", &in_tests),
            ("crates/omk-goal/tests/it/main.rs", &in_tests),
            ("crates/omk-testkit/src/log.rs", &in_tests),
            (
                "crates/omk-cli/src/fixtures.rs",
                &format!("//! Fixtures.\n#![cfg(test)]\n{}", &in_tests[11..]),
            ),
            ("crates/omk-goal/src/run.rs", &in_test_module),
            ("crates/omk-cli/src/demo.rs", &elsewhere),
        ],
        check_layout_literals,
        &[&format!("crates/omk-cli/src/demo.rs:2: {message}")],
    )
}

#[test]
fn unsafe_code_is_reported_outside_the_sandbox_hook() {
    let message = "`unsafe` code outside crates/omk-sandbox/src/child.rs: use or extend its safe \
                   API instead";
    let source = concat!(
        "//! X.\n",
        "// A comment may say unsafe",
        " { here }.\n",
        "fn f() {\n",
        "    let csp = \"style-src 'unsafe-inline'\";\n",
        "    unsafe",
        " { g() }\n",
        "    command.pre",
        "_exec(hook);\n",
        "}\n",
        "#![expect(unsafe",
        "_code, reason = \"x\")]\n",
    );
    assert_eq!(
        render(&unsafe_problems("a.rs", source)),
        [format!("a.rs:5: {message}"), format!("a.rs:6: {message}"), format!("a.rs:8: {message}")]
    );
}
