//! Relocation of the debug sections of `ET_REL` objects, as libdwfl does
//! before handing them to libdw: in an object file most offsets into
//! `.debug_str`, `.debug_abbrev`, `.debug_line` ... are stored as 0 plus a
//! relocation.
//!
//! Only "simple" data relocations are applied (absolute values, and the
//! add/subtract pairs RISC-V and LoongArch use for label differences); any
//! other type, and any relocation that cannot be applied (offset outside the
//! section, unknown or undefined symbol), is skipped, leaving the bytes as
//! they are.

use object::pod::{self, Pod};
use object::{elf, Endianness, LittleEndian};

use super::RawSymbol;

/// What the relocations are for.
pub(super) struct Target {
    pub machine: u16,
    pub is_64: bool,
    pub endian: Endianness,
}

/// What a relocation type does to the bytes at its offset, with
/// `v` = symbol value + addend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Store `v` in `n` bytes (for `SHT_REL`: add the symbol value to the
    /// addend stored there).
    Abs(usize),
    /// Add `v` to the `n` bytes there.
    Add(usize),
    /// Subtract `v` from the `n` bytes there.
    Sub(usize),
    /// Store `v` in the low 6 bits of the byte.
    Set6,
    /// Add `v` to the low 6 bits of the byte.
    Add6,
    /// Subtract `v` from the low 6 bits of the byte.
    Sub6,
    /// Store `v` in the ULEB128 there, keeping its length.
    SetUleb,
    /// Add `v` to the ULEB128 there, keeping its length.
    AddUleb,
    /// Subtract `v` from the ULEB128 there, keeping its length.
    SubUleb,
}

/// The operation of a relocation type, `None` for types we leave alone.
/// Thread-local offsets (DTPOFF/DTPREL/LDO) appear in `DW_AT_location`
/// expressions and are treated as plain absolute values.
fn operation(machine: elf::Machine, r_type: elf::RelocationType) -> Option<Op> {
    use Op::*;
    let op = match machine {
        elf::EM_X86_64 => match r_type {
            elf::R_X86_64_64 | elf::R_X86_64_DTPOFF64 => Abs(8),
            elf::R_X86_64_32 | elf::R_X86_64_32S | elf::R_X86_64_DTPOFF32 => Abs(4),
            elf::R_X86_64_16 => Abs(2),
            elf::R_X86_64_8 => Abs(1),
            _ => return None,
        },
        elf::EM_386 => match r_type {
            elf::R_386_32 | elf::R_386_TLS_LDO_32 | elf::R_386_TLS_DTPOFF32 => Abs(4),
            elf::R_386_16 => Abs(2),
            elf::R_386_8 => Abs(1),
            _ => return None,
        },
        elf::EM_AARCH64 => match r_type {
            elf::R_AARCH64_ABS64 | elf::R_AARCH64_TLS_DTPREL => Abs(8),
            elf::R_AARCH64_ABS32 => Abs(4),
            elf::R_AARCH64_ABS16 => Abs(2),
            _ => return None,
        },
        elf::EM_ARM => match r_type {
            elf::R_ARM_ABS32 | elf::R_ARM_TLS_LDO32 | elf::R_ARM_TLS_DTPOFF32 => Abs(4),
            elf::R_ARM_ABS16 => Abs(2),
            elf::R_ARM_ABS8 => Abs(1),
            _ => return None,
        },
        elf::EM_PPC => match r_type {
            elf::R_PPC_ADDR32 | elf::R_PPC_UADDR32 | elf::R_PPC_DTPREL32 => Abs(4),
            elf::R_PPC_ADDR16 | elf::R_PPC_UADDR16 => Abs(2),
            _ => return None,
        },
        elf::EM_PPC64 => match r_type {
            elf::R_PPC64_ADDR64 | elf::R_PPC64_UADDR64 | elf::R_PPC64_DTPREL64 => Abs(8),
            elf::R_PPC64_ADDR32 | elf::R_PPC64_UADDR32 => Abs(4),
            elf::R_PPC64_ADDR16 | elf::R_PPC64_UADDR16 => Abs(2),
            _ => return None,
        },
        elf::EM_S390 => match r_type {
            elf::R_390_64 | elf::R_390_TLS_LDO64 => Abs(8),
            elf::R_390_32 | elf::R_390_TLS_LDO32 => Abs(4),
            elf::R_390_16 => Abs(2),
            elf::R_390_8 => Abs(1),
            _ => return None,
        },
        elf::EM_MIPS => match r_type {
            elf::R_MIPS_64 | elf::R_MIPS_TLS_DTPREL64 => Abs(8),
            elf::R_MIPS_32 | elf::R_MIPS_TLS_DTPREL32 => Abs(4),
            elf::R_MIPS_16 => Abs(2),
            _ => return None,
        },
        elf::EM_RISCV => match r_type {
            elf::R_RISCV_64 | elf::R_RISCV_TLS_DTPREL64 => Abs(8),
            elf::R_RISCV_32 | elf::R_RISCV_TLS_DTPREL32 | elf::R_RISCV_SET32 => Abs(4),
            elf::R_RISCV_SET16 => Abs(2),
            elf::R_RISCV_SET8 => Abs(1),
            elf::R_RISCV_SET6 => Set6,
            elf::R_RISCV_ADD64 => Add(8),
            elf::R_RISCV_ADD32 => Add(4),
            elf::R_RISCV_ADD16 => Add(2),
            elf::R_RISCV_ADD8 => Add(1),
            elf::R_RISCV_SUB64 => Sub(8),
            elf::R_RISCV_SUB32 => Sub(4),
            elf::R_RISCV_SUB16 => Sub(2),
            elf::R_RISCV_SUB8 => Sub(1),
            elf::R_RISCV_SUB6 => Sub6,
            elf::R_RISCV_SET_ULEB128 => SetUleb,
            elf::R_RISCV_SUB_ULEB128 => SubUleb,
            _ => return None,
        },
        elf::EM_LOONGARCH => match r_type {
            elf::R_LARCH_64 | elf::R_LARCH_TLS_DTPREL64 => Abs(8),
            elf::R_LARCH_32 | elf::R_LARCH_TLS_DTPREL32 => Abs(4),
            elf::R_LARCH_ADD64 => Add(8),
            elf::R_LARCH_ADD32 => Add(4),
            elf::R_LARCH_ADD24 => Add(3),
            elf::R_LARCH_ADD16 => Add(2),
            elf::R_LARCH_ADD8 => Add(1),
            elf::R_LARCH_ADD6 => Add6,
            elf::R_LARCH_SUB64 => Sub(8),
            elf::R_LARCH_SUB32 => Sub(4),
            elf::R_LARCH_SUB24 => Sub(3),
            elf::R_LARCH_SUB16 => Sub(2),
            elf::R_LARCH_SUB8 => Sub(1),
            elf::R_LARCH_SUB6 => Sub6,
            elf::R_LARCH_ADD_ULEB128 => AddUleb,
            elf::R_LARCH_SUB_ULEB128 => SubUleb,
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

/// One relocation entry, widened.
struct Reloc {
    offset: u64,
    symbol: u32,
    r_type: u32,
    /// `None` for `SHT_REL` (the addend is in the section bytes).
    addend: Option<i64>,
}

/// Applies the relocation section `relocs` (`SHT_RELA` if `is_rela`, else
/// `SHT_REL`) to `data`; `symbol` reads an entry of the linked symbol table.
pub(super) fn apply(
    t: &Target,
    data: &mut [u8],
    relocs: &[u8],
    is_rela: bool,
    symbol: &dyn Fn(u32) -> Option<RawSymbol>,
) {
    let machine = elf::Machine(t.machine);
    let (e, big) = (t.endian, t.endian == Endianness::Big);
    // MIPS64 lays out r_info its own way when little-endian, and packs
    // three types in r_type, of which debug data only uses the first.
    let mips64 = t.is_64 && machine == elf::EM_MIPS;
    let mips64el = mips64 && !big;
    let r_type = |ty: elf::RelocationType| if mips64 { ty.0 & 0xff } else { ty.0 };
    let mut copy = Vec::new();
    match (t.is_64, is_rela) {
        // Kernel objects of 64-bit little-endian targets: tens of thousands
        // of entries, read without a byte-order test per field.
        (true, true) if !big && !mips64 => {
            let le = LittleEndian;
            let entries = table::<elf::Rela64<LittleEndian>>(relocs, &mut copy).iter().map(|r| Reloc {
                offset: r.r_offset.get(le),
                symbol: r.r_sym(le, false),
                r_type: r.r_type(le, false).0,
                addend: Some(r.r_addend.get(le)),
            });
            apply_entries(machine, big, data, entries, symbol);
        }
        (true, true) => {
            let entries = table::<elf::Rela64<Endianness>>(relocs, &mut copy).iter().map(|r| Reloc {
                offset: r.r_offset.get(e),
                symbol: r.r_sym(e, mips64el),
                r_type: r_type(r.r_type(e, mips64el)),
                addend: Some(r.r_addend.get(e)),
            });
            apply_entries(machine, big, data, entries, symbol);
        }
        (true, false) => {
            let entries = table::<elf::Rel64<Endianness>>(relocs, &mut copy).iter().map(|r| Reloc {
                offset: r.r_offset.get(e),
                symbol: r.r_sym(e),
                r_type: r_type(r.r_type(e)),
                addend: None,
            });
            apply_entries(machine, big, data, entries, symbol);
        }
        (false, true) => {
            let entries = table::<elf::Rela32<Endianness>>(relocs, &mut copy).iter().map(|r| Reloc {
                offset: r.r_offset.get(e).into(),
                symbol: r.r_sym(e),
                r_type: r.r_type(e).0,
                addend: Some(r.r_addend.get(e).into()),
            });
            apply_entries(machine, big, data, entries, symbol);
        }
        (false, false) => {
            let entries = table::<elf::Rel32<Endianness>>(relocs, &mut copy).iter().map(|r| Reloc {
                offset: r.r_offset.get(e).into(),
                symbol: r.r_sym(e),
                r_type: r.r_type(e).0,
                addend: None,
            });
            apply_entries(machine, big, data, entries, symbol);
        }
    }
}

/// The entries of a relocation section. libelf reads a misaligned section
/// as well (in place where the host allows it, else from a copy), so one is
/// copied to `copy`, aligned for every entry type.
fn table<'a, R: Pod>(relocs: &'a [u8], copy: &'a mut Vec<u64>) -> &'a [R] {
    let n = relocs.len() / std::mem::size_of::<R>();
    if let Ok((entries, _)) = pod::slice_from_bytes(relocs, n) {
        return entries;
    }
    copy.resize(relocs.len().div_ceil(8), 0);
    pod::bytes_of_slice_mut(copy)[..relocs.len()].copy_from_slice(relocs);
    pod::slice_from_bytes(pod::bytes_of_slice(copy), n).map_or(&[], |(entries, _)| entries)
}

fn apply_entries(
    machine: elf::Machine,
    big: bool,
    data: &mut [u8],
    entries: impl Iterator<Item = Reloc>,
    symbol: &dyn Fn(u32) -> Option<RawSymbol>,
) {
    // Debug sections relocate against a few section symbols with one or
    // two types, tens of thousands of times: remember the last of each.
    let mut last_op = None;
    let mut last_value = None;
    for r in entries {
        let op = match last_op {
            Some((ty, op)) if ty == r.r_type => op,
            _ => {
                let op = operation(machine, elf::RelocationType(r.r_type));
                last_op = Some((r.r_type, op));
                op
            }
        };
        let Some(op) = op else {
            continue;
        };
        let value = match last_value {
            Some((index, value)) if index == r.symbol => value,
            _ => {
                let value = symbol_value(r.symbol, symbol);
                last_value = Some((r.symbol, value));
                value
            }
        };
        let Some(value) = value else {
            continue;
        };
        let Some(location) = usize::try_from(r.offset).ok().and_then(|o| data.get_mut(o..)) else {
            continue;
        };
        match r.addend {
            // Stores inline (this runs tens of thousands of times an
            // object); the rarer operations in `apply_one`.
            Some(addend) => match op {
                Op::Abs(n) => write_uint(location, n, value.wrapping_add(addend as u64), big),
                op => apply_one(location, op, value.wrapping_add(addend as u64), big),
            },
            // SHT_REL: only absolute types make sense, the addend is in place.
            None => {
                if let Op::Abs(n) = op {
                    apply_one(location, Op::Add(n), value, big);
                }
            }
        }
    }
}

/// A section as [`offline_layout`] needs it.
pub(super) struct Placed {
    pub alloc: bool,
    pub addr: u64,
    pub align: u64,
    pub size: u64,
}

/// Where libdwfl's offline reporting (`dwfl_report_offline`, as upstream
/// opens an object) places an object file's sections, by section index:
/// loaded (`SHF_ALLOC`) sections one after the other, each aligned, from
/// 0x10000 (its `OFFLINE_REDZONE`), as its `__libdwfl_elf_address_range`
/// lays them out; 0 for the others. Relocations against a symbol in a
/// loaded section add its address, so a `DW_AT_low_pc` reads 0x10000 and
/// up, not 0: only damaged DWARF, where an entry is read from such bytes,
/// shows the difference.
pub(super) fn offline_layout(sections: impl Iterator<Item = Placed>) -> Vec<u64> {
    let sections: Vec<Placed> = sections.collect();
    let mut placed = vec![0; sections.len()];
    let mut base: u64 = 0x10000;
    'layout: loop {
        let mut end = base;
        for (i, s) in sections.iter().enumerate().skip(1) {
            if !s.alloc {
                continue;
            }
            if s.addr != 0 {
                // Placed already: libdwfl keeps it (and tracks it to
                // adjust its base, which no object file we read needs).
                placed[i] = s.addr;
                continue;
            }
            let align = s.align.max(1);
            // Alignments are powers of two; one that is not aligns as
            // libdwfl's mask arithmetic does.
            let mask = align.wrapping_neg();
            let next = end.wrapping_add(align - 1) & mask;
            if end == base {
                // The first section placed: the module's base.
                base = next;
            } else if base & (align - 1) != 0 {
                // A section aligned more than the base: start again from
                // a base aligned for it.
                base = base.wrapping_add(align - 1) & mask;
                continue 'layout;
            }
            placed[i] = next;
            end = next.wrapping_add(s.size);
        }
        return placed;
    }
}

/// The value a relocation against symbol `index` uses; `None` when libdwfl
/// cannot resolve it (an undefined symbol, or no such entry).
fn symbol_value(index: u32, symbol: &dyn Fn(u32) -> Option<RawSymbol>) -> Option<u64> {
    if index == 0 {
        return Some(0);
    }
    let sym = symbol(index)?;
    match elf::SymbolSection(sym.shndx) {
        elf::SHN_UNDEF => None,
        // st_value of a common symbol is its alignment, not an address.
        elf::SHN_COMMON => Some(0),
        // The section's place ([`offline_layout`]) is in the value already.
        _ => Some(sym.value),
    }
}

/// Performs `op` with value `v` on the bytes at the start of `location`;
/// does nothing if they run past its end.
fn apply_one(location: &mut [u8], op: Op, v: u64, big: bool) {
    match op {
        Op::Abs(n) => {
            write_uint(location, n, v, big);
        }
        Op::Add(n) | Op::Sub(n) => {
            if let Some(old) = read_uint(location, n, big) {
                let new = if op == Op::Add(n) { old.wrapping_add(v) } else { old.wrapping_sub(v) };
                write_uint(location, n, new, big);
            }
        }
        Op::Set6 | Op::Add6 | Op::Sub6 => {
            if let Some(byte) = location.first_mut() {
                let low = match op {
                    Op::Set6 => v,
                    Op::Add6 => u64::from(*byte).wrapping_add(v),
                    _ => u64::from(*byte).wrapping_sub(v),
                };
                *byte = (*byte & 0xc0) | (low as u8 & 0x3f);
            }
        }
        Op::SetUleb | Op::AddUleb | Op::SubUleb => {
            if let Some((old, len)) = read_uleb(location) {
                let new = match op {
                    Op::SetUleb => v,
                    Op::AddUleb => old.wrapping_add(v),
                    _ => old.wrapping_sub(v),
                };
                write_uleb(&mut location[..len], new);
            }
        }
    }
}

fn read_uint(location: &[u8], n: usize, big: bool) -> Option<u64> {
    let bytes = location.get(..n)?;
    let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
    Some(if big { bytes.iter().fold(0, fold) } else { bytes.iter().rev().fold(0, fold) })
}

/// Stores the low `n` bytes of `v`.
#[inline(always)]
fn write_uint(location: &mut [u8], n: usize, v: u64, big: bool) {
    let Some(bytes) = location.get_mut(..n) else {
        return;
    };
    // The sizes debug data relocates, spelled out: a copy of a variable
    // size is a call.
    match (n, big) {
        (8, false) => return bytes.copy_from_slice(&v.to_le_bytes()),
        (4, false) => return bytes.copy_from_slice(&(v as u32).to_le_bytes()),
        (8, true) => return bytes.copy_from_slice(&v.to_be_bytes()),
        (4, true) => return bytes.copy_from_slice(&(v as u32).to_be_bytes()),
        _ => {}
    }
    for (i, b) in bytes.iter_mut().enumerate() {
        let shift = if big { 8 * (n - 1 - i) } else { 8 * i };
        *b = v.checked_shr(shift as u32).unwrap_or(0) as u8;
    }
}

/// The ULEB128 at the start of `location` and its length in bytes.
fn read_uleb(location: &[u8]) -> Option<(u64, usize)> {
    let len = location.iter().position(|b| b & 0x80 == 0)? + 1;
    let value = location[..len].iter().enumerate().fold(0u64, |acc, (i, b)| {
        let bits = u64::from(b & 0x7f);
        acc | bits.checked_shl(7 * i as u32).unwrap_or(0)
    });
    Some((value, len))
}

/// Overwrites the ULEB128 `location` (its whole length) with `v`,
/// truncating what does not fit.
fn write_uleb(location: &mut [u8], v: u64) {
    let last = location.len().saturating_sub(1);
    for (i, b) in location.iter_mut().enumerate() {
        let bits = v.checked_shr(7 * i as u32).unwrap_or(0) as u8 & 0x7f;
        *b = if i == last { bits } else { bits | 0x80 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(sections: &[(bool, u64, u64)]) -> Vec<u64> {
        let null = Placed { alloc: false, addr: 0, align: 0, size: 0 };
        offline_layout(std::iter::once(null).chain(sections.iter().map(|&(alloc, align, size)| Placed {
            alloc,
            addr: 0,
            align,
            size,
        })))
    }

    #[test]
    fn sections_are_laid_out_as_libdwfl_lays_them_out() {
        // Loaded sections one after another from 0x10000, each aligned;
        // the others (debug sections) at 0.
        assert_eq!(
            placed(&[(true, 16, 0x17), (true, 8, 8), (false, 1, 100), (true, 32, 0xc8), (true, 0, 5)]),
            [0, 0x10000, 0x10018, 0, 0x10020, 0x100e8]
        );
        // A section aligned past the base moves the base, and everything
        // is laid out again from there (libdwfl's "reset the layout").
        assert_eq!(placed(&[(true, 16, 0x10), (true, 0x4_0000, 0x10)]), [0, 0x40000, 0x40010 + 0x3fff0]);
        // Empty sections take no room: the next one is still the first.
        assert_eq!(placed(&[(true, 4, 0), (true, 4, 4)]), [0, 0x10000, 0x10000]);
    }

    #[test]
    fn integers() {
        let mut buf = [0u8; 8];
        write_uint(&mut buf, 4, 0x1122_3344_5566, true);
        assert_eq!(buf[..4], [0x33, 0x44, 0x55, 0x66]);
        assert_eq!(read_uint(&buf, 4, true), Some(0x3344_5566));
        write_uint(&mut buf, 8, 0x0102_0304_0506_0708, false);
        assert_eq!(buf, [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(read_uint(&buf, 3, false), Some(0x060708));
        assert_eq!(read_uint(&buf[6..], 4, false), None);
        write_uint(&mut buf[6..], 4, 0, false); // past the end: nothing
        assert_eq!(buf[6..], [2, 1]);
    }

    #[test]
    fn add_sub_pairs() {
        // A 16-bit label difference: ADD16 end, SUB16 start.
        let mut buf = [0u8; 2];
        apply_one(&mut buf, Op::Add(2), 0x120, false);
        apply_one(&mut buf, Op::Sub(2), 0x20, false);
        assert_eq!(buf, [0x00, 0x01]);
        let mut byte = [0xc1u8];
        apply_one(&mut byte, Op::Sub6, 2, false);
        assert_eq!(byte, [0xff]);
        apply_one(&mut byte, Op::Set6, 0x45, false);
        assert_eq!(byte, [0xc5]);
    }

    #[test]
    fn uleb() {
        // A padded three-byte ULEB128 keeps its length.
        let mut buf = [0x80, 0x80, 0x00, 0xaa];
        apply_one(&mut buf, Op::SetUleb, 300, false);
        assert_eq!(buf, [0xac, 0x82, 0x00, 0xaa]);
        assert_eq!(read_uleb(&buf), Some((300, 3)));
        apply_one(&mut buf, Op::SubUleb, 44, false);
        assert_eq!(read_uleb(&buf), Some((256, 3)));
        // Unterminated: left alone.
        let mut open = [0x80, 0x80];
        apply_one(&mut open, Op::SetUleb, 1, false);
        assert_eq!(open, [0x80, 0x80]);
    }

    #[test]
    fn rel_and_rela() {
        let t = Target { machine: elf::EM_386.0, is_64: false, endian: Endianness::Little };
        // R_386_32 against symbol 1 (value 0x10) at offset 2, implicit addend 5.
        let mut data = [0, 0, 5, 0, 0, 0, 0xee];
        let mut rel = Vec::new();
        rel.extend_from_slice(&2u32.to_le_bytes());
        rel.extend_from_slice(&((1u32 << 8) | elf::R_386_32.0).to_le_bytes());
        // An out-of-range one and an unknown type: skipped.
        rel.extend_from_slice(&6u32.to_le_bytes());
        rel.extend_from_slice(&((1u32 << 8) | elf::R_386_32.0).to_le_bytes());
        rel.extend_from_slice(&0u32.to_le_bytes());
        rel.extend_from_slice(&((1u32 << 8) | 0x7f).to_le_bytes());
        let symbols = |i: u32| (i == 1).then_some(RawSymbol { name: 0, bind: 0, shndx: 3, value: 0x10 });
        apply(&t, &mut data, &rel, false, &symbols);
        assert_eq!(data, [0, 0, 0x15, 0, 0, 0, 0xee]);

        // RELA on a big-endian 64-bit target: the stored bytes are replaced.
        let t = Target { machine: elf::EM_S390.0, is_64: true, endian: Endianness::Big };
        let mut data = [0xffu8; 8];
        let mut rela = Vec::new();
        rela.extend_from_slice(&0u64.to_be_bytes());
        rela.extend_from_slice(&((1u64 << 32) | u64::from(elf::R_390_64.0)).to_be_bytes());
        rela.extend_from_slice(&7i64.to_be_bytes());
        apply(&t, &mut data, &rela, true, &symbols);
        assert_eq!(data, 0x17u64.to_be_bytes());

        // An undefined symbol is not resolved: nothing changes.
        let undefined = |_: u32| Some(RawSymbol { name: 0, bind: 1, shndx: 0, value: 0x10 });
        let mut data = [0xffu8; 8];
        apply(&t, &mut data, &rela, true, &undefined);
        assert_eq!(data, [0xff; 8]);
    }

    /// A misaligned section is applied as an aligned one would be: libelf
    /// reads it either way.
    #[test]
    fn misaligned_sections() {
        let symbols = |i: u32| (i == 1).then_some(RawSymbol { name: 0, bind: 0, shndx: 3, value: 0x10 });
        let misaligned = |entry: &[u8]| {
            let mut words = vec![0u64; entry.len() / 8 + 1];
            pod::bytes_of_slice_mut(&mut words)[1..=entry.len()].copy_from_slice(entry);
            words
        };
        // R_X86_64_64 at 0, addend 7 (the 64-bit little-endian reader).
        let t = Target { machine: elf::EM_X86_64.0, is_64: true, endian: Endianness::Little };
        let mut rela = Vec::new();
        rela.extend_from_slice(&0u64.to_le_bytes());
        rela.extend_from_slice(&((1u64 << 32) | u64::from(elf::R_X86_64_64.0)).to_le_bytes());
        rela.extend_from_slice(&7i64.to_le_bytes());
        let words = misaligned(&rela);
        let mut data = [0xffu8; 8];
        apply(&t, &mut data, &pod::bytes_of_slice(&words)[1..=rela.len()], true, &symbols);
        assert_eq!(data, 0x17u64.to_le_bytes());
        // R_386_32 at 0, implicit addend 5 (the generic reader).
        let t = Target { machine: elf::EM_386.0, is_64: false, endian: Endianness::Little };
        let mut rel = Vec::new();
        rel.extend_from_slice(&0u32.to_le_bytes());
        rel.extend_from_slice(&((1u32 << 8) | elf::R_386_32.0).to_le_bytes());
        let words = misaligned(&rel);
        let mut data = [5, 0, 0, 0];
        apply(&t, &mut data, &pod::bytes_of_slice(&words)[1..=rel.len()], false, &symbols);
        assert_eq!(data, [0x15, 0, 0, 0]);
    }
}
