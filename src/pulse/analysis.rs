//! Turns the recorded operations and switchover times into the numbers the report shows:
//! per switchover the unavailable window, the errors and the latency before, during and
//! after; and the same over the whole run. Pure functions of plain values, so they are
//! unit tested on hand-made timelines.

use std::collections::BTreeMap;

use super::record::{ErrorClass, Op};

/// One switchover as the controller saw it (microseconds since the run started).
#[derive(Debug, Clone, Default)]
pub struct Switch {
    /// Primary the command was sent to.
    pub old_primary: Option<String>,
    /// Primary after the switch, as ROLE showed it.
    pub new_primary: Option<String>,
    /// When the switch command was sent; None when it could not be sent.
    pub trigger_us: Option<u64>,
    /// When its reply arrived.
    pub reply_us: Option<u64>,
    /// The reply, as text.
    pub reply: String,
    /// Whether the command was answered without an error (a refused command started no
    /// switchover, so it has no window).
    pub accepted: bool,
    /// When ROLE first showed the roles swapped; None if it never did within the settle
    /// time (aborted, refused, or a switch command that does not swap roles).
    pub done_us: Option<u64>,
    /// Why the switchover could not be started or completed, if it could not.
    pub problem: Option<String>,
}

/// Latency percentiles of successful operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Latency {
    /// Nearest-rank percentiles of `samples` (sorted here).
    pub fn of(mut samples: Vec<u64>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let rank = |q: f64| {
            let idx = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[idx - 1]
        };
        Latency {
            count: samples.len() as u64,
            p50_us: rank(0.50),
            p99_us: rank(0.99),
            max_us: samples[samples.len() - 1],
        }
    }
}

/// Errors counted by class.
pub type ErrorCounts = BTreeMap<ErrorClass, u64>;

/// The numbers for one switchover.
#[derive(Debug, Clone, Default)]
pub struct SwitchStats {
    /// Longest stretch without any successful operation on any connection, from the
    /// trigger until every connection has succeeded again after the switch.
    pub window_us: Option<u64>,
    /// When every connection had succeeded again (None: some never did before the end).
    pub recovered_us: Option<u64>,
    /// Errors between the trigger and the recovery (or the end of the run).
    pub errors: ErrorCounts,
    pub before: Latency,
    pub during: Latency,
    pub after: Latency,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub ops: u64,
    pub successes: u64,
    pub errors: ErrorCounts,
    pub switches: Vec<SwitchStats>,
    /// Before the first trigger, during any switchover, after the last recovery.
    pub before: Latency,
    pub during: Latency,
    pub after: Latency,
    pub overall: Latency,
}

impl RunStats {
    pub fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Per worker, the end of its first successful operation sent at or after `from_us`.
fn first_success_after(ops: &[Op], from_us: u64) -> Option<u64> {
    let i = ops.partition_point(|o| o.start_us < from_us);
    ops[i..].iter().find(|o| o.ok()).map(|o| o.end_us)
}

/// Longest gap between consecutive points of `[from] + successes in (from, to] + [to]`,
/// `successes` sorted.
fn longest_gap(successes: &[u64], from: u64, to: u64) -> u64 {
    let lo = successes.partition_point(|&t| t <= from);
    // `to` before `from` (a clock oddity) gives an empty stretch, not a bad slice.
    let hi = successes.partition_point(|&t| t <= to).max(lo);
    let mut last = from;
    let mut gap = 0;
    for &t in &successes[lo..hi] {
        gap = gap.max(t - last);
        last = t;
    }
    gap.max(to.saturating_sub(last))
}

/// Computes every number of the report. `workers` holds each connection's operations in
/// the order they were sent; `end_us` is when the load stopped.
pub fn analyse(workers: &[Vec<Op>], switches: &[Switch], end_us: u64) -> RunStats {
    let all: Vec<&Op> = workers.iter().flatten().collect();
    let mut successes: Vec<u64> = all.iter().filter(|o| o.ok()).map(|o| o.end_us).collect();
    successes.sort_unstable();
    let latencies = |keep: &dyn Fn(&Op) -> bool| {
        Latency::of(
            all.iter()
                .filter(|o| o.ok() && keep(o))
                .map(|o| o.latency_us())
                .collect(),
        )
    };
    let mut stats = RunStats {
        ops: all.len() as u64,
        successes: successes.len() as u64,
        overall: latencies(&|_| true),
        ..RunStats::default()
    };
    for o in &all {
        if let Some(e) = o.error {
            *stats.errors.entry(e).or_default() += 1;
        }
    }

    // The stretch of each switchover: from its trigger to when all connections are
    // back, or the end of the run.
    let spans: Vec<Option<(u64, u64, Option<u64>)>> = switches
        .iter()
        .map(|s| {
            let trigger = s.trigger_us.filter(|_| s.accepted)?;
            let reference = s.done_us.or(s.reply_us).unwrap_or(trigger);
            let recovered = workers
                .iter()
                .map(|ops| first_success_after(ops, reference))
                .try_fold(reference, |acc, t| t.map(|t| acc.max(t)));
            Some((trigger, recovered.unwrap_or(end_us).min(end_us), recovered))
        })
        .collect();
    let triggers: Vec<u64> = spans.iter().flatten().map(|s| s.0).collect();

    let mut prev_end = 0;
    for span in &spans {
        let Some((trigger, until, recovered)) = *span else {
            stats.switches.push(SwitchStats::default());
            continue;
        };
        let next = triggers
            .iter()
            .copied()
            .find(|&t| t > trigger)
            .unwrap_or(end_us);
        let mut errors = ErrorCounts::new();
        for o in &all {
            if let Some(e) = o.error {
                if o.end_us >= trigger && o.end_us <= until {
                    *errors.entry(e).or_default() += 1;
                }
            }
        }
        let lo = prev_end;
        stats.switches.push(SwitchStats {
            window_us: Some(longest_gap(&successes, trigger, until)),
            recovered_us: recovered,
            errors,
            before: latencies(&|o| o.end_us >= lo && o.end_us < trigger),
            during: latencies(&|o| o.end_us >= trigger && o.start_us <= until),
            after: latencies(&|o| o.start_us > until && o.end_us < next),
        });
        prev_end = until;
    }

    let live: Vec<(u64, u64)> = spans.iter().flatten().map(|s| (s.0, s.1)).collect();
    if let (Some(first), Some(last)) = (live.first(), live.last()) {
        let (first_trigger, last_until) = (first.0, last.1);
        stats.before = latencies(&|o| o.end_us < first_trigger);
        stats.during = latencies(&|o| live.iter().any(|&(t, u)| o.end_us >= t && o.start_us <= u));
        stats.after = latencies(&|o| o.start_us > last_until);
    } else {
        stats.before = stats.overall;
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(start_us: u64, end_us: u64) -> Op {
        Op {
            start_us,
            end_us,
            error: None,
        }
    }

    fn failed(start_us: u64, end_us: u64, e: ErrorClass) -> Op {
        Op {
            start_us,
            end_us,
            error: Some(e),
        }
    }

    fn switch(trigger: u64, done: u64) -> Switch {
        Switch {
            trigger_us: Some(trigger),
            reply_us: Some(trigger + 10),
            done_us: Some(done),
            accepted: true,
            ..Switch::default()
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = Latency::of((1..=100).rev().collect());
        assert_eq!((l.count, l.p50_us, l.p99_us, l.max_us), (100, 50, 99, 100));
        assert_eq!(Latency::of(vec![7]).p99_us, 7);
        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }

    #[test]
    fn the_window_is_the_longest_gap_until_every_connection_succeeded_after_the_switch() {
        // Worker 0 succeeds every 100 us until a write is held from 1000 to 1600; worker
        // 1 gets READONLY at 1500, then succeeds from 1700 (after the switch at 1550).
        let w0 = vec![
            ok(0, 100),
            ok(100, 200),
            ok(900, 1000),
            ok(1000, 1600),
            ok(1600, 1650),
        ];
        let w1 = vec![
            ok(0, 150),
            ok(950, 990),
            failed(990, 1500, ErrorClass::Readonly),
            ok(1600, 1700),
        ];
        let stats = analyse(&[w0, w1], &[switch(1000, 1550)], 2000);
        let s = &stats.switches[0];
        // Successes after the trigger: 1600 (worker 0's held write), 1650, 1700.
        assert_eq!(s.window_us, Some(600));
        assert_eq!(s.recovered_us, Some(1700));
        assert_eq!(s.errors.get(&ErrorClass::Readonly), Some(&1));
        assert_eq!(stats.total_errors(), 1);
        assert_eq!(stats.successes, 8);
    }

    #[test]
    fn a_connection_that_never_succeeds_again_stretches_the_window_to_the_end() {
        let w0 = vec![ok(0, 10), ok(20, 30), ok(600, 700)];
        let w1 = vec![ok(0, 10), failed(20, 900, ErrorClass::Timeout)];
        let stats = analyse(&[w0, w1], &[switch(15, 500)], 1000);
        let s = &stats.switches[0];
        assert_eq!(s.recovered_us, None);
        assert_eq!(s.window_us, Some(670));
        assert_eq!(s.errors.get(&ErrorClass::Timeout), Some(&1));
    }

    #[test]
    fn an_op_in_flight_at_the_trigger_does_not_end_the_window() {
        // Sent before the switch completed, answered quickly: does not count as
        // recovered; the op sent after the switch does.
        let w0 = vec![ok(90, 110), ok(110, 400), ok(400, 410)];
        let stats = analyse(&[w0], &[switch(100, 300)], 1000);
        assert_eq!(stats.switches[0].recovered_us, Some(410));
        assert_eq!(stats.switches[0].window_us, Some(290));
    }

    #[test]
    fn latency_is_split_into_before_during_and_after() {
        let w0 = vec![
            ok(0, 10),
            ok(10, 20),
            ok(100, 600),
            ok(600, 605),
            ok(700, 702),
        ];
        let stats = analyse(&[w0], &[switch(50, 550)], 1000);
        assert_eq!(stats.before.count, 2);
        assert_eq!(stats.during.count, 2);
        assert_eq!(stats.during.max_us, 500);
        assert_eq!(stats.after.count, 1);
        assert_eq!(stats.after.max_us, 2);
        assert_eq!(stats.switches[0].before.count, 2);
        assert_eq!(stats.overall.count, 5);
    }

    #[test]
    fn a_switchover_that_was_never_triggered_has_no_window() {
        let stats = analyse(&[vec![ok(0, 10)]], &[Switch::default()], 100);
        assert_eq!(stats.switches[0].window_us, None);
        assert_eq!(stats.before.count, 1);
    }

    #[test]
    fn a_refused_switch_command_has_no_window() {
        let refused = Switch {
            accepted: false,
            ..switch(20, 30)
        };
        let stats = analyse(&[vec![ok(0, 10), ok(10, 90)]], &[refused], 100);
        assert_eq!(stats.switches[0].window_us, None);
        assert_eq!(stats.before.count, 2);
    }
}
