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

use gimli::{constants as dw, AttributeValue, EndianSlice, RunTimeEndian};

use crate::elf::DwarfSections;

pub type DieIdx = u32;
/// No DIE: a missing child, sibling or unresolvable reference.
pub const NONE: DieIdx = u32::MAX;

type R<'a> = EndianSlice<'a, RunTimeEndian>;

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

#[derive(Debug, Clone)]
pub struct Die<'a> {
    /// Offset in `.debug_info`, for identification and `--dump-die-map`.
    pub offset: u64,
    pub tag: u16,
    pub declaration: bool,
    pub unit: u32,
    pub first_child: DieIdx,
    pub next_sibling: DieIdx,
    pub name: Option<&'a [u8]>,
    pub linkage_name: Option<&'a [u8]>,
    /// Target of `DW_AT_type`, [`NONE`] if absent or unresolvable.
    pub type_: DieIdx,
    pub abstract_origin: DieIdx,
    nums: u32,
    nums_len: u8,
    /// Unresolved references are kept as offsets until every unit is read.
    type_off: u64,
    origin_off: u64,
}

/// A loaded unit moved out of a [`Dies`] (see [`Dies::take_window`]).
pub struct UnitWindow<'a> {
    unit: u32,
    info: UnitInfo<'a>,
    dies: Vec<Die<'a>>,
    nums: Vec<(Num, u64)>,
    base: DieIdx,
}

/// A unit of the object, as upstream's `dwarf_get_units` hands it out.
#[derive(Clone)]
pub struct UnitInfo<'a> {
    /// The unit DIE; [`NONE`] if the unit could not be read at all.
    pub root: DieIdx,
    /// Set when reading this unit's DIE tree failed part-way: upstream
    /// reports it (as a failed `dwarf_child`) when it reaches the unit.
    pub broken: bool,
    /// File names of the line program, indexed as `DW_AT_decl_file` is.
    files: Option<Vec<Option<&'a [u8]>>>,
}

/// The DIEs of one object, loaded unit by unit.
pub struct Dies<'a> {
    /// `None` for a single unit handed over by [`Dies::take_window`].
    dwarf: Option<gimli::Dwarf<R<'a>>>,
    headers: Vec<gimli::UnitHeader<R<'a>>>,
    /// Per unit, once loaded; `units[k - unit_base]` is unit `k`.
    units: Vec<UnitInfo<'a>>,
    unit_base: u32,
    /// The loaded DIEs: `dies[i]` has index `base + i`.
    dies: Vec<Die<'a>>,
    base: u32,
    nums: Vec<(Num, u64)>,
    /// Every unit is loaded (a reference crossed units).
    whole: bool,
    /// The unit whose DIEs are loaded, in window mode.
    current: Option<u32>,
}

/// Why the object's DWARF could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DwarfError {
    /// `dwarf_get_units failed: no debugging information?`
    NoDebugInfo,
}

const NO_OFF: u64 = u64::MAX;

impl<'a> Dies<'a> {
    /// Opens the object's DWARF; units are read by [`Self::load_unit`].
    pub fn new(sections: &'a DwarfSections<'_>, all_units: bool) -> Result<Dies<'a>, DwarfError> {
        let endian = if sections.big_endian { RunTimeEndian::Big } else { RunTimeEndian::Little };
        if sections.get(".debug_info").is_empty() {
            return Err(DwarfError::NoDebugInfo);
        }
        let load = |id: gimli::SectionId| -> Result<R<'a>, ()> {
            Ok(EndianSlice::new(sections.get(id.name()), endian))
        };
        let dwarf: gimli::Dwarf<R<'a>> = gimli::Dwarf::load(load).map_err(|()| DwarfError::NoDebugInfo)?;
        let mut headers = Vec::new();
        let mut iter = dwarf.units();
        loop {
            match iter.next() {
                Ok(Some(h)) => headers.push(h),
                Ok(None) => break,
                // libdw refuses the whole file when a unit header is bad.
                Err(_) => return Err(DwarfError::NoDebugInfo),
            }
        }
        if headers.is_empty() {
            return Err(DwarfError::NoDebugInfo);
        }
        let units = Vec::with_capacity(headers.len());
        let mut dies = Dies {
            dwarf: Some(dwarf),
            headers,
            units,
            unit_base: 0,
            dies: Vec::new(),
            base: 0,
            nums: Vec::new(),
            whole: false,
            current: None,
        };
        if all_units {
            dies.load_all();
        }
        Ok(dies)
    }

    /// Every unit is loaded (a reference crossed units).
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    pub fn unit_count(&self) -> u32 {
        self.headers.len() as u32
    }

    /// Unit `k` (loaded).
    pub fn unit(&self, k: u32) -> &UnitInfo<'a> {
        &self.units[(k - self.unit_base) as usize]
    }

    /// Hands the loaded unit (window mode) over, e.g. to another thread.
    pub fn take_window(&mut self) -> UnitWindow<'a> {
        let k = self.current.take().unwrap_or(self.unit_base);
        let base = self.base;
        // The next unit's DIEs are numbered after this one's.
        self.base += self.dies.len() as DieIdx;
        UnitWindow {
            unit: k,
            info: self.units.get((k - self.unit_base) as usize).cloned().unwrap_or(UnitInfo {
                root: NONE,
                broken: true,
                files: None,
            }),
            dies: std::mem::take(&mut self.dies),
            nums: std::mem::take(&mut self.nums),
            base,
        }
    }

    /// The DIEs of one unit taken from another `Dies`.
    pub fn from_window(w: UnitWindow<'a>) -> Dies<'a> {
        Dies {
            dwarf: None,
            headers: Vec::new(),
            units: vec![w.info],
            unit_base: w.unit,
            dies: w.dies,
            base: w.base,
            nums: w.nums,
            whole: false,
            current: Some(w.unit),
        }
    }

    /// Makes unit `k`'s DIEs available. Units must be loaded in order.
    pub fn load_unit(&mut self, k: u32) {
        if self.whole || self.current == Some(k) {
            return;
        }
        let Some(dwarf) = &self.dwarf else { return };
        let next_index = self.base + self.dies.len() as u32;
        let (dies, nums) = (std::mem::take(&mut self.dies), std::mem::take(&mut self.nums));
        let mut window = Window { dies, nums, base: next_index, crossed: false };
        window.dies.clear();
        window.nums.clear();
        let info = window.read_unit(dwarf, &self.headers[k as usize], k);
        if window.crossed {
            self.load_all();
            return;
        }
        window.resolve_refs();
        debug_assert_eq!(self.units.len(), k as usize);
        self.units.push(info);
        self.dies = window.dies;
        self.nums = window.nums;
        self.base = window.base;
        self.current = Some(k);
    }

    /// Reads every unit into one arena, keeping the indices window mode gave.
    fn load_all(&mut self) {
        let Some(dwarf) = &self.dwarf else { return };
        let mut window = Window { dies: Vec::new(), nums: Vec::new(), base: 0, crossed: false };
        let mut units = Vec::with_capacity(self.headers.len());
        for (k, h) in self.headers.iter().enumerate() {
            units.push(window.read_unit(dwarf, h, k as u32));
        }
        window.resolve_refs();
        self.units = units;
        self.unit_base = 0;
        self.dies = window.dies;
        self.nums = window.nums;
        self.base = 0;
        self.whole = true;
    }

    /// The index range of the loaded DIEs.
    pub fn loaded(&self) -> std::ops::Range<DieIdx> {
        self.base..self.base + self.dies.len() as DieIdx
    }
    #[inline]
    pub fn die(&self, idx: DieIdx) -> &Die<'a> {
        &self.dies[(idx - self.base) as usize]
    }

    /// A numeric attribute, if present in a form libdw reads as a number.
    pub fn num(&self, idx: DieIdx, num: Num) -> Option<u64> {
        let d = self.die(idx);
        self.nums[d.nums as usize..d.nums as usize + d.nums_len as usize]
            .iter()
            .find(|(n, _)| *n == num)
            .map(|(_, v)| *v)
    }

    /// Children of a DIE in order.
    pub fn children(&self, idx: DieIdx) -> Children<'_, 'a> {
        Children { dies: self, next: self.die(idx).first_child }
    }

    /// The source file a `DW_AT_decl_file` index names, as upstream's
    /// `dwarf_filesrc` would; `None` when the unit has no line table.
    pub fn decl_file_name(&self, unit: u32, file: u64) -> Option<Option<&'a [u8]>> {
        let files = self.unit(unit).files.as_ref()?;
        Some(usize::try_from(file).ok().and_then(|i| files.get(i)).copied().flatten())
    }

    /// The name upstream matches an exported symbol by: linkage name first.
    pub fn symbol_name(&self, idx: DieIdx) -> Option<&'a [u8]> {
        let d = self.die(idx);
        d.linkage_name.or(d.name)
    }
}

/// DIEs being read: indices local to `dies` until [`Window::resolve_refs`]
/// makes them global (`base + i`).
struct Window<'a> {
    dies: Vec<Die<'a>>,
    nums: Vec<(Num, u64)>,
    base: DieIdx,
    /// A reference left its unit.
    crossed: bool,
}

impl<'a> Window<'a> {
    fn read_unit(&mut self, dwarf: &gimli::Dwarf<R<'a>>, header: &gimli::UnitHeader<R<'a>>, unit_no: u32) -> UnitInfo<'a> {
        let base = header.debug_info_offset().map_or(0, |o| o.0 as u64);
        let end = base + header.length_including_self() as u64;
        let unit = match gimli::Unit::new(dwarf, *header) {
            Ok(u) => u,
            Err(_) => return UnitInfo { root: NONE, broken: true, files: None },
        };
        let unit = &unit;
        let first = self.dies.len() as DieIdx;
        let mut broken = false;
        // Last DIE seen at each depth: its next sibling is the next DIE at that depth.
        let mut last_at_depth: Vec<DieIdx> = Vec::new();
        let mut cursor = unit.entries();
        loop {
            let entry = match cursor.next_dfs() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(_) => {
                    broken = true;
                    break;
                }
            };
            let depth = entry.depth();
            if depth < 0 {
                broken = true;
                break;
            }
            let depth = depth as usize;
            let idx = self.dies.len() as DieIdx; // local to the window
            if depth > last_at_depth.len() {
                // Skipped a level: malformed tree.
                broken = true;
                break;
            }
            last_at_depth.truncate(depth + 1);
            if depth < last_at_depth.len() {
                let prev = last_at_depth[depth];
                self.dies[prev as usize].next_sibling = idx;
                last_at_depth[depth] = idx;
            } else {
                if depth > 0 {
                    let parent = last_at_depth[depth - 1];
                    if self.dies[parent as usize].first_child == NONE {
                        self.dies[parent as usize].first_child = idx;
                    }
                }
                last_at_depth.push(idx);
            }
            let die = self.read_die(dwarf, unit, base, unit_no, entry);
            for off in [die.type_off, die.origin_off] {
                if off != NO_OFF && !(base..end).contains(&off) {
                    self.crossed = true;
                }
            }
            self.dies.push(die);
            if depth == 0 && idx != first {
                // A second top-level DIE in one unit is not a tree we can walk.
                broken = true;
                break;
            }
        }
        let root = if (self.dies.len() as DieIdx) > first { self.base + first } else { NONE };
        if root == NONE {
            broken = true;
        }
        let files = match &unit.line_program {
            Some(lp) => {
                let header = lp.header();
                let mut files = Vec::new();
                let count = header.file_names().len() as u64;
                // DWARF 5 numbers files from 0, earlier versions from 1
                // (libdw's entry 0 is then "???", never a `.c` file).
                let (start, end) = if header.version() >= 5 { (0, count) } else { (0, count + 1) };
                for i in start..end {
                    let name = header
                        .file(i)
                        .and_then(|f| dwarf.attr_string(unit, f.path_name()).ok())
                        .map(|s| s.slice());
                    files.push(name);
                }
                Some(files)
            }
            None => None,
        };
        UnitInfo { root, broken, files }
    }

    fn read_die(
        &mut self,
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        base: u64,
        unit_no: u32,
        entry: &gimli::DebuggingInformationEntry<R<'a>>,
    ) -> Die<'a> {
        let mut die = Die {
            offset: base + entry.offset().0 as u64,
            tag: entry.tag().0,
            declaration: false,
            unit: unit_no,
            first_child: NONE,
            next_sibling: NONE,
            name: None,
            linkage_name: None,
            type_: NONE,
            abstract_origin: NONE,
            nums: self.nums.len() as u32,
            nums_len: 0,
            type_off: NO_OFF,
            origin_off: NO_OFF,
        };
        for attr in entry.attrs() {
            let value = attr.raw_value();
            match attr.name() {
                dw::DW_AT_name => die.name = string(dwarf, unit, value),
                dw::DW_AT_linkage_name => die.linkage_name = string(dwarf, unit, value),
                dw::DW_AT_type => die.type_off = reference(base, value),
                dw::DW_AT_abstract_origin => die.origin_off = reference(base, value),
                dw::DW_AT_declaration => {
                    die.declaration = matches!(value, AttributeValue::Flag(true))
                }
                at => {
                    if let (Some(num), Some(v)) = (Num::from_at(at), udata(&value)) {
                        // libdw's dwarf_attr finds the first occurrence.
                        if !self.nums[die.nums as usize..].iter().any(|(n, _)| *n == num) {
                            self.nums.push((num, v));
                            die.nums_len = die.nums_len.saturating_add(1);
                        }
                    }
                }
            }
        }
        die
    }

    fn resolve_refs(&mut self) {
        let offsets: Vec<u64> = self.dies.iter().map(|d| d.offset).collect();
        let find = |off: u64| -> DieIdx {
            if off == NO_OFF {
                return NONE;
            }
            match offsets.binary_search(&off) {
                Ok(i) => i as DieIdx,
                Err(_) => NONE,
            }
        };
        let base = self.base;
        let global = |i: DieIdx| if i == NONE { NONE } else { base + i };
        for die in &mut self.dies {
            die.type_ = global(find(die.type_off));
            die.abstract_origin = global(find(die.origin_off));
            if die.first_child != NONE {
                die.first_child += base;
            }
            if die.next_sibling != NONE {
                die.next_sibling += base;
            }
        }
    }

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

fn string<'a>(dwarf: &gimli::Dwarf<R<'a>>, unit: &gimli::Unit<R<'a>>, value: AttributeValue<R<'a>>) -> Option<&'a [u8]> {
    dwarf.attr_string(unit, value).ok().map(|s| s.slice())
}

fn reference(base: u64, value: AttributeValue<R<'_>>) -> u64 {
    match value {
        AttributeValue::UnitRef(o) => base + o.0 as u64,
        AttributeValue::DebugInfoRef(o) => o.0 as u64,
        // Type-unit signatures are not followed (upstream's libdw does not
        // visit type units either).
        _ => NO_OFF,
    }
}

/// `dwarf_formudata`: data forms zero-extended, sdata/implicit_const
/// sign-extended then read as unsigned, udata as is; anything else is not a number.
fn udata(value: &AttributeValue<R<'_>>) -> Option<u64> {
    Some(match *value {
        AttributeValue::Data1(v) => v as u64,
        AttributeValue::Data2(v) => v as u64,
        AttributeValue::Data4(v) => v as u64,
        AttributeValue::Data8(v) => v,
        AttributeValue::Sdata(v) => v as u64,
        AttributeValue::Udata(v) => v,
        _ => return None,
    })
}
