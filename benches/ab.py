#!/usr/bin/env python3
"""Builds of the drop-in (or upstream) compared on one corpus object, runs
taking turns, so that the machine's drift hits every build alike.

  benches/ab.py OBJECT NAME=BIN [NAME=BIN ...] [--rounds N] [--env NAME:VAR=VALUE]

OBJECT is a path under ../shared/corpus/kernel-7.2-x86_64 without `.o`
(e.g. mm/slub); each round runs every BIN once as kbuild does
(`BIN -T FILE OBJECT.o < OBJECT.symbols`). Prints, per build, the median,
first quartile and minimum of the CPU time (user + system, from wait4) and
the mean split between user and system. `--env base:RUST_LOG=debug` sets a
variable for one build only.
"""
import argparse
import os
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(os.path.dirname(ROOT), "shared", "corpus", "kernel-7.2-x86_64")


def run_once(binary, obj, symtypes, env):
    """CPU time (total, user, system) in ms of one run; posix_spawn, so the
    child does not first copy this Python process."""
    # An assembly file's C stand-in (x.gendwarfksyms.o) has x's symbol list.
    stem = obj.removesuffix(".gendwarfksyms")
    with open(os.path.join(CORPUS, stem + ".symbols"), "rb") as fi, open(os.devnull, "wb") as fo:
        argv = [binary, "-T", symtypes, obj + ".o"]
        actions = [(os.POSIX_SPAWN_DUP2, fi.fileno(), 0), (os.POSIX_SPAWN_DUP2, fo.fileno(), 1)]
        cwd = os.getcwd()
        os.chdir(CORPUS)
        try:
            pid = os.posix_spawn(binary, argv, env, file_actions=actions)
        finally:
            os.chdir(cwd)
        _, status, ru = os.wait4(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{binary} failed on {obj}")
        return ((ru.ru_utime + ru.ru_stime) * 1000, ru.ru_utime * 1000, ru.ru_stime * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("object")
    ap.add_argument("builds", nargs="+", metavar="NAME=BIN")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--env", action="append", default=[], metavar="NAME:VAR=VALUE")
    args = ap.parse_args()
    builds = []
    for b in args.builds:
        name, _, binary = b.partition("=")
        if not binary or not os.access(binary, os.X_OK):
            sys.exit(f"not an executable: {b}")
        builds.append((name, os.path.abspath(binary), dict(os.environ)))
    for e in args.env:
        name, _, assignment = e.partition(":")
        var, _, value = assignment.partition("=")
        envs = [env for n, _, env in builds if n == name]
        if not envs or not var:
            sys.exit(f"--env {e}: no build named {name!r}, or no VAR=VALUE")
        for env in envs:
            env[var] = value
    times = {name: [] for name, _, _ in builds}
    with tempfile.TemporaryDirectory() as tmp:
        symtypes = os.path.join(tmp, "out.symtypes")
        for _ in range(args.rounds):
            for name, binary, env in builds:
                times[name].append(run_once(binary, args.object, symtypes, env))
    print(f"{args.object}.o, {args.rounds} rounds, CPU time in ms")
    print("| build | median | p25 | min | user (mean) | system (mean) |")
    print("|---|---|---|---|---|---|")
    for name, _, _ in builds:
        t = sorted(x[0] for x in times[name])
        user = statistics.mean(x[1] for x in times[name])
        system = statistics.mean(x[2] for x in times[name])
        print(f"| {name} | {statistics.median(t):.2f} | {t[len(t) // 4]:.2f} | {t[0]:.2f} | {user:.2f} | {system:.2f} |")


if __name__ == "__main__":
    main()
