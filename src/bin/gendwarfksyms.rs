use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// kbuild runs the drop-in once per object: a process that lives 5 to 30 ms
/// and allocates 5 to 15 MB. Faulting that memory in page by page was a
/// third of its CPU time (about 2 us per 4 KiB fault here). mimalloc backs
/// its arena with transparent huge pages where the system allows them
/// (`madvise` mode included), so the same memory comes in a few 2 MiB
/// faults: about a third less CPU time over the ten largest objects of the
/// corpus (benches/compare.py corpus).
///
/// mimalloc gives each thread segments of its own, and the first
/// allocation of a thread zeroes a whole huge page for them. The engine
/// runs on a worker thread (for its stack), so the main thread's few
/// allocations (arguments, the worker's handle) would cost a huge page of
/// their own, about 0.2 ms a run: the first allocations of the process are
/// served from a small static buffer instead, and mimalloc is first called
/// from the worker. mimalloc commits a thread's first segment page by page
/// (without huge pages) unless the thread is the main one; the worker is
/// the one that does the work, so that delay is turned off (`main`).
/// mimalloc is built with 16 KiB small pages (`.cargo/config.toml`): a
/// page per size class in use, at 64 KiB, spread the heap over one or two
/// more huge pages.
#[global_allocator]
static ALLOCATOR: Alloc = Alloc;

struct Alloc;

const EARLY: usize = 64 << 10;

#[repr(C, align(4096))]
struct Early(UnsafeCell<[u8; EARLY]>);

// Only ever handed out in disjoint ranges (`EARLY_USED` is a bump pointer).
unsafe impl Sync for Early {}

static EARLY_BUF: Early = Early(UnsafeCell::new([0; EARLY]));
static EARLY_USED: AtomicUsize = AtomicUsize::new(0);

fn early_range() -> std::ops::Range<usize> {
    let start = EARLY_BUF.0.get() as usize;
    start..start + EARLY
}

/// A block of the static buffer, or null once it has no room for one.
fn early_alloc(layout: Layout) -> *mut u8 {
    let base = EARLY_BUF.0.get() as *mut u8;
    let mut used = EARLY_USED.load(Ordering::Relaxed);
    loop {
        // The buffer is page-aligned: offsets aligned as the layout asks
        // give aligned addresses (alignments above a page go to mimalloc).
        if layout.align() > 4096 {
            return std::ptr::null_mut();
        }
        let start = (used + layout.align() - 1) & !(layout.align() - 1);
        let Some(end) = start.checked_add(layout.size()).filter(|&e| e <= EARLY) else {
            return std::ptr::null_mut();
        };
        match EARLY_USED.compare_exchange_weak(used, end, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return base.wrapping_add(start),
            Err(now) => used = now,
        }
    }
}

unsafe impl GlobalAlloc for Alloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = early_alloc(layout);
        if !p.is_null() {
            return p;
        }
        unsafe { dwarfksyms::alloc::MiAlloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // The static buffer's blocks are never reused: still zero.
        let p = early_alloc(layout);
        if !p.is_null() {
            return p;
        }
        unsafe { dwarfksyms::alloc::MiAlloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Blocks of the static buffer are not reused: the process is short.
        if !early_range().contains(&(ptr as usize)) {
            unsafe { dwarfksyms::alloc::MiAlloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !early_range().contains(&(ptr as usize)) {
            return unsafe { dwarfksyms::alloc::MiAlloc.realloc(ptr, layout, new_size) };
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

fn main() {
    // Before any thread allocates through mimalloc (see `ALLOCATOR`).
    dwarfksyms::alloc::set_option(dwarfksyms::alloc::EAGER_COMMIT_DELAY, 0);
    std::process::exit(dwarfksyms::dropin::main());
}
