//! The drop-in's driver: upstream's `main` — options, the symbol list on
//! stdin, one engine pass per object, the symtypes file and `#SYMVER` lines.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;

use queries::bytes::Bytes;
use queries::db::{self, Database, ObjectFile};
use queries::object::Options;
use queries::symbols::{SymState, SymbolTable};

use super::getopt::{self, Exit};
use super::symfile::SymFile;

/// Runs the drop-in with the process's arguments and streams; its exit
/// status.
pub fn main() -> i32 {
    crate::tracing_init();
    let argv: Vec<OsString> = std::env::args_os().collect();
    // The engine on a stack of 512 MiB (`crate::stack`; its depth limits
    // take a tenth of that).
    crate::stack::run_on_large_stack(512 << 20, || run(&argv)).unwrap_or_else(|_| {
        eprintln!("error: gendwarfksyms: main: internal error");
        1
    })
}

fn fail(stderr: &mut impl Write, function: &str, message: &str) -> i32 {
    let _ = writeln!(stderr, "error: gendwarfksyms: {function}: {message}");
    1
}

fn run(argv: &[OsString]) -> i32 {
    let mut stderr = std::io::stderr().lock();
    let opts = match getopt::parse_args(argv, getopt::posixly_correct()) {
        Ok(o) => o,
        Err(Exit { stderr: bytes, status }) => {
            let _ = stderr.write_all(&bytes);
            return status;
        }
    };

    let mut input = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut input);
    let (names, bad_line) = read_names(&input);
    let (table, added) = SymbolTable::new(&names);
    if opts.debug {
        for n in &added {
            let _ = stderr.write_all(&[&b"gendwarfksyms: symbol_read_exports: "[..], n, b"\n"].concat());
        }
    }
    if let Some(exit) = bad_line {
        let _ = stderr.write_all(&exit.stderr);
        return exit.status;
    }
    if opts.debug {
        let _ = writeln!(stderr, "gendwarfksyms: symbol_read_exports: {} exported symbols", added.len());
    }
    if added.is_empty() {
        return 0;
    }

    let mut symfile = match &opts.symtypes {
        Some(path) => match SymFile::open(path) {
            Ok(f) => Some(f),
            Err(e) => {
                let msg = format!("fopen failed for '{}': {}", path.to_string_lossy(), strerror(&e));
                return fail(&mut stderr, "main", &msg);
            }
        },
        None => None,
    };
    let engine_opts = Options {
        stable: opts.stable,
        debug: opts.debug,
        dump_dies: opts.dump_dies,
        dump_die_map: opts.dump_die_map,
        dump_types: opts.dump_types,
        dump_versions: opts.dump_versions,
        symtypes: symfile.is_some(),
        all_units: false,
        split_units: false,
        // The drop-in prints versions as the pass computes them.
        defer_versions: false,
    };
    // Read every object first: a missing one stops the run only where
    // upstream would reach it, after the earlier objects' output.
    let db = Database::default();
    let mut files = Vec::new();
    let mut unreadable = None;
    for path in &opts.objects {
        match read_object(path) {
            Ok(bytes) => files.push(ObjectFile::new(&db, path.as_bytes().to_vec(), bytes)),
            Err((function, msg)) => {
                let msg = if function == "main" {
                    format!("open failed for '{}': {msg}", path.to_string_lossy())
                } else {
                    msg
                };
                unreadable = Some((function, msg));
                break;
            }
        }
    }
    let (outcomes, state) = db::run_borrowed(&db, &files, table, engine_opts);
    // Each object's block goes to the file once its messages are out, as
    // upstream writes it at the end of the object's pass; a failure leaves
    // the file with the blocks before (stdio flushes them at exit).
    for out in outcomes {
        let (before, after) = out.log.split_at(out.symtypes_at.min(out.log.len()));
        let _ = stderr.write_all(before);
        if let Some(e) = &out.error {
            let _ = stderr.write_all(after);
            let _ = symfile.map(SymFile::close);
            return fail(&mut stderr, e.function, &e.message);
        }
        if let Some(failed) = symfile.as_mut().and_then(|f| f.write_block(&out.symtypes)) {
            let _ = symfile.map(SymFile::close);
            return fail(&mut stderr, failed.function, &format!("`{}` failed: -1", failed.expression));
        }
        let _ = stderr.write_all(after);
    }
    if let Some((function, msg)) = unreadable {
        let _ = symfile.map(SymFile::close);
        return fail(&mut stderr, function, &msg);
    }
    if symfile.is_some_and(|f| f.close().is_err()) {
        return fail(&mut stderr, "main", "`fclose(symfile)` failed: -1");
    }

    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let table = &state.table;
    for &id in table.order() {
        let s = &table.syms[id as usize];
        if s.state != SymState::Processed {
            let _ = stderr.write_all(
                &[&b"warning: gendwarfksyms: symbol_print_versions: no information for symbol "[..], &s.name, b"\n"]
                    .concat(),
            );
        }
        let _ = stdout.write_all(&[&b"#SYMVER "[..], &s.name, format!(" 0x{:08x}\n", s.crc).as_bytes()].concat());
    }
    let _ = stdout.flush();
    0
}

/// Splits stdin into names; stops at the first malformed line, returning
/// the names before it and the error to print.
fn read_names(input: &[u8]) -> (Vec<Vec<u8>>, Option<Exit>) {
    let mut names = Vec::new();
    for line in input.split_inclusive(|&b| b == b'\n') {
        match getopt::read_symbol_list(line) {
            Ok(mut n) => names.append(&mut n),
            Err(e) => return (names, Some(e)),
        }
    }
    (names, None)
}

/// An object file's bytes: mapped when it is a regular file, else read.
fn read_object(path: &OsString) -> Result<Bytes, (&'static str, String)> {
    let mut f = std::fs::File::open(path).map_err(|e| ("main", strerror(&e)))?;
    if f.metadata().is_ok_and(|m| m.is_file() && m.len() > 0) {
        // SAFETY: the mapping is private and read-only, and nothing in this
        // process writes the file. Another process truncating it while we
        // run would fault (SIGBUS): upstream maps the file too (libelf's
        // ELF_C_READ_MMAP), and kbuild does not rewrite an object while
        // gendwarfksyms reads it. A mapping costs no copy of the file and
        // no fresh memory, a real part of a one-object run.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&f) } {
            return Ok(Bytes::from_owner(map));
        }
    }
    let mut bytes = Vec::new();
    match f.read_to_end(&mut bytes) {
        Ok(_) => Ok(bytes.into()),
        Err(e) if e.raw_os_error() == Some(21) => {
            Err(("elf_for_each_global", "elf_begin failed: invalid file descriptor".to_string()))
        }
        Err(e) => Err(("elf_for_each_global", format!("elf_begin failed: {}", strerror(&e)))),
    }
}

/// glibc's text for an errno, as upstream prints it (whatever C library
/// this binary is linked against), without Rust's " (os error N)".
fn strerror(e: &std::io::Error) -> String {
    if let Some(n) = e.raw_os_error() {
        return super::errno::strerror(n);
    }
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
