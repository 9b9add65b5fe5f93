//! Pausing clients (CLIENT PAUSE, FAILOVER's write pause, SHUTDOWN's wait
//! for replicas): which actions are paused, for which purposes and until
//! when, and which clients wait.
//!
//! Each purpose has its own slot; the effective pause is the most
//! restrictive unexpired one (switchover-spec.md §3.2). A held client is
//! never answered: its command stays un-run and is dispatched again from
//! scratch when the pause becomes less restrictive, against whatever role
//! the node has by then. This module only keeps the bookkeeping and does
//! no I/O; `dispatch` decides what is held and the event loop re-runs it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Why clients are paused; each purpose is a separate slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    ClientPause = 0,
    Shutdown = 1,
    Failover = 2,
}

/// What is paused, from least to most restrictive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Actions {
    #[default]
    None,
    /// Writes and may-replicate commands, expiry, eviction, replica traffic.
    Write,
    /// Every command of every non-replica client, plus all of the above.
    All,
}

impl Actions {
    /// INFO `paused_actions`.
    pub fn info_name(self) -> &'static str {
        match self {
            Actions::None => "none",
            Actions::Write => "write",
            Actions::All => "all",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    actions: Actions,
    /// None: until cleared (a failover ends its own pause).
    end: Option<Instant>,
}

/// The pause slots and the clients they hold.
#[derive(Default)]
pub struct Pause {
    slots: [Option<Slot>; 3],
    /// The effective actions, recomputed whenever a slot changes so that
    /// dispatch reads one field per command.
    pub active: Actions,
    /// Slots of held clients, in the order they were held.
    pub postponed: VecDeque<usize>,
    /// The pause became less restrictive: held clients must be re-run.
    pub release_pending: bool,
    /// This replica is about to be promoted by a FAILOVER whose clients are
    /// moving here: keyspace commands wait for the promotion (or this end).
    pub incoming_until: Option<Instant>,
    /// When that hold started; set to None when it ends by promotion.
    pub incoming_since: Option<Instant>,
    /// The hold ran out without a promotion (the failover was aborted or
    /// never came): the clients that arrived meanwhile must be sent back.
    pub incoming_expired: Option<Instant>,
}

impl Pause {
    /// Pauses `actions` for `purpose` until `end` (None: until cleared).
    /// For CLIENT PAUSE a pause still in force keeps the later end, and WRITE
    /// while ALL is in force stays ALL, as Redis does.
    pub fn pause(
        &mut self,
        purpose: Purpose,
        actions: Actions,
        end: Option<Instant>,
        now: Instant,
    ) {
        let mut slot = Slot { actions, end };
        if let Some(old) = self.slots[purpose as usize].filter(|s| live(s, now)) {
            slot.end = match (old.end, end) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            if old.actions == Actions::All && actions == Actions::Write {
                slot.actions = Actions::All;
            }
        }
        self.slots[purpose as usize] = Some(slot);
        self.recompute(now);
    }

    /// Ends the pause of `purpose` (CLIENT UNPAUSE ends only its own).
    pub fn unpause(&mut self, purpose: Purpose, now: Instant) {
        self.slots[purpose as usize] = None;
        self.recompute(now);
    }

    /// Drops expired slots; called before the loop sleeps and by the cron.
    pub fn expire(&mut self, now: Instant) {
        if self.active != Actions::None {
            self.recompute(now);
        }
        if self.incoming_until.is_some_and(|e| e <= now) {
            self.incoming_expired = self.incoming_since;
            self.end_incoming();
        }
    }

    /// Holds keyspace commands until `end` (see `incoming_until`).
    pub fn hold_incoming(&mut self, now: Instant, end: Instant) {
        self.incoming_since.get_or_insert(now);
        self.incoming_until = Some(end);
    }

    /// The promotion came (or the hold timed out): held commands run again.
    pub fn end_incoming(&mut self) {
        self.incoming_since = None;
        if self.incoming_until.take().is_some() {
            self.release_pending = true;
        }
    }

    fn recompute(&mut self, now: Instant) {
        for s in self.slots.iter_mut() {
            if s.is_some_and(|x| !live(&x, now)) {
                *s = None;
            }
        }
        let before = self.active;
        self.active = self
            .slots
            .iter()
            .flatten()
            .map(|s| s.actions)
            .max()
            .unwrap_or_default();
        if self.active < before {
            self.release_pending = true;
        }
    }

    /// Writes (and what goes with them) are paused.
    pub fn writes_paused(&self) -> bool {
        self.active != Actions::None
    }

    /// Time until the nearest timed slot ends (the loop wakes up then).
    pub fn next_deadline(&self, now: Instant) -> Option<Duration> {
        self.slots
            .iter()
            .flatten()
            .filter_map(|s| s.end)
            .chain(self.incoming_until)
            .min()
            .map(|e| e.saturating_duration_since(now))
    }

    /// INFO `paused_reason`: the purpose of the most restrictive slot.
    pub fn reason(&self) -> &'static str {
        let best = [Purpose::Failover, Purpose::Shutdown, Purpose::ClientPause]
            .into_iter()
            .filter_map(|p| self.slots[p as usize].map(|s| (s.actions, p)))
            .max_by_key(|(a, _)| *a);
        match best {
            None => "none",
            Some((_, Purpose::ClientPause)) => "client_pause",
            Some((_, Purpose::Shutdown)) => "shutdown_in_progress",
            Some((_, Purpose::Failover)) => "failover_in_progress",
        }
    }

    /// INFO `paused_timeout_milliseconds`, as Valkey computes it: the latest
    /// end among the live slots that pause the most restrictive action in
    /// force, in milliseconds from now; 0 when nothing is paused. A slot
    /// without an end (FAILOVER's, SHUTDOWN's) ends at Valkey's `LLONG_MAX`
    /// milliseconds since the epoch, so it reports `i64::MAX - now_unix_ms`.
    pub fn remaining_ms(&self, now: Instant, now_unix_ms: i64) -> i128 {
        let in_force: Vec<Slot> = self
            .slots
            .iter()
            .flatten()
            .copied()
            .filter(|s| live(s, now))
            .collect();
        let Some(strictest) = in_force.iter().map(|s| s.actions).max() else {
            return 0;
        };
        in_force
            .iter()
            .filter(|s| s.actions >= strictest)
            .map(|s| match s.end {
                Some(e) => e.saturating_duration_since(now).as_millis() as i128,
                None => i128::from(i64::MAX) - i128::from(now_unix_ms),
            })
            .max()
            .unwrap_or(0)
    }

    /// Forgets a held client (it disconnected).
    pub fn forget(&mut self, slot: usize) {
        self.postponed.retain(|&s| s != slot);
    }
}

fn live(s: &Slot, now: Instant) -> bool {
    s.end.is_none_or(|e| e > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_shorter_client_pause_keeps_the_longer_end() {
        let now = Instant::now();
        let mut p = Pause::default();
        p.pause(
            Purpose::ClientPause,
            Actions::Write,
            Some(now + ms(60_000)),
            now,
        );
        p.pause(
            Purpose::ClientPause,
            Actions::Write,
            Some(now + ms(10)),
            now,
        );
        p.expire(now + ms(100));
        assert_eq!(p.active, Actions::Write);
    }

    #[test]
    fn write_while_all_is_in_force_stays_all_and_all_after_write_takes_the_later_end() {
        let now = Instant::now();
        let mut p = Pause::default();
        p.pause(Purpose::ClientPause, Actions::All, Some(now + ms(200)), now);
        p.pause(
            Purpose::ClientPause,
            Actions::Write,
            Some(now + ms(20)),
            now,
        );
        p.expire(now + ms(50));
        assert_eq!(p.active, Actions::All);
        p.expire(now + ms(201));
        assert_eq!(p.active, Actions::None);
        assert!(p.release_pending);

        let mut p = Pause::default();
        p.pause(
            Purpose::ClientPause,
            Actions::Write,
            Some(now + ms(300)),
            now,
        );
        p.pause(Purpose::ClientPause, Actions::All, Some(now + ms(100)), now);
        p.expire(now + ms(200));
        assert_eq!(p.active, Actions::All);
    }

    #[test]
    fn purposes_combine_and_unpause_clears_only_its_own() {
        let now = Instant::now();
        let mut p = Pause::default();
        p.pause(Purpose::Failover, Actions::Write, None, now);
        p.pause(
            Purpose::ClientPause,
            Actions::All,
            Some(now + ms(1000)),
            now,
        );
        assert_eq!(p.active, Actions::All);
        assert_eq!(p.reason(), "client_pause");
        p.unpause(Purpose::ClientPause, now);
        assert_eq!(p.active, Actions::Write);
        assert_eq!(p.reason(), "failover_in_progress");
        assert!(p.release_pending, "ALL -> WRITE releases held clients");
        p.expire(now + ms(1_000_000));
        assert_eq!(p.active, Actions::Write, "a failover pause has no end");
        p.unpause(Purpose::Failover, now);
        assert_eq!((p.active, p.reason()), (Actions::None, "none"));
    }

    #[test]
    fn a_zero_timeout_pauses_nothing() {
        let now = Instant::now();
        let mut p = Pause::default();
        p.pause(Purpose::ClientPause, Actions::Write, Some(now), now);
        assert_eq!(p.active, Actions::None);
    }
}
