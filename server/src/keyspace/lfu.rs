//! Redis's LFU access counter, kept in an entry's 24-bit `lru` field while
//! the maxmemory policy is an LFU one: the high 16 bits are the minute of
//! the last decrement (Unix minutes, wrapping), the low 8 bits a logarithmic
//! counter. A new key starts at [`INIT_VAL`]; each access increments it
//! with a probability that falls as it grows (`lfu-log-factor`); it loses
//! one per `lfu-decay-time` minutes without access. Switching policies at
//! run time reinterprets the field, as Redis does ("LRU and LFU data will
//! take some time to adjust").
//!
//! Pure functions of their inputs: the caller passes the time and the
//! random number.

/// Initial counter of a new key (Redis's LFU_INIT_VAL).
pub const INIT_VAL: u8 = 5;

/// The LFU settings in force (`lfu-log-factor`, `lfu-decay-time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lfu {
    pub log_factor: u32,
    pub decay_time: u32,
}

/// Unix minutes, in the 16 bits the field keeps.
pub fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// Minutes since `ldt`, across one wrap of the 16-bit clock.
fn elapsed(ldt: u32, now_min: u32) -> u32 {
    if now_min >= ldt {
        now_min - ldt
    } else {
        65535 - ldt + now_min
    }
}

/// The counter of `field` after the decay due at `now_min` (what OBJECT
/// FREQ reports and a snapshot saves); the field itself is not changed.
pub fn counter(field: u32, now_min: u32, decay_time: u32) -> u8 {
    let ldt = field >> 8;
    let c = (field & 0xFF) as u8;
    if decay_time == 0 {
        return c;
    }
    let periods = elapsed(ldt, now_min) / decay_time;
    c.saturating_sub(periods.min(255) as u8)
}

/// A logarithmic increment: `rnd` (uniform over u64) decides.
fn log_incr(c: u8, log_factor: u32, rnd: u64) -> u8 {
    if c == 255 {
        return 255;
    }
    let r = rnd as f64 / u64::MAX as f64;
    let base = f64::from(c.saturating_sub(INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p {
        c + 1
    } else {
        c
    }
}

/// The field after an access at `now_min`: decay, then increment.
pub fn touched(field: u32, now_min: u32, lfu: Lfu, rnd: u64) -> u32 {
    let c = counter(field, now_min, lfu.decay_time);
    pack(now_min, log_incr(c, lfu.log_factor, rnd))
}

/// The field for `counter` as of `now_min` (a new key, or one restored with
/// its saved counter).
pub fn pack(now_min: u32, counter: u8) -> u32 {
    (now_min << 8) | u32::from(counter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LFU: Lfu = Lfu {
        log_factor: 10,
        decay_time: 1,
    };

    #[test]
    fn a_counter_decays_one_per_period_and_stops_at_zero() {
        let f = pack(100, 7);
        assert_eq!(counter(f, 100, 1), 7);
        assert_eq!(counter(f, 103, 1), 4);
        assert_eq!(counter(f, 104, 2), 5);
        assert_eq!(counter(f, 200, 1), 0);
        assert_eq!(counter(f, 5000, 0), 7, "decay time 0: never");
        // The 16-bit minute clock wrapped: 65535 - 65530 + 2 minutes.
        assert_eq!(counter(pack(65530, 20), 2, 1), 13);
    }

    #[test]
    fn increments_get_rarer_as_the_counter_grows() {
        // Up to INIT_VAL every access counts.
        assert_eq!(touched(pack(9, 0), 9, LFU, u64::MAX / 3 * 2) & 0xFF, 1);
        assert_eq!(touched(pack(9, 5), 9, LFU, u64::MAX / 3 * 2) & 0xFF, 6);
        // At 15 the chance is 1/(10*10+1).
        assert_eq!(touched(pack(9, 15), 9, LFU, u64::MAX / 102) & 0xFF, 16);
        assert_eq!(touched(pack(9, 15), 9, LFU, u64::MAX / 100) & 0xFF, 15);
        assert_eq!(touched(pack(9, 255), 9, LFU, 0) & 0xFF, 255);
        // The access moves the decrement time to now.
        assert_eq!(touched(pack(9, 7), 12, LFU, 0), pack(12, 5));
    }
}
