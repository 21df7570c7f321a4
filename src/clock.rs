//! The platform's sense of time.
//!
//! Every deadline, window and timestamp goes through a [`Clock`] held in the application state,
//! never through `Utc::now()` directly, so that tests can move time forward without sleeping.
//! Times are truncated to whole microseconds: PostgreSQL keeps no more, and values that are
//! hashed into the audit chain must survive a round trip through either database unchanged.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, truncated to microseconds.
    fn now(&self) -> DateTime<Utc>;
}

/// Shared handle to the clock used by the application.
pub type SharedClock = Arc<dyn Clock>;

/// Truncates a time to whole microseconds.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// The real clock of the machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate(Utc::now())
    }
}

/// A clock that only moves when told to; for tests and for demonstrations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A manual clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(truncate(start)) }
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = truncate(t);
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc::now();
        let c = ManualClock::new(start);
        assert_eq!(c.now(), truncate(start));
        c.advance(TimeDelta::days(1));
        assert_eq!(c.now(), truncate(start) + TimeDelta::days(1));
    }
}
