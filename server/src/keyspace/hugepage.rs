//! Memory for the big structures of a keyspace (entry slab pages, key index
//! tables) in blocks aligned to 2 MiB and offered to the kernel for
//! transparent huge pages (`madvise(MADV_HUGEPAGE)`).
//!
//! Why: a snapshot forks, and `fork()` copies the parent's page tables, one
//! entry per 4 KiB page; that copy is the one stall a snapshot causes in the
//! event loop, and it grows with the dataset. A huge page is one entry for
//! 2 MiB. Since Linux 5.8 a write to a huge page shared with the child copies
//! only the 4 KiB it touches, so copy-on-write costs no more than before.
//! Where THP is disabled the advice is ignored and nothing changes.
//!
//! Allocations go through the global allocator (so INFO `used_memory` counts
//! them) with a 2 MiB alignment.

use std::alloc::Layout;
use std::ptr::NonNull;

/// Size and alignment of a huge page on x86-64 and arm64 (4 KiB base pages).
pub const HUGE_BYTES: usize = 2 << 20;

/// The layout a block of `size` bytes is allocated with.
fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align.max(HUGE_BYTES)).expect("size fits a huge-page layout")
}

/// Allocates `size` (> 0) uninitialised bytes aligned to 2 MiB (or `align`,
/// if larger) and advises huge pages for them.
pub fn alloc(size: usize, align: usize) -> NonNull<u8> {
    let layout = layout(size, align);
    // SAFETY: the layout has a non-zero size.
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
/// `ptr` must come from `alloc(size, align)` with the same `size` and
/// `align`, and not be used afterwards.
pub unsafe fn free(ptr: NonNull<u8>, size: usize, align: usize) {
    // SAFETY: per the contract, this is the layout it was allocated with.
    unsafe { std::alloc::dealloc(ptr.as_ptr(), layout(size, align)) };
}

/// An allocator for hash tables: blocks of at least [`HUGE_BYTES`] come
/// from [`alloc`], smaller ones from the global allocator as usual.
#[derive(Clone, Copy, Default)]
pub struct BigAlloc;

// SAFETY: every block is freed by the same path that allocated it (the
// size decides, and deallocate receives the allocation's own layout), and
// both paths return memory valid for the layout until it is freed.
unsafe impl allocator_api2::alloc::Allocator for BigAlloc {
    fn allocate(&self, l: Layout) -> Result<NonNull<[u8]>, allocator_api2::alloc::AllocError> {
        if l.size() >= HUGE_BYTES {
            let p = alloc(l.size(), l.align());
            Ok(NonNull::slice_from_raw_parts(p, l.size()))
        } else {
            allocator_api2::alloc::Global.allocate(l)
        }
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, l: Layout) {
        if l.size() >= HUGE_BYTES {
            // SAFETY: allocated by `alloc` with this size and alignment.
            unsafe { free(ptr, l.size(), l.align()) }
        } else {
            // SAFETY: allocated by Global with this layout.
            unsafe { allocator_api2::alloc::Global.deallocate(ptr, l) }
        }
    }
}
