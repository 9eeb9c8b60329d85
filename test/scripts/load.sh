#!/usr/bin/env bash
# load.sh: profile_ext under a mixed ingest and query load, then cancellation latency.
#
# For PROFILE_EXT_LOAD_SECONDS (default 60) at once, against the test database:
#  - pgbench, 2 writer clients (test/load/writer.sql): batches of 5 profiles parsed from
#    pprof on the server, 10 transactions a second in all (50 profiles/s);
#  - a shell loop doing real COPY ... FROM STDIN (FORMAT binary) of tools/gen/pe_gen
#    output, the wire ingest path (profile_recv) that pgbench cannot drive;
#  - pgbench, 2 reader clients: a merged flame graph of a recent window
#    (test/load/reader_flamegraph.sql) and the diff of two windows (reader_diff.sql);
#  - one more reader session repeating those queries and reading its own memory after
#    each: pg_backend_memory_contexts (PostgreSQL 14+) and, when the server runs on this
#    machine, RssAnon from /proc (malloc'ed memory, which contexts do not show).
# Asserts: pgbench exits 0 with no failed or aborted transactions, every COPY succeeds,
# all stored rows decode, and the reader backend's memory is steady: after a warm-up,
# the last context total is less than 1.2 times the first, and the RssAnon peak of the
# last 5 readings is less than 3 times that of the first 5 (malloc free lists make
# resident memory jump; the memory contexts are the precise check).
# Then, on the quiet server, a profile_merge over 100,000 profiles (doubled until it runs
# longer than 3.5 s) must stop within 1.5 s
# of statement_timeout (500 ms) and of pg_cancel_backend at several known moments, with
# and without parallel workers.  The numbers measured are printed.
# Needs PG* connection variables (test/run_all.sh sets them) and pgbench.
# Last line "N passed, N failed[, N skipped]".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=${REPO:-$(cd "$here/../.." && pwd)}
export LC_ALL=C.UTF-8
LOAD_SECONDS=${PROFILE_EXT_LOAD_SECONDS:-60}
LOAD_DIR=$repo/test/load
STAGING_ROWS=300
WARMUP=4				# memory readings ignored while caches fill
MEMORY_QUERIES=24		# queries in the memory session
STOP_LIMIT_MS=1500		# allowed delay between a cancel and the error: far below the
				# ~20 s an uninterruptible merge would take, far above scheduling
				# noise on a loaded 2-core machine (speed is make bench's job)
# shellcheck source=test/lib.sh
source "$repo/test/lib.sh"

pe_work load
BG_PIDS=()
stop_background() {
	local pid
	for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
}
PE_CLEANUP_HOOKS+=(stop_background)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

if ! command -v pgbench >/dev/null 2>&1; then
	skip "pgbench is not installed"
	finish
fi
pe_private_gen "$repo" "$WORK"

# ---------------------------------------------------------------- setup
t0=$SECONDS
echo "setup: $STAGING_ROWS staging profiles, 4 minutes of history, 100,000 small profiles"
q <<'EOF' || { bad "setup failed"; finish; }
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS profile_ext;
DROP TABLE IF EXISTS load_staging, load_profiles, load_big;
CREATE TABLE load_staging (id serial PRIMARY KEY, ts timestamptz, labels jsonb,
						   profile profile, pprof bytea);
CREATE TABLE load_profiles (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT now(),
							labels jsonb, profile profile);
CREATE INDEX ON load_profiles (ts);
CREATE TABLE load_big (p profile);
EOF
"$GEN" --quiet --count "$STAGING_ROWS" --seed 42 |
	q -c "COPY load_staging (ts, labels, profile) FROM STDIN WITH (FORMAT binary)" &&
	q <<'EOF' || { bad "setup failed"; finish; }
UPDATE load_staging SET pprof = profile_to_pprof(profile);
-- History for the readers' windows: the staging profiles spread over the last 4 minutes.
INSERT INTO load_profiles (ts, labels, profile)
	SELECT now() - (id % 240) * interval '1 second', labels, profile FROM load_staging;
-- 100,000 profiles of 8 stacks each; merged they make a tree of about 800,000 nodes.
INSERT INTO load_big
	SELECT profile_from_folded(string_agg(format('main;svc.handler%s;lib.g%s;leaf%s %s',
			(i * 7 + j) % 500, (i + j) % 37, (i * 13 + j) % 3000, 1 + j), E'\n'))
	FROM generate_series(1, 100000) i, generate_series(1, 8) j GROUP BY i;
VACUUM ANALYZE load_staging, load_profiles, load_big;
EOF
echo "setup took $((SECONDS - t0))s"

# ---------------------------------------------------------------- the load
# The memory session: the two reader queries alternately, a memory reading after each.
have_contexts=$(q -c "SELECT current_setting('server_version_num')::int >= 140000")
{
	echo "SET application_name = 'pe_load_memory';"
	# The backend's private resident memory too (malloc'ed memory such as zstd's does not
	# show in memory contexts), when the server runs on this machine.
	echo "SELECT pg_backend_pid() AS be_pid \gset"
	echo "\setenv PE_BE_PID :be_pid"
	for i in $(seq 1 "$MEMORY_QUERIES"); do
		svc=$((i % 3 + 1))
		if [ $((i % 2)) = 0 ]; then
			sed -e '/^--/d' -e '/^\\set/d' -e "s/:svc/$svc/g" "$LOAD_DIR/reader_flamegraph.sql"
		else
			sed -e '/^--/d' -e '/^\\set/d' -e "s/:svc/$svc/g" "$LOAD_DIR/reader_diff.sql"
		fi
		[ "$have_contexts" = t ] &&
			echo "SELECT 'mem', sum(total_bytes) FROM pg_backend_memory_contexts;"
		echo "\\! awk '/^RssAnon:/ { print \"rss|\" \$2 * 1024 }' /proc/\$PE_BE_PID/status 2>/dev/null"
	done
} >"$WORK/memory.sql"

# Real COPY FROM STDIN of generator output until the deadline; one line per batch.
copy_loop() {
	local deadline=$1 k=0 out
	while [ "$(date +%s)" -lt "$deadline" ]; do
		k=$((k + 1))
		if out=$("$GEN" --quiet --count 20 --seed $((1000 + k)) --start "$(date -u '+%Y-%m-%d %H:%M:%S')" |
			psql -X -q -v ON_ERROR_STOP=1 \
				-c "COPY load_profiles (ts, labels, profile) FROM STDIN WITH (FORMAT binary)" 2>&1); then
			echo "ok 20"
		else
			echo "error $k: $out"
		fi
		sleep 0.3
	done
}

echo "load: ${LOAD_SECONDS}s of 2 pgbench writers (10 tx/s, 5 profiles each), a COPY loop," \
	"2 pgbench readers, 1 memory-watching reader"
start=$(date +%s)
pgbench -n -c 2 -j 2 -T "$LOAD_SECONDS" -R 10 -P 20 -D nstaging="$STAGING_ROWS" \
	-f "$LOAD_DIR/writer.sql" >"$WORK/writers.log" 2>&1 &
BG_PIDS+=($!) writers_pid=$!
pgbench -n -c 2 -j 2 -T "$LOAD_SECONDS" -P 20 \
	-f "$LOAD_DIR/reader_flamegraph.sql" -f "$LOAD_DIR/reader_diff.sql" >"$WORK/readers.log" 2>&1 &
BG_PIDS+=($!) readers_pid=$!
copy_loop $((start + LOAD_SECONDS)) >"$WORK/copy.log" 2>&1 &
BG_PIDS+=($!) copy_pid=$!
psql -X -q -At -v ON_ERROR_STOP=1 -f "$WORK/memory.sql" >"$WORK/memory.out" 2>&1 &
BG_PIDS+=($!) memory_pid=$!

wait "$writers_pid"; writers_rc=$?
wait "$readers_pid"; readers_rc=$?
wait "$copy_pid"
wait "$memory_pid"; memory_rc=$?
BG_PIDS=()
echo "load phase took $(($(date +%s) - start))s"

# pgbench: exit status 0, transactions processed, none failed, no client aborted.
check_pgbench() {
	local name=$1 rc=$2 log=$3 done_n failed_n tps lat
	sed 's/^/  | /' "$log" | grep -vE '^  \| (transaction type|scaling factor|query mode|number of threads|maximum number of tries|pgbench \()'
	done_n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
	failed_n=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log")
	lat=$(sed -n 's/^latency average = \(.*\)$/\1/p' "$log")
	if [ "$rc" = 0 ] && [ "${done_n:-0}" -gt 0 ] && [ "${failed_n:-0}" = 0 ] &&
		! grep -qE 'aborted|ERROR' "$log"; then
		ok "$name: $done_n transactions, ${failed_n:-0} failed, $tps tps, latency average $lat"
	else
		bad "$name: exit status $rc, ${done_n:-?} transactions, ${failed_n:-?} failed"
	fi
}
check_pgbench "pgbench writers" "$writers_rc" "$WORK/writers.log"
check_pgbench "pgbench readers" "$readers_rc" "$WORK/readers.log"

copies=$(grep -c '^ok' "$WORK/copy.log")
copy_errors=$(grep -c '^error' "$WORK/copy.log")
if [ "$copies" -gt 0 ] && [ "$copy_errors" = 0 ]; then
	ok "COPY FROM STDIN loop: $copies batches of 20 generated profiles, no error"
else
	bad "COPY FROM STDIN loop: $copies batches, $copy_errors failed"
	grep '^error' "$WORK/copy.log" | head -n 3
fi

read -r rows decoded <<<"$(q -F ' ' -c "SELECT count(*), count(profile_total(profile)) FROM load_profiles")"
if [ "${rows:-0}" -gt "$STAGING_ROWS" ] && [ "$rows" = "$decoded" ]; then
	ok "all $rows stored profiles decode"
else
	bad "of ${rows:-?} stored profiles, ${decoded:-?} decode"
fi

# Memory: readings after each query, in kB, the first WARMUP ignored.  $1 = series key
# in memory.out, $2 = what it is, $3 = the bound, $4 = how to compare: "last" (the last
# reading / the first) or "peaks" (the highest of the last 5 / the highest of the first 5,
# for resident memory, which malloc's free lists make jump up and down).
check_memory_series() {
	local key=$1 what=$2 limit=$3 how=$4 series verdict ratio
	series=$(awk -F'|' -v k="$key" '$1 == k { printf "%s%d", (n++ ? " " : ""), $2 / 1024 }' "$WORK/memory.out")
	echo "  $what after each of $MEMORY_QUERIES queries (kB): $series"
	verdict=$(echo "$series" | awk -v w="$WARMUP" -v how="$how" '{
		if (NF < w + 10) { print "few"; exit }
		if (how == "last") { printf "%.3f", $NF / $(w + 1); exit }
		a = b = 0
		for (i = w + 1; i <= w + 5; i++) if ($i > a) a = $i
		for (i = NF - 4; i <= NF; i++) if ($i > b) b = $i
		printf "%.3f", b / a }')
	ratio=$verdict
	[ "$how" = last ] && how="last/first" || how="peak of the last 5 / peak of the first 5"
	if [ "$ratio" = few ]; then
		bad "$what: only $(echo "$series" | wc -w) readings"
	elif awk -v r="$ratio" -v l="$limit" 'BEGIN { exit !(r < l) }'; then
		ok "$what steady: $how after $WARMUP warm-up queries = $ratio (limit $limit)"
	else
		bad "$what grows: $how after $WARMUP warm-up queries = $ratio (limit $limit)"
	fi
}
if [ "$memory_rc" != 0 ]; then
	bad "the memory session failed: $(grep -m 3 ERROR "$WORK/memory.out")"
elif [ "$have_contexts" != t ]; then
	skip "backend memory: pg_backend_memory_contexts needs PostgreSQL 14 or later"
else
	check_memory_series mem "reader backend memory contexts" 1.2 last
fi
if [ "$memory_rc" = 0 ] && grep -q '^rss|' "$WORK/memory.out"; then
	check_memory_series rss "reader backend private resident memory (RssAnon)" 3.0 peaks
fi

# ---------------------------------------------------------------- stopping a long merge
MERGE_SQL="SELECT pg_column_size(profile_merge(p)) FROM load_big;"
# The milliseconds psql's \timing reports for the last statement of its output file $1.
timing_ms() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$1" | tail -n 1; }

# How long the whole merge takes; $1 = workers per gather (0: the backend alone).
full_merge_ms() {
	printf 'SET max_parallel_workers_per_gather = %s;\n\\timing on\n%s\n' "$1" "$MERGE_SQL" |
		psql -X -q -At -v ON_ERROR_STOP=1 >"$WORK/full.out" 2>&1 || return 1
	timing_ms "$WORK/full.out"
}

# statement_timeout = 500ms: the error must arrive within 500 + STOP_LIMIT_MS ms.
check_timeout() {
	local workers=$1 label=$2 t
	printf "SET max_parallel_workers_per_gather = %s;\nSET statement_timeout = '500ms';\n\\\\timing on\n%s\n" \
		"$workers" "$MERGE_SQL" | psql -X -q -At >"$WORK/timeout.out" 2>&1
	t=$(timing_ms "$WORK/timeout.out")
	if ! grep -q 'canceling statement due to statement timeout' "$WORK/timeout.out"; then
		bad "statement_timeout ($label): no timeout error: $(head -c 300 "$WORK/timeout.out")"
	elif awk -v t="$t" -v l="$STOP_LIMIT_MS" 'BEGIN { exit !(t < 500 + l) }'; then
		ok "statement_timeout 500ms ($label): the error arrived after $t ms (delay $(awk -v t="$t" 'BEGIN { printf "%.1f", t - 500 }') ms)"
	else
		bad "statement_timeout 500ms ($label): the error arrived after $t ms (limit $((500 + STOP_LIMIT_MS)) ms)"
	fi
}

# pg_cancel_backend from another session once the merge has run $2 ms; the canceled
# query must end within STOP_LIMIT_MS ms of the cancel (both times from the server's
# clock for the start, psql's \timing for the end).  When the merge ran faster than
# measured before and ended before the cancel, it is tried again at half the moment.
check_cancel() {
	local workers=$1 at=$2 label=$3 victim seen cancel_at t delay
	local active="FROM pg_stat_activity WHERE application_name = 'pe_load_cancel'
		AND backend_type = 'client backend' AND state = 'active' AND query LIKE '%profile_merge%'"
	printf "SET application_name = 'pe_load_cancel';\nSET max_parallel_workers_per_gather = %s;\n\\\\timing on\n%s\n" \
		"$workers" "$MERGE_SQL" >"$WORK/victim.sql"
	for _ in 1 2 3; do
		psql -X -q -At -f "$WORK/victim.sql" >"$WORK/victim.out" 2>&1 &
		victim=$!
		BG_PIDS+=("$victim")
		seen=0 cancel_at=
		for _ in $(seq 1 250); do
			[ "$(q -c "SELECT count(*) $active")" = 1 ] && { seen=1; break; }
			sleep 0.02
		done
		if [ "$seen" = 1 ]; then
			cancel_at=$(q -c "SELECT pg_sleep(greatest(0, $at / 1000.0 - extract(epoch FROM clock_timestamp() - query_start))) $active" \
				-c "SELECT round(extract(epoch FROM clock_timestamp() - query_start) * 1000, 1), pg_cancel_backend(pid) $active" |
				tail -n 1)
			cancel_at=${cancel_at%%|*}
		fi
		wait "$victim"
		BG_PIDS=()
		t=$(timing_ms "$WORK/victim.out")
		[ "$seen" = 1 ] && [ -z "$cancel_at" ] || break
		echo "  ($label: the merge ended after $t ms, before the cancel at $at ms; again at $((at / 2)) ms)"
		at=$((at / 2))
	done
	if [ "$seen" != 1 ]; then
		bad "pg_cancel_backend ($label): the query was not seen running: $(head -c 300 "$WORK/victim.out")"
	elif [ -z "$cancel_at" ]; then
		bad "pg_cancel_backend ($label): the merge always ended before the cancel"
	elif ! grep -q 'canceling statement due to user request' "$WORK/victim.out"; then
		bad "pg_cancel_backend ($label): no cancel error (query took $t ms, canceled at $cancel_at ms)"
	else
		delay=$(awk -v t="$t" -v c="$cancel_at" 'BEGIN { printf "%.1f", t - c }')
		if awk -v d="$delay" -v l="$STOP_LIMIT_MS" 'BEGIN { exit !(d < l) }'; then
			ok "pg_cancel_backend ($label) at $cancel_at ms: the query returned after $t ms, $delay ms later"
		else
			bad "pg_cancel_backend ($label) at $cancel_at ms: the query returned after $t ms, $delay ms later (limit $STOP_LIMIT_MS ms)"
		fi
	fi
}

# A merge must run long enough to be stopped at several moments: on a fast machine the
# table is doubled (the same values again: the same tree, twice the work) until it does.
long_enough() { awk -v t="$1" -v l="$STOP_LIMIT_MS" 'BEGIN { exit !(t > 500 + 2 * l) }'; }
big_rows=100000
serial_ms=$(full_merge_ms 0) || serial_ms=
parallel_ms=$(full_merge_ms 2) || parallel_ms=
while [ -n "$serial_ms" ] && [ "$big_rows" -lt 1600000 ] &&
	{ ! long_enough "$serial_ms" || { [ -n "$parallel_ms" ] && ! long_enough "$parallel_ms"; }; }; do
	echo "  $big_rows profiles merge in $serial_ms ms (${parallel_ms:-?} ms with workers): doubling the table"
	q -c "INSERT INTO load_big SELECT p FROM load_big" -c "VACUUM ANALYZE load_big" >/dev/null ||
		break
	big_rows=$((big_rows * 2))
	serial_ms=$(full_merge_ms 0) || serial_ms=
	parallel_ms=$(full_merge_ms 2) || parallel_ms=
done
echo "stopping a profile_merge over $big_rows profiles:"
echo "  uninterrupted: ${serial_ms:-?} ms in one backend, ${parallel_ms:-?} ms with up to 2 workers"
if [ -z "$serial_ms" ]; then
	bad "profile_merge over load_big fails: $(head -c 300 "$WORK/full.out")"
elif ! long_enough "$serial_ms"; then
	skip "the merge takes only $serial_ms ms, too short to measure stopping it"
else
	check_timeout 0 "one backend"
	for frac in 25 50 85; do
		check_cancel 0 $((${serial_ms%.*} * frac / 100)) "one backend, $frac% through"
	done
	if [ -n "$parallel_ms" ] && long_enough "$parallel_ms"; then
		check_timeout 2 "parallel workers"
		check_cancel 2 $((${parallel_ms%.*} / 2)) "parallel workers, 50% through"
	else
		skip "with parallel workers the merge takes only ${parallel_ms:-?} ms, too short to measure stopping it"
	fi
fi

q -c "DROP TABLE load_staging, load_profiles, load_big"
echo "load.sh took $((SECONDS - t0))s"
finish
