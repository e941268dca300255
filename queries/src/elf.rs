//! The ELF layer: what upstream gets from libelf (the symbol table and the
//! kABI rules section) and from libdwfl (the DWARF sections, decompressed and,
//! for relocatable objects, relocated).
//!
//! Everything is read in place from the file bytes with `object`'s raw ELF
//! types; the checks libelf makes (and the error texts it gives) are done
//! here by hand, because upstream's messages quote them. No input may make
//! this module panic: offsets are checked, arithmetic is checked.

mod compress;
mod overlap;
mod reloc;
mod relocate;
mod report;

pub use report::REPORT_FAILED;

use std::borrow::Cow;
use std::fmt;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, Sym};
use object::read::ReadRef;
use object::Endianness;

/// An error while reading an ELF file, in upstream's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfError {
    /// The upstream function that reports the error (`elf_for_each_global`, ...).
    pub function: &'static str,
    /// The text after `<function>: `.
    pub message: String,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.function, self.message)
    }
}

impl std::error::Error for ElfError {}

fn error(function: &'static str, message: String) -> ElfError {
    ElfError { function, message }
}

/// A defined, non-local, named symbol of a `SHT_SYMTAB` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSymbol<'data> {
    /// The name, without its terminating NUL.
    pub name: Cow<'data, [u8]>,
    /// `st_shndx`, or the extended index for `SHN_XINDEX`; reserved values
    /// (`SHN_ABS`, `SHN_COMMON`) are kept as they are.
    pub shndx: u32,
    /// `st_value`.
    pub value: u64,
}

/// libelf's error texts (elf_errmsg) for the conditions we check.
const INVALID_ELF: &str = "invalid ELF file data";
/// The message for input that is not ELF at all; the caller names the file.
pub const NOT_ELF: &str = "not an ELF object file";

/// Whether libelf would take `data` for ELF at all (a full `e_ident` with
/// the magic); upstream crashes on anything else.
pub fn is_elf(data: &[u8]) -> bool {
    data.len() >= 16 && data[..4] == elf::ELFMAG
}
const INVALID_SECTION_HEADER: &str = "invalid section header";
const INVALID_DATA: &str = "invalid data";
const INVALID_INDEX: &str = "invalid section index";
const INVALID_HANDLE: &str = "invalid `Elf' handle";
const INVALID_SECTION: &str = "invalid section";
const OFFSET_RANGE: &str = "offset out of range";

const KABI_RULES_SECTION: &[u8] = b".discard.gendwarfksyms.kabi_rules";

/// A section header, widened to 64 bits whatever the ELF class.
#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    entsize: u64,
    addr: u64,
    addralign: u64,
}

impl Section {
    fn read<S: SectionHeader<Endian = Endianness>>(s: &S, e: Endianness) -> Self {
        Section {
            name: s.sh_name(e),
            kind: s.sh_type(e).0,
            flags: s.sh_flags(e).0,
            offset: s.sh_offset(e).into(),
            size: s.sh_size(e).into(),
            link: s.sh_link(e),
            info: s.sh_info(e),
            entsize: s.sh_entsize(e).into(),
            addr: s.sh_addr(e).into(),
            addralign: s.sh_addralign(e).into(),
        }
    }

    fn has_flag(&self, flag: elf::SectionFlags) -> bool {
        self.flags & flag.0 != 0
    }

    /// Whether libdw looks at the section's name at all: NOBITS have
    /// nothing to read; groups hold type units and the like, which libdw
    /// only reads when asked for a section group.
    fn may_be_dwarf(&self) -> bool {
        self.kind != elf::SHT_NOBITS.0 && !self.has_flag(elf::SHF_GROUP)
    }
}

/// A symbol table entry, widened to 64 bits whatever the ELF class.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawSymbol {
    pub name: u32,
    pub bind: u8,
    pub shndx: u16,
    pub value: u64,
}

/// An ELF file (32 or 64 bits, either byte order) read in place.
pub struct ElfFile<'data> {
    data: &'data [u8],
    is_64: bool,
    endian: Endianness,
    e_type: u16,
    e_machine: u16,
    shstrndx: u32,
    /// Where the section and program headers are (`e_phnum` as it stands).
    e_shoff: u64,
    e_phoff: u64,
    e_phnum: u16,
    /// All section headers, section 0 included; empty when the table does
    /// not fit in the file (libelf then pretends there are none).
    sections: Vec<Section>,
    /// Compressed string tables as `elf_strptr` decompressed them, by
    /// section index (damage can mark one compressed).
    strings: std::sync::Mutex<Vec<(u32, Strings)>>,
}

impl fmt::Debug for ElfFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElfFile")
            .field("is_64", &self.is_64)
            .field("big_endian", &self.big_endian())
            .field("e_type", &self.e_type)
            .field("e_machine", &self.e_machine)
            .field("sections", &self.sections.len())
            .finish()
    }
}

impl<'data> ElfFile<'data> {
    /// Reads the ELF header and the section header table, as libelf's
    /// `elf_begin` does.
    ///
    /// Upstream crashes on files that are not ELF at all (empty, text, `ar`
    /// archives); here they get the message libelf gives for a truncated
    /// header.
    pub fn parse(data: &'data [u8]) -> Result<Self, ElfError> {
        let fail = || error("elf_for_each_global", format!("elf_begin failed: {INVALID_ELF}"));
        // libelf's determine_kind: magic, class, byte order and version
        // (the first 7 bytes of e_ident). What libelf does not take for ELF
        // at all (shorter than e_ident, other magic, `ar`) is where upstream
        // crashes; say so plainly instead.
        if !is_elf(data) {
            return Err(error("elf_for_each_global", NOT_ELF.to_string()));
        }
        let ident: &[u8; 7] = data.read_at(0).map_err(|()| fail())?;
        let is_64 = match elf::FileClass(ident[4]) {
            elf::ELFCLASS32 => false,
            elf::ELFCLASS64 => true,
            _ => return Err(fail()),
        };
        let endian = match elf::DataEncoding(ident[5]) {
            elf::ELFDATA2LSB => Endianness::Little,
            elf::ELFDATA2MSB => Endianness::Big,
            _ => return Err(fail()),
        };
        if ident[..4] != elf::ELFMAG || elf::FileVersion(ident[6]) != elf::EV_CURRENT {
            return Err(fail());
        }
        let headers = if is_64 {
            Headers::read::<elf::FileHeader64<Endianness>>(data, endian)
        } else {
            Headers::read::<elf::FileHeader32<Endianness>>(data, endian)
        };
        let headers = headers.ok_or_else(fail)?;
        Ok(ElfFile {
            data,
            is_64,
            endian,
            e_type: headers.e_type,
            e_machine: headers.e_machine,
            shstrndx: headers.shstrndx,
            e_shoff: headers.e_shoff,
            e_phoff: headers.e_phoff,
            e_phnum: headers.e_phnum,
            sections: headers.sections,
            strings: Default::default(),
        })
    }

    /// `ELFCLASS64`.
    pub fn is_64(&self) -> bool {
        self.is_64
    }

    /// `ELFDATA2MSB`.
    pub fn big_endian(&self) -> bool {
        self.endian == Endianness::Big
    }

    /// `ET_REL`, `ET_EXEC`, `ET_DYN`, ...
    pub fn e_type(&self) -> u16 {
        self.e_type
    }

    /// `EM_X86_64`, `EM_AARCH64`, ...
    pub fn e_machine(&self) -> u16 {
        self.e_machine
    }

    /// Where libdwfl places the sections of this object file, by section
    /// index (`reloc::offline_layout`); `None` where it refuses the module.
    fn offline_layout(&self) -> Option<Vec<u64>> {
        let placed = self.sections.iter().map(|s| reloc::Placed {
            alloc: s.has_flag(elf::SHF_ALLOC),
            addr: s.addr,
            align: s.addralign,
            size: s.size,
        });
        reloc::offline_layout(&placed.collect::<Vec<_>>(), self.is_64)
    }

    /// Upstream's `elf_for_each_global` (SPEC 2.3): the defined, non-local,
    /// named entries of every `SHT_SYMTAB` section, in section order.
    pub fn global_symbols(&self) -> Result<Vec<GlobalSymbol<'data>>, ElfError> {
        let mut symbols = Vec::new();
        self.global_symbols_into(&mut symbols)?;
        Ok(symbols)
    }

    /// [`Self::global_symbols`] into `symbols`, which keeps the ones read
    /// before an error: upstream handles each symbol as it reads it (its
    /// `set_symbol_addr` warnings come before the error).
    pub fn global_symbols_into(&self, symbols: &mut Vec<GlobalSymbol<'data>>) -> Result<(), ElfError> {
        const F: &str = "elf_for_each_global";
        let getdata = |s: &Section| self.section_data(s).map_err(|m| error(F, format!("elf_getdata failed: {m}")));
        let bad_index = || error(F, format!("gelf_getsymshndx failed: {INVALID_INDEX}"));

        // The first SHT_SYMTAB_SHNDX section serves every symbol table.
        let mut xindex = None;
        // libelf types a compressed section's data as a compression header
        // (`ELF_T_CHDR`), which `gelf_getsymshndx` refuses for either table.
        let mut compressed = false;
        for s in self.sections.iter().skip(1) {
            if s.kind == elf::SHT_SYMTAB_SHNDX.0 {
                xindex = Some(getdata(s)?);
                compressed = s.has_flag(elf::SHF_COMPRESSED);
                break;
            }
        }

        let sym_size = self.symbol_size();
        for s in self.sections.iter().skip(1) {
            if s.kind != elf::SHT_SYMTAB.0 {
                continue;
            }
            let table = getdata(s)?;
            if s.entsize != sym_size as u64 {
                return Err(error(F, format!("expected sh_entsize ({}) to be {sym_size}", s.entsize)));
            }
            // Upstream counts in an `unsigned int`.
            let count = (s.size / s.entsize) as u32;
            if count > 1 && (compressed || s.has_flag(elf::SHF_COMPRESSED)) {
                return Err(error(F, format!("gelf_getsymshndx failed: {INVALID_HANDLE}")));
            }
            for n in 1..count {
                let n = n as usize;
                let extended = match xindex {
                    Some(x) => Some(read_u32(x, n, self.endian).ok_or_else(bad_index)?),
                    None => None,
                };
                let sym = self.symbol(table, n).ok_or_else(bad_index)?;
                if sym.bind == elf::STB_LOCAL.0 {
                    continue;
                }
                let shndx = if sym.shndx == elf::SHN_XINDEX.0 { extended.unwrap_or(0) } else { u32::from(sym.shndx) };
                // The name is read before undefined entries are left out:
                // an unreadable one fails even there.
                let name = self.string(s.link, sym.name).map_err(|m| error(F, format!("elf_strptr failed: {m}")))?;
                if shndx == u32::from(elf::SHN_UNDEF.0) {
                    continue;
                }
                if !name.is_empty() {
                    symbols.push(GlobalSymbol { name, shndx, value: sym.value });
                }
            }
        }
        Ok(())
    }

    /// The raw contents of the first section named
    /// `.discard.gendwarfksyms.kabi_rules` (SPEC 6.2), as `elf_getdata`
    /// returns them: not parsed, and not decompressed either.
    pub fn kabi_rules(&self) -> Result<Option<&'data [u8]>, ElfError> {
        const F: &str = "kabi_read_rules";
        for s in self.sections.iter().skip(1) {
            let name = self.string(self.shstrndx, s.name).map_err(|m| error(F, format!("elf_strptr failed: {m}")))?;
            if name == KABI_RULES_SECTION {
                let data = self.section_data(s).map_err(|m| error(F, format!("elf_getdata failed: {m}")))?;
                return Ok(Some(data));
            }
        }
        Ok(None)
    }

    /// The DWARF sections as libdw sees them after libdwfl opened the file:
    /// decompressed and, for `ET_REL`, relocated.
    ///
    /// Never fails: where libdw would give up on the whole file (a debug
    /// section outside the file, an unreadable section name), the result is
    /// simply empty, so that the caller reports "no debugging information".
    pub fn dwarf_sections(&self) -> Result<DwarfSections<'data>, ElfError> {
        self.dwarf_sections_for(DWARF_SECTIONS)
    }

    /// [`Self::dwarf_sections`], keeping only those named in `read`
    /// (canonical names). Every section still counts for libdw's checks,
    /// but the others are not relocated: relocating sections nobody reads
    /// (location and range lists are as large as `.debug_info` in kernel
    /// objects) was a real part of a run.
    pub fn dwarf_sections_for(&self, read: &[&str]) -> Result<DwarfSections<'data>, ElfError> {
        let mut found = self.collect_dwarf_sections(read).unwrap_or_default();
        found.retain(|f| read.contains(&f.name));
        // libdw hands out the string sections' strings as pointers into the
        // file where the section is the file's bytes: one the section does
        // not end runs on into the bytes after it (damage only).
        let mut tail = |name: &str| -> Cow<'data, [u8]> {
            match found.iter_mut().find(|f| f.name == name) {
                Some(Found { tail: Some(t), .. }) => Cow::Owned(std::mem::take(t)),
                Some(Found { data: Cow::Borrowed(b), .. }) => {
                    let at = (b.as_ptr() as usize).wrapping_sub(self.data.as_ptr() as usize);
                    let t = self.data.get(at..).filter(|t| t.len() >= b.len() && t.as_ptr() == b.as_ptr());
                    Cow::Borrowed(t.unwrap_or(&[]))
                }
                _ => Cow::Borrowed(&[]),
            }
        };
        let tails = [tail(".debug_str"), tail(".debug_line_str")];
        let sections = found.into_iter().map(|f| (f.name, f.data)).collect();
        Ok(DwarfSections { big_endian: self.big_endian(), is_64: self.is_64, sections, tails })
    }

    /// libdw's `global_read`/`check_section`, then libdwfl's relocation.
    /// `None` when libdw would reject the file.
    fn collect_dwarf_sections(&self, read: &[&str]) -> Option<Vec<Found<'data>>> {
        let (mut found, flavour) = self.find_debug_sections(
            |s| self.string(self.shstrndx, s.name).ok(),
            |index, s, name, gnu_compressed| match self.dwarf_section_data(s, gnu_compressed) {
                Loaded::Data(data) => Loaded::Data(Found { name, index, data, tail: None }),
                Loaded::Ignored => Loaded::Ignored,
                Loaded::Invalid => Loaded::Invalid,
            },
        )?;
        if self.e_type == elf::ET_REL.0 && flavour != DwarfFlavour::Dwo {
            self.relocate(&mut found, read).ok()?;
            // Where sections overlap, one libdw decompresses from the
            // relocated bytes may no longer decompress: libdw skips it.
            found.retain(|f| !f.data.is_empty());
        }
        Some(found)
    }

    /// libdw's `check_section` over the file's sections: the debug sections
    /// it keeps, in section order, and how they are named. Each section's
    /// name is as `name` reads it (`None`: it does not read, and libdw
    /// refuses the file); `load` gives the kept section of (index, section,
    /// canonical name, whether `.zdebug`-compressed). `None` where libdw
    /// refuses the file.
    fn find_debug_sections<N: AsRef<[u8]>>(
        &self,
        name: impl Fn(&Section) -> Option<N>,
        mut load: impl FnMut(usize, &Section, &'static str, bool) -> Loaded<Found<'data>>,
    ) -> Option<(Vec<Found<'data>>, DwarfFlavour)> {
        let flavour = flavour_of(self.sections.iter().skip(1).filter_map(&name));
        let mut found: Vec<Found<'data>> = Vec::new();
        for (index, s) in self.sections.iter().enumerate().skip(1) {
            if !s.may_be_dwarf() {
                continue;
            }
            let Some((canonical, gnu_compressed)) = dwarf_section_name(name(s)?.as_ref(), flavour) else {
                continue;
            };
            if found.iter().any(|f| f.name == canonical) {
                // A section that appears twice: libdw keeps the first.
                continue;
            }
            match load(index, s, canonical, gnu_compressed) {
                Loaded::Data(f) if !f.data.is_empty() => found.push(f),
                Loaded::Data(_) | Loaded::Ignored => {}
                Loaded::Invalid => return None,
            }
        }
        Some((found, flavour))
    }

    /// One debug section's bytes, decompressed (libdw's `check_section`).
    fn dwarf_section_data(&self, s: &Section, gnu_compressed: bool) -> Loaded<Cow<'data, [u8]>> {
        match self.section_data(s) {
            // libdw skips a section it cannot decompress.
            Ok(raw) => self.unpack(s, gnu_compressed, raw).map_or(Loaded::Ignored, Loaded::Data),
            Err(_) if s.has_flag(elf::SHF_COMPRESSED) => Loaded::Ignored,
            Err(_) => Loaded::Invalid,
        }
    }

    fn symbol_size(&self) -> usize {
        if self.is_64 {
            std::mem::size_of::<elf::Sym64<Endianness>>()
        } else {
            std::mem::size_of::<elf::Sym32<Endianness>>()
        }
    }

    /// Entry `index` of a symbol table's bytes.
    pub(crate) fn symbol(&self, table: &[u8], index: usize) -> Option<RawSymbol> {
        fn read<S: Sym<Endian = Endianness>>(table: &[u8], index: usize, e: Endianness) -> Option<RawSymbol> {
            let offset = index.checked_mul(std::mem::size_of::<S>())?;
            let sym = table.read_at::<S>(offset as u64).ok()?;
            Some(RawSymbol {
                name: sym.st_name(e),
                bind: sym.st_bind().0,
                shndx: sym.st_shndx(e).0,
                value: sym.st_value(e).into(),
            })
        }
        if self.is_64 {
            read::<elf::Sym64<Endianness>>(table, index, self.endian)
        } else {
            read::<elf::Sym32<Endianness>>(table, index, self.endian)
        }
    }

    /// A section's bytes as libelf's `elf_getdata` checks them; the error is
    /// libelf's message.
    fn section_data(&self, s: &Section) -> Result<&'data [u8], &'static str> {
        if s.size == 0 || s.kind == elf::SHT_NOBITS.0 {
            return Ok(&[]);
        }
        let entsize = if s.has_flag(elf::SHF_COMPRESSED) { 1 } else { self.libelf_entry_size(s.kind) };
        if !s.size.is_multiple_of(entsize) {
            return Err(INVALID_DATA);
        }
        self.raw_data(s)
    }

    /// A section's bytes as libelf's `elf_rawdata` finds them: only
    /// within the file.
    fn raw_data(&self, s: &Section) -> Result<&'data [u8], &'static str> {
        self.data.read_bytes_at(s.offset, s.size).map_err(|()| INVALID_SECTION_HEADER)
    }

    /// The size libelf gives one entry of a section of type `kind`; a
    /// section whose size is not a multiple of it is "invalid data".
    fn libelf_entry_size(&self, kind: u32) -> u64 {
        let (word, addr) = if self.is_64 { (8, 8) } else { (4, 4) };
        match elf::SectionType(kind) {
            elf::SHT_SYMTAB | elf::SHT_DYNSYM => self.symbol_size() as u64,
            elf::SHT_RELA => reloc::entry_size(self.is_64, true) as u64,
            elf::SHT_REL => reloc::entry_size(self.is_64, false) as u64,
            elf::SHT_DYNAMIC => 2 * word,
            elf::SHT_INIT_ARRAY | elf::SHT_FINI_ARRAY | elf::SHT_PREINIT_ARRAY => addr,
            elf::SHT_HASH => {
                let machine = elf::Machine(self.e_machine);
                if machine == elf::EM_ALPHA || (machine == elf::EM_S390 && self.is_64) {
                    8
                } else {
                    4
                }
            }
            elf::SHT_GROUP | elf::SHT_SYMTAB_SHNDX => 4,
            elf::SHT_GNU_HASH if !self.is_64 => 4,
            elf::SHT_GNU_VERSYM => 2,
            elf::SHT_GNU_VERNEED => 16,
            _ => 1,
        }
    }

    /// libelf's `elf_strptr`: the NUL-terminated string at `offset` of
    /// string table `index`, without its NUL.
    fn string(&self, index: u32, offset: u32) -> Result<Cow<'data, [u8]>, &'static str> {
        let s = self.sections.get(index as usize).ok_or(INVALID_INDEX)?;
        if s.kind != elf::SHT_STRTAB.0 {
            return Err(INVALID_SECTION);
        }
        if s.has_flag(elf::SHF_COMPRESSED) {
            let table = self.decompressed_strings(index, s)?;
            return string_at(&table, offset).map(|t| Cow::Owned(t.to_vec()));
        }
        if u64::from(offset) >= s.size {
            return Err(OFFSET_RANGE);
        }
        string_at(self.section_data(s)?, offset).map(Cow::Borrowed)
    }

    /// A compressed string table as `elf_strptr` reads it: decompressed
    /// once (`gelf_getchdr`'s checks first), or libelf's message.
    fn decompressed_strings(&self, index: u32, s: &Section) -> Strings {
        let mut cache = self.strings.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, table)) = cache.iter().find(|(i, _)| *i == index) {
            return table.clone();
        }
        let table = if s.has_flag(elf::SHF_ALLOC) {
            Err("invalid section flags")
        } else {
            self.section_data(s)
                .and_then(|raw| compress::decompress_strings(raw, self.is_64, self.endian).map(Into::into))
        };
        cache.push((index, table.clone()));
        table
    }
}

/// A decompressed string table, or libelf's message.
type Strings = Result<std::sync::Arc<[u8]>, &'static str>;

/// The string at `offset` of a string table, as `elf_strptr` finds it.
fn string_at(table: &[u8], offset: u32) -> Result<&[u8], &'static str> {
    let tail = table.get(offset as usize..).filter(|t| !t.is_empty()).ok_or(OFFSET_RANGE)?;
    let end = tail.iter().position(|&b| b == 0).ok_or(INVALID_INDEX)?;
    Ok(&tail[..end])
}

/// The ELF header fields we keep, and the section table.
struct Headers {
    e_type: u16,
    e_machine: u16,
    shstrndx: u32,
    e_shoff: u64,
    e_phoff: u64,
    e_phnum: u16,
    sections: Vec<Section>,
}

impl Headers {
    /// libelf's `file_read_elf`/`get_shnum`: `None` is "invalid ELF file data".
    fn read<H: FileHeader<Endian = Endianness>>(data: &[u8], e: Endianness) -> Option<Headers> {
        let header = data.read_at::<H>(0).ok()?;
        let shoff: u64 = header.e_shoff(e).into();
        let shdr_size = std::mem::size_of::<H::SectionHeader>() as u64;
        let file_size = data.len() as u64;

        let mut count = u64::from(header.e_shnum(e));
        if count == 0 && shoff != 0 {
            // Extended numbering: the count is section 0's sh_size.
            match data.read_at::<H::SectionHeader>(shoff) {
                Ok(section_0) => {
                    count = section_0.sh_size(e).into();
                    if count > u64::from(u32::MAX) {
                        return None;
                    }
                }
                Err(()) => count = 0,
            }
        }
        // "If the section headers were truncated, pretend none were there."
        let fits = shoff <= file_size && count.checked_mul(shdr_size).is_some_and(|size| size <= file_size - shoff);
        let sections = if fits {
            let headers = data.read_slice_at::<H::SectionHeader>(shoff, count as usize).ok()?;
            headers.iter().map(|s| Section::read(s, e)).collect()
        } else {
            Vec::new()
        };

        let e_shstrndx = header.e_shstrndx(e);
        let shstrndx = if e_shstrndx == elf::SHN_XINDEX {
            sections.first().map_or(0, |s: &Section| s.link)
        } else {
            u32::from(e_shstrndx.0)
        };
        Some(Headers {
            e_type: header.e_type(e).0,
            e_machine: header.e_machine(e).0,
            shstrndx,
            e_shoff: shoff,
            e_phoff: header.e_phoff(e).into(),
            e_phnum: header.e_phnum(e),
            sections,
        })
    }
}

fn read_u32(data: &[u8], index: usize, e: Endianness) -> Option<u32> {
    let offset = index.checked_mul(4)?;
    let bytes: [u8; 4] = data.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(match e {
        Endianness::Little => u32::from_le_bytes(bytes),
        Endianness::Big => u32::from_be_bytes(bytes),
    })
}

/// A debug section libdw would use.
struct Found<'data> {
    /// Its canonical name (`.debug_info` for `.zdebug_info` too).
    name: &'static str,
    /// Its section header index, which relocation sections name in `sh_info`.
    index: usize,
    data: Cow<'data, [u8]>,
    /// The bytes libdw reads it from and what follows them to the file's
    /// end, where they are not `data`'s own (the relocated image of a file
    /// whose sections overlap): see [`DwarfSections::str_tail`].
    tail: Option<Vec<u8>>,
}

/// What became of one debug section.
enum Loaded<T> {
    Data(T),
    /// libdw leaves the section out (it could not decompress it).
    Ignored,
    /// libdw rejects the whole file (the section lies outside the file).
    Invalid,
}

/// How debug sections are named in this file (libdw's `TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DwarfFlavour {
    Plain,
    /// Split DWARF: `.debug_info.dwo` and friends.
    Dwo,
    /// GCC LTO: `.gnu.debuglto_.debug_info` and friends.
    GnuLto,
}

/// The sections libdw knows (its `dwarf_scnnames`), by canonical name.
const DWARF_SECTIONS: &[&str] = &[
    ".debug_info",
    ".debug_types",
    ".debug_abbrev",
    ".debug_addr",
    ".debug_aranges",
    ".debug_line",
    ".debug_line_str",
    ".debug_frame",
    ".debug_loc",
    ".debug_loclists",
    ".debug_pubnames",
    ".debug_str",
    ".debug_str_offsets",
    ".debug_macinfo",
    ".debug_macro",
    ".debug_ranges",
    ".debug_rnglists",
    ".debug_cu_index",
    ".debug_tu_index",
    ".gnu_debugaltlink",
];

/// How libdw names the sections of a file whose section names are `names`
/// (its `scn_dwarf_type`): the first debug-like name decides.
fn flavour_of<N: AsRef<[u8]>>(names: impl Iterator<Item = N>) -> DwarfFlavour {
    for name in names {
        let name = name.as_ref();
        if name.starts_with(b".gnu.debuglto_.debug") {
            return DwarfFlavour::GnuLto;
        }
        if matches!(name, b".debug_cu_index" | b".debug_tu_index" | b".zdebug_cu_index" | b".zdebug_tu_index") {
            return DwarfFlavour::Dwo;
        }
        if name.starts_with(b".debug_") || name.starts_with(b".zdebug_") {
            return if name.ends_with(b".dwo") { DwarfFlavour::Dwo } else { DwarfFlavour::Plain };
        }
    }
    DwarfFlavour::Plain
}

/// The canonical name of a debug section, and whether it is a legacy GNU
/// `.zdebug_*` section (libdw's `check_section` matching).
fn dwarf_section_name(name: &[u8], flavour: DwarfFlavour) -> Option<(&'static str, bool)> {
    for &canonical in DWARF_SECTIONS {
        let is_index = matches!(canonical, ".debug_cu_index" | ".debug_tu_index");
        if is_index && flavour != DwarfFlavour::Dwo {
            continue;
        }
        let suffix: &[u8] = if flavour == DwarfFlavour::Dwo && !is_index { b".dwo" } else { b"" };
        let base = canonical.as_bytes();
        if name.strip_prefix(base) == Some(suffix) {
            return Some((canonical, false));
        }
        // `.zdebug_info` for `.debug_info`.
        if let (Some(rest), Some(tail)) = (name.strip_prefix(b".z"), base.get(1..)) {
            if rest.strip_prefix(tail) == Some(suffix) {
                return Some((canonical, true));
            }
        }
        if flavour == DwarfFlavour::GnuLto && name.strip_prefix(b".gnu.debuglto_") == Some(base) {
            return Some((canonical, false));
        }
    }
    None
}

/// The DWARF sections of one file, ready for a DWARF reader.
pub struct DwarfSections<'data> {
    pub big_endian: bool,
    /// ELF class (64-bit addresses), not the DWARF format.
    pub is_64: bool,
    sections: Vec<(&'static str, Cow<'data, [u8]>)>,
    /// The file's bytes from `.debug_str`'s and `.debug_line_str`'s first
    /// on, where the section is the file's bytes (empty otherwise): see
    /// [`Self::str_tail`].
    tails: [Cow<'data, [u8]>; 2],
}

impl<'data> DwarfSections<'data> {
    /// Section data by its standard name (`.debug_info`, `.debug_str`, ...);
    /// empty if absent.
    pub fn get(&self, name: &str) -> &[u8] {
        self.sections.iter().find(|(n, _)| *n == name).map_or(&[], |(_, data)| data)
    }

    /// `.debug_str` and the rest of the file after it, where the section
    /// is the file's bytes (relocated, if libdwfl relocated the file in
    /// place), else nothing: libdw's strings are C strings in place, so
    /// one the section does not end goes on in the file.
    pub fn str_tail(&self) -> &[u8] {
        &self.tails[0]
    }

    /// The same for `.debug_line_str`.
    pub fn line_str_tail(&self) -> &[u8] {
        &self.tails[1]
    }

    /// The names of the sections present, in file order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sections.iter().map(|(n, _)| *n)
    }
}

impl fmt::Debug for DwarfSections<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, data) in &self.sections {
            map.entry(name, &data.len());
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_names() {
        use DwarfFlavour::*;
        assert_eq!(dwarf_section_name(b".debug_info", Plain), Some((".debug_info", false)));
        assert_eq!(dwarf_section_name(b".zdebug_str", Plain), Some((".debug_str", true)));
        assert_eq!(dwarf_section_name(b".debug_info.dwo", Plain), None);
        assert_eq!(dwarf_section_name(b".debug_info.dwo", Dwo), Some((".debug_info", false)));
        assert_eq!(dwarf_section_name(b".debug_cu_index", Plain), None);
        assert_eq!(dwarf_section_name(b".debug_cu_index", Dwo), Some((".debug_cu_index", false)));
        assert_eq!(dwarf_section_name(b".gnu.debuglto_.debug_info", Plain), None);
        assert_eq!(dwarf_section_name(b".gnu.debuglto_.debug_info", GnuLto), Some((".debug_info", false)));
        assert_eq!(dwarf_section_name(b".debug_infox", Plain), None);
        assert_eq!(dwarf_section_name(b".text", Plain), None);
    }

    #[test]
    fn not_elf() {
        for data in [&b""[..], b"\x7fELF", b"!<arch>\nfoo", b"hello world, not an ELF file"] {
            let err = ElfFile::parse(data).unwrap_err();
            assert_eq!(err.to_string(), format!("elf_for_each_global: {NOT_ELF}"));
        }
    }

    #[test]
    fn header_only() {
        // A 64-bit header with no section table at all.
        let mut data = vec![0u8; 64];
        data[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        let file = ElfFile::parse(&data).unwrap();
        assert!(file.global_symbols().unwrap().is_empty());
        assert_eq!(file.kabi_rules().unwrap(), None);
        assert!(file.dwarf_sections().unwrap().get(".debug_info").is_empty());
        // One byte short of the header.
        assert!(ElfFile::parse(&data[..63]).is_err());
    }
}
