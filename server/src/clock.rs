//! The command clock: one clock read per command gives both the command's
//! duration (commandstats, slow log) and the Unix time it runs at.
//!
//! Reading the clock is a visible share of the CPU spent on a pipelined GET,
//! so a batch of commands reads the wall clock once and derives each
//! command's Unix time from the monotonic reading it takes anyway.

use std::time::{Duration, Instant};

/// Clock shared by the commands of one batch.
pub struct CmdClock {
    base: Instant,
    base_unix_us: i64,
    last: Instant,
}

impl Default for CmdClock {
    fn default() -> Self {
        Self::new()
    }
}

impl CmdClock {
    pub fn new() -> Self {
        let base = Instant::now();
        CmdClock {
            base,
            base_unix_us: crate::server::unix_us(),
            last: base,
        }
    }

    /// The latest reading.
    pub fn last(&self) -> Instant {
        self.last
    }

    /// Unix time in milliseconds at the latest reading.
    pub fn unix_ms(&self) -> i64 {
        (self.base_unix_us + self.last.duration_since(self.base).as_micros() as i64) / 1000
    }

    /// Reads the clock; returns the time elapsed since `since`.
    pub fn tick_since(&mut self, since: Instant) -> Duration {
        self.last = Instant::now();
        self.last.saturating_duration_since(since)
    }
}
