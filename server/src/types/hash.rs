//! Hash values: a listpack of field,value pairs while small, a hash table when
//! big (OBJECT ENCODING `listpack` / `hashtable`, as Redis 7.2).
//!
//! The big encoding keeps each pair in one allocation (`[varint field len]
//! [field][value]`) inside a slab; the hash table only stores slab indexes.
//! A pair keeps its slab index for its whole life, so an HSCAN cursor (a slab
//! index) returns every field present for the whole scan, whatever happens to
//! other fields meanwhile, and HRANDFIELD can sample slots directly.
//!
//! This module owns the representation and its operations only: no replies,
//! no configuration lookups (callers pass the `hash-max-listpack-*` limits).
//! A hash never goes back to listpack once converted, as in Redis.

use super::paged::{self, PagedVec};
use crate::keyspace::index::{KeyIndex, SlotKeys};
use crate::keyspace::listpack::Listpack;

/// Listpacks past this size convert whatever the configuration says
/// (Redis's `lpSafeToAdd` limit).
const LISTPACK_SAFETY_SIZE: usize = 1 << 30;

/// The `hash-max-listpack-*` limits that decide the encoding.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_entries: u64,
    pub max_value: u64,
}

/// A hash value.
#[derive(Clone, Debug)]
pub struct Hash {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// Field, value, field, value... in insertion order.
    Lp(Listpack),
    Table(Box<Table>),
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Hash {
    /// An empty listpack-encoded hash.
    pub fn new() -> Self {
        Hash {
            repr: Repr::Lp(Listpack::new()),
        }
    }

    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Lp(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// True when the hash uses the big (hashtable) encoding.
    pub fn is_table(&self) -> bool {
        matches!(self.repr, Repr::Table(_))
    }

    /// The elements in a canonical order (insertion order for lists,
    /// sorted for unordered types), for DEBUG DIGEST and size estimates:
    /// field, value, field, value... sorted by field.
    pub fn digest_items(&self) -> Vec<Vec<u8>> {
        let mut pairs: Vec<(&[u8], &[u8])> = self.iter().collect();
        pairs.sort_unstable();
        let mut out = Vec::with_capacity(pairs.len() * 2);
        for (f, v) in pairs {
            out.push(f.to_vec());
            out.push(v.to_vec());
        }
        out
    }

    /// Heap bytes used.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.bytes(),
            Repr::Table(t) => std::mem::size_of::<Table>() + t.heap_size(),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Lp(lp) => lp.len() / 2,
            Repr::Table(t) => t.index.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Lp(lp) => {
                let off = lp.find(field, 2)?;
                lp.next(off).map(|v| lp.at(v))
            }
            Repr::Table(t) => t.get(field),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to the hashtable encoding before a write of these
    /// field,value arguments if Redis 7.2 would (`hashTypeTryConversion`):
    /// more pairs than `max_entries` (duplicates included), an argument
    /// longer than `max_value`, or a listpack that would grow past 1 GiB.
    pub fn prepare_for(&mut self, args: &[impl AsRef<[u8]>], limits: Limits) {
        let Repr::Lp(lp) = &self.repr else {
            return;
        };
        let new_fields = args.len() / 2;
        if new_fields as u64 > limits.max_entries {
            self.convert(new_fields);
            return;
        }
        let mut sum = 0usize;
        for a in args {
            let len = a.as_ref().len();
            if len as u64 > limits.max_value {
                self.convert(0);
                return;
            }
            sum = sum.saturating_add(len);
        }
        if lp.bytes().saturating_add(sum) > LISTPACK_SAFETY_SIZE {
            self.convert(0);
        }
    }

    /// Sets `field` to `value`; returns true when the field is new. Converts
    /// to the hashtable encoding when either is longer than `max_value` or
    /// the hash grows past `max_entries` fields (`hashTypeSet`).
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        if let Repr::Lp(_) = self.repr {
            if field.len() as u64 > limits.max_value || value.len() as u64 > limits.max_value {
                self.convert(0);
            }
        }
        match &mut self.repr {
            Repr::Lp(lp) => {
                if let Some(off) = lp.find(field, 2) {
                    if let Some(v) = lp.next(off) {
                        lp.replace_at(v, value);
                    }
                    return false;
                }
                lp.push_back(field);
                lp.push_back(value);
                if (lp.len() / 2) as u64 > limits.max_entries {
                    self.convert(0);
                }
                true
            }
            Repr::Table(t) => t.set(field, value),
        }
    }

    /// Removes `field`; returns true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Lp(lp) => match lp.find(field, 2) {
                Some(off) => {
                    lp.remove_range(off, 2);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(field),
        }
    }

    /// Gives back spare capacity after a write (once per command): the hash
    /// table's index after mass deletions (a listpack is always exact).
    pub fn compact(&mut self) {
        if let Repr::Table(t) = &mut self.repr {
            t.compact();
        }
    }

    /// The field,value pairs: insertion order for listpacks, slab order
    /// for hashtables.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Lp(lp) => Iter::Lp(lp.iter()),
            Repr::Table(t) => Iter::Table(t.slots.iter()),
        }
    }

    /// A field,value pair chosen at random (`rand` supplies randomness).
    pub fn random_pair(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Lp(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let i = (rand() % n as u64) as i64;
                let off = lp.offset_of(i * 2)?;
                let v = lp.next(off)?;
                Some((lp.at(off), lp.at(v)))
            }
            Repr::Table(t) => t.random(rand),
        }
    }

    /// `count` distinct pairs chosen at random (all of them when `count`
    /// covers the hash): in iteration order, except for few picks from a big
    /// table, which come in pick order.
    pub fn random_distinct(
        &self,
        count: usize,
        mut rand: impl FnMut() -> u64,
    ) -> Vec<(&[u8], &[u8])> {
        let n = self.len();
        if count >= n {
            return self.iter().collect();
        }
        if let Repr::Table(t) = &self.repr {
            if count.saturating_mul(3) <= n {
                // Few picks from a big table: sample until enough distinct
                // pairs (O(count), in pick order, as Redis's case 4).
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let Some(pair) = t.random(&mut rand) else {
                        break;
                    };
                    if seen.insert(pair.0.as_ptr()) {
                        out.push(pair);
                    }
                }
                return out;
            }
        }
        // Selection sampling (Knuth's algorithm S): each pair is taken with
        // probability needed/remaining, which keeps the iteration order.
        let mut out = Vec::with_capacity(count);
        let mut remaining = n as u64;
        let mut needed = count as u64;
        for pair in self.iter() {
            if needed == 0 {
                break;
            }
            if rand() % remaining < needed {
                out.push(pair);
                needed -= 1;
            }
            remaining -= 1;
        }
        out
    }

    /// One HSCAN step: calls `f` with the pairs found from `cursor` on and
    /// returns the next cursor (0 when done). Listpacks are returned whole
    /// in one call with cursor 0, as Redis does.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(&'a [u8], &'a [u8]),
    ) -> u64 {
        match &self.repr {
            Repr::Lp(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, count, f),
        }
    }

    /// Switches to the hashtable encoding, sized for `extra` more fields.
    fn convert(&mut self, extra: usize) {
        let Repr::Lp(lp) = &self.repr else {
            return;
        };
        let mut t = Table::with_capacity(lp.len() / 2 + extra.max(1));
        let mut it = lp.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            t.set(f, v);
        }
        self.repr = Repr::Table(Box::new(t));
    }
}

/// Iterator over a hash's field,value pairs.
pub enum Iter<'a> {
    Lp(crate::keyspace::listpack::Iter<'a>),
    Table(paged::Iter<'a, Option<Box<[u8]>>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Lp(it) => {
                let f = it.next()?;
                let v = it.next()?;
                Some((f, v))
            }
            Iter::Table(it) => it.by_ref().flatten().next().map(|p| split_pair(p)),
        }
    }
}

// ---------------------------------------------------------------------------
// The big encoding.

/// Pairs in a slab of single allocations, indexed by a hash table of slab
/// numbers.
#[derive(Clone)]
struct Table {
    index: KeyIndex,
    slots: PagedVec<Option<Box<[u8]>>>,
    free: Vec<u32>,
}

/// The pair slab as the index sees it: slot -> field.
struct Fields<'a>(&'a PagedVec<Option<Box<[u8]>>>);

impl SlotKeys for Fields<'_> {
    fn slot_count(&self) -> usize {
        self.0.len()
    }

    fn key_at(&self, i: u32) -> Option<&[u8]> {
        self.0.get(i as usize)?.as_deref().map(|p| split_pair(p).0)
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.slots.iter().flatten().map(|p| {
                let (k, v) = split_pair(p);
                (String::from_utf8_lossy(k), String::from_utf8_lossy(v))
            }))
            .finish()
    }
}

fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

/// One allocation holding `[varint field len][field][value]`.
fn make_pair(field: &[u8], value: &[u8]) -> Box<[u8]> {
    let mut out = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    let mut n = field.len();
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(field);
    out.extend_from_slice(value);
    out.into_boxed_slice()
}

/// The field and value of a pair made by [`make_pair`].
fn split_pair(p: &[u8]) -> (&[u8], &[u8]) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = 0;
    while let Some(&b) = p.get(i) {
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let rest = p.get(i..).unwrap_or(&[]);
    rest.split_at(n.min(rest.len()))
}

impl Table {
    fn with_capacity(n: usize) -> Self {
        Table {
            index: KeyIndex::with_capacity(n),
            slots: PagedVec::with_capacity(n),
            free: Vec::new(),
        }
    }

    fn heap_size(&self) -> usize {
        let index = self.index.heap_size();
        let slots = self.slots.capacity() * std::mem::size_of::<Option<Box<[u8]>>>();
        let pairs: usize = self.slots.iter().flatten().map(|p| p.len()).sum();
        index + slots + pairs + self.free.capacity() * 4
    }

    fn find(&self, field: &[u8]) -> Option<u32> {
        let hash = self.index.hash(field);
        self.index.find(hash, field, &Fields(&self.slots))
    }

    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let i = self.find(field)?;
        match self.slots.get(i as usize) {
            Some(Some(p)) => Some(split_pair(p).1),
            _ => None,
        }
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let pair = make_pair(field, value);
        if let Some(i) = self.find(field) {
            if let Some(slot) = self.slots.get_mut(i as usize) {
                *slot = Some(pair);
            }
            return false;
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(pair);
                i
            }
            None => {
                self.slots.push(Some(pair));
                (self.slots.len() - 1) as u32
            }
        };
        let hash = self.index.hash(field);
        self.index.insert(hash, i, &Fields(&self.slots));
        true
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        let hash = self.index.hash(field);
        let Some(i) = self.index.remove(hash, field, &Fields(&self.slots)) else {
            return false;
        };
        self.slots[i as usize] = None;
        if i as usize + 1 == self.slots.len() {
            // Drop trailing free slots so the slab shrinks after deletions.
            while let Some(None) = self.slots.last() {
                self.slots.pop();
            }
            let len = self.slots.len() as u32;
            self.free.retain(|&f| f < len);
        } else {
            self.free.push(i);
        }
        true
    }

    /// Shrinks the index and slab after mass deletions (Redis resizes its
    /// dict below 10% fill).
    fn compact(&mut self) {
        self.index.shrink_if_sparse(&Fields(&self.slots));
        if self.slots.capacity() > 64 && self.slots.len() * 4 < self.slots.capacity() {
            self.slots.shrink_to_fit();
        }
    }

    fn random(&self, mut rand: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        let n = self.slots.len();
        if self.index.is_empty() || n == 0 {
            return None;
        }
        for _ in 0..32 {
            if let Some(Some(p)) = self.slots.get((rand() % n as u64) as usize) {
                return Some(split_pair(p));
            }
        }
        // Sparse slab: pick the k-th live pair.
        let k = (rand() % self.index.len() as u64) as usize;
        self.slots.iter().flatten().nth(k).map(|p| split_pair(p))
    }

    fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        let count = count.max(1);
        let max_visits = count.saturating_mul(10);
        let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
        let mut found = 0;
        let mut visited = 0;
        while i < self.slots.len() && found < count && visited < max_visits {
            if let Some(p) = &self.slots[i] {
                let (k, v) = split_pair(p);
                f(k, v);
                found += 1;
            }
            visited += 1;
            i += 1;
        }
        if i >= self.slots.len() {
            0
        } else {
            i as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    fn pairs(h: &Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
        h.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn a_big_hash_grows_its_index_step_by_step_and_keeps_every_field() {
        let mut h = Hash::default();
        let mut saw_resize = false;
        for k in 0..40_000u32 {
            h.set(format!("f{k}").as_bytes(), b"v", SMALL);
            if let Repr::Table(t) = &h.repr {
                saw_resize |= t.index.is_resizing();
            }
            if k % 4999 == 0 {
                for j in 0..=k {
                    assert_eq!(h.get(format!("f{j}").as_bytes()), Some(&b"v"[..]), "f{j}");
                }
            }
        }
        assert!(saw_resize, "the index never grew step by step");
        for k in (0..40_000u32).filter(|k| k % 50 != 0) {
            assert!(h.remove(format!("f{k}").as_bytes()));
        }
        h.compact();
        assert_eq!(h.len(), 800);
        for k in 0..40_000u32 {
            let expect = (k % 50 == 0).then_some(&b"v"[..]);
            assert_eq!(h.get(format!("f{k}").as_bytes()), expect, "f{k}");
        }
    }

    #[test]
    fn small_hashes_keep_insertion_order_and_update_in_place() {
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", SMALL));
        assert!(h.set(b"b", b"2", SMALL));
        assert!(!h.set(b"a", b"3", SMALL));
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(
            pairs(&h),
            vec![
                (b"a".to_vec(), b"3".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
        assert_eq!(h.get(b"b"), Some(&b"2"[..]));
        assert_eq!(h.get(b"2"), None);
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn values_never_match_as_fields() {
        let mut h = Hash::new();
        h.set(b"f", b"g", SMALL);
        assert!(!h.contains(b"g"));
        assert!(h.set(b"g", b"f", SMALL));
        assert_eq!(h.get(b"g"), Some(&b"f"[..]));
    }

    #[test]
    fn too_many_fields_convert_to_a_hashtable() {
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            assert_eq!(h.get(format!("f{i}").as_bytes()), Some(&b"v"[..]));
        }
    }

    #[test]
    fn long_fields_or_values_convert_to_a_hashtable() {
        let mut h = Hash::new();
        h.set(b"a", b"123456789", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.prepare_for(&[&b"123456789"[..], b"x"], SMALL);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn many_pairs_in_one_write_convert_even_when_duplicated() {
        let mut h = Hash::new();
        let args: Vec<&[u8]> = vec![b"a"; 10];
        h.prepare_for(&args, SMALL);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn hashtable_removal_reuses_slots_and_shrinks_the_slab() {
        let mut h = Hash::new();
        h.prepare_for(&[&[0u8; 20][..], b""], SMALL);
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        for i in 0..100 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert!(h.is_empty());
        let Repr::Table(t) = &h.repr else { panic!() };
        assert!(t.slots.is_empty());
        assert!(t.free.is_empty());
    }

    #[test]
    fn hashtable_scan_returns_fields_present_throughout() {
        let mut h = Hash::new();
        h.prepare_for(&[&[0u8; 20][..], b""], SMALL);
        for i in 0..50 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            let mut got = Vec::new();
            cursor = h.scan(cursor, 5, |k, _| got.push(k.to_vec()));
            seen.extend(got);
            // Churn other fields while scanning.
            h.set(format!("new{step}").as_bytes(), b"x", SMALL);
            h.remove(format!("new{}", step.max(1) - 1).as_bytes());
            step += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..50 {
            assert!(seen.contains(format!("f{i}").as_bytes()));
        }
    }

    #[test]
    fn random_distinct_picks_distinct_pairs_in_order() {
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        let mut x = 12345u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let got = h.random_distinct(2, &mut rand);
        assert_eq!(got.len(), 2);
        assert!(got[0].0 < got[1].0);
        assert!(h.random_pair(&mut rand).is_some());
    }

    #[test]
    fn pairs_round_trip_with_long_fields() {
        let f = vec![7u8; 300];
        let p = make_pair(&f, b"value");
        assert_eq!(split_pair(&p), (&f[..], &b"value"[..]));
        assert_eq!(split_pair(&make_pair(b"", b"")), (&b""[..], &b""[..]));
    }
}
