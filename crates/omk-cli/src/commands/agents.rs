//! `omk agents`: the agent programs on this machine and whether omk can drive them.

use serde_json::json;

use omk_goal::Detection;

use crate::{
    commands::shared::{Context, SCHEMA_VERSION},
    error::{CliError, ExitCodes},
    output,
};

pub(crate) fn run_agents(ctx: &Context) -> Result<u8, CliError> {
    let detected = omk_goal::detect_agents(&ctx.agent_environment);
    let text = if ctx.json {
        let agents: Vec<_> = detected
            .iter()
            .map(|agent| {
                json!({
                    "program": agent.program,
                    "path": agent.path,
                    "version": agent.version,
                    "status": agent.status.as_str(),
                    "agents": agent.agents,
                    "note": agent.note,
                })
            })
            .collect();
        format!("{:#}\n", json!({ "schema_version": SCHEMA_VERSION, "agents": agents }))
    } else {
        let mut text = String::new();
        for agent in &detected {
            let version = agent.version.as_deref().unwrap_or("-");
            let path = agent.path.as_ref().map(|it| it.display().to_string()).unwrap_or_default();
            text.push_str(&format!(
                "{:<7} {:<12} {:<11} {}\n",
                agent.program,
                version,
                agent.status.as_str(),
                path
            ));
            text.push_str(&format!("        {}\n", agent.note));
            if agent.status == Detection::Supported {
                text.push_str(&format!(
                    "        use: --agent {}\n",
                    agent.agents.join(" | --agent ")
                ));
            }
        }
        text.push_str("always available: --agent cmd:COMMAND, --agent script:FILE\n");
        text
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}
