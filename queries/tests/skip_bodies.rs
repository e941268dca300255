//! Skipping function bodies (what every run without `--debug` does) must
//! give the same outcome as reading every DIE — versions, symtypes, every
//! stderr byte, errors and the run state — on every golden and corpus
//! object, and on golden objects whose `.debug_info` or `.debug_abbrev`
//! was damaged, where the skipped bytes must fail exactly as reading them
//! fails.

mod common;

use common::{golden, golden_and_corpus, section_range, symbols_or_some, Rng};
use std::path::{Path, PathBuf};

use queries::object::{self as obj, Options, RunState};
use queries::symbols::SymbolTable;

/// An outcome with the DIEs its symbols were matched to kept only as
/// found or not: indices count the DIEs read, and skipped bodies take none
/// (which DIE was chosen shows in the versions, symtypes and log compared).
fn without_die_indices(mut o: obj::ObjectOutcome) -> obj::ObjectOutcome {
    for s in &mut o.state.table.syms {
        s.die = s.die.map(|(obj, _)| (obj, 0));
        s.ptr_die = s.ptr_die.map(|(obj, _)| (obj, 0));
    }
    o
}

/// Both ways of reading, on one object; `None` if they agree.
fn differs(name: &Path, bytes: &[u8], names: &[Vec<u8>], opts: Options) -> Option<String> {
    let globals = obj::global_symbols(bytes);
    let state = || RunState { table: SymbolTable::new(names).0, counters: (0, 0) };
    let n = name.display().to_string().into_bytes();
    let skipping = without_die_indices(obj::process(&n, bytes, &globals, 0, state(), &opts, None));
    let full = without_die_indices(obj::process_reading_every_die(&n, bytes, &globals, 0, state(), &opts));
    (skipping != full).then(|| {
        format!(
            "{} ({opts:?}): outcomes differ\nskipping: {:?}\n{}\nfull: {:?}\n{}",
            name.display(),
            skipping.error,
            String::from_utf8_lossy(&skipping.log),
            full.error,
            String::from_utf8_lossy(&full.log)
        )
    })
}

fn run_all(cases: Vec<(PathBuf, Vec<u8>, Options)>) -> (usize, Vec<String>) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut chunks: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    let total = cases.len();
    for (i, c) in cases.into_iter().enumerate() {
        chunks[i % threads].push(c);
    }
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn(move || {
                    chunk
                        .into_iter()
                        .filter_map(|(path, bytes, opts)| differs(&path, &bytes, &symbols_or_some(&path), opts))
                        .collect::<Vec<_>>()
                })
                .unwrap()
        })
        .collect();
    let failures = handles.into_iter().flat_map(|h| h.join().expect("a run panicked")).collect();
    (total, failures)
}

#[test]
fn skipping_bodies_equals_reading_every_die() {
    let objs = golden_and_corpus();
    let mut cases = Vec::new();
    for o in &objs {
        let bytes = std::fs::read(o).unwrap();
        for stable in [false, true] {
            for symtypes in [false, true] {
                cases.push((o.clone(), bytes.clone(), Options { stable, symtypes, ..Options::default() }));
            }
        }
        // The dumps and type/version dumps without --debug.
        cases.push((
            o.clone(),
            bytes,
            Options { dump_types: true, dump_versions: true, symtypes: true, ..Options::default() },
        ));
    }
    let (total, failures) = run_all(cases);
    println!("skip bodies: {total} runs compared");
    assert!(total > 3000, "only {total} runs compared");
    assert!(failures.is_empty(), "{} of {total} differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn damaged_debug_info_fails_the_same_when_skipped() {
    let objs = golden();
    let mut rng = Rng(0x5eed_b0d1_e500_0001);
    let mut cases = Vec::new();
    for o in &objs {
        let bytes = std::fs::read(o).unwrap();
        let Some(info) = section_range(&bytes, ".debug_info") else { continue };
        let abbrev = section_range(&bytes, ".debug_abbrev");
        let mut variants = Vec::new();
        // Bytes changed in .debug_info (most land in function bodies).
        for n in [1, 1, 1, 3, 8] {
            let mut b = bytes.clone();
            for _ in 0..n {
                b[info.start + rng.below(info.len())] = rng.next() as u8;
            }
            variants.push(b);
        }
        // LEB128 runs that overflow (parsing rejects them, skipping would not).
        let mut b = bytes.clone();
        let at = info.start + rng.below(info.len());
        for x in b[at..info.end].iter_mut().take(11) {
            *x = 0xff;
        }
        variants.push(b);
        // A changed abbreviation (tag, children flag, attribute or form).
        if let Some(a) = abbrev {
            for _ in 0..2 {
                let mut b = bytes.clone();
                b[a.start + rng.below(a.len())] = rng.next() as u8;
                variants.push(b);
            }
        }
        for (i, b) in variants.into_iter().enumerate() {
            let opts = Options { stable: i % 2 == 1, symtypes: true, ..Options::default() };
            cases.push((o.clone(), b, opts));
        }
    }
    let (total, failures) = run_all(cases);
    println!("skip bodies, damaged: {total} runs compared");
    assert!(total > 4000, "only {total} runs compared");
    assert!(failures.is_empty(), "{} of {total} differ:\n{}", failures.len(), failures.join("\n"));
}

/// Bytes changed in the corpus's kernel objects: their references may
/// land, once changed, inside a function body, which makes a skipping read
/// read the unit again in full; outcomes must still be a full read's.
#[test]
fn damaged_kernel_objects_fail_the_same_when_skipped() {
    let corpus: Vec<PathBuf> = golden_and_corpus().into_iter().filter(|p| !golden().contains(p)).collect();
    let mut rng = Rng(0x5eed_b0d1_e500_0002);
    let mut cases = Vec::new();
    for o in &corpus {
        let bytes = std::fs::read(o).unwrap();
        let Some(info) = section_range(&bytes, ".debug_info") else { continue };
        for (i, n) in [1, 2, 4, 16].into_iter().enumerate() {
            let mut b = bytes.clone();
            for _ in 0..n {
                b[info.start + rng.below(info.len())] = rng.next() as u8;
            }
            cases.push((o.clone(), b, Options { stable: i % 2 == 1, symtypes: true, ..Options::default() }));
        }
    }
    let (total, failures) = run_all(cases);
    println!("skip bodies, damaged kernel objects: {total} runs compared");
    assert!(total > 400, "only {total} runs compared");
    assert!(failures.is_empty(), "{} of {total} differ:\n{}", failures.len(), failures.join("\n"));
}
