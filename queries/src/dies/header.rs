//! The units of `.debug_info` and `.debug_types`, found as libdw finds
//! them for upstream's `dwarf_get_units` loop (elfutils 0.188's
//! `__libdw_next_unit` and `__libdw_intern_next_unit`).
//!
//! libdw is more lenient than gimli's unit iterator in three ways, and each
//! decides what upstream prints on damaged DWARF: an address size other
//! than 4 or 8 is taken as 8; a unit whose length runs past the section
//! ends at the section's end; and a DWARF 5 unit of an unknown type is
//! handed out with a zeroed unit DIE, on which upstream's first
//! `dwarf_child` fails (libdw goes on past it by its length, where it
//! searches for a signature or a unit holding an offset). Anything else
//! wrong with a header, or bytes after the last unit, fails
//! `dwarf_get_units` once the units before it are done.

use gimli::{constants as dw, Reader as _, RunTimeEndian};

use super::{Broken, R};

/// A section's unit headers, each with whether the unit holds its unit
/// DIE, and how they end: `None` at the end of the section, else the
/// [`Broken`] the header libdw refuses stands for.
pub(super) type Walk<'a> = (Vec<(gimli::UnitHeader<R<'a>>, bool)>, Option<Broken>);

/// Every unit header of `section` (`.debug_info` or `.debug_types`) as
/// libdw's `__libdw_next_unit` and `__libdw_intern_next_unit` read them,
/// in order, up to the first it refuses; read once for both the units
/// walk ([`units`]) and the search for signatures.
pub(super) fn walk<'a>(section: gimli::SectionId, bytes: &'a [u8], abbrev: &[u8], endian: RunTimeEndian) -> Walk<'a> {
    let mut units = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        match unit_at(section, bytes, off, abbrev, endian) {
            Ok((h, end, whole)) => {
                off = end;
                units.push((h, whole));
            }
            Err(broken) => return (units, Some(broken)),
        }
    }
    (units, None)
}

/// The units `dwarf_get_units` hands out of a walk (`.debug_types`' after
/// `.debug_info`'s), and how it ends: libdw reads the unit DIE where the
/// header says it starts, so a unit too short to hold it fails there.
/// (libdw's search for a signature finds such a unit all the same.)
pub(super) fn units<'a>((walked, end): &Walk<'a>) -> (Vec<gimli::UnitHeader<R<'a>>>, Option<Broken>) {
    match walked.iter().position(|&(_, whole)| !whole) {
        Some(k) => (walked[..k].iter().map(|&(h, _)| h).collect(), Some(Broken::Child)),
        None => (walked.iter().map(|&(h, _)| h).collect(), *end),
    }
}

/// The header of the unit at `off`, where the unit ends and whether it
/// holds its unit DIE (its entries are none where it does not), or what
/// stands for it.
fn unit_at<'a>(
    section: gimli::SectionId,
    info: &'a [u8],
    off: usize,
    abbrev: &[u8],
    endian: RunTimeEndian,
) -> Result<(gimli::UnitHeader<R<'a>>, usize, bool), Broken> {
    let abbrev_len = abbrev.len();
    let bad = |_| Broken::Header;
    // libdw wants more than the first four bytes before it reads them.
    if off + 4 >= info.len() {
        return Err(Broken::Header);
    }
    let mut r = R::new(&info[off..], endian);
    let (format, length) = match r.read_u32().map_err(bad)? {
        0xffff_ffff => (gimli::Format::Dwarf64, r.read_u64().map_err(bad)?),
        0xffff_fff0..=0xffff_fffe => return Err(Broken::Header),
        n => (gimli::Format::Dwarf32, u64::from(n)),
    };
    let version = r.read_u16().map_err(bad)?;
    let unit_type = if version >= 5 { r.read_u8().map_err(bad)? } else { gimli::DW_UT_compile.0 };
    if !(2..=5).contains(&version) {
        return Err(Broken::Header);
    }
    // `.debug_types` holds DWARF 4's type units, and libdw takes nothing
    // else there.
    let types = section == gimli::SectionId::DebugTypes;
    if types && version != 4 {
        return Err(Broken::Header);
    }
    let unit_type = if types { gimli::DW_UT_type.0 } else { unit_type };
    let offset_size = format.word_size() as usize;
    let prefix = format.initial_length_size() as usize;
    // A length running past the section (or wrapping) ends the unit at
    // the section's end.
    let end = usize::try_from(length)
        .ok()
        .and_then(|l| (off + prefix).checked_add(l))
        .filter(|&e| e > off && e <= info.len())
        .unwrap_or(info.len());
    // The extra fields of the unit types that have them.
    let extra = match gimli::DwUt(unit_type) {
        gimli::DW_UT_compile | gimli::DW_UT_partial => 0,
        gimli::DW_UT_skeleton | gimli::DW_UT_split_compile => 8,
        gimli::DW_UT_type | gimli::DW_UT_split_type => 8 + offset_size,
        // A type libdw does not know: it reads no more of the header and
        // goes on past the unit by its length (so its search for a
        // signature finds the units after it), but hands it out with a
        // zeroed unit DIE ([`units`] stops there). Kept as a compile unit
        // with no entries.
        _ => {
            let encoding = gimli::Encoding { format, version, address_size: 8 };
            let header = gimli::UnitHeader::new(
                encoding,
                end - off - prefix,
                gimli::UnitType::Compilation,
                gimli::DebugAbbrevOffset(0),
                section,
                gimli::UnitSectionOffset(off),
                R::new(&[], endian),
            );
            return Ok((header, end, false));
        }
    };
    let header_size = prefix + 2 + if version >= 5 { 2 } else { 1 } + offset_size + extra;
    if off + header_size >= info.len() {
        return Err(Broken::Header);
    }
    let mut address_size = if version >= 5 { r.read_u8().map_err(bad)? } else { 0 };
    let abbrev_offset = r.read_offset(format).map_err(bad)?;
    // libdw checks the offset against `.debug_abbrev`, which must exist.
    if abbrev_len == 0 || abbrev_offset > abbrev_len {
        return Err(Broken::Header);
    }
    if version < 5 {
        address_size = r.read_u8().map_err(bad)?;
    }
    let unit_type = match gimli::DwUt(unit_type) {
        gimli::DW_UT_partial => gimli::UnitType::Partial,
        gimli::DW_UT_skeleton => gimli::UnitType::Skeleton(gimli::DwoId(r.read_u64().map_err(bad)?)),
        gimli::DW_UT_split_compile => gimli::UnitType::SplitCompilation(gimli::DwoId(r.read_u64().map_err(bad)?)),
        t @ (gimli::DW_UT_type | gimli::DW_UT_split_type) => {
            let type_signature = gimli::DebugTypeSignature(r.read_u64().map_err(bad)?);
            let type_offset = r.read_offset(format).map_err(bad)?;
            // Checked as an offset into the section (as every offset libdw
            // reads is), and as one past the header.
            if type_offset > info.len() || type_offset < header_size {
                return Err(Broken::Header);
            }
            let type_offset = gimli::UnitOffset(type_offset);
            match t {
                gimli::DW_UT_type => gimli::UnitType::Type { type_signature, type_offset },
                _ => gimli::UnitType::SplitType { type_signature, type_offset },
            }
        }
        _ => gimli::UnitType::Compilation,
    };
    // Before DWARF 5, libdw tells a unit's type by its unit DIE's tag
    // (`__libdw_intern_next_unit`), and places the unit DIE of a type
    // unit after a signature and a type offset that it never reads.
    let first_tag = |at: usize| {
        let mut r = R::new(info.get(at..end)?, endian);
        super::abbrev::tag_of(abbrev, abbrev_offset, super::leb::uleb(&mut r).ok()?)
    };
    let (unit_type, header_size) = if version < 5
        && !types
        && first_tag(off + header_size) == Some(dw::DW_TAG_type_unit.0.into())
    {
        let unit_type =
            gimli::UnitType::Type { type_signature: gimli::DebugTypeSignature(0), type_offset: gimli::UnitOffset(0) };
        (unit_type, header_size + 8 + offset_size)
    } else {
        (unit_type, header_size)
    };
    let entries = info.get(off + header_size..end);
    if !matches!(address_size, 4 | 8) {
        address_size = 8;
    }
    let encoding = gimli::Encoding { format, version, address_size };
    let header = gimli::UnitHeader::new(
        encoding,
        end - off - prefix,
        unit_type,
        gimli::DebugAbbrevOffset(abbrev_offset),
        section,
        gimli::UnitSectionOffset(off),
        R::new(entries.unwrap_or_default(), endian),
    );
    Ok((header, end, entries.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE: RunTimeEndian = RunTimeEndian::Little;

    /// A 32-bit DWARF 5 unit header of `unit_type` with `rest` after the
    /// abbreviation offset (extra fields and entries).
    fn unit(unit_type: u8, address_size: u8, abbrev: u32, rest: &[u8]) -> Vec<u8> {
        let mut u = Vec::new();
        u.extend_from_slice(&(4 + rest.len() as u32).to_le_bytes()[..]);
        u.extend_from_slice(&5u16.to_le_bytes());
        u.extend_from_slice(&[unit_type, address_size]);
        u.extend_from_slice(&abbrev.to_le_bytes());
        u.extend_from_slice(rest);
        // The length counts from after itself.
        let len = (u.len() - 4) as u32;
        u[..4].copy_from_slice(&len.to_le_bytes());
        u
    }

    fn ends(info: &[u8]) -> (Vec<(usize, usize, u8)>, Option<Broken>) {
        let (units, end) = units(&walk(gimli::SectionId::DebugInfo, info, &[1; 16], LE));
        let spans = units
            .iter()
            .map(|h| {
                let off = h.debug_info_offset().unwrap().0;
                (off, off + h.length_including_self(), h.address_size())
            })
            .collect();
        (spans, end)
    }

    /// Before DWARF 5 the unit DIE's tag decides where it starts: one of
    /// `DW_TAG_type_unit` comes after a signature and a type offset.
    #[test]
    fn a_dwarf4_unit_tells_its_type_by_its_tag() {
        // Abbreviation 1: compile unit; 2: type unit; both with children.
        let abbrev = [1, 0x11, 1, 0, 0, 2, 0x41, 1, 0, 0, 0];
        let unit4 = |code: u8| {
            let mut u = vec![0u8; 4];
            u.extend_from_slice(&4u16.to_le_bytes());
            u.extend_from_slice(&0u32.to_le_bytes());
            u.push(8);
            u.extend_from_slice(&[code, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            let len = (u.len() - 4) as u32;
            u[..4].copy_from_slice(&len.to_le_bytes());
            u
        };
        for (code, header) in [(1u8, 11), (2, 23)] {
            let info = unit4(code);
            let (units, end) = units(&walk(gimli::SectionId::DebugInfo, &info, &abbrev, LE));
            assert_eq!(end, None);
            assert_eq!(units[0].size_of_header(), header, "abbreviation {code}");
            assert_eq!(units[0].length_including_self(), info.len());
        }
    }

    /// `.debug_types` holds only DWARF 4 type units, whose signature and
    /// type offset follow the address size.
    #[test]
    fn debug_types_holds_dwarf4_type_units() {
        let tu = |version: u16, type_offset: u32| {
            let mut u = vec![0u8; 4];
            u.extend_from_slice(&version.to_le_bytes());
            u.extend_from_slice(&0u32.to_le_bytes());
            u.push(8);
            u.extend_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
            u.extend_from_slice(&type_offset.to_le_bytes());
            u.extend_from_slice(&[1, 0]);
            let len = (u.len() - 4) as u32;
            u[..4].copy_from_slice(&len.to_le_bytes());
            u
        };
        let types = |bytes: &[u8]| {
            let (units, end) = units(&walk(gimli::SectionId::DebugTypes, bytes, &[1; 16], LE));
            let units: Vec<_> = units.iter().map(|h| (h.debug_types_offset().unwrap().0, h.type_())).collect();
            (units, end)
        };
        let t = tu(4, 23);
        let two = [t.clone(), t.clone()].concat();
        let (found, end) = types(&two);
        assert_eq!(end, None);
        let sig = gimli::DebugTypeSignature(0x1122_3344_5566_7788);
        let ty = gimli::UnitType::Type { type_signature: sig, type_offset: gimli::UnitOffset(23) };
        assert_eq!(found, vec![(0, ty), (t.len(), ty)]);
        // Another version, even one `.debug_info` takes, fails
        // `dwarf_get_units` there; so does a type offset inside the header.
        assert_eq!(types(&[t.clone(), tu(2, 23)].concat()), (vec![(0, ty)], Some(Broken::Header)));
        assert_eq!(types(&tu(5, 23)).1, Some(Broken::Header));
        assert_eq!(types(&tu(4, 22)).1, Some(Broken::Header));
        // A length too short for the unit DIE: `dwarf_get_units` fails at
        // its DIE, but a search for a signature finds the unit (and goes
        // on where its length ends: here, inside its own header).
        let mut short = t.clone();
        short[..4].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(types(&short), (vec![], Some(Broken::Child)));
        let found = walk(gimli::SectionId::DebugTypes, &short, &[1; 16], LE).0;
        assert_eq!(
            found.iter().map(|(h, whole)| (h.debug_types_offset().unwrap().0, h.type_(), *whole)).collect::<Vec<_>>(),
            vec![(0, ty, false)]
        );
    }

    /// Each of libdw's rules, on a unit made to break it.
    #[test]
    fn units_as_libdw_finds_them() {
        let cu = unit(1, 8, 0, &[1, 0]);
        let n = cu.len();
        assert_eq!(ends(&cu), (vec![(0, n, 8)], None));
        let two = [cu.clone(), cu.clone()].concat();
        assert_eq!(ends(&two), (vec![(0, n, 8), (n, 2 * n, 8)], None));
        // Address sizes other than 4 and 8 are taken as 8.
        assert_eq!(ends(&unit(1, 3, 0, &[1, 0])), (vec![(0, n, 8)], None));
        assert_eq!(ends(&unit(1, 4, 0, &[1, 0])), (vec![(0, n, 4)], None));
        // An unknown DWARF 5 unit type: a unit whose DIE libdw zeroes.
        let unknown = [cu.clone(), unit(9, 8, 0, &[1, 0]), cu.clone()].concat();
        assert_eq!(ends(&unknown), (vec![(0, n, 8)], Some(Broken::Child)));
        // The walk (a search for a signature) goes on past it by its length.
        let walked = walk(gimli::SectionId::DebugInfo, &unknown, &[1; 16], LE);
        let offsets: Vec<_> = walked.0.iter().map(|(h, whole)| (h.debug_info_offset().unwrap().0, *whole)).collect();
        assert_eq!((offsets, walked.1), (vec![(0, true), (n, false), (2 * n, true)], None));
        // A length past the section ends the unit there.
        let mut long = cu.clone();
        long[0] = 0x7f;
        assert_eq!(ends(&long), (vec![(0, n, 8)], None));
        // Bytes after the last unit, however few, are a bad header.
        assert_eq!(ends(&[&cu[..], &[0, 0, 0]].concat()), (vec![(0, n, 8)], Some(Broken::Header)));
        // Reserved lengths, unknown versions, an abbreviation offset past
        // `.debug_abbrev`.
        let mut escape = cu.clone();
        escape[..4].copy_from_slice(&0xffff_fff5u32.to_le_bytes());
        assert_eq!(ends(&escape), (vec![], Some(Broken::Header)));
        let mut v6 = cu.clone();
        v6[4] = 6;
        assert_eq!(ends(&v6), (vec![], Some(Broken::Header)));
        assert_eq!(ends(&unit(1, 8, 17, &[1, 0])), (vec![], Some(Broken::Header)));
        assert_eq!(ends(&unit(1, 8, 16, &[1, 0])).1, None);
        // A type unit's type offset: past the header, inside the section.
        let sig = [0u8; 8];
        let tu = |type_offset: u32| unit(2, 8, 0, &[&sig[..], &type_offset.to_le_bytes(), &[1, 0]].concat());
        assert_eq!(ends(&tu(24)).1, None);
        assert_eq!(ends(&tu(23)).1, Some(Broken::Header));
        assert_eq!(ends(&tu(1000)).1, Some(Broken::Header));
    }
}
