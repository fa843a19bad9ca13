//! The clock, injected so that runs are reproducible in tests.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// A source of event timestamps.
pub trait Clock: Send + Sync {
    /// Returns the current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at a fixed time and advances one millisecond per reading.
///
/// Set from `OMK_NOW` by the CLI, it makes event logs and proofs byte-identical across runs
/// while keeping event times strictly increasing.
#[derive(Debug)]
pub struct FixedClock {
    start: DateTime<Utc>,
    n_readings: AtomicI64,
}

impl FixedClock {
    /// Returns a clock whose first reading is `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { start, n_readings: AtomicI64::new(0) }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        let n = self.n_readings.fetch_add(1, Ordering::Relaxed);
        self.start + Duration::milliseconds(n)
    }
}
