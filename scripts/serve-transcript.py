#!/usr/bin/env python3
"""Prints a transcript of a `dwarfksyms serve` session on the diff fixtures
(tests/data/diff/obj/v1 and v2), for docs/server.md: every message sent
(`-->`) and received (`<--`), one JSON per line, framing left out.

    scripts/serve-transcript.py [--bin target/release/dwarfksyms]
"""

import argparse
import json
import os
import subprocess

from cargo_target import release_bin

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "diff")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=release_bin("dwarfksyms"))
    a = ap.parse_args()
    src = "/tmp/dwarfksyms-transcript.c"
    with open(src, "w") as f:
        f.write("int probe(struct dx_device *d)\n{\n\treturn dx_get_stats(d) != 0;\n}\n")
    p = subprocess.Popen([os.path.abspath(a.bin), "serve", "obj/v1", "obj/v2"], cwd=DATA,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         env=dict(os.environ, DWARFKSYMS_SERVE_TEST_GATE="1"))

    def send(obj, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        print("-->", body.decode())
        p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        p.stdin.flush()

    def read():
        n = None
        while True:
            line = p.stdout.readline().strip()
            if not line:
                break
            k, v = line.split(b":", 1)
            if k.lower() == b"content-length":
                n = int(v)
        m = json.loads(p.stdout.read(n))
        print("<--", json.dumps(m))
        return m

    def until(pred):
        while not pred(read()):
            pass

    def req(i, method, params):
        send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        until(lambda m: m.get("id") == i)

    req(1, "initialize", {"processId": None, "capabilities": {}})
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    until(lambda m: m.get("method") == "dwarfksyms/ready")
    req(2, "dwarfksyms/symbol", {"name": "dx_get_stats"})
    req(3, "dwarfksyms/dependents", {"type": "s#dx_stats", "object": "obj/v2"})
    req(4, "dwarfksyms/explain", {"name": "dx_get_stats", "old": "obj/v1", "new": "obj/v2"})
    req(5, "workspace/symbol", {"query": "dxget"})
    uri = "file://" + src
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "c", "version": 1, "text": open(src).read()}}})
    req(6, "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 10}})
    # Cancellation of a queued request (held with the test-only gate).
    send({"jsonrpc": "2.0", "method": "dwarfksyms/test/hold", "params": None})
    send({"jsonrpc": "2.0", "id": 7, "method": "dwarfksyms/dependents", "params": {"type": "s#dx_device"}})
    send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 7}})
    until(lambda m: m.get("id") == 7)
    send({"jsonrpc": "2.0", "method": "dwarfksyms/test/release", "params": None})
    send(None, raw=b'{"jsonrpc": "2.0", "id": 8, "method": ')
    read()
    req(9, "dwarfksyms/symbol", {"nom": "dx_open"})
    req(10, "shutdown", None)
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    print("exit status", p.wait(timeout=30))


if __name__ == "__main__":
    main()
