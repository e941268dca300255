//! `dwarfksyms watch`: version a build's exports once, then keep watching
//! its objects and report the versions that change as they are rewritten.
//!
//! One long-lived database with one `ObjectFile` input per path. File
//! events (notify: inotify on Linux) are collected until the tree has been
//! quiet for a moment (the debounce), then every touched object is read
//! whole (never mapped: a build rewriting a mapped file would kill us),
//! compared by digest with the bytes it had (equal: nothing to do; salsa
//! does not compare input values itself) and, when it differs, given the
//! new bytes and re-versioned. Once reported, an input lets its bytes go
//! (`Bytes::let_go`, no salsa write). Only the objects whose bytes changed are asked
//! about; the others' memoized versions stand.
//!
//! What a running `make` does to files:
//! - half-written objects: an object that does not parse (or that was
//!   modified less than a debounce ago, or changed while being read) is
//!   retried with a backoff and reported only once it parses; the versions
//!   reported before stand meanwhile. One that still fails some seconds
//!   after its last event is reported on stderr and left until it changes
//!   again;
//! - deletion and re-creation, renames (also of directories): a path that
//!   is gone reports its exports as removed; one that appears (or comes
//!   back), as added. A new directory is searched, since objects may be
//!   written in it before its watch is in place;
//! - many objects at once: a batch is read, versioned (on every core) and
//!   reported a chunk at a time; an event queue overflow rescans the whole
//!   tree.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime};

use clap::ValueEnum;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use queries::bytes::{digest, Bytes, Digest};
use queries::db::{self, Database, ObjectFile, ObjectVersions};
use queries::object::Options;
use queries::unitcache::UnitCache;
use rayon::prelude::*;

use super::progress::Progress;
use super::{crc_text, discover};

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pub tree: TreeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WatchFormat::Text)]
    pub format: WatchFormat,
}

/// What `watch` and `serve` load and watch, and how.
#[derive(clap::Args, Debug)]
pub struct TreeArgs {
    /// Objects or directories to load and watch (directories recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Support kABI stability features (as gendwarfksyms --stable).
    #[arg(short, long)]
    pub stable: bool,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// How long the tree must be quiet before a batch of changes is read
    /// (when its writers have not all closed their files).
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub debounce_ms: u64,
}

impl TreeArgs {
    /// The engine's options: content-keyed versions; `symtypes` when the
    /// caller shows the lines versions used (a server).
    fn options(&self, symtypes: bool) -> Options {
        Options { stable: self.stable, symtypes, defer_versions: true, ..Options::default() }
    }

    /// The paths as given and as watched, checked to exist, with the
    /// current directory they are relative to.
    pub(crate) fn roots(&self) -> Result<Roots, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
        let mut roots = Vec::new();
        for p in &self.paths {
            let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
            roots.push(Root { shown: p.clone(), abs: cwd.join(p), dir: meta.is_dir() });
        }
        Ok(Roots { cwd, roots })
    }
}

/// [`TreeArgs::roots`].
pub(crate) struct Roots {
    pub cwd: PathBuf,
    roots: Vec<Root>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFormat {
    /// One line per event, for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// The longest a batch waits for the tree to be quiet before what was
/// touched so far is read anyway (a long build never pauses).
const MAX_BATCH: Duration = Duration::from_secs(2);
/// How many objects are versioned between two LRU evictions.
const EVICT_EVERY: usize = 64;
/// How long a batch of finished files waits for more events of the same
/// moment (a linker closing one file and renaming another).
const COALESCE: Duration = Duration::from_millis(2);
/// The first retry of an object that does not parse; doubled up to
/// `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_millis(500);
/// How long after its last event an object may keep failing before it is
/// reported as broken and left alone until it changes again.
const GIVE_UP: Duration = Duration::from_secs(5);

/// What the watch loop receives: file events, and whatever else its host
/// feeds it through the same channel (`serve`: LSP messages).
pub(crate) enum Input<M> {
    File(notify::Result<Event>),
    Other(M),
}

/// What the watch loop does with what it finds: `watch` prints it, `serve`
/// answers requests from it. `Break(status)` ends the loop.
pub(crate) trait Host {
    type Msg: Send + 'static;
    fn ready(&mut self, w: &mut Watch, objects: usize, exports: usize, took: Duration) -> ControlFlow<i32>;
    fn reports(&mut self, reports: Vec<Report>) -> ControlFlow<i32>;
    fn settled(&mut self, w: &mut Watch, took: Duration) -> ControlFlow<i32>;
    fn message(&mut self, _w: &mut Watch, _msg: Self::Msg) -> ControlFlow<i32> {
        ControlFlow::Continue(())
    }
    /// Whether the host has work of its own waiting: the loop then calls
    /// `idle` whenever no input is waiting, instead of blocking.
    fn busy(&self) -> bool {
        false
    }
    fn idle(&mut self, _w: &mut Watch) -> ControlFlow<i32> {
        ControlFlow::Continue(())
    }
}

/// `dwarfksyms watch`'s host: print.
struct Print(WatchFormat);

impl Host for Print {
    type Msg = std::convert::Infallible;
    fn ready(&mut self, _: &mut Watch, objects: usize, exports: usize, took: Duration) -> ControlFlow<i32> {
        flow(self.print_ready(objects, exports, took))
    }
    fn reports(&mut self, reports: Vec<Report>) -> ControlFlow<i32> {
        flow(self.print(reports))
    }
    fn settled(&mut self, _: &mut Watch, took: Duration) -> ControlFlow<i32> {
        flow(self.print_settled(took))
    }
}

/// `watch`'s own lines, in its format.
impl Print {
    fn print_ready(&self, objects: usize, exports: usize, took: Duration) -> std::io::Result<()> {
        let line = match self.0 {
            WatchFormat::Text => format!("ready: {objects} objects, {exports} exports ({} ms)\n", took.as_millis()),
            WatchFormat::Json => {
                format!(
                    "{{\"event\":\"ready\",\"objects\":{objects},\"exports\":{exports},\"ms\":{}}}\n",
                    took.as_millis()
                )
            }
        };
        emit(&[line])
    }

    fn print_settled(&self, took: Duration) -> std::io::Result<()> {
        let line = match self.0 {
            WatchFormat::Text => format!("settled ({} ms)\n", took.as_millis()),
            WatchFormat::Json => format!("{{\"event\":\"settled\",\"ms\":{}}}\n", took.as_millis()),
        };
        emit(&[line])
    }

    fn print(&self, reports: Vec<Report>) -> std::io::Result<()> {
        if reports.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = reports.iter().map(|r| self.line(r)).collect();
        emit(&lines)
    }

    fn line(&self, r: &Report) -> String {
        let (event, symbol, object, old, new) = r.parts();
        let symbol = String::from_utf8_lossy(symbol);
        match self.0 {
            // `changed SYM 0xOLD -> 0xNEW (OBJECT)`, `added SYM 0xNEW (OBJECT)`, ...
            WatchFormat::Text => {
                let crcs: Vec<String> = [old, new].into_iter().flatten().map(crc_text).collect();
                format!("{event} {symbol} {} ({})\n", crcs.join(" -> "), object.display())
            }
            WatchFormat::Json => {
                // Fields in a fixed order (serde_json's maps sort keys).
                let text = |v: Option<Option<u32>>| serde_json::Value::from(v.map(crc_text)).to_string();
                format!(
                    "{{\"event\":\"{event}\",\"symbol\":{},\"object\":{},\"old\":{},\"new\":{}}}\n",
                    serde_json::Value::from(symbol),
                    serde_json::Value::from(object.display().to_string()),
                    text(old),
                    text(new),
                )
            }
        }
    }
}

/// Stdout closed: stop quietly.
fn flow(r: std::io::Result<()>) -> ControlFlow<i32> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(_) => ControlFlow::Break(0),
    }
}

/// A root as given and as the watcher names it (absolute).
struct Root {
    shown: PathBuf,
    abs: PathBuf,
    dir: bool,
}

/// A watched object path.
pub(crate) struct Tracked {
    /// Its input, once it has exported something (or failed to parse).
    pub obj: Option<ObjectFile>,
    /// A hash of the bytes last read (`None`: absent).
    digest: Option<Digest>,
    /// symbol -> CRC as last reported (`None`: no DWARF information,
    /// printed as 0 like upstream does); `None` while the path is absent
    /// or has not parsed yet.
    pub reported: Option<BTreeMap<Vec<u8>, Option<u32>>>,
}

/// An object that did not parse (or could not be read whole) yet.
struct Retry {
    attempt: u32,
    due: Instant,
    /// Its last file event (or first failure): give up `GIVE_UP` after it.
    since: Instant,
    error: String,
}

/// One line of the report.
pub(crate) enum Report {
    Changed { symbol: Vec<u8>, object: PathBuf, old: Option<u32>, new: Option<u32> },
    Added { symbol: Vec<u8>, object: PathBuf, new: Option<u32> },
    Removed { symbol: Vec<u8>, object: PathBuf, old: Option<u32> },
}

impl Report {
    fn key(&self) -> (&Path, &[u8]) {
        let (_, symbol, object, ..) = self.parts();
        (object, symbol)
    }

    /// The event's name, its symbol and object, and its old and new
    /// versions where it has them (a version is `None` without DWARF
    /// information, printed as 0).
    #[allow(clippy::type_complexity)]
    pub(crate) fn parts(&self) -> (&'static str, &[u8], &Path, Option<Option<u32>>, Option<Option<u32>>) {
        match self {
            Report::Changed { symbol, object, old, new } => ("changed", symbol, object, Some(*old), Some(*new)),
            Report::Added { symbol, object, new } => ("added", symbol, object, None, Some(*new)),
            Report::Removed { symbol, object, old } => ("removed", symbol, object, Some(*old), None),
        }
    }
}

pub(crate) struct Watch {
    pub db: Database,
    pub options: Options,
    debounce: Duration,
    pub pool: rayon::ThreadPool,
    roots: Vec<Root>,
    pub objects: BTreeMap<PathBuf, Tracked>,
    retry: BTreeMap<PathBuf, Retry>,
}

pub fn run(args: WatchArgs) -> i32 {
    let roots = match args.tree.roots() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dwarfksyms: {e}");
            return 2;
        }
    };
    let (tx, rx) = mpsc::channel();
    watch(&args.tree, roots, false, tx, rx, &mut Print(args.format))
}

/// Loads the tree, then watches it for ever, telling `host` what changes;
/// `tx`/`rx` carry the file events and the host's own input. `symtypes`:
/// versions keep the lines they used (for a server's answers).
pub(crate) fn watch<H: Host>(
    tree: &TreeArgs,
    roots: Roots,
    symtypes: bool,
    tx: mpsc::Sender<Input<H::Msg>>,
    rx: mpsc::Receiver<Input<H::Msg>>,
    host: &mut H,
) -> i32 {
    let t0 = Instant::now();
    let Roots { cwd, roots } = roots;

    // Watch first, then load: what changes during the load is in the
    // first batch (and costs nothing if the bytes did not change).
    let config = notify::Config::default().with_follow_symlinks(false);
    let events = move |e| {
        let _ = tx.send(Input::File(e));
    };
    let mut watcher = match notify::RecommendedWatcher::new(events, config) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("dwarfksyms: cannot watch files: {e}");
            return 2;
        }
    };
    for r in &roots {
        // A file is watched through its directory: a build replaces files
        // (rename), which a watch on the file itself would not survive.
        let (path, mode) = if r.dir {
            (r.abs.clone(), RecursiveMode::Recursive)
        } else {
            (r.abs.parent().map(Path::to_path_buf).unwrap_or_else(|| cwd.clone()), RecursiveMode::NonRecursive)
        };
        if let Err(e) = watcher.watch(&path, mode) {
            eprintln!("dwarfksyms: cannot watch {}: {e}", path.display());
            return 2;
        }
    }

    let pool = match rayon::ThreadPoolBuilder::new().num_threads(tree.jobs.unwrap_or(0)).stack_size(256 << 20).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dwarfksyms: cannot start worker threads: {e}");
            return 2;
        }
    };
    let mut w = Watch {
        // A rewritten object (a relinked vmlinux) renders only the units
        // that changed; the others are found by content.
        db: Database::default().sharing_renders(Arc::new(UnitCache::default().for_objects_with_units(16))),
        options: tree.options(symtypes),
        debounce: Duration::from_millis(tree.debounce_ms),
        pool,
        roots,
        objects: BTreeMap::new(),
        retry: BTreeMap::new(),
    };

    let found = match discover::find(&tree.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("dwarfksyms: {e}");
            return 2;
        }
    };
    let paths: BTreeSet<PathBuf> = found.into_iter().map(|f| f.path).collect();
    // The initial load reports nothing but the count: its exports are the
    // baseline the changes are reported against.
    // Objects are read whatever their age here, as `versions` reads them.
    let progress = Progress::new(paths.len() as u64);
    let _ = w.refresh(&paths, Instant::now(), Duration::ZERO, Some(&progress), None);
    progress.finish();
    let exports: usize = w.objects.values().filter_map(|t| t.reported.as_ref()).map(BTreeMap::len).sum();
    if let ControlFlow::Break(status) = host.ready(&mut w, paths.len(), exports, t0.elapsed()) {
        return status;
    }
    crate::alloc::release(&w.pool);

    // The batch being collected: touched paths, its first and last event.
    let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
    // Touched paths whose last event says their writer is done with them.
    let mut complete: BTreeSet<PathBuf> = BTreeSet::new();
    let mut rescan = false;
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    // Since the first event of a batch whose objects are not all parsed
    // yet (or that changed something not reported as settled yet).
    let mut open: Option<Instant> = None;
    let mut dirty = false;
    loop {
        let now = Instant::now();
        let mut deadline: Option<Instant> = None;
        if let Some(f) = first {
            let quiet = if touched.is_subset(&complete) { COALESCE } else { w.debounce };
            deadline = Some((last + quiet).min(f + MAX_BATCH));
        }
        if let Some(due) = w.retry.values().map(|r| r.due).min() {
            deadline = Some(deadline.map_or(due, |d| d.min(due)));
        }
        let received = if host.busy() {
            // The host's own work goes between inputs, never ahead of one
            // already waiting (it may cancel that work).
            match rx.try_recv() {
                Ok(input) => Ok(input),
                Err(mpsc::TryRecvError::Empty) => {
                    if let ControlFlow::Break(status) = host.idle(&mut w) {
                        return status;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout)
                }
                Err(mpsc::TryRecvError::Disconnected) => Err(mpsc::RecvTimeoutError::Disconnected),
            }
        } else {
            match deadline {
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                Some(d) => rx.recv_timeout(d.saturating_duration_since(now)),
            }
        };
        match received {
            Ok(Input::Other(msg)) => {
                if let ControlFlow::Break(status) = host.message(&mut w, msg) {
                    return status;
                }
            }
            Ok(Input::File(Ok(event))) => {
                let now = Instant::now();
                let mut any = false;
                if event.need_rescan() {
                    rescan = true;
                    any = true;
                }
                if relevant(&event.kind) {
                    for p in &event.paths {
                        if let Some(shown) = w.shown(p) {
                            if let Some(r) = w.retry.get_mut(&shown) {
                                r.since = now;
                            }
                            if finishes(&event.kind) {
                                complete.insert(shown.clone());
                            } else {
                                complete.remove(&shown);
                            }
                            touched.insert(shown);
                            any = true;
                        }
                    }
                }
                if any {
                    first.get_or_insert(now);
                    open.get_or_insert(now);
                    last = now;
                }
            }
            Ok(Input::File(Err(e))) => {
                // An error from the watcher (e.g. the inotify watch limit):
                // say so and rescan, since events may have been lost.
                eprintln!("warning: dwarfksyms: watching: {e}");
                rescan = true;
                let now = Instant::now();
                first.get_or_insert(now);
                open.get_or_insert(now);
                last = now;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                eprintln!("dwarfksyms: the file watcher stopped");
                return 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }

        let now = Instant::now();
        // A batch whose every file was closed after writing (or renamed
        // into place, or removed) is read at once: waiting for the tree to
        // be quiet is only for writers that have not said they are done.
        let all_complete = touched.is_subset(&complete);
        let quiet = if all_complete { COALESCE } else { w.debounce };
        let batch_ready = first.is_some_and(|f| now >= last + quiet || now >= f + MAX_BATCH);
        let mut paths: BTreeSet<PathBuf> =
            w.retry.iter().filter(|(_, r)| r.due <= now).map(|(p, _)| p.clone()).collect();
        if batch_ready {
            if std::mem::take(&mut rescan) {
                touched.extend(w.roots.iter().map(|r| r.shown.clone()));
            }
            paths.extend(w.candidates(&std::mem::take(&mut touched)));
            complete.clear();
            first = None;
        }
        if !paths.is_empty() {
            let quiet = if batch_ready && all_complete { Duration::ZERO } else { w.debounce };
            match w.refresh(&paths, now, quiet, None, Some(&mut |reports| host.reports(reports))) {
                ControlFlow::Continue(changed) => dirty |= changed,
                ControlFlow::Break(status) => return status,
            }
        }
        // Settled: nothing touched is waiting for its debounce or a retry
        // (a batch that changed no bytes closes silently).
        if first.is_none() && w.retry.is_empty() {
            if let Some(start) = open.take() {
                if std::mem::take(&mut dirty) {
                    if let ControlFlow::Break(status) = host.settled(&mut w, start.elapsed()) {
                        return status;
                    }
                    crate::alloc::release(&w.pool);
                }
            }
        }
    }
}

/// Events after which the writer is done with a path: closed after
/// writing, renamed (into place or away) or removed.
fn finishes(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(_)
    )
}

/// Events that may mean new contents (reads, opens and metadata changes
/// do not; our own reads must not start a batch).
fn relevant(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// The names `dwarfksyms versions` picks up in a directory (as
/// `discover::find` does).
/// What reading a file whole gave.
enum Read {
    /// The bytes (`None` when the object exports nothing: they are not
    /// kept) and their digest.
    Bytes(Option<Bytes>, Digest),
    Gone,
    /// Being written (changed during the read, or modified a moment ago):
    /// try again later.
    Busy(String),
}

fn read_whole(path: &Path, quiet: Duration) -> Read {
    let meta = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => return Read::Gone,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Gone,
        Err(e) => return Read::Busy(e.to_string()),
    };
    if let Ok(age) = meta.modified().and_then(|m| SystemTime::now().duration_since(m).map_err(std::io::Error::other)) {
        if age < quiet {
            return Read::Busy("modified a moment ago".to_string());
        }
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Gone,
        Err(e) => return Read::Busy(e.to_string()),
    };
    match std::fs::metadata(path) {
        Ok(after) if after.len() == bytes.len() as u64 && after.modified().ok() == meta.modified().ok() => {
            // Most of a kernel's modules export nothing: they are tracked by
            // digest alone, so their bytes are dropped here, on the reading
            // thread. (One that does not parse goes to the engine, whose
            // error drives the retries.)
            if matches!(queries::exports::exports(&bytes), Ok(e) if e.is_empty()) {
                return Read::Bytes(None, digest(&bytes));
            }
            let bytes = Bytes::from_file(path.to_path_buf(), bytes);
            let d = bytes.digest();
            Read::Bytes(Some(bytes), d)
        }
        Ok(_) => Read::Busy("changed while being read".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Read::Gone,
        Err(e) => Read::Busy(e.to_string()),
    }
}

impl Watch {
    /// The path as reported (under the root as given) of a path the
    /// watcher names, if it is under a root.
    fn shown(&self, p: &Path) -> Option<PathBuf> {
        for r in &self.roots {
            if r.dir {
                if let Ok(rest) = p.strip_prefix(&r.abs) {
                    return Some(if rest.as_os_str().is_empty() { r.shown.clone() } else { r.shown.join(rest) });
                }
            } else if p == r.abs {
                return Some(r.shown.clone());
            }
        }
        None
    }

    fn is_file_root(&self, p: &Path) -> bool {
        self.roots.iter().any(|r| !r.dir && r.shown == p)
    }

    /// The object paths a batch of touched paths may have changed: touched
    /// objects, objects in touched directories (new ones included), and
    /// tracked objects under a touched path (a directory removed or
    /// renamed away).
    fn candidates(&self, touched: &BTreeSet<PathBuf>) -> BTreeSet<PathBuf> {
        let mut out = BTreeSet::new();
        for p in touched {
            let is_dir = std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
            if is_dir {
                if let Ok(found) = discover::find(std::slice::from_ref(p)) {
                    out.extend(found.into_iter().map(|f| f.path));
                }
            } else if self.is_file_root(p)
                || p.file_name().is_some_and(|n| discover::is_object_name(&n.to_string_lossy()))
            {
                out.insert(p.clone());
            }
            out.extend(self.objects.range(p.clone()..).take_while(|(k, _)| k.starts_with(p)).map(|(k, _)| k.clone()));
        }
        // A file root is the only object of its root.
        out.retain(|p| self.roots.iter().any(|r| if r.dir { p.starts_with(&r.shown) } else { *p == r.shown }));
        out
    }

    /// Reads `paths`, gives the changed ones their new bytes, versions them
    /// and hands `report` what changed (sorted, in several calls for a large
    /// batch); returns whether any input changed, unless `report` breaks.
    /// Files modified less than `quiet` ago are left for a retry.
    /// `progress` counts objects as they are done (the first load, which
    /// has no `report`: its exports are the baseline, so no report is made).
    fn refresh(
        &mut self,
        paths: &BTreeSet<PathBuf>,
        now: Instant,
        quiet: Duration,
        progress: Option<&Progress>,
        mut report: Option<&mut dyn FnMut(Vec<Report>) -> ControlFlow<i32>>,
    ) -> ControlFlow<i32, bool> {
        // A chunk at a time (read, version, report, drop the bytes, then read
        // on): the first results come out before a large batch is read
        // whole, and a tree's first load does not hold every object's bytes
        // at once. Reading goes on until a chunk's worth of objects is to be
        // versioned, since most of a kernel's modules export nothing and
        // are done once read.
        let paths: Vec<&PathBuf> = paths.iter().collect();
        let mut changed = false;
        let mut reports = report.is_some().then(Vec::new);
        let mut version = Vec::new();
        let mut reads = paths.chunks(EVICT_EVERY).peekable();
        while let Some(chunk) = reads.next() {
            changed |= self.read(chunk, now, quiet, progress, &mut version, reports.as_mut());
            if version.len() < EVICT_EVERY && reads.peek().is_some() {
                continue;
            }
            self.version(&std::mem::take(&mut version), now, progress, reports.as_mut());
            if let (Some(report), Some(reports)) = (report.as_mut(), reports.as_mut()) {
                if !reports.is_empty() {
                    // Paths are read in order: the batch's reports stay
                    // sorted across calls.
                    reports.sort_by(|a, b| a.key().cmp(&b.key()));
                    report(std::mem::take(reports))?;
                }
            }
        }
        ControlFlow::Continue(changed)
    }

    /// Reads `paths`, gives the changed ones their new bytes and adds them to
    /// `version`, and reports the paths that are gone or export nothing now;
    /// returns whether any input changed.
    fn read(
        &mut self,
        paths: &[&PathBuf],
        now: Instant,
        quiet: Duration,
        progress: Option<&Progress>,
        version: &mut Vec<(PathBuf, ObjectFile)>,
        mut reports: Option<&mut Vec<Report>>,
    ) -> bool {
        let mut changed = false;
        let reads: Vec<(PathBuf, Read)> = self.pool.install(|| {
            paths
                .par_iter()
                .map(|&p| {
                    let read = read_whole(p, quiet);
                    // Done unless it goes on to be versioned.
                    if !matches!(read, Read::Bytes(Some(_), _)) {
                        progress.inspect(|b| b.tick(0));
                    }
                    (p.clone(), read)
                })
                .collect()
        });
        for (path, read) in reads {
            match read {
                Read::Gone => {
                    self.retry.remove(&path);
                    if let Some(t) = self.objects.get_mut(&path) {
                        report_changes(
                            &path,
                            t.reported.take().unwrap_or_default(),
                            &BTreeMap::new(),
                            reports.as_deref_mut(),
                        );
                        // Keep the input (one per path), without the bytes.
                        changed |= t.digest.take().is_some();
                        drop_bytes(&mut self.db, t.obj);
                    }
                }
                Read::Busy(why) => self.fail(&path, now, why),
                Read::Bytes(bytes, digest) => {
                    let t =
                        self.objects.entry(path.clone()).or_insert(Tracked { obj: None, digest: None, reported: None });
                    // An input whose file failed to read again holds that
                    // error memoized: it is set again even to the same bytes.
                    let stale = t.obj.is_some_and(|o| o.bytes(&self.db).failed_to_load());
                    if t.digest == Some(digest) && !stale {
                        // Same bytes. After a failed attempt the memoized
                        // error stands, but ask again (cheap) so the retry
                        // goes on or ends.
                        match t.obj {
                            Some(obj) if self.retry.contains_key(&path) || t.reported.is_none() => {
                                version.push((path, obj))
                            }
                            Some(_) => {}
                            None => {
                                self.retry.remove(&path);
                            }
                        }
                        continue;
                    }
                    t.digest = Some(digest);
                    changed = true;
                    let Some(bytes) = bytes else {
                        drop_bytes(&mut self.db, t.obj);
                        self.retry.remove(&path);
                        let old = t.reported.replace(BTreeMap::new()).unwrap_or_default();
                        report_changes(&path, old, &BTreeMap::new(), reports.as_deref_mut());
                        continue;
                    };
                    let obj = match t.obj {
                        Some(obj) => {
                            db::update_bytes(&mut self.db, obj, bytes);
                            obj
                        }
                        None => {
                            let obj = ObjectFile::new(&self.db, path.as_os_str().as_encoded_bytes().to_vec(), bytes);
                            t.obj = Some(obj);
                            obj
                        }
                    };
                    version.push((path, obj));
                }
            }
        }
        changed
    }

    /// Versions `objects` and reports what they export now.
    fn version(
        &mut self,
        objects: &[(PathBuf, ObjectFile)],
        now: Instant,
        progress: Option<&Progress>,
        mut reports: Option<&mut Vec<Report>>,
    ) {
        let options = self.options;
        // In chunks, letting salsa drop the least recently used passes (a
        // pass holds its object's whole type map) between them.
        for chunk in objects.chunks(EVICT_EVERY) {
            // A handle per worker; all are dropped before the next setter
            // call, which would otherwise wait for them.
            let db = self.db.clone();
            let results = self.pool.install(move || {
                chunk
                    .par_iter()
                    .map_with(db, |db, (path, obj)| {
                        let r = db::export_versions(db, *obj, options).clone().map_err(|e| e.to_string());
                        progress.inspect(|b| b.tick(r.as_ref().map_or(0, |v| v.exports.len() as u64)));
                        (path, r)
                    })
                    .collect::<Vec<_>>()
            });
            self.db.evict();
            for (path, result) in results {
                self.take_result(path, result, now, reports.as_deref_mut());
            }
        }
    }

    /// Reports what a versioned object exports now and lets its bytes go.
    fn take_result(
        &mut self,
        path: &Path,
        result: Result<ObjectVersions, String>,
        now: Instant,
        reports: Option<&mut Vec<Report>>,
    ) {
        match result {
            Ok(v) => {
                self.retry.remove(path);
                let new: BTreeMap<Vec<u8>, Option<u32>> =
                    v.exports.iter().map(|x| (x.export.name.clone(), x.crc)).collect();
                let Some(t) = self.objects.get_mut(path) else { return };
                report_changes(path, t.reported.take().unwrap_or_default(), &new, reports);
                t.reported = Some(new);
                // Its versions are reported and memoized: the bytes (the
                // exporting objects of a kernel are gigabytes) are read
                // from the file again only if a query runs again, e.g. a
                // server's after its pass was evicted. Letting them go is
                // not a salsa write, so nothing computed from them is lost.
                if let Some(obj) = t.obj {
                    obj.bytes(&self.db).let_go();
                }
            }
            Err(e) => self.fail(path, now, e),
        }
    }

    /// Schedules another try of an object that could not be versioned, or
    /// gives up on it for now.
    fn fail(&mut self, path: &Path, now: Instant, error: String) {
        let r = self.retry.entry(path.to_path_buf()).or_insert(Retry {
            attempt: 0,
            due: now,
            since: now,
            error: String::new(),
        });
        r.error = error;
        if now.duration_since(r.since) >= GIVE_UP {
            let r = self.retry.remove(path);
            eprintln!(
                "error: dwarfksyms: {}: {} (waiting for it to change)",
                path.display(),
                r.map(|r| r.error).unwrap_or_default()
            );
            return;
        }
        let delay = RETRY_FIRST.saturating_mul(1 << r.attempt.min(10)).min(RETRY_MAX);
        r.attempt += 1;
        r.due = now + delay;
    }
}

/// What a path exported (`old`) against what it exports now (`new`):
/// changed, added and removed exports (none without `reports`).
fn report_changes(
    path: &Path,
    old: BTreeMap<Vec<u8>, Option<u32>>,
    new: &BTreeMap<Vec<u8>, Option<u32>>,
    reports: Option<&mut Vec<Report>>,
) {
    let Some(reports) = reports else { return };
    for (symbol, &crc) in new {
        match old.get(symbol) {
            None => reports.push(Report::Added { symbol: symbol.clone(), object: path.to_path_buf(), new: crc }),
            Some(&was) if was != crc => {
                reports.push(Report::Changed { symbol: symbol.clone(), object: path.to_path_buf(), old: was, new: crc })
            }
            Some(_) => {}
        }
    }
    for (symbol, crc) in old {
        if !new.contains_key(&symbol) {
            reports.push(Report::Removed { symbol, object: path.to_path_buf(), old: crc });
        }
    }
}

/// Empties an input's bytes; it stays, one per path, for when the path
/// has bytes again.
fn drop_bytes(db: &mut Database, obj: Option<ObjectFile>) {
    if let Some(obj) = obj {
        db::update_bytes(db, obj, Bytes::from(Vec::new()));
    }
}

/// Writes lines to stdout and flushes (a reader is waiting on a pipe).
fn emit(lines: &[String]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for l in lines {
        out.write_all(l.as_bytes())?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refreshes `paths`, checks that the reports came in `want_calls`
    /// calls (one per chunk versioned) and in (object, symbol) order over
    /// all of them, and returns them.
    fn refresh_in_order(w: &mut Watch, paths: &BTreeSet<PathBuf>, want_calls: usize) -> Vec<Report> {
        let mut calls: Vec<Vec<Report>> = Vec::new();
        let flow = w.refresh(
            paths,
            Instant::now(),
            Duration::ZERO,
            None,
            Some(&mut |reports| {
                calls.push(reports);
                ControlFlow::Continue(())
            }),
        );
        assert_eq!(flow, ControlFlow::Continue(true));
        assert_eq!(calls.len(), want_calls, "calls for {} objects in chunks of {EVICT_EVERY}", paths.len());
        let reports: Vec<Report> = calls.into_iter().flatten().collect();
        let keys: Vec<(&Path, &[u8])> = reports.iter().map(Report::key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted, "reports out of order or repeated");
        reports
    }

    /// A batch of more objects than a chunk is reported over several
    /// calls; each call's reports are sorted and follow on from the last
    /// call's, so the batch comes out in (object, symbol) order, whole,
    /// also when objects gone (reported as they are read) and objects
    /// changed (reported once versioned) share a chunk.
    #[test]
    fn a_batch_of_several_chunks_is_reported_in_order() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/modules");
        let dir = std::env::temp_dir().join(format!("dwarfksyms-watch-order-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Two modules taking turns: 4 exports and 1.
        let modules = [("crypto/cast_common.ko", 4), ("lib/crc/crc16.ko", 1)];
        let n = 2 * EVICT_EVERY + 10;
        let path = |i: usize| dir.join(format!("m{i:03}.ko"));
        let mut exports = 0;
        for i in 0..n {
            std::fs::copy(data.join(modules[i % 2].0), path(i)).unwrap();
            exports += modules[i % 2].1;
        }
        let paths: BTreeSet<PathBuf> = (0..n).map(path).collect();
        let mut w = Watch {
            db: Database::default(),
            options: Options { defer_versions: true, ..Options::default() },
            debounce: Duration::ZERO,
            pool: rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap(),
            roots: vec![Root { shown: dir.clone(), abs: dir.clone(), dir: true }],
            objects: BTreeMap::new(),
            retry: BTreeMap::new(),
        };
        let first = refresh_in_order(&mut w, &paths, 3);
        assert_eq!(first.len(), exports);
        assert!(first.iter().all(|r| matches!(r, Report::Added { new: Some(_), .. })));

        // Every third object removed, the others' modules swapped.
        let (mut removed, mut swapped) = (0, 0);
        for i in 0..n {
            if i % 3 == 0 {
                std::fs::remove_file(path(i)).unwrap();
                removed += modules[i % 2].1;
            } else {
                std::fs::copy(data.join(modules[(i + 1) % 2].0), path(i)).unwrap();
                swapped += modules[0].1 + modules[1].1;
            }
        }
        // Objects gone are not versioned: reading goes on past a chunk
        // until a chunk's worth is to be versioned (3 calls if it did not).
        let second = refresh_in_order(&mut w, &paths, 2);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(second.len(), removed + swapped);
    }
}
