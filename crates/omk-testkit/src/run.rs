//! The parts of an `omk_goal::RunEnv` a test owns, so that a test states only what differs.

use omk_config::ConfigEnv;
use omk_events::Envelope;
use omk_goal::{AgentEnvironment, Clock, RunEnv};

/// What a test run of a goal is given: agents' and gates' environments, and no user config.
#[derive(Debug, Clone, Default)]
pub struct RunEnvironment {
    /// The agents' environment.
    pub agent_environment: AgentEnvironment,
    /// Where the user config is: nowhere, so a developer's own config never reaches a test.
    pub config: ConfigEnv,
    /// The gates' environment: the test's `PATH` ([`crate::gate_path_env`]).
    pub gate_environment: Vec<(String, String)>,
}

impl RunEnvironment {
    /// Returns the environment of a run whose agents see `agent_environment` and whose gates
    /// see the test's `PATH`.
    pub fn new(agent_environment: AgentEnvironment) -> Self {
        Self {
            agent_environment,
            config: ConfigEnv::default(),
            gate_environment: crate::gate_path_env(),
        }
    }

    /// Returns the environment of a run whose agents and gates both see the test's `PATH`.
    pub fn on_path() -> Self {
        Self::new(AgentEnvironment {
            path: std::env::var_os("PATH"),
            ..AgentEnvironment::default()
        })
    }

    /// Returns the `RunEnv` of one run: two gates at once, no interrupt flag, no `--accept`;
    /// `reuse_cached_gates` says whether gate results may come from the cache.
    pub fn run_env<'a>(
        &'a self,
        clock: &'a dyn Clock,
        observer: impl FnMut(&Envelope) + Send + 'a,
        reuse_cached_gates: bool,
    ) -> RunEnv<'a> {
        RunEnv {
            agent_environment: &self.agent_environment,
            config: &self.config,
            max_parallel_gates: 2,
            gate_environment: &self.gate_environment,
            reuse_cached_gates,
            clock,
            observer: Box::new(observer),
            interrupt: None,
            accept: false,
            omk_binary: None,
        }
    }
}
