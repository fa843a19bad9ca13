//! The launcher on its own, for the sandbox's tests and benchmark (omk itself is the launcher
//! in a real run): `omk-sandbox-launcher __omk-sandbox run POLICY PROGRAM ARGS...`.

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.split_first() {
        Some((first, rest)) if first == omk_sandbox::LAUNCHER_ARG => {
            omk_sandbox::launcher_main(rest)
        }
        _ => omk_sandbox::launcher_main(&[]),
    }
}
