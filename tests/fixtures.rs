//! Fixtures of our own (`tests/data/fixtures/`: kernel-style headers, ops
//! tables, nested anonymous unions, bitfields, kABI unions and rules, for
//! several targets), with upstream's outputs recorded by its `record.sh`.
//! Same case format and rules as the golden manifest; needs no `../shared`.
//! Ratchet: `tests/fixtures-known-failures.txt`.

mod common;

use std::path::Path;

use common::manifest::{parse_manifest, run_suite};
use common::Suite;

#[test]
fn fixtures() {
    let suite = Suite::new("fixtures");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixtures");
    let cases = parse_manifest(&root.join("MANIFEST.tsv"));
    assert!(cases.len() > 100, "{}: only {} cases", root.display(), cases.len());
    run_suite(&suite, cases, &root);
}
