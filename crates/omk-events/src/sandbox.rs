//! The payload of [`crate::Event::SandboxApplied`]: the policy that confines every process a run
//! of the goal starts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The sandbox a run of the goal starts its processes in (agent, worktree setup, gates),
/// recorded when the run starts, fresh or resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SandboxApplied {
    /// Whether the processes were confined.
    pub mode: SandboxMode,
    /// The Landlock ABI version of the kernel, when it has Landlock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi: Option<u32>,
    /// Why the processes run unconfined, when they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the processes may write (besides the null and terminal devices): the goal's
    /// worktree, its private temporary directory, the toolchain caches and `[sandbox] writable`;
    /// paths beneath the repository are relative to its root.
    pub writable: Vec<String>,
    /// Where the agent alone may also write: the state its adapter declares (Kimi's share
    /// directory, Claude's and Codex's homes).
    #[serde(default)]
    pub agent_writable: Vec<String>,
    /// Whether gates may bind and connect TCP ports (`[sandbox] network`).
    pub network: bool,
    /// Whether the kernel enforces `network = false` (Landlock ABI 4 or later); `true` when the
    /// network is allowed anyway.
    pub network_enforced: bool,
    /// Where each toolchain's caches go, and the variables that point there.
    #[serde(default)]
    pub caches: Vec<ToolchainCache>,
    /// Where the gates alone may also write: the warm build directory of the run's worktree
    /// (`CARGO_TARGET_DIR` of a Cargo project's gates); empty when warm builds are off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gate_writable: Vec<String>,
}

/// Whether a run's processes were confined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    /// Confined by Landlock: writes only beneath the writable roots.
    Landlock,
    /// Unconfined because `[sandbox] mode = "off"`.
    Off,
    /// Unconfined because the kernel has no usable Landlock.
    Unavailable,
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Landlock => "landlock",
            Self::Off => "off",
            Self::Unavailable => "unavailable",
        })
    }
}

/// Where one ecosystem's tools keep their caches while confined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ToolchainCache {
    /// The ecosystem: `cargo`, `npm`, `pip`, `uv`, `yarn`, `go` or `xdg` (every tool that
    /// follows the XDG cache directory).
    pub ecosystem: String,
    /// The environment variables set to `dir` (or beneath it).
    pub variables: Vec<String>,
    /// The directory, relative to the repository root.
    pub dir: String,
}
