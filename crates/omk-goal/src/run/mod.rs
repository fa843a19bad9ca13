//! Running a goal: the controller that drives a goal's steps, the steps themselves, and how a
//! live run is stopped from outside.
//!
//! `controller.rs` holds the entry points (`run_goal`, `resume_goal`), the `Controller` and its
//! loop, which asks the pure fold of `decide/` what comes next and runs that step; each step is
//! a method of the controller, in the file of its concern.

pub(crate) mod accept_step;
pub(crate) mod baseline;
pub(crate) mod checkout;
pub(crate) mod control;
pub(crate) mod controller;
pub(crate) mod fail_to_pass;
pub(crate) mod gates;
pub(crate) mod repair;
pub(crate) mod retry;
pub(crate) mod review;
pub(crate) mod steps;
