//! A copy of the `omk` binary, built in this package so tests get its path as
//! `CARGO_BIN_EXE_omk-dup`.

fn main() -> std::process::ExitCode {
    omk_cli::main()
}
