#!/usr/bin/env bash
# pprof_roundtrip.sh: profiles exported with profile_to_pprof() are read by
# go tool pprof (the reference reader) without a warning, and its
# `-top -nodefraction=0` equals profile_top() of the same profile, row for
# row.  The profiles are the merges and diffs of test/corpus (real files of
# several languages), plus a folded one with a root value and odd names.
# The .NET and Java files of the corpus exported alone list the same function names
# in go tool pprof as the files themselves.
# Needs go (Debian golang-go) and the corpus; skips with a message otherwise.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"
pe_need_corpus
command -v go >/dev/null || skip_all "needs go tool pprof (Debian: golang-go)"
pe_work pprof_roundtrip
work=$WORK
mkdir -p "$work/home" "$work/gocache"
export HOME=$work/home GOCACHE=$work/gocache PPROF_TMPDIR=$work PPROF_BINARY_PATH=$work

qt -q -c "CREATE EXTENSION IF NOT EXISTS profile_ext;
	DROP TABLE IF EXISTS rt_corpus; CREATE TABLE rt_corpus (file text PRIMARY KEY, p profile);
	DROP TABLE IF EXISTS rt_cases; CREATE TABLE rt_cases (name text PRIMARY KEY, stype text, p profile)" || exit 1
for f in $(cut -f3- "$repo/test/corpus/groups.tsv" "$repo/test/corpus/diffs.tsv" | grep -v '^#' | tr '\t' '\n' | sort -u); do
	[ -f "$corpus/pprof/$f" ] || continue
	{ printf '%s\t\\\\x' "$f"; od -An -v -tx1 "$corpus/pprof/$f" | tr -d ' \n'; printf '\n'; } |
		qt -q -c "\\copy rt_corpus FROM STDIN" || exit 1
done

# The cases: each corpus group merged, each diff pair diffed, one folded.
while IFS=$'\t' read -r group stype files; do
	case $group in ''|'#'*) continue ;; esac
	list=$(printf "'%s'," $files)
	qt -q -c "INSERT INTO rt_cases SELECT '$group', '$stype', profile_merge(p) FROM rt_corpus WHERE file IN (${list%,})"
done < "$repo/test/corpus/groups.tsv"
while IFS=$'\t' read -r name stype base new; do
	case $name in ''|'#'*) continue ;; esac
	qt -q -c "INSERT INTO rt_cases SELECT 'diff_$name', '$stype', profile_diff(
		(SELECT p FROM rt_corpus WHERE file = '$base'), (SELECT p FROM rt_corpus WHERE file = '$new'))"
done < "$repo/test/corpus/diffs.tsv"
qt -q -c "INSERT INTO rt_cases VALUES ('folded_odd_names', 'cpu', profile_from_folded(
	E' 7 70\nmain;caf\u00e9 <&\"> 3 30\nmain;(anonymous) [file.js:1] 2 20\nmain;main 1 10\n', 'samples:count,cpu:nanoseconds'))"

# -top rows as function<TAB>flat<TAB>cum.  With -unit set to the sample
# type's own unit pprof prints exact integers ("470000000ns"); the " (inline)"
# marker is display only.
parse_top() {
	perl -ne '
		if (!$rows) { $rows = 1 if /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/; next }
		chomp;
		/^\s*(\S+)\s+\S+\s+\S+\s+(\S+)\s+\S+  (.*)$/ or die "cannot parse: $_\n";
		my ($f, $c, $n) = ($1, $2, $3);
		$n =~ s/ \((partial-)?inline\)$//;
		for ($f, $c) { s/^(-?\d+)[A-Za-z]*$/$1/ or die "not an integer: $_\n" }
		print "$n\t$f\t$c\n";'
}

while IFS=$'\t' read -r name stype unit; do
	qt -c "SELECT encode(profile_to_pprof(p), 'base64') FROM rt_cases WHERE name = '$name'" |
		base64 -d > "$work/$name.pb.gz"
	go tool pprof -symbolize=none -top -nodefraction=0 -nodecount=0 -sample_index="$stype" \
		-unit="$unit" "$work/$name.pb.gz" > "$work/top.out" 2> "$work/top.err"
	if [ -s "$work/top.err" ]; then
		bad "$name: go tool pprof warns: $(head -3 "$work/top.err")"
		continue
	fi
	want=$(qt -c "SELECT function, self, total FROM profile_top((SELECT p FROM rt_cases WHERE name = '$name'), '$stype', NULL)")
	if got=$(parse_top < "$work/top.out") && [ "$got" = "$want" ]; then
		ok
	else
		bad "$name: go tool pprof -top of the exported pprof differs from profile_top"
		diff <(echo "$want") <(echo "$got") | head -6
	fi
done < <(qt -c "SELECT name, stype, split_part(t, ':', 2) FROM rt_cases,
		LATERAL unnest(profile_sample_types(p)) t WHERE split_part(t, ':', 1) = stype ORDER BY name")

# Function names: for the corpus' .NET and Java files (those go tool pprof accepts),
# go tool pprof with its default symbolization lists the same function names for
# our export as for the file itself, per sample type with a non-zero total.  (It
# shortens a name equal to the function's system_name when it looks like C++:
# five .NET "AsyncMethodBuilderCore.Start<...>" became one line.)
top_names() {
	go tool pprof -top -nodefraction=0 -nodecount=0 -sample_index="$2" "$1" 2>"$work/names.err" |
		perl -ne '
			if (!$rows) { $rows = 1 if /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/; next }
			chomp;
			/^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+  (.*)$/ or die "cannot parse: $_\n";
			my $n = $1;
			$n =~ s/ \((partial-)?inline\)$//;
			print "$n\n";' | LC_ALL=C sort
}
qt -q -c "DROP TABLE IF EXISTS rt_names; CREATE TABLE rt_names (file text PRIMARY KEY, p profile)" || exit 1
while IFS=$'\t' read -r f verdict types totals; do
	case $f in *dotnet*|og_convert_jfr__*) ;; *) continue ;; esac
	[ "$verdict" = accepts ] && [ -f "$corpus/pprof/$f" ] || continue
	{ printf '%s\t\\\\x' "$f"; od -An -v -tx1 "$corpus/pprof/$f" | tr -d ' \n'; printf '\n'; } |
		qt -q -c "\\copy rt_names FROM STDIN" || { bad "$f: does not load"; continue; }
	qt -c "SELECT encode(profile_to_pprof(p), 'base64') FROM rt_names WHERE file = '$f'" |
		base64 -d > "$work/export.pb.gz"
	IFS=, read -ra tl <<< "$totals"
	for i in "${!tl[@]}"; do
		[ "${tl[$i]}" != 0 ] || continue
		want=$(top_names "$corpus/pprof/$f" "$i")
		got=$(top_names "$work/export.pb.gz" "$i")
		if [ -s "$work/names.err" ]; then
			bad "$f: go tool pprof warns on the export: $(head -3 "$work/names.err")"
		elif [ -n "$want" ] && [ "$got" = "$want" ]; then
			ok
		else
			bad "$f (sample type $i): go tool pprof lists other function names for the export"
			diff <(echo "$want") <(echo "$got") | head -6
		fi
	done
done < <(tail -n +2 "$corpus/MANIFEST.tsv")

qt -q -c "DROP TABLE rt_corpus; DROP TABLE rt_cases; DROP TABLE rt_names"
finish
