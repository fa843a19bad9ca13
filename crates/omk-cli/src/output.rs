//! Writing to the terminal: the only module of omk that prints.
//!
//! Everything goes through `anstream`, which drops the colors of styled text when the stream
//! is not a terminal, when `NO_COLOR` is set, or with `--color never` (see [`init`]).

use std::{
    fmt::Write as _,
    io::{self, Write},
};

use anstyle::{AnsiColor, Style};

use crate::{args::ColorWhen, error::CliError};

/// Chooses whether styled text keeps its colors, for the whole process.
pub(crate) fn init(color: ColorWhen) {
    let choice = match color {
        // anstream's auto checks the terminal, NO_COLOR, CLICOLOR and CLICOLOR_FORCE.
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Returns whether text written to stderr keeps its colors.
pub(crate) fn stderr_colored() -> bool {
    anstream::AutoStream::choice(&io::stderr()) != anstream::ColorChoice::Never
}

/// The styles of omk's output.
pub(crate) mod style {
    use super::{AnsiColor, Style};

    /// Passed, ready.
    pub(crate) const GOOD: Style = AnsiColor::Green.on_default();
    /// Failed.
    pub(crate) const BAD: Style = AnsiColor::Red.on_default().bold();
    /// Waiting on something: not ready yet, paused, blocked, a budget.
    pub(crate) const WAIT: Style = AnsiColor::Yellow.on_default();
    /// Headings and the words to notice.
    pub(crate) const STRONG: Style = Style::new().bold();
    /// Secondary text: paths, durations, explanations.
    pub(crate) const DIM: Style = Style::new().dimmed();
    /// A command to copy.
    pub(crate) const COMMAND: Style = AnsiColor::Cyan.on_default();
}

/// Returns `text` in `style`; the colors go away when the stream does not want them.
pub(crate) fn paint(style: Style, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("{style}{text}{style:#}")
}

/// Writes `text` to stdout; a closed pipe (`omk … | head`) is not an error.
pub(crate) fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = anstream::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// Writes `text` to stderr as it is (no newline added); output that cannot be shown is dropped.
pub(crate) fn print_stderr(text: &str) {
    let mut stderr = anstream::stderr().lock();
    stderr.write_all(text.as_bytes()).and_then(|()| stderr.flush()).ok();
}

/// Writes a warning line to stderr, even when progress is off.
pub(crate) fn warn(line: &str) {
    print_stderr(&format!("{} {line}\n", paint(style::WAIT, "warning:")));
}

/// Writes one line of progress to stderr; progress that cannot be shown is dropped.
pub(crate) fn progress(line: &str) {
    print_stderr(&format!("{line}\n"));
}

/// Writes `error` and its hints to stderr.
pub(crate) fn print_error(error: &CliError) {
    let mut text = format!("{} {}\n", paint(style::BAD, "error:"), error.message);
    for hint in &error.hints {
        let _ = writeln!(text, "{} {hint}", paint(style::COMMAND, "hint:"));
    }
    print_stderr(&text);
}
