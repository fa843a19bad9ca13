//! The `omk` binary: everything lives in the library, so tests can build an identical copy.

fn main() -> std::process::ExitCode {
    omk_cli::main()
}
