//! Cases in the golden corpus's `MANIFEST.tsv` format (also used by our
//! own fixtures), run and compared as `../shared/golden/README.md`'s
//! "Running a case" says.

use std::path::Path;
use std::time::Duration;

use super::{Outcome, Status};

/// Per-case timeout, seconds.
pub const TIMEOUT_SECS: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StderrMatch {
    Exact,
    Sorted,
    Unstable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Symtypes {
    /// `-`: no `-T`.
    NotRequested,
    /// `ABSENT`: `-T` is passed and the file must not be created.
    Absent,
    /// `-T` is passed and the file must have this content.
    File(String),
}

#[derive(Debug)]
pub struct Case {
    pub id: String,
    objects: Vec<String>,
    symbols: String,
    flags: Vec<String>,
    stdout: String,
    stderr: String,
    symtypes: Symtypes,
    exit: i32,
    stderr_match: StderrMatch,
    tags: Vec<String>,
}

impl Case {
    fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// Every case is part of the ratchet (libdw cases with substituted expectations).
    fn ratcheted(&self) -> bool {
        true
    }
}

/// Replaces the expectations of the `libdw-0.188-*` cases (see the module docs).
pub fn substitute_libdw_cases(cases: &mut [Case]) {
    let by_id: std::collections::HashMap<String, usize> =
        cases.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
    let mips_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-mips");
    for i in 0..cases.len() {
        if cases[i].has_tag("libdw-0.188-no-zstd") {
            let twin = cases[i].id.replace("x86_64-gcc-dwarf5-O2-gz-zstd", "x86_64-gcc-dwarf5-O2");
            let j = *by_id.get(&twin).unwrap_or_else(|| panic!("no case {twin} for {}", cases[i].id));
            let t = &cases[j];
            let (stdout, stderr, symtypes, exit, m) =
                (t.stdout.clone(), t.stderr.clone(), t.symtypes.clone(), t.exit, t.stderr_match);
            let c = &mut cases[i];
            (c.stdout, c.stderr, c.symtypes, c.exit, c.stderr_match) = (stdout, stderr, symtypes, exit, m);
        } else if cases[i].has_tag("libdw-0.188-no-mips-dwarf-sections") {
            let c = &mut cases[i];
            // matrix/mips-gcc-dwarf5-O2/<fixture>/<mode>
            let parts: Vec<&str> = c.id.split('/').collect();
            let file = |ext: &str| mips_dir.join(format!("{}.{}.{ext}", parts[2], parts[3])).display().to_string();
            c.stdout = file("stdout");
            c.symtypes = Symtypes::File(file("symtypes"));
            c.stderr = "expected/EMPTY".to_string();
            c.exit = 0;
            c.stderr_match = StderrMatch::Exact;
        }
    }
}

fn words(field: &str) -> Vec<String> {
    if field == "-" {
        Vec::new()
    } else {
        field.split(' ').map(str::to_string).collect()
    }
}

pub fn parse_manifest(path: &Path) -> Vec<Case> {
    let text =
        String::from_utf8(super::read_data(path)).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_else(|| panic!("{}: empty", path.display())).split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{}: no column {name:?} in the header", path.display()))
    };
    let [case, objects, symbols, flags, stdout, stderr, symtypes, exit, stderr_match, tags] =
        ["case", "objects", "symbols", "flags", "stdout", "stderr", "symtypes", "exit", "stderr_match", "tags"]
            .map(col);
    let mut cases = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let row: Vec<&str> = line.split('\t').collect();
        let lineno = n + 2;
        assert_eq!(
            row.len(),
            header.len(),
            "{}:{lineno}: {} fields, expected {}",
            path.display(),
            row.len(),
            header.len()
        );
        let c = Case {
            id: row[case].to_string(),
            objects: words(row[objects]),
            symbols: row[symbols].to_string(),
            flags: words(row[flags]),
            stdout: row[stdout].to_string(),
            stderr: row[stderr].to_string(),
            symtypes: match row[symtypes] {
                "-" => Symtypes::NotRequested,
                "ABSENT" => Symtypes::Absent,
                f => Symtypes::File(f.to_string()),
            },
            exit: row[exit]
                .parse()
                .unwrap_or_else(|e| panic!("{}:{lineno}: bad exit {:?}: {e}", path.display(), row[exit])),
            stderr_match: match row[stderr_match] {
                "exact" => StderrMatch::Exact,
                "sorted" => StderrMatch::Sorted,
                "unstable" => StderrMatch::Unstable,
                m => panic!("{}:{lineno}: unknown stderr_match {m:?}", path.display()),
            },
            tags: row[tags].split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
        };
        assert!(seen.insert(c.id.clone()), "{}:{lineno}: duplicate case {}", path.display(), c.id);
        cases.push(c);
    }
    cases
}

/// Runs a manifest's cases, whose files lie under `root`, as a suite.
pub fn run_suite(suite: &super::Suite, cases: Vec<Case>, root: &Path) {
    suite.run(
        cases,
        |c| c.id.as_str(),
        TIMEOUT_SECS,
        "unratcheted cases",
        |case, tmp, timeout| run_case(suite.bin(), root, tmp, timeout, case),
    );
}

pub fn run_case(bin: &Path, golden: &Path, tmp: &Path, timeout: Duration, case: &Case) -> Outcome {
    match &case.symtypes {
        Symtypes::File(f) => super::leave_stale_file(tmp, &golden.join(f)),
        _ => {
            let _ = std::fs::remove_file(tmp);
        }
    }
    let mut cmd = super::gendwarfksyms(bin, golden);
    cmd.args(&case.flags);
    if case.symtypes != Symtypes::NotRequested {
        cmd.arg("-T").arg(tmp);
    }
    cmd.args(&case.objects);
    let out = super::run(&mut cmd, &golden.join(&case.symbols), timeout);
    let written = super::take_file(tmp);
    let mut problems = Vec::new();

    if case.has_tag("crash") {
        // The reference died of SIGSEGV: require a clean failure instead.
        match out.status {
            Status::Exited(c) if c != 0 && c != 139 => {}
            ref s => problems
                .push(format!("status: expected a clean failure (non-zero exit, not 139), got {}", s.describe())),
        }
        if !out.stdout.is_empty() {
            problems.extend(super::diff_exact("stdout", b"", &out.stdout));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let objects: Vec<&String> = case.objects.iter().filter(|o| *o != "--").collect();
        if out.stderr.is_empty() {
            problems.push("stderr: expected a message naming the file, got nothing".to_string());
        } else if !objects.iter().any(|o| stderr.contains(o.as_str())) {
            problems.push(format!(
                "stderr: does not name {}: {}",
                objects.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(" or "),
                super::stderr_hint(&out.stderr).unwrap_or_default()
            ));
        }
        if stderr.contains("panicked at") {
            problems.push("stderr: the program panicked".to_string());
        }
        return Outcome::new(&case.id, case.ratcheted(), problems);
    }

    if out.status.code() != Some(case.exit) {
        problems.push(format!("status: expected exit {}, got {}", case.exit, out.status.describe()));
    }
    let want_stdout = super::read_data(&golden.join(&case.stdout));
    problems.extend(super::diff_exact("stdout", &want_stdout, &out.stdout));
    let want_stderr = super::read_data(&golden.join(&case.stderr));
    match case.stderr_match {
        StderrMatch::Exact => problems.extend(super::diff_exact("stderr", &want_stderr, &out.stderr)),
        StderrMatch::Sorted => problems.extend(super::diff_sorted("stderr", &want_stderr, &out.stderr)),
        StderrMatch::Unstable => {}
    }
    match (&case.symtypes, written) {
        (Symtypes::NotRequested, _) => {}
        (Symtypes::Absent, None) => {}
        (Symtypes::Absent, Some(_)) => problems.push("symtypes: the -T file was created, expected none".to_string()),
        (Symtypes::File(_), None) => problems.push("symtypes: the -T file was not created".to_string()),
        (Symtypes::File(f), Some(got)) => {
            let want = super::read_data(&golden.join(f));
            problems.extend(super::diff_exact("symtypes", &want, &got));
        }
    }
    if !problems.is_empty() && case.stderr_match == StderrMatch::Unstable {
        problems.extend(super::stderr_hint(&out.stderr));
    }
    Outcome::new(&case.id, case.ratcheted(), problems)
}
