//! What upstream writes to stderr, collected as bytes in order.
//!
//! The engine does no I/O: debug lines, warnings and the `--dump-*` output
//! go into a [`Log`] that the caller prints. Pretty-printing state for
//! `--dump-dies` (indentation, a pending line break) lives here too, since
//! upstream keeps it global for the whole run.

#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct Log {
    pub bytes: Vec<u8>,
    /// `-d`: print debug lines.
    pub debug: bool,
    indent: i32,
    pending_break: bool,
}

impl Log {
    pub fn new(debug: bool) -> Log {
        Log { bytes: Vec::new(), debug, indent: 0, pending_break: false }
    }

    /// `gendwarfksyms: <function>: <text>` when debugging.
    pub fn debug(&mut self, function: &str, text: &[u8]) {
        if self.debug {
            self.line(b"", function, text);
        }
    }

    pub fn warn(&mut self, function: &str, text: &[u8]) {
        self.line(b"warning: ", function, text);
    }

    fn line(&mut self, prefix: &[u8], function: &str, text: &[u8]) {
        self.bytes.extend_from_slice(prefix);
        self.bytes.extend_from_slice(b"gendwarfksyms: ");
        self.bytes.extend_from_slice(function.as_bytes());
        self.bytes.extend_from_slice(b": ");
        self.bytes.extend_from_slice(text);
        self.bytes.push(b'\n');
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// A string piece of the `--dump-dies` output.
    pub fn dump_str(&mut self, dump: bool, s: &[u8]) {
        if !dump {
            return;
        }
        if self.pending_break {
            self.bytes.push(b'\n');
            for _ in 0..self.indent.max(0) {
                self.bytes.extend_from_slice(b"  ");
            }
            self.pending_break = false;
        }
        self.bytes.extend_from_slice(s);
    }

    /// A line break; kept even when not dumping, as upstream does.
    pub fn dump_break(&mut self, n: i8) {
        self.indent += n as i32;
        self.pending_break = true;
    }

    // `--dump-die-map` annotations. Upstream prints heap addresses; we print
    // the DIE's `.debug_info` offset in their place.
    pub fn die_map_miss(&mut self, on: bool, offset: u64, tag: u16, want: crate::render::State) {
        if on {
            let s = format!("\x1b[92m<addr {offset:#x} tag {tag:x} -- DIE_INCOMPLETE -> {}>\x1b[39m", want.name());
            self.bytes.extend_from_slice(s.as_bytes());
        }
    }

    pub fn die_map_cached(&mut self, on: bool, offset: u64, tag: u16, state: crate::render::State) {
        if on {
            let s = format!("\x1b[92m<cached addr {offset:#x} tag {tag:x} -- {}>\x1b[39m", state.name());
            self.bytes.extend_from_slice(s.as_bytes());
        }
    }

    pub fn die_map_done(&mut self, on: bool, offset: u64, tag: u16) {
        if on {
            let s = format!("\x1b[91m<die addr {offset:#x} tag {tag:x}>\x1b[39m");
            self.bytes.extend_from_slice(s.as_bytes());
        }
    }
}
