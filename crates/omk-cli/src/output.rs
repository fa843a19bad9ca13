//! Writing to the terminal: the only module of omk that prints.

use std::io::{self, Write};

use crate::error::CliError;

/// Writes `text` to stdout; a closed pipe (`omk … | head`) is not an error.
pub(crate) fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// Writes one progress line to stderr; progress that cannot be shown is dropped.
pub(crate) fn progress(line: &str) {
    let mut stderr = io::stderr().lock();
    writeln!(stderr, "{line}").ok();
}

/// Writes `error` and its hints to stderr.
pub(crate) fn print_error(error: &CliError) {
    let mut stderr = io::stderr().lock();
    writeln!(stderr, "error: {}", error.message).ok();
    for hint in &error.hints {
        writeln!(stderr, "hint: {hint}").ok();
    }
}
