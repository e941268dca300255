//! Kernel objects shipped in the repository (`tests/data/kernel/`, copied
//! from the shared corpus): `gendwarfksyms -T tmp tests/data/kernel/X.o <
//! tests/data/kernel/X.symbols`, run from the workspace root, must exit 0,
//! print `X.symver` and write `X.symtypes` byte for byte. Unlike the golden
//! and corpus tests this one needs nothing outside the checkout.
//!
//! Cases not passing yet are listed in `tests/shipped-known-failures.txt`
//! (the ratchet: see `tests/common/mod.rs` for it and the environment
//! variables). Run a subset with `DWARFKSYMS_SHIPPED_MATCH=<substring>`.

mod common;

use common::{KernelCase, Suite};

/// Per-case timeout, seconds.
const TIMEOUT_SECS: u64 = 10;

#[test]
fn shipped() {
    let suite = Suite::new("shipped");
    let root = common::workspace_root();
    let rel = "tests/data/kernel";
    let dir = root.join(rel);
    let mut objects: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".o"))
        .collect();
    objects.sort();
    let cases: Vec<KernelCase> = objects.iter().map(|o| KernelCase::new(o, &root, &format!("{rel}/{o}"))).collect();
    suite.run_kernel_cases(cases, TIMEOUT_SECS);
}
