//! The dwarfksyms engine: reads ELF objects and their DWARF, renders type
//! strings exactly as upstream `gendwarfksyms` does, and computes symbol
//! versions. It does no printing and no process I/O: callers hand it bytes
//! and get values and errors back. The one exception: an input whose bytes
//! were let go reads its file again when a query needs them
//! ([`bytes::Bytes::load`]).

pub mod bytes;
pub mod crc;
pub mod dies;
pub mod elf;
pub mod error;
pub mod exports;
pub mod kabi;
pub mod log;
pub mod object;
mod prefetch;
pub mod render;
pub mod symbols;
pub mod typediff;
pub mod typegraph;
pub mod typemap;
pub mod unitcache;
pub mod units;

pub use error::Error;

/// How deep rendering, type-map text and CRC walks may recurse before the
/// input is called hostile ("type nesting too deep"). Upstream has no
/// limit and overflows its 8 MiB stack somewhere between 24,000 and 32,000
/// levels (a chain of 12,000 typedefs or 16,000 pointers it versions,
/// 16,000 and 32,000 crash it: `tests/deep.rs`), so anything it versions
/// is within this. The engine's stacks have room for it (the drop-in's is
/// 512 MiB, the batch workers' 256 MiB): a drop-in run that reaches it
/// peaks at 53 MiB resident, stack and all (`tests/data/deep/pointers70000.o`).
pub const MAX_NESTING: u32 = 65536;
pub mod db;
