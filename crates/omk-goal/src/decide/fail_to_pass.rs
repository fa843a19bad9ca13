//! The fail-to-pass step's decisions: which of the change's files are tests (applied to the base
//! tree), which gates run there, and which tests a runner's output names as failed.

use omk_events::{ChangedFile, FileOperation, GateKind};
use omk_gates::GateSpec;

/// The change's test files, as the gate surface names tests: those to write on the base tree
/// (created, modified or renamed to a test path) and those to remove (deleted, or renamed away
/// from a test path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TestFiles {
    /// Test files with the change's content, sorted.
    pub(crate) write: Vec<String>,
    /// Test files the change removes, sorted.
    pub(crate) remove: Vec<String>,
}

impl TestFiles {
    /// Returns every path the change's test files touch, sorted, each once.
    pub(crate) fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.write.iter().chain(&self.remove).cloned().collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

/// Returns the test files among `files`, the change against the base commit.
pub(crate) fn test_files(files: &[ChangedFile]) -> TestFiles {
    let mut tests = TestFiles::default();
    for file in files {
        let is_test = omk_gates::is_test_file(&file.path);
        match file.operation {
            FileOperation::Deleted if is_test => tests.remove.push(file.path.clone()),
            FileOperation::Deleted => {}
            FileOperation::Created | FileOperation::Modified | FileOperation::Renamed => {
                if is_test {
                    tests.write.push(file.path.clone());
                }
                if let Some(from) =
                    file.renamed_from.as_ref().filter(|it| omk_gates::is_test_file(it))
                {
                    tests.remove.push(from.clone());
                }
            }
        }
    }
    tests.write.sort();
    tests.remove.sort();
    tests
}

/// Returns the gates the fail-to-pass check runs, in plan order: the required test gates, or,
/// when there is none, the goal's oracle gates `oracle` (the `--gate` checks of a goal without
/// a test gate), which stand in for them as they do for the oracle.
pub(crate) fn check_gates(gates: &[GateSpec], oracle: &[String]) -> Vec<GateSpec> {
    let tests: Vec<GateSpec> =
        gates.iter().filter(|gate| gate.required && gate.kind == GateKind::Test).cloned().collect();
    if !tests.is_empty() {
        return tests;
    }
    gates.iter().filter(|gate| oracle.contains(&gate.name)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use omk_events::{ChangedFile, FileOperation};

    use std::time::Duration;

    use omk_events::GateKind;
    use omk_gates::{GateCommand, GateSpec};

    use super::{TestFiles, check_gates, test_files};

    fn file(path: &str, operation: FileOperation, renamed_from: Option<&str>) -> ChangedFile {
        ChangedFile {
            path: path.to_owned(),
            operation,
            renamed_from: renamed_from.map(str::to_owned),
            lines_added: Some(1),
            lines_removed: Some(0),
            blob_id: None,
        }
    }

    #[test]
    fn only_test_paths_are_applied_and_removals_are_kept() {
        let files = [
            file("src/lib.rs", FileOperation::Modified, None),
            file("tests/add.sh", FileOperation::Created, None),
            file("tests/old.sh", FileOperation::Deleted, None),
            file("calc_test.go", FileOperation::Renamed, Some("tests/calc.go")),
            file("README.md", FileOperation::Deleted, None),
        ];
        let tests = test_files(&files);
        assert_eq!(
            tests,
            TestFiles {
                write: vec!["calc_test.go".into(), "tests/add.sh".into()],
                remove: vec!["tests/calc.go".into(), "tests/old.sh".into()],
            }
        );
        assert_eq!(
            tests.paths(),
            ["calc_test.go", "tests/add.sh", "tests/calc.go", "tests/old.sh"]
        );
        assert!(test_files(&files[..1]).paths().is_empty());
    }

    fn gate(name: &str, kind: GateKind, required: bool) -> GateSpec {
        let mut spec = GateSpec::new(name, kind, GateCommand::Shell("true".to_owned()));
        spec.required = required;
        spec.timeout = Duration::from_secs(60);
        spec
    }

    #[test]
    fn the_check_runs_the_required_test_gates_else_the_oracle_gates() {
        let names = |gates: Vec<GateSpec>| gates.into_iter().map(|it| it.name).collect::<Vec<_>>();
        let oracle = ["gate-1".to_owned()];
        let with_tests = [
            gate("unit", GateKind::Test, true),
            gate("flaky", GateKind::Test, false),
            gate("gate-1", GateKind::Other, true),
        ];
        assert_eq!(names(check_gates(&with_tests, &oracle)), ["unit"]);
        let without = [gate("lint", GateKind::Lint, true), gate("gate-1", GateKind::Other, true)];
        assert_eq!(names(check_gates(&without, &oracle)), ["gate-1"]);
        assert!(check_gates(&without, &[]).is_empty());
    }
}
