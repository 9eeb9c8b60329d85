#!/usr/bin/env bash
# load_pprof.sh: load pprof files (gzipped or plain) into a profiles table
# through one COPY, the way batches arrive.
#
#   tools/load_pprof.sh [-t TABLE] [-l LABELS_JSON] FILE...
#
# Each file becomes one row (ts, labels, profile) of TABLE (default
# "profiles"): ts is the file's modification time, labels are LABELS_JSON
# (default {}) plus {"file": "<file name>"}.  psql connects with the usual
# PG* variables.  The profile column travels as \x-hex text, which the
# profile type parses as pprof; one bad file fails the whole batch.
set -euo pipefail

table=profiles
labels='{}'
while getopts "t:l:" opt; do
	case $opt in
	t) table=$OPTARG ;;
	l) labels=$OPTARG ;;
	*) echo "usage: $0 [-t TABLE] [-l LABELS_JSON] FILE..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-t TABLE] [-l LABELS_JSON] FILE..." >&2; exit 2; }

# Labels for one file: the given object with "file" added.  In COPY text
# format every backslash of the data is doubled.
file_labels() {
	local name=${1//\\/\\\\}
	name=${name//\"/\\\"}
	local body=${labels#\{}
	body=${body%\}}
	if [[ $body =~ [^[:space:]] ]]; then
		printf '{%s, "file": "%s"}' "$body" "$name"
	else
		printf '{"file": "%s"}' "$name"
	fi
}

for f in "$@"; do
	printf '%s\t' "$(date -u -r "$f" '+%Y-%m-%d %H:%M:%S+00')"
	file_labels "$(basename "$f")" | sed 's/\\/\\\\/g'
	printf '\t\\\\x'
	od -An -v -tx1 "$f" | tr -d ' \n'
	printf '\n'
done | psql -v ON_ERROR_STOP=1 -q -c "\\copy $table (ts, labels, profile) FROM STDIN"
