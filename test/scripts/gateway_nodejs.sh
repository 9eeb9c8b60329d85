#!/usr/bin/env bash
# gateway_nodejs.sh: the Pyroscope Node.js SDK (@pyroscope/nodejs from npm, native parts from the
# prebuilds inside the @datadog/pprof npm package: nothing is compiled or fetched from elsewhere)
# profiles a small Node program (test/gateway/node/app.js) and pushes to profile-gateway:
#  - @pyroscope/nodejs 0.6.4 (needs Node >= 20.20.2) sends POST /ingest?format=pprof with a raw
#    gzipped pprof body; 0.4.7 (Node >= 18, Debian 12's) sends a multipart form: both run where
#    the Node version allows, each from its own lock file (test/gateway/node/sdk-*/);
#  - rows arrive with the app name as service_name, the SDK's tags (env, region, and 0.6's
#    otel.scope.* / process.runtime.*), pyroscope_spy=nodespy, and __name__ wall and memory;
#  - the wall profile's string sample labels (wrapWithLabels({endpoint})) become row labels;
#  - the app's own functions are in the stored stacks; ts lies within the run;
#  - profile_to_pprof of the merged wall and memory rows reads in `go tool pprof` with the
#    totals that profile_total gives.
# Node.js and npm: as root apt-get installs Debian's nodejs/npm when missing.  The packages are
# installed with `npm ci` into build/gateway-node/ (again only when a lock file changes).
# Skips when Node/npm cannot be had or the npm registry cannot be reached
# (PROFILE_EXT_NODE_REQUIRED=1 fails instead); PROFILE_EXT_SKIP_APT=1 never runs apt-get.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/gateway/gw_lib.sh"
gw_init gateway_nodejs
src=$repo/test/gateway/node
work=$repo/build/gateway-node

skip_all() { skip "$*"; finish; }

# ---------------------------------------------------------------- Node.js and npm
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ] || [ "${PROFILE_EXT_SKIP_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null; then
		skip_all "node and npm are not installed (Debian: apt-get install nodejs npm)"
	fi
	echo "installing nodejs and npm with apt-get"
	apt-get install -y -q --no-install-recommends nodejs npm >"$GW_WORK/apt.log" 2>&1 ||
		{ apt-get update -q >>"$GW_WORK/apt.log" 2>&1 &&
			apt-get install -y -q --no-install-recommends nodejs npm >>"$GW_WORK/apt.log" 2>&1; } ||
		{ tail -n 20 "$GW_WORK/apt.log"; bad "apt-get install nodejs npm failed"; finish; }
fi
node_version=$(node -p 'process.versions.node' 2>/dev/null)
echo "node $node_version, npm $(npm --version)"
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }
mkdir -p "$work" || { bad "cannot create $work"; finish; }
exec 9>"$work/.lock" && flock 9
export npm_config_cache=$work/npm-cache npm_config_update_notifier=false \
	npm_config_fund=false npm_config_audit=false
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# SDK variants this Node can run: "dir minimum-node"
variants=()
for v in "sdk-0.6 20.20.2" "sdk-0.4 18.0.0"; do
	read -r dir min <<<"$v"
	if version_ge "$node_version" "$min"; then
		variants+=("$dir")
	else
		skip "$dir: $(sed -n 's/.*"@pyroscope\/nodejs": "\(.*\)".*/@pyroscope\/nodejs \1/p' "$src/$dir/package.json") needs Node >= $min, this is $node_version"
	fi
done
[ ${#variants[@]} -gt 0 ] || finish

# npm ci per variant when its lock file changed
pinged=0
for dir in "${variants[@]}"; do
	if cmp -s "$src/$dir/package-lock.json" "$work/$dir/installed-package-lock.json" &&
		[ -d "$work/$dir/node_modules/@pyroscope/nodejs" ]; then
		continue
	fi
	if [ $pinged = 0 ]; then
		if ! out=$(npm ping --fetch-timeout=30000 --fetch-retries=1 2>&1); then
			echo "$out" | grep -m 3 -E 'code|reason'
			why="the npm registry $(npm config get registry) cannot be reached"
			[ "${PROFILE_EXT_NODE_REQUIRED:-0}" = 1 ] && { bad "$why"; finish; }
			skip_all "$why (PROFILE_EXT_NODE_REQUIRED=1 fails instead)"
		fi
		pinged=1
	fi
	echo "npm ci in $work/$dir"
	rm -rf "${work:?}/$dir" && mkdir -p "$work/$dir" &&
		cp "$src/$dir/package.json" "$src/$dir/package-lock.json" "$work/$dir/" || { bad "cannot copy $dir"; finish; }
	if (cd "$work/$dir" && npm ci --no-audit --no-fund) >"$work/$dir.npm.log" 2>&1; then
		cp "$src/$dir/package-lock.json" "$work/$dir/installed-package-lock.json"
		ok "$dir: npm ci (registry only; @datadog/pprof's native addon comes prebuilt inside its package)"
	else
		tail -n 20 "$work/$dir.npm.log"
		bad "$dir: npm ci failed, see $work/$dir.npm.log"
		finish
	fi
done
rm -rf "$npm_config_cache"

# ---------------------------------------------------------------- run the app per SDK
gw_serve gw_node
have_go=0
if command -v go >/dev/null 2>&1; then
	have_go=1
	mkdir -p "$GW_WORK/home" "$GW_WORK/gocache"
fi

for dir in "${variants[@]}"; do
	app=node_${dir//[.-]/_}_$RANDOM
	cp "$src/app.js" "$work/$dir/app.js"
	t0=$(date +%s)
	out=$(cd "$work/$dir" && GW_URL=$GW_URL APP_NAME=$app RUN_MS=5000 FLUSH_MS=2000 \
		DEBUG=pyroscope timeout 60 node app.js 2>"$GW_WORK/$dir.stderr")
	rc=$?
	t1=$(date +%s)
	if [ $rc = 0 ] && [ "$out" = done ]; then
		ok "$dir: the profiled Node program ran and flushed"
	else
		tail -n 20 "$GW_WORK/$dir.stderr"
		bad "$dir: node app.js exit status $rc, output '$out'"
		continue
	fi
	grep -i 'rejected\|error' "$GW_WORK/$dir.stderr" | head -n 5 | sed 's/^/  sdk log: /'
	sel="labels->>'service_name' = '$app'"
	q -c "SELECT labels->>'__name__', count(*), string_agg(DISTINCT labels->>'endpoint', ',')
		FROM gw_node WHERE $sel GROUP BY 1 ORDER BY 1" | sed "s/^/  $dir rows: /"
	names=$(q -c "SELECT string_agg(DISTINCT labels->>'__name__', ',' ORDER BY labels->>'__name__') FROM gw_node WHERE $sel")
	if [ "$names" = "memory,wall" ]; then ok "$dir: __name__ wall and memory"; else bad "$dir: __name__ values '$names', want memory,wall"; fi
	want='{"env": "ci", "region": "eu-west", "pyroscope_spy": "nodespy"}'
	[ "$dir" = sdk-0.6 ] && want='{"env": "ci", "region": "eu-west", "pyroscope_spy": "nodespy",
		"otel.scope.name": "com.grafana.pyroscope/nodejs", "process.runtime.name": "nodejs"}'
	missing=$(q -c "SELECT count(*) FROM gw_node WHERE $sel AND NOT labels @> '$want'")
	total=$(q -c "SELECT count(*) FROM gw_node WHERE $sel")
	if [ "$total" -gt 0 ] && [ "$missing" = 0 ]; then
		ok "$dir: all $total rows carry the app's tags and pyroscope_spy=nodespy"
	else
		bad "$dir: $missing of $total rows lack tags $want"
	fi
	endpoints=$(q -c "SELECT string_agg(DISTINCT labels->>'endpoint', ',' ORDER BY labels->>'endpoint')
		FROM gw_node WHERE $sel AND labels->>'__name__' = 'wall'")
	if [ "$endpoints" = "checkout,search" ]; then
		ok "$dir: wrapWithLabels' endpoint labels split the wall profile into series"
	else
		bad "$dir: endpoint labels of wall rows '$endpoints', want checkout,search"
	fi
	frames=$(q -c "SELECT profile_to_folded(profile_merge(profile)) FROM gw_node WHERE $sel
		AND labels->>'__name__' = 'wall'" | grep -c 'checkoutHandler\|fibonacciSlow\|searchHandler')
	if [ "$frames" -gt 0 ]; then ok "$dir: the app's functions are in the stored wall stacks"; else bad "$dir: no app function in the wall stacks"; fi
	outside=$(q -c "SELECT count(*) FROM gw_node WHERE $sel AND ts NOT BETWEEN to_timestamp($t0 - 2) AND to_timestamp($t1 + 2)")
	if [ "$outside" = 0 ]; then ok "$dir: ts within the run"; else bad "$dir: $outside rows with ts outside the run"; fi

	if [ $have_go = 0 ]; then
		skip "$dir: go tool pprof (Debian golang-go) not installed"
		continue
	fi
	for name in wall memory; do
		f=$GW_WORK/$dir.$name.pb.gz
		q -c "SELECT encode(profile_to_pprof(profile_merge(profile)), 'base64') FROM gw_node
			WHERE $sel AND labels->>'__name__' = '$name'" >"$f.b64"
		base64 -d "$f.b64" >"$f" 2>/dev/null
		sql=$(q -c "SELECT string_agg(profile_total(m, t)::text, ' ' ORDER BY o) FROM (
			SELECT profile_merge(profile) m FROM gw_node WHERE $sel AND labels->>'__name__' = '$name') x,
			unnest(profile_sample_types(m)) WITH ORDINALITY u(t, o)")
		got=$(HOME=$GW_WORK/home GOCACHE=$GW_WORK/gocache PPROF_TMPDIR=$GW_WORK \
			go tool pprof -raw "$f" 2>"$f.err" | awk '/^Samples:/ { s = 1; getline; next } /^Locations/ { s = 0 }
			s && /:/ { split($0, a, ":"); n = split(a[1], v, " "); for (i = 1; i <= n; i++) t[i] += v[i]; if (n > m) m = n }
			END { for (i = 1; i <= m; i++) printf "%s%.0f", (i > 1 ? " " : ""), t[i] }')
		if [ -s "$f" ] && [ "$got" = "$sql" ] && ! grep -qi 'error\|warn' "$f.err"; then
			ok "$dir: go tool pprof reads profile_to_pprof of the $name rows (totals $got)"
		else
			head -n 3 "$f.err"
			bad "$dir: go tool pprof on the $name rows: '$got', profile_total '$sql'"
		fi
	done
done

if gw_alive; then ok "gateway alive"; else bad "gateway died (log: $GW_LOG)"; tail -n 20 "$GW_LOG"; fi
if gw_stop; then ok "SIGTERM: exit 0"; else bad "SIGTERM: exit status $?"; fi
finish
