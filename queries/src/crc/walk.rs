//! The walk of a symbol's text: every type reference expanded in place the
//! first time the symbol meets it, its name printed after that (upstream's
//! `__calculate_version`), with walks kept and replayed across symbols
//! (see the `crc` module documentation). One walk for every way a map is
//! held (`Types`): it is what makes their CRCs the same.

use crate::error::Error;
use crate::typemap::{is_type_prefix, Expansion};

use super::out::Out;
use super::{unknown, Seg};

/// Where a walk finds types, by number.
pub(super) trait Types {
    /// What the walk holds of a type while it is inside it (a map that
    /// compiles types as they are met cannot lend its own).
    type Entry: Entry;
    fn name(&self, id: u32) -> &[u8];
    /// Every number given so far is below this.
    fn len(&self) -> usize;
    /// The number of a type the symbol's own text refers to, if it has one.
    fn top(&mut self, name: &[u8]) -> Option<u32>;
    /// The type's entry, or `None` if the map has no such type.
    fn entry(&mut self, id: u32) -> Result<Option<Self::Entry>, Error>;
}

/// A type's segments and the text they range over.
pub(super) trait Entry {
    fn segs(&self) -> &[Seg];
    fn text(&self) -> &[u8];
}

/// A walk of one type, to replay where it would go the same way.
struct Memo {
    crc: u32,
    len: u64,
    /// The types it expanded (itself first), in order.
    closure: Box<[u32]>,
    /// The types expanded before it that it printed by name.
    deps: Box<[u32]>,
    /// How much deeper than the type itself the walk went.
    depth: u32,
}

/// Walks shorter than this are not kept: hashing them again is cheaper
/// than checking their closure.
const MEMO_MIN_LEN: u64 = 4096;
/// At most this many closure entries are kept per walker (a memory bound
/// for pathological type graphs; kernel objects need tens of thousands).
const MEMO_BUDGET: usize = 1 << 22;
/// Walks kept per type (each for other dependencies).
const MEMO_VARIANTS: usize = 8;
/// Deeper nesting than this is hostile input (upstream would recurse on).
pub(super) const MAX_DEPTH: u32 = crate::MAX_NESTING;

/// What walks over one map remember: the types the current symbol has
/// expanded, and the walks kept for reuse. Kept walks hold type numbers,
/// so a walker serves one map, and must `forget` when an entry changes.
#[derive(Default)]
pub(super) struct Walker {
    /// The types expanded in the current symbol; their stamps order them.
    seen: Stamps,
    /// With `reuse`, the types expanded in the current symbol, in order
    /// (a kept walk lists those it expanded).
    marks: Vec<u32>,
    /// Names printed of types expanded before the innermost walk started
    /// (the dependencies of the walks in progress, and some more).
    deps: Vec<u32>,
    memos: Vec<Vec<Memo>>,
    memo_used: usize,
    /// Which types `keep` has listed already.
    listed: Stamps,
    /// Kept walks are replayed in the current symbol (`version`).
    reuse: bool,
    /// The current symbol's walks are kept.
    keep: bool,
}

/// What a symbol's walk does with kept walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Nothing: every type is walked.
    Not,
    /// Replays them, keeps none of its own: the last symbol of a run,
    /// whose walks no later symbol could replay (keeping one costs
    /// about twice the walk; mm/vmscan.o versions one symbol).
    Replay,
    /// Replays them and keeps its own.
    Keep,
}

impl Walker {
    /// Walks a symbol's text `exp` into `out`, replaying and keeping walks
    /// as `reuse` says; the caller must not let the map change under kept
    /// walks (`--stable` rules can).
    pub(super) fn version<T: Types>(
        &mut self,
        types: &mut T,
        exp: &Expansion,
        out: &mut Out,
        reuse: Reuse,
    ) -> Result<(), Error> {
        self.seen.clear();
        self.marks.clear();
        self.deps.clear();
        self.reuse = reuse != Reuse::Not;
        self.keep = reuse == Reuse::Keep;
        for item in exp.items() {
            if !is_type_prefix(item) {
                out.add(item);
                continue;
            }
            let Some(id) = types.top(item) else {
                return Err(unknown(item, None));
            };
            self.seen.grow(types.len());
            self.reference(types, id, None, 0, out, 0)?;
        }
        Ok(())
    }

    /// Forgets every kept walk.
    pub(super) fn forget(&mut self) {
        self.memos.iter_mut().for_each(Vec::clear);
        self.memo_used = 0;
    }

    /// The walks kept.
    #[cfg(test)]
    pub(super) fn kept(&self, id: Option<u32>) -> usize {
        match id {
            Some(id) => self.memos.get(id as usize).map_or(0, Vec::len),
            None => self.memos.iter().map(Vec::len).sum(),
        }
    }

    /// Walks `segs` over `text` (the entry of `within`) at `depth`; returns
    /// the deepest level reached.
    fn walk<T: Types>(
        &mut self,
        types: &mut T,
        segs: &[Seg],
        text: &[u8],
        within: u32,
        out: &mut Out,
        depth: u32,
    ) -> Result<u32, Error> {
        if depth > MAX_DEPTH {
            return Err(Error::new("__calculate_version", "type nesting too deep".into()));
        }
        // Names of types expanded before `within` are its dependencies.
        let floor = self.seen.stamp(within);
        let mut deepest = depth;
        for &seg in segs {
            match seg {
                Seg::Text(s, e) => out.add(&text[s as usize..e as usize]),
                Seg::Ref(id) => deepest = deepest.max(self.reference(types, id, Some(within), floor, out, depth)?),
            }
        }
        Ok(deepest)
    }

    /// A reference to `id` met at `depth` inside `within` (whose
    /// dependencies are the types stamped before `floor`): its name if the
    /// symbol has expanded it, else its expansion, replayed if it can be.
    /// Returns the deepest level reached.
    #[inline]
    fn reference<T: Types>(
        &mut self,
        types: &mut T,
        id: u32,
        within: Option<u32>,
        floor: u32,
        out: &mut Out,
        depth: u32,
    ) -> Result<u32, Error> {
        let (reuse, keep) = (self.reuse, self.keep);
        if self.seen.contains(id) {
            out.add(types.name(id));
            if keep && self.seen.stamp(id) < floor {
                self.deps.push(id);
            }
            return Ok(depth);
        }
        if reuse {
            if let Some(d) = self.replay(id, out, depth, floor) {
                return Ok(d);
            }
        }
        let Some(entry) = types.entry(id)? else {
            return Err(unknown(types.name(id), within.map(|w| types.name(w))));
        };
        self.seen.grow(types.len());
        if !keep {
            self.seen.insert(id);
            return self.walk(types, entry.segs(), entry.text(), id, out, depth + 1);
        }
        // Kept walks list the types they expanded (`marks`) and the names
        // they printed of types expanded before them (`deps`).
        let (first_mark, first_dep) = (self.marks.len(), self.deps.len());
        self.marks.push(id);
        let stamp = self.seen.insert(id);
        out.open();
        let d = self.walk(types, entry.segs(), entry.text(), id, out, depth + 1)?;
        let kept = self.memos.get(id as usize).map_or(0, Vec::len);
        if let Some(walk) = out.close(|len| len >= MEMO_MIN_LEN && kept < MEMO_VARIANTS) {
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
        Ok(d)
    }

    /// Keeps the walk of `id` just done, if it is worth it.
    fn keep(
        &mut self,
        id: u32,
        (crc, len): (u32, u64),
        stamp: u32,
        (first_mark, first_dep): (usize, usize),
        depth: u32,
    ) {
        let closure = &self.marks[first_mark..];
        if self.memo_used + closure.len() > MEMO_BUDGET {
            return;
        }
        // Each dependency once (a set, not a sort: this runs for every
        // walk kept).
        self.listed.grow(self.seen.len());
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
        if self.memos.len() <= id as usize {
            self.memos.resize_with(self.seen.len(), Vec::new);
        }
        self.memos[id as usize].push(memo);
    }

    /// Expands `id`, met at `depth` inside a walk whose dependencies are
    /// the types stamped before `floor`, from a kept walk if one applies:
    /// its dependencies expanded, nothing of its closure, and the depth
    /// limit not passed. Returns the deepest level reached.
    fn replay(&mut self, id: u32, out: &mut Out, depth: u32, floor: u32) -> Option<u32> {
        let Walker { seen, marks, deps, memos, .. } = self;
        let memo = memos.get(id as usize)?.iter().find(|m| {
            depth + 1 + m.depth <= MAX_DEPTH
                && m.deps.iter().all(|&d| seen.contains(d))
                && !m.closure.iter().any(|&c| seen.contains(c))
        })?;
        for &d in memo.deps.iter() {
            if seen.stamp(d) < floor {
                deps.push(d);
            }
        }
        out.add_hashed(memo.crc, memo.len);
        for &c in memo.closure.iter() {
            marks.push(c);
            seen.insert(c);
        }
        Some(depth + 1 + memo.depth)
    }
}

/// A set of type numbers emptied in constant time: a member holds the
/// stamp it was added with, and only stamps given since the last `clear`
/// count. Stamps only grow, so they also order the members (`stamp`).
struct Stamps {
    at: Vec<u32>,
    /// The last stamp given.
    last: u32,
    /// The first stamp of the current set.
    start: u32,
}

impl Default for Stamps {
    fn default() -> Stamps {
        Stamps { at: Vec::new(), last: 0, start: 1 }
    }
}

impl Stamps {
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

    fn len(&self) -> usize {
        self.at.len()
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
