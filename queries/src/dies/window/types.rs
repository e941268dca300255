//! Type units reached by signature: a `DW_FORM_ref_sig8` type is followed
//! into the first unit of `.debug_types` (the one libdw reads: outside a
//! section group) with that signature, and the type read where it lands,
//! as `read_stray` reads one.

use super::*;

/// Where a signature leads.
#[derive(Clone, Copy)]
enum Lands {
    /// A type read from `.debug_types`: its local index.
    Read(u32),
    /// No entry reads there: the tag libdw reads.
    Stray(u16),
    /// A DIE of `.debug_info`, at this offset.
    At(u32),
}

/// The type units a signature can lead to (`by_signature`).
#[derive(Clone, Copy)]
pub(in crate::dies) struct TypeUnits<'h, 'a> {
    pub(in crate::dies) by_signature: &'h [(u64, gimli::UnitHeader<R<'a>>)],
}

impl<'a> TypeUnits<'_, 'a> {
    /// The first unit with signature `sig`, as libdw's search finds it.
    fn find(&self, sig: u64) -> Option<gimli::UnitHeader<R<'a>>> {
        let k = self.by_signature.binary_search_by_key(&sig, |&(s, _)| s).ok()?;
        Some(self.by_signature[k].1)
    }
}

/// The type units `types` (in the order libdw searches them: `.debug_info`'s,
/// then `.debug_types`') by signature, sorted, the first unit of each
/// signature only: an object can hold many, and each unit with signatures
/// would otherwise search them all.
pub(in crate::dies) fn by_signature(types: Vec<gimli::UnitHeader<R<'_>>>) -> Vec<(u64, gimli::UnitHeader<R<'_>>)> {
    let mut v: Vec<(usize, u64, gimli::UnitHeader<R<'_>>)> = types
        .into_iter()
        .enumerate()
        .filter_map(|(i, h)| match h.type_() {
            // libdw matches a split type unit's signature as well.
            gimli::UnitType::Type { type_signature, .. } | gimli::UnitType::SplitType { type_signature, .. } => {
                Some((i, type_signature.0, h))
            }
            _ => None,
        })
        .collect();
    v.sort_unstable_by_key(|&(i, sig, _)| (sig, i));
    v.dedup_by_key(|p| p.1);
    v.into_iter().map(|(_, sig, h)| (sig, h)).collect()
}

impl<'a> Window<'a> {
    /// Follows the type-unit signatures read (`sigs`) where libdw follows
    /// them: into the units of a `.debug_types` section libdw reads (one
    /// outside a section group; compilers put type units in groups, which
    /// libdw leaves out), the first whose signature matches, at its type's
    /// offset. Each type so reached is read where it lands, as `read_stray`
    /// reads one (with what it refers to in its unit), after the other
    /// DIEs, once per signature, and keeps its unit's line table
    /// (`ReadApart`). Upstream's fqn pass has not visited the type unit
    /// then (it comes after the compile units), so these DIEs have no
    /// fqns. A signature no unit has is left as it is
    /// (`Die::type_ref_error`).
    #[cold]
    #[inline(never)]
    pub(super) fn read_type_units(&mut self, dwarf: &gimli::Dwarf<R<'a>>, types: TypeUnits<'_, 'a>) {
        let mut found: rustc_hash::FxHashMap<u64, Option<Lands>> = Default::default();
        // Types read may hold signatures in turn.
        while let Some((i, sig)) = self.sigs.pop() {
            let t = match found.get(&sig) {
                Some(&t) => t,
                None => {
                    let t = types.find(sig).and_then(|h| self.follow(dwarf, h));
                    found.insert(sig, t);
                    t
                }
            };
            let Some(t) = t else { continue };
            let base = self.arena.base;
            let d = &mut self.arena.dies[i as usize];
            d.flags &= !TYPE_SIG8;
            match t {
                Lands::Read(t) => d.type_ = base + t,
                // No entry reads there: upstream meets what libdw reads.
                Lands::Stray(tag) => self.arena.strays.push((base + i, tag)),
                // A unit of `.debug_info`: the reference crosses units.
                Lands::At(off) => {
                    self.refs.push((i, off, false));
                    self.crossed = true;
                }
            }
        }
        self.arena.strays.sort_unstable_by_key(|s| s.0);
    }

    /// Where a signature's type unit `header` leads: a type unit of
    /// `.debug_info` (DWARF 5) is a unit of the object, so the reference
    /// crosses units, to the DIE its walk reads (and fqn pass names, where
    /// that unit comes first); one of `.debug_types` is read here.
    fn follow(&mut self, dwarf: &gimli::Dwarf<R<'a>>, header: gimli::UnitHeader<R<'a>>) -> Option<Lands> {
        let (gimli::UnitType::Type { type_offset, .. } | gimli::UnitType::SplitType { type_offset, .. }) =
            header.type_()
        else {
            return None;
        };
        match header.debug_info_offset() {
            Some(o) => {
                use gimli::Section as _;
                let at = o.0 as u64 + type_offset.0 as u64;
                let unit_end = o.0 as u64 + header.length_including_self() as u64;
                // libdw takes the DIE there for one of the type unit
                // whatever the offset, so past the unit's end (but inside
                // the section) its abbreviation is none: `DW_TAG_invalid`.
                if at >= unit_end && at < dwarf.debug_info.reader().len() as u64 {
                    return Some(Lands::Stray(0));
                }
                Some(Lands::At(u32::try_from(at).unwrap_or(u32::MAX)))
            }
            None => Some(match self.read_type_unit(dwarf, header) {
                Ok(t) => Lands::Read(t),
                Err(tag) => Lands::Stray(tag),
            }),
        }
    }

    /// Reads the type of the type unit `header` (see `read_type_units`):
    /// its local index, or where no entry reads there, the tag libdw
    /// reads (0 where the unit's abbreviations do not read).
    fn read_type_unit(&mut self, dwarf: &gimli::Dwarf<R<'a>>, header: gimli::UnitHeader<R<'a>>) -> Result<u32, u16> {
        let gimli::UnitType::Type { type_offset, .. } = header.type_() else { return Err(0) };
        let read = self.read_apart(dwarf, header, |w, unit, plans, range, from| {
            let at = (range.0 + type_offset.0 as u64) as u32;
            let mut pending = Vec::new();
            let Some(t) = w.read_stray(dwarf, unit, plans, range, at, &mut pending) else {
                return Err(tag_at(dwarf, unit, plans, range, at));
            };
            let mut strays = rustc_hash::FxHashMap::default();
            strays.insert(at, Some(t));
            w.land(dwarf, unit, plans, range, (w.bodies.len(), from, from), pending, &mut strays);
            Ok(t)
        });
        read.unwrap_or(Err(0))
    }
}
