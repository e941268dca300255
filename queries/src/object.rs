//! One object file, processed as upstream processes it: symbol table, kABI
//! rules, every unit, then the type map, versions and the symtypes block.
//!
//! This is the ordered per-object computation that the salsa queries wrap.
//! It takes the run's symbol table as the previous object left it and
//! returns the table as this object leaves it.

use std::time::{Duration, Instant};

use crate::crc::{Fingerprint, Frozen};
use crate::dies::{DieIdx, Dies, DwarfError};
use crate::elf::ElfFile;
use crate::error::Error;
use crate::kabi::{Rules, RulesLog};
use crate::log::Log;
use crate::render::{self, Renderer, State};
use crate::symbols::{SymState, SymbolTable};
use crate::typemap;
use crate::unitcache::UnitCache;
use crate::units;

/// The options that change what one object produces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Options {
    pub stable: bool,
    pub debug: bool,
    pub dump_dies: bool,
    pub dump_die_map: bool,
    pub dump_types: bool,
    pub dump_versions: bool,
    /// A symtypes file was requested (`-T`): symbols get type-map lines.
    pub symtypes: bool,
    /// Read every unit up front instead of one at a time (what a reference
    /// across units forces); the output must not change, which tests check.
    pub all_units: bool,
    /// Render units on several threads even when the object has few of
    /// them (normally only objects with many units are split); for tests.
    pub split_units: bool,
    /// Leave the CRCs to the caller: the outcome carries the symbols to
    /// version and the frozen type map ([`Deferred`]), so that salsa can
    /// version each symbol as a query of its content (`db::symbol_version`)
    /// and reuse it wherever that content recurs. Only where nothing
    /// observes the order versions are computed in: not with `--stable`
    /// (a rule can add types while versioning), `--debug` or the dumps.
    pub defer_versions: bool,
}

impl Options {
    fn defers(&self) -> bool {
        self.defer_versions
            && !self.stable
            && !self.debug
            && !self.dump_dies
            && !self.dump_die_map
            && !self.dump_types
            && !self.dump_versions
    }
}

/// Versions left to the caller ([`Options::defer_versions`]): the type map
/// compiled, and the symbols to version in upstream's order, each with its
/// text and content key. Equal when the keys are: a key covers the text
/// and everything it reaches.
pub struct Deferred {
    pub map: Frozen,
    /// (symbol id in the run's table, its text, its content key).
    pub symbols: Vec<(u32, typemap::Expansion, Fingerprint)>,
}

impl PartialEq for Deferred {
    fn eq(&self, other: &Deferred) -> bool {
        self.symbols.len() == other.symbols.len()
            && self.symbols.iter().zip(&other.symbols).all(|(a, b)| a.0 == b.0 && a.2 == b.2)
    }
}

impl Eq for Deferred {}

impl std::hash::Hash for Deferred {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        for (id, _, key) in &self.symbols {
            id.hash(h);
            key.hash(h);
        }
    }
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Deferred({} symbols)", self.symbols.len())
    }
}

/// The run-level state threaded from one object to the next.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunState {
    pub table: SymbolTable,
    /// `--debug` cache hits and misses, never reset upstream.
    pub counters: (u32, u32),
}

/// What one object produced.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectOutcome {
    /// stderr bytes, in order (debug lines, warnings, dumps).
    pub log: Vec<u8>,
    /// Where in `log` upstream writes the symtypes block: before
    /// `--debug`'s cache statistics, after everything else.
    pub symtypes_at: usize,
    /// This object's symtypes block (empty when `-T` was not given or on
    /// error); shared with the versions and type graphs made from it. An
    /// `Arc` of the `Vec` the block was written in: an `Arc<[u8]>` would
    /// copy it (498 KB for mm/vmscan.o) into fresh memory.
    pub symtypes: std::sync::Arc<Vec<u8>>,
    /// The run state this object leaves; unspecified after an error.
    pub state: RunState,
    pub error: Option<Error>,
    /// With [`Options::defer_versions`]: the versions still to compute.
    pub deferred: Option<std::sync::Arc<Deferred>>,
}

/// A global symbol as upstream's symbol-table scan sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ElfSym {
    pub name: Vec<u8>,
    pub shndx: u32,
    pub value: u64,
}

/// An object's global symbols (upstream's `elf_for_each_global`): the ones
/// read, and the error that stopped reading them, if one did (upstream
/// has handled the ones before it when it stops).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Globals {
    pub symbols: Vec<ElfSym>,
    pub error: Option<Error>,
}

/// The global symbols of an object.
pub fn global_symbols(bytes: &[u8]) -> Result<Globals, Error> {
    let elf = ElfFile::parse(bytes)?;
    let mut read = Vec::new();
    let error = elf.global_symbols_into(&mut read).err().map(Error::from);
    let symbols = read.into_iter().map(|s| ElfSym { name: s.name.to_vec(), shndx: s.shndx, value: s.value }).collect();
    Ok(Globals { symbols, error })
}

/// Processes one object. `name` is the argument as given (upstream prints it);
/// `obj` numbers the object within the run; `globals` is its symbol table.
pub fn process(
    name: &[u8],
    bytes: &[u8],
    globals: &Result<Globals, Error>,
    obj: u32,
    state: RunState,
    opts: &Options,
    cache: Option<&UnitCache>,
) -> ObjectOutcome {
    process_with(name, bytes, globals, obj, state, opts, false, cache)
}

/// [`process`], reading every DIE even where nothing observes it (function
/// bodies are normally skipped, see [`Dies::new`]); tests prove both equal.
pub fn process_reading_every_die(
    name: &[u8],
    bytes: &[u8],
    globals: &Result<Globals, Error>,
    obj: u32,
    state: RunState,
    opts: &Options,
) -> ObjectOutcome {
    process_with(name, bytes, globals, obj, state, opts, true, None)
}

#[allow(clippy::too_many_arguments)]
fn process_with(
    name: &[u8],
    bytes: &[u8],
    globals: &Result<Globals, Error>,
    obj: u32,
    mut state: RunState,
    opts: &Options,
    every_die: bool,
    cache: Option<&UnitCache>,
) -> ObjectOutcome {
    let mut log = Log::new(opts.debug);
    let mut symtypes = Vec::new();
    let mut deferred = None;
    let mut symtypes_at = None;
    let error = run(
        name,
        bytes,
        globals,
        obj,
        &mut state,
        opts,
        every_die,
        &mut log,
        &mut symtypes,
        &mut symtypes_at,
        &mut deferred,
        cache,
    )
    .err();
    ObjectOutcome {
        symtypes_at: symtypes_at.unwrap_or(log.bytes.len()),
        log: log.bytes,
        symtypes: std::sync::Arc::new(symtypes),
        state,
        error,
        deferred: deferred.map(std::sync::Arc::new),
    }
}

impl ObjectOutcome {
    /// A pass that could not start (its object's bytes could not be had):
    /// nothing logged or written, the run state as it was.
    pub fn failed(state: RunState, error: Error) -> ObjectOutcome {
        ObjectOutcome {
            log: Vec::new(),
            symtypes_at: 0,
            symtypes: Default::default(),
            state,
            error: Some(error),
            deferred: None,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    name: &[u8],
    bytes: &[u8],
    globals: &Result<Globals, Error>,
    obj: u32,
    state: &mut RunState,
    opts: &Options,
    full_dies: bool,
    log: &mut Log,
    symtypes: &mut Vec<u8>,
    symtypes_at: &mut Option<usize>,
    deferred: &mut Option<Deferred>,
    cache: Option<&UnitCache>,
) -> Result<(), Error> {
    let _span = tracing::debug_span!("object", name = %String::from_utf8_lossy(name)).entered();
    if !crate::elf::is_elf(bytes) {
        // Where upstream crashes, say which file is not ELF.
        let msg = format!("elf_begin failed: '{}' is {}", String::from_utf8_lossy(name), crate::elf::NOT_ELF);
        return Err(Error::new("elf_for_each_global", msg));
    }
    let globals = globals.as_ref().map_err(Clone::clone)?;
    read_symtab(&globals.symbols, state, log);
    if let Some(e) = &globals.error {
        return Err(e.clone());
    }
    let elf = ElfFile::parse(bytes)?;
    let rules = if opts.stable { read_rules(&elf, log)? } else { Rules::default() };
    if !elf.dwfl_reports() {
        let msg = format!(
            "dwfl_report_offline failed for '{}': {}",
            String::from_utf8_lossy(name),
            crate::elf::REPORT_FAILED
        );
        return Err(Error::new("main", msg));
    }
    log.debug("process_module", name);
    let sections = elf.dwarf_sections_for(crate::dies::SECTIONS_READ)?;
    // Function bodies matter only to `--debug`'s counts (and, for safety,
    // the dumps are left to read everything too).
    let skip_bodies = !full_dies && !opts.debug && !opts.dump_dies && !opts.dump_die_map;
    let mut dies = Dies::new(&sections, opts.all_units, skip_bodies).map_err(|e| match e {
        DwarfError::NoDebugInfo => {
            Error::new("process_module", "dwarf_get_units failed: no debugging information?".into())
        }
        DwarfError::TooLarge(len) => Error::new(
            "process_module",
            format!("'{}': .debug_info is {len} bytes; dwarfksyms reads at most 4 GiB", String::from_utf8_lossy(name)),
        ),
    })?;
    let flags = render::Flags {
        stable: opts.stable,
        debug: opts.debug,
        dump_dies: opts.dump_dies,
        dump_die_map: opts.dump_die_map,
    };
    let mut r = Renderer::new(&mut dies, &rules, flags, obj, state.counters, log);
    let result = process_units(&mut r, state, &rules, opts, symtypes, deferred, cache);
    if opts.debug {
        // Only `--debug` prints them; leaving them alone otherwise keeps
        // the run state (a query key) independent of cache behaviour.
        state.counters = (r.hits, r.misses);
    }
    // Upstream writes the block here, before the statistics (die_map_free).
    *symtypes_at = Some(r.log.bytes.len());
    if result.is_ok() && opts.debug {
        let (h, m) = (r.hits, r.misses);
        if h + m > 0 {
            let rate = (100.0f32 * h as f32) / (h + m) as f32;
            r.log.debug("die_map_free", format!("hits {h}, misses {m} (hit rate {rate:.2}%)").as_bytes());
        }
        let stats = r.stats();
        for s in State::ALL {
            r.log.debug("die_map_free", format!("{}: {} entries", s.name(), stats[s as usize]).as_bytes());
        }
    }
    result
}

fn process_units(
    r: &mut Renderer<'_, '_>,
    state: &mut RunState,
    rules: &Rules,
    opts: &Options,
    symtypes: &mut Vec<u8>,
    deferred: &mut Option<Deferred>,
    cache: Option<&UnitCache>,
) -> Result<(), Error> {
    let flags = typemap::Flags {
        stable: opts.stable,
        dump_types: opts.dump_types,
        dump_versions: opts.dump_versions,
        symtypes: opts.symtypes,
    };
    let mut map = typemap::TypeMap::default();
    let mut symbol_texts: rustc_hash::FxHashMap<DieIdx, typemap::Expansion> = Default::default();
    // Upstream fills the type map once all units are done. When nothing
    // shows the order (no debug or type dumps) and units do not refer to
    // each other, each unit's entries are turned into text as soon as the
    // unit is done and then dropped: a kernel image has thousands of units.
    let streaming = !opts.debug && !opts.dump_types;
    let (mut t_units, mut t_offer) = (Duration::ZERO, Duration::ZERO);
    // Asked only when there are units to share: finding out reads cgroup
    // files, a real cost for a one-unit object.
    let threads =
        || std::thread::available_parallelism().map_or(1, |n| n.get()).max(if opts.split_units { 2 } else { 1 });
    let mut first_unit = 0;
    let many = r.dies.unit_count() >= 16;
    // Rules come from the object's own section and are not part of a
    // unit's key: with rules, nothing is shared.
    let cache = cache.filter(|c| c.serves(r.dies.unit_count()) && rules.is_empty());
    if streaming
        && !opts.dump_dies
        && !opts.dump_die_map
        && !opts.all_units
        && (cache.is_some() || opts.split_units || (many && threads() > 1))
    {
        // With a cache, units go this way whatever their number, so that
        // a one-unit `.o` and the object linked from it share its unit.
        let threads = if opts.split_units || many { threads() } else { 1 };
        let t = Instant::now();
        let before = state.table.clone();
        let rflags = render::Flags { stable: opts.stable, debug: false, dump_dies: false, dump_die_map: false };
        match units::render_units(
            r.dies,
            rules,
            rflags,
            &flags,
            r.obj(),
            &mut state.table,
            &mut map,
            &mut symbol_texts,
            threads,
            cache,
        )? {
            units::Outcome::Done => first_unit = r.dies.unit_count(),
            units::Outcome::NeedsAllUnits => {
                // Start over on one thread with every unit loaded.
                state.table = before;
                map = typemap::TypeMap::default();
                symbol_texts.clear();
            }
        }
        t_units += t.elapsed();
    }
    let units = r.dies.unit_count();
    // Upstream expands types once every unit is done: where expanding an
    // earlier unit's fails (hostile DWARF), a later unit that fails to
    // read fails first.
    let mut expand_error = None;
    for unit in first_unit..units {
        let _span = tracing::trace_span!("unit", unit).entered();
        let t = Instant::now();
        r.process_unit(unit, &mut state.table)?;
        t_units += t.elapsed();
        if streaming && !r.dies.is_whole() {
            let t = Instant::now();
            if unit + 1 == units {
                // Texts are made from the cache alone: the last unit's
                // DIEs can make room for them.
                r.dies.release();
            }
            if expand_error.is_none() {
                match typemap::offer_entries(r, rules, &flags, &mut |n, e, log| map.add(n, e, &flags, log)) {
                    Ok(texts) => symbol_texts.extend(texts),
                    Err(e) => expand_error = Some(e),
                }
            }
            r.clear_entries();
            t_offer += t.elapsed();
        }
    }
    if let Some(e) = expand_error {
        return Err(e);
    }
    let t = Instant::now();
    if streaming {
        r.dies.release();
    }
    symbol_texts.extend(typemap::offer_entries(r, rules, &flags, &mut |n, e, log| map.add(n, e, &flags, log))?);
    if streaming {
        r.release();
    }
    t_offer += t.elapsed();
    let t_versions = Instant::now();
    let obj = r.obj();
    // Which symbols get a version here, in upstream's order: a symbol is
    // skipped once an alias of it has one (set_crc marks the whole group).
    let mut plan = Vec::new();
    let mut done: rustc_hash::FxHashSet<u32> = Default::default();
    for &id in state.table.order() {
        let sym = &state.table.syms[id as usize];
        let processed = sym.state == SymState::Processed || done.contains(&id);
        if !opts.symtypes && processed {
            continue;
        }
        let Some((o, die)) = sym.die else { continue };
        if o != obj {
            continue;
        }
        let Some(raw) = symbol_texts.get(&die) else { continue };
        let exp = typemap::symbol_text(&sym.name, raw, rules, &flags)?;
        if !processed {
            done.extend(state.table.group_of(id));
        }
        plan.push((id, !processed, exp));
    }
    // Deferred: the caller versions the symbols by content (`Deferred`);
    // otherwise they are versioned here, in upstream's order.
    let mut defer = opts.defers().then(|| {
        let frozen = map.freeze();
        let keys = frozen.fingerprints(plan.iter().filter(|p| p.1).map(|p| &p.2));
        (frozen, keys.into_iter(), Vec::new())
    });
    let mut versions = match defer {
        Some(_) => Vec::new(),
        None => map.versions(plan.iter().filter(|p| p.1).map(|p| &p.2), rules, &flags, r.log),
    }
    .into_iter();
    for (id, compute, exp) in plan {
        let name = state.table.syms[id as usize].name.clone();
        if compute {
            if let Some((_, keys, symbols)) = &mut defer {
                symbols.push((id, exp.clone(), keys.next().expect("a key per symbol to version")));
            } else {
                let Some(version) = versions.next() else { break };
                let (crc, text) = version?;
                for (m, old) in state.table.set_crc(id, crc) {
                    let n = &state.table.syms[m as usize].name;
                    r.log.warn(
                        "set_crc",
                        format!(
                            "overriding version for symbol {} (crc {old:x} vs. {crc:x})",
                            String::from_utf8_lossy(n)
                        )
                        .as_bytes(),
                    );
                }
                if r.log.debug {
                    r.log.debug("expand_symbol", format!("{} = {crc:x}", String::from_utf8_lossy(&name)).as_bytes());
                }
                if let Some(t) = text {
                    r.log.raw(&name);
                    r.log.raw(b" ");
                    r.log.raw(&t);
                    r.log.raw(b"\n");
                }
            }
        }
        if opts.symtypes {
            map.add_symbol(&name, exp, &flags, r.log);
        }
    }
    if let Some((frozen, _, symbols)) = defer {
        *deferred = Some(Deferred { map: frozen, symbols });
    }
    if opts.symtypes {
        *symtypes = map.write();
    }
    tracing::debug!(
        units = ?t_units,
        type_map = ?t_offer,
        versions = ?t_versions.elapsed(),
        "object phases"
    );
    Ok(())
}

fn read_symtab(globals: &[ElfSym], state: &mut RunState, log: &mut Log) {
    for sym in globals {
        if sym.shndx == 0 {
            continue;
        }
        for event in state.table.set_addr(&sym.name, (sym.shndx, sym.value)) {
            match event {
                Ok(m) => {
                    let s = &state.table.syms[m as usize];
                    let mut line = s.name.clone();
                    line.extend_from_slice(format!(" -> {{ {}, {:x} }}", s.addr.0, s.addr.1).as_bytes());
                    log.debug("set_symbol_addr", &line);
                }
                Err(m) => {
                    let mut line = b"multiple addresses for symbol ".to_vec();
                    line.extend_from_slice(&state.table.syms[m as usize].name);
                    line.push(b'?');
                    log.warn("set_symbol_addr", &line);
                }
            }
        }
    }
}

fn read_rules(elf: &ElfFile<'_>, log: &mut Log) -> Result<Rules, Error> {
    let Some(data) = elf.kabi_rules()? else {
        log.debug("kabi_read_rules", b"kABI rules not found");
        return Ok(Rules::default());
    };
    let mut rl = RulesLog::default();
    let result = Rules::parse(data, &mut rl);
    for (t, target, value) in &rl.rules {
        let line = [&b"kABI rule: type: '"[..], t, b"', target: '", target, b"', value: '", value, b"'"].concat();
        log.debug("kabi_read_rules", &line);
    }
    let rules = result?;
    if rl.trailing_data {
        log.warn("kabi_read_rules", b"unexpected data at the end of the kABI rules section");
    }
    Ok(rules)
}
