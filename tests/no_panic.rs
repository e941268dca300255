//! Bad input never panics: every golden object with a symbol list, damaged
//! at seeded places anywhere (the ELF header, the section headers, any
//! debug section or its relocations, or cut short), must make the drop-in
//! exit 0 or 1 as upstream does, with a message on stderr when it fails;
//! never a panic, a signal or a hang. (`tests/damaged.rs` holds the
//! outcomes of damaged `.debug_info` and `.debug_abbrev` to upstream's;
//! this suite reaches the rest of the file, where upstream often crashes
//! and so has no answer to compare with.)

mod common;
#[path = "../queries/tests/common/mod.rs"]
mod engine;

use std::path::PathBuf;
use std::time::Duration;

use common::Status;
use engine::Rng;

const TIMEOUT: Duration = Duration::from_secs(20);
/// Damaged variants per object.
const VARIANTS: usize = 4;

/// The file ranges of the sections the engine may read: debug sections and
/// their relocations, and the symbol table.
fn targets(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(bytes) else { return Vec::new() };
    file.sections()
        .filter(|s| {
            let name = s.name().unwrap_or("");
            [".debug", ".rela.debug", ".rel.debug", ".symtab", ".strtab"].iter().any(|p| name.starts_with(p))
        })
        .filter_map(|s| {
            let (off, size) = s.file_range()?;
            let (off, size) = (usize::try_from(off).ok()?, usize::try_from(size).ok()?);
            (size > 0 && off + size <= bytes.len()).then_some(off..off + size)
        })
        .collect()
}

/// One damaged copy of `bytes`.
fn damage(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let targets = targets(bytes);
    match rng.below(8) {
        // The ELF header.
        0 => {
            let at = rng.below(64.min(b.len()));
            b[at] ^= 1 + rng.below(255) as u8;
        }
        // The section header table, at the end of the objects written here.
        1 => {
            let at = b.len() - 1 - rng.below(512.min(b.len()));
            b[at] ^= 1 + rng.below(255) as u8;
        }
        // Cut short.
        2 => b.truncate(rng.below(b.len())),
        // Bytes of a section the engine reads.
        _ if !targets.is_empty() => {
            let r = &targets[rng.below(targets.len())];
            for _ in 0..[1, 1, 2, 4, 8][rng.below(5)] {
                b[r.start + rng.below(r.len())] ^= 1 + rng.below(255) as u8;
            }
        }
        _ => {
            let at = rng.below(b.len());
            b[at] ^= 1 + rng.below(255) as u8;
        }
    }
    b
}

#[test]
fn damaged_objects_never_panic() {
    let (bin, _) = common::binary();
    let golden = common::shared_subdir("golden");
    let mut objs = Vec::new();
    engine::objects(&golden.join("obj"), &mut objs);
    let cases: Vec<(PathBuf, Vec<u8>, bool)> = objs
        .iter()
        .filter(|o| o.extension().is_some_and(|e| e == "o") && o.with_extension("symbols").is_file())
        .flat_map(|o| {
            let bytes = common::read_data(o);
            let rel = o.strip_prefix(&golden).unwrap().to_string_lossy().into_owned();
            let mut rng = Rng(engine::fnv(&[rel.as_bytes(), b"no_panic"]));
            (0..VARIANTS).map(move |i| (o.clone(), damage(&bytes, &mut rng), i % 2 == 1)).collect::<Vec<_>>()
        })
        .collect();
    assert!(cases.len() > 1500, "only {} cases", cases.len());
    let tmp = common::TempDir::new("no-panic");
    let problems: Vec<String> = common::run_parallel(&cases, |i, (obj, bytes, stable)| {
        let dir = tmp.path().join(i.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("damaged.o"), bytes).unwrap();
        let mut cmd = common::gendwarfksyms(&bin, &dir);
        if *stable {
            cmd.arg("--stable");
        }
        cmd.args(["-T", "damaged.symtypes", "damaged.o"]);
        let out = common::run(&mut cmd, &obj.with_extension("symbols"), TIMEOUT);
        let _ = std::fs::remove_dir_all(&dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let bad = match out.status {
            Status::Exited(0) => stderr.contains("panicked"),
            Status::Exited(1) => stderr.contains("panicked") || stderr.trim().is_empty(),
            _ => true,
        };
        bad.then(|| format!("{} (case {i}): {}; stderr: {}", obj.display(), out.status.describe(), stderr.trim()))
    })
    .into_iter()
    .flatten()
    .collect();
    println!("no_panic: {} damaged objects run", cases.len());
    assert!(problems.is_empty(), "{} of {} cases:\n{}", problems.len(), cases.len(), problems.join("\n"));
}
