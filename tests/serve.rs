//! `dwarfksyms serve`, driven through its stdio as an LSP client drives it
//! (Content-Length frames, JSON-RPC), on the committed objects of
//! `tests/data/diff/obj` (v1 and v2: the same units before and after a
//! change). Expected CRCs and symtypes lines come from `dwarfksyms
//! versions --format json --types` on the same objects; expected member
//! changes from `tests/data/diff/expected/`.
//!
//! Every wait is bounded and the child is killed on drop. Cancellation is
//! made deterministic by `DWARFKSYMS_SERVE_TEST_GATE=1`, which lets the
//! test hold the server's queue while it cancels a queued request; the
//! watcher test waits for the server's `dwarfksyms/changed` notification.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::TempDir;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);

/// symbol -> (CRC, symtypes lines used), by `dwarfksyms versions`.
fn versions(obj: &Path) -> BTreeMap<String, (String, Vec<String>)> {
    common::versions_json(obj, &["--types"])
        .iter()
        .map(|v| {
            let types = v["types"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
            (v["symbol"].as_str().unwrap().to_string(), (v["crc"].as_str().unwrap().to_string(), types))
        })
        .collect()
}

/// A running `dwarfksyms serve`, killed on drop. Its stdout is parsed into
/// messages on a thread (anything but well-formed frames fails the test).
struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    /// Notifications read while waiting for something else.
    pending: Vec<Value>,
    next_id: i64,
}

impl Server {
    fn start(cwd: &Path, roots: &[&str], gate: bool) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dwarfksyms"));
        cmd.arg("serve")
            .args(roots)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if gate {
            cmd.env("DWARFKSYMS_SERVE_TEST_GATE", "1");
        }
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    assert!(line.ends_with("\r\n"), "not a header line on stdout: {line:?}");
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (k, v) = line.split_once(": ").unwrap_or_else(|| panic!("bad header {line:?}"));
                    assert_eq!(k, "Content-Length", "{line:?}");
                    length = Some(v.parse::<usize>().unwrap());
                }
                let mut body = vec![0; length.expect("a frame without Content-Length")];
                r.read_exact(&mut body).unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["jsonrpc"], "2.0", "{v}");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let mut s = Server { child, stdin, messages: rx, pending: Vec::new(), next_id: 1 };
        let id = s.send_request("initialize", json!({"processId": null, "capabilities": {}}));
        let init = s.response(id);
        assert_eq!(init["result"]["capabilities"]["hoverProvider"], true, "{init}");
        assert_eq!(init["result"]["capabilities"]["workspaceSymbolProvider"], true, "{init}");
        s.notify("initialized", json!({}));
        s.notification("dwarfksyms/ready");
        s
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        self.write_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    fn next(&mut self) -> Value {
        self.messages
            .recv_timeout(WAIT)
            .unwrap_or_else(|e| panic!("no message from dwarfksyms serve within {WAIT:?}: {e}"))
    }

    /// The next response (skipping notifications, kept for later), which
    /// must be the one to `id`.
    fn response(&mut self, id: impl Into<Value>) -> Value {
        let id = id.into();
        loop {
            let m = self.next();
            if m.get("method").is_some() {
                self.pending.push(m);
                continue;
            }
            assert_eq!(m["id"], id, "responses out of order: {m}");
            return m;
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let r = self.response(id);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    fn error(&mut self, method: &str, params: Value) -> i64 {
        let id = self.send_request(method, params);
        let r = self.response(id);
        r["error"]["code"].as_i64().unwrap_or_else(|| panic!("{method}: expected an error, got {r}"))
    }

    fn notification(&mut self, method: &str) -> Value {
        if let Some(i) = self.pending.iter().position(|m| m["method"] == method) {
            return self.pending.remove(i)["params"].clone();
        }
        loop {
            let m = self.next();
            if m["method"] == method {
                return m["params"].clone();
            }
            assert!(m.get("id").is_none(), "unexpected response {m}");
            self.pending.push(m);
        }
    }

    /// `shutdown`, `exit`, and the exit status.
    fn stop(mut self) -> Option<i32> {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        status.code()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn symbol_dependents_and_workspace_symbols() {
    let v1 = versions(&common::diff_data().join("obj/v1/member.o"));
    let mut s = Server::start(&common::diff_data(), &["obj/v1"], false);

    let r = s.request("dwarfksyms/symbol", json!({"name": "dx_open"}));
    let (crc, types) = &v1["dx_open"];
    assert_eq!(r["crc"], crc.as_str(), "{r}");
    assert_eq!(r["objects"], json!(["obj/v1/member.o"]));
    assert_eq!(r["symtypes"], json!(types));
    // The type string is what the CRC is computed over.
    let expanded = r["typeString"].as_str().unwrap();
    assert!(
        expanded.starts_with("subprogram ( formal_parameter pointer_type { structure_type dx_device {"),
        "{expanded}"
    );
    assert_eq!(format!("0x{:08x}", crc32fast::hash(expanded.as_bytes())), *crc);
    assert_eq!(s.request("dwarfksyms/symbol", json!({"name": "no_such_export"})), Value::Null);

    // Every export of member.o whose version used s#dx_stats, and no other.
    let r = s.request("dwarfksyms/dependents", json!({"type": "s#dx_stats"}));
    let want: BTreeSet<&str> = v1
        .iter()
        .filter(|(_, (_, t))| t.iter().any(|l| l.starts_with("s#dx_stats ")))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(want, BTreeSet::from(["dx_get_stats", "dx_legacy_poll", "dx_open"]));
    let got: BTreeSet<&str> = r["exports"].as_array().unwrap().iter().map(|e| e["symbol"].as_str().unwrap()).collect();
    assert_eq!(got, want, "{r}");
    let open = r["exports"].as_array().unwrap().iter().find(|e| e["symbol"] == "dx_open").unwrap();
    assert_eq!(open["crc"], v1["dx_open"].0.as_str());
    assert_eq!(
        open["path"],
        json!([
            {"type": "dx_open", "via": "parameter dev"},
            {"type": "s#dx_device", "via": "member stats"},
            {"type": "s#dx_stats", "via": null}
        ])
    );
    // A bare name stands for the struct, union, enum or typedef.
    let bare = s.request("dwarfksyms/dependents", json!({"type": "dx_stats"}));
    assert_eq!(bare["exports"], r["exports"]);

    let r = s.request("workspace/symbol", json!({"query": "dxopen"}));
    let hits = r.as_array().unwrap();
    let open = hits.iter().find(|h| h["name"] == "dx_open").unwrap_or_else(|| panic!("{r}"));
    assert_eq!(open["kind"], 12, "a function: {open}");
    assert_eq!(open["containerName"], format!("obj/v1/member.o {}", v1["dx_open"].0));
    assert!(open["location"]["uri"].as_str().unwrap().ends_with("/obj/v1/member.o"), "{open}");
    let r = s.request("workspace/symbol", json!({"query": "DX_GET"}));
    let names: BTreeSet<&str> = r.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert!(names.contains("dx_get_stats") && !names.contains("dx_open"), "{r}");
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn explain_between_two_trees() {
    let old = versions(&common::diff_data().join("obj/v1/member.o"));
    let new = versions(&common::diff_data().join("obj/v2/member.o"));
    let mut s = Server::start(&common::diff_data(), &["obj/v1", "obj/v2"], false);
    let r = s.request("dwarfksyms/explain", json!({"name": "dx_open", "old": "obj/v1", "new": "obj/v2"}));
    assert_eq!(r["changed"], true);
    assert_eq!(r["old"], json!({"object": "obj/v1/member.o", "crc": old["dx_open"].0}));
    assert_eq!(r["new"], json!({"object": "obj/v2/member.o", "crc": new["dx_open"].0}));
    let roots = r["rootCauses"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{r}");
    assert_eq!(roots[0]["type"], "s#dx_stats");
    assert_eq!(
        roots[0]["exports"][0]["path"],
        json!([
            {"type": "dx_open", "via": "parameter dev"},
            {"type": "s#dx_device", "via": "member stats"},
            {"type": "s#dx_stats", "via": null}
        ])
    );
    // The same member changes as `dwarfksyms diff` reports.
    let expected = std::fs::read_to_string(common::diff_data().join("expected/member.txt")).unwrap();
    let report = r["report"].as_str().unwrap();
    let block: Vec<&str> = expected.lines().skip(1).take_while(|l| !l.starts_with("  changes the CRC")).collect();
    assert_eq!(block.len(), 3, "{expected}");
    for line in block {
        assert!(report.contains(&format!("{line}\n")), "{line:?} not in\n{report}");
    }
    // Objects given directly, and an export found on one side only.
    let r = s
        .request("dwarfksyms/explain", json!({"name": "dx_count", "old": "obj/v1/member.o", "new": "obj/v2/member.o"}));
    assert_eq!(r["changed"], false);
    assert_eq!(r["rootCauses"], json!([]));
    assert_eq!(s.error("dwarfksyms/explain", json!({"name": "dx_reset", "old": "obj/v1", "new": "obj/v2"})), -32602);
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn hover_on_open_and_on_disk_sources() {
    let t = TempDir::new("serve-hover");
    let v1 = versions(&common::diff_data().join("obj/v1/member.o"));
    let mut s = Server::start(&common::diff_data(), &["obj/v1"], false);

    let c = t.path().join("user.c");
    let uri = format!("file://{}", c.display());
    // The open document's text counts, not the file (which does not exist).
    let text = "#include \"dx.h\"\n\nint f(struct dx_device *d)\n{\n\treturn dx_open(d);\n}\n";
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "c", "version": 1, "text": text}}),
    );
    let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    let h = s.request("textDocument/hover", at(4, 10));
    let md = h["contents"]["value"].as_str().unwrap();
    assert_eq!(h["contents"]["kind"], "markdown");
    assert!(md.starts_with(&format!("**dx_open** `{}`", v1["dx_open"].0)), "{md}");
    assert!(md.contains("structure_type dx_stats {"), "the expansion reaches dx_stats: {md}");
    assert_eq!(h["range"], json!({"start": {"line": 4, "character": 8}, "end": {"line": 4, "character": 15}}));
    // Not an export, and not a word.
    assert_eq!(s.request("textDocument/hover", at(2, 1)), Value::Null);
    assert_eq!(s.request("textDocument/hover", at(1, 0)), Value::Null);
    // A change replaces the text.
    let changed = "x = dx_get_stats(d);\n";
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": changed}]}),
    );
    let h = s.request("textDocument/hover", at(0, 6));
    assert!(
        h["contents"]["value"].as_str().unwrap().starts_with(&format!("**dx_get_stats** `{}`", v1["dx_get_stats"].0)),
        "{h}"
    );

    // A file that is not open is read from disk (a Rust one here).
    let rs = t.path().join("lib.rs");
    std::fs::write(&rs, "unsafe { bindings::dx_count(x) }\n").unwrap();
    let h = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": format!("file://{}", rs.display())}, "position": {"line": 0, "character": 22}}),
    );
    assert!(
        h["contents"]["value"].as_str().unwrap().starts_with(&format!("**dx_count** `{}`", v1["dx_count"].0)),
        "{h}"
    );
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn cancellation_and_malformed_messages() {
    let v1 = versions(&common::diff_data().join("obj/v1/member.o"));
    let mut s = Server::start(&common::diff_data(), &["obj/v1"], true);

    // Held: requests queue up; the cancelled one is answered with
    // RequestCancelled at once, the other once released.
    s.notify("dwarfksyms/test/hold", Value::Null);
    let kept = s.send_request("dwarfksyms/symbol", json!({"name": "dx_open"}));
    let cancelled = s.send_request("dwarfksyms/dependents", json!({"type": "s#dx_stats"}));
    s.notify("$/cancelRequest", json!({"id": cancelled}));
    let r = s.response(cancelled);
    assert_eq!(r["error"]["code"], -32800, "{r}");
    s.notify("dwarfksyms/test/release", Value::Null);
    let r = s.response(kept);
    assert_eq!(r["result"]["crc"], v1["dx_open"].0.as_str(), "{r}");
    // Cancelling what was answered already does nothing.
    s.notify("$/cancelRequest", json!({"id": kept}));

    // In progress: the stall makes the next request wait at its first
    // checkpoint, after it has left the queue (the server says so), until
    // it is cancelled; the handler then stops with RequestCancelled.
    s.notify("dwarfksyms/test/stall", Value::Null);
    let running = s.send_request("dwarfksyms/dependents", json!({"type": "s#dx_device"}));
    assert_eq!(s.notification("dwarfksyms/test/stalled")["id"], running);
    s.notify("$/cancelRequest", json!({"id": running}));
    let r = s.response(running);
    assert_eq!(r["error"]["code"], -32800, "{r}");
    // The next request is answered as usual.
    let r = s.request("dwarfksyms/dependents", json!({"type": "s#dx_device"}));
    assert!(r["count"].as_u64().is_some_and(|n| n > 0), "{r}");

    // Invalid JSON: a parse error without an id, and the server goes on.
    s.write_raw(b"Content-Length: 9\r\n\r\n{\"id\": 1,");
    let r = s.next();
    assert_eq!(r["error"]["code"], -32700, "{r}");
    assert_eq!(r["id"], Value::Null);
    // A frame without Content-Length.
    s.write_raw(b"Content-Type: x\r\n\r\n");
    let r = s.next();
    assert_eq!(r["error"]["code"], -32700, "{r}");
    // Not a request: the id is kept when there is one.
    s.write_raw(b"Content-Length: 10\r\n\r\n{\"id\":777}");
    let r = s.next();
    assert_eq!((r["error"]["code"].as_i64(), r["id"].as_i64()), (Some(-32600), Some(777)), "{r}");
    assert_eq!(s.error("dwarfksyms/nothing", json!({})), -32601);
    assert_eq!(s.error("dwarfksyms/symbol", json!({"nom": "dx_open"})), -32602);
    assert_eq!(s.error("dwarfksyms/dependents", json!([1, 2])), -32602);
    assert_eq!(s.error("textDocument/hover", json!({"position": 3})), -32602);
    assert_eq!(s.error("initialize", json!({"capabilities": {}})), -32600);
    // Still serving.
    let r = s.request("dwarfksyms/symbol", json!({"name": "dx_count"}));
    assert_eq!(r["crc"], v1["dx_count"].0.as_str());
    assert_eq!(s.stop(), Some(0));
}

#[test]
fn a_rewritten_object_changes_the_answers() {
    let t = TempDir::new("serve-watch");
    let tree = t.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let (v1, v2) = (common::diff_data().join("obj/v1/member.o"), common::diff_data().join("obj/v2/member.o"));
    std::fs::copy(&v1, tree.join("member.o")).unwrap();
    let (old, new) = (versions(&v1), versions(&v2));
    assert_ne!(old["dx_open"].0, new["dx_open"].0);

    let mut s = Server::start(t.path(), &["tree"], false);
    let r = s.request("dwarfksyms/symbol", json!({"name": "dx_open"}));
    assert_eq!(r["crc"], old["dx_open"].0.as_str());

    // Rewritten in place, as a compiler does.
    std::fs::write(tree.join("member.o"), std::fs::read(&v2).unwrap()).unwrap();
    let changed = s.notification("dwarfksyms/changed");
    let open = changed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["symbol"] == "dx_open")
        .unwrap_or_else(|| panic!("{changed}"));
    assert_eq!(open["event"], "changed");
    assert_eq!((&open["old"], &open["new"]), (&json!(old["dx_open"].0), &json!(new["dx_open"].0)));
    let r = s.request("dwarfksyms/symbol", json!({"name": "dx_open"}));
    assert_eq!(r["crc"], new["dx_open"].0.as_str());
    assert_eq!(r["symtypes"], json!(new["dx_open"].1));
    // dx_reset exists only in the new object.
    let r = s.request("dwarfksyms/symbol", json!({"name": "dx_reset"}));
    assert_eq!(r["crc"], new["dx_reset"].0.as_str());
    assert_eq!(s.stop(), Some(0));
}
