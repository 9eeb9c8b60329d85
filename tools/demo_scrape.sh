#!/usr/bin/env bash
# tools/demo_scrape.sh (`make demo-scrape`): pull, end to end.
#
# A real Go service with nothing but `import _ "net/http/pprof"` (test/scrape/target:
# it burns CPU, allocates steadily and leaks) is scraped by profile-gateway --config
# the way Grafana Alloy's pyroscope.scrape would scrape it; the rows land in
# PostgreSQL, and SQL shows its CPU, its allocation rate and the leak.
#
# Uses the server in PGHOST/PGPORT/PGDATABASE when one answers, otherwise starts a
# throwaway cluster (as `make demo` does).  Builds and installs the extension and the
# gateway (make && make install).  Needs golang-go (in test/run_all.sh's package list).
#   PROFILE_EXT_DEMO_SECONDS=N    how long to scrape (default 30)
#   PROFILE_EXT_DEMO_OUTPUT=DIR   where the SVG flame graph goes (default ./demo-output)
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/lib.sh
source "$REPO/tools/lib.sh"
SECONDS_TO_SCRAPE=${PROFILE_EXT_DEMO_SECONDS:-30}
OUTPUT=${PROFILE_EXT_DEMO_OUTPUT:-./demo-output}
TABLE=scraped_profiles

say() { printf '\n== %s\n' "$*"; }
WORK=$(mktemp -d /tmp/profile_ext_demo_scrape.XXXXXX)
chmod 755 "$WORK"
PIDS=() CLUSTER=0
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "$CLUSTER" = 1 ] && pe_cluster_stop
	rm -rf "$WORK"
}
trap cleanup EXIT

cd "$REPO"
say "building and installing the extension and profile-gateway (make && make install)"
if ! { make -s -j"$(nproc)" && make -s install; } >"$WORK/build.log" 2>&1; then
	tail -n 30 "$WORK/build.log"
	exit 1
fi
GATEWAY=$(pg_config --bindir)/profile-gateway
(cd test/scrape && HOME=$WORK GOCACHE=$WORK/gocache GOPROXY=off go build -o "$WORK/checkout" ./target)

if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ] && psql -X -q -At -c 'select 1' >/dev/null 2>&1; then
	say "using the running server"
else
	say "starting a throwaway PostgreSQL cluster"
	unset PGHOST PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
	pe_cluster_start "$WORK/pg" profile_ext_demo || { echo "the server did not start" >&2; exit 1; }
	CLUSTER=1
	export PGHOST=$WORK/pg PGPORT=$PE_PORT PGUSER=$PE_CLUSTER_USER PGDATABASE=postgres
fi
q() { psql -X -v ON_ERROR_STOP=1 -q "$@"; }
q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS profile_ext;
DROP TABLE IF EXISTS $TABLE;
CREATE TABLE $TABLE (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL);
CREATE INDEX ON $TABLE USING gin (labels jsonb_path_ops);
SQL

APP=127.0.0.1:$(pe_pick_port)
GW=127.0.0.1:$(pe_pick_port)
say "the Go service on $APP (net/http/pprof; burns CPU, allocates, leaks)"
"$WORK/checkout" -listen "$APP" -burn -alloc-chunks 100000000 -alloc-size 32768 \
	-alloc-per-sec 100 -leak-per-sec 131072 >"$WORK/checkout.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/scrape.yaml" <<EOF
scrape_interval: 5s
scrape_configs:
  - job_name: checkout
    static_configs:
      - targets: ["$APP"]
        labels: {service_name: checkout, region: eu-west}
    profiling_config: {process_cpu: true, memory: true, goroutine: true, mutex: false, block: false}
EOF
cat "$WORK/scrape.yaml"
"$GATEWAY" --listen "$GW" --table "$TABLE" \
	--dsn "host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE" \
	--config "$WORK/scrape.yaml" >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
say "profile-gateway --config scrape.yaml: scraping for ${SECONDS_TO_SCRAPE}s"
sleep "$SECONDS_TO_SCRAPE"

say "1. rows per profile type (the first memory scrape is only the delta baseline)"
q -c "SELECT labels->>'__name__' AS \"__name__\", count(*) AS rows, min(ts)::time(0) AS first,
	max(ts)::time(0) AS last FROM $TABLE GROUP BY 1 ORDER BY 1"
say "2. labels of one row, as Alloy would send them"
q -At -c "SELECT labels FROM $TABLE WHERE labels->>'__name__' = 'process_cpu' LIMIT 1"
say "3. CPU: top functions over the whole run"
q -c "SELECT t.function, round(t.self / 1e9, 2) AS \"self s\", round(t.total / 1e9, 2) AS \"total s\"
	FROM profile_top((SELECT profile_merge(profile) FROM $TABLE
	WHERE labels @> '{\"service_name\":\"checkout\",\"__name__\":\"process_cpu\"}'), 'cpu', 5) t"
say "4. allocations per interval (deltas of Go's cumulative allocs profile), MB/s"
q -c "SELECT ts::time(0), round(profile_total(profile, 'alloc_space') / 1e6 /
	extract(epoch FROM profile_duration(profile))::numeric, 1) AS \"MB/s\",
	profile_total(profile, 'alloc_objects') AS objects
	FROM $TABLE WHERE labels @> '{\"__name__\":\"memory\"}' AND profile_duration(profile) > interval '0'
	ORDER BY ts"
say "5. the leak: inuse_space at main.leakChunk, scrape by scrape"
q -c "SELECT ts::time(0), pg_size_pretty(t.total) AS inuse FROM $TABLE,
	profile_top(profile, 'inuse_space', 1000) t
	WHERE labels @> '{\"__name__\":\"memory\"}' AND t.function = 'main.leakChunk' ORDER BY ts"
say "6. scrape health in /metrics"
curl -s "http://$GW/metrics" | grep -E '^profile_scrape_(up|duration_seconds)\{' || true
mkdir -p "$OUTPUT"
psql -X -At -c "SELECT flamegraph_svg(profile_merge(profile), 'cpu', 'checkout CPU (scraped)')
	FROM $TABLE WHERE labels @> '{\"__name__\":\"process_cpu\"}'" >"$OUTPUT/scraped_cpu.svg"
say "flame graph of the scraped CPU: $OUTPUT/scraped_cpu.svg"
