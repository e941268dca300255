//! `dwarfksyms versions`: exports found in the objects themselves, the
//! Module.symvers and JSON formats, parallel runs, and CRCs equal to
//! upstream's for kbuild objects, linked modules and shared objects.
//!
//! Expected text lives in `tests/data/versions/`; `DWARFKSYMS_BLESS=1`
//! rewrites it (the CRCs in it are also checked against upstream's here).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn repo() -> PathBuf {
    common::workspace_root()
}

fn shared() -> PathBuf {
    common::shared_subdir("corpus").parent().unwrap().to_path_buf()
}

/// Runs `dwarfksyms` with `args` in `cwd`, whatever its exit status.
fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dwarfksyms")).args(args).current_dir(cwd).output().unwrap()
}

/// Runs `dwarfksyms` with `args` in `cwd`; returns stdout, requiring exit 0.
fn dwarfksyms(cwd: &Path, args: &[&str]) -> String {
    let out = run(cwd, args);
    assert!(
        out.status.success(),
        "dwarfksyms {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn expect_file(name: &str, got: &str) {
    common::expect_file(&repo().join("tests/data/versions").join(name), got);
}

/// `#SYMVER name 0xcrc` lines of a file, as a map.
fn symver(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut w = l.split(' ');
            (w.next() == Some("#SYMVER")).then(|| (w.next().unwrap().to_string(), w.next().unwrap().to_string()))
        })
        .collect()
}

/// (module, symbol) -> crc from Module.symvers text.
fn symvers_crcs(text: &str) -> BTreeMap<(String, String), String> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "not a Module.symvers line: {l:?}");
            ((f[2].to_string(), f[1].to_string()), f[0].to_string())
        })
        .collect()
}

#[test]
fn kbuild_objects_get_kbuilds_crcs_in_one_run() {
    let corpus = shared().join("corpus/kernel-7.2-x86_64");
    let out = dwarfksyms(&corpus, &["versions", "."]);
    let got = symvers_crcs(&out);
    let mut checked = 0;
    for line in std::fs::read_to_string(corpus.join("objects.txt")).unwrap().lines() {
        let obj = line.split_whitespace().next().unwrap();
        let stem = obj.strip_suffix(".o").unwrap();
        for (sym, crc) in symver(&corpus.join(format!("{stem}.symver"))) {
            assert_eq!(got.get(&(stem.to_string(), sym.clone())), Some(&crc), "{obj}: {sym}");
            checked += 1;
        }
    }
    assert_eq!(got.len(), checked, "exports that kbuild does not version");
    assert!(checked > 1000);
}

#[test]
fn parallel_output_equals_one_thread() {
    let corpus = shared().join("corpus/kernel-7.2-x86_64");
    let one = dwarfksyms(&corpus, &["versions", "-j", "1", "--format", "json", "."]);
    let two = dwarfksyms(&corpus, &["versions", "-j", "2", "--format", "json", "."]);
    let four = dwarfksyms(&corpus, &["versions", "-j", "4", "--format", "json", "."]);
    assert_eq!(one, two);
    assert_eq!(one, four);
}

#[test]
fn linked_modules_get_upstreams_crcs_and_modposts_fields() {
    let dir = repo().join("tests/data/modules");
    let out = dwarfksyms(&dir, &["versions", "."]);
    // Expected: Debian's Module.symvers lines with upstream's CRCs.
    let mut want: Vec<String> = std::fs::read_to_string(dir.join("Module.symvers.debian"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let crc = &symver(&dir.join(format!("{}.symver", f[2])))[f[1]];
            format!("{crc}\t{}\t{}\t{}\t{}", f[1], f[2], f[3], f[4])
        })
        .collect();
    want.sort();
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got, want);
    expect_file("modules.symvers", &out);
}

#[test]
fn symtypes_dir_matches_upstream() {
    let dir = repo().join("tests/data/modules");
    let tmp = std::env::temp_dir().join(format!("dwarfksyms-symtypes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    dwarfksyms(&dir, &["versions", "--symtypes-dir", tmp.to_str().unwrap(), "."]);
    for m in ["lib/crc/crc16", "crypto/cast_common"] {
        let got = std::fs::read(tmp.join(format!("{m}.symtypes"))).unwrap();
        let want = std::fs::read(dir.join(format!("{m}.symtypes"))).unwrap();
        assert!(got == want, "{m}.symtypes differs from upstream's");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn shared_objects_get_upstreams_crcs() {
    let golden = shared().join("golden");
    let config = "x86_64-gcc-dwarf5-O2-shared";
    let dir = golden.join("obj").join(config);
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        let Some(fixture) = name.strip_suffix(".so") else { continue };
        // Linked objects are taken when named on the command line.
        let out = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"))
            .args(["versions", &name])
            .current_dir(&dir)
            .output()
            .unwrap();
        // Cases upstream fails on record no stdout file (expected/EMPTY).
        let path = golden.join(format!("expected/matrix/{config}/{fixture}/normal.stdout"));
        let expected = if path.exists() { symver(&path) } else { BTreeMap::new() };
        if !out.status.success() {
            // Upstream fails on these too (no DWARF, C++ constructs it rejects).
            assert!(expected.is_empty(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            continue;
        }
        for ((_, sym), crc) in symvers_crcs(&String::from_utf8(out.stdout).unwrap()) {
            assert_eq!(expected.get(&sym), Some(&crc), "{name}: {sym}");
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} exports");
}

#[test]
fn json_and_symvers_text() {
    let dir = repo().join("tests/data/kernel");
    expect_file("kernel.symvers", &dwarfksyms(&dir, &["versions", "."]));
    let json = dwarfksyms(&dir, &["versions", "--format", "json", "--types", "."]);
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in ["symbol", "crc", "object", "module", "license", "namespace", "types"] {
            assert!(v.get(key).is_some(), "no {key} in {line}");
        }
        // The symbol's own symtypes line is among the lines it used.
        let sym = v["symbol"].as_str().unwrap();
        assert!(v["types"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().starts_with(&format!("{sym} "))));
    }
    expect_file("kernel.json", &json);
}

#[test]
fn symbol_list_for_one_object() {
    let dir = repo().join("tests/data/kernel");
    let list = dir.join("trace_clock.symbols");
    let out = dwarfksyms(&dir, &["versions", "--symbols", list.to_str().unwrap(), "trace_clock.o"]);
    let got = symvers_crcs(&out);
    for (sym, crc) in symver(&dir.join("trace_clock.symver")) {
        assert_eq!(got.get(&("trace_clock".to_string(), sym.clone())), Some(&crc), "{sym}");
    }
}

#[test]
fn failures_are_reported_and_the_run_goes_on() {
    let tmp = std::env::temp_dir().join(format!("dwarfksyms-fail-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("broken.ko"), b"\x7fELF\x02\x01\x01not really").unwrap();
    std::fs::copy(repo().join("tests/data/kernel/trace_clock.o"), tmp.join("trace_clock.o")).unwrap();
    let out = run(&tmp, &["versions", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.ko"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\ttrace_clock\t"));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A unit found in two objects (a kbuild `.o` and an object linked from
/// it) is rendered once and versioned the same; sharing changes nothing
/// in the output.
#[test]
fn units_shared_between_objects_are_rendered_once() {
    let corpus = shared().join("corpus/kernel-7.2-x86_64");
    let dir = common::TempDir::new("share");
    let tmp = dir.path();
    std::fs::copy(corpus.join("mm/slub.o"), tmp.join("slub.o")).unwrap();
    std::fs::copy(corpus.join("kernel/sched/core.o"), tmp.join("core.o")).unwrap();
    // A module linked from slub.o alone, as kbuild links a one-file module.
    let status = Command::new("ld")
        .args(["-r", "slub.o", "-o", "slub.ko"])
        .current_dir(tmp)
        .status()
        .expect("ld (binutils) is needed for this test");
    assert!(status.success());
    let run = |share: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"))
            .args(["versions", "--stats", "-j", "1", "--share-units", share, "."])
            .current_dir(tmp)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (on, stats) = run("auto");
    assert!(stats.contains("units rendered 2, shared 1 ("), "{stats}");
    let (off, stats_off) = run("off");
    assert!(!stats_off.contains("units rendered"), "{stats_off}");
    assert_eq!(on, off);
    // slub.o and slub.ko are both module `slub`: each of its lines is
    // there twice, CRC included.
    let slub: Vec<&str> = on.lines().filter(|l| l.split('\t').nth(2) == Some("slub")).collect();
    assert!(slub.len() >= 2 && slub.len().is_multiple_of(2), "{on}");
    for pair in slub.chunks(2) {
        assert_eq!(pair[0], pair[1]);
    }
}

/// An export held by two objects (a kbuild tree's `.o` and `vmlinux.o`)
/// is warned about once, naming both, in Module.symvers output (modpost
/// rejects it there); JSON lists it per object without a warning. Objects
/// that export each symbol once (the shipped kernel objects and modules)
/// get no warning.
#[test]
fn exports_in_two_objects_are_warned_about() {
    let dir = common::TempDir::new("twice");
    let tmp = dir.path();
    let obj = repo().join("tests/data/kernel/trace_clock.o");
    std::fs::create_dir_all(tmp.join("kernel")).unwrap();
    std::fs::copy(&obj, tmp.join("kernel/trace_clock.o")).unwrap();
    std::fs::copy(&obj, tmp.join("vmlinux.o")).unwrap();
    // A third copy: each export is still counted once.
    std::fs::copy(&obj, tmp.join("vmlinux")).unwrap();
    let output = |cwd: &Path, args: &[&str]| {
        let out = run(cwd, args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let exports =
        std::fs::read_to_string(repo().join("tests/data/kernel/trace_clock.symbols")).unwrap().lines().count();
    let (symvers, stderr) = output(tmp, &["versions", "."]);
    assert_eq!(symvers.lines().count(), 3 * exports);
    let want = format!(
        "warning: dwarfksyms: {exports} exports are in more than one object (e.g. trace_clock in ./kernel/trace_clock.o \
         and ./vmlinux): modpost rejects a symbol listed twice in Module.symvers; name vmlinux and the modules, \
         or the .o files, not both\n"
    );
    assert_eq!(stderr, want);
    let (json, stderr) = output(tmp, &["versions", "--format", "json", "."]);
    assert_eq!(json.lines().count(), 3 * exports);
    assert_eq!(stderr, "");
    for args in [&["versions", "vmlinux.o"][..], &["versions", "--format", "json", "vmlinux.o"]] {
        assert_eq!(output(tmp, args).1, "");
    }
    assert_eq!(output(&repo(), &["versions", "tests/data/kernel", "tests/data/modules"]).1, "");
}

/// Compressed modules are left out with a warning, and a run that finds
/// no object fails instead of printing an empty Module.symvers.
#[test]
fn compressed_modules_and_no_objects_are_said() {
    let dir = common::TempDir::new("compressed");
    let tmp = dir.path();
    std::fs::create_dir_all(tmp.join("kernel/crypto")).unwrap();
    for m in ["kernel/crypto/a.ko.zst", "kernel/crypto/b.ko.xz", "kernel/c.ko.gz"] {
        std::fs::write(tmp.join(m), b"compressed").unwrap();
    }
    let out = run(tmp, &["versions", "kernel"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "warning: dwarfksyms: 3 compressed modules left out (e.g. kernel/c.ko.gz): decompress them (zstd -d, \
         xz -d, gunzip) or install the modules uncompressed\n\
         dwarfksyms: no objects (*.o, *.ko, vmlinux) found in the paths given\n"
    );
    // Beside an object, the warning alone: the object is versioned.
    std::fs::copy(repo().join("tests/data/kernel/trace_clock.o"), tmp.join("kernel/trace_clock.o")).unwrap();
    let out = run(tmp, &["versions", "kernel"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\ttrace_clock\t"));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("warning: dwarfksyms: 3 compressed modules left out"));
}

/// A file reached twice (named, and under a directory named; or by a
/// symbolic link) is versioned once, where it was first found; a copy is
/// another object (see `exports_in_two_objects_are_warned_about`).
#[test]
fn a_file_named_twice_is_versioned_once() {
    let dir = common::TempDir::new("named-twice");
    let tmp = dir.path();
    std::fs::create_dir_all(tmp.join("kernel")).unwrap();
    std::fs::copy(repo().join("tests/data/kernel/trace_clock.o"), tmp.join("kernel/trace_clock.o")).unwrap();
    std::os::unix::fs::symlink("kernel/trace_clock.o", tmp.join("link.o")).unwrap();
    let once = dwarfksyms(tmp, &["versions", "kernel"]);
    assert!(!once.is_empty());
    for args in [
        &["versions", "kernel", "kernel/trace_clock.o"][..],
        &["versions", "kernel/trace_clock.o", "kernel/trace_clock.o"],
        &["versions", "kernel", "link.o"],
    ] {
        let out = run(tmp, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
        // Module names are relative to where the file was first found.
        let want =
            if args[1] == "kernel" { once.clone() } else { once.replace("\tkernel/trace_clock\t", "\ttrace_clock\t") };
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{args:?}");
    }
}

/// `--types` belongs to the JSON format: with Module.symvers lines it is
/// refused rather than ignored.
#[test]
fn types_without_json_is_refused() {
    let dir = repo().join("tests/data/kernel");
    let out = run(&dir, &["versions", "--types", "trace_clock.o"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "dwarfksyms: --types needs --format json (Module.symvers lines have no place for types)\n"
    );
}
