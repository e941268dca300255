/// mimalloc: `versions` renders on every core and keeps what units share
/// (`queries::unitcache`) while freeing the rest; glibc's allocator, with
/// long-lived small blocks between the freed ones, spent a sixth of a
/// vmlinux run searching its free lists for each unit's large vectors.
#[global_allocator]
static ALLOCATOR: dwarfksyms::alloc::MiAlloc = dwarfksyms::alloc::MiAlloc;

/// The purge delay (`alloc::PURGE_DELAY`), in milliseconds. On the Debian
/// kernel (`versions vmlinux modules`, 2 cores): 0 ms 20.9 s wall, 0.8 GB; mimalloc's 10 ms 13.0 s, 0.96 GB (and 1.6 s of
/// page faults in a vmlinux run that shares units, against 0.3 s); 100 ms
/// 11.8 s, 1.3 GB; 1 s 13.9 s, 1.6 GB.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

fn main() {
    // Before the first allocation that could purge.
    dwarfksyms::alloc::set_option(dwarfksyms::alloc::PURGE_DELAY, PURGE_DELAY_MS);
    // Queries may run on this thread too: the workers' depth of stack
    // (`dwarfksyms::stack`).
    let status = dwarfksyms::stack::run_on_large_stack(256 << 20, dwarfksyms::cli::main);
    std::process::exit(status.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
}
