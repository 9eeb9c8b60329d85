#!/usr/bin/env bash
# corpus.sh: every real pprof file of the shared corpus against the
# reference reader.
#  - each file go tool pprof accepts loads, with the manifest's sample types
#    and exact per-type totals; each file it rejects is refused with an ERROR
#    (except the .NET file whose functions all use id 0: we accept it, see
#    src/core/pe_pprof_decode.c);
#  - profile_top of merges and diffs equals go tool pprof -top, row for row
#    (expected output in test/corpus/expected, made by make_expected.sh).
# Needs PG* connection variables and PROFILE_EXT_CORPUS; skips without it.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"
pe_need_corpus

qt -q -c "CREATE EXTENSION IF NOT EXISTS profile_ext; DROP TABLE IF EXISTS corpus; CREATE TABLE corpus (file text PRIMARY KEY, p profile NOT NULL)" || exit 1

# Quirks we accept although go tool pprof refuses them (see the decoder).
accepted_quirk='og_convert_pprof__dotnet-pprof-3.pb.gz'

while IFS=$'\t' read -r file verdict types totals; do
	[ "$file" = file ] && continue
	path=$corpus/pprof/$file
	out=$({ printf '%s\t\\\\x' "$file"; od -An -v -tx1 "$path" | tr -d ' \n'; printf '\n'; } |
		psql -X -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -q -c "\\copy corpus FROM STDIN" 2>&1)
	rc=$?
	if echo "$out" | grep -q "server closed the connection"; then
		bad "$file: server crashed"
		continue
	fi
	if [ "$verdict" = rejects ] && [ "$file" != "$accepted_quirk" ]; then
		if [ $rc -ne 0 ] && echo "$out" | grep -qE "ERROR: +(22P03|XX001|54000)"; then
			ok
		else
			bad "$file: expected a clean ERROR, got rc=$rc: $out"
		fi
		continue
	fi
	if [ $rc -ne 0 ]; then
		bad "$file: did not load: $out"
		continue
	fi
	[ "$file" = "$accepted_quirk" ] && { ok; continue; }
	got=$(qt -c "SELECT array_to_string(profile_sample_types(p), ','),
			(SELECT string_agg(profile_total(p, t)::text, ',' ORDER BY n)
			   FROM unnest(profile_sample_types(p)) WITH ORDINALITY u(t, n))
		FROM corpus WHERE file = '$file'")
	want="${types//\//:}"$'\t'"$totals"
	if [ "$got" = "$want" ]; then ok; else bad "$file: got '$got', want '$want'"; fi
done < "$corpus/MANIFEST.tsv"

# profile_top of merges against go tool pprof -top.
while IFS=$'\t' read -r group stype files; do
	case $group in ''|'#'*) continue ;; esac
	list=$(printf "'%s'," $files)
	got=$(qt -c "SELECT function, self, total FROM profile_top(
			(SELECT profile_merge(p) FROM corpus WHERE file IN (${list%,})), '$stype', NULL)" 2>&1)
	if [ "$got" = "$(cat "$repo/test/corpus/expected/top/$group.tsv")" ]; then
		ok
	else
		bad "top $group differs from go tool pprof:"
		diff <(echo "$got") "$repo/test/corpus/expected/top/$group.tsv" | head -10
	fi
done < "$repo/test/corpus/groups.tsv"

# profile_top(profile_diff(base, new)) against go tool pprof -diff_base.
while IFS=$'\t' read -r name stype base new; do
	case $name in ''|'#'*) continue ;; esac
	got=$(qt -c "SELECT function, self, total FROM profile_top(profile_diff(
			(SELECT p FROM corpus WHERE file = '$base'),
			(SELECT p FROM corpus WHERE file = '$new')), '$stype', NULL)" 2>&1)
	if [ "$got" = "$(cat "$repo/test/corpus/expected/diff/$name.tsv")" ]; then
		ok
	else
		bad "diff $name differs from go tool pprof -diff_base:"
		diff <(echo "$got") "$repo/test/corpus/expected/diff/$name.tsv" | head -10
	fi
done < "$repo/test/corpus/diffs.tsv"

# tools/load_pprof.sh loads a folder of files with labels in one COPY.
qt -q -c "DROP TABLE IF EXISTS profiles; CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL)"
if "$repo/tools/load_pprof.sh" -l '{"service_name": "kafka", "region": "eu"}' \
	"$corpus"/pprof/og_convert_jfr__cortex-dev-01__kafka-0__cpu__*.pb.gz; then
	got=$(qt -c "SELECT count(*), count(DISTINCT labels->>'file'), sum(profile_total(profile, 'cpu'))
		FROM profiles WHERE labels @> '{\"service_name\": \"kafka\", \"region\": \"eu\"}'")
	want=$(qt -c "SELECT count(*), count(*), sum(profile_total(p, 'cpu')) FROM corpus
		WHERE file LIKE 'og\_convert\_jfr\_\_cortex-dev-01\_\_kafka-0\_\_cpu\_\_%'")
	[ "$got" = "$want" ] && ok || bad "load_pprof.sh: got '$got', want '$want'"
else
	bad "load_pprof.sh failed"
fi
qt -q -c "DROP TABLE profiles"

qt -q -c "DROP TABLE corpus"
finish
