#!/usr/bin/env bash
# make_dict.sh: (re)make the zstd dictionary of stored format version 4 from material
# generated on this machine, never from stored profiles or the test corpus:
#  - JDK method names "package/Class.method" of a few JDK 17 modules (JdkNames.java);
#  - the text symbols of a Go program linking common parts of the standard library
#    (gonames.go, built with `go build`, read with `go tool nm`);
# grouped by package into one sample each, front-coded like a name table (samples.py),
# and trained with `zstd -T1 --train` (single-threaded, so deterministic for the same
# samples and zstd version).
#
# The dictionary is part of the stored format FOREVER (docs/FORMAT.md, "Version 4"): the
# committed tools/dict/pe_dict_v4.zdict and src/core/pe_dict.c must never change.  This
# script is the record of how it was made (OpenJDK 17.0.15, Go 1.19.8, zstd 1.5.4 on
# Debian 12); by default it only rebuilds it in a temporary folder and says whether the
# bytes come out the same.  A JDK, Go or zstd of another version gives other bytes: that
# is expected, and such a dictionary may only ever become a NEW format version with a new
# dictionary ID (`make_dict.sh --write ID` then writes the files for it, to be renamed).
#
# Needs java (17), go, zstd and python3.  Prints the dictionary ID, size and SHA-256.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# 0x50450004: "PE", format version 4.
DICT_ID=1346699268
MAXDICT=112640
write=0
if [ "${1:-}" = "--write" ]; then
	write=1
	DICT_ID=${2:?"usage: make_dict.sh [--write DICT_ID]"}
fi
export LC_ALL=C
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

java "$here/JdkNames.java" >"$work/java.txt"
cp "$here/gonames.go" "$work/main.go"
(cd "$work" && GOCACHE=$work/gocache GO111MODULE=off GOFLAGS= CGO_ENABLED=1 \
	go build -trimpath -o prog main.go)
# Text symbols only; names with spaces (anonymous struct types) and generated type
# equality functions are not what a profile shows.
go tool nm "$work/prog" | awk '$2 == "T" || $2 == "t"' | sed 's/^ *[0-9a-f]* [Tt] //' |
	grep -v ' ' | grep -v '^type\.\.' | sort -u >"$work/go.txt"
echo "material: $(wc -l <"$work/java.txt") JDK names, $(wc -l <"$work/go.txt") Go names"
python3 "$here/samples.py" "$work/samples" "$work/java.txt" "$work/go.txt"
zstd -q -T1 --train -r "$work/samples" --maxdict=$MAXDICT --dictID=$DICT_ID \
	-o "$work/dict" 2>/dev/null
echo "dictionary ID $DICT_ID, $(wc -c <"$work/dict") bytes, SHA-256 $(sha256sum "$work/dict" | cut -d' ' -f1)"
if [ $write = 1 ]; then
	cp "$work/dict" "$here/pe_dict_v4.zdict"
	python3 "$here/to_c.py" "$work/dict" "$DICT_ID" >"$repo/src/core/pe_dict.c"
	echo "wrote tools/dict/pe_dict_v4.zdict and src/core/pe_dict.c"
elif cmp -s "$work/dict" "$here/pe_dict_v4.zdict"; then
	echo "same bytes as the committed tools/dict/pe_dict_v4.zdict"
	if python3 "$here/to_c.py" "$work/dict" "$DICT_ID" | cmp -s - "$repo/src/core/pe_dict.c"; then
		echo "src/core/pe_dict.c holds the same bytes"
	else
		echo "src/core/pe_dict.c differs from the committed dictionary"
		exit 1
	fi
else
	echo "differs from the committed tools/dict/pe_dict_v4.zdict (other JDK, Go or zstd?): keep the committed one"
	exit 1
fi
