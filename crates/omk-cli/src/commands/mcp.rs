//! `omk mcp`: a Model Context Protocol server over stdio (the official Rust SDK, `rmcp`) that
//! gives a goal's agent the goal's gates as tools: `gates_list`, `gates_run` and `goal_status`.
//!
//! `omk run` registers it with the agents that take MCP configuration; its checks are the
//! agent's own (`agent_check_ran`, the proof's `agent.checks`) and never count as gates.

use std::{fmt::Write as _, path::PathBuf, sync::Arc};

use rmcp::{
    ErrorData, RoleServer, ServerHandler, ServiceExt,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
};
use serde_json::{Value, json};

use omk_goal::{AgentCheck, AgentCheckRequest, GoalGates};

use crate::{
    args::McpArgs,
    commands::shared::{self, Context, runtime},
    error::{CliError, ErrorKind, ExitCodes},
};

/// How many lines of a failed gate's output a `gates_run` result shows.
const TAIL_LINES: usize = 40;

pub(crate) fn run_mcp(ctx: &Context, args: &McpArgs) -> Result<u8, CliError> {
    let environment = shared::gate_environment();
    let goal = args.goal.clone().unwrap_or_else(|| "latest".to_owned());
    // Checked before serving, so a wrong goal is an error on stderr, not a server that fails
    // every call.
    let gates = omk_goal::goal_gates(&ctx.dir, &goal, &environment, &ctx.config_env)?;
    let server = GateServer {
        repo: ctx.dir.clone(),
        goal: gates.paths.goal_id.to_string(),
        config_env: ctx.config_env.clone(),
        environment: Arc::new(environment),
        omk_binary: ctx.omk_binary.clone(),
        max_parallel: shared::parallelism(args.jobs),
    };
    runtime()?.block_on(async {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|err| infra(format!("failed to start the MCP server on stdio: {err}")))?;
        service
            .waiting()
            .await
            .map_err(|err| infra(format!("the MCP server stopped with an error: {err}")))?;
        Ok::<(), CliError>(())
    })?;
    Ok(ExitCodes::SUCCESS)
}

/// The server: which goal it serves and how its gates run.
#[derive(Clone)]
struct GateServer {
    repo: PathBuf,
    goal: String,
    config_env: omk_config::ConfigEnv,
    environment: Arc<Vec<(String, String)>>,
    omk_binary: Option<PathBuf>,
    max_parallel: usize,
}

impl GateServer {
    /// Returns the goal's gates as they are now (`omk.toml` may have changed since the start).
    fn gates(&self) -> Result<GoalGates, omk_goal::Error> {
        omk_goal::goal_gates(&self.repo, &self.goal, &self.environment, &self.config_env)
    }

    fn gates_list(&self) -> CallToolResult {
        let gates = match self.gates() {
            Ok(gates) => gates,
            Err(err) => return tool_error(&err),
        };
        let list: Vec<Value> = gates
            .gates
            .iter()
            .map(|gate| {
                json!({
                    "name": gate.name,
                    "kind": gate.kind.to_string(),
                    "command": command_line(gate),
                    "required": gate.required,
                })
            })
            .collect();
        let mut text = format!("The gates that will judge goal {}:\n", self.goal);
        for gate in &gates.gates {
            let required = if gate.required { "" } else { ", optional" };
            let _ =
                writeln!(text, "- {} ({}{required}): {}", gate.name, gate.kind, command_line(gate));
        }
        with_structured(text, json!({ "goal": self.goal, "gates": list }), false)
    }

    async fn gates_run(&self, names: Vec<String>) -> CallToolResult {
        let gates = match self.gates() {
            Ok(gates) => gates,
            Err(err) => return tool_error(&err),
        };
        let (environment, omk_binary, max_parallel) =
            (Arc::clone(&self.environment), self.omk_binary.clone(), self.max_parallel);
        // The gate runner's future is not `Send`, so the check runs on a thread of its own.
        let check = tokio::task::spawn_blocking(move || {
            let request = AgentCheckRequest {
                names: &names,
                environment: &environment,
                max_parallel,
                omk_binary: omk_binary.as_deref(),
            };
            runtime()?.block_on(omk_goal::run_agent_check(&gates, &request))
        })
        .await;
        match check {
            Ok(Ok(check)) => check_result(&check),
            Ok(Err(err)) => tool_error(&err),
            Err(err) => CallToolResult::error(vec![ContentBlock::text(format!(
                "failed to run gates: the check's thread ended: {err}"
            ))]),
        }
    }

    fn goal_status(&self) -> CallToolResult {
        match omk_goal::goal_status(&self.repo, Some(&self.goal)) {
            Ok(status) => {
                let proof = &status.proof;
                let checks = proof.agent.as_ref().map_or(0, |it| it.checks.len());
                let text = format!(
                    "goal {}: {}; proof {} at {} ({} gate results, {} of your own checks recorded)",
                    self.goal,
                    status.step,
                    proof.status,
                    proof.readiness,
                    proof.gates.len(),
                    checks
                );
                let value = json!({
                    "goal": self.goal,
                    "step": status.step,
                    "status": proof.status,
                    "readiness": proof.readiness,
                    "changed_files": proof.changed_files.iter().map(|it| &it.path).collect::<Vec<_>>(),
                    "agent_checks": checks,
                });
                with_structured(text, value, false)
            }
            Err(err) => tool_error(&err),
        }
    }
}

impl ServerHandler for GateServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("omk", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "The verification gates of omk goal {}: call gates_run to check your work with \
                 exactly the gates that will judge it. Your runs are recorded as your own checks; \
                 omk runs the gates again itself once you finish.",
                self.goal
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().into_iter().find(|tool| tool.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        let result = match request.name.as_ref() {
            "gates_list" => self.gates_list(),
            "goal_status" => self.goal_status(),
            "gates_run" => {
                let names = match arguments.get("gates") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                        items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
                    }
                    Some(other) => {
                        return Err(ErrorData::invalid_params(
                            format!("gates must be a list of gate names, not {other}"),
                            None,
                        ));
                    }
                };
                self.gates_run(names).await
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "no tool named {other:?}; the tools are gates_list, gates_run and goal_status"
                    ),
                    None,
                ));
            }
        };
        Ok(result.into())
    }
}

/// Returns the tools, with their input schemas.
fn tools() -> Vec<Tool> {
    let schema = |value: Value| match value {
        Value::Object(map) => Arc::new(map),
        _ => unreachable!("the schemas below are objects"),
    };
    vec![
        Tool::new(
            "gates_list",
            "List the verification gates of this goal: the checks omk runs on your change once \
             you finish (name, kind, command, required).",
            schema(json!({ "type": "object", "properties": {} })),
        ),
        Tool::new(
            "gates_run",
            "Run the goal's gates on your worktree as it is now, in omk's sandbox, and report \
             pass or fail, test counts, failing test names and the end of each failed gate's \
             output. Runs every gate unless `gates` names some.",
            schema(json!({
                "type": "object",
                "properties": {
                    "gates": {
                        "type": "array",
                        "items": { "type": "string" },
                        "description": "Names of the gates to run (see gates_list); all when omitted."
                    }
                }
            })),
        ),
        Tool::new(
            "goal_status",
            "Show the goal's current step and its proof's status and readiness.",
            schema(json!({ "type": "object", "properties": {} })),
        ),
    ]
}

/// Returns the result of a finished check: a summary the model reads, and the same as data.
fn check_result(check: &AgentCheck) -> CallToolResult {
    let record = &check.record;
    let passed = record.passed();
    let mut text = format!(
        "check #{}: {}\n",
        record.check,
        if passed { "every required gate passed" } else { "FAILED" }
    );
    let mut gates = Vec::new();
    for run in &check.runs {
        let gate = &run.result;
        let failure = gate.failure();
        let counts = gate
            .tests
            .map(|it| format!("; tests: {} passed, {} failed", it.passed, it.failed))
            .unwrap_or_default();
        let verdict =
            failure.as_deref().map_or_else(|| "passed".to_owned(), |why| format!("failed ({why})"));
        let _ = writeln!(text, "- {}: {verdict}{counts}", gate.name);
        gates.push(json!({
            "name": gate.name,
            "passed": failure.is_none(),
            "failure": failure,
            "exit_code": gate.exit_code,
            "tests": gate.tests,
            "log": gate.output.as_ref().map(|it| &it.path),
        }));
    }
    if !record.failing_tests.is_empty() {
        let _ = writeln!(text, "failing tests: {}", record.failing_tests.join(", "));
    }
    for run in check.runs.iter().filter(|run| run.result.failure().is_some()) {
        let lines: Vec<&str> = run.tail.lines().collect();
        let tail = &lines[lines.len().saturating_sub(TAIL_LINES)..];
        let _ = writeln!(text, "--- end of {}'s output ---\n{}", run.result.name, tail.join("\n"));
    }
    text.push_str(
        "This is your own check: omk runs the gates again itself after you finish, and only \
         those runs count.",
    );
    let value = json!({
        "check": record.check,
        "passed": passed,
        "gates": gates,
        "failing_tests": record.failing_tests,
    });
    with_structured(text, value, false)
}

/// Returns a tool result of `text` with `value` as its structured content.
fn with_structured(text: String, value: Value, is_error: bool) -> CallToolResult {
    let mut result = if is_error {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    result.structured_content = Some(value);
    result
}

/// Returns a tool error the model reads: omk's error, and the gates there are when it named an
/// unknown one.
fn tool_error(err: &omk_goal::Error) -> CallToolResult {
    let mut text = format!("failed to run gates: {}", omk_goal::error_chain(err));
    if let omk_goal::Error::UnknownGate { known, .. } = err {
        let _ = write!(text, "; the goal's gates are: {}", known.join(", "));
    }
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// Returns a gate's command as one line: a shell line as written, else its arguments.
fn command_line(gate: &omk_goal::GateSpec) -> String {
    match gate.command.argv().as_slice() {
        [sh, flag, line] if sh == "sh" && flag == "-c" => line.clone(),
        argv => argv.join(" "),
    }
}

fn infra(message: String) -> CliError {
    CliError { kind: ErrorKind::Infra, message, hints: Vec::new() }
}
