#!/usr/bin/env bash
# build.sh - compile the `dwarfksyms diff` fixture pairs: src/v1/<name>.c and
# src/v2/<name>.c (each with its own <name>.h) into obj/v1/<name>.o and
# obj/v2/<name>.o, the objects tests/diff.rs diffs.
#
# Usage: ./build.sh [OUTDIR]     (default: obj; tests/diff.rs also builds
#                                 into a temporary directory with $CC)
#
# The committed objects were built with gcc 12.2.0 and binutils 2.40
# (Debian 12 bookworm), x86_64. Another compiler may change offsets and
# CRCs: after rebuilding obj/, rerun `cargo test --profile ci --test diff`
# with DWARFKSYMS_BLESS=1 and check the new expected text.
set -euo pipefail

cd "$(dirname "$0")"
HERE=$(pwd -P)
export LC_ALL=C
OUT=${1:-obj}
CC=${CC:-cc}
OBJCOPY=${OBJCOPY:-objcopy}
CFLAGS="-g -gdwarf-5 -O2 -c -std=gnu11 -ffreestanding -fno-common -Wall
	-fno-asynchronous-unwind-tables -fno-ident"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
for v in v1 v2; do
	rm -rf "${OUT:?}/$v"
	mkdir -p "$OUT/$v"
	for c in src/$v/*.c; do
		name=$(basename "$c" .c)
		# Units are named <name>.c and headers <name>.h on both sides, with
		# no build path in the debug info (so both sides read the same).
		(cd "src/$v" && $CC $CFLAGS -fdebug-prefix-map="$HERE/src/$v=." \
			-fdebug-prefix-map="$HERE/src=.." -I. -I../include \
			"$name.c" -o "$OUT/$v/$name.o")
		# Keep the committed objects small: drop the sections no version
		# reads (call frames, address ranges), when objcopy is there.
		if command -v "$OBJCOPY" >/dev/null 2>&1; then
			"$OBJCOPY" -R .debug_frame -R .rela.debug_frame \
				-R .debug_aranges -R .rela.debug_aranges "$OUT/$v/$name.o"
		fi
	done
done
if grep -rlF "$HERE" "$OUT/v1" "$OUT/v2" >/dev/null 2>&1; then
	echo "error: absolute build path found in $OUT" >&2
	exit 1
fi
