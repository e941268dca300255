//! An object's symtypes as a graph: each line (an export or a type) and
//! the lines its text references by name.
//!
//! Front ends ask three things of it: the lines a symbol's version used
//! (`versions --types`, the server's `dwarfksyms/symbol`), the exports
//! whose version reaches a type and by which way (`dwarfksyms/dependents`),
//! and a name's text on either side of a change (`diff`). The expanded
//! string a CRC is computed over is rebuilt from the lines with the same
//! code that versions symbols (`crc::Compiled`), so it hashes to the CRC.
//!
//! The graph is a salsa query of the object ([`type_graph`]): a server asks
//! it once per object and revision, and a rewritten object gets a new one.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use crate::crc::{Compiled, Source};
use crate::db::{export_versions, ObjectFile};
use crate::error::Error;
use crate::object::Options;
use crate::typediff;
use crate::typemap::{symtypes_entries, Expansion};

/// Lines by name, with their references (to names that have a line) as
/// index lists both ways.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypeGraph {
    /// The symtypes block the ranges point into.
    block: Arc<Vec<u8>>,
    /// (name, text) ranges, sorted by name.
    lines: Vec<(Range<u32>, Range<u32>)>,
    /// `refs[refs_at[i]..refs_at[i + 1]]`: what line `i` references, in
    /// text order.
    refs_at: Vec<u32>,
    refs: Vec<u32>,
    /// The same, reversed: the lines that reference line `i`.
    users_at: Vec<u32>,
    users: Vec<u32>,
}

/// "Not reached" in [`TypeGraph::toward`].
pub const UNREACHED: u32 = u32::MAX;

impl TypeGraph {
    /// Reads a symtypes block (`versions --symtypes-dir`'s lines). A name
    /// given twice keeps its first line, as a map built from the lines would.
    pub fn from_symtypes(block: Arc<Vec<u8>>) -> TypeGraph {
        let base = block.as_ptr() as usize;
        let at = |s: &[u8]| {
            let start = (s.as_ptr() as usize - base) as u32;
            start..start + s.len() as u32
        };
        let mut lines: Vec<(Range<u32>, Range<u32>)> = symtypes_entries(&block).map(|(n, t)| (at(n), at(t))).collect();
        let name = |r: &Range<u32>| &block[r.start as usize..r.end as usize];
        lines.sort_by(|a, b| name(&a.0).cmp(name(&b.0)));
        lines.dedup_by(|b, a| name(&a.0) == name(&b.0));
        let mut g = TypeGraph { block, lines, ..TypeGraph::default() };

        let mut edges: Vec<(u32, u32)> = Vec::new();
        g.refs_at.push(0);
        for i in 0..g.lines.len() {
            for r in typediff::references(g.text(i as u32)) {
                if let Some(j) = g.find(&r) {
                    g.refs.push(j);
                    edges.push((j, i as u32));
                }
            }
            g.refs_at.push(g.refs.len() as u32);
        }
        edges.sort_unstable();
        g.users_at = vec![0; g.lines.len() + 1];
        for &(to, _) in &edges {
            g.users_at[to as usize + 1] += 1;
        }
        for i in 0..g.lines.len() {
            g.users_at[i + 1] += g.users_at[i];
        }
        g.users = edges.into_iter().map(|(_, from)| from).collect();
        g
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn find(&self, name: &[u8]) -> Option<u32> {
        self.lines.binary_search_by(|(n, _)| self.slice(n).cmp(name)).ok().map(|i| i as u32)
    }

    fn slice(&self, r: &Range<u32>) -> &[u8] {
        &self.block[r.start as usize..r.end as usize]
    }

    pub fn name(&self, i: u32) -> &[u8] {
        self.slice(&self.lines[i as usize].0)
    }

    pub fn text(&self, i: u32) -> &[u8] {
        self.slice(&self.lines[i as usize].1)
    }

    /// The text of `name`'s line, without the name.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.find(name).map(|i| self.text(i))
    }

    pub fn contains(&self, name: &[u8]) -> bool {
        self.find(name).is_some()
    }

    /// The whole line (`name text`).
    pub fn line(&self, i: u32) -> Vec<u8> {
        [self.name(i), b" ", self.text(i)].concat()
    }

    pub fn references(&self, i: u32) -> &[u32] {
        &self.refs[self.refs_at[i as usize] as usize..self.refs_at[i as usize + 1] as usize]
    }

    /// The names `name`'s text references that have a line, in text order
    /// (none when `name` has no line).
    pub fn referenced<'g>(&'g self, name: &[u8]) -> impl Iterator<Item = &'g [u8]> {
        let refs = self.find(name).map_or(&[][..], |i| self.references(i));
        refs.iter().map(move |&r| self.name(r))
    }

    pub fn users(&self, i: u32) -> &[u32] {
        &self.users[self.users_at[i as usize] as usize..self.users_at[i as usize + 1] as usize]
    }

    /// Every line a symbol's version reached: its own and every line its
    /// text references, transitively; in name order (as in the file).
    pub fn reachable(&self, symbol: &[u8]) -> Vec<u32> {
        let Some(start) = self.find(symbol) else { return Vec::new() };
        // Proportional to what is reached, not to the whole file: `versions
        // --types` asks once per export (13,000 on vmlinux).
        let mut seen: rustc_hash::FxHashSet<u32> = [start].into_iter().collect();
        let mut reached = vec![start];
        let mut next = 0;
        while let Some(&i) = reached.get(next) {
            next += 1;
            for &r in self.references(i) {
                if seen.insert(r) {
                    reached.push(r);
                }
            }
        }
        // Lines are sorted by name: index order is name order.
        reached.sort_unstable();
        reached
    }

    /// The symtypes lines a symbol's version used (see [`reachable`](Self::reachable)).
    pub fn used_lines(&self, symbol: &[u8]) -> Vec<Vec<u8>> {
        self.reachable(symbol).into_iter().map(|i| self.line(i)).collect()
    }

    /// For every line that reaches line `target`, the next line on a
    /// shortest way to it (`target` itself for the target); [`UNREACHED`]
    /// for the others. One breadth-first walk backwards from the target.
    pub fn toward(&self, target: u32) -> Vec<u32> {
        let mut next = vec![UNREACHED; self.len()];
        next[target as usize] = target;
        let mut queue = VecDeque::from([target]);
        while let Some(i) = queue.pop_front() {
            for &u in self.users(i) {
                if next[u as usize] == UNREACHED {
                    next[u as usize] = i;
                    queue.push_back(u);
                }
            }
        }
        next
    }

    /// The string a symbol's CRC is computed over, with every type it
    /// references expanded the first time it is met, and that CRC.
    pub fn expansion(&self, symbol: &[u8]) -> Result<(u32, Vec<u8>), Error> {
        let Some(text) = self.get(symbol) else {
            return Err(Error::new(
                "type_graph",
                format!("no symtypes line for '{}'", String::from_utf8_lossy(symbol)),
            ));
        };
        let exp = Expansion::parse(symbol, text)?;
        let (crc, expanded) = Compiled::default().version(&exp, &mut Lines(self), true, crate::crc::Reuse::Not)?;
        Ok((crc, expanded.unwrap_or_default()))
    }
}

/// References resolve through the graph's lines.
struct Lines<'g>(&'g TypeGraph);

impl Source for Lines<'_> {
    fn lookup(&mut self, name: &[u8]) -> Result<Option<Arc<Expansion>>, Error> {
        match self.0.get(name) {
            Some(text) => Ok(Some(Arc::new(Expansion::parse(name, text)?))),
            None => Ok(None),
        }
    }
}

/// The type graph of an object's exports' versions (symtypes are turned on
/// whatever `options` says).
#[salsa::tracked]
pub fn type_graph(db: &dyn crate::db::Db, obj: ObjectFile, options: Options) -> Result<Arc<TypeGraph>, Error> {
    let _span = tracing::debug_span!("type_graph", name = %String::from_utf8_lossy(obj.name(db))).entered();
    let options = Options { symtypes: true, ..options };
    let v = export_versions(db, obj, options).as_ref().map_err(Clone::clone)?;
    Ok(Arc::new(TypeGraph::from_symtypes(v.symtypes.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &[u8] = b"f subprogram ( formal_parameter pointer_type { s#a } p ) -> base_type void\n\
s#a structure_type a { member s#b x , member t#'c d' y } byte_size(8)\n\
s#b structure_type b { member base_type int byte_size(4) encoding(5) n } byte_size(4)\n\
t#'c d' typedef_type 'c d' { s#b }\n\
g subprogram ( formal_parameter base_type int byte_size(4) encoding(5) n ) -> base_type void\n";

    #[test]
    fn reaches_and_walks_back() {
        let g = TypeGraph::from_symtypes(Arc::new(BLOCK.to_vec()));
        assert_eq!(g.len(), 5);
        assert_eq!(g.get(b"t#'c d'"), Some(&b"typedef_type 'c d' { s#b }"[..]));
        let names =
            |v: Vec<u32>| v.into_iter().map(|i| String::from_utf8_lossy(g.name(i)).into_owned()).collect::<Vec<_>>();
        assert_eq!(names(g.reachable(b"f")), ["f", "s#a", "s#b", "t#'c d'"]);
        assert_eq!(names(g.reachable(b"g")), ["g"]);
        assert_eq!(g.referenced(b"s#a").collect::<Vec<_>>(), [&b"s#b"[..], b"t#'c d'"]);
        assert_eq!(g.referenced(b"nope").count(), 0);
        let b = g.find(b"s#b").unwrap();
        let next = g.toward(b);
        let f = g.find(b"f").unwrap();
        let a = g.find(b"s#a").unwrap();
        assert_eq!(next[f as usize], a);
        assert_eq!(next[a as usize], b);
        assert_eq!(next[g.find(b"g").unwrap() as usize], UNREACHED);
    }

    #[test]
    fn expansion_expands_each_type_once() {
        let g = TypeGraph::from_symtypes(Arc::new(BLOCK.to_vec()));
        let (crc, text) = g.expansion(b"f").unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with(
                "subprogram ( formal_parameter pointer_type { structure_type a { member structure_type b {"
            ),
            "{text}"
        );
        // s#b is expanded inside s#a, then met again through the typedef.
        assert!(text.contains("typedef_type 'c d' { s#b }"), "{text}");
        assert_eq!(crc, crc32fast::hash(text.as_bytes()));
        assert!(g.expansion(b"nope").is_err());
    }
}
