//! The DIEs of one object, read into a flat arena one unit at a time.
//!
//! Upstream walks libdw's DIE tree again and again; we parse each unit
//! once, keep only the attributes the type-string language reads, and hand
//! out `u32` indices. Indices follow `.debug_info` order (pre-order within a
//! unit, units in order), so "DWARF order" is simply index order, and a
//! reference is resolved by binary search over the offsets.
//!
//! Only the unit being processed is kept (its *window*): upstream's passes
//! never leave a unit unless a reference crosses units, and a kernel image
//! holds thousands of units. When a unit refers outside itself (LTO,
//! `DW_FORM_ref_addr`), every unit is read at once instead and stays.
//!
//! Unless `--debug` counts them, function bodies are not read: the DIEs
//! under a subprogram other than its parameters take no place in the arena
//! (see [`Dies::new`]), so indices count only the DIEs read. Every byte is
//! still decoded as gimli would decode it, so corrupt DWARF fails where it
//! fails when read in full, and a body something refers into is read after
//! all.
//!
//! Upstream's first pass over a unit (`resolve_fqns`) visits every DIE,
//! bodies included, with libdw's `dwarf_child` and `dwarf_siblingof`; so a
//! unit damaged anywhere fails upstream before any symbol is versioned, in
//! whichever of the two calls meets the damage first ([`Broken`]). That is
//! also why `DW_AT_sibling` cannot be used to jump over bodies (it would
//! save a tenth of a kernel object's run). It is followed the way libdw
//! follows it, though: once an entry and its children are read, reading
//! goes on at its sibling, and a sibling libdw refuses breaks the unit. On
//! intact DWARF the sibling is where reading got to anyway; on damaged
//! DWARF this is what decides which bytes upstream reads. A sibling short
//! of where reading got to (libdw only wants it past the entry's start)
//! takes reading back; what follows is read as the siblings libdw takes it
//! for, its DIEs kept after those in offset order. So are the entries
//! read where a type lands between DIEs: libdw reads an entry wherever a
//! reference points, and upstream renders it.
//!
//! Units are found as libdw finds them (`header.rs`), opened as it opens
//! them (`open.rs`: a bad line table fails only the lookup that needs it),
//! and an abbreviation table gimli refuses is read as libdw reads it
//! (`abbrev.rs`). Entries are decoded by per-abbreviation plans
//! (`decode.rs`): the attributes kept are read, the others skipped. The
//! walk over a unit's entries, the entries read where types land and the
//! references resolved are `window.rs`.
//!
//! A `.debug_types` section in no section group (compilers put each in
//! one, and libdw leaves those out) is read as libdw reads it: its type
//! units come after `.debug_info`'s units, their offsets after the end of
//! `.debug_info`. A `DW_FORM_ref_sig8` type is followed to the first
//! DWARF 5 type unit of `.debug_info` with its signature (a reference
//! across units), else into the first of `.debug_types`, the type read
//! where it lands, after the unit's DIEs (`Window::read_type_units`).

mod abbrev;
mod decode;
mod header;
mod leb;
mod lines;
mod open;
mod window;

use decode::{Entries, Plan, Plans, Sibling, Want};
use window::Window;

use gimli::{constants as dw, AttributeValue, EndianSlice, Reader as _, RunTimeEndian, Section as _};

use crate::elf::DwarfSections;

pub type DieIdx = u32;
/// No DIE: a missing child, sibling or unresolvable reference.
pub const NONE: DieIdx = u32::MAX;

type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// The sections this module (through gimli) reads: the DIEs and their
/// abbreviations, strings and the line tables' file names. (Not
/// `.debug_addr`: units are opened without resolving their `DW_AT_low_pc`,
/// see `open.rs`.)
pub const SECTIONS_READ: &[&str] = &[
    ".debug_info",
    ".debug_types",
    ".debug_abbrev",
    ".debug_str",
    ".debug_str_offsets",
    ".debug_line",
    ".debug_line_str",
];

/// The numeric attributes upstream prints or consults, decoded like
/// libdw's `dwarf_formudata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Num {
    ByteSize,
    Encoding,
    Alignment,
    BitSize,
    DataBitOffset,
    DataMemberLocation,
    Accessibility,
    DiscrValue,
    Count,
    UpperBound,
    ConstValue,
    DeclFile,
    /// `DW_AT_declaration` where it holds no flag: only the error is kept
    /// ([`NumError::NoFlag`]).
    Declaration,
}

impl Num {
    fn from_at(at: dw::DwAt) -> Option<Num> {
        Some(match at {
            dw::DW_AT_byte_size => Num::ByteSize,
            dw::DW_AT_encoding => Num::Encoding,
            dw::DW_AT_alignment => Num::Alignment,
            dw::DW_AT_bit_size => Num::BitSize,
            dw::DW_AT_data_bit_offset => Num::DataBitOffset,
            dw::DW_AT_data_member_location => Num::DataMemberLocation,
            dw::DW_AT_accessibility => Num::Accessibility,
            dw::DW_AT_discr_value => Num::DiscrValue,
            dw::DW_AT_count => Num::Count,
            dw::DW_AT_upper_bound => Num::UpperBound,
            dw::DW_AT_const_value => Num::ConstValue,
            dw::DW_AT_decl_file => Num::DeclFile,
            _ => return None,
        })
    }
}

/// One DIE of the arena.
#[derive(Clone)]
pub struct Die<'a> {
    /// The name, or with [`UNMEASURED`] everything from its first byte to
    /// the end of `.debug_str` (see [`Die::name`]).
    name: Option<&'a [u8]>,
    pub tag: u16,
    flags: u8,
    nums_len: u8,
    pub first_child: DieIdx,
    pub next_sibling: DieIdx,
    /// Target of `DW_AT_type`, [`NONE`] if absent or unresolvable.
    pub type_: DieIdx,
    pub abstract_origin: DieIdx,
    nums: u32,
}

/// `DW_AT_declaration` is true.
const DECLARATION: u8 = 1;
/// The DIE has a `DW_AT_linkage_name` (kept aside: few DIEs have one).
const LINKAGE: u8 = 2;
/// An entry read where a type landed (`Window::read_stray`) whose
/// children end in damage ([`ChildrenEnd`], in [`Arena::ends`]).
const CHILDREN_BREAK: u8 = 4;
/// The name's end is not looked for until the name is asked for: most
/// DIEs read are never rendered or matched by name, and finding the end of
/// each name in `.debug_str` as it was read waited on a cache miss a name
/// (3.4% of a run's samples on mm/vmscan.o, nearly all on the first load).
const UNMEASURED: u8 = 16;
/// libdw's error where the DIE has a `DW_AT_name` that `dwarf_formstring`
/// fails on (see [`Die::name_error`]): [`StringError::NoString`], or (both
/// bits) [`StringError::BadOffset`].
const NAME_NO_STRING: u8 = 32;
const NAME_ERROR: u8 = 32 | 64;
/// `DW_AT_type` is a reference `dwarf_formref_die` fails on (see
/// [`Die::type_ref_error`]): a type unit's signature (`DW_FORM_ref_sig8`),
/// or an offset past the unit.
const TYPE_SIG8: u8 = 128;
const TYPE_OUTSIDE: u8 = 8;
/// In `Die::nums_len` (a DIE has at most two slots for each of the
/// thirteen `Num`s): the DIE was kept with the attributes before damage,
/// which libdw's `dwarf_attr` finds; looking for any other reaches the
/// damage ([`Dies::num_read`]).
const READ_IN_PART: u8 = 0x80;

/// Why libdw's `dwarf_formref_die` fails on a DIE's `DW_AT_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeRefError {
    /// A type unit's signature. libdw looks for the type unit in the units
    /// it reads, which leave out the type units kept in section groups; it
    /// sets "invalid reference value" unless an error is already set (it
    /// leaves that).
    Signature,
    /// A unit offset past the unit's end: "invalid DWARF".
    OutsideUnit,
}

/// Why libdw's `dwarf_formstring` fails on an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringError {
    /// A form that holds no string ("no string data").
    NoString,
    /// An offset, given or by index, outside its section ("invalid offset").
    BadOffset,
}

impl StringError {
    /// libdw's message for it.
    pub(crate) fn message(self) -> &'static str {
        match self {
            StringError::NoString => "no string data",
            StringError::BadOffset => "invalid offset",
        }
    }
}

/// Shows the name as [`Die::name`] gives it, not the rest of `.debug_str`.
impl std::fmt::Debug for Die<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Die")
            .field("name", &self.name().map(String::from_utf8_lossy))
            .field("tag", &self.tag)
            .field("flags", &self.flags)
            .field("first_child", &self.first_child)
            .field("next_sibling", &self.next_sibling)
            .field("type_", &self.type_)
            .field("abstract_origin", &self.abstract_origin)
            .field("nums", &(self.nums, self.nums_len))
            .finish()
    }
}

/// Where the first NUL of `s` is: the end of a `.debug_str` string that
/// starts `s`. Names are short (a median of about 10 bytes), so this reads
/// 8 bytes at a time inline; `memchr` was a call through a pointer that
/// set up 32-byte vectors for one or two of them.
#[inline]
pub(crate) fn nul(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = s.chunks_exact(8);
    for (k, w) in words.by_ref().enumerate() {
        let w = u64::from_le_bytes(w.try_into().unwrap());
        // A high bit for each zero byte; a borrow can also mark bytes after
        // the first zero, never before it, so the lowest mark is exact.
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        if zeros != 0 {
            return Some(k * 8 + (zeros.trailing_zeros() / 8) as usize);
        }
    }
    let tail = words.remainder();
    tail.iter().position(|&b| b == 0).map(|i| s.len() - tail.len() + i)
}

impl<'a> Die<'a> {
    /// `DW_AT_name`, if it has one that reads.
    #[inline]
    pub fn name(&self) -> Option<&'a [u8]> {
        let n = self.name?;
        if self.flags & UNMEASURED == 0 {
            return Some(n);
        }
        // The section ends in a NUL (`Window` stores no name otherwise).
        Some(&n[..nul(n).unwrap_or(n.len())])
    }

    /// libdw's error where the DIE has a `DW_AT_name` that
    /// `dwarf_formstring` fails on: a form that holds no string, or an
    /// offset outside the string section. libdw leaves it set, and
    /// upstream prints it where a later call fails without setting one.
    pub fn name_error(&self) -> Option<&'static str> {
        match self.flags & NAME_ERROR {
            0 => None,
            NAME_NO_STRING => Some(StringError::NoString.message()),
            _ => Some(StringError::BadOffset.message()),
        }
    }

    /// Why `dwarf_formref_die` fails on `DW_AT_type`, if it does: upstream
    /// then prints `base_type void`, and libdw's error is left set.
    pub fn type_ref_error(&self) -> Option<TypeRefError> {
        if self.flags & TYPE_SIG8 != 0 {
            Some(TypeRefError::Signature)
        } else if self.flags & TYPE_OUTSIDE != 0 {
            Some(TypeRefError::OutsideUnit)
        } else {
            None
        }
    }

    /// Notes that reading the name failed (see [`Self::name_error`]).
    pub(crate) fn set_name_error(&mut self, e: StringError) {
        self.flags |= match e {
            StringError::NoString => NAME_NO_STRING,
            StringError::BadOffset => NAME_ERROR,
        };
    }

    /// Whether [`Self::name`] is `Some`, without reading the name.
    #[inline]
    pub fn has_name(&self) -> bool {
        self.name.is_some()
    }

    /// Sets the name: its bytes, or with `unmeasured` the rest of a
    /// section that ends in a NUL, from the name's first byte.
    pub(crate) fn set_name(&mut self, name: Option<&'a [u8]>, unmeasured: bool) {
        self.name = name;
        self.flags = (self.flags & !UNMEASURED) | if unmeasured && name.is_some() { UNMEASURED } else { 0 };
    }

    pub fn declaration(&self) -> bool {
        self.flags & DECLARATION != 0
    }
}

/// How libdw's walk over an entry's children meets the damage, for an
/// entry read where a type landed (`Window::read_stray`) whose children do
/// not all read: after the children that do, which are kept. (A unit that
/// cannot be walked fails as a whole: [`UnitInfo::broken`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildrenEnd {
    /// The last child kept leads into it (through its own children or its
    /// `DW_AT_sibling`): `dwarf_siblingof` fails stepping past that child.
    Past,
    /// `dwarf_child` fails on the entry itself (its code names no
    /// abbreviation, or it has children and its attributes do not read):
    /// an abstract origin landing there, which upstream renders as the
    /// symbol's DIE all the same (`Window::read_unit`).
    Child,
    /// The next child is an entry that does not read whole, with this tag
    /// (0, libdw's `DW_TAG_invalid`, where its code names no
    /// abbreviation): `dwarf_siblingof` steps onto it and fails stepping
    /// past it, unless rendering takes it up first.
    Entry(u16),
}

/// A loaded unit moved out of a [`Dies`] (see [`Dies::take_window`]).
pub struct UnitWindow<'a> {
    unit: u32,
    info: UnitInfo<'a>,
    arena: Arena<'a>,
}

impl UnitWindow<'_> {
    /// The index of the unit's first DIE.
    pub fn base(&self) -> DieIdx {
        self.arena.base
    }

    /// Writes to `out` everything rendering can read from this unit, with
    /// indices made relative to [`Self::base`] and strings by content, so
    /// that the same unit gives the same bytes in any object, at any
    /// position (`.debug_info` and `.debug_str` offsets are left out: only
    /// the dumps print them). `false` for a unit that failed to read, whose
    /// errors name offsets.
    pub fn content(&self, out: &mut crate::unitcache::KeyWriter) -> bool {
        let info = &self.info;
        // Strays are not in the key: such a unit is not shared.
        // Nor one with DIEs read apart: their line tables are not in it.
        if info.broken.is_some() || !self.arena.strays.is_empty() || !self.arena.apart.is_empty() {
            return false;
        }
        let base = self.arena.base;
        let rel = |i: DieIdx| if i == NONE { NONE } else { i.wrapping_sub(base) };
        let string = |out: &mut crate::unitcache::KeyWriter, s: Option<&[u8]>| match s {
            None => out.u32(u32::MAX),
            Some(s) => {
                out.u32(s.len() as u32);
                out.bytes(s);
            }
        };
        out.u32(rel(info.root));
        out.u32(rel(info.first));
        match &info.files {
            Err(message) => {
                out.u32(u32::MAX);
                string(out, message.map(str::as_bytes));
            }
            Ok(files) => {
                out.u32(files.len() as u32);
                for f in files {
                    string(out, *f);
                }
            }
        }
        string(out, info.comp_dir_error.map(str::as_bytes));
        out.u32(self.arena.dies.len() as u32);
        for d in &self.arena.dies {
            let mut fixed = [0u8; 24];
            fixed[0..2].copy_from_slice(&d.tag.to_le_bytes());
            fixed[2] = d.flags & !UNMEASURED;
            fixed[3] = d.nums_len;
            fixed[4..8].copy_from_slice(&rel(d.first_child).to_le_bytes());
            fixed[8..12].copy_from_slice(&rel(d.next_sibling).to_le_bytes());
            fixed[12..16].copy_from_slice(&rel(d.type_).to_le_bytes());
            fixed[16..20].copy_from_slice(&rel(d.abstract_origin).to_le_bytes());
            fixed[20..24].copy_from_slice(&d.nums.to_le_bytes());
            out.bytes(&fixed);
            string(out, d.name());
        }
        out.u32(self.arena.nums.len() as u32);
        for &slot in &self.arena.nums {
            out.bytes(&slot.to_le_bytes());
        }
        out.u32(self.arena.linkage.len() as u32);
        for &(i, name) in &self.arena.linkage {
            out.u32(rel(i));
            match name {
                Ok(name) => string(out, Some(name)),
                Err(e) => {
                    string(out, None);
                    out.u32(e as u32);
                }
            }
        }
        true
    }
}

/// The DIEs of a window or of every unit: `dies[i]` has index `base + i`.
#[derive(Default)]
struct Arena<'a> {
    dies: Vec<Die<'a>>,
    /// `.debug_info` offset of each DIE (sorted: DIEs are in section order);
    /// 32 bits, as [`Dies::new`] requires, for a smaller heap.
    offsets: Vec<u32>,
    /// Numeric attributes, packed (see [`push_num`]).
    nums: Vec<u64>,
    /// Linkage names by (global) index, in index order, or why
    /// `dwarf_formstring` fails on one.
    linkage: Vec<(DieIdx, Result<&'a [u8], StringError>)>,
    /// DIEs whose `DW_AT_type` lands inside the unit but on no DIE, by
    /// (global) index, in index order, with the tag libdw reads there
    /// (0 where it finds no abbreviation): only damaged units have any.
    strays: Vec<(DieIdx, u16)>,
    /// Entries read where a type landed whose children end in damage, by
    /// (global) index (flagged `CHILDREN_BREAK`).
    ends: Vec<(DieIdx, ChildrenEnd)>,
    /// The DIEs read apart from their unit's walk: from type units where
    /// signatures led (`Window::read_type_units`), or where references
    /// from other units landed (`Window::land_across`), each read in a
    /// run of its own.
    apart: Vec<ReadApart<'a>>,
    base: DieIdx,
}

/// A run of DIEs read apart from their unit's walk, with that unit's
/// line table, which their `DW_AT_decl_file` indexes.
pub(super) struct ReadApart<'a> {
    /// Global indices.
    pub(super) dies: std::ops::Range<DieIdx>,
    pub(super) files: SrcFiles<'a>,
    pub(super) comp_dir_error: Option<&'static str>,
}

/// The line table a DIE's `DW_AT_decl_file` indexes: its unit's, or that
/// of the unit it was read apart from ([`ReadApart`], known by its first
/// DIE's index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTable {
    Unit(u32),
    Apart(DieIdx),
}

impl Arena<'_> {
    fn clear(&mut self) {
        self.dies.clear();
        self.offsets.clear();
        self.nums.clear();
        self.strays.clear();
        self.apart.clear();
        self.ends.clear();
        self.linkage.clear();
    }
}

/// A unit of the object, as upstream's `dwarf_get_units` hands it out.
#[derive(Clone)]
pub struct UnitInfo<'a> {
    /// The unit DIE; [`NONE`] if the unit could not be read at all.
    pub root: DieIdx,
    /// Index of the unit's first DIE (the next unit's first when it has none).
    first: DieIdx,
    /// Set when reading this unit's DIE tree failed part-way: upstream
    /// reports it when it reaches the unit, in the libdw call that failed.
    pub broken: Option<Broken>,
    files: SrcFiles<'a>,
    /// libdw's error that `dwarf_getsrcfiles` leaves set, first called on
    /// the unit, though it succeeds (see `open.rs`).
    comp_dir_error: Option<&'static str>,
    /// Index of the first DIE read again (after a `DW_AT_sibling` took
    /// reading back) or read where a reference landed: the unit's DIEs
    /// before it are in offset order, each read once.
    sorted_end: DieIdx,
}

/// File names of a unit's line program, indexed as `DW_AT_decl_file` is,
/// or how libdw's `dwarf_getsrcfiles` fails: with its message, or (`None`)
/// without setting one (a unit without a line table, or never read), where
/// upstream prints the error left from before (`Renderer::libdw_error`).
pub(crate) type SrcFiles<'a> = Result<Vec<Option<&'a [u8]>>, Option<&'static str>>;

/// What a `DW_AT_decl_file` index names in its unit's line table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclFile<'a> {
    /// The line table cannot be read: libdw's `dwarf_getsrcfiles` fails
    /// with this message, or (`None`) without setting one.
    NoLineTable(Option<&'static str>),
    /// An index past the table's files (libdw's `dwarf_filesrc` fails).
    OutOfRange,
    /// The file's name, `None` where it cannot be read.
    Name(Option<&'a [u8]>),
}

/// Which libdw call fails first on a unit that cannot be read whole.
/// Upstream's first pass over a unit (`resolve_fqns`) visits every DIE in
/// `.debug_info` order, calling `dwarf_child` on each and `dwarf_siblingof`
/// to step to the next; the first entry that cannot be decoded decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// `dwarf_child`: an entry's abbreviation code is bad, or the
    /// attributes of an entry with children are (libdw decodes them to
    /// find where its children start), or the tree itself.
    Child,
    /// `dwarf_siblingof`: the attributes of an entry without children,
    /// which libdw decodes only to step past it.
    Sibling,
    /// `dwarf_get_units`: not a unit but the bad header after the last
    /// good one, which upstream meets once the units before it are done.
    Header,
}

/// The DIEs of one object, loaded unit by unit.
pub struct Dies<'a> {
    /// `None` for a single unit handed over by [`Dies::take_window`].
    dwarf: Option<gimli::Dwarf<R<'a>>>,
    headers: Vec<gimli::UnitHeader<R<'a>>>,
    /// Every unit libdw finds by offset, for references across units:
    /// past a unit `dwarf_get_units` stops at (`headers` end there) too.
    reachable: Vec<gimli::UnitHeader<R<'a>>>,
    /// The type units a signature can lead to, by signature
    /// (`window::TypeUnits`).
    by_signature: Vec<(u64, gimli::UnitHeader<R<'a>>)>,
    /// What stands after the last of `headers` when it is not the end of
    /// the section: a unit libdw fails on (see `header.rs`).
    end: Option<Broken>,
    /// Per unit, once loaded; `units[k - unit_base]` is unit `k`.
    units: Vec<UnitInfo<'a>>,
    unit_base: u32,
    arena: Arena<'a>,
    /// Skip function bodies when reading (see [`Dies::new`]).
    skip_bodies: bool,
    /// Every unit is loaded (a reference crossed units).
    whole: bool,
    /// The unit whose DIEs are loaded, in window mode.
    current: Option<u32>,
    tails: Tails<'a>,
    /// No loaded DIE below this index is one read again
    /// ([`Dies::canonical`]).
    copies_from: DieIdx,
    /// The DIEs read again (see `copies_from`) by (offset, index), the
    /// first read at each offset only: a unit's walk can read an entry its
    /// first reading did not meet more than once (sibling rewinds).
    first_copies: Vec<(u32, DieIdx)>,
}

/// The string sections and the rest of the file after each, where the
/// section is the file's bytes (`DwarfSections::str_tail`): where libdw's C
/// strings run on to.
#[derive(Clone, Copy, Default)]
pub(crate) struct Tails<'a> {
    pub str: &'a [u8],
    pub line_str: &'a [u8],
}

/// The string at `off` of a string section as libdw's `dwarf_formstring`
/// hands it out: a C string in place, checked only to start in the
/// section. One the section does not end (damage) runs on into the file's
/// bytes after it (`tail`: the section's bytes and the file's after them,
/// empty where the section is not the file's bytes), up to a NUL or the
/// file's end, past which the mapping's last page is zeros; without a
/// tail, it ends with the section.
pub(crate) fn c_string<'a>(section: &'a [u8], tail: &'a [u8], off: usize) -> Option<&'a [u8]> {
    let rest = section.get(off..).filter(|r| !r.is_empty())?;
    if let Some(n) = nul(rest) {
        return Some(&rest[..n]);
    }
    match tail.get(off..).filter(|t| t.len() >= rest.len()) {
        Some(on) => Some(&on[..nul(on).unwrap_or(on.len())]),
        None => Some(rest),
    }
}

/// A string of `.debug_str` found by index (`DW_FORM_strx*`), as libdw
/// hands it out: its offset is checked only not to be past the section's
/// end, so one at the end is the file's bytes after the section (up to a
/// NUL), or, where the section is not the file's bytes, none.
pub(crate) fn c_string_by_index<'a>(section: &'a [u8], tail: &'a [u8], off: usize) -> Option<&'a [u8]> {
    if off != section.len() {
        return c_string(section, tail, off);
    }
    let on = tail.get(off..).unwrap_or_default();
    Some(&on[..nul(on).unwrap_or(on.len())])
}

/// Why the object's DWARF could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DwarfError {
    /// `dwarf_get_units failed: no debugging information?`
    NoDebugInfo,
    /// `.debug_info` (of this many bytes) is too large for the 32-bit DIE
    /// offsets the arena keeps; upstream has no such limit.
    TooLarge(usize),
}

const NO_OFF: u64 = u64::MAX;

impl<'a> Dies<'a> {
    /// Opens the object's DWARF; units are read by [`Self::load_unit`].
    ///
    /// With `skip_bodies`, the DIEs under a subprogram other than its
    /// direct `DW_TAG_formal_parameter` children (lexical blocks, local
    /// variables, inlined calls, call sites...) are only validated, not
    /// read, and get no index: upstream's output cannot depend on them
    /// unless a reference reaches one, and then the unit (or, for a
    /// reference across units, every unit) is read again in full. Half of
    /// a kernel object's DIEs are in bodies; leaving them out of the arena
    /// keeps the heap (and the huge pages the kernel zeroes for it) smaller. Validation fails exactly where full reading fails,
    /// so a corrupt unit is broken either way. Only `--debug` (which counts
    /// every named DIE) sees the difference, and the indices, which count
    /// the DIEs read.
    pub fn new(sections: &'a DwarfSections<'_>, all_units: bool, skip_bodies: bool) -> Result<Dies<'a>, DwarfError> {
        let endian = if sections.big_endian { RunTimeEndian::Big } else { RunTimeEndian::Little };
        // DIE offsets are kept in 32 bits (a smaller heap, fewer huge pages
        // for the kernel to zero): 4 GiB of `.debug_info` is far beyond any
        // object (a whole distribution vmlinux has 251 MiB).
        let info_len = sections.get(".debug_info").len();
        if info_len == 0 {
            return Err(DwarfError::NoDebugInfo);
        }
        // Type units' DIEs are numbered after `.debug_info`'s (`read_unit`).
        let types_len = sections.get(".debug_types").len();
        if u32::try_from(info_len + types_len).is_err() {
            return Err(DwarfError::TooLarge(info_len));
        }
        let load =
            |id: gimli::SectionId| -> Result<R<'a>, ()> { Ok(EndianSlice::new(sections.get(id.name()), endian)) };
        let dwarf: gimli::Dwarf<R<'a>> = gimli::Dwarf::load(load).map_err(|()| DwarfError::NoDebugInfo)?;
        let abbrev = sections.get(".debug_abbrev");
        let info = header::walk(gimli::SectionId::DebugInfo, sections.get(".debug_info"), abbrev, endian);
        let (mut headers, mut end) = header::units(&info);
        // Then those of `.debug_types` (`dwarf_get_units`); libdw's search
        // for a signature goes there whether or not the units get there.
        let types = header::walk(gimli::SectionId::DebugTypes, sections.get(".debug_types"), abbrev, endian);
        if end.is_none() {
            let more;
            (more, end) = header::units(&types);
            headers.extend(more);
        }
        // Every unit walked, `.debug_info`'s first: libdw's searches by
        // offset and by signature go on past units `dwarf_get_units` stops at.
        let reachable: Vec<_> = info.0.iter().chain(&types.0).map(|&(h, _)| h).collect();
        // Signatures lead to DWARF 5's type units in `.debug_info` (libdw
        // searches there first), then into `.debug_types`. (A DWARF 4 type
        // unit of `.debug_info` has no signature libdw reads.)
        let by_signature = window::by_signature(
            reachable.iter().filter(|h| h.version() >= 5 || h.debug_types_offset().is_some()).copied().collect(),
        );
        // A first unit libdw hands out (with a zeroed unit DIE) is not "no
        // debugging information".
        if headers.is_empty() && end != Some(Broken::Child) {
            return Err(DwarfError::NoDebugInfo);
        }
        let units = Vec::with_capacity(headers.len());
        let mut dies = Dies {
            dwarf: Some(dwarf),
            headers,
            reachable,
            by_signature,
            end,
            units,
            unit_base: 0,
            arena: Arena::default(),
            skip_bodies,
            whole: false,
            current: None,
            tails: Tails { str: sections.str_tail(), line_str: sections.line_str_tail() },
            copies_from: DieIdx::MAX,
            first_copies: Vec::new(),
        };
        if all_units {
            dies.load_all();
        }
        Ok(dies)
    }

    /// The type units a signature can lead to.
    fn type_units(&self) -> window::TypeUnits<'_, 'a> {
        window::TypeUnits { by_signature: &self.by_signature }
    }

    /// Every unit is loaded (a reference crossed units).
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// The units, and the bad header that ends them if there is one.
    pub fn unit_count(&self) -> u32 {
        self.headers.len() as u32 + u32::from(self.end.is_some())
    }

    /// What stands for the unit libdw fails on after the last one.
    fn end_info(&self, first: DieIdx) -> UnitInfo<'a> {
        UnitInfo { root: NONE, first, broken: self.end, files: Err(None), comp_dir_error: None, sorted_end: first }
    }

    /// Unit `k` (loaded).
    pub fn unit(&self, k: u32) -> &UnitInfo<'a> {
        &self.units[(k - self.unit_base) as usize]
    }

    /// The unit a loaded DIE belongs to.
    pub fn unit_of(&self, idx: DieIdx) -> u32 {
        match self.current {
            Some(k) if !self.whole => k,
            _ => (self.units.partition_point(|u| u.first <= idx).max(1) - 1) as u32 + self.unit_base,
        }
    }

    /// The DIE the unit's walk read first at the offset of DIE `idx`,
    /// where `idx` was read again or where a reference landed: its first
    /// reading's, else the first of those read again. `None` for the
    /// walk's own DIEs.
    fn primary(&self, idx: DieIdx) -> Option<DieIdx> {
        let info = self.unit(self.unit_of(idx));
        if idx < info.sorted_end {
            return None;
        }
        let base = self.arena.base;
        let off = self.arena.offsets[(idx - base) as usize];
        if info.first < info.sorted_end {
            let walked = &self.arena.offsets[(info.first - base) as usize..(info.sorted_end - base) as usize];
            if let Ok(k) = walked.binary_search(&off) {
                return Some(info.first + k as DieIdx);
            }
        }
        let c = &self.first_copies;
        c.binary_search_by_key(&off, |&(o, _)| o).ok().map(|k| c[k].1)
    }

    /// Hands the loaded unit (window mode) over, e.g. to another thread.
    pub fn take_window(&mut self) -> UnitWindow<'a> {
        let k = self.current.take().unwrap_or(self.unit_base);
        let base = self.arena.base;
        let arena = std::mem::take(&mut self.arena);
        // The next unit's DIEs are numbered after this one's.
        self.arena.base = base + arena.dies.len() as DieIdx;
        UnitWindow {
            unit: k,
            info: self.units.get((k - self.unit_base) as usize).cloned().unwrap_or(UnitInfo {
                root: NONE,
                first: base,
                broken: Some(Broken::Child),
                files: Err(None),
                comp_dir_error: None,
                sorted_end: base,
            }),
            arena,
        }
    }

    /// The DIEs of one unit taken from another `Dies`.
    pub fn from_window(w: UnitWindow<'a>) -> Dies<'a> {
        let (copies_from, first_copies) = copies(std::slice::from_ref(&w.info), &w.arena);
        Dies {
            dwarf: None,
            headers: Vec::new(),
            reachable: Vec::new(),
            by_signature: Vec::new(),
            end: None,
            units: vec![w.info],
            unit_base: w.unit,
            arena: w.arena,
            skip_bodies: false,
            whole: false,
            current: Some(w.unit),
            tails: Tails::default(),
            copies_from,
            first_copies,
        }
    }

    /// The DIE upstream means by DIE `idx`: libdw knows a DIE by its
    /// address, so where `idx` was read again, the walk's own at its
    /// offset ([`Self::primary`]); else `idx`.
    #[inline]
    pub fn canonical(&self, idx: DieIdx) -> DieIdx {
        if idx < self.copies_from {
            return idx;
        }
        self.primary(idx).unwrap_or(idx)
    }

    /// Makes unit `k`'s DIEs available. Units must be loaded in order.
    pub fn load_unit(&mut self, k: u32) {
        if self.whole || self.current == Some(k) {
            return;
        }
        let Some(dwarf) = &self.dwarf else { return };
        let next_index = self.arena.base + self.arena.dies.len() as u32;
        let mut arena = std::mem::take(&mut self.arena);
        arena.clear();
        arena.base = next_index;
        let Some(header) = self.headers.get(k as usize) else {
            let info = self.end_info(next_index);
            self.units.push(info);
            self.arena = arena;
            self.current = Some(k);
            return;
        };
        let mut window = Window::new(arena, self.tails);
        let mut skip = self.skip_bodies;
        let info = loop {
            let (info, complete) = window.read_unit(dwarf, header, self.type_units(), skip);
            if window.crossed {
                self.load_all();
                return;
            }
            if complete || !skip {
                break info;
            }
            // Something refers into a skipped body: read everything. (Reading
            // again with only the bodies reached read took three reads on
            // kernel/sched/core.o, whose bodies refer into others, and was
            // 8% slower there; on the Debian vmlinux it made no difference.)
            trace_full_read();
            window.restart();
            skip = false;
        };
        debug_assert_eq!(self.units.len(), k as usize);
        self.units.push(info);
        self.arena = window.arena;
        self.current = Some(k);
        (self.copies_from, self.first_copies) = copies(&self.units[self.units.len() - 1..], &self.arena);
    }

    /// Reads every unit into one arena, keeping the indices window mode gave.
    fn load_all(&mut self) {
        let Some(dwarf) = &self.dwarf else { return };
        let mut skip = self.skip_bodies;
        let mut window = Window::new(Arena::default(), self.tails);
        let units = loop {
            let mut units = Vec::with_capacity(self.headers.len());
            let mut complete = true;
            for h in &self.headers {
                let (info, c) = window.read_unit(dwarf, h, self.type_units(), skip);
                units.push(info);
                complete &= c;
            }
            // References across units are resolved once all are read;
            // one into a skipped body makes us read everything.
            if window.resolve_refs(dwarf, &self.reachable, self.type_units()) && complete || !skip {
                if self.end.is_some() {
                    units.push(self.end_info(window.arena.base + window.arena.dies.len() as DieIdx));
                }
                break units;
            }
            trace_full_read();
            window.restart();
            skip = false;
        };
        self.units = units;
        self.unit_base = 0;
        self.arena = window.arena;
        self.whole = true;
        (self.copies_from, self.first_copies) = copies(&self.units, &self.arena);
    }

    /// Drops the loaded DIEs (nothing may read them afterwards).
    pub fn release(&mut self) {
        let base = self.loaded().end;
        self.arena = Arena { base, ..Arena::default() };
    }

    /// The index range of the loaded DIEs.
    pub fn loaded(&self) -> std::ops::Range<DieIdx> {
        self.arena.base..self.arena.base + self.arena.dies.len() as DieIdx
    }
    #[inline]
    pub fn die(&self, idx: DieIdx) -> &Die<'a> {
        &self.arena.dies[(idx - self.arena.base) as usize]
    }

    /// The tag libdw reads where this DIE's `DW_AT_type` lands, if that is
    /// inside the unit but on no DIE (damaged DWARF).
    pub fn stray_type(&self, idx: DieIdx) -> Option<u16> {
        let strays = &self.arena.strays;
        strays.binary_search_by_key(&idx, |s| s.0).ok().map(|k| strays[k].1)
    }

    /// How walking a DIE's children meets damage after the children kept;
    /// `None` where they end as they should.
    #[inline]
    pub fn children_end(&self, idx: DieIdx) -> Option<ChildrenEnd> {
        if self.die(idx).flags & CHILDREN_BREAK == 0 {
            return None;
        }
        self.arena.ends.iter().find(|e| e.0 == idx).map(|e| e.1)
    }

    /// A DIE's offset in `.debug_info`, for identification and `--dump-die-map`.
    #[inline]
    pub fn offset(&self, idx: DieIdx) -> u64 {
        self.arena.offsets[(idx - self.arena.base) as usize] as u64
    }

    /// A numeric attribute, if present in a form libdw reads as a number,
    /// or libdw's error where it is present but `dwarf_formudata` fails on
    /// it, or where it is absent from a DIE read in part. Inlined: the
    /// renderer asks for four or five numbers a member, most of them
    /// absent.
    #[inline]
    pub fn num_read(&self, idx: DieIdx, num: Num) -> Result<Option<u64>, &'static str> {
        let d = self.die(idx);
        let len = (d.nums_len & !READ_IN_PART) as usize;
        match read_num(&self.arena.nums[d.nums as usize..d.nums as usize + len], num) {
            // An attribute a DIE read in part does not have: libdw's
            // `dwarf_attr` looked past the damage for it, and failed there.
            None if d.nums_len & READ_IN_PART != 0 => Err("invalid DWARF"),
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(e)) => Err(e.message()),
        }
    }

    /// Children of a DIE in order.
    pub fn children(&self, idx: DieIdx) -> Children<'_, 'a> {
        Children { dies: self, next: self.die(idx).first_child }
    }

    /// Starts loading the names of a DIE's children into the cache. A
    /// structure's or a list's items are rendered one by one, each waiting
    /// first on its name in `.debug_str` (a cache miss per member, the
    /// hottest load in rendering); asked for together, the misses overlap.
    #[inline]
    pub fn prefetch_child_names(&self, idx: DieIdx) {
        for c in self.children(idx) {
            self.prefetch_name(c);
        }
    }

    /// Starts loading a DIE's name into the cache.
    #[inline]
    pub fn prefetch_name(&self, idx: DieIdx) {
        if let Some(n) = self.die(idx).name {
            crate::prefetch::prefetch(n.as_ptr());
        }
    }

    /// The line table DIE `idx`'s `DW_AT_decl_file` indexes.
    pub fn line_table(&self, idx: DieIdx) -> LineTable {
        match self.arena.apart.iter().find(|t| t.dies.contains(&idx)) {
            Some(t) => LineTable::Apart(t.dies.start),
            None => LineTable::Unit(self.unit_of(idx)),
        }
    }

    /// A line table's files (or why there are none), and the error libdw
    /// leaves set the first time `dwarf_getsrcfiles` succeeds on its unit.
    fn files(&self, table: LineTable) -> (&SrcFiles<'a>, Option<&'static str>) {
        let t = match table {
            LineTable::Unit(unit) => {
                let u = self.unit(unit);
                return (&u.files, u.comp_dir_error);
            }
            LineTable::Apart(first) => self.arena.apart.iter().find(|t| t.dies.start == first),
        };
        match t {
            Some(t) => (&t.files, t.comp_dir_error),
            None => (&Err(None), None),
        }
    }

    /// The error libdw leaves set the first time `dwarf_getsrcfiles`
    /// succeeds on the unit, if any.
    pub fn srcfiles_side_error(&self, table: LineTable) -> Option<&'static str> {
        self.files(table).1
    }

    /// The source file a `DW_AT_decl_file` index names, as upstream's
    /// `dwarf_getsrcfiles` and `dwarf_filesrc` find it.
    pub fn decl_file_name(&self, table: LineTable, file: u64) -> DeclFile<'a> {
        let files = match self.files(table).0 {
            Ok(files) => files,
            Err(message) => return DeclFile::NoLineTable(*message),
        };
        match usize::try_from(file).ok().and_then(|i| files.get(i)) {
            Some(&name) => DeclFile::Name(name),
            None => DeclFile::OutOfRange,
        }
    }

    /// The name upstream matches an exported symbol by: linkage name first.
    pub fn symbol_name(&self, idx: DieIdx) -> Option<&'a [u8]> {
        match self.linkage(idx) {
            Some(Ok(name)) => Some(name),
            _ => self.die(idx).name(),
        }
    }

    /// libdw's error where reading the name upstream matches an exported
    /// symbol by fails (`get_symbol_name`): the linkage name's, then the
    /// name's, which is read only where there is no linkage name to use.
    /// `None` where neither sets one.
    pub fn symbol_name_error(&self, idx: DieIdx) -> Option<&'static str> {
        match self.linkage(idx) {
            Some(Ok(_)) => None,
            Some(Err(e)) => self.die(idx).name_error().or(Some(e.message())),
            None => self.die(idx).name_error(),
        }
    }

    fn linkage(&self, idx: DieIdx) -> Option<Result<&'a [u8], StringError>> {
        if self.die(idx).flags & LINKAGE == 0 {
            return None;
        }
        let l = &self.arena.linkage;
        l.binary_search_by_key(&idx, |&(i, _)| i).ok().map(|i| l[i].1)
    }
}

// Counts reads that had to start over without skipping bodies (tests).
#[cfg(test)]
thread_local! {
    static FULL_READS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn trace_full_read() {
    #[cfg(test)]
    FULL_READS.with(|c| c.set(c.get() + 1));
}

pub struct Children<'d, 'a> {
    dies: &'d Dies<'a>,
    next: DieIdx,
}

impl Iterator for Children<'_, '_> {
    type Item = DieIdx;
    fn next(&mut self) -> Option<DieIdx> {
        if self.next == NONE {
            return None;
        }
        let cur = self.next;
        self.next = self.dies.die(cur).next_sibling;
        Some(cur)
    }
}

/// The DIEs read again of `units` (all loaded, in `arena`): where the
/// first of them is ([`DieIdx::MAX`] where there are none), and by
/// (offset, index), the first read at each offset only.
fn copies(units: &[UnitInfo<'_>], arena: &Arena<'_>) -> (DieIdx, Vec<(u32, DieIdx)>) {
    let end = arena.base + arena.dies.len() as DieIdx;
    let ends = units.iter().skip(1).map(|u| u.first).chain([end]);
    let mut copies: Vec<(u32, DieIdx)> = units
        .iter()
        .zip(ends)
        .flat_map(|(u, e)| u.sorted_end.max(arena.base)..e.max(u.sorted_end))
        .filter_map(|i| arena.offsets.get((i - arena.base) as usize).map(|&off| (off, i)))
        .collect();
    copies.sort_unstable();
    copies.dedup_by_key(|c| c.0);
    // The first of each offset is kept, so the first of all is among them.
    let from = copies.iter().map(|&(_, i)| i).min().unwrap_or(DieIdx::MAX);
    (from, copies)
}

/// The kind of a numeric attribute stored in two slots.
const WIDE: u64 = 15;
/// The kind of a numeric attribute that libdw's `dwarf_formudata` fails
/// on: the attribute's kind above the low 4 bits, and above that the
/// error ([`NumError`]).
const FAILED: u64 = 14;

/// Why libdw's `dwarf_formudata` fails on a numeric attribute. libdw
/// leaves the error set, and upstream prints it where a later call fails
/// without setting one (`dwarf_filesrc failed: 'no constant value'` after
/// a DWARF 2 member's `DW_AT_data_member_location`, a location block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    /// A form that holds no constant (a block, a string, a reference...).
    NoConstant = 1,
    /// `DW_FORM_sec_offset` on an attribute that is no section pointer.
    InvalidDwarf = 2,
    /// A flag attribute of another form (`dwarf_formflag`).
    NoFlag = 3,
}

impl NumError {
    /// The error a failed slot holds ([`push_num_error`]).
    #[cold]
    fn of_slot(slot: u64) -> NumError {
        [NumError::InvalidDwarf, NumError::NoFlag]
            .into_iter()
            .find(|&e| slot >> 8 == e as u64)
            .unwrap_or(NumError::NoConstant)
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            NumError::NoConstant => "no constant value",
            NumError::InvalidDwarf => "invalid DWARF",
            NumError::NoFlag => "no flag value",
        }
    }
}

/// Stores a numeric attribute that does not read as a number (one slot).
fn push_num_error(nums: &mut Vec<u64>, num: Num, e: NumError) -> u8 {
    nums.push((e as u64) << 8 | (num as u64) << 4 | FAILED);
    1
}

/// Stores a numeric attribute in one 8-byte slot, the kind in the low 4
/// bits and the value above, instead of a 16-byte (kind, value) pair: the
/// arena's numbers are reserved ahead for a unit's DIEs (about 580 KB on
/// mm/vmscan.o at 16 bytes), and a smaller heap touches fewer huge pages.
/// Values of 60 bits or more (negative constants and bounds) take a second
/// slot, after one of kind [`WIDE`]. Returns the slots used.
fn push_num(nums: &mut Vec<u64>, num: Num, v: u64) -> u8 {
    if v >> 60 == 0 {
        nums.push(v << 4 | num as u64);
        1
    } else {
        nums.push((num as u64) << 4 | WIDE);
        nums.push(v);
        2
    }
}

/// `num` among one DIE's slots: its value, or why it does not read
/// ([`push_num_error`]); `None` where the DIE has no such attribute.
#[inline]
fn read_num(slots: &[u64], num: Num) -> Option<Result<u64, NumError>> {
    let want = num as u64;
    let mut i = 0;
    while let Some(&s) = slots.get(i) {
        let kind = s & 15;
        if kind == want {
            return Some(Ok(s >> 4));
        }
        i += 1;
        // The rare kinds, tested once the common one did not match.
        if kind == WIDE {
            if s >> 4 == want {
                return Some(Ok(*slots.get(i)?));
            }
            i += 1;
        } else if kind == FAILED && (s >> 4) & 15 == want {
            return Some(Err(NumError::of_slot(s)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_errors() {
        let mut d = Die {
            name: None,
            tag: 0x13,
            flags: DECLARATION,
            nums_len: 0,
            first_child: NONE,
            next_sibling: NONE,
            type_: NONE,
            abstract_origin: NONE,
            nums: 0,
        };
        assert_eq!(d.name_error(), None);
        d.set_name_error(StringError::NoString);
        assert_eq!(d.name_error(), Some("no string data"));
        d.set_name_error(StringError::BadOffset);
        assert_eq!(d.name_error(), Some("invalid offset"));
        assert!(d.declaration());
    }

    /// Numbers, wide ones and ones libdw does not read share a DIE's slots:
    /// each kind is found with its own value or error.
    #[test]
    fn number_slots() {
        let mut slots = Vec::new();
        push_num(&mut slots, Num::ByteSize, 8);
        push_num_error(&mut slots, Num::DataMemberLocation, NumError::NoConstant);
        push_num(&mut slots, Num::UpperBound, u64::MAX);
        push_num_error(&mut slots, Num::DeclFile, NumError::InvalidDwarf);
        push_num(&mut slots, Num::Encoding, 5);
        push_num_error(&mut slots, Num::Declaration, NumError::NoFlag);
        assert_eq!(read_num(&slots, Num::ByteSize), Some(Ok(8)));
        assert_eq!(read_num(&slots, Num::Declaration), Some(Err(NumError::NoFlag)));
        assert_eq!(NumError::NoFlag.message(), "no flag value");
        assert_eq!(read_num(&slots, Num::DataMemberLocation), Some(Err(NumError::NoConstant)));
        assert_eq!(read_num(&slots, Num::UpperBound), Some(Ok(u64::MAX)));
        assert_eq!(read_num(&slots, Num::DeclFile), Some(Err(NumError::InvalidDwarf)));
        assert_eq!(read_num(&slots, Num::Encoding), Some(Ok(5)));
        assert_eq!(read_num(&slots, Num::Alignment), None);
        assert_eq!(NumError::NoConstant.message(), "no constant value");
        assert_eq!(NumError::InvalidDwarf.message(), "invalid DWARF");
    }

    #[test]
    fn c_strings_as_libdw_hands_them_out() {
        let file = b"ab\0cd\0efgh\0rest";
        let (section, tail) = (&file[..9], &file[..]);
        assert_eq!(c_string(section, tail, 0), Some(&b"ab"[..]));
        assert_eq!(c_string(section, tail, 3), Some(&b"cd"[..]));
        // Unterminated in the section: on into the file, to a NUL or its end.
        assert_eq!(c_string(section, tail, 6), Some(&b"efgh"[..]));
        assert_eq!(c_string(&file[..14], tail, 11), Some(&b"rest"[..]));
        // Without the file's bytes, it ends with the section.
        assert_eq!(c_string(section, &[], 6), Some(&b"efg"[..]));
        // Only the start is checked against the section.
        assert_eq!(c_string(section, tail, 9), None);
        // By index, the section's end is a start too.
        assert_eq!(c_string_by_index(section, tail, 9), Some(&b"h"[..]));
        assert_eq!(c_string_by_index(section, &[], 9), Some(&b""[..]));
        assert_eq!(c_string_by_index(section, tail, 10), None);
        assert_eq!(c_string_by_index(section, tail, 3), Some(&b"cd"[..]));
    }

    #[test]
    fn nul_finds_the_first_zero() {
        let mut s = [b'a'; 40];
        assert_eq!(nul(&s), None);
        assert_eq!(nul(&[]), None);
        for at in 0..40 {
            s = [b'a'; 40];
            s[at] = 0;
            // A byte after the zero whose borrow could mark it too.
            if at + 1 < 40 {
                s[at + 1] = 0x01;
            }
            for len in 0..=40 {
                let want = if at < len { Some(at) } else { None };
                assert_eq!(nul(&s[..len]), want, "zero at {at}, length {len}");
            }
        }
        assert_eq!(nul(&[0x80, 0xff, 0x01, 0x00, 0x00]), Some(3));
    }

    fn corpus() -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/kernel-7.2-x86_64");
        let list = std::fs::read_to_string(dir.join("objects.txt")).expect("../shared/corpus beside the checkout");
        list.lines().filter(|l| !l.is_empty()).map(|l| dir.join(l)).collect()
    }

    /// Every DIE reachable in the skipping arena is the DIE a full read
    /// gives at the same offset; subprograms keep their parameters (or,
    /// where a reference reaches into the body, all their children).
    fn compare(skip: &Dies<'_>, full: &Dies<'_>, idx: DieIdx, bodies: &mut (u32, u32)) {
        // Indices differ (bodies take none when skipped): offsets do not.
        let at = |i: DieIdx| if i == NONE { None } else { Some(skip.offset(i)) };
        let full_idx = |i: DieIdx| {
            let base = full.loaded().start;
            base + full.arena.offsets.binary_search(&(skip.offset(i) as u32)).expect("a DIE read in full") as DieIdx
        };
        let fidx = full_idx(idx);
        let full_at = |i: DieIdx| if i == NONE { None } else { Some(full.offset(i)) };
        let (s, f) = (skip.die(idx), full.die(fidx));
        assert_eq!((s.tag, s.name(), s.declaration()), (f.tag, f.name(), f.declaration()));
        assert_eq!((at(s.type_), at(s.abstract_origin)), (full_at(f.type_), full_at(f.abstract_origin)));
        assert_eq!(skip.symbol_name(idx), full.symbol_name(fidx));
        assert_eq!(skip.unit_of(idx), full.unit_of(fidx));
        for n in
            [Num::ByteSize, Num::Encoding, Num::DataMemberLocation, Num::UpperBound, Num::ConstValue, Num::DeclFile]
        {
            assert_eq!(skip.num_read(idx, n), full.num_read(fidx, n));
        }
        let sc: Vec<u64> = skip.children(idx).map(|c| skip.offset(c)).collect();
        let fc: Vec<u64> = full.children(fidx).map(|c| full.offset(c)).collect();
        if sc != fc {
            assert_eq!(s.tag, dw::DW_TAG_subprogram.0);
            let params: Vec<u64> = full
                .children(fidx)
                .filter(|&c| full.die(c).tag == dw::DW_TAG_formal_parameter.0)
                .map(|c| full.offset(c))
                .collect();
            assert_eq!(sc, params, "children of {:#x}", skip.offset(idx));
            bodies.0 += 1;
        } else if s.tag == dw::DW_TAG_subprogram.0
            && full.children(fidx).any(|c| full.die(c).tag != dw::DW_TAG_formal_parameter.0)
        {
            // A body read after all because something refers into it.
            bodies.1 += 1;
        }
        for c in skip.children(idx) {
            compare(skip, full, c, bodies);
        }
    }

    #[test]
    fn skipped_bodies_leave_every_reachable_die_as_read_in_full() {
        let (mut skipped, mut read_again, mut left_out) = (0, 0, 0);
        for path in corpus() {
            let bytes = std::fs::read(&path).unwrap();
            let elf = crate::elf::ElfFile::parse(&bytes).unwrap();
            let sections = elf.dwarf_sections().unwrap();
            let mut full = Dies::new(&sections, false, false).unwrap();
            let mut skip = Dies::new(&sections, false, true).unwrap();
            for k in 0..skip.unit_count() {
                full.load_unit(k);
                skip.load_unit(k);
                let (fi, si) = (full.unit(k), skip.unit(k));
                assert_eq!((fi.root == NONE, fi.broken), (si.root == NONE, si.broken));
                // Every DIE read is one a full read has, at the same offset.
                assert!(skip.arena.offsets.iter().all(|o| full.arena.offsets.binary_search(o).is_ok()));
                left_out += full.arena.dies.len() - skip.arena.dies.len();
                let mut bodies = (0, 0);
                if si.root != NONE {
                    assert_eq!(skip.offset(si.root), full.offset(fi.root));
                    compare(&skip, &full, si.root, &mut bodies);
                }
                skipped += bodies.0;
                read_again += bodies.1;
            }
        }
        // Only kernel/sched/core.o's unit, which refers into its bodies.
        assert_eq!(FULL_READS.with(|c| c.get()), 1, "units read again in full");
        // kernel/sched/core.o points at a union declared in a function body.
        assert!(skipped > 1000 && read_again > 0 && left_out > 100_000, "{skipped} {read_again} {left_out}");
    }
}
