//! A hermetic environment to run `omk` in: temp HOME and XDG_CONFIG_HOME (so no developer's
//! own omk config is read), git made hermetic by omk-testkit, a fixed clock.

use std::{
    fmt, fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

/// A temporary directory and the environment every command of a test runs with.
pub(crate) struct TestEnv {
    dir: tempfile::TempDir,
}

/// What a command printed and how it exited.
pub(crate) struct Output {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: Option<i32>,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[EOF]\n--- stderr ---\n{}[EOF]\n--- exit: {:?}",
            self.stdout, self.stderr, self.code
        )
    }
}

impl TestEnv {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        fs::create_dir(dir.path().join("home"))?;
        Ok(Self { dir })
    }

    /// Returns the root of the test's temporary directory.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, program: &str, cwd: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(cwd)
            .env("HOME", self.root().join("home"))
            .env("XDG_CONFIG_HOME", self.root().join("home/.config"))
            .env("OMK_NOW", "2026-11-21T20:00:00Z")
            .env("KIMI_DISABLE_TELEMETRY", "1")
            .env("KIMI_CLI_NO_AUTO_UPDATE", "1")
            .env_remove("KIMI_SHARE_DIR")
            .env_remove("KIMI_API_KEY")
            .env_remove("KIMI_BASE_URL")
            .env_remove("KIMI_MODEL_NAME")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            // Claude Code's and Codex's accounts and state stay the developer's own.
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("ANTHROPIC_AUTH_TOKEN")
            .env_remove("ANTHROPIC_BASE_URL")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            // Output is piped: no color, no progress, no logs, whatever the developer's shell says.
            .env_remove("OMK_LOG")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            // The developer's cargo directories would reach the gates' cargo.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR");
        // No git config, a fixed identity and dates, and no `GIT_*` variable from outside, for
        // omk's git as for the test's own.
        omk_testkit::hermetic(&mut command);
        command
    }

    /// Runs the built `omk` with `args` in `cwd`.
    pub(crate) fn omk(&self, cwd: &Path, args: &[&str]) -> anyhow::Result<Output> {
        self.omk_with(cwd, args, &[])
    }

    /// Runs `omk ARGS` (a command that prints a goal's `--json` document, such as `omk run …
    /// --json`) in `repo`; returns its output and the goal's stored proof.
    pub(crate) fn omk_goal_proof(
        &self,
        repo: &Path,
        args: &[&str],
    ) -> anyhow::Result<(Output, serde_json::Value)> {
        let output = self.omk(repo, args)?;
        let document: serde_json::Value = serde_json::from_str(&output.stdout)
            .map_err(|err| anyhow::anyhow!("{err}: {output}"))?;
        let goal = document["goal_id"].as_str().unwrap_or_default();
        anyhow::ensure!(!goal.is_empty(), "no goal id: {output}");
        let proof = crate::proof(repo, goal)?;
        Ok((output, proof))
    }

    /// Runs the built `omk` with `args` in `cwd` and the extra environment variables `vars`.
    pub(crate) fn omk_with(
        &self,
        cwd: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
        run_to_end(self.omk_command(cwd, args, vars))
    }

    /// Returns the command of the built `omk` with `args` in `cwd` and the extra variables `vars`.
    fn omk_command(&self, cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
        let mut command = self.command(env!("CARGO_BIN_EXE_omk-dup"), cwd);
        command.args(args).envs(vars.iter().copied());
        command
    }

    /// Runs the built `omk` with `args` in `cwd` and the extra variables `vars`, with no git
    /// identity at all (no `GIT_AUTHOR_*`, `GIT_COMMITTER_*` or `EMAIL`), as on a fresh CI runner.
    pub(crate) fn omk_without_git_identity(
        &self,
        cwd: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
        let mut command = self.omk_command(cwd, args, vars);
        for var in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "EMAIL",
        ] {
            command.env_remove(var);
        }
        run_to_end(command)
    }

    /// Starts the built `omk` with `args` in `cwd`, its stdout and stderr piped.
    pub(crate) fn spawn_omk(&self, cwd: &Path, args: &[&str]) -> anyhow::Result<Child> {
        self.spawn_omk_with(cwd, args, &[])
    }

    /// Starts the built `omk` with `args` in `cwd` and the extra environment variables `vars`,
    /// its stdout and stderr piped.
    pub(crate) fn spawn_omk_with(
        &self,
        cwd: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> anyhow::Result<Child> {
        let mut command = self.omk_command(cwd, args, vars);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        Ok(command.spawn()?)
    }

    /// Starts the built `omk` with `args` in `cwd`, its stdin and stdout piped (a protocol
    /// client's end) and its stderr kept for the test's message.
    pub(crate) fn spawn_omk_stdio(&self, cwd: &Path, args: &[&str]) -> anyhow::Result<Child> {
        let mut command = self.omk_command(cwd, args, &[]);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        Ok(command.spawn()?)
    }

    /// Runs `program` with `args` in `cwd` and the extra environment variables `vars`, in the
    /// test's environment (as omk runs in it).
    pub(crate) fn run_with(
        &self,
        program: &str,
        cwd: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> anyhow::Result<Output> {
        let mut command = self.command(program, cwd);
        command.args(args).envs(vars.iter().copied());
        run_to_end(command)
    }

    /// Runs git with `args` in `cwd` and returns its stdout; fails when git fails.
    pub(crate) fn git(&self, cwd: &Path, args: &[&str]) -> anyhow::Result<String> {
        let output = self.command("git", cwd).args(args).output()?;
        anyhow::ensure!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?)
    }

    /// Creates a git repository `name` with one commit of `files`.
    pub(crate) fn repo(&self, name: &str, files: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
        let repo = self.root().join(name);
        fs::create_dir(&repo)?;
        self.git(&repo, &["init", "--quiet", "--initial-branch=main"])?;
        for (path, content) in files {
            let path = repo.join(path);
            fs::create_dir_all(path.parent().expect("a file in the repo has a parent"))?;
            fs::write(path, content)?;
        }
        self.git(&repo, &["add", "--all"])?;
        self.git(&repo, &["commit", "--quiet", "-m", "base"])?;
        Ok(repo)
    }

    /// Returns a directory holding the fake agent linked as `kimi`, `claude` and `codex`.
    pub(crate) fn fake_agents(&self) -> anyhow::Result<PathBuf> {
        let bin = self.root().join("fake-bin");
        fs::create_dir_all(&bin)?;
        for name in ["kimi", "claude", "codex"] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_omk-fake-agent"), bin.join(name))?;
        }
        Ok(bin)
    }

    /// Returns `PATH` with `dir` in front.
    pub(crate) fn path_with(dir: &Path) -> String {
        format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default())
    }

    /// Writes the user config, `$XDG_CONFIG_HOME/omk/config.toml` under the test's home, and
    /// returns its directory.
    pub(crate) fn user_config(&self, text: &str) -> anyhow::Result<PathBuf> {
        let dir = self.root().join("home/.config/omk");
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("config.toml"), text)?;
        Ok(dir)
    }

    /// Lets the goal's processes write anywhere in the test's directory, through the user
    /// config's `[sandbox] writable`: for tests whose agents and gates keep their instruments
    /// (logs, markers, counters) outside the worktree. Replaces any user config.
    pub(crate) fn allow_writes_outside(&self) -> anyhow::Result<()> {
        self.user_config(&format!(
            "[sandbox]\nwritable = [{:?}]\n",
            self.root().display().to_string()
        ))?;
        Ok(())
    }

    /// Writes a file in the test's directory, outside any repository.
    pub(crate) fn write(&self, name: &str, content: &str) -> anyhow::Result<PathBuf> {
        let path = self.root().join(name);
        fs::write(&path, content)?;
        Ok(path)
    }

    /// Returns insta settings that replace this test's temp dir and timings with placeholders.
    pub(crate) fn insta_settings(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(&regex_escape(&self.root().display().to_string()), "[TMP]");
        settings.add_filter(r"\b\d+ ms\b", "[N] ms");
        // Durations, digests that cover them, and pids differ between runs.
        settings.add_filter(
            r#""(duration_ms|elapsed_ms|offset_ms|wall_ms|pid)": \d+"#,
            r#""$1": "[N]""#,
        );
        settings.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
        settings.set_prepend_module_to_snapshot(false);
        settings
    }
}

fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Runs `command` to its end and returns its output as text and its exit code.
fn run_to_end(mut command: std::process::Command) -> anyhow::Result<Output> {
    let output = command.output()?;
    Ok(Output {
        stdout: String::from_utf8(output.stdout)?,
        stderr: String::from_utf8(output.stderr)?,
        code: output.status.code(),
    })
}
