#!/usr/bin/env bash
# storage.sh: stored size of the accepted corpus against the same profiles
# as gzipped pprof (gzip -6 of the plain protobuf), the ratio the README
# reports.  Target: at most 0.33 (format version 3 stores 0.321).  Rerun by hand with PG* variables set:
#   PROFILE_EXT_CORPUS=../shared/corpus bash test/scripts/storage.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"
target=0.30
pe_need_corpus
q -c "CREATE EXTENSION IF NOT EXISTS profile_ext;
	DROP TABLE IF EXISTS storage_ratio; CREATE TABLE storage_ratio (file text, p profile)" || exit 1

gz_total=0 files=0
while IFS=$'\t' read -r file verdict _; do
	[ "$verdict" = accepts ] || continue
	path=$corpus/pprof/$file
	# The plain protobuf, then gzip -6 of it: the size a pprof store keeps.
	if [ "$(od -An -tx1 -N2 "$path" | tr -d ' ')" = 1f8b ]; then
		size=$(gzip -dc "$path" | gzip -6 | wc -c)
	else
		size=$(gzip -6 -c "$path" | wc -c)
	fi
	gz_total=$((gz_total + size))
	files=$((files + 1))
	{ printf '%s\t\\\\x' "$file"; od -An -v -tx1 "$path" | tr -d ' \n'; printf '\n'; } |
		q -c "\\copy storage_ratio FROM STDIN" || exit 1
done < "$corpus/MANIFEST.tsv"

stored=$(q -c "SELECT sum(pg_column_size(p)) FROM storage_ratio")
q -c "DROP TABLE storage_ratio"
ratio=$(awk -v s="$stored" -v g="$gz_total" 'BEGIN { printf "%.3f", s / g }')
echo "storage: $files accepted corpus profiles, gzipped pprof $gz_total bytes, stored $stored bytes, ratio $ratio (target <= $target)"
if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r <= t) }'; then
	ok "stored/gzipped pprof ratio $ratio <= $target"
else
	bad "stored/gzipped pprof ratio $ratio > $target"
fi
finish
