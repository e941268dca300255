//! How a unit's entries are decoded: per abbreviation, a [`Plan`] of
//! steps over its attributes (the ones the type-string language reads are
//! kept, the others skipped), and [`Entries`], which walks a unit's bytes
//! as gimli's `EntriesRaw` does and runs those steps. Every step reads and
//! fails exactly as gimli's `parse_attribute` would, which
//! `attributes_are_read_and_skipped_as_gimli_parses_them` holds (but for
//! LEB128 numbers, read as libdw reads them: `leb.rs`).

use gimli::{constants as dw, AttributeValue, Reader as _};

use super::{abbrev, leb, Num, R};

/// What a kept attribute is read into.
#[derive(Debug, Clone, Copy)]
pub(super) enum Want {
    Name,
    Linkage,
    Type,
    Origin,
    Declaration,
    Num(Num),
    /// `DW_AT_sibling`, read in every entry (skipped ones too): libdw
    /// steps to the next entry by it.
    Sibling,
}

impl Want {
    pub(super) fn of(at: dw::DwAt) -> Option<Want> {
        Some(match at {
            dw::DW_AT_name => Want::Name,
            dw::DW_AT_linkage_name => Want::Linkage,
            dw::DW_AT_type => Want::Type,
            dw::DW_AT_abstract_origin => Want::Origin,
            dw::DW_AT_declaration => Want::Declaration,
            at => Want::Num(Num::from_at(at)?),
        })
    }
}

/// One step over an entry's attributes. Every step consumes exactly the
/// bytes gimli's `parse_attribute` would, and fails exactly where it would
/// (the same reads, merged or with the value dropped).
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
    /// Fixed-size attributes: skip this many bytes.
    Skip(u32),
    /// `DW_FORM_string`.
    String,
    /// Unsigned LEB128 forms (read, so that overflow fails as parsing does).
    Uleb,
    /// `DW_FORM_sdata`.
    Sleb,
    /// Blocks and expressions: the size of their length (0: ULEB128).
    Block(u8),
    /// Let gimli parse attribute `i` (rare forms, `DW_FORM_indirect`,
    /// unknown forms) and drop it.
    Gimli(u32),
    /// Read attribute `i`.
    Keep(u32, Want),
    /// The common forms of kept attributes, read as [`Entries::value`]
    /// reads them without going through the attribute's specification:
    /// `DW_FORM_strp` in 32-bit DWARF,
    KeepStrp(Want),
    /// `DW_FORM_string`,
    KeepString(Want),
    /// `DW_FORM_ref1`, `ref2`, `ref4` (the size),
    KeepRef(Want, u8),
    /// `DW_FORM_data1`, `data2`, and `data4`, `data8` from DWARF 4 on (the size),
    KeepData(Want, u8),
    /// `DW_FORM_flag`,
    KeepFlag(Want),
    /// values the abbreviation holds (`DW_FORM_flag_present`,
    /// `DW_FORM_implicit_const`): no bytes.
    KeepFlagPresent(Want),
    KeepConst(Want, i64),
}

/// How an abbreviation's entries are read or skipped.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) tag: u16,
    pub(super) children: bool,
    pub(super) sibling: SiblingAt,
    /// Ranges of [`Plans::ops`] for a read entry and for a skipped one.
    pub(super) keep: (u32, u32),
    pub(super) skip: (u32, u32),
}

/// Where an abbreviation's first `DW_AT_sibling` is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SiblingAt {
    None,
    /// `DW_FORM_ref1`...`ref8` this many bytes into the attributes, all of
    /// fixed size before it (as in the abbreviations compilers write): read
    /// there once the attributes are read, so their steps stay merged.
    Fixed(u16, u8),
    /// Read as the attributes are (a step of its own, [`Want::Sibling`]).
    Op,
}

/// Where the first `DW_AT_sibling` of attributes `specs` is.
pub(super) fn sibling_at(specs: &[gimli::AttributeSpecification], enc: gimli::Encoding) -> SiblingAt {
    let Some(k) = specs.iter().position(|a| a.name() == dw::DW_AT_sibling) else {
        return SiblingAt::None;
    };
    let mut at: u32 = 0;
    for spec in &specs[..k] {
        match skip_op(*spec, enc) {
            Op::Skip(n) => at += n,
            _ => return SiblingAt::Op,
        }
    }
    let size = match specs[k].form() {
        dw::DW_FORM_ref1 => 1,
        dw::DW_FORM_ref2 => 2,
        dw::DW_FORM_ref4 => 4,
        dw::DW_FORM_ref8 => 8,
        _ => return SiblingAt::Op,
    };
    match u16::try_from(at) {
        Ok(at) => SiblingAt::Fixed(at, size),
        Err(_) => SiblingAt::Op,
    }
}

/// Per abbreviation code of one unit, its [`Plan`], built when the code is
/// first met.
#[derive(Default)]
pub(super) struct Plans {
    /// `slot[code]`: 1 + the plan number (0: not built yet).
    slot: Vec<u32>,
    /// The same for codes too large for `slot`.
    far: rustc_hash::FxHashMap<u64, u32>,
    plans: Vec<Plan>,
    ops: Vec<Op>,
    /// The attributes of every plan (`Gimli` and `Keep` index them).
    specs: Vec<gimli::AttributeSpecification>,
}

impl Plans {
    /// The plan for an abbreviation code; gimli's error for an unknown code.
    #[inline]
    pub(super) fn get(
        &mut self,
        abbrevs: &gimli::Abbreviations,
        code: u64,
        enc: gimli::Encoding,
    ) -> gimli::Result<Plan> {
        let found = match usize::try_from(code) {
            Ok(c) if c < self.slot.len() => self.slot[c],
            _ => self.far.get(&code).copied().unwrap_or(0),
        };
        if found != 0 {
            return Ok(self.plans[found as usize - 1]);
        }
        self.build(abbrevs, code, enc)
    }

    /// A code's first use. Out of line and cold: the inlined lookup above
    /// runs for every entry, and with this in it LLVM stopped inlining it
    /// (+0.6M instructions on mm/vmscan.o).
    #[cold]
    #[inline(never)]
    fn build(&mut self, abbrevs: &gimli::Abbreviations, code: u64, enc: gimli::Encoding) -> gimli::Result<Plan> {
        let abbrev = abbrevs.get(code).ok_or(gimli::Error::InvalidAbbreviationCode(code))?;
        let first_spec = self.specs.len() as u32;
        self.specs.extend_from_slice(abbrev.attributes());
        let sibling = sibling_at(abbrev.attributes(), enc);
        let mut ranges = [(0, 0); 2];
        for (k, keep) in [true, false].into_iter().enumerate() {
            let start = self.ops.len() as u32;
            let mut fixed: u32 = 0;
            for (i, spec) in abbrev.attributes().iter().enumerate() {
                let i = first_spec + i as u32;
                let want = if spec.name() == dw::DW_AT_sibling && sibling == SiblingAt::Op {
                    Some(Want::Sibling)
                } else if keep {
                    Want::of(spec.name())
                } else {
                    None
                };
                let op = match want {
                    Some(w) => keep_op(*spec, enc, i, w),
                    None => match skip_op(*spec, enc) {
                        Op::Skip(n) => {
                            fixed += n;
                            continue;
                        }
                        Op::Gimli(_) => Op::Gimli(i),
                        op => op,
                    },
                };
                if fixed > 0 {
                    self.ops.push(Op::Skip(fixed));
                    fixed = 0;
                }
                self.ops.push(op);
            }
            if fixed > 0 {
                self.ops.push(Op::Skip(fixed));
            }
            ranges[k] = (start, self.ops.len() as u32);
        }
        // A lenient table stands in for libdw's tag 0, which gimli refuses.
        let tag = match abbrev.tag().0 {
            abbrev::TAGLESS => 0,
            tag => tag,
        };
        let plan = Plan { tag, children: abbrev.has_children(), sibling, keep: ranges[0], skip: ranges[1] };
        self.plans.push(plan);
        let p = self.plans.len() as u32;
        let code = abbrev.code();
        match usize::try_from(code) {
            Ok(c) if c < 1 << 16 => {
                if self.slot.len() <= c {
                    self.slot.resize(c + 1, 0);
                }
                self.slot[c] = p;
            }
            _ => {
                self.far.insert(code, p);
            }
        }
        Ok(plan)
    }
}

/// How to read kept attribute `i`, as [`Entries::value`] reads it.
pub(super) fn keep_op(spec: gimli::AttributeSpecification, enc: gimli::Encoding, i: u32, want: Want) -> Op {
    match spec.form() {
        dw::DW_FORM_strp if enc.format == gimli::Format::Dwarf32 => Op::KeepStrp(want),
        dw::DW_FORM_string => Op::KeepString(want),
        dw::DW_FORM_ref1 => Op::KeepRef(want, 1),
        dw::DW_FORM_ref2 => Op::KeepRef(want, 2),
        dw::DW_FORM_ref4 => Op::KeepRef(want, 4),
        dw::DW_FORM_data1 => Op::KeepData(want, 1),
        dw::DW_FORM_data2 => Op::KeepData(want, 2),
        dw::DW_FORM_data4 if enc.version >= 4 => Op::KeepData(want, 4),
        dw::DW_FORM_data8 if enc.version >= 4 => Op::KeepData(want, 8),
        dw::DW_FORM_flag => Op::KeepFlag(want),
        dw::DW_FORM_flag_present => Op::KeepFlagPresent(want),
        dw::DW_FORM_implicit_const => match spec.implicit_const_value() {
            Some(v) => Op::KeepConst(want, v),
            None => Op::Keep(i, want),
        },
        _ => Op::Keep(i, want),
    }
}

/// How to skip an attribute, reading what gimli's `parse_attribute` reads.
pub(super) fn skip_op(spec: gimli::AttributeSpecification, enc: gimli::Encoding) -> Op {
    let word = enc.format.word_size() as u32;
    Op::Skip(match spec.form() {
        // Units from `header.rs` have 4 or 8 (it takes any other as 8, as
        // libdw does).
        dw::DW_FORM_addr => enc.address_size as u32,
        dw::DW_FORM_flag_present => 0,
        dw::DW_FORM_implicit_const if spec.implicit_const_value().is_some() => 0,
        dw::DW_FORM_data1 | dw::DW_FORM_flag | dw::DW_FORM_ref1 | dw::DW_FORM_strx1 | dw::DW_FORM_addrx1 => 1,
        dw::DW_FORM_data2 | dw::DW_FORM_ref2 | dw::DW_FORM_strx2 | dw::DW_FORM_addrx2 => 2,
        dw::DW_FORM_strx3 | dw::DW_FORM_addrx3 => 3,
        dw::DW_FORM_data4 | dw::DW_FORM_ref4 | dw::DW_FORM_ref_sup4 | dw::DW_FORM_strx4 | dw::DW_FORM_addrx4 => 4,
        dw::DW_FORM_data8 | dw::DW_FORM_ref_sig8 => 8,
        dw::DW_FORM_data16 => 16,
        dw::DW_FORM_sec_offset
        | dw::DW_FORM_GNU_ref_alt
        | dw::DW_FORM_strp
        | dw::DW_FORM_strp_sup
        | dw::DW_FORM_GNU_strp_alt
        | dw::DW_FORM_line_strp => word,
        dw::DW_FORM_ref_addr if enc.version != 2 => word,
        dw::DW_FORM_udata
        | dw::DW_FORM_ref_udata
        | dw::DW_FORM_strx
        | dw::DW_FORM_GNU_str_index
        | dw::DW_FORM_addrx
        | dw::DW_FORM_GNU_addr_index
        | dw::DW_FORM_loclistx
        | dw::DW_FORM_rnglistx => return Op::Uleb,
        dw::DW_FORM_sdata => return Op::Sleb,
        dw::DW_FORM_string => return Op::String,
        dw::DW_FORM_block1 => return Op::Block(1),
        dw::DW_FORM_block2 => return Op::Block(2),
        dw::DW_FORM_block4 => return Op::Block(4),
        dw::DW_FORM_block | dw::DW_FORM_exprloc => return Op::Block(0),
        // 64-bit references (an offset that may not fit), DWARF 2's
        // address-sized `ref_addr`, `indirect` and unknown forms.
        _ => return Op::Gimli(0),
    })
}

/// A unit's entries, read as gimli's `EntriesRaw` reads them (the same
/// abbreviation lookup and depth), with attributes read or skipped by
/// [`Plans`].
pub(super) struct Entries<'a, 'u> {
    pub(super) input: R<'a>,
    /// The unit offset where `input` ends.
    pub(super) end: usize,
    /// The unit from its first entry, and that entry's unit offset.
    whole: R<'a>,
    start: usize,
    /// Bytes read again after `DW_AT_sibling`s took reading back.
    rewound: usize,
    pub(super) depth: isize,
    pub(super) enc: gimli::Encoding,
    pub(super) abbrevs: &'u gimli::Abbreviations,
}

impl<'a, 'u> Entries<'a, 'u> {
    pub(super) fn new(unit: &'u gimli::Unit<R<'a>>) -> gimli::Result<Self> {
        let at = unit.header.root_offset();
        let input = unit.header.range_from(at..)?;
        Ok(Entries {
            end: at.0 + input.len(),
            input,
            whole: input,
            start: at.0,
            rewound: 0,
            depth: 0,
            enc: unit.encoding(),
            abbrevs: &unit.abbreviations,
        })
    }

    /// The entries from unit offset `at` on, read as from a root: the
    /// entry there and its children. `None` before the root or past the end.
    pub(super) fn at(unit: &'u gimli::Unit<R<'a>>, at: usize) -> Option<Self> {
        let mut e = Entries::new(unit).ok()?;
        let skip = at.checked_sub(e.start).filter(|&d| d < e.input.len())?;
        e.input.skip(skip).ok()?;
        Some(e)
    }

    /// [`Self::at`] for an offset in the unit's header, whose bytes libdw
    /// reads as an entry where a reference lands there: `bytes` is the
    /// whole unit, header included.
    pub(super) fn in_header(unit: &'u gimli::Unit<R<'a>>, bytes: R<'a>, at: usize) -> Option<Self> {
        let mut e = Entries::new(unit).ok()?;
        if at >= e.start || bytes.len() != e.end {
            return None;
        }
        (e.whole, e.start, e.input) = (bytes, 0, bytes);
        e.input.skip(at).ok()?;
        Some(e)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The `DW_AT_sibling` of an entry whose attributes start at `attrs`
    /// and were read whole, where its plan reads it after them.
    #[inline]
    pub(super) fn fixed_sibling(attrs: R<'a>, plan: &Plan, read: Sibling) -> Sibling {
        let SiblingAt::Fixed(at, size) = plan.sibling else { return read };
        let mut r = attrs;
        let value = r.skip(at as usize).and_then(|()| match size {
            1 => r.read_u8().map(u64::from),
            2 => r.read_u16().map(u64::from),
            4 => r.read_u32().map(u64::from),
            _ => r.read_u64(),
        });
        match value.ok().and_then(|v| usize::try_from(v).ok()) {
            Some(v) => Sibling::At(v),
            None => Sibling::Bad,
        }
    }

    /// Goes on at the `DW_AT_sibling` of the entry at unit offset `at`, as
    /// libdw's `dwarf_siblingof` does once it has stepped past the entry and
    /// its children; an error where it fails (a target at or before the
    /// entry, or at or past the unit's end, or a form it does not follow).
    /// On intact DWARF the target is where reading got to anyway. libdw
    /// takes a target short of that too (inside the entry's attributes, or
    /// among its children): reading goes back there, and `true` says so.
    /// libdw's walk ends (each step at a level lands further on, and
    /// upstream's first pass does not enter an entry twice), but reading an
    /// entry's children again each time can take long on hostile DWARF, so
    /// going back has a budget: [`REWIND_BUDGET`] times the unit's length
    /// read again, or [`REWIND_FLOOR`] bytes where that is more. (Once the
    /// unit's length was too little: two rewinds over most of a small unit
    /// are common in damage a fuzz made. Then 16 times was: siblings that
    /// lead back into each other at each of 11 levels made libdw read a
    /// 1,349-byte unit's entries 2,048 times over, 525 times its length.)
    pub(super) fn go_to_sibling(&mut self, at: usize, sibling: Sibling) -> Result<bool, ()> {
        match sibling {
            Sibling::None => Ok(false),
            Sibling::Bad => Err(()),
            Sibling::At(to) if to <= at || to >= self.end => Err(()),
            Sibling::At(to) => {
                let here = self.next_offset().0;
                if to >= here {
                    self.input.skip(to - here).map_err(|_| ())?;
                    return Ok(false);
                }
                self.rewound += here - to;
                if self.rewound > (REWIND_BUDGET * self.end).max(REWIND_FLOOR) {
                    return Err(());
                }
                let mut r = self.whole;
                r.skip(to - self.start).map_err(|_| ())?;
                self.input = r;
                Ok(true)
            }
        }
    }

    pub(super) fn next_offset(&self) -> gimli::UnitOffset {
        gimli::UnitOffset(self.end - self.input.len())
    }

    /// The next entry's plan; `None` for a null entry. Always inlined, as
    /// `attributes` is: the walk runs both for every entry, and a cold call
    /// site elsewhere (`Window::read_partial`) made LLVM call them instead
    /// (+5.5% instructions on mm/vmscan.o without PGO).
    #[inline(always)]
    pub(super) fn entry(&mut self, plans: &mut Plans) -> gimli::Result<Option<Plan>> {
        let code = leb::uleb(&mut self.input)?;
        if code == 0 {
            self.depth -= 1;
            return Ok(None);
        }
        let plan = plans.get(self.abbrevs, code, self.enc)?;
        if plan.children {
            self.depth += 1;
        }
        Ok(Some(plan))
    }

    /// Runs steps over the entry's attributes; `keep` gets the values read.
    #[inline(always)]
    pub(super) fn attributes(
        &mut self,
        plans: &Plans,
        (a, b): (u32, u32),
        mut keep: impl FnMut(Want, AttributeValue<R<'a>>),
    ) -> gimli::Result<()> {
        for op in &plans.ops[a as usize..b as usize] {
            // One call of `keep` (inlined) for every kind of kept value.
            let (want, v) = match *op {
                Op::Skip(n) => {
                    self.input.skip(n as usize)?;
                    continue;
                }
                Op::String => {
                    self.input.read_null_terminated_slice()?;
                    continue;
                }
                // libdw measures `sdata` as it does `udata`.
                Op::Uleb | Op::Sleb => {
                    leb::uleb(&mut self.input)?;
                    continue;
                }
                Op::Block(0) => {
                    leb::block(&mut self.input)?;
                    continue;
                }
                Op::Block(size) => {
                    let len = match size {
                        1 => self.input.read_u8()? as u64,
                        2 => self.input.read_u16()? as u64,
                        _ => self.input.read_u32()? as u64,
                    };
                    self.input.skip(usize::try_from(len).map_err(|_| gimli::Error::UnsupportedOffset)?)?;
                    continue;
                }
                Op::Gimli(i) => {
                    self.gimli(plans.specs[i as usize])?;
                    continue;
                }
                Op::Keep(i, want) => (want, self.value(plans.specs[i as usize])?),
                Op::KeepStrp(want) => {
                    let off = self.input.read_u32()? as usize;
                    (want, AttributeValue::DebugStrRef(gimli::DebugStrOffset(off)))
                }
                Op::KeepString(want) => (want, AttributeValue::String(self.input.read_null_terminated_slice()?)),
                Op::KeepRef(want, size) => {
                    let off = match size {
                        1 => self.input.read_u8()? as usize,
                        2 => self.input.read_u16()? as usize,
                        _ => self.input.read_u32()? as usize,
                    };
                    (want, AttributeValue::UnitRef(gimli::UnitOffset(off)))
                }
                Op::KeepData(want, size) => {
                    let v = match size {
                        1 => AttributeValue::Data1(self.input.read_u8()?),
                        2 => AttributeValue::Data2(self.input.read_u16()?),
                        4 => AttributeValue::Data4(self.input.read_u32()?),
                        _ => AttributeValue::Data8(self.input.read_u64()?),
                    };
                    (want, v)
                }
                Op::KeepFlag(want) => (want, AttributeValue::Flag(self.input.read_u8()? != 0)),
                Op::KeepFlagPresent(want) => (want, AttributeValue::Flag(true)),
                Op::KeepConst(want, v) => (want, AttributeValue::Sdata(v)),
            };
            keep(want, v);
        }
        Ok(())
    }

    /// An attribute's value as gimli's `parse_attribute` gives it.
    #[inline]
    pub(super) fn value(&mut self, spec: gimli::AttributeSpecification) -> gimli::Result<AttributeValue<R<'a>>> {
        use gimli::{DebugLineStrOffset, DebugStrOffset, DebugStrOffsetsIndex, UnitOffset};
        let i = &mut self.input;
        Ok(match spec.form() {
            dw::DW_FORM_strp => AttributeValue::DebugStrRef(DebugStrOffset(i.read_offset(self.enc.format)?)),
            dw::DW_FORM_line_strp => {
                AttributeValue::DebugLineStrRef(DebugLineStrOffset(i.read_offset(self.enc.format)?))
            }
            dw::DW_FORM_string => AttributeValue::String(i.read_null_terminated_slice()?),
            dw::DW_FORM_strx1 => AttributeValue::DebugStrOffsetsIndex(DebugStrOffsetsIndex(i.read_u8()? as usize)),
            dw::DW_FORM_strx2 => AttributeValue::DebugStrOffsetsIndex(DebugStrOffsetsIndex(i.read_u16()? as usize)),
            dw::DW_FORM_strx4 => AttributeValue::DebugStrOffsetsIndex(DebugStrOffsetsIndex(i.read_u32()? as usize)),
            dw::DW_FORM_ref1 => AttributeValue::UnitRef(UnitOffset(i.read_u8()? as usize)),
            dw::DW_FORM_ref2 => AttributeValue::UnitRef(UnitOffset(i.read_u16()? as usize)),
            dw::DW_FORM_ref4 => AttributeValue::UnitRef(UnitOffset(i.read_u32()? as usize)),
            dw::DW_FORM_data1 => AttributeValue::Data1(i.read_u8()?),
            dw::DW_FORM_data2 => AttributeValue::Data2(i.read_u16()?),
            // DWARF 2 and 3 may mean section offsets by data4 and data8.
            dw::DW_FORM_data4 if self.enc.version >= 4 => AttributeValue::Data4(i.read_u32()?),
            dw::DW_FORM_data8 if self.enc.version >= 4 => AttributeValue::Data8(i.read_u64()?),
            dw::DW_FORM_udata => AttributeValue::Udata(leb::uleb(i)?),
            dw::DW_FORM_sdata => AttributeValue::Sdata(leb::sleb(i)?),
            dw::DW_FORM_ref_udata => AttributeValue::UnitRef(UnitOffset(leb::uleb(i)? as usize)),
            // libdw 0.188 reads these as `.debug_info` offsets into the file
            // itself, as `DW_FORM_ref_addr` (only `DW_FORM_GNU_ref_alt`
            // looks for a supplementary file); gimli, into that file.
            dw::DW_FORM_ref_sup4 => AttributeValue::DebugInfoRef(gimli::DebugInfoOffset(i.read_u32()? as usize)),
            dw::DW_FORM_ref_sup8 => AttributeValue::DebugInfoRef(gimli::DebugInfoOffset(i.read_u64()? as usize)),
            dw::DW_FORM_strx | dw::DW_FORM_GNU_str_index => {
                AttributeValue::DebugStrOffsetsIndex(DebugStrOffsetsIndex(leb::uleb(i)? as usize))
            }
            dw::DW_FORM_addrx | dw::DW_FORM_GNU_addr_index => {
                AttributeValue::DebugAddrIndex(gimli::DebugAddrIndex(leb::uleb(i)? as usize))
            }
            // Measured as libdw measures them (`leb::block`); what
            // they hold is read as no string and no number.
            dw::DW_FORM_block => AttributeValue::Block(leb::block(i)?),
            dw::DW_FORM_exprloc => AttributeValue::Exprloc(gimli::Expression(leb::block(i)?)),
            dw::DW_FORM_loclistx => {
                AttributeValue::DebugLocListsIndex(gimli::DebugLocListsIndex(leb::uleb(i)? as usize))
            }
            dw::DW_FORM_rnglistx => {
                AttributeValue::DebugRngListsIndex(gimli::DebugRngListsIndex(leb::uleb(i)? as usize))
            }
            dw::DW_FORM_flag => AttributeValue::Flag(i.read_u8()? != 0),
            dw::DW_FORM_flag_present => AttributeValue::Flag(true),
            dw::DW_FORM_implicit_const if spec.implicit_const_value().is_some() => {
                AttributeValue::Sdata(spec.implicit_const_value().unwrap_or(0))
            }
            _ => return self.gimli(spec),
        })
    }

    /// A `DW_FORM_indirect` value as libdw's `__libdw_find_attr` reads it:
    /// its form (an `unsigned int`), then a value of that form. Form 0
    /// takes no bytes and is no value; `indirect` again or
    /// `implicit_const` is an error.
    #[cold]
    fn indirect(&mut self) -> gimli::Result<AttributeValue<R<'a>>> {
        let form = leb::uleb(&mut self.input)? as u32;
        match form {
            0 => Ok(AttributeValue::Block(gimli::EndianSlice::new(&[], self.input.endian()))),
            f if f > 0xffff || f == dw::DW_FORM_indirect.0 as u32 || f == dw::DW_FORM_implicit_const.0 as u32 => {
                Err(gimli::Error::UnknownForm(dw::DwForm(0)))
            }
            f => self.value(gimli::AttributeSpecification::new(dw::DW_AT_null, dw::DwForm(f as u16), None)),
        }
    }

    /// Lets gimli parse one attribute.
    #[cold]
    pub(super) fn gimli(&mut self, spec: gimli::AttributeSpecification) -> gimli::Result<AttributeValue<R<'a>>> {
        if spec.form() == dw::DW_FORM_indirect {
            return self.indirect();
        }
        let mut raw = gimli::EntriesRaw::new(self.input, self.enc, self.abbrevs, gimli::UnitOffset(0));
        let value = raw.read_attribute(spec)?.raw_value();
        self.input.skip(raw.next_offset().0)?;
        Ok(value)
    }
}

/// How many times its length a unit may be read again after
/// `DW_AT_sibling`s take reading back ([`Entries::go_to_sibling`]).
const REWIND_BUDGET: usize = 16;

/// The bytes any unit may be read again, however short: where libdw reads
/// a small unit's entries again exponentially often, it still ends soon.
/// (A fuzzed 1,445-byte unit took 5.4 MB: formal parameters made to claim
/// children.) What is read again is kept (about 8 bytes of memory a byte),
/// so this bounds a hostile unit at some 130 MB and 0.15 s. It is not
/// enough for every unit libdw walks to the end: in a 4 KB kernel unit
/// whose formal parameters were made to claim children, libdw's walk
/// ended after 0.35 s, where ours, re-reading, had not ended at 1 GB
/// (`tests/data/fuzz/README.md`, the sixteenth run). An entry's children
/// and next sibling depend only on its offset, so a walk that reads each
/// offset once, and takes a level read before as it ended then, would
/// end where libdw's does.
const REWIND_FLOOR: usize = 16 << 20;

/// An entry's `DW_AT_sibling`, as libdw's `dwarf_siblingof` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sibling {
    None,
    /// A unit offset (`DW_FORM_ref1` ... `DW_FORM_ref_udata`).
    At(usize),
    /// A form libdw does not follow there (`DW_FORM_ref_addr`, ...): an error.
    Bad,
}

impl Sibling {
    pub(super) fn of(value: &AttributeValue<R<'_>>) -> Sibling {
        match *value {
            AttributeValue::UnitRef(o) => Sibling::At(o.0),
            _ => Sibling::Bad,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::abbrev::uleb;
    use super::*;
    use gimli::{
        DebugAbbrev, DebugAbbrevOffset, Encoding, EndianSlice, Format, LittleEndian, RunTimeEndian, UnitOffset,
    };

    /// The attribute forms gimli knows, and a few it does not.
    const FORMS: &[u16] = &[
        0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
        0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x1f01, 0x1f02, 0x1f20, 0x1f21, 0x02, 0x2d, 0x7f,
    ];

    /// `DW_FORM_indirect` as libdw's `__libdw_find_attr` takes it.
    #[test]
    fn indirect_forms_as_libdw_reads_them() {
        let abbrev = [1, 0x34, 0, 0x03, 0x16, 0x0b, 0x0b, 0, 0, 0];
        let abbrevs = DebugAbbrev::new(&abbrev, LittleEndian).abbreviations(DebugAbbrevOffset(0)).unwrap();
        let enc = Encoding { format: Format::Dwarf32, version: 5, address_size: 8 };
        fn read<'a>(
            abbrevs: &gimli::Abbreviations,
            enc: Encoding,
            entry: &'a [u8],
        ) -> gimli::Result<(Vec<AttributeValue<R<'a>>>, usize)> {
            let input = EndianSlice::new(entry, RunTimeEndian::Little);
            let mut plans = Plans::default();
            let mut e = Entries { input, end: entry.len(), whole: input, start: 0, rewound: 0, depth: 0, enc, abbrevs };
            let plan = e.entry(&mut plans)?.expect("an entry");
            let mut kept = Vec::new();
            e.attributes(&plans, plan.keep, |_, v| kept.push(v))?;
            Ok((kept, e.next_offset().0))
        }
        let read = |entry| read(&abbrevs, enc, entry);
        // A name of form string, then byte_size 7.
        let (kept, end) = read(&[1, 0x08, b'a', 0, 7]).unwrap();
        assert_eq!(kept[0], AttributeValue::String(EndianSlice::new(b"a", RunTimeEndian::Little)));
        assert_eq!((kept[1], end), (AttributeValue::Data1(7), 5));
        // Form 0 (here written five bytes long: libdw keeps 32 bits) takes
        // no bytes and is no name.
        let (kept, end) = read(&[1, 0x80, 0x80, 0x80, 0x80, 0x10, 7]).unwrap();
        assert!(matches!(kept[0], AttributeValue::Block(b) if b.is_empty()));
        assert_eq!((kept[1], end), (AttributeValue::Data1(7), 7));
        // Indirect again, and implicit_const: errors.
        assert!(read(&[1, 0x16, 0x08, b'a', 0, 7]).is_err());
        assert!(read(&[1, 0x21, 7]).is_err());
    }

    /// Skipping an entry's attributes (as bodies are skipped) fails exactly
    /// where reading them fails, and ends at the same place otherwise: a
    /// corrupt body is found whether it is skipped or read.
    #[test]
    fn attributes_are_read_and_skipped_as_gimli_parses_them() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rand = move || {
            seed = seed.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            z ^ (z >> 31)
        };
        let encodings = [
            Encoding { format: Format::Dwarf32, version: 5, address_size: 8 },
            Encoding { format: Format::Dwarf64, version: 4, address_size: 4 },
            Encoding { format: Format::Dwarf32, version: 2, address_size: 2 },
            Encoding { format: Format::Dwarf32, version: 3, address_size: 1 },
        ];
        let (mut compared, mut failed) = (0, 0);
        for round in 0..40_000 {
            // An abbreviation with 1 to 4 attributes, wanted or not.
            let names = [
                dw::DW_AT_name.0,
                dw::DW_AT_type.0,
                dw::DW_AT_byte_size.0,
                dw::DW_AT_data_member_location.0,
                dw::DW_AT_declaration.0,
                dw::DW_AT_decl_line.0,
                dw::DW_AT_location.0,
            ];
            let mut abbrev = vec![1, 0x34, 0];
            // `DW_FORM_indirect` is read as libdw reads it, not as gimli
            // does (`Entries::indirect`), and so are LEB128 numbers
            // (`leb.rs`: gimli refuses one past 64 bits or cut short by the
            // end, where libdw reads on): where they could differ, reading
            // and skipping are held to each other only.
            let mut indirect = false;
            let mut leb = false;
            for _ in 0..1 + rand() % 4 {
                uleb(&mut abbrev, names[(rand() % names.len() as u64) as usize] as u64);
                let form = FORMS[(rand() % FORMS.len() as u64) as usize];
                indirect |= form == dw::DW_FORM_indirect.0;
                // The forms skipped by a LEB128 (their length, for blocks).
                let value = (dw::DwForm(form) == dw::DW_FORM_implicit_const).then_some(-1);
                let spec = gimli::AttributeSpecification::new(dw::DW_AT_name, dw::DwForm(form), value);
                leb |= matches!(skip_op(spec, encodings[0]), Op::Uleb | Op::Sleb | Op::Block(0));
                uleb(&mut abbrev, form as u64);
                if form == dw::DW_FORM_implicit_const.0 {
                    abbrev.push(0x7f);
                }
            }
            abbrev.extend([0, 0, 0]);
            let Ok(abbrevs) = DebugAbbrev::new(&abbrev, LittleEndian).abbreviations(DebugAbbrevOffset(0)) else {
                continue;
            };
            // Entry bytes: short or long, small values or LEB128 runs.
            let mut entry = vec![1u8];
            let len = rand() % 40;
            for _ in 0..len {
                let r = rand();
                entry.push(match r % 4 {
                    0 => 0xff,
                    1 => 0x80,
                    2 => (r >> 8) as u8 & 0x7f,
                    _ => (r >> 8) as u8,
                });
            }
            let encoding = encodings[round % encodings.len()];
            let input = EndianSlice::new(&entry, RunTimeEndian::Little);
            // gimli: every attribute parsed.
            let mut parse = gimli::EntriesRaw::new(input, encoding, &abbrevs, UnitOffset(0));
            let a = parse.read_abbreviation().unwrap().unwrap();
            let mut wanted = Vec::new();
            let parsed: gimli::Result<()> = a.attributes().iter().try_for_each(|s| {
                let attr = parse.read_attribute(*s)?;
                if Want::of(attr.name()).is_some() {
                    // `value` reads a supplementary reference as libdw does:
                    // into this file's `.debug_info`.
                    wanted.push(match (s.form(), attr.raw_value()) {
                        (dw::DW_FORM_ref_sup4 | dw::DW_FORM_ref_sup8, AttributeValue::DebugInfoRefSup(o)) => {
                            AttributeValue::DebugInfoRef(gimli::DebugInfoOffset(o.0))
                        }
                        (_, v) => v,
                    });
                }
                Ok(())
            });
            // Ours: read (keeping the wanted values) or skipped.
            let mut outcomes = Vec::new();
            for keep in [true, false] {
                let mut plans = Plans::default();
                let mut ours = Entries {
                    input,
                    end: entry.len(),
                    whole: input,
                    start: 0,
                    rewound: 0,
                    depth: 0,
                    enc: encoding,
                    abbrevs: &abbrevs,
                };
                let plan = ours.entry(&mut plans).unwrap().unwrap();
                assert_eq!((plan.tag, plan.children), (a.tag().0, a.has_children()));
                let mut kept = Vec::new();
                let read = ours.attributes(&plans, if keep { plan.keep } else { plan.skip }, |_, v| kept.push(v));
                let what =
                    || format!("abbrev {abbrev:x?} entry {entry:x?} {encoding:?} keep {keep}: {parsed:?} vs {read:?}");
                outcomes.push(read.as_ref().ok().map(|_| ours.next_offset()));
                if indirect || (leb && parsed.is_err()) {
                    continue;
                }
                assert_eq!(parsed.is_ok(), read.is_ok(), "{}", what());
                if parsed.is_ok() {
                    assert_eq!(parse.next_offset(), ours.next_offset(), "{}", what());
                    if keep {
                        assert_eq!(wanted, kept, "{}", what());
                    }
                }
            }
            assert_eq!(outcomes[0], outcomes[1], "abbrev {abbrev:x?} entry {entry:x?} {encoding:?}");
            compared += 1;
            failed += usize::from(parsed.is_err());
        }
        assert!(compared > 30_000 && failed > 1000 && compared - failed > 1000, "{compared} compared, {failed} failed");
    }
}
