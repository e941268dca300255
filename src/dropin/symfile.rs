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
//!   at `fclose`. [`SymFile`] writes each block as it comes; once the
//!   device has refused bytes, it replays the calls upstream would have
//!   made, from the first block on, to find the one that fails. A type's text is one call here where upstream
//!   makes one per piece; that changes the answer only when the text ends
//!   exactly on a 4096-byte boundary of the stream with the refused byte
//!   in the block before, where upstream fails at the `"\n"` that follows.

use std::ffi::OsString;
use std::io::Write;
use std::sync::Arc;

/// glibc's buffer for a file: `st_blksize`, 4096 on the file systems and
/// devices a kbuild writes to.
const BUFFER: u64 = 4096;

pub struct SymFile {
    file: std::fs::File,
    /// Bytes the file took.
    written: u64,
    /// The blocks handed over, for a replay; `replayed` of them are in
    /// `stream`. Nothing is replayed unless the file refuses bytes.
    blocks: Vec<Arc<Vec<u8>>>,
    replayed: usize,
    /// Upstream's stream, replayed.
    stream: Stream,
    /// Bytes the file took before it refused more, once it has.
    refused_at: Option<u64>,
}

/// Where a glibc stream writing to a file stands: what it was handed, what
/// it has written (the rest is in its buffer).
#[derive(Default)]
struct Stream {
    pos: u64,
    flushed: u64,
}

impl Stream {
    /// One `fputs` of `len` bytes (`_IO_new_file_xsputn`): whether it
    /// writes, and then everything up to its last whole block. A call
    /// that fits in the buffer only fills it. The first call finds no
    /// buffer and writes its whole blocks directly.
    fn fputs(&mut self, len: u64) -> bool {
        if len == 0 {
            return false;
        }
        let at = self.pos + len;
        // No call before (`pos` 0): no buffer yet.
        let writes = if self.pos > 0 { at - self.flushed > BUFFER } else { len >= BUFFER };
        self.pos = at;
        if writes {
            self.flushed = at / BUFFER * BUFFER;
        }
        writes
    }
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
        Ok(SymFile { file, written: 0, blocks: Vec::new(), replayed: 0, stream: Stream::default(), refused_at: None })
    }

    /// Writes one object's block; the call upstream fails in, if the file
    /// refused bytes that upstream would have written by then.
    pub fn write_block(&mut self, block: &Arc<Vec<u8>>) -> Option<Failed> {
        if self.refused_at.is_none() && self.write_all(block).is_err() {
            self.refused_at = Some(self.written);
        }
        self.blocks.push(block.clone());
        let refused = self.refused_at?;
        while let Some(block) = self.blocks.get(self.replayed).cloned() {
            self.replayed += 1;
            if let Some(failed) = self.replay(&block, refused) {
                return Some(failed);
            }
        }
        None
    }

    /// Replays a block's calls (upstream's `type_map_write`); the one that
    /// would write past `refused`, if any.
    fn replay(&mut self, block: &[u8], refused: u64) -> Option<Failed> {
        for (name, text) in queries::typemap::symtypes_entries(block) {
            let calls: [(usize, &'static str, &'static str); 4] = [
                (name.len(), "type_map_write", "fputs(es[i]->name, file)"),
                (1, "type_map_write", "fputs(\" \", file)"),
                (text.len(), "type_list_write", "fputs(entry->str, file)"),
                (1, "type_map_write", "fputs(\"\\n\", file)"),
            ];
            for (len, function, expression) in calls {
                if self.stream.fputs(len as u64) && self.stream.flushed > refused {
                    return Some(Failed { function, expression });
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
        if self.file.metadata().is_ok_and(|m| m.is_file() && m.len() != self.written) {
            self.file.set_len(self.written)?;
        }
        match self.refused_at {
            Some(r) if r < self.stream.pos => Err(std::io::ErrorKind::WriteZero.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's `_IO_new_file_xsputn` step by step: fill the buffer; if the
    /// call does not fit, write the buffer, then the call's whole blocks,
    /// and buffer the rest. Returns the bytes written by each call.
    struct Glibc {
        buffer: Option<u64>,
        written: u64,
    }

    impl Glibc {
        fn fputs(&mut self, len: u64) -> u64 {
            if len == 0 {
                return 0;
            }
            let before = self.written;
            let used = self.buffer.unwrap_or(BUFFER);
            let space = if self.buffer.is_some() { BUFFER - used } else { 0 };
            let fill = space.min(len);
            let mut to_do = len - fill;
            let mut used = self.buffer.map_or(0, |u| u + fill);
            if to_do > 0 {
                self.written += used;
                used = 0;
                let direct = to_do - to_do % BUFFER;
                self.written += direct;
                to_do -= direct;
                used += to_do;
            }
            self.buffer = Some(used);
            self.written - before
        }
    }

    #[test]
    fn the_replayed_stream_writes_as_glibc_does() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..2000 {
            let mut glibc = Glibc { buffer: None, written: 0 };
            let mut ours = Stream::default();
            for _ in 0..rand(60) {
                // Names, separators, texts (some longer than the buffer).
                let len = match rand(4) {
                    0 => rand(40),
                    1 => 1,
                    2 => rand(3 * BUFFER),
                    _ => rand(BUFFER + 2),
                };
                let wrote = glibc.fputs(len);
                assert_eq!(ours.fputs(len), wrote > 0, "call of {len}");
                assert_eq!(ours.flushed, glibc.written, "after a call of {len}");
            }
        }
    }
}
