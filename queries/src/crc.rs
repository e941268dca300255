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
//! before it started (its *dependencies*). So a walk is kept as a [`Memo`]
//! (CRC, length, closure, dependencies), and a later walk that meets the
//! type with every dependency expanded and nothing of the closure combines
//! the CRC and marks the closure instead of hashing the text again: in
//! `kernel/sched/core.o` 122 symbols expand about 50 MB of text, mostly
//! the same few structures.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::kabi::lossy;
use crate::typemap::{is_type_prefix, Expansion};

#[derive(Debug, Clone, Copy)]
enum Seg {
    /// Bytes `start..end` of the entry's text.
    Text(u32, u32),
    /// A reference to the type with this number.
    Ref(u32),
}

/// A type's map entry and its segments over the entry's text.
type Entry = (std::sync::Arc<Expansion>, Rc<[Seg]>);

/// A walk of one type, to replay where it would go the same way.
struct Memo {
    crc: u32,
    len: u64,
    /// The types it expanded (itself first), in order.
    closure: Rc<[u32]>,
    /// The types expanded before it that it printed by name.
    deps: Box<[u32]>,
    /// How much deeper than the type itself the walk went.
    depth: u32,
}

/// Walks shorter than this are not kept: hashing them again is cheaper
/// than checking their closure.
const MEMO_MIN_LEN: u64 = 4096;
/// At most this many closure entries are kept per object (a memory bound
/// for pathological type graphs; kernel objects need tens of thousands).
const MEMO_BUDGET: usize = 1 << 22;
/// Walks kept per type (each for other dependencies).
const MEMO_VARIANTS: usize = 8;
/// Deeper nesting than this is hostile input (upstream would recurse on).
const MAX_DEPTH: u32 = 4096;

/// Type names, numbered in the order they are met.
#[derive(Default)]
struct Names {
    ids: FxHashMap<Vec<u8>, u32>,
    names: Vec<Vec<u8>>,
}

impl Names {
    /// The number of `name`, and whether it is new.
    fn number(&mut self, name: &[u8]) -> (u32, bool) {
        if let Some(&id) = self.ids.get(name) {
            return (id, false);
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_vec(), id);
        self.names.push(name.to_vec());
        (id, true)
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

/// Compiled entries of one object's type map, filled lazily.
#[derive(Default)]
pub struct Compiled {
    names: Names,
    /// Per type, once met: its map entry and its segments.
    segs: Vec<Option<Entry>>,
    /// The types expanded in the current symbol; their stamps order them.
    seen: Stamps,
    /// The types expanded in the current symbol, in order.
    marks: Vec<u32>,
    /// Names printed of types expanded before the innermost walk started
    /// (the dependencies of the walks in progress, and some more).
    deps: Vec<u32>,
    memos: Vec<Vec<Memo>>,
    memo_used: usize,
    /// Which types `keep` has listed already.
    listed: Stamps,
    /// Where `compile` builds segments.
    segs_scratch: Vec<Seg>,
}

/// Where a reference's text comes from: the type map, or (under
/// `--stable`) a `type_string` rule that adds it to the map.
pub trait Source {
    fn lookup(&mut self, name: &[u8]) -> Result<Option<std::sync::Arc<Expansion>>, Error>;
}


impl Compiled {
    fn id(&mut self, name: &[u8]) -> u32 {
        let (id, new) = self.names.number(name);
        if new {
            self.segs.push(None);
            self.seen.push();
            self.memos.push(Vec::new());
            self.listed.push();
        }
        id
    }

    /// Forgets the compiled form of `name` (its map entry changed), and
    /// every kept walk, which may have expanded it.
    pub fn invalidate(&mut self, name: &[u8]) {
        if let Some(id) = self.names.get(name) {
            self.segs[id as usize] = None;
            self.memos.iter_mut().for_each(Vec::clear);
            self.memo_used = 0;
        }
    }

    // Not inlined: `walk` compiles types as it meets them and recurses up
    // to MAX_DEPTH deep, so its frame must stay small.
    #[inline(never)]
    fn compile(&mut self, exp: &Expansion) -> Rc<[Seg]> {
        // Built in a reused buffer: only the result is allocated.
        let mut segs = std::mem::take(&mut self.segs_scratch);
        segs.clear();
        segments(exp, &mut segs, |name| self.id(name));
        let compiled = segs[..].into();
        self.segs_scratch = segs;
        compiled
    }

    fn is_seen(&self, id: u32) -> bool {
        self.seen.contains(id)
    }

    /// Marks a type expanded in the current symbol; returns its stamp.
    fn mark(&mut self, id: u32) -> u32 {
        self.marks.push(id);
        self.seen.insert(id)
    }

    /// The CRC of `exp` (a symbol's text) and, when `dump` is set, the
    /// expanded string itself (`--dump-versions`). With `reuse`, walks are
    /// kept and reused across symbols (see the module documentation); the
    /// caller must not let the map change under them (`--stable` rules can).
    pub fn version(&mut self, exp: &Expansion, src: &mut dyn Source, dump: bool, reuse: bool) -> Result<(u32, Option<Vec<u8>>), Error> {
        self.seen.clear();
        self.marks.clear();
        self.deps.clear();
        let top = self.compile(exp);
        let mut out = Out::new(dump);
        self.walk(&top, &exp.text, None, src, &mut out, 0, reuse && !dump)?;
        Ok(out.finish())
    }

    /// Walks `segs` over `text` (the entry of `within`, if not the symbol's
    /// own) at `depth`; returns the deepest level reached.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        segs: &[Seg],
        text: &[u8],
        within: Option<u32>,
        src: &mut dyn Source,
        out: &mut Out,
        depth: u32,
        reuse: bool,
    ) -> Result<u32, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new("__calculate_version", "type nesting too deep".into()));
        }
        // Names of types expanded before `within` are its dependencies.
        let floor = within.map_or(0, |w| self.seen.stamp(w));
        let mut deepest = depth;
        for &seg in segs {
            match seg {
                Seg::Text(s, e) => out.add(&text[s as usize..e as usize]),
                Seg::Ref(id) => {
                    if self.is_seen(id) {
                        out.add(&self.names[id]);
                        if reuse && self.seen.stamp(id) < floor {
                            self.deps.push(id);
                        }
                        continue;
                    }
                    if reuse {
                        if let Some(d) = self.replay(id, out, depth, floor) {
                            deepest = deepest.max(d);
                            continue;
                        }
                    }
                    let (exp, inner) = match self.segs[id as usize].clone() {
                        Some(c) => c,
                        None => {
                            let Some(exp) = src.lookup(&self.names[id])? else {
                                return Err(unknown(&self.names[id], within.map(|w| &self.names[w][..])));
                            };
                            let s = self.compile(&exp);
                            self.segs[id as usize] = Some((exp.clone(), s.clone()));
                            (exp, s)
                        }
                    };
                    let (first_mark, first_dep) = (self.marks.len(), self.deps.len());
                    let stamp = self.mark(id);
                    if reuse {
                        out.open();
                    }
                    let d = self.walk(&inner, &exp.text, Some(id), src, out, depth + 1, reuse)?;
                    deepest = deepest.max(d);
                    if reuse {
                        let memos = &self.memos[id as usize];
                        if let Some(walk) = out.close(|len| len >= MEMO_MIN_LEN && memos.len() < MEMO_VARIANTS) {
                            self.keep(id, walk, stamp, (first_mark, first_dep), d - (depth + 1));
                        }
                        // What the parent depends on of this walk's dependencies.
                        let mut k = first_dep;
                        for i in first_dep..self.deps.len() {
                            if self.seen.stamp(self.deps[i]) < floor {
                                self.deps[k] = self.deps[i];
                                k += 1;
                            }
                        }
                        self.deps.truncate(k);
                    }
                }
            }
        }
        Ok(deepest)
    }

    /// Keeps the walk of `id` just done, if it is worth it.
    fn keep(&mut self, id: u32, (crc, len): (u32, u64), stamp: u32, (first_mark, first_dep): (usize, usize), depth: u32) {
        let closure = &self.marks[first_mark..];
        if self.memo_used + closure.len() > MEMO_BUDGET {
            return;
        }
        // Each dependency once (a set, not a sort: this runs for every
        // walk kept).
        self.listed.clear();
        let mut deps = Vec::new();
        for &d in &self.deps[first_dep..] {
            if self.seen.stamp(d) < stamp && !self.listed.contains(d) {
                self.listed.insert(d);
                deps.push(d);
            }
        }
        self.memo_used += closure.len() + deps.len();
        let memo = Memo { crc, len, closure: closure.into(), deps: deps.into(), depth };
        self.memos[id as usize].push(memo);
    }

    /// Expands `id`, met at `depth` inside a walk whose dependencies are
    /// the types stamped before `floor`, from a kept walk if one applies:
    /// its dependencies expanded, nothing of its closure, and the depth
    /// limit not passed. Returns the deepest level reached.
    fn replay(&mut self, id: u32, out: &mut Out, depth: u32, floor: u32) -> Option<u32> {
        let memo = self.memos[id as usize].iter().find(|m| {
            depth + 1 + m.depth <= MAX_DEPTH
                && m.deps.iter().all(|&d| self.is_seen(d))
                && !m.closure.iter().any(|&c| self.is_seen(c))
        })?;
        let (crc, len, deepest) = (memo.crc, memo.len, depth + 1 + memo.depth);
        let closure = memo.closure.clone();
        for &d in memo.deps.iter() {
            if self.seen.stamp(d) < floor {
                self.deps.push(d);
            }
        }
        out.add_hashed(crc, len);
        for &c in closure.iter() {
            self.mark(c);
        }
        Some(deepest)
    }
}

/// A set of type ids emptied in constant time: a member holds the stamp it
/// was added with, and only stamps given since the last `clear` count.
/// Stamps only grow, so they also order the members (`stamp`).
struct Stamps {
    at: Vec<u32>,
    /// The last stamp given.
    last: u32,
    /// The first stamp of the current set.
    start: u32,
}

impl Stamps {
    const fn new() -> Stamps {
        Stamps { at: Vec::new(), last: 0, start: 1 }
    }

    fn clear(&mut self) {
        // Start over (zeroing) before the stamps could wrap: each set
        // takes at most one stamp per id.
        if self.last > u32::MAX / 2 {
            self.at.fill(0);
            self.last = 0;
        }
        self.start = self.last + 1;
    }

    /// Makes room for ids below `n`.
    fn grow(&mut self, n: usize) {
        if self.at.len() < n {
            self.at.resize(n, 0);
        }
    }

    /// Makes room for one more id.
    fn push(&mut self) {
        self.at.push(0);
    }

    fn contains(&self, id: u32) -> bool {
        self.at[id as usize] >= self.start
    }

    /// Adds `id`; returns its stamp.
    fn insert(&mut self, id: u32) -> u32 {
        self.last += 1;
        self.at[id as usize] = self.last;
        self.last
    }

    /// When `id` was added: below every member's stamp if it is not one.
    fn stamp(&self, id: u32) -> u32 {
        self.at[id as usize]
    }
}

impl Default for Stamps {
    fn default() -> Stamps {
        Stamps::new()
    }
}

/// The hash (and maybe the text) of an expansion. Segments are short, and
/// CRC-32 is much faster over long runs, so they are gathered in a buffer.
/// Open frames (the walks in progress that may be kept) learn the hash of
/// the text before them when the buffer is hashed.
struct Out {
    /// The hash of the first `hashed` bytes.
    crc: crc32fast::Hasher,
    hashed: u64,
    /// The bytes after them.
    buf: Vec<u8>,
    text: Option<Vec<u8>>,
    /// Open frames, by start: where each starts and, once that part is
    /// hashed, the hash of the text before it.
    frames: Vec<(u64, Option<u32>)>,
}

const OUT_BUF: usize = 16 << 10;

impl Out {
    fn new(dump: bool) -> Out {
        Out {
            crc: crc32fast::Hasher::new(),
            hashed: 0,
            buf: Vec::with_capacity(OUT_BUF),
            text: dump.then(Vec::new),
            frames: Vec::new(),
        }
    }

    fn len(&self) -> u64 {
        self.hashed + self.buf.len() as u64
    }

    fn add(&mut self, s: &[u8]) {
        if let Some(t) = &mut self.text {
            t.extend_from_slice(s);
        }
        if self.buf.len() + s.len() > OUT_BUF {
            self.flush();
            if s.len() > OUT_BUF {
                self.crc.update(s);
                self.hashed += s.len() as u64;
                return;
            }
        }
        self.buf.extend_from_slice(s);
    }

    /// Appends text known only by its CRC and length.
    fn add_hashed(&mut self, crc: u32, len: u64) {
        self.flush();
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(crc, len));
        self.hashed += len;
    }

    /// Hashes the buffer, telling the open frames that start in it the
    /// hash of the text before them.
    fn flush(&mut self) {
        // Frames opened since the last flush come last.
        let first = self.frames.iter().rposition(|f| f.1.is_some()).map_or(0, |i| i + 1);
        let mut at = 0;
        for f in &mut self.frames[first..] {
            let off = (f.0 - self.hashed) as usize;
            self.crc.update(&self.buf[at..off]);
            at = off;
            f.1 = Some(self.crc.clone().finalize());
        }
        self.crc.update(&self.buf[at..]);
        self.hashed += self.buf.len() as u64;
        self.buf.clear();
    }

    fn open(&mut self) {
        let at = self.len();
        let before = self.buf.is_empty().then(|| self.crc.clone().finalize());
        self.frames.push((at, before));
    }

    /// Closes the innermost frame; if `want` its length, the CRC and length
    /// of the text since it opened (most frames are not kept: their CRC
    /// would hash their text a second time for nothing).
    fn close(&mut self, want: impl FnOnce(u64) -> bool) -> Option<(u32, u64)> {
        let (start, before) = self.frames.pop()?;
        let len = self.len() - start;
        if !want(len) {
            return None;
        }
        let crc = match before {
            // Still in the buffer: hash it on its own.
            None => crc32fast::hash(&self.buf[(start - self.hashed) as usize..]),
            // CRC(a b) = shift(CRC(a), |b|) ^ CRC(b), and shift(c, n) is
            // combining c with the CRC 0 of n bytes.
            Some(before) => {
                let mut all = self.crc.clone();
                all.update(&self.buf);
                let mut shifted = crc32fast::Hasher::new_with_initial_len(before, 0);
                shifted.combine(&crc32fast::Hasher::new_with_initial_len(0, len));
                all.finalize() ^ shifted.finalize()
            }
        };
        Some((crc, len))
    }

    fn finish(mut self) -> (u32, Option<Vec<u8>>) {
        self.flush();
        (self.crc.finalize(), self.text)
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
    names: Names,
    /// Per id: its map entry and segments, or `None` for a name that is
    /// only referred to (expanding it is upstream's "unknown type reference").
    entries: Vec<Option<FrozenEntry>>,
}

/// A type's map entry and its segments over the entry's text.
type FrozenEntry = (std::sync::Arc<Expansion>, Box<[Seg]>);

/// A 128-bit content key (XXH3-128, as `unitcache`'s unit keys).
/// Collisions would give a wrong CRC, so 64 bits are not enough for a
/// kernel's millions of closures over a long watch session.
pub type Fingerprint = u128;

/// A [`Fingerprint`] in the making: length-prefixed strings and other keys.
struct Hash128(twox_hash::XxHash3_128);

impl Hash128 {
    fn new(tag: u8) -> Hash128 {
        let mut h = twox_hash::XxHash3_128::new();
        h.write(&[tag]);
        Hash128(h)
    }

    fn bytes(&mut self, s: &[u8]) {
        self.0.write(&(s.len() as u64).to_le_bytes());
        self.0.write(s);
    }

    fn key(&mut self, k: Fingerprint) {
        self.0.write(&k.to_le_bytes());
    }

    fn finish(&self) -> Fingerprint {
        self.0.finish_128()
    }
}

thread_local! {
    /// Per-thread "already expanded" stamps, reused across versions so a
    /// symbol does not clear an array the size of the whole map.
    static SEEN: std::cell::RefCell<Stamps> = const { std::cell::RefCell::new(Stamps::new()) };
}

impl Frozen {
    pub fn new<'m>(map: impl Iterator<Item = (&'m [u8], &'m std::sync::Arc<Expansion>)>) -> Frozen {
        let mut f = Frozen { names: Names::default(), entries: Vec::new() };
        for (name, exp) in map {
            let id = f.id(name);
            let mut segs = Vec::new();
            segments(exp, &mut segs, |n| f.id(n));
            f.entries[id as usize] = Some((exp.clone(), segs.into()));
        }
        f
    }

    fn id(&mut self, name: &[u8]) -> u32 {
        let (id, new) = self.names.number(name);
        if new {
            self.entries.push(None);
        }
        id
    }

    /// A type's segments and the text they range over.
    fn entry(&self, id: u32) -> Option<(&[Seg], &[u8])> {
        self.entries[id as usize].as_ref().map(|(e, s)| (&s[..], &e.text[..]))
    }

    /// The CRC of `exp` (a symbol's text): the same walk as
    /// [`Compiled::version`].
    pub fn version(&self, exp: &Expansion) -> Result<u32, Error> {
        SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            seen.clear();
            seen.grow(self.names.len());
            let mut out = Out::new(false);
            for item in exp.items() {
                if !is_type_prefix(item) {
                    out.add(item);
                    continue;
                }
                let Some(id) = self.names.get(item) else {
                    return Err(unknown(item, None));
                };
                self.visit(id, None, &mut seen, &mut out, 0)?;
            }
            Ok(out.finish().0)
        })
    }

    fn visit(&self, id: u32, within: Option<u32>, seen: &mut Stamps, out: &mut Out, depth: u32) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new("__calculate_version", "type nesting too deep".into()));
        }
        if seen.contains(id) {
            out.add(&self.names[id]);
            return Ok(());
        }
        let Some((segs, text)) = self.entry(id) else {
            return Err(unknown(&self.names[id], within.map(|w| &self.names[w])));
        };
        seen.insert(id);
        for &seg in segs {
            match seg {
                Seg::Text(s, e) => out.add(&text[s as usize..e as usize]),
                Seg::Ref(r) => self.visit(r, Some(id), seen, out, depth + 1)?,
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
        self.f.entry(id).map(|(s, _)| s).unwrap_or_default().iter().filter_map(|s| match *s {
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
            match self.f.entry(m) {
                None => h.bytes(b"\0unknown"),
                Some((segs, text)) => {
                    for &s in segs {
                        match s {
                            Seg::Text(a, b) => h.bytes(&text[a as usize..b as usize]),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` with the stack the engine's threads have: walks recurse up
    /// to MAX_DEPTH deep, more than a test thread's default stack holds.
    fn on_a_deep_stack(f: fn()) {
        std::thread::Builder::new().stack_size(64 << 20).spawn(f).unwrap().join().unwrap();
    }

    /// The CRC of a frame's text, however the buffer was hashed around it.
    #[test]
    fn frames_hash_their_own_text() {
        let text: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for (start, end, step) in [(0, 10, 3), (5, 20_000, 1000), (17_000, 17_001, 1), (100, 99_000, 7000), (16_384, 40_000, 16_384)] {
            let mut out = Out::new(false);
            let mut at = 0;
            while at < text.len() {
                if at == start {
                    out.open();
                }
                if at == end {
                    let (crc, len) = out.close(|_| true).unwrap();
                    assert_eq!((crc, len), (crc32fast::hash(&text[start..end]), (end - start) as u64), "{start}..{end}");
                }
                let next = (at + step).min(text.len());
                let next = if at < start && next > start { start } else if at < end && next > end { end } else { next };
                out.add(&text[at..next]);
                at = next;
            }
            assert_eq!(out.finish().0, crc32fast::hash(&text));
        }
    }

    struct MapSource(FxHashMap<Vec<u8>, std::sync::Arc<Expansion>>);

    impl Source for MapSource {
        fn lookup(&mut self, name: &[u8]) -> Result<Option<std::sync::Arc<Expansion>>, Error> {
            Ok(self.0.get(name).cloned())
        }
    }

    /// Reusing walks never changes a CRC or an error: random type graphs
    /// (cycles, shared subtypes, missing types, nesting past the limit),
    /// symbols versioned in sequence with and without reuse.
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
                map.insert(name.clone().into_bytes(), std::sync::Arc::new(Expansion::parse(name.as_bytes(), text(&mut rand, refs).as_bytes()).unwrap()));
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
            let mut src = MapSource(map);
            let (mut plain, mut reuse) = (Compiled::default(), Compiled::default());
            for _ in 0..40 {
                let refs = 1 + rand(4);
                let exp = Expansion::parse(b"sym", text(&mut rand, refs).as_bytes()).unwrap();
                let a = plain.version(&exp, &mut src, false, false).map(|v| v.0);
                let b = reuse.version(&exp, &mut src, false, true).map(|v| v.0);
                assert_eq!(a, b, "round {round}");
                errors += usize::from(a.is_err());
            }
            reused += reuse.memos.iter().map(|m| m.len() as u64).sum::<u64>();
        }
        assert!(reused > 100 && errors > 10, "{reused} walks kept, {errors} errors");
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
            let a = plain.version(&exp, &mut src, false, false).map(|v| v.0);
            let b = reuse.version(&exp, &mut src, false, true).map(|v| v.0);
            assert_eq!(a, b, "{sym}");
            assert_eq!(a.is_err(), sym == "s#c0", "{sym}");
        }
        assert!(!reuse.memos[reuse.names.get(b"s#u0").unwrap() as usize].is_empty());
    }

    #[test]
    fn hashed_text_combines() {
        let (a, b) = (b"struct foo { int x; }".as_slice(), vec![b'y'; 40_000]);
        let mut out = Out::new(false);
        out.add(a);
        out.add_hashed(crc32fast::hash(&b), b.len() as u64);
        out.add(a);
        assert_eq!(out.finish().0, crc32fast::hash(&[a, &b, a].concat()));
    }
}
