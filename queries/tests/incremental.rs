//! Incremental recomputation, counted: which queries execute (salsa's
//! `WillExecute` events, recorded by `Database::with_log`) when objects are
//! rewritten the way a build rewrites them.
//!
//! The objects are compiled here, with the machine's `cc`, from the small
//! sources in `tests/data/incremental/` (see its README): `inc_a.o` and
//! `inc_b.o` share `struct inc_dev`, `inc_c.o` does not.
//!
//! The query shape these counts reflect (queries/src/db.rs), in the mode
//! `dwarfksyms watch` runs (`Options::defer_versions`, no `--stable`): per
//! object, `object_exports(obj)` and `global_symbols(obj)` read the bytes,
//! `object_pass(obj, step)` is upstream's ordered pass (parse, DWARF,
//! expansion, the type map) and reads the bytes too, and `export_versions(obj,
//! options)` reads `object_exports` and `object_pass` and asks
//! `symbol_version(key)` for each symbol, keyed by the content of the
//! symbol's text and of every type it reaches. A new value for an object's
//! bytes therefore re-runs its three byte-reading queries; early cut-off (an
//! equal result) is what stops `export_versions`, and the content key is what
//! stops `symbol_version` for symbols that reach no changed type (in this
//! object or any other).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use queries::bytes::Bytes;
use queries::db::{self, Database, ObjectFile};
use queries::object::Options;

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("dwarfksyms-incremental-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/incremental")
}

/// Compiles `src` (a file of tests/data/incremental) with `defines` into
/// `dir/out` and returns the object's bytes. Every variant of a source is
/// compiled from the same path in the same directory, so only what the
/// defines change differs.
fn compile(dir: &Path, src: &str, out: &str, defines: &[&str]) -> Bytes {
    let srcdir = sources();
    let obj = dir.join(out);
    let status = Command::new("cc")
        .args(["-g", "-c", "-O2", "-std=gnu11", "-ffreestanding"])
        .args(defines)
        .arg("-I")
        .arg(srcdir.join("include"))
        .arg(srcdir.join(src))
        .arg("-o")
        .arg(&obj)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run cc (a C compiler is needed for these tests): {e}"));
    assert!(status.success(), "cc {src} {defines:?} failed");
    std::fs::read(&obj).unwrap().into()
}

/// Links `objs` (in `dir`) into one relocatable object, as kbuild links
/// `vmlinux.o` or a module made of several files, and returns its bytes.
fn link(dir: &Path, objs: &[&str], out: &str) -> Bytes {
    let status = Command::new("ld")
        .arg("-r")
        .args(objs)
        .arg("-o")
        .arg(out)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run ld (binutils are needed for these tests): {e}"));
    assert!(status.success(), "ld -r {objs:?} failed");
    std::fs::read(dir.join(out)).unwrap().into()
}

/// A database that logs executions, and the log.
struct Logged {
    db: Database,
    log: Arc<Mutex<Vec<String>>>,
}

impl Logged {
    fn new() -> Logged {
        let log = Arc::new(Mutex::new(Vec::new()));
        Logged { db: Database::with_log(log.clone()), log }
    }

    /// The executions since the last call, as `query(Id(..))` strings.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Adds an object and versions it; returns the keys its queries
    /// executed under (to tell later which object an execution was for).
    fn add(&self, name: &str, bytes: Bytes) -> (ObjectFile, BTreeSet<String>) {
        let (obj, keys, _) = self.add_counting(name, bytes);
        (obj, keys)
    }

    /// [`Logged::add`], also returning how many symbol versions executed.
    fn add_counting(&self, name: &str, bytes: Bytes) -> (ObjectFile, BTreeSet<String>, usize) {
        let obj = ObjectFile::new(&self.db, name.as_bytes().to_vec(), bytes);
        self.take();
        db::export_versions(&self.db, obj, watch()).as_ref().unwrap();
        let log = self.take();
        // The first versioning of an object runs each of its four queries
        // once, and versions each export whose content is new.
        let mut c = counts(&log);
        let symbols = c.remove("symbol_version").unwrap_or(0);
        assert_eq!(c, expected(1, 1, 1, 1), "{name}: {log:?}");
        let keys: BTreeSet<String> = log.into_iter().filter(|e| !e.starts_with("symbol_version")).collect();
        (obj, keys, symbols)
    }

    /// symbol -> CRC for every object, querying all of them (the watcher
    /// only asks about rewritten objects; asking about all of them checks
    /// that the others' memos are still valid).
    fn versions(&self, objs: &[ObjectFile]) -> BTreeMap<String, u32> {
        let mut out = BTreeMap::new();
        for &obj in objs {
            let v = db::export_versions(&self.db, obj, watch()).as_ref().unwrap();
            for x in &v.exports {
                out.insert(String::from_utf8(x.export.name.clone()).unwrap(), x.crc.expect("CRC"));
            }
        }
        out
    }
}

/// The options `dwarfksyms watch` versions with (no `--stable`).
fn watch() -> Options {
    Options { defer_versions: true, ..Options::default() }
}

/// Executions per query name.
fn counts(log: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in log {
        let name = e.split('(').next().unwrap().to_string();
        *m.entry(name).or_insert(0) += 1;
    }
    m
}

fn expected(exports: usize, globals: usize, pass: usize, versions: usize) -> BTreeMap<String, usize> {
    expected_symbols(exports, globals, pass, versions, 0)
}

fn expected_symbols(
    exports: usize,
    globals: usize,
    pass: usize,
    versions: usize,
    symbols: usize,
) -> BTreeMap<String, usize> {
    [
        ("object_exports", exports),
        ("global_symbols", globals),
        ("object_pass", pass),
        ("export_versions", versions),
        ("symbol_version", symbols),
    ]
    .into_iter()
    .filter(|&(_, n)| n > 0)
    .map(|(k, n)| (k.to_string(), n))
    .collect()
}

/// Asserts every per-object execution in `log` was one of `keys` (the
/// queries of the objects that were rewritten); `symbol_version` is keyed
/// by content, not by object, and is counted instead.
fn only_for(log: &[String], keys: &[&BTreeSet<String>]) {
    for e in log.iter().filter(|e| !e.starts_with("symbol_version")) {
        assert!(keys.iter().any(|k| k.contains(e)), "{e} executed for an object that was not rewritten: {log:?}");
    }
}

#[test]
fn same_bytes_execute_nothing() {
    let dir = TempDir::new("same");
    let a = compile(&dir.0, "inc_a.c", "inc_a.o", &[]);
    let b = compile(&dir.0, "inc_b.c", "inc_b.o", &[]);
    let mut l = Logged::new();
    let (oa, keys_a) = l.add("inc_a.o", a.clone());
    let (ob, _) = l.add("inc_b.o", b.clone());
    let before = l.versions(&[oa, ob]);
    assert!(l.take().is_empty());

    // The file is rewritten with the same bytes (a fresh copy, not the same
    // allocation): update_bytes compares and leaves the input alone.
    let copy: Bytes = a.load().unwrap().to_vec().into();
    assert!(!db::update_bytes(&mut l.db, oa, copy.clone()));
    assert_eq!(l.versions(&[oa, ob]), before);
    assert_eq!(l.take(), Vec::<String>::new(), "no parse, expansion or version query may run");

    // Why the comparison is needed: salsa does not compare input values,
    // so setting equal bytes re-runs the three queries that read them
    // (symbol table, exports, the whole pass); the pass's result is equal,
    // so export_versions is cut off.
    {
        use salsa::Setter;
        oa.set_bytes(&mut l.db).to(copy);
    }
    assert_eq!(l.versions(&[oa, ob]), before);
    let log = l.take();
    assert_eq!(counts(&log), expected(1, 1, 1, 0), "{log:?}");
    only_for(&log, &[&keys_a]);
}

#[test]
fn rewriting_one_object_of_many_executes_its_queries_only() {
    let dir = TempDir::new("many");
    let a = compile(&dir.0, "inc_a.c", "inc_a.o", &[]);
    let a_wide = compile(&dir.0, "inc_a.c", "inc_a_wide.o", &["-DINC_WIDE_FLAGS"]);
    let b = compile(&dir.0, "inc_b.c", "inc_b.o", &[]);
    let c = compile(&dir.0, "inc_c.c", "inc_c.o", &[]);
    let mut l = Logged::new();
    // Twelve objects: four copies of each (distinct inputs, as distinct
    // paths of a tree would be).
    let mut objs = Vec::new();
    let mut keys = Vec::new();
    for n in 0..4 {
        for (name, bytes, exports) in [("inc_a", &a, 2), ("inc_b", &b, 2), ("inc_c", &c, 1)] {
            let (o, k, symbols) = l.add_counting(&format!("{n}/{name}.o"), bytes.clone());
            // Versions are keyed by content: the copies reuse the first's.
            assert_eq!(symbols, if n == 0 { exports } else { 0 }, "{n}/{name}.o");
            objs.push(o);
            keys.push(k);
        }
    }
    l.versions(&objs);
    assert!(l.take().is_empty());

    // Rewrite 2/inc_a.o (index 6) with a type change: its queries run, and
    // one symbol is versioned again (inc_a_open reaches the change,
    // inc_a_plain does not).
    assert!(db::update_bytes(&mut l.db, objs[6], a_wide));
    l.versions(&objs);
    let log = l.take();
    assert_eq!(counts(&log), expected_symbols(1, 1, 1, 1, 1), "{log:?}");
    only_for(&log, &[&keys[6]]);
}

#[test]
fn struct_member_change_in_shared_header() {
    let dir = TempDir::new("header");
    let a = compile(&dir.0, "inc_a.c", "inc_a.o", &[]);
    let b = compile(&dir.0, "inc_b.c", "inc_b.o", &[]);
    let c = compile(&dir.0, "inc_c.c", "inc_c.o", &[]);
    let a_wide = compile(&dir.0, "inc_a.c", "inc_a_wide.o", &["-DINC_WIDE_FLAGS"]);
    let b_wide = compile(&dir.0, "inc_b.c", "inc_b_wide.o", &["-DINC_WIDE_FLAGS"]);
    let c_again = compile(&dir.0, "inc_c.c", "inc_c_again.o", &["-DINC_WIDE_FLAGS"]);
    assert_eq!(c, c_again, "inc_c.c does not include inc_dev.h: same object");

    let mut l = Logged::new();
    let (oa, keys_a) = l.add("inc_a.o", a);
    let (ob, keys_b) = l.add("inc_b.o", b);
    let (oc, _) = l.add("inc_c.o", c);
    let objs = [oa, ob, oc];
    let before = l.versions(&objs);
    assert!(l.take().is_empty());

    // `flags` of struct inc_dev changes type; make rewrites inc_a.o and
    // inc_b.o (both include the header) and leaves inc_c.o alone (or
    // rewrites it with the same bytes).
    assert!(db::update_bytes(&mut l.db, oa, a_wide));
    assert!(db::update_bytes(&mut l.db, ob, b_wide));
    assert!(!db::update_bytes(&mut l.db, oc, c_again));
    let after = l.versions(&objs);
    let log = l.take();

    // Both rewritten objects run their ordered pass again (it renders the
    // object: upstream's cache and type map are per object, so the pass is
    // the unit of rendering) and gather their exports again; the third
    // object runs nothing. Of the four exports of the rewritten objects,
    // only the two that reach struct inc_dev (inc_a_open, inc_b_flags) are
    // versioned again: inc_a_plain and inc_b_reset have the same content
    // keys as before, so their versions are reused.
    assert_eq!(counts(&log), expected_symbols(2, 2, 2, 2, 2), "{log:?}");
    only_for(&log, &[&keys_a, &keys_b]);

    // The CRCs: exactly the exports reaching the struct change.
    let changed: BTreeSet<&str> = before.keys().filter(|k| before[*k] != after[*k]).map(String::as_str).collect();
    assert_eq!(changed, BTreeSet::from(["inc_a_open", "inc_b_flags"]), "{before:x?} -> {after:x?}");
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
}

#[test]
fn function_body_change_reruns_no_version_query() {
    let dir = TempDir::new("body");
    let a = compile(&dir.0, "inc_a.c", "inc_a.o", &[]);
    let a_body = compile(&dir.0, "inc_a.c", "inc_a_body.o", &["-DINC_BODY_V2"]);
    let b = compile(&dir.0, "inc_b.c", "inc_b.o", &[]);
    assert_ne!(a, a_body, "the new body must change the object");

    let mut l = Logged::new();
    let (oa, keys_a) = l.add("inc_a.o", a);
    let (ob, _) = l.add("inc_b.o", b);
    let before = l.versions(&[oa, ob]);
    assert!(l.take().is_empty());

    assert!(db::update_bytes(&mut l.db, oa, a_body));
    let after = l.versions(&[oa, ob]);
    let log = l.take();
    // The object's bytes changed, so its symbol table, export list and pass
    // run again; the pass's result (versions, state, log) is equal, so
    // salsa's early cut-off stops there: export_versions does not run.
    assert_eq!(counts(&log), expected(1, 1, 1, 0), "{log:?}");
    only_for(&log, &[&keys_a]);
    assert_eq!(before, after, "no CRC may change");
}

/// Unit renderings are shared by content (`UnitCache`): when a relinked
/// object changed in one unit, the pass renders that unit and finds the
/// others; an object holding the same unit as another (a `.o` and the
/// object linked from it) renders it once.
#[test]
fn relinked_object_renders_only_changed_units() {
    use queries::unitcache::{Stats, UnitCache};
    let dir = TempDir::new("relink");
    compile(&dir.0, "inc_a.c", "inc_a.o", &[]);
    compile(&dir.0, "inc_b.c", "inc_b.o", &[]);
    let c = compile(&dir.0, "inc_c.c", "inc_c.o", &[]);
    let all = link(&dir.0, &["inc_a.o", "inc_b.o", "inc_c.o"], "all.o");
    let cache = Arc::new(UnitCache::default());
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut l = Logged { db: Database::with_log(log.clone()).sharing_renders(cache.clone()), log };
    let since = |s: &mut Stats| {
        let now = cache.stats();
        let d = (now.misses - s.misses, now.hits - s.hits);
        *s = now;
        d
    };
    let mut s = Stats::default();
    let (oall, keys_all) = l.add("all.o", all);
    assert_eq!(since(&mut s), (3, 0), "three units with exports, each rendered");
    let before = l.versions(&[oall]);
    assert_eq!(before.len(), 5);

    // inc_c.o alone holds the same unit with the same exports: found.
    let (oc, _) = l.add("inc_c.o", c);
    assert_eq!(since(&mut s), (0, 1), "inc_c.o's unit was rendered for all.o");
    assert_eq!(l.versions(&[oc])["inc_c_count"], before["inc_c_count"]);

    // A body edited in inc_a.c, and the object relinked: the pass runs
    // again, but renders nothing: bodies are not read (nothing upstream
    // prints depends on them), so every unit is as it was.
    compile(&dir.0, "inc_a.c", "inc_a.o", &["-DINC_BODY_V2"]);
    let relinked = link(&dir.0, &["inc_a.o", "inc_b.o", "inc_c.o"], "all.o");
    assert!(db::update_bytes(&mut l.db, oall, relinked));
    l.take();
    assert_eq!(l.versions(&[oall]), before, "a body change changes no version");
    let log = l.take();
    only_for(&log, &[&keys_all]);
    assert_eq!(since(&mut s), (0, 3), "no unit changed: {log:?}");

    // A struct member changed in a header two units include: those two
    // are rendered, inc_c's is found.
    compile(&dir.0, "inc_a.c", "inc_a.o", &["-DINC_WIDE_FLAGS"]);
    compile(&dir.0, "inc_b.c", "inc_b.o", &["-DINC_WIDE_FLAGS"]);
    let wide = link(&dir.0, &["inc_a.o", "inc_b.o", "inc_c.o"], "all.o");
    assert!(db::update_bytes(&mut l.db, oall, wide));
    l.versions(&[oall]);
    assert_eq!(since(&mut s), (2, 1));
}

#[test]
fn let_go_bytes_are_read_again_from_their_file() {
    let dir = TempDir::new("letgo");
    let a = compile(&dir.0, "inc_a.c", "inc_a.o", &[]).load().unwrap().to_vec();
    let b = compile(&dir.0, "inc_b.c", "inc_b.o", &[]).load().unwrap().to_vec();
    let path = dir.0.join("inc_a.o");
    let mut l = Logged::new();
    let obj = ObjectFile::new(&l.db, b"inc_a.o".to_vec(), Bytes::from_file(path.clone(), a.clone()));
    let before = l.versions(&[obj]);
    assert!(obj.bytes(&l.db).let_go());
    l.take();

    // Memoized queries do not need the bytes: letting them go wrote nothing.
    assert_eq!(l.versions(&[obj]), before);
    assert_eq!(l.take(), Vec::<String>::new());

    // A query that has not run (other options: a pass of its own) reads the
    // file again, and gives what the bytes held in memory give.
    let other = Options { symtypes: true, ..watch() };
    let reread = db::export_versions(&l.db, obj, other).clone().unwrap();
    assert_eq!(counts(&l.take()).get("object_pass"), Some(&1));
    let held = Logged::new();
    let fresh = ObjectFile::new(&held.db, b"inc_a.o".to_vec(), a.clone().into());
    assert_eq!(&reread, db::export_versions(&held.db, fresh, other).as_ref().unwrap());

    // The file changed before the watcher saw it: the query fails, naming it,
    // rather than computing from other bytes than the input's.
    std::fs::write(&path, &b).unwrap();
    let stable = Options { stable: true, ..other };
    let err = db::export_versions(&l.db, obj, stable).clone().unwrap_err();
    assert!(err.message.contains("inc_a.o") && err.message.contains("changed since it was read"), "{err}");

    // The build writes the old bytes back (a rebuild with the same result):
    // the watcher sees the same digest, but the memoized error must go.
    std::fs::write(&path, &a).unwrap();
    assert!(db::update_bytes(&mut l.db, obj, Bytes::from_file(path.clone(), a.clone())));
    let fresh_a = ObjectFile::new(&held.db, b"inc_a.o".to_vec(), a.clone().into());
    assert_eq!(db::export_versions(&l.db, obj, stable), db::export_versions(&held.db, fresh_a, stable));
    assert!(
        !db::update_bytes(&mut l.db, obj, Bytes::from_file(path.clone(), a.clone())),
        "set again only after a failure"
    );

    // The watcher gives the input new bytes: versions follow them.
    std::fs::write(&path, &b).unwrap();
    assert!(db::update_bytes(&mut l.db, obj, Bytes::from_file(path, b.clone())));
    let fresh_b = ObjectFile::new(&held.db, b"inc_b.o".to_vec(), b.into());
    assert_eq!(db::export_versions(&l.db, obj, stable), db::export_versions(&held.db, fresh_b, stable));
}
