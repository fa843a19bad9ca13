//! Maintainer tasks for the omk workspace, run as `cargo xtask <task>`.
//!
//! `cargo xtask ci` runs exactly what CI runs; `cargo xtask tidy` checks what rustc and clippy do
//! not (see `tidy.rs`); `codegen` writes the files generated from code; `dist`, `release` and
//! `bench` package, release and measure omk.
//! Each task is one module with a `run` function; this file only parses the command line.
#![expect(clippy::print_stdout, clippy::print_stderr, reason = "xtask is a command line tool")]

mod bench;
mod ci;
mod codegen;
mod dist;
mod process;
mod real_clients;
mod release;
mod tidy;

use std::{
    env,
    ffi::OsString,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// Maintainer tasks for the omk workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

/// The tasks, one module each.
#[derive(Debug, Subcommand)]
enum Task {
    /// Run exactly what CI runs: fmt, clippy, the real clients' installs, tests (codegen
    /// freshness too), doc tests and tidy
    Ci,
    /// Check the workspace for problems that rustc and clippy do not catch
    Tidy,
    /// Install the real clients the tests run (as ci does, cached) and print their variables
    /// as `export` lines; OMK_SKIP_REAL skips some
    RealClients,
    /// Write the files generated from code (docs/proof.schema.json), or check them
    Codegen {
        /// Check that the generated files are up to date instead of writing them
        #[arg(long)]
        check: bool,
    },
    /// Build the release binary and package it with docs, completions and man pages
    Dist(dist::DistArgs),
    /// Bump every crate to VERSION, update CHANGELOG.md, run ci, commit and tag
    Release(release::ReleaseArgs),
    /// Run every benchmark of the workspace and rewrite docs/benchmarks.md
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = project_root().and_then(|root| match cli.task {
        Task::Ci => ci::run(&root),
        Task::Tidy => tidy::run(&root).and_then(|problems| tidy::report(&problems)),
        Task::RealClients => real_clients::run(&root),
        Task::Codegen { check } => codegen::run(&root, check),
        Task::Dist(args) => dist::run(&root, &args),
        Task::Release(args) => release::run(&root, &args),
        Task::Bench(args) => bench::run(&root, &args),
    });
    match res {
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
