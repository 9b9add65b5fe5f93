//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...).
//!
//! A handler that finds no data calls `Ctx::block`; the client keeps its
//! command and stops reading further input. When a write changes one of the
//! keys, the key becomes ready and the waiting clients re-run their command
//! in FIFO order, in the same loop turn; one that still finds nothing blocks
//! again at the back. Deadlines have sub-second precision: the loop sleeps
//! no longer than the nearest one. This module only keeps the bookkeeping;
//! the event loop re-runs commands and writes timeout replies.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use ahash::AHashMap;
use bytes::Bytes;

/// What a blocked command replies when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` in RESP2, `_` in RESP3 (BLPOP, BZPOPMIN, BLMPOP, XREAD).
    NullArray,
    /// `$-1` in RESP2, `_` in RESP3 (BLMOVE, BRPOPLPUSH).
    NullBulk,
    /// WAIT: the number of replicas that acknowledged `offset` (also the
    /// reply once `numreplicas` did).
    ReplicaCount { offset: i64, numreplicas: i64 },
    /// SHUTDOWN waiting for lagging replicas: no timeout, CLIENT UNBLOCK
    /// does not apply (as Redis 7.2); answered only when the shutdown is
    /// cancelled (the process exits otherwise).
    Shutdown,
}

/// A blocked client's state.
#[derive(Debug)]
pub struct BlockState {
    pub keys: Vec<(usize, Box<[u8]>)>,
    pub deadline: Option<Instant>,
    pub on_timeout: TimeoutReply,
    /// The command to re-run (table id and arguments).
    pub cmd: usize,
    pub args: Vec<Bytes>,
}

/// Who waits for which key, and when they give up.
#[derive(Default)]
pub struct Blocking {
    by_key: AHashMap<(usize, Box<[u8]>), VecDeque<usize>>,
    deadlines: BTreeSet<(Instant, usize)>,
    /// Keys changed while someone waited for them, in signal order.
    pub ready: VecDeque<(usize, Box<[u8]>)>,
    /// Clients unblocked by something other than their own input (a push,
    /// a timeout, CLIENT UNBLOCK): their pending input must be processed.
    pub resumed: Vec<usize>,
    /// Set while a blocked command is re-run: if it blocks again it keeps its
    /// original deadline instead of starting a new timeout.
    pub inherit_deadline: Option<Option<Instant>>,
    blocked: usize,
}

impl Blocking {
    /// Number of blocked clients (INFO `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.blocked
    }

    /// Number of keys with waiters (INFO `total_blocking_keys`).
    pub fn blocking_keys(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocked == 0
    }

    /// Registers client `slot` as waiting on `state.keys` until `state.deadline`.
    pub fn add(&mut self, slot: usize, state: &BlockState) {
        for k in &state.keys {
            let q = self.by_key.entry(k.clone()).or_default();
            if !q.contains(&slot) {
                q.push_back(slot);
            }
        }
        if let Some(d) = state.deadline {
            self.deadlines.insert((d, slot));
        }
        self.blocked += 1;
    }

    /// Forgets client `slot`'s registrations.
    pub fn remove(&mut self, slot: usize, state: &BlockState) {
        for k in &state.keys {
            if let Some(q) = self.by_key.get_mut(k) {
                q.retain(|&s| s != slot);
                if q.is_empty() {
                    self.by_key.remove(k);
                }
            }
        }
        if let Some(d) = state.deadline {
            self.deadlines.remove(&(d, slot));
        }
        self.blocked = self.blocked.saturating_sub(1);
    }

    /// Marks a changed key ready if someone waits for it.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        let k = (db, Box::<[u8]>::from(key));
        if self.by_key.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push_back(k);
        }
    }

    /// Marks every waited-for key of database `db` ready (flush, swap).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<_> = self
            .by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        for k in keys {
            if !self.ready.contains(&k) {
                self.ready.push_back(k);
            }
        }
    }

    /// The clients waiting for `key`, oldest first.
    pub fn waiters(&self, key: &(usize, Box<[u8]>)) -> Vec<usize> {
        self.by_key
            .get(key)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Clients whose deadline is at or before `now`.
    pub fn expired(&self, now: Instant) -> Vec<usize> {
        self.deadlines
            .iter()
            .take_while(|(d, _)| *d <= now)
            .map(|(_, s)| *s)
            .collect()
    }

    /// Time until the nearest deadline.
    pub fn next_deadline(&self, now: Instant) -> Option<Duration> {
        self.deadlines
            .first()
            .map(|(d, _)| d.saturating_duration_since(now))
    }
}

/// Parses a blocking timeout in seconds (fractions allowed): 0 = forever.
pub fn parse_timeout_secs(arg: &[u8]) -> Result<Option<Duration>, &'static str> {
    let secs = crate::commands::ctx::parse_float(arg).ok_or(crate::errors::TIMEOUT_NOT_FLOAT)?;
    if !secs.is_finite() || secs > (i64::MAX / 1000) as f64 {
        return Err(crate::errors::TIMEOUT_NOT_FLOAT);
    }
    if secs < 0.0 {
        return Err(crate::errors::TIMEOUT_NEGATIVE);
    }
    // Truncated to milliseconds as Redis does: 0.0001 means no timeout.
    let ms = (secs * 1000.0) as u64;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(keys: &[&str], deadline: Option<Instant>) -> BlockState {
        BlockState {
            keys: keys
                .iter()
                .map(|k| (0, Box::<[u8]>::from(k.as_bytes())))
                .collect(),
            deadline,
            on_timeout: TimeoutReply::NullArray,
            cmd: 0,
            args: Vec::new(),
        }
    }

    #[test]
    fn waiters_are_served_in_arrival_order() {
        let mut b = Blocking::default();
        b.add(3, &state(&["k"], None));
        b.add(1, &state(&["k", "j"], None));
        assert_eq!(b.waiters(&(0, b"k"[..].into())), vec![3, 1]);
        b.signal(0, b"k");
        b.signal(0, b"k");
        b.signal(0, b"nobody");
        assert_eq!(b.ready.len(), 1);
        b.remove(3, &state(&["k"], None));
        assert_eq!(b.waiters(&(0, b"k"[..].into())), vec![1]);
        assert_eq!(b.blocked_clients(), 1);
        assert_eq!(b.blocking_keys(), 2);
    }

    #[test]
    fn deadlines_expire_in_order() {
        let mut b = Blocking::default();
        let now = Instant::now();
        b.add(1, &state(&["a"], Some(now + Duration::from_millis(50))));
        b.add(2, &state(&["a"], Some(now + Duration::from_millis(10))));
        b.add(3, &state(&["a"], None));
        assert_eq!(b.expired(now + Duration::from_millis(20)), vec![2]);
        assert!(b.next_deadline(now).unwrap() <= Duration::from_millis(10));
    }

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout_secs(b"0"), Ok(None));
        assert_eq!(
            parse_timeout_secs(b"0.1"),
            Ok(Some(Duration::from_millis(100)))
        );
        assert_eq!(
            parse_timeout_secs(b"-1"),
            Err(crate::errors::TIMEOUT_NEGATIVE)
        );
        assert_eq!(
            parse_timeout_secs(b"abc"),
            Err(crate::errors::TIMEOUT_NOT_FLOAT)
        );
        assert_eq!(
            parse_timeout_secs(b"inf"),
            Err(crate::errors::TIMEOUT_NOT_FLOAT)
        );
    }
}
