#!/usr/bin/env python3
"""Writes the C sources of the deep-nesting fixtures (build.sh compiles them).

pointersN.c: a variable whose type is N pointers deep (`int ***...`);
unnamed, so every level is rendered and inlined into the one type string.
typedefsN.c: a chain of N typedefs, each a pointer to the one before:
2N levels of rendering and N of CRC walk. Names have three characters,
so GCC writes them inline (DW_FORM_string) rather than in .debug_str with
a relocation each: the objects stay small.
"""
import string

REST = string.ascii_letters + "_" + string.digits


def name(i):
    # Upper case first: never a C keyword.
    return string.ascii_uppercase[i // 63**2] + REST[i // 63 % 63] + REST[i % 63]


def pointers(n):
    return "int " + "*" * n + " deep_pointers;\n"


def typedefs(n):
    out = [f"typedef int {name(0)};\n"]
    out += [f"typedef {name(i - 1)} *{name(i)};\n" for i in range(1, n)]
    out.append(f"{name(n - 1)} deep_typedefs;\n")
    return "".join(out)


if __name__ == "__main__":
    for n in (16000, 70000):
        open(f"pointers{n}.c", "w").write(pointers(n))
    open("typedefs12000.c", "w").write(typedefs(12000))
