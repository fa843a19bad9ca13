//! The watcher on its own, for the sandbox's tests and benchmark (omk itself is the watcher in a
//! real run): `omk-sandbox-watcher __omk-sandbox watch`.

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.split_first() {
        Some((first, rest)) if first == omk_sandbox::WATCHER_ARG => omk_sandbox::watcher_main(rest),
        _ => omk_sandbox::watcher_main(&[]),
    }
}
