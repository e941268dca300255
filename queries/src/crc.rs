//! Symbol versions: CRC-32 over a symbol's type string with every type
//! reference expanded in place the first time the symbol meets it.
//!
//! This is upstream's `__calculate_version`, run over a compiled form of
//! the type map: each entry becomes a list of segments (a run of plain text,
//! or a reference by number), so expanding a symbol hashes text straight
//! from the entries — no name lookups, no copying into a buffer — and the
//! per-symbol "already expanded" set is a generation-stamped array.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::kabi::lossy;
use crate::typemap::{is_type_prefix, Expansion};

#[derive(Debug, Clone, Copy)]
enum Seg {
    /// Bytes `start..end` of the arena.
    Text(u32, u32),
    /// A reference to the type with this number.
    Ref(u32),
}

/// Type names by number.
#[derive(Default)]
struct Names {
    ids: FxHashMap<Vec<u8>, u32>,
    names: Vec<Vec<u8>>,
}

impl Names {
    /// The number of `name`, numbering it if it is new.
    fn id(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_vec(), id);
        self.names.push(name.to_vec());
        id
    }

    fn get(&self, name: &[u8]) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

impl std::ops::Index<u32> for Names {
    type Output = [u8];
    fn index(&self, id: u32) -> &[u8] {
        &self.names[id as usize]
    }
}

/// Appends the segments of `exp` to `segs` and its text to `arena`,
/// numbering the types it refers to.
fn compile(exp: &Expansion, names: &mut Names, arena: &mut Vec<u8>, segs: &mut Vec<Seg>) {
    let mut text_start: Option<u32> = None;
    for item in exp.items() {
        if is_type_prefix(item) {
            if let Some(s) = text_start.take() {
                segs.push(Seg::Text(s, arena.len() as u32));
            }
            segs.push(Seg::Ref(names.id(item)));
        } else {
            text_start.get_or_insert(arena.len() as u32);
            arena.extend_from_slice(item);
        }
    }
    if let Some(s) = text_start {
        segs.push(Seg::Text(s, arena.len() as u32));
    }
}

/// Compiled entries of one object's type map, filled lazily.
#[derive(Default)]
pub struct Compiled {
    names: Names,
    segs: Vec<Option<Rc<[Seg]>>>,
    arena: Vec<u8>,
    seen: Vec<u32>,
    generation: u32,
}

/// Where a reference's text comes from: the type map, or (under
/// `--stable`) a `type_string` rule that adds it to the map.
pub trait Source {
    fn lookup(&mut self, name: &[u8]) -> Result<Option<std::sync::Arc<Expansion>>, Error>;
}

impl Compiled {
    /// Forgets the compiled form of `name` (its map entry changed).
    pub fn invalidate(&mut self, name: &[u8]) {
        if let Some(id) = self.names.get(name) {
            self.segs[id as usize] = None;
        }
    }

    fn compile(&mut self, exp: &Expansion) -> Rc<[Seg]> {
        let mut segs = Vec::new();
        compile(exp, &mut self.names, &mut self.arena, &mut segs);
        // Newly numbered names start uncompiled and unseen.
        self.segs.resize(self.names.len(), None);
        self.seen.resize(self.names.len(), 0);
        segs.into()
    }

    /// The CRC of `exp` (a symbol's text) and, when `dump` is set, the
    /// expanded string itself (`--dump-versions`).
    pub fn version(&mut self, exp: &Expansion, src: &mut dyn Source, dump: bool) -> Result<(u32, Option<Vec<u8>>), Error> {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let top = self.compile(exp);
        let mut out = Out::new(dump);
        self.walk(&top, None, src, &mut out, 0)?;
        Ok(out.finish())
    }

    fn walk(&mut self, segs: &[Seg], within: Option<u32>, src: &mut dyn Source, out: &mut Out, depth: u32) -> Result<(), Error> {
        if depth > 4096 {
            return Err(Error::new("__calculate_version", "type nesting too deep".into()));
        }
        for &seg in segs {
            match seg {
                Seg::Text(s, e) => out.add(&self.arena[s as usize..e as usize]),
                Seg::Ref(id) => {
                    if self.seen[id as usize] == self.generation {
                        out.add(&self.names[id]);
                        continue;
                    }
                    let inner = match self.segs[id as usize].clone() {
                        Some(s) => s,
                        None => {
                            let name = self.names[id].to_vec();
                            let Some(exp) = src.lookup(&name)? else {
                                let within = within
                                    .map(|w| lossy(&self.names[w]).into_owned())
                                    .unwrap_or_else(|| "(null)".into());
                                return Err(Error::new(
                                    "__calculate_version",
                                    format!("unknown type reference to '{}' when expanding '{}'", lossy(&name), within),
                                ));
                            };
                            let s = self.compile(&exp);
                            self.segs[id as usize] = Some(s.clone());
                            s
                        }
                    };
                    self.seen[id as usize] = self.generation;
                    self.walk(&inner, Some(id), src, out, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// The hash (and maybe the text) of an expansion. Segments are short, and
/// CRC-32 is much faster over long runs, so they are gathered in a buffer.
struct Out {
    crc: crc32fast::Hasher,
    buf: Vec<u8>,
    text: Option<Vec<u8>>,
}

const OUT_BUF: usize = 16 << 10;

impl Out {
    fn new(dump: bool) -> Out {
        Out { crc: crc32fast::Hasher::new(), buf: Vec::with_capacity(OUT_BUF), text: dump.then(Vec::new) }
    }

    fn add(&mut self, s: &[u8]) {
        if let Some(t) = &mut self.text {
            t.extend_from_slice(s);
        }
        if self.buf.len() + s.len() > OUT_BUF {
            self.crc.update(&self.buf);
            self.buf.clear();
            if s.len() > OUT_BUF {
                self.crc.update(s);
                return;
            }
        }
        self.buf.extend_from_slice(s);
    }

    fn finish(mut self) -> (u32, Option<Vec<u8>>) {
        self.crc.update(&self.buf);
        (self.crc.finalize(), self.text)
    }
}

/// A whole type map compiled once and then only read: versions over a map
/// that no `--stable` rule can extend, from any number of threads at once,
/// and the content keys ([`Frozen::fingerprints`]) that let salsa reuse a
/// symbol's version wherever its text and every type it reaches are the same.
pub struct Frozen {
    names: Names,
    /// Per id: its segments in `segs`, or `None` for a name that is only
    /// referred to (expanding it is upstream's "unknown type reference").
    spans: Vec<Option<(u32, u32)>>,
    segs: Vec<Seg>,
    arena: Vec<u8>,
}

/// A 128-bit content key: two SipHash runs with different first bytes.
/// Collisions would give a wrong CRC, so 64 bits are not enough for a
/// kernel's millions of closures over a long watch session.
pub type Fingerprint = u128;

struct Hash128(std::collections::hash_map::DefaultHasher, std::collections::hash_map::DefaultHasher);

impl Hash128 {
    fn new(tag: u8) -> Hash128 {
        use std::hash::Hasher;
        let mut a = std::collections::hash_map::DefaultHasher::new();
        let mut b = std::collections::hash_map::DefaultHasher::new();
        a.write_u8(tag);
        b.write_u8(tag ^ 0xa5);
        b.write_u64(0x9e37_79b9_7f4a_7c15);
        Hash128(a, b)
    }

    fn bytes(&mut self, s: &[u8]) {
        use std::hash::Hasher;
        self.0.write_usize(s.len());
        self.0.write(s);
        self.1.write_usize(s.len());
        self.1.write(s);
    }

    fn key(&mut self, k: Fingerprint) {
        use std::hash::Hasher;
        self.0.write_u128(k);
        self.1.write_u128(k);
    }

    fn finish(&self) -> Fingerprint {
        use std::hash::Hasher;
        ((self.0.finish() as u128) << 64) | self.1.finish() as u128
    }
}

thread_local! {
    /// Per-thread "already expanded" stamps, reused across versions so a
    /// symbol does not clear an array the size of the whole map.
    static SEEN: std::cell::RefCell<(Vec<u32>, u32)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

impl Frozen {
    pub fn new<'m>(entries: impl Iterator<Item = (&'m [u8], &'m Expansion)>) -> Frozen {
        let mut f = Frozen { names: Names::default(), spans: Vec::new(), segs: Vec::new(), arena: Vec::new() };
        for (name, exp) in entries {
            let id = f.names.id(name);
            let start = f.segs.len() as u32;
            compile(exp, &mut f.names, &mut f.arena, &mut f.segs);
            f.spans.resize(f.names.len(), None);
            f.spans[id as usize] = Some((start, f.segs.len() as u32));
        }
        f
    }

    fn segs_of(&self, id: u32) -> Option<&[Seg]> {
        self.spans[id as usize].map(|(s, e)| &self.segs[s as usize..e as usize])
    }

    /// The CRC of `exp` (a symbol's text) and, when `dump` is set, the
    /// expanded string: the same walk as [`Compiled::version`].
    pub fn version(&self, exp: &Expansion, dump: bool) -> Result<(u32, Option<Vec<u8>>), Error> {
        SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            let (stamps, generation) = &mut *seen;
            *generation = generation.wrapping_add(1);
            if *generation == 0 || stamps.len() < self.names.len() {
                stamps.clear();
                stamps.resize(self.names.len(), 0);
                *generation = 1;
            }
            let mut out = Out::new(dump);
            for item in exp.items() {
                if !is_type_prefix(item) {
                    out.add(item);
                    continue;
                }
                let Some(id) = self.names.get(item) else {
                    return Err(unknown(item, None));
                };
                self.visit(id, None, stamps, *generation, &mut out, 0)?;
            }
            Ok(out.finish())
        })
    }

    fn visit(&self, id: u32, within: Option<u32>, seen: &mut [u32], generation: u32, out: &mut Out, depth: u32) -> Result<(), Error> {
        if depth > 4096 {
            return Err(Error::new("__calculate_version", "type nesting too deep".into()));
        }
        if seen[id as usize] == generation {
            out.add(&self.names[id]);
            return Ok(());
        }
        let Some(segs) = self.segs_of(id) else {
            return Err(unknown(&self.names[id], within.map(|w| &self.names[w])));
        };
        seen[id as usize] = generation;
        for &seg in segs {
            match seg {
                Seg::Text(s, e) => out.add(&self.arena[s as usize..e as usize]),
                Seg::Ref(r) => self.visit(r, Some(id), seen, generation, out, depth + 1)?,
            }
        }
        Ok(())
    }

    /// A content key per symbol text: equal keys mean the same text and the
    /// same text for every type it reaches, hence the same CRC (or the same
    /// failure). Types are keyed by strongly connected component (types
    /// refer to each other through pointers), each component from its
    /// members' names and texts and the keys of the components it reaches.
    pub fn fingerprints<'e>(&self, tops: impl Iterator<Item = &'e Expansion>) -> Vec<Fingerprint> {
        let mut scc = Sccs::new(self);
        tops.map(|exp| {
            let mut h = Hash128::new(2);
            for item in exp.items() {
                h.bytes(item);
                if is_type_prefix(item) {
                    match self.names.get(item) {
                        Some(id) => h.key(scc.key(id)),
                        None => h.key(0),
                    }
                }
            }
            h.finish()
        })
        .collect()
    }
}

fn unknown(name: &[u8], within: Option<&[u8]>) -> Error {
    let within = within.map(|w| lossy(w).into_owned()).unwrap_or_else(|| "(null)".into());
    Error::new(
        "__calculate_version",
        format!("unknown type reference to '{}' when expanding '{}'", lossy(name), within),
    )
}

/// Tarjan's strongly connected components over a [`Frozen`] map's
/// references, iteratively (type graphs are deep), computed on demand from
/// the types symbols reach, with each component's key.
struct Sccs<'f> {
    f: &'f Frozen,
    /// Per id: 0 = unvisited, else its DFS index + 1.
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// Per id: its component's key, once the component is complete.
    key: Vec<Option<Fingerprint>>,
    next: u32,
}

impl<'f> Sccs<'f> {
    fn new(f: &'f Frozen) -> Sccs<'f> {
        let n = f.names.len();
        Sccs { f, index: vec![0; n], low: vec![0; n], on_stack: vec![false; n], stack: Vec::new(), key: vec![None; n], next: 0 }
    }

    fn refs(&self, id: u32) -> impl Iterator<Item = u32> + 'f {
        self.f.segs_of(id).unwrap_or_default().iter().filter_map(|s| match *s {
            Seg::Ref(r) => Some(r),
            Seg::Text(..) => None,
        })
    }

    fn key(&mut self, root: u32) -> Fingerprint {
        if let Some(k) = self.key[root as usize] {
            return k;
        }
        // Frames: (id, its references, how many were taken).
        let mut frames: Vec<(u32, Vec<u32>, usize)> = Vec::new();
        self.open(root, &mut frames);
        while let Some(top) = frames.last_mut() {
            let (id, ref refs, ref mut at) = *top;
            if *at < refs.len() {
                let r = refs[*at];
                *at += 1;
                if self.index[r as usize] == 0 {
                    self.open(r, &mut frames);
                } else if self.on_stack[r as usize] {
                    self.low[id as usize] = self.low[id as usize].min(self.index[r as usize]);
                }
                continue;
            }
            frames.pop();
            if let Some(parent) = frames.last() {
                let p = parent.0 as usize;
                self.low[p] = self.low[p].min(self.low[id as usize]);
            }
            if self.low[id as usize] == self.index[id as usize] {
                self.close(id);
            }
        }
        self.key[root as usize].expect("the root's component is closed")
    }

    fn open(&mut self, id: u32, frames: &mut Vec<(u32, Vec<u32>, usize)>) {
        self.next += 1;
        self.index[id as usize] = self.next;
        self.low[id as usize] = self.next;
        self.on_stack[id as usize] = true;
        self.stack.push(id);
        frames.push((id, self.refs(id).collect(), 0));
    }

    /// Pops the component rooted at `id` and keys it: members by name, each
    /// with its text (or "unknown"), then the keys of the other components
    /// they reach, sorted (all of them are complete by now).
    fn close(&mut self, id: u32) {
        let mut members = Vec::new();
        loop {
            let m = self.stack.pop().expect("Tarjan stack holds the component");
            self.on_stack[m as usize] = false;
            members.push(m);
            if m == id {
                break;
            }
        }
        members.sort_by(|a, b| self.f.names[*a].cmp(&self.f.names[*b]));
        let mut h = Hash128::new(1);
        let mut outside = Vec::new();
        for &m in &members {
            h.bytes(&self.f.names[m]);
            match self.f.segs_of(m) {
                None => h.bytes(b"\0unknown"),
                Some(segs) => {
                    for &s in segs {
                        match s {
                            Seg::Text(a, b) => h.bytes(&self.f.arena[a as usize..b as usize]),
                            Seg::Ref(r) => {
                                h.bytes(&self.f.names[r]);
                                if let Some(k) = self.key[r as usize] {
                                    outside.push(k);
                                }
                            }
                        }
                    }
                }
            }
        }
        outside.sort_unstable();
        outside.dedup();
        for k in outside {
            h.key(k);
        }
        let k = h.finish();
        for m in members {
            self.key[m as usize] = Some(k);
        }
    }
}
