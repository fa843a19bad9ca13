//! The `omk` command line: argument parsing, output and exit codes, over omk-goal.
//!
//! This is the only crate that prints, reads the environment (`OMK_NOW`) or chooses exit codes.
//! Each command is one function in `commands/`, taking the global context and its arguments.
//!
//! Invariants:
//! - The CLI does not decide anything about a goal: the pipeline and the proof do.
//! - Every error leaves through [`CliError`], whose kind maps to a documented exit code
//!   (`docs/reference/exit-codes.md`); the CLI does not panic on user input.
//! - Results go to stdout and progress to stderr, so stdout can be piped; `--json` output is one
//!   JSON document with a `schema_version`.
//!
//! Entry point: [`main`].

mod args;
mod commands;
mod error;
mod json;
mod output;

use std::process::ExitCode;

use clap::Parser;

pub use crate::args::Cli;
pub use crate::error::{CliError, ErrorKind, ExitCodes};
#[cfg(feature = "schema")]
pub use crate::json::json_schemas;

/// Runs the `omk` command line with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { ExitCodes::USAGE } else { ExitCodes::SUCCESS };
            // Help and version go to stdout, usage errors to stderr; both are formatted by clap.
            err.print().ok();
            return ExitCode::from(code);
        }
    };
    match commands::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(err.kind.exit_code())
        }
    }
}
