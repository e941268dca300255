//! Opening a unit as libdw opens it for upstream.
//!
//! gimli's `Unit::new` also parses the unit's line program and resolves its
//! `DW_AT_low_pc`, and fails the unit when either fails. libdw reads
//! neither when it opens a unit; upstream never asks for the address, and
//! asks for the line table's file names only to tell whether a struct-like
//! type is defined in a `.c` file (`is_definition_private`). So a bad line
//! table fails upstream there, with libdw's message, or never. [`open`]
//! reads the table's file names as libdw reads them (`lines.rs`), or
//! keeps libdw's message instead of failing.

use std::sync::Arc;

use gimli::{constants as dw, AttributeValue, Reader as _, Section as _};

use super::decode::Entries;
use super::{lines, SrcFiles, StringError, Tails, R};

/// The unit opened, and its source files as libdw's `dwarf_getsrcfiles`
/// gives them, or its message where the line table cannot be read; and
/// the error that call leaves set though it succeeds (an unreadable
/// `DW_AT_comp_dir`). Fails only where the unit DIE cannot be read.
pub(super) fn open<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    header: gimli::UnitHeader<R<'a>>,
    abbreviations: Arc<gimli::Abbreviations>,
    tails: Tails<'a>,
) -> gimli::Result<(gimli::Unit<R<'a>>, SrcFiles<'a>, Option<&'static str>)> {
    let mut unit = bare(dwarf, header, abbreviations);
    // The two attributes of the unit DIE rendering depends on, each from
    // its first occurrence (libdw's `dwarf_attr`): the line table, and
    // `DW_AT_str_offsets_base` as libdw reads it, whose value must read as
    // a number (`dwarf_formudata`); a section offset must also fall inside
    // `.debug_str_offsets` (`__libdw_formptr`). (Nothing reads addresses or
    // location and range lists: gimli's other bases stay at their
    // defaults.) The attributes are read as the walk reads entries
    // (`decode.rs`: libdw's forms, `DW_FORM_indirect` as libdw takes it).
    let mut stmt_list = None;
    let mut comp_dir = None;
    let mut str_base: Option<Option<u64>> = None;
    {
        let mut raw = Entries::new(&unit)?;
        let code = super::leb::uleb(&mut raw.input)?;
        let abbrev = unit.abbreviations.get(code).ok_or(gimli::Error::InvalidAbbreviationCode(code))?;
        for spec in abbrev.attributes() {
            let value = match raw.value(*spec) {
                Ok(v) => v,
                // A unit DIE without children whose attributes do not
                // read: libdw never reads them (nothing in the unit asks),
                // so the unit opens, with nothing in it (`window.rs` keeps
                // the DIE bare). `dwarf_getsrcfiles` looks for the line
                // table there: `dwarf_attr` fails reading up to it, with
                // "invalid DWARF", unless it comes before the damage.
                Err(_) if !abbrev.has_children() => {
                    let files = Err(stmt_list.is_none().then_some("invalid DWARF"));
                    return Ok((unit, files, None));
                }
                Err(e) => return Err(e),
            };
            match spec.name() {
                dw::DW_AT_stmt_list if stmt_list.is_none() => stmt_list = Some(value),
                dw::DW_AT_comp_dir if comp_dir.is_none() => comp_dir = Some(value),
                dw::DW_AT_str_offsets_base if str_base.is_none() => {
                    str_base = Some(match value {
                        AttributeValue::SecOffset(o) => {
                            Some(o as u64).filter(|&o| o < dwarf.debug_str_offsets.reader().len() as u64)
                        }
                        AttributeValue::Sdata(v) => Some(v as u64),
                        v => v.udata_value(),
                    });
                }
                _ => {}
            }
        }
    }
    unit.str_offsets_base = gimli::DebugStrOffsetsBase(match str_base.flatten() {
        Some(base) => base as usize,
        // libdw: none before DWARF 5, else past the header of the first
        // table in `.debug_str_offsets` (gimli would take 0 for an object
        // file).
        None if unit.header.version() < 5 => 0,
        None => str_offsets_header_end(dwarf),
    });
    let files = match stmt_list {
        None => Err(None),
        Some(value) => {
            // The table as libdw reads it (`lines.rs`): its files, or its
            // message where it fails.
            let lines = dwarf.debug_line.reader();
            let strings = lines::Strings {
                line_str: dwarf.debug_line_str.reader().slice(),
                str: dwarf.debug_str.reader().slice(),
                str_offsets: dwarf.debug_str_offsets.reader().slice(),
                tails,
            };
            match line_offset(value, unit.header.version(), lines.len()) {
                Ok(offset) => {
                    let big = gimli::Endianity::is_big_endian(lines.endian());
                    lines::read_srclines(lines.slice(), offset, unit.header.address_size(), big, &strings).map_err(Some)
                }
                Err(message) => Err(Some(message)),
            }
        }
    };
    // libdw reads the unit's `DW_AT_comp_dir` (`__libdw_getcompdir`) once
    // it has found the line table, before reading it: a value that is no
    // string leaves libdw's error set, though the table reads.
    let comp_dir_error = match (&files, comp_dir) {
        (Ok(_), Some(value)) => super::window::string(dwarf, tails.str, &unit, value).err().map(StringError::message),
        _ => None,
    };
    Ok((unit, files, comp_dir_error))
}

/// The unit as gimli reads it with none of its unit DIE's attributes: the
/// bases at their defaults, no line table.
pub(super) fn bare<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    header: gimli::UnitHeader<R<'a>>,
    abbreviations: Arc<gimli::Abbreviations>,
) -> gimli::Unit<R<'a>> {
    let enc = header.encoding();
    gimli::Unit {
        abbreviations,
        name: None,
        comp_dir: None,
        low_pc: 0,
        str_offsets_base: gimli::DebugStrOffsetsBase::default_for_encoding_and_file(enc, dwarf.file_type),
        addr_base: gimli::DebugAddrBase(0),
        loclists_base: gimli::DebugLocListsBase::default_for_encoding_and_file(enc, dwarf.file_type),
        rnglists_base: gimli::DebugRngListsBase::default_for_encoding_and_file(enc, dwarf.file_type),
        line_program: None,
        dwo_id: match header.type_() {
            gimli::UnitType::Skeleton(id) | gimli::UnitType::SplitCompilation(id) => Some(id),
            _ => None,
        },
        header,
    }
}

/// Where a `DW_AT_stmt_list` of this value puts the unit's line table in
/// a `.debug_line` of `len` bytes, as libdw's `__libdw_formptr` finds it,
/// or its message: a section offset (DWARF 2 and 3: `data4` and `data8`
/// too) must fall inside the section, and any other form is a number
/// only before DWARF 4.
fn line_offset(value: AttributeValue<R<'_>>, version: u16, len: usize) -> Result<usize, &'static str> {
    if len == 0 {
        return Err(".debug_line section missing");
    }
    // Section offsets are checked against the section (`invalid offset`),
    // then any offset against its end (`invalid DWARF`).
    let (offset, checked) = match value {
        AttributeValue::SecOffset(o) => (o as u64, true),
        _ if version > 3 => return Err("invalid DWARF"),
        AttributeValue::Data4(v) => (u64::from(v), true),
        AttributeValue::Data8(v) => (v, true),
        v => (super::window::udata(&v).ok_or("no constant value")?, false),
    };
    if checked && offset > len as u64 {
        Err("invalid offset")
    } else if offset >= len as u64 {
        Err("invalid DWARF")
    } else {
        Ok(offset as usize)
    }
}

/// Where libdw's `str_offsets_base_off` puts a DWARF 5 unit's string
/// offsets when the unit DIE gives none it can read: past the header of
/// the section's first table, if that header is whole and of version 5,
/// else at 0.
fn str_offsets_header_end(dwarf: &gimli::Dwarf<R<'_>>) -> usize {
    let section = dwarf.debug_str_offsets.reader();
    let mut r = *section;
    let start = r.len();
    let Ok(mut length) = r.read_u32().map(u64::from) else { return 0 };
    if length == 0xffff_ffff {
        match r.read_u64() {
            Ok(l) => length = l,
            Err(_) => return 0,
        }
    }
    if r.len() < 4 || length < 4 || (r.len() as u64) < length {
        return 0;
    }
    if r.read_u16().ok() != Some(5) {
        return 0;
    }
    // The padding.
    let _ = r.read_u16();
    start - r.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_table_offsets_as_libdw_finds_them() {
        let sec = |o| AttributeValue::SecOffset(o);
        assert_eq!(line_offset(sec(4), 5, 100), Ok(4));
        assert_eq!(line_offset(sec(4), 5, 0), Err(".debug_line section missing"));
        assert_eq!(line_offset(sec(101), 5, 100), Err("invalid offset"));
        assert_eq!(line_offset(sec(100), 5, 100), Err("invalid DWARF"));
        // Other forms: an error from DWARF 4 on, a number before.
        assert_eq!(line_offset(AttributeValue::Data8(4), 5, 100), Err("invalid DWARF"));
        assert_eq!(line_offset(AttributeValue::Data4(4), 3, 100), Ok(4));
        assert_eq!(line_offset(AttributeValue::Data1(200), 2, 100), Err("invalid DWARF"));
        assert_eq!(line_offset(AttributeValue::Flag(true), 2, 100), Err("no constant value"));
    }
}
