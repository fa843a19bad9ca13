//! Team goals: the task graph (`plan`), its pure fold (`fold`) and the scheduler that runs the
//! slices at once and merges them through a verified queue.
//!
//! The scheduler is cut at its seams: `scheduler.rs` is the team step's loop; `worker.rs` the
//! threads that run slices' agents; `lease.rs` their heartbeats on disk; `slices.rs` a slice's
//! claim, follow-up, failure and proposals; `queue.rs` the merge queue with its bisection.

pub(crate) mod fold;
pub(crate) mod lease;
pub(crate) mod plan;
pub(crate) mod queue;
pub(crate) mod scheduler;
pub(crate) mod slices;
pub(crate) mod worker;
