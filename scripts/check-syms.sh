#!/bin/sh
#
# check-syms.sh - a dlfunc module for Exim may only need symbols that
# exim4 exports or that a library in its own DT_NEEDED list provides.
#
# Usage: sh scripts/check-syms.sh MODULE.so [EXIM-BINARY]
#
# Contract:
#  - Exim dlopen()s modules with RTLD_LAZY: an undefined data symbol makes
#    the load fail (451 and a paniclog entry), an undefined function kills
#    the receiving process when first called.  Neither may reach an Exim.
#  - Every undefined, non-weak dynamic symbol of MODULE must be defined by
#    EXIM-BINARY (default /usr/sbin/exim4) or by one of the libraries
#    MODULE names as NEEDED (found through ldd, so as the dynamic linker
#    would find them).  Symbol versions are compared without the version.
#  - Prints each symbol that has no provider; exit 0 if there are none,
#    1 if there are, 2 on usage or tool errors.
#
set -eu

so=${1:-}
exim=${2:-/usr/sbin/exim4}
if [ -z "$so" ] || [ ! -r "$so" ]; then
	echo "usage: check-syms.sh MODULE.so [EXIM-BINARY]" >&2
	exit 2
fi
for t in nm ldd readelf; do
	command -v $t >/dev/null ||
	    { echo "check-syms: $t missing (binutils, libc-bin)" >&2; exit 2; }
done
[ -r "$exim" ] || { echo "check-syms: $exim not readable" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# what the module needs (U = undefined, strong; w/v = weak, may stay unset)
nm -D --undefined-only "$so" |
    awk '$1 == "U" { sub(/@.*/, "", $2); print $2 }' | sort -u >"$tmp/need"

# what Exim exports
nm -D --defined-only "$exim" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' \
    >"$tmp/have"

# what each NEEDED library provides, resolved the way ld.so would
readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >"$tmp/needed"
while read -r lib; do
	path=$(ldd "$so" | awk -v l="$lib" '$1 == l && $3 ~ /^\// { print $3 }')
	if [ -z "$path" ]; then
		echo "check-syms: NEEDED $lib not found by ldd" >&2
		exit 1
	fi
	nm -D --defined-only "$path" |
	    awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' >>"$tmp/have"
done <"$tmp/needed"
sort -u "$tmp/have" -o "$tmp/have"

comm -23 "$tmp/need" "$tmp/have" >"$tmp/missing"
if [ -s "$tmp/missing" ]; then
	sed 's/^/check-syms: no provider for /' "$tmp/missing"
	echo "check-syms: $so: $(wc -l <"$tmp/missing") unresolved symbol(s)"
	exit 1
fi
echo "check-syms: $so: $(wc -l <"$tmp/need") undefined symbols, all provided" \
    "by $(basename "$exim") or $(wc -l <"$tmp/needed") NEEDED libraries"
