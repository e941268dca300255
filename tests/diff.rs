//! `dwarfksyms diff`: why a CRC changed, on fixture pairs of objects.
//!
//! `tests/data/diff/src/v1` and `v2` hold the same small kernel-style units
//! before and after a change (a member added, an enum value changed, a
//! typedef retargeted, a change hidden by kABI rules, a prototype changed
//! and an export moved to another object); `build.sh` compiles them into
//! the committed `obj/v1` and `obj/v2`. Expected output lives in
//! `tests/data/diff/expected/`; `DWARFKSYMS_BLESS=1` rewrites it.
//!
//! The committed objects make the expected text exact (CRCs and offsets
//! depend on the compiler). One test also rebuilds the sources with the
//! machine's `cc` and checks that the same root causes, member changes and
//! exports are found, whatever the offsets.

mod common;

use common::TempDir;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Runs `dwarfksyms` with `args` in `cwd`; returns stdout and the exit code.
fn dwarfksyms(cwd: &Path, args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_dwarfksyms")).args(args).current_dir(cwd).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(code != 2 && code >= 0, "dwarfksyms {args:?} failed ({code}): {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).unwrap(), code)
}

fn expect_file(name: &str, got: &str) {
    common::expect_file(&common::diff_data().join("expected").join(name), got);
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// (expected file, arguments, exit status)
const GOLDEN: &[(&str, &[&str], i32)] = &[
    ("member.txt", &["diff", "obj/v1/member.o", "obj/v2/member.o"], 1),
    ("member.json", &["diff", "--format", "json", "obj/v1/member.o", "obj/v2/member.o"], 1),
    ("enum.txt", &["diff", "obj/v1/enum.o", "obj/v2/enum.o"], 1),
    ("typedef.txt", &["diff", "obj/v1/typedef.o", "obj/v2/typedef.o"], 1),
    ("kabi.txt", &["diff", "obj/v1/kabi.o", "obj/v2/kabi.o"], 1),
    ("kabi-stable.txt", &["diff", "--stable", "obj/v1/kabi.o", "obj/v2/kabi.o"], 0),
    ("proto.txt", &["diff", "obj/v1/proto.o", "obj/v2/proto.o"], 1),
    ("asm.txt", &["diff", "obj/v1/asm.o", "obj/v2/asm.o"], 1),
    ("asm.json", &["diff", "--format", "json", "obj/v1/asm.o", "obj/v2/asm.o"], 1),
    ("tree.txt", &["diff", "obj/v1", "obj/v2"], 1),
    ("tree.json", &["diff", "--format", "json", "obj/v1", "obj/v2"], 1),
    ("tree-stable.txt", &["diff", "--stable", "obj/v1", "obj/v2"], 1),
];

#[test]
fn golden_outputs() {
    for &(name, args, code) in GOLDEN {
        let (out, got) = dwarfksyms(&common::diff_data(), args);
        assert_eq!(got, code, "{args:?}: exit status\n{out}");
        expect_file(name, &out);
    }
}

fn root<'a>(lines: &'a [serde_json::Value], ty: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["event"] == "root_cause" && l["type"] == ty)
        .unwrap_or_else(|| panic!("no root cause {ty} in {lines:#?}"))
}

fn changes(r: &serde_json::Value) -> Vec<(String, String, String)> {
    r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().into(),
                c["item"].as_str().unwrap().into(),
                c["name"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn exports(r: &serde_json::Value) -> Vec<String> {
    r["exports"].as_array().unwrap().iter().map(|e| e["symbol"].as_str().unwrap().to_string()).collect()
}

fn t(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter().map(|&(a, b, c)| (a.into(), b.into(), c.into())).collect()
}

#[test]
fn member_added() {
    let (out, _) =
        dwarfksyms(&common::diff_data(), &["diff", "--format", "json", "obj/v1/member.o", "obj/v2/member.o"]);
    let lines = json_lines(&out);
    let r = root(&lines, "s#dx_stats");
    assert_eq!(
        changes(r),
        t(&[
            ("changed", "attribute", "byte_size"),
            ("added", "member", "rx_dropped"),
            ("moved", "member", "tx_packets")
        ])
    );
    // Two exports share the root cause; dx_count does not reach it.
    assert_eq!(exports(r), ["dx_get_stats", "dx_open"]);
    let open = &r["exports"][1]["path"];
    assert_eq!(open[0]["type"], "dx_open");
    assert_eq!(open[0]["via"], "parameter dev");
    assert_eq!(open[1]["type"], "s#dx_device");
    assert_eq!(open[1]["via"], "member stats");
    assert_eq!(open[2]["type"], "s#dx_stats");
    assert_eq!(lines.iter().filter(|l| l["event"] == "root_cause").count(), 1);
    let lone: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["event"] == "added" || l["event"] == "removed")
        .map(|l| (l["event"].as_str().unwrap(), l["symbol"].as_str().unwrap()))
        .collect();
    assert_eq!(lone, [("added", "dx_reset"), ("removed", "dx_legacy_poll")]);
}

#[test]
fn enum_value_and_typedef_target() {
    let (out, _) = dwarfksyms(&common::diff_data(), &["diff", "--format", "json", "obj/v1/enum.o", "obj/v2/enum.o"]);
    let lines = json_lines(&out);
    let r = root(&lines, "e#dx_mode");
    assert_eq!(changes(r), t(&[("value", "enumerator", "DX_MODE_AUTO")]));
    assert_eq!(r["changes"][0]["old"], "2");
    assert_eq!(r["changes"][0]["new"], "4");
    assert_eq!(exports(r), ["dx_get_mode", "dx_set_mode", "dx_timeout"]);

    let (out, _) =
        dwarfksyms(&common::diff_data(), &["diff", "--format", "json", "obj/v1/typedef.o", "obj/v2/typedef.o"]);
    let lines = json_lines(&out);
    let r = root(&lines, "t#dx_id_t");
    assert_eq!(changes(r), t(&[("retyped", "target", "")]));
    assert_eq!(r["changes"][0]["old"], "t#dx_u32");
    assert_eq!(r["changes"][0]["new"], "t#dx_u64");
    // dx_hash returns dx_u32, which did not change.
    assert_eq!(exports(r), ["dx_insert", "dx_lookup"]);
}

#[test]
fn kabi_rules_hide_the_change_only_under_stable() {
    let (out, code) = dwarfksyms(&common::diff_data(), &["diff", "--format", "json", "obj/v1/kabi.o", "obj/v2/kabi.o"]);
    assert_eq!(code, 1);
    let lines = json_lines(&out);
    assert_eq!(
        changes(root(&lines, "e#dx_kind")),
        t(&[("added", "enumerator", "DX_KIND_C"), ("value", "enumerator", "DX_KIND_MAX")])
    );
    root(&lines, "s#dx_buf");

    let (out, code) =
        dwarfksyms(&common::diff_data(), &["diff", "--stable", "--format", "json", "obj/v1/kabi.o", "obj/v2/kabi.o"]);
    assert_eq!(code, 0, "{out}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["event"], "summary");
    assert_eq!(lines[0]["compared"], 1);
    assert_eq!(lines[0]["changed"], 0);
}

#[test]
fn prototype_changes_and_moved_exports() {
    let (out, _) = dwarfksyms(&common::diff_data(), &["diff", "--format", "json", "obj/v1", "obj/v2"]);
    let lines = json_lines(&out);
    let r = root(&lines, "dx_proto_send");
    assert_eq!(changes(r), t(&[("retyped", "parameter", "len"), ("added", "parameter", "flags")]));
    let r = root(&lines, "dx_proto_version");
    assert_eq!(changes(r), t(&[("retyped", "return", "")]));
    assert_eq!(r["exports"][0]["module"], "proto_compat");
    assert_eq!(r["exports"][0]["old_module"], "proto");
    let r = root(&lines, "dx_proto_limit");
    assert_eq!(changes(r), t(&[("retyped", "variable", "")]));
}

#[test]
fn identical_sides_report_nothing() {
    let (out, code) = dwarfksyms(&common::diff_data(), &["diff", "obj/v1", "obj/v1"]);
    assert_eq!(code, 0);
    assert_eq!(out, "16 exports compared: no CRC changed, 0 added, 0 removed\n");
}

#[test]
fn one_change_in_two_modules_is_one_root_cause() {
    let tmp = TempDir::new("two-modules");
    for v in ["v1", "v2"] {
        for m in ["a", "b"] {
            let dir = tmp.path().join(v).join(m);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(common::diff_data().join("obj").join(v).join("member.o"), dir.join("member.o")).unwrap();
        }
    }
    let (out, code) = dwarfksyms(tmp.path(), &["diff", "--format", "json", "v1", "v2"]);
    assert_eq!(code, 1);
    let lines = json_lines(&out);
    let roots: Vec<_> = lines.iter().filter(|l| l["event"] == "root_cause").collect();
    assert_eq!(roots.len(), 1, "{out}");
    assert_eq!(roots[0]["modules"], serde_json::json!(["a/member", "b/member"]));
    let got: Vec<(String, String)> = roots[0]["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["module"].as_str().unwrap().into(), e["symbol"].as_str().unwrap().into()))
        .collect();
    let want: Vec<(String, String)> = ["a/member", "b/member"]
        .iter()
        .flat_map(|m| ["dx_get_stats", "dx_open"].map(|s| (m.to_string(), s.to_string())))
        .collect();
    assert_eq!(got, want);
    let (text, _) = dwarfksyms(tmp.path(), &["diff", "v1", "v2"]);
    assert!(text.starts_with("s#dx_stats (struct dx_stats) changed in a/member, b/member:\n"), "{text}");
}

#[test]
fn missing_path_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"))
        .args(["diff", "obj/v1/nope.o", "obj/v2/member.o"])
        .current_dir(common::diff_data())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.o"));
}

/// What a JSON report says, without CRCs, offsets or texts: root causes
/// with their change kinds and names and their exports, and the exports
/// added and removed.
fn shape(out: &str) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for l in json_lines(out) {
        match l["event"].as_str().unwrap() {
            "root_cause" => {
                let ch: Vec<String> = changes(&l).into_iter().map(|(a, b, c)| format!("{a} {b} {c}")).collect();
                s.insert(format!("{} [{}] {:?}", l["type"].as_str().unwrap(), ch.join("; "), exports(&l)));
            }
            "added" | "removed" | "unexplained" => {
                s.insert(format!("{} {}", l["event"].as_str().unwrap(), l["symbol"].as_str().unwrap()));
            }
            _ => {}
        }
    }
    s
}

#[test]
fn sources_rebuilt_with_this_machines_cc_give_the_same_story() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if Command::new(&cc).arg("--version").output().is_err() {
        eprintln!("SKIPPED: `{cc}` not found; the committed objects were checked, the sources were not rebuilt");
        return;
    }
    let tmp = TempDir::new("rebuilt");
    let st =
        Command::new("bash").arg(common::diff_data().join("build.sh")).arg(tmp.path()).env("CC", &cc).status().unwrap();
    assert!(st.success(), "build.sh failed");
    for stable in [false, true] {
        let mut args = vec!["diff", "--format", "json"];
        if stable {
            args.push("--stable");
        }
        let (committed, _) = dwarfksyms(&common::diff_data(), &[args.as_slice(), &["obj/v1", "obj/v2"]].concat());
        let (rebuilt, _) = dwarfksyms(tmp.path(), &[args.as_slice(), &["v1", "v2"]].concat());
        assert_eq!(shape(&rebuilt), shape(&committed), "--stable: {stable}");
    }
}
