//! Relocating a file whose sections overlap, as libdwfl does it: in the
//! file's own bytes.
//!
//! libdwfl relocates the mapped file in place (a private mapping), and
//! libdw reads the DWARF afterwards from the same bytes. As it applies an
//! entry it also clears it from its relocation section, and once a section
//! is done it moves the entries it could not apply to the front
//! (`relocate_section`, "partial always OK"). So where sections overlap,
//! which only damage makes them do, a later section sees what earlier ones
//! wrote: entries already cleared (type 0, nothing to do) or relocated
//! bytes, and a compressed section is decompressed from the bytes as they
//! are when libdwfl first relocates it, or, if it relocates none, when
//! libdw reads it. An intact file has no overlapping
//! sections, and takes `relocate`'s way, relocating copies of the sections
//! libdw keeps.
//!
//! The symbol table too is read as it is when each entry needs it.

use std::borrow::Cow;

use object::Endianness;

use super::reloc::{self, GiveUp, SymbolValue};
use super::relocate::Symtab;
use super::{ElfFile, Found, Loaded};

/// Where one relocation section's target lives while relocating.
#[derive(Clone, Copy)]
enum Target {
    /// A copy of its own (decompressed): in `found`, or `loaded[i]`.
    Found(usize),
    Loaded(usize),
    /// In the file's bytes, from this offset.
    Image(usize),
}

impl<'data> ElfFile<'data> {
    /// Whether any two sections with bytes in the file share some.
    pub(super) fn sections_overlap(&self) -> bool {
        let mut ranges: Vec<(u64, u64)> = self
            .sections
            .iter()
            .skip(1)
            .filter(|s| s.kind != object::elf::SHT_NOBITS.0 && s.size != 0)
            .map(|s| (s.offset, s.offset.saturating_add(s.size)))
            .collect();
        ranges.sort_unstable();
        ranges.windows(2).any(|w| w[1].0 < w[0].1)
    }

    /// [`Self::relocate`] on the file's bytes, for a file whose sections
    /// overlap; then the sections of `found` read from the file are read
    /// again from the relocated bytes.
    pub(super) fn relocate_in_place(
        &self,
        found: &mut Vec<Found<'data>>,
        symtab: &Symtab<'data>,
        placed: &[u64],
    ) -> Result<(), GiveUp> {
        let mut image = self.data.to_vec();
        let t = self.reloc_target();
        let mut loaded: Vec<Vec<u8>> = Vec::new();
        // Each target as libdwfl first loaded it, by section index.
        let mut targets: Vec<(usize, Target)> = Vec::new();
        for s in self.sections.iter().skip(1) {
            let Some(job) = self.job(s, found)? else { continue };
            let index = s.info as usize;
            let target = match targets.iter().find(|(i, _)| *i == index) {
                Some(&(_, target)) => target,
                None => {
                    let target = self.load_target(&image, index, job.kept, found, &mut loaded)?;
                    targets.push((index, target));
                    target
                }
            };
            let len = match target {
                Target::Found(k) => found[k].data.len(),
                Target::Loaded(l) => loaded[l].len(),
                Target::Image(_) => job.len as usize,
            };
            // Entries libelf hands over as a copy (`data_in_place`, or
            // decompressed) are taken from the bytes as they are now; the
            // clearing does not reach the file's bytes then.
            let (start, size) = (s.offset as usize, reloc::entry_size(t.is_64, job.is_rela));
            let uncompressed = matches!(job.relocs, Cow::Borrowed(_));
            let in_file = uncompressed && self.data_in_place(s);
            let now = &image[start..start + s.size as usize];
            let mut own = match (in_file, uncompressed) {
                (true, _) => Vec::new(),
                (false, true) => now.to_vec(),
                (false, false) => self.unpack(s, false, now).ok_or(GiveUp)?.into_owned(),
            };
            let count = if in_file { s.size as usize / size } else { own.len() / size };
            if count > 0 && !reloc::machine_known(self.e_machine) {
                return Err(GiveUp);
            }
            let big = self.endian == Endianness::Big;
            let mut done = 0;
            for i in 0..count {
                let table: &mut [u8] = if in_file { &mut image[start..] } else { &mut own };
                let Some(r) = reloc::entry(&t, &table[i * size..], job.is_rela) else { break };
                // libdwfl's `relocate`, as `reloc::apply` does it, but for
                // the symbol: read from the table as it is now, where
                // relocations may have written over it.
                let applied = match (r.r_type, reloc::operation_of(&t, r.r_type)) {
                    (0, _) => true,
                    (_, None) => false,
                    (_, Some(op)) => {
                        let value = match (r.symbol, symtab.in_file) {
                            (0, _) => SymbolValue::Value(0),
                            (index, Some(at)) => {
                                let now = &image[at..at + symtab.symbols.len()];
                                self.reloc_symbol(symtab, now, placed, index)?
                            }
                            (index, None) => self.reloc_symbol(symtab, &symtab.symbols, placed, index)?,
                        };
                        let data: &mut [u8] = match target {
                            Target::Found(k) => found[k].data.to_mut(),
                            Target::Loaded(l) => &mut loaded[l],
                            Target::Image(at) => &mut image[at..at + len],
                        };
                        match value {
                            SymbolValue::Value(v) => {
                                reloc::store(op, v, &r, Some(data), len as u64, big).map(|()| true)?
                            }
                            SymbolValue::Undefined => false,
                        }
                    }
                };
                // libdwfl clears each entry it applied.
                if applied {
                    let table: &mut [u8] = if in_file { &mut image[start..] } else { &mut own };
                    table[i * size..(i + 1) * size].fill(0);
                    done += 1;
                }
            }
            // The entries left, moved to the front.
            if done != 0 && done < count {
                let table: &mut [u8] = if in_file { &mut image[start..] } else { &mut own };
                let mut next = 0;
                for i in 0..count {
                    if table[i * size..(i + 1) * size].iter().any(|&b| b != 0) {
                        if next != i {
                            table.copy_within(i * size..(i + 1) * size, next * size);
                        }
                        next += 1;
                    }
                }
            }
        }
        // libdw reads the sections once libdwfl is done with the file,
        // decompressing those libdwfl did not (an empty one it skips).
        for f in found.iter_mut() {
            let target = targets.iter().find(|(i, _)| *i == f.index).map(|&(_, t)| t);
            if matches!(target, Some(Target::Found(_))) {
                continue;
            }
            let sec = &self.sections[f.index];
            let raw = &image[sec.offset as usize..(sec.offset + sec.size) as usize];
            let data = if target.is_some() {
                Cow::Borrowed(raw)
            } else {
                self.unpack(sec, self.gnu_named(sec), raw).unwrap_or_default()
            };
            // A string section read in place: its strings run on in the
            // image (`DwarfSections::str_tail`).
            if matches!(data, Cow::Borrowed(_)) && matches!(f.name, ".debug_str" | ".debug_line_str") {
                f.tail = Some(image[sec.offset as usize..].to_vec());
            }
            f.data = Cow::Owned(data.into_owned());
        }
        self.find_again(found, &image)
    }

    /// libdw opens the DWARF once libdwfl is done with the file
    /// (`load_dw`), and finds the debug sections by their names as they
    /// read then: where the section names' table lies in bytes relocating
    /// wrote (cleared entries), a section may have lost its name, or
    /// another taken a debug one. A name that no longer reads makes libdw
    /// refuse the file, which upstream reports as libdwfl giving up.
    fn find_again(&self, found: &mut Vec<Found<'data>>, image: &[u8]) -> Result<(), GiveUp> {
        let Some(table) = self.sections.get(self.shstrndx as usize) else { return Ok(()) };
        let range = table.offset as usize..table.offset.saturating_add(table.size) as usize;
        // A compressed table is read from a copy, which relocating leaves alone.
        let unchanged = |image: &[u8]| image.get(range.clone()) == self.data.get(range.clone());
        if table.has_flag(object::elf::SHF_COMPRESSED) || table.kind != object::elf::SHT_STRTAB.0 || unchanged(image) {
            return Ok(());
        }
        let names = &image[range];
        let name = |s: &super::Section| super::string_at(names, s.name).ok();
        // The sections found before keep what relocating made of them.
        let mut before: Vec<Option<Found<'data>>> = std::mem::take(found).into_iter().map(Some).collect();
        let (again, _) = self
            .find_debug_sections(name, |index, s, name, gnu_compressed| {
                if let Some(f) = before.iter_mut().find_map(|f| f.take_if(|f| f.index == index)) {
                    return Loaded::Data(Found { name, ..f });
                }
                let raw = image.get(s.offset as usize..s.offset.saturating_add(s.size) as usize).unwrap_or_default();
                match self.unpack(s, gnu_compressed, raw) {
                    Some(data) => Loaded::Data(Found { name, index, data: Cow::Owned(data.into_owned()), tail: None }),
                    None => Loaded::Ignored,
                }
            })
            .ok_or(GiveUp)?;
        *found = again;
        Ok(())
    }

    /// A relocation target as libdwfl first loads it: decompressed from
    /// the file's bytes as they are by then (`elf_compress`, failing being
    /// fatal; `elf_compress_gnu`, failing leaving the bytes as they are),
    /// else the bytes themselves.
    fn load_target(
        &self,
        image: &[u8],
        index: usize,
        kept: Option<usize>,
        found: &mut [Found<'data>],
        loaded: &mut Vec<Vec<u8>>,
    ) -> Result<Target, GiveUp> {
        let t = &self.sections[index];
        let raw = &image[t.offset as usize..(t.offset + t.size) as usize];
        let fresh = match self.unpack(t, self.gnu_named(t), raw).ok_or(GiveUp)? {
            Cow::Owned(data) => Some(data),
            Cow::Borrowed(_) => None,
        };
        Ok(match (fresh, kept) {
            (Some(data), Some(k)) => {
                found[k].data = Cow::Owned(data);
                Target::Found(k)
            }
            (Some(data), None) => {
                loaded.push(data);
                Target::Loaded(loaded.len() - 1)
            }
            (None, _) => Target::Image(t.offset as usize),
        })
    }
}
