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
/// the system. mimalloc's 10 ms made a vmlinux run fault the same pages
/// in again and again (1.6 s of system time against 0.4 s at 1 s).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() {
    // Before the first allocation that could purge.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    std::process::exit(dwarfksyms::cli::main());
}
