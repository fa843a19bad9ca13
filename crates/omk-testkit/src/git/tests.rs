//! Tests of hermetic git: they mean most when the environment holds a git identity, as in
//! `cargo xtask ci`'s test run.

use std::{collections::BTreeMap, ffi::OsStr, process::Command};

use super::{GIT_ENV, TestRepo, hermetic, is_outer_git_variable};

#[test]
fn commits_have_the_fixed_identity_and_dates_whatever_the_environment() {
    let repo = TestRepo::with_files(&[("a.txt", "a\n")]);
    let format = "--format=%an <%ae> %ad, %cn <%ce> %cd";
    assert_eq!(
        repo.git(&["log", format, "--date=iso-strict"]),
        "Test <test@example.invalid> 2026-11-21T20:00:00Z, \
         Test <test@example.invalid> 2026-11-21T20:00:00Z"
    );
}

#[test]
fn hermetic_removes_every_outer_git_variable_and_sets_its_own() {
    let mut command = Command::new("git");
    hermetic(&mut command);
    let envs: BTreeMap<&OsStr, Option<&OsStr>> = command.get_envs().collect();
    for (key, value) in GIT_ENV {
        assert_eq!(envs.get(OsStr::new(key)), Some(&Some(OsStr::new(value))), "{key}");
    }
    for (key, _) in std::env::vars_os() {
        let set_here = GIT_ENV.iter().any(|(own, _)| OsStr::new(own) == key);
        if is_outer_git_variable(&key) && !set_here {
            assert_eq!(envs.get(key.as_os_str()), Some(&None), "{key:?} is removed");
        }
    }
    assert!(is_outer_git_variable(OsStr::new("GIT_DIR")));
    assert!(is_outer_git_variable(OsStr::new("EMAIL")));
    assert!(!is_outer_git_variable(OsStr::new("PATH")));
}
