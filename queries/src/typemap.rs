//! From rendered pieces to text: the per-object type map, symbol versions
//! (CRCs) and the symtypes block.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::crc::{Compiled, Frozen, Reuse, Source};
use crate::error::Error;
use crate::kabi::{lossy, Rules};
use crate::log::Log;
use crate::render::{Entry, EntryId, Piece, Renderer, State};

/// A type string as upstream keeps it: a list of items. Item boundaries
/// matter, because an item that starts with `s#`, `u#`, `e#` or `t#` is a
/// type reference when the CRC is computed. Items that are not references
/// may be joined (see [`Builder`]): every reader wants the references and
/// the text between them, not upstream's boundaries within that text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Expansion {
    pub text: Vec<u8>,
    /// End offsets of the items in `text`.
    ends: Vec<u32>,
}

/// Builds an [`Expansion`] item by item, joining each item that is not a
/// reference to the plain item before it: upstream's type strings are
/// mostly short plain pieces (`member `, ` `, a name, ` byte_size(8)`),
/// and the CRC and the compiled map would otherwise walk them one by one.
/// A plain item joins only one already two bytes long: joined to `s`, an
/// item `#x` would start a reference that upstream never saw.
#[derive(Default)]
struct Builder {
    exp: Expansion,
    /// Where the last item starts, if it is plain.
    plain: Option<u32>,
}

impl Builder {
    fn clear(&mut self) {
        self.exp.text.clear();
        self.exp.ends.clear();
        self.plain = None;
    }

    #[inline]
    fn push(&mut self, s: &[u8]) {
        if is_type_prefix(s) {
            return self.push_ref(s);
        }
        let start = self.exp.text.len() as u32;
        self.exp.text.extend_from_slice(s);
        let end = self.exp.text.len() as u32;
        match (self.plain, self.exp.ends.last_mut()) {
            (Some(p), Some(last)) if start - p >= 2 => *last = end,
            _ => {
                self.exp.ends.push(end);
                self.plain = Some(start);
            }
        }
    }

    /// Pushes an item known to be a reference (a type name).
    #[inline]
    fn push_ref(&mut self, s: &[u8]) {
        self.exp.text.extend_from_slice(s);
        self.exp.ends.push(self.exp.text.len() as u32);
        self.plain = None;
    }
}

impl AsRef<Expansion> for Expansion {
    fn as_ref(&self) -> &Expansion {
        self
    }
}

impl Expansion {
    fn push(&mut self, s: &[u8]) {
        self.text.extend_from_slice(s);
        self.ends.push(self.text.len() as u32);
    }

    /// Heap bytes held, for caches' budgets.
    pub fn size(&self) -> usize {
        self.text.capacity() + 4 * self.ends.capacity() + std::mem::size_of::<Self>()
    }

    /// Feeds the text and its item boundaries to a content hash.
    pub fn hash_into(&self, h: &mut twox_hash::XxHash3_128) {
        h.write(&(self.text.len() as u64).to_le_bytes());
        h.write(&self.text);
        for e in &self.ends {
            h.write(&e.to_le_bytes());
        }
    }

    pub fn items(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0usize;
        self.ends.iter().map(move |&e| {
            let s = &self.text[start..e as usize];
            start = e as usize;
            s
        })
    }

    /// Splits a `type_string` override into items (upstream's `type_parse`).
    pub fn parse(name: &[u8], s: &[u8]) -> Result<Expansion, Error> {
        let err = |m: String| Error::new("type_parse", m);
        if s.is_empty() {
            return Err(err(format!("empty type string override for '{}'", lossy(name))));
        }
        let mut out = Expansion::default();
        let mut start = 0;
        let mut pos = 0;
        while pos < s.len() {
            if !is_type_prefix(&s[pos..]) {
                pos += 1;
                continue;
            }
            let c = s[pos] as char;
            let mut end = pos + 2;
            let quoted = s.get(end) == Some(&b'\'');
            let marker = if quoted { b'\'' } else { b' ' };
            if quoted {
                end += 1;
            }
            while end < s.len() && s[end] != marker {
                end += 1;
            }
            let empty;
            if quoted {
                if end >= s.len() {
                    return Err(err(format!(
                        "incomplete {c}# type reference for '{}' (string : '{}')",
                        lossy(name),
                        lossy(s)
                    )));
                }
                empty = end == pos + 3;
                end += 1;
            } else {
                empty = end == pos + 2;
            }
            if empty {
                return Err(err(format!("empty {c}# type name for '{}' (string: '{}')", lossy(name), lossy(s))));
            }
            if pos > start {
                out.push(&s[start..pos]);
            }
            out.push(&s[pos..end]);
            start = end;
            pos = end;
        }
        if start < s.len() {
            out.push(&s[start..]);
        }
        Ok(out)
    }
}

pub fn is_type_prefix(s: &[u8]) -> bool {
    s.len() >= 2 && matches!(s[0], b's' | b'u' | b'e' | b't') && s[1] == b'#'
}

/// Appends the type name of a finished entry (`s#foo`, `t#'a b'`) to
/// `out`, if it has one; whether it has.
fn push_type_name(r: &Renderer<'_, '_>, e: &Entry<'_>, out: &mut Vec<u8>) -> bool {
    if matches!(e.state, State::Symbol | State::Fqn | State::Incomplete) {
        return false;
    }
    let fqn = r.fqn_text(e);
    if fqn.is_empty() {
        return false;
    }
    let prefix = match gimli::DwTag(e.tag) {
        gimli::DW_TAG_class_type | gimli::DW_TAG_structure_type => b's',
        gimli::DW_TAG_union_type => b'u',
        gimli::DW_TAG_enumeration_type => b'e',
        gimli::DW_TAG_typedef => b't',
        _ => return false,
    };
    let quote: &[u8] = if memchr::memchr(b' ', fqn).is_some() { b"'" } else { b"" };
    out.extend_from_slice(&[prefix, b'#']);
    out.extend_from_slice(quote);
    out.extend_from_slice(fqn);
    out.extend_from_slice(quote);
    true
}

/// A symbol's CRC and, with `--dump-versions`, its expanded string.
pub type Version = (u32, Option<Vec<u8>>);

/// The lines of a symtypes block as (name, text): the name ends at the
/// first space, or after the closing quote of a quoted name (`s#'a b'`).
pub fn symtypes_entries(block: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    block.split(|&b| b == b'\n').filter(|l| !l.is_empty()).filter_map(|line| {
        let at = if line.len() > 2 && line[2] == b'\'' && is_type_prefix(line) {
            line[3..].iter().position(|&b| b == b'\'').map(|p| p + 4)
        } else {
            line.iter().position(|&b| b == b' ')
        }?;
        Some((&line[..at], line.get(at + 1..).unwrap_or_default()))
    })
}

/// Upstream's type map: the longest expansion per type name.
#[derive(Default)]
pub struct TypeMap {
    map: Map,
    /// The map's entries compiled for CRC computation.
    compiled: Compiled,
}

type Map = HashMap<Vec<u8>, Arc<Expansion>>;

/// Adds or replaces (when longer) a map entry; upstream's `type_map_add`.
fn map_add(
    map: &mut Map,
    name: &[u8],
    exp: impl Into<Arc<Expansion>> + AsRef<Expansion>,
    flags: &Flags,
    log: &mut Log,
) -> bool {
    match map.get_mut(name) {
        None => {
            if flags.dump_types {
                log.debug("type_map_add", &[b"adding ", name].concat());
            }
            map.insert(name.to_vec(), exp.into());
        }
        Some(old) => {
            if exp.as_ref().text.len() <= old.text.len() {
                return false;
            }
            if flags.dump_types {
                log.debug("type_map_add", &[b"replacing ", name].concat());
            }
            *old = exp.into();
        }
    }
    if flags.dump_types {
        log.raw(name);
        log.raw(b" ");
        log.raw(&map[name].text);
        log.raw(b"\n");
    }
    true
}

/// References resolve through the map, or a `type_string` rule that adds
/// the missing type to it (upstream's `type_map_get`).
struct Lookup<'m> {
    map: &'m mut Map,
    rules: &'m Rules,
    flags: &'m Flags,
    log: &'m mut Log,
}

impl Source for Lookup<'_> {
    fn lookup(&mut self, name: &[u8]) -> Result<Option<Arc<Expansion>>, Error> {
        if let Some(e) = self.map.get(name) {
            return Ok(Some(e.clone()));
        }
        if self.flags.stable {
            if let Some(s) = self.rules.type_string(name) {
                let exp = Expansion::parse(name, s)?;
                map_add(self.map, name, exp, self.flags, self.log);
                return Ok(self.map.get(name).cloned());
            }
        }
        Ok(None)
    }
}

pub struct Flags {
    pub stable: bool,
    pub dump_types: bool,
    pub dump_versions: bool,
    pub symtypes: bool,
}

impl TypeMap {
    /// Offers a text for `name` (kept if longer than the one there). An
    /// `Expansion`, or an `Arc` of one that a unit cache also holds.
    pub fn add(
        &mut self,
        name: &[u8],
        exp: impl Into<Arc<Expansion>> + AsRef<Expansion>,
        flags: &Flags,
        log: &mut Log,
    ) {
        if map_add(&mut self.map, name, exp, flags, log) {
            self.compiled.invalidate(name);
        }
    }

    /// The CRCs (and, with `--dump-versions`, the expanded strings) of
    /// symbols' texts, in order, up to and including the first failure
    /// (upstream has printed the earlier symbols' lines when it fails).
    /// One thread: symbols reuse each other's walks (see `crc`), which
    /// does more than threads did, even for vmlinux's 13,000 symbols.
    pub fn versions<'e>(
        &mut self,
        exps: impl Iterator<Item = &'e Expansion>,
        rules: &Rules,
        flags: &Flags,
        log: &mut Log,
    ) -> Vec<Result<Version, Error>> {
        let TypeMap { map, compiled } = self;
        let mut src = Lookup { map, rules, flags, log };
        let mut out = Vec::new();
        let mut exps = exps.peekable();
        while let Some(e) = exps.next() {
            // `type_string` rules may add to the map as symbols go: no
            // walks are kept under them.
            let reuse = match (flags.stable, exps.peek().is_some()) {
                (true, _) => Reuse::Not,
                (false, true) => Reuse::Keep,
                (false, false) => Reuse::Replay,
            };
            let v = compiled.version(e, &mut src, flags.dump_versions, reuse);
            let failed = v.is_err();
            out.push(v);
            if failed {
                break;
            }
        }
        out
    }

    /// The map compiled whole, for versions no rule can add types to.
    pub fn freeze(&self) -> Frozen {
        Frozen::new(self.map.iter().map(|(k, v)| (&k[..], v)))
    }

    /// The symtypes block: one line per name, sorted by byte order.
    pub fn write(&self) -> Vec<u8> {
        let mut lines: Vec<(&Vec<u8>, &Arc<Expansion>)> = self.map.iter().collect();
        // Names are unique (map keys): no stable sort needed.
        lines.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(lines.iter().map(|(n, e)| n.len() + e.text.len() + 2).sum());
        for (n, e) in lines {
            out.extend_from_slice(n);
            out.push(b' ');
            out.extend_from_slice(&e.text);
            out.push(b'\n');
        }
        out
    }
}

/// Text of an entry, with named children as references (`__type_expand`).
/// `names` caches each entry's type name: the same types are referred to
/// over and over.
fn expand_entry(
    r: &Renderer<'_, '_>,
    names: &mut Names,
    id: EntryId,
    out: &mut Builder,
    depth: u32,
) -> Result<(), Error> {
    if depth > crate::MAX_NESTING {
        return Err(Error::new("__type_expand", "type nesting too deep (cyclic or hostile DWARF)".into()));
    }
    let pieces = &r.entries[id as usize].pieces;
    for (i, p) in pieces.iter().enumerate() {
        match p.get() {
            p @ (Piece::Str(_) | Piece::Own(_)) => out.push(r.piece_bytes(p)),
            Piece::Die(child) => match names.resolve(r, child) {
                Child::Name(n) => out.push_ref(n),
                Child::Inline(c) => expand_entry(r, names, c, out, depth + 1)?,
                Child::Missing => return Err(Error::new("__type_expand", format!("unknown child: {child:x}"))),
            },
            Piece::Break(_) => {
                if !pieces.get(i + 1).is_some_and(|p| p.is_break()) {
                    out.push(b" ");
                }
            }
        }
    }
    Ok(())
}

/// Type names of entries, and the entry each child DIE stands for,
/// computed once each: the same types are referred to over and over.
struct Names {
    /// Per entry: not computed yet, no name, or the name's range in `text`.
    of: Vec<NameSlot>,
    text: Vec<u8>,
    /// Per loaded DIE (from `base`): what a reference to it prints,
    /// found once (an entry and then its name were two lookups a piece).
    child: Vec<ChildSlot>,
    base: crate::dies::DieIdx,
}

#[derive(Clone, Copy)]
enum ChildSlot {
    Missing,
    /// The entry it prints, its text not looked at yet.
    Entry(EntryId),
    /// The entry's type name: a range of `Names::text`.
    Name(u32, u32),
    /// The entry has no type name: its text goes in place.
    Inline(EntryId),
}

/// What a reference to a child DIE prints.
enum Child<'n> {
    Name(&'n [u8]),
    Inline(EntryId),
    Missing,
}

#[derive(Clone, Copy)]
enum NameSlot {
    Unknown,
    None,
    At(u32, u32),
}

impl Names {
    fn new(r: &Renderer<'_, '_>) -> Names {
        // The DIEs may be gone: children have entries, so they lie between
        // the lowest and highest DIE of the entries.
        let (lo, hi) = r.entries.iter().fold((crate::dies::NONE, 0), |(lo, hi), e| (lo.min(e.die), hi.max(e.die)));
        let mut child = vec![ChildSlot::Missing; if lo <= hi { (hi - lo) as usize + 1 } else { 0 }];
        // The entry a reference to each DIE prints, its complete one else
        // its unexpanded one, found in one pass over the finished entries
        // (a lookup per referenced DIE waited on the cache's hash table).
        // Its name is still made when first needed.
        for (die, state, id) in r.finished() {
            let Some(slot) = die.checked_sub(lo).and_then(|i| child.get_mut(i as usize)) else { continue };
            match (state, *slot) {
                (State::Complete, _) | (State::Unexpanded, ChildSlot::Missing) => *slot = ChildSlot::Entry(id),
                _ => {}
            }
        }
        Names { of: vec![NameSlot::Unknown; r.entries.len()], text: Vec::new(), child, base: lo }
    }

    /// What a child DIE prints: the type name of its entry (complete,
    /// else unexpanded), or the entry's text in place if it has none.
    fn resolve(&mut self, r: &Renderer<'_, '_>, die: crate::dies::DieIdx) -> Child<'_> {
        let at = die.checked_sub(self.base).map(|i| i as usize).filter(|&i| i < self.child.len());
        // A DIE outside the entries' DIEs has no entry.
        let Some(i) = at else { return Child::Missing };
        let slot = match self.child[i] {
            ChildSlot::Entry(c) => match self.range(r, c) {
                Some((a, b)) => ChildSlot::Name(a, b),
                None => ChildSlot::Inline(c),
            },
            slot => slot,
        };
        self.child[i] = slot;
        Names::child_of(&self.text, slot)
    }

    fn child_of(text: &[u8], slot: ChildSlot) -> Child<'_> {
        match slot {
            ChildSlot::Name(a, b) => Child::Name(&text[a as usize..b as usize]),
            ChildSlot::Inline(c) => Child::Inline(c),
            _ => Child::Missing,
        }
    }

    fn get(&mut self, r: &Renderer<'_, '_>, id: EntryId) -> Option<&[u8]> {
        let (a, b) = self.range(r, id)?;
        Some(&self.text[a as usize..b as usize])
    }

    /// The range of an entry's type name in `text`, if it has one.
    fn range(&mut self, r: &Renderer<'_, '_>, id: EntryId) -> Option<(u32, u32)> {
        let slot = match self.of[id as usize] {
            NameSlot::Unknown => {
                let start = self.text.len() as u32;
                let slot = match push_type_name(r, &r.entries[id as usize], &mut self.text) {
                    true => NameSlot::At(start, self.text.len() as u32),
                    false => NameSlot::None,
                };
                self.of[id as usize] = slot;
                slot
            }
            slot => slot,
        };
        match slot {
            NameSlot::At(a, b) => Some((a, b)),
            _ => None,
        }
    }
}

/// An entry's text, built in `scratch` (which keeps its capacity from
/// one entry to the next) and returned in an allocation of its own size.
fn expand_exact(
    r: &Renderer<'_, '_>,
    names: &mut Names,
    id: EntryId,
    scratch: &mut Builder,
) -> Result<Expansion, Error> {
    scratch.clear();
    expand_entry(r, names, id, scratch, 0)?;
    Ok(scratch.exp.clone())
}

fn type_expand(
    r: &Renderer<'_, '_>,
    names: &mut Names,
    scratch: &mut Builder,
    name: &[u8],
    id: EntryId,
    (rules, flags): (&Rules, &Flags),
) -> Result<Expansion, Error> {
    if flags.stable {
        if let Some(s) = rules.type_string(name) {
            return Expansion::parse(name, s);
        }
    }
    expand_exact(r, names, id, scratch)
}

/// Offers every finished cache entry to the type map (upstream's
/// `expand_type` over the die_map), in creation order, and returns the raw
/// text of each symbol entry by DIE (overrides are applied by name later).
pub fn offer_entries(
    r: &mut Renderer<'_, '_>,
    rules: &Rules,
    flags: &Flags,
    sink: &mut dyn FnMut(&[u8], Expansion, &mut Log),
) -> Result<Vec<(crate::dies::DieIdx, Expansion)>, Error> {
    let mut symbols = Vec::new();
    let mut mapped = vec![false; r.entries.len()];
    let mut names = Names::new(r);
    let mut scratch = Builder::default();
    let mut name = Vec::new();
    for id in 0..r.entries.len() as EntryId {
        // The pieces of the entries a few ahead, fetched while this one is
        // turned into text: each is an allocation of its own, long cold.
        if let Some(e) = r.entries.get(id as usize + 4) {
            crate::prefetch::prefetch(e.pieces.as_ptr());
        }
        if r.entries[id as usize].state == State::Symbol {
            let exp = expand_exact(r, &mut names, id, &mut scratch)?;
            symbols.push((r.entries[id as usize].die, exp));
            continue;
        }
        if mapped[id as usize] {
            continue;
        }
        mapped[id as usize] = true;
        let mut e = id;
        let entry = &r.entries[id as usize];
        if entry.state == State::Unexpanded {
            if let Some(c) = r.find(entry.die, State::Complete) {
                if mapped[c as usize] {
                    continue;
                }
                mapped[c as usize] = true;
                e = c;
            }
        }
        // The name is borrowed from `names`, which expanding extends: a
        // copy, into one reused buffer rather than an allocation per entry.
        let Some(n) = names.get(r, e) else { continue };
        name.clear();
        name.extend_from_slice(n);
        r.log.debug("expand_type", &name);
        let exp = type_expand(r, &mut names, &mut scratch, &name, e, (rules, flags))?;
        sink(&name, exp, r.log);
    }
    Ok(symbols)
}

/// A symbol's text: its `type_string` override, or its entry's text.
pub fn symbol_text(name: &[u8], raw: &Expansion, rules: &Rules, flags: &Flags) -> Result<Expansion, Error> {
    if flags.stable {
        if let Some(s) = rules.type_string(name) {
            return Expansion::parse(name, s);
        }
    }
    Ok(raw.clone())
}

impl TypeMap {
    pub fn add_symbol(&mut self, name: &[u8], exp: Expansion, flags: &Flags, log: &mut Log) {
        self.add(name, exp, flags, log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joining plain items keeps upstream's references: the same items
    /// start with a type prefix, and the text between them is the same.
    #[test]
    fn joined_items_keep_the_references() {
        let pieces: &[&[u8]] =
            &[b"s", b"#x", b"", b"t#y", b"ab", b"s#z", b" ", b"u", b"#", b"e#", b"", b"s", b"#q", b"member ", b"t#a"];
        let mut seed = 7u64;
        for _ in 0..2000 {
            let mut b = Builder::default();
            let mut plain = Expansion::default();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let p = pieces[(seed >> 33) as usize % pieces.len()];
                b.push(p);
                plain.push(p);
            }
            let split = |e: &Expansion| {
                let mut out: Vec<(bool, Vec<u8>)> = Vec::new();
                for item in e.items() {
                    match out.last_mut() {
                        Some((false, t)) if !is_type_prefix(item) => t.extend_from_slice(item),
                        _ => out.push((is_type_prefix(item), item.to_vec())),
                    }
                }
                out
            };
            assert_eq!(b.exp.text, plain.text);
            assert_eq!(split(&b.exp), split(&plain));
        }
    }
}
