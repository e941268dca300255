#!/usr/bin/env bash
# Conformance at kernel scale: upstream gendwarfksyms against ours on every
# exporting object of a directory made by shared/corpus/fetch-debian-kernel.sh.
#
#   scripts/conformance.sh DIR [--upstream PATH] [--cache DIR] [--jobs N] [--skip vmlinux]
#                              [--upstream-vmlinux-out PREFIX] [--dropin] [--only PATTERN] ...
#
# Prints, per object that is not identical, the differing CRCs and the first
# differing symtypes line of both sides, then
#   objects: I identical, D different, F failed (of N)
#   exports: E identical of T
# The work is done by scripts/conformance.py; its header documents every option.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/conformance.py" "$@"
