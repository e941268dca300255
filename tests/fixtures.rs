//! Fixtures of our own (`tests/data/fixtures/`: kernel-style headers, ops
//! tables, nested anonymous unions, bitfields, kABI unions and rules, for
//! several targets), with upstream's outputs recorded by its `record.sh`.
//! Same case format and rules as the golden manifest; needs no `../shared`.
//! Ratchet: `tests/fixtures-known-failures.txt`.

mod common;

use std::path::Path;

use common::manifest::{parse_manifest, run_case, TIMEOUT_SECS};
use common::Suite;

#[test]
fn fixtures() {
    let suite = Suite::new("fixtures");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixtures");
    let cases = suite.select(parse_manifest(&root.join("MANIFEST.tsv")), |c| c.id.as_str());
    assert!(cases.len() > 100 || std::env::var_os("DWARFKSYMS_FIXTURES_MATCH").is_some());
    let tmpdir = common::TempDir::new("fixtures");
    let timeout = common::timeout(TIMEOUT_SECS);
    let outcomes = common::run_parallel(&cases, |i, case| {
        let tmp = tmpdir.path().join(format!("case-{i}.symtypes"));
        run_case(suite.bin(), &root, &tmp, timeout, case)
    });
    suite.finish(&outcomes, "unratcheted cases");
}
