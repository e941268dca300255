#!/usr/bin/env python3
"""Conformance at kernel scale: upstream gendwarfksyms against ours, object by object.

Usage:
    scripts/conformance.sh DIR [options]          (a thin wrapper around this file)
    scripts/conformance.py DIR [options]

DIR is a directory made by shared/corpus/fetch-debian-kernel.sh: DIR/vmlinux,
DIR/modules/**.ko, DIR/exports/<obj>.symbols (each object's export list, sorted),
DIR/objects.txt (every exporting object, relative to DIR).

Default mode (`versions`) runs
  * upstream once per exporting object, exactly as kbuild runs it, from DIR:
        gendwarfksyms -T X.symtypes OBJ < exports/OBJ.symbols
    in parallel (--jobs), caching stdout/stderr/symtypes/exit status under the
    cache directory (default DIR/upstream-out/, one <obj>.{symver,symtypes,stderr,meta}
    set per object). A cached result is reused while the object, its symbol list
    and the upstream binary keep their size and mtime; --rerun-upstream ignores it.
  * ours ONCE, from DIR:
        dwarfksyms versions --stats --symtypes-dir OUT/symtypes vmlinux modules > OUT/Module.symvers
    (OUT defaults to DIR/ours-out/; module names are `vmlinux` and the path under
    modules/ without .ko). The binary is copied to OUT first, so a concurrent
    `cargo build` does not change it mid-run.
and compares, per object, upstream's `#SYMVER name 0xcrc` lines with ours'
Module.symvers lines for that module, and upstream's -T file with
OUT/symtypes/<module>.symtypes (byte for byte).

--dropin instead runs target/release/gendwarfksyms (--dropin-bin) per object exactly
like upstream (outputs under DIR/dropin-out/, never cached) and compares stdout,
the -T file, stderr and the exit status byte for byte with upstream's.

Every object is reported as
  identical  CRCs and symtypes (drop-in: stdout, symtypes, stderr, status) equal;
  different  both tools ran, something differs: the differing CRCs and the first
             differing symtypes line of both sides are printed;
  failed     either tool failed on it (non-zero exit / no output for the object).
then a summary:
    objects: I identical, D different, F failed (of N)
    exports: E identical of T
plus timings: upstream's per-object wall times summed (cached runs count with
their recorded time), the wall time of the upstream phase, and ours.
Exit status: 0 when every object is identical, 1 otherwise, 2 on usage errors
(or when another run holds the output directory's lock).

Options:
  --upstream PATH          upstream binary (default /work/oracle/gendwarfksyms)
  --ours PATH              dwarfksyms binary (default target/release/dwarfksyms beside this script)
  --dropin                 check the drop-in instead of `dwarfksyms versions`
  --dropin-bin PATH        drop-in binary (default target/release/gendwarfksyms)
  --cache DIR              upstream cache (default DIR/upstream-out)
  --out DIR                our outputs (default DIR/ours-out, or DIR/dropin-out with --dropin)
  --jobs N, -j N           parallel upstream / drop-in runs, and ours' -j (default: all cores)
  --skip OBJ               leave out objects: `vmlinux`, a path from objects.txt, or a
                           shell pattern (`modules/drivers/gpu/*`); repeatable
  --only PATTERN           keep only the objects matching (shell pattern or substring); repeatable
  --upstream-vmlinux-out PREFIX
                           take upstream's vmlinux results from PREFIX.symver,
                           PREFIX.symtypes and PREFIX.err (a run started elsewhere, e.g.
                           under /usr/bin/time -v) instead of running it: they are copied
                           into the cache once complete; while incomplete vmlinux is
                           reported as pending and left out of the counts
  --reuse-ours             do not rerun ours; compare the outputs already in OUT
  --rerun-upstream         ignore the upstream cache
  --timeout SECONDS        per upstream / drop-in run (default none)
  --json FILE              also write the per-object results as JSON
  --verbose, -v            list identical objects too
  --max-crcs N             differing CRCs shown per object (default 8)

Examples:
    scripts/conformance.sh /work/debian --skip vmlinux
    scripts/conformance.sh /work/debian --upstream-vmlinux-out /work/upstream-out/vmlinux
    scripts/conformance.sh /work/debian --dropin --skip vmlinux -j 4
    scripts/conformance.sh /work/debian --only 'modules/net/*' --reuse-ours
"""

import argparse
import concurrent.futures
import fcntl
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

from cargo_target import release_bin

WIDTH = 300  # characters of a differing line shown


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- objects

def module_name(obj):
    """Module.symvers' module for an object path relative to DIR (ours is run on `vmlinux modules`)."""
    if obj == "vmlinux" or obj.endswith("/vmlinux"):
        return "vmlinux"
    rel = obj[len("modules/"):] if obj.startswith("modules/") else obj
    for suf in (".ko", ".o"):
        if rel.endswith(suf):
            return rel[: -len(suf)]
    return rel


def matches(obj, pattern):
    return fnmatch.fnmatchcase(obj, pattern) or obj == pattern or module_name(obj) == pattern


def file_key(path):
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


# ---------------------------------------------------------------- running a tool

def snapshot(src, dst):
    """Copy a binary aside (a concurrent cargo build may replace it); rename so a running copy is not hit."""
    tmp = f"{dst}.{os.getpid()}.tmp"
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def lock_out(out):
    """Only one run per output directory: a second one would overwrite the first's files."""
    os.makedirs(out, exist_ok=True)
    f = open(os.path.join(out, "lock"), "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log(f"conformance: {out} is in use by another run (use --out DIR)")
        sys.exit(2)
    return f

def run_tool(binary, obj, symbols, dest, cwd, timeout):
    """Run `gendwarfksyms -T dest.symtypes obj < symbols` from cwd; write dest.{symver,stderr}.

    Returns a dict: rc, wall, cpu (user+sys), maxrss_kb. argv[0] is `gendwarfksyms` for both tools.
    """
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = f"{dest}.{os.getpid()}.tmp"
    t0 = time.monotonic()
    with open(symbols, "rb") as fin, open(tmp + ".symver", "wb") as fout, open(tmp + ".stderr", "wb") as ferr:
        p = subprocess.Popen(
            ["gendwarfksyms", "-T", tmp + ".symtypes", obj],
            executable=binary, cwd=cwd, stdin=fin, stdout=fout, stderr=ferr,
        )
        timer = None
        if timeout:
            timer = threading.Timer(timeout, p.kill)
            timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        if timer:
            timer.cancel()
    wall = time.monotonic() - t0
    rc = p.returncode
    if not os.path.exists(tmp + ".symtypes"):
        open(tmp + ".symtypes", "wb").close()
    for ext in ("symver", "stderr", "symtypes"):
        os.replace(tmp + "." + ext, dest + "." + ext)
    return {"rc": rc, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss}


def cached_upstream(args, obj, keys):
    meta_path = os.path.join(args.cache, obj + ".meta")
    if args.rerun_upstream or not os.path.exists(meta_path):
        return None
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if meta.get("key") != keys:
        return None
    if not all(os.path.exists(os.path.join(args.cache, obj + "." + e)) for e in ("symver", "symtypes", "stderr")):
        return None
    meta["cached"] = True
    return meta


def upstream_keys(args, obj):
    return {
        "object": file_key(os.path.join(args.dir, obj)),
        "symbols": file_key(os.path.join(args.dir, "exports", obj + ".symbols")),
        "upstream": file_key(args.upstream),
    }


def run_upstream(args, obj):
    keys = upstream_keys(args, obj)
    meta = cached_upstream(args, obj, keys)
    if meta is not None:
        return meta
    dest = os.path.join(args.cache, obj)
    res = run_tool(args.upstream, obj, os.path.join(args.dir, "exports", obj + ".symbols"), dest, args.dir, args.timeout)
    meta = dict(res, key=keys, binary=args.upstream, finished=time.time())
    with open(f"{dest}.{os.getpid()}.meta.tmp", "w") as f:
        json.dump(meta, f)
    os.replace(f"{dest}.{os.getpid()}.meta.tmp", dest + ".meta")
    meta["cached"] = False
    return meta


def parse_time_v(text):
    """Split a `/usr/bin/time -v` stderr into the tool's own stderr and the measurements."""
    i = text.find("\tCommand being timed:")
    own, tv = (text, "") if i < 0 else (text[:i], text[i:])
    if tv:  # time's own note on a failed command
        own = re.sub(r"(?m)^Command (exited with non-zero status|terminated by signal) \d+\n\Z", "", own)
    res = {}
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", tv)
    if m:
        res["wall"] = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    u = re.search(r"User time \(seconds\): ([\d.]+)", tv)
    s = re.search(r"System time \(seconds\): ([\d.]+)", tv)
    if u and s:
        res["cpu"] = float(u.group(1)) + float(s.group(1))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
    if m:
        res["maxrss_kb"] = int(m.group(1))
    m = re.search(r"Exit status: (-?\d+)", tv)
    if m:
        res["rc"] = int(m.group(1))
    return own, res


def import_vmlinux(args, obj):
    """Copy an externally started upstream vmlinux run (--upstream-vmlinux-out) into the cache.

    Returns the meta dict, or None while that run is not finished.
    """
    keys = upstream_keys(args, obj)
    meta = cached_upstream(args, obj, keys)
    if meta is not None:
        return meta
    prefix = args.upstream_vmlinux_out
    symver, symtypes, err = prefix + ".symver", prefix + ".symtypes", prefix + ".err"
    if not os.path.exists(symver):
        return None
    own, tv = ("", {})
    if os.path.exists(err):
        with open(err, errors="replace") as f:
            own, tv = parse_time_v(f.read())
    with open(os.path.join(args.dir, "exports", obj + ".symbols"), "rb") as f:
        nsyms = sum(1 for l in f if l.strip())
    with open(symver, "rb") as f:
        data = f.read()
    nlines = data.count(b"\n")
    # Finished when /usr/bin/time reported an exit status, or (no -v output) when
    # every symbol has its #SYMVER line: upstream writes the -T file before them.
    if "rc" not in tv and not (nlines >= nsyms and data.endswith(b"\n")):
        return None
    dest = os.path.join(args.cache, obj)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(symver, dest + ".symver")
    if os.path.exists(symtypes):
        shutil.copyfile(symtypes, dest + ".symtypes")
    else:
        open(dest + ".symtypes", "wb").close()
    with open(dest + ".stderr", "w") as f:
        f.write(own)
    meta = {"rc": tv.get("rc", 0), "wall": tv.get("wall"), "cpu": tv.get("cpu"), "maxrss_kb": tv.get("maxrss_kb"),
            "key": keys, "binary": args.upstream, "imported_from": prefix, "finished": time.time()}
    with open(dest + ".meta", "w") as f:
        json.dump(meta, f)
    meta["cached"] = False
    return meta


def run_parallel(objs, fn, jobs, what):
    """fn(obj) for every obj, largest objects first; returns {obj: result}."""
    results = {}
    t0 = time.monotonic()
    order = sorted(objs, key=lambda o: -os.path.getsize(o[1]))
    n = len(order)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(fn, obj): obj for obj, _ in order}
        for i, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            obj = futs[fut]
            try:
                results[obj] = fut.result()
            except Exception as e:  # a crash of this script's own, not of the tool
                results[obj] = {"rc": None, "error": f"{type(e).__name__}: {e}", "wall": 0.0}
            r = results[obj]
            if r is not None and not r.get("cached"):
                log(f"[{what} {i}/{n} {time.monotonic() - t0:7.1f}s] {obj}: rc={r.get('rc')} {r.get('wall') or 0:.1f}s")
    return results, time.monotonic() - t0


# ---------------------------------------------------------------- comparing

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def parse_symver(data):
    crcs = {}
    for line in (data or b"").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == b"#SYMVER":
            crcs[parts[1].decode(errors="replace")] = parts[2].decode().lower()
    return crcs


def parse_module_symvers(data):
    """{module: {symbol: crc}} from Module.symvers lines."""
    out = {}
    for line in (data or b"").splitlines():
        f = line.split(b"\t")
        if len(f) >= 3:
            out.setdefault(f[2].decode(errors="replace"), {})[f[1].decode(errors="replace")] = f[0].decode().lower()
    return out


TYPE_PREFIX = re.compile(rb"^[sute]#'")


def symtypes_key(line):
    # Names with spaces are quoted: s#'a b' ...
    if TYPE_PREFIX.match(line):
        end = line.find(b"'", 3)
        if end >= 0:
            return line[: end + 1]
    i = line.find(b" ")
    return line if i < 0 else line[:i]


def show(line, col):
    """A line truncated to ~WIDTH characters, keeping the neighbourhood of column col."""
    s = line.decode(errors="replace")
    if len(s) <= WIDTH:
        return s
    if col < WIDTH - 100:
        return s[:WIDTH] + f"…(+{len(s) - WIDTH})"
    head = s[:60]
    start = max(60, col - 100)
    body = s[start: start + WIDTH - 60]
    tail = f"…(+{len(s) - start - len(body)})" if start + len(body) < len(s) else ""
    return f"{head}…[col {start}]{body}{tail}"


def first_diff_col(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def symtypes_diff(up, ours):
    """Describe the first difference between two symtypes files (bytes), or None if equal."""
    if up == ours:
        return None
    ul, ol = up.split(b"\n"), ours.split(b"\n")
    umap, omap = {}, {}
    for l in ul:
        if l:
            umap.setdefault(symtypes_key(l), l)
    for l in ol:
        if l:
            omap.setdefault(symtypes_key(l), l)
    d = {"upstream_lines": sum(1 for l in ul if l), "ours_lines": sum(1 for l in ol if l)}
    d["differing_definitions"] = sum(1 for k, l in umap.items() if omap.get(k) != l)
    # First definition (in upstream's order) that ours lacks or spells differently.
    for l in ul:
        if not l:
            continue
        k = symtypes_key(l)
        o = omap.get(k)
        if o != l:
            col = first_diff_col(l, o) if o is not None else 0
            d.update(kind="differs" if o is not None else "missing in ours", key=k.decode(errors="replace"),
                     column=col, upstream=show(l, col), ours=show(o, col) if o is not None else None)
            break
    extra = [symtypes_key(l) for l in ol if l and symtypes_key(l) not in umap]
    if extra:
        d["only_in_ours"] = len(extra)
        if "kind" not in d:
            l = omap[extra[0]]
            d.update(kind="only in ours", key=extra[0].decode(errors="replace"), column=0,
                     upstream=None, ours=show(l, 0))
    if "kind" not in d:
        # Same definitions: order, duplicates or line ends differ.
        for i, (a, b) in enumerate(zip(ul, ol)):
            if a != b:
                col = first_diff_col(a, b)
                d.update(kind="order", line=i + 1, column=col, upstream=show(a, col), ours=show(b, col))
                break
        else:
            d.update(kind="length", line=min(len(ul), len(ol)))
    return d


def compare_crcs(symbols, up, ours):
    """(identical export count, [(symbol, upstream crc, our crc)])."""
    same = sum(1 for s in symbols if s in up and up.get(s) == ours.get(s))
    diffs = [(s, up.get(s), ours.get(s)) for s in sorted(set(up) | set(ours)) if up.get(s) != ours.get(s)]
    return same, diffs


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="upstream gendwarfksyms against ours on a fetch-debian-kernel.sh directory",
                                 usage="%(prog)s DIR [options]   (see the top of scripts/conformance.py)")
    ap.add_argument("dir")
    ap.add_argument("--upstream", default="/work/oracle/gendwarfksyms")
    ap.add_argument("--ours", default=release_bin("dwarfksyms"))
    ap.add_argument("--dropin", action="store_true")
    ap.add_argument("--dropin-bin", default=release_bin("gendwarfksyms"))
    ap.add_argument("--cache")
    ap.add_argument("--out")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--upstream-vmlinux-out")
    ap.add_argument("--reuse-ours", action="store_true")
    ap.add_argument("--rerun-upstream", action="store_true")
    ap.add_argument("--timeout", type=float)
    ap.add_argument("--json")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--max-crcs", type=int, default=8)
    args = ap.parse_args()

    args.dir = os.path.abspath(args.dir)
    args.cache = os.path.abspath(args.cache or os.path.join(args.dir, "upstream-out"))
    args.out = os.path.abspath(args.out or os.path.join(args.dir, "dropin-out" if args.dropin else "ours-out"))
    args.upstream = os.path.abspath(args.upstream)
    if args.upstream_vmlinux_out:
        args.upstream_vmlinux_out = os.path.abspath(args.upstream_vmlinux_out)
    for b in [args.upstream] + ([args.dropin_bin] if args.dropin else [] if args.reuse_ours else [args.ours]):
        if not os.access(b, os.X_OK):
            log(f"conformance: {b}: not an executable")
            return 2
    try:
        with open(os.path.join(args.dir, "objects.txt")) as f:
            all_objs = [l.strip() for l in f if l.strip()]
    except OSError as e:
        log(f"conformance: {e} (is {args.dir} made by fetch-debian-kernel.sh?)")
        return 2
    objs = [o for o in all_objs if not any(matches(o, p) for p in args.skip)]
    if args.only:
        objs = [o for o in objs if any(matches(o, p) or p in o for p in args.only)]
    skipped = len(all_objs) - len(objs)
    lock = lock_out(args.out)  # noqa: F841 (held until exit)
    symbols = {}
    for o in objs:
        with open(os.path.join(args.dir, "exports", o + ".symbols")) as f:
            symbols[o] = [l.strip() for l in f if l.strip()]
    log(f"conformance: {len(objs)} objects ({skipped} skipped), {sum(map(len, symbols.values()))} exports, "
        f"mode {'drop-in' if args.dropin else 'versions'}")

    # ---- upstream
    pending = []
    ext_vmlinux = [o for o in objs if args.upstream_vmlinux_out and module_name(o) == "vmlinux"]
    up = {}
    for o in ext_vmlinux:
        m = import_vmlinux(args, o)
        if m is None:
            log(f"conformance: upstream {o} is not finished in {args.upstream_vmlinux_out}.*: reported as pending")
            pending.append(o)
        else:
            up[o] = m
    to_run = [(o, os.path.join(args.dir, o)) for o in objs if o not in up and o not in pending]
    ncached = sum(1 for o, _ in to_run if cached_upstream(args, o, upstream_keys(args, o)) is not None)
    log(f"conformance: upstream: {len(to_run) - ncached} to run, {ncached + len(up)} cached, {args.jobs} jobs")
    r, up_phase = run_parallel(to_run, lambda o: run_upstream(args, o), args.jobs, "upstream")
    up.update(r)
    objs = [o for o in objs if o not in pending]

    # ---- ours
    ours_info = {}
    dropin = {}
    if args.dropin:
        os.makedirs(args.out, exist_ok=True)
        binary = os.path.join(args.out, "gendwarfksyms.bin")
        snapshot(args.dropin_bin, binary)
        dropin, ours_wall = run_parallel(
            [(o, os.path.join(args.dir, o)) for o in objs],
            lambda o: run_tool(binary, o, os.path.join(args.dir, "exports", o + ".symbols"),
                               os.path.join(args.out, o), args.dir, args.timeout),
            args.jobs, "drop-in")
        ours_info = {"wall": ours_wall, "cpu_sum": sum(d.get("cpu") or 0 for d in dropin.values()),
                     "wall_sum": sum(d.get("wall") or 0 for d in dropin.values())}
    else:
        symdir = os.path.join(args.out, "symtypes")
        paths = [p for p in ("vmlinux", "modules") if any(o == p or o.startswith(p + "/") for o in objs)]
        if not args.reuse_ours:
            if os.path.isdir(symdir):
                shutil.rmtree(symdir)
            os.makedirs(symdir)
            binary = os.path.join(args.out, "dwarfksyms.bin")
            snapshot(args.ours, binary)
            cmd = ["dwarfksyms", "versions", "--stats", "--symtypes-dir", symdir, "-j", str(args.jobs)] + paths
            log(f"conformance: ours: (cd {args.dir} && {args.ours} {' '.join(cmd[1:])})")
            t0 = time.monotonic()
            with open(os.path.join(args.out, "Module.symvers"), "wb") as fo, \
                    open(os.path.join(args.out, "stderr"), "wb") as fe:
                p = subprocess.Popen(cmd, executable=binary, cwd=args.dir, stdout=fo, stderr=fe)
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
            ours_info = {"rc": p.returncode, "wall": time.monotonic() - t0, "cpu": ru.ru_utime + ru.ru_stime,
                         "maxrss_kb": ru.ru_maxrss, "command": " ".join(cmd[1:])}
            with open(os.path.join(args.out, "meta"), "w") as f:
                json.dump(ours_info, f)
        else:
            try:
                with open(os.path.join(args.out, "meta")) as f:
                    ours_info = json.load(f)
            except (OSError, ValueError):
                ours_info = {}
        ours_symvers = parse_module_symvers(read(os.path.join(args.out, "Module.symvers")))
        ours_stderr = (read(os.path.join(args.out, "stderr")) or b"").decode(errors="replace")
        ours_info["stats"] = [l for l in ours_stderr.splitlines() if l.startswith("dwarfksyms: ")]
        ours_errors = {}
        for l in ours_stderr.splitlines():
            m = re.match(r"error: dwarfksyms: (\S+): (.*)", l)
            if m:
                ours_errors[os.path.normpath(m.group(1))] = m.group(2)

    # ---- compare
    results = []
    for o in objs:
        syms = symbols[o]
        u = up.get(o) or {}
        res = {"object": o, "module": module_name(o), "exports": len(syms), "identical_exports": 0}
        u_symver = read(os.path.join(args.cache, o + ".symver"))
        u_symtypes = read(os.path.join(args.cache, o + ".symtypes"))
        u_crcs = parse_symver(u_symver)
        res["upstream_seconds"] = u.get("wall")
        problems = []
        if u.get("rc") != 0:
            problems.append(f"upstream exit status {u.get('rc')}" + (f" ({u['error']})" if u.get("error") else ""))
        if args.dropin:
            d = dropin.get(o) or {}
            base = os.path.join(args.out, o)
            o_symver, o_symtypes, o_stderr = read(base + ".symver"), read(base + ".symtypes"), read(base + ".stderr")
            u_stderr = read(os.path.join(args.cache, o + ".stderr"))
            o_crcs = parse_symver(o_symver)
            res["ours_seconds"] = d.get("wall")
            if d.get("rc") != 0 and d.get("rc") != u.get("rc"):
                problems.append(f"drop-in exit status {d.get('rc')}" + (f" ({d['error']})" if d.get("error") else ""))
            same, crc_diffs = compare_crcs(syms, u_crcs, o_crcs)
            diffs = {}
            if o_symver != u_symver:
                diffs["stdout"] = True
            if d.get("rc") != u.get("rc"):
                diffs["status"] = [u.get("rc"), d.get("rc")]
            if o_stderr != u_stderr:
                a, b = (u_stderr or b"").split(b"\n"), (o_stderr or b"").split(b"\n")
                i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                diffs["stderr"] = {"line": i + 1,
                                   "upstream": show(a[i], 0) if i < len(a) else None,
                                   "ours": show(b[i], 0) if i < len(b) else None}
        else:
            mod = module_name(o)
            o_crcs = ours_symvers.get(mod, {})
            o_symtypes = read(os.path.join(args.out, "symtypes", mod + ".symtypes"))
            err = ours_errors.get(os.path.normpath(o))
            if err is not None:
                problems.append(f"ours: {err}")
            elif not o_crcs and o_symtypes is None:
                problems.append("ours: no output for this module")
            same, crc_diffs = compare_crcs(syms, u_crcs, o_crcs)
            diffs = {}
        res["identical_exports"] = same
        if crc_diffs:
            diffs["crcs"] = crc_diffs
        st = symtypes_diff(u_symtypes or b"", o_symtypes or b"")
        if st:
            diffs["symtypes"] = st
        if problems:
            res["status"] = "failed"
            res["problems"] = problems
        elif diffs:
            res["status"] = "different"
        else:
            res["status"] = "identical"
        res["diffs"] = diffs
        results.append(res)

    # ---- report
    for res in results:
        if res["status"] == "identical" and not args.verbose:
            continue
        print(f"{res['status'].upper()}: {res['object']} ({res['identical_exports']}/{res['exports']} exports identical)")
        for p in res.get("problems", []):
            print(f"    {p}")
        d = res["diffs"]
        if "status" in d:
            print(f"    exit status: upstream {d['status'][0]}, ours {d['status'][1]}")
        if d.get("crcs"):
            shown = d["crcs"][: args.max_crcs]
            print(f"    {len(d['crcs'])} CRCs differ:" + "".join(f" {s} {a or '-'}≠{b or '-'}" for s, a, b in shown)
                  + (" …" if len(d["crcs"]) > len(shown) else ""))
        elif d.get("stdout"):
            print("    stdout differs (same CRCs: order or formatting)")
        if "stderr" in d:
            e = d["stderr"]
            print(f"    stderr line {e['line']}:\n      upstream: {e['upstream']}\n      ours:     {e['ours']}")
        if "symtypes" in d:
            s = d["symtypes"]
            where = f"line {s['line']}" if "line" in s else s.get("key", "")
            print(f"    symtypes ({s['upstream_lines']} vs {s['ours_lines']} lines"
                  + f", {s['differing_definitions']} definitions differ or missing"
                  + (f", {s['only_in_ours']} only in ours" if s.get("only_in_ours") else "")
                  + f"): {s['kind']}: {where}" + (f", column {s['column']}" if s.get("column") else ""))
            print(f"      upstream: {s.get('upstream')}")
            print(f"      ours:     {s.get('ours')}")

    count = {k: sum(1 for r in results if r["status"] == k) for k in ("identical", "different", "failed")}
    print()
    print(f"objects: {count['identical']} identical, {count['different']} different, {count['failed']} failed "
          f"(of {len(results)})" + (f"; {skipped} skipped" if skipped else "")
          + (f"; pending: {', '.join(pending)}" if pending else ""))
    print(f"exports: {sum(r['identical_exports'] for r in results)} identical of {sum(r['exports'] for r in results)}")
    times = [up[o].get("wall") for o in objs if o in up]
    known = [t for t in times if t is not None]
    ran = [o for o in objs if o in up and not up[o].get("cached")]
    cpu = sum(up[o].get("cpu") or 0 for o in objs if o in up)
    print(f"upstream: {sum(known):.1f}s wall ({cpu:.1f}s cpu) summed over {len(known)} objects"
          + (f" ({len(times) - len(known)} without a recorded time)" if len(known) < len(times) else "")
          + f"; this run: {len(ran)} run, {len(times) - len(ran)} from the cache, phase wall {up_phase:.1f}s with {args.jobs} jobs")
    slow = sorted(((up[o].get("wall") or 0, o) for o in objs if o in up), reverse=True)[:5]
    if slow:
        print("upstream slowest: " + ", ".join(f"{o} {t:.1f}s" for t, o in slow))
    if args.dropin:
        print(f"drop-in: wall {ours_info['wall']:.1f}s with {args.jobs} jobs, {ours_info['wall_sum']:.1f}s wall "
              f"({ours_info['cpu_sum']:.1f}s cpu) summed per object")
    elif ours_info:
        line = f"ours: wall {ours_info.get('wall', 0):.1f}s, cpu {ours_info.get('cpu', 0):.1f}s, peak RSS {(ours_info.get('maxrss_kb') or 0) / 1024:.0f} MiB, exit status {ours_info.get('rc')}"
        print(line + ("" if not args.reuse_ours else " (reused)"))
        for l in ours_info.get("stats", []):
            print(f"  {l}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "upstream": {o: up[o] for o in objs if o in up}, "ours": ours_info,
                       "pending": pending, "skipped": skipped}, f, indent=1, default=str)
    return 0 if count["identical"] == len(results) and not pending else 1


if __name__ == "__main__":
    sys.exit(main())
