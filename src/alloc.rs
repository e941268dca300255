//! mimalloc, the allocator both binaries use: the few calls into its C API
//! they make (the `mimalloc` crate links the library; its `extended`
//! feature would add a dependency for these).

use std::ffi::{c_int, c_long};

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    fn mi_collect(force: bool);
}

/// `mi_option_eager_commit_delay`: how many of a thread's first segments
/// are committed on demand rather than at once.
pub const EAGER_COMMIT_DELAY: c_int = 14;
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
