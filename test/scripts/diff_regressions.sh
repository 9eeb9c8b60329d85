#!/usr/bin/env bash
# diff_regressions.sh: the diff names the regression on real programs.  test/diff/regressions.go
# (standard library only) runs before and after a planted change and profiles itself with
# runtime/pprof: a new N+1 loop, a hot function slower in its own code, a new caller of an
# existing expensive function (CPU), a lock that became contended (mutex delay), an allocation
# regression (alloc_space) and a leaking cache (inuse_space).  For each, the planted function
# must be the first row of the default profile_diff_top and the reddest box (the strongest
# increase) of flamegraph_diff_svg.  The CPU runs take about 100 samples each and the planted
# changes are large, so sampling noise does not decide the answer; PROFILE_EXT_DIFF_ROUNDS=N
# repeats every scenario with fresh profiles to check that (default 1).
# Needs go (Debian golang-go; skips without it) and PG* connection variables.
# Last line: "N passed, N failed[, N skipped]".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=test/lib.sh
source "$repo/test/lib.sh"
rounds=${PROFILE_EXT_DIFF_ROUNDS:-1}

if ! command -v go >/dev/null 2>&1; then
	skip "go not installed (Debian: golang-go)"
	finish
fi
pe_work diff_regressions
tmp=$WORK

# A private Go cache and no module lookups: the program uses the standard library only.
export GOCACHE=$tmp/gocache GOPATH=$tmp/gopath GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local
# Go preempts tight loops with a signal, and a CPU sample that lands in the handler shows a
# runtime.asyncPreempt frame under whatever loop ran, more on a loaded machine: noise that is
# not part of any planted change.
export GODEBUG=asyncpreemptoff=1
if ! go build -o "$tmp/regressions" "$repo/test/diff/regressions.go" >"$tmp/build.log" 2>&1; then
	sed 's/^/  | /' "$tmp/build.log"
	bad "test/diff/regressions.go does not build"
	finish
fi
ok "test/diff/regressions.go builds"

q -c "CREATE EXTENSION IF NOT EXISTS profile_ext" \
	-c "CREATE TABLE regress_profiles (name text PRIMARY KEY, p profile NOT NULL)" || {
	bad "cannot create the table (is the extension installed?)"
	finish
}

# load NAME FILE: the pprof file as a profile row.
load() {
	{
		printf "INSERT INTO regress_profiles VALUES ('%s', decode('" "$1"
		od -An -v -tx1 "$2" | tr -d ' \n'
		printf "', 'hex')::profile);\n"
	} >"$tmp/load.sql"
	q -f "$tmp/load.sql"
}

# The reddest box of a diff SVG (lowest green among boxes redder than grey): its name.
reddest() {
	python3 - "$1" <<'EOF'
import re, sys, html
svg = open(sys.argv[1], encoding="utf-8").read()
best = None
for title, colour in re.findall(r'<g><title>([^<]*)</title><rect [^>]*fill="#([0-9a-f]{6})"', svg):
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    if r > g and r > b and (best is None or g < best[0]):
        best = (g, html.unescape(title.split("\n")[0]))
print(best[1] if best else "")
EOF
}

# scenario NAME SAMPLE_TYPE PLANTED SCALE: ROUNDS times before/after, then the two checks.
scenario() {
	local name=$1 type=$2 want=$3 scale=$4 round v got svg
	for round in $(seq 1 "$rounds"); do
		for v in before after; do
			if ! "$tmp/regressions" -scenario "$name" -variant "$v" -scale "$scale" \
				-out "$tmp/$name.$v.pb.gz" 2>"$tmp/run.log" ||
				! load "$name.$round.$v" "$tmp/$name.$v.pb.gz"; then
				sed 's/^/  | /' "$tmp/run.log"
				bad "$name round $round: the $v run or its load failed"
				return
			fi
		done
		local b="(SELECT p FROM regress_profiles WHERE name = '$name.$round.before')"
		local a="(SELECT p FROM regress_profiles WHERE name = '$name.$round.after')"
		got=$(q -c "SELECT function FROM profile_diff_top($b, $a, '$type', 1)")
		if [ "$got" = "$want" ]; then
			ok "$name round $round: profile_diff_top names $want first"
		else
			bad "$name round $round: profile_diff_top names '$got' first, want $want:"
			q -c "SELECT function, round(score::numeric, 2), round(change::numeric, 2),
			             round(total_change::numeric, 2)
			        FROM profile_diff_top($b, $a, '$type', 8)" | sed 's/^/  | /'
		fi
		svg=$tmp/$name.$round.svg
		q -c "SELECT flamegraph_diff_svg($b, $a, '$type')" >"$svg"
		got=$(reddest "$svg")
		if [ "$got" = "$want" ]; then
			ok "$name round $round: the diff SVG's reddest box is $want"
		else
			bad "$name round $round: the diff SVG's reddest box is '$got', want $want"
		fi
	done
}

start=$(date +%s)
scenario nplus1 cpu main.encodeEachItem 30
scenario hotself cpu main.parsePrices 30
scenario newcaller cpu main.refreshPrices 30
scenario lock delay main.updateStats 1
scenario alloc alloc_space main.renderRow 1
scenario leak inuse_space main.cacheResult 1
echo "took $(($(date +%s) - start)) s for $rounds rounds"
finish
