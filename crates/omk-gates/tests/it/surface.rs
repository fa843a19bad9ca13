//! The gate surface between two commits of a real repository.

use std::fs;

use omk_gates::GateSpec;

use crate::{TestResult, gate_path_env, git};

#[test]
fn a_change_to_tests_config_or_files_the_gates_name_is_reported() -> TestResult {
    let dir = tempfile::tempdir()?;
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    fs::write(repo.join("calc.sh"), "add() { echo $(($1+$2)); }\n")?;
    fs::write(repo.join("test.sh"), ". ./calc.sh\n")?;
    fs::write(repo.join("omk.toml"), "")?;
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "base"]);
    let base = git(repo, &["rev-parse", "HEAD^{tree}"]);
    let named = omk_gates::files_named_by(&[
        GateSpec::shell("test", "sh ./test.sh --fast && echo done"),
        GateSpec::shell("syntax", "sh -n calc.sh"),
        GateSpec::shell("ci", "./ci/check.sh"),
        GateSpec::shell("abs", "/usr/bin/env true"),
        GateSpec {
            command: omk_gates::GateCommand::of(&["python3", "run.py"]),
            cwd: Some("tools".into()),
            ..GateSpec::shell("py", "")
        },
    ]);
    assert_eq!(named, ["ci/check.sh", "test.sh", "tools/run.py"]);

    // A change outside the surface leaves it unchanged.
    fs::write(repo.join("calc.sh"), "add() { echo $(($1+$2+0)); }\n")?;
    git(repo, &["add", "."]);
    let code_only = git(repo, &["write-tree"]);
    let check = omk_gates::check_gate_surface(repo, &base, &code_only, &named, &gate_path_env())?;
    assert_eq!(check.changed_paths, Vec::<String>::new());
    assert_eq!(check.base_digest, check.proposed_digest);
    assert_eq!(check.tree_id, code_only);

    // Weakening the test script, adding a test dir and touching omk.toml are surface changes.
    fs::write(repo.join("test.sh"), "exit 0\n")?;
    fs::create_dir(repo.join("tests"))?;
    fs::write(repo.join("tests/new.sh"), "true\n")?;
    fs::remove_file(repo.join("omk.toml"))?;
    git(repo, &["add", "-A"]);
    let weakened = git(repo, &["write-tree"]);
    let check = omk_gates::check_gate_surface(repo, &base, &weakened, &named, &gate_path_env())?;
    assert_eq!(check.changed_paths, ["omk.toml", "test.sh", "tests/new.sh"]);
    assert_ne!(check.base_digest, check.proposed_digest);

    let err = omk_gates::check_gate_surface(repo, &base, "nosuchtree", &named, &gate_path_env())
        .expect_err("an unknown tree is an error");
    assert!(err.to_string().starts_with("read tree nosuchtree with git in "), "{err}");
    Ok(())
}
