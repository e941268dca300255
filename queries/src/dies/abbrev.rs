//! An abbreviation table as libdw reads it, for units whose table gimli
//! refuses.
//!
//! gimli parses a unit's whole table up front and refuses it for a children
//! byte other than 0 or 1, a code met twice, a zero tag, or an attribute
//! with a zero name or form. libdw reads entries one at a time as codes are
//! asked for: any children byte but 1 means none, a code met a second time
//! ends the table, a zero tag or attribute name is taken as it is, and
//! an attribute with a zero form takes no bytes (and has no value; a
//! sibling of no form is one `dwarf_siblingof` cannot follow). So the
//! entries libdw would find are written again in a form gimli takes, and
//! that table is read instead.

use gimli::{constants as dw, RunTimeEndian};

/// A name for attributes whose name is 0: an attribute nothing reads.
const NAMELESS: u64 = dw::DW_AT_hi_user.0 as u64;
/// The tag written for tag 0, which [`super::Plans`] reads back as 0.
pub(super) const TAGLESS: u16 = dw::DW_TAG_hi_user.0;
/// The tag written for a tag past 16 bits, which gimli cannot hold: one
/// upstream renders no more than it renders that tag.
const WIDE_TAG: u64 = dw::DW_TAG_hi_user.0 as u64 - 1;
/// The form written for a form past 16 bits: one libdw cannot skip, nor
/// gimli read.
const WIDE_FORM: u64 = 0xffff;

/// The table at `offset` of `.debug_abbrev` (`section`) as libdw would
/// find its entries; `None` if not even that can be read.
pub(super) fn lenient(section: &[u8], offset: usize, endian: RunTimeEndian) -> Option<gimli::Abbreviations> {
    let mut out = Vec::new();
    // Each entry is copied once read whole.
    for (code, entry) in found(section.get(offset..)?) {
        uleb(&mut out, u64::from(code));
        uleb(
            &mut out,
            match entry.tag {
                0 => u64::from(TAGLESS),
                t if t > 0xffff => WIDE_TAG,
                t => t,
            },
        );
        out.push(u8::from(entry.children));
        for (name, form, mut value) in entry.attrs {
            // A zero form takes no bytes. libdw finds the attribute by name
            // and fails to read it: no string, number, reference or flag,
            // and a later attribute of the same name is never found. So it
            // is written as one that takes no bytes and reads as none of
            // those: `DW_FORM_flag_present` (a sibling of that form is one
            // `dwarf_siblingof` cannot follow, as it cannot follow one of
            // form 0), or for a declaration, which would read it as true,
            // an implicit constant. Under a name nothing reads otherwise.
            let flag_present = dw::DW_FORM_flag_present.0 as u64;
            // Names and forms past 16 bits (gimli reads no more) are no
            // attribute upstream reads, and no form libdw can skip.
            let form = if form > 0xffff { WIDE_FORM } else { form };
            let (name, form) = match (name, form) {
                (n, 0) if n == dw::DW_AT_declaration.0 as u64 => {
                    value = Some(0);
                    (n, dw::DW_FORM_implicit_const.0 as u64)
                }
                (n, 0) if n == dw::DW_AT_sibling.0 as u64 => (n, flag_present),
                (n, 0) if u16::try_from(n).is_ok_and(|n| read_upstream(dw::DwAt(n))) => (n, flag_present),
                (_, 0) => (NAMELESS, flag_present),
                (n, form) if n == 0 || n > 0xffff => (NAMELESS, form),
                pair => pair,
            };
            uleb(&mut out, name);
            uleb(&mut out, form);
            if let Some(v) = value {
                sleb(&mut out, v);
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    out.push(0);
    gimli::DebugAbbrev::new(&out, endian).abbreviations(gimli::DebugAbbrevOffset(0)).ok()
}

/// The tag of abbreviation `code` of the table at `offset`, as libdw
/// finds it (`dwarf_tag`), without writing the table again.
pub(super) fn tag_of(section: &[u8], offset: usize, code: u64) -> Option<u64> {
    found(section.get(offset..)?).find(|&(c, _)| u64::from(c) == code).map(|(_, e)| e.tag)
}

/// The entries of a table libdw can find, in order, but those of code 0
/// (which no entry asks for). libdw scans on from the last entry it read
/// only until it finds the code asked for; a malformed entry, or a code
/// met before, ends the scan for good, so nothing after either is ever
/// found. A zero byte where an entry starts ends the table (a zero code
/// written longer does not).
fn found(table: &[u8]) -> impl Iterator<Item = (u32, Entry)> + '_ {
    let mut r = Bytes(table);
    let mut seen = rustc_hash::FxHashSet::default();
    std::iter::from_fn(move || loop {
        if r.0.first().is_none_or(|&b| b == 0) {
            return None;
        }
        // libdw keeps codes as `unsigned int`.
        let code = r.uleb()? as u32;
        let entry = entry(&mut r)?;
        if !seen.insert(code) {
            return None;
        }
        if code != 0 {
            return Some((code, entry));
        }
    })
}

/// Whether libdw reads the attribute for upstream: those rendering reads,
/// and the unit DIE's that opening a unit reads (`open.rs`).
fn read_upstream(name: dw::DwAt) -> bool {
    super::decode::Want::of(name).is_some()
        || matches!(name, dw::DW_AT_stmt_list | dw::DW_AT_comp_dir | dw::DW_AT_str_offsets_base)
}

struct Entry {
    tag: u64,
    children: bool,
    attrs: Vec<(u64, u64, Option<i64>)>,
}

/// The rest of an entry after its code, as libdw reads it: its tag,
/// names and forms are `unsigned int`s, so only their low 32 bits count.
fn entry(r: &mut Bytes<'_>) -> Option<Entry> {
    let tag = u64::from(r.uleb()? as u32);
    let children = r.byte()? == dw::DW_CHILDREN_yes.0;
    let mut attrs = Vec::new();
    loop {
        let name = u64::from(r.uleb()? as u32);
        let form = u64::from(r.uleb()? as u32);
        if name == 0 && form == 0 {
            return Some(Entry { tag, children, attrs });
        }
        let value = if form == dw::DW_FORM_implicit_const.0 as u64 { Some(r.sleb()?) } else { None };
        attrs.push((name, form, value));
    }
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// LEB128 as libdw reads it: at most ten bytes, and all ones where
    /// those do not end it (the next read goes on after them).
    fn uleb(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(7 * i).unwrap_or(0);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        Some(u64::MAX)
    }

    fn sleb(&mut self) -> Option<i64> {
        let mut v = 0i64;
        let mut shift = 0u32;
        for _ in 0..10 {
            let b = self.byte()?;
            v |= i64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
        Some(v)
    }
}

/// Writes `v` as ULEB128 (also what the reader's tests build tables with).
pub(super) fn uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
        out.push(if done { b } else { b | 0x80 });
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each liberty libdw takes, in one table: what gimli gets to read.
    #[test]
    fn entries_as_libdw_finds_them() {
        let table: &[u8] = &[
            // 1: base_type, children byte 2 (none), a zero-named data1
            1, 0x24, 2, 0, 0x0b, 0x03, 0x0e, 0, 0, //
            // 2: tag 0, a zero-form type, a zero-form sibling, then an
            // implicit_const
            2, 0, 1, 0x49, 0, 0x01, 0, 0x0b, 0x21, 0x7f, 0, 0, //
            // 1 again: libdw keeps the first, and stops there
            1, 0x13, 1, 0, 0, //
            // 4: never reached
            4, 0x24, 0, 0, 0,
        ];
        let a = lenient(table, 0, RunTimeEndian::Little).expect("a table");
        let one = a.get(1).expect("code 1");
        assert_eq!(one.tag(), dw::DW_TAG_base_type);
        assert!(!one.has_children());
        let names: Vec<_> = one.attributes().iter().map(|s| (s.name(), s.form())).collect();
        assert_eq!(names, [(dw::DW_AT_hi_user, dw::DW_FORM_data1), (dw::DW_AT_name, dw::DW_FORM_strp)]);
        let two = a.get(2).expect("code 2");
        assert_eq!(two.tag().0, TAGLESS);
        assert!(two.has_children());
        let specs = two.attributes();
        assert_eq!((specs[0].name(), specs[0].form()), (dw::DW_AT_type, dw::DW_FORM_flag_present));
        assert_eq!((specs[1].name(), specs[1].form()), (dw::DW_AT_sibling, dw::DW_FORM_flag_present));
        assert_eq!((specs[2].form(), specs[2].implicit_const_value()), (dw::DW_FORM_implicit_const, Some(-1)));
        assert!(a.get(4).is_none());
        // An entry cut short (no terminating pair): not found, nor anything
        // after it.
        let cut: &[u8] = &[1, 0x24, 0, 0, 0, 3, 0x0d, 0, 0x03];
        let a = lenient(cut, 0, RunTimeEndian::Little).expect("a table");
        assert!(a.get(1).is_some() && a.get(3).is_none());
    }

    /// An attribute of form 0 that upstream reads stays that attribute,
    /// which libdw finds and cannot read (and a later one of its name is
    /// never found): a name, a number, a declaration (which would read
    /// `DW_FORM_flag_present` as true); others are nameless.
    #[test]
    fn attributes_of_no_form() {
        let table: &[u8] = &[1, 0x13, 0, 0x03, 0, 0x0b, 0x0b, 0, 0, 0];
        let a = lenient(table, 0, RunTimeEndian::Little).expect("a table");
        let specs: Vec<_> = a.get(1).expect("code 1").attributes().iter().map(|s| (s.name(), s.form())).collect();
        assert_eq!(specs, [(dw::DW_AT_name, dw::DW_FORM_flag_present), (dw::DW_AT_byte_size, dw::DW_FORM_data1)]);
        let table: &[u8] = &[1, 0x13, 0, 0x0b, 0, 0x0b, 0x0b, 0x3c, 0, 0x3a, 0, 0, 0, 0];
        let a = lenient(table, 0, RunTimeEndian::Little).expect("a table");
        let specs: Vec<_> = a.get(1).expect("code 1").attributes().iter().map(|s| (s.name(), s.form())).collect();
        assert_eq!(
            specs,
            [
                (dw::DW_AT_byte_size, dw::DW_FORM_flag_present),
                (dw::DW_AT_byte_size, dw::DW_FORM_data1),
                (dw::DW_AT_declaration, dw::DW_FORM_implicit_const),
                (dw::DW_AT_decl_file, dw::DW_FORM_flag_present),
            ]
        );
        let decl = a.get(1).expect("code 1").attributes()[2];
        assert_eq!(decl.implicit_const_value(), Some(0));
    }

    /// Values past 16 bits, which gimli refuses and libdw keeps as 32-bit
    /// `unsigned int`s.
    #[test]
    fn wide_values() {
        let table: &[u8] = &[
            // 1: tag 0x10024, a form 0x10000, a name 0x10003, a name
            // 2^32 + 3 (DW_AT_name to libdw) of form string
            1, 0xa4, 0x80, 0x04, 0, //
            0x49, 0x80, 0x80, 0x04, //
            0x83, 0x80, 0x04, 0x08, //
            0x83, 0x80, 0x80, 0x80, 0x10, 0x08, 0, 0, //
            // 2: a LEB128 of ten continued bytes is all ones (a name no
            // one reads); the form after it reads on
            2, 0x24, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0b, 0, 0, 0,
        ];
        let a = lenient(table, 0, RunTimeEndian::Little).expect("a table");
        let one = a.get(1).expect("code 1");
        assert_eq!(one.tag().0 as u64, WIDE_TAG);
        let specs: Vec<_> = one.attributes().iter().map(|s| (s.name(), s.form())).collect();
        assert_eq!(
            specs,
            [
                (dw::DW_AT_type, gimli::DwForm(WIDE_FORM as u16)),
                (dw::DW_AT_hi_user, dw::DW_FORM_string),
                (dw::DW_AT_name, dw::DW_FORM_string),
            ]
        );
        let two = a.get(2).expect("code 2");
        let specs: Vec<_> = two.attributes().iter().map(|s| (s.name(), s.form())).collect();
        assert_eq!(specs, [(dw::DW_AT_hi_user, dw::DW_FORM_data1)]);
    }
}
