//! The approval policy: which tool calls an agent may make, as data from `omk.toml`.

use std::{
    fmt,
    path::{Component, Path, PathBuf},
};

use omk_events::{ApprovalDecided, ApprovalDecision};

/// Ordered rules; the first rule that matches a request decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// The rules of `omk.toml`, then the default rules.
    pub rules: Vec<Rule>,
}

/// One rule: a decision and the conditions a request must all meet.
///
/// A condition that is empty always holds; a list holds when any of its entries matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// The answer when the rule matches.
    pub decision: Decision,
    /// Tool name globs, such as `Shell` or `Write*`.
    pub tools: Vec<String>,
    /// Programs: the first word of any simple command of a shell line, such as `curl`.
    pub programs: Vec<String>,
    /// Globs on each simple command of a shell line, such as `git push*`.
    pub commands: Vec<String>,
    /// Globs on the written path, relative to the worktree, such as `src/**`.
    pub paths: Vec<String>,
    /// Matches only calls that write a path outside the worktree.
    pub outside_worktree: bool,
    /// Where the rule comes from: `omk.toml [[approvals]] #N` or `default`.
    pub source: String,
}

/// The answer of a rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Decision {
    /// The call may run.
    Allow,
    /// The call is refused.
    #[default]
    Deny,
    /// A person must decide; unattended, the call is refused.
    Ask,
}

/// A tool call an agent asks to make.
#[derive(Debug, Clone, Default)]
pub struct ApprovalRequest {
    /// The tool's name.
    pub tool: String,
    /// The agent's id of the call.
    pub tool_call_id: Option<String>,
    /// The shell command, for tools that run one.
    pub command: Option<String>,
    /// The path the call writes, as the agent gave it.
    pub path: Option<String>,
}

impl Default for ApprovalPolicy {
    /// Returns the safe default for a disposable worktree: edits inside the worktree and
    /// ordinary commands are allowed; writes outside it, `git push` and network tools are
    /// denied; anything else asks, which an unattended run refuses.
    fn default() -> Self {
        Self { rules: default_rules() }
    }
}

impl ApprovalPolicy {
    /// Returns the policy with `rules` first, then the default rules.
    pub fn with_rules(mut rules: Vec<Rule>) -> Self {
        rules.extend(default_rules());
        Self { rules }
    }

    /// Decides `request` for an agent working in `worktree`.
    pub fn decide(&self, worktree: &Path, request: &ApprovalRequest) -> ApprovalDecided {
        let relative = request.path.as_deref().map(|path| relative_path(worktree, path));
        let simple_commands = request.command.as_deref().map(simple_commands).unwrap_or_default();
        let matched = self
            .rules
            .iter()
            .find(|rule| rule.matches(request, relative.as_ref(), &simple_commands));
        let (decision, rule, source) = match matched {
            Some(rule) => (rule.decision, rule.to_string(), rule.source.clone()),
            None => (Decision::Ask, "ask (no rule matched)".to_owned(), "default".to_owned()),
        };
        ApprovalDecided {
            tool: request.tool.clone(),
            tool_call_id: request.tool_call_id.clone(),
            command: request.command.clone(),
            path: request.path.clone(),
            decision: match decision {
                Decision::Allow => ApprovalDecision::Allow,
                Decision::Deny => ApprovalDecision::Deny,
                Decision::Ask => ApprovalDecision::Ask,
            },
            rule,
            rule_source: source,
        }
    }
}

impl Rule {
    fn matches(
        &self,
        request: &ApprovalRequest,
        relative: Option<&Result<String, PathBuf>>,
        simple_commands: &[String],
    ) -> bool {
        let any = |patterns: &[String], text: &str| patterns.iter().any(|it| glob_match(it, text));
        if !self.tools.is_empty() && !any(&self.tools, &request.tool) {
            return false;
        }
        if !self.programs.is_empty()
            && !simple_commands.iter().any(|command| {
                let program = program_of(command);
                self.programs.iter().any(|it| it == program)
            })
        {
            return false;
        }
        if !self.commands.is_empty()
            && !simple_commands.iter().any(|command| any(&self.commands, command))
        {
            return false;
        }
        if !self.paths.is_empty() && !matches!(relative, Some(Ok(path)) if any(&self.paths, path)) {
            return false;
        }
        if self.outside_worktree && !matches!(relative, Some(Err(_))) {
            return false;
        }
        true
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.decision {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Ask => "ask",
        })?;
        let mut any = false;
        for (name, values) in [
            ("tools", &self.tools),
            ("programs", &self.programs),
            ("commands", &self.commands),
            ("paths", &self.paths),
        ] {
            if !values.is_empty() {
                write!(f, " {name}={values:?}")?;
                any = true;
            }
        }
        if self.outside_worktree {
            f.write_str(" outside_worktree")?;
            any = true;
        }
        if !any {
            f.write_str(" (every call)")?;
        }
        Ok(())
    }
}

fn default_rules() -> Vec<Rule> {
    let strings = |items: &[&str]| items.iter().map(|&it| it.to_owned()).collect::<Vec<_>>();
    let rule = |decision| Rule { decision, source: "default".to_owned(), ..Rule::default() };
    vec![
        Rule { outside_worktree: true, ..rule(Decision::Deny) },
        Rule {
            programs: strings(&["git"]),
            commands: strings(&["git push*", "git * push*"]),
            ..rule(Decision::Deny)
        },
        Rule {
            programs: strings(&[
                "curl", "wget", "ssh", "scp", "sftp", "rsync", "nc", "ncat", "netcat", "telnet",
                "ftp",
            ]),
            ..rule(Decision::Deny)
        },
        Rule {
            tools: strings(&["FetchURL", "SearchWeb", "WebFetch", "WebSearch", "web_search"]),
            ..rule(Decision::Deny)
        },
        Rule {
            tools: strings(&["WriteFile", "StrReplaceFile", "Write", "Edit", "MultiEdit"]),
            ..rule(Decision::Allow)
        },
        Rule { tools: strings(&["Shell", "Bash"]), ..rule(Decision::Allow) },
        // omk's own MCP server: the goal's gates, run in the agent's sandbox (Kimi names the
        // tools bare, Claude Code `mcp__omk__<tool>`).
        Rule {
            tools: crate::mcp::MCP_TOOLS
                .iter()
                .flat_map(|tool| {
                    [(*tool).to_owned(), format!("mcp__{}__{tool}", crate::mcp::MCP_SERVER_NAME)]
                })
                .collect(),
            ..rule(Decision::Allow)
        },
        rule(Decision::Ask),
    ]
}

/// Returns `path` relative to `worktree`, or the normalized absolute path when it is outside.
fn relative_path(worktree: &Path, path: &str) -> Result<String, PathBuf> {
    let mut normalized = PathBuf::new();
    for component in worktree.join(path).components() {
        match component {
            Component::ParentDir => {
                normalized.pop();
            }
            Component::CurDir => {}
            other => normalized.push(other),
        }
    }
    match normalized.strip_prefix(worktree) {
        Ok(relative) => Ok(relative.to_string_lossy().replace('\\', "/")),
        Err(_) => Err(normalized),
    }
}

/// Splits a shell line into simple commands at `;`, `&`, `|`, newlines, `$(` and backticks.
fn simple_commands(line: &str) -> Vec<String> {
    line.split([';', '&', '|', '\n', '`', '(', ')'])
        .map(|part| part.trim().trim_start_matches('$').trim())
        .filter(|part| !part.is_empty())
        .map(|part| {
            // Leading `VAR=value` assignments and `sudo`/`env` do not change the program.
            let words: Vec<&str> = part.split_whitespace().collect();
            let skip = words
                .iter()
                .take_while(|word| {
                    word.contains('=') || matches!(**word, "sudo" | "env" | "exec" | "command")
                })
                .count();
            words[skip..].join(" ")
        })
        .filter(|part| !part.is_empty())
        .collect()
}

fn program_of(command: &str) -> &str {
    let first = command.split_whitespace().next().unwrap_or_default();
    first.rsplit('/').next().unwrap_or(first)
}

/// Matches `text` against `pattern`, where `*` matches any run of characters.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(tool: &str, command: Option<&str>, path: Option<&str>, expect: &str) {
        let policy = ApprovalPolicy::default();
        let request = ApprovalRequest {
            tool: tool.to_owned(),
            tool_call_id: None,
            command: command.map(str::to_owned),
            path: path.map(str::to_owned),
        };
        let decided = policy.decide(Path::new("/wt"), &request);
        assert_eq!(format!("{} by {}", decided.decision, decided.rule), expect);
    }

    #[test]
    fn the_default_policy_allows_work_inside_the_worktree_only() {
        check(
            "WriteFile",
            None,
            Some("src/a.rs"),
            r#"allow by allow tools=["WriteFile", "StrReplaceFile", "Write", "Edit", "MultiEdit"]"#,
        );
        check(
            "WriteFile",
            None,
            Some("/wt/src/a.rs"),
            r#"allow by allow tools=["WriteFile", "StrReplaceFile", "Write", "Edit", "MultiEdit"]"#,
        );
        check("WriteFile", None, Some("../x"), "deny by deny outside_worktree");
        check("WriteFile", None, Some("/etc/passwd"), "deny by deny outside_worktree");
        check("Shell", Some("cargo test"), None, r#"allow by allow tools=["Shell", "Bash"]"#);
        check(
            "Shell",
            Some("cd sub && git push origin main"),
            None,
            r#"deny by deny programs=["git"] commands=["git push*", "git * push*"]"#,
        );
        check(
            "Shell",
            Some("GIT_X=1 git -C . push"),
            None,
            r#"deny by deny programs=["git"] commands=["git push*", "git * push*"]"#,
        );
        check(
            "Bash",
            Some("echo $(curl http://x)"),
            None,
            "deny by deny programs=[\"curl\", \"wget\", \"ssh\", \"scp\", \"sftp\", \"rsync\", \"nc\", \"ncat\", \"netcat\", \"telnet\", \"ftp\"]",
        );
        check(
            "SearchWeb",
            None,
            None,
            "deny by deny tools=[\"FetchURL\", \"SearchWeb\", \"WebFetch\", \"WebSearch\", \"web_search\"]",
        );
        check("Agent", None, None, "ask by ask (every call)");
    }

    #[test]
    fn globs_match_like_shell_wildcards() {
        assert!(glob_match("git push*", "git push origin"));
        assert!(glob_match("*.rs", "src/a.rs"));
        assert!(!glob_match("git push*", "git status"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b", "ab c"));
    }
}
