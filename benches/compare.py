#!/usr/bin/env python3
"""Upstream gendwarfksyms and ours, side by side, on the same inputs in one run.

  benches/compare.py corpus [--upstream PATH] [--runs N]
      the ten largest objects of ../shared/corpus/kernel-7.2-x86_64, one
      process per object (as kbuild runs it), -T included

  benches/compare.py debian DIR [--upstream PATH] [--runs N]
      a kernel fetched by ../shared/corpus/fetch-debian-kernel.sh DIR:
      vmlinux with all its exports, then the whole kernel (upstream: one
      process per exporting object, summed; ours: one `dwarfksyms versions`)

Build upstream with ../shared/oracle/build-upstream.sh DIR (default path:
/work/oracle/gendwarfksyms, or $UPSTREAM). Ours: target/release/ (or $CARGO_TARGET_DIR/release/), built by
`scripts/build-dropin.sh` (the drop-in linked statically, with PGO, as
docs/kbuild.md builds it), `cargo dropin` (the same without PGO)
or `cargo build --release` first. Prints a Markdown table: wall time, CPU time
(user+sys) and peak RSS of each, median of N runs (for one corpus object,
upstream and ours taking turns), and the speed-up.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# scripts/cargo_target.py, shared with scripts/: Python searches only the
# script's own directory.
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from cargo_target import release_bin
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def measure_isolated(argv, stdin_path=None, cwd=None):
    """measure() in a fresh Python child, so peak RSS is this command's own."""
    code = (
        "import resource,subprocess,sys,time,json\n"
        "s=time.perf_counter()\n"
        f"p=subprocess.run({argv!r},stdin=open({stdin_path or os.devnull!r},'rb'),"
        "stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,"
        f"cwd={cwd!r})\n"
        "w=time.perf_counter()-s\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([w,r.ru_utime+r.ru_stime,r.ru_maxrss/1024,p.returncode]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import json
    return tuple(json.loads(out.stdout))


def medians(rows):
    return tuple(statistics.median(r[i] for r in rows) for i in range(3)) + (rows[-1][3],)


def median_runs_alternating(fns, runs):
    """Medians of each command's runs, the commands taking turns: the
    machine's speed drifts from minute to minute, and running one
    command's runs and then the other's would put the drift between them."""
    rows = [[] for _ in fns]
    for _ in range(runs):
        for fn, r in zip(fns, rows):
            r.append(fn())
    return [medians(r) for r in rows]


def fmt(w, c, m):
    return f"{w:.3f} s | {c:.3f} s | {m:.0f} MiB"


def fmt_ms(w, c, m):
    """One object's run, in milliseconds: ours takes a few, which seconds
    to three places would round to 0.004 or 0.005."""
    return f"{w * 1000:.2f} ms | {c * 1000:.2f} ms | {m:.0f} MiB"


def linkage(path):
    """'static' or 'dynamic': whether the ELF file asks for a program
    interpreter (PT_INTERP), i.e. is linked dynamically."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(phnum)]
    return "dynamic" if 3 in types else "static"


def corpus(args):
    base = os.path.join(SHARED, "corpus", "kernel-7.2-x86_64")
    objs = []
    for line in open(os.path.join(base, "objects.txt")):
        o = line.split()[0] if line.split() else None
        if o:
            objs.append((os.path.getsize(os.path.join(base, o)), o))
    objs = [o for _, o in sorted(objs, reverse=True)[:10]]
    ours = release_bin("gendwarfksyms")
    tmp = tempfile.mkdtemp()
    print(f"ours: {ours} (linked {linkage(ours)})\n")
    print("| object | upstream wall | CPU | peak RSS | ours wall | CPU | peak RSS | speed-up (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    tot_u = tot_o = 0.0
    for o in objs:
        stem = o[: -len(".o")]
        if stem.endswith(".gendwarfksyms"):
            stem = stem[: -len(".gendwarfksyms")]
        syms = os.path.join(base, stem + ".symbols")
        st = os.path.join(tmp, "out.symtypes")
        u, r = median_runs_alternating(
            [
                lambda: measure_isolated([args.upstream, "-T", st, o], syms, base),
                lambda: measure_isolated([ours, "-T", st, o], syms, base),
            ],
            args.runs,
        )
        tot_u += u[1]
        tot_o += r[1]
        print(f"| {o} | {fmt_ms(*u[:3])} | {fmt_ms(*r[:3])} | {u[1] / max(r[1], 1e-9):.1f}x |")
    print(f"| **total CPU** | | {tot_u:.3f} s | | | {tot_o:.3f} s | | {tot_u / max(tot_o, 1e-9):.1f}x |")


def debian(args):
    d = os.path.abspath(args.dir)
    ours_batch = release_bin("dwarfksyms")
    objects = [l.strip() for l in open(os.path.join(d, "objects.txt")) if l.strip()]
    print("| input | tool | wall | CPU | peak RSS |")
    print("|---|---|---|---|---|")
    vm_syms = os.path.join(d, "exports", "vmlinux.symbols")
    if not args.skip_upstream_vmlinux:
        u = measure_isolated([args.upstream, "vmlinux"], vm_syms, d)
        print(f"| vmlinux ({sum(1 for _ in open(vm_syms))} exports) | upstream | {fmt(*u[:3])} |")
    r = measure_isolated([ours_batch, "versions", "vmlinux"], None, d)
    print(f"| vmlinux | dwarfksyms versions | {fmt(*r[:3])} |")
    if args.skip_upstream_kernel:
        u_w = u_c = u_m = float("nan")
    else:
        u_w = u_c = u_m = 0.0
        for o in objects:
            if o == "vmlinux" and args.skip_upstream_vmlinux:
                continue
            syms = os.path.join(d, "exports", o + ".symbols")
            w, c, m, _ = measure_isolated([args.upstream, o], syms, d)
            u_w += w
            u_c += c
            u_m = max(u_m, m)
    print(f"| whole kernel ({len(objects)} objects) | upstream, one process per object | {fmt(u_w, u_c, u_m)} |")
    r = measure_isolated([ours_batch, "versions", "vmlinux", "modules"], None, d)
    print(f"| whole kernel | dwarfksyms versions | {fmt(*r[:3])} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["corpus", "debian"])
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--upstream", default=os.environ.get("UPSTREAM", "/work/oracle/gendwarfksyms"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-upstream-vmlinux", action="store_true", help="upstream needs an hour on vmlinux")
    ap.add_argument("--skip-upstream-kernel", action="store_true")
    args = ap.parse_args()
    if not os.access(args.upstream, os.X_OK):
        sys.exit(f"no upstream gendwarfksyms at {args.upstream}: build it with ../shared/oracle/build-upstream.sh")
    print(f"machine: {os.cpu_count()} cores, {os.uname().machine}; date: {time.strftime('%Y-%m-%d')}\n")
    if args.what == "corpus":
        corpus(args)
    else:
        if not args.dir:
            sys.exit("debian needs the directory made by fetch-debian-kernel.sh")
        debian(args)


if __name__ == "__main__":
    main()
