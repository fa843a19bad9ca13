//! The `secrets` check: credentials that the change adds.

use std::sync::LazyLock;

use regex::Regex;

use omk_events::ReviewStatus;
use omk_worktree::FileDiff;

use crate::decide::review::{Verdict, count, push_findings};

/// Scans the lines `files` add for credentials; lines removed or kept are not the change's doing.
///
/// A finding is allowed when an entry of `allow` (a regular expression; one that does not
/// compile matches as a literal substring) matches its file's path or its line.
pub(super) fn check_secrets(files: &[FileDiff], allow: &[String]) -> Verdict {
    let allow: Vec<Allow> = allow
        .iter()
        .map(|pattern| match Regex::new(pattern) {
            Ok(regex) => Allow::Regex(regex),
            Err(_) => Allow::Literal(pattern.clone()),
        })
        .collect();
    let is_allowed = |text: &str| {
        allow.iter().any(|it| match it {
            Allow::Regex(regex) => regex.is_match(text),
            Allow::Literal(literal) => text.contains(literal.as_str()),
        })
    };
    let mut n_text_files = 0u32;
    let mut n_binary_files = 0u32;
    let mut n_lines = 0u32;
    let mut n_allowed = 0u32;
    let mut findings = Vec::new();
    for file in files {
        if file.binary {
            n_binary_files += 1;
            continue;
        }
        n_text_files += 1;
        for (line_number, line) in file.added_lines() {
            n_lines += 1;
            for (what, secret) in find_secrets(line) {
                if is_allowed(&file.path) || is_allowed(line) {
                    n_allowed += 1;
                    continue;
                }
                findings.push(format!("{}:{line_number}: {what} {}", file.path, mask(secret)));
            }
        }
    }
    let mut evidence = vec![format!(
        "scanned {}, {}",
        count(n_text_files, "text file"),
        count(n_lines, "added line")
    )];
    if n_binary_files > 0 {
        evidence.push(format!("skipped {}", count(n_binary_files, "binary file")));
    }
    if n_allowed > 0 {
        evidence.push(format!("{} allowed by [review] secrets_allow", count(n_allowed, "finding")));
    }
    if findings.is_empty() {
        evidence.push("found no secrets in the added lines".to_owned());
        return Verdict::new(ReviewStatus::Passed, evidence);
    }
    evidence.push(format!("found {} in the added lines", count(findings.len() as u64, "secret")));
    push_findings(&mut evidence, &findings);
    Verdict {
        status: ReviewStatus::Failed,
        evidence,
        risks: vec!["a secret that reaches a commit stays in the repository's history".to_owned()],
        next_step: Some(
            "remove the secrets from the change and rotate them; if one is a test fixture, allow \
             it with [review] secrets_allow in omk.toml"
                .to_owned(),
        ),
    }
}

enum Allow {
    Regex(Regex),
    Literal(String),
}

/// The secret detectors: what each finds, and the pattern whose first group (or whole match)
/// is the secret.
static DETECTORS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("AWS access key", r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
        ("private key", r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)"),
        ("GitHub token", r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,})"),
        ("GitHub token", r"\b(github_pat_[A-Za-z0-9_]{22,})"),
        ("Slack token", r"\b(xox[baprs]-[A-Za-z0-9-]{10,})"),
        ("JWT", r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
        // OpenAI, Anthropic, Moonshot and other model providers' keys; only when the part after
        // the prefix looks generated, so `sk-learn-compatible-estimators` is no finding.
        ("API key", r"\b(sk-[A-Za-z0-9_-]{20,})"),
        ("GitLab token", r"\b(glpat-[A-Za-z0-9_-]{20,})"),
        ("Google API key", r"\b(AIza[0-9A-Za-z_-]{35})"),
        (
            "secret assignment",
            r#"(?i)(?:api[_-]?key|secret|password|passwd|token)[a-z0-9_.-]*["']?\s*[:=]\s*["']([^"'\s]{16,})["']"#,
        ),
    ]
    .into_iter()
    .map(|(what, pattern)| {
        (what, Regex::new(pattern).expect("the detector patterns are literals tested below"))
    })
    .collect()
});

/// Returns what kind of secret each credential in `line` is, and the credential.
fn find_secrets(line: &str) -> Vec<(&'static str, &str)> {
    let mut found: Vec<(&'static str, &str)> = Vec::new();
    for (what, regex) in DETECTORS.iter() {
        for captures in regex.captures_iter(line) {
            let Some(secret) = captures.get(1) else { continue };
            let secret = secret.as_str();
            let judged = match *what {
                "secret assignment" => secret,
                "API key" => secret.trim_start_matches("sk-"),
                _ => "",
            };
            if !judged.is_empty() && !looks_random(judged) {
                continue;
            }
            // A token the specific detectors found is not reported again as an assignment.
            if !found
                .iter()
                .any(|(_, earlier)| earlier.contains(secret) || secret.contains(earlier))
            {
                found.push((what, secret));
            }
        }
    }
    found
}

/// Returns whether `value` looks generated rather than written: high Shannon entropy and at
/// least two of lowercase letters, uppercase letters and digits.
fn looks_random(value: &str) -> bool {
    let n_chars = value.chars().count() as f64;
    let mut counts = std::collections::BTreeMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let entropy: f64 = counts
        .values()
        .map(|count| {
            let p = f64::from(*count) / n_chars;
            -p * p.log2()
        })
        .sum();
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
    ];
    entropy >= 3.5 && classes.iter().filter(|it| **it).count() >= 2
}

/// Returns `secret` masked: its first four characters and `***`.
fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}***")
}

#[cfg(test)]
mod tests {
    use super::{find_secrets, looks_random, mask};

    #[test]
    fn detectors_find_credentials_and_leave_ordinary_lines_alone() {
        let check = |line: &str| -> Vec<String> {
            find_secrets(line).iter().map(|(what, secret)| format!("{what} {secret}")).collect()
        };
        assert_eq!(
            check("aws_key = AKIAIOSFODNN7EXAMPLE"),
            ["AWS access key AKIAIOSFODNN7EXAMPLE"]
        );
        assert_eq!(
            check("-----BEGIN OPENSSH PRIVATE KEY-----"),
            ["private key -----BEGIN OPENSSH PRIVATE KEY-----"]
        );
        let github = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
        assert_eq!(check(&format!("GITHUB_TOKEN={github}")), [format!("GitHub token {github}")]);
        assert_eq!(
            check("token: xoxb-123456789012-abcdefABCDEF"),
            ["Slack token xoxb-123456789012-abcdefABCDEF"]
        );
        assert_eq!(
            check(r#"let api_key = "Zx81kQp0LmN3vB7rT2yW";"#),
            ["secret assignment Zx81kQp0LmN3vB7rT2yW"]
        );
        assert_eq!(
            check(r#"password = "correct horse battery staple""#),
            [""; 0],
            "spaces end the value"
        );
        assert_eq!(check(r#"password = "aaaaaaaaaaaaaaaaaaaa""#), [""; 0], "low entropy");
        assert_eq!(check(r#"token = "${GITHUB_TOKEN}""#), [""; 0]);
        assert_eq!(check("let tokens = tokenize(input);"), [""; 0]);
        assert_eq!(check("AKIA is the prefix of AWS access key ids"), [""; 0]);
        let model_key = "sk-proj-Q7vX2mLp9RtZ4bNc8WkY1dHf";
        assert_eq!(check(&format!("KIMI_API_KEY={model_key}")), [format!("API key {model_key}")]);
        assert_eq!(
            check("sk-ant-api03-Zx81kQp0LmN3vB7rT2yWq9"),
            ["API key sk-ant-api03-Zx81kQp0LmN3vB7rT2yWq9"]
        );
        assert_eq!(check("pip install sk-learn-compatible-estimators"), [""; 0], "words");
        let gitlab = "glpat-a1B2c3D4e5F6g7H8i9J0";
        assert_eq!(check(gitlab), [format!("GitLab token {gitlab}")]);
        let google = format!("AIza{}", "Sy0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV");
        assert_eq!(check(&google), [format!("Google API key {google}")]);
    }

    #[test]
    fn masks_keep_four_characters() {
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "AKIA***");
        assert!(looks_random("Zx81kQp0LmN3vB7rT2yW"));
        assert!(!looks_random("abcabcabcabcabcabc"));
    }
}
