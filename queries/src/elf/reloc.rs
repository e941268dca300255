//! Relocation of the debug sections of `ET_REL` objects, as libdwfl does
//! before handing them to libdw: in an object file most offsets into
//! `.debug_str`, `.debug_abbrev`, `.debug_line` ... are stored as 0 plus a
//! relocation.
//!
//! Only "simple" data relocations are applied (absolute values, and the
//! add/subtract pairs RISC-V and LoongArch use for label differences). As in
//! libdwfl, a relocation of another type, or against an undefined symbol, is
//! skipped, leaving the bytes as they are; but one it cannot make sense of
//! (an offset outside the section, a symbol index outside the symbol table,
//! a symbol in a section that does not exist) makes it give up on the
//! file's DWARF altogether ([`GiveUp`]), and so does any relocation at all
//! in a file for a machine libebl does not know.

use object::pod::{self, Pod};
use object::{elf, Endianness, LittleEndian};

/// What the relocations are for.
pub(super) struct Target {
    pub machine: u16,
    pub is_64: bool,
    pub endian: Endianness,
}

/// libdwfl gives up on the file's DWARF (its relocation step failed):
/// upstream then finds no debugging information in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GiveUp;

/// What a relocation's symbol stands for (libdwfl's `relocate_getsym` and
/// `resolve_symbol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SymbolValue {
    /// The value the relocation uses.
    Value(u64),
    /// An undefined symbol: nothing in the file defines it, and the
    /// relocation is skipped.
    Undefined,
}

/// Whether libebl (elfutils 0.188, the reference's) has an entry for the
/// machine. For one it has not, libdwfl gives up at the first relocation of
/// a debug section (`check_badreltype`: "unknown machine"). Found by running
/// the reference on an object with each `e_machine` from 0 to 259, plus
/// Alpha (0x9026), the one machine of libebl's table past that; MIPS and
/// LoongArch, which 0.188 does not know but whose objects we read
/// (tests/golden.rs), are known here.
pub(super) fn machine_known(machine: u16) -> bool {
    matches!(machine, 1..=5 | 7 | 8 | 9 | 15 | 17..=22 | 36..=40 | 42..=50 | 52..=63 | 66..=94 | 183 | 191 | 243 | 247 | 252 | 258 | 0x9026)
}

/// What a relocation type does to the bytes at its offset, with
/// `v` = symbol value + addend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// Store `v` in `n` bytes (for `SHT_REL`: add the symbol value to the
    /// addend stored there).
    Abs(usize),
    /// Add `v` to the `n` bytes there.
    Add(usize),
    /// Subtract `v` from the `n` bytes there.
    Sub(usize),
    /// Add `v` to the low 6 bits of the byte.
    Add6,
    /// Subtract `v` from the low 6 bits of the byte.
    Sub6,
    /// Add `v` to the ULEB128 there, keeping its length.
    AddUleb,
    /// Subtract `v` from the ULEB128 there, keeping its length.
    SubUleb,
}

impl Op {
    /// The bytes it changes (libdwfl's size of the relocation's type): a
    /// relocation whose bytes run past its section's end is an error.
    fn size(self) -> u64 {
        match self {
            Op::Abs(n) | Op::Add(n) | Op::Sub(n) => n as u64,
            _ => 1,
        }
    }
}

/// The operation of a relocation type (libebl's `reloc_simple_type`),
/// `None` for types libdwfl leaves alone. Every machine libebl 0.188 has a
/// backend for is here, the ones no toolchain of ours targets too: damage
/// can make an object of one machine claim another, and libdwfl then reads
/// its relocation types as that machine's (`big`: IA-64's depend on the
/// byte order). Thread-local offsets
/// (DTPOFF/DTPREL/LDO, in `DW_AT_location` expressions) are among them:
/// the reference skips them on every target (a damaged one past its
/// section's end does not stop it), so they are not checked either.
fn operation(machine: elf::Machine, r_type: elf::RelocationType, big: bool) -> Option<Op> {
    use Op::*;
    let op = match machine {
        elf::EM_X86_64 => match r_type {
            elf::R_X86_64_64 => Abs(8),
            elf::R_X86_64_32 | elf::R_X86_64_32S => Abs(4),
            elf::R_X86_64_16 => Abs(2),
            elf::R_X86_64_8 => Abs(1),
            _ => return None,
        },
        elf::EM_386 => match r_type {
            elf::R_386_32 => Abs(4),
            elf::R_386_16 => Abs(2),
            elf::R_386_8 => Abs(1),
            _ => return None,
        },
        elf::EM_AARCH64 => match r_type {
            elf::R_AARCH64_ABS64 => Abs(8),
            elf::R_AARCH64_ABS32 => Abs(4),
            elf::R_AARCH64_ABS16 => Abs(2),
            _ => return None,
        },
        elf::EM_ARM => match r_type {
            elf::R_ARM_ABS32 => Abs(4),
            elf::R_ARM_ABS16 => Abs(2),
            elf::R_ARM_ABS8 => Abs(1),
            _ => return None,
        },
        elf::EM_PPC => match r_type {
            elf::R_PPC_ADDR32 | elf::R_PPC_UADDR32 => Abs(4),
            // Not R_PPC_ADDR16: libebl 0.188 has only the unaligned one.
            elf::R_PPC_UADDR16 => Abs(2),
            _ => return None,
        },
        elf::EM_PPC64 => match r_type {
            elf::R_PPC64_ADDR64 | elf::R_PPC64_UADDR64 => Abs(8),
            elf::R_PPC64_ADDR32 | elf::R_PPC64_UADDR32 => Abs(4),
            // Not R_PPC64_ADDR16, as for PPC.
            elf::R_PPC64_UADDR16 => Abs(2),
            _ => return None,
        },
        elf::EM_S390 => match r_type {
            elf::R_390_64 => Abs(8),
            elf::R_390_32 => Abs(4),
            elf::R_390_16 => Abs(2),
            elf::R_390_8 => Abs(1),
            _ => return None,
        },
        elf::EM_MIPS => match r_type {
            elf::R_MIPS_64 => Abs(8),
            elf::R_MIPS_32 => Abs(4),
            elf::R_MIPS_16 => Abs(2),
            _ => return None,
        },
        // libebl 0.188's RISC-V types: not SET6, ADD8, SUB8, SUB6 or the
        // ULEB128 pair (GCC's `.debug_frame` uses SET6/SUB6), which libdwfl
        // skips before it looks at their symbol or offset.
        elf::EM_RISCV => match r_type {
            elf::R_RISCV_64 => Abs(8),
            elf::R_RISCV_32 | elf::R_RISCV_SET32 => Abs(4),
            elf::R_RISCV_SET16 => Abs(2),
            elf::R_RISCV_SET8 => Abs(1),
            elf::R_RISCV_ADD64 => Add(8),
            elf::R_RISCV_ADD32 => Add(4),
            elf::R_RISCV_ADD16 => Add(2),
            elf::R_RISCV_SUB64 => Sub(8),
            elf::R_RISCV_SUB32 => Sub(4),
            elf::R_RISCV_SUB16 => Sub(2),
            _ => return None,
        },
        elf::EM_LOONGARCH => match r_type {
            elf::R_LARCH_64 => Abs(8),
            elf::R_LARCH_32 => Abs(4),
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
        elf::EM_SPARC | elf::EM_SPARC32PLUS | elf::EM_SPARCV9 => match r_type {
            elf::R_SPARC_8 => Abs(1),
            elf::R_SPARC_16 | elf::R_SPARC_UA16 => Abs(2),
            elf::R_SPARC_32 | elf::R_SPARC_UA32 => Abs(4),
            elf::R_SPARC_64 | elf::R_SPARC_UA64 => Abs(8),
            _ => return None,
        },
        // libebl gives the 68HC1x family the m68k backend.
        elf::EM_68K | elf::EM_68HC12 | elf::EM_68HC16 | elf::EM_68HC11 | elf::EM_68HC08 | elf::EM_68HC05 => {
            match r_type {
                elf::R_68K_32 => Abs(4),
                elf::R_68K_16 => Abs(2),
                elf::R_68K_8 => Abs(1),
                _ => return None,
            }
        }
        elf::EM_SH => match r_type {
            elf::R_SH_DIR32 => Abs(4),
            _ => return None,
        },
        elf::EM_BPF => match r_type {
            elf::R_BPF_64_64 => Abs(8),
            elf::R_BPF_64_32 => Abs(4),
            _ => return None,
        },
        elf::EM_CSKY => match r_type {
            elf::R_CKCORE_ADDR32 => Abs(4),
            _ => return None,
        },
        elf::EM_ALPHA => match r_type {
            elf::R_ALPHA_REFLONG => Abs(4),
            elf::R_ALPHA_REFQUAD => Abs(8),
            _ => return None,
        },
        elf::EM_IA_64 => match (r_type, big) {
            (elf::R_IA64_DIR32MSB | elf::R_IA64_SECREL32MSB, true) => Abs(4),
            (elf::R_IA64_DIR32LSB | elf::R_IA64_SECREL32LSB, false) => Abs(4),
            (elf::R_IA64_DIR64MSB | elf::R_IA64_SECREL64MSB, true) => Abs(8),
            (elf::R_IA64_DIR64LSB | elf::R_IA64_SECREL64LSB, false) => Abs(8),
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

/// One relocation entry, widened.
pub(super) struct Reloc {
    pub offset: u64,
    pub symbol: u32,
    pub r_type: u32,
    /// `None` for `SHT_REL` (the addend is in the section bytes).
    addend: Option<i64>,
}

/// Applies the relocation section `relocs` (`SHT_RELA` if `is_rela`, else
/// `SHT_REL`) to a section of `len` bytes, `data` if it is to be kept
/// (`None`: only checked, as libdwfl relocates sections libdw reads that we
/// do not); `symbol` resolves a symbol index.
pub(super) fn apply(
    t: &Target,
    data: Option<&mut [u8]>,
    len: u64,
    relocs: &[u8],
    is_rela: bool,
    symbol: &dyn Fn(u32) -> Result<SymbolValue, GiveUp>,
) -> Result<(), GiveUp> {
    let size = entry_size(t.is_64, is_rela);
    if !machine_known(t.machine) && relocs.len() >= size {
        return Err(GiveUp);
    }
    if t.is_64 && is_rela && t.endian == Endianness::Little && t.machine != elf::EM_MIPS.0 {
        // Kernel objects of 64-bit little-endian targets: tens of thousands
        // of entries, read without a byte-order test per field.
        let le = LittleEndian;
        let mut copy = Vec::new();
        let entries = table::<elf::Rela64<LittleEndian>>(relocs, &mut copy).iter().map(|r| Reloc {
            offset: r.r_offset.get(le),
            symbol: r.r_sym(le, false),
            r_type: r.r_type(le, false).0,
            addend: Some(r.r_addend.get(le)),
        });
        return apply_entries(t, data, len, entries, symbol);
    }
    apply_entries(t, data, len, relocs.chunks_exact(size).filter_map(|r| entry(t, r, is_rela)), symbol)
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
    t: &Target,
    mut data: Option<&mut [u8]>,
    len: u64,
    entries: impl Iterator<Item = Reloc>,
    symbol: &dyn Fn(u32) -> Result<SymbolValue, GiveUp>,
) -> Result<(), GiveUp> {
    // Debug sections relocate against a few dozen symbols (sections,
    // variables) with one or two types, tens of thousands of times:
    // remember the last type, and each symbol's value in a slot picked by
    // a hash of its index (0 is no symbol, never looked up).
    let (machine, big) = (elf::Machine(t.machine), t.endian == Endianness::Big);
    let mut last_op = None;
    let mut values = [(0u32, SymbolValue::Undefined); 256];
    // libdwfl's order: the type, the symbol, then where the bytes are.
    for r in entries {
        if r.r_type == 0 {
            // R_*_NONE: nothing to do, and nothing wrong.
            continue;
        }
        let op = match last_op {
            Some((ty, op)) if ty == r.r_type => op,
            _ => {
                let op = operation(machine, elf::RelocationType(r.r_type), big);
                last_op = Some((r.r_type, op));
                op
            }
        };
        let Some(op) = op else {
            continue;
        };
        let value = match r.symbol {
            0 => SymbolValue::Value(0),
            index => {
                let slot = &mut values[(index.wrapping_mul(0x9e37_79b9) >> 24) as usize];
                if slot.0 != index {
                    *slot = (index, symbol(index)?);
                }
                slot.1
            }
        };
        let SymbolValue::Value(value) = value else {
            continue;
        };
        store(op, value, &r, data.as_deref_mut(), len, big)?;
    }
    Ok(())
}

/// The operation of relocation type `r_type` of `t`'s machine, `None`
/// where libdwfl leaves the type alone (type 0, R_*_NONE, it counts done).
pub(super) fn operation_of(t: &Target, r_type: u32) -> Option<Op> {
    operation(elf::Machine(t.machine), elf::RelocationType(r_type), t.endian == Endianness::Big)
}

/// The end of libdwfl's `relocate` for an entry whose type has operation
/// `op` and whose symbol has `value`: the bytes must lie in the section
/// (`len` bytes), and are written in `data` unless it is `None` (only
/// checked).
#[inline(always)]
pub(super) fn store(op: Op, value: u64, r: &Reloc, data: Option<&mut [u8]>, len: u64, big: bool) -> Result<(), GiveUp> {
    if r.addend.is_none() && !matches!(op, Op::Abs(_)) {
        // SHT_REL: only absolute types make sense, the addend is in place.
        return Ok(());
    }
    if r.offset > len || len - r.offset < op.size() {
        return Err(GiveUp);
    }
    let Some(location) = data.and_then(|d| d.get_mut(r.offset as usize..)) else {
        return Ok(());
    };
    match r.addend {
        // Stores inline (this runs tens of thousands of times an object);
        // the rarer operations in `apply_one`.
        Some(addend) => match op {
            Op::Abs(n) => write_uint(location, n, value.wrapping_add(addend as u64), big),
            op => apply_one(location, op, value.wrapping_add(addend as u64), big),
        },
        None => {
            if let Op::Abs(n) = op {
                apply_one(location, Op::Add(n), value, big);
            }
        }
    }
    Ok(())
}

/// The size of one entry of a relocation section.
pub(super) fn entry_size(is_64: bool, is_rela: bool) -> usize {
    match (is_64, is_rela) {
        (true, true) => 24,
        (true, false) => 16,
        (false, true) => 12,
        (false, false) => 8,
    }
}

/// The entry at the start of `bytes` (at least [`entry_size`] of them).
pub(super) fn entry(t: &Target, bytes: &[u8], is_rela: bool) -> Option<Reloc> {
    let e = t.endian;
    // MIPS64 lays out r_info its own way when little-endian, and packs
    // three types in r_type, of which debug data only uses the first.
    let mips64 = t.is_64 && t.machine == elf::EM_MIPS.0;
    let mips64el = mips64 && e == Endianness::Little;
    let r_type = |ty: elf::RelocationType| if mips64 { ty.0 & 0xff } else { ty.0 };
    Some(match (t.is_64, is_rela) {
        (true, true) => {
            let r: &elf::Rela64<Endianness> = pod::from_bytes(bytes.get(..24)?).ok()?.0;
            Reloc {
                offset: r.r_offset.get(e),
                symbol: r.r_sym(e, mips64el),
                r_type: r_type(r.r_type(e, mips64el)),
                addend: Some(r.r_addend.get(e)),
            }
        }
        (true, false) => {
            let r: &elf::Rel64<Endianness> = pod::from_bytes(bytes.get(..16)?).ok()?.0;
            Reloc { offset: r.r_offset.get(e), symbol: r.r_sym(e), r_type: r_type(r.r_type(e)), addend: None }
        }
        (false, true) => {
            let r: &elf::Rela32<Endianness> = pod::from_bytes(bytes.get(..12)?).ok()?.0;
            Reloc {
                offset: r.r_offset.get(e).into(),
                symbol: r.r_sym(e),
                r_type: r.r_type(e).0,
                addend: Some(r.r_addend.get(e).into()),
            }
        }
        (false, false) => {
            let r: &elf::Rel32<Endianness> = pod::from_bytes(bytes.get(..8)?).ok()?.0;
            Reloc { offset: r.r_offset.get(e).into(), symbol: r.r_sym(e), r_type: r.r_type(e).0, addend: None }
        }
    })
}

/// Whether no relocation of `relocs` could make libdwfl give up, whatever
/// its type, when each of the `symbols` entries of the symbol table
/// resolves: each is within the table and leaves room for 8 bytes in a
/// section of `len` bytes, and the machine is known. A quick look for the
/// common case (64-bit little-endian `SHT_RELA`); `false` sends the
/// section through [`apply`], which says exactly.
pub(super) fn cannot_fail(t: &Target, relocs: &[u8], is_rela: bool, len: u64, symbols: u32) -> bool {
    let common = t.is_64
        && is_rela
        && t.endian == Endianness::Little
        && machine_known(t.machine)
        && t.machine != elf::EM_MIPS.0
        && relocs.len().is_multiple_of(24);
    if !common {
        return false;
    }
    let last = len.saturating_sub(8);
    relocs.chunks_exact(24).all(|r| {
        let offset = u64::from_le_bytes(r[..8].try_into().unwrap_or_default());
        let info = u64::from_le_bytes(r[8..16].try_into().unwrap_or_default());
        len >= 8 && offset <= last && (info >> 32) < u64::from(symbols)
    })
}

/// A section as [`offline_layout`] needs it.
pub(super) struct Placed {
    pub alloc: bool,
    pub addr: u64,
    pub align: u64,
    pub size: u64,
}

/// Where libdwfl's offline reporting (`dwfl_report_offline`, as upstream
/// opens an object) places an object file's sections, by section index, as
/// its `__libdwfl_elf_address_range` lays them out for `ET_REL`: loaded
/// (`SHF_ALLOC`) sections one after the other, each aligned, from 0x10000
/// (its `OFFLINE_REDZONE`); 0 for the others. A relocation against a
/// symbol in a loaded section adds its address (and the module's bias,
/// where sections came with addresses of their own), so a `DW_AT_low_pc`
/// reads 0x10000 and up, not 0: only damaged DWARF, where an entry is read
/// from such bytes, shows the difference. `None` where the layout fails:
/// libdwfl writes each address it assigns back into the section header
/// (`gelf_update_shdr`), which for a 32-bit file refuses one past 32 bits,
/// and then refuses the module without an error of its own (damaged
/// section headers: sizes and alignments of gigabytes).
pub(super) fn offline_layout(sections: &[Placed], is_64: bool) -> Option<Vec<u64>> {
    let fits = |a: u64| is_64 || a <= u64::from(u32::MAX);
    let mut addr: Vec<u64> = sections.iter().map(|s| s.addr).collect();
    // libdwfl's REL_MIN_ALIGN from its first offline address.
    let (mut start, mut end, mut base) = (0x10000u64, 0x10000u64, 0x10000u64);
    let (mut bias, mut first) = (0u64, true);
    for i in 1..sections.len() {
        let s = &sections[i];
        if !s.alloc {
            continue;
        }
        // Alignments are powers of two; one that is not aligns as
        // libdwfl's mask arithmetic does.
        let align = s.align.max(1);
        let mask = align.wrapping_neg();
        let next = end.wrapping_add(align - 1) & mask;
        // Once laying out has started, it places every section, unless
        // the first one was at 0 already.
        if addr[i] == 0 || (bias == 0 && end > start && end != next) {
            addr[i] = next;
            if end == base {
                // The first section placed: the module's base.
                (start, base) = (next, next);
            } else if base & (align - 1) != 0 {
                // A section aligned more than the base: every loaded
                // section up to this one is laid out again from a base
                // aligned for it.
                base = base.wrapping_add(align - 1) & mask;
                (start, end) = (base, base);
                for j in 1..=i {
                    if sections[j].alloc {
                        let a = sections[j].align.max(1);
                        addr[j] = end.wrapping_add(a - 1) & a.wrapping_neg();
                        end = addr[j].wrapping_add(sections[j].size);
                        if !fits(addr[j]) {
                            return None;
                        }
                    }
                }
                continue;
            }
            end = next.wrapping_add(s.size);
            if next != 0 && !fits(next) {
                return None;
            }
        } else {
            // Placed already: kept, and tracked.
            let top = addr[i].wrapping_add(s.size);
            if first || end < top {
                end = top;
            }
            if first || bias > addr[i] {
                bias = addr[i];
            }
            if addr[i].wrapping_sub(bias).wrapping_add(base) & (align - 1) != 0 {
                base = (base.wrapping_add(align - 1) & mask).wrapping_add(bias & (align - 1));
            }
        }
        first = false;
    }
    // The module's bias, which relocations add too (`dwfl_adjusted_address`).
    let bias = if bias != 0 { base.wrapping_sub(bias) } else { 0 };
    Some(sections.iter().zip(addr).map(|(s, a)| if s.alloc { a.wrapping_add(bias) } else { 0 }).collect())
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
        Op::Add6 | Op::Sub6 => {
            if let Some(byte) = location.first_mut() {
                let low =
                    if op == Op::Add6 { u64::from(*byte).wrapping_add(v) } else { u64::from(*byte).wrapping_sub(v) };
                *byte = (*byte & 0xc0) | (low as u8 & 0x3f);
            }
        }
        Op::AddUleb | Op::SubUleb => {
            if let Some((old, len)) = read_uleb(location) {
                let new = if op == Op::AddUleb { old.wrapping_add(v) } else { old.wrapping_sub(v) };
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
        let all: Vec<_> = sections.iter().map(|&(alloc, align, size)| (alloc, 0, align, size)).collect();
        layout(&all, true).expect("a 64-bit layout never fails")
    }

    /// The layout of the sections (alloc, address, alignment, size) after
    /// the null section.
    fn layout(sections: &[(bool, u64, u64, u64)], is_64: bool) -> Option<Vec<u64>> {
        let null = Placed { alloc: false, addr: 0, align: 0, size: 0 };
        let all: Vec<Placed> = std::iter::once(null)
            .chain(sections.iter().map(|&(alloc, addr, align, size)| Placed { alloc, addr, align, size }))
            .collect();
        offline_layout(&all, is_64)
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

    /// libdwfl refuses a 32-bit module whose layout places a section past
    /// 32 bits (`gelf_update_shdr`), directly or when it lays the sections
    /// out again; never a 64-bit one.
    #[test]
    fn layouts_libdwfl_refuses() {
        let fails = |sections: &[(bool, u64, u64, u64)], is_64: bool| layout(sections, is_64).is_none();
        assert!(!fails(&[(true, 0, 16, 0x17), (true, 0, 8, 8), (false, 0, 1, u64::MAX)], false));
        // The second section lands past 4 GiB.
        assert!(fails(&[(true, 0, 16, 0xffff_ffff), (true, 0, 8, 8)], false));
        assert!(!fails(&[(true, 0, 16, 0xffff_ffff), (true, 0, 8, 8)], true));
        // A section aligned past the base lays the others out again, the
        // first one past 4 GiB.
        assert!(fails(&[(true, 0, 16, 0x10), (true, 0, 0x1_0000_0000, 0x10)], false));
        // An address given already is kept while nothing was laid out yet.
        assert!(!fails(&[(true, 0x2000, 16, 0x10), (true, 0, 8, 8)], false));
    }

    /// Sections that come with addresses: kept while nothing was laid out
    /// yet, tracked (the next one placed goes after the highest), and the
    /// module biased by the base less the lowest; once laying out has
    /// started, placed like the others.
    #[test]
    fn sections_with_addresses() {
        // Laid out first, then one with an address that does not follow:
        // placed after the first.
        assert_eq!(layout(&[(true, 0, 8, 0x11), (true, 0x5000, 8, 8)], true), Some(vec![0, 0x10000, 0x10018]));
        // ... unless it follows exactly: kept, and the next goes after it.
        let far = 0x6e00_0000_0000_0000;
        assert_eq!(
            layout(&[(true, 0, 8, 0x10), (true, far, 8, 8), (true, 0, 1, 7)], true),
            Some(vec![0, 0x10000, far, far + 8])
        );
        // The first with an address: the module is biased to the base.
        assert_eq!(
            layout(&[(true, 0x4000, 16, 0x10), (false, 0, 1, 4), (true, 0, 4, 4)], true),
            Some(vec![0, 0x10000, 0, 0x10010])
        );
    }

    /// libebl 0.188's `reloc_simple_type`: PowerPC's aligned 16-bit
    /// type is not one (only the unaligned one), unlike other machines'.
    #[test]
    fn sixteen_bit_types_as_libebl_has_them() {
        let op = |m: elf::Machine, t: elf::RelocationType| operation(m, t, true).map(|o| o.size());
        assert_eq!(op(elf::EM_PPC, elf::R_PPC_ADDR16), None);
        assert_eq!(op(elf::EM_PPC, elf::R_PPC_UADDR16), Some(2));
        assert_eq!(op(elf::EM_PPC64, elf::R_PPC64_ADDR16), None);
        assert_eq!(op(elf::EM_PPC64, elf::R_PPC64_UADDR16), Some(2));
        assert_eq!(op(elf::EM_S390, elf::R_390_16), Some(2));
        assert_eq!(op(elf::EM_X86_64, elf::R_X86_64_16), Some(2));
    }

    #[test]
    fn riscv_types_as_libebl_has_them() {
        let op = |t: elf::RelocationType| operation(elf::EM_RISCV, t, false);
        for t in [
            elf::R_RISCV_SET6,
            elf::R_RISCV_SUB6,
            elf::R_RISCV_ADD8,
            elf::R_RISCV_SUB8,
            elf::R_RISCV_SET_ULEB128,
            elf::R_RISCV_SUB_ULEB128,
        ] {
            assert_eq!(op(t), None, "type {t}");
        }
        assert_eq!(op(elf::R_RISCV_SET8), Some(Op::Abs(1)));
        assert_eq!(op(elf::R_RISCV_ADD16), Some(Op::Add(2)));
        assert_eq!(op(elf::R_RISCV_SUB64), Some(Op::Sub(8)));
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
        apply_one(&mut byte, Op::Add6, 0x46, false);
        assert_eq!(byte, [0xc5]);
    }

    #[test]
    fn uleb() {
        // A padded three-byte ULEB128 keeps its length.
        let mut buf = [0x80, 0x80, 0x00, 0xaa];
        apply_one(&mut buf, Op::AddUleb, 300, false);
        assert_eq!(buf, [0xac, 0x82, 0x00, 0xaa]);
        assert_eq!(read_uleb(&buf), Some((300, 3)));
        apply_one(&mut buf, Op::SubUleb, 44, false);
        assert_eq!(read_uleb(&buf), Some((256, 3)));
        // Unterminated: left alone.
        let mut open = [0x80, 0x80];
        apply_one(&mut open, Op::AddUleb, 1, false);
        assert_eq!(open, [0x80, 0x80]);
    }

    fn defined(i: u32) -> Result<SymbolValue, GiveUp> {
        if i == 1 {
            Ok(SymbolValue::Value(0x10))
        } else {
            Err(GiveUp)
        }
    }

    #[test]
    fn rel_and_rela() {
        let t = Target { machine: elf::EM_386.0, is_64: false, endian: Endianness::Little };
        let rel32 = |offset: u32, sym: u32, ty: u32| [offset.to_le_bytes(), ((sym << 8) | ty).to_le_bytes()].concat();
        // R_386_32 against symbol 1 (value 0x10) at offset 2, implicit
        // addend 5; then a type libdwfl does not handle (skipped) and
        // R_386_NONE against a symbol that does not exist (nothing to do).
        let mut data = [0, 0, 5, 0, 0, 0, 0xee];
        let rel = [rel32(2, 1, elf::R_386_32.0), rel32(0, 1, 0x7f), rel32(0, 9, 0)].concat();
        assert_eq!(apply(&t, Some(&mut data), 7, &rel, false, &defined), Ok(()));
        assert_eq!(data, [0, 0, 0x15, 0, 0, 0, 0xee]);
        // Checked only: the same outcome, nothing written.
        assert_eq!(apply(&t, None, 7, &rel, false, &defined), Ok(()));

        // RELA on a big-endian 64-bit target: the stored bytes are replaced.
        let t = Target { machine: elf::EM_S390.0, is_64: true, endian: Endianness::Big };
        let mut data = [0xffu8; 8];
        let rela = |sym: u64| {
            [0u64.to_be_bytes(), ((sym << 32) | u64::from(elf::R_390_64.0)).to_be_bytes(), 7i64.to_be_bytes()].concat()
        };
        assert_eq!(apply(&t, Some(&mut data), 8, &rela(1), true, &defined), Ok(()));
        assert_eq!(data, 0x17u64.to_be_bytes());

        // An undefined symbol is not resolved: nothing changes.
        let undefined = |_: u32| Ok(SymbolValue::Undefined);
        let mut data = [0xffu8; 8];
        assert_eq!(apply(&t, Some(&mut data), 8, &rela(1), true, &undefined), Ok(()));
        assert_eq!(data, [0xff; 8]);
    }

    /// Where libdwfl gives up on the file's DWARF.
    #[test]
    fn what_libdwfl_cannot_relocate() {
        let t = Target { machine: elf::EM_X86_64.0, is_64: true, endian: Endianness::Little };
        let rela = |offset: u64, sym: u64, ty: u32| {
            [offset.to_le_bytes(), ((sym << 32) | u64::from(ty)).to_le_bytes(), 0i64.to_le_bytes()].concat()
        };
        let r64 = elf::R_X86_64_64.0;
        // Bytes past the section's end (8 bytes at 1 of 8).
        assert_eq!(apply(&t, None, 8, &rela(1, 1, r64), true, &defined), Err(GiveUp));
        assert_eq!(apply(&t, None, 9, &rela(1, 1, r64), true, &defined), Ok(()));
        // A symbol the table cannot give.
        assert_eq!(apply(&t, None, 8, &rela(0, 2, r64), true, &defined), Err(GiveUp));
        // ... unless the type is one libdwfl skips first.
        assert_eq!(apply(&t, None, 8, &rela(0, 2, 0x7f), true, &defined), Ok(()));
        // Any relocation at all for a machine libebl does not know.
        let unknown = Target { machine: 0, ..t };
        assert_eq!(apply(&unknown, None, 8, &rela(0, 0, 0), true, &defined), Err(GiveUp));
        assert_eq!(apply(&unknown, None, 8, &[], true, &defined), Ok(()));
    }

    /// A misaligned section is applied as an aligned one would be: libelf
    /// reads it either way.
    #[test]
    fn misaligned_sections() {
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
        let relocs = &pod::bytes_of_slice(&words)[1..=rela.len()];
        assert_eq!(apply(&t, Some(&mut data), 8, relocs, true, &defined), Ok(()));
        assert_eq!(data, 0x17u64.to_le_bytes());
        // R_386_32 at 0, implicit addend 5 (the generic reader).
        let t = Target { machine: elf::EM_386.0, is_64: false, endian: Endianness::Little };
        let mut rel = Vec::new();
        rel.extend_from_slice(&0u32.to_le_bytes());
        rel.extend_from_slice(&((1u32 << 8) | elf::R_386_32.0).to_le_bytes());
        let words = misaligned(&rel);
        let mut data = [5, 0, 0, 0];
        let relocs = &pod::bytes_of_slice(&words)[1..=rel.len()];
        assert_eq!(apply(&t, Some(&mut data), 4, relocs, false, &defined), Ok(()));
        assert_eq!(data, [0x15, 0, 0, 0]);
    }
}
