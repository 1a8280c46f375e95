//! The global allocator of the binary and of the benches: mimalloc for
//! everything but large blocks, which the system's allocator serves.
//!
//! Why two: mimalloc asks for transparent huge pages on its arenas, and
//! the many small buffers of thousands of open connections (TLS state,
//! read and write buffers, headers) are reached through far fewer TLB
//! entries on 2 MiB pages. On a VM with nested paging a TLB miss is dear:
//! without huge pages, 1,000 SSE streams through llmspy took several
//! milliseconds more to their first byte at the median (`cargo bench
//! --bench streams`, docs/benchmarks.md, "huge pages back for small
//! blocks"). But a captured body is fresh memory by nature (kept, not
//! reused), and on VMs that hand freed memory back to the host the first
//! touch of a fresh huge page clears 2 MiB at once and costs ~5 ms: 15-20%
//! of llmspy's CPU per 100 MB transfer ("huge pages off"). Blocks of
//! [`LARGE`] bytes and more are few (captured bodies, the store's tables)
//! and touched in sequence, so 4 KiB pages cost them little; glibc maps
//! them without asking for huge pages (a system whose THP setting is
//! `always` still gets them). Small blocks never meet glibc's arena locks,
//! which took ~15% of the relay under load when glibc served everything.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of this size and more come from the system allocator: above
/// any buffer the relay uses per read or write (hyper's reads reach
/// ~400 KiB, the cork gathers at most 256 KiB), so the relay's own
/// buffers stay on mimalloc.
pub const LARGE: usize = 1024 * 1024;

/// mimalloc below [`LARGE`], the system allocator from it on. A block is
/// freed by the allocator its layout's size names, which is the one that
/// allocated it: Rust hands `dealloc` and `realloc` the layout the block
/// was allocated (or last reallocated) with.
pub struct Allocator;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every call is forwarded to one of two sound allocators, chosen
// by the block's size, which `GlobalAlloc`'s contract keeps the same
// between a block's allocation and its release; a block that crosses
// `LARGE` in `realloc` is moved to a block of the other allocator.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees (a layout of non-zero size)
        // pass on unchanged.
        unsafe {
            if is_large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if is_large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated with `layout` by this allocator,
        // hence by the one `layout.size()` names.
        unsafe {
            if is_large(layout.size()) {
                System.dealloc(ptr, layout);
            } else {
                MiMalloc.dealloc(ptr, layout);
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (is_large(layout.size()), is_large(new_size)) {
            // SAFETY: the block stays with the allocator that holds it.
            (false, false) => unsafe { MiMalloc.realloc(ptr, layout, new_size) },
            // SAFETY: as above.
            (true, true) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: `realloc`'s contract makes `new_size`, rounded
                // up to `layout.align()`, a valid size.
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                // SAFETY: `new_size` is non-zero (the contract again);
                // the old block is read only up to the smaller size and
                // released with the layout it was allocated with.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block grown and shrunk across `LARGE` keeps its bytes, whichever
    /// allocator holds it at each step, and is released by the right one
    /// (a wrong one aborts the test binary).
    #[test]
    fn blocks_keep_their_bytes_across_the_boundary() {
        let a = Allocator;
        let layout = Layout::from_size_align(LARGE - 16, 64).unwrap();
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            for i in 0..layout.size() {
                *p.add(i) = (i % 251) as u8;
            }
            let grown = a.realloc(p, layout, 3 * LARGE);
            assert!(!grown.is_null());
            assert_eq!(grown as usize % 64, 0, "alignment kept");
            for i in 0..layout.size() {
                assert_eq!(*grown.add(i), (i % 251) as u8, "byte {i} after growing");
            }
            let large = Layout::from_size_align(3 * LARGE, 64).unwrap();
            let grown_more = a.realloc(grown, large, 4 * LARGE);
            let larger = Layout::from_size_align(4 * LARGE, 64).unwrap();
            let shrunk = a.realloc(grown_more, larger, 100);
            assert!(!shrunk.is_null());
            for i in 0..100 {
                assert_eq!(*shrunk.add(i), (i % 251) as u8, "byte {i} after shrinking");
            }
            a.dealloc(shrunk, Layout::from_size_align(100, 64).unwrap());
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_on_both_sides() {
        let a = Allocator;
        for size in [64, LARGE - 1, LARGE, 2 * LARGE] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!(
                    std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0),
                    "{size}"
                );
                a.dealloc(p, layout);
            }
        }
    }
}
