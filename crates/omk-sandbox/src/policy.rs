//! What a confined process may do ([`Policy`]), how a caller starts one ([`Sandbox`]), and what
//! the kernel supports ([`probe`]).

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde::{Deserialize, Serialize};

use crate::launcher::LAUNCHER_ARG;

/// What a process started through the launcher may do.
///
/// It travels to the launcher as JSON on its command line, between two copies of the same omk
/// binary, so it is not a stored format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Whether Landlock applies; `false` runs the command unconfined but still supervised (its
    /// process group dies with omk).
    pub confine: bool,
    /// The directories (and files) beneath which the command may write, besides [`DEVICES`]
    /// (crate::DEVICES); paths that do not exist are left out.
    pub writable: Vec<PathBuf>,
    /// Whether the command may bind and connect TCP ports.
    pub network: bool,
    /// The pid of the process that starts the launcher: when the launcher's parent is another
    /// process, that one died, and the launcher kills the command's whole process group.
    pub parent: u32,
}

impl Policy {
    /// Returns a policy for processes started by this process, writing only beneath `writable`.
    pub fn confined(writable: Vec<PathBuf>, network: bool) -> Self {
        Self { confine: true, writable, network, parent: std::process::id() }
    }

    /// Returns a policy that confines nothing but still ends the command with this process.
    pub fn unconfined() -> Self {
        Self { confine: false, writable: Vec::new(), network: true, parent: std::process::id() }
    }
}

/// How a caller starts a process for a goal.
///
/// Each caller (agent, gate, worktree setup) builds its own command for the program to run and
/// hands the argument vector to [`Sandbox::command_line`], which wraps it in the launcher, and
/// adds [`Sandbox::env`] to the command's environment. The caller starts the result in a new
/// process group, as it did the bare command, and signals that group as before: the launcher is
/// its leader and the command its member.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The launcher program (the `omk` binary); `None` starts commands directly, unconfined and
    /// unsupervised, which only library tests do.
    pub launcher: Option<PathBuf>,
    /// What the command may do.
    pub policy: Policy,
    /// Variables set in the command's environment after the caller's own: the private temporary
    /// directory and the toolchain caches.
    pub env: Vec<(String, String)>,
    /// The directory where each running group's leader is recorded ([`crate::record_process`]),
    /// so a later run can end what a killed launcher left; `None` keeps no record.
    pub records: Option<PathBuf>,
}

impl Sandbox {
    /// Returns a sandbox that starts commands directly: no launcher, no confinement, no record.
    pub fn direct() -> Self {
        Self { launcher: None, policy: Policy::unconfined(), env: Vec::new(), records: None }
    }

    /// Returns the command line that runs `argv` (program first) under this sandbox.
    pub fn command_line(&self, argv: &[String]) -> Vec<OsString> {
        let Some(launcher) = &self.launcher else {
            return argv.iter().map(OsString::from).collect();
        };
        let policy = serde_json::to_string(&self.policy)
            .expect("a policy serializes because it holds only paths, booleans and a number");
        let mut line = vec![
            launcher.as_os_str().to_owned(),
            OsString::from(LAUNCHER_ARG),
            OsString::from("run"),
            OsString::from(policy),
        ];
        line.extend(argv.iter().map(OsString::from));
        line
    }

    /// Returns whether commands run confined by Landlock.
    pub fn is_confined(&self) -> bool {
        self.launcher.is_some() && self.policy.confine
    }

    /// Returns this sandbox with `root` as its first writable root, for a command that works in
    /// another worktree (a team slice's, a re-verification's scratch worktree).
    pub fn for_worktree(&self, root: &Path) -> Self {
        let mut sandbox = self.clone();
        sandbox.policy.writable.insert(0, root.to_owned());
        sandbox
    }
}

/// What the kernel offers for confinement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Support {
    /// The Landlock ABI version the launcher could enforce, or `None` without Landlock.
    pub abi: Option<u32>,
    /// Why there is no Landlock, when there is none.
    pub reason: Option<String>,
}

impl Support {
    /// Returns whether the network rules (TCP bind and connect, ABI 4) can be enforced.
    pub fn network_enforceable(&self) -> bool {
        self.abi.is_some_and(|abi| abi >= 4)
    }
}

/// The variable that makes [`probe`] report no Landlock, for tests of what omk does then.
const SIMULATE_NO_LANDLOCK: &str = "OMK_TEST_NO_LANDLOCK";

/// Returns what the kernel offers, by asking `launcher` to apply an empty ruleset to itself.
///
/// `OMK_TEST_NO_LANDLOCK` set to a non-empty value reports no Landlock without asking: tests
/// use it to see what omk does on a kernel without it.
pub fn probe(launcher: &Path) -> Support {
    if std::env::var_os(SIMULATE_NO_LANDLOCK).is_some_and(|it| !it.is_empty()) {
        return Support {
            abi: None,
            reason: Some(format!("{SIMULATE_NO_LANDLOCK} is set (a test simulates it)")),
        };
    }
    let output = Command::new(launcher)
        .args([LAUNCHER_ARG, "probe"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let text = match output {
        Ok(output) => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        Err(err) => {
            return Support {
                abi: None,
                reason: Some(format!("cannot start {}: {err}", launcher.display())),
            };
        }
    };
    match text.strip_prefix("abi ").map(str::parse::<u32>) {
        Some(Ok(abi)) => Support { abi: Some(abi), reason: None },
        _ => Support {
            abi: None,
            reason: Some(text.strip_prefix("none ").unwrap_or(&text).to_owned()),
        },
    }
}
