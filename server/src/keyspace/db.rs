//! One logical database: the key table, per-key expiry, and the cursor-stable
//! iteration SCAN and active expiry rely on.
//!
//! Entries live in a slab (`slots`) and the hash table only stores slot numbers.
//! A key keeps its slot for its whole life, so a SCAN cursor (a slot number)
//! returns every key that exists for the whole scan exactly once, whatever
//! happens to other keys meanwhile. Freed slots are reused; trailing free slots
//! are dropped so the slab shrinks after mass deletions.
//!
//! This module knows nothing about commands, replication or time sources: the
//! caller passes `now` (Unix milliseconds) where expiry matters.

use std::time::Duration;

use super::index::KeyIndex;
use super::slots::Slots;
use super::smallbytes::SmallBytes;
use super::value::Value;

/// No expiry set.
pub const NO_EXPIRE: i64 = -1;

/// A stored key with its value and metadata.
pub struct Entry {
    /// The key's bytes, inline when short (no allocation per key).
    pub key: SmallBytes,
    pub value: Value,
    /// Absolute expiry in Unix milliseconds, or [`NO_EXPIRE`].
    pub expire_at: i64,
    /// Position in `Db::expiring` when `expire_at != NO_EXPIRE`.
    expiring_pos: u32,
    /// LRU clock (seconds resolution) of the last access, for OBJECT IDLETIME.
    pub lru: u32,
}

impl Entry {
    /// A new entry without expiry.
    pub fn new(key: &[u8], value: Value) -> Entry {
        Entry {
            key: key.into(),
            value,
            expire_at: NO_EXPIRE,
            expiring_pos: 0,
            lru: 0,
        }
    }
}

/// A database: keys, values and expiries.
pub struct Db {
    index: KeyIndex,
    slots: Slots,
    free: Vec<u32>,
    /// Slot numbers of the keys with an expiry (sampled by active expiry).
    expiring: Vec<u32>,
    /// Where the active expiry cycle resumes in `expiring`.
    pub expire_cursor: usize,
    /// Average TTL of keys seen by active expiry (INFO keyspace `avg_ttl`).
    pub avg_ttl: i64,
    /// Record changed keys (someone WATCHes or blocks on keys).
    track: bool,
    /// Keys changed since the last [`Db::take_touched`], when tracking.
    touched: Vec<Box<[u8]>>,
    /// The whole database changed (flush, swap), when tracking.
    touched_all: bool,
    /// Record keys that get created (keyspace notification class `n`).
    pub record_new: bool,
    /// Keys created since the last drain, when `record_new`.
    pub new_keys: Vec<Box<[u8]>>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    pub fn new() -> Self {
        Db {
            index: KeyIndex::new().preparing_tables(),
            slots: Slots::default(),
            free: Vec::new(),
            expiring: Vec::new(),
            expire_cursor: 0,
            avg_ttl: 0,
            track: false,
            touched: Vec::new(),
            touched_all: false,
            record_new: false,
            new_keys: Vec::new(),
        }
    }

    /// Starts or stops recording changed keys.
    pub fn set_tracking(&mut self, on: bool) {
        self.track = on;
        if !on {
            self.touched.clear();
            self.touched_all = false;
        }
    }

    /// Records that `key` changed (when tracking).
    pub fn touch(&mut self, key: &[u8]) {
        if self.track {
            self.touched.push(key.into());
        }
    }

    /// Records that every key changed (when tracking).
    pub fn touch_all(&mut self) {
        if self.track {
            self.touched_all = true;
        }
    }

    /// The keys changed since the last call, and whether everything changed.
    pub fn take_touched(&mut self) -> (Vec<Box<[u8]>>, bool) {
        (
            std::mem::take(&mut self.touched),
            std::mem::replace(&mut self.touched_all, false),
        )
    }

    /// True if changes were recorded since the last [`Db::take_touched`].
    pub fn has_touched(&self) -> bool {
        !self.touched.is_empty() || self.touched_all
    }

    /// Number of keys (expired-but-not-yet-reclaimed keys included, as in Redis).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Moves key index entries of a resize under way (or starts a shrink)
    /// for up to `budget`; true while a resize is still under way.
    pub fn rehash_for(&mut self, budget: Duration) -> bool {
        self.index.rehash_for(&self.slots, budget)
    }

    /// Number of keys with an expiry.
    pub fn expires_len(&self) -> usize {
        self.expiring.len()
    }

    /// The slot number of `key` (see [`Db::slot`], [`Db::slot_mut`]).
    /// Slab slots, live or free: a random number below it is a random
    /// slot to sample (eviction).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The slot of the `pos`-th key with an expiry (eviction samples these).
    pub fn expiring_slot(&self, pos: usize) -> Option<u32> {
        self.expiring.get(pos).copied()
    }

    pub fn find(&self, key: &[u8]) -> Option<u32> {
        self.slot_of(key)
    }

    pub fn slot(&self, i: u32) -> Option<&Entry> {
        self.slots.get(i as usize)?.as_ref()
    }

    pub fn slot_mut(&mut self, i: u32) -> Option<&mut Entry> {
        self.slots.get_mut(i as usize)?.as_mut()
    }

    fn slot_of(&self, key: &[u8]) -> Option<u32> {
        self.index.find(self.index.hash(key), key, &self.slots)
    }

    /// The entry for `key`, whether or not it is logically expired.
    pub fn get_raw(&self, key: &[u8]) -> Option<&Entry> {
        let i = self.slot_of(key)?;
        self.slots[i as usize].as_ref()
    }

    /// Mutable entry for `key`, whether or not it is logically expired.
    pub fn get_raw_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let i = self.slot_of(key)?;
        self.touch(key);
        self.slots[i as usize].as_mut()
    }

    /// Inserts or replaces `key`. Replacing clears the expiry (as SET does);
    /// callers that keep the TTL use [`Db::get_raw_mut`].
    pub fn insert(&mut self, key: &[u8], value: Value, lru: u32) {
        self.touch(key);
        if let Some(i) = self.slot_of(key) {
            self.set_expire_slot(i, NO_EXPIRE);
            let e = self.slots[i as usize]
                .as_mut()
                .expect("table points at a live slot");
            // An overwritten big value (SET over a big set, *STORE) is freed
            // off the event loop, like a deleted one.
            super::lazyfree::drop_value(std::mem::replace(&mut e.value, value));
            e.lru = lru;
            return;
        }
        if self.record_new {
            self.new_keys.push(key.into());
        }
        let entry = Entry {
            key: key.into(),
            value,
            expire_at: NO_EXPIRE,
            expiring_pos: 0,
            lru,
        };
        let i = self.alloc_slot(entry);
        self.index.insert(self.index.hash(key), i, &self.slots);
    }

    fn alloc_slot(&mut self, entry: Entry) -> u32 {
        while let Some(i) = self.free.pop() {
            if self.slots.get(i as usize).is_some_and(|s| s.is_none()) {
                self.slots[i as usize] = Some(entry);
                return i;
            }
        }
        self.slots.push(Some(entry));
        (self.slots.len() - 1) as u32
    }

    /// Removes `key` and returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let i = self.index.remove(self.index.hash(key), key, &self.slots)?;
        self.touch(key);
        self.set_expire_slot(i, NO_EXPIRE);
        let entry = self.slots[i as usize].take();
        if i as usize + 1 == self.slots.len() {
            while matches!(self.slots.last(), Some(None)) {
                self.slots.pop();
            }
        } else {
            self.free.push(i);
        }
        if self.slots.is_empty() {
            self.free.clear();
        }
        entry
    }

    /// Sets (or clears with [`NO_EXPIRE`]) the expiry of an existing key.
    /// Returns false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: i64) -> bool {
        match self.slot_of(key) {
            Some(i) => {
                self.touch(key);
                self.set_expire_slot(i, at);
                true
            }
            None => false,
        }
    }

    fn set_expire_slot(&mut self, i: u32, at: i64) {
        let Some(e) = self.slots[i as usize].as_mut() else {
            return;
        };
        let had = e.expire_at != NO_EXPIRE;
        e.expire_at = at;
        match (had, at != NO_EXPIRE) {
            (false, true) => {
                e.expiring_pos = self.expiring.len() as u32;
                self.expiring.push(i);
            }
            (true, false) => {
                let pos = e.expiring_pos as usize;
                self.expiring.swap_remove(pos);
                if let Some(&moved) = self.expiring.get(pos) {
                    if let Some(m) = self.slots[moved as usize].as_mut() {
                        m.expiring_pos = pos as u32;
                    }
                }
            }
            _ => {}
        }
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        let track = self.track;
        let record_new = self.record_new;
        *self = Db {
            index: KeyIndex::with_hasher(self.index.hasher().clone()).preparing_tables(),
            ..Db::new()
        };
        self.track = track;
        self.record_new = record_new;
        self.touch_all();
    }

    /// Moves all content out, leaving this database empty (lazy free hands the
    /// old content to a background thread).
    pub fn take(&mut self) -> Db {
        let track = self.track;
        let record_new = self.record_new;
        let mut old = std::mem::replace(
            self,
            Db {
                index: KeyIndex::with_hasher(self.index.hasher().clone()).preparing_tables(),
                ..Db::new()
            },
        );
        old.set_tracking(false);
        self.track = track;
        self.record_new = record_new;
        self.touch_all();
        old
    }

    /// One SCAN step: calls `f` for live entries starting at slot `cursor`,
    /// visiting at most `max_visits` slots and stopping after `count` entries.
    /// Returns the next cursor (0 when the end was reached).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&Entry)) -> u64 {
        let mut i = cursor as usize;
        let mut seen = 0;
        let max_visits = count.saturating_mul(10).max(1);
        let mut visits = 0;
        while i < self.slots.len() && seen < count && visits < max_visits {
            if let Some(e) = &self.slots[i] {
                f(e);
                seen += 1;
            }
            i += 1;
            visits += 1;
        }
        if i >= self.slots.len() {
            0
        } else {
            i as u64
        }
    }

    /// Every live entry, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten()
    }

    /// A key chosen at random (`rand` supplies randomness), or None if empty.
    pub fn random_key(&self, mut rand: impl FnMut() -> u64) -> Option<&Entry> {
        if self.index.is_empty() {
            return None;
        }
        let n = self.slots.len();
        for _ in 0..8 {
            if let Some(e) = &self.slots[(rand() % n as u64) as usize] {
                return Some(e);
            }
        }
        // Sparse slab: walk from a random point to the next live slot.
        let start = (rand() % n as u64) as usize;
        (0..n).find_map(|k| self.slots[(start + k) % n].as_ref())
    }

    /// The key with an expiry at position `pos` of the expiring list, with its
    /// expiry, for active expiry sampling.
    pub fn expiring_at(&self, pos: usize) -> Option<(&[u8], i64)> {
        let i = *self.expiring.get(pos)?;
        self.slots[i as usize]
            .as_ref()
            .map(|e| (&e.key[..], e.expire_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::from_bytes(v.as_bytes())
    }

    #[test]
    fn inserted_keys_are_found_and_removed_keys_are_gone() {
        let mut db = Db::new();
        db.insert(b"a", s("1"), 0);
        db.insert(b"b", s("2"), 0);
        assert_eq!(db.len(), 2);
        assert!(db.get_raw(b"a").is_some());
        assert!(db.remove(b"a").is_some());
        assert!(db.get_raw(b"a").is_none());
        assert_eq!(db.len(), 1);
        assert!(db.remove(b"a").is_none());
    }

    #[test]
    fn replacing_a_key_clears_its_expiry() {
        let mut db = Db::new();
        db.insert(b"a", s("1"), 0);
        assert!(db.set_expire(b"a", 1000));
        assert_eq!(db.expires_len(), 1);
        db.insert(b"a", s("2"), 0);
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.get_raw(b"a").unwrap().expire_at, NO_EXPIRE);
    }

    #[test]
    fn expiring_list_stays_consistent_through_swap_removes() {
        let mut db = Db::new();
        for k in 0..100u32 {
            let key = k.to_string();
            db.insert(key.as_bytes(), s("v"), 0);
            db.set_expire(key.as_bytes(), 10_000 + k as i64);
        }
        for k in (0..100u32).step_by(3) {
            db.remove(k.to_string().as_bytes());
        }
        for k in (1..100u32).step_by(3) {
            db.set_expire(k.to_string().as_bytes(), NO_EXPIRE);
        }
        assert_eq!(db.expires_len(), 33);
        for pos in 0..db.expires_len() {
            let (key, at) = db.expiring_at(pos).unwrap();
            let k: i64 = std::str::from_utf8(key).unwrap().parse().unwrap();
            assert_eq!(k % 3, 2);
            assert_eq!(at, 10_000 + k);
        }
    }

    #[test]
    fn a_scan_returns_every_key_that_lives_through_it_exactly_once() {
        let mut db = Db::new();
        for k in 0..1000 {
            db.insert(format!("keep{k}").as_bytes(), s("v"), 0);
            db.insert(format!("churn{k}").as_bytes(), s("v"), 0);
        }
        let mut seen = std::collections::HashMap::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = db.scan(cursor, 10, |e| {
                *seen.entry(e.key.to_vec()).or_insert(0) += 1;
            });
            // Churn: delete and add other keys while scanning.
            db.remove(format!("churn{round}").as_bytes());
            db.insert(format!("new{round}").as_bytes(), s("v"), 0);
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for k in 0..1000 {
            assert_eq!(seen.get(format!("keep{k}").as_bytes()), Some(&1), "keep{k}");
        }
    }

    #[test]
    fn the_slab_shrinks_when_its_tail_is_freed() {
        let mut db = Db::new();
        for k in 0..100 {
            db.insert(format!("{k}").as_bytes(), s("v"), 0);
        }
        for k in 0..100 {
            db.remove(format!("{k}").as_bytes());
        }
        assert!(db.is_empty());
        assert_eq!(db.scan(0, 10, |_| panic!("no keys")), 0);
        db.insert(b"x", s("v"), 0);
        assert_eq!(db.slots.len(), 1);
    }

    #[test]
    fn random_key_finds_the_only_key_in_a_sparse_slab() {
        let mut db = Db::new();
        for k in 0..1000 {
            db.insert(format!("{k}").as_bytes(), s("v"), 0);
        }
        for k in 1..1000 {
            db.remove(format!("{k}").as_bytes());
        }
        let mut x = 12345u64;
        let e = db
            .random_key(|| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                x >> 11
            })
            .unwrap();
        assert_eq!(&e.key[..], b"0");
    }
}
