//! The ELF layer against the golden corpus and the kernel corpus in
//! `../shared` (relative to the workspace root).

mod common;

use common::{files_in, read, shared};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use queries::elf::{DwarfSections, ElfFile, GlobalSymbol};

fn is_object(p: &Path) -> bool {
    p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("o" | "so"))
}

/// Every compiled object of the golden corpus: `obj/<config>/` and `bad/obj/<config>/`.
fn golden_objects() -> Vec<PathBuf> {
    let golden = shared().join("golden");
    let mut objects = Vec::new();
    for top in [golden.join("obj"), golden.join("bad/obj")] {
        for config in files_in(&top, |p| p.is_dir()) {
            objects.extend(files_in(&config, is_object));
        }
    }
    assert!(objects.len() > 600, "expected the golden objects, found {}", objects.len());
    objects
}

/// The real kernel objects.
fn corpus_objects() -> Vec<PathBuf> {
    let corpus = shared().join("corpus/kernel-7.2-x86_64");
    let list = std::fs::read_to_string(corpus.join("objects.txt")).expect("corpus objects.txt");
    list.lines().filter(|l| !l.trim().is_empty()).map(|l| corpus.join(l.trim())).collect()
}

fn bad_inputs() -> Vec<PathBuf> {
    files_in(&shared().join("golden/bad/inputs"), |p| p.is_file())
}

fn config_of(path: &Path) -> String {
    path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned()
}

/// Calls everything; returns the sections if the file parses.
fn exercise(data: &[u8]) {
    if let Ok(file) = ElfFile::parse(data) {
        let _ = file.global_symbols();
        let _ = file.kabi_rules();
        let _ = file.dwarf_sections();
    }
}

#[test]
fn bad_inputs_behave_like_upstream() {
    let mut seen = 0;
    for path in bad_inputs() {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let data = read(&path);
        exercise(&data);
        let parsed = ElfFile::parse(&data);
        match name.as_str() {
            // Upstream: "elf_begin failed: invalid ELF file data".
            "truncated-in-header.o" => {
                let err = parsed.unwrap_err();
                assert_eq!(err.function, "elf_for_each_global");
                assert_eq!(err.message, "elf_begin failed: invalid ELF file data");
            }
            // Upstream crashes; we refuse them.
            "empty.o" | "not-elf.o" | "elf-magic-only.o" | "two-objects.a" => {
                assert!(parsed.is_err(), "{name} should not parse");
            }
            "corrupt-symtab-entsize.o" => {
                let err = parsed.unwrap().global_symbols().unwrap_err();
                assert_eq!(err.to_string(), "elf_for_each_global: expected sh_entsize (16) to be 24");
            }
            // "no debugging information?" later, but the symbol scan works.
            "corrupt-shoff.o" | "truncated-half.o" | "truncated-tail.o" | "no-debug-info.o" => {
                let file = parsed.unwrap();
                file.global_symbols().unwrap();
                file.kabi_rules().unwrap();
                assert!(file.dwarf_sections().unwrap().get(".debug_info").is_empty(), "{name}");
            }
            // The damage is inside the DWARF: the sections are there.
            "corrupt-debug-abbrev.o"
            | "corrupt-debug-info-abbrev.o"
            | "corrupt-debug-info-body.o"
            | "corrupt-debug-info-length.o"
            | "corrupt-debug-info-version.o"
            | "corrupt-debug-str.o"
            | "no-debug-info-relocs.o" => {
                let file = parsed.unwrap();
                assert!(!file.global_symbols().unwrap().is_empty(), "{name}");
                assert!(!file.dwarf_sections().unwrap().get(".debug_info").is_empty(), "{name}");
            }
            // A linked object: symbols and DWARF, no relocation needed.
            "shared-no-symtab.so" => {
                let file = parsed.unwrap();
                assert!(!file.global_symbols().unwrap().is_empty());
                assert!(!file.dwarf_sections().unwrap().get(".debug_info").is_empty());
            }
            other => panic!("unexpected bad input {other}: update this test"),
        }
        seen += 1;
    }
    assert_eq!(seen, 18);
}

type Globals = Vec<(Vec<u8>, Option<u64>)>;

/// `nm -A -P --defined-only` over many files at once: for each file, the
/// defined symbols that are not local, with their values (`None` for common
/// symbols, whose value nm prints differently). `None` if nm cannot run.
fn nm_globals(paths: &[PathBuf]) -> Option<BTreeMap<PathBuf, Globals>> {
    let out = Command::new("nm").args(["-A", "-P", "--defined-only"]).args(paths).output().ok()?;
    let mut all: BTreeMap<PathBuf, Globals> = paths.iter().map(|p| (p.clone(), Vec::new())).collect();
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        // "file: name type value size"; names may contain spaces (RISC-V ".L0 ").
        let colon = line.windows(2).position(|w| w == b": ").unwrap_or_else(|| bad_line(line));
        let file = PathBuf::from(String::from_utf8(line[..colon].to_vec()).unwrap());
        let fields: Vec<&[u8]> = line[colon + 2..].rsplitn(4, |&b| b == b' ').collect();
        let [_size, value, kind, name] = fields[..] else { bad_line(line) };
        let Some(&kind) = kind.first() else { bad_line(line) };
        // Upper case: global or weak; 'u': unique global. 'i' (ifunc) is
        // ambiguous; 'N' is any symbol of a debug section (locals only here).
        assert_ne!(kind, b'i', "ifunc symbols in {}", file.display());
        if (kind.is_ascii_uppercase() && kind != b'N') || kind == b'u' {
            let value = u64::from_str_radix(std::str::from_utf8(value).unwrap(), 16).unwrap();
            let globals = all.get_mut(&file).unwrap_or_else(|| panic!("nm: unknown file {file:?}"));
            globals.push((name.to_vec(), (kind != b'C').then_some(value)));
        }
    }
    for globals in all.values_mut() {
        globals.sort();
    }
    Some(all)
}

fn bad_line(line: &[u8]) -> ! {
    panic!("unexpected nm line {:?}", String::from_utf8_lossy(line))
}

fn our_globals(symbols: &[GlobalSymbol<'_>]) -> Globals {
    let mut globals: Vec<_> =
        symbols.iter().map(|s| (s.name.to_vec(), (s.shndx != 65522).then_some(s.value))).collect();
    globals.sort();
    globals
}

#[test]
fn global_symbols_agree_with_nm() {
    let mut objects = golden_objects();
    objects.extend(corpus_objects());
    let Some(nm) = nm_globals(&objects) else {
        eprintln!("nm not available: only the hand-checked symbols are compared");
        return;
    };
    for path in objects {
        let data = read(&path);
        let file = ElfFile::parse(&data).unwrap();
        let ours = our_globals(&file.global_symbols().unwrap());
        assert_eq!(ours, nm[&path], "{}", path.display());
    }
}

/// Addresses upstream printed with `--debug` for this object (expected output
/// of `dump/x86_64-gcc-dwarf5-O2/aliases_weak/debug-normal`), and the common
/// symbols of `storage_classes`.
#[test]
fn global_symbols_hand_checked() {
    let obj = shared().join("golden/obj/x86_64-gcc-dwarf5-O2");
    let data = read(&obj.join("aliases_weak.o"));
    let file = ElfFile::parse(&data).unwrap();
    let globals = file.global_symbols().unwrap();
    let symbols: BTreeMap<&[u8], (u32, u64)> = globals.iter().map(|s| (&*s.name, (s.shndx, s.value))).collect();
    for (name, addr) in [
        (&b"aw_alias"[..], (1, 0)),
        (b"aw_counter", (4, 0)),
        (b"aw_counter_alias", (4, 0)),
        (b"aw_impl", (1, 0)),
        (b"aw_use_statics", (1, 0x30)),
        (b"aw_weak_alias", (1, 0)),
        (b"aw_weak_config", (9, 0x10)),
        (b"aw_weak_func", (1, 0x10)),
    ] {
        assert_eq!(symbols.get(name), Some(&addr), "{}", String::from_utf8_lossy(name));
    }
    // Locals and the weak undefined symbol are not there.
    assert!(!symbols.contains_key(&b"aw_static_helper"[..]));
    assert!(!symbols.contains_key(&b"aw_weak_undef"[..]));

    let data = read(&obj.join("storage_classes.o"));
    let file = ElfFile::parse(&data).unwrap();
    let commons: Vec<_> = file
        .global_symbols()
        .unwrap()
        .into_iter()
        .filter(|s| s.shndx == 65522)
        .map(|s| String::from_utf8_lossy(&s.name).into_owned())
        .collect();
    assert_eq!(commons.len(), 2, "{commons:?}");
}

/// A symbol table marked `SHF_COMPRESSED`: libelf types its data as a
/// compression header, and `gelf_getsymshndx` refuses it (the reference
/// prints this on the same object).
#[test]
fn compressed_symbol_table_is_refused() {
    let mut data = read(&shared().join("golden/obj/x86_64-gcc-dwarf4-O0/base_types.o"));
    let shoff = u64::from_le_bytes(data[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes([data[0x3c], data[0x3d]]) as usize;
    let symtab = (0..shnum).map(|i| shoff + i * 64).find(|&h| data[h + 4] == 2).expect("a symbol table");
    assert!(ElfFile::parse(&data).unwrap().global_symbols().is_ok());
    data[symtab + 9] |= 0x08;
    let err = ElfFile::parse(&data).unwrap().global_symbols().unwrap_err();
    assert_eq!(err.to_string(), "elf_for_each_global: gelf_getsymshndx failed: invalid `Elf' handle");
}

#[test]
fn kabi_rules_sections() {
    let obj = shared().join("golden/obj/x86_64-gcc-dwarf5-O2");
    let data = read(&obj.join("kabi_rules.o"));
    let rules = ElfFile::parse(&data).unwrap().kabi_rules().unwrap().unwrap();
    assert!(rules.starts_with(b"1\0"), "{:?}", String::from_utf8_lossy(rules));
    assert_eq!(rules.last(), Some(&0));
    let data = read(&obj.join("base_types.o"));
    assert_eq!(ElfFile::parse(&data).unwrap().kabi_rules().unwrap(), None);
}

const COMPARED: [&str; 4] = [".debug_info", ".debug_abbrev", ".debug_str", ".debug_line"];

/// Compressed configurations and the uncompressed one built the same way.
const COMPRESSED: [(&str, &str); 4] = [
    ("x86_64-gcc-dwarf5-O2-gz-zstd", "x86_64-gcc-dwarf5-O2"),
    ("x86_64-gcc-dwarf5-O2-gz-zlib", "x86_64-gcc-dwarf5-O2"),
    ("x86_64-gcc-dwarf4-O2-gz-zlib-gnu", "x86_64-gcc-dwarf4-O2"),
    ("x86_64-clang-dwarf5-O2-gz-zlib", "x86_64-clang-dwarf5-O2"),
];

#[test]
fn compressed_sections_match_uncompressed() {
    let obj = shared().join("golden/obj");
    for (compressed, plain) in COMPRESSED {
        let objects = files_in(&obj.join(compressed), is_object);
        assert!(!objects.is_empty(), "{compressed}");
        for path in objects {
            let name = path.file_name().unwrap();
            let a = read(&path);
            let b = read(&obj.join(plain).join(name));
            let (a, b) = (ElfFile::parse(&a).unwrap(), ElfFile::parse(&b).unwrap());
            let (sa, sb) = (a.dwarf_sections().unwrap(), b.dwarf_sections().unwrap());
            let what = format!("{compressed}/{}", name.to_string_lossy());
            if compressed.ends_with("zstd") || compressed.contains("clang") {
                // objcopy recompressed the very same object; clang's -gz
                // changes nothing else.
                for section in COMPARED {
                    assert!(sa.get(section) == sb.get(section), "{what}: {section}");
                }
            } else if sb.get(".debug_info").is_empty() {
                assert!(sa.get(".debug_info").is_empty(), "{what}");
            } else {
                // gcc records -gz in DW_AT_producer, so .debug_str and the
                // string offsets differ: compare the DIE trees with strings
                // resolved instead, and the sections that do not move.
                assert!(!sa.get(".debug_info").is_empty(), "{what}");
                for section in [".debug_abbrev", ".debug_line"] {
                    assert!(sa.get(section) == sb.get(section), "{what}: {section}");
                }
                let (da, db) = (die_dump(&sa), die_dump(&sb));
                assert!(da == db, "{what}: DIE trees differ");
            }
        }
    }
}

type Reader<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

fn load<'a>(sections: &'a DwarfSections<'_>) -> gimli::Dwarf<Reader<'a>> {
    let endian = if sections.big_endian { gimli::RunTimeEndian::Big } else { gimli::RunTimeEndian::Little };
    gimli::Dwarf::load(|id| -> Result<_, gimli::Error> { Ok(gimli::EndianSlice::new(sections.get(id.name()), endian)) })
        .unwrap()
}

/// Every DIE of every unit: depth, tag, attributes with strings resolved
/// (`DW_AT_producer` left out).
fn die_dump(sections: &DwarfSections<'_>) -> Vec<String> {
    let dwarf = load(sections);
    let mut out = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next().unwrap() {
        let unit = dwarf.unit(header).unwrap();
        let mut entries = unit.entries();
        while let Some(die) = entries.next_dfs().unwrap() {
            let mut line = format!("{} {}", die.depth(), die.tag());
            for attr in die.attrs() {
                if attr.name() == gimli::DW_AT_producer {
                    continue;
                }
                let value = match dwarf.attr_string(&unit, attr.value()) {
                    Ok(s) => String::from_utf8_lossy(s.slice()).into_owned(),
                    Err(_) => format!("{:?}", attr.value()),
                };
                line += &format!(" {}={value}", attr.name());
            }
            out.push(line);
        }
    }
    out
}

/// Checks that the relocated DWARF of one object makes sense: every unit's
/// name resolves to a source file name, every name in the first unit and
/// every file name of its line program resolves. Returns the number of units.
fn check_names(path: &Path, sections: &DwarfSections<'_>) -> usize {
    let what = path.display();
    let dwarf = load(sections);
    let mut units = dwarf.units();
    let mut count = 0;
    while let Some(header) = units.next().unwrap_or_else(|e| panic!("{what}: {e}")) {
        let unit = dwarf.unit(header).unwrap_or_else(|e| panic!("{what}: {e}"));
        let mut entries = unit.entries();
        let root = entries.next_dfs().unwrap().unwrap_or_else(|| panic!("{what}: empty unit"));
        let name = root.attr_value(gimli::DW_AT_name).unwrap_or_else(|| panic!("{what}: unit without a name"));
        let name = dwarf.attr_string(&unit, name).unwrap_or_else(|e| panic!("{what}: {e}"));
        let name = String::from_utf8_lossy(name.slice()).into_owned();
        let source = [".c", ".cc", ".S", ".s", ".rs"].iter().any(|s| name.ends_with(s)) || name.contains(".rs/@/");
        assert!(source, "{what}: unit name {name:?}");

        if count == 0 {
            while let Some(die) = entries.next_dfs().unwrap_or_else(|e| panic!("{what}: {e}")) {
                for at in [gimli::DW_AT_name, gimli::DW_AT_linkage_name] {
                    if let Some(value) = die.attr_value(at) {
                        let s = dwarf
                            .attr_string(&unit, value)
                            .unwrap_or_else(|e| panic!("{what}: {at} of DIE {:?}: {e}", die.offset()));
                        assert!(std::str::from_utf8(s.slice()).is_ok(), "{what}: {at}");
                    }
                }
            }
            if let Some(program) = &unit.line_program {
                let header = program.header();
                let mut names = Vec::new();
                for file in header.file_names() {
                    let s = dwarf.attr_string(&unit, file.path_name());
                    let s = s.unwrap_or_else(|e| panic!("{what}: line program file name: {e}"));
                    assert!(!s.slice().is_empty(), "{what}: empty file name");
                    names.push(s.slice());
                }
                // Unrelocated `DW_FORM_line_strp` offsets would all be 0.
                names.sort();
                names.dedup();
                assert!(header.file_names().len() < 3 || names.len() > 1, "{what}: file names");
                for dir in header.include_directories() {
                    dwarf.attr_string(&unit, *dir).unwrap_or_else(|e| panic!("{what}: {e}"));
                }
            }
        }
        count += 1;
    }
    count
}

#[test]
fn relocated_dwarf_resolves_names() {
    let mut without_dwarf = Vec::new();
    let mut objects = golden_objects();
    objects.extend(corpus_objects());
    for path in &objects {
        let data = read(path);
        let file = ElfFile::parse(&data).unwrap();
        let sections = file.dwarf_sections().unwrap();
        if sections.get(".debug_info").is_empty() {
            without_dwarf.push(path.file_name().unwrap().to_string_lossy().into_owned());
            continue;
        }
        let units = check_names(path, &sections);
        assert!(units >= 1, "{}", path.display());
        if path.file_name().unwrap() == "multi_cu.o" {
            assert_eq!(units, 2, "{}", path.display());
        }
    }
    // Only the assembly-only objects have no DWARF.
    without_dwarf.sort();
    without_dwarf.dedup();
    assert_eq!(without_dwarf, ["asm_export.o", "asm_export.so"], "objects without .debug_info");
}

/// Every `DW_AT_name` of every unit as (`.debug_info` offset of the DIE, name).
fn our_names(sections: &DwarfSections<'_>) -> Vec<(u64, String)> {
    let dwarf = load(sections);
    let mut names = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next().unwrap() {
        let unit = dwarf.unit(header).unwrap();
        let mut entries = unit.entries();
        while let Some(die) = entries.next_dfs().unwrap() {
            if let Some(value) = die.attr_value(gimli::DW_AT_name) {
                let name = dwarf.attr_string(&unit, value).unwrap();
                let offset = die.offset().to_debug_info_offset(&unit.header).unwrap().0;
                names.push((offset as u64, String::from_utf8_lossy(name.slice()).trim_end().to_owned()));
            }
        }
    }
    names
}

/// `readelf --debug-dump=info` over many files (binutils applies the
/// relocations of `ET_REL` objects itself): per file, the (DIE offset,
/// `DW_AT_name`) pairs of its `.debug_info`. `None` if readelf cannot run.
fn readelf_names(paths: &[PathBuf]) -> Option<BTreeMap<PathBuf, Vec<(u64, String)>>> {
    let out = Command::new("readelf").arg("--debug-dump=info").args(paths).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut all: BTreeMap<PathBuf, Vec<(u64, String)>> = BTreeMap::new();
    let mut file = paths.first()?.clone();
    let (mut in_info, mut die) = (false, 0);
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("File: ") {
            file = PathBuf::from(name);
        } else if line.starts_with("Contents of the ") {
            in_info = matches!(line, "Contents of the .debug_info section:" | "Contents of the .zdebug_info section:");
        } else if let Some(rest) = line.strip_prefix(" <") {
            // " <depth><offset>: Abbrev Number: ..."
            let offset = rest.split(['<', '>']).nth(2).unwrap_or_else(|| bad_line(line.as_bytes()));
            die = u64::from_str_radix(offset, 16).unwrap_or_else(|_| bad_line(line.as_bytes()));
        } else if in_info && line.contains("DW_AT_name") {
            // "<off>   DW_AT_name : (indirect string, offset: 0x1b3): name" or ": name"
            let value = line.split_once(": ").map_or("", |(_, v)| v);
            let value = if value.starts_with('(') { value.rsplit_once("): ").map_or(value, |(_, v)| v) } else { value };
            all.entry(file.clone()).or_default().push((die, value.trim_end().to_owned()));
        }
    }
    Some(all)
}

/// The strongest check of relocation: on every architecture, the names found
/// through our relocated sections are the ones binutils finds.
#[test]
fn names_agree_with_readelf() {
    let mut objects: Vec<PathBuf> = golden_objects()
        .into_iter()
        // readelf also dumps the type units we (and libdw) leave out.
        .filter(|p| !config_of(p).ends_with("typeunits"))
        .collect();
    objects.extend(corpus_objects());
    let mut compared = 0;
    // One file per run: readelf 2.40 mixes up the `.debug_str_offsets` of
    // several files given at once.
    for path in &objects {
        let Some(theirs) = readelf_names(std::slice::from_ref(path)) else {
            eprintln!("readelf not available: names not cross-checked");
            return;
        };
        let data = read(path);
        let file = ElfFile::parse(&data).unwrap();
        let ours = our_names(&file.dwarf_sections().unwrap());
        let expected = theirs.get(path).cloned().unwrap_or_default();
        if let Some(i) = (0..ours.len().max(expected.len())).find(|&i| ours.get(i) != expected.get(i)) {
            panic!(
                "{}: names differ from readelf's at #{i}: {:?} vs {:?}",
                path.display(),
                ours.get(i),
                expected.get(i)
            );
        }
        compared += usize::from(!ours.is_empty());
    }
    assert!(compared > 700, "only {compared} objects compared");
}

/// The MIPS objects keep their DWARF in SHT_MIPS_DWARF sections, which
/// libdw 0.188 did not see; we read them.
#[test]
fn mips_dwarf_sections_are_read() {
    let dir = shared().join("golden/obj/mips-gcc-dwarf5-O2");
    for path in files_in(&dir, is_object) {
        let data = read(&path);
        let file = ElfFile::parse(&data).unwrap();
        assert!(!file.is_64() && file.big_endian());
        let sections = file.dwarf_sections().unwrap();
        for section in COMPARED {
            assert!(!sections.get(section).is_empty(), "{}: {section}", path.display());
        }
    }
}

/// Type units live in SHF_GROUP sections, which libdw leaves out: only the
/// compile units of the ungrouped `.debug_info` are seen.
#[test]
fn grouped_type_units_are_left_out() {
    let obj = shared().join("golden/obj");
    for config in ["x86_64-gcc-dwarf4-O2-typeunits", "x86_64-gcc-dwarf5-O2-typeunits"] {
        let data = read(&obj.join(config).join("base_types.o"));
        let file = ElfFile::parse(&data).unwrap();
        let sections = file.dwarf_sections().unwrap();
        assert!(sections.get(".debug_types").is_empty(), "{config}");
        let dwarf = load(&sections);
        let mut units = dwarf.units();
        while let Some(header) = units.next().unwrap() {
            assert!(matches!(header.type_(), gimli::UnitType::Compilation), "{config}: {:?}", header.type_());
        }
    }
}

/// Damaged copies of real objects (truncated anywhere, bytes overwritten in
/// the headers and tables) must never make the reader panic.
#[test]
fn damaged_objects_never_panic() {
    let obj = shared().join("golden/obj");
    let samples = [
        "x86_64-gcc-dwarf5-O2/kabi_rules.o",
        "x86_64-gcc-dwarf5-O2-gz-zlib/base_types.o",
        "x86_64-gcc-dwarf4-O2-gz-zlib-gnu/base_types.o",
        "x86_64-gcc-dwarf5-O2-gz-zstd/base_types.o",
        "mips-gcc-dwarf5-O2/base_types.o",
        "ppc32be-clang-dwarf5-O2/base_types.o",
        "riscv64-gcc-dwarf5-O2/base_types.o",
        "i686-gcc-dwarf5-O2/base_types.o",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for sample in samples {
        let data = read(&obj.join(sample));
        for len in (0..data.len()).step_by(61) {
            exercise(&data[..len]);
        }
        for _ in 0..300 {
            let mut damaged = data.clone();
            for _ in 0..4 {
                let at = (random() % data.len() as u64) as usize;
                damaged[at] = random() as u8;
            }
            exercise(&damaged);
        }
        // Headers and the section table in particular.
        let file = ElfFile::parse(&data).unwrap();
        let table_end = data.len();
        let table_start = table_end.saturating_sub(if file.is_64() { 64 * 30 } else { 40 * 30 });
        for _ in 0..500 {
            let mut damaged = data.clone();
            let at = if random() % 2 == 0 {
                (random() % 64) as usize
            } else {
                table_start + (random() % (table_end - table_start) as u64) as usize
            };
            damaged[at] = match random() % 3 {
                0 => 0xff,
                1 => 0,
                _ => random() as u8,
            };
            exercise(&damaged);
        }
    }
}

/// Relocated addresses are what libdwfl makes of them for upstream: an
/// object's loaded sections laid out one after another from 0x10000
/// (`elf::reloc::offline_layout`). Damaged DWARF can make libdw read an
/// entry out of an address's bytes, so they must be the same bytes.
/// `tests/data/offline-layout.tsv` holds the `DW_AT_low_pc` values libdw
/// read (recorded with `tests/data/offline-layout.c`): on x86-64 (several
/// text sections, one after the data sections), 32-bit ARM (`SHT_REL`),
/// 32-bit big-endian PowerPC and s390x.
#[test]
fn relocated_addresses_are_libdwfls() {
    let table = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/offline-layout.tsv"))
        .expect("offline-layout.tsv");
    let mut want: BTreeMap<String, BTreeMap<u64, u64>> = BTreeMap::new();
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
        want.entry(f[0].to_owned()).or_default().insert(hex(f[1]), hex(f[2]));
    }
    assert_eq!(want.len(), 5);
    for (object, values) in &want {
        let data = read(&shared().join(object));
        let file = ElfFile::parse(&data).unwrap();
        let sections = file.dwarf_sections().unwrap();
        let endian = if sections.big_endian { gimli::RunTimeEndian::Big } else { gimli::RunTimeEndian::Little };
        let dwarf =
            gimli::Dwarf::load(|id| Ok::<_, gimli::Error>(gimli::EndianSlice::new(sections.get(id.name()), endian)))
                .unwrap();
        let mut got = BTreeMap::new();
        let mut units = dwarf.units();
        while let Some(header) = units.next().unwrap() {
            let unit = dwarf.unit(header).unwrap();
            let base = unit.header.debug_info_offset().unwrap().0 as u64;
            let mut entries = unit.entries();
            while let Some(entry) = entries.next_dfs().unwrap() {
                if entry.depth() > 1 {
                    continue;
                }
                if let Some(v) = entry.attr_value(gimli::DW_AT_low_pc) {
                    if let Some(address) = dwarf.attr_address(&unit, v).unwrap() {
                        got.insert(base + entry.offset().0 as u64, address);
                    }
                }
            }
        }
        assert_eq!(&got, values, "{object}");
    }
}
