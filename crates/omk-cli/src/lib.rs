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
#[cfg(test)]
mod fixtures;
mod json;
mod logging;
mod output;
mod progress;
mod render;
pub mod replay;
mod text;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, ValueEnum};

pub use crate::args::Cli;
use crate::args::ColorWhen;
pub use crate::error::{CliError, ErrorKind, ExitCodes};
#[cfg(feature = "schema")]
pub use crate::json::json_schemas;

/// Runs the `omk` command line with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The sandbox's watcher is this binary with a hidden first argument: it reads no config
    // and parses no flags, so it starts in about a millisecond.
    if let Some((first, rest)) = args.get(1..).and_then(<[_]>::split_first)
        && first == omk_sandbox::WATCHER_ARG
    {
        return omk_sandbox::watcher_main(rest);
    }
    // Help and usage errors come before the parsed flags, so `--color` is read ahead.
    let color = color_flag(&args);
    output::init(color);
    let clap_color = match color {
        ColorWhen::Auto => clap::ColorChoice::Auto,
        ColorWhen::Always => clap::ColorChoice::Always,
        ColorWhen::Never => clap::ColorChoice::Never,
    };
    let parsed = Cli::command()
        .color(clap_color)
        .try_get_matches_from(&args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { ExitCodes::USAGE } else { ExitCodes::SUCCESS };
            // Help and version go to stdout, usage errors to stderr; both are formatted by clap.
            err.print().ok();
            return ExitCode::from(code);
        }
    };
    let result = logging::init(cli.verbose, cli.quiet).and_then(|()| commands::run(&cli));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(err.kind.exit_code())
        }
    }
}

/// Returns the last `--color WHEN` of `args`; an invalid value is left for clap to report.
fn color_flag(args: &[std::ffi::OsString]) -> ColorWhen {
    let mut color = ColorWhen::Auto;
    let mut iter = args.iter().skip(1).filter_map(|arg| arg.to_str());
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color") {
            Some("") => iter.next(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        if let Some(value) = value.and_then(|it| ColorWhen::from_str(it, false).ok()) {
            color = value;
        }
    }
    color
}
