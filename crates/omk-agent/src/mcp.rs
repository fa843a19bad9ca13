//! Registering omk's MCP server (`omk mcp`) with the agents that take MCP configuration: the
//! command-line arguments each agent's CLI reads it from.

use std::path::PathBuf;

use serde_json::json;

use crate::agent::AgentSpec;

/// The name the server is registered under; Claude Code prefixes its tools with it
/// (`mcp__omk__gates_run`).
pub const MCP_SERVER_NAME: &str = "omk";

/// The tools `omk mcp` serves.
pub const MCP_TOOLS: &[&str] = &["gates_list", "gates_run", "goal_status"];

/// An MCP server over stdio that the agent should start: its program, arguments and
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServer {
    /// The program (the `omk` binary).
    pub program: PathBuf,
    /// Its arguments (`-C ROOT mcp --goal ID`).
    pub args: Vec<String>,
    /// Variables it needs, which an agent may not pass on by itself (`PATH`).
    pub env: Vec<(String, String)>,
}

impl AgentSpec {
    /// Returns whether the agent takes MCP configuration, so `omk run` can register
    /// [`McpServer`] with it: the Kimi CLI, Claude Code and Codex.
    pub fn takes_mcp(&self) -> bool {
        matches!(self, Self::Kimi | Self::KimiPrint | Self::Claude | Self::Codex)
    }
}

impl McpServer {
    /// Returns the `mcpServers` JSON document that Kimi and Claude Code read.
    pub(crate) fn config_json(&self) -> String {
        let env: serde_json::Map<String, serde_json::Value> =
            self.env.iter().map(|(name, value)| (name.clone(), value.clone().into())).collect();
        json!({
            "mcpServers": {
                MCP_SERVER_NAME: {
                    "type": "stdio",
                    "command": self.program.display().to_string(),
                    "args": self.args,
                    "env": env,
                }
            }
        })
        .to_string()
    }

    /// Returns the arguments that register the server with the Kimi CLI (Wire and print mode).
    pub(crate) fn kimi_args(&self) -> Vec<String> {
        vec!["--mcp-config".to_owned(), self.config_json()]
    }

    /// Returns the arguments that register the server with Claude Code, and allow its tools.
    pub(crate) fn claude_args(&self) -> Vec<String> {
        let tools: Vec<String> =
            MCP_TOOLS.iter().map(|tool| format!("mcp__{MCP_SERVER_NAME}__{tool}")).collect();
        vec![
            "--mcp-config".to_owned(),
            self.config_json(),
            "--allowedTools".to_owned(),
            tools.join(","),
        ]
    }

    /// Returns the `-c` overrides that register the server with Codex (its `mcp_servers`
    /// table; values are TOML).
    pub(crate) fn codex_args(&self) -> Vec<String> {
        let toml_string = |text: &str| serde_json::Value::from(text).to_string();
        let args: Vec<String> = self.args.iter().map(|it| toml_string(it)).collect();
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(name, value)| format!("{} = {}", toml_string(name), toml_string(value)))
            .collect();
        let key = format!("mcp_servers.{MCP_SERVER_NAME}");
        vec![
            "-c".to_owned(),
            format!("{key}.command={}", toml_string(&self.program.display().to_string())),
            "-c".to_owned(),
            format!("{key}.args=[{}]", args.join(", ")),
            "-c".to_owned(),
            format!("{key}.env={{ {} }}", env.join(", ")),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_gets_the_server_in_its_own_syntax() {
        let server = McpServer {
            program: PathBuf::from("/bin/omk"),
            args: vec!["mcp".to_owned(), "--goal".to_owned(), "g \"1\"".to_owned()],
            env: vec![("PATH".to_owned(), "/usr/bin".to_owned())],
        };
        assert_eq!(
            server.config_json(),
            r#"{"mcpServers":{"omk":{"args":["mcp","--goal","g \"1\""],"command":"/bin/omk","env":{"PATH":"/usr/bin"},"type":"stdio"}}}"#
        );
        assert_eq!(server.kimi_args()[0], "--mcp-config");
        assert_eq!(
            server.claude_args()[3],
            "mcp__omk__gates_list,mcp__omk__gates_run,mcp__omk__goal_status"
        );
        assert_eq!(
            server.codex_args(),
            [
                "-c",
                r#"mcp_servers.omk.command="/bin/omk""#,
                "-c",
                r#"mcp_servers.omk.args=["mcp", "--goal", "g \"1\""]"#,
                "-c",
                r#"mcp_servers.omk.env={ "PATH" = "/usr/bin" }"#,
            ]
        );
    }
}
