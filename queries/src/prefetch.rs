//! Asking the processor to start loading memory that is read soon after:
//! the hot loops walk data one cold item at a time (a member's name in
//! `.debug_str`, a cache entry's pieces), and asked for ahead the misses
//! overlap instead of following one another.

/// Starts loading the cache line at `p` into every cache level. Any
/// pointer will do, dangling or null: nothing is read. Does nothing off
/// x86-64.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
