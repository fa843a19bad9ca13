//! `omk agents`: the agent programs on this machine and whether omk can drive them.

use omk_goal::Detection;

use crate::{
    commands::shared::{Context, SCHEMA_VERSION},
    error::{CliError, ExitCodes},
    json::{self, AgentEntry, AgentsDocument},
    output,
};

pub(crate) fn run_agents(ctx: &Context) -> Result<u8, CliError> {
    let detected = omk_goal::detect_agents(&ctx.agent_environment);
    let text = if ctx.json {
        let agents = detected
            .iter()
            .map(|agent| AgentEntry {
                program: agent.program.clone(),
                path: agent.path.clone(),
                version: agent.version.clone(),
                tested_version: agent.tested_version.clone(),
                status: agent.status.as_str().to_owned(),
                agents: agent.agents.clone(),
                note: agent.note.clone(),
            })
            .collect();
        json::to_string(&AgentsDocument { schema_version: SCHEMA_VERSION, agents })
    } else {
        let mut lines = Vec::new();
        for agent in &detected {
            let version = agent.version.as_deref().unwrap_or("-");
            let path = agent.path.as_ref().map(|it| it.display().to_string()).unwrap_or_default();
            lines.push(format!(
                "{:<7} {version:<12} {:<11} {path}",
                agent.program,
                agent.status.as_str()
            ));
            lines.push(format!("        {}", agent.note));
            if let Some(tested) = &agent.tested_version {
                lines.push(format!("        tested with: {} {tested}", agent.program));
            }
            if agent.status == Detection::Supported {
                lines.push(format!("        use: --agent {}", agent.agents.join(" | --agent ")));
            }
        }
        lines.push("always available: --agent cmd:COMMAND, --agent script:FILE\n".to_owned());
        lines.join("\n")
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}
