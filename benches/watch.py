#!/usr/bin/env python3
"""Watch-mode benchmark: a whole kernel loaded by `dwarfksyms watch`, then
one module replaced by a variant with one struct member renamed, and back.

    benches/watch.py DEBIAN_DIR [--module drivers/net/mii.ko | vmlinux]
                     [--member supports_gmii] [--rounds 5] [--work DIR]

DEBIAN_DIR is a directory made by ../shared/corpus/fetch-debian-kernel.sh
(vmlinux and modules/). A hard-linked copy of it is made under --work (the
originals are never written: variants are renamed into place, which
replaces the link), the watcher is started on the copy, and each round
renames the variant into place, then the original back, timing each from
the rename to the `settled` line. Prints the initial load time, the
watcher's resident memory after loading and after the rounds, and per
replacement: the time to `settled` seen by us, the `ms` the watcher
reports, and how many exports changed.

The variant is the module with one member name changed in its string table
(same length, so nothing else moves): every export reaching that struct
changes CRC, nothing else does.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# scripts/cargo_target.py, shared with scripts/: Python searches only the
# script's own directory.
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from cargo_target import release_bin


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def read_event(proc):
    line = proc.stdout.readline()
    if not line:
        sys.exit(f"watcher exited: {proc.stderr.read()}")
    return json.loads(line)


def replace(path, data):
    tmp = path + ".bench-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    t = time.perf_counter()
    os.replace(tmp, path)
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("debian")
    ap.add_argument("--module", default="drivers/net/mii.ko")
    ap.add_argument("--member", default="supports_gmii")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", default="/tmp/dwarfksyms-watch-bench")
    ap.add_argument("--bin", "--binary", dest="binary", default=release_bin("dwarfksyms"))
    args = ap.parse_args()

    tree = os.path.join(args.work, "tree")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(tree)
    subprocess.run(["cp", "-al", os.path.join(args.debian, "vmlinux"), tree], check=True)
    subprocess.run(["cp", "-al", os.path.join(args.debian, "modules"), tree], check=True)
    # --module vmlinux: the kernel image itself, as a relink rewrites it.
    module = os.path.join(tree, "vmlinux") if args.module == "vmlinux" else os.path.join(tree, "modules", args.module)
    with open(module, "rb") as f:
        base = f.read()
    member = args.member.encode()
    other = member[:-1] + (b"X" if member[-1:] != b"X" else b"Y")
    n = base.count(member + b"\0")
    if n == 0:
        sys.exit(f"{args.member} is not in {args.module}'s strings (compressed debug sections?)")
    variant = base.replace(member + b"\0", other + b"\0")

    t0 = time.perf_counter()
    proc = subprocess.Popen([args.binary, "watch", "--format", "json", tree],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ev = read_event(proc)
    load = time.perf_counter() - t0
    assert ev["event"] == "ready", ev
    # Resident memory once the watcher has gone idle (it gives freed
    # memory back after reporting).
    time.sleep(1.0)
    rss_ready = rss_mib(proc.pid)
    print(f"tree: {args.debian} ({ev['objects']} objects, {ev['exports']} exports)")
    print(f"initial load: {load:.1f} s (watcher says {ev['ms']} ms), RSS {rss_ready:.0f} MiB")

    rows = []
    for r in range(args.rounds):
        for label, data in (("variant", variant), ("original", base)):
            time.sleep(0.3)
            t = replace(module, data)
            changed = 0
            while True:
                ev = read_event(proc)
                if ev["event"] == "settled":
                    break
                changed += ev["event"] == "changed"
            seen = (time.perf_counter() - t) * 1000
            rows.append((label, seen, ev["ms"], changed))
            print(f"round {r + 1} {label:8}: settled after {seen:6.1f} ms (watcher: {ev['ms']} ms), {changed} exports changed")
    rss_after = rss_mib(proc.pid)
    proc.terminate()
    proc.wait()
    seen = [x[1] for x in rows]
    said = [x[2] for x in rows]
    print(f"\n{args.module}, {args.member} -> {other.decode()}: {len(rows)} replacements")
    print(f"time to settled: median {statistics.median(seen):.1f} ms, max {max(seen):.1f} ms "
          f"(watcher's own figure: median {statistics.median(said)} ms)")
    print(f"RSS while watching: {rss_ready:.0f} MiB after load, {rss_after:.0f} MiB after the rounds")
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
