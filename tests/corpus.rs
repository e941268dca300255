//! Real-kernel conformance test: for every object `X.o` listed in
//! `../shared/corpus/kernel-7.2-x86_64/objects.txt`,
//! `gendwarfksyms -T tmp X.o < X.symbols` (run in that directory) must exit
//! 0, print `X.symver` and write `X.symtypes`, byte for byte, as upstream
//! gendwarfksyms does. (An object named `X.gendwarfksyms.o` uses the files
//! named for `X.o`.)
//!
//! Cases not passing yet are listed in `tests/corpus-known-failures.txt`
//! (the ratchet: see `tests/common/mod.rs` for it and the environment
//! variables). Run a subset with `DWARFKSYMS_CORPUS_MATCH=<substring>`.

mod common;

use common::{KernelCase, Suite};

/// Per-case timeout, seconds (the largest objects are a few MB).
const TIMEOUT_SECS: u64 = 60;

#[test]
fn corpus() {
    let suite = Suite::new("corpus");
    let dir = common::shared_subdir("corpus/kernel-7.2-x86_64");
    let list = dir.join("objects.txt");
    let text =
        String::from_utf8(common::read_data(&list)).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", list.display()));
    let cases: Vec<KernelCase> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|obj| KernelCase::new(obj, &dir, obj))
        .collect();
    suite.run_kernel_cases(cases, TIMEOUT_SECS);
}
