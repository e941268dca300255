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

/// Every golden object, good and damaged.
pub fn golden() -> Vec<PathBuf> {
    let shared = shared();
    let mut objs = Vec::new();
    objects(&shared.join("golden/obj"), &mut objs);
    objects(&shared.join("golden/bad/obj"), &mut objs);
    objs
}

/// Every golden object (good and damaged) and every corpus object: what
/// the tests comparing two ways of running the engine run over.
pub fn golden_and_corpus() -> Vec<PathBuf> {
    let mut objs = golden();
    objects(&shared().join("corpus/kernel-7.2-x86_64"), &mut objs);
    objs
}

/// The files of `dir` (not recursively) that `keep` takes, in path order.
pub fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| keep(p))
        .collect();
    files.sort();
    files
}

/// A file's bytes; panics naming the file.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The file range of a section stored uncompressed, if it has bytes.
pub fn section_range(bytes: &[u8], name: &str) -> Option<std::ops::Range<usize>> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bytes).ok()?;
    let s = file.section_by_name(name)?;
    let (off, size) = s.file_range()?;
    let (off, size) = (usize::try_from(off).ok()?, usize::try_from(size).ok()?);
    (size > 0 && matches!(s.compressed_file_range().ok()?.format, object::CompressionFormat::None))
        .then_some(off..off + size)
}

/// FNV-1a, 64 bits, over `parts` (each closed by 0xff): a stable digest,
/// and a seed for [`Rng`] from a case's name (std's hashers may change
/// between releases).
pub fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for &b in p.iter().chain(&[0xff]) {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// splitmix64: small, seedable, good enough to pick offsets.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
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
