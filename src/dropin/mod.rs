//! The `gendwarfksyms` drop-in: upstream's command line, streams and exit codes.

mod errno;
pub mod getopt;
mod run;
mod symfile;

pub use run::main;
