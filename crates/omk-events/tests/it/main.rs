//! The integration tests of omk-events: one test binary, a module per area.

mod fuzz;
