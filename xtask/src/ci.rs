//! `cargo xtask ci`: runs exactly what CI runs, in order, and stops at the first failing step.
//!
//! The steps are fmt, clippy, the real clients' installs (`real_clients.rs`: cached, and their
//! paths go to the tests' environment), the tests (nextest when installed, else `cargo test`),
//! the doc tests and tidy. Test steps run with `INSTA_UPDATE=no`, so a missing or changed snapshot fails
//! instead of being written, and with `CI=true` unless `CI` is already set. The test suite also
//! runs with an odd git identity and dates in its environment, so that it stays hermetic.

use std::{
    env,
    ffi::OsStr,
    fmt,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{real_clients, tidy};

/// The facts about this machine that decide the exact commands CI runs.
#[derive(Debug, Clone)]
pub(crate) struct PlanOptions {
    /// Whether the workspace has a Cargo.lock, so that clippy can run `--locked`.
    pub(crate) locked: bool,
    /// Whether `cargo nextest` is installed.
    pub(crate) nextest: bool,
    /// Whether `CI` is already set in the environment.
    pub(crate) ci_set: bool,
    /// The real clients to install, and those `OMK_SKIP_REAL` skips.
    pub(crate) real: real_clients::Selection,
}

/// A git identity and dates that no test expects, set for the test suite's run.
const OUTER_GIT_ENV: [(&str, &str); 6] = [
    ("GIT_AUTHOR_NAME", "Outer-Author"),
    ("GIT_AUTHOR_EMAIL", "outer-author@ci.invalid"),
    ("GIT_AUTHOR_DATE", "2001-02-03T04:05:06Z"),
    ("GIT_COMMITTER_NAME", "Outer-Committer"),
    ("GIT_COMMITTER_EMAIL", "outer-committer@ci.invalid"),
    ("GIT_COMMITTER_DATE", "2001-02-03T04:05:06Z"),
];

/// One CI step: a name for messages and what it runs.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) name: &'static str,
    pub(crate) action: Action,
}

/// What a CI step runs.
#[derive(Debug)]
pub(crate) enum Action {
    /// A cargo command, run from the workspace root with inherited stdio; with `real`, the
    /// real clients' paths and requirements are added to its environment.
    Cargo { args: Vec<&'static str>, env: Vec<(&'static str, &'static str)>, real: bool },
    /// The real clients' install scripts, run in turn.
    RealClients(real_clients::Selection),
    /// `cargo xtask tidy`, run in this process.
    Tidy,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Action::Cargo { args, env, real } => {
                for (key, value) in env {
                    write!(f, "{key}={value} ")?;
                }
                if *real {
                    f.write_str("OMK_REAL_*… OMK_REQUIRE_*=1 ")?;
                }
                write!(f, "cargo {}", args.join(" "))
            }
            Action::RealClients(selection) => selection.fmt(f),
            Action::Tidy => f.write_str("cargo xtask tidy (in process)"),
        }
    }
}

/// Runs every CI step in the workspace at `root`, stopping at the first failure.
pub(crate) fn run(root: &Path) -> Result<()> {
    let cargo = crate::cargo();
    let skip = env::var("OMK_SKIP_REAL").ok();
    let options = PlanOptions {
        locked: root.join("Cargo.lock").is_file(),
        nextest: nextest_available(&cargo, root),
        ci_set: env::var_os("CI").is_some(),
        real: real_clients::Selection::parse(skip.as_deref())?,
    };
    if !options.nextest {
        println!("note: `cargo nextest` is not installed, so the tests run with `cargo test`");
    }
    let warning = options.real.warning();
    if let Some(warning) = &warning {
        println!("{warning}");
    }
    let steps = plan(options);
    let started = Instant::now();
    let mut real_env = Vec::new();
    for (step_idx, step) in steps.iter().enumerate() {
        println!("==> [{}/{}] {}: {step}", step_idx + 1, steps.len(), step.name);
        let step_started = Instant::now();
        let res = run_step(root, &cargo, step, &mut real_env);
        let elapsed = seconds(step_started.elapsed());
        match res {
            Ok(()) => println!("<== {} passed in {elapsed}", step.name),
            Err(err) => {
                return Err(err.context(format!("ci step `{}` failed after {elapsed}", step.name)));
            }
        }
    }
    println!("ci: all {} steps passed in {}", steps.len(), seconds(started.elapsed()));
    if let Some(warning) = &warning {
        println!("{warning}");
    }
    Ok(())
}

/// Returns the steps CI runs, in order.
pub(crate) fn plan(options: PlanOptions) -> Vec<Step> {
    let mut clippy = vec!["clippy", "--workspace", "--all-targets"];
    if options.locked {
        clippy.push("--locked");
    }
    clippy.extend(["--", "-D", "warnings"]);

    let mut test_env = vec![("INSTA_UPDATE", "no")];
    if !options.ci_set {
        test_env.push(("CI", "true"));
    }
    // The suite must pass whatever the developer's environment holds, as when omk runs it as a
    // gate from a shell with a git identity set: the one run of the suite gets an identity and
    // dates no test expects, so a test or an omk git call that reads them fails here.
    let mut suite_env = test_env.clone();
    suite_env.extend(OUTER_GIT_ENV);
    let mut tests = if options.nextest {
        cargo_step("nextest", vec!["nextest", "run", "--workspace", "--profile", "ci"], &suite_env)
    } else {
        cargo_step("test", vec!["test", "--workspace"], &suite_env)
    };
    if let Action::Cargo { real, .. } = &mut tests.action {
        *real = true;
    }

    vec![
        cargo_step("fmt", vec!["fmt", "--all", "--", "--check"], &[]),
        cargo_step("clippy", clippy, &[]),
        Step { name: "real-clients", action: Action::RealClients(options.real) },
        tests,
        cargo_step("doctest", vec!["test", "--workspace", "--doc"], &test_env),
        Step { name: "tidy", action: Action::Tidy },
    ]
}

fn cargo_step(
    name: &'static str,
    args: Vec<&'static str>,
    env: &[(&'static str, &'static str)],
) -> Step {
    Step { name, action: Action::Cargo { args, env: env.to_vec(), real: false } }
}

/// Runs `step`; the real clients' step sets `real_env`, which steps with `real` get.
fn run_step(
    root: &Path,
    cargo: &OsStr,
    step: &Step,
    real_env: &mut Vec<(String, String)>,
) -> Result<()> {
    match &step.action {
        Action::Cargo { args, env, real } => {
            let real_env = if *real { real_env.as_slice() } else { &[] };
            let status = Command::new(cargo)
                .args(args)
                .envs(env.iter().copied())
                .envs(real_env.iter().map(|(key, value)| (key, value)))
                .current_dir(root)
                .status()
                .with_context(|| format!("failed to start `{step}`"))?;
            if !status.success() {
                bail!("`{step}` exited with {status}");
            }
            Ok(())
        }
        Action::RealClients(selection) => {
            *real_env = real_clients::install(root, selection)?;
            Ok(())
        }
        Action::Tidy => {
            let problems = tidy::run(root)?;
            tidy::report(&problems)
        }
    }
}

fn nextest_available(cargo: &OsStr, root: &Path) -> bool {
    Command::new(cargo)
        .args(["nextest", "--version"])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::{PlanOptions, plan};
    use crate::real_clients::Selection;

    fn options(locked: bool, nextest: bool, ci_set: bool) -> PlanOptions {
        let real = Selection::parse(None).expect("no skip list parses");
        PlanOptions { locked, nextest, ci_set, real }
    }

    fn check(options: PlanOptions, expect: &[&str]) {
        let steps: Vec<String> = plan(options).iter().map(ToString::to_string).collect();
        assert_eq!(steps, expect);
    }

    #[test]
    fn plan_with_lock_and_nextest() {
        check(
            options(true, true, false),
            &[
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets --locked -- -D warnings",
                "scripts/install-kimi.sh scripts/install-in-toto.sh scripts/install-claude-code.sh \
                 scripts/install-codex.sh scripts/install-chromium.sh (cached)",
                "INSTA_UPDATE=no CI=true GIT_AUTHOR_NAME=Outer-Author \
                 GIT_AUTHOR_EMAIL=outer-author@ci.invalid GIT_AUTHOR_DATE=2001-02-03T04:05:06Z \
                 GIT_COMMITTER_NAME=Outer-Committer GIT_COMMITTER_EMAIL=outer-committer@ci.invalid \
                 GIT_COMMITTER_DATE=2001-02-03T04:05:06Z OMK_REAL_*… OMK_REQUIRE_*=1 \
                 cargo nextest run --workspace --profile ci",
                "INSTA_UPDATE=no CI=true cargo test --workspace --doc",
                "cargo xtask tidy (in process)",
            ],
        );
    }

    #[test]
    fn plan_without_lock_or_nextest_in_ci() {
        check(
            PlanOptions {
                real: Selection::parse(Some("claude,codex")).expect("known names"),
                ..options(false, false, true)
            },
            &[
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets -- -D warnings",
                "scripts/install-kimi.sh scripts/install-in-toto.sh scripts/install-chromium.sh \
                 (cached); skipped by OMK_SKIP_REAL: claude, codex",
                "INSTA_UPDATE=no GIT_AUTHOR_NAME=Outer-Author \
                 GIT_AUTHOR_EMAIL=outer-author@ci.invalid GIT_AUTHOR_DATE=2001-02-03T04:05:06Z \
                 GIT_COMMITTER_NAME=Outer-Committer GIT_COMMITTER_EMAIL=outer-committer@ci.invalid \
                 GIT_COMMITTER_DATE=2001-02-03T04:05:06Z OMK_REAL_*… OMK_REQUIRE_*=1 \
                 cargo test --workspace",
                "INSTA_UPDATE=no cargo test --workspace --doc",
                "cargo xtask tidy (in process)",
            ],
        );
    }

    #[test]
    fn step_names() {
        let names: Vec<&str> =
            plan(options(true, true, true)).iter().map(|step| step.name).collect();
        assert_eq!(names, ["fmt", "clippy", "real-clients", "nextest", "doctest", "tidy"]);
    }
}
