//! Whether libdwfl takes the file as a module (`dwfl_report_offline`),
//! which upstream asks right after reading the symbol table and before any
//! DWARF is read.
//!
//! A relocatable object is laid out from its section headers, which libelf
//! has already read. Every other `e_type` (damage can turn an `ET_REL` into
//! anything) is placed by its `PT_LOAD` program headers
//! (`__libdwfl_elf_address_range`), and reading those fails where the
//! program header table does not fit the file; a relocatable object's
//! layout fails where a 32-bit file's section would be placed past 32 bits
//! (`reloc::offline_layout`). Upstream then stops with
//! `dwfl_report_offline failed for '<file>': no error`: libelf's error has
//! been read (and cleared) by the time upstream prints it.

use object::elf;

use super::ElfFile;

/// libdwfl's message for a module it refused, as upstream prints it.
pub const REPORT_FAILED: &str = "no error";

impl ElfFile<'_> {
    /// `false` where `dwfl_report_offline` fails.
    pub fn dwfl_reports(&self) -> bool {
        if self.e_type == elf::ET_REL.0 {
            return self.offline_layout().is_some();
        }
        // `elf_getphdrnum`: an offset past the file fails; a count past it
        // is cut to what fits.
        let Ok(table) = self.phdrs() else { return false };
        let Some((off, _)) = table else { return true };
        // The first `gelf_getphdr` reads the whole table as the header
        // counts it, uncut (`elfNN_getphdr`): it must fit in the file.
        let size = if self.is_64 { 56 } else { 32 };
        self.phnum().saturating_mul(size) <= self.data.len() as u64 - off
    }
}
