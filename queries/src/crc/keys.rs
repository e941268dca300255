//! Content keys of symbols over a frozen map: what lets salsa reuse a
//! symbol's version wherever its text and every type it reaches are the
//! same (`db::symbol_version`).

use crate::typemap::{is_type_prefix, Expansion};

use super::{Frozen, Seg};

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

impl Frozen {
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
                    match self.table.names.get(item) {
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
        let n = f.table.names.len();
        Sccs {
            f,
            index: vec![0; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            key: vec![None; n],
            next: 0,
        }
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
        members.sort_by(|a, b| self.f.table.names[*a].cmp(&self.f.table.names[*b]));
        let mut h = Hash128::new(1);
        let mut outside = Vec::new();
        for &m in &members {
            h.bytes(&self.f.table.names[m]);
            match self.f.entry(m) {
                None => h.bytes(b"\0unknown"),
                Some((segs, text)) => {
                    for &s in segs {
                        match s {
                            Seg::Text(a, b) => h.bytes(&text[a as usize..b as usize]),
                            Seg::Ref(r) => {
                                h.bytes(&self.f.table.names[r]);
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
