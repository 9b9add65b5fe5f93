//! The entry slab of a database: fixed-size pages of slots.
//!
//! A page never moves once allocated, so growing the keyspace never copies
//! existing entries (a doubling vector of millions of entries would stall
//! the loop while it reallocates) and at most one page is partly unused
//! (a doubling vector wastes up to half its capacity). Slot numbers stay
//! stable, which SCAN cursors rely on.

use std::ops::{Index, IndexMut};

use super::db::Entry;

/// Slots per page: 1024 entries of 64 bytes, one 64 KiB allocation.
const PAGE: usize = 1024;

/// A growable array of `Option<Entry>` in fixed pages.
#[derive(Default)]
pub struct Slots {
    pages: Vec<Box<[Option<Entry>]>>,
    len: usize,
}

impl Slots {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&Option<Entry>> {
        (i < self.len).then(|| &self.pages[i / PAGE][i % PAGE])
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut Option<Entry>> {
        if i < self.len {
            Some(&mut self.pages[i / PAGE][i % PAGE])
        } else {
            None
        }
    }

    /// Appends a slot at index `len()`.
    pub fn push(&mut self, slot: Option<Entry>) {
        if self.len / PAGE == self.pages.len() {
            self.pages.push((0..PAGE).map(|_| None).collect());
        }
        let i = self.len;
        self.pages[i / PAGE][i % PAGE] = slot;
        self.len += 1;
    }

    /// Removes the last slot; releases its page when it empties.
    pub fn pop(&mut self) -> Option<Option<Entry>> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let i = self.len;
        let slot = self.pages[i / PAGE][i % PAGE].take();
        if i.is_multiple_of(PAGE) {
            self.pages.truncate(i / PAGE);
        }
        Some(slot)
    }

    pub fn last(&self) -> Option<&Option<Entry>> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Option<Entry>> {
        self.pages.iter().flat_map(|p| p.iter()).take(self.len)
    }

    /// Heap bytes held by the pages.
    pub fn heap_size(&self) -> usize {
        self.pages.len() * PAGE * std::mem::size_of::<Option<Entry>>()
    }
}

impl Index<usize> for Slots {
    type Output = Option<Entry>;

    fn index(&self, i: usize) -> &Option<Entry> {
        assert!(i < self.len, "slot {i} out of range");
        &self.pages[i / PAGE][i % PAGE]
    }
}

impl IndexMut<usize> for Slots {
    fn index_mut(&mut self, i: usize) -> &mut Option<Entry> {
        assert!(i < self.len, "slot {i} out of range");
        &mut self.pages[i / PAGE][i % PAGE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Value;

    fn entry(n: usize) -> Option<Entry> {
        Some(Entry::new(
            n.to_string().as_bytes(),
            Value::from_bytes(b"v"),
        ))
    }

    #[test]
    fn slots_keep_their_index_across_pages_and_pages_are_released() {
        let mut s = Slots::default();
        for n in 0..(PAGE * 2 + 5) {
            s.push(entry(n));
        }
        assert_eq!(s.len(), PAGE * 2 + 5);
        assert_eq!(
            &s[PAGE + 7].as_ref().unwrap().key[..],
            (PAGE + 7).to_string().as_bytes()
        );
        assert_eq!(s.iter().count(), PAGE * 2 + 5);
        for _ in 0..6 {
            s.pop();
        }
        assert_eq!(s.pages.len(), 2);
        assert!(s.get(PAGE * 2).is_none());
        while s.pop().is_some() {}
        assert!(s.pages.is_empty());
    }
}
