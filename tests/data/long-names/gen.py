#!/usr/bin/env python3
"""Writes long.c: names longer than a render piece holds (16,383 bytes,
queries/src/render/piece.rs), as a struct tag (the type's fqn), a member,
a typedef and an enumerator, used by an exported function."""
N = 17000


def name(c):
    return c * N


s, m, t, e = name("s"), name("m"), name("t"), name("e")
# kbuild's export marker and the pointer gendwarfksyms reads the type from
# (as tests/data/fixtures/src/include/fx_export.h).
src = f"""#define EXPORT(sym) \\
    static __typeof__(sym) *__gendwarfksyms_ptr_##sym \\
        __attribute__((__used__, __section__(".discard.gendwarfksyms"))) = &sym; \\
    __asm__(".pushsection \\".export_symbol\\",\\"a\\"\\n__export_symbol_" #sym ":\\n\\t.asciz \\"\\"\\n.popsection\\n")
enum long_e {{ {e} = 1, long_short = 2 }};
struct {s} {{
    int {m};
    enum long_e kind;
    struct {s} *next;
}};
typedef struct {s} *{t};
int long_names({t} p, struct {s} *q) {{ return p->{m} + q->kind; }}
EXPORT(long_names);
"""
open("long.c", "w").write(src)
