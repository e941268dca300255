//! Rendering DIEs into piece lists, in upstream's order and with its cache.
//!
//! Upstream builds type strings lazily in a per-object cache keyed by
//! (DIE, state), and several observable results depend on exactly when an
//! entry is rendered fresh rather than replayed: the `--debug` hit/miss
//! counts, the `--dump-dies` text and the `--stable` substitute-name leak.
//! So this module runs upstream's algorithm step for step, with the cache
//! as plain data ([`Entry`]) that the type map later reads.

use gimli::constants as dw;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::dies::{Broken, ChildrenEnd, DeclFile, DieIdx, Dies, LineTable, Num, TypeRefError, NONE};
use crate::error::Error;
use crate::kabi::Rules;
use crate::log::Log;
use crate::symbols::{SymState, SymbolTable, PTR_PREFIX};

mod piece;
mod slots;
pub use piece::Packed;

/// Upstream's cache states; the discriminants are its enum values (the
/// `--debug` statistics print them in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Incomplete = 0,
    Fqn = 1,
    Unexpanded = 2,
    Complete = 3,
    Symbol = 4,
}

impl State {
    pub const ALL: [State; 5] = [State::Incomplete, State::Fqn, State::Unexpanded, State::Complete, State::Symbol];
    pub fn name(self) -> &'static str {
        match self {
            State::Incomplete => "DIE_INCOMPLETE",
            State::Fqn => "DIE_FQN",
            State::Unexpanded => "DIE_UNEXPANDED",
            State::Complete => "DIE_COMPLETE",
            State::Symbol => "DIE_SYMBOL",
        }
    }
}

/// Text the renderer made (numbers, qualified names): a range of its
/// `texts`. Pieces and names hold no reference counts, so an entry is
/// dropped without visiting its pieces, and copied without counting.
#[derive(Debug, Clone, Copy)]
pub struct Made(u32, u32);

#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    Str(&'a [u8]),
    Own(Made),
    /// A line break that changes the indentation by this much.
    Break(i8),
    /// The rendering of another DIE, resolved when text is produced.
    Die(DieIdx),
}

/// A fully qualified name: the DIE's own name (most C names), or one the
/// renderer composed from its parents'.
#[derive(Debug, Clone, Copy)]
pub enum Fqn<'a> {
    Name(&'a [u8]),
    Made(Made),
}

/// The bytes of a name, the empty name for none.
fn fqn_bytes<'s>(texts: &'s [u8], f: Option<Fqn<'s>>) -> &'s [u8] {
    match f {
        Some(Fqn::Name(n)) => n,
        Some(Fqn::Made(m)) => made(texts, m),
        None => EMPTY,
    }
}

fn made(texts: &[u8], m: Made) -> &[u8] {
    &texts[m.0 as usize..m.1 as usize]
}

pub type EntryId = u32;

#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub die: DieIdx,
    pub state: State,
    pub tag: u16,
    /// `None` until rendering asked for it (upstream's NULL fqn); a
    /// string or made-text piece (see [`Entry::fqn`]).
    fqn: Option<Packed<'a>>,
    /// Boxed rather than a `Vec`: entries are many (one per DIE rendered,
    /// reserved one per DIE read), and finished ones do not grow.
    pub pieces: Box<[Packed<'a>]>,
}

impl<'a> Entry<'a> {
    pub fn fqn(&self) -> Option<Fqn<'a>> {
        self.fqn.map(|p| match p.get() {
            Piece::Own(m) => Fqn::Made(m),
            Piece::Str(s) => Fqn::Name(s),
            Piece::Break(_) | Piece::Die(_) => Fqn::Name(EMPTY),
        })
    }
}

/// What the renderer needs to know about the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    pub stable: bool,
    pub debug: bool,
    pub dump_dies: bool,
    pub dump_die_map: bool,
}

/// Per-symbol state (upstream's `struct state`).
struct Sym<'a> {
    expand: bool,
    current_fqn: Option<Fqn<'a>>,
    expanded: HashSet<DieIdx>,
    first_list_item: bool,
    /// The renamed-union substitute name (6.7); `None` is upstream's NULL.
    orig_name: Option<&'a [u8]>,
}

impl Sym<'_> {
    fn new() -> Self {
        Sym { expand: true, current_fqn: None, expanded: HashSet::default(), first_list_item: false, orig_name: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kabi {
    /// A container walk that ran to its end (upstream's 0).
    Done = 0,
    Normal = 1,
    Reserved = 2,
    Ignored = 3,
}

/// A string that [`Renderer::emit_number`] joins to a number.
#[derive(Clone, Copy)]
enum Before {
    Nothing,
    SpacedBrace,
    Brace,
    Equals,
}

impl Before {
    fn text(self) -> &'static [u8] {
        match self {
            Before::Nothing => b"",
            Before::SpacedBrace => b" }",
            Before::Brace => b"}",
            Before::Equals => b" = ",
        }
    }
}

/// An opening and closing string of [`Renderer::braced`], and each with
/// the space a line break prints.
struct Braced {
    open: &'static [u8],
    close: &'static [u8],
    open_spaced: &'static [u8],
    spaced_close: &'static [u8],
}

const BRACES: Braced = Braced { open: b" {", close: b"}", open_spaced: b" { ", spaced_close: b" }" };
const PARAMS: Braced = Braced { open: b" (", close: b")", open_spaced: b" ( ", spaced_close: b" )" };
const VARIANT: Braced = Braced { open: b"variant {", close: b"}", open_spaced: b"variant { ", spaced_close: b" }" };
const VARIANT_PART: Braced =
    Braced { open: b"variant_part {", close: b"}", open_spaced: b"variant_part { ", spaced_close: b" }" };

/// Deeper nesting than this is hostile input, not a kernel type.
const MAX_DEPTH: u32 = crate::MAX_NESTING;

/// The tags `process_type_inner` renders; any other is upstream's
/// "unexpected type" (`rendered_is_the_match` holds the list to the match).
const RENDERED: &[gimli::DwTag] = &[
    dw::DW_TAG_atomic_type,
    dw::DW_TAG_const_type,
    dw::DW_TAG_immutable_type,
    dw::DW_TAG_packed_type,
    dw::DW_TAG_pointer_type,
    dw::DW_TAG_reference_type,
    dw::DW_TAG_restrict_type,
    dw::DW_TAG_rvalue_reference_type,
    dw::DW_TAG_shared_type,
    dw::DW_TAG_volatile_type,
    dw::DW_TAG_class_type,
    dw::DW_TAG_structure_type,
    dw::DW_TAG_union_type,
    dw::DW_TAG_enumeration_type,
    dw::DW_TAG_enumerator,
    dw::DW_TAG_formal_parameter,
    dw::DW_TAG_member,
    dw::DW_TAG_subrange_type,
    dw::DW_TAG_template_type_parameter,
    dw::DW_TAG_variant,
    dw::DW_TAG_variant_part,
    dw::DW_TAG_array_type,
    dw::DW_TAG_base_type,
    dw::DW_TAG_subroutine_type,
    dw::DW_TAG_typedef,
    dw::DW_TAG_unspecified_type,
];

const EMPTY: &[u8] = b"";

/// A DIE the fqn pass did not reach (see `Renderer::fqn_up`).
const UNSEEN: DieIdx = NONE - 1;

/// Upstream stores an fqn for a named DIE, unless it is empty: with a
/// parent prefix it never is (`prefix::name`).
fn has_fqn(up: DieIdx, name: Option<&[u8]>) -> bool {
    name.is_some_and(|n| up != NONE || !n.is_empty())
}

pub struct Renderer<'d, 'a> {
    pub dies: &'d mut Dies<'a>,
    rules: &'d Rules,
    flags: Flags,
    /// This object's number in the run, to tell its DIEs from stale ones.
    obj: u32,
    /// libdw's error number as upstream's calls so far left it: set by a
    /// call that failed and that upstream ignored, printed where a later
    /// call fails without setting one. Followed for names read in the fqn
    /// pass and in matching symbols (linkage names too), numbers read
    /// while rendering, types `dwarf_formref_die` does not find, and a
    /// unit's `DW_AT_comp_dir` read with its line table.
    libdw_error: &'static str,
    /// The line tables libdw has read (`dwarf_getsrcfiles` reads a unit's
    /// once): a handful.
    srcfiles_read: Vec<LineTable>,
    pub entries: Vec<Entry<'a>>,
    /// Finished entries by (DIE, state).
    map: slots::Slots,
    /// Where the fully qualified names of the loaded DIEs come from
    /// (`fqn_up[i]` is for DIE `fqn_base + i`): the DIE whose prefix is
    /// its parent's (upstream's `parent_prefix`), [`NONE`] for no prefix,
    /// [`UNSEEN`] if the pass did not reach it. Names are only spelled
    /// out for the DIEs rendered ([`Self::fqn_of`]).
    fqn_up: Vec<DieIdx>,
    fqn_base: DieIdx,
    fqn_entries: u32,
    srcfiles: HashMap<u64, bool>,
    /// Pieces of the entries being rendered, innermost last: `open` holds
    /// (entry, where its pieces start). Rendering nests, so an entry's
    /// pieces are contiguous and move into it, sized, when it is done.
    scratch: Vec<Packed<'a>>,
    open: Vec<(EntryId, u32)>,
    /// What [`Made`] ranges point into. Kept across units (numbers are
    /// made once per object); composed names are few.
    texts: Vec<u8>,
    pub hits: u32,
    pub misses: u32,
    pub log: &'d mut Log,
    depth: u32,
    /// Planning mode: match symbols, record what to render, render nothing.
    plan: Option<Plan>,
    /// The current unit's symbol pass saved a symbol pointer.
    ptrs_set: bool,
    /// Formatted numbers (see `emit_num`) by (attribute, N).
    numbers: HashMap<(u8, u8, u64), Made>,
}

/// A symbol DIE to render: what the symbol pass of a unit decided.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub die: DieIdx,
    pub subprogram: bool,
}

/// The matching half of a unit's passes. Matching is sequential (it reads
/// and updates the run's symbol table); rendering a unit's jobs depends on
/// nothing but that unit, so units can be rendered on other threads.
#[derive(Debug, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    planned: HashSet<DieIdx>,
}

impl<'d, 'a> Renderer<'d, 'a> {
    pub fn new(
        dies: &'d mut Dies<'a>,
        rules: &'d Rules,
        flags: Flags,
        obj: u32,
        counters: (u32, u32),
        log: &'d mut Log,
    ) -> Self {
        Renderer {
            dies,
            rules,
            flags,
            obj,
            libdw_error: "no error",
            srcfiles_read: Vec::new(),
            entries: Vec::new(),
            map: slots::Slots::default(),
            fqn_up: Vec::new(),
            fqn_base: 0,
            fqn_entries: 0,
            srcfiles: HashMap::default(),
            scratch: Vec::new(),
            open: Vec::new(),
            texts: Vec::new(),
            hits: counters.0,
            misses: counters.1,
            log,
            depth: 0,
            plan: None,
            ptrs_set: false,
            numbers: HashMap::default(),
        }
    }

    /// Switches to planning mode (see [`Plan`]).
    pub fn planning(mut self) -> Self {
        self.plan = Some(Plan::default());
        self
    }

    /// The jobs planned for the unit processed last; clears them.
    pub fn take_plan(&mut self) -> Vec<Job> {
        match &mut self.plan {
            Some(p) => {
                p.planned.clear();
                std::mem::take(&mut p.jobs)
            }
            None => Vec::new(),
        }
    }

    pub fn obj(&self) -> u32 {
        self.obj
    }

    /// A finished entry for (die, state), without counting (upstream's `__die_map_get`).
    pub fn find(&self, die: DieIdx, state: State) -> Option<EntryId> {
        self.map.get(die, state)
    }

    /// Every finished entry [`Self::find`] finds, as (DIE, state, entry),
    /// in no particular order.
    pub fn finished(&self) -> impl Iterator<Item = (DieIdx, State, EntryId)> + '_ {
        self.map.iter()
    }

    /// Upstream's `die_map_get`: counts a hit or a miss; a miss creates an
    /// unfinished entry that lookups cannot see until [`Self::finish`].
    fn get(&mut self, die: DieIdx, state: State) -> Result<EntryId, EntryId> {
        if let Some(e) = self.find(die, state) {
            self.hits += 1;
            return Ok(e);
        }
        self.misses += 1;
        let id = self.entries.len() as EntryId;
        self.entries.push(Entry { die, state: State::Incomplete, tag: 0, fqn: None, pieces: Box::default() });
        self.open.push((id, self.scratch.len() as u32));
        Err(id)
    }

    fn finish(&mut self, id: EntryId, state: State) {
        if let Some(&(top, start)) = self.open.last() {
            debug_assert_eq!(top, id, "entries finish in the order they were opened");
            if top == id {
                self.open.pop();
                self.entries[id as usize].pieces = self.scratch.split_off(start as usize).into_boxed_slice();
            }
        }
        let e = &mut self.entries[id as usize];
        e.state = state;
        self.map.insert(e.die, state, id);
    }

    /// Drops every cache entry (their text has been taken): the caller
    /// knows no later unit can refer to them.
    pub fn clear_entries(&mut self) {
        self.entries.clear();
        self.map.clear();
        self.open.clear();
        self.scratch.clear();
    }

    /// Frees the cache once the object is rendered and its entries taken
    /// (not for `--debug`, whose statistics read them): the versions and
    /// the symtypes block that follow can reuse the memory instead of
    /// touching fresh pages. (The DIEs are released before the entries
    /// are turned into text: `Dies::release`.)
    pub fn release(&mut self) {
        self.open.clear();
        self.entries = Vec::new();
        self.map = slots::Slots::default();
        self.scratch = Vec::new();
        self.fqn_up = Vec::new();
        self.numbers = HashMap::default();
        self.texts = Vec::new();
    }

    /// The bytes of a text piece (none for a break or a DIE).
    pub fn piece_bytes<'s>(&'s self, p: Piece<'s>) -> &'s [u8] {
        match p {
            Piece::Str(s) => s,
            Piece::Own(m) => made(&self.texts, m),
            _ => b"",
        }
    }

    /// The bytes of an entry's fqn (empty for none).
    pub fn fqn_text<'s>(&'s self, e: &Entry<'s>) -> &'s [u8] {
        fqn_bytes(&self.texts, e.fqn())
    }

    /// Cache statistics for `die_map_free`: entries per state.
    pub fn stats(&self) -> [u32; 5] {
        let mut s = [0u32; 5];
        s[State::Fqn as usize] = self.fqn_entries;
        for e in &self.entries {
            s[e.state as usize] += 1;
        }
        s
    }

    // ----- the walk over units -------------------------------------------

    /// Runs upstream's three passes over one unit.
    /// Loads a unit and runs upstream's first pass over it (fqns).
    fn prepare_unit(&mut self, unit: u32) -> Result<(), Error> {
        let was_whole = self.dies.is_whole();
        self.dies.load_unit(unit);
        let loaded = self.dies.loaded();
        if !self.dies.is_whole() {
            // A new window: the previous unit's DIEs are gone.
            self.fqn_up.clear();
            self.fqn_up.resize(loaded.len(), UNSEEN);
            self.fqn_base = loaded.start;
        } else if !was_whole || self.fqn_up.len() != loaded.len() {
            // A reference crossed units, so every unit is loaded from now
            // on; upstream would still know the names of the units it has
            // done, so compute them again (without counting cache misses).
            self.fqn_up = vec![UNSEEN; loaded.len()];
            self.fqn_base = loaded.start;
            for j in 0..unit {
                let root = self.dies.unit(j).root;
                if root != NONE {
                    let children: Vec<DieIdx> = self.dies.children(root).collect();
                    for c in children {
                        self.resolve_fqns(c, NONE, false);
                    }
                }
            }
        }
        if self.entries.is_empty() {
            // Up to one entry per DIE read (function bodies are not read):
            // 0.63-0.82 in the corpus's large units, 0.82 at the median,
            // 1.004 at most. Growing past a short guess would copy the
            // entries into fresh memory.
            let estimate = loaded.len();
            self.entries.reserve(estimate);
            self.map.reset(loaded.clone());
        }
        let info = self.dies.unit(unit);
        if info.broken == Some(Broken::Header) {
            return Err(Error::new("process_module", "dwarf_get_units failed: no debugging information?".into()));
        }
        // No unit DIE: `dwarf_child` fails on it, whatever broke.
        let fails = if info.root == NONE { Some(Broken::Child) } else { info.broken };
        if let Some(b) = fails {
            return Err(container_fails(b));
        }
        let root = info.root;
        let children: Vec<DieIdx> = self.dies.children(root).collect();
        if self.plan.is_none() {
            // The cache misses the pass counts are printed by `--debug`
            // only; counting reads the name of every DIE with one.
            let count = self.flags.debug;
            for &c in &children {
                self.resolve_fqns(c, NONE, count);
            }
        }
        Ok(())
    }

    /// Runs upstream's three passes over one unit: fqns, exported symbols
    /// (rendering each as it is matched), symbol pointers. In planning
    /// mode only the matching is done (see [`Plan`]).
    pub fn process_unit(&mut self, unit: u32, table: &mut SymbolTable) -> Result<(), Error> {
        self.prepare_unit(unit)?;
        let root = self.dies.unit(unit).root;
        let children: Vec<DieIdx> = self.dies.children(root).collect();
        self.ptrs_set = false;
        for (k, &c) in children.iter().enumerate() {
            // Matching reads the name of every function and variable, long
            // cold: ask for the names a few DIEs ahead.
            if let Some(&ahead) = children.get(k + 8) {
                self.dies.prefetch_name(ahead);
            }
            self.exported_symbols(c, table)?;
        }
        // Only this unit's symbol pass can have left a symbol unprocessed
        // with a pointer: one set in an earlier unit was handled there.
        let pending = if self.ptrs_set { table.order().to_vec() } else { Vec::new() };
        for &id in pending.iter() {
            let s = &table.syms[id as usize];
            if s.state != SymState::Unprocessed {
                continue;
            }
            let Some((obj, ptr)) = s.ptr_die else { continue };
            if obj != self.obj {
                continue;
            }
            self.log.debug("process_symbol_ptr", &s.name.clone());
            let tag = self.dies.die(ptr).tag;
            self.process_symbol(id, ptr, tag == dw::DW_TAG_subroutine_type.0, table)?;
        }
        self.srcfiles.clear();
        Ok(())
    }

    /// Upstream's fqn pass. `up` is the DIE whose prefix the parent
    /// passes down (its `parent_prefix`), [`NONE`] for none.
    fn resolve_fqns(&mut self, die: DieIdx, up: DieIdx, count: bool) {
        // Iterative over siblings, recursive over depth (bounded by the tree).
        // Keyed as libdw keys a DIE, by its address: an entry read again is
        // the one first read at its offset (a visit after the first that
        // gave it an fqn is skipped).
        let i = (self.dies.canonical(die) - self.fqn_base) as usize;
        let d = self.dies.die(die);
        // Whether it has a name is all a first visit needs: the name's
        // bytes are read only for the debug counts or a second visit.
        if (self.fqn_up[i] != UNSEEN && has_fqn(self.fqn_up[i], d.name())) || self.depth > MAX_DEPTH {
            return;
        }
        let tag = d.tag;
        let passes =
            tag == dw::DW_TAG_namespace.0 || tag == dw::DW_TAG_class_type.0 || tag == dw::DW_TAG_structure_type.0;
        // Upstream reads every DIE's name here (`get_name_attr`).
        if let Some(e) = d.name_error() {
            self.libdw_error = e;
        }
        self.fqn_up[i] = up;
        if count && has_fqn(up, d.name()) {
            self.misses += 1;
            self.fqn_entries += 1;
        }
        // A prefix for the children: this DIE's name, after the parent's
        // prefix if there is one.
        let child_up = if passes && (up != NONE || d.has_name()) { die } else { NONE };
        self.depth += 1;
        let mut c = d.first_child;
        while c != NONE {
            self.resolve_fqns(c, child_up, count);
            c = self.dies.die(c).next_sibling;
        }
        self.depth -= 1;
    }

    /// A DIE's fully qualified name as the fqn pass left it (`None`: upstream's NULL).
    fn fqn_of(&mut self, die: DieIdx) -> Option<Fqn<'a>> {
        let up = self.fqn_up[(die - self.fqn_base) as usize];
        let name = self.dies.die(die).name();
        if up == UNSEEN || !has_fqn(up, name) {
            return None;
        }
        let name = name?;
        if up == NONE {
            return Some(Fqn::Name(name));
        }
        // The chain of prefixes, innermost first; the outermost is a name.
        let mut chain = vec![up];
        loop {
            let next = self.fqn_up[(chain[chain.len() - 1] - self.fqn_base) as usize];
            if next == NONE || next == UNSEEN {
                break;
            }
            chain.push(next);
        }
        let start = self.texts.len() as u32;
        for (k, &p) in chain.iter().rev().enumerate() {
            if k > 0 {
                self.texts.extend_from_slice(b"::");
            }
            self.texts.extend_from_slice(self.dies.die(p).name().unwrap_or(b"<anonymous>"));
        }
        self.texts.extend_from_slice(b"::");
        self.texts.extend_from_slice(name);
        Some(Fqn::Made(Made(start, self.texts.len() as u32)))
    }

    fn exported_symbols(&mut self, die: DieIdx, table: &mut SymbolTable) -> Result<(), Error> {
        let tag = self.dies.die(die).tag;
        if tag == dw::DW_TAG_namespace.0 || tag == dw::DW_TAG_class_type.0 || tag == dw::DW_TAG_structure_type.0 {
            if self.depth > MAX_DEPTH {
                return Err(too_deep());
            }
            self.depth += 1;
            let children: Vec<DieIdx> = self.dies.children(die).collect();
            for c in children {
                self.exported_symbols(c, table)?;
            }
            self.depth -= 1;
            return Ok(());
        }
        if tag != dw::DW_TAG_subprogram.0 && tag != dw::DW_TAG_variable.0 {
            return Ok(());
        }
        // match_export_symbol reads the name (`get_symbol_name`), and the
        // origin's where that matches no symbol.
        if let Some(e) = self.dies.symbol_name_error(die) {
            self.libdw_error = e;
        }
        let origin = self.dies.die(die).abstract_origin;
        let source = if origin != NONE { origin } else { die };
        let mut sym = self.dies.symbol_name(die).and_then(|n| table.get_unprocessed(n));
        if sym.is_none() && source != die {
            if let Some(e) = self.dies.symbol_name_error(source) {
                self.libdw_error = e;
            }
            sym = self.dies.symbol_name(source).and_then(|n| table.get_unprocessed(n));
        }
        let Some(sym) = sym else { return Ok(()) };
        let src_name = self.dies.symbol_name(source);
        if src_name.is_some_and(|n| n.starts_with(PTR_PREFIX)) {
            return self.save_symbol_ptr(sym, source, table);
        }
        self.process_symbol(sym, source, tag == dw::DW_TAG_subprogram.0, table)
    }

    fn save_symbol_ptr(&mut self, sym: u32, die: DieIdx, table: &mut SymbolTable) -> Result<(), Error> {
        let name = String::from_utf8_lossy(self.dies.symbol_name(die).unwrap_or(b"(null)")).into_owned();
        let ptr = self.dies.die(die).type_;
        if ptr == NONE || self.dies.die(ptr).tag != dw::DW_TAG_pointer_type.0 {
            return Err(Error::new("save_symbol_ptr", format!("{name} must be a pointer type!")));
        }
        let target = self.dies.die(ptr).type_;
        let chosen = if target != NONE {
            if self.dies.die(target).tag == dw::DW_TAG_subroutine_type.0 {
                target
            } else {
                ptr
            }
        } else {
            // A type landing on no DIE: upstream keeps the pointer unless
            // what libdw reads there is a subroutine type (which we cannot
            // keep), and fails only when it renders it.
            match self.dies.stray_type(ptr) {
                Some(tag) if tag != dw::DW_TAG_subroutine_type.0 => ptr,
                _ => return Err(Error::new("save_symbol_ptr", format!("{name} pointer missing a type attribute?"))),
            }
        };
        table.set_ptr(sym, (self.obj, chosen));
        self.ptrs_set = true;
        Ok(())
    }

    fn process_symbol(
        &mut self,
        sym: u32,
        die: DieIdx,
        subprogram: bool,
        table: &mut SymbolTable,
    ) -> Result<(), Error> {
        table.set_die(sym, (self.obj, die));
        if let Some(plan) = &mut self.plan {
            if plan.planned.insert(die) {
                plan.jobs.push(Job { die, subprogram });
            }
            return Ok(());
        }
        let name = table.syms[sym as usize].name.clone();
        self.render_symbol(die, subprogram, &name)
    }

    /// Renders the symbols a plan chose for the loaded unit, in order;
    /// on failure, says which job failed.
    pub fn render_jobs(&mut self, unit: u32, jobs: &[Job]) -> Result<(), (usize, Error)> {
        self.prepare_unit(unit).map_err(|e| (0, e))?;
        for (i, job) in jobs.iter().enumerate() {
            self.render_symbol(job.die, job.subprogram, b"").map_err(|e| (i, e))?;
        }
        Ok(())
    }

    fn render_symbol(&mut self, die: DieIdx, subprogram: bool, name: &[u8]) -> Result<(), Error> {
        let id = match self.get(die, State::Symbol) {
            Ok(_) => return Ok(()),
            Err(id) => id,
        };
        self.entries[id as usize].tag = self.dies.die(die).tag;
        self.log.debug("process_symbol", name);
        let mut st = Sym::new();
        let e = Some(id);
        if subprogram {
            self.subroutine(&mut st, e, die, b"subprogram")?;
        } else {
            self.emit(e, b"variable ");
            self.type_attr(&mut st, e, die)?;
        }
        self.finish(id, State::Symbol);
        if self.flags.dump_dies {
            self.log.raw(b"\n");
        }
        Ok(())
    }

    // ----- pieces ----------------------------------------------------------

    /// Adds a piece to an entry being rendered (the innermost one).
    #[inline]
    fn piece(&mut self, cache: EntryId, p: Piece<'a>) {
        match Packed::new(p) {
            Some(p) => self.push_piece(cache, p),
            None => self.piece_unpacked(cache, p),
        }
    }

    #[inline]
    fn push_piece(&mut self, cache: EntryId, p: Packed<'a>) {
        debug_assert_eq!(self.open.last().map(|o| o.0), Some(cache));
        if self.open.last().is_some_and(|o| o.0 == cache) {
            self.scratch.push(p);
        } else {
            // Not reached (entries finish innermost first); kept correct.
            let e = &mut self.entries[cache as usize];
            let mut pieces = std::mem::take(&mut e.pieces).into_vec();
            pieces.push(p);
            e.pieces = pieces.into_boxed_slice();
        }
    }

    /// A text piece that does not pack (see [`Packed`]) as made text: a
    /// string is copied into texts.
    #[cold]
    fn made_text(&mut self, p: Piece<'a>) -> Made {
        match p {
            Piece::Str(s) => {
                let start = self.texts.len() as u32;
                self.texts.extend_from_slice(s);
                Made(start, self.texts.len() as u32)
            }
            Piece::Own(m) => m,
            Piece::Break(_) | Piece::Die(_) => unreachable!("breaks and DIEs always pack"),
        }
    }

    /// A string or made text too long for a piece: its bytes made into
    /// texts, in as many pieces as it takes.
    #[cold]
    fn piece_unpacked(&mut self, cache: EntryId, p: Piece<'a>) {
        let Made(mut start, end) = self.made_text(p);
        while start < end {
            let part = (end - start).min(piece::OWN_MAX);
            let q = Packed::new(Piece::Own(Made(start, start + part))).expect("a part fits");
            self.push_piece(cache, q);
            start += part;
        }
    }

    fn emit(&mut self, cache: Option<EntryId>, s: &'a [u8]) {
        self.log.dump_str(self.flags.dump_dies, s);
        if let Some(c) = cache {
            self.piece(c, Piece::Str(s));
        }
    }

    fn emit_own(&mut self, cache: Option<EntryId>, s: Made) {
        self.log.dump_str(self.flags.dump_dies, made(&self.texts, s));
        if let Some(c) = cache {
            self.piece(c, Piece::Own(s));
        }
    }

    fn linebreak(&mut self, cache: Option<EntryId>, n: i8) {
        self.log.dump_break(n);
        if let Some(c) = cache {
            self.piece(c, Piece::Break(n));
        }
    }

    // A type string prints a run of line breaks as one space, so a break
    // between two pieces known not to be breaks is a space. Unless a dump
    // shows the breaks (`--dump-dies`, whose replays read the pieces), such
    // a string, break and string are rendered as one piece: fewer pieces
    // to store and to walk for every text that inlines the entry.

    /// `s` and a line break that the caller knows is followed by a piece
    /// that is not one; `joined` is `s` and a space.
    fn emit_break(&mut self, cache: Option<EntryId>, s: &'static [u8], n: i8, joined: &'static [u8]) {
        if self.flags.dump_dies {
            self.emit(cache, s);
            self.linebreak(cache, n);
        } else {
            self.emit(cache, joined);
        }
    }

    /// `open` (ending in `{` or `(`), a line break, what `inner` renders
    /// (only references: one piece per child), a line break and `close`.
    /// Without breaks: `open` and a space, then a space before `close`
    /// only if `inner` rendered something (two breaks in a row print one
    /// space).
    fn braced(
        &mut self,
        st: &mut Sym<'a>,
        cache: Option<EntryId>,
        b: &Braced,
        inner: impl FnOnce(&mut Self, &mut Sym<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let close = self.braced_open(st, cache, b, inner)?;
        self.emit(cache, close);
        Ok(())
    }

    /// [`Self::braced`] but for the closing string, which it returns for
    /// the caller to emit (joined to what follows it).
    fn braced_open(
        &mut self,
        st: &mut Sym<'a>,
        cache: Option<EntryId>,
        b: &Braced,
        inner: impl FnOnce(&mut Self, &mut Sym<'a>) -> Result<(), Error>,
    ) -> Result<&'static [u8], Error> {
        if self.flags.dump_dies || cache.is_none() {
            self.emit(cache, b.open);
            self.linebreak(cache, 1);
            inner(self, st)?;
            self.linebreak(cache, -1);
            return Ok(b.close);
        }
        self.emit(cache, b.open_spaced);
        let before = self.pieces_len(cache);
        inner(self, st)?;
        Ok(if self.pieces_len(cache) > before { b.spaced_close } else { b.close })
    }

    /// How many pieces the entry being rendered has so far.
    fn pieces_len(&self, cache: Option<EntryId>) -> usize {
        match (cache, self.open.last()) {
            (Some(c), Some(&(top, _))) if top == c => self.scratch.len(),
            (Some(c), _) => self.entries[c as usize].pieces.len(),
            (None, _) => 0,
        }
    }

    /// A line break that the caller knows follows a piece that is not
    /// one, and `s`; `joined` is a space and `s`.
    fn break_emit(&mut self, cache: Option<EntryId>, n: i8, s: &'static [u8], joined: &'static [u8]) {
        if self.flags.dump_dies {
            self.linebreak(cache, n);
            self.emit(cache, s);
        } else {
            self.emit(cache, joined);
        }
    }

    /// ` label(N)` for the attribute `num`; `[N]` for an array bound
    /// ([`Num::Count`]), `N` for an enumerator's value ([`Num::ConstValue`]).
    fn emit_num(&mut self, cache: Option<EntryId>, num: Num, label: &'static str, value: u64) {
        self.emit_number(cache, num, label, value, Before::Nothing);
    }

    /// [`Self::emit_num`] after the string `before`, as one piece.
    fn emit_number(&mut self, cache: Option<EntryId>, num: Num, label: &'static str, value: u64, before: Before) {
        // The same few numbers recur everywhere (sizes, offsets): format
        // each once per object. Keyed by the attribute, not the label: a
        // string key was hashed and compared byte by byte for every number.
        let texts = &mut self.texts;
        let key = (num as u8, before as u8, value);
        let s = *self.numbers.entry(key).or_insert_with(|| {
            let start = texts.len() as u32;
            texts.extend_from_slice(before.text());
            match num {
                Num::Count => number_text(texts, &[b"["], value, b"]"),
                Num::ConstValue => number_text(texts, &[], value, b""),
                _ => number_text(texts, &[b" ", label.as_bytes(), b"("], value, b")"),
            }
            Made(start, texts.len() as u32)
        });
        self.emit_own(cache, s);
    }

    /// upstream's `get_udata_attr`: a numeric attribute, if it reads; where
    /// it is present but does not, libdw's error is left set.
    #[inline]
    fn udata(&mut self, die: DieIdx, num: Num) -> Option<u64> {
        match self.dies.num_read(die, num) {
            Ok(v) => v,
            Err(e) => {
                self.libdw_error = e;
                None
            }
        }
    }

    fn num_attr(&mut self, cache: Option<EntryId>, die: DieIdx, num: Num, label: &'static str) {
        if let Some(v) = self.udata(die, num) {
            self.emit_num(cache, num, label, v);
        }
    }

    fn byte_size_attr(&mut self, cache: EntryId, die: DieIdx) -> Result<(), Error> {
        if let Some(v) = self.byte_size(cache, die)? {
            self.emit_num(Some(cache), Num::ByteSize, "byte_size", v);
        }
        Ok(())
    }

    /// The byte size to print, if any: the DIE's, or a `--stable` rule's.
    fn byte_size(&mut self, cache: EntryId, die: DieIdx) -> Result<Option<u64>, Error> {
        let Some(mut v) = self.udata(die, Num::ByteSize) else { return Ok(None) };
        if self.flags.stable {
            let fqn = fqn_bytes(&self.texts, self.entries[cache as usize].fqn());
            if let Some(o) = self.rules.byte_size(fqn)? {
                v = o;
            }
        }
        Ok(Some(v))
    }

    fn update_fqn(&mut self, cache: EntryId, die: DieIdx) {
        if self.entries[cache as usize].fqn.is_none() {
            let f = self.fqn_of(die).unwrap_or(Fqn::Name(EMPTY));
            let f = self.pack_fqn(f);
            self.entries[cache as usize].fqn = Some(f);
        }
    }

    /// An fqn as an entry keeps it (see [`Entry::fqn`]).
    fn pack_fqn(&mut self, f: Fqn<'a>) -> Packed<'a> {
        let p = match f {
            Fqn::Name(n) => Piece::Str(n),
            Fqn::Made(m) => Piece::Own(m),
        };
        Packed::new(p).unwrap_or_else(|| self.pack_long_fqn(p))
    }

    /// A name too long for a piece, copied into texts. A made name longer
    /// than a piece holds (a gigabyte) is cut there.
    #[cold]
    fn pack_long_fqn(&mut self, p: Piece<'a>) -> Packed<'a> {
        let Made(start, end) = self.made_text(p);
        let end = end.min(start.saturating_add(piece::OWN_MAX));
        Packed::new(Piece::Own(Made(start, end))).expect("a made text of at most OWN_MAX bytes packs")
    }

    fn fqn(&mut self, cache: EntryId, die: DieIdx) {
        self.update_fqn(cache, die);
        let f = self.entries[cache as usize].fqn().unwrap_or(Fqn::Name(EMPTY));
        if !fqn_bytes(&self.texts, Some(f)).is_empty() {
            self.emit(Some(cache), b" ");
        }
        match f {
            // An empty name is never between two line breaks (a keyword
            // comes before it): without a dump it is no piece at all.
            Fqn::Name(n) if n.is_empty() && !self.flags.dump_dies => {}
            Fqn::Name(n) => self.emit(Some(cache), n),
            Fqn::Made(m) => self.emit_own(Some(cache), m),
        }
    }

    fn type_attr(&mut self, st: &mut Sym<'a>, cache: Option<EntryId>, die: DieIdx) -> Result<(), Error> {
        let t = self.dies.die(die).type_;
        if t != NONE {
            return self.process_type(st, cache, t);
        }
        self.no_type(cache, die)
    }

    /// [`Self::type_attr`] without a type DIE. Apart and cold so that
    /// `type_attr`, on every member and parameter, stays small enough to
    /// inline (+0.26M instructions on mm/vmscan.o when it was not).
    #[cold]
    #[inline(never)]
    fn no_type(&mut self, cache: Option<EntryId>, die: DieIdx) -> Result<(), Error> {
        // A type landing on no DIE: upstream renders whatever libdw reads
        // there. A tag it cannot render fails as it fails; one it could is
        // rendered as no type, the nearest we can come.
        if let Some(tag) = self.dies.stray_type(die).filter(|&t| !renders(t)) {
            return Err(unexpected_type(tag));
        }
        match self.dies.die(die).type_ref_error() {
            Some(TypeRefError::Signature) if self.libdw_error == "no error" => {
                self.libdw_error = "invalid reference value";
            }
            Some(TypeRefError::OutsideUnit) => self.libdw_error = "invalid DWARF",
            _ => {}
        }
        self.emit(cache, b"base_type void");
        Ok(())
    }

    fn list_comma(&mut self, st: &mut Sym<'a>, cache: Option<EntryId>) {
        if st.first_list_item {
            st.first_list_item = false;
        } else {
            // Every list item starts with a string.
            self.emit_break(cache, b" ,", 0, b" , ");
        }
    }

    /// [`Self::list_comma`] and `kw`; `comma_kw` is ` , ` and `kw`, one
    /// piece where no dump shows the line break.
    fn list_start(&mut self, st: &mut Sym<'a>, cache: Option<EntryId>, kw: &'static [u8], comma_kw: &'static [u8]) {
        if st.first_list_item || self.flags.dump_dies {
            self.list_comma(st, cache);
            self.emit(cache, kw);
        } else {
            self.emit(cache, comma_kw);
        }
    }

    /// upstream's process_die_container over the children matching `tag`
    /// (any child when `None`), each rendered with process_type.
    fn container(
        &mut self,
        st: &mut Sym<'a>,
        cache: Option<EntryId>,
        die: DieIdx,
        tag: Option<dw::DwTag>,
    ) -> Result<(), Error> {
        st.first_list_item = true;
        self.dies.prefetch_child_names(die);
        let mut c = self.dies.die(die).first_child;
        while c != NONE {
            if tag.is_none_or(|t| self.dies.die(c).tag == t.0) {
                self.process_type(st, cache, c)?;
            }
            c = self.dies.die(c).next_sibling;
        }
        if let Some(end) = self.dies.children_end(die) {
            // A child that does not read whole, taken up by rendering, fails
            // there if upstream renders no such tag.
            if let (None, ChildrenEnd::Entry(t)) = (tag, end) {
                if !renders(t) {
                    return Err(unexpected_type(t));
                }
            }
            return Err(children_end_error(end));
        }
        st.first_list_item = false;
        Ok(())
    }

    // ----- process_type ----------------------------------------------------

    fn process_type(&mut self, st: &mut Sym<'a>, parent: Option<EntryId>, die: DieIdx) -> Result<(), Error> {
        if self.depth > MAX_DEPTH {
            return Err(too_deep());
        }
        self.depth += 1;
        let saved = (st.expand, st.current_fqn);
        let r = self.process_type_inner(st, parent, die);
        st.expand = saved.0;
        st.current_fqn = saved.1;
        self.depth -= 1;
        r
    }

    fn process_type_inner(&mut self, st: &mut Sym<'a>, parent: Option<EntryId>, die: DieIdx) -> Result<(), Error> {
        // libdw knows a DIE by its address: an entry read again (after a
        // rewind, or where a reference landed) is the one the walk read
        // there, cached once (a member met twice replays what it printed).
        // Here, not in `process_type`, which stays small enough to inline.
        let die = self.dies.canonical(die);
        let tag = self.dies.die(die).tag;
        let mut want = State::Complete;
        if is_expanded_type(tag) {
            if st.expanded.contains(&die) {
                st.expand = false;
            }
            if st.expand {
                st.expanded.insert(die);
            } else {
                want = State::Unexpanded;
            }
        }
        let id = match self.get(die, want) {
            Ok(id) => {
                self.log.die_map_cached(self.flags.dump_die_map, self.dies.offset(die), tag, want);
                if self.observe_replays() {
                    self.replay(st, id)?;
                }
                self.add_die(parent, die);
                return Ok(());
            }
            Err(id) => id,
        };
        self.log.die_map_miss(self.flags.dump_die_map, self.dies.offset(die), tag, want);
        let c = Some(id);
        match dw::DwTag(tag) {
            dw::DW_TAG_atomic_type => self.modifier(st, id, die, (b"atomic_type", b"atomic_type { "))?,
            dw::DW_TAG_const_type => self.modifier(st, id, die, (b"const_type", b"const_type { "))?,
            dw::DW_TAG_immutable_type => self.modifier(st, id, die, (b"immutable_type", b"immutable_type { "))?,
            dw::DW_TAG_packed_type => self.modifier(st, id, die, (b"packed_type", b"packed_type { "))?,
            dw::DW_TAG_pointer_type => self.modifier(st, id, die, (b"pointer_type", b"pointer_type { "))?,
            dw::DW_TAG_reference_type => self.modifier(st, id, die, (b"reference_type", b"reference_type { "))?,
            dw::DW_TAG_restrict_type => self.modifier(st, id, die, (b"restrict_type", b"restrict_type { "))?,
            dw::DW_TAG_rvalue_reference_type => {
                self.modifier(st, id, die, (b"rvalue_reference_type", b"rvalue_reference_type { "))?
            }
            dw::DW_TAG_shared_type => self.modifier(st, id, die, (b"shared_type", b"shared_type { "))?,
            dw::DW_TAG_volatile_type => self.modifier(st, id, die, (b"volatile_type", b"volatile_type { "))?,
            dw::DW_TAG_class_type => self.structure(st, id, die, (b"class_type", b"class_type "))?,
            dw::DW_TAG_structure_type => self.structure(st, id, die, (b"structure_type", b"structure_type "))?,
            dw::DW_TAG_union_type => self.union(st, id, die)?,
            dw::DW_TAG_enumeration_type => self.structure(st, id, die, (b"enumeration_type", b"enumeration_type "))?,
            dw::DW_TAG_enumerator => self.enumerator(st, id, die)?,
            dw::DW_TAG_formal_parameter => {
                self.list_item(st, id, die, (b"formal_parameter ", b" , formal_parameter "))?
            }
            dw::DW_TAG_member => self.list_item(st, id, die, (b"member ", b" , member "))?,
            dw::DW_TAG_subrange_type => self.subrange(id, die),
            dw::DW_TAG_template_type_parameter => {
                self.modifier(st, id, die, (b"template_type_parameter_type", b"template_type_parameter_type { "))?
            }
            dw::DW_TAG_variant => {
                self.list_comma(st, c);
                self.braced(st, c, &VARIANT, |r, st| r.container(st, c, die, Some(dw::DW_TAG_member)))?;
                self.num_attr(c, die, Num::DiscrValue, "discr_value");
            }
            dw::DW_TAG_variant_part => {
                self.list_comma(st, c);
                self.braced(st, c, &VARIANT_PART, |r, st| r.container(st, c, die, None))?;
            }
            dw::DW_TAG_array_type => {
                self.emit(c, b"array_type");
                self.container(st, c, die, Some(dw::DW_TAG_subrange_type))?;
                // The type is one piece.
                self.emit_break(c, b" {", 1, b" { ");
                self.type_attr(st, c, die)?;
                self.break_emit(c, -1, b"}", b" }");
            }
            dw::DW_TAG_base_type => {
                self.emit(c, b"base_type");
                self.fqn(id, die);
                self.byte_size_attr(id, die)?;
                self.num_attr(c, die, Num::Encoding, "encoding");
                self.num_attr(c, die, Num::Alignment, "alignment");
            }
            dw::DW_TAG_subroutine_type => self.subroutine(st, c, die, b"subroutine_type")?,
            dw::DW_TAG_typedef => self.modifier(st, id, die, (b"typedef_type", b"typedef_type { "))?,
            dw::DW_TAG_unspecified_type => self.emit(c, b"unspecified_type"),
            _ => return Err(unexpected_type(tag)),
        }
        self.log.die_map_done(self.flags.dump_die_map, self.dies.offset(die), tag);
        self.entries[id as usize].tag = tag;
        self.finish(id, want);
        self.add_die(parent, die);
        Ok(())
    }

    fn add_die(&mut self, parent: Option<EntryId>, die: DieIdx) {
        if let Some(p) = parent {
            self.piece(p, Piece::Die(die));
        }
    }

    /// Replays only matter for what they print (`--dump-dies`) and count
    /// (`--debug`): a replay re-requests children that are all cached, so
    /// it renders nothing new that the type map or a CRC could see.
    fn observe_replays(&self) -> bool {
        self.flags.debug || self.flags.dump_dies
    }

    /// Replays a finished entry: prints it for `--dump-dies` and re-requests
    /// its children with the current symbol's expansion state.
    fn replay(&mut self, st: &mut Sym<'a>, id: EntryId) -> Result<(), Error> {
        let n = self.entries[id as usize].pieces.len();
        for i in 0..n {
            match self.entries[id as usize].pieces[i].get() {
                Piece::Str(s) => self.log.dump_str(self.flags.dump_dies, s),
                Piece::Own(s) => self.log.dump_str(self.flags.dump_dies, made(&self.texts, s)),
                Piece::Break(b) => self.log.dump_break(b),
                Piece::Die(child) => self.process_type(st, None, child)?,
            }
        }
        Ok(())
    }

    /// `kw` is the keyword, and the keyword with ` { `: most modifiers
    /// (pointers, `const`) have no name, are inlined wherever they are
    /// used, and without a dump render as three pieces
    /// (`pointer_type { `, the type, ` } byte_size(8)`) instead of seven.
    fn modifier(
        &mut self,
        st: &mut Sym<'a>,
        id: EntryId,
        die: DieIdx,
        (kw, kw_open): (&'static [u8], &'static [u8]),
    ) -> Result<(), Error> {
        let c = Some(id);
        self.update_fqn(id, die);
        let joined = !self.flags.dump_dies;
        if joined && fqn_bytes(&self.texts, self.entries[id as usize].fqn()).is_empty() {
            self.emit(c, kw_open);
        } else {
            self.emit(c, kw);
            self.fqn(id, die);
            // The type is one piece.
            self.emit_break(c, b" {", 1, b" { ");
        }
        self.type_attr(st, c, die)?;
        if joined {
            match self.byte_size(id, die)? {
                Some(v) => self.emit_number(c, Num::ByteSize, "byte_size", v, Before::SpacedBrace),
                None => self.emit(c, b" }"),
            }
        } else {
            self.break_emit(c, -1, b"}", b" }");
            self.byte_size_attr(id, die)?;
        }
        self.num_attr(c, die, Num::Alignment, "alignment");
        Ok(())
    }

    fn subroutine(
        &mut self,
        st: &mut Sym<'a>,
        c: Option<EntryId>,
        die: DieIdx,
        kw: &'static [u8],
    ) -> Result<(), Error> {
        self.emit(c, kw);
        self.braced(st, c, &PARAMS, |r, st| r.container(st, c, die, Some(dw::DW_TAG_formal_parameter)))?;
        self.break_emit(c, 0, b"-> ", b" -> ");
        self.type_attr(st, c, die)
    }

    fn subrange(&mut self, id: EntryId, die: DieIdx) {
        let n = match self.udata(die, Num::Count) {
            Some(n) => Some(n),
            None => self.udata(die, Num::UpperBound).map(|n| n.wrapping_add(1)),
        };
        match n {
            Some(n) => self.emit_num(Some(id), Num::Count, "", n),
            None => self.emit(Some(id), b"[]"),
        }
    }

    fn list_item(
        &mut self,
        st: &mut Sym<'a>,
        id: EntryId,
        die: DieIdx,
        (kw, comma_kw): (&'static [u8], &'static [u8]),
    ) -> Result<(), Error> {
        let c = Some(id);
        let mut name = self.dies.die(die).name();
        if self.flags.stable {
            if name.is_some_and(|n| n.starts_with(b"__kabi_")) {
                name = None;
            }
            st.orig_name = None;
        }
        self.list_start(st, c, kw, comma_kw);
        self.type_attr(st, c, die)?;
        if self.flags.stable && st.orig_name.is_some() {
            name = st.orig_name;
        }
        if let Some(n) = name {
            self.emit(c, b" ");
            self.emit(c, n);
        }
        self.num_attr(c, die, Num::Accessibility, "accessibility");
        self.num_attr(c, die, Num::BitSize, "bit_size");
        self.num_attr(c, die, Num::DataBitOffset, "data_bit_offset");
        self.num_attr(c, die, Num::DataMemberLocation, "data_member_location");
        Ok(())
    }

    fn enumerator(&mut self, st: &mut Sym<'a>, id: EntryId, die: DieIdx) -> Result<(), Error> {
        let c = Some(id);
        let mut value = None;
        if self.flags.stable {
            self.update_fqn(id, die);
            let own = fqn_bytes(&self.texts, self.entries[id as usize].fqn());
            let enum_fqn = fqn_bytes(&self.texts, st.current_fqn);
            if self.rules.is_enumerator_ignored(enum_fqn, own) {
                return Ok(());
            }
            value = self.rules.enumerator_value(enum_fqn, own)?;
        }
        // Strings with no line break between them are one piece.
        self.update_fqn(id, die);
        match self.entries[id as usize].fqn() {
            Some(Fqn::Name(n)) if !n.is_empty() => {
                self.list_start(st, c, b"enumerator ", b" , enumerator ");
                self.emit(c, n);
            }
            _ => {
                self.list_start(st, c, b"enumerator", b" , enumerator");
                self.fqn(id, die);
            }
        }
        if let Some(v) = value.or_else(|| self.udata(die, Num::ConstValue)) {
            self.emit_number(c, Num::ConstValue, "", v, Before::Equals);
        }
        Ok(())
    }

    /// `kw` is the keyword, and the keyword with a space (strings with no
    /// line break between them are one piece).
    fn structure(
        &mut self,
        st: &mut Sym<'a>,
        id: EntryId,
        die: DieIdx,
        (kw, kw_space): (&'static [u8], &'static [u8]),
    ) -> Result<(), Error> {
        let c = Some(id);
        self.update_fqn(id, die);
        match self.entries[id as usize].fqn() {
            Some(Fqn::Name(n)) if !n.is_empty() => {
                self.emit(c, kw_space);
                self.emit(c, n);
            }
            _ => {
                self.emit(c, kw);
                self.fqn(id, die);
            }
        }
        let expand = st.expand && self.is_kabi_definition(id, die)?;
        let close = self.braced_open(st, c, &BRACES, |r, st| {
            if expand {
                st.current_fqn = r.entries[id as usize].fqn();
                if kw == b"enumeration_type" {
                    r.container(st, c, die, Some(dw::DW_TAG_enumerator))?;
                } else {
                    r.struct_members(st, c, die)?;
                }
            }
            Ok(())
        })?;
        if !expand {
            self.emit(c, close);
            return Ok(());
        }
        match self.byte_size(id, die)? {
            Some(v) => {
                let before = if close == b" }" { Before::SpacedBrace } else { Before::Brace };
                self.emit_number(c, Num::ByteSize, "byte_size", v, before);
            }
            None => self.emit(c, close),
        }
        self.num_attr(c, die, Num::Alignment, "alignment");
        Ok(())
    }

    fn struct_members(&mut self, st: &mut Sym<'a>, c: Option<EntryId>, die: DieIdx) -> Result<(), Error> {
        st.first_list_item = true;
        self.dies.prefetch_child_names(die);
        let mut m = self.dies.die(die).first_child;
        while m != NONE {
            let tag = dw::DwTag(self.dies.die(m).tag);
            match tag {
                dw::DW_TAG_member => {
                    if !self.is_kabi_ignored(m)? {
                        self.process_type(st, c, m)?;
                    }
                }
                dw::DW_TAG_variant_part => self.process_type(st, c, m)?,
                _ => structure_child(tag)?,
            }
            m = self.dies.die(m).next_sibling;
        }
        if let Some(end) = self.dies.children_end(die) {
            if let ChildrenEnd::Entry(t) = end {
                structure_child(dw::DwTag(t))?;
            }
            return Err(children_end_error(end));
        }
        st.first_list_item = false;
        Ok(())
    }

    fn union(&mut self, st: &mut Sym<'a>, id: EntryId, die: DieIdx) -> Result<(), Error> {
        let (status, placeholder, orig) = self.union_kabi_status(die)?;
        if status == Kabi::Reserved {
            st.orig_name = orig;
            self.process_type(st, Some(id), placeholder)?;
        }
        if status > Kabi::Normal {
            return Ok(());
        }
        self.structure(st, id, die, (b"union_type", b"union_type "))
    }

    fn is_kabi_definition(&mut self, id: EntryId, die: DieIdx) -> Result<bool, Error> {
        if self.dies.die(die).declaration() {
            return Ok(false);
        }
        // `get_flag_attr`: a `DW_AT_declaration` of another form than a
        // flag's is none, and leaves "no flag value" set.
        let _ = self.udata(die, Num::Declaration);
        let fqn = fqn_bytes(&self.texts, self.entries[id as usize].fqn());
        if self.flags.stable && self.rules.is_declonly(fqn) {
            return Ok(false);
        }
        Ok(!self.is_definition_private(die)?)
    }

    /// Definitions in `.c` files cannot be part of the ABI (upstream's rule,
    /// independent of `--stable`).
    fn is_definition_private(&mut self, die: DieIdx) -> Result<bool, Error> {
        let Some(file) = self.udata(die, Num::DeclFile) else { return Ok(false) };
        if let Some(&p) = self.srcfiles.get(&file) {
            return Ok(p);
        }
        let table = self.dies.line_table(die);
        // libdw reads the unit's line table once (`dwarf_getsrcfiles`).
        if !self.srcfiles_read.contains(&table) {
            self.srcfiles_read.push(table);
            if let Some(e) = self.dies.srcfiles_side_error(table) {
                self.libdw_error = e;
            }
        }
        let name = match self.dies.decl_file_name(table, file) {
            DeclFile::Name(name) => name,
            DeclFile::NoLineTable(message) => {
                let message = message.unwrap_or(self.libdw_error);
                return Err(Error::new("is_definition_private", format!("dwarf_getsrcfiles failed: '{message}'")));
            }
            // libdw returns no file for an index past its list, and sets
            // no error: upstream prints the one left from before.
            DeclFile::OutOfRange => {
                return Err(Error::new(
                    "is_definition_private",
                    format!("dwarf_filesrc failed: '{}'", self.libdw_error),
                ))
            }
        };
        let private = name.is_some_and(|n| match n.iter().rposition(|&b| b == b'.') {
            Some(dot) => &n[dot..] == b".c",
            None => false,
        });
        self.srcfiles.insert(file, private);
        Ok(private)
    }

    fn is_kabi_ignored(&mut self, member: DieIdx) -> Result<bool, Error> {
        if !self.flags.stable {
            return Ok(false);
        }
        let t = self.dies.die(member).type_;
        if t == NONE {
            // Upstream finds a type where a damaged one lands; not a union.
            if self.dies.stray_type(member).is_some() {
                return Ok(false);
            }
            return Err(Error::new("is_kabi_ignored", "member missing a type?".into()));
        }
        Ok(self.dies.die(t).tag == dw::DW_TAG_union_type.0 && self.union_kabi_status(t)?.0 == Kabi::Ignored)
    }

    /// upstream's get_union_kabi_status: looks at the first two members
    /// (and the first member of a struct member) for `__kabi_` names.
    fn union_kabi_status(&self, die: DieIdx) -> Result<(Kabi, DieIdx, Option<&'a [u8]>), Error> {
        if !self.flags.stable {
            return Ok((Kabi::Normal, NONE, None));
        }
        let mut members = 0;
        let mut orig = None;
        let mut placeholder = NONE;
        let mut res = Kabi::Done;
        // The walk stopped at a member that decides (upstream's callback
        // returned non-zero).
        let mut stopped = false;
        for m in self.dies.children(die) {
            let md = self.dies.die(m);
            if md.tag != dw::DW_TAG_member.0 {
                continue;
            }
            let (mut r, suffix) = kabi_status(md.name());
            if md.type_ == NONE {
                // A type landing on no DIE: upstream goes on with the DIE
                // libdw reads there. Where that cannot matter (a plain
                // member), we go on too; a placeholder of a tag upstream
                // cannot render fails as rendering it fails.
                match self.dies.stray_type(m) {
                    Some(tag) if r == Kabi::Reserved && !renders(tag) => return Err(unexpected_type(tag)),
                    Some(tag) if r != Kabi::Reserved && tag != dw::DW_TAG_structure_type.0 => {}
                    _ => {
                        return Err(Error::new("check_union_member_kabi_status", "union member missing a type?".into()))
                    }
                }
            }
            orig = suffix;
            if r == Kabi::Reserved {
                placeholder = md.type_;
            }
            if r == Kabi::Normal {
                if md.type_ != NONE && self.dies.die(md.type_).tag == dw::DW_TAG_structure_type.0 {
                    r = Kabi::Done;
                    if let Some(first) =
                        self.dies.children(md.type_).find(|&f| self.dies.die(f).tag == dw::DW_TAG_member.0)
                    {
                        let fd = self.dies.die(first);
                        let (r2, suffix2) = kabi_status(fd.name());
                        orig = suffix2;
                        if r2 == Kabi::Reserved {
                            if fd.type_ == NONE {
                                return Err(Error::new(
                                    "check_struct_member_kabi_status",
                                    "structure member missing a type?".into(),
                                ));
                            }
                            placeholder = fd.type_;
                        }
                        r = r2;
                    }
                }
                if r <= Kabi::Normal {
                    members += 1;
                    if members < 2 {
                        continue;
                    }
                }
            }
            res = r;
            stopped = true;
            break;
        }
        if let Some(end) = self.dies.children_end(die).filter(|_| !stopped) {
            return Err(children_end_error(end));
        }
        if res == Kabi::Reserved {
            return Ok((Kabi::Reserved, placeholder, orig));
        }
        Ok((res, NONE, None))
    }
}

/// Appends `prefix`, `v` in decimal and `suffix`, as `format!` would print
/// them, without the formatting machinery (numbers are printed for most
/// entries).
fn number_text(out: &mut Vec<u8>, prefix: &[&[u8]], mut v: u64, suffix: &[u8]) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    prefix.iter().for_each(|p| out.extend_from_slice(p));
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(suffix);
}

fn kabi_status(name: Option<&[u8]>) -> (Kabi, Option<&[u8]>) {
    if let Some(rest) = name.and_then(|n| n.strip_prefix(b"__kabi_")) {
        if rest.starts_with(b"reserved") {
            return (Kabi::Reserved, None);
        }
        if rest.starts_with(b"ignored") {
            return (Kabi::Ignored, None);
        }
        if let Some(suffix) = rest.strip_prefix(b"renamed") {
            return (Kabi::Reserved, Some(suffix));
        }
    }
    (Kabi::Normal, None)
}

fn is_expanded_type(tag: u16) -> bool {
    tag == dw::DW_TAG_class_type.0
        || tag == dw::DW_TAG_structure_type.0
        || tag == dw::DW_TAG_union_type.0
        || tag == dw::DW_TAG_enumeration_type.0
}

/// Whether upstream renders DIEs of this tag (else [`unexpected_type`]).
fn renders(tag: u16) -> bool {
    RENDERED.contains(&gimli::DwTag(tag))
}

/// Upstream's failure on a DIE whose tag it does not render.
fn unexpected_type(tag: u16) -> Error {
    Error::new("process_type", format!("unexpected type: {tag:x}"))
}

/// A structure's child of a tag upstream's walk takes (renders or skips),
/// or its error for one it refuses.
fn structure_child(tag: dw::DwTag) -> Result<(), Error> {
    match tag {
        dw::DW_TAG_member
        | dw::DW_TAG_variant_part
        | dw::DW_TAG_class_type
        | dw::DW_TAG_enumeration_type
        | dw::DW_TAG_structure_type
        | dw::DW_TAG_template_type_parameter
        | dw::DW_TAG_union_type
        | dw::DW_TAG_subprogram => Ok(()),
        _ => Err(Error::new("___process_structure_type", format!("unexpected structure_type child: {:x}", tag.0))),
    }
}

/// Upstream's `process_die_container` after the children kept of an entry
/// whose children end in damage ([`ChildrenEnd`]): at `dwarf_child` where
/// the entry itself is damaged, else at `dwarf_siblingof` (whichever child
/// comes next, libdw cannot step past it).
fn children_end_error(end: ChildrenEnd) -> Error {
    match end {
        ChildrenEnd::Child => container_fails(Broken::Child),
        ChildrenEnd::Past | ChildrenEnd::Entry(_) => container_fails(Broken::Sibling),
    }
}

/// Upstream's `process_die_container` where libdw cannot walk the
/// children: `dwarf_child` or `dwarf_siblingof` fails.
fn container_fails(b: Broken) -> Error {
    let call = if b == Broken::Sibling { "dwarf_siblingof(&current, &current)" } else { "dwarf_child(die, &current)" };
    Error::new("process_die_container", format!("`{call}` failed: -1"))
}

fn too_deep() -> Error {
    Error::new("process_type", "type nesting too deep (cyclic or hostile DWARF)".into())
}

#[cfg(test)]
mod tests {
    /// `RENDERED` names exactly the tags `process_type_inner`'s match has
    /// arms for: read from this file's text, the match being the authority.
    #[test]
    fn rendered_is_the_match() {
        let text = include_str!("render.rs");
        let tags = |s: &str| -> std::collections::BTreeSet<String> {
            s.split("dw::DW_TAG_")
                .skip(1)
                .map(|t| t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
                .collect()
        };
        let at = |from: usize, pat: &str| from + text[from..].find(pat).expect(pat);
        let body = at(0, "fn process_type_inner(");
        let arms = at(body, "match dw::DwTag(tag) {");
        let default = at(arms, "unexpected_type(tag)");
        let arm_tags: std::collections::BTreeSet<String> = text[arms..default]
            .lines()
            .filter(|l| l.trim_start().starts_with("dw::DW_TAG_"))
            .flat_map(|l| tags(l.split("=>").next().unwrap_or("")))
            .collect();
        let list = at(0, "const RENDERED");
        let listed = tags(&text[list..at(list, "];")]);
        assert!(arm_tags.len() > 20, "found only {arm_tags:?}");
        assert_eq!(listed, arm_tags);
    }
}
