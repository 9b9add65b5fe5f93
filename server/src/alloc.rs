//! Exact memory accounting: a global allocator wrapping the system allocator
//! that keeps a running total of the bytes malloc really hands out (usable
//! size, as Redis's zmalloc counts), so INFO `used_memory` is exact and O(1).
//!
//! The `handoff-server` binary and the test harness install it with
//! `#[global_allocator]`; a program embedding handoff may install it too. When
//! it is not installed, [`allocated`] returns None and callers fall back to RSS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The counting allocator.
pub struct CountingAlloc;

fn usable(ptr: *mut u8) -> usize {
    // SAFETY: ptr was returned by the system allocator (glibc malloc family).
    unsafe { libc::malloc_usable_size(ptr as *mut libc::c_void) }
}

// SAFETY: every method forwards to `System` and only adds bookkeeping.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(usable(ptr), Ordering::Relaxed);
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let before = usable(ptr);
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            ALLOCATED.fetch_sub(before, Ordering::Relaxed);
            ALLOCATED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }
}

impl CountingAlloc {
    /// Marks the allocator as installed; call once from `main` (or a test
    /// harness) right after declaring it `#[global_allocator]`.
    pub fn activate() {
        ACTIVE.store(true, Ordering::Relaxed);
    }
}

/// Bytes currently allocated, if the counting allocator is installed.
pub fn allocated() -> Option<usize> {
    ACTIVE
        .load(Ordering::Relaxed)
        .then(|| ALLOCATED.load(Ordering::Relaxed))
}
