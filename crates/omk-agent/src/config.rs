//! The agent sections of `omk.toml`: `[agent]`, `[[approvals]]` and `[prices.<agent>]`.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

use crate::{
    error::Error,
    policy::{ApprovalPolicy, Decision, Rule},
};

/// What `omk.toml` says about agents; [`AgentConfig::default`] when it says nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    /// The agent when `--agent` is not given (`[agent] default`).
    pub default_agent: Option<String>,
    /// The wall-clock limit of a run (`[agent] timeout_secs`, default 3600).
    pub timeout: Duration,
    /// The longest time without output (`[agent] idle_timeout_secs`, default 600).
    pub idle_timeout: Duration,
    /// Programs to run instead of those found on `PATH`, by agent (`[agent.programs]`).
    pub programs: BTreeMap<String, PathBuf>,
    /// The approval policy (`[[approvals]]` rules, then the defaults).
    pub approvals: ApprovalPolicy,
    /// Token prices by agent name (`[prices.<agent>]`), for cost estimates.
    pub prices: BTreeMap<String, Price>,
    /// The file that set each agent's price, as a cost estimate names its table
    /// (`~/.config/omk/config.toml [prices.kimi]`); a price without one is `omk.toml`'s.
    pub price_files: BTreeMap<String, String>,
    /// How many times a run that failed with a retryable error (a rate limit, an overloaded
    /// provider, Kimi print mode's exit 75) is tried again (`[agent] retries`, default 2).
    pub retries: u32,
    /// The wait before the first retry, doubled for each further one (`[agent]
    /// retry_backoff_ms`, default 1000).
    pub retry_backoff: Duration,
    /// Whether `omk run` registers omk's MCP server (`omk mcp`: the goal's gates as tools)
    /// with agents that take MCP configuration (`[agent] mcp`, default true).
    pub mcp: bool,
}

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached input tokens.
    pub input_per_mtok: f64,
    /// Output tokens.
    pub output_per_mtok: f64,
    /// Input tokens read from a cache (default: the input price).
    pub cache_read_per_mtok: Option<f64>,
    /// Input tokens written to a cache (default: the input price).
    pub cache_write_per_mtok: Option<f64>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            default_agent: None,
            timeout: Duration::from_secs(3600),
            idle_timeout: Duration::from_secs(600),
            programs: BTreeMap::new(),
            approvals: ApprovalPolicy::default(),
            prices: BTreeMap::new(),
            price_files: BTreeMap::new(),
            retries: 2,
            retry_backoff: Duration::from_millis(1000),
            mcp: true,
        }
    }
}

/// Parses the agent sections of `text`, the content of an `omk.toml`.
///
/// Other top-level keys (`gates`) are left to their own parsers; whether a key is known at all
/// is checked by the caller, which knows every section. Errors carry the byte offset of the
/// problem, which the caller turns into the file, line and column. Each `[[approvals]]` rule's
/// source is `omk.toml [[approvals]] #N`; a caller that reads the rules from another file
/// renames them.
pub fn parse_config(text: &str) -> Result<AgentConfig, Error> {
    let error_at = |offset: usize, message: String| Error::Config { offset, message };
    let file: File = toml::from_str(text).map_err(|err| {
        error_at(err.span().map_or(0, |span| span.start), err.message().to_owned())
    })?;
    let mut config = AgentConfig::default();
    if let Some(agent) = file.agent {
        config.default_agent = agent.default;
        for (key, value) in
            [("timeout_secs", &agent.timeout_secs), ("idle_timeout_secs", &agent.idle_timeout_secs)]
        {
            if let Some(value) = value
                && *value.get_ref() == 0
            {
                return Err(error_at(
                    value.span().start,
                    format!("[agent] {key} must be at least 1"),
                ));
            }
        }
        if let Some(secs) = agent.timeout_secs {
            config.timeout = Duration::from_secs(secs.into_inner());
        }
        if let Some(secs) = agent.idle_timeout_secs {
            config.idle_timeout = Duration::from_secs(secs.into_inner());
        }
        config.programs = agent.programs;
        if let Some(retries) = agent.retries {
            config.retries = retries;
        }
        if let Some(ms) = agent.retry_backoff_ms {
            config.retry_backoff = Duration::from_millis(ms);
        }
        if let Some(mcp) = agent.mcp {
            config.mcp = mcp;
        }
    }
    let mut rules = Vec::new();
    for (idx, raw) in file.approvals.into_iter().enumerate() {
        let decision = match raw.decision.get_ref().as_str() {
            "allow" => Decision::Allow,
            "deny" => Decision::Deny,
            "ask" => Decision::Ask,
            other => {
                return Err(error_at(
                    raw.decision.span().start,
                    format!(
                        "[[approvals]] #{}: decision {other:?} must be allow, deny or ask",
                        idx + 1
                    ),
                ));
            }
        };
        rules.push(Rule {
            decision,
            tools: raw.tools,
            programs: raw.programs,
            commands: raw.commands,
            paths: raw.paths,
            outside_worktree: raw.outside_worktree,
            source: format!("omk.toml [[approvals]] #{}", idx + 1),
        });
    }
    config.approvals = ApprovalPolicy::with_rules(rules);
    config.prices = file.prices;
    Ok(config)
}

/// The agent sections; other top-level keys are ignored here (see [`parse_config`]).
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    agent: Option<RawAgent>,
    #[serde(default)]
    approvals: Vec<RawRule>,
    #[serde(default)]
    prices: BTreeMap<String, Price>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    default: Option<String>,
    timeout_secs: Option<toml::Spanned<u64>>,
    idle_timeout_secs: Option<toml::Spanned<u64>>,
    #[serde(default)]
    programs: BTreeMap<String, PathBuf>,
    retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    mcp: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    decision: toml::Spanned<String>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    programs: Vec<String>,
    #[serde(default)]
    commands: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    outside_worktree: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_parse_and_errors_name_the_place() {
        let text = "[agent]\ndefault = \"kimi\"\ntimeout_secs = 5\n\n[[approvals]]\ndecision = \"deny\"\ntools = [\"Shell\"]\n\n[prices.kimi]\ninput_per_mtok = 0.6\noutput_per_mtok = 2.5\n\n[[gates]]\nname = \"t\"\ncommand = \"true\"\n";
        let config = parse_config(text).expect("valid");
        assert_eq!(config.default_agent.as_deref(), Some("kimi"));
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert_eq!(config.approvals.rules[0].source, "omk.toml [[approvals]] #1");
        assert_eq!(config.prices["kimi"].output_per_mtok, 2.5);

        let check_err = |text: &str, expect_offset: usize, expect: &str| {
            let err = parse_config(text).unwrap_err();
            assert!(
                matches!(&err, Error::Config { offset, .. } if *offset == expect_offset),
                "{err:?}"
            );
            assert!(err.to_string().starts_with(expect), "{err}");
        };
        check_err("[agent]\ndefualt = 1\n", 8, "unknown field `defualt`");
        check_err(
            "[[approvals]]\ndecision = \"maybe\"\n",
            25,
            "[[approvals]] #1: decision \"maybe\" must be allow, deny or ask",
        );
        check_err("[agent]\ntimeout_secs = 0\n", 23, "[agent] timeout_secs must be at least 1");
    }
}
