//! Reading a unit's entries into the arena: the walk libdw makes over
//! them (`DW_AT_sibling` followed, levels left open stepped out of, bodies
//! skipped but decoded), the entries read where a type lands between DIEs,
//! and the references resolved once a unit is read.

use super::*;

mod types;

pub(super) use types::{by_signature, TypeUnits};

/// Finds a unit's DIEs by `.debug_info` offset: for each 32-byte stretch
/// of the unit, the first DIE at or after it, so that a lookup only
/// searches the DIEs of one stretch (a unit has one reference per DIE or so).
struct OffsetIndex {
    start: u64,
    /// `first[b]`: the number of DIEs before stretch `b`.
    first: Vec<u32>,
}

const STRETCH_SHIFT: u32 = 5;

impl OffsetIndex {
    /// The index of `offsets` (sorted), DIEs of the unit at `range`.
    fn new(offsets: &[u32], range: (u64, u64)) -> OffsetIndex {
        let stretches = usize::try_from((range.1.saturating_sub(range.0) >> STRETCH_SHIFT) + 1).unwrap_or(0);
        let mut first = Vec::with_capacity(stretches + 1);
        let mut at = 0;
        for b in 0..=stretches {
            let from = range.0 + ((b as u64) << STRETCH_SHIFT);
            while at < offsets.len() && (offsets[at] as u64) < from {
                at += 1;
            }
            first.push(at as u32);
        }
        OffsetIndex { start: range.0, first }
    }

    /// `offsets.binary_search(&off)` (the `offsets` given to [`Self::new`]).
    #[inline]
    fn find(&self, offsets: &[u32], off: u32) -> Result<usize, usize> {
        let b = (off as u64).checked_sub(self.start).map(|d| d >> STRETCH_SHIFT);
        match b.and_then(|b| usize::try_from(b).ok()).filter(|&b| b + 1 < self.first.len()) {
            Some(b) => {
                let (lo, hi) = (self.first[b] as usize, self.first[b + 1] as usize);
                match offsets[lo..hi].iter().position(|&o| o >= off) {
                    Some(k) if offsets[lo + k] == off => Ok(lo + k),
                    Some(k) => Err(lo + k),
                    None => Err(hi),
                }
            }
            None => offsets.binary_search(&off),
        }
    }
}

/// The arena's DIEs from local index `from` on, sorted by offset: DIEs
/// read again after a `DW_AT_sibling` took reading back are out of offset
/// order. Any of several at one offset will do: they are the same bytes.
struct ByOffset(Vec<(u32, u32)>);

impl ByOffset {
    fn new(offsets: &[u32], from: usize) -> ByOffset {
        let mut v: Vec<(u32, u32)> = (from..offsets.len()).map(|i| (offsets[i], i as u32)).collect();
        v.sort_unstable();
        ByOffset(v)
    }

    /// The local index of a DIE at `off`.
    fn find(&self, off: u32) -> Option<u32> {
        self.0.binary_search_by_key(&off, |&(o, _)| o).ok().map(|k| self.0[k].1)
    }
}

/// Links DIE `idx`, read at `depth`, to its parent or previous sibling.
fn link(arena: &mut Arena<'_>, last_at_depth: &mut Vec<DieIdx>, depth: usize, idx: DieIdx) {
    let base = arena.base;
    last_at_depth.truncate(depth + 1);
    if depth < last_at_depth.len() {
        let prev = last_at_depth[depth];
        arena.dies[(prev - base) as usize].next_sibling = idx;
        last_at_depth[depth] = idx;
    } else {
        if depth > 0 {
            let parent = last_at_depth[depth - 1];
            let p = &mut arena.dies[(parent - base) as usize];
            if p.first_child == NONE {
                p.first_child = idx;
            }
        }
        last_at_depth.push(idx);
    }
}

/// An entry as read, before it joins the arena.
struct ReadDie<'a> {
    die: Die<'a>,
    type_off: u64,
    origin_off: u64,
    /// `DW_AT_linkage_name`, or why `dwarf_formstring` fails on it.
    linkage: Option<Result<&'a [u8], StringError>>,
    sibling: Sibling,
}

impl ReadDie<'_> {
    /// An entry with no attributes read: its numbers would start at `nums`.
    fn bare(tag: u16, nums: usize) -> Self {
        ReadDie {
            die: Die {
                name: None,
                tag,
                flags: 0,
                nums_len: 0,
                first_child: NONE,
                next_sibling: NONE,
                type_: NONE,
                abstract_origin: NONE,
                nums: nums as u32,
            },
            type_off: NO_OFF,
            origin_off: NO_OFF,
            linkage: None,
            sibling: Sibling::None,
        }
    }
}

/// DIEs being read into an arena whose first DIE has index `arena.base`.
pub(super) struct Window<'a> {
    pub(super) arena: Arena<'a>,
    /// References to resolve: (local index, target offset, abstract origin?).
    refs: Vec<(u32, u32, bool)>,
    /// A reference left its unit.
    pub(super) crossed: bool,
    /// `.debug_info` ranges of the function bodies skipped (each from its
    /// subprogram's first child to the next DIE not under it), in order:
    /// a reference that finds no DIE there reaches into a skipped body.
    bodies: Vec<(u32, u32)>,
    /// Some unit has DIEs read again after a rewind: `arena.offsets` is
    /// not sorted.
    replayed: bool,
    /// Where libdw's C strings run on to.
    tails: Tails<'a>,
    /// DIEs whose `DW_AT_type` is a type unit's signature, by local index,
    /// to look for in `.debug_types` once their unit is read.
    sigs: Vec<(u32, u64)>,
    /// The signature of the last entry read with one (`read_die` to
    /// `add_die`). Carried in `ReadDie::type_off` instead, it made
    /// `add_die` choose between the two for every DIE: +0.2% instructions
    /// on mm/vmscan.o and mm/slub.o (callgrind, no PGO).
    last_sig: u64,
}

/// After the attributes of the entry at unit offset `at` and `depth` (not
/// the unit DIE, which libdw never steps past): an entry without children
/// goes on at its `DW_AT_sibling` at once; one with children does when they
/// end (kept in `siblings`). `false` where `dwarf_siblingof` would fail.
#[inline]
fn next_sibling(
    raw: &mut Entries<'_, '_>,
    siblings: &mut Vec<(usize, Sibling)>,
    depth: usize,
    at: usize,
    children: bool,
    sibling: Sibling,
) -> Result<bool, ()> {
    if !children {
        return raw.go_to_sibling(at, sibling);
    }
    // Entries are set here and taken when the children end, so one left
    // from an earlier entry at this depth is never read.
    if siblings.len() <= depth {
        siblings.resize(depth + 1, (0, Sibling::None));
    }
    siblings[depth] = (at, sibling);
    Ok(false)
}

/// Whether libdw's walk steps past an entry at `depth` whose attributes do
/// not all read, its `DW_AT_sibling` being `sibling` where read before the
/// damage: `dwarf_siblingof` looks no further than an entry's first one,
/// and `dwarf_child` does not read the attributes of an entry without
/// children. (The unit DIE is never stepped past.)
fn steps_over_damage(plan: &Plan, depth: isize, sibling: Sibling) -> bool {
    !plan.children && depth > 0 && matches!(sibling, Sibling::At(_))
}

/// Where a walk broke: the libdw call upstream's first pass fails in,
/// and, for `read_stray`, where rendering meets the damage: the depth (the
/// walk's first entry at 0) of the entry whose children meet it, and how;
/// a negative depth where rendering meets none (the first entry has no
/// children to libdw).
#[derive(Clone, Copy)]
struct Break {
    call: Broken,
    depth: isize,
    end: ChildrenEnd,
    /// The `.debug_info` offset of the entry met, where it is one whose
    /// attributes do not all read (`ChildrenEnd::Entry`).
    partial: Option<u32>,
}

/// Entries read where types land between DIEs, per unit, at most.
const MAX_STRAYS: usize = 256;

/// Rounds of references across units (`Window::resolve_refs`), at most:
/// each round's come from entries the round before read where references
/// landed, which an entry read before stops.
const MAX_ROUNDS: usize = 256;

/// The entries from unit offset `at` on of the unit at `range` (of
/// `.debug_info`, or of `.debug_types` after it), wherever a reference
/// lands: in the unit's header too,
/// whose bytes libdw reads as an entry (`dwarf_formref_die` only checks
/// the offset is inside the unit).
fn entries_at<'a, 'u>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &'u gimli::Unit<R<'a>>,
    (base, end): (u64, u64),
    at: usize,
) -> Option<Entries<'a, 'u>> {
    Entries::at(unit, at).or_else(|| {
        // The unit's own section: a type unit's offsets in the arena are
        // counted after `.debug_info` (`range_of`).
        let (mut whole, start) = match unit.header.debug_types_offset() {
            Some(o) => (*dwarf.debug_types.reader(), o.0),
            None => (*dwarf.debug_info.reader(), usize::try_from(base).ok()?),
        };
        whole.skip(start).ok()?;
        whole.truncate(usize::try_from(end - base).ok()?).ok()?;
        Entries::in_header(unit, whole, at)
    })
}

/// The tag libdw reads where a reference lands at `off` of the unit at
/// `range` (it reads a DIE wherever one lands): 0, libdw's
/// `DW_TAG_invalid`, where the code names no abbreviation.
fn tag_at<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &gimli::Unit<R<'a>>,
    plans: &mut Plans,
    range: (u64, u64),
    off: u32,
) -> u16 {
    let Some(rel) = (off as u64).checked_sub(range.0) else { return 0 };
    let Some(mut r) = entries_at(dwarf, unit, range, rel as usize).map(|e| e.input) else { return 0 };
    match leb::uleb(&mut r) {
        Ok(0) | Err(_) => 0,
        Ok(code) => plans.get(&unit.abbreviations, code, unit.encoding()).map_or(0, |p| p.tag),
    }
}

/// `off` falls in one of `bodies` (sorted ranges).
fn in_body(bodies: &[(u32, u32)], off: u32) -> bool {
    let k = bodies.partition_point(|b| b.0 <= off);
    k > 0 && off < bodies[k - 1].1
}

impl<'a> Window<'a> {
    pub(super) fn new(arena: Arena<'a>, tails: Tails<'a>) -> Self {
        Window {
            arena,
            refs: Vec::new(),
            crossed: false,
            bodies: Vec::new(),
            replayed: false,
            tails,
            sigs: Vec::new(),
            last_sig: 0,
        }
    }

    /// Forgets what was read, to read the same units again.
    pub(super) fn restart(&mut self) {
        self.arena.clear();
        self.refs.clear();
        self.crossed = false;
        self.bodies.clear();
        self.replayed = false;
        self.sigs.clear();
    }

    /// Reads one unit into the arena. With `skip_bodies`, function bodies
    /// are validated but not stored; returns `false` if a reference from
    /// inside the unit reaches into one (the caller reads it again in full).
    pub(super) fn read_unit(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        header: &gimli::UnitHeader<R<'a>>,
        types: TypeUnits<'_, 'a>,
        skip_bodies: bool,
    ) -> (UnitInfo<'a>, bool) {
        let gbase = self.arena.base;
        let first = self.arena.dies.len() as DieIdx;
        let (base, end) = range_of(dwarf, header);
        let unit = match abbreviations(dwarf, header).and_then(|a| open::open(dwarf, *header, a, self.tails)) {
            Ok(u) => u,
            Err(_) => {
                let broken = Some(Broken::Child);
                let info = UnitInfo {
                    root: NONE,
                    first: gbase + first,
                    broken,
                    files: Err(None),
                    comp_dir_error: None,
                    sorted_end: gbase + first,
                };
                return (info, true);
            }
        };
        let (unit, files, comp_dir_error) = (&unit.0, unit.1, unit.2);
        // Outside function bodies, the corpus's units take 11-38 bytes of
        // `.debug_info` per DIE (13 at the median, 28 in large objects):
        // 20 lets dense units grow once or twice, but reserves little more
        // than large units need, so the heap spans fewer huge pages.
        let estimate = (end - base) as usize / 20;
        self.arena.dies.reserve(estimate);
        self.arena.offsets.reserve(estimate);
        self.arena.nums.reserve(estimate);
        let first_body = self.bodies.len();
        let mut plans = Plans::default();
        // References into this unit, resolved when it is read: about one
        // per DIE read.
        let mut inner: Vec<(u32, u32, bool)> = Vec::with_capacity(estimate);
        // Where DIEs read again after a rewind start (see `walk`'s `follow!`).
        let mut replay_from = None;
        let (mut broken, needs_full) = match Entries::new(unit) {
            Ok(raw) => {
                let (broke, needs_full) =
                    self.walk(dwarf, unit, raw, skip_bodies, &mut plans, (base, end), &mut inner, &mut replay_from);
                // The unit's own passes fail on the break (`broken`), but a
                // unit before it renders its types first: where such a
                // reference lands on a DIE whose children meet the damage,
                // upstream meets it rendering them, as in an entry read
                // where a type lands (`read_stray`).
                if let Some(b) = broke.filter(|_| first < self.arena.dies.len() as DieIdx) {
                    let read = self.arena.dies.len();
                    self.mark_break(dwarf, unit, &mut plans, (base, end), first as usize, b, &mut inner, true);
                    // An entry read in part is kept after the others.
                    if self.arena.dies.len() > read {
                        replay_from.get_or_insert(read);
                        self.replayed = true;
                    }
                }
                (broke.map(|b| b.call), needs_full)
            }
            Err(_) => (Some(Broken::Child), false),
        };
        if let Some(b) = self.bodies[first_body..].last_mut().filter(|b| b.1 == u32::MAX) {
            b.1 = end as u32;
        }
        let sorted = replay_from.unwrap_or(self.arena.dies.len()) as DieIdx;
        let mut strays = Default::default();
        let landed = self.land(dwarf, unit, &mut plans, (base, end), (first_body, first, sorted), inner, &mut strays);
        let complete = !needs_full && landed;
        if !self.sigs.is_empty() {
            self.read_type_units(dwarf, types);
        }
        let root = if (self.arena.dies.len() as DieIdx) > first { gbase + first } else { NONE };
        if root == NONE {
            broken = Some(Broken::Child);
        }
        (UnitInfo { root, first: gbase + first, broken, files, comp_dir_error, sorted_end: gbase + sorted }, complete)
    }

    /// Resolves the references `pending` of the unit at `range` (DIEs from
    /// local index `first`, in offset order up to `sorted`; its skipped
    /// bodies from `self.bodies[first_body]`), reading entries where they
    /// land between DIEs. `strays`: the entries so read, by offset (`None`
    /// where nothing read). `false` if a reference reaches into a skipped
    /// body (the unit must be read in full).
    ///
    /// A type landing between DIEs (damaged DWARF): libdw reads an entry
    /// there all the same, and upstream renders what it reads. So do we,
    /// where that entry reads: with what of its children reads, and how
    /// walking them meets the damage ([`ChildrenEnd`]); else only its tag
    /// is kept (`strays`, for the renderer's checks). An abstract origin is
    /// read where it lands too (a concrete instance's name is its
    /// origin's). Entries so read may land references between DIEs in
    /// turn, up to a budget.
    #[allow(clippy::too_many_arguments)]
    fn land(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        plans: &mut Plans,
        (base, end): (u64, u64),
        (first_body, first, sorted): (usize, DieIdx, DieIdx),
        mut pending: Vec<(u32, u32, bool)>,
        strays: &mut rustc_hash::FxHashMap<u32, Option<u32>>,
    ) -> bool {
        // Abstract origins landing on an entry `dwarf_child` fails on, by
        // offset: the bare DIE standing for it.
        let mut bare_origins: rustc_hash::FxHashMap<u32, u32> = Default::default();
        // The budget counts only the entries read here: not what was read
        // before, such as the walk's DIEs read again after a
        // `DW_AT_sibling` took it back (garbage can spend it that way).
        let read_before = self.arena.dies.len();
        while !pending.is_empty() {
            let Some(nowhere) = self.resolve_inner(first_body, (first, sorted), (base, end), pending) else {
                return false;
            };
            pending = Vec::new();
            for (i, off, origin) in nowhere {
                let read = match strays.get(&off) {
                    Some(&read) => read,
                    // Garbage can claim children to the unit's end again and
                    // again: at most an entry per byte of the unit in all
                    // (the same whether bodies were skipped or not).
                    None if strays.len() >= MAX_STRAYS || (self.arena.dies.len() - read_before) as u64 > end - base => {
                        None
                    }
                    None => {
                        let read = self.read_stray(dwarf, unit, plans, (base, end), off, &mut pending);
                        strays.insert(off, read);
                        read
                    }
                };
                if origin {
                    // libdw follows `DW_AT_abstract_origin` wherever it
                    // lands too (`dwarf_attr_integrate`: a concrete
                    // instance's name is its origin's).
                    let t = match read {
                        Some(t) => t,
                        // An entry whose code names no abbreviation (one that
                        // does read in part is kept: `read_partial`):
                        // upstream takes it for the symbol's DIE all the same
                        // (`dwarf_formref_die` reads nothing there), and
                        // fails at `dwarf_child` rendering it.
                        None => *bare_origins.entry(off).or_insert_with(|| {
                            let bare =
                                ReadDie::bare(tag_at(dwarf, unit, plans, (base, end), off), self.arena.nums.len());
                            self.keep_apart(bare, off, true, (base, end), &mut pending)
                        }),
                    };
                    self.arena.dies[i as usize].abstract_origin = self.arena.base + t;
                    continue;
                }
                let tag = match read {
                    Some(t) => {
                        self.arena.dies[i as usize].type_ = self.arena.base + t;
                        self.arena.dies[t as usize].tag
                    }
                    None => tag_at(dwarf, unit, plans, (base, end), off),
                };
                // Listed either way: such a unit is not shared (`content`).
                self.arena.strays.push((self.arena.base + i, tag));
            }
        }
        true
    }

    /// Reads entries from where `raw` stands (a unit's root, or where a
    /// reference lands) to the end of that first entry's children, as
    /// libdw walks them (see `read_unit`). Returns where the walk broke, and
    /// whether it must be done again without skipping bodies.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        mut raw: Entries<'a, '_>,
        skip_bodies: bool,
        plans: &mut Plans,
        (base, end): (u64, u64),
        inner: &mut Vec<(u32, u32, bool)>,
        replay_from: &mut Option<usize>,
    ) -> (Option<Break>, bool) {
        let gbase = self.arena.base;
        let mut broke = None;
        // Last (read) DIE seen at each depth, as a global index: its next
        // sibling is the next read DIE at that depth.
        let mut last_at_depth: Vec<DieIdx> = Vec::new();
        // Depth of the subprogram whose body is being skipped, if any.
        let mut body: isize = -1;
        // Per depth, the entry whose children are being read and its
        // `DW_AT_sibling`: libdw goes on from there once they end.
        let mut siblings: Vec<(usize, Sibling)> = Vec::new();
        let mut needs_full = false;
        // The last entry read has children: the next is its first child.
        let mut opened = false;
        // Follows a `DW_AT_sibling` (`Entries::go_to_sibling`'s outcome):
        // where libdw refuses it, the unit breaks. Where it takes reading
        // back, what follows is read as libdw walks it, as the siblings it
        // takes it for, and kept after the DIEs in offset order (see
        // `resolve_inner`); bodies skipped before may be read again as
        // siblings, so a unit read skipping them is read again in full (as
        // one referring into a body is). A macro: it leaves the loop.
        macro_rules! follow {
            ($went:expr, $depth:expr) => {
                match $went {
                    Ok(false) => {}
                    Ok(true) => {
                        if skip_bodies {
                            needs_full = true;
                            break;
                        }
                        replay_from.get_or_insert(self.arena.dies.len());
                        self.replayed = true;
                        body = -1;
                    }
                    Err(()) => {
                        broke = Some(Break {
                            call: Broken::Sibling,
                            depth: $depth - 1,
                            end: ChildrenEnd::Past,
                            partial: None,
                        });
                        break;
                    }
                }
            };
        }
        loop {
            // Never below 0: reading stops when the unit DIE's children
            // end (or when it has none).
            let depth = raw.depth;
            let at = raw.next_offset().0;
            let offset = base + at as u64;
            // The unit's bytes end with levels open: libdw steps out
            // of each as out of one a null entry ends (its
            // `dwarf_siblingof` stops at the end of the buffer), and
            // still follows the `DW_AT_sibling` of the entry whose
            // children they were.
            let entry = if raw.is_empty() {
                if depth <= 0 {
                    break;
                }
                raw.depth -= 1;
                Ok(None)
            } else {
                raw.entry(plans)
            };
            let first_child = std::mem::take(&mut opened);
            let plan = match entry {
                Ok(Some(p)) => {
                    opened = p.children;
                    p
                }
                Ok(None) => {
                    // A null entry written longer than one byte is one only
                    // to `dwarf_child`, which skips 0x80 bytes before a
                    // first child; `dwarf_siblingof` takes only a 0 byte
                    // for the end of a level. So libdw steps onto it as onto
                    // an entry, whose abbreviation code 0 is none: where it
                    // follows a sibling, `dwarf_child` fails on it; as a
                    // first child, the parent has none, but stepping over
                    // the parent fails on it, unless the parent's
                    // `DW_AT_sibling` leads past. (Not so under the unit
                    // DIE, which libdw never steps over.)
                    // (The bytes read tell it: the end of the unit's bytes,
                    // stood in for a null entry above, reads none.)
                    if raw.next_offset().0 - at > 1 {
                        if !first_child {
                            broke = Some(Break {
                                call: Broken::Child,
                                depth: depth - 1,
                                end: ChildrenEnd::Entry(0),
                                partial: None,
                            });
                            break;
                        }
                        let parent_sibling = usize::try_from(raw.depth)
                            .ok()
                            .and_then(|d| siblings.get(d))
                            .is_some_and(|p| p.1 != Sibling::None);
                        if raw.depth > 0 && !parent_sibling {
                            // The parent has no children; stepping past it
                            // fails.
                            broke = Some(Break {
                                call: Broken::Sibling,
                                depth: depth - 2,
                                end: ChildrenEnd::Past,
                                partial: None,
                            });
                            break;
                        }
                    }
                    // The children at `raw.depth + 1` ended.
                    let parent = usize::try_from(raw.depth).ok().and_then(|d| siblings.get_mut(d));
                    if let Some(p) = parent.filter(|p| p.1 != Sibling::None) {
                        let (at, sibling) = std::mem::replace(p, (0, Sibling::None));
                        if raw.depth > 0 {
                            follow!(raw.go_to_sibling(at, sibling), raw.depth);
                        }
                    }
                    // The unit DIE's children ended: libdw's walk of the
                    // unit is over, whatever bytes follow.
                    if raw.depth <= 0 {
                        break;
                    }
                    continue;
                }
                Err(_) => {
                    broke = Some(Break {
                        call: Broken::Child,
                        depth: depth - 1,
                        end: ChildrenEnd::Entry(0),
                        partial: None,
                    });
                    break;
                }
            };
            let local = self.arena.dies.len() as DieIdx;
            let attributes_broken = if plan.children { Broken::Child } else { Broken::Sibling };
            if body >= 0 && depth <= body {
                body = -1;
                if let Some(b) = self.bodies.last_mut() {
                    b.1 = offset as u32;
                }
            }
            let keep = body < 0 || (depth == body + 1 && plan.tag == dw::DW_TAG_formal_parameter.0);
            let idx = gbase + local;
            let attrs = raw.input;
            if !keep {
                let mut sibling = Sibling::None;
                let read = raw.attributes(plans, plan.skip, |want, v| {
                    if matches!(want, Want::Sibling) && sibling == Sibling::None {
                        sibling = Sibling::of(&v);
                    }
                });
                if read.is_err() && !steps_over_damage(&plan, depth, Entries::fixed_sibling(attrs, &plan, sibling)) {
                    broke = Some(Break {
                        call: attributes_broken,
                        depth: depth - 1,
                        end: ChildrenEnd::Entry(plan.tag),
                        partial: None,
                    });
                    break;
                }
                let sibling = Entries::fixed_sibling(attrs, &plan, sibling);
                if sibling != Sibling::None {
                    follow!(next_sibling(&mut raw, &mut siblings, depth as usize, at, plan.children, sibling), depth);
                }
                continue;
            }
            let nums = self.arena.nums.len();
            let read = match self.read_die(dwarf, unit, &mut raw, plans, plan, (base, end)) {
                Ok(read) => read,
                // A unit DIE without children: libdw never reads its
                // attributes (`dwarf_child` answers from the abbreviation),
                // so the unit is one with nothing in it. (Not an entry
                // read where a type lands: rendering reads its attributes.)
                Err(_) if at == unit.header.header_size() && !plan.children => {
                    self.arena.nums.truncate(nums);
                    self.add_die(ReadDie::bare(plan.tag, nums), idx, offset, (base, end), inner, false);
                    break;
                }
                // Kept with the attributes before the damage, which
                // `dwarf_attr` finds (as where a type lands on one).
                Err(mut read)
                    if steps_over_damage(&plan, depth, Entries::fixed_sibling(attrs, &plan, read.sibling)) =>
                {
                    read.die.nums_len |= READ_IN_PART;
                    read
                }
                Err(_) => {
                    self.arena.nums.truncate(nums);
                    broke = Some(Break {
                        call: attributes_broken,
                        depth: depth - 1,
                        end: ChildrenEnd::Entry(plan.tag),
                        partial: Some(offset as u32),
                    });
                    break;
                }
            };
            let depth = depth as usize;
            if depth > last_at_depth.len() {
                // Skipped a level: malformed tree.
                self.arena.nums.truncate(nums);
                broke = Some(Break {
                    call: Broken::Child,
                    depth: depth as isize - 1,
                    end: ChildrenEnd::Entry(plan.tag),
                    partial: None,
                });
                break;
            }
            let sibling = Entries::fixed_sibling(attrs, &plan, read.sibling);
            self.add_die(read, idx, offset, (base, end), inner, replay_from.is_some());
            link(&mut self.arena, &mut last_at_depth, depth, idx);
            if depth > 0 && sibling != Sibling::None {
                follow!(next_sibling(&mut raw, &mut siblings, depth, at, plan.children, sibling), depth as isize);
            }
            if depth == 0 && !plan.children {
                // A unit DIE without children has nothing libdw walks.
                break;
            }
            // The root's children are walked even if it claims to be a
            // subprogram.
            if skip_bodies && depth > 0 && plan.tag == dw::DW_TAG_subprogram.0 && plan.children {
                body = depth as isize;
                self.bodies.push(((base + raw.next_offset().0 as u64) as u32, u32::MAX));
            }
        }
        (broke, needs_full)
    }

    /// A read entry joins the arena; its references are kept to resolve:
    /// those into the unit (`range`) in `inner`, the others for later.
    /// Always inlined: once per DIE read, and a second (cold) call site,
    /// for a bare unit DIE, made LLVM call it instead (+0.2M instructions
    /// on mm/slub.o without PGO).
    #[inline(always)]
    fn add_die(
        &mut self,
        read: ReadDie<'a>,
        idx: DieIdx,
        offset: u64,
        range: (u64, u64),
        inner: &mut Vec<(u32, u32, bool)>,
        replayed: bool,
    ) {
        let mut die = read.die;
        if let Some(l) = read.linkage {
            die.flags |= LINKAGE;
            self.arena.linkage.push((idx, l));
        }
        let local = idx - self.arena.base;
        for (off, origin) in [(read.type_off, false), (read.origin_off, true)] {
            if off != NO_OFF {
                // Offsets fit in 32 bits (see `Dies::new`); one beyond
                // matches no DIE, as `u32::MAX` (past the section) does not.
                let off32 = u32::try_from(off).unwrap_or(u32::MAX);
                if (range.0..range.1).contains(&off) {
                    inner.push((local, off32, origin));
                } else if replayed {
                    // Read again after a rewind: garbage as often as not,
                    // and no reason to read every unit (refs resolve to
                    // no DIE, as one that crosses and lands on none does).
                } else {
                    self.crossed = true;
                    self.refs.push((local, off32, origin));
                }
            }
        }
        if die.flags & TYPE_SIG8 != 0 {
            self.sigs.push((local, self.last_sig));
        }
        let slot = local as usize;
        if slot < self.arena.dies.len() {
            self.arena.dies[slot] = die;
        } else {
            self.arena.dies.push(die);
            self.arena.offsets.push(offset as u32);
        }
    }

    /// Resolves the references into the unit whose DIEs start at local
    /// index `first` and whose skipped bodies start at `self.bodies[first_body]`;
    /// `None` if one reaches into a skipped body (the unit must be read in
    /// full). Returns the types and abstract origins that land on no
    /// DIE, as (local index, offset, whether an origin).
    fn resolve_inner(
        &mut self,
        first_body: usize,
        (first, sorted): (DieIdx, DieIdx),
        range: (u64, u64),
        inner: Vec<(u32, u32, bool)>,
    ) -> Option<Vec<(u32, u32, bool)>> {
        // The unit's DIEs in offset order: all but those read again after
        // a `DW_AT_sibling` took reading back, or where a type landed.
        let offsets = &self.arena.offsets[first as usize..sorted as usize];
        let index = OffsetIndex::new(offsets, range);
        let base = self.arena.base + first;
        // Those read again: found where no DIE of the first reading is (a
        // DIE at an offset is the same bytes whichever reading kept it).
        let again = ByOffset::new(&self.arena.offsets, sorted as usize);
        let mut nowhere = Vec::new();
        for (i, off, origin) in inner {
            let found = index.find(offsets, off).ok().map(|t| base + t as DieIdx);
            let found = found.or_else(|| again.find(off).map(|t| self.arena.base + t));
            let target = match found {
                Some(t) => t,
                None if in_body(&self.bodies[first_body..], off) => return None,
                None => {
                    nowhere.push((i, off, origin));
                    NONE
                }
            };
            let d = &mut self.arena.dies[i as usize];
            if origin {
                d.abstract_origin = target;
            } else {
                d.type_ = target;
            }
        }
        Some(nowhere)
    }

    /// Reads the entry at `off` (and its children) as libdw reads one
    /// where a type lands between DIEs of a damaged unit: DIEs kept after
    /// those in offset order. Its references go to `inner`. The local index
    /// of the entry read, `None` (nothing kept) if reading it fails: libdw
    /// would fail only once rendering met the damage.
    #[allow(clippy::too_many_arguments)]
    #[cold]
    #[inline(never)]
    fn read_stray(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        plans: &mut Plans,
        range: (u64, u64),
        off: u32,
        inner: &mut Vec<(u32, u32, bool)>,
    ) -> Option<u32> {
        let raw = entries_at(dwarf, unit, range, (off as u64).checked_sub(range.0)? as usize)?;
        let kept = (self.arena.dies.len(), inner.len());
        let mut replay_from = Some(kept.0);
        let (broke, _) = self.walk(dwarf, unit, raw, false, plans, range, inner, &mut replay_from);
        if self.arena.dies.len() == kept.0 {
            inner.truncate(kept.1);
            return self.read_partial(dwarf, unit, plans, range, off, inner);
        }
        if let Some(b) = broke {
            // The entry reads, some of its children do not: libdw fails only
            // when rendering walks them.
            self.mark_break(dwarf, unit, plans, range, kept.0, b, inner, false);
        }
        self.replayed = true;
        Some(kept.0 as u32)
    }

    /// Where a walk from the entry at local index `top` broke (`b`): what
    /// read is kept, and each entry from `top` down to the one whose
    /// children meet the damage says how they end (the ones above: past
    /// the child that leads there), for rendering that walks them. With
    /// `whole`, nothing is marked unless the path reaches that entry (a
    /// walk that skipped function bodies may have broken in one).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    #[inline(never)]
    fn mark_break(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        plans: &mut Plans,
        range: (u64, u64),
        top: usize,
        Break { depth, end, partial, .. }: Break,
        inner: &mut Vec<(u32, u32, bool)>,
        whole: bool,
    ) {
        let gbase = self.arena.base;
        if whole && self.last_descendant(top, depth).is_none() {
            return;
        }
        let mut at = top;
        for d in 0..=depth {
            let mut end = if d == depth { end } else { ChildrenEnd::Past };
            // A last child whose attributes do not all read: libdw steps
            // onto it, and rendering takes it up as far as its attributes
            // read (`read_partial`) before stepping past it fails.
            if let Some(p) = partial.filter(|_| d == depth) {
                if let Some(c) = self.read_partial(dwarf, unit, plans, range, p, inner) {
                    self.append_child(at, c);
                    end = ChildrenEnd::Past;
                }
            }
            self.arena.dies[at].flags |= CHILDREN_BREAK;
            self.arena.ends.push((gbase + at as DieIdx, end));
            // Down to the last child: the walk stopped inside it.
            match self.last_child(at) {
                Some(c) if d < depth => at = c,
                _ => break,
            }
        }
    }

    /// The entry `depth` levels below local index `top` down the last
    /// children, if there is one.
    fn last_descendant(&self, top: usize, depth: isize) -> Option<usize> {
        (0..depth).try_fold(top, |at, _| self.last_child(at))
    }

    /// The local index of the last child of the entry at local index `at`.
    fn last_child(&self, at: usize) -> Option<usize> {
        let gbase = self.arena.base;
        let mut c = self.arena.dies[at].first_child;
        if c == NONE {
            return None;
        }
        while self.arena.dies[(c - gbase) as usize].next_sibling != NONE {
            c = self.arena.dies[(c - gbase) as usize].next_sibling;
        }
        Some((c - gbase) as usize)
    }

    /// An entry where a reference lands whose attributes do not all read:
    /// kept with the ones before the damage, which libdw's `dwarf_attr`
    /// finds (it reads up to the attribute asked for), and with no children
    /// to walk; `dwarf_child` fails on it where it has some (it reads every
    /// attribute to find them). `None` where its code names no
    /// abbreviation: only its tag is kept then (0, libdw's
    /// `DW_TAG_invalid`).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    #[inline(never)]
    fn read_partial(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        plans: &mut Plans,
        range: (u64, u64),
        off: u32,
        inner: &mut Vec<(u32, u32, bool)>,
    ) -> Option<u32> {
        let mut raw = entries_at(dwarf, unit, range, (off as u64).checked_sub(range.0)? as usize)?;
        let plan = raw.entry(plans).ok()??;
        let mut r = match self.read_die(dwarf, unit, &mut raw, plans, plan, range) {
            Err(r) => r,
            Ok(r) => {
                // It reads: what failed is not this entry.
                self.arena.nums.truncate(r.die.nums as usize);
                return None;
            }
        };
        r.die.nums_len |= READ_IN_PART;
        Some(self.keep_apart(r, off, plan.children, range, inner))
    }

    /// Keeps an entry read at `off` after the others (the offsets are no
    /// longer in order then); where `child_fails`, `dwarf_child` fails on
    /// it ([`ChildrenEnd::Child`]). Its local index.
    fn keep_apart(
        &mut self,
        mut r: ReadDie<'a>,
        off: u32,
        child_fails: bool,
        range: (u64, u64),
        inner: &mut Vec<(u32, u32, bool)>,
    ) -> u32 {
        let local = self.arena.dies.len() as DieIdx;
        let idx = self.arena.base + local;
        if child_fails {
            r.die.flags |= CHILDREN_BREAK;
            self.arena.ends.push((idx, ChildrenEnd::Child));
        }
        self.add_die(r, idx, off as u64, range, inner, true);
        self.replayed = true;
        local
    }

    /// Makes local DIE `child` the last child of local DIE `parent`.
    fn append_child(&mut self, parent: usize, child: u32) {
        let gbase = self.arena.base;
        let idx = gbase + child as DieIdx;
        let mut c = self.arena.dies[parent].first_child;
        if c == NONE {
            self.arena.dies[parent].first_child = idx;
            return;
        }
        while self.arena.dies[(c - gbase) as usize].next_sibling != NONE {
            c = self.arena.dies[(c - gbase) as usize].next_sibling;
        }
        self.arena.dies[(c - gbase) as usize].next_sibling = idx;
    }

    /// Reads an entry's attributes: the entry, or where they do not all
    /// read, the entry with those before the damage. Always inlined: its
    /// second call site (`read_partial`, cold) made LLVM call it instead,
    /// for every DIE (+7% instructions on mm/vmscan.o without PGO).
    #[inline(always)]
    fn read_die(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        raw: &mut Entries<'a, '_>,
        plans: &Plans,
        plan: Plan,
        (base, end): (u64, u64),
    ) -> Result<ReadDie<'a>, ReadDie<'a>> {
        let nums_start = self.arena.nums.len();
        // A local, not a reference the caller passes: LLVM keeps its
        // fields in registers then (+6% instructions on mm/vmscan.o with
        // it behind a reference).
        let mut r = ReadDie::bare(plan.tag, nums_start);
        let nums = &mut self.arena.nums;
        // libdw's `dwarf_attr` (`__libdw_find_attr`) takes an attribute's
        // first occurrence, whether or not its value reads: a damaged
        // abbreviation can name one twice. Bits of `seen`: name, linkage
        // name, type, abstract origin, declaration.
        let mut seen = 0u8;
        let mut first = |bit: u8| {
            let new = seen & bit == 0;
            seen |= bit;
            new
        };
        // The closure is always inlined too: with two callers of
        // `read_die`, LLVM called it once per attribute read.
        let read = raw.attributes(
            plans,
            plan.keep,
            #[inline(always)]
            |want, value| match want {
                Want::Name if first(1) => {
                    let (name, unmeasured) = name_string(dwarf, self.tails.str, unit, value);
                    r.die.set_name(name.ok(), unmeasured);
                    if let Err(e) = name {
                        r.die.set_name_error(e);
                    }
                }
                Want::Linkage if first(2) => r.linkage = Some(string(dwarf, self.tails.str, unit, value)),
                Want::Type if first(4) => {
                    r.type_off = reference(base, end, value);
                    match value {
                        AttributeValue::DebugTypesRef(sig) => {
                            r.die.flags |= TYPE_SIG8;
                            self.last_sig = sig.0;
                        }
                        AttributeValue::UnitRef(_) if r.type_off == NO_OFF => r.die.flags |= TYPE_OUTSIDE,
                        _ => {}
                    }
                }
                Want::Origin if first(8) => r.origin_off = reference(base, end, value),
                Want::Name | Want::Linkage | Want::Type | Want::Origin => {}
                Want::Sibling => {
                    if r.sibling == Sibling::None {
                        r.sibling = Sibling::of(&value);
                    }
                }
                // `dwarf_formflag` reads only the two flag forms: another
                // is no flag, an error upstream's `get_flag_attr` leaves set.
                Want::Declaration if first(16) => match value {
                    AttributeValue::Flag(true) => r.die.flags |= DECLARATION,
                    AttributeValue::Flag(false) => {}
                    _ => {
                        let slots = push_num_error(nums, Num::Declaration, NumError::NoFlag);
                        r.die.nums_len = r.die.nums_len.saturating_add(slots);
                    }
                },
                Want::Declaration => {}
                // libdw's dwarf_attr finds the first occurrence.
                Want::Num(num) if read_num(&nums[nums_start..], num).is_none() => {
                    let slots = match udata(&value) {
                        Some(v) => push_num(nums, num, v),
                        // A section offset is a location list's where the
                        // member's place may be one (libdw reads it as such
                        // then: not followed); elsewhere libdw refuses it.
                        None if matches!(value, AttributeValue::SecOffset(_)) => {
                            if num == Num::DataMemberLocation {
                                return;
                            }
                            push_num_error(nums, num, NumError::InvalidDwarf)
                        }
                        None => push_num_error(nums, num, NumError::NoConstant),
                    };
                    r.die.nums_len = r.die.nums_len.saturating_add(slots);
                }
                Want::Num(_) => {}
            },
        );
        match read {
            Ok(()) => Ok(r),
            Err(_) => Err(r),
        }
    }

    /// Resolves the references read; `false` if one reaches a skipped DIE.
    /// Entries read where references land (`land_across`) may hold
    /// references and type-unit signatures of their own, which lead to
    /// more: followed in rounds, up to a budget (hostile DWARF can chain
    /// them without end).
    pub(super) fn resolve_refs(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        headers: &[gimli::UnitHeader<R<'a>>],
        types: TypeUnits<'_, 'a>,
    ) -> bool {
        for _ in 0..MAX_ROUNDS {
            if !self.resolve_refs_once(dwarf, headers) {
                return false;
            }
            if !self.sigs.is_empty() {
                self.read_type_units(dwarf, types);
            }
            if self.refs.is_empty() {
                break;
            }
        }
        true
    }

    fn resolve_refs_once(&mut self, dwarf: &gimli::Dwarf<R<'a>>, headers: &[gimli::UnitHeader<R<'a>>]) -> bool {
        let arena = &mut self.arena;
        let base = arena.base;
        let mut complete = true;
        let mut nowhere = Vec::new();
        // DIEs read again after a rewind leave the offsets unsorted: search
        // a sorted copy then.
        let sorted = self.replayed.then(|| ByOffset::new(&arena.offsets, 0));
        for &(i, off, origin) in &self.refs {
            let found = match &sorted {
                None => arena.offsets.binary_search(&off).ok().map(|t| t as u32),
                Some(v) => v.find(off),
            };
            let target = match found {
                Some(t) => base + t as DieIdx,
                None => {
                    if in_body(&self.bodies, off) {
                        complete = false;
                    } else {
                        nowhere.push((i, off, origin));
                    }
                    NONE
                }
            };
            let d = &mut arena.dies[i as usize];
            if origin {
                d.abstract_origin = target;
            } else {
                d.type_ = target;
            }
        }
        self.refs.clear();
        if complete && !nowhere.is_empty() {
            for (i, off, origin) in nowhere {
                self.land_across(dwarf, headers, (i, off, origin));
            }
            self.arena.strays.sort_unstable_by_key(|s| s.0);
        }
        complete
    }

    /// A reference across units that lands on no DIE a walk read (between
    /// DIEs, or past where a unit's walk broke): libdw reads an entry
    /// there all the same, so it is read as one landing inside its own
    /// unit is (`land`), after the other DIEs, with the line table of the
    /// unit it lands in (`ReadApart`).
    #[cold]
    #[inline(never)]
    fn land_across(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        headers: &[gimli::UnitHeader<R<'a>>],
        reference: (u32, u32, bool),
    ) {
        let off = reference.1 as u64;
        let Some(&header) = headers.iter().find(|h| {
            let (start, end) = range_of(dwarf, h);
            (start..end).contains(&off)
        }) else {
            return;
        };
        self.read_apart(dwarf, header, |w, unit, plans, range, from| {
            let mut strays = Default::default();
            w.land(dwarf, unit, plans, range, (w.bodies.len(), from, from), vec![reference], &mut strays);
        });
    }

    /// Opens unit `header` to read entries of it apart from its walk
    /// (`read`, given the unit, its plans, its range and the local index
    /// the entries read start at), and keeps the run of DIEs so read with
    /// the unit's line table (`ReadApart`). libdw reads an entry where a
    /// reference lands without reading the unit's DIE, which only the line
    /// table needs: a unit whose DIE does not read opens bare, and
    /// `dwarf_getsrcfiles` fails on it. `None` where the unit's
    /// abbreviations do not read.
    pub(super) fn read_apart<T>(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        header: gimli::UnitHeader<R<'a>>,
        read: impl FnOnce(&mut Self, &gimli::Unit<R<'a>>, &mut Plans, (u64, u64), DieIdx) -> T,
    ) -> Option<T> {
        let abbrevs = abbreviations(dwarf, &header).ok()?;
        let (unit, files, comp_dir_error) = match open::open(dwarf, header, abbrevs.clone(), self.tails) {
            Ok(u) => u,
            Err(_) => (open::bare(dwarf, header, abbrevs), Err(Some("invalid DWARF")), None),
        };
        let mut plans = Plans::default();
        let from = self.arena.dies.len() as DieIdx;
        let t = read(self, &unit, &mut plans, range_of(dwarf, &header), from);
        let base = self.arena.base;
        let dies = base + from..base + self.arena.dies.len() as DieIdx;
        if !dies.is_empty() {
            self.arena.apart.push(ReadApart { dies, files, comp_dir_error });
        }
        Some(t)
    }
}

/// A DIE's name as [`Die::set_name`] takes it: a `.debug_str` name whose
/// section ends in a NUL is left unmeasured (the rest of the section from
/// its first byte); any other name is found as [`string`] finds it.
fn name_string<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    str_tail: &'a [u8],
    unit: &gimli::Unit<R<'a>>,
    value: AttributeValue<R<'a>>,
) -> (Result<&'a [u8], StringError>, bool) {
    if let AttributeValue::DebugStrRef(gimli::DebugStrOffset(off)) = value {
        use gimli::Section as _;
        let s = dwarf.debug_str.reader().slice();
        if s.last() == Some(&0) {
            // A terminator follows every offset in the section.
            return (s.get(off..).filter(|r| !r.is_empty()).ok_or(StringError::BadOffset), true);
        }
    }
    (string(dwarf, str_tail, unit, value), false)
}

/// A string attribute's bytes, as libdw's `dwarf_formstring` gives them,
/// or why it fails.
pub(super) fn string<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    str_tail: &'a [u8],
    unit: &gimli::Unit<R<'a>>,
    value: AttributeValue<R<'a>>,
) -> Result<&'a [u8], StringError> {
    // Most names are `.debug_str` offsets, given or by index: find the
    // terminator 8 bytes at a time (gimli tests byte by byte).
    use gimli::Section as _;
    let section = dwarf.debug_str.reader().slice();
    match value {
        AttributeValue::DebugStrRef(gimli::DebugStrOffset(off)) => {
            return c_string(section, str_tail, off).ok_or(StringError::BadOffset);
        }
        AttributeValue::DebugStrOffsetsIndex(index) => {
            let off = dwarf.string_offset(unit, index).map_err(|_| StringError::BadOffset)?.0;
            return c_string_by_index(section, str_tail, off).ok_or(StringError::BadOffset);
        }
        _ => {}
    }
    let offset = matches!(value, AttributeValue::DebugLineStrRef(_));
    dwarf.attr_string(unit, value).map(|s| s.slice()).map_err(|_| {
        if offset {
            StringError::BadOffset
        } else {
            StringError::NoString
        }
    })
}

/// A unit's abbreviations: a table gimli refuses may still be one libdw
/// reads (`abbrev.rs`).
fn abbreviations<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    header: &gimli::UnitHeader<R<'a>>,
) -> gimli::Result<std::sync::Arc<gimli::Abbreviations>> {
    dwarf.abbreviations(header).or_else(|e| {
        let section = dwarf.debug_abbrev.reader();
        let table = abbrev::lenient(section.slice(), header.debug_abbrev_offset().0, section.endian()).ok_or(e)?;
        Ok(std::sync::Arc::new(table))
    })
}

/// Where a unit lies in the arena's offsets: from its `.debug_info`
/// offset, or for a type unit of `.debug_types`, its offset there after
/// the end of `.debug_info` (so that no DIE of one is taken for a DIE of
/// the other; `Dies::new` checks both fit in 32 bits), to its end.
fn range_of<'a>(dwarf: &gimli::Dwarf<R<'a>>, header: &gimli::UnitHeader<R<'a>>) -> (u64, u64) {
    let start = match header.debug_types_offset() {
        Some(o) => dwarf.debug_info.reader().len() as u64 + o.0 as u64,
        None => header.debug_info_offset().map_or(0, |o| o.0 as u64),
    };
    (start, start + header.length_including_self() as u64)
}

/// Where a reference of a unit at `base..end` of `.debug_info` leads, as
/// `dwarf_formref_die` finds it: a unit offset past the unit leads nowhere.
fn reference(base: u64, end: u64, value: AttributeValue<R<'_>>) -> u64 {
    match value {
        AttributeValue::UnitRef(o) if base + o.0 as u64 >= end => NO_OFF,
        AttributeValue::UnitRef(o) => base + o.0 as u64,
        AttributeValue::DebugInfoRef(o) => o.0 as u64,
        // A type unit's signature is followed once the unit is read
        // (`Window::read_type_units`).
        _ => NO_OFF,
    }
}

/// `dwarf_formudata`: data forms zero-extended, sdata/implicit_const
/// sign-extended then read as unsigned, udata as is, and (libdw 0.188)
/// the index of an `addrx*`, `rnglistx` or `loclistx` form as a constant;
/// anything else is not a number.
pub(super) fn udata(value: &AttributeValue<R<'_>>) -> Option<u64> {
    Some(match *value {
        AttributeValue::Data1(v) => v as u64,
        AttributeValue::Data2(v) => v as u64,
        AttributeValue::Data4(v) => v as u64,
        AttributeValue::Data8(v) => v,
        AttributeValue::Sdata(v) => v as u64,
        AttributeValue::Udata(v) => v,
        AttributeValue::DebugAddrIndex(i) => i.0 as u64,
        AttributeValue::DebugRngListsIndex(i) => i.0 as u64,
        AttributeValue::DebugLocListsIndex(i) => i.0 as u64,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_dwarf_formudata_reads_them() {
        assert_eq!(udata(&AttributeValue::Data2(0x1234)), Some(0x1234));
        assert_eq!(udata(&AttributeValue::Sdata(-1)), Some(u64::MAX));
        assert_eq!(udata(&AttributeValue::DebugAddrIndex(gimli::DebugAddrIndex(4))), Some(4));
        assert_eq!(udata(&AttributeValue::DebugRngListsIndex(gimli::DebugRngListsIndex(7))), Some(7));
        assert_eq!(udata(&AttributeValue::DebugLocListsIndex(gimli::DebugLocListsIndex(9))), Some(9));
        assert_eq!(udata(&AttributeValue::SecOffset(16)), None);
        assert_eq!(udata(&AttributeValue::Flag(true)), None);
    }

    #[test]
    fn offset_index_finds_what_binary_search_finds() {
        let mut seed = 0x9e37_79b9u64;
        let mut rand = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for round in 0..200 {
            let base = rand(1000);
            let mut offsets = Vec::new();
            let mut at = base + rand(3);
            for _ in 0..rand(300) {
                offsets.push(at as u32);
                at += 1 + rand(if round % 2 == 0 { 40 } else { 200 });
            }
            let end = at + rand(5);
            let index = OffsetIndex::new(&offsets, (base, end));
            for off in base.saturating_sub(3)..end + 70 {
                let off = off as u32;
                assert_eq!(index.find(&offsets, off), offsets.binary_search(&off), "{off} in {offsets:?}");
            }
        }
    }
}
