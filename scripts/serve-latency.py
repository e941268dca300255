#!/usr/bin/env python3
"""Latency of each `dwarfksyms serve` request on a real build.

Starts `dwarfksyms serve` on the given roots as an LSP client would (stdio,
Content-Length framing), waits for its `dwarfksyms/ready` notification,
then sends each request REPEAT times, one at a time, and prints a markdown
table of the load time and of each request's latency (first call, then the
median and maximum of the others), measured from writing the request to
reading its answer. The server's peak RSS is read from /proc before exit.

    scripts/serve-latency.py [--bin target/release/dwarfksyms] [--repeat 5]
        [--symbol NAME] [--type s#task_struct] [--query kmalloc]
        [--explain NAME OLD NEW] [--hover-file FILE --hover-pos LINE:COL]
        ROOT...

With --patch-module KO:OLDNAME:NEWNAME:DIR, a copy of module KO is written
to DIR with OLDNAME replaced by NEWNAME (same length) in its .debug_str
(only there, and only where a string starts with it), DIR is served as
one more root, and `explain` compares KO with its patched copy:

    scripts/serve-latency.py --patch-module \
        /work/debian/modules/drivers/net/mii.ko:reg_num_mask:xeg_num_mask:/tmp/patched \
        --explain mii_ethtool_gset /work/debian/modules/drivers/net/mii.ko /tmp/patched/mii.ko \
        /work/debian/vmlinux /work/debian/modules
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import time

from cargo_target import release_bin


class Client:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 1
        self.notes = []

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        headers = {}
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise EOFError("server closed stdout")
            line = line.strip()
            if not line:
                break
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
        self.last_bytes = int(headers[b"content-length"])
        return json.loads(self.p.stdout.read(self.last_bytes))

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        """Sends a request and returns (result or error, seconds)."""
        rid = self.next_id
        self.next_id += 1
        t = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == rid:
                return m.get("result", m.get("error")), time.perf_counter() - t
            self.notes.append(m)

    def wait_notification(self, method):
        for i, m in enumerate(self.notes):
            if m.get("method") == method:
                return self.notes.pop(i)
        while True:
            m = self.read()
            if m.get("method") == method:
                return m
            self.notes.append(m)

    def rss_peak_mb(self):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None


def patch_module(spec):
    """KO:OLD:NEW:DIR -> the patched copy's path."""
    ko, old, new, out = spec.split(":")
    assert len(old) == len(new), "the new name must have the old one's length"
    data = bytearray(open(ko, "rb").read())
    # ELF64 little-endian section headers: find .debug_str.
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def section(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size
    _, stroff, _ = section(shstrndx)
    start = end = None
    for i in range(shnum):
        name, off, size = section(i)
        if data[stroff + name:].split(b"\0", 1)[0] == b".debug_str":
            start, end = off, off + size
    assert start is not None, "no .debug_str"
    needle = b"\0" + old.encode() + b"\0"
    n = 0
    pos = data.find(needle, start, end)
    while pos != -1:
        data[pos + 1:pos + 1 + len(old)] = new.encode()
        n += 1
        pos = data.find(needle, pos + 1, end)
    assert n, f"{old} not found at the start of a string in .debug_str"
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, os.path.basename(ko))
    open(path, "wb").write(data)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("roots", nargs="+")
    ap.add_argument("--bin", default=release_bin("dwarfksyms"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--symbol", default="wake_up_process")
    ap.add_argument("--type", default="s#task_struct")
    ap.add_argument("--query", default="kmalloc")
    ap.add_argument("--explain", nargs=3, metavar=("NAME", "OLD", "NEW"))
    ap.add_argument("--patch-module", metavar="KO:OLD:NEW:DIR")
    ap.add_argument("--hover-file")
    ap.add_argument("--hover-pos", default="0:0")
    a = ap.parse_args()

    roots = list(a.roots)
    if a.patch_module:
        patched = patch_module(a.patch_module)
        roots.append(os.path.dirname(patched))

    c = Client([a.bin, "serve"] + roots)
    t0 = time.perf_counter()
    c.request("initialize", {"processId": os.getpid(), "capabilities": {}})
    c.notify("initialized", {})
    ready = c.wait_notification("dwarfksyms/ready")["params"]
    load = time.perf_counter() - t0

    requests = [
        ("dwarfksyms/symbol", {"name": a.symbol},
         lambda r: f"crc {r['crc']}, {len(r['symtypes'])} symtypes lines, typeString {len(r['typeString'] or ''):,} chars" if r else "null"),
        ("dwarfksyms/dependents", {"type": a.type}, lambda r: f"{r['count']} exports"),
        ("workspace/symbol", {"query": a.query}, lambda r: f"{len(r)} symbols"),
    ]
    if a.explain:
        name, old, new = a.explain
        requests.append(("dwarfksyms/explain", {"name": name, "old": old, "new": new},
                         lambda r: ", ".join(f"{x['type']}: {len(x['changes'])} changes" for x in r["rootCauses"]) if "rootCauses" in r else str(r)))
    if a.hover_file:
        uri = "file://" + os.path.abspath(a.hover_file)
        line, col = map(int, a.hover_pos.split(":"))
        requests.append(("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}},
                         lambda r: f"{len(r['contents']['value'])} chars of markdown" if r else "null"))

    rows = []
    for method, params, describe in requests:
        times = []
        result = None
        for _ in range(a.repeat):
            result, dt = c.request(method, params)
            times.append(dt * 1000)
        rest = times[1:] or times
        rows.append((method, times[0], statistics.median(rest), max(rest), f"{describe(result)}; {c.last_bytes:,} bytes"))

    rss = c.rss_peak_mb()
    c.request("shutdown", None)
    c.notify("exit", None)
    c.p.wait(timeout=60)

    print(f"roots: {' '.join(roots)}")
    print(f"load: {ready['objects']} objects, {ready['exports']} exports, ready after {load:.1f} s"
          f" (server: {ready['ms'] / 1000:.1f} s); peak RSS {rss / 1024:.1f} GiB" if rss else "")
    print()
    print("| request | first (ms) | median of next (ms) | max of next (ms) | answer |")
    print("|---|---:|---:|---:|---|")
    for method, first, med, mx, what in rows:
        print(f"| `{method}` | {first:.1f} | {med:.1f} | {mx:.1f} | {what} |")


if __name__ == "__main__":
    sys.exit(main())
