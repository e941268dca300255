//! `dwarfksyms versions`: every export of a build in one process.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use queries::db::{self, Database, ObjectFile, ObjectVersions, Versioned};
use queries::exports::Export;
use queries::object::Options;
use queries::typegraph::TypeGraph;
use queries::unitcache::UnitCache;
use rayon::prelude::*;

use super::crc_text;
use super::discover::{self, Found};
use super::progress::Progress;
use super::{Format, Share, VersionsArgs};

/// Bytes from which an object counts as large (vmlinux, the largest
/// modules) for giving memory back after it.
const LARGE_OBJECT: u64 = 64 << 20;

struct Done {
    found: Found,
    result: Result<ObjectVersions, String>,
}

pub fn run(args: VersionsArgs) -> i32 {
    let t0 = Instant::now();
    if args.types && args.format != Format::Json {
        eprintln!("dwarfksyms: --types needs --format json (Module.symvers lines have no place for types)");
        return 2;
    }
    let objects = match discover::find(&args.paths) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dwarfksyms: {e}");
            return 2;
        }
    };
    if objects.is_empty() {
        // An empty Module.symvers with success would pass for a result.
        eprintln!("dwarfksyms: no objects (*.o, *.ko, vmlinux) found in the paths given");
        return 2;
    }
    if args.symbols.is_some() && objects.len() != 1 {
        eprintln!("dwarfksyms: --symbols takes exactly one object, found {}", objects.len());
        return 2;
    }
    let symbols = match &args.symbols {
        Some(p) => match std::fs::read(p) {
            Ok(b) => match crate::dropin::getopt::read_symbol_list(&b) {
                Ok(n) => Some(n),
                Err(e) => {
                    let _ = std::io::stderr().write_all(&e.stderr);
                    return 1;
                }
            },
            Err(e) => {
                eprintln!("dwarfksyms: {}: {e}", p.display());
                return 2;
            }
        },
        None => None,
    };
    let t_discover = t0.elapsed();

    let options =
        Options { stable: args.stable, symtypes: args.symtypes_dir.is_some() || args.types, ..Options::default() };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).stack_size(256 << 20).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dwarfksyms: cannot start worker threads: {e}");
            return 2;
        }
    };
    // Shared by every object's database: a unit found in two objects (a
    // kbuild `.o` and the `.ko` or `vmlinux.o` linked from it) is rendered
    // once, whichever object comes first.
    // Keys cost a pass some 5-10% (every DIE of a unit with exports is
    // hashed), so `auto` shares only where units repeat: a kbuild tree's
    // `.o` files beside the modules linked from them. (A unit of
    // vmlinux.o or of a multi-file module also renders the exports of
    // other units that it declares, so it seldom equals its `.o`.)
    let share = match args.share_units {
        Share::On => true,
        Share::Off => false,
        Share::Auto => {
            let has = |ext: &str| objects.iter().any(|f| f.path.extension().is_some_and(|e| e == ext));
            has("o") && has("ko")
        }
    };
    let renders = share.then(|| Arc::new(UnitCache::default()));
    let progress = Progress::new(objects.len() as u64);
    let t1 = Instant::now();
    let mut done: Vec<Done> = pool.install(|| {
        objects
            .par_iter()
            .map(|found| {
                let result = version_one(renders.as_ref(), found, options, symbols.as_deref());
                progress.tick(result.as_ref().map_or(0, |v| v.exports.len() as u64));
                Done { found: found.clone(), result }
            })
            .collect()
    });
    progress.finish();
    let t_version = t1.elapsed();

    let t2 = Instant::now();
    done.sort_by(|a, b| a.found.module.cmp(&b.found.module).then_with(|| a.found.path.cmp(&b.found.path)));
    let mut failed = 0usize;
    let mut lines: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut exports = 0usize;
    let mut stderr = std::io::stderr().lock();
    let mut twice = (args.format == Format::Symvers).then(ExportedTwice::default);
    for d in &done {
        let v = match &d.result {
            Ok(v) => v,
            Err(e) => {
                failed += 1;
                let _ = writeln!(stderr, "error: dwarfksyms: {}: {e}", d.found.path.display());
                continue;
            }
        };
        if let Some(dir) = &args.symtypes_dir {
            if let Err(e) = write_symtypes(dir, &d.found, &v.symtypes) {
                failed += 1;
                let _ = writeln!(stderr, "error: dwarfksyms: {e}");
            }
        }
        let types: Option<TypeGraph> = args.types.then(|| TypeGraph::from_symtypes(v.symtypes.clone()));
        for x in &v.exports {
            exports += 1;
            if let Some(t) = &mut twice {
                t.note(&x.export.name, &d.found.path);
            }
            if x.crc.is_none() {
                let _ = writeln!(
                    stderr,
                    "warning: dwarfksyms: {}: no information for symbol {}",
                    d.found.path.display(),
                    String::from_utf8_lossy(&x.export.name)
                );
            }
            let line = match args.format {
                Format::Symvers => symvers_line(x, &d.found),
                Format::Json => json_line(x, &d.found, types.as_ref()),
            };
            lines.push((d.found.module.clone(), x.export.name.clone(), line));
        }
    }
    lines.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    if let Some(t) = &twice {
        t.warn(&mut stderr);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (_, _, l) in &lines {
        let _ = out.write_all(l);
    }
    let _ = out.flush();
    let t_output = t2.elapsed();

    if args.stats {
        let secs = |d: Duration| d.as_secs_f64();
        let _ = writeln!(stderr, "dwarfksyms: {} objects, {} exports, {} failed", done.len(), exports, failed);
        let _ = writeln!(
            stderr,
            "dwarfksyms: discover {:.3}s, version {:.3}s ({} threads), output {:.3}s, total {:.3}s",
            secs(t_discover),
            secs(t_version),
            pool.current_num_threads(),
            secs(t_output),
            secs(t0.elapsed())
        );
        if let Some(u) = renders.as_ref().map(|r| r.stats()) {
            let _ = writeln!(
                stderr,
                "dwarfksyms: units rendered {}, shared {} (cache: {:.1} MiB, restarted {} times)",
                u.misses,
                u.hits,
                u.bytes as f64 / (1 << 20) as f64,
                u.resets
            );
        }
        if let Some(kb) = peak_rss_kb() {
            let _ = writeln!(stderr, "dwarfksyms: peak RSS {:.1} MiB", kb as f64 / 1024.0);
        }
    }
    i32::from(failed > 0)
}

/// The exports more than one object holds, for Module.symvers output:
/// modpost rejects a symbol listed twice, and a kbuild tree holds each
/// export in its `.o`, in `vmlinux.o` and in `vmlinux` (or the module's
/// `.ko`), so such a run is most likely a mistake of which objects to
/// name. JSON lists exports per object, where an export in a `.o` and in
/// the `.ko` linked from it is expected (the run `--share-units auto`
/// speeds up), so it is not checked there.
#[derive(Default)]
struct ExportedTwice<'a> {
    /// Where each export was first seen, and whether it was seen again.
    first: HashMap<&'a [u8], (&'a Path, bool)>,
    count: usize,
    example: Option<(&'a [u8], &'a Path, &'a Path)>,
}

impl<'a> ExportedTwice<'a> {
    fn note(&mut self, name: &'a [u8], path: &'a Path) {
        match self.first.entry(name) {
            Entry::Vacant(e) => {
                e.insert((path, false));
            }
            Entry::Occupied(mut e) => {
                let (first, again) = e.get_mut();
                if !*again {
                    *again = true;
                    self.count += 1;
                    self.example.get_or_insert((name, *first, path));
                }
            }
        }
    }

    fn warn(&self, stderr: &mut impl Write) {
        let Some((name, a, b)) = self.example else { return };
        let _ = writeln!(
            stderr,
            "warning: dwarfksyms: {} exports are in more than one object (e.g. {} in {} and {}): \
             modpost rejects a symbol listed twice in Module.symvers; name vmlinux and the modules, \
             or the .o files, not both",
            self.count,
            String::from_utf8_lossy(name),
            a.display(),
            b.display()
        );
    }
}

/// One object, in a database of its own: the object's bytes go when its
/// database does (a whole kernel is 7 GB of modules); unit renderings are
/// shared through `renders`.
fn version_one(
    renders: Option<&Arc<UnitCache>>,
    found: &Found,
    options: Options,
    symbols: Option<&[Vec<u8>]>,
) -> Result<ObjectVersions, String> {
    // Read whole (no mmap): a build may rewrite the file under us.
    let bytes = std::fs::read(&found.path).map_err(|e| e.to_string())?;
    let large = bytes.len() as u64 >= LARGE_OBJECT;
    let db = match renders {
        Some(r) => Database::default().sharing_renders(r.clone()),
        None => Database::default(),
    };
    let result = version_in(&db, found, bytes, options, symbols);
    drop(db);
    // What a large object's pass freed goes back now, not when this worker
    // next allocates: the peak is two large objects at once. (After every
    // object, the whole kernel took 3 s more, refaulting pages.)
    if large {
        crate::alloc::collect();
    }
    result
}

fn version_in(
    db: &Database,
    found: &Found,
    bytes: Vec<u8>,
    options: Options,
    symbols: Option<&[Vec<u8>]>,
) -> Result<ObjectVersions, String> {
    let name = found.path.as_os_str().as_encoded_bytes().to_vec();
    let file = ObjectFile::new(db, name, bytes.into());
    match symbols {
        None => db::export_versions(db, file, options).clone().map_err(|e| e.to_string()),
        Some(names) => {
            let (table, _) = queries::symbols::SymbolTable::new(names);
            let (outcomes, state) = db::run_borrowed(db, &[file], table, options);
            if let Some(e) = outcomes.iter().find_map(|o| o.error.clone()) {
                return Err(e.to_string());
            }
            let known: BTreeMap<Vec<u8>, Export> = db::object_exports(db, file)
                .as_ref()
                .map(|v| v.iter().map(|e| (e.name.clone(), e.clone())).collect())
                .unwrap_or_default();
            let table = &state.table;
            let exports = table
                .order()
                .iter()
                .map(|&id| {
                    let s = &table.syms[id as usize];
                    let export = known.get(&s.name).cloned().unwrap_or(Export {
                        name: s.name.clone(),
                        gpl: false,
                        namespace: Vec::new(),
                    });
                    let crc = (s.state == queries::symbols::SymState::Processed).then_some(s.crc);
                    Versioned { export, crc }
                })
                .collect();
            // One object, one outcome.
            let symtypes = outcomes.first().map_or_else(Default::default, |o| o.symtypes.clone());
            Ok(ObjectVersions { exports, symtypes })
        }
    }
}

fn symvers_line(x: &Versioned, found: &Found) -> Vec<u8> {
    let mut l = format!("{}\t", crc_text(x.crc)).into_bytes();
    l.extend_from_slice(&x.export.name);
    l.push(b'\t');
    l.extend_from_slice(found.module.as_bytes());
    l.extend_from_slice(if x.export.gpl { b"\tEXPORT_SYMBOL_GPL\t" } else { b"\tEXPORT_SYMBOL\t" });
    l.extend_from_slice(&x.export.namespace);
    l.push(b'\n');
    l
}

fn json_line(x: &Versioned, found: &Found, types: Option<&TypeGraph>) -> Vec<u8> {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut v = serde_json::json!({
        "symbol": s(&x.export.name),
        "crc": crc_text(x.crc),
        "object": found.path.display().to_string(),
        "module": found.module,
        "license": if x.export.gpl { "GPL" } else { "" },
        "namespace": s(&x.export.namespace),
    });
    if let Some(graph) = types {
        let lines: Vec<String> = graph.used_lines(&x.export.name).into_iter().map(|l| s(&l)).collect();
        v["types"] = serde_json::json!(lines);
    }
    let mut l = serde_json::to_vec(&v).unwrap_or_default();
    l.push(b'\n');
    l
}

fn write_symtypes(dir: &std::path::Path, found: &Found, block: &[u8]) -> Result<(), String> {
    let path = dir.join(format!("{}.symtypes", found.module));
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    // Whole or not at all: write a temporary file, then rename it into place.
    let tmp = path.with_extension("symtypes.tmp");
    std::fs::write(&tmp, block).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
