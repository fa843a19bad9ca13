//! `-v`, `-q` and `OMK_LOG`: what omk logs to stderr, through `tracing`.
//!
//! The library crates log what they do (the steps of a goal, each git, gate and agent command
//! line) at debug level, and each recorded event at trace level; nothing is shown by default
//! but warnings.

use tracing_subscriber::EnvFilter;

use crate::{error::CliError, output};

/// The variable that takes a full filter, such as `omk_gates=trace,omk_goal=debug`.
pub(crate) const ENV: &str = "OMK_LOG";

/// Starts logging to stderr: `OMK_LOG` when set, else the level `-q`/`-v` ask for.
pub(crate) fn init(verbose: u8, quiet: bool) -> Result<(), CliError> {
    let filter = match std::env::var(ENV) {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).map_err(|err| {
            CliError::usage(format!(
                "{ENV}={text:?} is not a log filter: {err}; write it like `debug` or \
                 `omk_gates=trace,omk_goal=debug`"
            ))
        })?,
        _ => EnvFilter::new(match (quiet, verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "warn,omk=debug",
            (false, _) => "warn,omk=trace",
        }),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::stderr_colored())
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .try_init()
        .ok();
    Ok(())
}
