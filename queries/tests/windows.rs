//! Reading one unit at a time (the default) and reading every unit up front
//! (what a reference across units forces) must give the same outcome —
//! versions, symtypes, every stderr byte and the debug counters — on every
//! golden object, in every mode that prints something different. So must
//! rendering units on several threads (what large objects get).

mod common;

use common::{golden, golden_and_corpus, symbol_list};

use queries::db::{self, Database, ObjectFile};
use queries::object::Options;
use queries::symbols::SymbolTable;

#[test]
fn one_unit_at_a_time_equals_all_units() {
    let objs = golden();
    let modes = [
        Options { symtypes: true, ..Options::default() },
        Options { stable: true, symtypes: true, debug: true, dump_dies: true, ..Options::default() },
        Options { debug: true, dump_types: true, dump_versions: true, symtypes: true, ..Options::default() },
    ];
    let mut compared = 0;
    for obj in &objs {
        let Some(names) = symbol_list(obj) else { continue };
        let bytes = std::fs::read(obj).unwrap();
        for mode in modes {
            let outcome = |all_units: bool| {
                let db = Database::default();
                let file = ObjectFile::new(&db, obj.display().to_string().into_bytes(), bytes.clone().into());
                let (table, _) = SymbolTable::new(&names);
                db::run(&db, &[file], table, Options { all_units, ..mode }).outcomes
            };
            assert!(outcome(false) == outcome(true), "{} in mode {mode:?}: outcomes differ", obj.display());
            compared += 1;
        }
    }
    println!("windows: {compared} runs compared");
    assert!(compared > 1500, "only {compared} runs compared");
}

#[test]
fn units_on_several_threads_equal_one_thread() {
    let objs = golden_and_corpus();
    let mut compared = 0;
    for obj in &objs {
        let Some(names) = symbol_list(obj) else { continue };
        let bytes = std::fs::read(obj).unwrap();
        for stable in [false, true] {
            let outcome = |split_units: bool| {
                let db = Database::default();
                let file = ObjectFile::new(&db, obj.display().to_string().into_bytes(), bytes.clone().into());
                let (table, _) = SymbolTable::new(&names);
                let opts = Options { stable, symtypes: true, split_units, ..Options::default() };
                db::run(&db, &[file], table, opts).outcomes
            };
            let (mut a, mut b) = (outcome(false), outcome(true));
            // After an error upstream exits: the run state is not used
            // (and matching may have gone further on the threaded path).
            for o in a.iter_mut().chain(b.iter_mut()).filter(|o| o.error.is_some()) {
                o.state.table = SymbolTable::new(&[]).0;
            }
            assert!(
                a == b,
                "{} (stable: {stable}): outcomes differ:\n{:?}\n{:?}\n{}\n{}",
                obj.display(),
                a.iter().map(|o| &o.error).collect::<Vec<_>>(),
                b.iter().map(|o| &o.error).collect::<Vec<_>>(),
                a.iter().map(|o| String::from_utf8_lossy(&o.log).into_owned()).collect::<String>(),
                b.iter().map(|o| String::from_utf8_lossy(&o.log).into_owned()).collect::<String>(),
            );
            compared += 1;
        }
    }
    println!("split units: {compared} runs compared");
    assert!(compared > 1400, "only {compared} runs compared");
}

/// `dwarfksyms watch` leaves versions to salsa's content-keyed
/// `symbol_version` (`Options::defer_versions`); the CRCs, the symbol
/// states, the symtypes block and any failure must be what the pass gives
/// when it computes them itself, on every golden and corpus object (the
/// corpus has objects with hundreds of symbols, which the pass versions on
/// several threads). All objects share one database, so equal content keys
/// across objects are reused, as they are in a watched tree.
#[test]
fn deferred_versions_equal_the_pass() {
    let objs = golden_and_corpus();
    let db = Database::default();
    let (mut compared, mut symbols) = (0, 0);
    for obj in &objs {
        let Some(names) = symbol_list(obj) else { continue };
        let bytes = std::fs::read(obj).unwrap();
        let file = ObjectFile::new(&db, obj.display().to_string().into_bytes(), bytes.into());
        let result = |defer_versions: bool| {
            let opts = Options { symtypes: true, defer_versions, ..Options::default() };
            db::versioned_pass(&db, file, SymbolTable::new(&names).0, opts).map(|(table, out)| {
                let states: Vec<_> = table.syms.iter().map(|s| (s.name.clone(), s.state, s.crc)).collect();
                (states, out.symtypes.clone(), out.log.clone())
            })
        };
        let (pass, deferred) = (result(false), result(true));
        assert!(pass == deferred, "{}: deferred versions differ:\n{pass:?}\n{deferred:?}", obj.display());
        if let Ok((states, ..)) = &pass {
            symbols += states.len();
        }
        compared += 1;
    }
    println!("deferred versions: {compared} objects, {symbols} symbols compared");
    assert!(compared > 700 && symbols > 5000, "only {compared} objects, {symbols} symbols compared");
}

/// Unit renderings shared by content (`UnitCache`, what `versions`,
/// `watch` and `diff` use) must not change an outcome: every golden and
/// corpus object, run once with a cache all objects share and then again
/// (now finding every unit it rendered), gives what a run without one
/// gives, in both modes the cache keys on.
#[test]
fn shared_renders_equal_the_pass() {
    use queries::unitcache::UnitCache;
    use std::sync::Arc;
    let objs = golden_and_corpus();
    let cache = Arc::new(UnitCache::default());
    let mut compared = 0;
    for obj in &objs {
        let Some(names) = symbol_list(obj) else { continue };
        let bytes = std::fs::read(obj).unwrap();
        for stable in [false, true] {
            let outcome = |db: Database| {
                let file = ObjectFile::new(&db, obj.display().to_string().into_bytes(), bytes.clone().into());
                let (table, _) = SymbolTable::new(&names);
                let mut out =
                    db::run(&db, &[file], table, Options { stable, symtypes: true, ..Options::default() }).outcomes;
                // After an error the run state is not used (and matching may
                // have gone further on the shared path, as on threads).
                for o in out.iter_mut().filter(|o| o.error.is_some()) {
                    o.state.table = SymbolTable::new(&[]).0;
                }
                out
            };
            let plain = outcome(Database::default());
            let first = outcome(Database::default().sharing_renders(cache.clone()));
            let before = cache.stats();
            let again = outcome(Database::default().sharing_renders(cache.clone()));
            let after = cache.stats();
            let name = obj.display();
            assert!(plain == first, "{name} (stable: {stable}): outcome differs with a shared cache");
            assert!(plain == again, "{name} (stable: {stable}): outcome differs when its units are found");
            // Run again, an object that did not fail renders nothing.
            if plain.iter().all(|o| o.error.is_none()) {
                assert_eq!(after.misses, before.misses, "{name} (stable: {stable}): a unit was rendered again");
            }
            compared += 1;
        }
    }
    let s = cache.stats();
    println!("shared renders: {compared} runs compared, {s:?}");
    assert!(compared > 1400, "only {compared} runs compared");
    // Every object ran twice with the cache: at least half of the lookups hit.
    assert!(s.hits >= s.misses, "{s:?}");
}
