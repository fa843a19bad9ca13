//! The `[trust]` section of `omk.toml`: the public keys whose signed bundles omk trusts when it
//! verifies or accepts a goal another machine ran (`docs/proof.md#verifying-a-fetched-goal`).

use std::{
    collections::BTreeMap,
    path::{Component, Path},
};

use serde::Deserialize;
use toml::Spanned;

use crate::keys::{Problem, unknown_key};

/// The keys omk trusts (`[trust]`); only `omk.toml` sets them, so they come with the code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustConfig {
    /// The public key files (SubjectPublicKeyInfo PEM, from `omk key generate`), relative to the
    /// repository root (`keys`).
    pub keys: Vec<String>,
    /// Whether a fetched goal must carry a bundle signed by one of [`TrustConfig::keys`]
    /// (`require_signature`); `None` when the file does not say.
    pub require_signature: Option<bool>,
}

impl TrustConfig {
    /// Returns whether a fetched goal needs a trusted signature: `require_signature` when set,
    /// else whether any key is listed.
    pub fn requires_signature(&self) -> bool {
        self.require_signature.unwrap_or(!self.keys.is_empty())
    }
}

/// The keys of `[trust]`.
pub(crate) const TRUST_KEYS: &[&str] = &["keys", "require_signature"];

/// Parses the `[trust]` section of `text`, the content of an `omk.toml`; a missing section
/// trusts no key and requires no signature.
pub(crate) fn parse_trust_config(text: &str) -> Result<TrustConfig, Problem> {
    let error_at = |offset: usize, message: String| Problem { offset, message };
    let file: File = toml::from_str(text).map_err(|err| {
        error_at(err.span().map_or(0, |span| span.start), err.message().to_owned())
    })?;
    let mut config = TrustConfig::default();
    let mut require_at = 0;
    for (key, value) in file.trust.unwrap_or_default() {
        let at = value.span().start;
        match key.get_ref().as_str() {
            "keys" => {
                let wrong = |what: &str| {
                    error_at(
                        at,
                        format!(
                            "[trust] keys must be an array of public key files relative to the \
                             repository root, such as [\"keys/alice.pub\"] (`omk key generate` \
                             writes one); {what}"
                        ),
                    )
                };
                let items = value.get_ref().as_array().ok_or_else(|| wrong("this is no array"))?;
                for item in items {
                    let Some(path) = item.as_str().filter(|it| !it.trim().is_empty()) else {
                        return Err(wrong("an item is not a path"));
                    };
                    let inside = Path::new(path)
                        .components()
                        .all(|it| matches!(it, Component::Normal(_) | Component::CurDir));
                    if !inside {
                        return Err(wrong(&format!(
                            "{path:?} is not inside the repository: commit the key and name it relative to the root"
                        )));
                    }
                    config.keys.push(path.to_owned());
                }
            }
            "require_signature" => {
                require_at = at;
                config.require_signature = Some(value.get_ref().as_bool().ok_or_else(|| {
                    error_at(at, "[trust] require_signature must be true or false".to_owned())
                })?);
            }
            other => {
                return Err(error_at(
                    key.span().start,
                    unknown_key("in [trust]", other, TRUST_KEYS),
                ));
            }
        }
    }
    if config.require_signature == Some(true) && config.keys.is_empty() {
        return Err(error_at(
            require_at,
            "[trust] require_signature = true needs at least one key in [trust] keys; add the public key files of the machines you trust".to_owned(),
        ));
    }
    Ok(config)
}

#[derive(Deserialize)]
struct File {
    trust: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
}

#[cfg(test)]
mod tests {
    use super::parse_trust_config;
    use crate::keys::line_column;

    fn check(text: &str, expect: &str) {
        let actual = match parse_trust_config(text) {
            Ok(config) => format!("{config:?} requires={}", config.requires_signature()),
            Err(problem) => {
                let (line, column) = line_column(text, problem.offset);
                format!("{line}:{column}: {}", problem.message)
            }
        };
        assert_eq!(actual, expect);
    }

    #[test]
    fn trust_section() {
        check("", "TrustConfig { keys: [], require_signature: None } requires=false");
        check(
            "[trust]\nkeys = [\"keys/alice.pub\", \"./ci.pub\"]\n",
            r#"TrustConfig { keys: ["keys/alice.pub", "./ci.pub"], require_signature: None } requires=true"#,
        );
        check(
            "[trust]\nkeys = [\"keys/alice.pub\"]\nrequire_signature = false\n",
            r#"TrustConfig { keys: ["keys/alice.pub"], require_signature: Some(false) } requires=false"#,
        );
        check(
            "[trust]\nrequire_signature = true\n",
            "2:21: [trust] require_signature = true needs at least one key in [trust] keys; add the public key files of the machines you trust",
        );
        check(
            "[trust]\nkeys = \"keys/alice.pub\"\n",
            "2:8: [trust] keys must be an array of public key files relative to the repository root, such as [\"keys/alice.pub\"] (`omk key generate` writes one); this is no array",
        );
        check(
            "[trust]\nkeys = [\"/etc/alice.pub\"]\n",
            "2:8: [trust] keys must be an array of public key files relative to the repository root, such as [\"keys/alice.pub\"] (`omk key generate` writes one); \"/etc/alice.pub\" is not inside the repository: commit the key and name it relative to the root",
        );
        check(
            "[trust]\nkeys = [\"../alice.pub\"]\n",
            "2:8: [trust] keys must be an array of public key files relative to the repository root, such as [\"keys/alice.pub\"] (`omk key generate` writes one); \"../alice.pub\" is not inside the repository: commit the key and name it relative to the root",
        );
        check(
            "[trust]\nrequire_signature = 1\n",
            "2:21: [trust] require_signature must be true or false",
        );
        check("[trust]\nkey = []\n", "2:1: unknown key `key` in [trust]; did you mean `keys`?");
    }
}
