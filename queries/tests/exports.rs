//! `queries::exports` against kbuild's own export lists: the kernel corpus
//! and the golden fixtures in `../shared` (relative to the workspace root),
//! hand-built ELF files for the license/namespace/flags encodings, an object
//! compiled with `cc` from the kernel's `.export_symbol` macro, and (only when
//! `DWARFKSYMS_DEBIAN` names a directory written by
//! `shared/corpus/fetch-debian-kernel.sh`) a whole Debian kernel.

mod common;

use common::{files_in, read, shared};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use queries::exports::{exports, Export};

/// The non-empty lines of a symbol list.
fn lines(path: &Path) -> Vec<Vec<u8>> {
    read(path).split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

/// Each name once, where it first appears (upstream gendwarfksyms ignores
/// later duplicates on its stdin).
fn first_occurrences(names: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut seen = HashSet::new();
    names.into_iter().filter(|n| seen.insert(n.clone())).collect()
}

fn names(list: &[Export]) -> Vec<Vec<u8>> {
    list.iter().map(|e| e.name.clone()).collect()
}

fn show(names: &[Vec<u8>]) -> Vec<String> {
    names.iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect()
}

/// Exports as text, for readable assertion failures.
fn readable(list: &[Export]) -> Vec<(String, bool, String)> {
    list.iter()
        .map(|e| {
            (String::from_utf8_lossy(&e.name).into_owned(), e.gpl, String::from_utf8_lossy(&e.namespace).into_owned())
        })
        .collect()
}

fn exports_of(path: &Path) -> Vec<Export> {
    exports(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn export(name: &str, gpl: bool, namespace: &str) -> Export {
    Export { name: name.as_bytes().to_vec(), gpl, namespace: namespace.as_bytes().to_vec() }
}

// ---------------------------------------------------------------------------
// The kernel corpus: real kbuild objects with their kbuild `.symbols` lists.

#[test]
fn corpus_objects_match_kbuild_lists() {
    let corpus = shared().join("corpus/kernel-7.2-x86_64");
    let list = std::fs::read_to_string(corpus.join("objects.txt")).expect("corpus objects.txt");
    let mut objects = 0;
    let mut symbols = 0;
    let mut gpl = 0;
    let mut namespaces: BTreeMap<String, usize> = BTreeMap::new();
    let mut found: BTreeMap<(String, String), Export> = BTreeMap::new();
    for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let object = corpus.join(line);
        let got = exports_of(&object);
        let expected = lines(&object.with_extension("symbols"));
        assert_eq!(show(&names(&got)), show(&expected), "{line}: names or order differ from kbuild's list");
        objects += 1;
        symbols += got.len();
        for e in got {
            gpl += usize::from(e.gpl);
            if !e.namespace.is_empty() {
                *namespaces.entry(String::from_utf8_lossy(&e.namespace).into_owned()).or_default() += 1;
            }
            let name = String::from_utf8_lossy(&e.name).into_owned();
            found.insert((line.to_owned(), name), e);
        }
    }
    assert_eq!(objects, 104);
    assert_eq!(symbols, 1082);
    // EXPORT_SYMBOL_GPL vs EXPORT_SYMBOL, and the namespaces used, as the
    // `.export_symbol` records of these objects hold them (checked once
    // against objcopy'd section contents).
    assert_eq!(gpl, 645);
    let namespaces: Vec<(&str, usize)> = namespaces.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(namespaces, [("CRYPTO_INTERNAL", 3), ("CXL", 1), ("module:btrfs", 1), ("module:kvm", 6)]);
    let get = |object: &str, name: &str| &found[&(object.to_owned(), name.to_owned())];
    assert_eq!(
        get("crypto/cipher.o", "crypto_cipher_setkey"),
        &export("crypto_cipher_setkey", true, "CRYPTO_INTERNAL")
    );
    assert_eq!(get("mm/mempolicy.o", "__mpol_put"), &export("__mpol_put", true, "module:kvm"));
    assert_eq!(
        get("block/blk-core.o", "__SCK__tp_func_block_bio_complete"),
        &export("__SCK__tp_func_block_bio_complete", true, "")
    );
}

// ---------------------------------------------------------------------------
// The golden fixtures: C objects carry `__export_symbol_` markers.

/// Objects whose list build.sh made with kbuild's getexportsymbols (C
/// fixtures, assembly, ld -r and shared objects), not with rust_exports (Rust
/// and C++ fixtures).
fn golden_marker_objects() -> Vec<PathBuf> {
    let golden = shared().join("golden");
    let mut objects = Vec::new();
    for top in [golden.join("obj"), golden.join("bad/obj")] {
        for config in files_in(&top, |p| p.is_dir()) {
            if config.file_name().unwrap().to_string_lossy().contains("rustc") {
                continue;
            }
            objects.extend(files_in(&config, |p| {
                let name = p.file_name().unwrap().to_string_lossy();
                p.is_file() && (name.ends_with(".o") || name.ends_with(".so")) && !name.starts_with("cxx_")
            }));
        }
    }
    objects
}

#[test]
fn golden_objects_match_kbuild_lists() {
    let objects = golden_marker_objects();
    assert!(objects.len() > 600, "expected the golden C objects, found {}", objects.len());
    let mut with_duplicates = 0;
    let mut symbols = 0;
    for object in &objects {
        let got = exports_of(object);
        let listed = lines(&object.with_extension("symbols"));
        let expected = first_occurrences(listed.clone());
        with_duplicates += usize::from(expected.len() != listed.len());
        assert_eq!(
            show(&names(&got)),
            show(&expected),
            "{}: names or order differ from kbuild's list",
            object.display()
        );
        // The fixtures' marker is a bare "": no license, no namespace.
        for e in &got {
            assert!(!e.gpl && e.namespace.is_empty(), "{}: {e:?}", object.display());
        }
        symbols += got.len();
    }
    // symbol_ptr_asm (ld -r of symbol_ptr and asm_export) exports five
    // symbols twice: nm lists both labels, gendwarfksyms reads each once.
    assert_eq!(with_duplicates, 24);
    assert!(symbols > 4000, "only {symbols} exports");
}

#[test]
fn golden_rust_and_cxx_objects_have_no_exports() {
    let golden = shared().join("golden/obj");
    for config in files_in(&golden, |p| p.is_dir()) {
        let rust = config.file_name().unwrap().to_string_lossy().contains("rustc");
        for object in files_in(&config, |p| {
            let name = p.file_name().unwrap().to_string_lossy();
            p.is_file() && (rust || name.starts_with("cxx_")) && name.ends_with(".o")
        }) {
            assert_eq!(exports_of(&object), [], "{}", object.display());
        }
    }
}

#[test]
fn bad_inputs() {
    let dir = shared().join("golden/bad/inputs");
    for path in files_in(&dir, |p| p.is_file()) {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let result = exports(&read(&path));
        match name.as_str() {
            "empty.o"
            | "elf-magic-only.o"
            | "not-elf.o"
            | "two-objects.a"
            | "truncated-in-header.o"
            | "truncated-half.o"
            | "truncated-tail.o"
            | "corrupt-shoff.o"
            | "corrupt-symtab-entsize.o" => {
                let err = result.expect_err(&name);
                assert_eq!(err.function, "exports");
                assert!(!err.message.is_empty());
            }
            // Damaged DWARF, no DWARF, a linked object: the exports are intact.
            _ => assert_eq!(result.expect(&name).len(), 20, "{name}"),
        }
    }
    assert_eq!(exports(b"").unwrap_err().to_string(), "exports: not an ELF file (too short)");
    assert_eq!(exports(b"!<arch>\nfoo").unwrap_err().to_string(), "exports: not an ELF file (bad magic)");
}

/// Truncations and single-byte damage anywhere in a real object never panic.
#[test]
fn damaged_objects_never_panic() {
    let golden = shared().join("golden/obj");
    for object in [
        "x86_64-gcc-dwarf5-O2/symbol_ptr_asm.o",
        "i686-gcc-dwarf5-O2/symbol_ptr_asm.o",
        "s390x-gcc-dwarf5-O2/aliases_weak.o",
        "x86_64-gcc-dwarf5-O2-shared/symbol_ptr_asm.so",
    ] {
        let data = read(&golden.join(object));
        let good = exports(&data).unwrap();
        assert!(!good.is_empty(), "{object}");
        for len in 0..data.len() {
            let _ = exports(&data[..len]);
        }
        let mut damaged = data.clone();
        for i in 0..data.len() {
            for value in [0x00, 0xff, data[i] ^ 0x80] {
                damaged[i] = value;
                let _ = exports(&damaged);
            }
            damaged[i] = data[i];
        }
    }
}

// ---------------------------------------------------------------------------
// Hand-built ELF files: every encoding, both classes and byte orders.

struct Sec {
    name: &'static str,
    kind: u32,
    addr: u64,
    data: Vec<u8>,
}

fn sec(name: &'static str, addr: u64, data: &[u8]) -> Sec {
    Sec {
        name,
        kind: 1, // SHT_PROGBITS
        addr,
        data: data.to_vec(),
    }
}

struct SymDef {
    name: &'static str,
    /// 1-based index into the sections given to `build`, or a reserved index.
    shndx: u16,
    value: u64,
    /// st_type (STB_LOCAL).
    kind: u8,
}

fn sym(name: &'static str, shndx: u16, value: u64) -> SymDef {
    SymDef {
        name,
        shndx,
        value,
        kind: 0, // STT_NOTYPE
    }
}

struct Out {
    is_64: bool,
    big: bool,
    bytes: Vec<u8>,
}

impl Out {
    fn int(&mut self, value: u64, size: usize) {
        let bytes = value.to_be_bytes();
        let mut field = bytes[8 - size..].to_vec();
        if !self.big {
            field.reverse();
        }
        self.bytes.extend_from_slice(&field);
    }
    fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.int(v.into(), 2);
    }
    fn u32(&mut self, v: u32) {
        self.int(v.into(), 4);
    }
    fn word(&mut self, v: u64) {
        self.int(v, if self.is_64 { 8 } else { 4 });
    }
    fn align(&mut self, to: usize) {
        while !self.bytes.len().is_multiple_of(to) {
            self.bytes.push(0);
        }
    }
}

fn strtab(names: impl Iterator<Item = &'static str>) -> (Vec<u8>, Vec<u32>) {
    let mut table = vec![0u8];
    let mut offsets = Vec::new();
    for name in names {
        offsets.push(table.len() as u32);
        table.extend_from_slice(name.as_bytes());
        table.push(0);
    }
    (table, offsets)
}

/// An ELF file with the given sections (indices 1..), then `.symtab`,
/// `.strtab` and `.shstrtab`, and the given (local) symbols.
fn build(is_64: bool, big: bool, e_type: u16, sections: Vec<Sec>, symbols: &[SymDef]) -> Vec<u8> {
    let mut out = Out { is_64, big, bytes: Vec::new() };
    let header_size = if is_64 { 64 } else { 52 };
    let (sym_size, shdr_size) = if is_64 { (24, 64) } else { (16, 40) };

    let (strings, name_offsets) = strtab(symbols.iter().map(|s| s.name));
    let mut symtab = Out { is_64, big, bytes: vec![0; sym_size] };
    for (s, &name) in symbols.iter().zip(&name_offsets) {
        if is_64 {
            symtab.u32(name);
            symtab.u8(s.kind);
            symtab.u8(0);
            symtab.u16(s.shndx);
            symtab.word(s.value);
            symtab.word(0);
        } else {
            symtab.u32(name);
            symtab.word(s.value);
            symtab.word(0);
            symtab.u8(s.kind);
            symtab.u8(0);
            symtab.u16(s.shndx);
        }
    }
    let n = sections.len() as u32;
    let mut all = sections;
    all.push(Sec { name: ".symtab", kind: 2, addr: 0, data: symtab.bytes });
    all.push(Sec { name: ".strtab", kind: 3, addr: 0, data: strings });
    let (shstrings, shname_offsets) = strtab(all.iter().map(|s| s.name).chain([".shstrtab"]));
    all.push(Sec { name: ".shstrtab", kind: 3, addr: 0, data: shstrings });

    out.bytes.resize(header_size, 0);
    let mut offsets = Vec::new();
    for s in &all {
        out.align(8);
        offsets.push(out.bytes.len() as u64);
        out.bytes.extend_from_slice(&s.data);
    }
    out.align(8);
    let shoff = out.bytes.len() as u64;
    out.bytes.extend_from_slice(&vec![0; shdr_size]);
    for (i, s) in all.iter().enumerate() {
        let (link, info, entsize) =
            if s.kind == 2 { (n + 2, symbols.len() as u32 + 1, sym_size as u64) } else { (0, 0, 0) };
        out.u32(shname_offsets[i]);
        out.u32(s.kind);
        out.word(2); // SHF_ALLOC
        out.word(s.addr);
        out.word(offsets[i]);
        out.word(s.data.len() as u64);
        out.u32(link);
        out.u32(info);
        out.word(1);
        out.word(entsize);
    }

    let mut header = Out { is_64, big, bytes: b"\x7fELF".to_vec() };
    header.u8(if is_64 { 2 } else { 1 });
    header.u8(if big { 2 } else { 1 });
    header.u8(1);
    header.bytes.resize(16, 0);
    header.u16(e_type);
    header.u16(if is_64 { 62 } else { 3 });
    header.u32(1);
    header.word(0); // e_entry
    header.word(0); // e_phoff
    header.word(shoff);
    header.u32(0);
    header.u16(header_size as u16);
    header.u16(0);
    header.u16(0);
    header.u16(shdr_size as u16);
    header.u16(all.len() as u16 + 1);
    header.u16(n as u16 + 3);
    out.bytes[..header_size].copy_from_slice(&header.bytes);
    out.bytes
}

const ET_REL: u16 = 1;
const ET_EXEC: u16 = 2;
const STT_SECTION: u8 = 3;
const STT_FILE: u8 = 4;
const SHN_ABS: u16 = 0xfff1;

/// `.export_symbol` records as the kernel's `___EXPORT_SYMBOL` lays them
/// out, in a section at `addr`; symbol values are `base` + offset.
fn marker_object(is_64: bool, big: bool, e_type: u16, addr: u64, base: u64) -> Vec<u8> {
    let mut data = Vec::new();
    let record = |data: &mut Vec<u8>, license: &str, ns: &str| {
        while !data.len().is_multiple_of(8) {
            data.push(0);
        }
        let at = data.len() as u64;
        data.extend_from_slice(license.as_bytes());
        data.push(0);
        data.extend_from_slice(ns.as_bytes());
        data.push(0);
        while !data.len().is_multiple_of(8) {
            data.push(0);
        }
        data.extend_from_slice(&[0; 8]); // the relocated reference
        at
    };
    let r_foo = record(&mut data, "GPL", "MY_NS");
    let r_bar = record(&mut data, "", "");
    let r_baz = record(&mut data, "", "OTHER");
    let r_qux = record(&mut data, "GPL", "");
    let dup = record(&mut data, "", "DUP_FIRST");
    let dup2 = record(&mut data, "GPL", "DUP_SECOND");
    // Cut short: a license and nothing after it, the next record right
    // behind it (whose license must not be taken for a namespace).
    let short = data.len() as u64;
    data.extend_from_slice(b"GPL\0");
    let after_short = data.len() as u64;
    data.extend_from_slice(b"GPL\0NEXT\0");
    // An unknown license: not GPL (modpost would refuse it).
    let odd = record(&mut data, "BSD", "");
    // Unterminated at the end of the section.
    let cut = data.len() as u64;
    data.extend_from_slice(b"GP");
    let v = |offset: u64| base + offset;
    build(
        is_64,
        big,
        e_type,
        vec![sec(".text", 0, &[0; 16]), sec(".export_symbol", addr, &data)],
        &[
            sym("__export_symbol_foo", 2, v(r_foo)),
            sym("__export_symbol_bar", 2, v(r_bar)),
            sym("__export_symbol_baz", 2, v(r_baz)),
            sym("__export_symbol_qux", 2, v(r_qux)),
            sym("__export_symbol_dup", 2, v(dup)),
            sym("__export_symbol_dup", 2, v(dup2)),
            sym("__export_symbol_short", 2, v(short)),
            sym("__export_symbol_after_short", 2, v(after_short)),
            sym("__export_symbol_odd", 2, v(odd)),
            sym("__export_symbol_cut", 2, v(cut)),
            // Past the end of the section, and in no section at all.
            sym("__export_symbol_beyond", 2, v(data.len() as u64 + 100)),
            sym("__export_symbol_abs", SHN_ABS, 0),
            // Byte order, not a locale's collation: 'Z' < '_' < 'a'.
            sym("__export_symbol_Zed", 2, v(r_bar)),
            sym("__export_symbol__under", 2, v(r_bar)),
            sym("__export_symbol_a_b", 2, v(r_bar)),
            sym("__export_symbol_ab", 2, v(r_bar)),
            // nm does not print section and file symbols.
            SymDef { kind: STT_SECTION, ..sym("__export_symbol_section", 2, 0) },
            SymDef { kind: STT_FILE, ..sym("__export_symbol_file", SHN_ABS, 0) },
            // Not markers.
            sym("foo", 1, 0),
            sym("x__export_symbol_foo", 2, v(r_foo)),
            sym("__ksymtab_ignored_when_markers_exist", 1, 0),
        ],
    )
}

#[test]
fn synthetic_export_symbol_records() {
    let expected = [
        export("Zed", false, ""),
        export("_under", false, ""),
        export("a_b", false, ""),
        export("ab", false, ""),
        export("abs", false, ""),
        export("after_short", true, "NEXT"),
        export("bar", false, ""),
        export("baz", false, "OTHER"),
        export("beyond", false, ""),
        export("cut", false, ""),
        export("dup", false, "DUP_FIRST"),
        export("foo", true, "MY_NS"),
        export("odd", false, ""),
        export("qux", true, ""),
        export("short", true, ""),
    ];
    for is_64 in [true, false] {
        for big in [false, true] {
            // Relocatable: values are section offsets whatever sh_addr says;
            // linked: values are addresses.
            for (e_type, addr, base) in [(ET_REL, 0, 0), (ET_REL, 0x40, 0), (ET_EXEC, 0xffff_8000, 0xffff_8000)] {
                let data = marker_object(is_64, big, e_type, addr, base);
                assert_eq!(
                    readable(&exports(&data).unwrap()),
                    readable(&expected),
                    "64-bit {is_64}, big-endian {big}, type {e_type}, sh_addr {addr:#x}"
                );
            }
        }
    }
}

#[test]
fn synthetic_ksymtab() {
    for is_64 in [true, false] {
        for big in [false, true] {
            for e_type in [ET_REL, ET_EXEC] {
                // Sections 1..=5; linked files give them addresses.
                let addr = |index: u16| {
                    if e_type == ET_EXEC {
                        0x8000_0000 + 0x1000 * u64::from(index)
                    } else {
                        0
                    }
                };
                let v = |index: u16, offset: u64| addr(index) + offset;
                let (ksymtab, ksymtab_gpl, strs, flags, staged) = (1, 2, 3, 4, 5);
                let strings = b"a\0NS_A\0b\0\0c\0module:x,y\0";
                let data = build(
                    is_64,
                    big,
                    e_type,
                    vec![
                        sec("__ksymtab", addr(ksymtab), &[0; 48]),
                        sec("__ksymtab_gpl", addr(ksymtab_gpl), &[0; 12]),
                        sec("__ksymtab_strings", addr(strs), strings),
                        sec("__kflagstab", addr(flags), &[0, 1, 2, 3, 0]),
                        sec("___ksymtab_gpl+f", addr(staged), &[0; 12]),
                    ],
                    &[
                        sym("__ksymtab_a", ksymtab, v(ksymtab, 0)),
                        sym("__kstrtab_a", strs, v(strs, 0)),
                        sym("__kstrtabns_a", strs, v(strs, 2)),
                        sym("__flags_a", flags, v(flags, 0)),
                        // GPL by its flags byte.
                        sym("__ksymtab_b", ksymtab, v(ksymtab, 12)),
                        sym("__kstrtabns_b", strs, v(strs, 9)),
                        sym("__flags_b", flags, v(flags, 1)),
                        // KSYM_FLAG_PROTECTED alone is not GPL; both bits are.
                        sym("__ksymtab_c", ksymtab, v(ksymtab, 24)),
                        sym("__kstrtabns_c", strs, v(strs, 12)),
                        sym("__flags_c", flags, v(flags, 2)),
                        sym("__ksymtab_d", ksymtab, v(ksymtab, 36)),
                        sym("__flags_d", flags, v(flags, 3)),
                        // GPL by its section (kernels before the flags table,
                        // linked and not yet linked).
                        sym("__ksymtab_e", ksymtab_gpl, v(ksymtab_gpl, 0)),
                        sym("__ksymtab_f", staged, v(staged, 0)),
                        // Namespace and flags outside their sections.
                        sym("__ksymtab_g", ksymtab, v(ksymtab, 0)),
                        sym("__kstrtabns_g", strs, v(strs, 1000)),
                        sym("__flags_g", flags, v(flags, 1000)),
                        // Listed twice: once.
                        sym("__ksymtab_a", ksymtab, v(ksymtab, 0)),
                        // Not exports.
                        sym("__kstrtab_z", strs, v(strs, 0)),
                        sym("__kstrtabns_z", strs, v(strs, 2)),
                        sym("__flags_z", flags, v(flags, 1)),
                        SymDef { kind: STT_SECTION, ..sym("__ksymtab_section", ksymtab, 0) },
                    ],
                );
                assert_eq!(
                    readable(&exports(&data).unwrap()),
                    readable(&[
                        export("a", false, "NS_A"),
                        export("b", true, ""),
                        export("c", false, "module:x,y"),
                        export("d", true, ""),
                        export("e", true, ""),
                        export("f", true, ""),
                        export("g", false, ""),
                    ]),
                    "64-bit {is_64}, big-endian {big}, type {e_type}"
                );
            }
        }
    }
}

#[test]
fn synthetic_no_exports() {
    for is_64 in [true, false] {
        // No symbols at all, and symbols that are not exports.
        let empty = build(is_64, false, ET_REL, vec![sec(".text", 0, &[0; 4])], &[]);
        assert_eq!(exports(&empty).unwrap(), []);
        let plain = build(
            is_64,
            true,
            ET_REL,
            vec![sec(".text", 0, &[0; 4])],
            &[sym("foo", 1, 0), sym("__export_symbol", 1, 0), sym("__ksymtab", 1, 0)],
        );
        assert_eq!(exports(&plain).unwrap(), []);
        // Only the ELF header: no sections, no symbol table.
        let header_only = &empty[..if is_64 { 64 } else { 52 }];
        let mut header_only = header_only.to_vec();
        for field in header_only.iter_mut().skip(if is_64 { 0x28 } else { 0x20 }) {
            *field = 0;
        }
        assert_eq!(exports(&header_only).unwrap(), []);
    }
    // An unknown ELF class.
    let mut data = build(true, false, ET_REL, vec![], &[]);
    data[4] = 9;
    assert_eq!(exports(&data).unwrap_err().to_string(), "exports: unknown ELF class 9");
}

// ---------------------------------------------------------------------------
// The kernel's own macro, compiled by the host compiler.

const EXPORT_SOURCE: &str = r#"
/* The shape of include/linux/export.h's ___EXPORT_SYMBOL (Linux 6.5+). */
#define EXPORT(sym, license, ns)					\
	__asm__(".section \".export_symbol\",\"a\"\n"			\
		"__export_symbol_" #sym ":\n"				\
		"\t.asciz \"" license "\"\n"				\
		"\t.asciz \"" ns "\"\n"					\
		"\t.balign 8\n"						\
		"\t.quad " #sym "\n"					\
		".previous\n")

int foo, bar, baz, Zed, _under, a_b, ab;
void qux(void) {}

EXPORT(foo, "GPL", "MY_NS");
EXPORT(bar, "", "");
EXPORT(baz, "", "OTHER");
EXPORT(qux, "GPL", "");
EXPORT(Zed, "", "module:kvm,kvm-amd");
EXPORT(_under, "GPL", "");
EXPORT(a_b, "", "");
EXPORT(ab, "", "");
"#;

#[test]
fn compiled_export_symbol_macro() {
    let dir = std::env::temp_dir().join(format!("dwarfksyms-exports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("exports.c");
    let object = dir.join("exports.o");
    std::fs::write(&source, EXPORT_SOURCE).unwrap();
    let compiled = Command::new("cc").args(["-c", "-O2", "-o"]).arg(&object).arg(&source).status();
    match compiled {
        Ok(status) if status.success() => {}
        Ok(status) if cfg!(target_arch = "x86_64") => panic!("cc failed: {status}"),
        other => {
            // `.quad` and the layout assume a 64-bit target with cc.
            eprintln!("skipped: cannot compile the test object with cc: {other:?}");
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    }
    let got = exports_of(&object);
    assert_eq!(
        readable(&got),
        readable(&[
            export("Zed", false, "module:kvm,kvm-amd"),
            export("_under", true, ""),
            export("a_b", false, ""),
            export("ab", false, ""),
            export("bar", false, ""),
            export("baz", false, "OTHER"),
            export("foo", true, "MY_NS"),
            export("qux", true, ""),
        ])
    );
    // kbuild's list, if nm is there.
    if let Ok(out) = Command::new("nm").env("LC_ALL", "C").arg(&object).output() {
        let listed: Vec<Vec<u8>> = out
            .stdout
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let at = line.windows(17).position(|w| w == b" __export_symbol_")?;
                Some(line[at + 17..].to_vec())
            })
            .collect();
        assert_eq!(show(&names(&got)), show(&listed));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// A whole distribution kernel, only on request.

/// Set `DWARFKSYMS_DEBIAN` to the output directory of
/// `shared/corpus/fetch-debian-kernel.sh` (vmlinux, modules/, exports/,
/// objects.txt; optionally the package's Module.symvers) to check every
/// object's names against its `nm | sed | sort -u` list, every module
/// without exports for an empty result, and every (symbol, module, license,
/// namespace) against Module.symvers. Run with `--release --nocapture`.
#[test]
fn debian_kernel() {
    let Some(root) = std::env::var_os("DWARFKSYMS_DEBIAN") else {
        eprintln!("skipped: set DWARFKSYMS_DEBIAN to a fetch-debian-kernel.sh directory");
        return;
    };
    let root = PathBuf::from(root);
    let listed: Vec<String> = std::fs::read_to_string(root.join("objects.txt"))
        .expect("objects.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let listed_set: HashSet<&str> = listed.iter().map(String::as_str).collect();

    // Module.symvers lines: crc, symbol, module, EXPORT_SYMBOL[_GPL], namespace.
    let symvers_path = root.join("Module.symvers");
    let mut symvers: BTreeMap<(String, String), (bool, String)> = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(&symvers_path) {
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [_crc, name, module, kind, namespace] = fields[..] else {
                panic!("bad Module.symvers line {line:?}");
            };
            let gpl = match kind {
                "EXPORT_SYMBOL" => false,
                "EXPORT_SYMBOL_GPL" => true,
                other => panic!("unknown export kind {other:?}"),
            };
            let old = symvers.insert((module.to_owned(), name.to_owned()), (gpl, namespace.to_owned()));
            assert!(old.is_none(), "{module} {name} twice in Module.symvers");
        }
    }

    let mut symbols = 0;
    let mut gpl = 0;
    let mut with_namespace = 0;
    let mut slowest = (std::time::Duration::ZERO, String::new());
    let mut checked_symvers = 0;
    for object in &listed {
        let data = read(&root.join(object));
        let start = std::time::Instant::now();
        let got = exports(&data).unwrap_or_else(|e| panic!("{object}: {e}"));
        let took = start.elapsed();
        if took > slowest.0 {
            slowest = (took, object.clone());
        }
        let expected = lines(&root.join("exports").join(format!("{object}.symbols")));
        assert_eq!(show(&names(&got)), show(&expected), "{object}");
        symbols += got.len();
        let module = object.strip_prefix("modules/").and_then(|m| m.strip_suffix(".ko")).unwrap_or(object);
        for e in &got {
            gpl += usize::from(e.gpl);
            with_namespace += usize::from(!e.namespace.is_empty());
            if symvers.is_empty() {
                continue;
            }
            let name = String::from_utf8(e.name.clone()).unwrap();
            let namespace = String::from_utf8(e.namespace.clone()).unwrap();
            let want = symvers
                .remove(&(module.to_owned(), name.clone()))
                .unwrap_or_else(|| panic!("{module} {name}: not in Module.symvers"));
            assert_eq!((e.gpl, namespace), want, "{module} {name}");
            checked_symvers += 1;
        }
    }
    assert!(symvers.is_empty(), "in Module.symvers but not found: {:?}", symvers.keys().take(10).collect::<Vec<_>>());

    // Modules without exports.
    let mut stack = vec![root.join("modules")];
    let mut empty_modules = 0;
    while let Some(dir) = stack.pop() {
        for path in files_in(&dir, |_| true) {
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            if !relative.ends_with(".ko") || listed_set.contains(relative.as_str()) {
                continue;
            }
            assert_eq!(exports_of(&path), [], "{relative}");
            empty_modules += 1;
        }
    }
    println!(
        "debian: {} exporting objects, {symbols} exports ({gpl} GPL, {with_namespace} with a \
         namespace), {checked_symvers} checked against Module.symvers{}; {empty_modules} \
         modules without exports; slowest {} in {:?}",
        listed.len(),
        if checked_symvers == 0 { " (none found)" } else { "" },
        slowest.1,
        slowest.0
    );
}
