/// kbuild runs the drop-in once per object: a process that lives 1 to 30
/// ms and allocates up to 15 MB. Faulting that memory in page by page was
/// a third of its CPU time (about 2 us per 4 KiB fault here). mimalloc
/// backs its arena with transparent huge pages where the system allows
/// them (`madvise` mode included), so the same memory comes in a few 2 MiB
/// faults: about a third less CPU time over the ten largest objects of the
/// corpus (benches/compare.py corpus). mimalloc is built with 16 KiB small
/// pages (`.cargo/config.toml`): a page per size class in use, at 64 KiB,
/// spread the heap over one or two more huge pages.
// Linked against musl (scripts/build-dropin.sh), the drop-in takes its
// string functions from `memfns`: musl's are slow on short strings.
#[cfg(target_env = "musl")]
use memfns as _;

#[global_allocator]
static ALLOCATOR: dwarfksyms::alloc::MiAlloc = dwarfksyms::alloc::MiAlloc;

/// The engine runs on the main thread (`dropin::main`), whose segments
/// mimalloc commits whole, on huge pages (another thread's first segment
/// it would commit page by page).
fn main() {
    std::process::exit(dwarfksyms::dropin::main());
}
