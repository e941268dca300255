/// mimalloc: `versions` renders on every core and keeps what units share
/// (`queries::unitcache`) while freeing the rest; glibc's allocator, with
/// long-lived small blocks between the freed ones, spent a sixth of a
/// vmlinux run searching its free lists for each unit's large vectors.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's C API (`mimalloc` links it; its `extended` feature would add
// a dependency for this one call).
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay`: milliseconds before freed memory goes back to
/// the system. On the Debian kernel (`versions vmlinux modules`, 2 cores):
/// 0 ms 20.9 s wall, 0.8 GB; mimalloc's 10 ms 13.0 s, 0.96 GB (and 1.6 s of
/// page faults in a vmlinux run that shares units, against 0.3 s); 100 ms
/// 11.8 s, 1.3 GB; 1 s 13.9 s, 1.6 GB.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() {
    // Before the first allocation that could purge.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 100) };
    std::process::exit(dwarfksyms::cli::main());
}
