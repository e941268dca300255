//! The run-level table of exported symbols, with upstream's hash order and
//! alias groups.
//!
//! Every "for all symbols" loop upstream walks a 4096-bucket hash table:
//! buckets in order, newest entry first within a bucket. Output order, the
//! order pointer symbols are processed in and which alias wins all follow
//! from it, so the table keeps exactly that layout.

use std::collections::HashMap;

/// Names with this prefix are the kernel's `__gendwarfksyms_ptr_<sym>` pointers.
pub const PTR_PREFIX: &[u8] = b"__gendwarfksyms_ptr_";
const BUCKETS: usize = 4096;
const SHN_UNDEF: u32 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymState {
    Unprocessed,
    /// A DIE has been chosen.
    Mapped,
    /// The CRC is known.
    Processed,
}

/// Identifies a DIE across the objects of one run: objects are numbered in
/// command-line order, so a DIE of an earlier object never matches.
pub type DieRef = (u32, u32);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Symbol {
    pub name: Vec<u8>,
    /// (section index, value); section 0 = no address yet.
    pub addr: (u32, u64),
    pub state: SymState,
    pub die: Option<DieRef>,
    pub ptr_die: Option<DieRef>,
    pub crc: u32,
}

/// The symbol table of a run. Cloneable so that a fold over objects can
/// hand each object the table as the previous one left it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SymbolTable {
    pub syms: Vec<Symbol>,
    /// Output order: bucket by bucket, newest first.
    order: Vec<u32>,
    /// Plain (prefix-less) name -> symbol; upstream never stores a name twice.
    by_name: Vec<(Vec<u8>, u32)>,
    /// Address -> symbols in the order they got it.
    by_addr: Vec<((u32, u64), Vec<u32>)>,
    /// Per first byte of a name in `by_name`, a bit for its length (63 for
    /// 63 and longer). Matching looks up every function and variable a
    /// unit declares, nearly all of them not exported: this turns most
    /// away without the binary search's comparisons (on
    /// kernel/sched/build_utility.o, about 2,000 DIEs for 75 names).
    lengths: Vec<u64>,
}

fn length_bit(name: &[u8]) -> u64 {
    1 << name.len().min(63)
}

/// Upstream's bucket: FNV-1a over signed chars, low 12 bits.
pub fn bucket(name: &[u8]) -> usize {
    let mut h: u32 = 2166136261;
    for &b in name {
        h ^= b as i8 as i32 as u32;
        h = h.wrapping_mul(16777619);
    }
    (h as usize) % BUCKETS
}

pub fn strip_ptr_prefix(name: &[u8]) -> &[u8] {
    name.strip_prefix(PTR_PREFIX).unwrap_or(name)
}

impl SymbolTable {
    /// Builds the table from the stdin list; duplicates (after prefix
    /// stripping) are dropped as upstream drops them. Returns the table and
    /// the names actually added, in input order.
    pub fn new(names: &[Vec<u8>]) -> (SymbolTable, Vec<Vec<u8>>) {
        let mut syms = Vec::new();
        let mut index: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut added = Vec::new();
        for name in names {
            if name.is_empty() || index.contains_key(strip_ptr_prefix(name)) {
                continue;
            }
            let id = syms.len() as u32;
            // A prefixed name is stored but can never be found by a lookup.
            if !name.starts_with(PTR_PREFIX) {
                index.insert(name.clone(), id);
            }
            syms.push(Symbol {
                name: name.clone(),
                addr: (SHN_UNDEF, 0),
                state: SymState::Unprocessed,
                die: None,
                ptr_die: None,
                crc: 0,
            });
            added.push(name.clone());
        }
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); BUCKETS];
        for (id, s) in syms.iter().enumerate() {
            buckets[bucket(&s.name)].push(id as u32);
        }
        let order = buckets.into_iter().flat_map(|b| b.into_iter().rev()).collect();
        let mut by_name: Vec<(Vec<u8>, u32)> = index.into_iter().collect();
        by_name.sort();
        let mut lengths = vec![0; 256];
        for (n, _) in &by_name {
            lengths[n[0] as usize] |= length_bit(n);
        }
        (SymbolTable { syms, order, by_name, by_addr: Vec::new(), lengths }, added)
    }

    /// Symbol ids in upstream's iteration (and output) order.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    pub fn lookup(&self, name: &[u8]) -> Option<u32> {
        let name = strip_ptr_prefix(name);
        if name.is_empty() || self.lengths[name[0] as usize] & length_bit(name) == 0 {
            return None;
        }
        self.by_name.binary_search_by(|(n, _)| n.as_slice().cmp(name)).ok().map(|i| self.by_name[i].1)
    }

    /// The symbol named `name` and then its aliases, in upstream's visiting
    /// order (aliases most recently addressed first).
    pub fn group(&self, name: &[u8]) -> Vec<u32> {
        let Some(id) = self.lookup(name) else { return Vec::new() };
        self.group_of(id)
    }

    pub fn group_of(&self, id: u32) -> Vec<u32> {
        let mut out = vec![id];
        let addr = self.syms[id as usize].addr;
        if addr.0 != SHN_UNDEF {
            if let Ok(i) = self.by_addr.binary_search_by(|(a, _)| a.cmp(&addr)) {
                out.extend(self.by_addr[i].1.iter().rev().filter(|&&m| m != id));
            }
        }
        out
    }

    /// upstream's `symbol_get`: the last visited member of the group that
    /// is still unprocessed.
    pub fn get_unprocessed(&self, name: &[u8]) -> Option<u32> {
        self.group(name).into_iter().rfind(|&m| self.syms[m as usize].state == SymState::Unprocessed)
    }

    /// Records an ELF definition. Returns, per visited symbol, either
    /// `Ok(name)` when it got its address or `Err(name)` when it already had
    /// a different one (upstream's "multiple addresses" warning).
    pub fn set_addr(&mut self, name: &[u8], addr: (u32, u64)) -> Vec<Result<u32, u32>> {
        let mut events = Vec::new();
        for m in self.group(name) {
            let sym = &mut self.syms[m as usize];
            if sym.addr.0 == SHN_UNDEF {
                sym.addr = addr;
                match self.by_addr.binary_search_by(|(a, _)| a.cmp(&addr)) {
                    Ok(i) => self.by_addr[i].1.push(m),
                    Err(i) => self.by_addr.insert(i, (addr, vec![m])),
                }
                events.push(Ok(m));
            } else if sym.addr != addr {
                events.push(Err(m));
            }
        }
        events
    }

    pub fn set_die(&mut self, id: u32, die: DieRef) {
        for m in self.group_of(id) {
            let s = &mut self.syms[m as usize];
            s.die = Some(die);
            s.state = SymState::Mapped;
        }
    }

    pub fn set_ptr(&mut self, id: u32, die: DieRef) {
        for m in self.group_of(id) {
            self.syms[m as usize].ptr_die = Some(die);
        }
    }

    /// Assigns a CRC to the group; returns (symbol, old crc) for members
    /// that already had a different one (upstream warns about those).
    pub fn set_crc(&mut self, id: u32, crc: u32) -> Vec<(u32, u32)> {
        let mut overridden = Vec::new();
        for m in self.group_of(id) {
            let s = &mut self.syms[m as usize];
            if s.state == SymState::Processed && s.crc != crc {
                overridden.push((m, s.crc));
            }
            s.state = SymState::Processed;
            s.crc = crc;
        }
        overridden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_upstream_examples() {
        assert_eq!(bucket(b"f1"), 3448);
        assert_eq!(bucket(b"v1"), 1640);
        assert_eq!(bucket(b"f2"), 561);
        assert_eq!(bucket(b"asl"), 563);
        assert_eq!(bucket(b"bea"), 563);
        assert_eq!(bucket("a\u{e9}".as_bytes()), 2044);
    }

    #[test]
    fn order_is_bucket_then_newest_first() {
        let names: Vec<Vec<u8>> = ["f1", "v1", "f2", "asl", "bea"].iter().map(|s| s.as_bytes().to_vec()).collect();
        let (t, _) = SymbolTable::new(&names);
        let order: Vec<&[u8]> = t.order().iter().map(|&i| t.syms[i as usize].name.as_slice()).collect();
        assert_eq!(order, vec![&b"f2"[..], b"bea", b"asl", b"v1", b"f1"]);
    }

    #[test]
    fn prefixed_names_are_kept_but_never_found() {
        let names: Vec<Vec<u8>> = ["__gendwarfksyms_ptr_foo", "foo", "__gendwarfksyms_ptr_foo"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let (t, added) = SymbolTable::new(&names);
        assert_eq!(added.len(), 2);
        assert_eq!(t.lookup(b"foo"), Some(1));
        assert_eq!(t.lookup(b"__gendwarfksyms_ptr_foo"), Some(1));
    }

    #[test]
    fn lookups_find_every_name_and_nothing_else() {
        let long = "x".repeat(70);
        let longer = "x".repeat(71);
        let names: Vec<Vec<u8>> =
            ["a", "ab", "abc", "b", long.as_str()].iter().map(|s| s.as_bytes().to_vec()).collect();
        let (t, _) = SymbolTable::new(&names);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(t.lookup(n), Some(i as u32), "{}", String::from_utf8_lossy(n));
        }
        // The same first byte and length bit as a name, or neither.
        for miss in ["ac", "abd", "c", "ba", "", "x", longer.as_str()] {
            assert_eq!(t.lookup(miss.as_bytes()), None, "{miss}");
        }
    }
}
