//! Names longer than a render piece holds (`tests/data/long-names/`): the
//! drop-in prints upstream's CRC and `-T` file byte for byte, with and
//! without `--stable`.

mod common;

use std::process::Stdio;

#[test]
fn names_longer_than_a_piece_are_versioned_as_upstream_versions_them() {
    let dir = common::workspace_root().join("tests/data/long-names");
    let (bin, _) = common::binary();
    let tmp = common::TempDir::new("long-names");
    let stdout = common::read_data(&dir.join("expected/long.stdout"));
    let symtypes = common::read_data(&dir.join("expected/long.symtypes"));
    for flags in [&[][..], &["--stable"][..]] {
        let out = tmp.path().join("long.symtypes");
        let result = common::gendwarfksyms(&bin, &dir)
            .args(flags)
            .arg("-T")
            .arg(&out)
            .arg("long.o")
            .stdin(Stdio::from(std::fs::File::open(dir.join("long.symbols")).unwrap()))
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(0), "{flags:?}: {}", String::from_utf8_lossy(&result.stderr));
        assert!(result.stderr.is_empty(), "{flags:?}: {}", String::from_utf8_lossy(&result.stderr));
        assert_eq!(result.stdout, stdout, "{flags:?}: stdout");
        assert!(common::read_data(&out) == symtypes, "{flags:?}: the -T file differs from upstream's");
    }
}
