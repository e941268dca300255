#!/usr/bin/env bash
# Rebuilds long.o from gen.py's C (GCC, DWARF 5, sections compressed with
# -gz to keep it small). Record expected/ again with upstream's
# gendwarfksyms after rebuilding (README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
python3 gen.py
gcc -g -gdwarf-5 -gz -O2 -c long.c -o long.o
rm long.c
nm long.o | sed -n 's/.* __export_symbol_\(.*\)/\1/p' >long.symbols
