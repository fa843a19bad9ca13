//! How omk starts a process for a goal: confined by Landlock to the goal's writable roots, in a
//! process group of its own, and gone as soon as omk dies.
//!
//! Every agent, agent tool, `[worktree] setup` command and gate of a goal starts from
//! [`Sandbox::spawn`]: a vfork-style clone of omk that does not copy it, waited for on a pidfd
//! ([`Sandbox::command`], a std `Command` that forks, is the fallback for kernels without
//! pidfds). Its child, after the clone and before the exec, registers its process group with
//! this process's watcher and applies the [`Policy`]'s Landlock ruleset to itself (the only
//! `unsafe` code of the workspace, in `child.rs`). A [`Child`]'s group ends with its leader. The
//! watcher is the `omk` binary with the hidden first argument [`WATCHER_ARG`] (code:
//! [`watcher_main`]), started once per omk process: when omk dies, even by SIGKILL, it kills
//! every registered group that has not ended.
//! [`Sandbox::supervise`] keeps each group's leader (pid and start time) in the goal's state
//! while it runs, so that [`kill_leftovers`] can end what a killed omk and watcher left, never
//! hitting a reused pid.
//!
//! Invariants:
//! - A confined command reads everything but writes only beneath the policy's writable roots and
//!   the terminal and null devices ([`DEVICES`]); with `network` off (and Landlock ABI 4 or
//!   later) it can neither bind nor connect a TCP port.
//! - Confinement fails closed: a policy that asks for it and cannot be enforced, or a child that
//!   cannot register with the watcher, runs nothing (spawning fails).
//! - This crate does not decide the policy (omk-goal does), and does not read the environment,
//!   except `OMK_TEST_NO_LANDLOCK`, which [`probe`] reads so that tests can simulate a kernel
//!   without Landlock.
//!
//! Entry points: [`probe`], [`Sandbox`], [`Sandbox::spawn`], [`start_watcher`],
//! [`watcher_main`], [`record_process`], [`kill_leftovers`].

mod child;
mod policy;
mod records;
mod rules;
mod spawn;
mod watcher;

pub use crate::policy::{Policy, Sandbox, Supervised, Support, probe};
pub use crate::records::{ProcessRecord, RecordGuard, kill_leftovers, record_process};
pub use crate::rules::DEVICES;
pub use crate::spawn::{Child, Spawn};
pub use crate::watcher::{WATCHER_ARG, start_watcher, watcher_main};
