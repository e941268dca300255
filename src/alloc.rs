//! mimalloc, the allocator both binaries use: a global allocator over its
//! C API and the few other calls into it they make (the `mimalloc` crate
//! links the library; its `extended` feature would add a dependency for
//! these).

// The library itself: nothing else names the crate, and an unnamed
// dependency is not linked.
use mimalloc as _;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::{c_int, c_long, c_void};

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    fn mi_collect(force: bool);
    fn mi_malloc(size: usize) -> *mut c_void;
    fn mi_zalloc(size: usize) -> *mut c_void;
    fn mi_realloc(p: *mut c_void, newsize: usize) -> *mut c_void;
    fn mi_malloc_aligned(size: usize, alignment: usize) -> *mut c_void;
    fn mi_zalloc_aligned(size: usize, alignment: usize) -> *mut c_void;
    fn mi_realloc_aligned(p: *mut c_void, newsize: usize, alignment: usize) -> *mut c_void;
    fn mi_free(p: *mut c_void);
}

/// mimalloc as a global allocator. The `mimalloc` crate's `MiMalloc` asks
/// for `mi_malloc_aligned` whatever the alignment, whose fast path only
/// covers blocks up to 1 KiB; every block mimalloc hands out is aligned to
/// 16 bytes or (when smaller) to its 8-byte size class, so, as std's
/// `System` does with `malloc`, the plain calls serve the alignments that
/// gives for free.
pub struct MiAlloc;

/// The alignment every mimalloc block of at least this size has.
const MIN_ALIGN: usize = 16;

fn plain(align: usize, size: usize) -> bool {
    align <= MIN_ALIGN && align <= size
}

unsafe impl GlobalAlloc for MiAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions take any size.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's contract).
        unsafe { mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout` (the
        // caller's contract); mimalloc keeps the block's alignment when it
        // can be served plainly.
        unsafe {
            if plain(layout.align(), new_size) {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// `mi_option_purge_delay`: milliseconds before freed memory goes back to
/// the system.
pub const PURGE_DELAY: c_int = 15;

/// Sets a mimalloc option; call before the allocations it should govern.
pub fn set_option(option: c_int, value: c_long) {
    // SAFETY: mi_option_set only stores the value.
    unsafe { mi_option_set(option, value) };
}

/// Gives the memory this thread freed back to the system: mimalloc keeps
/// a thread's freed pages in its heap until the thread allocates again or
/// collects.
pub fn collect() {
    // SAFETY: mi_collect only walks the calling thread's heap; it is
    // harmless when mimalloc is not the global allocator (tests).
    unsafe { mi_collect(true) };
}

/// [`collect`] on every worker of `pool` and on this thread. A watcher's
/// workers sit idle between batches (watching the Debian kernel: 3.5 GiB
/// resident after the initial load; 358 MiB once collected).
pub fn release(pool: &rayon::ThreadPool) {
    pool.broadcast(|_| collect());
    collect();
}
