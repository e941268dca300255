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
pub mod render;
pub mod symbols;
pub mod typediff;
pub mod typegraph;
pub mod typemap;
pub mod unitcache;
pub mod units;

pub use error::Error;
pub mod db;
