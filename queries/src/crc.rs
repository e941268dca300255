//! Symbol versions: CRC-32 over a symbol's type string with every type
//! reference expanded in place the first time the symbol meets it.
//!
//! This is upstream's `__calculate_version`, run over a compiled form of
//! the type map: each entry becomes a list of segments (a run of its plain
//! text, or a reference by number), so expanding a symbol hashes text
//! straight from the entries — no name lookups, no copies — and the
//! per-symbol "already expanded" set is an array of stamps.
//!
//! Expansions are also reused across symbols. How a type expands depends
//! on the symbol only through which types are already expanded when it is
//! met, and only for the types its walk asks about: those it expands (its
//! *closure*) and those whose names it prints because they were expanded
//! before it started (its *dependencies*). So a walk is kept (CRC, length,
//! closure, dependencies), and a later walk that meets the type with every
//! dependency expanded and nothing of the closure combines the CRC and
//! marks the closure instead of hashing the text again: in
//! `kernel/sched/core.o` 122 symbols expand about 50 MB of text, mostly
//! the same few structures.
//!
//! A map is held two ways: [`Compiled`], filled as the walk meets types
//! (the per-object pass, where `--stable` rules can add types while
//! versioning), and [`Frozen`], compiled whole and only read (deferred
//! versions). Both are walked by `walk::Walker`.

mod keys;
mod out;
mod walk;

use std::hash::BuildHasher;
use std::rc::Rc;
use std::sync::Arc;

use hashbrown::hash_table::{self, HashTable};
use rustc_hash::FxBuildHasher;

use crate::error::Error;
use crate::kabi::lossy;
use crate::typemap::{is_type_prefix, Expansion};

pub use keys::Fingerprint;
use out::Out;
pub use walk::Reuse;
use walk::{Types, Walker};

#[derive(Debug, Clone, Copy)]
enum Seg {
    /// Bytes `start..end` of the entry's text.
    Text(u32, u32),
    /// A reference to the type with this number.
    Ref(u32),
}

/// Type names, numbered in the order they are met.
// One buffer holds every name and the table holds only numbers: a name
// is copied once, not allocated twice (as key and as the number's name).
#[derive(Default)]
struct Names {
    ids: HashTable<u32>,
    /// The names one after another; name `i` ends at `ends[i]`.
    text: Vec<u8>,
    ends: Vec<u32>,
}

fn hash(name: &[u8]) -> u64 {
    FxBuildHasher.hash_one(name)
}

impl Names {
    fn name<'t>(text: &'t [u8], ends: &[u32], id: u32) -> &'t [u8] {
        let start = match id {
            0 => 0,
            i => ends[i as usize - 1] as usize,
        };
        &text[start..ends[id as usize] as usize]
    }

    /// The number of `name`, and whether it is new.
    fn number(&mut self, name: &[u8]) -> (u32, bool) {
        let (text, ends) = (&self.text, &self.ends);
        let h = hash(name);
        match self.ids.entry(h, |&id| Self::name(text, ends, id) == name, |&id| hash(Self::name(text, ends, id))) {
            hash_table::Entry::Occupied(e) => (*e.get(), false),
            hash_table::Entry::Vacant(v) => {
                let id = self.ends.len() as u32;
                v.insert(id);
                self.text.extend_from_slice(name);
                self.ends.push(self.text.len() as u32);
                (id, true)
            }
        }
    }

    fn get(&self, name: &[u8]) -> Option<u32> {
        // Every entry offered to the map asks, mostly before any walk has
        // numbered a name: no hashing then.
        if self.ids.is_empty() {
            return None;
        }
        self.ids.find(hash(name), |&id| &self[id] == name).copied()
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

impl std::ops::Index<u32> for Names {
    type Output = [u8];
    fn index(&self, id: u32) -> &[u8] {
        Self::name(&self.text, &self.ends, id)
    }
}

/// Where a reference's text comes from: the type map, or (under
/// `--stable`) a `type_string` rule that adds it to the map.
pub trait Source {
    fn lookup(&mut self, name: &[u8]) -> Result<Option<Arc<Expansion>>, Error>;
}

/// Compiled entries of one object's type map, filled lazily.
#[derive(Default)]
pub struct Compiled {
    /// Segments are shared: the walk holds an entry while it compiles more.
    table: Table<Rc<[Seg]>>,
    /// Where `compile` builds segments.
    scratch: Vec<Seg>,
    walker: Walker,
}

/// A type's map entry and its segments over the entry's text.
type Entry<S> = (Arc<Expansion>, S);

/// Type names, numbered in the order they are met, and per number the
/// type's entry once compiled: `None` before, and for a name only referred
/// to (expanding it is upstream's "unknown type reference").
struct Table<S> {
    names: Names,
    entries: Vec<Option<Entry<S>>>,
}

impl<S> Default for Table<S> {
    fn default() -> Self {
        Table { names: Names::default(), entries: Vec::new() }
    }
}

impl walk::Entry for Entry<Rc<[Seg]>> {
    fn segs(&self) -> &[Seg] {
        &self.1
    }
    fn text(&self) -> &[u8] {
        &self.0.text
    }
}

impl<S: for<'s> From<&'s [Seg]>> Table<S> {
    fn id(&mut self, name: &[u8]) -> u32 {
        let (id, new) = self.names.number(name);
        if new {
            self.entries.push(None);
        }
        id
    }

    /// Compiles `exp` as the entry of `id`, building its segments in
    /// `scratch` (reused: only the result is allocated).
    // Not inlined: the walk looks types up as it meets them and recurses
    // up to MAX_DEPTH deep, so its frame must stay small.
    #[inline(never)]
    fn compile(&mut self, id: u32, exp: Arc<Expansion>, scratch: &mut Vec<Seg>) -> &Entry<S> {
        scratch.clear();
        segments(&exp, scratch, |name| self.id(name));
        let segs = S::from(&scratch[..]);
        self.entries[id as usize].insert((exp, segs))
    }
}

/// A [`Compiled`] map as one symbol's walk sees it: types not met before
/// are looked up in `src`.
struct Lookup<'c> {
    table: &'c mut Table<Rc<[Seg]>>,
    scratch: &'c mut Vec<Seg>,
    src: &'c mut dyn Source,
}

impl Types for Lookup<'_> {
    type Entry = Entry<Rc<[Seg]>>;

    fn name(&self, id: u32) -> &[u8] {
        &self.table.names[id]
    }

    fn len(&self) -> usize {
        self.table.names.len()
    }

    fn top(&mut self, name: &[u8]) -> Option<u32> {
        Some(self.table.id(name))
    }

    fn entry(&mut self, id: u32) -> Result<Option<Self::Entry>, Error> {
        if let Some(e) = &self.table.entries[id as usize] {
            return Ok(Some(e.clone()));
        }
        Ok(match self.src.lookup(&self.table.names[id])? {
            Some(exp) => Some(self.table.compile(id, exp, self.scratch).clone()),
            None => None,
        })
    }
}

impl Compiled {
    /// Forgets the compiled form of `name` (its map entry changed), and
    /// every kept walk, which may have expanded it.
    pub fn invalidate(&mut self, name: &[u8]) {
        if let Some(id) = self.table.names.get(name) {
            self.table.entries[id as usize] = None;
            self.walker.forget();
        }
    }

    /// The CRC of `exp` (a symbol's text) and, when `dump` is set, the
    /// expanded string itself (`--dump-versions`). With `reuse`, walks are
    /// kept and reused across symbols (see the module documentation); the
    /// caller must not let the map change under kept walks (`--stable`
    /// rules can).
    pub fn version(
        &mut self,
        exp: &Expansion,
        src: &mut dyn Source,
        dump: bool,
        reuse: Reuse,
    ) -> Result<(u32, Option<Vec<u8>>), Error> {
        let mut out = Out::new(dump);
        let mut types = Lookup { table: &mut self.table, scratch: &mut self.scratch, src };
        self.walker.version(&mut types, exp, &mut out, if dump { Reuse::Not } else { reuse })?;
        Ok(out.finish())
    }
}

/// The segments of `exp`, over its own text: runs of plain items are one
/// range, references are numbered by `id`.
fn segments(exp: &Expansion, segs: &mut Vec<Seg>, mut id: impl FnMut(&[u8]) -> u32) {
    // Items follow each other in the text: a run of plain ones is one range.
    let mut text_start: Option<u32> = None;
    let mut at = 0u32;
    for item in exp.items() {
        let end = at + item.len() as u32;
        if is_type_prefix(item) {
            if let Some(s) = text_start.take() {
                segs.push(Seg::Text(s, at));
            }
            segs.push(Seg::Ref(id(item)));
        } else {
            text_start.get_or_insert(at);
        }
        at = end;
    }
    if let Some(s) = text_start {
        segs.push(Seg::Text(s, at));
    }
}

/// A whole type map compiled once and then only read: versions over a map
/// that no `--stable` rule can extend, from any number of threads at once,
/// and the content keys ([`Frozen::fingerprints`]) that let salsa reuse a
/// symbol's version wherever its text and every type it reaches are the same.
pub struct Frozen {
    /// Segments are boxed, not `Rc`: the map is read from several threads.
    table: Table<Box<[Seg]>>,
}

impl Frozen {
    pub fn new<'m>(map: impl Iterator<Item = (&'m [u8], &'m Arc<Expansion>)>) -> Frozen {
        let mut table = Table::default();
        let mut scratch = Vec::new();
        for (name, exp) in map {
            let id = table.id(name);
            table.compile(id, exp.clone(), &mut scratch);
        }
        Frozen { table }
    }

    /// A type's segments and the text they range over.
    fn entry(&self, id: u32) -> Option<(&[Seg], &[u8])> {
        self.table.entries[id as usize].as_ref().map(|(e, s)| (&s[..], &e.text[..]))
    }

    /// The CRC of `exp` (a symbol's text), as [`Compiled::version`] gives
    /// it. No walk is kept for reuse: keeping walks makes a first walk
    /// about three times as costly, which pays off over an object's
    /// symbols in a row but not for the few that an edit leaves to version
    /// again (salsa has the others' versions by content key).
    pub fn version(&self, exp: &Expansion) -> Result<u32, Error> {
        WALKER.with(|w| {
            let mut out = Out::new(false);
            w.borrow_mut().version(&mut &*self, exp, &mut out, Reuse::Not)?;
            Ok(out.finish().0)
        })
    }
}

thread_local! {
    /// A walker per thread, reused across versions so a symbol does not
    /// clear an array the size of the whole map. It serves every `Frozen`
    /// map on the thread only because it keeps no walks (`reuse` is false
    /// above): kept walks hold type numbers of one map.
    static WALKER: std::cell::RefCell<Walker> = std::cell::RefCell::new(Walker::default());
}

impl<'f> Types for &'f Frozen {
    type Entry = (&'f [Seg], &'f [u8]);

    fn name(&self, id: u32) -> &[u8] {
        &self.table.names[id]
    }

    fn len(&self) -> usize {
        self.table.names.len()
    }

    fn top(&mut self, name: &[u8]) -> Option<u32> {
        self.table.names.get(name)
    }

    fn entry(&mut self, id: u32) -> Result<Option<Self::Entry>, Error> {
        Ok(Frozen::entry(self, id))
    }
}

impl walk::Entry for (&[Seg], &[u8]) {
    fn segs(&self) -> &[Seg] {
        self.0
    }
    fn text(&self) -> &[u8] {
        self.1
    }
}

/// Upstream's error for a reference to a type the map does not have.
fn unknown(name: &[u8], within: Option<&[u8]>) -> Error {
    let within = within.map(|w| lossy(w).into_owned()).unwrap_or_else(|| "(null)".into());
    Error::new(
        "__calculate_version",
        format!("unknown type reference to '{}' when expanding '{}'", lossy(name), within),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustc_hash::FxHashMap;
    use walk::MAX_DEPTH;

    /// Runs `f` with the stack the engine's threads have: walks recurse up
    /// to MAX_DEPTH deep, more than a test thread's default stack holds.
    fn on_a_deep_stack(f: fn()) {
        std::thread::Builder::new().stack_size(64 << 20).spawn(f).unwrap().join().unwrap();
    }

    struct MapSource(FxHashMap<Vec<u8>, Arc<Expansion>>);

    impl Source for MapSource {
        fn lookup(&mut self, name: &[u8]) -> Result<Option<Arc<Expansion>>, Error> {
            Ok(self.0.get(name).cloned())
        }
    }

    /// Reusing walks never changes a CRC or an error: random type graphs
    /// (cycles, shared subtypes, missing types, nesting past the limit),
    /// symbols versioned in sequence with and without reuse, and over the
    /// map frozen (what deferred versions walk).
    #[test]
    fn reused_walks_give_what_walking_gives() {
        on_a_deep_stack(reused_walks_give_what_walking_gives_body);
    }

    fn reused_walks_give_what_walking_gives_body() {
        let mut seed = 0x0123_4567_89ab_cdefu64;
        let mut rand = move |n: u64| {
            seed = seed.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            (z ^ (z >> 31)) % n
        };
        let (mut reused, mut errors) = (0u64, 0);
        for round in 0..60 {
            let types = 2 + rand(60);
            let mut map = FxHashMap::default();
            let text = |rand: &mut dyn FnMut(u64) -> u64, refs: u64| {
                let mut s = String::from("x");
                for _ in 0..refs {
                    let filler = match rand(4) {
                        0 => 0,
                        1 => rand(20),
                        2 => rand(600),
                        _ => rand(6000),
                    };
                    s.push_str(&" y".repeat(filler as usize));
                    // Now and then a type nobody defines.
                    let t = rand(types + u64::from(round % 4 == 0));
                    s.push_str(&format!(" s#t{t} "));
                }
                s
            };
            for t in 0..types {
                let refs = rand(5);
                let name = format!("s#t{t}");
                map.insert(
                    name.clone().into_bytes(),
                    std::sync::Arc::new(Expansion::parse(name.as_bytes(), text(&mut rand, refs).as_bytes()).unwrap()),
                );
            }
            // A chain deeper than the limit, reached from some types.
            if round % 10 == 0 {
                for k in 0..MAX_DEPTH + 10 {
                    let name = format!("s#d{k}");
                    let exp = Expansion::parse(name.as_bytes(), format!("d s#d{} ", k + 1).as_bytes()).unwrap();
                    map.insert(name.into_bytes(), std::sync::Arc::new(exp));
                }
                let exp = Expansion::parse(b"s#t0", b"x s#d0 ").unwrap();
                map.insert(b"s#t0".to_vec(), std::sync::Arc::new(exp));
            }
            let frozen = Frozen::new(map.iter().map(|(k, v)| (&k[..], v)));
            let mut src = MapSource(map);
            let (mut plain, mut reuse, mut replay) = (Compiled::default(), Compiled::default(), Compiled::default());
            for i in 0..40 {
                let refs = 1 + rand(4);
                let exp = Expansion::parse(b"sym", text(&mut rand, refs).as_bytes()).unwrap();
                let a = plain.version(&exp, &mut src, false, Reuse::Not).map(|v| v.0);
                let b = reuse.version(&exp, &mut src, false, Reuse::Keep).map(|v| v.0);
                // Now and then a symbol that replays walks and keeps none.
                let mode = if i % 3 == 2 { Reuse::Replay } else { Reuse::Keep };
                let c = replay.version(&exp, &mut src, false, mode).map(|v| v.0);
                assert_eq!(a, b, "round {round}");
                assert_eq!(a, c, "round {round}, replaying");
                assert_eq!(a, frozen.version(&exp), "round {round}, frozen");
                errors += usize::from(a.is_err());
            }
            reused += reuse.walker.kept(None) as u64;
        }
        assert!(reused > 100 && errors > 10, "{reused} walks kept, {errors} errors");
    }

    /// The pass and deferred versions stop at the same depth (the frozen
    /// map's walker of its own once went one level deeper).
    #[test]
    fn frozen_maps_keep_the_depth_limit() {
        on_a_deep_stack(frozen_maps_keep_the_depth_limit_body);
    }

    fn frozen_maps_keep_the_depth_limit_body() {
        for levels in MAX_DEPTH - 1..MAX_DEPTH + 2 {
            let mut map = FxHashMap::default();
            for k in 0..levels {
                let text = if k + 1 == levels { "leaf".into() } else { format!("d s#d{} ", k + 1) };
                let name = format!("s#d{k}");
                map.insert(
                    name.clone().into_bytes(),
                    Arc::new(Expansion::parse(name.as_bytes(), text.as_bytes()).unwrap()),
                );
            }
            let frozen = Frozen::new(map.iter().map(|(k, v)| (&k[..], v)));
            let exp = Expansion::parse(b"sym", b"x s#d0 ").unwrap();
            let a = Compiled::default().version(&exp, &mut MapSource(map), false, Reuse::Not).map(|v| v.0);
            assert_eq!(a, frozen.version(&exp), "{levels} levels");
            assert_eq!(a.is_err(), levels > MAX_DEPTH, "{levels} levels");
        }
    }

    /// A walk kept where it was shallow is not replayed where it would go
    /// past the depth limit.
    #[test]
    fn reused_walks_keep_the_depth_limit() {
        on_a_deep_stack(reused_walks_keep_the_depth_limit_body);
    }

    fn reused_walks_keep_the_depth_limit_body() {
        let mut map = FxHashMap::default();
        let mut add = |name: String, text: String| {
            let exp = Expansion::parse(name.as_bytes(), text.as_bytes()).unwrap();
            map.insert(name.into_bytes(), std::sync::Arc::new(exp));
        };
        let chain = MAX_DEPTH - 5;
        for k in 0..chain {
            add(format!("s#c{k}"), format!("c s#c{} ", k + 1));
        }
        add(format!("s#c{chain}"), "c s#u0 ".into());
        for k in 0..10 {
            add(format!("s#u{k}"), format!("{} s#u{} ", "u".repeat(1000), k + 1));
        }
        add("s#u10".into(), "end".into());
        let mut src = MapSource(map);
        let (mut plain, mut reuse) = (Compiled::default(), Compiled::default());
        for sym in ["s#u0", "s#c0", "s#c20"] {
            let exp = Expansion::parse(b"sym", format!("x {sym} ").as_bytes()).unwrap();
            let a = plain.version(&exp, &mut src, false, Reuse::Not).map(|v| v.0);
            let b = reuse.version(&exp, &mut src, false, Reuse::Keep).map(|v| v.0);
            assert_eq!(a, b, "{sym}");
            assert_eq!(a.is_err(), sym == "s#c0", "{sym}");
        }
        assert!(reuse.walker.kept(reuse.table.names.get(b"s#u0")) > 0);
    }
}
