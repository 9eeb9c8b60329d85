#!/usr/bin/env bash
# gateway_demo.sh: `make demo-gateway` (tools/demo.sh with PROFILE_EXT_DEMO_VIA=gateway) against
# the test database, on a smaller fleet (one pod per service and region): every generated
# profile is pushed through profile-gateway as its service's SDK would send it (Go: /ingest
# multipart; Python: Push with gzip; Java via Alloy: Push), all are acknowledged and stored,
# and the story still holds on what the gateway stored:
#  - as many rows as profiles generated, none refused;
#  - the planted regression function ranks first in profile_diff_top (checkout v1 -> v2);
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
want=$(check regression_function=)
got=$(check diff_top1=)
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	ok "on the gateway's rows, profile_diff_top ranks $want first"
else
	bad "profile_diff_top ranks '$got' first, want '$want'"
fi
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
