#!/usr/bin/env bash
# retention.sh: a profile store (profile_store_create) with the real pg_partman and pg_cron.
#
# Starts its OWN throwaway cluster (tools/lib.sh) with shared_preload_libraries = 'pg_cron'
# (the PG* variables test/run_all.sh passes are not used), then:
#   1. 20 days of profiles (SQL-built, 3 services, every 10 minutes) into a store kept 30
#      days; merges per bucket, per day and for a few windows are recorded before anything
#      is dropped;
#   2. a maintenance run killed mid-run (pg_terminate_backend), then rerun: every rollup
#      equals profile_merge of its raw rows, with the same bytes of profile_to_folded and
#      the same totals;
#   3. late rows for rolled-up buckets, and a transaction that inserts before a maintenance
#      run and commits after it: the next run makes the rollups exact again; a second run
#      changes nothing;
#   4. the retention shortened to 14 days by calling profile_store_create again: after
#      maintenance (pg_partman drops) only partitions of the last 14 days remain, and the
#      hourly rollups of all 20 days (and the daily ones of every complete day) still equal
#      the merges recorded before the drop;
#   5. profile_store_merge equals the raw merge for windows with ragged edges (and label
#      filters), and the recorded merges for old whole-bucket windows;
#   6. rows too old or too far ahead are refused with a clear error, none lands in the
#      default partition;
#   7. the pg_cron job exists and runs (cron.job_run_details), and its run rolls up a late row;
#      profile_store_drop removes the store, its job and its pg_partman configuration.
# Skips when pg_partman or pg_cron is not installed.  Last line "N passed, N failed".
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib.sh
source "$repo/test/lib.sh"
export LC_ALL=C.UTF-8

SHAREDIR=$(pg_config --sharedir)
for ext in pg_partman pg_cron; do
	if [ ! -f "$SHAREDIR/extension/$ext.control" ]; then
		skip "$ext is not installed (Debian: postgresql-15-partman, postgresql-15-cron)"
		finish
	fi
done

pe_work retention
CLUSTER_DIR=$WORK/pg
BG_PID= LOCK_PID=
stop_background() { for p in $BG_PID $LOCK_PID; do kill "$p" 2>/dev/null; done; }
PE_CLEANUP_HOOKS+=(stop_background)

# check NAME SQL: ok when the query prints t
check() {
	local name=$1 got
	got=$(q -c "$2" 2>&1)
	if [ "$got" = t ]; then ok "$name"; else bad "$name (got: $got)"; fi
}

pe_own_cluster "$CLUSTER_DIR"
cat >>"$PE_PGDATA/postgresql.conf" <<EOF
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
EOF
pe_cluster_stop
if ! pe_cluster_restart; then
	bad "cluster does not start with shared_preload_libraries = 'pg_cron'"
	tail -n 20 "$CLUSTER_DIR/server.log"
	finish
fi
q <<'SQL' || { bad "extensions"; finish; }
SET client_min_messages = warning;
CREATE EXTENSION profile_ext;
CREATE EXTENSION pg_cron;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
SQL
ok "profile_ext, pg_cron and pg_partman installed in the test cluster"

# ---------------------------------------------------------------- 1. 20 days of data
q -c "SELECT profile_store_create('profiles', raw_retention => '30 days', rollup => '1 hour',
		rollup_retention => '400 days', schedule => NULL)" >/dev/null &&
	ok "store made with a 30-day retention" || bad "profile_store_create"
check "pg_partman manages the table" \
	"SELECT count(*) = 1 FROM partman.part_config WHERE parent_table = 'public.profiles' AND retention = '30 days'"
check "partitions from 30 days ago to 3 days ahead" \
	"SELECT min(lower_bound) <= now() - interval '30 days' AND max(upper_bound) >= now() + interval '3 days'
	   FROM profile_store_partitions('profiles')"

# A profile per service every 10 minutes; stacks vary with the time, so buckets differ.
q <<'SQL'
CREATE FUNCTION gen_profile(t timestamptz, s int) RETURNS profile LANGUAGE sql AS $$
	SELECT profile_from_folded(format(E'main;svc%s;handle;f%s %s\nmain;svc%s;gc %s\nmain;svc%s;io;read%s %s',
		s, (extract(epoch FROM t)::bigint / 600) % 7, 1 + (extract(epoch FROM t)::bigint / 600) % 13,
		s, 1 + s, s, (extract(epoch FROM t)::bigint / 600) % 3, 2 + s), 'cpu:nanoseconds') $$;
INSERT INTO profiles (ts, labels, profile)
SELECT t, jsonb_build_object('service_name', 'svc' || s, 'region', 'r' || (s % 2)), gen_profile(t, s)
  FROM generate_series(now() - interval '20 days', now(), interval '10 minutes') t, generate_series(1, 3) s;
-- what must survive: merges per bucket, per UTC day, and for whole-bucket windows
CREATE TABLE expected_buckets AS
SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, labels,
	   profile_to_folded(profile_merge(profile)) AS folded, sum(profile_total(profile)) AS total, count(*) AS n
  FROM profiles GROUP BY 1, 2;
CREATE TABLE expected_days AS
SELECT date_trunc('day', ts, 'UTC') AS day, labels, profile_to_folded(profile_merge(profile)) AS folded
  FROM profiles GROUP BY 1, 2;
SQL
rows=$(q -c "SELECT count(*) FROM profiles")
check "20 days of profiles loaded ($rows rows), every bucket marked for rollup" \
	"SELECT (SELECT count(*) FROM profiles) > 8000 AND
	        (SELECT count(DISTINCT bucket) FROM profiles_rollup_dirty) = (SELECT count(DISTINCT bucket) FROM expected_buckets)"

# Every rollup row equals its bucket's raw merge (folded bytes, totals, row count), and
# every (bucket, labels) of the recorded merges has its rollup row; with a second
# argument, only buckets from that time on.
rollups_exact() {
	q -c "SELECT count(*) FILTER (WHERE r.bucket IS NULL OR e.bucket IS NULL
	                               OR profile_to_folded(r.profile) IS DISTINCT FROM e.folded
	                               OR profile_total(r.profile) <> e.total OR r.n <> e.n)
	        FROM (SELECT * FROM profiles_rollup WHERE bucket >= ${2:-'-infinity'}) r
	        FULL JOIN (SELECT * FROM ($1) e0 WHERE bucket >= ${2:-'-infinity'}) e USING (bucket, labels)"
}
RAW_HORIZON="(SELECT min(lower_bound) FROM profile_store_partitions('profiles'))"
LIVE_EXPECTED="SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, labels,
	profile_to_folded(profile_merge(profile)) AS folded, sum(profile_total(profile)) AS total, count(*) AS n
	FROM profiles GROUP BY 1, 2"

# ---------------------------------------------------------------- 2. killed mid-run, rerun
# Stopped deterministically, not by timing: another session holds row locks on the dirty
# marks of the 31st bucket, so maintenance commits its first batch (24 buckets) and then
# waits on those rows in its second; it is killed while it waits.
activity() { q -c "SELECT $1 FROM pg_stat_activity WHERE application_name = '$2'"; }
wait_for() {	# wait_for APP CONDITION: up to 60 s for that session to meet the condition
	for _ in $(seq 1 600); do
		[ "$(activity "bool_or($2)" "$1")" = t ] && return 0
		sleep 0.1
	done
	return 1
}
psql -X -q -c "SET application_name = 'retention_locker'" -c "BEGIN" \
	-c "SELECT 1 FROM profiles_rollup_dirty WHERE bucket =
	        (SELECT DISTINCT bucket FROM profiles_rollup_dirty ORDER BY 1 OFFSET 30 LIMIT 1) FOR UPDATE" \
	-c "SELECT pg_sleep(120)" -c "COMMIT" >"$CLUSTER_DIR/locker.log" 2>&1 &
LOCK_PID=$!
wait_for retention_locker "wait_event = 'PgSleep'" ||
	bad "the locking session did not start: $(cat "$CLUSTER_DIR/locker.log")"
psql -X -q -c "SET application_name = 'retention_killed'" -c "CALL profile_store_maintain('profiles')" \
	>"$CLUSTER_DIR/killed.log" 2>&1 &
BG_PID=$!
killed=0
if wait_for retention_killed "wait_event_type = 'Lock'"; then
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'retention_killed'" >/dev/null
	killed=1
fi
wait "$BG_PID"
rc=$?
BG_PID=
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'retention_locker'" >/dev/null
wait "$LOCK_PID"
LOCK_PID=
done_buckets=$(q -c "SELECT count(DISTINCT bucket) FROM profiles_rollup")
left=$(q -c "SELECT count(DISTINCT bucket) FROM profiles_rollup_dirty")
if [ "$killed" = 1 ] && [ "$rc" != 0 ] && [ "$done_buckets" -gt 0 ] && [ "$left" -gt 0 ]; then
	ok "maintenance killed mid-run ($done_buckets buckets rolled up, $left still marked)"
else
	bad "maintenance was not killed mid-run (rc $rc, killed $killed, $left buckets left): $(cat "$CLUSTER_DIR/killed.log")"
fi
q -c "CALL profile_store_maintain('profiles')" && ok "rerun after the kill" || bad "rerun after the kill"
wrong=$(rollups_exact "SELECT * FROM expected_buckets")
[ "$wrong" = 0 ] && ok "after the rerun every rollup equals its raw merge (folded bytes, totals, counts)" ||
	bad "$wrong rollup rows differ from the raw merges after the rerun"

# ---------------------------------------------------------------- 3. late rows, late commits
# (rows for buckets rolled up already; a label set those buckets did not have)
q <<'SQL'
INSERT INTO profiles (ts, labels, profile)
SELECT now() - interval '5 days' - s * interval '17 minutes', '{"service_name": "svc1", "region": "r1"}',
	   profile_from_folded('main;late;arrival ' || s, 'cpu:nanoseconds')
  FROM generate_series(1, 5) s;
INSERT INTO profiles VALUES (now() - interval '3 days', '{"service_name": "svc9"}', profile_from_folded('main;new 7', 'cpu:nanoseconds'));
SQL
# A transaction that inserts, then waits while a maintenance run completes, then commits.
psql -X -q -c "BEGIN" \
	-c "INSERT INTO profiles VALUES (now() - interval '4 days', '{\"service_name\": \"svc2\", \"region\": \"r0\"}', profile_from_folded('main;slow;commit 11', 'cpu:nanoseconds'))" \
	-c "SELECT pg_sleep(3)" -c "COMMIT" >"$CLUSTER_DIR/late_commit.log" 2>&1 &
BG_PID=$!
sleep 1
q -c "CALL profile_store_maintain('profiles')"
still_open=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3)'")
wait "$BG_PID"
BG_PID=
[ "$still_open" = 1 ] && ok "a maintenance run completed while a writer's transaction was open" ||
	bad "the late transaction was not open during the run ($still_open)"
stale=$(rollups_exact "$LIVE_EXPECTED")
[ "$stale" -ge 1 ] && ok "the late commit's bucket is not rolled up yet ($stale stale)" ||
	bad "expected the late-committed row to be missing from the rollups"
check "profile_store_merge already sees the late commit (read from raw rows while the bucket is marked)" \
	"SELECT profile_to_folded(profile_store_merge('profiles', now() - interval '6 days', now() - interval '2 days'))
	      = (SELECT profile_to_folded(profile_merge(profile)) FROM profiles WHERE ts >= now() - interval '6 days' AND ts < now() - interval '2 days')"
q -c "CALL profile_store_maintain('profiles')"
wrong=$(rollups_exact "$LIVE_EXPECTED")
[ "$wrong" = 0 ] && ok "next run: rollups exact with late rows and the late commit" ||
	bad "$wrong rollup rows differ after late rows"
before=$(q -c "SELECT md5(string_agg(bucket || labels::text || profile::text || n || updated_at, ',' ORDER BY bucket, labels)) FROM profiles_rollup")
q -c "CALL profile_store_maintain('profiles')"
after=$(q -c "SELECT md5(string_agg(bucket || labels::text || profile::text || n || updated_at, ',' ORDER BY bucket, labels)) FROM profiles_rollup")
[ "$before" = "$after" ] && ok "a second run changes nothing" || bad "a second run changed the rollups"
# the late rows belong to the recorded merges from now on
q -c "DROP TABLE expected_buckets; CREATE TABLE expected_buckets AS $LIVE_EXPECTED;
	DROP TABLE expected_days; CREATE TABLE expected_days AS
	SELECT date_trunc('day', ts, 'UTC') AS day, labels, profile_to_folded(profile_merge(profile)) AS folded
	  FROM profiles GROUP BY 1, 2;
	CREATE TABLE expected_windows AS
	SELECT w.f, w.t, l.filter,
	       (SELECT profile_to_folded(profile_merge(profile)) FROM profiles
	         WHERE ts >= w.f AND ts < w.t AND (l.filter IS NULL OR labels @> l.filter)) AS folded
	  FROM (VALUES (date_trunc('hour', now()) - interval '19 days', date_trunc('hour', now()) - interval '16 days 5 hours'),
	               (date_trunc('hour', now()) - interval '18 days', date_trunc('hour', now()) - interval '2 days')) w(f, t),
	       (VALUES (NULL::jsonb), ('{\"service_name\": \"svc2\"}'::jsonb)) l(filter)"

# ---------------------------------------------------------------- 4. shorter retention
q -c "SELECT profile_store_create('profiles', raw_retention => '14 days', rollup => '1 hour',
		rollup_retention => '400 days', schedule => NULL)" >/dev/null
check "calling profile_store_create again changes the settings (pg_partman's too)" \
	"SELECT (SELECT raw_retention FROM profile_store WHERE table_name = 'profiles') = interval '14 days'
	    AND (SELECT retention FROM partman.part_config WHERE parent_table = 'public.profiles') = '14 days'"
q -c "CALL profile_store_maintain('profiles')"
check "only partitions of the last 14 days remain (and every day of them has one)" \
	"SELECT bool_and(upper_bound > now() - interval '14 days') AND min(lower_bound) <= now() - interval '14 days'
	   FROM profile_store_partitions('profiles')"
check "raw rows older than 15 days are gone" \
	"SELECT min(ts) > now() - interval '15 days' FROM profiles"
check "the rollups of all 20 days remain" \
	"SELECT count(DISTINCT bucket) = (SELECT count(DISTINCT bucket) FROM expected_buckets) FROM profiles_rollup"
wrong=$(rollups_exact "SELECT * FROM expected_buckets")
[ "$wrong" = 0 ] && ok "after the drop every rollup still equals the merge recorded before it" ||
	bad "$wrong rollup rows differ from the recorded merges"
check "per day, the rollups equal the day merges recorded before the drop (all 21 days)" \
	"SELECT count(*) >= 21 AND count(*) FILTER (WHERE d.folded IS DISTINCT FROM
	        (SELECT profile_to_folded(profile_merge(r.profile)) FROM profiles_rollup r
	          WHERE r.labels = d.labels AND r.bucket >= d.day AND r.bucket < d.day + interval '1 day')) = 0
	   FROM (SELECT DISTINCT day FROM expected_days) dd JOIN expected_days d USING (day)"

check "the daily rollups equal the day merges recorded before the drop (every complete day)" \
	"SELECT count(*) FILTER (WHERE d.bucket IS NULL) = 0 AND count(*) >= 20
	        AND count(*) FILTER (WHERE e.folded IS DISTINCT FROM profile_to_folded(d.profile)) = 0
	   FROM expected_days e LEFT JOIN profiles_rollup_daily d ON d.bucket = e.day AND d.labels = e.labels
	  WHERE e.day + interval '1 day' <= now()"
# ---------------------------------------------------------------- 5. across resolutions
check "profile_store_merge equals the raw merge for 16 windows with ragged edges and filters" \
	"WITH w(f, t) AS (VALUES (now() - interval '13 days 7 minutes', now() - interval '2 hours 13 minutes'),
	                        (now() - interval '6 days 59 minutes', now() - interval '6 days 1 minute'),
	                        (now() - interval '10 days 30 minutes', now() + interval '1 day'),
	                        (date_trunc('hour', now()) - interval '3 days', date_trunc('hour', now()) - interval '1 day')),
	      l(filter) AS (VALUES (NULL::jsonb), ('{\"service_name\": \"svc1\"}'), ('{\"region\": \"r0\"}'), ('{\"service_name\": \"none\"}'))
	 SELECT count(*) = 16 AND count(*) FILTER (WHERE profile_to_folded(profile_store_merge('profiles', f, t, filter))
	        IS DISTINCT FROM (SELECT profile_to_folded(profile_merge(profile)) FROM profiles
	                           WHERE ts >= f AND ts < t AND (filter IS NULL OR labels @> filter))) = 0
	   FROM w, l"
check "old whole-bucket windows (raw rows dropped) equal the merges recorded before the drop" \
	"SELECT count(*) = 4 AND count(*) FILTER (WHERE profile_to_folded(profile_store_merge('profiles', f, t, filter))
	        IS DISTINCT FROM folded) = 0 FROM expected_windows"

# The example dashboard's panels, rendered as Grafana sends them (test/grafana/dashboard_sql.mjs:
# $__timeFrom()/$__timeTo() and variables): the flame graph panel gives the raw merge's rows.
if command -v node >/dev/null 2>&1; then
	dash_dir=$CLUSTER_DIR/dashboard
	mkdir -p "$dash_dir"
	read -r from_iso to_iso < <(q -F ' ' -c "SELECT
		to_char((now() - interval '9 days 7 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
		to_char((now() - interval '13 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
	printf '{"from": "%s", "to": "%s", "intervalMs": 60000, "vars": {"datasource": "profiles", "store": "profiles", "service": "svc2", "sample_type": "", "max_nodes": "8192"}}\n' \
		"$from_iso" "$to_iso" >"$dash_dir/settings.json"
	if node "$repo/test/grafana/dashboard_sql.mjs" "$repo/examples/grafana/profiles-store-dashboard.json" \
		"$dash_dir/sql" "$dash_dir/settings.json" >"$dash_dir/render.log" 2>&1; then
		for f in "$dash_dir"/sql/panel-*.sql; do
			n=$(q -c "SELECT count(*) FROM ($(cat "$f")) t" 2>&1)
			[[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] && ok "store dashboard $(basename "$f" .sql): $n rows" ||
				bad "store dashboard $(basename "$f" .sql): $n"
		done
		check "store dashboard flame graph rows equal flamegraph() of the raw merge of the range" \
			"SELECT (SELECT json_agg(f) FROM ($(cat "$dash_dir"/sql/panel-1-flamegraph.sql)) f)::text
			      = (SELECT json_agg(f) FROM flamegraph((SELECT profile_merge(profile) FROM profiles
			          WHERE ts >= '$from_iso' AND ts < '$to_iso' AND labels @> '{\"service_name\": \"svc2\"}'),
			          NULL, 8192) f)::text"
	else
		bad "dashboard_sql.mjs could not render examples/grafana/profiles-store-dashboard.json: $(cat "$dash_dir/render.log")"
	fi
else
	skip "node is not installed: the store dashboard's queries are not rendered"
fi

# ---------------------------------------------------------------- 6. refused rows
err=$(q -c "INSERT INTO profiles VALUES (now() - interval '20 days', '{}', profile_from_folded('a 1'))" 2>&1)
[[ $err == *"older than the raw retention"* ]] && ok "a row older than the retention is refused: ${err%%$'\n'*}" ||
	bad "old row: $err"
err=$(q -c "INSERT INTO profiles VALUES (now() + interval '30 days', '{}', profile_from_folded('a 1'))" 2>&1)
[[ $err == *"too far in the future"* ]] && ok "a row far in the future is refused: ${err%%$'\n'*}" ||
	bad "future row: $err"
q -c "INSERT INTO profiles VALUES (now() - interval '13 days', '{\"service_name\": \"svc1\"}', profile_from_folded('main;backfill 3', 'cpu:nanoseconds'))" &&
	ok "a backfill 13 days back is accepted" || bad "backfill refused"
check "the default partition stays empty" "SELECT count(*) = 0 FROM profiles_default"

# ---------------------------------------------------------------- 7. pg_cron
q -c "SELECT profile_store_create('profiles', raw_retention => '14 days', rollup => '1 hour',
		rollup_retention => '400 days', schedule => '* * * * *')" >/dev/null
check "the pg_cron job exists" \
	"SELECT count(*) = 1 FROM cron.job WHERE jobname = 'profile_store_maintain public.profiles'
	    AND command LIKE 'CALL %profile_store_maintain(''public.profiles'')' AND schedule = '* * * * *'"
echo "waiting for the pg_cron job to run (at most 90 s)"
ran=
for _ in $(seq 1 90); do
	ran=$(q -c "SELECT status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	             WHERE j.jobname = 'profile_store_maintain public.profiles' AND status IN ('succeeded', 'failed')
	             ORDER BY d.end_time DESC LIMIT 1")
	[ -n "$ran" ] && break
	sleep 1
done
[ "$ran" = succeeded ] && ok "the pg_cron job ran (cron.job_run_details: succeeded)" ||
	bad "the pg_cron job did not succeed: '${ran:-no run}' $(q -c "SELECT return_message FROM cron.job_run_details ORDER BY end_time DESC LIMIT 1")"
check "the job's run rolled up the backfill (no marker left, rollups exact)" \
	"SELECT (SELECT count(*) FROM profiles_rollup_dirty) = 0 AND (SELECT last_maintained FROM profile_store WHERE table_name = 'profiles') IS NOT NULL"
wrong=$(rollups_exact "$LIVE_EXPECTED" "$RAW_HORIZON")
[ "$wrong" = 0 ] && ok "rollups exact after the pg_cron run" || bad "$wrong rollup rows differ after the pg_cron run"
q -c "SELECT profile_store_create('profiles', raw_retention => '14 days', rollup => '1 hour',
		rollup_retention => '400 days', schedule => NULL)" >/dev/null
check "schedule => NULL removes the job" "SELECT count(*) = 0 FROM cron.job"
q -c "SELECT profile_store_create('profiles', schedule => '*/5 * * * *')" >/dev/null
q -c "SELECT profile_store_drop('profiles')" >/dev/null
check "profile_store_drop removes the tables, the job and pg_partman's configuration" \
	"SELECT to_regclass('profiles') IS NULL AND to_regclass('profiles_rollup') IS NULL
	    AND (SELECT count(*) FROM cron.job) = 0 AND (SELECT count(*) FROM partman.part_config) = 0
	    AND (SELECT count(*) FROM profile_store) = 0"

if grep -E 'terminated by signal|PANIC' "$CLUSTER_DIR/server.log"; then
	bad "server log shows a crash"
fi
finish
