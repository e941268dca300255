//! The `-T` file: written as upstream's ends up, failing where upstream's
//! fails.
//!
//! Upstream opens it with `fopen(path, "w")` and writes each object's
//! block with `fputs` calls (a type's name, `" "`, its text, `"\n"`)
//! through stdio's buffer, then `fclose`s it. Two things follow:
//!
//! - **Truncation.** On ext4, a file truncated to nothing and written
//!   again is flushed to disk when closed (the `auto_da_alloc` safeguard),
//!   so every rebuild of an object whose symtypes file exists would wait
//!   for its write-out. The file is opened without truncation, written
//!   over, and cut to what was written at the end: it ends as upstream's
//!   does, on success and on failure, without that flush.
//! - **Where a full device is reported.** glibc's stream writes only when
//!   a `fputs` does not fit in its 4096-byte buffer, and then everything
//!   up to the last whole block; `fclose` writes the rest. So a device
//!   that refuses bytes (`-T /dev/full`, a full disk) fails a `fputs` —
//!   upstream names which — unless all it refused was still in the buffer
//!   at `fclose`. [`SymFile`] writes each block as it comes and, once the
//!   device has refused, replays the calls upstream would make to find
//!   the one that fails. A type's text is one call here where upstream
//!   makes one per piece; that changes the answer only when the text ends
//!   exactly on a 4096-byte boundary of the stream with the refused byte
//!   in the block before, where upstream fails at the `"\n"` that follows.
//!   (With `--debug`, an object's cache statistics, which upstream prints
//!   after its block, come before such a failure here.)

use std::ffi::OsString;
use std::io::Write;

/// glibc's buffer for a file: `st_blksize`, 4096 on the file systems and
/// devices a kbuild writes to.
const BUFFER: u64 = 4096;

pub struct SymFile {
    file: std::fs::File,
    /// Bytes the file took.
    written: u64,
    /// Bytes upstream would have handed to `fputs` so far.
    pos: u64,
    /// Bytes upstream's stream would have written so far.
    flushed: u64,
    /// Bytes the file took before it refused more, once it has.
    refused_at: Option<u64>,
}

/// The call upstream fails in, as its message names it.
pub struct Failed {
    pub function: &'static str,
    pub expression: &'static str,
}

impl SymFile {
    /// Opens the file for writing as `fopen(path, "w")` does, but without
    /// truncating it.
    pub fn open(path: &OsString) -> std::io::Result<SymFile> {
        let file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
        Ok(SymFile { file, written: 0, pos: 0, flushed: 0, refused_at: None })
    }

    /// Writes one object's block; the call upstream fails in, if the file
    /// refused bytes that upstream would have written by then.
    pub fn write_block(&mut self, block: &[u8]) -> Option<Failed> {
        if self.refused_at.is_none() && self.write_all(block).is_err() {
            self.refused_at = Some(self.written);
        }
        let start = self.pos;
        self.pos += block.len() as u64;
        let refused = self.refused_at?;
        // Replay the block's calls (upstream's `type_map_write`).
        let mut at = start;
        for (name, text) in queries::typemap::symtypes_entries(block) {
            let calls: [(usize, &'static str, &'static str); 4] = [
                (name.len(), "type_map_write", "fputs(es[i]->name, file)"),
                (1, "type_map_write", "fputs(\" \", file)"),
                (text.len(), "type_list_write", "fputs(entry->str, file)"),
                (1, "type_map_write", "fputs(\"\\n\", file)"),
            ];
            for (len, function, expression) in calls {
                at += len as u64;
                // The call does not fit in the buffer: the stream writes
                // the buffer and the call's whole blocks.
                if at - self.flushed > BUFFER {
                    self.flushed = at / BUFFER * BUFFER;
                    if self.flushed > refused {
                        return Some(Failed { function, expression });
                    }
                }
            }
        }
        None
    }

    /// Counts only what reached the file, so that a write that fails
    /// part-way is kept as far as it got.
    fn write_all(&mut self, mut b: &[u8]) -> std::io::Result<()> {
        while !b.is_empty() {
            match self.file.write(b) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n as u64;
                    b = &b[n..];
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Drops what is left of the old text (nothing to cut in a FIFO or
    /// `/dev/null`, as upstream's truncation does nothing there); an error
    /// if the file refused bytes upstream's `fclose` would have written.
    pub fn close(self) -> std::io::Result<()> {
        if self.file.metadata().is_ok_and(|m| m.is_file()) {
            self.file.set_len(self.written)?;
        }
        match self.refused_at {
            Some(r) if r < self.pos => Err(std::io::ErrorKind::WriteZero.into()),
            _ => Ok(()),
        }
    }
}
