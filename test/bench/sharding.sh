#!/usr/bin/env bash
# test/bench/sharding.sh (`make bench` runs it after run.sh): the scale-out merge pushed down
# to the shards against pulling every row to the coordinator, on the same data in one run.
#
# Starts three shard clusters and a coordinator (tools/lib.sh, loopback, random ports), loads
# PE_BENCH_SHARD_MINUTES minutes of a fleet (pe_gen: 3 services x 2 regions x 3 pods, a CPU
# profile every 10 s, each service in 3 renamed copies spread over the shards) through the
# coordinator, then measures the merge of every row:
#   pushed: profile_sharded_merge (each shard runs profile_merge, one profile per shard comes back)
#   pulled: SELECT profile_merge(profile) FROM profiles (the plain query: every row comes back)
# Bytes are counted by a TCP proxy between the coordinator and each shard
# (test/bench/byte_proxy.py: wire bytes, protocol included); times are medians of
# PE_BENCH_REPS runs each, interleaved, with the proxies out of the way.
# Knobs: PE_BENCH_SHARD_MINUTES=30, PE_BENCH_REPS=3, PE_BENCH_NO_BUILD=1, KEEP=1.
set -euo pipefail
shopt -s inherit_errexit
trap 'echo "bench/sharding: failed (line $LINENO): $BASH_COMMAND" >&2' ERR
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES PGHOST PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tools/lib.sh
source "$REPO/tools/lib.sh"
MINUTES=${PE_BENCH_SHARD_MINUTES:-30}
REPS=${PE_BENCH_REPS:-3}
BENCH_USER=profile_ext_bench
say() { printf '== %s\n' "$*" >&2; }
median() { tr ' ' '\n' | { grep . || true; } | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

TMP=$(mktemp -d /tmp/profile_ext_shardbench.XXXXXX)
chmod 755 "$TMP"
declare -A PORT SOCK DATA PPORT
NODES=() PROXIES=()
BINDIR=$(pg_config --bindir)
cleanup() {
	local n p
	for p in "${PROXIES[@]}"; do kill "$p" 2>/dev/null || true; done
	for n in "${NODES[@]}"; do
		if [ "${KEEP:-0}" = 1 ]; then
			echo "kept $n: psql -h ${SOCK[$n]} -p ${PORT[$n]} -U $PE_CLUSTER_USER -d prof" >&2
		else
			pe_as_user "$PE_CLUSTER_USER" "$BINDIR/pg_ctl" -D "${DATA[$n]}" -m immediate -w -t 30 \
				stop >/dev/null 2>&1 || true
		fi
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$TMP"
}
trap cleanup EXIT

cd "$REPO"
if [ "${PE_BENCH_NO_BUILD:-0}" != 1 ]; then
	say "make && make install"
	{ make -s -j"$(nproc)" && make -s install; } >"$TMP/build.log" 2>&1 || { tail -n 30 "$TMP/build.log"; exit 1; }
fi
make -s tools/gen/pe_gen >"$TMP/gen_build.log" 2>&1 || { cat "$TMP/gen_build.log"; exit 1; }

say "starting three shards and a coordinator"
for n in shard0 shard1 shard2 coord; do
	mkdir "$TMP/$n"
	pe_cluster_start "$TMP/$n" "$BENCH_USER" || { echo "bench/sharding: $n did not start" >&2; exit 1; }
	PORT[$n]=$PE_PORT SOCK[$n]=$PE_SOCKET DATA[$n]=$PE_PGDATA
	NODES+=("$n")
done
on() {
	local node=$1 db=$2
	shift 2
	psql -X -q -v ON_ERROR_STOP=1 -h "${SOCK[$node]}" -p "${PORT[$node]}" -U "$PE_CLUSTER_USER" -d "$db" "$@"
}
val() { on "$@" -At; }
for n in shard0 shard1 shard2 coord; do
	on "$n" postgres -c "CREATE DATABASE prof"
	on "$n" prof -c "SET client_min_messages = warning; CREATE EXTENSION profile_ext"
done
for k in 0 1 2; do
	on "shard$k" prof -c "CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL);
		CREATE INDEX ON profiles USING gin (labels jsonb_path_ops); CREATE INDEX ON profiles (ts);"
done
conn() { echo "host=127.0.0.1 port=$2 dbname=prof user=$PE_CLUSTER_USER"; }
val coord prof -c "SET client_min_messages = warning; SELECT profile_shards_create('profiles', ARRAY['$(conn 0 "${PORT[shard0]}")',
	'$(conn 1 "${PORT[shard1]}")', '$(conn 2 "${PORT[shard2]}")'])" >/dev/null

say "loading $MINUTES minutes of a fleet through the coordinator"
BASE=$(date -u -d '-1 day' '+%Y-%m-%d 00:00:00')
"$REPO/tools/gen/pe_gen" --start "$BASE" --minutes "$MINUTES" --services checkout,cart,search \
	--regions 2 --pods 3 --cpu-interval 10 --no-heap --quiet >"$TMP/fleet.copy"
on coord prof -c "CREATE UNLOGGED TABLE stage (ts timestamptz, labels jsonb, profile profile)"
on coord prof -c "COPY stage FROM STDIN WITH (FORMAT binary)" <"$TMP/fleet.copy"
on coord prof -c "INSERT INTO profiles SELECT ts, labels || jsonb_build_object('service_name',
	(labels->>'service_name') || '-' || k), profile FROM stage CROSS JOIN generate_series(0, 2) k"
for k in 0 1 2; do on "shard$k" prof -c "VACUUM ANALYZE profiles"; done
ROWS=$(val coord prof -c "SELECT count(*) FROM profiles")
PER_SHARD=$(for k in 0 1 2; do val "shard$k" prof -c "SELECT count(*) FROM profiles"; done | paste -sd/)
STORED=$(for k in 0 1 2; do val "shard$k" prof -c "SELECT sum(pg_column_size(profile)) FROM profiles"; done |
	awk '{ s += $1 } END { print s }')

PUSHED_SQL="SELECT profile_total(profile_sharded_merge('profiles', NULL, NULL));"
PULLED_SQL="SELECT profile_total(profile_merge(profile)) FROM profiles;"
T_PUSHED_TOTAL=$(val coord prof -c "$PUSHED_SQL")
T_PULLED_TOTAL=$(val coord prof -c "$PULLED_SQL")
[ "$T_PUSHED_TOTAL" = "$T_PULLED_TOTAL" ] || { echo "bench/sharding: totals differ: $T_PUSHED_TOTAL vs $T_PULLED_TOTAL" >&2; exit 1; }
MERGED_SIZE=$(val coord prof -c "SELECT pg_column_size(profile_sharded_merge('profiles', NULL, NULL))")

# ------------------------------------------------------------------ bytes, through proxies
say "bytes from the shards (a counting proxy per shard)"
for k in 0 1 2; do
	pp=$(pe_pick_port)
	python3 "$REPO/test/bench/byte_proxy.py" "$pp" "${PORT[shard$k]}" "$TMP/bytes.$k" &
	PROXIES+=($!)
	PPORT[$k]=$pp
done
for k in 0 1 2; do
	for _ in $(seq 100); do [ -s "$TMP/bytes.$k" ] && break; sleep 0.05; done
	on coord prof -c "ALTER SERVER profiles_shard_$k OPTIONS (SET port '${PPORT[$k]}')"
done
from_shards() { sleep 0.3; cat "$TMP"/bytes.[012] | awk '{ s += $2 } END { print s }'; }
bytes_of() {	# bytes the shards sent while SQL $1 ran in a fresh session
	local before
	before=$(from_shards)
	val coord prof -c "$1" >/dev/null
	echo $(($(from_shards) - before))
}
B_PUSHED=$(bytes_of "$PUSHED_SQL")
B_PULLED=$(bytes_of "$PULLED_SQL")
for k in 0 1 2; do
	on coord prof -c "ALTER SERVER profiles_shard_$k OPTIONS (SET port '${PORT[shard$k]}')"
done

# ------------------------------------------------------------------ time, direct
say "query time ($REPS runs each, interleaved)"
sql_ms() {
	{ echo '\timing on'; echo "$1"; } | on coord prof -At -o /dev/null 2>&1 |
		awk '/^Time: / { t = $2 } /ERROR/ { print > "/dev/stderr"; exit 1 } END { print t }'
}
T_PUSHED='' T_PULLED=''
for _ in $(seq "$REPS"); do
	T_PUSHED+=" $(sql_ms "$PUSHED_SQL")"
	T_PULLED+=" $(sql_ms "$PULLED_SQL")"
done
T_PUSHED=$(echo "$T_PUSHED" | median)
T_PULLED=$(echo "$T_PULLED" | median)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.4f", a / b }'; }
met() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "n/a" && v + 0 <= t + 0) ? "yes" : "NO" }'; }
r_bytes=$(ratio "$B_PUSHED" "$B_PULLED")
r_time=$(ratio "$T_PUSHED" "$T_PULLED")
echo
echo "profile_ext sharding benchmark: $ROWS CPU profiles on 3 shards ($PER_SHARD rows; $STORED bytes stored), merged whole; one merged profile: $MERGED_SIZE bytes; medians of $REPS runs; ratio = pushed / pulled"
echo
printf '| %s | %s | %s | %s | %s | %s |\n' measurement "pushed down (profile_sharded_merge)" "pulled (plain profile_merge, every row)" ratio target "met?"
printf '| %s | %s | %s | %s | %s | %s |\n' --- --- --- --- --- ---
printf '| %s | %s | %s | %s | %s | %s |\n' "8a. bytes shards -> coordinator" "$B_PUSHED B" "$B_PULLED B" "${r_bytes}x" \
	"<= 0.01 (>= 100x fewer)" "$(met "$r_bytes" 0.01)"
printf '| %s | %s | %s | %s | %s | %s |\n' "8b. query time" "$T_PUSHED ms" "$T_PULLED ms" "${r_time}x" "< 1 (faster)" \
	"$(met "$r_time" 0.9999)"
echo
echo "(measured on $(nproc) cores$( [ -r /proc/loadavg ] && echo ", load average $(cut -d' ' -f1-3 /proc/loadavg)"); command: bash test/bench/sharding.sh)"
