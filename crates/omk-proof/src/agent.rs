//! The fold of an agent's finished runs into the proof's agent evidence, for the goal's own
//! agent and for each slice of a team goal alike.

use chrono::{DateTime, Utc};
use omk_events::{AgentCheckRan, AgentFinished, Cost, CostSource, TokenUsage};

use crate::model::{AgentCheck, AgentCheckGate, AgentEvidence};

/// Returns the proof's account of an agent's own check, recorded `at`.
pub(crate) fn agent_check(check: &AgentCheckRan, at: DateTime<Utc>) -> AgentCheck {
    AgentCheck {
        check: check.check,
        at,
        passed: check.passed(),
        gates: check
            .gates
            .iter()
            .map(|gate| AgentCheckGate {
                name: gate.name.clone(),
                failure: gate.failure(),
                tests: gate.tests,
                output: gate.output.clone(),
            })
            .collect(),
        failing_tests: check.failing_tests.clone(),
    }
}

/// Adds a finished agent run to `agent`: the latest run's details, totals over all runs.
pub(crate) fn add_agent_run(agent: &mut Option<AgentEvidence>, finished: &AgentFinished) {
    let first_run = agent.is_none();
    let agent = agent.get_or_insert_with(|| AgentEvidence {
        agent: finished.agent.clone(),
        version: None,
        status: finished.status,
        exit_code: None,
        process: None,
        retryable: false,
        session_id: None,
        error: None,
        final_message: None,
        runs: 0,
        steps: 0,
        tool_calls: 0,
        failed_tool_calls: 0,
        tool_call_log: Vec::new(),
        usage: None,
        cost: None,
        transcript: None,
        stdout: None,
        stderr: None,
        duration_ms: 0,
        checks: Vec::new(),
    });
    agent.agent.clone_from(&finished.agent);
    agent.version.clone_from(&finished.agent_version);
    agent.status = finished.status;
    agent.exit_code = finished.process.as_ref().and_then(|it| it.exit_code);
    agent.process.clone_from(&finished.process);
    agent.retryable = finished.retryable;
    agent.session_id.clone_from(&finished.session_id);
    agent.tool_call_log.clone_from(&finished.tool_call_log);
    agent.error.clone_from(&finished.error);
    agent.final_message.clone_from(&finished.final_message);
    agent.runs += 1;
    agent.steps += u64::from(finished.steps);
    agent.tool_calls += u64::from(finished.tool_calls);
    agent.failed_tool_calls += u64::from(finished.failed_tool_calls);
    if let Some(usage) = finished.usage {
        *agent.usage.get_or_insert_with(TokenUsage::default) += usage;
    }
    // The total is known only while every run had a cost.
    agent.cost = match (first_run, agent.cost.take(), &finished.cost) {
        (true, _, cost) => cost.clone(),
        (false, Some(total), Some(cost)) => Some(Cost {
            usd: total.usd + cost.usd,
            source: match cost.source {
                CostSource::Estimated { .. } => cost.source.clone(),
                CostSource::Reported => total.source,
            },
        }),
        (false, _, _) => None,
    };
    agent.transcript.clone_from(&finished.transcript);
    agent.stdout.clone_from(&finished.stdout);
    agent.stderr.clone_from(&finished.stderr);
    agent.duration_ms += finished.duration_ms;
}
