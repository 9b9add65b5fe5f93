//! The hash index of a database (key -> slot number), resized a little at a
//! time so that growing or shrinking it never stalls the event loop.
//!
//! A plain hash table rehashes every key at once when it outgrows its
//! capacity: a few milliseconds at 100k keys, tens at a million, all of it
//! inside one command. Here a resize allocates the new table and leaves the
//! old one beside it; each insert or remove then moves a few entries across,
//! and the server cron moves more under a time budget (`activerehashing`),
//! as Redis does with its two dict tables. While both tables exist, lookups
//! try the new one first, inserts go to the new one only.
//!
//! Entries are moved in slot order (a cursor over the entry slab), not in
//! table order: the slab is stable while the tables are not, so the cursor
//! survives any inserts and removes between steps. Every entry left in the
//! old table sits at a slot the cursor has not passed yet.
//!
//! What is left of a resize in one step is the new table itself: allocating
//! it and writing its control bytes (4 MiB at 1.8M keys, a few ms, far more
//! when the machine is slow to hand out fresh pages). A database's big index
//! therefore has its successor prepared on a background thread once the table
//! is three quarters full, and the resize takes it when it is ready. The
//! prepared table is held until then (twice the table's size), a price paid
//! once per database but not per big collection, whose indexes make their
//! tables themselves (3.4 ms at 1.8M members measured).
//!
//! The index only stores slot numbers; whatever owns the slots says which
//! key a slot holds ([`SlotKeys`]). The keyspace's entry slab is one owner;
//! the big encodings of hashes, sets and sorted sets index their slabs of
//! fields and members the same way, so a collection of millions of members
//! grows without a stall either.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use hashbrown::HashTable;

use super::slots::Slots;

/// The slab an index points into: which key each slot number holds.
pub trait SlotKeys {
    /// Slot numbers in use are below this.
    fn slot_count(&self) -> usize;
    /// The key held by slot `i`, None for an empty slot.
    fn key_at(&self, i: u32) -> Option<&[u8]>;
}

impl SlotKeys for Slots {
    fn slot_count(&self) -> usize {
        self.len()
    }

    fn key_at(&self, i: u32) -> Option<&[u8]> {
        match self.get(i as usize) {
            Some(Some(e)) => Some(&e.key[..]),
            _ => None,
        }
    }
}

/// Entries moved by each insert or remove while a resize is under way: more
/// than one, so the move finishes long before the new table fills up.
const STEP_ENTRIES: usize = 4;

/// Slots looked at per moved entry at most (a sparse slab has holes).
const VISITS_PER_ENTRY: usize = 10;

/// A table is shrunk when fewer than 1 in `SHRINK_BELOW` of its capacity is
/// used (Redis's minimum fill is 10% too).
const SHRINK_BELOW: usize = 10;

/// Smallest capacity a shrink goes down to.
const MIN_CAPACITY: usize = 64;

/// Tables of at least this capacity get their successor prepared off the
/// event loop (smaller ones take well under a millisecond to make).
const PREPARE_FROM: usize = 1 << 16;

/// The key index of one database (or of one big collection).
pub struct KeyIndex {
    table: HashTable<u32>,
    /// The table being emptied into `table` during a resize.
    old: Option<HashTable<u32>>,
    /// Next slot number the resize looks at.
    cursor: usize,
    hasher: ahash::RandomState,
    /// Whether big tables order their successor ahead (database indexes).
    prepares: bool,
    /// The next, bigger table, being made on the background thread.
    next: Option<Prepared>,
}

/// A table on order from the preparer thread.
struct Prepared {
    capacity: usize,
    ready: Receiver<HashTable<u32>>,
}

impl Clone for KeyIndex {
    fn clone(&self) -> Self {
        KeyIndex {
            table: self.table.clone(),
            old: self.old.clone(),
            cursor: self.cursor,
            hasher: self.hasher.clone(),
            prepares: self.prepares,
            next: None,
        }
    }
}

/// Orders a table for `capacity` keys from the process-wide preparer thread
/// (started at the first order). If the thread cannot start, the order is
/// never filled and the resize makes the table itself.
fn order_table(capacity: usize) -> Receiver<HashTable<u32>> {
    type Order = (usize, Sender<HashTable<u32>>);
    static ORDERS: OnceLock<Option<Sender<Order>>> = OnceLock::new();
    let orders = ORDERS.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<Order>();
        std::thread::Builder::new()
            .name("index-tables".into())
            .spawn(move || {
                for (capacity, reply) in rx {
                    // A resize that gave up waiting dropped its receiver:
                    // the table is freed here, off the loop too.
                    let _ = reply.send(HashTable::with_capacity(capacity));
                }
            })
            .ok()
            .map(|_| tx)
    });
    let (reply, ready) = crossbeam_channel::bounded(1);
    if let Some(orders) = orders {
        let _ = orders.send((capacity, reply));
    }
    ready
}

impl KeyIndex {
    pub fn new() -> Self {
        Self::with_hasher(ahash::RandomState::new())
    }

    /// An empty index hashing like `hasher` (a flushed database keeps its
    /// seed).
    pub fn with_hasher(hasher: ahash::RandomState) -> Self {
        KeyIndex {
            table: HashTable::new(),
            old: None,
            cursor: 0,
            hasher,
            prepares: false,
            next: None,
        }
    }

    /// The same index, ordering each big table's successor ahead of need.
    pub fn preparing_tables(mut self) -> Self {
        self.prepares = true;
        self
    }

    /// An empty index with room for `n` keys before its first resize.
    pub fn with_capacity(n: usize) -> Self {
        KeyIndex {
            table: HashTable::with_capacity(n),
            ..Self::new()
        }
    }

    /// Bytes held by the tables (a table of `u32`s and its control bytes).
    pub fn heap_size(&self) -> usize {
        let cap = self.table.capacity() + self.old.as_ref().map_or(0, |t| t.capacity());
        cap * (std::mem::size_of::<u32>() + 1)
    }

    pub fn hasher(&self) -> &ahash::RandomState {
        &self.hasher
    }

    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn len(&self) -> usize {
        self.table.len() + self.old.as_ref().map_or(0, |t| t.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True while entries are being moved to a resized table.
    pub fn is_resizing(&self) -> bool {
        self.old.is_some()
    }

    /// The slot of `key` (whose hash is `hash`).
    pub fn find(&self, hash: u64, key: &[u8], slots: &impl SlotKeys) -> Option<u32> {
        let eq = |&i: &u32| slot_key(slots, i) == key;
        self.table
            .find(hash, eq)
            .or_else(|| self.old.as_ref()?.find(hash, eq))
            .copied()
    }

    /// Adds slot `i`, whose key (hashing to `hash`) is not in the index yet.
    pub fn insert(&mut self, hash: u64, i: u32, slots: &impl SlotKeys) {
        if self.old.is_none() {
            let (len, cap) = (self.table.len(), self.table.capacity());
            if len >= cap {
                self.start_resize((len * 2).max(4));
            } else if self.prepares
                && cap >= PREPARE_FROM
                && self.next.is_none()
                && len >= cap / 4 * 3
            {
                // The resize above will ask for twice the capacity.
                self.next = Some(Prepared {
                    capacity: cap * 2,
                    ready: order_table(cap * 2),
                });
            }
        }
        self.step(slots, STEP_ENTRIES);
        let hasher = &self.hasher;
        self.table
            .insert_unique(hash, i, |&j| hasher.hash_one(slot_key(slots, j)));
    }

    /// Removes `key` (whose hash is `hash`) and returns its slot.
    pub fn remove(&mut self, hash: u64, key: &[u8], slots: &impl SlotKeys) -> Option<u32> {
        self.remove_where(hash, |&i: &u32| slot_key(slots, i) == key, slots)
    }

    /// Removes slot `i`, whose key hashes to `hash`; false if it is not indexed.
    pub fn remove_slot(&mut self, hash: u64, i: u32, slots: &impl SlotKeys) -> bool {
        self.remove_where(hash, |&j: &u32| j == i, slots).is_some()
    }

    fn remove_where(
        &mut self,
        hash: u64,
        eq: impl Fn(&u32) -> bool + Copy,
        slots: &impl SlotKeys,
    ) -> Option<u32> {
        let found = match self.table.find_entry(hash, eq) {
            Ok(e) => Some(e.remove().0),
            Err(_) => match self.old.as_mut().map(|t| t.find_entry(hash, eq)) {
                Some(Ok(e)) => Some(e.remove().0),
                _ => None,
            },
        };
        if found.is_some() {
            self.step(slots, STEP_ENTRIES);
        }
        found
    }

    /// Cron work: starts a shrink of a mostly empty table and moves entries
    /// of a resize under way for up to `budget`. Returns true while a resize
    /// is still under way.
    pub fn rehash_for(&mut self, slots: &impl SlotKeys, budget: Duration) -> bool {
        if self.old.is_none() {
            let cap = self.table.capacity();
            if cap > MIN_CAPACITY && self.table.len() * SHRINK_BELOW < cap {
                self.start_resize((self.table.len() * 2).max(MIN_CAPACITY));
            } else {
                return false;
            }
        }
        let start = Instant::now();
        while self.old.is_some() {
            self.step(slots, 100);
            if start.elapsed() >= budget {
                break;
            }
        }
        self.old.is_some()
    }

    /// Shrinks a table less than 10% full right away (not while a resize is
    /// under way): the work is proportional to the few keys left. For the
    /// big collection encodings, after a write that removed members.
    pub fn shrink_if_sparse(&mut self, slots: &impl SlotKeys) {
        let cap = self.table.capacity();
        if self.old.is_none() && cap > MIN_CAPACITY && self.table.len() * SHRINK_BELOW < cap {
            self.start_resize((self.table.len() * 2).max(MIN_CAPACITY));
            while self.old.is_some() {
                self.step(slots, usize::MAX / VISITS_PER_ENTRY);
            }
        }
    }

    /// Sets the current table aside and allocates one for `capacity` keys.
    fn start_resize(&mut self, capacity: usize) {
        let prepared = self
            .next
            .take()
            .filter(|p| p.capacity == capacity)
            .and_then(|p| p.ready.try_recv().ok());
        let fresh = prepared.unwrap_or_else(|| HashTable::with_capacity(capacity));
        self.old = Some(std::mem::replace(&mut self.table, fresh));
        self.cursor = 0;
    }

    /// Moves up to `entries` entries from the old table to the new one.
    fn step(&mut self, slots: &impl SlotKeys, entries: usize) {
        let Some(old) = self.old.as_mut() else {
            return;
        };
        let hasher = &self.hasher;
        let mut moved = 0;
        let mut visits = entries * VISITS_PER_ENTRY;
        let count = slots.slot_count();
        while !old.is_empty() && self.cursor < count && moved < entries && visits > 0 {
            let i = self.cursor as u32;
            self.cursor += 1;
            visits -= 1;
            let Some(key) = slots.key_at(i) else {
                continue;
            };
            let hash = hasher.hash_one(key);
            // The slot may belong to the new table already (a key added
            // after the resize began, in a reused slot).
            if let Ok(e) = old.find_entry(hash, |&j| j == i) {
                e.remove();
                self.table
                    .insert_unique(hash, i, |&j| hasher.hash_one(slot_key(slots, j)));
                moved += 1;
            }
        }
        if old.is_empty() || self.cursor >= count {
            // Past the last slot nothing can be left behind; if something
            // is (a bug), it is moved now rather than lost.
            for i in old.drain() {
                let hash = hasher.hash_one(slot_key(slots, i));
                self.table
                    .insert_unique(hash, i, |&j| hasher.hash_one(slot_key(slots, j)));
            }
            self.old = None;
            self.cursor = 0;
        }
    }
}

impl Default for KeyIndex {
    fn default() -> Self {
        Self::new()
    }
}

fn slot_key(slots: &impl SlotKeys, i: u32) -> &[u8] {
    slots.key_at(i).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::db::Entry;
    use crate::keyspace::value::Value;

    /// A slab plus index, filled the way `Db` does it.
    struct Fixture {
        slots: Slots,
        index: KeyIndex,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                slots: Slots::default(),
                index: KeyIndex::new(),
            }
        }

        fn add(&mut self, key: &str) -> u32 {
            self.slots
                .push(Some(Entry::new(key.as_bytes(), Value::from_bytes(b"v"))));
            let i = (self.slots.len() - 1) as u32;
            let hash = self.index.hash(key.as_bytes());
            self.index.insert(hash, i, &self.slots);
            i
        }

        fn find(&self, key: &str) -> Option<u32> {
            let hash = self.index.hash(key.as_bytes());
            self.index.find(hash, key.as_bytes(), &self.slots)
        }

        fn remove(&mut self, key: &str) -> Option<u32> {
            let hash = self.index.hash(key.as_bytes());
            let i = self.index.remove(hash, key.as_bytes(), &self.slots)?;
            self.slots[i as usize] = None;
            Some(i)
        }
    }

    #[test]
    fn every_key_stays_findable_while_the_index_grows_step_by_step() {
        let mut f = Fixture::new();
        let mut saw_resize = false;
        for k in 0..20_000 {
            let i = f.add(&format!("k{k}"));
            saw_resize |= f.index.is_resizing();
            // Every key so far is found at its slot, whichever table holds it.
            if k % 997 == 0 {
                for j in 0..=k {
                    assert_eq!(f.find(&format!("k{j}")), Some(j as u32), "k{j}");
                }
            }
            assert_eq!(f.find(&format!("k{k}")), Some(i));
        }
        assert!(saw_resize, "inserts never went through a resize");
        assert_eq!(f.index.len(), 20_000);
        assert_eq!(f.find("missing"), None);
    }

    #[test]
    fn a_resize_never_rehashes_more_than_a_step_per_insert() {
        let mut f = Fixture::new();
        for k in 0..10_000 {
            f.add(&format!("k{k}"));
        }
        // Fill up to the capacity, then one more insert starts a resize
        // that leaves almost everything in the old table.
        while !f.index.is_resizing() {
            let n = f.index.len();
            f.add(&format!("k{n}"));
        }
        let old_len = f.index.old.as_ref().map_or(0, |t| t.len());
        assert!(old_len + STEP_ENTRIES + 1 >= f.index.len(), "{old_len}");
        // The cron finishes it.
        while f.index.rehash_for(&f.slots, Duration::from_millis(1)) {}
        assert!(!f.index.is_resizing());
        for k in 0..f.index.len() {
            assert_eq!(f.find(&format!("k{k}")), Some(k as u32));
        }
    }

    #[test]
    fn keys_removed_and_reinserted_during_a_resize_end_up_in_the_new_table() {
        let mut f = Fixture::new();
        while !f.index.is_resizing() {
            let n = f.index.len();
            f.add(&format!("k{n}"));
        }
        let n = f.index.len();
        // Remove keys on both sides of the cursor, re-add some in new slots.
        for k in (0..n).step_by(3) {
            assert_eq!(f.remove(&format!("k{k}")), Some(k as u32));
        }
        for k in (0..n).step_by(6) {
            f.add(&format!("k{k}"));
        }
        while f.index.rehash_for(&f.slots, Duration::from_millis(1)) {}
        assert!(f.index.old.is_none());
        for k in 0..n {
            let expect_present = k % 3 != 0 || k % 6 == 0;
            assert_eq!(f.find(&format!("k{k}")).is_some(), expect_present, "k{k}");
        }
        assert_eq!(f.index.len(), f.index.table.len());
    }

    #[test]
    fn a_big_index_takes_its_next_table_from_the_preparer() {
        let mut f = Fixture::new();
        f.index = KeyIndex::new().preparing_tables();
        // Fill up to three quarters of a table past PREPARE_FROM: the order goes out.
        while f.index.table.capacity() < PREPARE_FROM || f.index.is_resizing() {
            let n = f.index.len();
            f.add(&format!("k{n}"));
            while f.index.rehash_for(&f.slots, Duration::from_millis(5)) {}
        }
        let cap = f.index.table.capacity();
        while f.index.next.is_none() {
            let n = f.index.len();
            f.add(&format!("k{n}"));
        }
        assert_eq!(f.index.next.as_ref().map(|p| p.capacity), Some(cap * 2));
        // Give the thread time, then fill up: the resize takes the prepared table.
        let ready = f.index.next.as_ref().unwrap().ready.clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ready.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!ready.is_empty(), "the preparer never delivered");
        while !f.index.is_resizing() {
            let n = f.index.len();
            f.add(&format!("k{n}"));
        }
        assert!(f.index.next.is_none());
        assert!(ready.is_empty(), "the prepared table was taken");
        assert!(f.index.table.capacity() >= cap * 2);
        while f.index.rehash_for(&f.slots, Duration::from_millis(5)) {}
        for k in (0..f.index.len()).step_by(97) {
            assert_eq!(f.find(&format!("k{k}")), Some(k as u32));
        }
    }

    #[test]
    fn a_mostly_empty_index_shrinks_in_the_cron() {
        let mut f = Fixture::new();
        for k in 0..50_000 {
            f.add(&format!("k{k}"));
        }
        while f.index.rehash_for(&f.slots, Duration::from_millis(5)) {}
        let big = f.index.table.capacity();
        for k in 100..50_000 {
            f.remove(&format!("k{k}"));
        }
        while f.index.rehash_for(&f.slots, Duration::from_millis(5)) {}
        assert!(
            f.index.table.capacity() < big / 100,
            "{}",
            f.index.table.capacity()
        );
        for k in 0..100 {
            assert_eq!(f.find(&format!("k{k}")), Some(k as u32));
        }
    }
}
