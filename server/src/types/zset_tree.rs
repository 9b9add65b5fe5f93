//! The big sorted set encoding (`skiplist` in OBJECT ENCODING): an
//! order-statistic sequence of (score, member) with O(log n) rank queries.
//!
//! Members are stored once, in a slab of slots (`Box<[u8]>` + score); a hash
//! table maps a member to its slot number. The order is a list of sorted
//! chunks of `(score, slot)` (a "sorted list of blocks", at most
//! `2 * LOAD` entries each) with a Fenwick tree over the chunk lengths:
//! locating a (score, member) is a binary search over the chunks' last
//! entries then inside one chunk, rank and select are Fenwick prefix
//! queries, all O(log n); an insert or delete moves at most `2 * LOAD`
//! entries of 16 bytes. Chunks are split when they grow past `2 * LOAD` and
//! merged with a neighbour when they fall under `LOAD / 4` (the Fenwick tree
//! is rebuilt then, O(n / LOAD), amortised over at least `LOAD / 2` updates).
//!
//! Slot numbers never change while a member lives, so a ZSCAN cursor is a
//! slot number, stable across inserts and deletes of other members.
//! Everything is safe Rust.

use std::cmp::Ordering;

use super::paged::PagedVec;
use crate::keyspace::index::{KeyIndex, SlotKeys};

use super::zset::cmp_pair;

/// Target chunk size.
const LOAD: usize = 128;

#[derive(Clone, Debug)]
struct Slot {
    member: Option<Box<[u8]>>,
    score: f64,
}

/// The member slab as the index sees it: slot -> member.
struct Members<'a>(&'a PagedVec<Slot>);

impl SlotKeys for Members<'_> {
    fn slot_count(&self) -> usize {
        self.0.len()
    }

    fn key_at(&self, i: u32) -> Option<&[u8]> {
        self.0.get(i as usize)?.member.as_deref()
    }
}

/// The order-statistic sorted set.
#[derive(Clone, Default)]
pub struct Tree {
    slots: PagedVec<Slot>,
    free: Vec<u32>,
    index: KeyIndex,
    chunks: Vec<Vec<(f64, u32)>>,
    /// Fenwick tree (1-based) over `chunks[i].len()`.
    fen: Vec<usize>,
    len: usize,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("len", &self.len).finish()
    }
}

impl Tree {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Approximate heap bytes used.
    pub fn heap_size(&self) -> usize {
        let members: usize = self
            .slots
            .iter()
            .filter_map(|s| s.member.as_ref())
            .map(|m| m.len())
            .sum();
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<(f64, u32)>())
            .sum();
        members
            + chunks
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.free.capacity() * 4
            + self.index.heap_size()
            + self.chunks.capacity() * std::mem::size_of::<Vec<(f64, u32)>>()
            + self.fen.capacity() * 8
    }

    fn member(&self, slot: u32) -> &[u8] {
        self.slots
            .get(slot as usize)
            .and_then(|s| s.member.as_deref())
            .unwrap_or(&[])
    }

    fn find_slot(&self, member: &[u8]) -> Option<u32> {
        let h = self.index.hash(member);
        self.index.find(h, member, &Members(&self.slots))
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        let i = self.find_slot(member)?;
        self.slots.get(i as usize).map(|s| s.score)
    }

    // ----- Fenwick tree over chunk lengths -----

    fn rebuild_fen(&mut self) {
        let n = self.chunks.len();
        self.fen.clear();
        self.fen.resize(n + 1, 0);
        for i in 0..n {
            let idx = i + 1;
            self.fen[idx] += self.chunks[i].len();
            let parent = idx + (idx & idx.wrapping_neg());
            if parent <= n {
                let v = self.fen[idx];
                self.fen[parent] += v;
            }
        }
    }

    fn fen_inc(&mut self, chunk: usize) {
        let mut i = chunk + 1;
        while i < self.fen.len() {
            self.fen[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    fn fen_dec(&mut self, chunk: usize) {
        let mut i = chunk + 1;
        while i < self.fen.len() {
            self.fen[i] = self.fen[i].saturating_sub(1);
            i += i & i.wrapping_neg();
        }
    }

    /// Number of entries in chunks before `chunk`.
    fn prefix(&self, chunk: usize) -> usize {
        let mut i = chunk.min(self.fen.len().saturating_sub(1));
        let mut s = 0;
        while i > 0 {
            s += self.fen[i];
            i -= i & i.wrapping_neg();
        }
        s
    }

    /// (chunk, index in chunk) of the entry of rank `r` (< len).
    fn select(&self, mut r: usize) -> (usize, usize) {
        let n = self.fen.len().saturating_sub(1);
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fen[next] <= r {
                pos = next;
                r -= self.fen[next];
            }
            step >>= 1;
        }
        (pos, r)
    }

    // ----- locating -----

    /// Global position of the first entry for which `before` is false.
    fn locate(&self, before: impl Fn(f64, &[u8]) -> bool) -> (usize, usize) {
        let c = self.chunks.partition_point(|ch| {
            ch.last()
                .is_some_and(|&(s, slot)| before(s, self.member(slot)))
        });
        if c == self.chunks.len() {
            return (c, 0);
        }
        let i = self.chunks[c].partition_point(|&(s, slot)| before(s, self.member(slot)));
        (c, i)
    }

    /// Position of the entry (score, member), or where it would go.
    fn locate_pair(&self, score: f64, member: &[u8]) -> (usize, usize) {
        self.locate(|s, m| cmp_pair(s, m, score, member) == Ordering::Less)
    }

    pub fn count_while(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let (c, i) = self.locate(before);
        self.prefix(c) + i
    }

    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let slot = self.find_slot(member)?;
        let score = self.slots.get(slot as usize)?.score;
        let (c, i) = self.locate_pair(score, member);
        Some((self.prefix(c) + i, score))
    }

    // ----- updates -----

    fn alloc_slot(&mut self, member: &[u8], score: f64) -> u32 {
        let slot = Slot {
            member: Some(member.into()),
            score,
        };
        while let Some(i) = self.free.pop() {
            // Entries past the end were dropped with the slab's tail.
            if let Some(s) = self.slots.get_mut(i as usize) {
                *s = slot;
                return i;
            }
        }
        self.slots.push(slot);
        (self.slots.len() - 1) as u32
    }

    fn free_slot(&mut self, i: u32) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            s.member = None;
        }
        // The last slot is dropped so the slab shrinks as the set empties from
        // its most recent members; others go to the free list.
        if i as usize + 1 == self.slots.len() {
            self.slots.pop();
        } else {
            self.free.push(i);
        }
    }

    /// Puts (score, slot) into the ordered sequence.
    fn order_insert(&mut self, score: f64, slot: u32) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![(score, slot)]);
            self.rebuild_fen();
            return;
        }
        let member = self.member(slot).to_vec();
        let (mut c, mut i) = self.locate_pair(score, &member);
        if c == self.chunks.len() {
            c -= 1;
            i = self.chunks[c].len();
        }
        self.chunks[c].insert(i, (score, slot));
        if self.chunks[c].len() > 2 * LOAD {
            let tail = self.chunks[c].split_off(LOAD);
            self.chunks.insert(c + 1, tail);
            self.rebuild_fen();
        } else {
            self.fen_inc(c);
        }
    }

    /// Removes the entry at (c, i) from the ordered sequence.
    fn order_remove_at(&mut self, c: usize, i: usize) {
        let Some(ch) = self.chunks.get_mut(c) else {
            return;
        };
        if i >= ch.len() {
            return;
        }
        ch.remove(i);
        let n = ch.len();
        if n == 0 {
            self.chunks.remove(c);
            self.rebuild_fen();
        } else if n < LOAD / 4 && self.chunks.len() > 1 {
            let (a, b) = if c + 1 < self.chunks.len() {
                (c, c + 1)
            } else {
                (c - 1, c)
            };
            let moved = self.chunks.remove(b);
            self.chunks[a].extend(moved);
            if self.chunks[a].len() > 2 * LOAD {
                let half = self.chunks[a].len() / 2;
                let tail = self.chunks[a].split_off(half);
                self.chunks.insert(a + 1, tail);
            }
            self.rebuild_fen();
        } else {
            self.fen_dec(c);
        }
    }

    /// Inserts a member known to be absent.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let slot = self.alloc_slot(member, score);
        let h = self.index.hash(member);
        self.index.insert(h, slot, &Members(&self.slots));
        self.order_insert(score, slot);
        self.len += 1;
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let slot = self.find_slot(member)?;
        let score = self.slots.get(slot as usize)?.score;
        let (c, i) = self.locate_pair(score, member);
        self.order_remove_at(c, i);
        self.unindex(slot, member);
        self.len -= 1;
        Some(score)
    }

    fn unindex(&mut self, slot: u32, member: &[u8]) {
        let h = self.index.hash(member);
        self.index.remove_slot(h, slot, &Members(&self.slots));
        self.free_slot(slot);
    }

    /// Changes an existing member's score.
    pub fn update(&mut self, member: &[u8], old: f64, new: f64) {
        let Some(slot) = self.find_slot(member) else {
            return;
        };
        let (c, i) = self.locate_pair(old, member);
        // Stays in place when the neighbours still bracket the new score.
        let fits = {
            let ch = &self.chunks[c.min(self.chunks.len().saturating_sub(1))];
            let prev_ok = if i > 0 {
                let (ps, pslot) = ch[i - 1];
                cmp_pair(ps, self.member(pslot), new, member) == Ordering::Less
            } else {
                c == 0
            };
            let next_ok = if i + 1 < ch.len() {
                let (ns, nslot) = ch[i + 1];
                cmp_pair(ns, self.member(nslot), new, member) == Ordering::Greater
            } else {
                c + 1 == self.chunks.len()
            };
            prev_ok && next_ok
        };
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.score = new;
        }
        if fits {
            if let Some(e) = self.chunks.get_mut(c).and_then(|ch| ch.get_mut(i)) {
                e.0 = new;
            }
            return;
        }
        self.order_remove_at(c, i);
        self.order_insert(new, slot);
    }

    /// Removes `count` entries from ascending rank `start` (in range).
    pub fn remove_rank_range(&mut self, start: usize, count: usize) {
        let doomed: Vec<u32> = self.iter_from(start, false).slots(count);
        for slot in doomed {
            if let Some(s) = self.slots.get(slot as usize) {
                let score = s.score;
                let member = s.member.clone().unwrap_or_default();
                let (c, i) = self.locate_pair(score, &member);
                self.order_remove_at(c, i);
                self.unindex(slot, &member);
                self.len -= 1;
            }
        }
    }

    pub fn iter_from(&self, start: usize, rev: bool) -> Iter<'_> {
        if start >= self.len {
            return Iter {
                t: self,
                c: 0,
                i: 0,
                rev,
                done: true,
            };
        }
        let (c, i) = self.select(start);
        Iter {
            t: self,
            c,
            i,
            rev,
            done: false,
        }
    }

    /// ZSCAN step over slots from `cursor`; returns the next cursor (0 = done).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
        let mut seen = 0;
        while i < self.slots.len() {
            if let Some(m) = self.slots[i].member.as_deref() {
                f(m, self.slots[i].score);
                seen += 1;
            }
            i += 1;
            if seen >= count.max(1) {
                break;
            }
        }
        if i >= self.slots.len() {
            0
        } else {
            i as u64
        }
    }
}

/// Iterator over (member, score) in rank order.
pub struct Iter<'a> {
    t: &'a Tree,
    c: usize,
    i: usize,
    rev: bool,
    done: bool,
}

impl Iter<'_> {
    /// The slots of the next `n` entries.
    fn slots(mut self, n: usize) -> Vec<u32> {
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            match self.next_slot() {
                Some(s) => out.push(s),
                None => break,
            }
        }
        out
    }

    fn next_slot(&mut self) -> Option<u32> {
        if self.done {
            return None;
        }
        let &(_, slot) = self.t.chunks.get(self.c)?.get(self.i)?;
        if self.rev {
            if self.i > 0 {
                self.i -= 1;
            } else if self.c > 0 {
                self.c -= 1;
                self.i = self.t.chunks[self.c].len().saturating_sub(1);
            } else {
                self.done = true;
            }
        } else {
            self.i += 1;
            if self.i >= self.t.chunks[self.c].len() {
                self.c += 1;
                self.i = 0;
                if self.c >= self.t.chunks.len() {
                    self.done = true;
                }
            }
        }
        Some(slot)
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.t;
        let slot = self.next_slot()?;
        let s = t.slots.get(slot as usize)?;
        Some((s.member.as_deref().unwrap_or(&[]), s.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_selects_agree_with_a_sorted_vec_through_splits_and_merges() {
        let mut t = Tree::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut x: u64 = 99;
        for step in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = format!("k{}", x % 3000).into_bytes();
            let s = ((x >> 30) % 100) as f64;
            let grow = step < 12_000;
            if t.score(&m).is_some() {
                if x.is_multiple_of(3) || !grow {
                    t.remove(&m);
                    model.retain(|p| p.1 != m);
                } else {
                    let old = t.score(&m).unwrap();
                    t.update(&m, old, s);
                    model.retain(|p| p.1 != m);
                    model.push((s, m));
                }
            } else if grow {
                t.insert(&m, s);
                model.push((s, m));
            }
        }
        model.sort_by(|a, b| cmp_pair(a.0, &a.1, b.0, &b.1));
        assert_eq!(t.len(), model.len());
        let got: Vec<(f64, Vec<u8>)> = t
            .iter_from(0, false)
            .map(|(m, s)| (s, m.to_vec()))
            .collect();
        assert_eq!(got, model);
        for (r, (s, m)) in model.iter().enumerate() {
            assert_eq!(t.rank(m), Some((r, *s)));
            let (first, _) = t.iter_from(r, false).next().unwrap();
            assert_eq!(first, &m[..]);
        }
        let mid = model.len() / 2;
        t.remove_rank_range(mid, 100);
        model.drain(mid..(mid + 100).min(model.len()));
        let got: Vec<(f64, Vec<u8>)> = t
            .iter_from(0, false)
            .map(|(m, s)| (s, m.to_vec()))
            .collect();
        assert_eq!(got, model);
        let back: Vec<Vec<u8>> = t
            .iter_from(model.len() - 1, true)
            .map(|(m, _)| m.to_vec())
            .collect();
        assert_eq!(back.len(), model.len());
        assert_eq!(back.first(), model.last().map(|p| &p.1));
    }

    #[test]
    fn a_scan_returns_every_member_once() {
        let mut t = Tree::default();
        for i in 0..1000 {
            t.insert(format!("m{i}").as_bytes(), i as f64);
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, 10, |m, _| seen.push(m.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
    }
}
