//! Deeply nested types (`tests/data/deep/`): the drop-in versions what
//! upstream versions however deep, with upstream's CRC and `-T` file,
//! whatever stack limit its caller set, and refuses what is past the
//! engine's bound with a message where upstream crashes. `dwarfksyms
//! versions` gives the same CRCs on its worker threads.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

struct Case {
    object: String,
    status: i32,
    /// "stdout" or "stderr", and the one line expected there.
    stream: String,
    line: String,
    /// The `-T` file's size and CRC-32.
    symtypes: Option<(usize, u32)>,
}

fn cases(dir: &Path) -> Vec<Case> {
    let text = String::from_utf8(common::read_data(&dir.join("expected.txt"))).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() == 4 || f.len() == 6, "bad line in expected.txt: {l:?}");
            Case {
                object: f[0].to_string(),
                status: f[1].parse().unwrap(),
                stream: f[2].to_string(),
                line: f[3].to_string(),
                symtypes: (f.len() == 6).then(|| (f[4].parse().unwrap(), u32::from_str_radix(f[5], 16).unwrap())),
            }
        })
        .collect()
}

#[test]
fn deep_types_are_versioned_as_deep_as_upstream_versions_them() {
    let dir = common::workspace_root().join("tests/data/deep");
    let (bin, _) = common::binary();
    let tmp = common::TempDir::new("deep");
    let cases = cases(&dir);
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let obj = dir.join(format!("{}.o", case.object));
        let symbols = dir.join(format!("{}.symbols", case.object));
        let symtypes = tmp.path().join(format!("{}.symtypes", case.object));
        // With the caller's stack and with 1 MiB: the engine's stack is
        // its own.
        for limit in [None, Some(1024)] {
            let what = format!("{} (stack limit {limit:?} KiB)", case.object);
            let _ = std::fs::remove_file(&symtypes);
            let mut cmd = match limit {
                None => common::gendwarfksyms(&bin, &dir),
                Some(kib) => {
                    let mut c = Command::new("sh");
                    c.arg("-c").arg(format!("ulimit -s {kib} && exec \"$0\" \"$@\"")).arg(&bin).current_dir(&dir);
                    c
                }
            };
            cmd.arg("-T").arg(&symtypes).arg(&obj);
            let out = common::run(&mut cmd, &symbols, Duration::from_secs(60));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(case.status), "{what}: {} {stderr}", out.status.describe());
            let (got, other) = match case.stream.as_str() {
                "stdout" => (&out.stdout, &out.stderr),
                _ => (&out.stderr, &out.stdout),
            };
            assert_eq!(String::from_utf8_lossy(got), format!("{}\n", case.line), "{what}");
            assert!(other.is_empty(), "{what}: {}", String::from_utf8_lossy(other));
            if let Some((size, crc)) = case.symtypes {
                let bytes = common::read_data(&symtypes);
                assert_eq!((bytes.len(), crc32fast::hash(&bytes)), (size, crc), "{what}: -T file");
            }
        }
        // `versions` on its worker threads (their stacks are 256 MiB).
        if case.status == 0 {
            let out = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"))
                .args(["versions", "-j", "2", "--symbols"])
                .arg(&symbols)
                .arg(&obj)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}: {}", case.object, String::from_utf8_lossy(&out.stderr));
            let line = String::from_utf8(out.stdout).unwrap();
            let mut f = line.split('\t');
            let (crc, sym) = (f.next().unwrap(), f.next().unwrap());
            assert_eq!(format!("#SYMVER {sym} {crc}"), case.line, "{}: versions", case.object);
        }
    }
}
