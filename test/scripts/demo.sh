#!/usr/bin/env bash
# demo.sh: tools/demo.sh (`make demo`) against the test database, on a smaller fleet
# (one pod per service and region: both incidents are still there), checking that the
# story it tells is true:
#  - the planted regression's new per-item loop ranks first in profile_diff_top, and its
#    hottest callee first among those rows by change of self CPU;
#  - checkout uses more CPU in 14:03-14:09 than in 13:55-14:01;
#  - the leaking cart site's in-use memory grows in every 5-minute bucket while the
#    largest other site stays flat;
#  - the SVG flame graphs, when the extension has flamegraph_svg(), are SVG;
#  - the demo's table is a profile store whose rollups give the raw merge.
# Needs PG* connection variables (test/run_all.sh sets them).  Last line "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${REPO:-$(cd "$here/../.." && pwd)}
# shellcheck source=test/lib.sh
source "$repo/test/lib.sh"

out_dir=$(mktemp -d /tmp/profile_ext_demo_test.XXXXXX)
trap 'rm -rf "$out_dir"' EXIT
log=$out_dir/demo.log
start=$(date +%s)
PROFILE_EXT_DEMO_CHECK=1 PROFILE_EXT_SKIP_APT=1 PROFILE_EXT_DEMO_OUTPUT=$out_dir/svg \
	PROFILE_EXT_DEMO_GEN_ARGS="--pods 1" bash "$repo/tools/demo.sh" >"$log" 2>&1
rc=$?
grep -v '^CHECK ' "$log" | sed 's/^/  | /'
echo "tools/demo.sh took $(($(date +%s) - start))s"
if [ $rc -eq 0 ]; then ok "tools/demo.sh exits 0"; else bad "tools/demo.sh exit status $rc"; finish; fi

check() { grep "^CHECK $1" "$log" | head -n 1 | sed "s/^CHECK $1//"; }

rows=$(check rows=)
if [ "${rows:-0}" -gt 1000 ]; then ok "loaded $rows profiles"; else bad "loaded '${rows}' profiles"; fi

if [ "$(check rollup_equal=)" = t ]; then
	ok "the demo's store: checkout's hour through the rollups equals the raw merge"
else
	bad "the demo's store: rollup merge differs from the raw merge ('$(check rollup_equal=)')"
fi

want=$(check regression_caller=)
got=$(check diff_top1=)
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	ok "profile_diff_top ranks the new per-item loop $want first"
else
	bad "profile_diff_top ranks '$got' first, want the new per-item loop '$want'"
fi
want=$(check regression_function=)
got=$(check diff_self_top1=)
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	ok "by change of self CPU, the loop's hottest callee $want comes first"
else
	bad "by change of self CPU, '$got' comes first, want '$want'"
fi

read -r base_kv bad_kv <<<"$(check checkout_cores)"
base=${base_kv#base=} after=${bad_kv#bad=}
if awk -v b="$base" -v a="$after" 'BEGIN { exit !(b > 0 && a > 1.2 * b) }'; then
	ok "checkout CPU after the deploy ($after cores) > before it ($base cores)"
else
	bad "checkout CPU after the deploy ($after cores) is not clearly above before it ($base cores)"
fi

leak=$(check leak_function=)
leak_series=$(grep "^CHECK site=$leak series=" "$log" | head -n 1 | sed 's/.* series=//')
if [ -z "$leak_series" ]; then
	bad "no in-use series for the leaking site '$leak'"
elif echo "$leak_series" | awk -F, '{ for (i = 2; i <= NF; i++) if ($i <= $(i - 1)) exit 1; exit !(NF >= 10) }'; then
	ok "$leak grows in every bucket: $leak_series"
else
	bad "$leak does not grow strictly: $leak_series"
fi

other=$(grep '^CHECK site=' "$log" | grep -vF "site=$leak series=" | head -n 1)
other_name=$(echo "$other" | sed 's/^CHECK site=\(.*\) series=.*/\1/')
other_series=${other##* series=}
if [ -n "$other" ] && echo "$other_series" | awk -F, '{
		min = max = $1; for (i = 2; i <= NF; i++) { if ($i < min) min = $i; if ($i > max) max = $i }
		exit !(NF >= 10 && min > 0 && max / min < 1.15 && $NF / $1 < 1.1) }'; then
	ok "$other_name stays flat: $other_series"
else
	bad "the largest other site is not flat: '$other'"
fi

if grep -q '^skipped: this build of the extension has no flamegraph_svg' "$log"; then
	skipped=$((skipped + 1))
	echo "skip: no flamegraph_svg() in this build"
else
	n=0
	for f in "$out_dir"/svg/*.svg; do
		[ -f "$f" ] || continue
		if head -c 2000 "$f" | grep -q '<svg'; then n=$((n + 1)); else bad "$(basename "$f") is not SVG"; fi
	done
	if [ "$n" -eq 3 ]; then ok "3 SVG flame graphs written"; else bad "$n SVG flame graphs, want 3"; fi
fi
finish
