#!/usr/bin/env bash
# Rebuilds the deep-nesting fixtures: gen.py's C compiled with GCC, DWARF 5,
# sections compressed (-gz) to keep the objects small. Expected outputs
# are in expected.txt (see README.md); record them again with upstream's
# gendwarfksyms after rebuilding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
python3 gen.py
for c in pointers16000 pointers70000 typedefs12000; do
    gcc -g -gdwarf-5 -gz -O0 -c "$c.c" -o "$c.o"
    rm "$c.c"
    echo "deep_${c%%[0-9]*}" >"$c.symbols"
done
