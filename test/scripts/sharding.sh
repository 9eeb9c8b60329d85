#!/usr/bin/env bash
# test/scripts/sharding.sh: scale-out over postgres_fdw (README "Scaling out").
#
# Starts three throwaway shard clusters and a coordinator on loopback (tools/lib.sh, random
# ports).  Shards 0 and 1 hold a plain (ts, labels, profile) table, shard 2 a time-partitioned
# one (a profile store when profile_store_create exists).  The coordinator gets
# profile_shards_create('profiles', ...); rows arrive by COPY through the coordinator
# (routing), by INSERT through it, and straight into the shards (profile_shard_of, as the
# gateway does).  A second database on the coordinator holds every row in one table: the
# single-server reference.  Checks: the plan (auto_explain of the functions' own queries:
# profile_merge in every Remote SQL, async foreign scans, no partial aggregate), equal answers
# (byte-equal profile_to_folded, totals, top, diff, timeline), version mismatch, a stopped
# shard (error naming it; allow_partial with a NOTICE and the answer of the other shards).
# Needs no PG* variables; uses its own clusters.
set -uo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$REPO" || exit 2
# shellcheck source=test/lib.sh
source "$REPO/test/lib.sh"
unset PGHOST PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS

CLUSTER_USER=${PE_CLUSTER_USER_NAME:-profile_ext_test}
TMP=$(mktemp -d /tmp/pe_sharding.XXXXXX) || exit 2
chmod 755 "$TMP"
declare -A PORT SOCK DATA
NODES=()
BINDIR=$(pg_config --bindir)

stop_node() {	# stop_node NAME
	pe_as_user "$PE_CLUSTER_USER" "$BINDIR/pg_ctl" -D "${DATA[$1]}" -m fast -w -t 30 stop \
		>/dev/null 2>&1 ||
		pe_as_user "$PE_CLUSTER_USER" "$BINDIR/pg_ctl" -D "${DATA[$1]}" -m immediate -w -t 30 \
			stop >/dev/null 2>&1
}
cleanup() {	# KEEP=1: leave the clusters running and say where they are
	local n
	for n in "${NODES[@]}"; do
		if [ "${KEEP:-0}" = 1 ]; then
			echo "kept $n: psql -h ${SOCK[$n]} -p ${PORT[$n]} -U $PE_CLUSTER_USER -d prof"
		elif [ -f "${DATA[$n]}/postmaster.pid" ]; then
			stop_node "$n"
		fi
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

start_node() {	# start_node NAME: a throwaway cluster
	mkdir "$TMP/$1" && pe_cluster_start "$TMP/$1" "$CLUSTER_USER" || return 1
	PORT[$1]=$PE_PORT SOCK[$1]=$PE_SOCKET DATA[$1]=$PE_PGDATA
	NODES+=("$1")
}
# psql on node $1, database $2; the rest are psql arguments
on() {
	local node=$1 db=$2
	shift 2
	psql -X -q -v ON_ERROR_STOP=1 -h "${SOCK[$node]}" -p "${PORT[$node]}" -U "$PE_CLUSTER_USER" \
		-d "$db" "$@"
}
val() { on "$@" -At; }

for n in shard0 shard1 shard2 coord; do
	if ! start_node "$n"; then
		bad "cluster $n did not start"
		finish
	fi
done
ok "three shard clusters and a coordinator on ports ${PORT[shard0]} ${PORT[shard1]} ${PORT[shard2]} ${PORT[coord]}"
T0=$SECONDS
# Data three hours back (a profile store refuses rows older than its retention); t SECONDS
# prints the time SECONDS after the start, quoted for SQL.
BASE=$(date -u -d '-3 hours' '+%Y-%m-%d %H:00:00')
t() { date -u -d "$BASE UTC + $1 seconds" "+'%Y-%m-%d %H:%M:%SZ'"; }

# ---------------------------------------------------------------- shards
STORE=0
for k in 0 1 2; do
	on "shard$k" postgres -c "CREATE DATABASE prof" || { bad "create database on shard$k"; finish; }
	on "shard$k" prof -c "SET client_min_messages = warning; CREATE EXTENSION profile_ext" ||
		{ bad "CREATE EXTENSION on shard$k"; finish; }
done
for k in 0 1; do
	on "shard$k" prof -c "CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL,
		profile profile NOT NULL);
		CREATE INDEX ON profiles USING gin (labels jsonb_path_ops); CREATE INDEX ON profiles (ts);"
done
if [ "$(val shard2 prof -c "SELECT count(*) FROM pg_proc WHERE proname = 'profile_store_create'")" != 0 ]; then
	STORE=1
	on shard2 prof -c "SET client_min_messages = warning; SELECT profile_store_create('profiles')" >/dev/null ||
		{ bad "profile_store_create on shard2"; STORE=0; }
fi
if [ "$STORE" = 0 ]; then
	on shard2 prof -c "CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL,
		profile profile NOT NULL) PARTITION BY RANGE (ts);
		CREATE TABLE profiles_before PARTITION OF profiles FOR VALUES FROM (MINVALUE) TO ($(t 450));
		CREATE TABLE profiles_after PARTITION OF profiles FOR VALUES FROM ($(t 450)) TO (MAXVALUE);
		CREATE INDEX ON profiles USING gin (labels jsonb_path_ops); CREATE INDEX ON profiles (ts);"
fi
ok "shards ready (shard 2: $([ "$STORE" = 1 ] && echo 'profile_store_create' || echo 'a ts-partitioned table'))"

# ---------------------------------------------------------------- coordinator
on coord postgres -c "CREATE DATABASE prof" -c "CREATE DATABASE reference"
for db in prof reference; do
	on coord "$db" -c "SET client_min_messages = warning; CREATE EXTENSION profile_ext"
done
conn() { echo "host=127.0.0.1 port=${PORT[shard$1]} dbname=prof user=$PE_CLUSTER_USER"; }
out=$(val coord prof -c "SELECT profile_shards_create('profiles',
	ARRAY['$(conn 0)', '$(conn 1)', '$(conn 2)'])" 2>&1)
if [ "$out" = 3 ]; then
	ok "profile_shards_create made 3 shards"
else
	bad "profile_shards_create: $out"
	finish
fi
out=$(val coord prof -c "SELECT string_agg(shard || ':' || coalesce(version, '-') || ':' || coalesce(problem, 'fine'), ' ')
	FROM profile_shards_check('profiles')")
if [ "$out" = "0:0.2.0:fine 1:0.2.0:fine 2:0.2.0:fine" ]; then ok "profile_shards_check: $out"; else bad "profile_shards_check: $out"; fi
out=$(val coord prof -c "SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'profiles_shard_0'")
if [[ $out == *"extensions=profile_ext"* && $out == *"async_capable=true"* ]]; then
	ok "foreign servers have extensions profile_ext and async_capable"
else
	bad "server options: $out"
fi
on coord reference -c "CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL)"

# ---------------------------------------------------------------- data, three ways in
# 12 minutes of three services (they all route to shard 1) plus six renamed copies of
# checkout (svc0..svc5, spread over all shards).
make -s -C "$REPO" tools/gen/pe_gen >"$TMP/gen_build.log" 2>&1 || { cat "$TMP/gen_build.log"; bad "pe_gen does not build"; finish; }
"$REPO/tools/gen/pe_gen" --start "$BASE" --minutes 12 --services checkout,cart,search \
	--regions 1 --pods 2 --cpu-interval 10 --no-heap --samples 200 --stacks 400 --quiet >"$TMP/base.copy"
on coord reference -c "COPY profiles FROM STDIN WITH (FORMAT binary)" <"$TMP/base.copy"
on coord reference -c "COPY (SELECT ts, labels || jsonb_build_object('service_name', 'svc' || k), profile
	FROM profiles CROSS JOIN generate_series(0, 5) k WHERE labels @> '{\"service_name\": \"checkout\"}'
	ORDER BY ts, k) TO STDOUT WITH (FORMAT binary)" >"$TMP/extra.copy"
on coord reference -c "COPY profiles FROM STDIN WITH (FORMAT binary)" <"$TMP/extra.copy"
on coord reference -c "ANALYZE profiles"
# through the coordinator: COPY (tuple routing) and INSERT ... SELECT
on coord prof -c "COPY profiles FROM STDIN WITH (FORMAT binary)" <"$TMP/base.copy" &&
	on coord prof -c "CREATE TABLE stage (ts timestamptz, labels jsonb, profile profile)" &&
	on coord prof -c "COPY stage FROM STDIN WITH (FORMAT binary)" <"$TMP/extra.copy" &&
	on coord prof -c "INSERT INTO profiles SELECT * FROM stage WHERE labels->>'service_name' IN ('svc0', 'svc1', 'svc2')"
rc=$?
# straight into the shards, routed by the same function (what the gateway does)
for k in 0 1 2; do
	val coord prof -c "COPY (SELECT * FROM stage WHERE labels->>'service_name' IN ('svc3', 'svc4', 'svc5')
		AND profile_shard_of(labels, 3) = $k) TO STDOUT WITH (FORMAT binary)" |
		on "shard$k" prof -c "COPY profiles FROM STDIN WITH (FORMAT binary)" || rc=1
done
for k in 0 1 2; do on "shard$k" prof -c "ANALYZE profiles"; done
n_ref=$(val coord reference -c "SELECT count(*) FROM profiles")
n_coord=$(val coord prof -c "SELECT count(*) FROM profiles")
per_shard=$(for k in 0 1 2; do val "shard$k" prof -c "SELECT count(*) || '/' || count(*) FILTER (WHERE profile_shard_of(labels, 3) = $k) FROM profiles"; done | tr '\n' ' ')
if [ "$rc" = 0 ] && [ "$n_ref" = "$n_coord" ] && [ "$n_ref" -gt 1000 ]; then
	ok "$n_coord rows in through COPY, INSERT and straight to shards; per shard (rows/routed here): $per_shard"
else
	bad "loading: rc $rc, reference $n_ref rows, coordinator $n_coord, per shard $per_shard"
fi
misrouted=$(for k in 0 1 2; do val "shard$k" prof -c "SELECT count(*) FROM profiles WHERE profile_shard_of(labels, 3) <> $k"; done | awk '{ s += $1 } END { print s + 0 }')
empty=$(for k in 0 1 2; do val "shard$k" prof -c "SELECT count(*) = 0 FROM profiles"; done | grep -c t)
if [ "$misrouted" = 0 ] && [ "$empty" = 0 ]; then ok "every row on the shard profile_shard_of names, no shard empty"; else bad "misrouted $misrouted, empty shards $empty"; fi
echo "data loaded after $((SECONDS - T0)) s"

# ---------------------------------------------------------------- the plan
# auto_explain shows the plans of the queries the functions run themselves.
AUTO_EXPLAIN="LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0;
	SET auto_explain.log_nested_statements = on; SET auto_explain.log_verbose = on;
	SET auto_explain.log_level = notice; SET client_min_messages = notice;"
W1="$(t 300), $(t 600)"
plan_check() {	# plan_check NAME SQL AGG: the plan of the function's query
	local name=$1 sql=$2 agg=$3 plan remote
	plan=$(on coord prof -c "$AUTO_EXPLAIN" -c "$sql" 2>&1 >/dev/null)
	remote=$(grep -c 'Remote SQL:.*GROUP BY' <<<"$plan")
	if [ "$(grep -c 'Async Foreign Scan' <<<"$plan")" = 3 ] && [ "$remote" = 3 ] &&
		[ "$(grep 'Remote SQL:' <<<"$plan" | grep -c "$agg")" = 3 ] &&
		! grep -q 'Partial Aggregate' <<<"$plan"; then
		ok "$name: 3 Async Foreign Scans, each Remote SQL has $agg ... GROUP BY"
	else
		bad "$name: plan is not pushed down and async"
		grep -E 'Scan|Remote SQL|Aggregate' <<<"$plan" | head -20
	fi
}
plan_check "profile_sharded_merge" \
	"SELECT profile_sharded_merge('profiles', $W1, '{\"region\": \"eu-west-1\"}')" "public.profile_merge(profile)"
plan_check "profile_sharded_timeline" \
	"SELECT * FROM profile_sharded_timeline('profiles', $W1, '1 minute', '{}', 'cpu')" "sum(public.profile_shard_total(profile"
plan_check "profile_sharded_merge with no bounds" \
	"SELECT profile_sharded_merge('profiles', NULL, NULL)" "public.profile_merge(profile)"

# ---------------------------------------------------------------- equal answers
# the reference: one server, every row, the plain query
ref_merge() {	# ref_merge FROM TO FILTER -> SQL of the merged profile on the reference
	local c="true"
	[ "$1" != NULL ] && c+=" AND ts >= $1"
	[ "$2" != NULL ] && c+=" AND ts < $2"
	[ "$3" != "'{}'" ] && c+=" AND labels @> $3"
	echo "(SELECT profile_merge(profile) FROM profiles WHERE $c)"
}
digest() {	# digest EXPR: md5 of the folded stacks of every sample type, totals, duration
	echo "SELECT coalesce((SELECT string_agg(t || '=' || md5(profile_to_folded(p, t)) || '/' || profile_total(p, t), ' ' ORDER BY t)
		FROM unnest(profile_sample_types(p)) t), 'NULL') || ' ' || coalesce(profile_duration(p)::text, '-')
		FROM (SELECT $1 AS p) x"
}
same() {	# same NAME SQL-on-coordinator SQL-on-reference
	local a b
	a=$(val coord prof -c "$2" 2>&1)
	b=$(val coord reference -c "$3" 2>&1)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		ok "$1: equal to one server (${a:0:60}...)"
	else
		bad "$1: sharded '${a:0:300}' vs one server '${b:0:300}'"
	fi
}
nonempty=0
while IFS='|' read -r from to filter; do
	a="profile_sharded_merge('profiles', $from, $to, $filter)"
	same "merge $from..$to $filter" "$(digest "$a")" "$(digest "$(ref_merge "$from" "$to" "$filter")")"
done <<EOF2
$(t 300)|$(t 1200)|'{}'
$(t 300)|$(t 1200)|'{"service_name": "svc3"}'
$(t 0)|$(t 1800)|'{"region": "eu-west-1", "version": "v1"}'
NULL|NULL|'{}'
$(t 370)|$(t 380)|'{"service_name": "cart"}'
$(t 5400)|$(t 9000)|'{}'
EOF2
same "top 20 across shards" \
	"SELECT string_agg(t::text, ';') FROM profile_top(profile_sharded_merge('profiles', $W1), 'cpu', 20) t" \
	"SELECT string_agg(t::text, ';') FROM profile_top($(ref_merge "$(t 300)" "$(t 600)" "'{}'"), 'cpu', 20) t"
same "diff across shards (v1 -> v2 of checkout)" \
	"SELECT md5(string_agg(d::text, ';')) FROM profile_diff_top(
		profile_sharded_merge('profiles', NULL, NULL, '{\"service_name\": \"checkout\", \"version\": \"v1\"}'),
		profile_sharded_merge('profiles', NULL, NULL, '{\"service_name\": \"checkout\", \"version\": \"v2\"}'), 'cpu', 30) d" \
	"SELECT md5(string_agg(d::text, ';')) FROM profile_diff_top(
		$(ref_merge NULL NULL "'{\"service_name\": \"checkout\", \"version\": \"v1\"}'"),
		$(ref_merge NULL NULL "'{\"service_name\": \"checkout\", \"version\": \"v2\"}'"), 'cpu', 30) d"
same "timeline, 1-minute buckets" \
	"SELECT string_agg(time || '=' || total, ' ' ORDER BY time) FROM profile_sharded_timeline('profiles', $W1, '1 minute', '{}', 'cpu')" \
	"SELECT string_agg(b || '=' || s, ' ' ORDER BY b) FROM (SELECT date_bin('1 minute', ts, '2000-01-01 00:00:00+00') b,
		sum(profile_total(profile, 'cpu')) s FROM profiles WHERE ts >= $(t 300) AND ts < $(t 600) GROUP BY 1) x"
same "timeline, 5-minute buckets, one service, default sample type" \
	"SELECT string_agg(time || '=' || total, ' ' ORDER BY time) FROM profile_sharded_timeline('profiles', NULL, NULL, '5 minutes', '{\"service_name\": \"svc5\"}')" \
	"SELECT string_agg(b || '=' || s, ' ' ORDER BY b) FROM (SELECT date_bin('5 minutes', ts, '2000-01-01 00:00:00+00') b,
		sum(profile_total(profile)) s FROM profiles WHERE labels @> '{\"service_name\": \"svc5\"}' GROUP BY 1) x"

# a set-up that cannot reach a shard fails and leaves nothing behind
out=$(val coord prof -c "SELECT profile_shards_create('other', ARRAY['host=127.0.0.1 port=$(pe_pick_port) dbname=prof user=$PE_CLUSTER_USER'])" 2>&1)
left=$(val coord prof -c "SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'other%') + (SELECT count(*) FROM pg_foreign_server WHERE srvname LIKE 'other%')")
if [[ $out == *ERROR*"shard 0 (server other_shard_0)"* ]] && [ "$left" = 0 ]; then
	ok "a set-up with an unreachable shard fails and leaves nothing: ${out:0:90}..."
else
	bad "failed set-up: '$out', $left objects left"
fi
# two shards in one server (a table each: remote_table with %s), as before a rebalancing
on shard0 prof -c "CREATE TABLE twice_0 (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL);
	CREATE TABLE twice_1 (LIKE twice_0)"
out=$(val coord prof -c "SELECT profile_shards_create('twice', ARRAY['$(conn 0)', '$(conn 0)'], remote_table => 'public.twice_%s')" 2>&1)
on coord prof -c "INSERT INTO twice SELECT * FROM stage WHERE ts < $(t 120)"
counts=$(val shard0 prof -c "SELECT (SELECT count(*) FILTER (WHERE profile_shard_of(labels, 2) = 0) || '/' || count(*) FROM twice_0)
	|| ' ' || (SELECT count(*) FILTER (WHERE profile_shard_of(labels, 2) = 1) || '/' || count(*) FROM twice_1)")
a=$(val coord prof -c "$(digest "profile_sharded_merge('twice', NULL, NULL)")")
b=$(val coord prof -c "$(digest "(SELECT profile_merge(profile) FROM stage WHERE ts < $(t 120))")")
routed=$(awk '{ ok = NF == 2; for (i = 1; i <= NF; i++) { split($i, c, "/"); if (c[1] != c[2] || c[2] == 0) ok = 0 } print ok }' <<<"$counts")
if [ "$out" = 2 ] && [ "$routed" = 1 ] && [ "$a" = "$b" ]; then
	ok "two shards on one server (remote_table twice_%s): routed $counts, merge equal"
else
	bad "two shards on one server: create '$out', routed '$counts', merge '$a' vs '$b'"
fi


# ---------------------------------------------------------------- rebalancing: move a shard's table
# shard 0's table goes to another server (here a database on the coordinator's cluster); its
# foreign server is pointed there; the answers stay the same.
on coord postgres -c "CREATE DATABASE moved"
on coord moved -c "SET client_min_messages = warning; CREATE EXTENSION profile_ext;
	CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL)"
val shard0 prof -c "COPY profiles TO STDOUT WITH (FORMAT binary)" | on coord moved -c "COPY profiles FROM STDIN WITH (FORMAT binary)"
on coord prof -c "ALTER SERVER profiles_shard_0 OPTIONS (SET port '${PORT[coord]}', SET dbname 'moved')"
on shard0 prof -c "TRUNCATE profiles"
same "after moving shard 0's table to another server" \
	"$(digest "profile_sharded_merge('profiles', NULL, NULL)")" "$(digest "$(ref_merge NULL NULL "'{}'")")"

# ---------------------------------------------------------------- another version on a shard
v=$(val shard1 prof -c "SELECT extversion FROM pg_extension WHERE extname = 'profile_ext'")
on shard1 prof -c "UPDATE pg_extension SET extversion = '0.1.9' WHERE extname = 'profile_ext'"
out=$(val coord prof -c "SELECT profile_sharded_merge('profiles', $W1)" 2>&1)
if [[ $out == *ERROR*"shard 1 "*"0.1.9"* ]]; then ok "another version on a shard: $out"; else bad "version mismatch not reported: $out"; fi
out=$(val coord prof -c "SELECT problem FROM profile_shards_check('profiles') WHERE shard = 1")
if [[ $out == *0.1.9* ]]; then ok "profile_shards_check: $out"; else bad "profile_shards_check on a mismatch: $out"; fi
on shard1 prof -c "UPDATE pg_extension SET extversion = '$v' WHERE extname = 'profile_ext'"

# ---------------------------------------------------------------- a stopped shard
stop_node shard2
out=$(val coord prof -c "SELECT profile_sharded_merge('profiles', $W1)" 2>&1)
if [[ $out == *ERROR*"shard 2 (server profiles_shard_2)"* ]]; then ok "stopped shard: $out"; else bad "stopped shard, merge: $out"; fi
out=$(val coord prof -c "SELECT count(*) FROM profile_sharded_timeline('profiles', $W1, '1 minute')" 2>&1)
if [[ $out == *ERROR*"shard 2 (server profiles_shard_2)"* ]]; then ok "stopped shard, timeline: error names it"; else bad "stopped shard, timeline: $out"; fi
out=$(val coord prof -c "SELECT reachable FROM profile_shards_check('profiles') WHERE shard = 2")
if [ "$out" = f ]; then ok "profile_shards_check: shard 2 unreachable"; else bad "profile_shards_check with shard 2 down: $out"; fi
notice=$(val coord prof -c "SELECT 1 FROM (SELECT profile_sharded_merge('profiles', $W1, allow_partial => true)) x" 2>&1 >/dev/null)
if [[ $notice == *NOTICE*"partial answer without shard 2"* ]]; then ok "allow_partial: ${notice:0:120}..."; else bad "allow_partial notice: $notice"; fi
same "allow_partial: the other shards' answer" \
	"SET client_min_messages = warning; $(digest "profile_sharded_merge('profiles', $W1, allow_partial => true)")" \
	"$(digest "(SELECT profile_merge(profile) FROM profiles WHERE ts >= $(t 300) AND ts < $(t 600) AND profile_shard_of(labels, 3) <> 2)")"
same "allow_partial timeline" \
	"SET client_min_messages = warning; SELECT string_agg(time || '=' || total, ' ' ORDER BY time) FROM profile_sharded_timeline('profiles', $W1, '5 minutes', allow_partial => true)" \
	"SELECT string_agg(b || '=' || s, ' ' ORDER BY b) FROM (SELECT date_bin('5 minutes', ts, '2000-01-01 00:00:00+00') b,
		sum(profile_total(profile)) s FROM profiles WHERE ts >= $(t 300) AND ts < $(t 600) AND profile_shard_of(labels, 3) <> 2 GROUP BY 1) x"
out=$(val coord prof -c "SELECT profile_sharded_merge('stage', NULL, NULL)" 2>&1)
if [[ $out == *"is not a table made by profile_shards_create"* ]]; then ok "a plain table is refused"; else bad "plain table: $out"; fi
echo "sharding checks took $((SECONDS - T0)) s after the clusters started"
finish
