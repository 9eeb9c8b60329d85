#!/usr/bin/env bash
# grafana_contract.sh: flame graph rows checked by Grafana's own flame graph data layer.
#  1. flamegraph() and flamegraph_diff() rows of real corpus profiles (a merge of 7 JFR CPU
#     profiles, Go heap and CPU, Node.js and py-spy profiles, graphs truncated to 100 nodes so
#     that "other" rows appear, diffs of JFR and Go mutex profiles);
#  2. the queries of examples/grafana/profiles-dashboard.json, rendered as Grafana would send
#     them (test/grafana/dashboard_sql.mjs) and run on a small profiles table: variable, time
#     series and table queries must return rows, flame graph panels' rows are checked as in 1.
# The rows are exported as JSON and test/grafana/check.mjs feeds them to checkFields and
# FlameGraphDataContainer of @grafana/flamegraph: the Flame Graph panel must accept them and
# nest them as intended (one root, children inside their parent, diff mode for diffs).
#
# Needs PG* connection variables, PROFILE_EXT_CORPUS, Node.js >= 18 and npm (apt-get installs
# Debian's nodejs and npm when they are missing and this runs as root), and the npm registry:
#  - test/grafana/package-lock.json is installed with `npm ci` into build/grafana/ (again only
#    when the lock file changes);
#  - @grafana/flamegraph is fetched alone with `npm pack` (its @grafana/ui dependency pulls a
#    tarball from outside the registry) and checked against a pinned sha256;
#  - check.mjs is bundled by esbuild to CommonJS (@grafana/data's ESM needs CommonJS
#    moment-timezone).
# Once build/grafana holds the packages, no network is needed.  The corpus files are read here,
# client-side, and sent with \copy: the server need not see them.
# It skips (0 passed, 0 failed, 1 skipped) without the corpus, without node/npm when it cannot
# install them, and when the npm registry cannot be reached.
# Knobs: PROFILE_EXT_SKIP_GRAFANA=1 skips; PROFILE_EXT_GRAFANA_REQUIRED=1 fails instead of
# skipping when the registry cannot be reached; PROFILE_EXT_SKIP_APT=1 never runs apt-get.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"
corpus=${PROFILE_EXT_CORPUS:-$repo/../shared/corpus}
src=$repo/test/grafana
work=$repo/build/grafana
flamegraph_version=13.0.1
flamegraph_sha256=9eb28a3c0d55e4b68087b9260cd297325199a2ef4b966800c1f688303491bb41
data_transform=$work/flamegraph/package/dist/esm/FlameGraph/dataTransform.mjs

[ "${PROFILE_EXT_SKIP_GRAFANA:-0}" = 1 ] && skip_all "PROFILE_EXT_SKIP_GRAFANA=1"
[ -d "$corpus/pprof" ] || skip_all "corpus folder $corpus/pprof not found"
mkdir -p "$work" || give_up "cannot create $work"
# One run at a time per checkout: the Node setup in build/grafana is shared.
exec 9>"$work/.lock" && flock 9

# ---------------------------------------------------------------- Node.js and npm
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ] || [ "${PROFILE_EXT_SKIP_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null; then
		skip_all "node and npm are not installed (Debian: apt-get install nodejs npm)"
	fi
	echo "installing nodejs and npm with apt-get (log: $work/apt.log)"
	apt_install() {
		apt-get install -y -q --no-install-recommends \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			nodejs npm >>"$work/apt.log" 2>&1
	}
	: >"$work/apt.log"
	apt_install || { apt-get update -q >>"$work/apt.log" 2>&1 && apt_install; } ||
		{ tail -n 20 "$work/apt.log"; give_up "apt-get install nodejs npm failed"; }
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[ "${node_major:-0}" -ge 18 ] 2>/dev/null || give_up "Node.js >= 18 needed, found $(node --version 2>&1)"
echo "node $(node --version), npm $(npm --version)"

# npm keeps its cache and logs next to the modules, not in the user's home.
export npm_config_cache=$work/npm-cache npm_config_update_notifier=false \
	npm_config_fund=false npm_config_audit=false
# Node builds that carry their own CA list (not Debian's) then also trust the system's, e.g.
# a company proxy's CA.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# ---------------------------------------------------------------- npm packages
need_ci=0
if ! cmp -s "$src/package-lock.json" "$work/installed-package-lock.json" ||
	[ ! -x "$work/node_modules/.bin/esbuild" ]; then
	need_ci=1
fi
# A registry that cannot be reached (no network, TLS interception with an unknown CA) is a
# missing resource like the corpus: skip, unless PROFILE_EXT_GRAFANA_REQUIRED=1.
if [ $need_ci = 1 ] || [ ! -f "$data_transform" ]; then
	if ! out=$(npm ping --fetch-timeout=30000 --fetch-retries=1 2>&1); then
		echo "$out" | grep -m 3 -E 'code|reason'
		why="the npm registry $(npm config get registry) cannot be reached"
		[ "${PROFILE_EXT_GRAFANA_REQUIRED:-0}" = 1 ] && give_up "$why"
		skip_all "$why (set PROFILE_EXT_GRAFANA_REQUIRED=1 to fail instead)"
	fi
fi
if [ $need_ci = 1 ]; then
	echo "npm ci in $work (log: $work/npm.log)"
	rm -f "$work/installed-package-lock.json"
	cp "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$work/" || give_up "cannot copy $src"
	(cd "$work" && npm ci --no-audit --no-fund) >"$work/npm.log" 2>&1 ||
		{ tail -n 30 "$work/npm.log"; give_up "npm ci failed, see $work/npm.log"; }
	cp "$src/package-lock.json" "$work/installed-package-lock.json"
fi
if [ ! -f "$data_transform" ]; then
	tgz=$work/grafana-flamegraph-$flamegraph_version.tgz
	echo "npm pack @grafana/flamegraph@$flamegraph_version"
	rm -f "$tgz"
	(cd "$work" && npm pack "@grafana/flamegraph@$flamegraph_version") >>"$work/npm.log" 2>&1 ||
		{ tail -n 30 "$work/npm.log"; give_up "npm pack @grafana/flamegraph@$flamegraph_version failed"; }
	echo "$flamegraph_sha256  $tgz" | sha256sum -c --quiet ||
		give_up "$tgz does not have the pinned sha256 $flamegraph_sha256"
	rm -rf "$work/flamegraph" && mkdir "$work/flamegraph" &&
		tar -xzf "$tgz" -C "$work/flamegraph" || give_up "cannot unpack $tgz"
fi
rm -rf "$npm_config_cache"	# 70 MB that only a changed lock file would reuse
# The import name in check.mjs is aliased to the file; @grafana/data and lodash resolve from
# build/grafana/node_modules (NODE_PATH for check.mjs, parent folders for dataTransform.mjs).
NODE_PATH=$work/node_modules "$work/node_modules/.bin/esbuild" "$src/check.mjs" \
	--bundle --platform=node --format=cjs --target=node18 --log-level=warning \
	--alias:grafana-flamegraph-data-transform="$data_transform" \
	--outfile="$work/check.cjs" || give_up "esbuild could not bundle $src/check.mjs"

# ---------------------------------------------------------------- rows from SQL
export PGOPTIONS="-c client_min_messages=warning"

q -c "CREATE EXTENSION IF NOT EXISTS profile_ext" \
	-c "DROP TABLE IF EXISTS grafana_corpus" \
	-c "CREATE TABLE grafana_corpus (file text PRIMARY KEY, p profile NOT NULL)" ||
	give_up "cannot create the table grafana_corpus"

# The 7 CPU profiles of one JVM (kafka-0), merged below.
mapfile -t kafka_cpu < <(cd "$corpus/pprof" &&
	ls og_convert_jfr__cortex-dev-01__kafka-0__cpu*process_cpu_cpu_nanoseconds*.pb.gz)
[ ${#kafka_cpu[@]} = 7 ] || give_up "expected 7 kafka-0 JFR cpu files in $corpus/pprof, found ${#kafka_cpu[@]}"
files=(
	"${kafka_cpu[@]}"
	og_convert_jfr__dump2.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.10784330302778997279.pb.gz
	og_convert_jfr__dump2.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz
	og_convert_pprof__heap.pb.gz
	og_convert_pprof__cpu.pb.gz
	og_convert_pprof__req_3.pprof
	og_convert_pprof__req_4.pprof
	og_convert_pprof__nodejs-wall.pb.gz
	og_convert_pprof__pyspy-1.pb.gz
)
for f in "${files[@]}"; do
	[ -f "$corpus/pprof/$f" ] || give_up "missing corpus file $f"
	printf '%s\t\\\\x' "$f"
	od -An -v -tx1 "$corpus/pprof/$f" | tr -d ' \n'
	printf '\n'
done | psql -X -v ON_ERROR_STOP=1 -q -c "\\copy grafana_corpus FROM STDIN" ||
	give_up "could not load the corpus files"

one() { printf "(SELECT p FROM grafana_corpus WHERE file = '%s')" "$1"; }
kafka_merged="(SELECT profile_merge(p) FROM grafana_corpus WHERE file LIKE '%kafka-0%')"
kafka0=$(one og_convert_jfr__cortex-dev-01__kafka-0__cpu__0.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz)
kafka1=$(one og_convert_jfr__cortex-dev-01__kafka-0__cpu__1.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz)
dump2_a=$(one og_convert_jfr__dump2.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.10784330302778997279.pb.gz)
dump2_b=$(one og_convert_jfr__dump2.jfr.gz.process_cpu_cpu_nanoseconds_cpu_nanoseconds.17241709254077376921.pb.gz)
heap=$(one og_convert_pprof__heap.pb.gz)

cases=$work/cases
rm -rf "$cases" && mkdir -p "$cases" || give_up "cannot create $cases"
# export_case NAME DIFF MAX_NODES EXPECT_OTHER SET_RETURNING_CALL: writes NAME.json with the
# rows exactly as Grafana's table query "SELECT * FROM <call>" gets them.
export_case() {
	local name=$1 diff=$2 max_nodes=$3 expect_other=$4 call=$5 out
	if out=$(q -o "$cases/$name.json" -c "
		SELECT json_build_object('name', '$name', 'diff', $diff, 'maxNodes', $max_nodes,
			'expectOther', $expect_other,
			'rows', (SELECT json_agg(f) FROM $call f))" 2>&1); then
		return 0
	fi
	failed=$((failed + 1))
	echo "FAIL $name: the query failed: $out"
	rm -f "$cases/$name.json"
}
export_case jfr_kafka_cpu_merged false null false "flamegraph($kafka_merged, 'cpu')"
export_case jfr_kafka_cpu_merged_max100 false 100 true "flamegraph($kafka_merged, 'cpu', 100)"
export_case go_heap_inuse_space false null false "flamegraph($heap, 'inuse_space')"
export_case go_heap_alloc_space_max100 false 100 true "flamegraph($heap, 'alloc_space', 100)"
export_case go_cpu_default_type false null false "flamegraph($(one og_convert_pprof__cpu.pb.gz))"
export_case nodejs_wall false null false "flamegraph($(one og_convert_pprof__nodejs-wall.pb.gz), 'wall')"
export_case pyspy_samples false null false "flamegraph($(one og_convert_pprof__pyspy-1.pb.gz), 'samples')"
export_case diff_jfr_kafka_cpu0_cpu1 true null false "flamegraph_diff($kafka0, $kafka1, 'cpu')"
export_case diff_jfr_kafka_cpu0_cpu1_max100 true 100 true "flamegraph_diff($kafka0, $kafka1, 'cpu', 100)"
export_case diff_jfr_dump2 true null false "flamegraph_diff($dump2_a, $dump2_b, 'cpu')"
export_case diff_go_mutex_delay true null false \
	"flamegraph_diff($(one og_convert_pprof__req_3.pprof), $(one og_convert_pprof__req_4.pprof), 'delay')"

# ---------------------------------------------------------------- the example dashboard's SQL
# examples/grafana/profiles-dashboard.json against a profiles table: kafka (JFR CPU, versions
# v1 then v2) and checkout (Go CPU) over 2026-01-01 12:00-14:00, all labelled __name__ =
# process_cpu (the timeline panel picks CPU rows by that label).  dashboard_sql.mjs renders
# each variable and panel query as Grafana would send it; variable, time series and table
# queries must return rows, flame graph panels' rows go through the checks above.  Variant
# "all" uses All, the 1h baseline offset and 8192 nodes; "picked" multi-value picks, an absolute
# baseline and 100 nodes.
profiles_ok=1
q -c "CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL)" \
	-c "INSERT INTO profiles (ts, labels, profile)
		SELECT v.ts::timestamptz, v.labels::jsonb, c.p
		  FROM grafana_corpus c JOIN (VALUES
			('%kafka-0__cpu__0.%', '2026-01-01 12:10+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v1\"}'),
			('%kafka-0__cpu__1.%', '2026-01-01 12:30+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v1\"}'),
			('%kafka-0__cpu__2.%', '2026-01-01 12:50+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v1\"}'),
			('%kafka-0__cpu_lock_alloc__0.%', '2026-01-01 13:05+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v2\"}'),
			('%kafka-0__cpu_lock_alloc__1.%', '2026-01-01 13:20+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v2\"}'),
			('%kafka-0__cpu_lock_alloc__2.%', '2026-01-01 13:35+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v2\"}'),
			('%kafka-0__cpu_lock_alloc__3.%', '2026-01-01 13:50+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"kafka\", \"region\": \"eu-west\", \"version\": \"v2\"}'),
			('og_convert_pprof__cpu.pb.gz', '2026-01-01 12:30+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"checkout\", \"region\": \"us-east\", \"version\": \"v1\"}'),
			('og_convert_pprof__cpu.pb.gz', '2026-01-01 13:30+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"checkout\", \"region\": \"us-east\", \"version\": \"v1\"}')
		  ) v(pattern, ts, labels) ON c.file LIKE v.pattern" ||
	{ profiles_ok=0 failed=$((failed + 1)); echo "FAIL: cannot fill the profiles table"; }
q -c "DROP TABLE grafana_corpus"

dashboard=$repo/examples/grafana/profiles-dashboard.json
# run_panel_sql VARIANT FILE: one rendered query; a flame graph panel becomes a case file.
run_panel_sql() {
	local variant=$1 file=$2 max_nodes=$3 base sql out
	base=$(basename "$file" .sql)
	sql=$(cat "$file")
	case $base in
	panel-*-flamegraph*)
		local diff=false other=false
		[[ $base == *-diff ]] && diff=true
		[ "$max_nodes" -le 100 ] && other=true
		if ! out=$(q -o "$cases/dashboard_${variant}_$base.json" -c "
			SELECT json_build_object('name', 'dashboard $variant $base', 'diff', $diff,
				'maxNodes', $max_nodes, 'expectOther', $other,
				'rows', (SELECT json_agg(f) FROM ($sql) f))" 2>&1); then
			failed=$((failed + 1))
			echo "FAIL dashboard $variant $base: $out"
			rm -f "$cases/dashboard_${variant}_$base.json"
		fi
		;;
	*)
		if ! out=$(q -c "SELECT count(*) FROM ($sql) f" 2>&1); then
			failed=$((failed + 1))
			echo "FAIL dashboard $variant $base: $out"
		elif [ "$out" -gt 0 ]; then
			passed=$((passed + 1))
			echo "ok   dashboard $variant $base: $out rows"
		else
			failed=$((failed + 1))
			echo "FAIL dashboard $variant $base: no rows"
		fi
		;;
	esac
}
# dashboard_variant NAME MAX_NODES SETTINGS_JSON
dashboard_variant() {
	local name=$1 max_nodes=$2 dir=$work/dashboard-$1 f
	rm -rf "$dir" && mkdir -p "$dir"
	printf '%s\n' "$3" >"$dir/settings.json"
	if ! node "$src/dashboard_sql.mjs" "$dashboard" "$dir/sql" "$dir/settings.json"; then
		failed=$((failed + 1))
		echo "FAIL dashboard $name: dashboard_sql.mjs could not render the queries"
		return
	fi
	for f in "$dir"/sql/*.sql; do
		run_panel_sql "$name" "$f" "$max_nodes"
	done
}
range='"from": "2026-01-01T13:00:00Z", "to": "2026-01-01T14:00:00Z", "intervalMs": 60000'
[ $profiles_ok = 1 ] && dashboard_variant all 8192 "{$range, \"vars\": {\"datasource\": \"profiles\",
	\"service\": \"kafka\", \"region\": \"\$__all\", \"version\": \"\$__all\",
	\"sample_type\": \"cpu:nanoseconds\", \"max_nodes\": \"8192\", \"baseline_offset\": \"1h\",
	\"baseline_from\": \"\", \"baseline_to\": \"\"}}"
[ $profiles_ok = 1 ] && dashboard_variant picked 100 "{$range, \"vars\": {\"datasource\": \"profiles\",
	\"service\": \"kafka\", \"region\": [\"eu-west\"], \"version\": [\"v1\", \"v2\"],
	\"sample_type\": \"cpu:nanoseconds\", \"max_nodes\": \"100\", \"baseline_offset\": \"1h\",
	\"baseline_from\": \"2026-01-01 12:00+00\", \"baseline_to\": \"2026-01-01 12:59:59+00\"}}"
q -c "DROP TABLE IF EXISTS profiles"

# ---------------------------------------------------------------- Grafana's checks
shopt -s nullglob
case_files=("$cases"/*.json)
if [ ${#case_files[@]} -gt 0 ]; then
	node "$work/check.cjs" "${case_files[@]}" | tee "$work/check.log"
	rc=${PIPESTATUS[0]}
	if [[ $(tail -n 1 "$work/check.log") =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
		[ "$rc" != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ] && failed=$((failed + 1))
	else
		echo "FAIL: node $work/check.cjs printed no counts (exit status $rc)"
		failed=$((failed + 1))
	fi
fi
finish
