//! The sample project of `omk demo`: a shell "library" with a failing test, and a scenario that
//! makes the scripted agent fix it.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::error::Error;

/// A sample project ready for `omk run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoProject {
    /// The git repository of the sample project.
    pub repo: PathBuf,
    /// The scenario file of the scripted agent, outside the repository.
    pub scenario: PathBuf,
    /// The prompt to run.
    pub prompt: &'static str,
}

/// The prompt of the demo goal.
const PROMPT: &str = "Fix the failing test: add() in calc.sh must return the sum of its arguments.";

const CALC_SH: &str = r#"# calc.sh: arithmetic helpers, sourced by scripts and tests.

# add A B: prints A plus B.
add() {
  echo $(( $1 - $2 ))
}

# double A: prints two times A.
double() {
  add "$1" "$1"
}
"#;

const TEST_SH: &str = r#"# test.sh: the tests of calc.sh; exits non-zero when one fails.
. ./calc.sh

passed=0
failures=0
check() {
  if [ "$2" = "$3" ]; then
    echo "ok    $1"
    passed=$((passed + 1))
  else
    echo "FAIL  $1: expected $3, got $2"
    failures=$((failures + 1))
  fi
}

check "add 2 3" "$(add 2 3)" 5
check "add -1 1" "$(add -1 1)" 0
check "double 21" "$(double 21)" 42

# The summary line omk counts tests from.
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
"#;

const OMK_TOML: &str = r#"# The gates omk runs itself after the agent's change.
[[gates]]
name = "test"
kind = "test"
command = "sh test.sh"
timeout_secs = 60

[[gates]]
name = "syntax"
kind = "lint"
command = ["sh", "-n", "calc.sh"]
required = false
timeout_secs = 60
"#;

const README_MD: &str =
    "# calc\n\nA tiny shell project for `omk demo`. Run the tests with `sh test.sh`.\n";

/// The scripted agent's scenario, in the Kimi CLI's echo DSL (`docs/scenario-format.md`).
const SCENARIO: &str = r#"id: demo-1
usage: {"input_other": 412, "output": 38}
think: The test says add 2 3 should be 5. Let me read calc.sh first.
text: I'll read calc.sh to find the bug.
tool_call: {"id": "tc-1", "name": "ReadFile", "arguments": "{\"path\": \"calc.sh\"}"}
---
id: demo-2
usage: {"input_other": 96, "input_cache_read": 412, "output": 61}
text: add() subtracts instead of adding. Fixing the operator.
tool_call: {"id": "tc-2", "name": "StrReplaceFile", "arguments": "{\"path\": \"calc.sh\", \"edit\": {\"old\": \"$(( $1 - $2 ))\", \"new\": \"$(( $1 + $2 ))\"}}"}
---
id: demo-3
usage: {"input_other": 40, "input_cache_read": 508, "output": 22}
text: Fixed the sign error in add(); the tests should pass now.
"#;

/// Writes the sample project into `dir/calc` (a new git repository) and its scenario into `dir`.
///
/// `dir` must be empty or not exist, so that nothing of the user's is overwritten.
pub fn create_demo_project(dir: &Path) -> Result<DemoProject, Error> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    fs::create_dir_all(dir).map_err(write_error(dir))?;
    let is_empty = fs::read_dir(dir).map_err(write_error(dir))?.next().is_none();
    if !is_empty {
        return Err(Error::Write {
            path: dir.to_owned(),
            source: std::io::Error::other("the directory is not empty; pass an empty or new one"),
        });
    }
    let repo = dir.join("calc");
    fs::create_dir(&repo).map_err(write_error(&repo))?;
    for (name, content) in [
        ("calc.sh", CALC_SH),
        ("test.sh", TEST_SH),
        ("omk.toml", OMK_TOML),
        ("README.md", README_MD),
    ] {
        let path = repo.join(name);
        fs::write(&path, content).map_err(write_error(&path))?;
    }
    let identity = omk_worktree::Identity { name: "omk demo", email: "demo@omk.invalid" };
    omk_worktree::init_with_commit(&repo, "main", "Add calc.sh with its tests", identity)?;
    let scenario = dir.join("fix-add.scenario");
    fs::write(&scenario, SCENARIO).map_err(write_error(&scenario))?;
    Ok(DemoProject { repo, scenario, prompt: PROMPT })
}
