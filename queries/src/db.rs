//! The salsa database: inputs and tracked queries.
//!
//! An object file's bytes are an input. Reading its symbol table is a query
//! of the object alone; the ordered per-object pass (upstream's algorithm,
//! with its render cache as plain data) is a query of the object and of the
//! run state it starts from; the versions of an object's own exports are
//! a query over that pass, so salsa's early cut-off stops there when a
//! rewritten object renders the same.
//!
//! A command line with several objects is a fold: each object's pass
//! starts from the state the previous one returned (upstream threads its
//! symbol table through the objects in order).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, Weak};

use crate::crc::Fingerprint;

use crate::bytes::Bytes;
use crate::error::Error;
use crate::object::{self, Deferred, Globals, ObjectOutcome, Options, RunState};
use crate::symbols::SymbolTable;
use crate::unitcache::UnitCache;

/// One object file: the name it is shown by (upstream prints the argument
/// as given) and its bytes.
#[salsa::input(debug)]
pub struct ObjectFile {
    #[returns(ref)]
    pub name: Vec<u8>,
    #[returns(ref)]
    pub bytes: Bytes,
}

/// Where an object's pass starts: its position in the run, the run state
/// the previous objects left and the options.
#[salsa::interned(debug)]
pub struct Step<'db> {
    #[returns(copy)]
    pub position: u32,
    #[returns(ref)]
    pub state: RunState,
    #[returns(copy)]
    pub options: Options,
}

/// The global symbols of the object's `SHT_SYMTAB` sections.
#[salsa::tracked(returns(ref))]
pub fn global_symbols(db: &dyn salsa::Database, obj: ObjectFile) -> Result<Globals, Error> {
    let _span = tracing::debug_span!("global_symbols", name = %String::from_utf8_lossy(obj.name(db))).entered();
    object::global_symbols(&load(db, obj)?)
}

/// The input's bytes. A file's, let go and read again, fail if the file
/// changed meanwhile (see [`Bytes::load`]); the query then runs again in
/// the next revision, by which time the watcher has given the input the
/// new bytes (or, if the file came back as it was, set the same bytes
/// again: [`update_bytes`] does for an input that failed to load).
fn load(db: &dyn salsa::Database, obj: ObjectFile) -> Result<crate::bytes::Loaded, Error> {
    obj.bytes(db).load().inspect_err(|_| db.report_untracked_read())
}

/// Upstream's whole per-object pass, in its order. A pass holds its
/// object's type map; salsa keeps the values of the most recent ones only
/// (`lru`; what read them stays valid, and an evicted pass is run again
/// if it is asked for).
#[salsa::tracked(returns(ref), lru = 64)]
pub fn object_pass<'db>(db: &'db dyn Db, obj: ObjectFile, step: Step<'db>) -> ObjectOutcome {
    let _span = tracing::debug_span!("object_pass", name = %String::from_utf8_lossy(obj.name(db))).entered();
    let globals = global_symbols(db, obj);
    let (position, state, options) = (step.position(db), step.state(db).clone(), step.options(db));
    match load(db, obj) {
        Ok(bytes) => object::process(obj.name(db), &bytes, globals, position, state, &options, db.unit_cache()),
        Err(e) => ObjectOutcome::failed(state, e),
    }
}

/// What the queries ask of the database beyond salsa's storage.
#[salsa::db]
pub trait Db: salsa::Database {
    /// Unit renderings shared with other databases, if this one shares
    /// them. Not an input: a cache by content cannot change a result (see
    /// `unitcache`), only how much rendering a pass does.
    fn unit_cache(&self) -> Option<&UnitCache>;
}

/// The database. Cloning it gives another handle on the same storage
/// (one per worker thread).
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    renders: Option<Arc<UnitCache>>,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {
    fn unit_cache(&self) -> Option<&UnitCache> {
        self.renders.as_deref()
    }
}

impl Database {
    /// This database, sharing unit renderings through `cache` (with every
    /// other database given it: `dwarfksyms versions` has one per object).
    pub fn sharing_renders(mut self, cache: Arc<UnitCache>) -> Database {
        self.renders = Some(cache);
        self
    }

    /// Drops the values of the least recently used passes beyond their
    /// `lru` capacity (salsa does so only when asked or at a new revision).
    pub fn evict(&mut self) {
        salsa::Database::trigger_lru_eviction(self);
    }

    /// A database that records the name of every query that executes, for
    /// tests that count re-execution.
    pub fn with_log(log: Arc<Mutex<Vec<String>>>) -> Database {
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                log.lock().unwrap().push(format!("{database_key:?}"));
            }
        })));
        Database { storage, renders: None }
    }
}

/// The result of running objects in order, as the drop-in reports it.
pub struct Run {
    /// Per object, in order: its outcome (the last one may carry an error).
    pub outcomes: Vec<ObjectOutcome>,
    pub state: RunState,
}

/// Runs upstream's per-object fold over `objects`, stopping at the first
/// object that fails (upstream exits there).
pub fn run(db: &Database, objects: &[ObjectFile], table: SymbolTable, options: Options) -> Run {
    let (outcomes, state) = run_borrowed(db, objects, table, options);
    Run { outcomes: outcomes.into_iter().cloned().collect(), state }
}

/// [`run`], with the outcomes as the database keeps them (a symtypes
/// block can be large, and a one-shot run only prints it).
pub fn run_borrowed<'db>(
    db: &'db Database,
    objects: &[ObjectFile],
    table: SymbolTable,
    options: Options,
) -> (Vec<&'db ObjectOutcome>, RunState) {
    let mut state = RunState { table, counters: (0, 0) };
    let mut outcomes = Vec::new();
    for (n, &obj) in objects.iter().enumerate() {
        let step = Step::new(db, n as u32, state, options);
        let out = object_pass(db, obj, step);
        state = out.state.clone();
        outcomes.push(out);
        if out.error.is_some() {
            break;
        }
    }
    (outcomes, state)
}

/// One export of an object and the version it gets (`None`: no DWARF
/// information; upstream prints CRC 0 with a warning).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Versioned {
    pub export: crate::exports::Export,
    pub crc: Option<u32>,
}

/// The versions of an object's own exports, with its symtypes block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectVersions {
    pub exports: Vec<Versioned>,
    pub symtypes: Arc<Vec<u8>>,
}

/// What the object exports, found in the object itself.
#[salsa::tracked(returns(ref))]
pub fn object_exports(db: &dyn salsa::Database, obj: ObjectFile) -> Result<Vec<crate::exports::Export>, Error> {
    let _span = tracing::debug_span!("object_exports", name = %String::from_utf8_lossy(obj.name(db))).entered();
    crate::exports::exports(&load(db, obj)?)
}

/// The versions of an object's exports: exactly what the drop-in prints
/// when fed the object's export list (the same `object_pass`).
#[salsa::tracked(returns(ref))]
pub fn export_versions(db: &dyn Db, obj: ObjectFile, options: Options) -> Result<ObjectVersions, Error> {
    let _span = tracing::debug_span!("export_versions", name = %String::from_utf8_lossy(obj.name(db))).entered();
    let exports = object_exports(db, obj).clone()?;
    if exports.is_empty() {
        return Ok(ObjectVersions { exports: Vec::new(), symtypes: Default::default() });
    }
    let names: Vec<Vec<u8>> = exports.iter().map(|e| e.name.clone()).collect();
    let (table, _) = SymbolTable::new(&names);
    let (table, out) = versioned_pass(db, obj, table, options)?;
    let exports = exports
        .into_iter()
        .map(|export| {
            let crc = table.lookup(&export.name).and_then(|id| {
                let s = &table.syms[id as usize];
                (s.state == crate::symbols::SymState::Processed).then_some(s.crc)
            });
            Versioned { export, crc }
        })
        .collect();
    Ok(ObjectVersions { exports, symtypes: out.symtypes.clone() })
}

/// A symbol's version by content: its text and the text of every type it
/// reaches (a [`Fingerprint`]), with where to find them. Two symbols, in
/// one object or two, in one revision or the next, with the same key have
/// the same version, so salsa computes it once: after an edit, only the
/// symbols that reach a changed type are versioned again.
#[salsa::interned(debug)]
pub struct VersionKey<'db> {
    #[returns(ref)]
    pub closure: Closure,
}

/// The content key and, weakly (an interned key outlives the pass that
/// made it, and must not keep old type maps alive), the pass's symbols.
#[derive(Clone)]
pub struct Closure {
    pub key: Fingerprint,
    pub source: Weak<Deferred>,
    pub index: u32,
}

impl PartialEq for Closure {
    fn eq(&self, other: &Closure) -> bool {
        self.key == other.key
    }
}

impl Eq for Closure {}

impl std::hash::Hash for Closure {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.key.hash(h);
    }
}

impl std::fmt::Debug for Closure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.key)
    }
}

/// The CRC of one symbol (see [`VersionKey`]); `None` when the pass that
/// interned the key is gone before the version was asked for.
#[salsa::tracked(returns(ref))]
pub fn symbol_version<'db>(db: &'db dyn salsa::Database, key: VersionKey<'db>) -> Option<Result<u32, Error>> {
    let c = key.closure(db);
    let _span = tracing::debug_span!("symbol_version", key = ?c).entered();
    let d = c.source.upgrade()?;
    let (_, text, _) = d.symbols.get(c.index as usize)?;
    Some(d.map.version(text))
}

/// The pass of one object from `table` (position 0, as when the object is
/// alone on a command line), with the versions it deferred filled in
/// through [`symbol_version`]: the symbol table as the pass would have left
/// it had it computed them itself.
pub fn versioned_pass(
    db: &dyn Db,
    obj: ObjectFile,
    table: SymbolTable,
    options: Options,
) -> Result<(Cow<'_, SymbolTable>, &ObjectOutcome), Error> {
    let step = Step::new(db, 0, RunState { table, counters: (0, 0) }, options);
    let out = object_pass(db, obj, step);
    if let Some(e) = &out.error {
        return Err(e.clone());
    }
    let mut table = Cow::Borrowed(&out.state.table);
    if let Some(d) = &out.deferred {
        let table = table.to_mut();
        for (i, (id, text, key)) in d.symbols.iter().enumerate() {
            let k = VersionKey::new(db, Closure { key: *key, source: Arc::downgrade(d), index: i as u32 });
            let crc = match symbol_version(db, k) {
                Some(v) => v.clone()?,
                // The key was interned by an earlier pass whose map is gone
                // (and its version was never computed): same content, so
                // compute it here.
                None => d.map.version(text)?,
            };
            table.set_crc(*id, crc);
        }
    }
    Ok((table, out))
}

/// Gives `obj` new bytes, unless they equal the bytes it has: salsa does not
/// compare an input's old and new values, so setting equal bytes would
/// re-run every query that reads them. Returns whether the input changed.
/// (Used by `dwarfksyms watch` when a file is rewritten.)
pub fn update_bytes(db: &mut Database, obj: ObjectFile, bytes: Bytes) -> bool {
    // An input whose file could not be read again holds memoized errors:
    // set it even to the same bytes, which re-runs them.
    if *obj.bytes(db) == bytes && !obj.bytes(db).failed_to_load() {
        return false;
    }
    use salsa::Setter;
    obj.set_bytes(db).to(bytes);
    true
}
