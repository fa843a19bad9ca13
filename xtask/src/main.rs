//! Maintainer tasks for the omk workspace, run as `cargo xtask <task>`.
//!
//! `cargo xtask ci` runs exactly what CI runs; `cargo xtask tidy` checks what rustc and clippy do
//! not (see `tidy.rs`). Arguments are parsed by hand: two tasks without flags do not need clap.
#![expect(clippy::print_stdout, clippy::print_stderr, reason = "xtask is a command line tool")]

mod ci;
mod codegen;
mod tidy;

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, Result};

const USAGE: &str = "\
Usage: cargo xtask <TASK>

Tasks:
  ci                 Run exactly what CI runs: fmt, clippy, tests (codegen freshness too), doc tests, tidy
  codegen [--check]  Write the files generated from code (docs/proof.schema.json), or check them
  tidy   Check the workspace for problems that rustc and clippy do not catch
  help   Print this help
";

/// The exit code for a command line that names no known task.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> =
        env::args_os().skip(1).map(|arg| arg.to_string_lossy().into_owned()).collect();
    let Some((task, rest)) = args.split_first() else {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    };
    if task == "codegen" {
        let check = match rest {
            [] => false,
            [flag] if flag == "--check" => true,
            [unexpected, ..] => {
                eprintln!("error: `codegen` takes only `--check`, got `{unexpected}`\n\n{USAGE}");
                return ExitCode::from(USAGE_ERROR);
            }
        };
        return finish(project_root().and_then(|root| codegen::run(&root, check)));
    }
    let run: fn() -> Result<()> = match task.as_str() {
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        "ci" => run_ci,
        "tidy" => run_tidy,
        unknown => {
            eprintln!("error: unknown task `{unknown}`\n\n{USAGE}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    if let Some(unexpected) = rest.first() {
        eprintln!("error: `{task}` takes no arguments, got `{unexpected}`\n\n{USAGE}");
        return ExitCode::from(USAGE_ERROR);
    }
    finish(run())
}

fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns the root of the omk workspace, the parent of the xtask package.
pub(crate) fn project_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("the xtask package has no parent directory")
}

/// Returns the cargo that runs this task, so that every step uses the same toolchain.
pub(crate) fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

fn run_ci() -> Result<()> {
    ci::run(&project_root()?)
}

fn run_tidy() -> Result<()> {
    let problems = tidy::run(&project_root()?)?;
    tidy::report(&problems)
}
