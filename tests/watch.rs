//! `dwarfksyms watch --format json`, end to end: the binary watches a
//! temporary directory of objects compiled here (with `cc`, from
//! `tests/data/incremental/`) while the test rewrites, truncates, deletes,
//! renames and mass-copies objects the way a build does, and reads the
//! lines it prints. Expected CRCs come from `dwarfksyms versions`.
//!
//! Every wait is bounded and the child is always killed (on drop).

mod common;

use common::TempDir;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles tests/data/incremental/`src` with `defines` into `dir/out`;
/// returns its bytes.
fn compile(dir: &Path, src: &str, out: &str, defines: &[&str]) -> Vec<u8> {
    let srcdir = repo().join("tests/data/incremental");
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
    std::fs::read(&obj).unwrap()
}

/// The objects of a test, compiled into `build/` (not watched).
struct Objects {
    a: Vec<u8>,
    a_wide: Vec<u8>,
    b: Vec<u8>,
    b_wide: Vec<u8>,
    c: Vec<u8>,
    /// symbol -> CRC, per variant name ("a", "a_wide", ...), from `dwarfksyms versions`.
    crcs: BTreeMap<&'static str, BTreeMap<String, String>>,
}

fn objects(build: &Path) -> Objects {
    std::fs::create_dir_all(build).unwrap();
    let variants: [(&'static str, &str, &[&str]); 5] = [
        ("a", "inc_a.c", &[]),
        ("a_wide", "inc_a.c", &["-DINC_WIDE_FLAGS"]),
        ("b", "inc_b.c", &[]),
        ("b_wide", "inc_b.c", &["-DINC_WIDE_FLAGS"]),
        ("c", "inc_c.c", &[]),
    ];
    let mut bytes = BTreeMap::new();
    let mut crcs = BTreeMap::new();
    for (name, src, defines) in variants {
        let out = format!("{name}.o");
        bytes.insert(name, compile(build, src, &out, defines));
        crcs.insert(name, versions(&build.join(&out)));
    }
    assert_ne!(crcs["a"]["inc_a_open"], crcs["a_wide"]["inc_a_open"]);
    assert_eq!(crcs["a"]["inc_a_plain"], crcs["a_wide"]["inc_a_plain"]);
    Objects {
        a: bytes.remove("a").unwrap(),
        a_wide: bytes.remove("a_wide").unwrap(),
        b: bytes.remove("b").unwrap(),
        b_wide: bytes.remove("b_wide").unwrap(),
        c: bytes.remove("c").unwrap(),
        crcs,
    }
}

/// symbol -> CRC of one object, by `dwarfksyms versions --format json`.
fn versions(obj: &Path) -> BTreeMap<String, String> {
    common::versions_json(obj, &[])
        .iter()
        .map(|v| (v["symbol"].as_str().unwrap().to_string(), v["crc"].as_str().unwrap().to_string()))
        .collect()
}

/// A running `dwarfksyms watch`, killed on drop; its stdout lines arrive
/// through a channel (a reader thread), so every read has a timeout.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watcher {
    fn start(dir: &Path) -> Watcher {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"))
            .args(["watch", "--format", "json"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher { child, lines: rx, seen: Vec::new() }
    }

    /// The next line, as JSON; panics after `WAIT`.
    fn next(&mut self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(l) => {
                self.seen.push(l.clone());
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}"))
            }
            Err(e) => panic!("no line from dwarfksyms watch within {WAIT:?} ({e}); lines so far: {:#?}", self.seen),
        }
    }

    fn ready(&mut self) -> Value {
        let v = self.next();
        assert_eq!(v["event"], "ready", "{v}");
        v
    }

    /// The lines up to the next `settled` (excluded), as (event, symbol,
    /// object file name, old, new).
    /// Asserts the next batch is exactly `rows`.
    fn expect_batch<const N: usize>(&mut self, rows: [Row; N]) {
        assert_eq!(self.batch(), BTreeSet::from(rows));
    }

    fn batch(&mut self) -> BTreeSet<Row> {
        let mut out = BTreeSet::new();
        loop {
            let v = self.next();
            let s = |k: &str| v[k].as_str().unwrap_or("null").to_string();
            match v["event"].as_str().unwrap() {
                "settled" => {
                    assert!(v["ms"].as_u64().is_some(), "{v}");
                    return out;
                }
                "changed" | "added" | "removed" => {
                    let file = Path::new(&s("object")).file_name().unwrap().to_string_lossy().into_owned();
                    out.insert((s("event"), s("symbol"), file, s("old"), s("new")));
                }
                e => panic!("unexpected event {e}: {v}"),
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One reported export: (event, symbol, object file name, old, new).
type Row = (String, String, String, String, String);

fn row(event: &str, symbol: &str, file: &str, old: &str, new: &str) -> Row {
    (event.into(), symbol.into(), file.into(), old.into(), new.into())
}

/// Writes `bytes` over `path` in place (truncate and write, as a compiler
/// does), not by rename.
fn rewrite(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn rewrite_in_place_reports_changed_crcs() {
    let t = TempDir::new("rewrite");
    let o = objects(&t.path().join("build"));
    let dir = t.path().join("tree");
    std::fs::create_dir_all(&dir).unwrap();
    rewrite(&dir.join("inc_a.o"), &o.a);
    rewrite(&dir.join("inc_b.o"), &o.b);
    rewrite(&dir.join("inc_c.o"), &o.c);

    let mut w = Watcher::start(&dir);
    let ready = w.ready();
    assert_eq!(ready["objects"], 3, "{ready}");
    assert_eq!(ready["exports"], 5, "{ready}");

    // struct inc_dev changed: inc_a.o is rebuilt; only inc_a_open reaches it.
    rewrite(&dir.join("inc_a.o"), &o.a_wide);
    let c = &o.crcs;
    w.expect_batch([row("changed", "inc_a_open", "inc_a.o", &c["a"]["inc_a_open"], &c["a_wide"]["inc_a_open"])]);

    // Identical bytes report nothing: the next lines are about inc_b.o only.
    rewrite(&dir.join("inc_a.o"), &o.a_wide);
    std::thread::sleep(Duration::from_millis(400));
    rewrite(&dir.join("inc_b.o"), &o.b_wide);
    w.expect_batch([row("changed", "inc_b_flags", "inc_b.o", &c["b"]["inc_b_flags"], &c["b_wide"]["inc_b_flags"])]);
}

#[test]
fn survives_half_written_deleted_recreated_and_renamed_objects() {
    let t = TempDir::new("make");
    let o = objects(&t.path().join("build"));
    let dir = t.path().join("tree");
    std::fs::create_dir_all(&dir).unwrap();
    rewrite(&dir.join("inc_a.o"), &o.a);
    rewrite(&dir.join("inc_b.o"), &o.b);
    rewrite(&dir.join("inc_c.o"), &o.c);
    let c = &o.crcs;

    let mut w = Watcher::start(&dir);
    w.ready();

    // Half-written: a prefix of the new object first, left long enough for
    // the watcher to try it, then the whole. Only the final CRC is reported.
    let half = &o.a_wide[..o.a_wide.len() / 2];
    rewrite(&dir.join("inc_a.o"), half);
    std::thread::sleep(Duration::from_millis(600));
    rewrite(&dir.join("inc_a.o"), &o.a_wide);
    w.expect_batch([row("changed", "inc_a_open", "inc_a.o", &c["a"]["inc_a_open"], &c["a_wide"]["inc_a_open"])]);

    // Deleted, then re-created.
    std::fs::remove_file(dir.join("inc_c.o")).unwrap();
    w.expect_batch([row("removed", "inc_c_count", "inc_c.o", &c["c"]["inc_c_count"], "null")]);
    rewrite(&dir.join("inc_c.o"), &o.c);
    w.expect_batch([row("added", "inc_c_count", "inc_c.o", "null", &c["c"]["inc_c_count"])]);

    // Renamed within the tree: gone from one path, added at the other.
    std::fs::rename(dir.join("inc_b.o"), dir.join("moved_b.o")).unwrap();
    w.expect_batch([
        row("added", "inc_b_flags", "moved_b.o", "null", &c["b"]["inc_b_flags"]),
        row("added", "inc_b_reset", "moved_b.o", "null", &c["b"]["inc_b_reset"]),
        row("removed", "inc_b_flags", "inc_b.o", &c["b"]["inc_b_flags"], "null"),
        row("removed", "inc_b_reset", "inc_b.o", &c["b"]["inc_b_reset"], "null"),
    ]);

    // Replaced by a rename over it (write a temporary file, rename it into
    // place), the way many tools update a file.
    rewrite(&dir.join(".tmp_inc_a.o"), &o.a);
    std::fs::rename(dir.join(".tmp_inc_a.o"), dir.join("inc_a.o")).unwrap();
    w.expect_batch([row("changed", "inc_a_open", "inc_a.o", &c["a_wide"]["inc_a_open"], &c["a"]["inc_a_open"])]);
}

#[test]
fn hundreds_of_objects_at_once_in_a_new_directory() {
    let t = TempDir::new("many");
    let o = objects(&t.path().join("build"));
    let dir = t.path().join("tree");
    std::fs::create_dir_all(&dir).unwrap();
    rewrite(&dir.join("inc_a.o"), &o.a);

    let mut w = Watcher::start(&dir);
    let ready = w.ready();
    assert_eq!(ready["objects"], 1, "{ready}");

    // A new directory, filled at once (objects may land in it before its
    // watch is in place: the watcher searches new directories).
    const N: usize = 300;
    let sub = dir.join("drivers/new");
    std::fs::create_dir_all(&sub).unwrap();
    for n in 0..N {
        rewrite(&sub.join(format!("m{n:03}.o")), &o.b);
    }
    let c = &o.crcs;
    let mut added = BTreeSet::new();
    let deadline = Instant::now() + WAIT;
    while added.len() < 2 * N {
        assert!(Instant::now() < deadline, "only {} of {} exports added", added.len(), 2 * N);
        for (event, symbol, file, old, new) in w.batch() {
            assert_eq!((event.as_str(), old.as_str()), ("added", "null"), "{file} {symbol}");
            assert_eq!(new, c["b"][&symbol], "{file} {symbol}");
            assert!(added.insert((file.clone(), symbol.clone())), "{file} {symbol} added twice");
        }
    }
    assert_eq!(added.len(), 2 * N);
}
