#!/usr/bin/env bash
# test/bench/run.sh (`make bench`): profile_ext's performance against baselines, one table.
#
# Generates its data (tools/gen/pe_gen, SQL), then measures:
#   1. ingest: binary COPY of N gzipped pprof files into a profile column, against the
#      same bytes COPYed into a bytea column and against zlib inflating them (gunzip_timer.c)
#      (info rows "1a floor": binary COPY of the stored values' bytes into bytea, what
#      PostgreSQL itself charges for writing values of that size; "1a stages": the core's
#      steps timed one by one over the same files in one process, build/bench/ingest_driver)
#   2. storage: sum(pg_column_size(profile)) against the gzipped pprof bytes
#   3. merge: profile_merge over the N profiles, serial and with 2 parallel workers (on a
#      warm connection; a new connection's first merge as information), against
#      `go tool pprof -proto f1 ... fN` merging the same files (info rows "3a floor":
#      detoasting the same rows; "3a stages": zstd only, validating decode and the whole
#      merge of the same stored values in one process, build/bench/merge_driver --stages)
#   4. flame graph rows of a merged tree of > 1 million nodes (max_nodes 8192 and 0), against
#      decoding that tree and ranking its functions (profile_top(p, NULL, 1))
#   5. dashboard: one service's day of 10-second profiles (1 of 10 services, 86,400 rows)
#      through the GIN label index, against the same query without indexes
#   6. diff: flamegraph_diff of two one-hour windows, against two plain flame graphs
#   7. memory: peak backend RSS growth of profile_merge over 1 and 10,000 copies of a profile
#   8. retention and rollups: a profile store (profile_store_create) holding 30 days of one
#      service at 10 s among 10 services; the 30-day flame graph through profile_store_merge
#      (hourly rollups, raw edges) against the raw merge of the same window; ingest into the
#      store against the same table with its rollup triggers disabled (batch COPY, and
#      single-row INSERTs as a gateway sends them)
#   9. gateway: real gzipped CPU profiles pushed by concurrent clients through profile-gateway,
#      against binary COPY of the same files; p99 acknowledgment latency at half the maximum
#      rate (test/bench/gateway.sh, which also runs alone; knobs PE_BENCH_GW_* there)
#  10. summary accessors (profile_total, _sample_types, _time, _duration, _info) over the N
#      ingested profiles, against sum(length(profile_send(profile))) of the same rows (reading
#      every stored byte); and the dashboard's timeline over the day table (10 services x
#      8,640 rows: CPU per minute and service), which must stay under a second; both timed on
#      a connection that ran the statement once (a dashboard's pooled connection), and the
#      timeline also as a new connection's first query (info)
# Timings are medians of PE_BENCH_REPS runs, measured and baseline interleaved.  Ratios are
# ours / baseline (time, bytes or memory): below 1 means ours is smaller or faster.
#
# Without PG* variables it starts a throwaway cluster (tools/lib.sh) with shared_buffers
# 1GB, max_parallel_workers_per_gather 2, work_mem 64MB and fsync off; with PGHOST, PGPORT
# or PGDATABASE pointing to a server it uses that one (tables bench_*, dropped at the end).
#
# Knobs (defaults finish in well under 15 minutes on 2 cores):
#   PE_BENCH_N=5000            pprof files for ingest, storage and merge (650 samples each)
#   PE_BENCH_REPS=3            repetitions per timing (median)
#   PE_BENCH_FG_LINES=200000   folded stacks building the flame graph tree (~1.2M nodes)
#   PE_BENCH_DAY_ROWS=8640     profiles per service in the dashboard table (10 services)
#   PE_BENCH_COPIES=10000      copies of one profile in the memory measurement
#   PE_BENCH_ROLLUP_DAYS=30    days in the store; the measured service sends every
#   PE_BENCH_ROLLUP_STEP=10    seconds (259,200 rows in 30 days), the 9 others every
#   PE_BENCH_ROLLUP_OTHER_STEP=600 seconds (they only dilute the table; 10 at 10 s would
#                              be 2.6M rows, minutes of generation on a 2-core machine)
#   PE_BENCH_INSERTS=2000      single-row INSERTs in the ingest overhead measurement
#   PE_BENCH_PPROF_CHUNK=1000  files per `go tool pprof` call; more files are merged in
#                              chunks whose results are merged again (timed in total)
#   PE_BENCH_PERF=1            also `perf record` the backend during ingest and merge and
#                              print the hottest functions (needs perf and root)
#   PE_BENCH_CALLGRIND=100     also count the instructions of the "1a stages" and "3a stages"
#                              over the first 100 files under callgrind (repeatable on a
#                              loaded machine; needs valgrind; 0: off, the default)
#   PE_BENCH_NO_BUILD=1        skip `make && make install`
#   KEEP=1                     keep the data folder and the throwaway cluster
set -euo pipefail
shopt -s inherit_errexit
trap 'echo "bench: failed (line $LINENO): $BASH_COMMAND" >&2' ERR
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tools/lib.sh
source "$REPO/tools/lib.sh"

N=${PE_BENCH_N:-5000}
REPS=${PE_BENCH_REPS:-3}
FG_LINES=${PE_BENCH_FG_LINES:-200000}
DAY_ROWS=${PE_BENCH_DAY_ROWS:-8640}
COPIES=${PE_BENCH_COPIES:-10000}
ROLLUP_DAYS=${PE_BENCH_ROLLUP_DAYS:-30}
ROLLUP_STEP=${PE_BENCH_ROLLUP_STEP:-10}
ROLLUP_OTHER_STEP=${PE_BENCH_ROLLUP_OTHER_STEP:-600}
INSERTS=${PE_BENCH_INSERTS:-2000}
PPROF_CHUNK=${PE_BENCH_PPROF_CHUNK:-1000}
PERF=${PE_BENCH_PERF:-0}
CALLGRIND=${PE_BENCH_CALLGRIND:-0}
BENCH_USER=profile_ext_bench
CMDLINE="${PE_BENCH_CMDLINE:-bash test/bench/run.sh}"

T_START=$(date +%s.%N)
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
say() { printf '== %s\n' "$*" >&2; }
median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

TMP=$(mktemp -d /tmp/profile_ext_bench.XXXXXX)
chmod 755 "$TMP"
EXTERNAL=0
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept: data in $TMP${PE_PORT:+, cluster on port $PE_PORT (socket $TMP/pg)}" >&2
		return
	fi
	if [ "$EXTERNAL" = 1 ]; then
		psql -X -q -c "DROP TABLE IF EXISTS bench_bytea, bench_stored, bench_profile, bench_fg, bench_stage,
			bench_day, bench_mem, bench_pool, bench_store, bench_store_rollup,
			bench_store_rollup_dirty, bench_gw, bench_gw_copy CASCADE; DELETE FROM profile_store WHERE table_name = 'bench_store'" \
			>/dev/null 2>&1 || true
	fi
	pe_cluster_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------------ build, server
if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ] && psql -X -q -At -c 'select 1' >/dev/null 2>&1; then
	EXTERNAL=1
fi
cd "$REPO"
if [ "${PE_BENCH_NO_BUILD:-0}" != 1 ]; then
	say "make && make install"
	if ! { make -s -j"$(nproc)" && make -s install; } >"$TMP/build.log" 2>&1; then
		tail -n 30 "$TMP/build.log"
		exit 1
	fi
fi
make -s tools/gen/pe_gen bench-drivers >"$TMP/gen_build.log" 2>&1 || { cat "$TMP/gen_build.log"; exit 1; }
mkdir -p "$TMP/bin"
for helper in gunzip_timer copy_stream; do
	cc -std=gnu11 -O2 -Wall -Wextra -o "$TMP/bin/$helper" "test/bench/$helper.c" -lz
done
PPROF_OK=0
if command -v go >/dev/null 2>&1 && go tool pprof -h >/dev/null 2>&1; then
	PPROF_OK=1
fi

if [ "$EXTERNAL" = 0 ]; then
	say "starting a throwaway cluster"
	unset PGHOST PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
	mkdir "$TMP/pg"
	pe_cluster_start "$TMP/pg" "$BENCH_USER" || { echo "bench: the server did not start" >&2; exit 1; }
	cat >>"$PE_PGDATA/postgresql.conf" <<EOF
# profile_ext bench
shared_buffers = '1GB'
max_parallel_workers_per_gather = 2
work_mem = '64MB'
fsync = off
EOF
	pe_as_user "$PE_CLUSTER_USER" "$(pg_config --bindir)/pg_ctl" -D "$PE_PGDATA" -w -t 60 \
		restart >>"$TMP/pg/pg_ctl.log" 2>&1 || { tail -n 20 "$TMP/pg/server.log" >&2; exit 1; }
	export PGHOST=$TMP/pg PGPORT=$PE_PORT PGUSER=$PE_CLUSTER_USER PGDATABASE=postgres
fi
q() { psql -X -v ON_ERROR_STOP=1 -q "$@"; }
qv() { psql -X -v ON_ERROR_STOP=1 -q -At "$@"; }
q -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS profile_ext"

# The time in ms of the last statement of a script (stdin), run with \timing; the
# statements' own output is thrown away.
sql_ms() {
	{ echo '\timing on'; cat; } | psql -X -v ON_ERROR_STOP=1 -q -At -o /dev/null 2>&1 |
		awk '/^Time: / { t = $2 } /ERROR/ { print > "/dev/stderr"; exit 1 } END { print t }'
}
# The same on a connection that has run the statement once already (the last time printed):
# a dashboard's pooled connection.  A new backend's first query pays a page fault per few
# pages of shared_buffers it touches for the first time (~1 s per 300 MB in this VM).
sql_ms_warm() {
	local stmt
	stmt=$(cat)
	printf '%s\n%s\n' "$stmt" "$stmt" | sql_ms
}

# ------------------------------------------------------------------ data
say "generating $N CPU profiles (pe_gen, gzip level 6)"
"$REPO/tools/gen/pe_gen" --out-dir "$TMP/files" --count "$N" --no-heap --gzip-level 6 --quiet
find "$TMP/files" -name '*.pb.gz' | sort >"$TMP/files.list"
"$TMP/bin/copy_stream" "$TMP/files.list" >"$TMP/files.copy"
GZ_BYTES=$(awk '{ print }' "$TMP/files.list" | xargs stat -c %s | awk '{ s += $1 } END { print s }')

q <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_bytea, bench_stored, bench_profile, bench_fg, bench_stage, bench_day, bench_mem;
CREATE TABLE bench_bytea (b bytea);
-- the stored values' bytes, kept as the profile type keeps them (no pglz attempt)
CREATE TABLE bench_stored (b bytea);
ALTER TABLE bench_stored ALTER COLUMN b SET STORAGE external;
CREATE TABLE bench_profile (profile profile);
SQL

# ------------------------------------------------------------------ 1. ingest
say "1. ingest: COPY into profile and bytea, zlib gunzip ($REPS runs each)"
copy_seconds() {	# COPY stream $2 (default: the pprof files) into table $1, seconds
	q -c "TRUNCATE $1"
	q -c "CHECKPOINT" 2>/dev/null || true
	local t0
	t0=$(now)
	psql -X -v ON_ERROR_STOP=1 -q -c "COPY $1 FROM STDIN WITH (FORMAT binary)" <"${2:-$TMP/files.copy}"
	since "$t0"
}
T_PROFILE='' T_BYTEA='' T_GUNZIP=''
for _ in $(seq "$REPS"); do
	T_BYTEA+=" $(copy_seconds bench_bytea)"
	T_PROFILE+=" $(copy_seconds bench_profile)"
	T_GUNZIP+=" $("$TMP/bin/gunzip_timer" "$TMP/files.list" 1 | awk '{ print $1 }')"
done
T_BYTEA=$(echo "$T_BYTEA" | median)
T_PROFILE=$(echo "$T_PROFILE" | median)
T_GUNZIP=$(echo "$T_GUNZIP" | median)
PLAIN_BYTES=$("$TMP/bin/gunzip_timer" "$TMP/files.list" 1 | awk '{ print $3 }')
q -c "ANALYZE bench_profile"

# What bounds 1a (info rows).  PostgreSQL's own cost of storing what we store: the stored
# values' bytes (profile_send: the value as stored) COPYed into bytea, against the same
# gunzip time; and the core's steps over the same files in one process (ingest_driver).
say "1a floor: COPY of the stored values into bytea; the core's ingest stages ($REPS runs each)"
psql -X -v ON_ERROR_STOP=1 -q -c "COPY (SELECT profile_send(profile) FROM bench_profile) TO STDOUT WITH (FORMAT binary)" \
	>"$TMP/stored.copy"
T_STORED_COPY=''
for _ in $(seq "$REPS"); do
	T_STORED_COPY+=" $(copy_seconds bench_stored "$TMP/stored.copy")"
done
T_STORED_COPY=$(echo "$T_STORED_COPY" | median)
STORED_SEND_BYTES=$(qv -c "SELECT sum(octet_length(profile_send(profile))) FROM bench_profile")
build/bench/ingest_driver --reps "$REPS" "$TMP/files.list" >"$TMP/ingest_stages.txt"
ingest_stage() { awk -v s="$1" '$1 == "stage" && $2 == s { print $3 }' "$TMP/ingest_stages.txt"; }
INGEST_LEVEL=$(awk '$1 == "files" { for (i = 1; i < NF; i++) if ($i == "level") print $(i + 1) }' "$TMP/ingest_stages.txt")

SAMPLES=$(qv -c "SELECT round(avg(profile_total(profile, 'samples'))) FROM bench_profile")

# perf record the backend running script $2 (psql, application_name bench_$1) and keep
# the hottest functions by self time in $TMP/$1.top.
perf_backend() {
	local name=$1 script=$2 pid='' perf_pid psql_pid
	{ echo "SELECT pg_sleep(1);"; cat "$script"; } |
		PGAPPNAME=bench_$name psql -X -v ON_ERROR_STOP=1 -q -At -o /dev/null &
	psql_pid=$!
	for _ in $(seq 100); do
		pid=$(qv -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_$name'")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	perf record --call-graph dwarf,16384 -F 999 -o "$TMP/$name.perf" -p "$pid" \
		>"$TMP/$name.perf.log" 2>&1 &
	perf_pid=$!
	wait "$psql_pid"
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" || true
	perf report -i "$TMP/$name.perf" --no-children --sort dso,symbol --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | sed 's/[ -]*$//' | head -n 25 >"$TMP/$name.top" || true
	perf report -i "$TMP/$name.perf" --children --sort symbol --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+% +[0-9.]+%' | sed 's/[ -]*$//' | head -n 40 >"$TMP/$name.children" || true
}

# ------------------------------------------------------------------ 2. storage
STORED=$(qv -c "SELECT sum(pg_column_size(profile)) FROM bench_profile")

# ------------------------------------------------------------------ 3. merge
say "3. merge: profile_merge serial and parallel, go tool pprof ($REPS runs each)"
SERIAL_SET="SET max_parallel_workers_per_gather = 0;"
PARALLEL_SET="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
	SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
MERGE_SQL="SELECT profile_total(profile_merge(profile)) FROM bench_profile;"
pprof_merge_seconds() {	# go tool pprof -proto merging all files (in chunks when many)
	local t0 chunks=() c
	t0=$(now)
	rm -rf "$TMP/pprof" && mkdir "$TMP/pprof"
	if [ "$N" -le "$PPROF_CHUNK" ]; then
		go tool pprof -proto -symbolize=none $(cat "$TMP/files.list") \
			>"$TMP/pprof/merged.pb.gz" 2>"$TMP/pprof/err" || { cat "$TMP/pprof/err" >&2; return 1; }
	else
		split -l "$PPROF_CHUNK" -d -a 4 "$TMP/files.list" "$TMP/pprof/list."
		for c in "$TMP"/pprof/list.*; do
			go tool pprof -proto -symbolize=none $(cat "$c") >"$c.pb.gz" 2>"$TMP/pprof/err" ||
				{ cat "$TMP/pprof/err" >&2; return 1; }
			chunks+=("$c.pb.gz")
		done
		go tool pprof -proto -symbolize=none "${chunks[@]}" \
			>"$TMP/pprof/merged.pb.gz" 2>"$TMP/pprof/err" || { cat "$TMP/pprof/err" >&2; return 1; }
	fi
	since "$t0"
}
# Timed on a warm connection (a pool's), as the dashboard rows are; a new connection's first
# merge is reported beside it (3a'').
# Detoasting the same rows on a warm connection: the floor row beside 3a.
DETOAST_SQL="SELECT sum(length(profile_send(profile))) FROM bench_profile;"
T_SERIAL='' T_SERIAL_NEW='' T_PARALLEL='' T_PPROF='' T_DETOAST=''
for _ in $(seq "$REPS"); do
	T_SERIAL_NEW+=" $(echo "$SERIAL_SET $MERGE_SQL" | sql_ms)"
	T_SERIAL+=" $(echo "$SERIAL_SET $MERGE_SQL" | sql_ms_warm)"
	T_DETOAST+=" $(echo "$SERIAL_SET $DETOAST_SQL" | sql_ms_warm)"
	T_PARALLEL+=" $(echo "$PARALLEL_SET $MERGE_SQL" | sql_ms_warm)"
	if [ "$PPROF_OK" = 1 ]; then
		T_PPROF+=" $(pprof_merge_seconds)"
	fi
done
T_SERIAL=$(calc %.4f "$(echo "$T_SERIAL" | median) / 1000")
T_SERIAL_NEW=$(calc %.4f "$(echo "$T_SERIAL_NEW" | median) / 1000")
T_PARALLEL=$(calc %.4f "$(echo "$T_PARALLEL" | median) / 1000")
T_PPROF=$(echo "${T_PPROF:-}" | median)
T_DETOAST=$(echo "$T_DETOAST" | median)
# The merge's stages over the same stored values in one process (merge_driver --stages).
say "3a stages: zstd only, validating decode, merge of the stored values ($REPS runs each)"
build/bench/merge_driver --stages --reps "$REPS" --values "$TMP/stored.copy" >"$TMP/merge_stages.txt"
merge_stage() { awk -v s="$1" '$1 == "stage" && $2 == s { print $3 }' "$TMP/merge_stages.txt"; }
WORKERS=$(echo "EXPLAIN (ANALYZE, COSTS OFF) $MERGE_SQL" | { echo "$PARALLEL_SET"; cat; } | qv |
	awk '/Workers Launched:/ { print $NF; exit }')
MERGED_NODES=$(qv -c "SELECT profile_info(profile_merge(profile))->>'nodes' FROM bench_profile")

# The same stages in instructions (callgrind; optional): each stage is a function of its own
# in the drivers, so its inclusive count is its cost.  Files are read before instrumenting.
cg_stage() {	# callgrind output $1, stage function $2: inclusive instructions
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
		awk -v f=":stage_$2" '!found && (index($0, f " [") || index($0, f ".")) { gsub(",", "", $1); print $1; found = 1 }'
}
if [ "$CALLGRIND" -gt 0 ]; then
	say "callgrind: the stage drivers over the first $CALLGRIND files"
	head -n "$CALLGRIND" "$TMP/files.list" >"$TMP/cg.list"
	CG_FILES=$(wc -l <"$TMP/cg.list")
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/cg.ingest" \
		build/bench/ingest_driver --reps 1 "$TMP/cg.list" >/dev/null 2>"$TMP/cg.ingest.log"
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/cg.merge" \
		build/bench/merge_driver --stages --reps 1 "$TMP/cg.list" >/dev/null 2>"$TMP/cg.merge.log"
	CG_ZLIB=$(cg_stage "$TMP/cg.ingest" zlib)
	CG_INFLATE=$(cg_stage "$TMP/cg.ingest" inflate)
	CG_READ=$(( CG_INFLATE + $(cg_stage "$TMP/cg.ingest" read_tree) ))
	CG_ENC0=$(( CG_READ + $(cg_stage "$TMP/cg.ingest" encode0) ))
	CG_ENC=$(( CG_READ + $(cg_stage "$TMP/cg.ingest" encode) ))
	CG_ZSTD=$(cg_stage "$TMP/cg.merge" zstd)
	CG_DECODE=$(cg_stage "$TMP/cg.merge" decode)
	CG_MERGE=$(cg_stage "$TMP/cg.merge" merge)
fi

if [ "$PERF" = 1 ]; then
	say "perf: ingest and serial merge backends"
	{ echo "CREATE TEMP TABLE perf_ingest (profile profile);"
	  echo "\\copy perf_ingest FROM '$TMP/files.copy' WITH (FORMAT binary)"; } >"$TMP/ingest.sql"
	perf_backend ingest "$TMP/ingest.sql"
	echo "$SERIAL_SET $MERGE_SQL $MERGE_SQL" >"$TMP/merge.sql"
	perf_backend merge "$TMP/merge.sql"
fi

# ------------------------------------------------------------------ 4. flame graph rows
say "4. flame graph rows of a tree of > 1M nodes"
CHUNKS=10
q <<SQL
CREATE TABLE bench_fg AS
SELECT profile_merge(part) AS p FROM (
	SELECT profile_from_folded(string_agg(
		'main;serve;a_' || (i % 8) || ';b_' || (i / 8 % 64) || ';c_' || (i / 64 % 512)
		|| ';d_' || (i / 512 % 4096) || ';e_' || (i % 32768) || ';f_' || (i % 50000)
		|| ';g_' || (i % 200000) || ';h_' || (i * 7 % 200000) || ';leaf_' || (i * 13 % 100000)
		|| ' ' || (1 + i % 97), E'\n')) AS part
	  FROM generate_series(0, $FG_LINES - 1) i GROUP BY i % $CHUNKS) parts;
SQL
FG_NODES=$(qv -c "SELECT profile_info(p)->>'nodes' FROM bench_fg")
T_FG8K='' T_FG0='' T_DECODE=''
for _ in $(seq "$REPS"); do
	T_DECODE+=" $(echo "SELECT count(*) FROM bench_fg, profile_top(p, NULL, 1);" | sql_ms)"
	T_FG8K+=" $(echo "SELECT count(*) FROM bench_fg, flamegraph(p, NULL, 8192);" | sql_ms)"
	T_FG0+=" $(echo "SELECT count(*) FROM bench_fg, flamegraph(p, NULL, 0);" | sql_ms)"
done
T_DECODE=$(echo "$T_DECODE" | median)
T_FG8K=$(echo "$T_FG8K" | median)
T_FG0=$(echo "$T_FG0" | median)
FG8K_ROWS=$(qv -c "SELECT count(*) FROM bench_fg, flamegraph(p, NULL, 8192)")
FG0_ROWS=$(qv -c "SELECT count(*) FROM bench_fg, flamegraph(p, NULL, 0)")

# ------------------------------------------------------------------ 5. dashboard
say "5. dashboard: $DAY_ROWS profiles/day x 10 services"
q <<SQL
CREATE TABLE bench_stage (ts timestamptz, labels jsonb, profile profile);
CREATE TABLE bench_day (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL);
SQL
"$REPO/tools/gen/pe_gen" --start '2026-01-01 00:00:00' --count "$DAY_ROWS" --services checkout \
	--regions 1 --pods 1 --cpu-interval 10 --no-heap --samples 100 --stacks 300 \
	--gzip-level 6 --quiet | q -c "COPY bench_stage FROM STDIN WITH (FORMAT binary)"
# Ten services sending at the same times, in arrival order (interleaved), same profiles.
q <<SQL
INSERT INTO bench_day
SELECT s.ts, s.labels || jsonb_build_object('service_name', 'svc' || k,
			'pod', 'svc' || k || '-' || (s.labels->>'pod')), s.profile
  FROM bench_stage s CROSS JOIN generate_series(0, 9) k ORDER BY s.ts, k;
CREATE INDEX bench_day_labels ON bench_day USING gin (labels jsonb_path_ops);
CREATE INDEX bench_day_ts ON bench_day (ts);
VACUUM ANALYZE bench_day;
SQL
DAY_TOTAL=$(qv -c "SELECT count(*) FROM bench_day")
read -r DAY_FROM DAY_TO < <(qv -F ' ' -c "SELECT
	quote_literal(to_char(date_trunc('day', min(ts) AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')),
	quote_literal(to_char(date_trunc('day', min(ts) AT TIME ZONE 'UTC') + interval '1 day',
		'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) FROM bench_day")
SVC="labels @> '{\"service_name\": \"svc3\"}'"
DASH_SQL="SELECT * FROM flamegraph((SELECT profile_merge(profile) FROM bench_day
	WHERE $SVC AND ts >= $DAY_FROM AND ts < $DAY_TO));"
NOINDEX_SET="SET enable_bitmapscan = off; SET enable_indexscan = off; SET enable_indexonlyscan = off;"
DASH_PLAN=$(qv -c "EXPLAIN (COSTS OFF) $DASH_SQL")
DASH_GIN=no
if grep -q 'Bitmap Index Scan on bench_day_labels' <<<"$DASH_PLAN"; then
	DASH_GIN=yes
fi
DASH_ROWS=$(qv -c "SELECT count(*) FROM (${DASH_SQL%;}) f")
DASH_MERGED=$(qv -c "SELECT count(*) FROM bench_day WHERE $SVC AND ts >= $DAY_FROM AND ts < $DAY_TO")
T_DASH='' T_DASH_SEQ=''
for _ in $(seq "$REPS"); do
	T_DASH+=" $(echo "$DASH_SQL" | sql_ms)"
	T_DASH_SEQ+=" $(echo "$NOINDEX_SET $DASH_SQL" | sql_ms)"
done
T_DASH=$(echo "$T_DASH" | median)
T_DASH_SEQ=$(echo "$T_DASH_SEQ" | median)

# ------------------------------------------------------------------ 6. diff
say "6. diff of two one-hour windows"
window() {	# the merge of svc3 over hour $1 of the day
	echo "(SELECT profile_merge(profile) FROM bench_day WHERE $SVC
		AND ts >= $DAY_FROM::timestamptz + interval '$1 hours'
		AND ts < $DAY_FROM::timestamptz + interval '$(($1 + 1)) hours')"
}
DIFF_SQL="SELECT * FROM flamegraph_diff($(window 10), $(window 11));"
T_DIFF='' T_TWO=''
for _ in $(seq "$REPS"); do
	T_DIFF+=" $(echo "$DIFF_SQL" | sql_ms)"
	a=$(echo "SELECT * FROM flamegraph($(window 10));" | sql_ms)
	b=$(echo "SELECT * FROM flamegraph($(window 11));" | sql_ms)
	T_TWO+=" $(calc %.3f "$a + $b")"
done
T_DIFF=$(echo "$T_DIFF" | median)
T_TWO=$(echo "$T_TWO" | median)
DIFF_ROWS=$(qv -c "SELECT count(*) FROM (${DIFF_SQL%;}) f")

# ------------------------------------------------------------------ 7. memory
say "7. memory: peak backend RSS of profile_merge over 1 and $COPIES copies"
q -c "CREATE TABLE bench_mem AS SELECT profile FROM bench_profile LIMIT 1"
MEM_NODES=$(qv -c "SELECT profile_info(profile)->>'nodes' FROM bench_mem")
# VmHWM growth of a fresh backend (warmed up by one call) merging $1 copies of one value;
# the copies stream from a ProjectSet (generate_series in the target list) so nothing but
# the aggregate holds memory per row.
hwm_delta_kb() {
	qv <<SQL | tail -n 1
SELECT profile_total(profile) FROM bench_mem;
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint AS before \gset
SELECT profile_total(profile_merge(p))
  FROM (SELECT (SELECT profile FROM bench_mem) AS p, generate_series(1, $1) AS g) copies;
SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\s*(\d+)')::bigint - :before;
SQL
}
MEM_1='' MEM_N=''
if qv -c "SELECT pg_read_file('/proc/self/status')" >/dev/null 2>&1; then
	for _ in $(seq "$REPS"); do
		MEM_1+=" $(hwm_delta_kb 1)"
		MEM_N+=" $(hwm_delta_kb "$COPIES")"
	done
fi
MEM_1=$(echo "$MEM_1" | median)
MEM_N=$(echo "$MEM_N" | median)

# ------------------------------------------------------------------ 8. retention and rollups
say "8. rollups: $ROLLUP_DAYS days, svc3 every ${ROLLUP_STEP}s, 9 services every ${ROLLUP_OTHER_STEP}s"
# The day of pe_gen profiles of section 5 is the pool; each row gets one of them.
q -o /dev/null <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_pool, bench_store, bench_store_rollup, bench_store_rollup_dirty CASCADE;
DELETE FROM profile_store WHERE table_name = 'bench_store';
CREATE TABLE bench_pool AS SELECT (row_number() OVER (ORDER BY ts) - 1)::int AS i, profile FROM bench_stage;
SELECT FROM profile_store_create('bench_store', raw_retention => '$((ROLLUP_DAYS + 3)) days', rollup => '1 hour',
	rollup_retention => '400 days', schedule => NULL);
SQL
# (the store: daily partitions, no pg_partman or pg_cron in this cluster)
POOL=$(qv -c "SELECT count(*) FROM bench_pool")
T0=$(now)
q <<SQL
INSERT INTO bench_store (ts, labels, profile)
SELECT g.ts, jsonb_build_object('service_name', 'svc' || g.k, 'pod', 'svc' || g.k || '-0'), p.profile
  FROM (SELECT ts, k, row_number() OVER () AS n
		  FROM generate_series(0, 9) k,
			   LATERAL generate_series(date_trunc('hour', now()) - interval '$ROLLUP_DAYS days', now(),
				   CASE WHEN k = 3 THEN interval '$ROLLUP_STEP seconds' ELSE interval '$ROLLUP_OTHER_STEP seconds' END) ts) g
  JOIN bench_pool p ON p.i = g.n % $POOL;
VACUUM ANALYZE bench_store;
SQL
T_ROLLUP_LOAD=$(since "$T0")
T0=$(now)
q -c "CALL profile_store_maintain('bench_store')"
T_MAINTAIN=$(since "$T0")
q -c "VACUUM ANALYZE bench_store_rollup"
STORE_ROWS=$(qv -c "SELECT count(*) FROM bench_store")
IFS='|' read -r WIN_FROM WIN_TO < <(qv -F '|' -c "SELECT
	quote_literal(now() - interval '$ROLLUP_DAYS days' + interval '7 minutes 3 seconds'),
	quote_literal(now() - interval '13 minutes')")
SVC3="'{\"service_name\": \"svc3\"}'"
WIN_ROWS=$(qv -c "SELECT count(*) FROM bench_store WHERE labels @> $SVC3 AND ts >= $WIN_FROM AND ts < $WIN_TO")
WIN_BUCKETS=$(qv -c "SELECT count(*) FROM bench_store_rollup WHERE labels @> $SVC3 AND bucket >= $WIN_FROM AND bucket < $WIN_TO")
WIN_DAYS=$(qv -c "SELECT count(*) FROM bench_store_rollup_daily WHERE labels @> $SVC3 AND bucket >= $WIN_FROM AND bucket < $WIN_TO")
ROLLUP_SQL="SELECT * FROM flamegraph(profile_store_merge('bench_store', $WIN_FROM, $WIN_TO, $SVC3));"
RAWMERGE_SQL="SELECT * FROM flamegraph((SELECT profile_merge(profile) FROM bench_store
	WHERE labels @> $SVC3 AND ts >= $WIN_FROM AND ts < $WIN_TO));"
SAME=$(qv -c "SELECT md5(profile_to_folded(profile_store_merge('bench_store', $WIN_FROM, $WIN_TO, $SVC3)))
	= md5(profile_to_folded((SELECT profile_merge(profile) FROM bench_store
		WHERE labels @> $SVC3 AND ts >= $WIN_FROM AND ts < $WIN_TO)))")
T_ROLLUPQ='' T_RAWQ=''
for _ in $(seq "$REPS"); do
	T_ROLLUPQ+=" $(echo "$ROLLUP_SQL" | sql_ms)"
	T_RAWQ+=" $(echo "$RAWMERGE_SQL" | sql_ms)"
done
T_ROLLUPQ=$(echo "$T_ROLLUPQ" | median)
T_RAWQ=$(echo "$T_RAWQ" | median)

# Ingest overhead of the rollup triggers: the same rows into the same store, triggers on
# and off (ALTER TABLE ... DISABLE TRIGGER USER), interleaved; rows of yesterday.
"$REPO/tools/gen/pe_gen" --start "$(date -u -d 'yesterday' '+%Y-%m-%d 00:00:00')" --count "$DAY_ROWS" \
	--services checkout --regions 1 --pods 1 --cpu-interval 10 --no-heap --samples 100 --stacks 300 \
	--gzip-level 6 --quiet >"$TMP/store.copy"
qv -c "SELECT format('INSERT INTO bench_store VALUES (%L, %L, %L);', now() - interval '1 day' + i * interval '1 second',
	'{\"service_name\": \"ingest\"}', profile::text) FROM bench_pool WHERE i < $INSERTS" >"$TMP/inserts.sql"
ingest_seconds() {	# $1 = copy | inserts; the ingest rows are deleted afterwards
	local t0 s
	q -c "CHECKPOINT" 2>/dev/null || true
	t0=$(now)
	if [ "$1" = copy ]; then
		psql -X -v ON_ERROR_STOP=1 -q -c "COPY bench_store (ts, labels, profile) FROM STDIN WITH (FORMAT binary)" <"$TMP/store.copy"
	else
		psql -X -v ON_ERROR_STOP=1 -q -f "$TMP/inserts.sql"
	fi
	s=$(since "$t0")
	q -c "ALTER TABLE bench_store DISABLE TRIGGER USER" \
		-c "DELETE FROM bench_store WHERE labels @> '{\"service_name\": \"ingest\"}' OR labels @> '{\"service_name\": \"checkout\"}'" \
		-c "ALTER TABLE bench_store ENABLE TRIGGER USER" -c "VACUUM bench_store"
	echo "$s"
}
T_ING_COPY='' T_ING_COPY0='' T_ING_INS='' T_ING_INS0=''
for _ in $(seq "$REPS"); do
	T_ING_COPY+=" $(ingest_seconds copy)"
	T_ING_INS+=" $(ingest_seconds inserts)"
	q -c "ALTER TABLE bench_store DISABLE TRIGGER USER"
	T_ING_COPY0+=" $(ingest_seconds copy)"
	q -c "ALTER TABLE bench_store DISABLE TRIGGER USER"
	T_ING_INS0+=" $(ingest_seconds inserts)"
done
q -c "ALTER TABLE bench_store ENABLE TRIGGER USER"
T_ING_COPY=$(echo "$T_ING_COPY" | median)
T_ING_COPY0=$(echo "$T_ING_COPY0" | median)
T_ING_INS=$(echo "$T_ING_INS" | median)
T_ING_INS0=$(echo "$T_ING_INS0" | median)
# ------------------------------------------------------------------ 10. summary accessors
say "10. summary accessors and the day timeline ($REPS runs each)"
READ_SQL="SELECT sum(length(profile_send(profile))) FROM bench_profile;"
declare -A ACC_SQL=(
	[total]="SELECT sum(profile_total(profile, 'cpu')) FROM bench_profile;"
	[sample_types]="SELECT count(profile_sample_types(profile)) FROM bench_profile;"
	[time]="SELECT count(profile_time(profile)) FROM bench_profile;"
	[duration]="SELECT count(profile_duration(profile)) FROM bench_profile;"
	[info]="SELECT count(profile_info(profile)) FROM bench_profile;"
)
ACCESSORS="total sample_types time duration info"
# The dashboard's CPU timeline: label filters (GIN-indexable @>), totals from the summary.
TIMELINE_SQL="SELECT date_bin('1 minute', ts, '2000-01-01') AS time, labels->>'service_name' AS service,
	sum(profile_total(profile, 'cpu')) AS cpu FROM bench_day
	WHERE ts >= $DAY_FROM AND ts < $DAY_TO AND labels @> '{\"__name__\": \"process_cpu\"}'
	GROUP BY 1, 2;"
TIMELINE_ROWS=$(qv -c "SELECT count(*) FROM bench_day WHERE ts >= $DAY_FROM AND ts < $DAY_TO
	AND labels @> '{\"__name__\": \"process_cpu\"}'")
READ_DAY_SQL="SELECT sum(length(profile_send(profile))) FROM bench_day WHERE ts >= $DAY_FROM AND ts < $DAY_TO
	AND labels @> '{\"__name__\": \"process_cpu\"}';"
T_READ='' T_TIMELINE='' T_READ_DAY='' T_TIMELINE_NEW=''
declare -A T_ACC=()
for _ in $(seq "$REPS"); do
	T_READ+=" $(echo "$READ_SQL" | sql_ms)"
	for a in $ACCESSORS; do
		T_ACC[$a]+=" $(echo "${ACC_SQL[$a]}" | sql_ms)"
	done
	T_TIMELINE_NEW+=" $(echo "$TIMELINE_SQL" | sql_ms)"
	T_READ_DAY+=" $(echo "$READ_DAY_SQL" | sql_ms_warm)"
	T_TIMELINE+=" $(echo "$TIMELINE_SQL" | sql_ms_warm)"
done
T_READ=$(echo "$T_READ" | median)
for a in $ACCESSORS; do
	T_ACC[$a]=$(echo "${T_ACC[$a]}" | median)
done
T_READ_DAY=$(echo "$T_READ_DAY" | median)
T_TIMELINE=$(echo "$T_TIMELINE" | median)
T_TIMELINE_NEW=$(echo "$T_TIMELINE_NEW" | median)
STORED_AVG=$(qv -c "SELECT round(avg(octet_length(profile_send(profile)))) FROM bench_profile")

# ------------------------------------------------------------------ 9. gateway
say "9. gateway: Push through profile-gateway, against COPY of the same files"
# shellcheck source=test/bench/gateway.sh
source "$REPO/test/bench/gateway.sh"
gateway_bench

# ------------------------------------------------------------------ the table
TOTAL_SECONDS=$(since "$T_START")
CRASHES=''
if [ "$EXTERNAL" = 0 ]; then
	CRASHES=$(grep -E 'terminated by signal|was terminated by exception|server process .* exited with exit code' \
		"$TMP/pg/server.log" || true)
fi
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@"; }
met() {	# met? for value $1 against "<= x" or ">= x" in $2
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		if (v == "" || v == "n/a") { print "n/a"; exit }
		ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0); print ok ? "yes" : "NO" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.3f", a / b }'; }
MB=$(calc %.1f "$GZ_BYTES / 1048576")
r_gunzip=$(ratio "$T_PROFILE" "$T_GUNZIP")
r_bytea=$(ratio "$T_PROFILE" "$T_BYTEA")
r_store=$(ratio "$STORED" "$GZ_BYTES")
r_serial=$(ratio "$T_SERIAL" "$T_PPROF")
r_parallel=$(ratio "$T_PARALLEL" "$T_PPROF")
r_speedup=$(ratio "$T_PARALLEL" "$T_SERIAL")
r_fg8k=$(ratio "$T_FG8K" "$T_DECODE")
r_fg0=$(ratio "$T_FG0" "$T_DECODE")
r_dash=$(ratio "$T_DASH" "$T_DASH_SEQ")
r_diff=$(ratio "$T_DIFF" "$T_TWO")
r_mem=$(ratio "$MEM_N" "$MEM_1")
r_rollup=$(ratio "$T_ROLLUPQ" "$T_RAWQ")
r_ing_copy=$(ratio "$T_ING_COPY" "$T_ING_COPY0")
r_ing_ins=$(ratio "$T_ING_INS" "$T_ING_INS0")
pps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s == "" || s + 0 == 0) print "n/a"; else printf "%.0f", n / s }'; }
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { if (s == "" || s + 0 == 0) print "n/a"; else printf "%.1f", b / 1048576 / s }'; }

echo
echo "profile_ext benchmark: $N CPU profiles ($SAMPLES samples each on average; $MB MB gzipped at level 6, $(calc %.1f "$PLAIN_BYTES / 1048576") MB plain), medians of $REPS runs; ratio = ours / baseline (below 1: ours smaller or faster)"
echo
row measurement ours baseline ratio target "met?"
row --- --- --- --- --- ---
row "1a. ingest: binary COPY of $N .pb.gz into a profile column" \
	"${T_PROFILE} s = $(mbs "$GZ_BYTES" "$T_PROFILE") MB/s gz, $(pps "$N" "$T_PROFILE") profiles/s" \
	"zlib gunzip in memory (gunzip_timer): ${T_GUNZIP} s = $(mbs "$GZ_BYTES" "$T_GUNZIP") MB/s gz" \
	"${r_gunzip}x" "<= 2x gunzip" "$(met "$r_gunzip" '<=' 2)"
row "1b. ingest: same, against bytea" \
	"${T_PROFILE} s" \
	"COPY of the same bytes into bytea: ${T_BYTEA} s = $(mbs "$GZ_BYTES" "$T_BYTEA") MB/s" \
	"${r_bytea}x" "(info)" "-"
# what bounds 1a: in units of 1a's gunzip time
CORE_INGEST=$(ingest_stage encode)
row "1a floor: binary COPY of the stored values' bytes ($(calc %.1f "$STORED_SEND_BYTES / 1048576") MB = $(ratio "$STORED_SEND_BYTES" "$GZ_BYTES")x the gz bytes; profile_send of 1a's rows) into a bytea column (storage external, as the profile type)" \
	"${T_STORED_COPY} s" "zlib gunzip (1a): ${T_GUNZIP} s" "$(ratio "$T_STORED_COPY" "$T_GUNZIP")x" \
	"(info: PostgreSQL's own cost of writing values of this size, which any extension pays)" "-"
row "1a stages (ingest_driver: src/core only, the same files in one process): inflate (pe_gunzip, libdeflate)" \
	"$(ingest_stage inflate) s" "zlib gunzip (1a): ${T_GUNZIP} s; in the driver's process: $(ingest_stage zlib) s" \
	"$(ratio "$(ingest_stage inflate)" "$T_GUNZIP")x" "(info)" "-"
row "1a stages: + read pprof and build the call tree (pe_pprof_decode: one call in the public API)" \
	"$(ingest_stage read_tree) s" "zlib gunzip (1a): ${T_GUNZIP} s" "$(ratio "$(ingest_stage read_tree)" "$T_GUNZIP")x" "(info)" "-"
row "1a stages: + encode at level 0 (the stored layout, no zstd)" \
	"$(ingest_stage encode0) s" "zlib gunzip (1a): ${T_GUNZIP} s" "$(ratio "$(ingest_stage encode0)" "$T_GUNZIP")x" "(info)" "-"
row "1a stages: + encode at level ${INGEST_LEVEL:-?} instead (zstd with the format's dictionary): the core's whole ingest" \
	"${CORE_INGEST} s" "zlib gunzip (1a): ${T_GUNZIP} s" "$(ratio "$CORE_INGEST" "$T_GUNZIP")x" \
	"(info: 1a minus this, the backend's COPY and storage: $(calc %.3f "$T_PROFILE - ${CORE_INGEST:-0}") s = $(ratio "$(calc %.4f "$T_PROFILE - ${CORE_INGEST:-0}")" "$T_GUNZIP")x gunzip)" "-"
if [ "$CALLGRIND" -gt 0 ]; then
	cg_ratio() { ratio "$1" "$CG_ZLIB"; }
	row "1a stages in instructions (callgrind, the first $CG_FILES files; repeatable under load)" \
		"inflate $(cg_ratio "$CG_INFLATE")x; + read and tree $(cg_ratio "$CG_READ")x; + encode level 0 $(cg_ratio "$CG_ENC0")x; + encode level ${INGEST_LEVEL:-?} instead $(cg_ratio "$CG_ENC")x" \
		"zlib gunzip of the same files (in the driver): $CG_ZLIB instructions" "-" "(info)" "-"
fi
row "2. storage: sum(pg_column_size(profile))" \
	"$STORED B" "gzipped pprof (level 6): $GZ_BYTES B" "${r_store}x" "<= 0.35" "$(met "$r_store" '<=' 0.35)"
row "3a. merge $N profiles, serial (= per core)" \
	"${T_SERIAL} s = $(pps "$N" "$T_SERIAL") profiles/s" \
	"go tool pprof -proto f1..f$N: ${T_PPROF:-n/a} s = $(pps "$N" "$T_PPROF") profiles/s" \
	"${r_serial}x" "<= 0.02 (50x faster)" "$(met "$r_serial" '<=' 0.02)"
row "3a'. merge throughput, one core" \
	"$(pps "$N" "$T_SERIAL") profiles/s" "target: 10000 typical CPU profiles/s per core" \
	"$(calc %.3f "$N / $T_SERIAL / 10000")x of target" ">= 1" "$(met "$(calc %.3f "$N / $T_SERIAL / 10000")" '>=' 1)"
row "3a''. the same serial merge as a new connection's first query" \
	"${T_SERIAL_NEW} s = $(pps "$N" "$T_SERIAL_NEW") profiles/s" "on a connection that ran it before: ${T_SERIAL} s" \
	"$(calc %.3f "$T_SERIAL_NEW / $T_SERIAL")x" "(info: page faults mapping shared_buffers and the state's memory)" "-"
# what bounds 3a: per value, against the 100 us a value may take at 10,000 profiles/s
US_3A=$(calc %.2f "$T_SERIAL * 1e6 / $N")
us_row() {	# label, seconds for the N values, note
	local us
	us=$(calc %.2f "${2:-0} * 1e6 / $N")
	row "$1" "${2} s = ${us} us/value ($(ratio "$us" "$US_3A")x of 3a's ${US_3A} us)" \
		"the 10,000/s target's budget: 100 us/value" "$(calc %.3f "$us / 100")x of budget" "(info${3:+: $3})" "-"
}
us_row "3a floor: detoast only, sum(length(profile_send(profile))) of the same $N rows (warm connection)" \
	"$(calc %.4f "$T_DETOAST / 1000")"
us_row "3a stages (merge_driver --stages: src/core only, the stored values of 3a in one process): zstd decompression of each body only" \
	"$(merge_stage zstd)"
us_row "3a stages: validating decode of each value into a throwaway tree (pe_decode: zstd, every check, and a fresh tree with its own name table, which the merge does not build)" \
	"$(merge_stage decode)"
us_row "3a stages: the whole merge (pe_decode, then pe_decode_merge of each value into the state)" \
	"$(merge_stage merge)" "3a minus this, the executor, detoasting and the aggregate: $(calc %.2f "$US_3A - $(merge_stage merge) * 1e6 / $N") us/value"
if [ "$CALLGRIND" -gt 0 ]; then
	cg_per_value() { awk -v i="$1" -v n="$CG_FILES" 'BEGIN { printf "%.0f", i / n }'; }
	row "3a stages in instructions (callgrind, $CG_FILES values encoded at level 6 by the driver; repeatable under load)" \
		"zstd only $(cg_per_value "$CG_ZSTD"); validating decode $(cg_per_value "$CG_DECODE"); whole merge $(cg_per_value "$CG_MERGE") (instructions per value)" \
		"-" "-" "(info)" "-"
fi
row "3b. merge $N profiles, 2 parallel workers (workers launched: ${WORKERS:-0})" \
	"${T_PARALLEL} s = $(pps "$N" "$T_PARALLEL") profiles/s" \
	"go tool pprof: ${T_PPROF:-n/a} s" "${r_parallel}x" "<= 0.02 (50x faster)" "$(met "$r_parallel" '<=' 0.02)"
row "3c. parallel speedup (2 cores, shared with other load)" \
	"${T_PARALLEL} s" "serial: ${T_SERIAL} s" "${r_speedup}x" "<= 0.7" "$(met "$r_speedup" '<=' 0.7)"
row "4a. flamegraph(p, NULL, 8192), $FG_NODES-node tree -> $FG8K_ROWS rows" \
	"${T_FG8K} ms" "decode and rank functions, profile_top(p, NULL, 1): ${T_DECODE} ms" "${r_fg8k}x" "< 1000 ms" \
	"$(met "$T_FG8K" '<=' 1000)"
row "4b. flamegraph(p, NULL, 0) (no truncation) -> $FG0_ROWS rows" \
	"${T_FG0} ms" "decode and rank: ${T_DECODE} ms" "${r_fg0}x" "(info)" "-"
row "5. dashboard: flamegraph(merge of svc3's day = $DASH_MERGED rows of $DAY_TOTAL), GIN index used: $DASH_GIN" \
	"${T_DASH} ms ($DASH_ROWS rows)" "same query without indexes (seq scan): ${T_DASH_SEQ} ms" \
	"${r_dash}x" "< 1000 ms" "$(met "$T_DASH" '<=' 1000)"
row "6. flamegraph_diff of two one-hour windows of svc3 ($DIFF_ROWS rows)" \
	"${T_DIFF} ms" "two flamegraph() queries, one per window: ${T_TWO} ms" "${r_diff}x" \
	"< 1000 ms" "$(met "$T_DIFF" '<=' 1000)"
row "7. memory: backend peak RSS growth, profile_merge of $COPIES copies of a $MEM_NODES-node profile" \
	"${MEM_N:-n/a} kB" "1 copy: ${MEM_1:-n/a} kB" "${r_mem}x" "<= 2x (bounded by stacks)" \
	"$(met "$r_mem" '<=' 2)"
row "8a. $ROLLUP_DAYS-day flame graph of svc3 through profile_store_merge (rollups in the window: $WIN_DAYS daily, $WIN_BUCKETS hourly; edges from raw rows; same folded bytes as the raw merge: $SAME)" \
	"${T_ROLLUPQ} ms" "raw merge of the same window ($WIN_ROWS rows of $STORE_ROWS): ${T_RAWQ} ms" \
	"${r_rollup}x" "< 1000 ms and <= 0.02 (50x faster)" \
	"$( [ "$(met "$T_ROLLUPQ" '<=' 1000)" = yes ] && [ "$(met "$r_rollup" '<=' 0.02)" = yes ] && echo yes || echo NO)"
row "8b. ingest into the store: binary COPY of $DAY_ROWS pprof files, rollup triggers on" \
	"${T_ING_COPY} s" "same store, triggers disabled: ${T_ING_COPY0} s" "${r_ing_copy}x" "<= 1.10" \
	"$(met "$r_ing_copy" '<=' 1.10)"
row "8c. ingest into the store: $INSERTS single-row INSERTs (one statement each), triggers on" \
	"${T_ING_INS} s" "same store, triggers disabled: ${T_ING_INS0} s" "${r_ing_ins}x" "<= 1.10" \
	"$(met "$r_ing_ins" '<=' 1.10)"
row "8d. first maintenance of the store (rollups of all $STORE_ROWS rows)" \
	"${T_MAINTAIN} s" "loading those rows (INSERT ... SELECT from a pool): ${T_ROLLUP_LOAD} s" "-" "(info)" "-"
gateway_rows
for a in $ACCESSORS; do
	r=$(ratio "${T_ACC[$a]}" "$T_READ")
	row "10. profile_$a over the $N profiles (stored ~$STORED_AVG B each)" \
		"${T_ACC[$a]} ms" "sum(length(profile_send(profile))) of the same rows: ${T_READ} ms" \
		"${r}x" "<= 3x" "$(met "$r" '<=' 3)"
done
row "10'. timeline: CPU per minute and service, a day of 10 services ($TIMELINE_ROWS rows)" \
	"${T_TIMELINE} ms" "reading those rows' bytes: ${T_READ_DAY} ms" "$(ratio "$T_TIMELINE" "$T_READ_DAY")x" \
	"< 1000 ms" "$(met "$T_TIMELINE" '<=' 1000)"
row "10''. the same timeline as a new connection's first query" \
	"${T_TIMELINE_NEW} ms" "the timeline on a connection that ran it before: ${T_TIMELINE} ms" \
	"$(ratio "$T_TIMELINE_NEW" "$T_TIMELINE")x" "(info: page faults mapping shared_buffers; a pool or huge_pages avoids them)" "-"
echo
PGVER=$(qv -c "SHOW server_version")
SETTINGS=$(qv -F ' ' -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
	FROM pg_settings WHERE name IN ('shared_buffers', 'max_parallel_workers_per_gather', 'work_mem', 'fsync')")
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), PostgreSQL $PGVER; $([ "$EXTERNAL" = 1 ] && echo 'server from PG* environment' || echo 'throwaway cluster'): $SETTINGS (fsync off: no durability cost in the ingest numbers); command: $CMDLINE (N=$N, REPS=$REPS); total ${TOTAL_SECONDS} s; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pprof merge: $([ "$N" -le "$PPROF_CHUNK" ] && echo "one call with all $N files" || echo "chunks of $PPROF_CHUNK files, then one call merging the chunk results (total time)"), -symbolize=none; merged tree: $MERGED_NODES nodes"
echo
if [ -n "$CRASHES" ]; then
	echo "WARNING: backends crashed during the run; numbers after it are not valid:"
	sed 's/^/    /' <<<"$CRASHES"
fi
echo "dashboard plan (EXPLAIN):"
sed 's/^/    /' <<<"$DASH_PLAN"
if [ "$PERF" = 1 ]; then
	for name in ingest merge; do
		echo
		echo "perf, $name backend (self time, top 25):"
		sed 's/^/    /' "$TMP/$name.top"
		echo "perf, $name backend (inclusive time: children, self; top 40):"
		sed 's/^/    /' "$TMP/$name.children"
	done
fi
[ -z "$CRASHES" ]
