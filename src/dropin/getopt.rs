//! Upstream's command line and stdin symbol list, byte for byte (SPEC 1.2–1.5).
//!
//! `gendwarfksyms` parses its arguments with glibc `getopt_long(argc, argv,
//! "dsT:h", opts, NULL)` and a `switch` whose default case prints the usage
//! text and exits 1; `-h` prints the usage text and exits 0. This module
//! re-implements the parts of glibc 2.36's `getopt_long` that can be observed
//! through that option table: argument permutation (or `POSIXLY_CORRECT`
//! order), `--`, bundled short options, `-T` with attached or separate
//! argument, long options with unique-prefix abbreviation and `=value`, and
//! glibc's exact error messages. The symbol list reader mirrors upstream's
//! `getline` + `sscanf(line, "%ms\n", &name)` loop.
//!
//! Everything works on bytes: arguments are taken as the C strings the
//! reference would see (up to a NUL, which real `argv` entries never contain),
//! and messages quote them verbatim.

use std::ffi::{OsStr, OsString};
use std::io::BufRead;
use std::os::unix::ffi::OsStrExt;

/// The parsed command line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    pub debug: bool,
    pub dump_dies: bool,
    pub dump_die_map: bool,
    pub dump_types: bool,
    pub dump_versions: bool,
    pub stable: bool,
    /// `-T`/`--symtypes`; the last one wins.
    pub symtypes: Option<OsString>,
    /// Non-option words in order (after permutation).
    pub objects: Vec<OsString>,
}

/// What parsing decided when it does not go on to run: bytes for stderr and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub stderr: Vec<u8>,
    pub status: i32,
}

/// Upstream's `usage()` text (SPEC 1.4), always written to stderr.
pub const USAGE: &str = "Usage: gendwarfksyms [options] elf-object-file ... < symbol-list\n\
\n\
Options:\n\
\x20 -d, --debug          Print debugging information\n\
\x20     --dump-dies      Dump DWARF DIE contents\n\
\x20     --dump-die-map   Print debugging information about die_map changes\n\
\x20     --dump-types     Dump type strings\n\
\x20     --dump-versions  Dump expanded type strings used for symbol versions\n\
\x20 -s, --stable         Support kABI stability features\n\
\x20 -T, --symtypes file  Write a symtypes file\n\
\x20 -h, --help           Print this message\n\
\n";

/// Printed after [`USAGE`] when no object file is named.
const NO_INPUT: &[u8] = b"error: gendwarfksyms: main: no input files?\n";

/// Prefix of the fatal error for a symbol-list line without a token.
const MALFORMED: &[u8] = b"error: gendwarfksyms: symbol_read_exports: malformed input line: ";

/// upstream's short option string.
const SHORT_OPTS: &[u8] = b"dsT:h";

/// The `int *flag` of a `struct option`: which upstream variable is set to `val`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    /// `&dump_dies`
    Dies,
    /// `&dump_die_map`
    DieMap,
    /// `&dump_types`
    Types,
    /// `&dump_versions`
    Versions,
}

/// One entry of upstream's `struct option opts[]`.
struct LongOpt {
    name: &'static [u8],
    has_arg: bool,
    flag: Option<Flag>,
    val: u8,
}

/// Upstream's table, in upstream's order (the order matters for the
/// "possibilities" list of the ambiguity message).
const LONG_OPTS: [LongOpt; 8] = [
    opt(b"debug", false, None, b'd'),
    opt(b"dump-dies", false, Some(Flag::Dies), 1),
    opt(b"dump-die-map", false, Some(Flag::DieMap), 1),
    opt(b"dump-types", false, Some(Flag::Types), 1),
    opt(b"dump-versions", false, Some(Flag::Versions), 1),
    opt(b"stable", false, None, b's'),
    opt(b"symtypes", true, None, b'T'),
    opt(b"help", false, None, b'h'),
];

const fn opt(name: &'static [u8], has_arg: bool, flag: Option<Flag>, val: u8) -> LongOpt {
    LongOpt { name, has_arg, flag, val }
}

/// `getenv("POSIXLY_CORRECT") != NULL`, as glibc's `_getopt_initialize` tests it.
pub fn posixly_correct() -> bool {
    std::env::var_os("POSIXLY_CORRECT").is_some()
}

/// The C string an argument is: its bytes up to the first NUL.
fn c_str(s: &OsStr) -> &[u8] {
    let b = s.as_bytes();
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

fn os(b: &[u8]) -> OsString {
    OsStr::from_bytes(b).to_os_string()
}

/// A getopt error: glibc's message, then upstream's `usage()`, exit 1.
fn getopt_error(argv0: &[u8], parts: &[&[u8]]) -> Exit {
    let mut stderr = argv0.to_vec();
    for p in parts {
        stderr.extend_from_slice(p);
    }
    stderr.extend_from_slice(b"\n");
    stderr.extend_from_slice(USAGE.as_bytes());
    Exit { stderr, status: 1 }
}

fn help() -> Exit {
    Exit { stderr: USAGE.as_bytes().to_vec(), status: 0 }
}

/// What `getopt_long` returned for one option: upstream's `switch`.
enum Got<'a> {
    /// A `flag` option (getopt stored `val` through the pointer and returned 0).
    Flag(Flag),
    /// `val`/the short option character, with `optarg`.
    Val(u8, Option<&'a [u8]>),
}

fn apply(o: &mut Options, got: Got<'_>) -> Result<(), Exit> {
    match got {
        Got::Flag(Flag::Dies) => o.dump_dies = true,
        Got::Flag(Flag::DieMap) => o.dump_die_map = true,
        Got::Flag(Flag::Types) => o.dump_types = true,
        Got::Flag(Flag::Versions) => o.dump_versions = true,
        Got::Val(b'd', _) => o.debug = true,
        Got::Val(b's', _) => o.stable = true,
        Got::Val(b'T', arg) => o.symtypes = Some(os(arg.unwrap_or_default())),
        Got::Val(b'h', _) => return Err(help()),
        // Unreachable with upstream's tables: every value is handled above.
        Got::Val(..) => unreachable!("option value not in upstream's table"),
    }
    Ok(())
}

/// glibc `process_long_option` for `--<rest>` (`rest` is `__nextchar`).
/// `next` is the following argument (taken as the argument of `--symtypes`
/// when no `=` is present); returns whether it was consumed.
fn long_option<'a>(argv0: &[u8], rest: &'a [u8], next: Option<&'a [u8]>, o: &mut Options) -> Result<bool, Exit> {
    let name_len = rest.iter().position(|&c| c == b'=').unwrap_or(rest.len());
    let name = &rest[..name_len];
    let value = (name_len < rest.len()).then(|| &rest[name_len + 1..]);

    // An exact match wins over abbreviations.
    let found = match LONG_OPTS.iter().position(|p| p.name == name) {
        Some(i) => i,
        None => {
            let mut matches = LONG_OPTS.iter().enumerate().filter(|(_, p)| p.name.starts_with(name));
            let Some((first, pf)) = matches.next() else {
                return Err(getopt_error(argv0, &[b": unrecognized option '--", rest, b"'"]));
            };
            // Further prefix matches are only ambiguous when they would act
            // differently (has_arg, flag or val differ from the first match).
            let mut ambig: Vec<usize> = matches
                .filter(|(_, p)| p.has_arg != pf.has_arg || p.flag != pf.flag || p.val != pf.val)
                .map(|(i, _)| i)
                .collect();
            if !ambig.is_empty() {
                ambig.insert(0, first);
                let mut parts: Vec<&[u8]> = vec![b": option '--", rest, b"' is ambiguous; possibilities:"];
                for i in ambig {
                    parts.extend_from_slice(&[b" '--", LONG_OPTS[i].name, b"'"]);
                }
                return Err(getopt_error(argv0, &parts));
            }
            first
        }
    };
    let p = &LONG_OPTS[found];
    let (optarg, consumed) = match (value, p.has_arg) {
        (Some(v), true) => (Some(v), false),
        (Some(_), false) => {
            return Err(getopt_error(argv0, &[b": option '--", p.name, b"' doesn't allow an argument"]));
        }
        (None, true) => match next {
            Some(n) => (Some(n), true),
            None => {
                return Err(getopt_error(argv0, &[b": option '--", p.name, b"' requires an argument"]));
            }
        },
        (None, false) => (None, false),
    };
    match p.flag {
        Some(f) => apply(o, Got::Flag(f))?,
        None => apply(o, Got::Val(p.val, optarg))?,
    }
    Ok(consumed)
}

/// Parses the command line like upstream's `getopt_long` loop and the checks
/// after it.
///
/// `argv` includes `argv[0]` (used verbatim in getopt messages).
/// `posixly_correct`: the environment variable `POSIXLY_CORRECT` is set (see
/// [`posixly_correct`]).
///
/// Returns `Err(Exit)` for `-h` (usage, status 0), getopt errors (message +
/// usage, status 1; parsing stops at the first one) and "no input files"
/// (usage + `error: gendwarfksyms: main: no input files?`, status 1).
/// After parsing, `dump_die_map` implies `dump_dies`.
pub fn parse_args(argv: &[OsString], posixly_correct: bool) -> Result<Options, Exit> {
    let argv0 = argv.first().map_or(&b""[..], |a| c_str(a));
    let args: Vec<&[u8]> = argv.iter().skip(1).map(|a| c_str(a)).collect();
    let mut o = Options::default();
    let mut objects: Vec<&[u8]> = Vec::new();

    let mut i = 0;
    while i < args.len() {
        let w = args[i];
        // NONOPTION_P: does not start with '-', or is "-" alone.
        if w.first() != Some(&b'-') || w.len() == 1 {
            if posixly_correct {
                // REQUIRE_ORDER: the first non-option ends option parsing.
                objects.extend_from_slice(&args[i..]);
                break;
            }
            // PERMUTE: skip it; it ends up among the operands, in order.
            objects.push(w);
            i += 1;
            continue;
        }
        i += 1;
        if w == b"--" {
            objects.extend_from_slice(&args[i..]);
            break;
        }
        if w[1] == b'-' {
            if long_option(argv0, &w[2..], args.get(i).copied(), &mut o)? {
                i += 1;
            }
            continue;
        }
        // A cluster of short options.
        let mut k = 1;
        while k < w.len() {
            let c = w[k];
            k += 1;
            let spec = SHORT_OPTS.iter().position(|&s| s == c).filter(|_| c != b':' && c != b';');
            let Some(at) = spec else {
                return Err(getopt_error(argv0, &[b": invalid option -- '", &[c], b"'"]));
            };
            if SHORT_OPTS.get(at + 1) != Some(&b':') {
                apply(&mut o, Got::Val(c, None))?;
                continue;
            }
            // Requires an argument: the rest of this word, else the next word
            // (whatever it looks like).
            let arg = if k < w.len() {
                &w[k..]
            } else if i < args.len() {
                i += 1;
                args[i - 1]
            } else {
                return Err(getopt_error(argv0, &[b": option requires an argument -- '", &[c], b"'"]));
            };
            apply(&mut o, Got::Val(c, Some(arg)))?;
            break;
        }
    }

    if o.dump_die_map {
        o.dump_dies = true;
    }
    if objects.is_empty() {
        let mut stderr = USAGE.as_bytes().to_vec();
        stderr.extend_from_slice(NO_INPUT);
        return Err(Exit { stderr, status: 1 });
    }
    o.objects = objects.into_iter().map(os).collect();
    Ok(o)
}

/// C-locale `isspace`.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The token `sscanf(line, "%ms")` extracts from one line, or the
/// malformed-line error.
fn line_token(line: &[u8]) -> Result<&[u8], Exit> {
    // sscanf and printf("%s") both see the line only up to a NUL.
    let line = line.iter().position(|&c| c == 0).map_or(line, |n| &line[..n]);
    let Some(start) = line.iter().position(|&c| !is_c_space(c)) else {
        let mut stderr = MALFORMED.to_vec();
        stderr.extend_from_slice(line);
        stderr.push(b'\n');
        return Err(Exit { stderr, status: 1 });
    };
    let tok = &line[start..];
    Ok(&tok[..tok.iter().position(|&c| is_c_space(c)).unwrap_or(tok.len())])
}

/// The symbol list on stdin (SPEC 1.5), read line by line from `input` until
/// end of file or a read error (like `getline`, a read error simply ends the
/// list). Returns the names in order; no de-duplication.
pub fn read_symbol_list_from<R: BufRead>(mut input: R) -> Result<Vec<Vec<u8>>, Exit> {
    let mut names = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => names.push(line_token(&line)?.to_vec()),
        }
    }
    Ok(names)
}

/// The symbol list on stdin (SPEC 1.5): returns the names in order (first
/// token of each line, C-locale whitespace, NUL ends the token scan, final
/// line without newline accepted), or `Err(Exit)` with
/// `error: gendwarfksyms: symbol_read_exports: malformed input line: <raw line incl. its newline>\n`,
/// status 1. De-duplication is not done here.
pub fn read_symbol_list(input: &[u8]) -> Result<Vec<Vec<u8>>, Exit> {
    read_symbol_list_from(input)
}

#[cfg(test)]
mod oracle_cases;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn with_usage(msg: &str) -> Vec<u8> {
        [msg.as_bytes(), USAGE.as_bytes()].concat()
    }

    #[test]
    fn usage_text() {
        assert!(USAGE.starts_with("Usage: gendwarfksyms [options] elf-object-file ... < symbol-list\n\nOptions:\n"));
        assert!(USAGE.ends_with("  -h, --help           Print this message\n\n"));
        assert_eq!(USAGE.lines().count(), 12);
    }

    #[test]
    fn basic_parses() {
        let o = parse_args(&argv(&["g", "a.o", "-dsTx", "--dump-die-m", "b.o"]), false).unwrap();
        assert_eq!(
            o,
            Options {
                debug: true,
                dump_dies: true,
                dump_die_map: true,
                stable: true,
                symtypes: Some("x".into()),
                objects: vec!["a.o".into(), "b.o".into()],
                ..Options::default()
            }
        );
        let e = parse_args(&argv(&["gdk", "--dump-die"]), false).unwrap_err();
        assert_eq!(
            e.stderr,
            with_usage("gdk: option '--dump-die' is ambiguous; possibilities: '--dump-dies' '--dump-die-map'\n")
        );
        assert_eq!(e.status, 1);
        let e = parse_args(&[], false).unwrap_err();
        assert_eq!(e.stderr, [USAGE.as_bytes(), NO_INPUT].concat());
        assert_eq!(e.status, 1);
        assert_eq!(parse_args(&argv(&["g", "-h", "-x"]), false).unwrap_err(), help());
    }

    /// Renders a parse result in the format of the oracle program
    /// (see `oracle_cases.rs`).
    fn render(r: Result<Options, Exit>) -> Vec<u8> {
        match r {
            Ok(o) => {
                let bit = |b: bool| if b { b'1' } else { b'0' };
                let mut s = b"\x1eOK ".to_vec();
                s.extend([o.debug, o.dump_dies, o.dump_die_map, o.dump_types, o.dump_versions, o.stable].map(bit));
                s.extend_from_slice(b" T=");
                match &o.symtypes {
                    Some(t) => s.extend_from_slice(t.as_bytes()),
                    None => s.extend_from_slice(b"(none)"),
                }
                for obj in &o.objects {
                    s.push(0x1f);
                    s.extend_from_slice(obj.as_bytes());
                }
                s
            }
            Err(e) => {
                let mut rest = &e.stderr[..];
                let no_input = rest.ends_with(NO_INPUT);
                if no_input {
                    rest = &rest[..rest.len() - NO_INPUT.len()];
                }
                let msg = rest.strip_suffix(USAGE.as_bytes()).expect("stderr ends with the usage text");
                let mut s = msg.to_vec();
                s.extend_from_slice(b"<USAGE>\n");
                if no_input {
                    s.extend_from_slice(b"<NOINPUT>\n");
                }
                s.extend_from_slice(format!("\x1eEXIT {}", e.status).as_bytes());
                s
            }
        }
    }

    #[test]
    fn matches_glibc_getopt_long() {
        let mut failures = Vec::new();
        for &(posix, argv0, args, expected) in oracle_cases::CASES {
            let mut v = vec![os(argv0)];
            let mut rest = args;
            while let Some(n) = rest.iter().position(|&c| c == 0x1f) {
                v.push(os(&rest[..n]));
                rest = &rest[n + 1..];
            }
            assert!(rest.is_empty());
            let got = render(parse_args(&v, posix));
            if got != expected {
                failures.push(format!(
                    "posix={posix} argv={v:?}\n  expected {:?}\n  got      {:?}",
                    String::from_utf8_lossy(expected),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn nul_truncates_like_c_strings() {
        let v = vec![os(b"g\0x"), os(b"-d\0x"), os(b"a.o\0b")];
        let o = parse_args(&v, false).unwrap();
        assert!(o.debug);
        assert_eq!(o.objects, vec![OsString::from("a.o")]);
        let e = parse_args(&[os(b"g\0x"), os(b"-q\0")], false).unwrap_err();
        assert_eq!(e.stderr, with_usage("g: invalid option -- 'q'\n"));
    }

    #[test]
    fn symbol_list_tokens() {
        let ok = |input: &[u8]| read_symbol_list(input).unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(ok(b""), names(&[]));
        assert_eq!(ok(b"a\nb"), names(&["a", "b"]));
        assert_eq!(ok(b"  foo extra words\n\x0b\x0cbar\r\n\tbaz\x0b"), names(&["foo", "bar", "baz"]));
        assert_eq!(ok(b"foo\0bar\nx\xff\xfe y\n"), vec![b"foo".to_vec(), b"x\xff\xfe".to_vec()]);
        assert_eq!(ok(b"dup\ndup\n"), names(&["dup", "dup"]));
        assert_eq!(ok(b"a\r\rb\n"), names(&["a"]));

        let err = |input: &[u8]| read_symbol_list(input).unwrap_err();
        let msg = |line: &[u8]| Exit { stderr: [MALFORMED, line, b"\n"].concat(), status: 1 };
        assert_eq!(err(b"a\n\nb\n"), msg(b"\n"));
        assert_eq!(err(b"a\n \t\r\n"), msg(b" \t\r\n"));
        assert_eq!(err(b"a\n  "), msg(b"  "));
        assert_eq!(err(b"\r"), msg(b"\r"));
        // printf("%s", line) stops at the NUL too.
        assert_eq!(err(b" \0foo\n"), msg(b" "));
        assert_eq!(err(b"\0\n"), msg(b""));
        // The first bad line wins; nothing after it matters.
        assert_eq!(err(b"a\n\x0b\nb\n\n"), msg(b"\x0b\n"));
    }

    #[test]
    fn symbol_list_stops_at_read_error() {
        struct Failing<'a>(&'a [u8]);
        impl std::io::Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("boom"));
                }
                let n = self.0.len().min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let r = std::io::BufReader::new(Failing(b"a\nb\nc"));
        assert_eq!(read_symbol_list_from(r).unwrap(), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    // ---- golden cases -------------------------------------------------

    /// The golden corpus (SPEC's recorded reference outputs); the tests using
    /// it are skipped when it is not present.
    fn golden_dir() -> Option<PathBuf> {
        let dir =
            std::env::var_os("DWARFKSYMS_GOLDEN").map_or_else(|| PathBuf::from("/work/shared/golden"), PathBuf::from);
        if dir.join("MANIFEST.tsv").is_file() {
            Some(dir)
        } else {
            eprintln!("golden corpus not found at {}: skipped", dir.display());
            None
        }
    }

    struct Row {
        case: String,
        objects: String,
        symbols: String,
        flags: String,
        stdout: String,
        stderr: String,
        symtypes: String,
        exit: i32,
    }

    fn manifest(dir: &Path, prefix: &str) -> Vec<Row> {
        let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        text.lines()
            .skip(1)
            .filter(|l| l.starts_with(prefix))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Row {
                    case: f[0].into(),
                    objects: f[1].into(),
                    symbols: f[2].into(),
                    flags: f[3].into(),
                    stdout: f[4].into(),
                    stderr: f[5].into(),
                    symtypes: f[6].into(),
                    exit: f[7].parse().unwrap(),
                }
            })
            .collect()
    }

    /// README "Running a case", step 2.
    fn case_argv(row: &Row, tmp: &str) -> Vec<OsString> {
        let mut v = vec![OsString::from("gendwarfksyms")];
        let words = |s: &str| {
            if s == "-" {
                vec![]
            } else {
                s.split(' ').map(OsString::from).collect()
            }
        };
        v.extend(words(&row.flags));
        if row.symtypes != "-" {
            v.push("-T".into());
            v.push(tmp.into());
        }
        v.extend(words(&row.objects));
        v
    }

    #[test]
    fn golden_cli_cases() {
        let Some(dir) = golden_dir() else { return };
        let rows = manifest(&dir, "cli/");
        assert!(rows.len() >= 13);
        const TMP: &str = "/tmp/out.symtypes";
        let base = "obj/x86_64-gcc-dwarf5-O2/base_types.o";
        for row in &rows {
            let got = parse_args(&case_argv(row, TMP), false);
            let name = row.case.strip_prefix("cli/").unwrap();
            // Cases that get past parsing: what parsing must have produced.
            let mut want = Options { objects: vec![base.into()], ..Options::default() };
            match name {
                "combined-short-options" => {
                    want.debug = true;
                    want.stable = true;
                    want.symtypes = Some(TMP.into());
                }
                "long-options" => {
                    want.debug = true;
                    want.stable = true;
                    want.symtypes = Some(TMP.into());
                }
                "options-after-object" | "double-dash" => {
                    want.stable = true;
                    want.symtypes = Some(TMP.into());
                }
                "symtypes-equals-dev-null" => want.symtypes = Some("/dev/null".into()),
                "symtypes-unwritable" => want.symtypes = Some("bad/no-such-dir/out.symtypes".into()),
                "no-arguments"
                | "help-short"
                | "help-long"
                | "help-with-object"
                | "unknown-long-option"
                | "unknown-short-option"
                | "symtypes-missing-argument" => {
                    let e = got.expect_err(name);
                    let expected = std::fs::read(dir.join(&row.stderr)).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&e.stderr),
                        String::from_utf8_lossy(&expected),
                        "{name}: stderr"
                    );
                    assert_eq!(e.stderr, expected, "{name}: stderr bytes");
                    assert_eq!(e.status, row.exit, "{name}: status");
                    assert_eq!(row.stdout, "expected/EMPTY", "{name}: stdout");
                    continue;
                }
                _ => panic!("cli case {name} not covered by this test"),
            }
            assert_eq!(got.expect(name), want, "{name}");
        }
    }

    /// The `#SYMVER` names upstream prints are the list's names after its
    /// de-duplication (a name is skipped when it, with a leading
    /// `__gendwarfksyms_ptr_` stripped, is already listed).
    fn dedup(names: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for n in names {
            let key = n.strip_prefix(b"__gendwarfksyms_ptr_".as_slice()).unwrap_or(&n);
            if !kept.iter().any(|k| k == key) {
                kept.push(n);
            }
        }
        kept
    }

    #[test]
    fn golden_symlist_cases() {
        let Some(dir) = golden_dir() else { return };
        let rows = manifest(&dir, "symlist/");
        assert!(rows.len() >= 10);
        for row in &rows {
            let input = std::fs::read(dir.join(&row.symbols)).unwrap();
            let got = read_symbol_list(&input);
            let stderr = std::fs::read(dir.join(&row.stderr)).unwrap();
            if stderr.starts_with(MALFORMED) {
                assert_eq!(got, Err(Exit { stderr, status: row.exit }), "{}", row.case);
                assert_eq!(row.exit, 1);
                continue;
            }
            let names = got.unwrap_or_else(|e| panic!("{}: {:?}", row.case, String::from_utf8_lossy(&e.stderr)));
            let stdout = std::fs::read(dir.join(&row.stdout)).unwrap();
            let mut printed: Vec<Vec<u8>> = stdout
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let l = l.strip_prefix(b"#SYMVER ".as_slice()).unwrap();
                    l[..l.iter().rposition(|&c| c == b' ').unwrap()].to_vec()
                })
                .collect();
            let mut expected = dedup(names);
            printed.sort();
            expected.sort();
            assert_eq!(printed, expected, "{}", row.case);
        }
        // Known contents of two lists.
        let spacing = read_symbol_list(&std::fs::read(dir.join("bad/symbols/spacing.symbols")).unwrap()).unwrap();
        assert_eq!(spacing, [&b"bt_int"[..], b"bt_char", b"bt_long", b"bt_float", b"bt_double"]);
        let ptr =
            read_symbol_list(&std::fs::read(dir.join("bad/symbols/ptr-prefix-duplicate.symbols")).unwrap()).unwrap();
        assert_eq!(ptr, [&b"bt_int"[..], b"__gendwarfksyms_ptr_bt_int", b"__gendwarfksyms_ptr_bt_char", b"bt_char"]);
    }
}
