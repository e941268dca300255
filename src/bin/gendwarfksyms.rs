/// kbuild runs the drop-in once per object: a process that lives 5 to 30 ms
/// and allocates 5 to 15 MB. Faulting that memory in page by page was a
/// third of its CPU time (about 2 us per 4 KiB fault here). mimalloc backs
/// its arena with transparent huge pages where the system allows them
/// (`madvise` mode included), so the same memory comes in a few 2 MiB
/// faults: about a third less CPU time over the ten largest objects of the
/// corpus (benches/compare.py corpus).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(dwarfksyms::dropin::main());
}
