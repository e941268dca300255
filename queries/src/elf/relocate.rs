//! Which relocation sections libdwfl applies to an `ET_REL` file before
//! libdw reads its DWARF, and where it gives up on that DWARF altogether
//! (its `load_dw`: `find_symtab`, then `__libdwfl_relocate`).
//!
//! libdwfl relocates every debug section in place, section by section in
//! file order, skipping what it cannot handle (a type it does not know, an
//! undefined symbol) but failing on what it cannot make sense of: a symbol
//! table it cannot read, a relocation section naming no section, a
//! relocation outside its section, a symbol index past the table. Once it
//! fails, `dwfl_module_getdwarf` has no DWARF to give and upstream reports
//! no debugging information. So every such section is checked here, the
//! ones we do not read too (location lists, frames), and applied only
//! where we read the result ([`super::reloc`] does one section's entries).

use std::borrow::Cow;

use object::elf;

use super::reloc::{self, GiveUp, SymbolValue};
use super::{ElfFile, Found, Section};

/// The sections libebl takes for debug sections (`default_debugscn_p`),
/// whose relocations libdwfl applies; `.zdebug_*` names count too.
const DEBUG_SECTIONS: &[&[u8]] = &[
    b".debug",
    b".line",
    b".debug_srcinfo",
    b".debug_sfnames",
    b".debug_aranges",
    b".debug_pubnames",
    b".debug_info",
    b".debug_abbrev",
    b".debug_line",
    b".debug_frame",
    b".debug_str",
    b".debug_loc",
    b".debug_macinfo",
    b".debug_ranges",
    b".debug_pubtypes",
    b".debug_types",
    b".gdb_index",
    b".debug_macro",
    b".debug_addr",
    b".debug_line_str",
    b".debug_loclists",
    b".debug_names",
    b".debug_rnglists",
    b".debug_str_offsets",
    b".debug_weaknames",
    b".debug_funcnames",
    b".debug_typenames",
    b".debug_varnames",
];

fn is_debug_section(name: &[u8]) -> bool {
    DEBUG_SECTIONS.iter().any(|d| name == *d || (name.starts_with(b".zdebug") && name.get(2..) == d.get(1..)))
}

/// The symbol table `find_symtab` settles on, read as it reads it.
pub(super) struct Symtab<'data> {
    pub symbols: Cow<'data, [u8]>,
    /// Where the table lies in the file, if libelf reads it in place there
    /// (uncompressed, the host's byte order, aligned): relocations that
    /// write over it change the symbols later ones find.
    pub in_file: Option<usize>,
    /// The `SHT_SYMTAB_SHNDX` section that goes with it, if any.
    xndx: Option<Cow<'data, [u8]>>,
    /// The size of its string table.
    strings: u64,
    /// Its entries (libdwfl's `syments`).
    count: u32,
}

/// One relocation section libdwfl applies, ready to apply.
pub(super) struct Job<'data> {
    /// The target's index in `found`, if libdw keeps it.
    pub kept: Option<usize>,
    /// The target's size (decompressed).
    pub len: u64,
    /// The entries (decompressed).
    pub relocs: Cow<'data, [u8]>,
    pub is_rela: bool,
}

impl<'data> ElfFile<'data> {
    /// Relocates the sections of `found` named in `read`, and checks the
    /// relocations of every debug section as libdwfl applies them.
    pub(super) fn relocate(&self, found: &mut Vec<Found<'data>>, read: &[&str]) -> Result<(), GiveUp> {
        let symtab = self.dwfl_symtab()?;
        // Where libdwfl places each section of an object file: relocations
        // against symbols in loaded sections add that address.
        // (A layout libdwfl refuses never gets here: `dwfl_reports`.)
        let placed = self.offline_layout().unwrap_or_default();
        let symbol = |index: u32| self.reloc_symbol(&symtab, &symtab.symbols, &placed, index);
        if self.sections_overlap() {
            return self.relocate_in_place(found, &symtab, &placed);
        }
        // Whether every symbol of the table resolves (libdwfl gives up on
        // none of them), worked out when first needed.
        let mut symbols_ok = None;
        let target_of = self.reloc_target();
        for s in self.sections.iter().skip(1) {
            let Some(job) = self.job(s, found)? else { continue };
            let data = match job.kept {
                Some(k) if read.contains(&found[k].name) => Some(found[k].data.to_mut().as_mut()),
                _ => None,
            };
            // A section only checked (location lists, frames: as large as
            // `.debug_info` in kernel objects) is first looked over for
            // what could fail at all; nearly always nothing can.
            if data.is_none() {
                let symbols_ok = *symbols_ok.get_or_insert_with(|| (1..symtab.count).all(|i| symbol(i).is_ok()));
                if symbols_ok && reloc::cannot_fail(&target_of, &job.relocs, job.is_rela, job.len, symtab.count) {
                    continue;
                }
            }
            reloc::apply(&target_of, data, job.len, &job.relocs, job.is_rela, &symbol)?;
        }
        Ok(())
    }

    pub(super) fn reloc_target(&self) -> reloc::Target {
        reloc::Target { machine: self.e_machine, is_64: self.is_64, endian: self.endian }
    }

    /// What libdwfl's `relocate_section` loads and checks before applying
    /// section `s`, if it is a relocation section of a debug section with
    /// contents: the target (decompressed), the entries (decompressed), and
    /// the checks of both names and of the headers' places.
    pub(super) fn job(&self, s: &Section, found: &[Found<'data>]) -> Result<Option<Job<'data>>, GiveUp> {
        let is_rela = s.kind == elf::SHT_RELA.0;
        if !(is_rela || s.kind == elf::SHT_REL.0) || s.size == 0 {
            return Ok(None);
        }
        let t = self.sections.get(s.info as usize).ok_or(GiveUp)?;
        let tname = self.string(self.shstrndx, t.name).map_err(|_| GiveUp)?;
        if !is_debug_section(&tname) {
            return Ok(None);
        }
        // `elf_compress` decompresses neither a loaded section nor one of
        // no type or no bytes, and libdwfl gives up where it fails.
        let undecompressible = |x: &Section| {
            x.has_flag(elf::SHF_COMPRESSED)
                && (x.has_flag(elf::SHF_ALLOC) || x.kind == elf::SHT_NULL.0 || x.kind == elf::SHT_NOBITS.0)
        };
        if undecompressible(t) {
            return Err(GiveUp);
        }
        let kept = found.iter().position(|f| f.index == s.info as usize);
        // The target's bytes as libdwfl relocates them (decompressed);
        // whether they are a copy rather than the file's.
        let (len, copied) = match kept {
            Some(k) => (found[k].data.len() as u64, matches!(found[k].data, Cow::Owned(_))),
            None => match self.dwfl_section(t, &tname)? {
                Some(data) => (data.len() as u64, matches!(data, Cow::Owned(_))),
                None => return Ok(None),
            },
        };
        if t.kind == elf::SHT_NOBITS.0 || len == 0 {
            return Ok(None);
        }
        // The relocation section's name must read too, and its bytes
        // decompress if they are compressed.
        self.string(self.shstrndx, s.name).map_err(|_| GiveUp)?;
        if undecompressible(s) {
            return Err(GiveUp);
        }
        let compressed = s.has_flag(elf::SHF_COMPRESSED);
        self.check_headers_overlap((s, compressed), (t, copied))?;
        // libdwfl decompresses a relocation section by `elf_compress` only.
        let relocs = self.unpack(s, false, self.section_data(s).map_err(|_| GiveUp)?).ok_or(GiveUp)?;
        if compressed && !(relocs.len() as u64).is_multiple_of(self.libelf_entry_size(s.kind)) {
            return Err(GiveUp);
        }
        Ok(Some(Job { kept, len, relocs, is_rela }))
    }

    /// A debug section that libdw does not keep, as libdwfl loads it to
    /// relocate it: decompressed (failing is fatal), `None` if there is
    /// nothing to relocate.
    pub(super) fn dwfl_section(&self, t: &Section, name: &[u8]) -> Result<Option<Cow<'data, [u8]>>, GiveUp> {
        let compressed = t.has_flag(elf::SHF_COMPRESSED);
        if !compressed && (t.kind == elf::SHT_NOBITS.0 || t.size == 0) {
            return Ok(None);
        }
        // `elf_rawdata` checks the size against the type's entries as
        // `elf_getdata` does (a section made `SHT_HASH` must hold words).
        let raw = self.section_data(t).map_err(|_| GiveUp)?;
        self.unpack(t, name.starts_with(b".zdebug"), raw).map(Some).ok_or(GiveUp)
    }

    /// libdwfl will not relocate with or into a section that starts in the
    /// ELF header, nor one of the mapped file (not a decompressed copy)
    /// that overlaps the section or program headers.
    fn check_headers_overlap(
        &self,
        (s, s_copied): (&Section, bool),
        (t, t_copied): (&Section, bool),
    ) -> Result<(), GiveUp> {
        let ehsize = if self.is_64 { 64 } else { 52 };
        if s.offset < ehsize || t.offset < ehsize {
            return Err(GiveUp);
        }
        let overlaps = |sec: &Section, copied: bool, (start, end): (u64, u64)| {
            !copied && start < sec.offset.wrapping_add(sec.size) && sec.offset < end
        };
        let shentsize = if self.is_64 { 64 } else { 40 };
        let shdrs = (self.e_shoff, self.e_shoff.wrapping_add(self.sections.len() as u64 * shentsize));
        if overlaps(s, s_copied, shdrs) || overlaps(t, t_copied, shdrs) {
            return Err(GiveUp);
        }
        match self.phdrs()? {
            Some(phdrs) if overlaps(s, s_copied, phdrs) || overlaps(t, t_copied, phdrs) => Err(GiveUp),
            _ => Ok(()),
        }
    }

    /// Where the program headers are, as libelf's `elf_getphdrnum` counts
    /// them (an offset past the file is an error; a count past it is cut).
    pub(super) fn phdrs(&self) -> Result<Option<(u64, u64)>, GiveUp> {
        let off = self.e_phoff;
        if off == 0 {
            return Ok(None);
        }
        let len = self.data.len() as u64;
        if off >= len {
            return Err(GiveUp);
        }
        let size = if self.is_64 { 56 } else { 32 };
        let count = self.phnum().min((len - off) / size);
        Ok((count != 0).then(|| (off, off + count * size)))
    }

    /// `e_phnum`, or section 0's `sh_info` where it is `PN_XNUM` and there
    /// are sections (libelf's `__elf_getphdrnum_rdlock`).
    pub(super) fn phnum(&self) -> u64 {
        match (self.e_phnum, self.sections.first()) {
            (0xffff, Some(s0)) => u64::from(s0.info),
            (n, _) => u64::from(n),
        }
    }

    /// libdwfl's `find_symtab` for the file itself (`load_symtab`, then its
    /// checks of the tables): the symbol table relocations resolve against.
    fn dwfl_symtab(&self) -> Result<Symtab<'data>, GiveUp> {
        let (mut symtab, mut dynsym, mut xndx) = (None, None, None);
        for s in self.sections.iter().skip(1) {
            match elf::SectionType(s.kind) {
                elf::SHT_SYMTAB if s.entsize != 0 => {
                    symtab = Some(s);
                    if xndx.is_some() {
                        break;
                    }
                }
                elf::SHT_DYNSYM if s.entsize != 0 && symtab.is_none() => dynsym = Some(s),
                elf::SHT_SYMTAB_SHNDX => {
                    xndx = Some(s);
                    if symtab.is_some() {
                        break;
                    }
                }
                _ => {}
            }
        }
        // Without a symbol table, a dynamic one will do; without either
        // (no separate debug file for an object), libdwfl gives up.
        let (table, xndx) = match (symtab, dynsym) {
            (Some(t), _) => (t, xndx),
            (None, Some(d)) => (d, None),
            (None, None) => return Err(GiveUp),
        };
        let strtab = self.sections.get(table.link as usize).ok_or(GiveUp)?;
        let strtab_name = self.string(self.shstrndx, strtab.name).map_err(|_| GiveUp)?;
        let strings = self.dwfl_table(strtab, &strtab_name)?;
        let xndx = match xndx {
            Some(x) => Some(self.dwfl_table(x, &strtab_name)?),
            None => None,
        };
        let symbols = self.dwfl_table(table, &strtab_name)?;
        // libdwfl's `syments`, by the header's entry size, checked against
        // the bytes and the first global.
        let syments = table.size / table.entsize;
        if syments > symbols.len() as u64 / table.entsize || u64::from(table.info) > syments {
            return Err(GiveUp);
        }
        // Relocations may name any entry the table's bytes hold.
        let count = u32::try_from(symbols.len() / self.symbol_size()).unwrap_or(u32::MAX);
        let in_file =
            (matches!(symbols, Cow::Borrowed(_)) && self.data_in_place(table)).then_some(table.offset as usize);
        Ok(Symtab { symbols, in_file, xndx, strings: strings.len() as u64, count })
    }

    /// Whether libelf's `elf_getdata` hands a symbol or relocation table
    /// (uncompressed) over in place in the file rather than as a copy:
    /// where its byte order is the host's (the reference runs on x86-64)
    /// and it is aligned for its entries (`convert_data`).
    pub(super) fn data_in_place(&self, s: &Section) -> bool {
        let align = if self.is_64 { 8 } else { 4 };
        self.endian == object::Endianness::Little && s.offset.is_multiple_of(align)
    }

    /// One of the tables `find_symtab` loads: decompressed if need be
    /// (`.zdebug` going by the string table's name, as libdwfl has it), and
    /// not empty.
    fn dwfl_table(&self, s: &Section, strtab_name: &[u8]) -> Result<Cow<'data, [u8]>, GiveUp> {
        let raw = self.section_data(s).map_err(|_| GiveUp)?;
        let data = self.unpack(s, strtab_name.starts_with(b".zdebug"), raw).ok_or(GiveUp)?;
        if data.is_empty() {
            return Err(GiveUp);
        }
        Ok(data)
    }

    /// The value a relocation against symbol `index` uses (libdwfl's
    /// `relocate_getsym`, `__libdwfl_relocate_value` and, for undefined and
    /// common symbols, `resolve_symbol`, which finds nothing in a file
    /// reported alone).
    /// `symbols` is the table's bytes as they are now (`symtab.symbols`
    /// unless relocations wrote over them).
    pub(super) fn reloc_symbol(
        &self,
        symtab: &Symtab<'_>,
        symbols: &[u8],
        placed: &[u64],
        index: u32,
    ) -> Result<SymbolValue, GiveUp> {
        // `gelf_getsymshndx`: the index must be in both tables.
        let extended = match &symtab.xndx {
            Some(x) => Some(super::read_u32(x, index as usize, self.endian).ok_or(GiveUp)?),
            None => None,
        };
        let sym = self.symbol(symbols, index as usize).ok_or(GiveUp)?;
        // Neither defined nor found elsewhere (an undefined or common
        // symbol); a name past the string table is an error first.
        let unresolved = |common: bool| {
            if sym.name != 0 && u64::from(sym.name) >= symtab.strings {
                return Err(GiveUp);
            }
            Ok(if common { SymbolValue::Value(0) } else { SymbolValue::Undefined })
        };
        let shndx = match elf::SymbolSection(sym.shndx) {
            elf::SHN_ABS => return Ok(SymbolValue::Value(sym.value)),
            elf::SHN_UNDEF => return unresolved(false),
            elf::SHN_COMMON => return unresolved(true),
            // An extended index of 0 is undefined too.
            elf::SHN_XINDEX => match extended.unwrap_or(0) {
                0 => return unresolved(false),
                x => x,
            },
            _ => u32::from(sym.shndx),
        };
        let section = self.sections.get(shndx as usize).ok_or(GiveUp)?;
        let at = if section.has_flag(elf::SHF_ALLOC) { placed.get(shndx as usize).copied().unwrap_or(0) } else { 0 };
        Ok(SymbolValue::Value(sym.value.wrapping_add(at)))
    }
}
