//! A `-T` file on a device that takes nothing: `gendwarfksyms -T /dev/full
//! X.o < X.symbols` on every corpus object (and on two of them at once)
//! must exit and print as upstream did. Upstream fails in the `fputs`
//! whose call makes its stdio buffer write, or in `fclose` when all it
//! wrote was still buffered; which one depends on the exact bytes and calls
//! (`src/dropin/symfile.rs`).
//!
//! Two runs add `--debug`: upstream writes the block before its cache
//! statistics, so they come after the failure or not at all. (Its
//! `expand_type` lines follow its hash table's order, which only the
//! golden suite's sorted comparison checks: they are left out here.)
//!
//! `tests/data/full-device.tsv` holds upstream's answers: one line per run,
//! the arguments, the exit status and stderr (`\n` for newlines). Record
//! them again with `DWARFKSYMS_UPSTREAM=/path/to/gendwarfksyms`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The runs: each corpus object alone, and one pair whose first block fits
/// in the buffer, so the failure comes while writing the second.
fn runs(dir: &Path) -> Vec<Vec<String>> {
    let list = String::from_utf8(common::read_data(&dir.join("objects.txt"))).expect("objects.txt is UTF-8");
    let mut runs: Vec<Vec<String>> =
        list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(|o| vec![o.into()]).collect();
    runs.push(vec!["kernel/time/timecounter.o".into(), "mm/slub.o".into()]);
    runs.push(vec!["--debug".into(), "mm/slub.o".into()]);
    runs.push(vec!["--debug".into(), "kernel/time/timecounter.o".into()]);
    runs
}

/// The symbol list of a run: its objects' lists one after the other.
fn symbols(dir: &Path, objects: &[String], tmp: &Path) -> PathBuf {
    let mut all = Vec::new();
    for o in objects.iter().filter(|o| !o.starts_with('-')) {
        let base = o.strip_suffix(".o").unwrap_or(o);
        let stem = [base, base.strip_suffix(".gendwarfksyms").unwrap_or(base)]
            .into_iter()
            .find(|s| dir.join(format!("{s}.symbols")).is_file())
            .unwrap_or_else(|| panic!("no symbol list for {o}"));
        all.extend(common::read_data(&dir.join(format!("{stem}.symbols"))));
    }
    let path = tmp.join("symbols");
    std::fs::write(&path, all).unwrap();
    path
}

fn run(bin: &Path, dir: &Path, objects: &[String], tmp: &Path) -> String {
    let mut cmd = common::gendwarfksyms(bin, dir);
    cmd.arg("-T").arg("/dev/full").args(objects);
    let out = common::run(&mut cmd, &symbols(dir, objects, tmp), TIMEOUT);
    assert!(out.stdout.is_empty(), "{objects:?}: stdout not empty");
    let status = match out.status.code() {
        Some(c) => c.to_string(),
        None => out.status.describe(),
    };
    let stderr: String = String::from_utf8_lossy(&out.stderr)
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("gendwarfksyms: expand_type: "))
        .collect();
    format!("{}\t{status}\t{}", objects.join(" "), stderr.replace('\n', "\\n"))
}

#[test]
fn full_device() {
    let dir = common::shared_subdir("corpus/kernel-7.2-x86_64");
    let expected_path = common::workspace_root().join("tests/data/full-device.tsv");
    let tmp = common::TempDir::new("full-device");
    let runs = runs(&dir);
    if let Some(upstream) = std::env::var_os("DWARFKSYMS_UPSTREAM") {
        let lines: Vec<String> = runs.iter().map(|r| run(Path::new(&upstream), &dir, r, tmp.path())).collect();
        std::fs::write(&expected_path, lines.join("\n") + "\n").unwrap();
        return;
    }
    let expected = String::from_utf8(common::read_data(&expected_path)).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(expected.len(), runs.len(), "{} lists other runs: record it again", expected_path.display());
    let (bin, _) = common::binary();
    let mut failures = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (r, want) in runs.iter().zip(&expected) {
        let got = run(&bin, &dir, r, tmp.path());
        if got != *want {
            failures.push(format!("expected: {want}\n     got: {got}"));
        }
        kinds.insert(want.split('\t').nth(2).unwrap_or_default().to_string());
    }
    println!("full device: {} runs, {} differ", runs.len(), failures.len());
    // The three ways upstream fails all occur.
    assert!(kinds.len() >= 3, "expected fclose, type_list_write and type_map_write failures: {kinds:?}");
    assert!(failures.is_empty(), "{} of {} runs differ:\n{}", failures.len(), runs.len(), failures.join("\n"));
}
