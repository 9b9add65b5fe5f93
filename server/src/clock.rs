//! The command clock: one cheap clock reading per command gives both the
//! command's duration (commandstats, slow log) and the Unix time it runs at.
//!
//! Reading the clock was about 7 % of the CPU spent on a pipelined GET, so a
//! batch of commands reads the wall clock once and derives each command's
//! time from a monotonic counter: the invariant TSC on x86-64 when the CPU
//! has one (`constant_tsc` and `nonstop_tsc`: the same rate on every core,
//! also in deep sleep), calibrated once per process against `Instant`;
//! otherwise `Instant` itself.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// TSC-to-nanoseconds conversion: `ns = ticks * mult >> 32`.
#[derive(Clone, Copy)]
struct TscRate {
    mult: u128,
}

/// Measures the TSC rate once; None without an invariant TSC.
fn tsc_rate() -> Option<TscRate> {
    static RATE: OnceLock<Option<TscRate>> = OnceLock::new();
    *RATE.get_or_init(calibrate)
}

#[cfg(target_arch = "x86_64")]
fn read_tsc() -> u64 {
    // SAFETY: RDTSC has no preconditions on x86-64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(target_arch = "x86_64")]
fn calibrate() -> Option<TscRate> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags = info.lines().find(|l| l.starts_with("flags"))?;
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    if !(has("constant_tsc") && has("nonstop_tsc")) {
        return None;
    }
    let t0 = Instant::now();
    let c0 = read_tsc();
    while t0.elapsed() < Duration::from_millis(5) {
        std::hint::spin_loop();
    }
    let c1 = read_tsc();
    let ns = t0.elapsed().as_nanos();
    let ticks = u128::from(c1.checked_sub(c0)?);
    if ticks == 0 {
        return None;
    }
    Some(TscRate {
        mult: (ns << 32) / ticks,
    })
}

#[cfg(not(target_arch = "x86_64"))]
fn calibrate() -> Option<TscRate> {
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn read_tsc() -> u64 {
    0
}

/// Measures the TSC rate now rather than at the first command.
pub fn init() {
    tsc_rate();
}

/// A monotonic reading in nanoseconds from an arbitrary origin, as cheap as
/// the command clock (the event loop times every cycle with it).
pub fn monotonic_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    match tsc_rate() {
        Some(r) => ((u128::from(read_tsc()) * r.mult) >> 32) as u64,
        None => ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64,
    }
}

/// Clock shared by the commands of one batch.
pub struct CmdClock {
    base: Instant,
    base_unix_us: i64,
    base_tsc: u64,
    rate: Option<TscRate>,
    /// Nanoseconds since `base` at the latest reading.
    last_ns: u64,
}

impl Default for CmdClock {
    fn default() -> Self {
        Self::new()
    }
}

impl CmdClock {
    pub fn new() -> Self {
        let rate = tsc_rate();
        CmdClock {
            base: Instant::now(),
            base_unix_us: crate::server::unix_us(),
            base_tsc: if rate.is_some() { read_tsc() } else { 0 },
            rate,
            last_ns: 0,
        }
    }

    fn read_ns(&self) -> u64 {
        match self.rate {
            Some(r) => {
                let ticks = u128::from(read_tsc().saturating_sub(self.base_tsc));
                ((ticks * r.mult) >> 32) as u64
            }
            None => self.base.elapsed().as_nanos() as u64,
        }
    }

    /// The latest reading, as an opaque mark for [`CmdClock::tick_since`].
    pub fn mark(&self) -> u64 {
        self.last_ns
    }

    /// The latest reading as an `Instant` (deadlines).
    pub fn last(&self) -> Instant {
        self.base + Duration::from_nanos(self.last_ns)
    }

    /// Unix time in milliseconds at the latest reading.
    pub fn unix_ms(&self) -> i64 {
        (self.base_unix_us + (self.last_ns / 1000) as i64) / 1000
    }

    /// Reads the clock; returns the time elapsed since `mark`.
    pub fn tick_since(&mut self, mark: u64) -> Duration {
        self.last_ns = self.read_ns().max(self.last_ns);
        Duration::from_nanos(self.last_ns.saturating_sub(mark))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_clock_follows_real_time() {
        let mut c = CmdClock::new();
        let start_unix = c.unix_ms();
        let m = c.mark();
        std::thread::sleep(Duration::from_millis(20));
        let d = c.tick_since(m);
        assert!(
            d >= Duration::from_millis(19) && d < Duration::from_millis(200),
            "{d:?}"
        );
        assert!(c.unix_ms() - start_unix >= 19);
        assert!(c.last() >= c.base + Duration::from_millis(19));
    }
}
