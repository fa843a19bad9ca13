//! The `[sandbox]` section of `omk.toml`: whether and how the processes of a goal are confined.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::keys::{Problem, unknown_key};

/// How the processes omk starts for a goal are confined (`[sandbox]`); see `docs/sandbox.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Whether to confine them (`mode`, default `landlock`).
    pub mode: SandboxSetting,
    /// More paths they may write beneath (`writable`): absolute, or relative to the repository
    /// root.
    pub writable: Vec<String>,
    /// Whether gates may bind and connect TCP ports (`network`, default true).
    pub network: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self { mode: SandboxSetting::Landlock, writable: Vec::new(), network: true }
    }
}

/// The `mode` of `[sandbox]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxSetting {
    /// Confine with Landlock where the kernel has it (`"landlock"`).
    Landlock,
    /// Do not confine (`"off"`); the proof then carries a gap.
    Off,
}

impl SandboxSetting {
    /// Returns the value as `omk.toml` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Landlock => "landlock",
            Self::Off => "off",
        }
    }
}

/// The keys of `[sandbox]`.
pub(crate) const SANDBOX_KEYS: &[&str] = &["mode", "writable", "network"];

/// Parses the `[sandbox]` section of `text`, the content of an `omk.toml`; a missing section
/// gives the defaults.
pub(crate) fn parse_sandbox_config(text: &str) -> Result<SandboxConfig, Problem> {
    let error_at = |offset: usize, message: String| Problem { offset, message };
    let file: File = toml::from_str(text).map_err(|err| {
        error_at(err.span().map_or(0, |span| span.start), err.message().to_owned())
    })?;
    let mut config = SandboxConfig::default();
    for (key, value) in file.sandbox.unwrap_or_default() {
        let at = value.span().start;
        match key.get_ref().as_str() {
            "mode" => {
                config.mode = match value.get_ref().as_str() {
                    Some("landlock") => SandboxSetting::Landlock,
                    Some("off") => SandboxSetting::Off,
                    _ => {
                        return Err(error_at(
                            at,
                            "[sandbox] mode must be \"landlock\" or \"off\"".to_owned(),
                        ));
                    }
                };
            }
            "writable" => {
                let wrong = || {
                    error_at(
                        at,
                        "[sandbox] writable must be an array of paths (absolute, or relative to \
                         the repository root), none empty"
                            .to_owned(),
                    )
                };
                let items = value.get_ref().as_array().ok_or_else(wrong)?;
                config.writable = items
                    .iter()
                    .map(|item| item.as_str().filter(|it| !it.trim().is_empty()).map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(wrong)?;
            }
            "network" => {
                config.network = value.get_ref().as_bool().ok_or_else(|| {
                    error_at(at, "[sandbox] network must be true or false".to_owned())
                })?;
            }
            other => {
                return Err(error_at(
                    key.span().start,
                    unknown_key("in [sandbox]", other, SANDBOX_KEYS),
                ));
            }
        }
    }
    Ok(config)
}

#[derive(Deserialize)]
struct File {
    sandbox: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

#[cfg(test)]
mod tests {
    use super::parse_sandbox_config;
    use crate::keys::line_column;

    fn check(text: &str, expect: &str) {
        let actual = match parse_sandbox_config(text) {
            Ok(config) => format!("{config:?}"),
            Err(problem) => {
                let (line, column) = line_column(text, problem.offset);
                format!("{line}:{column}: {}", problem.message)
            }
        };
        assert_eq!(actual, expect);
    }

    #[test]
    fn sandbox_section() {
        check("", r#"SandboxConfig { mode: Landlock, writable: [], network: true }"#);
        check(
            "[sandbox]\nmode = \"off\"\nwritable = [\"/opt/cache\", \"build\"]\nnetwork = false\n",
            r#"SandboxConfig { mode: Off, writable: ["/opt/cache", "build"], network: false }"#,
        );
        check(
            "[sandbox]\nmode = \"strict\"\n",
            r#"2:8: [sandbox] mode must be "landlock" or "off""#,
        );
        check(
            "[sandbox]\nwritable = [\"\"]\n",
            "2:12: [sandbox] writable must be an array of paths (absolute, or relative to the repository root), none empty",
        );
        check("[sandbox]\nnetwork = \"no\"\n", "2:11: [sandbox] network must be true or false");
        check(
            "[sandbox]\nwriteable = []\n",
            "2:1: unknown key `writeable` in [sandbox]; did you mean `writable`?",
        );
    }
}
