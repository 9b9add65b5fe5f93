//! The entry slab of a database: fixed-size pages of slots.
//!
//! A page never moves once allocated, so growing the keyspace never copies
//! existing entries (a doubling vector of millions of entries would stall
//! the loop while it reallocates) and at most one page is partly unused
//! (a doubling vector wastes up to half its capacity). Slot numbers stay
//! stable, which SCAN cursors rely on.
//!
//! The first pages are small (1024 slots). Past [`SMALL_PAGES`] of them the
//! slab is big, and further pages are huge-page blocks (see `hugepage`): the
//! entries are most of a big keyspace's memory, so this is what makes a
//! snapshot's fork several times shorter.

use std::ops::{Deref, DerefMut, Index, IndexMut};
use std::ptr::NonNull;
use std::sync::OnceLock;

use crossbeam_channel::Receiver;

use super::db::Entry;
use super::hugepage::{self, HUGE_BYTES};

/// Slots per small page: 1024 entries of 64 bytes, one 64 KiB allocation.
const SMALL: usize = 1024;

/// Small pages before the slab switches to huge ones (32k keys, about
/// 2 MiB of entries: from there a 2 MiB page wastes at most half).
const SMALL_PAGES: usize = 32;

/// Slots held by the small pages together.
const SMALL_TOTAL: usize = SMALL * SMALL_PAGES;

/// Slots per huge page.
const BIG: usize = HUGE_BYTES / std::mem::size_of::<Option<Entry>>();

/// A growable array of `Option<Entry>` in fixed pages.
#[derive(Default)]
pub struct Slots {
    pages: Vec<Page>,
    len: usize,
}

/// Which page holds slot `i`, and where in it.
fn locate(i: usize) -> (usize, usize) {
    if i < SMALL_TOTAL {
        (i / SMALL, i % SMALL)
    } else {
        let j = i - SMALL_TOTAL;
        (SMALL_PAGES + j / BIG, j % BIG)
    }
}

impl Slots {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&Option<Entry>> {
        (i < self.len).then(|| {
            let (p, o) = locate(i);
            &self.pages[p][o]
        })
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut Option<Entry>> {
        if i < self.len {
            let (p, o) = locate(i);
            Some(&mut self.pages[p][o])
        } else {
            None
        }
    }

    /// Appends a slot at index `len()`.
    pub fn push(&mut self, slot: Option<Entry>) {
        let (p, o) = locate(self.len);
        if p == self.pages.len() {
            self.pages.push(if p < SMALL_PAGES {
                Page::Small((0..SMALL).map(|_| None).collect())
            } else {
                Page::Huge(prepared_huge_page())
            });
        }
        self.pages[p][o] = slot;
        self.len += 1;
    }

    /// Removes the last slot; releases its page when it empties.
    pub fn pop(&mut self) -> Option<Option<Entry>> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let (p, o) = locate(self.len);
        let slot = self.pages[p][o].take();
        if o == 0 {
            self.pages.truncate(p);
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
        self.pages
            .iter()
            .map(|p| std::mem::size_of_val::<[Option<Entry>]>(p))
            .sum()
    }
}

impl Index<usize> for Slots {
    type Output = Option<Entry>;

    fn index(&self, i: usize) -> &Option<Entry> {
        assert!(i < self.len, "slot {i} out of range");
        let (p, o) = locate(i);
        &self.pages[p][o]
    }
}

impl IndexMut<usize> for Slots {
    fn index_mut(&mut self, i: usize) -> &mut Option<Entry> {
        assert!(i < self.len, "slot {i} out of range");
        let (p, o) = locate(i);
        &mut self.pages[p][o]
    }
}

/// One page of slots.
enum Page {
    Small(Box<[Option<Entry>]>),
    Huge(HugePage),
}

impl Deref for Page {
    type Target = [Option<Entry>];

    fn deref(&self) -> &[Option<Entry>] {
        match self {
            Page::Small(b) => b,
            Page::Huge(h) => h,
        }
    }
}

impl DerefMut for Page {
    fn deref_mut(&mut self) -> &mut [Option<Entry>] {
        match self {
            Page::Small(b) => b,
            Page::Huge(h) => h,
        }
    }
}

/// A huge page prepared off the loop when one is ready, else one made here.
/// A process-wide background thread keeps a page or two ready (it starts with the
/// first slab that needs huge pages; small servers never start it), so a
/// growing slab takes its next 2 MiB without the first-touch stall.
fn prepared_huge_page() -> HugePage {
    static READY: OnceLock<Receiver<HugePage>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("slab-pages".into())
            .spawn(move || while tx.send(HugePage::new()).is_ok() {});
        if let Err(e) = spawned {
            log::warn!("slab page thread not started ({e}): pages are prepared inline");
        }
        rx
    });
    ready.try_recv().unwrap_or_else(|_| HugePage::new())
}

/// `BIG` slots in one huge-page block. A `Box<[T]>` cannot carry the 2 MiB
/// alignment (it frees with `T`'s), hence this small owner.
struct HugePage {
    ptr: NonNull<Option<Entry>>,
}

impl HugePage {
    fn new() -> HugePage {
        let ptr = hugepage::alloc(HUGE_BYTES).cast::<Option<Entry>>();
        for o in 0..BIG {
            // SAFETY: o < BIG, so the slot lies inside the allocation
            // (BIG * size_of::<Option<Entry>>() <= HUGE_BYTES), is aligned
            // (the block is 2 MiB aligned, the stride is the type's size),
            // and is written once before any read.
            unsafe { ptr.as_ptr().add(o).write(None) };
        }
        HugePage { ptr }
    }
}

impl Deref for HugePage {
    type Target = [Option<Entry>];

    fn deref(&self) -> &[Option<Entry>] {
        // SAFETY: `new` initialised BIG slots at ptr; we own them.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), BIG) }
    }
}

impl DerefMut for HugePage {
    fn deref_mut(&mut self) -> &mut [Option<Entry>] {
        // SAFETY: as in `deref`; `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), BIG) }
    }
}

impl Drop for HugePage {
    fn drop(&mut self) {
        // SAFETY: the BIG slots are initialised and dropped once here, then
        // the block is freed with the layout it was allocated with.
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), BIG));
            hugepage::free(self.ptr.cast(), HUGE_BYTES);
        }
    }
}

// SAFETY: a HugePage owns its slots exactly as a Box<[Option<Entry>]> would
// (and is only sent while it holds `None`s, from the thread that prepares it).
unsafe impl Send for HugePage {}

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
        for n in 0..(SMALL * 2 + 5) {
            s.push(entry(n));
        }
        assert_eq!(s.len(), SMALL * 2 + 5);
        assert_eq!(
            &s[SMALL + 7].as_ref().unwrap().key[..],
            (SMALL + 7).to_string().as_bytes()
        );
        assert_eq!(s.iter().count(), SMALL * 2 + 5);
        for _ in 0..6 {
            s.pop();
        }
        assert_eq!(s.pages.len(), 2);
        assert!(s.get(SMALL * 2).is_none());
        while s.pop().is_some() {}
        assert!(s.pages.is_empty());
    }

    #[test]
    fn a_big_slab_continues_in_huge_pages_and_gives_them_back() {
        let mut s = Slots::default();
        let n = SMALL_TOTAL + BIG + 10;
        for k in 0..n {
            s.push(entry(k));
        }
        assert_eq!(s.pages.len(), SMALL_PAGES + 2);
        assert!(matches!(s.pages[SMALL_PAGES], Page::Huge(_)));
        assert_eq!(s.pages[SMALL_PAGES].as_ptr() as usize % HUGE_BYTES, 0);
        for k in [0, SMALL_TOTAL - 1, SMALL_TOTAL, SMALL_TOTAL + BIG, n - 1] {
            assert_eq!(&s[k].as_ref().unwrap().key[..], k.to_string().as_bytes());
        }
        assert_eq!(s.iter().flatten().count(), n);
        while s.len() > SMALL_TOTAL {
            s.pop();
        }
        assert_eq!(s.pages.len(), SMALL_PAGES);
        assert_eq!(
            s.heap_size(),
            SMALL_TOTAL * std::mem::size_of::<Option<Entry>>()
        );
    }
}
