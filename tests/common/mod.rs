//! Shared harness of the conformance tests (`golden`, `corpus`, `shipped`):
//! locating the data, running `gendwarfksyms` with a timeout on a pool of
//! threads, comparing outputs, and the known-failures ratchet.
//!
//! Environment variables (all optional):
//!
//! * `DWARFKSYMS_BLESS=1`: rewrite `tests/<suite>-known-failures.txt` to
//!   exactly the cases failing now, and pass.
//! * `DWARFKSYMS_<SUITE>_MATCH=<substring>` (`GOLDEN`, `CORPUS`, `SHIPPED`, `FIXTURES`):
//!   run only the cases whose id contains the substring; the ratchet then
//!   checks only those, and blessing is refused.
//! * `DWARFKSYMS_VERBOSE=1`: also show the differences of known failures.
//! * `DWARFKSYMS_JOBS=<n>`: number of cases run at once (default: the
//!   available parallelism).
//! * `DWARFKSYMS_TIMEOUT=<seconds>`: per-case timeout instead of the suite's
//!   default.
//! * `DWARFKSYMS_BIN=<path>`: test another executable instead of the
//!   `gendwarfksyms` built by cargo (for comparing with a reference build;
//!   blessing is refused).

#![allow(dead_code)]

pub mod manifest;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many unexpected failures are shown with their differences.
const SHOW_FAILURES: usize = 20;
/// How many "now passes" case ids are listed.
const SHOW_NOW_PASSING: usize = 50;

// ---------------------------------------------------------------------------
// Locations

/// The workspace root (where `Cargo.toml` and `tests/` are).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout. Panics (the test fails, it is not
/// skipped) when it is missing.
/// `tests/data/diff`: two builds of the fixtures (`diff` and `serve`).
pub fn diff_data() -> PathBuf {
    workspace_root().join("tests/data/diff")
}

pub fn shared_dir() -> PathBuf {
    let dir = workspace_root().join("..").join("shared");
    if !dir.is_dir() {
        panic!(
            "the shared test data is missing: {} is not a directory.\n\
             The golden and corpus tests need the `shared` directory (golden/, corpus/) \
             checked out beside this repository, i.e. at ../shared relative to {}.",
            dir.display(),
            workspace_root().display()
        );
    }
    dir
}

/// `sub` inside `../shared`; panics with a clear message when absent.
pub fn shared_subdir(sub: &str) -> PathBuf {
    let dir = shared_dir().join(sub);
    if !dir.is_dir() {
        panic!("the shared test data is incomplete: {} is not a directory", dir.display());
    }
    dir
}

/// The executable under test and whether it was overridden by `DWARFKSYMS_BIN`.
pub fn binary() -> (PathBuf, bool) {
    match std::env::var_os("DWARFKSYMS_BIN") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from(env!("CARGO_BIN_EXE_gendwarfksyms")), false),
    }
}

fn env_flag(name: &str) -> bool {
    matches!(std::env::var(name), Ok(v) if !v.is_empty() && v != "0")
}

/// Compares `got` with the expected file at `path` or, with
/// `DWARFKSYMS_BLESS=1`, writes it there.
pub fn expect_file(path: &Path, got: &str) {
    if env_flag("DWARFKSYMS_BLESS") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with DWARFKSYMS_BLESS=1)", path.display()));
    assert_eq!(got, want, "{} differs (bless with DWARFKSYMS_BLESS=1 after checking)", path.display());
}

/// Reads a file that the harness needs; panics with the path on error.
pub fn read_data(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Temporary directory

/// A fresh directory under `std::env::temp_dir()`, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
            let name = format!(
                "dwarfksyms-{prefix}-{}-{nanos}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let dir = base.join(name);
            match fs::create_dir(&dir) {
                Ok(()) => {
                    // Never write next to the read-only test data.
                    if let (Ok(d), Ok(s)) = (dir.canonicalize(), workspace_root().join("../shared").canonicalize()) {
                        assert!(
                            !d.starts_with(&s),
                            "the temporary directory {} is inside {}; set TMPDIR elsewhere",
                            d.display(),
                            s.display()
                        );
                    }
                    return TempDir(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create a directory in {}: {e}", base.display()),
            }
        }
        panic!("cannot create a unique directory in {}", base.display());
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Running a command

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Exited normally with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Killed by the harness after the timeout.
    TimedOut(Duration),
    /// Could not be started.
    SpawnFailed(String),
}

impl Status {
    /// The status as a shell reports it (128 + signal for a signal), as in
    /// the manifest's `exit` column; `None` for a timeout or spawn failure.
    pub fn code(&self) -> Option<i32> {
        match *self {
            Status::Exited(c) => Some(c),
            Status::Signaled(s) => Some(128 + s),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Status::Exited(c) => format!("exit {c}"),
            Status::Signaled(s) => format!("killed by signal {s} (status {})", 128 + s),
            Status::TimedOut(t) => format!("timed out after {} s (killed)", t.as_secs_f64()),
            Status::SpawnFailed(e) => format!("could not start: {e}"),
        }
    }
}

pub struct Output {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// The `gendwarfksyms` command: argv[0] is `gendwarfksyms`, cwd is `cwd`.
pub fn gendwarfksyms(bin: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg0("gendwarfksyms").current_dir(cwd);
    cmd
}

/// Reads a pipe to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// Runs `cmd` with stdin from `stdin`, collecting stdout and stderr; kills it
/// after `timeout`.
pub fn run(cmd: &mut Command, stdin: &Path, timeout: Duration) -> Output {
    let failed = |msg: String| Output { status: Status::SpawnFailed(msg), stdout: Vec::new(), stderr: Vec::new() };
    let input = match File::open(stdin) {
        Ok(f) => f,
        Err(e) => return failed(format!("cannot open {}: {e}", stdin.display())),
    };
    let mut child = match cmd.stdin(Stdio::from(input)).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("{}: {e}", cmd.get_program().to_string_lossy())),
    };
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());

    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                break match (st.code(), st.signal()) {
                    (Some(c), _) => Status::Exited(c),
                    (None, Some(s)) => Status::Signaled(s),
                    (None, None) => Status::SpawnFailed(format!("unknown status {st:?}")),
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Status::SpawnFailed(format!("wait failed: {e}"));
            }
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break Status::TimedOut(timeout);
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    };
    // The pipes close when the program exits, unless it left a child
    // process holding them (a wrapper script killed on timeout): then give
    // up on the rest of the output rather than wait for that process.
    let grace = if matches!(status, Status::TimedOut(_)) {
        Duration::from_secs(1)
    } else {
        timeout.saturating_sub(start.elapsed()).max(Duration::from_secs(1))
    };
    let deadline = Instant::now() + grace;
    let collect = |rx: mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_default()
    };
    Output { status, stdout: collect(out), stderr: collect(err) }
}

// ---------------------------------------------------------------------------
// Comparing

fn show_line(line: Option<&[u8]>) -> String {
    match line {
        None => "<end of output>".to_string(),
        Some(l) => {
            let text = String::from_utf8_lossy(l);
            let mut s: String = text.chars().take(160).collect();
            if s.len() < text.len() {
                s.push('…');
            }
            format!("{s:?}")
        }
    }
}

/// `None` when equal, otherwise the first differing line of `what`.
pub fn diff_exact(what: &str, expected: &[u8], got: &[u8]) -> Option<String> {
    if expected == got {
        return None;
    }
    let mut e = expected.split_inclusive(|&b| b == b'\n');
    let mut g = got.split_inclusive(|&b| b == b'\n');
    let mut n = 1;
    loop {
        match (e.next(), g.next()) {
            (Some(a), Some(b)) if a == b => n += 1,
            (a, b) => {
                let body = |l: &[u8]| l.strip_suffix(b"\n").unwrap_or(l).to_vec();
                if let (Some(a), Some(b)) = (a, b) {
                    if body(a) == body(b) {
                        let which = if a.ends_with(b"\n") { "missing" } else { "unexpected" };
                        return Some(format!("{what}: line {n}: {which} final newline"));
                    }
                }
                return Some(format!(
                    "{what}: line {n}: expected {}, got {}",
                    show_line(a.map(body).as_deref()),
                    show_line(b.map(body).as_deref())
                ));
            }
        }
    }
}

/// Lines in byte order, as `LC_ALL=C sort` writes them.
pub fn sorted_lines(data: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if lines.last() == Some(&&b""[..]) {
        lines.pop();
    }
    lines.sort();
    let mut out = Vec::with_capacity(data.len() + 1);
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// `None` when equal after sorting the lines of both.
pub fn diff_sorted(what: &str, expected: &[u8], got: &[u8]) -> Option<String> {
    diff_exact(&format!("{what} (sorted)"), &sorted_lines(expected), &sorted_lines(got))
}

/// The first line of `stderr`, for context when stderr is not compared.
pub fn stderr_hint(stderr: &[u8]) -> Option<String> {
    let first = stderr.split(|&b| b == b'\n').next().unwrap_or_default();
    if stderr.is_empty() {
        None
    } else {
        Some(format!("(stderr starts with {})", show_line(Some(first))))
    }
}

/// Puts a `-T` file in place as an earlier build would have left it:
/// longer than the expected one and different, so that only a run that
/// writes exactly upstream's file over it (truncating what is left) passes.
pub fn leave_stale_file(path: &Path, expected: &Path) {
    let len = fs::metadata(expected).map_or(0, |m| m.len() as usize);
    let stale: Vec<u8> = b"stale line from an earlier build\n".iter().copied().cycle().take(len + 4096).collect();
    fs::write(path, stale).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Reads the `-T` output and removes it; `None` when it was not created.
pub fn take_file(path: &Path) -> Option<Vec<u8>> {
    let data = fs::read(path).ok();
    let _ = fs::remove_file(path);
    data
}

// ---------------------------------------------------------------------------
// Kernel-object cases (corpus and shipped objects)

/// `gendwarfksyms -T tmp X.o < X.symbols` must print `X.symver` and write
/// `X.symtypes`, exit 0.
pub struct KernelCase {
    /// Case id (the object path as listed).
    pub id: String,
    /// Working directory of the run.
    pub cwd: PathBuf,
    /// The object argument, relative to `cwd`.
    pub object: String,
    /// `X.symbols`, `X.symver`, `X.symtypes` without the extension, relative to `cwd`.
    pub stem: String,
}

impl KernelCase {
    /// For an object `X.o` (or `X.gendwarfksyms.o`, whose files are named
    /// for `X.o`), finds the `.symbols/.symver/.symtypes` files.
    pub fn new(id: &str, cwd: &Path, object: &str) -> KernelCase {
        let base = object.strip_suffix(".o").unwrap_or(object);
        let mut candidates = vec![base];
        if let Some(b) = base.strip_suffix(".gendwarfksyms") {
            candidates.push(b);
        }
        let stem = candidates.iter().find(|c| cwd.join(format!("{c}.symbols")).is_file()).unwrap_or_else(|| {
            panic!(
                "no .symbols file for {} (looked for {})",
                cwd.join(object).display(),
                candidates.iter().map(|c| format!("{c}.symbols")).collect::<Vec<_>>().join(", ")
            )
        });
        for ext in ["symver", "symtypes"] {
            let p = cwd.join(format!("{stem}.{ext}"));
            assert!(p.is_file(), "missing test data {}", p.display());
        }
        assert!(cwd.join(object).is_file(), "missing test data {}", cwd.join(object).display());
        KernelCase { id: id.to_string(), cwd: cwd.to_path_buf(), object: object.to_string(), stem: stem.to_string() }
    }

    pub fn run(&self, bin: &Path, tmp: &Path, timeout: Duration) -> Outcome {
        leave_stale_file(tmp, &self.cwd.join(format!("{}.symtypes", self.stem)));
        let mut cmd = gendwarfksyms(bin, &self.cwd);
        cmd.arg("-T").arg(tmp).arg(&self.object);
        let out = run(&mut cmd, &self.cwd.join(format!("{}.symbols", self.stem)), timeout);
        let symtypes = take_file(tmp);
        let mut problems = Vec::new();
        if out.status != Status::Exited(0) {
            problems.push(format!("status: expected exit 0, got {}", out.status.describe()));
        }
        let symver = read_data(&self.cwd.join(format!("{}.symver", self.stem)));
        problems.extend(diff_exact("stdout", &symver, &out.stdout));
        let want = read_data(&self.cwd.join(format!("{}.symtypes", self.stem)));
        match symtypes {
            None => problems.push("symtypes: -T file missing".to_string()),
            Some(got) => problems.extend(diff_exact("symtypes", &want, &got)),
        }
        if !problems.is_empty() {
            problems.extend(stderr_hint(&out.stderr));
        }
        Outcome::new(&self.id, true, problems)
    }
}

// ---------------------------------------------------------------------------
// Parallel execution

/// Number of cases run at once.
pub fn jobs() -> usize {
    std::env::var("DWARFKSYMS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| thread::available_parallelism().map_or(2, |n| n.get()))
}

/// The per-case timeout: `DWARFKSYMS_TIMEOUT` seconds, or `default_secs`.
pub fn timeout(default_secs: u64) -> Duration {
    let secs = std::env::var("DWARFKSYMS_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|&s| s > 0.0)
        .unwrap_or(default_secs as f64);
    Duration::from_secs_f64(secs)
}

/// Calls `f(index, item)` for every item on a pool of `jobs()` threads;
/// results in item order.
pub fn run_parallel<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let threads = jobs().min(items.len()).max(1);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(i, &items[i]);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(|r| r.expect("every case has a result")).collect()
}

// ---------------------------------------------------------------------------
// Outcomes and the ratchet

/// The result of one case.
pub struct Outcome {
    pub id: String,
    /// Part of the known-failures ratchet (false: reported separately, never fails the test).
    pub ratcheted: bool,
    /// Empty when the case passed; otherwise one line per difference.
    pub problems: Vec<String>,
}

impl Outcome {
    pub fn new(id: &str, ratcheted: bool, problems: Vec<String>) -> Outcome {
        Outcome { id: id.to_string(), ratcheted, problems }
    }

    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    fn report(&self) -> String {
        let mut s = format!("FAIL {}\n", self.id);
        for p in &self.problems {
            s.push_str("    ");
            s.push_str(p);
            s.push('\n');
        }
        s
    }
}

/// One conformance suite: its name, its known-failures list and its filter.
pub struct Suite {
    pub name: &'static str,
    pub list: PathBuf,
    match_var: String,
    pub filter: Option<String>,
    bless: bool,
    bin: PathBuf,
    bin_overridden: bool,
    start: Instant,
}

impl Suite {
    /// Reads the environment; refuses `DWARFKSYMS_BLESS` with a filter or
    /// another binary before anything runs.
    pub fn new(name: &'static str) -> Suite {
        let match_var = format!("DWARFKSYMS_{}_MATCH", name.to_uppercase());
        let filter = std::env::var(&match_var).ok().filter(|s| !s.is_empty());
        let bless = env_flag("DWARFKSYMS_BLESS");
        let (bin, bin_overridden) = binary();
        if bless {
            if let Some(f) = &filter {
                panic!(
                    "{name}: refusing DWARFKSYMS_BLESS=1 with {match_var}={f:?}: the list must \
                     describe the whole suite; unset {match_var} to bless"
                );
            }
            if bin_overridden {
                panic!(
                    "{name}: refusing DWARFKSYMS_BLESS=1 with DWARFKSYMS_BIN set: the list \
                     describes the gendwarfksyms built from this workspace"
                );
            }
        }
        Suite {
            name,
            list: workspace_root().join("tests").join(format!("{name}-known-failures.txt")),
            match_var,
            filter,
            bless,
            bin,
            bin_overridden,
            start: Instant::now(),
        }
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Whether a case id is selected by the filter.
    pub fn selects(&self, id: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| id.contains(f))
    }

    /// Runs the selected cases in parallel, each with its own `-T` path in
    /// a fresh temporary directory, then applies the ratchet.
    pub fn run<T: Sync>(
        &self,
        cases: Vec<T>,
        id: impl Fn(&T) -> &str,
        timeout_secs: u64,
        other_label: &str,
        run: impl Fn(&T, &Path, Duration) -> Outcome + Sync,
    ) {
        let cases = self.select(cases, id);
        let tmpdir = TempDir::new(self.name);
        let timeout = timeout(timeout_secs);
        let outcomes =
            run_parallel(&cases, |i, case| run(case, &tmpdir.path().join(format!("case-{i}.symtypes")), timeout));
        self.finish(&outcomes, other_label);
    }

    /// [`Self::run`] over kernel objects, each run as kbuild runs it.
    pub fn run_kernel_cases(&self, cases: Vec<KernelCase>, timeout_secs: u64) {
        self.run(
            cases,
            |c| c.id.as_str(),
            timeout_secs,
            "other cases",
            |case, tmp, timeout| case.run(self.bin(), tmp, timeout),
        );
    }

    /// Keeps the selected cases; panics when none is left.
    pub fn select<T>(&self, cases: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        let total = cases.len();
        assert!(total > 0, "{}: no cases found", self.name);
        let cases: Vec<T> = cases.into_iter().filter(|c| self.selects(id(c))).collect();
        if let Some(f) = &self.filter {
            assert!(!cases.is_empty(), "{}: {}={f:?} matches none of the {total} cases", self.name, self.match_var);
        }
        cases
    }

    fn read_list(&self) -> BTreeSet<String> {
        let text = match fs::read_to_string(&self.list) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => panic!("cannot read {}: {e}", self.list.display()),
        };
        text.lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn list_name(&self) -> String {
        format!("tests/{}-known-failures.txt", self.name)
    }

    fn write_list(&self, failing: &BTreeSet<String>) {
        let mut text = format!(
            "# {} cases that do not pass yet: one case id per line, `#` starts a comment.\n\
             # tests/{}.rs fails when a case not listed here fails, or a listed case passes.\n\
             # Regenerate: DWARFKSYMS_BLESS=1 cargo test --profile ci --test {}\n",
            self.name, self.name, self.name
        );
        for id in failing {
            text.push_str(id);
            text.push('\n');
        }
        fs::write(&self.list, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", self.list.display()));
    }

    /// Prints the summary, applies the ratchet (or blesses) and panics on an
    /// unexpected result. `other_label` names the cases that are not ratcheted.
    pub fn finish(&self, outcomes: &[Outcome], other_label: &str) {
        let name = self.name;
        let verbose = env_flag("DWARFKSYMS_VERBOSE");
        let known = self.read_list();
        let ratcheted: Vec<&Outcome> = outcomes.iter().filter(|o| o.ratcheted).collect();
        let others: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ratcheted).collect();
        let failing: BTreeSet<String> = ratcheted.iter().filter(|o| !o.passed()).map(|o| o.id.clone()).collect();
        let unexpected: Vec<&Outcome> =
            ratcheted.iter().copied().filter(|o| !o.passed() && !known.contains(&o.id)).collect();
        let now_passing: Vec<&str> =
            ratcheted.iter().filter(|o| o.passed() && known.contains(&o.id)).map(|o| o.id.as_str()).collect();
        let stale: Vec<&str> = if self.filter.is_none() {
            let ids: BTreeSet<&str> = ratcheted.iter().map(|o| o.id.as_str()).collect();
            known.iter().map(String::as_str).filter(|k| !ids.contains(k)).collect()
        } else {
            Vec::new()
        };

        let mut msg = String::new();
        if verbose {
            for o in outcomes.iter().filter(|o| !o.passed() && !unexpected.iter().any(|u| u.id == o.id)) {
                msg.push_str(&o.report());
            }
        }
        if !self.bless {
            for o in unexpected.iter().take(SHOW_FAILURES) {
                msg.push_str(&o.report());
            }
            if unexpected.len() > SHOW_FAILURES {
                msg.push_str(&format!("... and {} more unexpected failures\n", unexpected.len() - SHOW_FAILURES));
            }
            for id in now_passing.iter().take(SHOW_NOW_PASSING) {
                msg.push_str(&format!("PASS {id}: now passes: remove it from the list {}\n", self.list_name()));
            }
            if now_passing.len() > SHOW_NOW_PASSING {
                msg.push_str(&format!("... and {} more cases that now pass\n", now_passing.len() - SHOW_NOW_PASSING));
            }
            for id in &stale {
                msg.push_str(&format!(
                    "STALE {id}: listed in {} but there is no such ratcheted case\n",
                    self.list_name()
                ));
            }
        }

        let passed = ratcheted.iter().filter(|o| o.passed()).count();
        msg.push_str(&format!("{name}: {passed} passed, {} failed\n", ratcheted.len() - passed));
        let known_failing = failing.len() - unexpected.len();
        msg.push_str(&format!(
            "{name}: {known_failing} known failures ({}), {} unexpected failures, {} now passing{}\n",
            self.list_name(),
            unexpected.len(),
            now_passing.len(),
            if self.bless { " (before blessing)" } else { "" }
        ));
        if !others.is_empty() {
            let p = others.iter().filter(|o| o.passed()).count();
            msg.push_str(&format!(
                "{name}: {other_label} (not part of the ratchet): {p} passed, {} failed\n",
                others.len() - p
            ));
        }
        msg.push_str(&format!(
            "{name}: {} cases in {:.1} s on {} threads{}{}\n",
            outcomes.len(),
            self.start.elapsed().as_secs_f64(),
            jobs(),
            match &self.filter {
                Some(f) => format!(", {}={f:?}", self.match_var),
                None => String::new(),
            },
            if self.bin_overridden { format!(", binary {}", self.bin.display()) } else { String::new() }
        ));

        if self.bless {
            self.write_list(&failing);
            msg.push_str(&format!("{name}: blessed: {} now lists {} failing cases\n", self.list_name(), failing.len()));
        }
        // Written straight to stderr so that the summary shows even when the
        // test passes and libtest captures the output.
        let _ = std::io::stderr().write_all(msg.as_bytes());

        if self.bless {
            return;
        }
        let mut errors = Vec::new();
        if !unexpected.is_empty() {
            errors.push(format!("{} cases failed that are not in {}", unexpected.len(), self.list_name()));
        }
        if !now_passing.is_empty() {
            errors.push(format!(
                "{} cases in {} now pass: remove them from the list",
                now_passing.len(),
                self.list_name()
            ));
        }
        if !stale.is_empty() {
            errors.push(format!("{} ids in {} are not ratcheted cases: remove them", stale.len(), self.list_name()));
        }
        if !errors.is_empty() {
            panic!(
                "{name}: {} (details above; `DWARFKSYMS_BLESS=1 cargo test --profile ci --test {name}` \
                 rewrites the list to the cases failing now)",
                errors.join("; ")
            );
        }
    }
}

/// The lines of `dwarfksyms versions --format json [extra] obj`, parsed:
/// what the commands that print versions are checked against.
pub fn versions_json(obj: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"))
        .args(["versions", "--format", "json"])
        .args(extra)
        .arg(obj)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
