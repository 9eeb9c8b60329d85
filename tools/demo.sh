#!/usr/bin/env bash
# tools/demo.sh (`make demo`): the incident story end to end.
#
# A simulated fleet (checkout in Go, cart in Python, search in Java; 3 pods x 2 regions)
# sends CPU profiles every 10 s and heap profiles every minute for one hour, 13:30-14:30
# UTC yesterday (so the hour lies inside the store's 14-day raw retention).  At 14:02 checkout v2 ships with an N+1 JSON marshaling loop; all hour long cart
# leaks memory through one allocation site.  The demo loads that hour into PostgreSQL
# with one binary COPY and finds both incidents with SQL.
#
# On a fresh Debian 12 machine, as root, it installs the packages (the list of
# test/run_all.sh), builds and installs the extension, builds the generator
# (tools/gen/pe_gen), starts a throwaway cluster as a non-root user on a free port, runs
# the story and stops the cluster.  When PGHOST, PGPORT or PGDATABASE is set and the
# server answers, it uses that database instead: it creates the extension if missing and
# drops nothing but its own store (profile_store_drop).
#
# Environment knobs:
#   PROFILE_EXT_DEMO_TABLE=NAME     table to (re)create (default demo_profiles)
#   PROFILE_EXT_DEMO_OUTPUT=DIR     where SVG flame graphs go (default ./demo-output)
#   PROFILE_EXT_DEMO_GEN_ARGS="..." extra generator arguments (e.g. "--pods 1")
#   PROFILE_EXT_DEMO_CHECK=1        also print machine-checkable "CHECK ..." lines
#   PROFILE_EXT_DEMO_VIA=gateway    load through profile-gateway instead of COPY: every profile
#                                   pushed as its service's SDK would (`make demo-gateway`;
#                                   tools/demo_gateway.sh)
#   PROFILE_EXT_DEMO_INSTALL=1      build and `make install` even with an existing server
#   PROFILE_EXT_SKIP_APT=1          never run apt-get
#   KEEP=1                          leave the throwaway cluster running; print how to connect
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/lib.sh
source "$REPO/tools/lib.sh"

TABLE=${PROFILE_EXT_DEMO_TABLE:-demo_profiles}
OUTPUT=${PROFILE_EXT_DEMO_OUTPUT:-./demo-output}
CHECK=${PROFILE_EXT_DEMO_CHECK:-0}
VIA=${PROFILE_EXT_DEMO_VIA:-copy}
read -r -a GEN_ARGS <<<"${PROFILE_EXT_DEMO_GEN_ARGS:-}"
DEMO_USER=profile_ext_demo
DEMO_DB=profile_demo
DAY=$(date -u -d yesterday +%Y-%m-%d)
START="$DAY 13:30:00"
# Windows of the story (the deploy is at 14:02, minute 32 of the generator's hour).
BASE_FROM="$DAY 13:55:00+00" BASE_TO="$DAY 14:01:00+00"
BAD_FROM="$DAY 14:03:00+00" BAD_TO="$DAY 14:09:00+00"

if ! [[ $TABLE =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
	echo "demo: PROFILE_EXT_DEMO_TABLE must be a plain lower-case identifier, not '$TABLE'" >&2
	exit 2
fi

T_START=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '\n== %s\n' "$*"; }
TMP='' EXTERNAL=0
# shellcheck source=tools/demo_gateway.sh
source "$REPO/tools/demo_gateway.sh"
cleanup() {
	demo_gateway_cleanup
	if [ -n "$TMP" ]; then
		if [ "${KEEP:-0}" = 1 ] && [ "$PE_CLUSTER_UP" = 1 ]; then
			return
		fi
		pe_cluster_stop
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------------ the server to use
if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ] &&
	psql -X -q -At -c 'select 1' >/dev/null 2>&1; then
	EXTERNAL=1
fi

# ------------------------------------------------------------------ packages, build
if pe_need_packages; then
	if [ "${PROFILE_EXT_SKIP_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
		echo "demo: build tools are missing; as root run this again, or install:" >&2
		pe_apt_packages | tr '\n' ' ' >&2
		echo >&2
		exit 1
	fi
	say "installing packages (apt-get, log: /tmp/profile_ext_demo_apt.log)"
	pe_apt_install /tmp/profile_ext_demo_apt.log || {
		tail -n 30 /tmp/profile_ext_demo_apt.log
		exit 1
	}
fi
cd "$REPO"
T_BUILD=$(date +%s.%N)
available=0
if [ "$EXTERNAL" = 1 ] && [ "$(psql -X -At -c "select count(*) from pg_available_extensions where name = 'profile_ext'")" = 1 ]; then
	available=1
fi
if [ "$EXTERNAL" = 0 ] || [ "$available" = 0 ] || [ "${PROFILE_EXT_DEMO_INSTALL:-0}" = 1 ]; then
	say "building and installing the extension (make && make install)"
	if ! { make -s -j"$(nproc)" && make -s install; } >/tmp/profile_ext_demo_build.log 2>&1; then
		tail -n 30 /tmp/profile_ext_demo_build.log
		exit 1
	fi
fi
make -s tools/gen/pe_gen >/tmp/profile_ext_demo_gen_build.log 2>&1 || {
	cat /tmp/profile_ext_demo_gen_build.log
	exit 1
}
BUILD_SECONDS=$(elapsed "$T_BUILD")
echo "build: ${BUILD_SECONDS}s"

if [ "$EXTERNAL" = 1 ]; then
	say "using the running server: $(psql -X -At -c "select current_database() || ' on ' || coalesce(inet_server_addr()::text, current_setting('unix_socket_directories')) || ':' || current_setting('port')")"
else
	say "starting a throwaway PostgreSQL cluster"
	unset PGHOST PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
	TMP=$(mktemp -d /tmp/profile_ext_demo.XXXXXX)
	pe_cluster_start "$TMP" "$DEMO_USER" || { echo "demo: the server did not start" >&2; exit 1; }
	export PGHOST=$TMP PGPORT=$PE_PORT PGUSER=$PE_CLUSTER_USER PGDATABASE=postgres
	psql -X -q -c "CREATE DATABASE $DEMO_DB"
	export PGDATABASE=$DEMO_DB
	echo "server up on port $PGPORT (socket and data in $TMP)"
fi

q() { psql -X -v ON_ERROR_STOP=1 -q "$@"; }
qv() { psql -X -v ON_ERROR_STOP=1 -q -At "$@"; }

# ------------------------------------------------------------------ load
if [ "$VIA" = gateway ]; then
	say "loading one hour of fleet profiles into the store $TABLE through profile-gateway (SDK-style pushes)"
else
	say "loading one hour of fleet profiles into the store $TABLE (binary COPY from tools/gen/pe_gen)"
fi
# The table is a profile store: daily partitions, 14 days of raw profiles, hourly rollups kept
# 400 days (README, "Retention and rollups").
q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS profile_ext;
SELECT profile_store_drop('$TABLE') FROM profile_store
 WHERE table_schema = current_schema() AND table_name = '$TABLE';
DROP TABLE IF EXISTS $TABLE;
SELECT FROM profile_store_create('$TABLE', raw_retention => '14 days', rollup => '1 hour',
								 rollup_retention => '400 days');
SQL
T_LOAD=$(date +%s.%N)
if [ "$VIA" = gateway ]; then
	demo_gateway_feed
else
	rows=$(tools/gen/pe_gen --start "$START" "${GEN_ARGS[@]}" |
		psql -X -v ON_ERROR_STOP=1 -At -c "COPY $TABLE (ts, labels, profile) FROM STDIN WITH (FORMAT binary)")
	rows=${rows#COPY }
fi
LOAD_SECONDS=$(elapsed "$T_LOAD")
T_INDEX=$(date +%s.%N)
# What the store's scheduled job does (pg_cron runs it where installed): roll up the hours
# just loaded.
q -c "CALL profile_store_maintain('$TABLE')" -c "ANALYZE $TABLE"
INDEX_SECONDS=$(elapsed "$T_INDEX")
read -r size <<<"$(qv -c "SELECT pg_size_pretty(sum(pg_total_relation_size(partition))) FROM profile_store_partitions('$TABLE')")"
echo "loaded $rows profiles in ${LOAD_SECONDS}s ($(awk -v r="$rows" -v s="$LOAD_SECONDS" 'BEGIN { printf "%.0f", r / (s > 0 ? s : 1) }') rows/s); rollups (profile_store_maintain) and ANALYZE ${INDEX_SECONDS}s; table size $size"

T_QUERIES=$(date +%s.%N)
CPU="labels @> '{\"__name__\": \"process_cpu\"}'"
CHECKOUT_CPU="labels @> '{\"__name__\": \"process_cpu\", \"service_name\": \"checkout\"}'"
CART_MEM="labels @> '{\"__name__\": \"memory\", \"service_name\": \"cart\"}'"

# ------------------------------------------------------------------ 1. timeline
say "1. CPU per service, 5-minute buckets (cores used by the whole service)"
q <<SQL
WITH per_bucket AS (
	SELECT labels->>'service_name' AS service,
		   date_bin('5 minutes', ts, TIMESTAMPTZ '2000-01-01') AS bucket,
		   sum(profile_total(profile, 'cpu')) / 300e9 AS cores
	  FROM $TABLE WHERE $CPU GROUP BY 1, 2),
scale AS (SELECT max(cores) AS top FROM per_bucket)
SELECT to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') AS "from",
	   string_agg(CASE WHEN service = 'checkout' THEN
			to_char(cores, 'FM990.00') || ' ' || repeat('#', round(30 * cores / top)::int) END, '') AS checkout,
	   string_agg(CASE WHEN service = 'cart' THEN to_char(cores, 'FM990.00') END, '') AS cart,
	   string_agg(CASE WHEN service = 'search' THEN to_char(cores, 'FM990.00') END, '') AS search
  FROM per_bucket, scale GROUP BY bucket ORDER BY bucket;
SQL
if [ "$CHECK" = 1 ]; then
	qv -F ' ' <<SQL
SELECT 'CHECK checkout_cores',
	   'base=' || round((sum(profile_total(profile, 'cpu')) FILTER (WHERE ts >= '$BASE_FROM' AND ts < '$BASE_TO')
			/ extract(epoch FROM TIMESTAMPTZ '$BASE_TO' - TIMESTAMPTZ '$BASE_FROM') / 1e9)::numeric, 3),
	   'bad=' || round((sum(profile_total(profile, 'cpu')) FILTER (WHERE ts >= '$BAD_FROM' AND ts < '$BAD_TO')
			/ extract(epoch FROM TIMESTAMPTZ '$BAD_TO' - TIMESTAMPTZ '$BAD_FROM') / 1e9)::numeric, 3)
  FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BASE_FROM' AND ts < '$BAD_TO';
SQL
fi

# ------------------------------------------------------------------ 2. top functions
say "2. checkout, 14:03-14:09 (after the v2 deploy): top functions by self CPU"
q <<SQL
WITH m AS MATERIALIZED (
	SELECT p, profile_total(p, 'cpu')::float8 AS total
	  FROM (SELECT profile_merge(profile) AS p FROM $TABLE
			 WHERE $CHECKOUT_CPU AND ts >= '$BAD_FROM' AND ts < '$BAD_TO') merged)
SELECT t.function, round((100 * t.self / m.total)::numeric, 1) AS "self %",
	   round((100 * t.total / m.total)::numeric, 1) AS "total %"
  FROM m, profile_top(m.p, 'cpu', 10) t;
SQL

# ------------------------------------------------------------------ 3. diff
say "3. checkout: what changed from 13:55-14:01 (v1) to 14:03-14:09 (v2), in points of total CPU"
diff_sql() {	# profile_diff_top of the two windows, first $1 rows (NULL: all)
	echo "SELECT d.* FROM profile_diff_top(
	(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BASE_FROM' AND ts < '$BASE_TO'),
	(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BAD_FROM' AND ts < '$BAD_TO'),
	'cpu', $1) d"
}
DIFF_SQL=$(diff_sql 8)
q <<SQL
SELECT function, round(score::numeric, 2) AS "score", round(change::numeric, 2) AS "self change",
	   round(total_change::numeric, 2) AS "total change"
  FROM ($DIFF_SQL) x;
SQL
if [ "$CHECK" = 1 ]; then
	echo "CHECK diff_top1=$(qv -c "SELECT function FROM ($DIFF_SQL) x LIMIT 1")"
	echo "CHECK diff_self_top1=$(qv -c "SELECT function FROM ($(diff_sql "1, ranking => 'self'")) x")"
	tools/gen/pe_gen --print-incidents | sed 's/^\([a-z_]*\)\t/CHECK \1=/'
fi
echo "(score: the part of the change that enters at the function: the new per-item loop, not"
echo " the handlers above it, which grew as much, nor the JSON code it calls.  self: CPU in the"
echo " function itself.)"
echo "Where the loop's time goes, by change of self CPU (ranking => 'self', 0.1.0's order):"
q <<SQL
SELECT function, round(change::numeric, 2) AS "self change",
	   round(total_change::numeric, 2) AS "total change"
  FROM profile_diff_top(
	(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BASE_FROM' AND ts < '$BASE_TO'),
	(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BAD_FROM' AND ts < '$BAD_TO'),
	'cpu', 5, ranking => 'self');
SQL

# ------------------------------------------------------------------ 4. leak
say "4. cart: in-use memory of the top allocation sites, MB per profile, 5-minute buckets"
SERIES_SQL="WITH b AS (
	SELECT date_bin('5 minutes', ts, TIMESTAMPTZ '2000-01-01') AS bucket, count(*) AS n,
		   profile_merge(profile) AS p
	  FROM $TABLE WHERE $CART_MEM GROUP BY 1),
s AS (SELECT b.bucket, t.function, t.self / b.n / 1048576.0 AS mb
		FROM b, profile_top(b.p, 'inuse_space', 50) t),
top AS (SELECT function FROM s WHERE bucket = (SELECT max(bucket) FROM s)
		 ORDER BY mb DESC LIMIT 5)
SELECT s.function,
	   string_agg(round(s.mb)::text, ' ' ORDER BY s.bucket) AS series,
	   string_agg(round(s.mb, 3)::text, ',' ORDER BY s.bucket) AS exact,
	   round(100 * ((array_agg(s.mb ORDER BY s.bucket DESC))[1] /
					(array_agg(s.mb ORDER BY s.bucket))[1] - 1)) AS growth
  FROM s JOIN top USING (function)
 GROUP BY s.function ORDER BY max(s.mb) DESC"
q <<SQL
SELECT function AS "allocation site", series AS "MB, 13:30 -> 14:25", growth || '%' AS growth
  FROM ($SERIES_SQL) x;
SQL
if [ "$CHECK" = 1 ]; then
	qv -F ' ' -c "SELECT 'CHECK site=' || function, 'series=' || exact FROM ($SERIES_SQL) x"
fi

# ------------------------------------------------------------------ 5. SVG flame graphs
say "5. SVG flame graphs"
svg=$(qv -c "SELECT count(*) FROM pg_proc WHERE proname IN ('flamegraph_svg', 'flamegraph_diff_svg')")
if [ "$svg" -lt 2 ]; then
	echo "skipped: this build of the extension has no flamegraph_svg()/flamegraph_diff_svg()"
else
	mkdir -p "$OUTPUT"
	bad="(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BAD_FROM' AND ts < '$BAD_TO')"
	base="(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$BASE_FROM' AND ts < '$BASE_TO')"
	leak="(SELECT profile_merge(profile) FROM $TABLE WHERE $CART_MEM AND ts >= '$DAY 14:25:00+00')"
	as_text() {	# the SVG as text, whether the function returns text, xml or bytea
		qv -c "SELECT CASE WHEN pg_typeof(x)::text = 'bytea' THEN convert_from(x::text::bytea, 'UTF8')
					ELSE x::text END FROM (SELECT $1 AS x) s"
	}
	as_text "flamegraph_svg($bad)" >"$OUTPUT/checkout-cpu-v2.svg"
	as_text "flamegraph_diff_svg($base, $bad)" >"$OUTPUT/checkout-cpu-diff-v1-v2.svg"
	as_text "flamegraph_svg($leak, 'inuse_space')" >"$OUTPUT/cart-inuse-space-14h25.svg"
	for f in checkout-cpu-v2 checkout-cpu-diff-v1-v2 cart-inuse-space-14h25; do
		echo "wrote $(cd "$OUTPUT" && pwd)/$f.svg ($(wc -c <"$OUTPUT/$f.svg") bytes)"
	done
fi

# ------------------------------------------------------------------ 6. the store
say "6. the store: checkout's CPU for the hour through the hourly rollups, and what the store costs"
STORE_MERGE="profile_store_merge('$TABLE', '$DAY 13:30:00+00', '$DAY 14:30:00+00', '{\"__name__\": \"process_cpu\", \"service_name\": \"checkout\"}')"
RAW_MERGE="(SELECT profile_merge(profile) FROM $TABLE WHERE $CHECKOUT_CPU AND ts >= '$DAY 13:30:00+00' AND ts < '$DAY 14:30:00+00')"
q <<SQL
SELECT (SELECT count(*) FROM ${TABLE}_rollup) AS rollup_rows,
	   (SELECT count(*) FROM $TABLE) AS raw_rows,
	   md5(profile_to_folded($STORE_MERGE)) = md5(profile_to_folded($RAW_MERGE)) AS "rollups + edges = raw merge";
SELECT kind, service_name, sum("rows") AS "rows", pg_size_pretty(sum(stored_bytes)) AS stored,
	   (sum(stored_bytes) / sum("rows"))::bigint AS bytes_per_profile
  FROM profile_store_storage('$TABLE') GROUP BY kind, service_name ORDER BY kind, service_name;
SELECT kind, service_name, retention, pg_size_pretty(bytes_per_day) AS per_day, projected_size
  FROM profile_store_projection('$TABLE');
SQL
if [ "$CHECK" = 1 ]; then
	echo "CHECK rollup_equal=$(qv -c "SELECT profile_to_folded($STORE_MERGE) = profile_to_folded($RAW_MERGE)")"
fi
QUERY_SECONDS=$(elapsed "$T_QUERIES")

say "done in $(elapsed "$T_START")s (build ${BUILD_SECONDS}s, generate+load ${LOAD_SECONDS}s, rollups ${INDEX_SECONDS}s, queries ${QUERY_SECONDS}s)"
if [ "$CHECK" = 1 ]; then
	echo "CHECK rows=$rows"
fi
if [ "$EXTERNAL" = 0 ] && [ "${KEEP:-0}" = 1 ]; then
	echo "the cluster keeps running (KEEP=1).  Connect with:"
	echo "  psql -h $PGHOST -p $PGPORT -U $PGUSER -d $PGDATABASE"
	echo "stop it with:"
	if [ "$(id -u)" = 0 ]; then
		echo "  runuser -u $PE_CLUSTER_USER -- $(pg_config --bindir)/pg_ctl -D $PE_PGDATA stop && rm -rf $TMP"
	else
		echo "  $(pg_config --bindir)/pg_ctl -D $PE_PGDATA stop && rm -rf $TMP"
	fi
fi
