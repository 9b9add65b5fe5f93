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
//! snapshot's fork several times shorter. A huge page is only taken when a
//! background thread has one ready: the first touch of a fresh huge page was
//! measured at 10 to over 100 ms on this project's VMs (the kernel zeroes, and
//! may compact or reclaim for, 2 MiB at once), far too long for the event loop.
//! When none is ready the page is an ordinary allocation of the same size whose
//! slots are written as they are used, so its 4 KiB pages fault one at a time.

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
            if p == SMALL_PAGES - 4 {
                // A few small pages before the first huge one: time for the
                // preparer to have it ready.
                huge_page_preparer();
            }
            self.pages.push(if p < SMALL_PAGES {
                Page::Small((0..SMALL).map(|_| None).collect())
            } else if let Some(huge) = prepared_huge_page() {
                Page::Huge(huge)
            } else {
                Page::Lazy(Vec::with_capacity(BIG))
            });
        }
        match &mut self.pages[p] {
            Page::Lazy(v) => {
                debug_assert_eq!(v.len(), o, "slots are appended in order");
                v.push(slot);
            }
            page => page[o] = slot,
        }
        self.len += 1;
    }

    /// Removes the last slot; releases its page when it empties.
    pub fn pop(&mut self) -> Option<Option<Entry>> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        let (p, o) = locate(self.len);
        let slot = match &mut self.pages[p] {
            Page::Lazy(v) => v.pop().flatten(),
            page => page[o].take(),
        };
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
        self.pages.iter().map(Page::bytes).sum()
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
    /// `BIG` slots reserved, only the used ones written (see the module header).
    Lazy(Vec<Option<Entry>>),
}

impl Deref for Page {
    type Target = [Option<Entry>];

    fn deref(&self) -> &[Option<Entry>] {
        match self {
            Page::Small(b) => b,
            Page::Huge(h) => h,
            Page::Lazy(v) => v,
        }
    }
}

impl DerefMut for Page {
    fn deref_mut(&mut self) -> &mut [Option<Entry>] {
        match self {
            Page::Small(b) => b,
            Page::Huge(h) => h,
            Page::Lazy(v) => v,
        }
    }
}

impl Page {
    /// Heap bytes the page holds, used slots or not.
    fn bytes(&self) -> usize {
        match self {
            Page::Lazy(v) => v.capacity() * std::mem::size_of::<Option<Entry>>(),
            page => std::mem::size_of_val::<[Option<Entry>]>(page),
        }
    }
}

/// A huge page prepared off the loop, when one is ready. A process-wide
/// background thread keeps one ready (it starts with the first slab that needs
/// huge pages; small servers never start it), so a growing slab takes its next
/// 2 MiB without the first-touch stall.
fn prepared_huge_page() -> Option<HugePage> {
    huge_page_preparer().try_recv().ok()
}

/// The channel from the background thread that prepares huge pages, started
/// at the first call.
fn huge_page_preparer() -> &'static Receiver<HugePage> {
    static READY: OnceLock<Receiver<HugePage>> = OnceLock::new();
    READY.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("slab-pages".into())
            .spawn(move || while tx.send(HugePage::new()).is_ok() {});
        if let Err(e) = spawned {
            log::warn!("slab page thread not started ({e}): pages are prepared inline");
        }
        rx
    })
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
    fn a_big_slab_continues_in_2_mib_pages_and_gives_them_back() {
        let mut s = Slots::default();
        let n = SMALL_TOTAL + BIG + 10;
        for k in 0..n {
            s.push(entry(k));
        }
        assert_eq!(s.pages.len(), SMALL_PAGES + 2);
        for page in &s.pages[SMALL_PAGES..] {
            match page {
                Page::Huge(h) => assert_eq!(h.as_ptr() as usize % HUGE_BYTES, 0),
                Page::Lazy(v) => assert_eq!(v.capacity(), BIG),
                Page::Small(_) => panic!("a small page past the small ones"),
            }
        }
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

    #[test]
    fn a_lazily_written_page_holds_only_the_slots_in_use() {
        let mut s = Slots::default();
        for k in 0..SMALL_TOTAL {
            s.push(entry(k));
        }
        // As when the preparer had no huge page ready.
        s.pages.push(Page::Lazy(Vec::with_capacity(BIG)));
        for k in SMALL_TOTAL..SMALL_TOTAL + 3 {
            s.push(entry(k));
        }
        let Page::Lazy(v) = &s.pages[SMALL_PAGES] else {
            panic!("the pushed page is used");
        };
        assert_eq!(v.len(), 3);
        assert_eq!(
            &s[SMALL_TOTAL + 2].as_ref().unwrap().key[..],
            (SMALL_TOTAL + 2).to_string().as_bytes()
        );
        assert!(s.get(SMALL_TOTAL + 3).is_none());
        assert_eq!(s.iter().count(), SMALL_TOTAL + 3);
        let last = s.pop().unwrap().unwrap();
        assert_eq!(&last.key[..], (SMALL_TOTAL + 2).to_string().as_bytes());
        s.pop();
        s.pop();
        assert_eq!(s.pages.len(), SMALL_PAGES, "the emptied page is released");
    }
}
