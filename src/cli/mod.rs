//! `dwarfksyms`: the batch, watch and server front ends (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod diff;
pub mod discover;
mod progress;
mod serve;
mod versions;
mod watch;

/// A CRC as modpost and upstream print it; an export without DWARF
/// information has none and is printed as 0, as upstream does.
pub(crate) fn crc_text(c: Option<u32>) -> String {
    format!("0x{:08x}", c.unwrap_or(0))
}

#[derive(Parser, Debug)]
#[command(
    name = "dwarfksyms",
    version,
    about = "Kernel symbol versions (modversions CRCs) from DWARF, identical to gendwarfksyms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Version every export of a build: vmlinux and modules, in one process on every core.
    ///
    /// Each PATH is an object (.o, .ko, vmlinux, vmlinux.o) or a directory
    /// searched recursively for them; a file reached twice is versioned
    /// once. Exports are read from the objects themselves
    /// (__export_symbol_* in kbuild .o files, __ksymtab_* in linked .ko
    /// files and vmlinux).
    Versions(VersionsArgs),
    /// Version every export once, then watch the objects and report the versions that change.
    ///
    /// PATHs as for `versions`. Each time objects are rewritten, prints the
    /// exports whose CRC changed, appeared or disappeared (text, or one JSON
    /// object per line with --format json), then waits again.
    Watch(watch::WatchArgs),
    /// Explain CRC changes between two builds: the types behind each one.
    ///
    /// OLD and NEW are objects or directories (searched as for `versions`;
    /// objects are paired by module name, two files directly). For each
    /// export whose CRC differs: the chain of members and parameters from
    /// the export to each changed type, and the changed members (added,
    /// removed, retyped, moved) or enumerators, grouped by root cause.
    /// Exit status: 0 no difference, 1 differences, 2 trouble.
    Diff(diff::DiffArgs),
    /// Answer questions about the versions over the Language Server Protocol (stdio), while watching.
    ///
    /// PATHs as for `watch` (several trees may be given, e.g. an old and a
    /// new build, to ask `dwarfksyms/explain` about them). Requests:
    /// `dwarfksyms/symbol`, `dwarfksyms/dependents`, `dwarfksyms/explain`,
    /// `workspace/symbol`, `textDocument/hover` (see docs/server.md).
    /// Protocol messages on stdout, logs on stderr.
    Serve(serve::ServeArgs),
}

#[derive(clap::Args, Debug)]
pub struct VersionsArgs {
    /// Objects or directories to search.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Symvers)]
    pub format: Format,
    /// With --format json: include the symtypes lines each version used.
    #[arg(long)]
    pub types: bool,
    /// Write one upstream-identical symtypes file per object under DIR.
    #[arg(long, value_name = "DIR")]
    pub symtypes_dir: Option<PathBuf>,
    /// Support kABI stability features (as gendwarfksyms --stable).
    #[arg(short, long)]
    pub stable: bool,
    /// Version these symbols instead of the object's own exports (one object only).
    #[arg(long, value_name = "FILE")]
    pub symbols: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Print per-phase timings and peak memory to stderr.
    #[arg(long)]
    pub stats: bool,
    /// Render a unit found in several objects once (a kbuild `.o` and the
    /// `.ko` linked from it): `auto` does so when the objects include
    /// both `.o` and `.ko` files, which is when units repeat.
    #[arg(long, value_enum, default_value_t = Share::Auto)]
    pub share_units: Share,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    Auto,
    On,
    Off,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Module.symvers lines, as modpost writes them.
    Symvers,
    /// One JSON object per line per export.
    Json,
}

pub fn main() -> i32 {
    crate::tracing_init();
    let cli = Cli::parse();
    match cli.command {
        Command::Versions(args) => versions::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
