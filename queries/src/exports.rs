//! What an object exports, found the way kbuild and modpost find it, so a
//! front end can compute versions without being handed a symbol list.
//!
//! Two sources: an object with any `__export_symbol_` label is read from
//! those labels alone, any other object from its `__ksymtab_` symbols.
//!
//! 1. **kbuild objects** (`.o`, Linux 6.5 and later): every `EXPORT_SYMBOL*()`
//!    leaves a label `__export_symbol_<sym>` in the section `.export_symbol`,
//!    pointing at the license string (`"GPL"` or `""`), the namespace string
//!    (`""` for none) and an aligned reference to the symbol. kbuild lists
//!    them with `nm OBJ | sed -n 's/.* __export_symbol_\(.*\)/\1/p'`; nm
//!    sorts by name (`strcoll`, and kbuild exports `LC_COLLATE=C`, so byte
//!    order), which is the order returned here.
//! 2. **linked modules and vmlinux** (and objects of older kernels): the
//!    `__ksymtab_<sym>` symbols, listed by name like
//!    `nm | sed -n 's/.* __ksymtab_\(.*\)/\1/p' | sort -u`. Since the flags
//!    table (Linux 7.x) all exports share one `__ksymtab`, and a GPL-only
//!    export has `KSYM_FLAG_GPL_ONLY` set in its `__kflagstab` byte, labelled
//!    `__flags_<sym>`; before it, GPL-only exports sit in the section
//!    `__ksymtab_gpl` (`___ksymtab_gpl+<sym>` before linking). Either makes
//!    an export GPL-only. The namespace is the string at `__kstrtabns_<sym>`
//!    (none if that symbol is absent).
//!
//! Duplicate names (an `ld -r` of two objects exporting the same symbol) are
//! listed once, as upstream `gendwarfksyms` reads its list: the first in
//! symbol table order wins.
//!
//! An object with neither gives an empty list. Like nm, only `.symtab` is
//! read, and section and file symbols are not names.
//!
//! Nothing here panics on bad input: every offset is checked, and records
//! that are cut short (the golden fixtures' markers hold a bare `""`) read as
//! non-GPL without a namespace.

use std::collections::HashMap;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, SectionTable, Sym};
use object::{Endianness, SectionIndex};

use crate::Error;

/// One exported symbol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Export {
    /// The exported symbol's name.
    pub name: Vec<u8>,
    /// `EXPORT_SYMBOL_GPL` (or another GPL-only export).
    pub gpl: bool,
    /// The symbol namespace, empty for none.
    pub namespace: Vec<u8>,
}

const F: &str = "exports";

const MARKER_PREFIX: &[u8] = b"__export_symbol_";
const KSYMTAB_PREFIX: &[u8] = b"__ksymtab_";
const KSTRTABNS_PREFIX: &[u8] = b"__kstrtabns_";
const FLAGS_PREFIX: &[u8] = b"__flags_";

/// `KSYM_FLAG_GPL_ONLY` in a `__kflagstab` byte (include/linux/module_symbol.h).
const KSYM_FLAG_GPL_ONLY: u8 = 1 << 0;

/// The exports of one object (ELF bytes), in the order kbuild would list
/// them: sorted by name in byte order, each name once.
pub fn exports(bytes: &[u8]) -> Result<Vec<Export>, Error> {
    let ident = bytes.get(..7).ok_or_else(|| Error::new(F, "not an ELF file (too short)".to_string()))?;
    if ident[..4] != elf::ELFMAG {
        return Err(Error::new(F, "not an ELF file (bad magic)".to_string()));
    }
    match elf::FileClass(ident[4]) {
        elf::ELFCLASS64 => read::<elf::FileHeader64<Endianness>>(bytes),
        elf::ELFCLASS32 => read::<elf::FileHeader32<Endianness>>(bytes),
        class => Err(Error::new(F, format!("unknown ELF class {}", class.0))),
    }
}

fn broken(what: &str, e: object::read::Error) -> Error {
    Error::new(F, format!("invalid ELF file: {what}: {e}"))
}

/// A symbol of interest: the rest of its name after the prefix, its section
/// and its value.
struct Found<'data> {
    name: &'data [u8],
    section: Option<SectionIndex>,
    value: u64,
}

fn read<H: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<Vec<Export>, Error> {
    let header = H::parse(data).map_err(|e| broken("header", e))?;
    let endian = header.endian().map_err(|e| broken("header", e))?;
    let relocatable = header.e_type(endian) == elf::ET_REL;
    let sections = header.sections(endian, data).map_err(|e| broken("section headers", e))?;
    let symbols = sections.symbols(endian, data, elf::SHT_SYMTAB).map_err(|e| broken("symbol table", e))?;
    if !symbols.is_empty() {
        // object reads the table with the size of its own entries; libelf
        // (and so nm) rejects a table whose entries are another size.
        let table = sections.section(symbols.section()).map_err(|e| broken("symbol table", e))?;
        let entsize: u64 = table.sh_entsize(endian).into();
        let expected = std::mem::size_of::<H::Sym>() as u64;
        if entsize != expected {
            return Err(Error::new(
                F,
                format!("invalid ELF file: symbol table entry size {entsize}, expected {expected}"),
            ));
        }
    }

    // One pass over the symbol table.
    let mut markers = Vec::new();
    let mut ksymtab = Vec::new();
    let mut kstrtabns: HashMap<&[u8], Found<'_>> = HashMap::new();
    let mut flags: HashMap<&[u8], Found<'_>> = HashMap::new();
    for (index, sym) in symbols.enumerate().skip(1) {
        // nm does not print section and file symbols.
        if matches!(sym.st_type(), elf::STT_SECTION | elf::STT_FILE) {
            continue;
        }
        let name = symbols.symbol_name(endian, sym).map_err(|e| broken("symbol name", e))?;
        let (list, rest) = if let Some(rest) = name.strip_prefix(MARKER_PREFIX) {
            (0, rest)
        } else if let Some(rest) = name.strip_prefix(KSYMTAB_PREFIX) {
            (1, rest)
        } else if let Some(rest) = name.strip_prefix(KSTRTABNS_PREFIX) {
            (2, rest)
        } else if let Some(rest) = name.strip_prefix(FLAGS_PREFIX) {
            (3, rest)
        } else {
            continue;
        };
        // An unreadable extended index leaves the symbol without a section:
        // it still names an export, only its data is missing.
        let section = symbols.symbol_section(endian, sym, index).ok().flatten();
        let found = Found { name: rest, section, value: sym.st_value(endian).into() };
        match list {
            0 => markers.push(found),
            1 => ksymtab.push(found),
            2 => {
                kstrtabns.entry(rest).or_insert(found);
            }
            _ => {
                flags.entry(rest).or_insert(found);
            }
        }
    }

    let reader = Reader { data, endian, relocatable, sections: &sections };
    let mut exports = if !markers.is_empty() {
        from_markers(&reader, &markers)
    } else {
        from_ksymtab(&reader, &ksymtab, &kstrtabns, &flags)
    };
    // nm's order (byte order in the C locale); the sort is stable, so the
    // first of equal names in symbol table order is the one kept.
    exports.sort_by(|a, b| a.name.cmp(&b.name));
    exports.dedup_by(|later, first| later.name == first.name);
    Ok(exports)
}

struct Reader<'a, 'data, H: FileHeader<Endian = Endianness>> {
    data: &'data [u8],
    endian: Endianness,
    relocatable: bool,
    sections: &'a SectionTable<'data, H, &'data [u8]>,
}

impl<'data, H: FileHeader<Endian = Endianness>> Reader<'_, 'data, H> {
    fn header(&self, index: SectionIndex) -> Option<&'data H::SectionHeader> {
        self.sections.section(index).ok()
    }

    /// The name of a section, if it has a readable one.
    fn section_name(&self, index: SectionIndex) -> Option<&'data [u8]> {
        let header = self.header(index)?;
        self.sections.section_name(self.endian, header).ok()
    }

    /// The contents of a section, and the address its first byte has in
    /// symbol values (0 for relocatable objects, `sh_addr` otherwise).
    /// `None` for sections without readable, uncompressed contents.
    fn contents(&self, index: SectionIndex) -> Option<(&'data [u8], u64)> {
        let header = self.header(index)?;
        if header.sh_type(self.endian) == elf::SHT_NOBITS {
            return None;
        }
        if header.sh_flags(self.endian).0 & elf::SHF_COMPRESSED.0 != 0 {
            return None;
        }
        let contents = header.data(self.endian, self.data).ok()?;
        let base = if self.relocatable { 0 } else { header.sh_addr(self.endian).into() };
        Some((contents, base))
    }

    /// The bytes a symbol points at, up to the end of its section.
    fn bytes_at(&self, section: Option<SectionIndex>, value: u64) -> Option<&'data [u8]> {
        let (contents, base) = self.contents(section?)?;
        let offset = usize::try_from(value.checked_sub(base)?).ok()?;
        contents.get(offset..)
    }
}

/// Splits a NUL-terminated string off the front of `bytes`.
fn c_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&b| b == 0)?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

/// Exports from `__export_symbol_<sym>` labels: license and namespace are
/// the two strings at the label. A record ends at the next label in the
/// same section, so a short record never borrows its neighbour's strings.
fn from_markers<H: FileHeader<Endian = Endianness>>(reader: &Reader<'_, '_, H>, markers: &[Found<'_>]) -> Vec<Export> {
    let mut starts: HashMap<SectionIndex, Vec<u64>> = HashMap::new();
    for m in markers {
        if let Some(section) = m.section {
            starts.entry(section).or_default().push(m.value);
        }
    }
    for values in starts.values_mut() {
        values.sort_unstable();
        values.dedup();
    }

    markers
        .iter()
        .map(|m| {
            let mut record = reader.bytes_at(m.section, m.value).unwrap_or_default();
            let next = m
                .section
                .and_then(|s| starts.get(&s))
                .and_then(|values| {
                    let i = values.partition_point(|&v| v <= m.value);
                    values.get(i)
                })
                .and_then(|&next| usize::try_from(next - m.value).ok());
            if let Some(len) = next {
                record = record.get(..len).unwrap_or(record);
            }
            let (gpl, namespace) = match c_string(record) {
                Some((license, rest)) => {
                    let namespace = c_string(rest).map_or(&[][..], |(ns, _)| ns);
                    (license == b"GPL", namespace)
                }
                None => (false, &[][..]),
            };
            Export { name: m.name.to_vec(), gpl, namespace: namespace.to_vec() }
        })
        .collect()
}

/// Exports from `__ksymtab_<sym>` symbols.
fn from_ksymtab<H: FileHeader<Endian = Endianness>>(
    reader: &Reader<'_, '_, H>,
    ksymtab: &[Found<'_>],
    kstrtabns: &HashMap<&[u8], Found<'_>>,
    flags: &HashMap<&[u8], Found<'_>>,
) -> Vec<Export> {
    let mut gpl_sections: HashMap<SectionIndex, bool> = HashMap::new();
    ksymtab
        .iter()
        .map(|k| {
            let flag = flags
                .get(k.name)
                .and_then(|f| reader.bytes_at(f.section, f.value))
                .and_then(|bytes| bytes.first())
                .is_some_and(|&byte| byte & KSYM_FLAG_GPL_ONLY != 0);
            let gpl = flag
                || k.section.is_some_and(|s| {
                    *gpl_sections.entry(s).or_insert_with(|| {
                        reader
                            .section_name(s)
                            .is_some_and(|name| name == b"__ksymtab_gpl" || name.starts_with(b"___ksymtab_gpl+"))
                    })
                });
            let namespace = kstrtabns
                .get(k.name)
                .and_then(|ns| reader.bytes_at(ns.section, ns.value))
                .and_then(c_string)
                .map_or(&[][..], |(ns, _)| ns);
            Export { name: k.name.to_vec(), gpl, namespace: namespace.to_vec() }
        })
        .collect()
}
