//! Damaged DWARF as upstream reads it: every golden object with a symbol
//! list, with bytes of `.debug_info` (one, then four), of `.debug_abbrev`
//! (one, then four), of the relocations of `.debug_info` (one, then four), of the
//! symbol table (one) or of `.debug_line` (one, then four) changed at
//! seeded offsets,
//! or the object made an `ET_EXEC` with program headers near its end, or
//! its symbol names' string table compressed, or the relocations of one
//! debug section moved onto those of `.debug_info` or onto `.debug_info`,
//! or a relocated debug section moved onto another, or `e_machine`
//! changed, or one relocation of `.debug_info` applied a few bytes on, or
//! an entry's code written over with a zero two bytes long, or the NUL
//! that ends `.debug_str` made another byte, or the relocations of one
//! type made to name a symbol that does not exist,
//! must give upstream's exit status, stderr, stdout and `-T` file; so must
//! the damaged objects a differential fuzz found (`tests/data/fuzz/`).
//! (queries/tests/skip_bodies.rs proves that
//! skipping function bodies changes nothing on the same kind of damage;
//! this suite holds the engine to what libdw makes of it: which call fails
//! first, and where a `DW_AT_sibling` takes the walk.)
//!
//! `tests/data/damaged.tsv` holds upstream's answers, one line per case:
//! the id, the exit status, a digest of stdout and the `-T` file, and
//! stderr (`\n` for newlines). Record them again with
//! `DWARFKSYMS_UPSTREAM=/path/to/gendwarfksyms` (about a minute). Cases
//! upstream crashed on are reported apart, outside the ratchet; the others
//! not passing yet are listed in `tests/damaged-known-failures.txt`.
//! `DWARFKSYMS_DAMAGED_KEEP=DIR` writes the damaged object of each failing
//! case to DIR (its id with `/` as `_`, `.o`), to look at.

mod common;
// The engine's test helpers: seeded offsets, sections, the golden objects.
#[path = "../queries/tests/common/mod.rs"]
mod engine;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Outcome, Status, Suite};
use engine::{fnv, section_range as section, Rng};

/// Per-case timeout, seconds.
const TIMEOUT_SECS: u64 = 20;

struct Case {
    id: String,
    bytes: Vec<u8>,
    symbols: PathBuf,
    stable: bool,
}

fn cases() -> Vec<Case> {
    let golden = common::shared_subdir("golden");
    let mut objs = Vec::new();
    engine::objects(&golden.join("obj"), &mut objs);
    engine::objects(&golden.join("bad/obj"), &mut objs);
    let mut cases = Vec::new();
    // The objects with a symbol list (upstream needs one on stdin). Not the
    // MIPS ones: the reference's libdw (0.188) reads no `SHT_MIPS_DWARF`
    // section, so upstream fails on each of them, damaged or not
    // (../shared/golden/README.md), where we read them (tests/golden.rs).
    let mips = |o: &Path| o.components().any(|c| c.as_os_str().to_string_lossy().starts_with("mips"));
    // Nor the zstd ones: the reference's libdw reads no zstd section, so
    // upstream finds no debugging information in them, damaged or not,
    // where we read them (tests/golden.rs).
    let zstd = |o: &Path| o.to_string_lossy().contains("zstd");
    for obj in objs.into_iter().filter(|o| {
        o.extension().is_some_and(|e| e == "o") && o.with_extension("symbols").is_file() && !mips(o) && !zstd(o)
    }) {
        let rel = obj.strip_prefix(&golden).unwrap().with_extension("").to_string_lossy().into_owned();
        let bytes = common::read_data(&obj);
        // The relocations of `.debug_info` and the symbol table they use:
        // libdwfl applies them before libdw reads anything, and gives up on
        // the file's DWARF where it cannot make sense of one.
        let rel_info: &[&str] = &[".rela.debug_info", ".rel.debug_info"];
        let variants: [(&str, &[&str], usize); 9] = [
            ("info1", &[".debug_info"], 1),
            ("info4", &[".debug_info"], 4),
            ("abbrev1", &[".debug_abbrev"], 1),
            ("rela1", rel_info, 1),
            ("rela4", rel_info, 4),
            ("symtab1", &[".symtab"], 1),
            ("line1", &[".debug_line"], 1),
            ("line4", &[".debug_line"], 4),
            ("abbrev4", &[".debug_abbrev"], 4),
        ];
        for (k, (name, sects, n)) in variants.into_iter().enumerate() {
            let Some(range) = sects.iter().find_map(|sect| section(&bytes, sect)) else { continue };
            let mut rng = Rng(fnv(&[rel.as_bytes(), name.as_bytes()]));
            let mut b = bytes.clone();
            for _ in 0..n {
                let at = range.start + rng.below(range.len());
                b[at] ^= 1 + rng.below(255) as u8;
            }
            cases.push(Case {
                id: format!("{rel}/{name}"),
                bytes: b,
                symbols: obj.with_extension("symbols"),
                stable: k % 2 == 1,
            });
        }
        // Damage made by hand rather than by changed bytes: (name, the
        // damaged object if it applies, `--stable`).
        type Made = fn(&[u8], &mut Rng) -> Option<Vec<u8>>;
        let made: [(&str, Made, bool); 9] = [
            ("reltype", with_unknown_symbols_of_a_type, false),
            ("strend", with_unterminated_strings, false),
            ("longnull", with_long_null, false),
            ("machine", |b, rng| Some(with_machine(b, rng)), false),
            ("reloff", with_moved_reloc, false),
            ("relocs", with_moved_relocs, false),
            ("moved", with_moved_section, false),
            ("strtabz", with_compressed_strtab, true),
            ("phdrs", |b, rng| Some(with_phdrs(b, rng)), false),
        ];
        for (name, make, stable) in made {
            let Some(b) = make(&bytes, &mut Rng(fnv(&[rel.as_bytes(), name.as_bytes()]))) else { continue };
            cases.push(Case { id: format!("{rel}/{name}"), bytes: b, symbols: obj.with_extension("symbols"), stable });
        }
    }
    // Objects a differential fuzz found, and objects made from golden
    // ones (damaged, or linked), kept as they are
    // (`tests/data/fuzz/README.md`).
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&fuzz)
        .unwrap_or_else(|e| panic!("{}: {e}", fuzz.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    found.sort();
    for obj in found {
        let name = obj.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = common::read_data(&obj);
        cases.push(Case { id: format!("fuzz/{name}"), bytes, symbols: obj.with_extension("symbols"), stable: false });
    }
    cases
}

/// The symbol table's string table marked `SHF_COMPRESSED`, which libelf
/// then decompresses for each name (`elf_strptr`): compressed with zlib
/// and appended to the file, half the time whole, else with a compression
/// type libelf does not know, cut short, or (its bytes as they are) never
/// compressed at all. `None` without a symbol table.
fn with_compressed_strtab(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    use object::read::elf::{FileHeader, SectionHeader};
    use object::Endianness;
    fn find<H: FileHeader<Endian = Endianness>>(bytes: &[u8]) -> Option<(usize, u64, u64, Endianness)> {
        let h = H::parse(bytes).ok()?;
        let e = h.endian().ok()?;
        let sections = h.sections(e, bytes).ok()?;
        let (_, symtab) = sections.iter().enumerate().find(|(_, s)| s.sh_type(e) == object::elf::SHT_SYMTAB)?;
        let link = symtab.sh_link(e) as usize;
        let strtab = sections.section(object::SectionIndex(link)).ok()?;
        let at = h.e_shoff(e).into() as usize + link * h.e_shentsize(e) as usize;
        Some((at, strtab.sh_offset(e).into(), strtab.sh_size(e).into(), e))
    }
    let is_64 = bytes[4] == 2;
    let (at, offset, size, e) = if is_64 {
        find::<object::elf::FileHeader64<Endianness>>(bytes)?
    } else {
        find::<object::elf::FileHeader32<Endianness>>(bytes)?
    };
    let big = e == Endianness::Big;
    let put = |b: &mut [u8], at: usize, v: u64, n: usize| put(b, at, v, n, big);
    let word = if is_64 { 8 } else { 4 };
    let mut b = bytes.to_vec();
    // sh_flags, then (after sh_addr) sh_offset and sh_size. SHF_COMPRESSED
    // is bit 11: in the flags' second byte whatever their width or order.
    b[at + 8 + if big { word - 2 } else { 1 }] |= 0x08;
    let how = rng.below(6);
    if how == 5 {
        return Some(b);
    }
    let strings = &bytes[offset as usize..(offset + size) as usize];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, strings).unwrap();
    let mut data = z.finish().unwrap();
    if how == 4 {
        data.truncate(data.len() - 4);
    }
    let kind = if how == 3 { 2 } else { 1 };
    let start = b.len() as u64;
    let mut header = vec![0; if is_64 { 24 } else { 12 }];
    put(&mut header, 0, kind, 4);
    if is_64 {
        put(&mut header, 8, size, 8);
        put(&mut header, 16, 1, 8);
    } else {
        put(&mut header, 4, size, 4);
        put(&mut header, 8, 1, 4);
    }
    b.extend_from_slice(&header);
    b.extend_from_slice(&data);
    put(&mut b, at + 8 + 2 * word, start, word);
    let len = b.len() as u64 - start;
    put(&mut b, at + 8 + 3 * word, len, word);
    Some(b)
}

/// Stores `v` in the `n` bytes at `at`, in the file's byte order.
fn put(b: &mut [u8], at: usize, v: u64, n: usize, big: bool) {
    let le = v.to_le_bytes();
    for i in 0..n {
        b[at + i] = if big { le[n - 1 - i] } else { le[i] };
    }
}

/// One relocation of `.debug_info` applied 1 to 8 bytes further on: the
/// value it stores clobbers what follows, a type reference often, which
/// can then land anywhere in the unit, its header included. `None` without
/// such relocations.
fn with_moved_reloc(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let (all, is_64, big) = section_table(bytes)?;
    let relocs = all.iter().find(|s| s.0 == b".rela.debug_info" || s.0 == b".rel.debug_info")?;
    let rela = relocs.0.starts_with(b".rela");
    let entry = entry_size(is_64, rela);
    let count = relocs.2 as usize / entry;
    let at = relocs.1 as usize + entry * rng.below(count);
    let word = if is_64 { 8 } else { 4 };
    let offset = bytes.get(at..at + word)?;
    let mut v = 0u64;
    for i in 0..word {
        v |= u64::from(offset[if big { word - 1 - i } else { i }]) << (8 * i);
    }
    let mut b = bytes.to_vec();
    put(&mut b, at, v + 1 + rng.below(8) as u64, word, big);
    Some(b)
}

/// Every relocation of one type, in all the debug sections' relocations,
/// made to name a symbol past the symbol table: libdwfl gives up on the
/// file's DWARF at the first one if it applies that type, and skips them
/// all, symbol unseen, if libebl's `reloc_simple_type` does not have it
/// (`elf/reloc.rs`). The type is one of those the file uses, so each
/// machine's are tried. `None` without relocations of debug sections.
fn with_unknown_symbols_of_a_type(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let (all, is_64, big) = section_table(bytes)?;
    let relocs: Vec<_> =
        all.iter().filter(|s| s.0.starts_with(b".rel.debug_") || s.0.starts_with(b".rela.debug_")).collect();
    // r_info: the symbol above the type, 32 and 32 bits or 24 and 8.
    let (word, type_bits) = if is_64 { (8, 32) } else { (4, 8) };
    let mut entries = Vec::new();
    for r in &relocs {
        let entry = entry_size(is_64, r.0.starts_with(b".rela"));
        for k in 0..r.2 as usize / entry {
            let at = r.1 as usize + k * entry + word;
            let info = get(bytes, at, word, big)?;
            entries.push((at, info & ((1 << type_bits) - 1)));
        }
    }
    let mut types: Vec<u64> = entries.iter().map(|e| e.1).filter(|&t| t != 0).collect();
    types.sort_unstable();
    types.dedup();
    let chosen = *types.get(rng.below(types.len()))?;
    let past = if is_64 { 0xffff_fff0 } else { 0xff_fff0 };
    let mut b = bytes.to_vec();
    for (at, t) in entries.into_iter().filter(|e| e.1 == chosen) {
        put(&mut b, at, past << type_bits | t, word, big);
    }
    Some(b)
}

/// `.debug_str`'s last byte, the NUL that ends its last string, made
/// another: libdw's strings are C strings in the file, so that one runs on
/// into the bytes after the section. `None` where the section does not end
/// in a NUL.
fn with_unterminated_strings(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let range = section(bytes, ".debug_str")?;
    let last = range.end.checked_sub(1).filter(|&l| l >= range.start && bytes[l] == 0)?;
    let mut b = bytes.to_vec();
    b[last] = 1 + rng.below(255) as u8;
    Some(b)
}

/// One entry's abbreviation code written over with a zero two bytes long
/// (0x80 0x00), and the relocations of those bytes made `R_*_NONE`. libdw
/// takes such a zero for a null entry only where a first child would
/// start (`dwarf_child` skips 0x80 bytes there), and elsewhere steps onto
/// it as onto an entry whose code is none (`dies/window.rs`). Any entry but
/// a unit's: a first child, a later one, one in a function body. `None`
/// where `.debug_info` is compressed or gimli cannot walk it.
fn with_long_null(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let (all, is_64, big) = section_table(bytes)?;
    let info = all.iter().find(|s| s.0 == b".debug_info")?;
    // sh_flags follows sh_name and sh_type in both classes.
    let flags = get(bytes, info.3 + 8, if is_64 { 8 } else { 4 }, big)?;
    if flags & object::elf::SHF_COMPRESSED.0 != 0 {
        return None;
    }
    let (start, size) = (info.1 as usize, info.2 as usize);
    let entries = entry_offsets(bytes.get(start..start + size)?, section(bytes, ".debug_abbrev")?, bytes, big)?;
    let at = *entries.get(rng.below(entries.len()))?;
    let mut b = bytes.to_vec();
    b[start + at..start + at + 2].copy_from_slice(&[0x80, 0]);
    if let Some(relocs) = all.iter().find(|s| s.0 == b".rela.debug_info" || s.0 == b".rel.debug_info") {
        let entry = entry_size(is_64, relocs.0.starts_with(b".rela"));
        let word = if is_64 { 8 } else { 4 };
        for k in 0..relocs.2 as usize / entry {
            let e = relocs.1 as usize + k * entry;
            let offset = get(&b, e, word, big)? as usize;
            // A relocation stores at most 8 bytes.
            if offset < at + 2 && offset + 8 > at {
                put(&mut b, e + word, 0, word, big);
            }
        }
    }
    Some(b)
}

/// The `.debug_info` offsets of the entries of `info` but the units' own
/// (the bytes before relocation: they decide only values, not where
/// entries are), with enough room for two bytes; `None` if gimli cannot
/// walk them.
fn entry_offsets(info: &[u8], abbrev: std::ops::Range<usize>, bytes: &[u8], big: bool) -> Option<Vec<usize>> {
    let endian = if big { gimli::RunTimeEndian::Big } else { gimli::RunTimeEndian::Little };
    let debug_abbrev = gimli::DebugAbbrev::new(bytes.get(abbrev)?, endian);
    let mut units = gimli::DebugInfo::new(info, endian).units();
    let mut out = Vec::new();
    while let Some(unit) = units.next().ok()? {
        let base = unit.debug_info_offset()?.0;
        let abbrevs = unit.abbreviations(&debug_abbrev).ok()?;
        let mut raw = unit.entries_raw(&abbrevs, None).ok()?;
        while !raw.is_empty() {
            let (depth, at) = (raw.next_depth(), base + raw.next_offset().0);
            let Some(a) = raw.read_abbreviation().ok()? else { continue };
            for spec in a.attributes() {
                raw.read_attribute(*spec).ok()?;
            }
            if depth > 0 && at + 2 <= info.len() {
                out.push(at);
            }
        }
    }
    Some(out)
}

/// The `n`-byte value at `at`.
fn get(b: &[u8], at: usize, n: usize, big: bool) -> Option<u64> {
    let bytes = b.get(at..at + n)?;
    Some((0..n).fold(0, |v, i| v | u64::from(bytes[if big { n - 1 - i } else { i }]) << (8 * i)))
}

/// The size of a relocation entry.
fn entry_size(is_64: bool, rela: bool) -> usize {
    match (is_64, rela) {
        (true, true) => 24,
        (true, false) => 16,
        (false, true) => 12,
        (false, false) => 8,
    }
}

/// The object claiming another machine: libdwfl then reads its relocation
/// types as that machine's (`elf/reloc.rs`), or gives up on a machine
/// libebl does not know. Machines with a libebl backend, two without, and
/// none; not MIPS or LoongArch, which the reference cannot read and we do.
fn with_machine(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    const MACHINES: [u64; 24] =
        [0, 2, 3, 4, 18, 20, 21, 22, 40, 42, 43, 50, 53, 62, 69, 70, 71, 72, 100, 183, 243, 247, 252, 0x9026];
    let mut b = bytes.to_vec();
    let big = b[5] == 2;
    put(&mut b, 18, MACHINES[rng.below(MACHINES.len())], 2, big);
    b
}

/// The relocations of a debug section other than `.debug_info` moved onto
/// the bytes of `.debug_info`'s relocations (at an entry boundary) or of
/// `.debug_info` itself: libdwfl relocates the file in place, clearing each
/// entry it applies, so what the moved section finds there depends on what
/// was done before it (`elf/overlap.rs`). `None` without such sections.
fn with_moved_relocs(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let (all, is_64, big) = section_table(bytes)?;
    let find = |n: &[u8]| all.iter().find(|s| s.0 == n);
    let info_relocs = find(b".rela.debug_info").or_else(|| find(b".rel.debug_info"))?;
    let rela = info_relocs.0.starts_with(b".rela");
    let entry = entry_size(is_64, rela);
    let movable: Vec<_> = all
        .iter()
        .filter(|s| s.0.starts_with(if rela { b".rela.debug_" } else { b".rel.debug_" }) && s.0 != info_relocs.0)
        .collect();
    let moved = movable.get(rng.below(movable.len()))?;
    let onto = if rng.below(2) == 0 { info_relocs } else { find(b".debug_info")? };
    let room = onto.2.checked_sub(moved.2)? as usize / entry;
    let at = onto.1 + (entry * rng.below(room + 1)) as u64;
    Some(with_offset(bytes, moved.3, at, is_64, big))
}

/// (name, sh_offset, sh_size, where the header is) of every section.
type Sections = Vec<(Vec<u8>, u64, u64, usize)>;

/// The section table, whether the file is 64-bit, and whether big-endian.
fn section_table(bytes: &[u8]) -> Option<(Sections, bool, bool)> {
    use object::read::elf::{FileHeader, SectionHeader};
    use object::Endianness;
    fn read<H: FileHeader<Endian = Endianness>>(bytes: &[u8]) -> Option<(Sections, bool)> {
        let h = H::parse(bytes).ok()?;
        let e = h.endian().ok()?;
        let table = h.sections(e, bytes).ok()?;
        let shoff = h.e_shoff(e).into() as usize;
        let all = table
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let name = table.section_name(e, s).unwrap_or_default().to_vec();
                (name, s.sh_offset(e).into(), s.sh_size(e).into(), shoff + i * h.e_shentsize(e) as usize)
            })
            .collect();
        Some((all, e == Endianness::Big))
    }
    let is_64 = bytes[4] == 2;
    let (all, big) = if is_64 {
        read::<object::elf::FileHeader64<Endianness>>(bytes)?
    } else {
        read::<object::elf::FileHeader32<Endianness>>(bytes)?
    };
    Some((all, is_64, big))
}

/// The object with the section whose header is at `header` moved to `at`.
fn with_offset(bytes: &[u8], header: usize, at: u64, is_64: bool, big: bool) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let (field, word) = if is_64 { (24, 8) } else { (16, 4) };
    put(&mut b, header + field, at, word, big);
    b
}

/// A relocated debug section other than `.debug_info` moved to lie over
/// another debug section, compressed or not: libdwfl relocates it in the
/// file's bytes, which the other section's reader (libdwfl or libdw,
/// decompressing it, or not) then finds changed. `None` without such
/// sections.
fn with_moved_section(bytes: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let (all, is_64, big) = section_table(bytes)?;
    let debug = |n: &[u8]| n.starts_with(b".debug_") || n.starts_with(b".zdebug_");
    let relocated =
        |n: &[u8]| all.iter().any(|r| r.0.strip_prefix(b".rela").or_else(|| r.0.strip_prefix(b".rel")) == Some(n));
    let movable: Vec<_> =
        all.iter().filter(|s| debug(&s.0) && !s.0.ends_with(b"debug_info") && relocated(&s.0)).collect();
    let moved = movable.get(rng.below(movable.len()))?;
    let onto: Vec<_> = all.iter().filter(|s| debug(&s.0) && s.0 != moved.0 && s.2 > 0).collect();
    let onto = onto.get(rng.below(onto.len()))?;
    let at = onto.1 + rng.below(onto.2 as usize) as u64;
    Some(with_offset(bytes, moved.3, at, is_64, big))
}

/// The object turned into an `ET_EXEC` whose program header table ends at
/// the file's end or up to two entries short of it, one to three entries
/// long: libdwfl places such a file by its program headers, and fails
/// where the table does not fit (`elf/report.rs`).
fn with_phdrs(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let (is_64, big) = (b[4] == 2, b[5] == 2);
    let put = |b: &mut [u8], at: usize, v: u64, n: usize| put(b, at, v, n, big);
    let size = if is_64 { 56 } else { 32 };
    let phoff = (b.len() - rng.below(2 * size + 1)) as u64;
    let phnum = 1 + rng.below(3) as u64;
    put(&mut b, 16, 2, 2);
    if is_64 {
        put(&mut b, 32, phoff, 8);
        put(&mut b, 56, phnum, 2);
    } else {
        put(&mut b, 28, phoff, 4);
        put(&mut b, 44, phnum, 2);
    }
    b
}

/// One run: (exit status, digest of stdout and the `-T` file, stderr).
fn run(bin: &Path, case: &Case, dir: &Path, timeout: Duration) -> (String, String, String) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("damaged.o"), &case.bytes).unwrap();
    let symtypes = dir.join("damaged.symtypes");
    let _ = std::fs::remove_file(&symtypes);
    let mut cmd = common::gendwarfksyms(bin, dir);
    if case.stable {
        cmd.arg("--stable");
    }
    cmd.args(["-T", "damaged.symtypes", "damaged.o"]);
    let out = common::run(&mut cmd, &case.symbols, timeout);
    let status = match out.status {
        Status::Exited(c) => c.to_string(),
        other => other.describe(),
    };
    let written = std::fs::read(&symtypes).ok();
    let digest = fnv(&[&out.stdout, written.as_deref().unwrap_or(b"(none)")]);
    let stderr = String::from_utf8_lossy(&out.stderr).replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t");
    (status, format!("{digest:016x}"), stderr)
}

#[test]
fn damaged() {
    let suite = Suite::new("damaged");
    let expected_path = common::workspace_root().join("tests/data/damaged.tsv");
    let cases = cases();
    assert!(cases.len() > 1000, "only {} damaged cases", cases.len());
    if let Some(upstream) = std::env::var_os("DWARFKSYMS_UPSTREAM") {
        let tmp = common::TempDir::new("damaged-upstream");
        let timeout = Duration::from_secs(TIMEOUT_SECS);
        let lines = common::run_parallel(&cases, |i, c| {
            let (status, digest, stderr) = run(Path::new(&upstream), c, &tmp.path().join(i.to_string()), timeout);
            format!("{}\t{status}\t{digest}\t{stderr}", c.id)
        });
        std::fs::write(&expected_path, lines.join("\n") + "\n").unwrap();
        return;
    }
    let text = String::from_utf8(common::read_data(&expected_path)).expect("damaged.tsv is UTF-8");
    let expected: HashMap<&str, (&str, &str, &str)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(4, '\t');
            Some((f.next()?, (f.next()?, f.next()?, f.next().unwrap_or(""))))
        })
        .collect();
    suite.run(
        cases,
        |c| c.id.as_str(),
        TIMEOUT_SECS,
        "cases upstream crashed on",
        |case, tmp, timeout| {
            let Some(&(status, digest, stderr)) = expected.get(case.id.as_str()) else {
                return Outcome::new(&case.id, true, vec!["not in tests/data/damaged.tsv: record it again".into()]);
            };
            let dir = tmp.with_extension("d");
            let got = run(suite.bin(), case, &dir, timeout);
            let _ = std::fs::remove_dir_all(&dir);
            let mut problems = Vec::new();
            if got.0 != status {
                problems.push(format!("exit status {} (upstream {status})", got.0));
            }
            if got.1 != digest {
                problems.push("stdout or the -T file differs from upstream's".into());
            }
            if got.2 != stderr {
                problems.push(format!("stderr {:?} (upstream {stderr:?})", got.2));
            }
            if let Some(keep) = std::env::var_os("DWARFKSYMS_DAMAGED_KEEP").filter(|_| !problems.is_empty()) {
                let name = case.id.replace('/', "_");
                std::fs::write(Path::new(&keep).join(format!("{name}.o")), &case.bytes).unwrap();
            }
            // A signal is upstream crashing: nothing to compare with.
            let crashed = status.parse::<i32>().is_err();
            Outcome::new(&case.id, !crashed, problems)
        },
    );
}
