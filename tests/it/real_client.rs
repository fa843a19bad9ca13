//! Finding the real clients the end-to-end tests run (the Kimi CLI, Claude Code, Codex, the
//! in-toto library), installed by `scripts/install-*.sh`.
//!
//! `cargo xtask ci` runs the install scripts and sets, for each client, `OMK_REAL_<X>` (the
//! path) and `OMK_REQUIRE_<X>=1`: a test whose client is then missing fails and says why. Only
//! `OMK_SKIP_REAL` (a comma-separated list of client names, or `all`) skips one, and the test
//! says so on stderr. Outside CI, without `OMK_REQUIRE_<X>`, a missing client is a note on
//! stderr and the test passes.

use std::{
    env,
    io::Write,
    path::{Path, PathBuf},
};

/// A real client a test needs.
pub(crate) struct RealClient {
    /// Its name in `OMK_SKIP_REAL`: `kimi`, `in-toto`, `claude`, `codex`, `chromium`.
    pub(crate) name: &'static str,
    /// The variable that holds its path.
    pub(crate) var: &'static str,
    /// The variable that makes it required.
    pub(crate) require: &'static str,
    /// Where its install script puts it, relative to `$HOME` (or absolute: joined to `$HOME`,
    /// an absolute path stays itself).
    pub(crate) default: &'static str,
    /// The script that installs it.
    pub(crate) script: &'static str,
}

pub(crate) const KIMI: RealClient = RealClient {
    name: "kimi",
    var: "OMK_REAL_KIMI",
    require: "OMK_REQUIRE_REAL_KIMI",
    default: ".cache/omk/kimi-cli-1.51.0/venv/bin/kimi",
    script: "scripts/install-kimi.sh",
};

pub(crate) const IN_TOTO: RealClient = RealClient {
    name: "in-toto",
    var: "OMK_IN_TOTO_PYTHON",
    require: "OMK_REQUIRE_IN_TOTO",
    default: ".cache/omk/in-toto-3.1.0/venv/bin/python",
    script: "scripts/install-in-toto.sh",
};

pub(crate) const CLAUDE: RealClient = RealClient {
    name: "claude",
    var: "OMK_REAL_CLAUDE",
    require: "OMK_REQUIRE_REAL_CLAUDE",
    default: ".cache/omk/claude-code-2.1.332/node_modules/.bin/claude",
    script: "scripts/install-claude-code.sh",
};

pub(crate) const CODEX: RealClient = RealClient {
    name: "codex",
    var: "OMK_REAL_CODEX",
    require: "OMK_REQUIRE_REAL_CODEX",
    default: ".cache/omk/codex-0.171.0/node_modules/.bin/codex",
    script: "scripts/install-codex.sh",
};

pub(crate) const CHROMIUM: RealClient = RealClient {
    name: "chromium",
    var: "OMK_CHROMIUM",
    require: "OMK_REQUIRE_CHROMIUM",
    default: "/usr/bin/chromium-headless-shell",
    script: "scripts/install-chromium.sh",
};

impl RealClient {
    /// Returns the client's path, or `None` (after saying why on stderr) when the test cannot
    /// run it and need not: it is skipped with `OMK_SKIP_REAL`, or missing and not required.
    /// Fails when it is required and missing.
    pub(crate) fn find(&self) -> anyhow::Result<Option<PathBuf>> {
        let skip = env::var("OMK_SKIP_REAL").unwrap_or_default();
        if skipped(&skip, self.name) {
            writeln!(
                std::io::stderr(),
                "SKIPPED: the real {} is skipped (OMK_SKIP_REAL={skip}); this test did not run",
                self.name
            )?;
            return Ok(None);
        }
        let path = match env::var_os(self.var) {
            Some(path) => PathBuf::from(path),
            None => Path::new(&env::var_os("HOME").unwrap_or_default()).join(self.default),
        };
        if path.is_file() {
            return Ok(Some(path));
        }
        anyhow::ensure!(
            env::var_os(self.require).is_none(),
            "{} is set but the real {} is not at {} ({}); run {}, or skip it with OMK_SKIP_REAL={}",
            self.require,
            self.name,
            path.display(),
            if env::var_os(self.var).is_some() { self.var } else { "its default path" },
            self.script,
            self.name
        );
        writeln!(
            std::io::stderr(),
            "note: the real {} is not installed ({}); run {} to test against it",
            self.name,
            path.display(),
            self.script
        )?;
        Ok(None)
    }
}

/// Returns whether `OMK_SKIP_REAL`'s value `skip` names the client `name` (or says `all`).
pub(crate) fn skipped(skip: &str, name: &str) -> bool {
    skip.split(',').map(str::trim).any(|item| item == name || item == "all")
}

#[test]
fn skip_lists_name_clients_or_all() {
    assert!(skipped("claude,codex", "codex"));
    assert!(skipped(" all ", "kimi"));
    assert!(skipped("kimi, in-toto", "in-toto"));
    assert!(!skipped("claude-code", "claude"));
    assert!(!skipped("", "claude"));
}
