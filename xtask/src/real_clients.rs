//! The real clients the test suite runs: the Kimi CLI, the in-toto library, Claude Code, Codex
//! and Chromium's headless shell, installed by `cargo xtask ci` itself (cached by their
//! scripts under `scripts/`), so that the README's test command and CI run the same tests.
//!
//! For each client ci sets `OMK_REAL_<X>` (the path its script printed) and `OMK_REQUIRE_<X>=1`
//! in the test suite's environment: a test whose client is missing then fails and says why.
//! `OMK_SKIP_REAL` (client names, comma-separated, or `all`) skips a client: it is not
//! installed, its tests say they were skipped, and ci says so loudly, first and last.

use std::{
    fmt,
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, Result, bail};

/// A real client: its name in `OMK_SKIP_REAL`, its install script, and the variables of the
/// test suite's environment that carry its path and require it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    pub(crate) name: &'static str,
    pub(crate) script: &'static str,
    pub(crate) var: &'static str,
    pub(crate) require: &'static str,
}

/// Every real client, in the order ci installs them.
pub(crate) const CLIENTS: [Client; 5] = [
    Client {
        name: "kimi",
        script: "scripts/install-kimi.sh",
        var: "OMK_REAL_KIMI",
        require: "OMK_REQUIRE_REAL_KIMI",
    },
    Client {
        name: "in-toto",
        script: "scripts/install-in-toto.sh",
        var: "OMK_IN_TOTO_PYTHON",
        require: "OMK_REQUIRE_IN_TOTO",
    },
    Client {
        name: "claude",
        script: "scripts/install-claude-code.sh",
        var: "OMK_REAL_CLAUDE",
        require: "OMK_REQUIRE_REAL_CLAUDE",
    },
    Client {
        name: "codex",
        script: "scripts/install-codex.sh",
        var: "OMK_REAL_CODEX",
        require: "OMK_REQUIRE_REAL_CODEX",
    },
    Client {
        name: "chromium",
        script: "scripts/install-chromium.sh",
        var: "OMK_CHROMIUM",
        require: "OMK_REQUIRE_CHROMIUM",
    },
];

/// Which clients ci installs and which `OMK_SKIP_REAL` skips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    pub(crate) install: Vec<Client>,
    pub(crate) skip: Vec<Client>,
}

impl Selection {
    /// Reads `OMK_SKIP_REAL`'s value; an unknown name is an error that lists the known ones.
    pub(crate) fn parse(skip: Option<&str>) -> Result<Self> {
        let mut names: Vec<&str> = skip
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        if names.contains(&"all") {
            names = CLIENTS.iter().map(|client| client.name).collect();
        }
        if let Some(unknown) =
            names.iter().find(|name| !CLIENTS.iter().any(|client| client.name == **name))
        {
            bail!(
                "OMK_SKIP_REAL names `{unknown}`, which is no real client; use `all` or any of {}",
                CLIENTS.map(|client| client.name).join(", ")
            );
        }
        let (skip, install) = CLIENTS.iter().partition(|client| names.contains(&client.name));
        Ok(Self { install, skip })
    }

    /// Returns the warning ci prints when clients are skipped.
    pub(crate) fn warning(&self) -> Option<String> {
        if self.skip.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.skip.iter().map(|client| client.name).collect();
        Some(format!(
            "!!! OMK_SKIP_REAL skips the real {}: their tests DID NOT RUN; this is not the CI run",
            names.join(", ")
        ))
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scripts: Vec<&str> = self.install.iter().map(|client| client.script).collect();
        if scripts.is_empty() {
            f.write_str("no real client to install")?;
        } else {
            write!(f, "{} (cached)", scripts.join(" "))?;
        }
        if !self.skip.is_empty() {
            let names: Vec<&str> = self.skip.iter().map(|client| client.name).collect();
            write!(f, "; skipped by OMK_SKIP_REAL: {}", names.join(", "))?;
        }
        Ok(())
    }
}

/// Runs the install script of every selected client in the workspace at `root`; returns the
/// test suite's environment: each client's path and requirement.
pub(crate) fn install(root: &Path, selection: &Selection) -> Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for client in &selection.install {
        let started = Instant::now();
        let output = Command::new(root.join(client.script))
            .current_dir(root)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("failed to start {}", client.script))?;
        if !output.status.success() {
            bail!(
                "{} exited with {}, so the real {} cannot be tested; fix the install, or skip \
                 its tests with OMK_SKIP_REAL={}",
                client.script,
                output.status,
                client.name,
                client.name
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let path = stdout.lines().last().unwrap_or_default().trim();
        if !Path::new(path).is_absolute() || !Path::new(path).is_file() {
            bail!("{} printed no executable as its last line (got {path:?})", client.script);
        }
        eprintln!("    {}: {path} ({:.1}s)", client.name, started.elapsed().as_secs_f64());
        env.push((client.var.to_owned(), path.to_owned()));
        env.push((client.require.to_owned(), "1".to_owned()));
    }
    Ok(env)
}

/// `cargo xtask real-clients`: installs the clients `OMK_SKIP_REAL` does not skip and prints
/// their variables as shell `export` lines, to run single real-client tests as ci does.
pub(crate) fn run(root: &Path) -> Result<()> {
    let selection = Selection::parse(std::env::var("OMK_SKIP_REAL").ok().as_deref())?;
    if let Some(warning) = selection.warning() {
        eprintln!("{warning}");
    }
    for (key, value) in install(root, &selection)? {
        println!("export {key}='{}'", value.replace('\'', r"'\''"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{fs, os::unix::fs::PermissionsExt};

    use super::{CLIENTS, Client, Selection, install};

    fn names(clients: &[super::Client]) -> Vec<&'static str> {
        clients.iter().map(|client| client.name).collect()
    }

    #[test]
    fn nothing_skipped_installs_every_client() -> anyhow::Result<()> {
        for skip in [None, Some(""), Some(" , ")] {
            let selection = Selection::parse(skip)?;
            assert_eq!(
                names(&selection.install),
                ["kimi", "in-toto", "claude", "codex", "chromium"]
            );
            assert!(selection.skip.is_empty());
            assert_eq!(selection.warning(), None);
        }
        Ok(())
    }

    #[test]
    fn skipped_clients_are_named_loudly() -> anyhow::Result<()> {
        let selection = Selection::parse(Some("claude, codex"))?;
        assert_eq!(names(&selection.install), ["kimi", "in-toto", "chromium"]);
        assert_eq!(names(&selection.skip), ["claude", "codex"]);
        assert_eq!(
            selection.warning().unwrap_or_default(),
            "!!! OMK_SKIP_REAL skips the real claude, codex: their tests DID NOT RUN; this is not the CI run"
        );
        let all = Selection::parse(Some("all"))?;
        assert!(all.install.is_empty());
        assert_eq!(all.skip, CLIENTS);
        Ok(())
    }

    #[test]
    fn an_unknown_name_is_an_error_listing_the_known_ones() {
        let err = Selection::parse(Some("claude-code")).map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OMK_SKIP_REAL names `claude-code`, which is no real client; use `all` or any of \
             kimi, in-toto, claude, codex, chromium"
        );
    }

    fn fake(name: &'static str, script: &'static str) -> Client {
        Client { name, script, var: "OMK_FAKE", require: "OMK_REQUIRE_FAKE" }
    }

    #[test]
    fn install_takes_each_scripts_last_line_and_names_a_failing_one() -> anyhow::Result<()> {
        let root = tempfile::tempdir()?;
        fs::create_dir(root.path().join("scripts"))?;
        let tool = root.path().join("tool");
        fs::write(&tool, "")?;
        for (script, body) in [
            (
                "ok.sh",
                format!("#!/bin/sh\necho progress >&2\necho noise\necho {}\n", tool.display()),
            ),
            ("fails.sh", "#!/bin/sh\necho 'no registry' >&2\nexit 3\n".to_owned()),
            ("relative.sh", "#!/bin/sh\necho tool\n".to_owned()),
        ] {
            let path = root.path().join("scripts").join(script);
            fs::write(&path, body)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
        let selection = |client| Selection { install: vec![client], skip: Vec::new() };
        let env = install(root.path(), &selection(fake("fake", "scripts/ok.sh")))?;
        let tool = tool.display().to_string();
        assert_eq!(
            env,
            [("OMK_FAKE".to_owned(), tool), ("OMK_REQUIRE_FAKE".to_owned(), "1".to_owned())]
        );
        let failed = install(root.path(), &selection(fake("fake", "scripts/fails.sh")));
        let message = failed.map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            message,
            "scripts/fails.sh exited with exit status: 3, so the real fake cannot be tested; fix \
             the install, or skip its tests with OMK_SKIP_REAL=fake"
        );
        let relative = install(root.path(), &selection(fake("fake", "scripts/relative.sh")));
        let message = relative.map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("printed no executable as its last line"), "{message}");
        Ok(())
    }

    #[test]
    fn every_script_exists_and_is_executable() {
        use std::os::unix::fs::PermissionsExt;
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(|it| it.to_path_buf());
        let root = root.unwrap_or_default();
        for client in CLIENTS {
            let mode =
                std::fs::metadata(root.join(client.script)).map(|it| it.permissions().mode());
            assert!(
                mode.is_ok_and(|mode| mode & 0o111 != 0),
                "{} is not executable",
                client.script
            );
        }
    }
}
