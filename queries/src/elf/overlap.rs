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
//! bytes. An intact file has no overlapping sections, and takes
//! `relocate`'s way, relocating copies of the sections libdw keeps.

use std::borrow::Cow;

use object::Endianness;

use super::reloc::{self, GiveUp, SymbolValue};
use super::{ElfFile, Found};

/// Where one relocation section's target lives while relocating.
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
        found: &mut [Found<'data>],
        symbol: &dyn Fn(u32) -> Result<SymbolValue, GiveUp>,
    ) -> Result<(), GiveUp> {
        let mut image = self.data.to_vec();
        let t = self.reloc_target();
        let mut loaded: Vec<Vec<u8>> = Vec::new();
        for s in self.sections.iter().skip(1) {
            let Some(job) = self.job(s, found)? else { continue };
            let target_section = &self.sections[s.info as usize];
            let target = match (job.kept, job.loaded) {
                (Some(k), _) if matches!(found[k].data, Cow::Owned(_)) => Target::Found(k),
                (None, Some(Cow::Owned(copy))) => {
                    loaded.push(copy);
                    Target::Loaded(loaded.len() - 1)
                }
                _ => Target::Image(target_section.offset as usize),
            };
            // libelf hands the entries over in place where the file's byte
            // order is the host's (little-endian), they are not compressed
            // and they are aligned for their type (`convert_data`); else as
            // a copy of the bytes as they are now, which the clearing does
            // not reach. (A compressed section is decompressed from the
            // file's bytes as they were: overlapping compressed sections
            // are not followed further.)
            let (start, size) = (s.offset as usize, reloc::entry_size(&t, job.is_rela));
            let align = if self.is_64 { 8 } else { 4 };
            let uncompressed = matches!(job.relocs, Cow::Borrowed(_));
            let in_file = uncompressed && self.endian == Endianness::Little && start % align == 0;
            let mut own = match (in_file, uncompressed) {
                (true, _) => Vec::new(),
                (false, true) => image[start..start + job.relocs.len()].to_vec(),
                (false, false) => job.relocs.into_owned(),
            };
            let count = if in_file { s.size as usize / size } else { own.len() / size };
            if count > 0 && !reloc::machine_known(self.e_machine) {
                return Err(GiveUp);
            }
            let mut stepper = reloc::Stepper::new(&t);
            let mut done = 0;
            for i in 0..count {
                let table: &mut [u8] = if in_file { &mut image[start..] } else { &mut own };
                let Some(r) = reloc::entry(&t, &table[i * size..], job.is_rela) else { break };
                let data: &mut [u8] = match target {
                    Target::Found(k) => found[k].data.to_mut(),
                    Target::Loaded(l) => &mut loaded[l],
                    Target::Image(at) => &mut image[at..at + job.len as usize],
                };
                if stepper.step(Some(data), job.len, &r, symbol)? {
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
        // libdw reads the sections once libdwfl is done with the file.
        for f in found.iter_mut() {
            if let Cow::Borrowed(bytes) = f.data {
                let at = self.sections[f.index].offset as usize;
                f.data = Cow::Owned(image[at..at + bytes.len()].to_vec());
            }
        }
        Ok(())
    }
}
