//! Hostile bytes: every golden object, truncated and mutated at seeded
//! offsets, must give an error or a result — never a panic, a stack
//! overflow or a hang (each run must finish within a second).

mod common;

use common::{objects, shared, symbols_or_some, Rng};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use queries::db::{self, Database, ObjectFile};
use queries::object::Options;
use queries::symbols::SymbolTable;

fn variants(bytes: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(bytes[..rng.below(bytes.len())].to_vec());
    }
    for _ in 0..4 {
        let mut b = bytes.to_vec();
        for _ in 0..1 + rng.below(16) {
            let at = rng.below(b.len());
            if let Some(x) = b.get_mut(at) {
                *x = rng.next() as u8;
            }
        }
        out.push(b);
    }
    // A run of garbage over one place (headers, offsets, lengths).
    let mut b = bytes.to_vec();
    let at = rng.below(b.len());
    for x in b.iter_mut().skip(at).take(64) {
        *x = rng.next() as u8;
    }
    out.push(b);
    out
}

#[test]
fn mutated_golden_objects_never_panic_or_hang() {
    let root = shared().join("golden");
    let mut objs = Vec::new();
    objects(&root.join("obj"), &mut objs);
    objects(&root.join("bad"), &mut objs);
    assert!(objs.len() > 600, "expected the golden objects, found {}", objs.len());

    let mut rng = Rng(0x5eed_d1ff_0000_0003);
    let mut cases = Vec::new();
    for obj in &objs {
        let bytes = std::fs::read(obj).unwrap();
        for v in variants(&bytes, &mut rng) {
            cases.push((obj.clone(), v));
        }
    }
    let total = cases.len();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<(PathBuf, Vec<u8>)>> = {
        let mut c: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, case) in cases.into_iter().enumerate() {
            c[i % threads].push(case);
        }
        c
    };
    let mut failures = Vec::new();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            // Deep DWARF recursion is bounded, but bounded deep: give it room.
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn(move || {
                    let mut slow = Vec::new();
                    for (obj, bytes) in chunk {
                        let names = symbols_or_some(&obj);
                        for stable in [false, true] {
                            let start = Instant::now();
                            let db = Database::default();
                            let file =
                                ObjectFile::new(&db, obj.display().to_string().into_bytes(), bytes.clone().into());
                            let (table, _) = SymbolTable::new(&names);
                            let opts = Options { stable, symtypes: true, ..Options::default() };
                            let run = db::run(&db, &[file], table, opts);
                            assert_eq!(run.outcomes.len(), 1);
                            let took = start.elapsed();
                            if took > Duration::from_secs(1) {
                                slow.push(format!(
                                    "{} ({} bytes, stable={stable}): {took:?}",
                                    obj.display(),
                                    bytes.len()
                                ));
                            }
                        }
                    }
                    slow
                })
                .unwrap()
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok(slow) => failures.extend(slow),
            Err(_) => failures.push("a run panicked (see the message above)".to_string()),
        }
    }
    println!("mutation: {} variants of {} objects, {} failures", total, objs.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
