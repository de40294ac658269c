#!/bin/sh
# run.sh - "make bench": arcbench with dkimpy as the peer column.
#
#   bench/run.sh BUILDDIR [arcbench options]
#
# Contract: runs BUILDDIR/arcbench (which finds arctool and filter-arc in
# BUILDDIR for the memory figures) with bench/dkimpy_bench.py as its peer
# when a Python with dkimpy and authres is found (PYTHON, then
# /usr/bin/python3, then python3 on PATH: a pyenv shim there may lack
# Debian's python3-dkim); otherwise says so and leaves the column empty.
# The table goes to stdout and to BUILDDIR/bench.txt.  Installs nothing;
# judges nothing (the exit status is arcbench's: 0 unless an operation
# gave a wrong result).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: bench/run.sh BUILDDIR [arcbench options]" >&2;
    exit 64; }
build=$1
shift
[ -x "$build/arcbench" ] || { echo "run.sh: $build/arcbench not built" >&2;
    exit 1; }

peer=
for py in ${PYTHON:-} /usr/bin/python3 python3; do
	if "$py" -c 'import dkim, authres' 2>/dev/null; then
		peer="$py $here/dkimpy_bench.py"
		break
	fi
done
[ -n "$peer" ] || echo "run.sh: no dkimpy (apt-get install python3-dkim" \
    "python3-authres python3-nacl): no peer column" >&2

out=$build/bench.txt
if [ -n "$peer" ]; then
	"$build/arcbench" -B "$build" -P "$peer" "$@" >"$out.tmp"
else
	"$build/arcbench" -B "$build" "$@" >"$out.tmp"
fi
mv "$out.tmp" "$out"
cat "$out"
