//! `dwarfksyms diff OLD NEW`: why did a CRC change.
//!
//! Both sides are versioned with the same engine as `dwarfksyms versions`
//! (symtypes on). Objects are paired by module name as `versions` names
//! them (two files given directly are paired whatever their names), and
//! exports by (module, symbol); an export that left one object for another
//! is paired by symbol when that is unambiguous.
//!
//! For each export whose CRC differs, the two objects' type maps are
//! compared: a name whose text differs is *changed*. A symtypes text holds
//! references by name, never the referenced text, so a changed type is
//! changed by its own definition — each one is a root cause. From the
//! export's own line the references both sides share are followed (a
//! reference only one side has belongs to a change already found), and
//! every changed type reached is reported with the shortest chain of
//! members and parameters leading to it. Exports reaching the same change
//! (same name, same old and new text) are grouped under it, across modules.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;
use queries::db::{self, Database, ObjectFile, Versioned};
use queries::object::Options;
use queries::typediff::{self, Change, Via};
use queries::typegraph::TypeGraph;
use queries::unitcache::UnitCache;
use rayon::prelude::*;
use serde::Serialize;

use super::discover::{self, Found};

pub(crate) mod report;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The old build: an object or a directory searched for objects.
    pub old: PathBuf,
    /// The new build: an object or a directory.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Apply the kABI rules first (as gendwarfksyms --stable), on both sides.
    #[arg(short, long)]
    pub stable: bool,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    /// A report for people.
    Text,
    /// One JSON object per line: one per root cause, then unexplained,
    /// added and removed exports, then a summary.
    Json,
}

/// One side's object, versioned.
pub(crate) struct Object {
    pub found: Found,
    pub exports: Vec<Versioned>,
    /// symtypes: name → text (without the name).
    pub types: Arc<TypeGraph>,
}

/// Which side.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Old,
    New,
}

/// An export on both sides.
struct Pair<'a> {
    old_obj: usize,
    new_obj: usize,
    old: &'a Versioned,
    new: &'a Versioned,
}

// The report's JSON (`--format json`, the server's `explain`) is these
// types serialized: fields in the order declared, named as the JSON names
// them, CRCs as hex strings or null.

/// One step of a chain: a type (or the export) and how the next one is
/// reached from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Step {
    #[serde(rename = "type")]
    pub name: String,
    #[serde(serialize_with = "report::via")]
    pub via: Option<Via>,
}

/// An export whose CRC changed, as one root cause's group lists it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Affected {
    pub symbol: String,
    pub module: String,
    /// The old module, when the export moved to another object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_module: Option<String>,
    #[serde(rename = "old", serialize_with = "report::hex")]
    pub old_crc: Option<u32>,
    #[serde(rename = "new", serialize_with = "report::hex")]
    pub new_crc: Option<u32>,
    /// From the export to its root cause, both included; empty for an
    /// unexplained export, whose JSON has no path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<Step>,
}

/// A change of one type, with every export it reaches.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RootCause {
    #[serde(rename = "type")]
    pub name: String,
    /// What the type is, in words: `struct dx_stats`, `the exported
    /// function itself`.
    pub what: String,
    pub modules: BTreeSet<String>,
    pub changes: Vec<Change>,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
    pub exports: Vec<Affected>,
}

/// An export on one side only.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Lone {
    pub symbol: String,
    pub module: String,
    #[serde(serialize_with = "report::hex")]
    pub crc: Option<u32>,
}

/// An export whose CRC changed without a type change to show for it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Unexplained {
    #[serde(flatten)]
    pub affected: Affected,
    pub reason: String,
}

/// Everything the report says.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub compared: usize,
    pub changed: usize,
    pub roots: Vec<RootCause>,
    pub added: Vec<Lone>,
    pub removed: Vec<Lone>,
    pub unexplained: Vec<Unexplained>,
}

impl Outcome {
    fn differs(&self) -> bool {
        self.changed > 0 || !self.added.is_empty() || !self.removed.is_empty()
    }
}

pub fn run(args: DiffArgs) -> i32 {
    let (mut old, new) =
        match (discover::find(std::slice::from_ref(&args.old)), discover::find(std::slice::from_ref(&args.new))) {
            (Ok(o), Ok(n)) => (o, n),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("dwarfksyms: {e}");
                return 2;
            }
        };
    // Two objects given directly are one module, whatever their names.
    if args.old.is_file() && args.new.is_file() {
        if let (Some(o), Some(n)) = (old.first_mut(), new.first()) {
            o.module = n.module.clone();
        }
    }
    let options = Options { stable: args.stable, symtypes: true, ..Options::default() };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).stack_size(256 << 20).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dwarfksyms: cannot start worker threads: {e}");
            return 2;
        }
    };
    // A module's two sides go to one worker, old then new, so that the
    // units the builds have in common are rendered once (`UnitCache`).
    let mut jobs: BTreeMap<String, Vec<(Side, Found)>> = BTreeMap::new();
    for (side, f) in old.into_iter().map(|f| (Side::Old, f)).chain(new.into_iter().map(|f| (Side::New, f))) {
        jobs.entry(f.module.clone()).or_default().push((side, f));
    }
    let renders = Arc::new(UnitCache::default());
    let results: Vec<(Side, Found, Result<Object, String>)> = pool.install(|| {
        jobs.into_par_iter()
            .flat_map_iter(|(_, sides)| {
                sides.into_iter().map(|(side, found)| {
                    let r = version(&found, options, &renders);
                    (side, found, r)
                })
            })
            .collect()
    });

    let mut status = 0;
    // A module that failed on either side is left out on both: half of it
    // would read as exports added or removed.
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for (_, found, r) in &results {
        if let Err(e) = r {
            eprintln!("error: dwarfksyms: {}: {e}", found.path.display());
            failed.insert(found.module.clone());
            status = 2;
        }
    }
    let (mut olds, mut news) = (Vec::new(), Vec::new());
    for (side, _, r) in results {
        if let Ok(o) = r {
            if failed.contains(&o.found.module) {
                continue;
            }
            match side {
                Side::Old => olds.push(o),
                Side::New => news.push(o),
            }
        }
    }
    for v in [&mut olds, &mut news] {
        v.sort_by(|a, b| (&a.found.module, &a.found.path).cmp(&(&b.found.module, &b.found.path)));
    }

    let outcome = pool.install(|| compare(&olds, &news));
    let text = match args.format {
        DiffFormat::Text => report::text(&outcome),
        DiffFormat::Json => report::json(&outcome),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    if status == 0 && outcome.differs() {
        status = 1;
    }
    status
}

fn version(found: &Found, options: Options, renders: &Arc<UnitCache>) -> Result<Object, String> {
    let db = Database::default().sharing_renders(renders.clone());
    let bytes = std::fs::read(&found.path).map_err(|e| e.to_string())?;
    let name = found.path.as_os_str().as_encoded_bytes().to_vec();
    let file = ObjectFile::new(&db, name, bytes.into());
    let exports = db::export_versions(&db, file, options).clone().map_err(|e| e.to_string())?.exports;
    let types = queries::typegraph::type_graph(&db, file, options).clone().map_err(|e| e.to_string())?;
    Ok(Object { found: found.clone(), exports, types })
}

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn compare(olds: &[Object], news: &[Object]) -> Outcome {
    // (module, symbol) → (object, export), per side.
    let index = |objs: &[Object]| -> BTreeMap<(String, Vec<u8>), (usize, usize)> {
        let mut m = BTreeMap::new();
        for (i, o) in objs.iter().enumerate() {
            for (j, x) in o.exports.iter().enumerate() {
                m.entry((o.found.module.clone(), x.export.name.clone())).or_insert((i, j));
            }
        }
        m
    };
    let (oi, ni) = (index(olds), index(news));
    let mut pairs: Vec<Pair<'_>> = Vec::new();
    let mut old_only: Vec<(usize, usize)> = Vec::new();
    for (k, &(i, j)) in &oi {
        match ni.get(k) {
            Some(&(a, b)) => {
                pairs.push(Pair { old_obj: i, new_obj: a, old: &olds[i].exports[j], new: &news[a].exports[b] })
            }
            None => old_only.push((i, j)),
        }
    }
    let mut new_only: Vec<(usize, usize)> = ni.iter().filter(|(k, _)| !oi.contains_key(*k)).map(|(_, &v)| v).collect();
    // Exports that moved to another object: paired by symbol when the
    // symbol is left over exactly once on each side.
    let count = |objs: &[Object], v: &[(usize, usize)]| {
        let mut c: HashMap<Vec<u8>, usize> = HashMap::new();
        for &(i, j) in v {
            *c.entry(objs[i].exports[j].export.name.clone()).or_default() += 1;
        }
        c
    };
    let (oc, nc) = (count(olds, &old_only), count(news, &new_only));
    let unique = |name: &[u8]| oc.get(name) == Some(&1) && nc.get(name) == Some(&1);
    let moved_new: HashMap<Vec<u8>, (usize, usize)> = new_only
        .iter()
        .filter(|&&(i, j)| unique(&news[i].exports[j].export.name))
        .map(|&(i, j)| (news[i].exports[j].export.name.clone(), (i, j)))
        .collect();
    old_only.retain(|&(i, j)| {
        let name = &olds[i].exports[j].export.name;
        match moved_new.get(name) {
            Some(&(a, b)) if unique(name) => {
                pairs.push(Pair { old_obj: i, new_obj: a, old: &olds[i].exports[j], new: &news[a].exports[b] });
                false
            }
            _ => true,
        }
    });
    new_only.retain(|&(i, j)| !moved_new.contains_key(&news[i].exports[j].export.name));

    let mut outcome = Outcome { compared: pairs.len(), ..Outcome::default() };
    let lone =
        |o: &Object, x: &Versioned| Lone { symbol: lossy(&x.export.name), module: o.found.module.clone(), crc: x.crc };
    outcome.removed = old_only.iter().map(|&(i, j)| lone(&olds[i], &olds[i].exports[j])).collect();
    outcome.added = new_only.iter().map(|&(i, j)| lone(&news[i], &news[i].exports[j])).collect();

    // Changed exports, per pair of objects (each pair's walks share a cache).
    let mut by_objects: BTreeMap<(usize, usize), Vec<&Pair<'_>>> = BTreeMap::new();
    for p in pairs.iter().filter(|p| p.old.crc != p.new.crc) {
        by_objects.entry((p.old_obj, p.new_obj)).or_default().push(p);
    }
    outcome.changed = by_objects.values().map(Vec::len).sum();
    let found: Vec<Findings> = by_objects
        .par_iter()
        .map(|(&(oi, ni), ps)| {
            let mut walker = Walker::new(&olds[oi], &news[ni]);
            let mut hits = Vec::new();
            let mut unexplained = Vec::new();
            for p in ps {
                let base = Affected {
                    symbol: lossy(&p.new.export.name),
                    module: news[ni].found.module.clone(),
                    old_module: (olds[oi].found.module != news[ni].found.module).then(|| olds[oi].found.module.clone()),
                    old_crc: p.old.crc,
                    new_crc: p.new.crc,
                    path: Vec::new(),
                };
                match walker.roots(&p.new.export.name) {
                    Ok(roots) if !roots.is_empty() => {
                        for (root, path) in roots {
                            hits.push((Affected { path, ..base.clone() }, root));
                        }
                    }
                    Ok(_) => unexplained.push(Unexplained {
                        affected: base,
                        reason: "no type reachable from the export differs".into(),
                    }),
                    Err(reason) => unexplained.push(Unexplained { affected: base, reason }),
                }
            }
            let hits = hits
                .into_iter()
                .map(|(a, root)| {
                    let key = walker.key(&root);
                    (a, key)
                })
                .collect();
            (hits, unexplained)
        })
        .collect();

    // Group by (name, old text, new text).
    let mut groups: BTreeMap<Key, RootCause> = BTreeMap::new();
    for (hits, unexplained) in found {
        for (a, key) in hits {
            let g = groups.entry(key).or_insert_with_key(|(name, old, new)| {
                let (name, old_text, new_text) = (lossy(name), old.as_deref().map(lossy), new.as_deref().map(lossy));
                RootCause {
                    what: report::describe(&name, new_text.as_deref().or(old_text.as_deref())),
                    name,
                    old_text,
                    new_text,
                    modules: BTreeSet::new(),
                    changes: typediff::diff(old.as_deref().unwrap_or_default(), new.as_deref().unwrap_or_default()),
                    exports: Vec::new(),
                }
            });
            g.modules.insert(a.module.clone());
            g.exports.push(a);
        }
        outcome.unexplained.extend(unexplained);
    }
    outcome.roots = groups.into_values().collect();
    for g in &mut outcome.roots {
        g.exports.sort_by(|a, b| (&a.module, &a.symbol).cmp(&(&b.module, &b.symbol)));
    }
    outcome.roots.sort_by(|a, b| (&a.name, a.modules.iter().next()).cmp(&(&b.name, b.modules.iter().next())));
    outcome
        .unexplained
        .sort_by(|a, b| (&a.affected.module, &a.affected.symbol).cmp(&(&b.affected.module, &b.affected.symbol)));
    outcome.added.sort_by(|a, b| (&a.module, &a.symbol).cmp(&(&b.module, &b.symbol)));
    outcome.removed.sort_by(|a, b| (&a.module, &a.symbol).cmp(&(&b.module, &b.symbol)));
    outcome
}

/// A root cause's identity: its name and its old and new text.
type Key = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// One pair of objects' findings: each changed export with a root cause it
/// reaches, and the changed exports no root cause explains.
type Findings = (Vec<(Affected, Key)>, Vec<Unexplained>);

/// A changed name reachable from an export, with the chain to it.
type Root = (Vec<u8>, Vec<Step>);

/// Walks one pair of objects' type maps.
struct Walker<'a> {
    old: &'a Object,
    new: &'a Object,
    /// The references both sides of a name share, in the new text's order.
    edges: HashMap<&'a [u8], Vec<&'a [u8]>>,
    /// Where each reference sits in a name's text.
    sites: typediff::Sites,
}

impl<'a> Walker<'a> {
    fn new(old: &'a Object, new: &'a Object) -> Walker<'a> {
        Walker { old, new, edges: HashMap::new(), sites: typediff::Sites::default() }
    }

    fn changed(&self, name: &[u8]) -> bool {
        self.old.types.get(name) != self.new.types.get(name)
    }

    fn key(&self, name: &[u8]) -> Key {
        (name.to_vec(), self.old.types.get(name).map(<[u8]>::to_vec), self.new.types.get(name).map(<[u8]>::to_vec))
    }

    /// From the type graphs, which keep only references that have a line:
    /// an edge leads to a name both sides define.
    fn edges(&mut self, name: &'a [u8]) -> &[&'a [u8]] {
        let (old, new): (&'a Object, &'a Object) = (self.old, self.new);
        self.edges.entry(name).or_insert_with(|| {
            let o: BTreeSet<&[u8]> = old.types.referenced(name).collect();
            new.types.referenced(name).filter(|r| o.contains(r)).collect()
        })
    }

    fn via(&mut self, from: &[u8], to: &[u8]) -> Option<Via> {
        let text = self.new.types.get(from).or_else(|| self.old.types.get(from))?;
        self.sites.via(text, to)
    }

    /// Every changed name reachable from `symbol` on both sides, with the
    /// shortest chain to it.
    fn roots(&mut self, symbol: &[u8]) -> Result<Vec<Root>, String> {
        let new: &'a Object = self.new;
        let start = match (self.old.types.contains(symbol), new.types.find(symbol)) {
            (true, Some(i)) => new.types.name(i),
            (false, None) => return Err("no type information for it on either side".into()),
            (false, Some(_)) => return Err("no type information for it in the old object".into()),
            (true, None) => return Err("no type information for it in the new object".into()),
        };
        let mut parent: HashMap<&'a [u8], Option<&'a [u8]>> = HashMap::new();
        parent.insert(start, None);
        let mut queue = VecDeque::from([start]);
        let mut roots = Vec::new();
        while let Some(n) = queue.pop_front() {
            if self.changed(n) {
                roots.push(n);
            }
            for &r in self.edges(n) {
                if !parent.contains_key(r) {
                    parent.insert(r, Some(n));
                    queue.push_back(r);
                }
            }
        }
        let mut out = Vec::new();
        for root in roots {
            let mut chain = vec![root];
            while let Some(&Some(p)) = chain.last().and_then(|n| parent.get(n)) {
                chain.push(p);
            }
            chain.reverse();
            let mut path = Vec::new();
            for (i, name) in chain.iter().enumerate() {
                let via = chain.get(i + 1).and_then(|next| self.via(name, next));
                path.push(Step { name: lossy(name), via });
            }
            out.push((root.to_vec(), path));
        }
        Ok(out)
    }
}
