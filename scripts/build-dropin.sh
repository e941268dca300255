#!/usr/bin/env bash
# Builds the drop-in as kbuild should run it: linked statically against
# musl (`cargo dropin-musl`), optimised with a profile of its own runs
# (PGO).
#
#   scripts/build-dropin.sh      -> $CARGO_TARGET_DIR/release/gendwarfksyms
#                                   (default target/release/gendwarfksyms)
#
# Three steps: an instrumented build, the drop-in run on the kernel objects,
# modules and x86-64 fixtures shipped in tests/data (so the profile needs
# nothing from outside the repository), then the release build using that
# profile. The profile makes LLVM lay out and inline the hot paths (DIE
# decoding, rendering) by what real runs take: about 14% fewer instructions
# and 12-15% less CPU per object on the corpus's largest objects
# (docs/performance.md). It changes no output: CI runs the conformance
# suites with this binary.
#
# musl instead of glibc saves glibc's start-up (about 0.3 ms a run: it
# probes the CPU with `cpuid`, a VM exit each on a virtual machine); the
# crate `memfns` gives it fast string functions. It needs the Rust target
# (`rustup target add x86_64-unknown-linux-musl`) and musl-gcc (Debian's
# musl-tools); without them, or with DROPIN_LIBC=glibc, the drop-in is
# linked against glibc (`cargo dropin`), and the script says so.
#
# PGO needs llvm-profdata matching rustc's LLVM (`rustup component add
# llvm-tools`, or $LLVM_PROFDATA); without it, builds without a profile
# and says so. Takes two release builds (a few minutes each on 2 cores);
# each uses a target directory of its own under $CARGO_TARGET_DIR, since
# their RUSTFLAGS differ.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"

musl=x86_64-unknown-linux-musl
musl_std="$(rustc --print target-libdir --target "$musl" 2>/dev/null || true)"
if [[ "${DROPIN_LIBC:-musl}" == glibc ]]; then
    alias=dropin out=release
elif [[ "$(uname -m)" != x86_64 ]]; then
    echo "build-dropin: not on x86-64; linking against glibc" >&2
    alias=dropin out=release
elif ! compgen -G "$musl_std/libstd-*.rlib" >/dev/null; then
    echo "build-dropin: no Rust standard library for $musl; linking against glibc (rustup target add $musl)" >&2
    alias=dropin out=release
elif ! command -v musl-gcc >/dev/null; then
    echo "build-dropin: no musl-gcc; linking against glibc (apt-get install musl-tools)" >&2
    alias=dropin out=release
else
    alias=dropin-musl out="$musl/release"
fi
# Puts a built binary where the drop-in goes (unless it is there already).
install_bin() { # BINARY
    mkdir -p "$target/release"
    if [[ "$1" != "$target/release/gendwarfksyms" ]]; then
        cp "$1" "$target/release/gendwarfksyms"
    fi
}
plain() {
    cargo "$alias"
    install_bin "$target/$out/gendwarfksyms"
}

profdata="${LLVM_PROFDATA:-$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata}"
if [[ ! -x "$profdata" ]]; then
    echo "build-dropin: no llvm-profdata ($profdata); building without a profile (rustup component add llvm-tools)" >&2
    plain
    exit
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "build-dropin: 1/3 instrumented build" >&2
# The counts go to a directory that stays put: a path of its own each time
# would change RUSTFLAGS, and cargo would build every dependency again.
raw="$target/pgo-generate/profraw"
CARGO_TARGET_DIR="$target/pgo-generate" RUSTFLAGS="-Cprofile-generate=$raw" cargo "$alias"
# Build scripts and proc macros ran instrumented too (and earlier builds'
# runs may be there): their counts go.
rm -rf "$raw"

echo "build-dropin: 2/3 training runs on tests/data" >&2
bin="$target/pgo-generate/$out/gendwarfksyms"
runs=0
train() { # OBJECT SYMBOLS
    "$bin" -T "$work/out.symtypes" "$1" <"$2" >/dev/null
    runs=$((runs + 1))
}
for syms in $(find tests/data/kernel tests/data/modules -name '*.symbols' | sort); do
    for obj in "${syms%.symbols}.o" "${syms%.symbols}.ko"; do
        if [[ -f "$obj" ]]; then train "$obj" "$syms"; fi
    done
done
for syms in tests/data/fixtures/obj/x86_64-*/*.symbols; do
    obj="${syms%.symbols}.o"
    # Some fixtures warn on stderr by design; none fails.
    if [[ -f "$obj" ]]; then train "$obj" "$syms" 2>/dev/null; fi
done
"$profdata" merge -o "$work/merged.profdata" "$raw"
# Named by content: cargo sees RUSTFLAGS change (and rebuilds) exactly
# when the profile does.
sum="$(sha256sum "$work/merged.profdata" | cut -c1-16)"
mkdir -p "$target/pgo-use"
profile="$target/pgo-use/dropin-$sum.profdata"
cp "$work/merged.profdata" "$profile"
echo "build-dropin: $runs training runs, profile $profile" >&2

echo "build-dropin: 3/3 release build with the profile" >&2
CARGO_TARGET_DIR="$target/pgo-use" RUSTFLAGS="-Cprofile-use=$profile" cargo "$alias"
install_bin "$target/pgo-use/$out/gendwarfksyms"
find "$target/pgo-use" -maxdepth 1 -name 'dropin-*.profdata' ! -name "dropin-$sum.profdata" -delete
echo "build-dropin: $target/release/gendwarfksyms (cargo $alias)" >&2
