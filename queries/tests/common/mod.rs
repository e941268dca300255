//! What the engine's integration tests share: the test data beside the
//! checkout and the objects in it.

#![allow(dead_code)] // each test uses its own part

use std::path::{Path, PathBuf};

/// `../shared` (golden corpus, kernel corpus); fails clearly when absent.
pub fn shared() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("golden/MANIFEST.tsv").is_file(),
        "test data not found: expected the shared directory (golden corpus) at {} \
         (../shared relative to the workspace root)",
        dir.display()
    );
    dir
}

/// Every golden object (good and damaged) and every corpus object: what
/// the tests comparing two ways of running the engine run over.
pub fn golden_and_corpus() -> Vec<PathBuf> {
    let shared = shared();
    let mut objs = Vec::new();
    objects(&shared.join("golden/obj"), &mut objs);
    objects(&shared.join("golden/bad/obj"), &mut objs);
    objects(&shared.join("corpus/kernel-7.2-x86_64"), &mut objs);
    objs
}

/// Every `.o` and `.so` under `dir`, recursively, in path order.
pub fn objects(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            objects(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("o" | "so")) {
            out.push(p);
        }
    }
}

/// An object's `.symbols` list, if it has one.
pub fn symbol_list(obj: &Path) -> Option<Vec<Vec<u8>>> {
    let b = std::fs::read(obj.with_extension("symbols")).ok()?;
    Some(b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect())
}

/// An object's symbol list, or a few names for objects without one
/// (damaged inputs).
pub fn symbols_or_some(obj: &Path) -> Vec<Vec<u8>> {
    symbol_list(obj).unwrap_or_else(|| vec![b"bt_int".to_vec(), b"main".to_vec()])
}
