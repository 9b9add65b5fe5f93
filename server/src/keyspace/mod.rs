//! The keyspace: the numbered databases, key lookup with lazy expiry, the
//! adaptive active expiry cycle and the keyspace counters INFO reports.
//!
//! Lookups take `now` (Unix milliseconds) from the caller, once per command.
//! Keys deleted because they expired are queued in `expired` so the server can
//! propagate them as DEL and raise notifications; this module does no I/O.

pub mod db;
pub mod hugepage;
pub mod index;
pub mod lazyfree;
pub mod lfu;
pub mod listpack;
pub mod slots;
pub mod smallbytes;
pub mod value;

pub use db::{Db, Entry, NO_EXPIRE};
pub use smallbytes::SmallBytes;
pub use value::{RStr, RawStr, Value};

use std::time::{Duration, Instant};

use crate::rng::Rng;

/// A key in a numbered database.
pub type DbKey = (usize, Box<[u8]>);

/// Counters shown in INFO stats.
#[derive(Default, Debug, Clone)]
pub struct KeyspaceStats {
    pub hits: u64,
    pub misses: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_milliseconds: u64,
}

/// Seconds since an entry's LRU stamp `lru` at LRU clock `clock` (OBJECT
/// IDLETIME, the RDB's IDLE opcode, LRU eviction): the clock is 24 bits of
/// seconds and wraps, as Redis's.
pub fn lru_idle_secs(clock: u32, lru: u32) -> u32 {
    if clock >= lru {
        clock - lru
    } else {
        clock + (0xFF_FFFF - lru)
    }
}

/// An access's effect on an entry's `lru` field.
#[derive(Clone, Copy)]
enum Access {
    Lru(u32),
    /// Minute, settings, random number.
    Lfu(u32, lfu::Lfu, u64),
}

impl Access {
    fn apply(self, field: u32) -> u32 {
        match self {
            Access::Lru(clock) => clock,
            Access::Lfu(min, l, rnd) => lfu::touched(field, min, l, rnd),
        }
    }
}

/// All databases of the server.
pub struct Keyspace {
    pub dbs: Vec<Db>,
    pub stats: KeyspaceStats,
    /// Keys removed because they expired, (db, key), drained by the server.
    pub expired: Vec<(usize, Box<[u8]>)>,
    /// False on a replica: keys expire only when the primary says so (DEL).
    pub expire_keys: bool,
    /// DEBUG SET-ACTIVE-EXPIRE.
    pub active_expire_enabled: bool,
    /// Number of changes since the last save (rdb_changes_since_last_save).
    pub dirty: u64,
    /// Coarse clock (seconds) stamped on entries for OBJECT IDLETIME.
    pub lru_clock: u32,
    /// Set under an LFU maxmemory policy: entries' `lru` fields hold LFU
    /// counters instead (see [`lfu`]).
    pub lfu: Option<lfu::Lfu>,
    /// Set when the last slow cycle ran out of time: before-sleep then runs a fast cycle.
    pub expire_backlog: bool,
    /// Record read misses (keyspace notification class `m`).
    pub record_misses: bool,
    /// Keys looked up for reading and not found, when `record_misses`, each
    /// with the length of `expired` at that moment: a miss on a key that
    /// just expired is raised after its `expired` event, as Redis raises
    /// both from inside the lookup.
    pub misses: Vec<(usize, DbKey)>,
    rng: Rng,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            stats: KeyspaceStats::default(),
            expired: Vec::new(),
            expire_keys: true,
            active_expire_enabled: true,
            dirty: 0,
            lru_clock: 0,
            lfu: None,
            expire_backlog: false,
            record_misses: false,
            misses: Vec::new(),
            rng: Rng::new(0x2545_f491_4f6c_dd1d ^ std::process::id() as u64),
        }
    }

    /// A cheap pseudo-random number (xorshift), for sampling.
    pub fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Finds `key` for a read: counts a hit or a miss, expires it lazily,
    /// touches its LRU clock unless `no_touch`.
    pub fn lookup_read(
        &mut self,
        db: usize,
        key: &[u8],
        now: i64,
        no_touch: bool,
    ) -> Option<&mut Entry> {
        let found = self.live_slot(db, key, now);
        match found {
            Some(_) => self.stats.hits += 1,
            None => {
                self.stats.misses += 1;
                if self.record_misses {
                    self.misses.push((self.expired.len(), (db, key.into())));
                }
            }
        }
        let i = found?;
        let access = (!no_touch).then(|| self.access_stamp(now));
        let e = self.dbs[db].slot_mut(i)?;
        if let Some(a) = access {
            e.lru = a.apply(e.lru);
        }
        Some(e)
    }

    /// The `lru` field of a new key: the LRU clock, or under LFU the
    /// current minute with the initial counter.
    pub fn new_lru(&self) -> u32 {
        match self.lfu {
            Some(_) => lfu::pack(lfu::minutes(crate::server::unix_ms()), lfu::INIT_VAL),
            None => self.lru_clock,
        }
    }

    /// The `lru` field of a key loaded from an RDB or RESTOREd with a saved
    /// LFU counter (`freq`) or idle time in seconds (`idle`), as Redis's
    /// objectSetLRUOrLFU: under LFU only the counter counts, otherwise
    /// only the idle time; without the one that counts, a new key's.
    pub fn restored_lru(&self, freq: Option<u8>, idle: Option<u64>) -> u32 {
        match (self.lfu, freq, idle) {
            (Some(_), Some(f), _) => lfu::pack(lfu::minutes(crate::server::unix_ms()), f),
            (None, _, Some(s)) => {
                let clock = self.lru_clock;
                clock.wrapping_sub(s.min(u32::MAX as u64) as u32) & 0xFF_FFFF
            }
            _ => self.new_lru(),
        }
    }

    /// The LFU counter of a key as OBJECT FREQ reports it (decayed to now).
    pub fn lfu_counter(&self, field: u32, now_ms: i64) -> u8 {
        let decay = self.lfu.map_or(0, |l| l.decay_time);
        lfu::counter(field, lfu::minutes(now_ms), decay)
    }

    /// What an access at `now` does to an entry's `lru` field.
    fn access_stamp(&mut self, now: i64) -> Access {
        match self.lfu {
            Some(l) => Access::Lfu(lfu::minutes(now), l, self.random()),
            None => Access::Lru(self.lru_clock),
        }
    }

    /// Finds `key` for a write (no hit/miss accounting).
    pub fn lookup_write(&mut self, db: usize, key: &[u8], now: i64) -> Option<&mut Entry> {
        let i = self.live_slot(db, key, now)?;
        self.dbs[db].touch(key);
        let access = self.access_stamp(now);
        let e = self.dbs[db].slot_mut(i)?;
        e.lru = access.apply(e.lru);
        Some(e)
    }

    /// True if `key` exists and is not logically expired.
    pub fn exists(&mut self, db: usize, key: &[u8], now: i64) -> bool {
        self.live_slot(db, key, now).is_some()
    }

    /// The slot of `key` unless it is logically expired; expired keys are
    /// deleted here when this node expires keys itself.
    fn live_slot(&mut self, db: usize, key: &[u8], now: i64) -> Option<u32> {
        let d = &self.dbs[db];
        let i = d.find(key)?;
        let at = d.slot(i)?.expire_at;
        if at == NO_EXPIRE || at > now {
            return Some(i);
        }
        if self.expire_keys {
            self.expire_key(db, key);
        }
        None
    }

    /// Not a change in `dirty`, as in Redis: a command that only expired a
    /// key changed nothing itself (it is not propagated, raises no event of
    /// its own), and rdb_changes_since_last_save does not count expiries.
    fn expire_key(&mut self, db: usize, key: &[u8]) {
        if let Some(e) = self.dbs[db].remove(key) {
            self.stats.expired_keys += 1;
            self.expired.push((db, e.key.into()));
            lazyfree::drop_value(e.value);
        }
    }

    /// Stores `value` under `key`, clearing any previous expiry. Under LFU
    /// an overwritten key keeps its counter, as in Redis.
    pub fn set(&mut self, db: usize, key: &[u8], value: Value) {
        let lru = match self.lfu {
            Some(_) => match self.dbs[db].get_raw(key) {
                Some(e) => e.lru,
                None => self.new_lru(),
            },
            None => self.lru_clock,
        };
        self.dbs[db].insert(key, value, lru);
    }

    /// Stores `value` under `key` as Redis's setKey does for commands that
    /// replace a key without reading it (MSET, the *STORE destinations): a
    /// key found expired is expired first (queued in `expired`), then the
    /// new value goes in. [`Keyspace::set`] after a lookup of the key is the
    /// same thing with one lookup less.
    pub fn store(&mut self, db: usize, key: &[u8], value: Value, now: i64) {
        self.live_slot(db, key, now);
        self.set(db, key, value);
    }

    /// Deletes `key` (expired or not); true if it existed and was live.
    pub fn delete(&mut self, db: usize, key: &[u8], now: i64) -> bool {
        match self.dbs[db].remove(key) {
            Some(e) => {
                let live = e.expire_at == NO_EXPIRE || e.expire_at > now || !self.expire_keys;
                lazyfree::drop_value(e.value);
                live
            }
            None => false,
        }
    }

    /// Removes every key of every database. Returns the number of keys removed.
    pub fn flush_all(&mut self, lazy: bool) -> usize {
        (0..self.dbs.len()).map(|i| self.flush_db(i, lazy)).sum()
    }

    /// Removes every key of database `db`, freeing in the background if `lazy`.
    pub fn flush_db(&mut self, db: usize, lazy: bool) -> usize {
        let old = self.dbs[db].take();
        let n = old.len();
        if lazy {
            lazyfree::drop_later(Box::new(old));
        }
        n
    }

    /// Redis's adaptive active expiry: sample keys with a TTL in every
    /// database, delete the expired ones, and keep going while more than the
    /// acceptable share of samples was stale, until `budget` is used up.
    /// `effort` is `active-expire-effort` (1..10).
    /// Cron share of key index resizes (`activerehashing`): the first
    /// database with a resize under way gets `budget`, as in Redis; the
    /// others only get a mostly empty index's shrink started.
    pub fn incremental_rehash(&mut self, budget: Duration) {
        for db in &mut self.dbs {
            if db.rehash_for(budget) {
                break;
            }
        }
    }

    pub fn active_expire_cycle(&mut self, now_ms: i64, budget: Duration, effort: u32) {
        if !self.expire_keys || !self.active_expire_enabled {
            return;
        }
        let started = Instant::now();
        let effort = effort.clamp(1, 10) - 1;
        let keys_per_loop = 20 + 20 / 4 * effort as usize;
        let acceptable_stale = 10 - effort as usize;
        let mut total_sampled = 0usize;
        let mut total_expired = 0usize;
        let mut timed_out = false;
        'dbs: for db in 0..self.dbs.len() {
            let mut iterations = 0u32;
            loop {
                let len = self.dbs[db].expires_len();
                if len == 0 {
                    break;
                }
                let sample = keys_per_loop.min(len);
                let mut expired = 0;
                let mut ttl_sum: i64 = 0;
                let mut ttl_samples: i64 = 0;
                for _ in 0..sample {
                    let d = &mut self.dbs[db];
                    if d.expires_len() == 0 {
                        break;
                    }
                    if d.expire_cursor >= d.expires_len() {
                        d.expire_cursor = 0;
                    }
                    let pos = d.expire_cursor;
                    let Some((key, at)) = d.expiring_at(pos) else {
                        break;
                    };
                    if at <= now_ms {
                        let key: Box<[u8]> = key.into();
                        // The removal moves another key into `pos`: do not advance.
                        self.expire_key(db, &key);
                        expired += 1;
                    } else {
                        ttl_sum += at - now_ms;
                        ttl_samples += 1;
                        d.expire_cursor += 1;
                    }
                }
                total_sampled += sample;
                total_expired += expired;
                if ttl_samples > 0 {
                    let avg = ttl_sum / ttl_samples;
                    let d = &mut self.dbs[db];
                    // Running estimate, as Redis does: mostly the old value.
                    d.avg_ttl = if d.avg_ttl == 0 {
                        avg
                    } else {
                        (d.avg_ttl / 50) * 49 + avg / 50
                    };
                }
                iterations += 1;
                if iterations.is_multiple_of(16) && started.elapsed() > budget {
                    timed_out = true;
                    break 'dbs;
                }
                if expired * 100 <= sample * acceptable_stale {
                    break;
                }
            }
        }
        if timed_out {
            self.stats.expired_time_cap_reached_count += 1;
        }
        self.expire_backlog = timed_out;
        self.stats.expire_cycle_cpu_milliseconds += started.elapsed().as_millis() as u64;
        if total_sampled > 0 {
            let current = total_expired as f64 / total_sampled as f64;
            self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
        }
    }

    /// Starts or stops recording changed keys in every database.
    pub fn set_tracking(&mut self, on: bool) {
        for d in &mut self.dbs {
            d.set_tracking(on);
        }
    }

    /// Turns recording of created keys and read misses on or off.
    pub fn set_notify_records(&mut self, new_keys: bool, misses: bool) {
        self.record_misses = misses;
        for d in &mut self.dbs {
            d.record_new = new_keys;
        }
    }

    /// Keys created since the last call, with their database.
    pub fn take_new_keys(&mut self) -> Vec<DbKey> {
        let mut out = Vec::new();
        for (i, d) in self.dbs.iter_mut().enumerate() {
            out.extend(d.new_keys.drain(..).map(|k| (i, k)));
        }
        out
    }

    /// Keys changed since the last call: (db, key) pairs and whole databases.
    pub fn take_touched(&mut self) -> (Vec<DbKey>, Vec<usize>) {
        let mut keys = Vec::new();
        let mut all = Vec::new();
        for (i, d) in self.dbs.iter_mut().enumerate() {
            if !d.has_touched() {
                continue;
            }
            let (k, whole) = d.take_touched();
            keys.extend(k.into_iter().map(|k| (i, k)));
            if whole {
                all.push(i);
            }
        }
        (keys, all)
    }

    /// Total number of keys in all databases.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_key_is_invisible_and_deleted_on_lookup() {
        let mut ks = Keyspace::new(16);
        ks.set(0, b"k", Value::from_bytes(b"v"));
        ks.dbs[0].set_expire(b"k", 100);
        assert!(ks.lookup_read(0, b"k", 99, false).is_some());
        assert!(ks.lookup_read(0, b"k", 100, false).is_none());
        assert_eq!(ks.dbs[0].len(), 0);
        assert_eq!(ks.stats.expired_keys, 1);
        assert_eq!(ks.expired.len(), 1);
    }

    #[test]
    fn a_replica_keyspace_hides_expired_keys_but_keeps_them() {
        let mut ks = Keyspace::new(1);
        ks.expire_keys = false;
        ks.set(0, b"k", Value::from_bytes(b"v"));
        ks.dbs[0].set_expire(b"k", 100);
        assert!(ks.lookup_read(0, b"k", 200, false).is_none());
        assert_eq!(ks.dbs[0].len(), 1);
    }

    #[test]
    fn active_expiry_reclaims_expired_keys_without_lookups() {
        let mut ks = Keyspace::new(2);
        for i in 0..10_000 {
            let k = format!("k{i}");
            ks.set(1, k.as_bytes(), Value::from_bytes(b"v"));
            ks.dbs[1].set_expire(k.as_bytes(), if i % 2 == 0 { 10 } else { 1_000_000 });
        }
        for _ in 0..200 {
            ks.active_expire_cycle(100, Duration::from_millis(25), 1);
        }
        assert_eq!(ks.dbs[1].len(), 5000);
        assert_eq!(ks.stats.expired_keys, 5000);
    }
}
