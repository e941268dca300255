//! Golden conformance test: runs `gendwarfksyms` over every case of
//! `../shared/golden/MANIFEST.tsv` the way `../shared/golden/README.md`
//! ("Running a case") describes and compares with the recorded outputs of
//! upstream gendwarfksyms.
//!
//! Cases not passing yet are listed in `tests/golden-known-failures.txt`
//! (the ratchet: see `tests/common/mod.rs` for it and the environment
//! variables). Cases tagged `libdw-0.188-*` record limitations of the libdw
//! the reference was linked with (it reads neither zstd sections nor MIPS
//! DWARF sections); we read both, so those cases get other expectations:
//! a zstd object must give exactly the outputs of the same fixture in
//! `x86_64-gcc-dwarf5-O2` (they are those objects recompressed), and a MIPS
//! object must exit 0 with the outputs recorded in `tests/data/golden-mips/`
//! (ours, reviewed by hand: they equal the other 32-bit targets' but for
//! the target's sizes). Cases tagged `crash` record the reference
//! dying of SIGSEGV; they pass when the run fails cleanly: non-zero exit
//! status other than 139, not killed by a signal, no panic, empty stdout,
//! and a message on stderr naming an object file.
//!
//! Run a subset with `DWARFKSYMS_GOLDEN_MATCH=<substring of the case id>`.

mod common;

use common::manifest::{parse_manifest, run_suite, substitute_libdw_cases};
use common::Suite;

#[test]
fn golden() {
    let suite = Suite::new("golden");
    let golden = common::shared_subdir("golden");
    let manifest = golden.join("MANIFEST.tsv");
    assert!(manifest.is_file(), "missing {}", manifest.display());
    let mut all = parse_manifest(&manifest);
    substitute_libdw_cases(&mut all);
    run_suite(&suite, all, &golden);
}
