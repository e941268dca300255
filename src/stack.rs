//! A large stack for the engine on the main thread, in both binaries.
//!
//! Deeply nested DWARF makes the engine recurse deeply, up to its depth
//! limit (`queries::MAX_NESTING`), which is set past where upstream's
//! recursion overflows its 8 MiB stack (`tests/deep.rs`). The drop-in
//! used to run the engine on a thread started for its stack: a tenth of a
//! small object's run went on starting it (clone3, the process's first
//! futex hash). Here the main thread switches to a mapping of its own
//! instead (psm does the switch). `stacker::grow` would do the same, but
//! first asks glibc where the main stack ends, which reads
//! `/proc/self/maps` again. `dwarfksyms` renders on worker threads with
//! stacks of their own, but a request or a report may still run a query
//! on the main thread: it gets the same stack.

/// Runs `f` on a stack of `size` bytes, above a guard page, and returns
/// what it returns, or its panic, caught on that stack (unwinding must not
/// cross the switch) for the caller to report or resume.
pub fn run_on_large_stack<R>(size: usize, f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let run = || std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    psm::psm_stack_manipulation! {
        yes {
            // SAFETY: a fresh private mapping, used only as this stack.
            match unsafe { map_stack(size) } {
                // SAFETY: `base` is page-aligned, `size` bytes are mapped
                // read-write above it and a guard page below; `run` does
                // not unwind. The mapping is left for the process's exit.
                Some(base) => unsafe { psm::on_stack(base, size, run) },
                None => run(),
            }
        }
        no {
            let _ = size;
            run()
        }
    }
}

/// Maps `size` bytes of stack and a guard page below them; the stack's
/// low end. Pages are faulted in as the stack grows.
#[allow(dead_code)]
unsafe fn map_stack(size: usize) -> Option<*mut u8> {
    const PAGE: usize = 64 << 10; // covers every page size in use
    let total = size.checked_add(PAGE)?;
    // SAFETY: an anonymous mapping at an address the kernel picks.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            total,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: the first PAGE bytes of the mapping just made.
    if unsafe { libc::mprotect(map, PAGE, libc::PROT_NONE) } != 0 {
        // SAFETY: unmapping what was mapped above.
        unsafe { libc::munmap(map, total) };
        return None;
    }
    Some(map.cast::<u8>().wrapping_add(PAGE))
}
