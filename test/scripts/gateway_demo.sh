#!/usr/bin/env bash
# gateway_demo.sh: `make demo-gateway` (tools/demo.sh with PROFILE_EXT_DEMO_VIA=gateway) against
# the test database, on a smaller fleet (one pod per service and region): every generated
# profile is pushed through profile-gateway as its service's SDK would send it (Go: /ingest
# multipart; Python: Push with gzip; Java via Alloy: Push), all are acknowledged and stored,
# and the story still holds on what the gateway stored:
#  - as many rows as profiles generated, none refused;
#  - each pushed profile equals its twin loaded by binary COPY from the same generator output
#    (ts, labels, totals, stacks), and profile_diff_top of the story's windows (checkout v1 ->
#    v2) is the same on both, and the one the demo printed;
#  - the leaking cart site's in-use memory grows in every 5-minute bucket;
#  - the SVG flame graphs are written.
# Needs PG* variables, python3 with python3-protobuf and protoc.  Last line "N passed, N failed".
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/gateway/gw_lib.sh"
gw_init gateway_demo
gw_need_protobuf
log=$GW_WORK/demo.log
start=$(date +%s)
PROFILE_EXT_DEMO_VIA=gateway PROFILE_EXT_DEMO_CHECK=1 PROFILE_EXT_SKIP_APT=1 \
	PROFILE_EXT_DEMO_TABLE=demo_gateway_profiles PROFILE_EXT_DEMO_OUTPUT=$GW_WORK/svg \
	PROFILE_EXT_DEMO_GEN_ARGS="--pods 1" bash "$repo/tools/demo.sh" >"$log" 2>&1
rc=$?
grep -v '^CHECK ' "$log" | sed 's/^/  | /'
echo "make demo-gateway took $(($(date +%s) - start))s"
if [ $rc = 0 ]; then ok "demo through the gateway exits 0"; else bad "demo through the gateway: exit status $rc"; finish; fi

check() { grep "^CHECK $1" "$log" | head -n 1 | sed "s/^CHECK $1//"; }
generated=$(sed -n 's/^generated \([0-9]*\) profile files.*/\1/p' "$log")
fed=$(sed -n 's/^fed \([0-9]*\) profiles in .*, \([0-9]*\) refused$/\1 \2/p' "$log")
rows=$(check rows=)
if [ -n "$generated" ] && [ "$fed" = "$generated 0" ] && [ "$rows" = "$generated" ]; then
	ok "all $generated profiles pushed, acknowledged and stored ($rows rows)"
else
	bad "generated '$generated', fed/refused '$fed', rows '$rows'"
fi
for how in "POST /ingest multipart" "Push, gzip" "Push (as Alloy)"; do
	if grep -q "^  $how.* HTTP 200: [1-9]" "$log"; then ok "pushed via $how"; else bad "nothing pushed via $how"; fi
done
# The same generator output by binary COPY, side by side: every pushed profile must be stored
# exactly as COPY stores it (totals and stacks), so the story is the same as `make demo`'s.
start=$(q -c "SELECT to_char(min(ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM demo_gateway_profiles")
q -c "DROP TABLE IF EXISTS demo_copy_profiles; CREATE TABLE demo_copy_profiles (ts timestamptz, labels jsonb, profile profile)"
"$repo/tools/gen/pe_gen" --quiet --start "$start" --pods 1 |
	q -c "COPY demo_copy_profiles FROM STDIN WITH (FORMAT binary)"
# (the same stored bytes when both compress at the default level; else the same totals and stacks)
read -r ncopy unmatched same differ < <(q -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE g.ts IS NULL),
	count(*) FILTER (WHERE profile_send(c.profile) = profile_send(g.profile)),
	count(*) FILTER (WHERE CASE WHEN profile_send(c.profile) = profile_send(g.profile) THEN false
		ELSE profile_total(c.profile) IS DISTINCT FROM profile_total(g.profile)
			OR profile_to_folded(c.profile) IS DISTINCT FROM profile_to_folded(g.profile) END)
	FROM demo_copy_profiles c LEFT JOIN demo_gateway_profiles g ON g.ts = c.ts
		AND g.labels - 'pyroscope_spy' = c.labels")
if [ "$ncopy" = "$generated" ] && [ "$unmatched" = 0 ] && [ "$differ" = 0 ]; then
	ok "all $ncopy pushed profiles equal their COPY twins: same ts and labels, $same of them byte for byte, the rest same totals and stacks"
else
	bad "of $ncopy COPY rows, $unmatched have no pushed twin and $differ differ"
fi
got=$(check diff_top1=)
diff_top() {
	q -c "SELECT string_agg(function, ' | ') FROM profile_diff_top(
		(SELECT profile_merge(profile) FROM $1 WHERE labels @> '{\"__name__\": \"process_cpu\", \"service_name\": \"checkout\"}'
			AND ts >= '$start'::timestamptz + interval '25 minutes' AND ts < '$start'::timestamptz + interval '31 minutes'),
		(SELECT profile_merge(profile) FROM $1 WHERE labels @> '{\"__name__\": \"process_cpu\", \"service_name\": \"checkout\"}'
			AND ts >= '$start'::timestamptz + interval '33 minutes' AND ts < '$start'::timestamptz + interval '39 minutes'),
		'cpu', 5)"
}
a=$(diff_top demo_gateway_profiles) b=$(diff_top demo_copy_profiles)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "${a%% | *}" = "$got" ]; then
	ok "the story's diff (checkout v1 -> v2) is the same on pushed and COPYed rows: $got first"
else
	bad "diff on pushed rows '$a', on COPYed rows '$b', the demo printed '$got'"
fi
q -c "DROP TABLE demo_copy_profiles"
leak=$(check leak_function=)
leak_series=$(grep "^CHECK site=$leak series=" "$log" | head -n 1 | sed 's/.* series=//')
if [ -n "$leak_series" ] && echo "$leak_series" | awk -F, '{ for (i = 2; i <= NF; i++) if ($i <= $(i - 1)) exit 1; exit !(NF >= 10) }'; then
	ok "$leak grows in every bucket: $leak_series"
else
	bad "the leak is not visible in the gateway's rows: '$leak_series'"
fi
n=$(ls "$GW_WORK"/svg/*.svg 2>/dev/null | wc -l)
if grep -q '^skipped: this build of the extension has no flamegraph_svg' "$log"; then
	skip "no flamegraph_svg() in this build"
elif [ "$n" = 3 ]; then
	ok "3 SVG flame graphs of the pushed profiles"
else
	bad "$n SVG flame graphs, want 3"
fi
finish
