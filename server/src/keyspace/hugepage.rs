//! Memory for the entry slab of a big keyspace in blocks aligned to 2 MiB and
//! offered to the kernel for transparent huge pages (`madvise(MADV_HUGEPAGE)`).
//!
//! Why: a snapshot forks, and `fork()` copies the parent's page tables, one
//! entry per 4 KiB page; that copy is the one stall a snapshot causes in the
//! event loop, and it grows with the dataset. A huge page is one entry for
//! 2 MiB. Since Linux 5.8 a write to a huge page shared with the child copies
//! only the 4 KiB it touches, so copy-on-write costs no more than before.
//! Where THP is disabled the advice is ignored and nothing changes.
//!
//! The price is at the first touch: the kernel then zeroes the whole 2 MiB at
//! once (about 10 ms measured on this project's VMs, where fresh memory is
//! expensive), which would be a stall of the event loop. So slab pages are
//! prepared ahead of need on a background thread (see `slots`), and the key
//! index, whose tables are written at random places as they fill, stays on
//! ordinary pages (a 20 MiB table would fault ten huge pages in a row).
//!
//! Allocations go through the global allocator (so INFO `used_memory` counts
//! them) with a 2 MiB alignment.

use std::alloc::Layout;
use std::ptr::NonNull;

/// Size and alignment of a huge page on x86-64 and arm64 (4 KiB base pages).
pub const HUGE_BYTES: usize = 2 << 20;

/// The layout a block of `size` bytes is allocated with.
fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, HUGE_BYTES).expect("size fits a huge-page layout")
}

/// Allocates `size` uninitialised bytes aligned to 2 MiB and advises huge
/// pages for them.
pub fn alloc(size: usize) -> NonNull<u8> {
    assert!(size > 0, "a huge-page block has a size");
    let layout = layout(size);
    // SAFETY: the layout has a non-zero size (asserted above).
    let raw = unsafe { std::alloc::alloc(layout) };
    let Some(ptr) = NonNull::new(raw) else {
        std::alloc::handle_alloc_error(layout);
    };
    // SAFETY: [raw, raw + size) is our allocation, 2 MiB aligned; madvise
    // only changes how the kernel backs it, and failure leaves small pages.
    unsafe { libc::madvise(raw as *mut libc::c_void, size, libc::MADV_HUGEPAGE) };
    ptr
}

/// Frees a block from [`alloc`].
///
/// # Safety
/// `ptr` must come from `alloc(size)` with the same `size`, and not be used
/// afterwards.
pub unsafe fn free(ptr: NonNull<u8>, size: usize) {
    // SAFETY: per the contract, this is the layout it was allocated with.
    unsafe { std::alloc::dealloc(ptr.as_ptr(), layout(size)) };
}
