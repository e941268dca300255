//! The line program after the header, walked as libdw 0.188's
//! `read_srclines` walks it, for where it fails and for the files
//! `DW_LNE_define_file` adds. Nothing else of the rows is kept: upstream
//! asks only for file names.
//!
//! libdw fails a program on an operand it cannot read, a standard opcode
//! whose operand count in the header is not the standard one, an extended
//! opcode longer than what is left, and a row whose registers do not fit
//! the fields libdw stores them in (`add_new_line`): a line past an `int`,
//! a column past 16 bits, `is_stmt` past 1, an ISA past 8 bits, a
//! discriminator past 24. (The operation index stays below the maximum
//! operations per instruction, a byte, so it always fits.)
//!
//! Most of a program is special opcodes, one byte and one row each, so
//! those take the fast path: the line advance per opcode is looked up in a
//! table made from the header, rather than computed with a division.

use gimli::constants as dw;

use super::{Files, Reader, INVALID_LINE};

/// NVIDIA's extended opcodes, which libdw 0.188 reads (elfutils' `dwarf.h`).
const NVIDIA_INLINED_CALL: dw::DwLne = dw::DwLne(0x90);
const NVIDIA_SET_FUNCTION_NAME: dw::DwLne = dw::DwLne(0x91);

/// What the header says that the program needs.
pub(super) struct Header {
    pub opcode_base: u8,
    pub line_base: i8,
    pub line_range: u8,
    pub default_is_stmt: u8,
    /// Where `standard_opcode_lengths[k]` is: the byte at `lengths + k`.
    pub lengths: usize,
    pub address_size: u8,
    /// Directories in the header (a file's directory index is checked
    /// against it).
    pub ndirs: u64,
}

/// Registers a row stores in fields narrower than their own, each a bit
/// of a mask while its value does not fit (see [`walk`]); only `is_stmt`'s
/// value matters beyond that (`DW_LNS_negate_stmt` flips it).
const COLUMN: u8 = 1;
const IS_STMT: u8 = 2;
const ISA: u8 = 4;
const DISCRIMINATOR: u8 = 8;
/// Not a register: a line range of 0, on which every special opcode fails.
const NO_RANGE: u8 = 16;

/// `bit` set in `bad` if `unfit`, else cleared.
#[inline]
fn mark(bad: &mut u8, bit: u8, unfit: bool) {
    *bad = (*bad & !bit) | if unfit { bit } else { 0 };
}

/// Whether a line fits libdw's `int` field.
#[inline]
fn line_fits(line: i64) -> bool {
    i32::try_from(line).is_ok()
}

/// The operand count each standard opcode libdw knows must have in the
/// header (`DW_LNS_copy` .. `DW_LNS_set_isa`).
const STANDARD_COUNTS: [u8; 13] = [0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

/// What an opcode does, looked up in a table made from the header: one
/// load and one jump an opcode.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Special,
    Extended,
    /// `DW_LNS_copy`: a row.
    Copy,
    /// An operand read and dropped (`DW_LNS_advance_pc`, `set_file`).
    Skip,
    AdvanceLine,
    SetColumn,
    SetIsa,
    NegateStmt,
    ConstAddPc,
    FixedAdvancePc,
    /// No operand, no register a row checks.
    Nothing,
    /// A standard opcode libdw does not know: its operands skipped.
    Unknown,
    /// A standard opcode libdw knows whose operand count is not the standard one.
    Fails,
}

/// Walks the program from `r` (just past the header) to the table's end;
/// the files `DW_LNE_define_file` defines join `files`.
pub(super) fn walk<'a>(mut r: Reader<'a>, h: &Header, files: &mut Files<'a>) -> Result<(), &'static str> {
    let opcode_length = |k: u8| r.data.get(h.lengths + usize::from(k)).copied().unwrap_or(0);
    let special_fails = h.line_range == 0;
    // Per opcode, its class and, for a special one, its line advance.
    let mut class = [Class::Special; 256];
    let mut advance = [0i64; 256];
    for op in 0..=u8::MAX {
        let k = usize::from(op);
        // libdw tests for a special opcode first: with an opcode base of 0,
        // 0 is one too.
        class[k] = match op {
            op if op >= h.opcode_base => {
                if !special_fails {
                    advance[k] = i64::from(h.line_base) + i64::from((op - h.opcode_base) % h.line_range);
                }
                Class::Special
            }
            0 => Class::Extended,
            op if op > dw::DW_LNS_set_isa.0 => Class::Unknown,
            op if opcode_length(op) != STANDARD_COUNTS[k] => Class::Fails,
            op => match dw::DwLns(op) {
                dw::DW_LNS_copy => Class::Copy,
                dw::DW_LNS_advance_pc | dw::DW_LNS_set_file => Class::Skip,
                dw::DW_LNS_advance_line => Class::AdvanceLine,
                dw::DW_LNS_set_column => Class::SetColumn,
                dw::DW_LNS_set_isa => Class::SetIsa,
                dw::DW_LNS_negate_stmt => Class::NegateStmt,
                dw::DW_LNS_const_add_pc => Class::ConstAddPc,
                dw::DW_LNS_fixed_advance_pc => Class::FixedAdvancePc,
                // DW_LNS_set_basic_block, set_prologue_end, set_epilogue_begin.
                _ => Class::Nothing,
            },
        };
    }
    let discriminator_count = opcode_length(4);
    // The registers that do not fit, so that a row is one test (and a
    // special opcode's the same test, for a line range of 0).
    let mut line = 1i64;
    let mut is_stmt = h.default_is_stmt;
    let mut bad = if is_stmt > 1 { IS_STMT } else { 0 } | if special_fails { NO_RANGE } else { 0 };
    let program = r.data.get(..r.end).ok_or(INVALID_LINE)?;
    // The cursor in a local: the reader goes to `extended` and the long
    // LEB128 reads, and kept there it would be loaded and stored for
    // every opcode.
    let mut at = r.at;
    // An operand, LEB128 read by `$read`: there must be a byte of it at
    // least; most are one byte, whose value `$one` gives.
    macro_rules! operand {
        ($read:ident, $one:expr) => {{
            match program.get(at) {
                None => return Err(INVALID_LINE),
                Some(&b) if b < 0x80 => {
                    at += 1;
                    $one(b)
                }
                Some(_) => {
                    r.at = at;
                    let v = r.$read();
                    at = r.at;
                    v as i64
                }
            }
        }};
    }
    let unsigned = |b: u8| i64::from(b);
    // A one-byte SLEB128 has its sign in bit 6.
    let signed = |b: u8| i64::from(((b << 1) as i8) >> 1);
    while let Some(&opcode) = program.get(at) {
        at += 1;
        match class[usize::from(opcode)] {
            Class::Special => {
                line += advance[usize::from(opcode)];
                if bad != 0 || !line_fits(line) {
                    return Err(INVALID_LINE);
                }
                // A row resets the discriminator.
                bad &= !DISCRIMINATOR;
            }
            Class::Copy => {
                if bad & !NO_RANGE != 0 || !line_fits(line) {
                    return Err(INVALID_LINE);
                }
                bad &= !DISCRIMINATOR;
            }
            Class::Skip => {
                operand!(uleb, unsigned);
            }
            Class::SetColumn => mark(&mut bad, COLUMN, operand!(uleb, unsigned) as u32 > u32::from(u16::MAX)),
            Class::NegateStmt => {
                is_stmt = 1u8.wrapping_sub(is_stmt);
                mark(&mut bad, IS_STMT, is_stmt > 1);
            }
            Class::Extended => {
                r.at = at;
                extended(&mut r, h, files, (&mut line, &mut is_stmt, &mut bad), discriminator_count)?;
                at = r.at;
            }
            // libdw reads the operand into an `int`.
            Class::AdvanceLine => line += i64::from(operand!(sleb, signed) as i32),
            Class::SetIsa => mark(&mut bad, ISA, operand!(uleb, unsigned) as u32 > 0xff),
            Class::ConstAddPc => {
                if special_fails {
                    return Err(INVALID_LINE);
                }
            }
            Class::FixedAdvancePc => {
                if program.len() - at < 2 {
                    return Err(INVALID_LINE);
                }
                at += 2;
            }
            Class::Nothing => {}
            Class::Unknown => {
                for _ in 0..opcode_length(opcode) {
                    operand!(uleb, unsigned);
                }
            }
            Class::Fails => return Err(INVALID_LINE),
        }
    }
    Ok(())
}

/// An extended opcode, from its length on. `discriminator_count` is
/// `standard_opcode_lengths[4]`, which libdw checks for
/// `DW_LNE_set_discriminator` (whose code is 4).
fn extended<'a>(
    r: &mut Reader<'a>,
    h: &Header,
    files: &mut Files<'a>,
    (line, is_stmt, bad): (&mut i64, &mut u8, &mut u8),
    discriminator_count: u8,
) -> Result<(), &'static str> {
    if r.left() < 2 {
        return Err(INVALID_LINE);
    }
    let len = r.byte();
    if r.left() < usize::from(len) {
        return Err(INVALID_LINE);
    }
    match dw::DwLne(r.byte()) {
        dw::DW_LNE_end_sequence => {
            if *bad & !NO_RANGE != 0 || !line_fits(*line) {
                return Err(INVALID_LINE);
            }
            // Every register back to its start.
            *line = 1;
            *is_stmt = h.default_is_stmt;
            *bad = (*bad & NO_RANGE) | if *is_stmt > 1 { IS_STMT } else { 0 };
        }
        dw::DW_LNE_set_address => {
            // The unit's address size, whatever the length says.
            if r.left() < usize::from(h.address_size) {
                return Err(INVALID_LINE);
            }
            r.at += usize::from(h.address_size);
        }
        dw::DW_LNE_define_file => {
            let len = r.string_len().ok_or(INVALID_LINE)?;
            let name = r.data.get(r.at..r.at + len - 1);
            r.at += len;
            // The directory index, the modification time, the length.
            for k in 0..3 {
                if r.at >= r.end {
                    return Err(INVALID_LINE);
                }
                let v = r.uleb() as u32;
                if k == 0 && u64::from(v) >= h.ndirs {
                    return Err(INVALID_LINE);
                }
            }
            // A relative name gets its directory in front: only the name's
            // end is looked at (`Files`).
            files.push(name);
        }
        dw::DW_LNE_set_discriminator => {
            if discriminator_count != 1 || r.at >= r.end {
                return Err(INVALID_LINE);
            }
            mark(bad, DISCRIMINATOR, r.uleb() as u32 >= 1 << 24);
        }
        NVIDIA_INLINED_CALL => {
            // The context and the function name.
            for _ in 0..2 {
                if r.at >= r.end {
                    return Err(INVALID_LINE);
                }
                r.uleb();
            }
        }
        NVIDIA_SET_FUNCTION_NAME => {
            if r.at >= r.end {
                return Err(INVALID_LINE);
            }
            r.uleb();
        }
        _ => {
            // Unknown: skipped by its length, counted from the sub-opcode
            // (a length of 0 goes back to read the sub-opcode as an
            // opcode, as C's pointer arithmetic does).
            if r.end.saturating_sub(r.at - 1) < usize::from(len) {
                return Err(INVALID_LINE);
            }
            r.at = (r.at as isize + isize::from(len) - 1) as usize;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{read_srclines, Strings};

    const STANDARD: [u8; 12] = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

    /// A DWARF 4 line table (line base -5, range `range`, opcode base 13)
    /// with one file, `a.c`, and `program`.
    fn table(lengths: [u8; 12], range: u8, program: &[u8]) -> Vec<u8> {
        let mut header = vec![1, 1, 1, 0xfb, range, 13];
        header.extend(lengths);
        header.push(0); // no directories
        header.extend(b"a.c\0\0\0\0\0"); // a.c, directory 0, no time or size; the end
        let mut t = vec![0; 4];
        t.extend(4u16.to_le_bytes());
        t.extend((header.len() as u32).to_le_bytes());
        t.extend(header);
        t.extend(program);
        let len = (t.len() - 4) as u32;
        t[..4].copy_from_slice(&len.to_le_bytes());
        t
    }

    fn read(t: &[u8]) -> Result<Vec<Option<Vec<u8>>>, &'static str> {
        let files = read_srclines(
            t,
            0,
            8,
            false,
            &Strings { line_str: &[], str: &[], str_offsets: &[], tails: Default::default() },
        )?;
        Ok(files.into_iter().map(|f| f.map(<[u8]>::to_vec)).collect())
    }

    const END_SEQUENCE: [u8; 3] = [0, 1, 1];

    #[test]
    fn programs_fail_where_libdw_fails_them() {
        let ok = |p: &[u8]| read(&table(STANDARD, 14, p)).is_ok();
        // A special opcode, a copy, the end: rows that fit.
        assert!(ok(&[0x20, 1, 0, 1, 1]));
        // A column past 16 bits fails the next row, and only a row.
        assert!(ok(&[5, 0x80, 0x80, 0x04]));
        assert!(!ok(&[5, 0x80, 0x80, 0x04, 1]));
        assert!(!ok(&[5, 0x80, 0x80, 0x04, 0x20]));
        assert!(!ok(&[&[5, 0x80, 0x80, 0x04][..], &END_SEQUENCE].concat()));
        // A line past an `int` (1 + 0x7fffffff) at a row.
        assert!(!ok(&[3, 0xff, 0xff, 0xff, 0xff, 0x07, 1]));
        assert!(ok(&[3, 0xff, 0xff, 0xff, 0xff, 0x07, 3, 0x7f, 1]));
        // An operand cut off by the table's end.
        assert!(!ok(&[5]));
        // An extended opcode longer than what is left.
        assert!(!ok(&[0, 9, 0x80]));
        // An unknown extended opcode of length 0: its code (5) read again
        // as an opcode, DW_LNS_set_column, which wants an operand.
        assert!(!ok(&[0, 0, 5]));
        assert!(ok(&[0, 0, 5, 0x10]));
        // A standard opcode whose count is not the standard one fails where
        // it is used, and only there.
        let mut odd = STANDARD;
        odd[1] = 2; // DW_LNS_advance_pc
        assert!(read(&table(odd, 14, &[0x20])).is_ok());
        assert!(read(&table(odd, 14, &[2, 4])).is_err());
        // A line range of 0: every special opcode fails, copies do not.
        assert!(read(&table(STANDARD, 0, &[1])).is_ok());
        assert!(read(&table(STANDARD, 0, &[0x20])).is_err());
    }

    #[test]
    fn define_file_adds_a_file() {
        let files = read(&table(STANDARD, 14, &[0, 8, 3, b'b', b'.', b'c', 0, 0, 0, 0])).unwrap();
        assert_eq!(files, [None, Some(b"a.c".to_vec()), Some(b"b.c".to_vec())]);
        // Its directory must be in the header's list (only 0 here).
        assert!(read(&table(STANDARD, 14, &[0, 8, 3, b'b', b'.', b'c', 0, 1, 0, 0])).is_err());
    }
}
