//! A unit's source files as libdw (0.188) reads them from its line table,
//! or libdw's message where it cannot.
//!
//! Upstream asks for a unit's file names (`dwarf_getsrcfiles`, to tell a
//! type defined in a `.c` file) and libdw then reads the table
//! (`read_srclines`), failing on damage gimli reads past or meets only
//! later: a directory index past the list, a name's string offset past
//! `.debug_line_str`, a header whose length does not end where its lists
//! end. This reads the header as libdw does, and gives its file names as
//! libdw numbers them (gimli's own parse of the table is not used: it
//! refuses some tables libdw reads, and numbers DWARF 4's file 0 as the
//! unit).
//!
//! libdw 0.188 reads the line program too, and fails on more (a standard
//! opcode whose operand count is not the standard one, a line number past
//! an `int`), and `DW_LNE_define_file` adds files: `program.rs` walks it.

use gimli::constants as dw;

use super::decode::{skip_op, Op};

mod program;

/// libdw's `DWARF_E_INVALID_DEBUG_LINE`.
const INVALID_LINE: &str = "invalid .debug_line section";

/// The sections a line table's strings live in.
pub(super) struct Strings<'a> {
    pub line_str: &'a [u8],
    pub str: &'a [u8],
    /// `.debug_str_offsets`, for string indexes.
    pub str_offsets: &'a [u8],
    /// Where their C strings run on to.
    pub tails: super::Tails<'a>,
}

/// A unit's source files as libdw numbers them, by `DW_AT_decl_file`: the
/// name a file entry gives (its directory left off: only the name's end is
/// ever looked at), `None` for libdw's "???" (entry 0 before DWARF 5).
pub(super) type Files<'a> = Vec<Option<&'a [u8]>>;

/// The files of the line table at `offset` of `section` (which must hold
/// at least one byte there), or libdw's error for it.
pub(super) fn read_srclines<'a>(
    section: &'a [u8],
    offset: usize,
    address_size: u8,
    big_endian: bool,
    strings: &Strings<'a>,
) -> Result<Files<'a>, &'static str> {
    let r = Reader { data: section, at: offset, end: section.len(), big_endian };
    srclines(r, address_size, strings)
}

/// A cursor over the section, `end` where the current table ends.
#[derive(Clone, Copy)]
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    end: usize,
    big_endian: bool,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.end.saturating_sub(self.at)
    }

    /// The byte at the cursor; past the section's end (C reads whatever
    /// follows), 0.
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn uint(&mut self, n: usize) -> u64 {
        let mut v = 0u64;
        for i in 0..n {
            let b = u64::from(self.byte());
            v |= if self.big_endian { b << (8 * (n - 1 - i)) } else { b << (8 * i) };
        }
        v
    }

    /// libdw's `__libdw_get_uleb128`: the first byte is read whatever is
    /// left, then at most ten in all and never past the table's end; a
    /// number that does not end there is all ones.
    fn uleb(&mut self) -> u64 {
        let max = self.end.saturating_sub(self.at).clamp(1, 10);
        let mut acc = 0u64;
        for i in 0..max {
            let b = self.byte();
            acc |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return acc;
            }
        }
        u64::MAX
    }

    /// libdw's `__libdw_get_sleb128`, the same way.
    fn sleb(&mut self) -> i64 {
        let max = self.end.saturating_sub(self.at).clamp(1, 10);
        let mut acc = 0i64;
        for i in 0..max {
            let b = self.byte();
            let shift = 7 * i as u32;
            acc |= i64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift + 7 < 64 && b & 0x40 != 0 {
                    acc |= -1i64 << (shift + 7);
                }
                return acc;
            }
        }
        i64::MAX
    }

    /// The length of a NUL-terminated string at the cursor within the
    /// table, with its NUL.
    fn string_len(&self) -> Option<usize> {
        let rest = self.data.get(self.at..self.end)?;
        rest.iter().position(|&b| b == 0).map(|n| n + 1)
    }
}

fn srclines<'a>(mut r: Reader<'a>, address_size: u8, strings: &Strings<'a>) -> Result<Files<'a>, &'static str> {
    if r.left() < 4 {
        return Err(INVALID_LINE);
    }
    let mut unit_length = r.uint(4);
    let mut offset_size = 4;
    if unit_length == 0xffff_ffff {
        if r.left() < 8 {
            return Err(INVALID_LINE);
        }
        unit_length = r.uint(8);
        offset_size = 8;
    }
    if unit_length > r.left() as u64 {
        return Err(INVALID_LINE);
    }
    r.end = r.at + unit_length as usize;
    if r.left() < 2 {
        return Err(INVALID_LINE);
    }
    let version = r.uint(2);
    if !(2..=5).contains(&version) {
        return Err("invalid DWARF version");
    }
    if version >= 5 {
        if r.left() < 2 {
            return Err(INVALID_LINE);
        }
        let (line_address_size, segment_selector_size) = (r.byte(), r.byte());
        if line_address_size != address_size || segment_selector_size != 0 {
            return Err(INVALID_LINE);
        }
    }
    if r.left() < offset_size {
        return Err(INVALID_LINE);
    }
    let header_length = r.uint(offset_size);
    let header_start = r.at;
    // The minimum instruction length, then (version 4 on) the maximum
    // operations per instruction, which may not be 0.
    r.byte();
    if version >= 4 && (r.left() < 1 || r.byte() == 0) {
        return Err(INVALID_LINE);
    }
    // The default `is_stmt`, the line base, the line range, the opcode
    // base, then the standard opcodes' operand counts.
    if r.left() < 4 {
        return Err(INVALID_LINE);
    }
    let (default_is_stmt, line_base, line_range) = (r.byte(), r.byte() as i8, r.byte());
    let opcode_base = r.byte();
    if (r.left() as isize) < isize::from(opcode_base) - 1 {
        return Err(INVALID_LINE);
    }
    // libdw's `standard_opcode_lengths` points a byte before the first.
    let lengths = r.at - 1;
    // An opcode base of 0 takes the cursor back a byte, as in C.
    r.at = (r.at as isize + isize::from(opcode_base) - 1) as usize;

    let ndirs = if version < 5 {
        let mut n = 0u64;
        let mut p = r;
        while p.at < p.end && p.data.get(p.at) != Some(&0) {
            let len = p.string_len().ok_or(INVALID_LINE)?;
            n += 1;
            p.at += len;
        }
        if p.at >= p.end || p.data.get(p.at) != Some(&0) {
            return Err(INVALID_LINE);
        }
        r.at = p.at + 1;
        n + 1
    } else {
        let forms = entry_formats(&mut r, false)?;
        if r.left() < 1 {
            return Err(INVALID_LINE);
        }
        let ndirs = r.uleb();
        if !forms.may_hold(ndirs, &r) {
            return Err(INVALID_LINE);
        }
        for _ in 0..ndirs {
            entry(&mut r, &forms, offset_size, address_size, strings)?;
        }
        ndirs
    };

    // Before DWARF 5, entry 0 is libdw's "???".
    let mut files: Files<'a> = vec![None];
    if version < 5 {
        if r.at >= r.end {
            return Err(INVALID_LINE);
        }
        while r.at < r.end && r.data.get(r.at) != Some(&0) {
            let len = r.string_len().ok_or(INVALID_LINE)?;
            files.push(r.data.get(r.at..r.at + len - 1));
            r.at += len;
            if r.at >= r.end {
                return Err(INVALID_LINE);
            }
            if r.uleb() >= ndirs {
                return Err("invalid directory index");
            }
            for _ in 0..2 {
                if r.at >= r.end {
                    return Err(INVALID_LINE);
                }
                r.uleb();
            }
        }
        if r.at >= r.end || r.data.get(r.at) != Some(&0) {
            return Err(INVALID_LINE);
        }
        r.at += 1;
    } else {
        let forms = entry_formats(&mut r, true)?;
        let nfiles = r.uleb();
        if !forms.may_hold(nfiles, &r) {
            return Err(INVALID_LINE);
        }
        for n in 0..nfiles {
            let (name, dir) = entry(&mut r, &forms, offset_size, address_size, strings)?;
            if dir >= ndirs {
                return Err("invalid directory index");
            }
            // The first entry takes the place of "???".
            if n == 0 {
                files[0] = Some(name);
            } else {
                files.push(Some(name));
            }
        }
    }
    // NVIDIA's CUBINs end the header with a 4-byte offset into
    // `.debug_str`: libdw reads one wherever the header is 4 bytes longer
    // than its lists.
    let header_end = (header_start as u64).wrapping_add(header_length);
    if (r.at as u64).wrapping_add(4) == header_end {
        r.at += 4;
    }
    if r.at as u64 != header_end {
        return Err("invalid DWARF");
    }
    let header = program::Header { opcode_base, line_base, line_range, default_is_stmt, lengths, address_size, ndirs };
    program::walk(r, &header, &mut files)?;
    Ok(files)
}

/// The entry formats of a DWARF 5 directory or file list: which one is the
/// path, which the directory index.
struct Formats {
    forms: Vec<u16>,
    path: Option<usize>,
    index: Option<usize>,
}

impl Formats {
    /// Whether `n` entries may follow: none without formats, and (libdw
    /// assumes) at least a byte per format each.
    fn may_hold(&self, n: u64, r: &Reader<'_>) -> bool {
        match self.forms.len() {
            0 => n == 0,
            k => n <= (r.left() / k) as u64,
        }
    }
}

fn entry_formats(r: &mut Reader<'_>, files: bool) -> Result<Formats, &'static str> {
    if r.left() < 1 {
        return Err(INVALID_LINE);
    }
    let n = r.byte();
    let mut f = Formats { forms: Vec::with_capacity(usize::from(n)), path: None, index: None };
    for i in 0..usize::from(n) {
        if r.left() < 1 {
            return Err(INVALID_LINE);
        }
        let desc = r.uleb() as u16;
        if r.left() < 1 {
            return Err(INVALID_LINE);
        }
        let form = r.uleb() as u16;
        if !valid_user_form(form) {
            return Err(INVALID_LINE);
        }
        f.forms.push(form);
        if desc == dw::DW_LNCT_path.0 {
            f.path = Some(i);
        } else if files && desc == dw::DW_LNCT_directory_index.0 {
            f.index = Some(i);
        }
    }
    if n > 0 && (f.path.is_none() || (files && f.index.is_none())) {
        return Err(INVALID_LINE);
    }
    Ok(f)
}

/// One directory or file entry: its path must read as a string, its
/// directory index (files) as a number; the path and that index.
fn entry<'a>(
    r: &mut Reader<'a>,
    f: &Formats,
    offset_size: usize,
    address_size: u8,
    strings: &Strings<'a>,
) -> Result<(&'a [u8], u64), &'static str> {
    let (mut path, mut dir) = (None, None);
    for (m, &form) in f.forms.iter().enumerate() {
        if Some(m) == f.path {
            path = formstring(r, form, offset_size, strings);
        } else if Some(m) == f.index {
            dir = udata(*r, form);
        }
        let len = form_len(r, form, offset_size, address_size).ok_or(INVALID_LINE)?;
        if r.left() < len {
            return Err(INVALID_LINE);
        }
        r.at += len;
    }
    match (path, dir) {
        (None, _) => Err(INVALID_LINE),
        // libdw takes an index of all ones (a LEB128 cut off by the
        // table's end reads as one) for none.
        (Some(_), None | Some(u64::MAX)) if f.index.is_some() => Err(INVALID_LINE),
        (Some(p), dir) => Ok((p, dir.unwrap_or(0))),
    }
}

/// `dwarf_formstring` on the value at the cursor: the string without its
/// NUL (up to the section's end if it has none).
fn formstring<'a>(r: &Reader<'a>, form: u16, offset_size: usize, strings: &Strings<'a>) -> Option<&'a [u8]> {
    let (section, at) = match dw::DwForm(form) {
        dw::DW_FORM_string => (r.data, r.at),
        dw::DW_FORM_line_strp | dw::DW_FORM_strp => {
            let (section, tail) = if form == dw::DW_FORM_line_strp.0 {
                (strings.line_str, strings.tails.line_str)
            } else {
                (strings.str, strings.tails.str)
            };
            let mut p = *r;
            return super::c_string(section, tail, usize::try_from(p.uint(offset_size)).ok()?);
        }
        dw::DW_FORM_strx
        | dw::DW_FORM_GNU_str_index
        | dw::DW_FORM_strx1
        | dw::DW_FORM_strx2
        | dw::DW_FORM_strx3
        | dw::DW_FORM_strx4 => return string_index(r, form, offset_size, strings),
        _ => return None,
    };
    let rest = section.get(at..).filter(|rest| !rest.is_empty())?;
    Some(&rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())])
}

/// `dwarf_formstring` on a string index at the cursor, as libdw reads one
/// in a line table: for the unit it stands in for the table, which sets
/// no base, so `.debug_str_offsets` is indexed from its start; an index
/// whose bytes reach the table's last byte fails.
fn string_index<'a>(r: &Reader<'a>, form: u16, offset_size: usize, strings: &Strings<'a>) -> Option<&'a [u8]> {
    if strings.str.is_empty() {
        return None;
    }
    let mut p = *r;
    let fixed = |n: usize| p.at.checked_add(n).filter(|&last| last < p.end).map(|_| n);
    let index = match dw::DwForm(form) {
        dw::DW_FORM_strx1 => p.uint(fixed(1)?),
        dw::DW_FORM_strx2 => p.uint(fixed(2)?),
        dw::DW_FORM_strx3 => p.uint(fixed(3)?),
        dw::DW_FORM_strx4 => p.uint(fixed(4)?),
        _ if p.at >= p.end => return None,
        _ => p.uleb(),
    };
    let offsets = strings.str_offsets;
    let size = offsets.len();
    if size == 0 || offset_size > size || index > ((size - offset_size) / offset_size) as u64 {
        return None;
    }
    let at = usize::try_from(index).ok()? * offset_size;
    let mut o = Reader { data: offsets, at, end: size, big_endian: r.big_endian };
    let off = usize::try_from(o.uint(offset_size)).ok()?;
    super::c_string_by_index(strings.str, strings.tails.str, off)
}

/// `dwarf_formudata` on the value at the cursor.
fn udata(mut r: Reader<'_>, form: u16) -> Option<u64> {
    Some(match dw::DwForm(form) {
        dw::DW_FORM_data1 => r.uint(1),
        dw::DW_FORM_data2 => r.uint(2),
        dw::DW_FORM_data4 => r.uint(4),
        dw::DW_FORM_data8 => r.uint(8),
        dw::DW_FORM_udata => r.uleb(),
        dw::DW_FORM_sdata => r.sleb() as u64,
        _ => return None,
    })
}

/// libdw's `libdw_valid_user_form`.
fn valid_user_form(form: u16) -> bool {
    matches!(
        dw::DwForm(form),
        dw::DW_FORM_block
            | dw::DW_FORM_block1
            | dw::DW_FORM_block2
            | dw::DW_FORM_block4
            | dw::DW_FORM_data1
            | dw::DW_FORM_data2
            | dw::DW_FORM_data4
            | dw::DW_FORM_data8
            | dw::DW_FORM_data16
            | dw::DW_FORM_flag
            | dw::DW_FORM_line_strp
            | dw::DW_FORM_sdata
            | dw::DW_FORM_sec_offset
            | dw::DW_FORM_string
            | dw::DW_FORM_strp
            | dw::DW_FORM_strp_sup
            | dw::DW_FORM_strx
            | dw::DW_FORM_strx1
            | dw::DW_FORM_strx2
            | dw::DW_FORM_strx3
            | dw::DW_FORM_strx4
            | dw::DW_FORM_udata
    )
}

/// `__libdw_form_val_len`: the bytes of a value of `form` at the cursor,
/// `None` where it runs past the table. The sizes are the DIE reader's
/// (`decode::skip_op`, for a DWARF 5 unit of the table's offset size).
fn form_len(r: &Reader<'_>, form: u16, offset_size: usize, address_size: u8) -> Option<usize> {
    let form = dw::DwForm(form);
    let format = if offset_size == 8 { gimli::Format::Dwarf64 } else { gimli::Format::Dwarf32 };
    let enc = gimli::Encoding { format, version: 5, address_size };
    let implicit = (form == dw::DW_FORM_implicit_const).then_some(0);
    let mut p = *r;
    let start = p.at;
    match skip_op(gimli::AttributeSpecification::new(dw::DW_AT_name, form, implicit), enc) {
        Op::Skip(n) => return usize::try_from(n).ok(),
        Op::String => return p.string_len(),
        Op::Block(n) => {
            let len = if n == 0 { p.uleb() } else { p.uint(usize::from(n)) };
            p.at = p.at.checked_add(usize::try_from(len).ok()?)?;
        }
        // The 64-bit references the DIE reader leaves to gimli.
        Op::Gimli(_) if matches!(form, dw::DW_FORM_ref8 | dw::DW_FORM_ref_sup8) => return Some(8),
        // LEB128 values (udata, sdata, the index forms; `indirect` too).
        _ => {
            p.uleb();
        }
    }
    (p.at <= r.end).then_some(p.at - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DWARF 5 line table: one directory, `/d`; files of `formats` (each
    /// a content code and a form), `files` their bytes; `extra` bytes
    /// after them that the header's length counts; no program.
    fn table(formats: &[(u8, u8)], files: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut header = vec![1, 1, 1, 0xfb, 14, 13, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];
        header.extend([1, 1, 0x08, 1]); // directories: a string path; one
        header.extend(b"/d\0");
        header.push(formats.len() as u8);
        for &(code, form) in formats {
            header.extend([code, form]);
        }
        header.extend(files);
        header.extend(extra);
        let mut t = vec![0; 4];
        t.extend(5u16.to_le_bytes());
        t.extend([8, 0]);
        t.extend((header.len() as u32).to_le_bytes());
        t.extend(header);
        let len = (t.len() - 4) as u32;
        t[..4].copy_from_slice(&len.to_le_bytes());
        t
    }

    fn read(t: &[u8]) -> Result<Vec<Option<&[u8]>>, &'static str> {
        read_srclines(t, 0, 8, false, &Strings { line_str: &[], str: &[], str_offsets: &[], tails: Default::default() })
    }

    /// A path (string) and a directory index of `form`.
    fn with_index(form: u8) -> [(u8, u8); 2] {
        [(1, 0x08), (2, form)]
    }

    #[test]
    fn headers_read_as_libdw_reads_them() {
        let one_file = [&[1][..], b"a.c\0", &[0]].concat();
        assert_eq!(read(&table(&with_index(0x0b), &one_file, &[])), Ok(vec![Some(&b"a.c"[..])]));
        // A header 4 bytes longer than its lists: a CUBIN's offset into
        // `.debug_str`, read; any other length is wrong.
        assert!(read(&table(&with_index(0x0b), &one_file, &[7, 0, 0, 0])).is_ok());
        assert_eq!(read(&table(&with_index(0x0b), &one_file, &[7, 0, 0])), Err("invalid DWARF"));
        // Only the forms libdw 0.188 takes for an entry's contents.
        assert_eq!(read(&table(&with_index(0x01), &one_file, &[])), Err(INVALID_LINE));
        // A directory index past the list, and one cut off by the table's
        // end (all ones to libdw, which it takes for none).
        let past = [&[1][..], b"a.c\0", &[5]].concat();
        assert_eq!(read(&table(&with_index(0x0f), &past, &[])), Err("invalid directory index"));
        let cut = [&[1][..], b"a.c\0", &[0x80]].concat();
        assert_eq!(read(&table(&with_index(0x0f), &cut, &[])), Err(INVALID_LINE));
    }
}
