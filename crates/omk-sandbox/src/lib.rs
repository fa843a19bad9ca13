//! How omk starts a process for a goal: confined by Landlock to the goal's writable roots, in a
//! process group of its own, and gone within a second of omk's death.
//!
//! Every agent, agent tool, `[worktree] setup` command and gate of a goal starts through a
//! [`Sandbox`]: the caller runs [`Sandbox::command_line`] instead of the command, which starts
//! the launcher (the `omk` binary with the hidden first argument [`LAUNCHER_ARG`], whose code is
//! [`launcher_main`]). The launcher applies the [`Policy`] to itself with Landlock, starts the
//! command as its child in the process group the caller made for it, and watches its parent:
//! when omk dies, even by SIGKILL, it kills the whole group. It exits as the command did.
//! [`record_process`] keeps each group's leader (pid and start time) in the goal's state while
//! it runs, so that [`kill_leftovers`] can end what a killed launcher left, never hitting a
//! reused pid.
//!
//! Invariants:
//! - A confined command reads everything but writes only beneath the policy's writable roots and
//!   the terminal and null devices ([`DEVICES`]); with `network` off (and Landlock ABI 4 or
//!   later) it can neither bind nor connect a TCP port.
//! - The launcher fails closed: a policy that asks for confinement and cannot be enforced runs
//!   nothing (exit status 126).
//! - This crate does not decide the policy (omk-goal does), and does not read the environment,
//!   except `OMK_TEST_NO_LANDLOCK`, which [`probe`] reads so that tests can simulate a kernel
//!   without Landlock.
//!
//! Entry points: [`probe`], [`Sandbox`], [`launcher_main`], [`record_process`],
//! [`kill_leftovers`].

mod launcher;
mod policy;
mod records;
mod rules;

pub use crate::launcher::{LAUNCHER_ARG, launcher_main};
pub use crate::policy::{Policy, Sandbox, Support, probe};
pub use crate::records::{ProcessRecord, RecordGuard, kill_leftovers, record_process};
pub use crate::rules::DEVICES;
