//! Masking secrets in captured output before it is stored: the values of secret-looking
//! environment variables and common token shapes.

use std::sync::LazyLock;

use regex::Regex;

/// Masks secrets in lines of output; one per output stream, since a private key block spans
/// lines.
#[derive(Debug, Clone)]
pub(crate) struct Redactor {
    /// The secret values to mask, longest first, with the variable that holds each.
    secrets: Vec<(String, String)>,
    /// Whether the previous line opened a private key block that has not ended yet.
    in_private_key: bool,
}

/// Variable names whose values are secrets: a name containing one of these, upper-cased.
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH",
    "_PAT",
    "SESSION_KEY",
];

/// Values shorter than this are not masked: `1`, `true` and `dev` are not secrets, and
/// masking them would garble the output.
const MIN_SECRET_LEN: usize = 8;

/// Token shapes masked wherever they appear.
static TOKEN_SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\bsk-[A-Za-z0-9_-]{20,}",
        r"|\bgh[pousr]_[A-Za-z0-9]{30,}",
        r"|\bgithub_pat_[A-Za-z0-9_]{22,}",
        r"|\bglpat-[A-Za-z0-9_-]{20,}",
        r"|\bxox[abprs]-[A-Za-z0-9-]{10,}",
        r"|\bAKIA[0-9A-Z]{16}\b",
        r"|\bAIza[0-9A-Za-z_-]{35}",
    ))
    .expect("the token-shape pattern is valid because it is a literal tested below")
});

/// Secrets after a telling prefix (`Bearer `, `api_key=`, `"password": "`); group 1 is the
/// prefix, kept so the output still reads.
static PREFIXED_SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}",
        r#"|(\b[a-z0-9_]*(?:api[_-]?key|secret|token|password)["']?\s*[:=]\s*["']?)[^\s"',;\[]{8,}"#,
    ))
    .expect("the prefixed-secret pattern is valid because it is a literal tested below")
});

static PRIVATE_KEY_BEGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
        .expect("the private-key pattern is valid because it is a literal tested below")
});

static PRIVATE_KEY_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
        .expect("the private-key pattern is valid because it is a literal tested below")
});

/// The values of the secret-looking variables of an environment (8 characters or more), each
/// with the variable that holds it, longest first: what a gate's output has masked.
#[derive(Debug, Clone)]
pub struct SecretValues(Vec<(String, String)>);

impl SecretValues {
    /// Returns the secret values among `env`.
    pub fn new<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut secrets: Vec<(String, String)> = env
            .into_iter()
            .filter(|(name, value)| is_secret_name(name) && value.len() >= MIN_SECRET_LEN)
            .map(|(name, value)| (value.to_owned(), name.to_owned()))
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        secrets.dedup_by(|a, b| a.0 == b.0);
        Self(secrets)
    }

    /// Returns the names of the variables whose values `bytes` holds, sorted: for files that
    /// were not masked (an agent's transcript) before they leave the machine.
    pub fn held_in(&self, bytes: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(bytes);
        let mut names: Vec<String> = self
            .0
            .iter()
            .filter(|(value, _)| text.contains(value.as_str()))
            .map(|(_, name)| name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl Redactor {
    /// Returns a redactor for the secret-looking variables among `env`.
    pub(crate) fn new<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self { secrets: SecretValues::new(env).0, in_private_key: false }
    }

    /// Returns `line` with its secrets masked, or `None` when it has none.
    pub(crate) fn redact(&mut self, line: &str) -> Option<String> {
        if self.in_private_key {
            if PRIVATE_KEY_END.is_match(line) {
                self.in_private_key = false;
            }
            let ending = if line.ends_with('\n') { "\n" } else { "" };
            return Some(format!("[REDACTED PRIVATE KEY]{ending}"));
        }
        let mut changed: Option<String> = None;
        if let Some(begin) = PRIVATE_KEY_BEGIN.find(line) {
            let ending = if line.ends_with('\n') { "\n" } else { "" };
            self.in_private_key = !PRIVATE_KEY_END.is_match(&line[begin.end()..]);
            changed = Some(format!("{}[REDACTED PRIVATE KEY]{ending}", &line[..begin.start()]));
        }
        for (value, name) in &self.secrets {
            let current = changed.as_deref().unwrap_or(line);
            if current.contains(value.as_str()) {
                changed = Some(current.replace(value.as_str(), &format!("[REDACTED:{name}]")));
            }
        }
        let current = changed.as_deref().unwrap_or(line);
        if TOKEN_SHAPES.is_match(current) {
            changed = Some(TOKEN_SHAPES.replace_all(current, "[REDACTED]").into_owned());
        }
        let current = changed.as_deref().unwrap_or(line);
        if PREFIXED_SECRETS.is_match(current) {
            let masked = PREFIXED_SECRETS.replace_all(current, |captures: &regex::Captures<'_>| {
                let prefix =
                    captures.get(1).or_else(|| captures.get(2)).map_or("", |it| it.as_str());
                format!("{prefix}[REDACTED]")
            });
            changed = Some(masked.into_owned());
        }
        changed
    }
}

/// Returns `text` with the secrets a gate's output would have masked masked: the values of the
/// secret-looking variables among `env`, private key blocks and common token shapes.
///
/// For text omk writes from several sources (a repair round's follow-up), so nothing it hands
/// on carries a secret that the gate logs would not.
pub fn redact_text(text: &str, env: &[(String, String)]) -> String {
    let mut redactor =
        Redactor::new(env.iter().map(|(name, value)| (name.as_str(), value.as_str())));
    text.split_inclusive('\n')
        .map(|line| redactor.redact(line).unwrap_or_else(|| line.to_owned()))
        .collect()
}

fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(env: &[(&str, &str)], input: &str, expect: &str) {
        let env: Vec<(String, String)> =
            env.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        assert_eq!(redact_text(input, &env), expect);
    }

    #[test]
    fn secret_variables_and_token_shapes_are_masked() {
        let env =
            [("MY_API_TOKEN", "hunter2hunter2"), ("HOME", "/home/someone"), ("PW_TOKEN", "x")];
        check(
            &env,
            "token hunter2hunter2 in /home/someone\n",
            "token [REDACTED:MY_API_TOKEN] in /home/someone\n",
        );
        check(&[], "ok\n", "ok\n");
        check(
            &[],
            "Authorization: Bearer abcdefghijklmnop.qrs\n",
            "Authorization: Bearer [REDACTED]\n",
        );
        check(&[], "key sk-ant-0123456789abcdefghijXYZ end\n", "key [REDACTED] end\n");
        check(
            &[],
            "ghp_0123456789abcdefghij0123456789abcdef AKIAABCDEFGHIJKLMNOP\n",
            "[REDACTED] [REDACTED]\n",
        );
        check(&[], "API_KEY=0123456789abc\n", "API_KEY=[REDACTED]\n");
        check(&[], "\"password\": \"correct-horse\"\n", "\"password\": \"[REDACTED]\"\n");
        check(&[], "tokens: 12\n", "tokens: 12\n");
        check(
            &[],
            "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\nBBBB\n-----END OPENSSH PRIVATE KEY-----\nb\n",
            "a\n[REDACTED PRIVATE KEY]\n[REDACTED PRIVATE KEY]\n[REDACTED PRIVATE KEY]\n[REDACTED PRIVATE KEY]\nb\n",
        );
    }

    #[test]
    fn held_in_names_the_secret_variables_whose_values_a_file_holds() {
        let env: Vec<(String, String)> = [
            ("MY_API_TOKEN", "hunter2hunter2"),
            ("OTHER_SECRET", "not-in-the-file"),
            ("HOME", "/home/someone"),
            ("PW_TOKEN", "x"),
        ]
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
        let secrets = SecretValues::new(env.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let file = b"{\"text\":\"hunter2hunter2 in /home/someone, x\"}\n\xff";
        assert_eq!(secrets.held_in(file), ["MY_API_TOKEN"]);
        assert!(secrets.held_in(b"nothing here").is_empty());
    }
}
