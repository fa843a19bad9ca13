//! The one way omk-gates runs git: in the given directory, with stdin closed and the caller's
//! environment less the `GIT_*` variables that would point git at another repository.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// Runs `git` with `args` in `dir` and returns its stdout.
///
/// `env` is the whole environment git runs with, `GIT_*` variables left out. The error is the
/// reason git did not start, or its trimmed error output when it failed.
pub(crate) fn git_output(
    dir: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> Result<Vec<u8>, String> {
    let output = Command::new(program_on_path("git", env))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().filter(|(name, _)| !name.starts_with("GIT_")).map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|err| err.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    Ok(output.stdout)
}

/// Returns the executable `name` on the `PATH` of `env` (the search `execvp` makes in the child),
/// or `name` itself when that search is not certain to find the same file.
///
/// std starts a command named by a full path with `posix_spawn` (a `vfork`), but one found on a
/// `PATH` the caller set with a fork of the whole, multi-threaded omk: 0.5 ms more a call.
fn program_on_path(name: &str, env: &[(String, String)]) -> PathBuf {
    let Some((_, path)) = env.iter().find(|(key, _)| key == "PATH") else {
        return PathBuf::from(name);
    };
    for dir in path.split(':') {
        // A relative entry (an empty one means the current directory) is searched from the
        // child's directory; leave such a search to std.
        if !dir.starts_with('/') {
            return PathBuf::from(name);
        }
        let candidate = Path::new(dir).join(name);
        let executable = candidate.metadata().is_ok_and(|meta| meta.is_file())
            && nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok();
        if executable {
            return candidate;
        }
    }
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use std::{fs, os::unix::fs::PermissionsExt};

    use super::program_on_path;

    fn env_with_path(path: &str) -> Vec<(String, String)> {
        vec![("PATH".to_owned(), path.to_owned())]
    }

    #[test]
    fn the_first_executable_on_the_path_is_taken_as_execvp_would() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        for bin in [&first, &second] {
            fs::create_dir(bin).expect("create a bin directory");
        }
        // Not executable, then a directory of that name: both skipped, as execvp skips them.
        fs::write(first.join("tool"), "#!/bin/sh\n").expect("write a file");
        fs::create_dir(second.join("tool")).expect("create a directory");
        let third = dir.path().join("c");
        fs::create_dir(&third).expect("create a bin directory");
        fs::write(third.join("tool"), "#!/bin/sh\n").expect("write the tool");
        fs::set_permissions(third.join("tool"), fs::Permissions::from_mode(0o755))
            .expect("make the tool executable");
        let path = format!("{}:{}:{}", first.display(), second.display(), third.display());
        assert_eq!(program_on_path("tool", &env_with_path(&path)), third.join("tool"));
    }

    #[test]
    fn a_search_that_is_not_certain_is_left_to_std() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let absent = dir.path().join("none");
        for path in
            [String::new(), format!("bin:{}", absent.display()), absent.display().to_string()]
        {
            assert_eq!(program_on_path("tool", &env_with_path(&path)).to_str(), Some("tool"));
        }
        assert_eq!(program_on_path("tool", &[]).to_str(), Some("tool"));
    }
}
