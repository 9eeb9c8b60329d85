#!/usr/bin/env bash
# svg.sh: the SVG flame graphs of flamegraph_svg() and flamegraph_diff_svg()
# are well-formed XML (xmllint --noout), valid UTF-8 and self-contained (no
# scripts, images or external references), for
#  - synthetic profiles whose names hold < > & " ' characters, control
#    characters and non-ASCII text, with escaped titles, at several widths;
#  - real corpus profiles: a merge of JFR cpu files (truncated and not), a
#    diff of two of them, every sample type of a heap profile, a profile
#    whose invalid UTF-8 names the decoder repaired (U+FFFD must show);
#  - a LATIN1 database, where the output must be plain ASCII with character
#    references for everything else.
# Needs PG* connection variables; corpus cases are skipped without
# PROFILE_EXT_CORPUS.  Last line: "N passed, N failed[, N skipped]".
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"
corpus=${PROFILE_EXT_CORPUS:-$repo/../shared/corpus}

command -v xmllint >/dev/null 2>&1 || skip_all "xmllint not installed (Debian: libxml2-utils)"
pe_work svg
tmp=$WORK
latin1_db=svg_latin1_$$
drop_latin1_db() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $latin1_db" >/dev/null 2>&1; }
PE_CLEANUP_HOOKS+=(drop_latin1_db)

# check NAME FILE: one SVG document that xmllint accepts, valid UTF-8, self-contained.
check() {
	local name=$1 file=$2 err
	if [ ! -s "$file" ]; then
		bad "$name: no output"
		return 1
	fi
	if [ "$(head -c 4 "$file")" != "<svg" ]; then
		bad "$name: does not start with <svg"
		return 1
	fi
	if ! err=$(xmllint --noout "$file" 2>&1); then
		bad "$name: xmllint: $(echo "$err" | head -5)"
		return 1
	fi
	if ! iconv -f UTF-8 -t UTF-8 "$file" >/dev/null 2>&1; then
		bad "$name: not valid UTF-8"
		return 1
	fi
	if grep -Eq '<script|<image|<use|href=|url\(|@import' "$file"; then
		bad "$name: refers to something outside the document"
		return 1
	fi
	ok
}

# svg NAME SQL: run a query returning one SVG into $tmp/NAME.svg and check it.
svg() {
	local name=$1 sql=$2 err
	if ! err=$(q -c "$sql" 2>&1 >"$tmp/$name.svg"); then
		bad "$name: query failed: $err"
		return 1
	fi
	check "$name" "$tmp/$name.svg"
}

# load NAME FILE: a corpus file into svg_p, sent by the client (the server
# may not be able to read the corpus folder).
load() {
	{ printf '%s\t\\\\x' "$1"; od -An -v -tx1 "$2" | tr -d ' \n'; printf '\n'; } |
		psql -X -v ON_ERROR_STOP=1 -q -c "\\copy svg_p FROM STDIN"
}

q -c "CREATE EXTENSION IF NOT EXISTS profile_ext" \
	-c "CREATE TABLE svg_p (name text PRIMARY KEY, p profile NOT NULL)" || {
	bad "could not set up the database"
	finish
}

# ---------------------------------------------------------------- synthetic
q <<'EOF' || bad "synthetic profiles did not load"
INSERT INTO svg_p VALUES
  ('special', profile_from_folded(
     E'main;<tag attr="x">&amp;it''s <b> & "q" > 1 5\n' ||
     E'main;\u00fcn\u00efc\u00f6d\u00e9\u2192\u540d\u524d;\u6df1\u3044 3\n' ||
     E'main;ctl\001char\x7f 2\n' ||
     E'main;java/util/HashMap.get;runtime.mallocgc 4\n', 'cpu:nanoseconds')),
  ('special2', profile_from_folded(
     E'main;<tag attr="x">&amp;it''s <b> & "q" > 1 1\n' ||
     E'main;\u00fcn\u00efc\u00f6d\u00e9\u2192\u540d\u524d;\u6df1\u3044 9\n' ||
     E'main;new''frame 2\n', 'cpu:nanoseconds'));
EOF
for w in 100 1200 100000; do
	svg "special_w$w" "SELECT flamegraph_svg(p, width => $w) FROM svg_p WHERE name = 'special'"
done
svg special_title "SELECT flamegraph_svg(p, title => E'T <&> \"q\" ''s \\u540d\\u524d') FROM svg_p WHERE name = 'special'"
if grep -q 'T &lt;&amp;&gt; &quot;q&quot; &#39;s 名前' "$tmp/special_title.svg"; then ok; else bad "title not escaped as expected"; fi
if grep -q $'ctl\xef\xbf\xbdchar' "$tmp/special_w1200.svg"; then ok; else bad "control character not replaced by U+FFFD"; fi
svg special_diff "SELECT flamegraph_diff_svg(a.p, b.p) FROM svg_p a, svg_p b WHERE a.name = 'special' AND b.name = 'special2'"
svg special_signed "SELECT flamegraph_svg(profile_diff(a.p, b.p)) FROM svg_p a, svg_p b WHERE a.name = 'special' AND b.name = 'special2'"
svg special_diff_null "SELECT flamegraph_diff_svg(NULL, p, width => 100) FROM svg_p WHERE name = 'special'"

# ---------------------------------------------------------------- LATIN1
# Names that LATIN1 cannot hold travel as pprof bytes; the SVG must be ASCII.
if psql -X -q -d postgres -c "CREATE DATABASE $latin1_db ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null 2>&1; then
	pprof=$(q -c "SELECT encode(profile_to_pprof(p), 'hex') FROM svg_p WHERE name = 'special'")
	if q -d "$latin1_db" -c "CREATE EXTENSION profile_ext" &&
		q -d "$latin1_db" -c "SELECT flamegraph_svg(decode('$pprof', 'hex')::profile, title => 'caf'||chr(233))" \
			>"$tmp/latin1.svg" 2>"$tmp/latin1.err"; then
		check latin1 "$tmp/latin1.svg"
		if LC_ALL=C grep -q $'[\x80-\xff]' "$tmp/latin1.svg"; then
			bad "latin1: output is not plain ASCII"
		elif grep -q '&#x540D;&#x524D;' "$tmp/latin1.svg" && grep -q 'caf&#xE9;' "$tmp/latin1.svg"; then
			ok
		else
			bad "latin1: character references missing"
		fi
	else
		bad "latin1: query failed: $(cat "$tmp/latin1.err" 2>/dev/null)"
	fi
else
	skip "could not create a LATIN1 database"
fi

# ---------------------------------------------------------------- corpus
pprof=$corpus/pprof
jfr_cpu=og_convert_jfr__cortex-dev-01__kafka-0__cpu__
jfr_tail=.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz
if [ ! -f "$pprof/og_convert_pprof__heap.pb.gz" ] || [ ! -f "$pprof/${jfr_cpu}0$jfr_tail" ]; then
	skip "corpus folder $corpus not found"
	finish
fi
for f in og_convert_pprof__heap.pb.gz og_convert_pprof__invalid_utf8.pb.gz \
	og_convert_pprof__nodejs-wall.pb.gz "${jfr_cpu}0$jfr_tail" "${jfr_cpu}1$jfr_tail" "${jfr_cpu}2$jfr_tail"; do
	load "$f" "$pprof/$f" || bad "$f did not load"
done
for t in alloc_objects alloc_space inuse_objects inuse_space; do
	svg "heap_$t" "SELECT flamegraph_svg(p, '$t') FROM svg_p WHERE name = 'og_convert_pprof__heap.pb.gz'"
done
svg nodejs "SELECT flamegraph_svg(p, 'wall') FROM svg_p WHERE name = 'og_convert_pprof__nodejs-wall.pb.gz'"
svg invalid_utf8 "SELECT flamegraph_svg(p) FROM svg_p WHERE name = 'og_convert_pprof__invalid_utf8.pb.gz'"
if grep -q $'\xef\xbf\xbd' "$tmp/invalid_utf8.svg"; then ok; else bad "invalid_utf8: no U+FFFD in the output"; fi
for n in 0 500 8192; do
	svg "jfr_merged_$n" "SELECT flamegraph_svg(profile_merge(p), max_nodes => $n) FROM svg_p WHERE name LIKE '$jfr_cpu%'"
done
svg jfr_merged_wide "SELECT flamegraph_svg(profile_merge(p), width => 100000, max_nodes => 0) FROM svg_p WHERE name LIKE '$jfr_cpu%'"
svg jfr_diff "SELECT flamegraph_diff_svg((SELECT p FROM svg_p WHERE name = '${jfr_cpu}0$jfr_tail'),
	(SELECT p FROM svg_p WHERE name = '${jfr_cpu}1$jfr_tail'), max_nodes => 0)"
svg jfr_diff_empty_target "SELECT flamegraph_diff_svg(p, NULL) FROM svg_p WHERE name = '${jfr_cpu}2$jfr_tail'"
# Every box of the untruncated merge sits inside the picture.
if awk -v w=1200 'match($0, /<rect x="[0-9.]+" y="[0-9]+" width="[0-9.]+"/) {
		split(substr($0, RSTART, RLENGTH), a, "\"");
		if (a[2] + a[6] > w - 10 + 0.05 || a[2] < 10) { bad = 1 } }
	END { exit bad }' "$tmp/jfr_merged_0.svg"; then
	ok
else
	bad "jfr_merged_0: a box lies outside the frame area"
fi
finish
