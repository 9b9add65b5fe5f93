//! FAILOVER on the primary, as a state machine with no I/O
//! (switchover-spec.md §2.3): `no-failover` -> `waiting-for-sync` (writes
//! held, waiting for a replica to acknowledge the last byte) ->
//! `failover-in-progress` (this node is the target's replica and sends
//! `PSYNC ... FAILOVER`) -> `no-failover`.
//!
//! Beyond Valkey, which waits for the replica's once-a-second ACK, the
//! machine asks for an acknowledgement (`REPLCONF GETACK *`) as soon as
//! writes are held and again whenever an answer shows the replica was still
//! behind. A GETACK is itself stream bytes, and a replica acknowledges the
//! offset *before* the GETACK it answers, so "caught up" is: the ACK covers
//! every data byte, and either equals the primary's offset or answers the
//! latest GETACK (the replica then holds everything, GETACKs included, by
//! the time its ACK arrives: it sent it while running that last GETACK).

use std::time::{Duration, Instant};

/// `master_failover_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    NoFailover,
    /// Clients told to move (maintenance notifications) are leaving; writes
    /// are still served. Shown as `waiting-for-sync`, Valkey's vocabulary.
    Draining,
    WaitingForSync,
    InProgress,
}

impl Phase {
    pub fn info_name(self) -> &'static str {
        match self {
            Phase::NoFailover => "no-failover",
            Phase::Draining | Phase::WaitingForSync => "waiting-for-sync",
            Phase::InProgress => "failover-in-progress",
        }
    }
}

/// One replica as FAILOVER sees it: its announced address and ack offset.
#[derive(Clone, Debug)]
pub struct ReplicaView {
    pub host: String,
    pub port: u16,
    pub ack: i64,
}

impl ReplicaView {
    /// FAILOVER TO names this replica: the host compared as a
    /// case-insensitive string with its announced address, and its port.
    pub fn is(&self, host: &str, port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.port == port
    }
}

/// The primary's offsets at this moment.
#[derive(Clone, Copy, Debug)]
pub struct Offsets {
    /// master_repl_offset.
    pub master: i64,
    /// The offset of the last byte that was not a GETACK of ours.
    pub data: i64,
}

/// What the server must do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Wait,
    /// Propagate `REPLCONF GETACK *` and report it with [`Failover::getack_sent`].
    SendGetack,
    /// Become the replica of this target with `PSYNC ... FAILOVER`.
    Switch {
        host: String,
        port: u16,
        /// Caught up (false: the timeout passed and FORCE was given).
        caught_up: bool,
    },
    /// Give up; the node stays (or becomes again) a primary.
    Abort(&'static str),
}

/// A replica that acknowledged `ack` holds every byte that matters: its ACK
/// covers every data byte and either equals the primary's offset or
/// answers the latest GETACK, sent at `getack_before` (the replica then
/// holds everything, GETACKs included, by the time its ACK arrives).
pub fn acked_all(ack: i64, offs: Offsets, getack_before: Option<i64>) -> bool {
    ack >= offs.data && (ack >= offs.master || getack_before == Some(ack))
}

/// How long to wait for the answer to a GETACK before asking again.
const GETACK_RETRY: Duration = Duration::from_millis(100);

pub struct Failover {
    phase: Phase,
    /// TO host port (None: any replica that catches up).
    target: Option<(String, u16)>,
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    force: bool,
    started: Instant,
    /// (offset before, when) of the latest GETACK sent.
    last_getack: Option<(i64, Instant)>,
}

impl Default for Failover {
    fn default() -> Self {
        Failover {
            phase: Phase::NoFailover,
            target: None,
            deadline: None,
            timeout: None,
            force: false,
            started: Instant::now(),
            last_getack: None,
        }
    }
}

impl Failover {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn active(&self) -> bool {
        self.phase != Phase::NoFailover
    }

    /// The chosen target (set for TO, or once a replica caught up).
    pub fn target(&self) -> Option<&(String, u16)> {
        self.target.as_ref()
    }

    /// A deadline was given (Valkey then also stops pinging replicas).
    pub fn has_deadline(&self) -> bool {
        self.deadline.is_some()
    }

    /// The announced length of the write-held phase, in whole seconds
    /// (FAILING_OVER's time; 5 without TIMEOUT).
    pub fn timeout_secs(&self) -> i64 {
        self.timeout.map_or(5, |t| t.as_secs().max(1) as i64)
    }

    pub fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    /// An accepted `FAILOVER`: writes are held from now on, or, with
    /// `drain`, once moved clients have left (see [`Failover::drained`]).
    pub fn begin(
        &mut self,
        now: Instant,
        target: Option<(String, u16)>,
        timeout: Option<Duration>,
        force: bool,
        drain: bool,
    ) {
        *self = Failover {
            phase: Phase::Draining,
            target,
            deadline: None,
            timeout,
            force,
            started: now,
            last_getack: None,
        };
        if !drain {
            self.drained(now);
        }
    }

    /// The drain is over: writes are held and TIMEOUT starts counting (it
    /// bounds the write-held phase only).
    pub fn drained(&mut self, now: Instant) {
        if self.phase == Phase::Draining {
            self.phase = Phase::WaitingForSync;
            self.deadline = self.timeout.map(|t| now + t);
        }
    }

    /// The GETACK asked for by [`Step::SendGetack`] went out; `before` is
    /// master_repl_offset before it.
    pub fn getack_sent(&mut self, before: i64, now: Instant) {
        self.last_getack = Some((before, now));
    }

    /// What to do now, given the offsets and the replicas (in the order
    /// Redis lists them; the first caught-up one wins without TO).
    pub fn step(&mut self, now: Instant, offs: Offsets, replicas: &[ReplicaView]) -> Step {
        if self.phase != Phase::WaitingForSync {
            return Step::Wait;
        }
        let candidates: Vec<&ReplicaView> = replicas
            .iter()
            .filter(|r| match &self.target {
                Some((h, p)) => r.is(h, *p),
                None => true,
            })
            .collect();
        if let Some(r) = candidates.iter().find(|r| self.caught_up(r.ack, offs)) {
            let (host, port) = (r.host.clone(), r.port);
            self.enter_progress(host.clone(), port);
            return Step::Switch {
                host,
                port,
                caught_up: true,
            };
        }
        if self.deadline.is_some_and(|d| now >= d) {
            return match (&self.target, self.force) {
                (Some((h, p)), true) => {
                    let (host, port) = (h.clone(), *p);
                    self.enter_progress(host.clone(), port);
                    Step::Switch {
                        host,
                        port,
                        caught_up: false,
                    }
                }
                _ => {
                    self.phase = Phase::NoFailover;
                    Step::Abort("Replica never caught up before timeout")
                }
            };
        }
        let best = candidates.iter().map(|r| r.ack).max().unwrap_or(-1);
        let ask = match self.last_getack {
            None => true,
            // Answered but still behind (data arrived after it), or no answer yet.
            Some((before, at)) => best >= before || now.duration_since(at) >= GETACK_RETRY,
        };
        if ask && !candidates.is_empty() {
            Step::SendGetack
        } else {
            Step::Wait
        }
    }

    fn caught_up(&self, ack: i64, offs: Offsets) -> bool {
        acked_all(ack, offs, self.last_getack.map(|(b, _)| b))
    }

    fn enter_progress(&mut self, host: String, port: u16) {
        self.phase = Phase::InProgress;
        self.target = Some((host, port));
    }

    /// The failover ended (success or abort): back to `no-failover`.
    pub fn clear(&mut self) {
        *self = Failover::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(ack: i64) -> ReplicaView {
        ReplicaView {
            host: "127.0.0.1".into(),
            port: 7002,
            ack,
        }
    }

    fn offs(master: i64, data: i64) -> Offsets {
        Offsets { master, data }
    }

    #[test]
    fn a_replica_that_already_acked_everything_is_switched_to_at_once() {
        let now = Instant::now();
        let mut f = Failover::default();
        f.begin(now, None, None, false, false);
        assert_eq!(f.phase(), Phase::WaitingForSync);
        let step = f.step(now, offs(100, 100), &[replica(100)]);
        assert_eq!(
            step,
            Step::Switch {
                host: "127.0.0.1".into(),
                port: 7002,
                caught_up: true
            }
        );
        assert_eq!(f.phase(), Phase::InProgress);
    }

    #[test]
    fn a_behind_replica_is_asked_for_an_ack_and_its_answer_to_the_last_getack_completes() {
        let now = Instant::now();
        let mut f = Failover::default();
        f.begin(now, None, None, false, false);
        assert_eq!(
            f.step(now, offs(100, 100), &[replica(60)]),
            Step::SendGetack
        );
        f.getack_sent(100, now);
        // The GETACK is 37 bytes of stream: master 137, data still 100.
        assert_eq!(f.step(now, offs(137, 100), &[replica(60)]), Step::Wait);
        // The replica answers the GETACK with the offset before it.
        assert!(matches!(
            f.step(now, offs(137, 100), &[replica(100)]),
            Step::Switch {
                caught_up: true,
                ..
            }
        ));
    }

    #[test]
    fn an_answer_to_an_older_getack_waits_for_the_answer_to_the_latest() {
        let now = Instant::now();
        let mut f = Failover::default();
        f.begin(now, None, None, false, false);
        f.getack_sent(100, now);
        f.getack_sent(137, now);
        // Answer to the first GETACK: data complete but a GETACK still in flight.
        assert_eq!(f.step(now, offs(174, 100), &[replica(100)]), Step::Wait);
        assert!(matches!(
            f.step(now, offs(174, 100), &[replica(137)]),
            Step::Switch { .. }
        ));
    }

    #[test]
    fn an_unanswered_getack_is_repeated_after_a_while() {
        let now = Instant::now();
        let mut f = Failover::default();
        f.begin(now, None, None, false, false);
        f.getack_sent(100, now);
        assert_eq!(f.step(now, offs(137, 100), &[replica(50)]), Step::Wait);
        assert_eq!(
            f.step(now + GETACK_RETRY, offs(137, 100), &[replica(50)]),
            Step::SendGetack
        );
    }

    #[test]
    fn the_timeout_aborts_without_force_and_switches_with_it() {
        let now = Instant::now();
        let later = now + Duration::from_millis(600);
        let mut f = Failover::default();
        f.begin(now, None, Some(Duration::from_millis(500)), false, false);
        assert_eq!(
            f.step(later, offs(100, 100), &[replica(10)]),
            Step::Abort("Replica never caught up before timeout")
        );
        assert_eq!(f.phase(), Phase::NoFailover);

        let mut f = Failover::default();
        let to = Some(("127.0.0.1".to_string(), 7002));
        f.begin(now, to, Some(Duration::from_millis(500)), true, false);
        assert!(matches!(
            f.step(later, offs(100, 100), &[replica(10)]),
            Step::Switch {
                caught_up: false,
                ..
            }
        ));
    }

    #[test]
    fn a_drain_comes_before_the_write_hold_and_the_timeout() {
        let now = Instant::now();
        let mut f = Failover::default();
        f.begin(now, None, Some(Duration::from_millis(100)), false, true);
        assert_eq!(f.phase(), Phase::Draining);
        let later = now + Duration::from_millis(500);
        assert_eq!(f.step(later, offs(100, 100), &[replica(10)]), Step::Wait);
        f.drained(later);
        assert_eq!(f.phase(), Phase::WaitingForSync);
        assert_eq!(
            f.step(later, offs(100, 100), &[replica(10)]),
            Step::SendGetack
        );
    }

    #[test]
    fn with_to_only_the_named_replica_counts() {
        let now = Instant::now();
        let mut f = Failover::default();
        f.begin(now, Some(("127.0.0.1".into(), 7003)), None, false, false);
        let other = ReplicaView {
            host: "127.0.0.1".into(),
            port: 7003,
            ack: 50,
        };
        assert_eq!(
            f.step(now, offs(100, 100), &[replica(100), other]),
            Step::SendGetack
        );
    }
}
