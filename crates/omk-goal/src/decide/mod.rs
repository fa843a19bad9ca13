//! The pure decisions of a goal: the controller's state and next step, intake (the goal's kind
//! and oracle), the fail-to-pass step's test files and the review wall.
//!
//! Nothing here does I/O, reads the clock or the environment, or spawns a process (`cargo
//! xtask tidy` checks it): events and data come in, decisions and events go out.

pub(crate) mod fail_to_pass;
pub(crate) mod intake;
pub(crate) mod repair;
pub(crate) mod review;
pub(crate) mod state;
