//! SHUTDOWN's wait for lagging replicas (Redis 7's graceful shutdown), as a
//! value with no I/O: whether a shutdown may finish at once, the wait of at
//! most `shutdown-timeout` while writes are held, when it ends, and the
//! report of the replicas still behind at the end.
//!
//! The server holds writes and asks for an acknowledgement (`REPLCONF
//! GETACK *`) when this machine says so, feeds it the replicas' ACK offsets
//! every turn, and finishes (save, exit) or cancels (SHUTDOWN ABORT, a
//! failed save) on its own; saving and the flags that decide it are not
//! this module's business.
//!
//! "In sync" is FAILOVER's caught-up rule ([`crate::failover::acked_all`]):
//! the ACK covers every data byte and either equals the primary's offset or
//! answers the GETACK sent when the wait began. Redis only counts an ACK
//! equal to its offset, which a replica sends with its once-a-second ACK
//! after the GETACK; this machine also takes the answer to the GETACK
//! itself, so a caught-up replica ends the wait at once instead of up to a
//! second later. Everything else (when to wait, the timeout, the report's
//! lines) follows Redis 7.0's `prepareForShutdown` / `finishShutdown`.

use std::time::{Duration, Instant};

use crate::failover::{acked_all, Offsets};

/// What a shutdown request leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// No replica lags (or NOW, or `shutdown-timeout 0`): finish now.
    Finish,
    /// Hold writes and wait. With `getack`, ask the replicas for their
    /// offset now and report it with [`ShutdownWait::getack_sent`] (not when
    /// writes were already held: a pause freezes the offset).
    Wait { getack: bool },
    /// A shutdown is already waiting; this request waits with it.
    InProgress,
}

/// One replica at the end of the wait, for the report.
#[derive(Clone, Debug)]
pub struct ReplicaStatus {
    /// `ip:port` as Redis names replicas in its log.
    pub name: String,
    pub ack: i64,
    /// `online`, `wait_bgsave`, `send_bulk` (INFO's `state=`).
    pub state: &'static str,
    /// Seconds since its last ACK (reported as 0 unless online, as Redis).
    pub lag_secs: u64,
}

/// The log lines of the end of a wait, in Redis's words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One warning per replica that is behind.
    pub lagging: Vec<String>,
    /// "N of M replicas are in sync when shutting down." (notice); None
    /// without replicas.
    pub summary: Option<String>,
}

/// The wait's state: idle, waiting until a deadline, or finishing.
#[derive(Debug, Default)]
pub struct ShutdownWait {
    /// Some while waiting.
    deadline: Option<Instant>,
    /// master_repl_offset before the latest GETACK a wait sent. Kept after
    /// that wait ends: a replica that answered it has every byte until more
    /// data comes (which its ACK must then cover), so a SHUTDOWN right after
    /// a cancelled wait judges it as the wait did.
    getack_before: Option<i64>,
}

impl ShutdownWait {
    /// A shutdown is waiting for replicas (Redis's `isShutdownInitiated`).
    pub fn waiting(&self) -> bool {
        self.deadline.is_some()
    }

    /// A shutdown request: finish at once, or wait up to `timeout` for the
    /// replicas whose ACKs are `acks`. `skip` is SHUTDOWN NOW; `paused`
    /// says writes are already held (then no GETACK is asked for).
    pub fn begin(
        &mut self,
        now: Instant,
        timeout: Duration,
        skip: bool,
        paused: bool,
        offs: Offsets,
        acks: &[i64],
    ) -> Begin {
        if self.waiting() {
            return Begin::InProgress;
        }
        if skip || timeout.is_zero() || self.all_in_sync(offs, acks) {
            return Begin::Finish;
        }
        self.deadline = Some(now + timeout);
        Begin::Wait { getack: !paused }
    }

    /// The GETACK asked for by [`Begin::Wait`] went out; `before` is
    /// master_repl_offset before it.
    pub fn getack_sent(&mut self, before: i64) {
        self.getack_before = Some(before);
    }

    /// True when the wait is over (every replica in sync, or the deadline
    /// passed): the server finishes the shutdown now. False while waiting
    /// (and when not waiting at all).
    pub fn step(&mut self, now: Instant, offs: Offsets, acks: &[i64]) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        if now >= deadline || self.all_in_sync(offs, acks) {
            self.deadline = None;
            return true;
        }
        false
    }

    /// Ends a wait without finishing (SHUTDOWN ABORT, a failed save); true
    /// if one was in progress.
    pub fn cancel(&mut self) -> bool {
        self.deadline.take().is_some()
    }

    /// Whether a replica that acknowledged `ack` has everything.
    pub fn in_sync(&self, ack: i64, offs: Offsets) -> bool {
        acked_all(ack, offs, self.getack_before)
    }

    fn all_in_sync(&self, offs: Offsets, acks: &[i64]) -> bool {
        acks.iter().all(|&a| self.in_sync(a, offs))
    }

    /// What to log when the shutdown finishes (Redis's `finishShutdown`):
    /// each replica still behind, then how many are in sync.
    pub fn report(&self, offs: Offsets, replicas: &[ReplicaStatus]) -> Report {
        let lagging: Vec<String> = replicas
            .iter()
            .filter(|r| !self.in_sync(r.ack, offs))
            .map(|r| {
                let lag = if r.state == "online" { r.lag_secs } else { 0 };
                format!(
                    "Lagging replica {} reported offset {} behind master, lag={}, state={}.",
                    r.name,
                    offs.master - r.ack,
                    lag,
                    r.state
                )
            })
            .collect();
        let summary = (!replicas.is_empty()).then(|| {
            format!(
                "{} of {} replicas are in sync when shutting down.",
                replicas.len() - lagging.len(),
                replicas.len()
            )
        });
        Report { lagging, summary }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offs(master: i64, data: i64) -> Offsets {
        Offsets { master, data }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn status(ack: i64, state: &'static str) -> ReplicaStatus {
        ReplicaStatus {
            name: "127.0.0.1:7002".into(),
            ack,
            state,
            lag_secs: 3,
        }
    }

    #[test]
    fn without_lagging_replicas_or_with_now_or_a_zero_timeout_it_finishes_at_once() {
        let now = Instant::now();
        let mut w = ShutdownWait::default();
        let o = offs(100, 100);
        assert_eq!(w.begin(now, secs(10), false, false, o, &[]), Begin::Finish);
        assert_eq!(
            w.begin(now, secs(10), false, false, o, &[100, 100]),
            Begin::Finish
        );
        assert_eq!(w.begin(now, secs(10), true, false, o, &[50]), Begin::Finish);
        assert_eq!(w.begin(now, secs(0), false, false, o, &[50]), Begin::Finish);
        assert!(!w.waiting());
    }

    #[test]
    fn a_lagging_replica_starts_a_wait_that_asks_for_an_ack_unless_writes_are_held() {
        let now = Instant::now();
        let mut w = ShutdownWait::default();
        let o = offs(100, 100);
        assert_eq!(
            w.begin(now, secs(10), false, false, o, &[100, 60]),
            Begin::Wait { getack: true }
        );
        assert!(w.waiting());
        assert_eq!(
            w.begin(now, secs(10), true, false, o, &[100]),
            Begin::InProgress,
            "a second request (even NOW) joins the wait"
        );
        assert!(w.cancel());
        assert!(!w.cancel());
        assert_eq!(
            w.begin(now, secs(10), false, true, o, &[60]),
            Begin::Wait { getack: false }
        );
    }

    #[test]
    fn the_answer_to_the_getack_ends_the_wait() {
        let now = Instant::now();
        let mut w = ShutdownWait::default();
        w.begin(now, secs(10), false, false, offs(100, 100), &[60]);
        w.getack_sent(100);
        // The GETACK is 37 bytes of stream: master 137, data still 100.
        assert!(!w.step(now, offs(137, 100), &[60]));
        assert!(!w.step(now, offs(137, 100), &[99]));
        assert!(w.step(now, offs(137, 100), &[100]));
        assert!(!w.waiting());
        assert!(!w.step(now, offs(137, 100), &[100]), "not waiting any more");
    }

    #[test]
    fn without_a_getack_only_an_ack_of_the_whole_offset_counts() {
        let now = Instant::now();
        let mut w = ShutdownWait::default();
        w.begin(now, secs(10), false, true, offs(137, 100), &[60]);
        assert!(!w.step(now, offs(137, 100), &[100]));
        assert!(w.step(now, offs(137, 100), &[137]));
    }

    #[test]
    fn a_replica_that_answered_the_getack_of_a_cancelled_wait_is_still_in_sync() {
        let now = Instant::now();
        let mut w = ShutdownWait::default();
        w.begin(now, secs(10), false, false, offs(100, 100), &[60]);
        w.getack_sent(100);
        assert!(w.cancel());
        assert_eq!(
            w.begin(now, secs(10), false, false, offs(137, 100), &[100]),
            Begin::Finish
        );
        // More data since: the old answer no longer covers it.
        assert_eq!(
            w.begin(now, secs(10), false, false, offs(166, 129), &[100]),
            Begin::Wait { getack: true }
        );
    }

    #[test]
    fn the_deadline_ends_the_wait_with_replicas_still_behind() {
        let now = Instant::now();
        let mut w = ShutdownWait::default();
        w.begin(now, secs(2), false, false, offs(100, 100), &[60]);
        w.getack_sent(100);
        assert!(!w.step(now + Duration::from_millis(1999), offs(137, 100), &[60]));
        assert!(w.step(now + secs(2), offs(137, 100), &[60]));
    }

    #[test]
    fn the_report_names_each_lagging_replica_as_redis_does() {
        let mut w = ShutdownWait::default();
        let now = Instant::now();
        w.begin(now, secs(10), false, false, offs(100, 100), &[60]);
        w.getack_sent(100);
        let r = w.report(
            offs(137, 100),
            &[
                status(100, "online"),
                status(57, "online"),
                status(0, "wait_bgsave"),
            ],
        );
        assert_eq!(
            r.lagging,
            vec![
                "Lagging replica 127.0.0.1:7002 reported offset 80 behind master, lag=3, state=online."
                    .to_string(),
                "Lagging replica 127.0.0.1:7002 reported offset 137 behind master, lag=0, state=wait_bgsave."
                    .to_string(),
            ]
        );
        assert_eq!(
            r.summary.as_deref(),
            Some("1 of 3 replicas are in sync when shutting down.")
        );
        assert_eq!(w.report(offs(1, 1), &[]), Report::default());
    }
}
