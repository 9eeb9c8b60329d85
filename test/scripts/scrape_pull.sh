#!/usr/bin/env bash
# scrape_pull.sh: profile-gateway --config scrapes real Go programs the way
# Alloy's pyroscope.scrape does (issue 12).  Go programs built here with
# Debian's Go (net/http/pprof only, test/scrape/target) burn CPU, allocate at
# a steady rate, and leak; a Python stub plays the bad targets.  Checked in
# SQL over the rows the gateway writes:
#   - labels as Alloy gives them (job, instance, service_name, __name__, the
#     target's labels);
#   - CPU per interval agrees with the CPU time the burner measured itself;
#   - the stored alloc deltas at the allocator's call site add up exactly to
#     the growth of its cumulative total since the baseline scrape, which
#     equals the target's own final profile fetched directly;
#   - the leak is a growing inuse_space call site;
#   - bad targets (HTML, not pprof, gzip bomb, 10-minute trickle, redirect
#     loop, 500, nothing listening, more samples than --max-samples) are
#     errors by reason in /metrics, store nothing and do not slow the others;
#     the profile over --max-samples is refused with the message a push of
#     the same bytes gets;
#   - a file_sd change and a SIGHUP reload take effect without a restart; an
#     invalid reload keeps the old configuration and names the line;
#   - a restarted target (counters go down) starts a new baseline: no row
#     ever holds a negative value.
# Needs PG* of a running server with profile_ext installed, go, python3, curl.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/test/lib.sh"

gateway=${PROFILE_EXT_GATEWAY:-$repo/src/gateway/profile-gateway}
[ -x "$gateway" ] || gateway=$(pg_config --bindir)/profile-gateway
for need in go python3 curl; do
	if ! command -v "$need" >/dev/null; then
		skip "needs $need"
		finish
	fi
done
if [ ! -f "$repo/src/gateway/gw_main.c" ]; then
	skip "profile-gateway is not in this tree yet"
	finish
fi
if [ ! -x "$gateway" ]; then
	bad "profile-gateway is not built (make)"
	finish
fi

pe_work scrape_pull
work=$WORK
pids=()
stop_background() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
PE_CLEANUP_HOOKS+=(stop_background)
mkdir -p "$work/home" "$work/gocache" "$work/sd"
now() { date +%s.%N; }
# wait_for SECONDS CMD...: poll CMD every 0.5 s until it succeeds
wait_for() {
	local until=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $until ]; do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}
rows() { qt -c "SELECT count(*) FROM profiles WHERE labels @> '$1'${2:+ AND $2}"; }
rows_at_least() { [ "$(rows "$1" "${3:-}")" -ge "$2" ]; }
state() { curl -sf "http://$1/state"; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ------------------------------------------------------------------ build, start
if ! (cd "$repo/test/scrape" && HOME=$work/home GOCACHE=$work/gocache GOPROXY=off \
	GOFLAGS=-mod=mod go build -o "$work/target" ./target) >"$work/build.log" 2>&1; then
	cat "$work/build.log"
	bad "the Go test target does not build"
	finish
fi
ok "Go target built with $(go version | cut -d' ' -f3)"

qt -q -c "CREATE EXTENSION IF NOT EXISTS profile_ext;
	CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL)" || exit 1

pB=$(pe_pick_port) pA=$(pe_pick_port) pL=$(pe_pick_port) pU=$(pe_pick_port) pG=$(pe_pick_port)
B=127.0.0.1:$pB A=127.0.0.1:$pA L=127.0.0.1:$pL U=127.0.0.1:$pU
CHUNKS=150 CHUNK=65536
start_alloc() {
	"$work/target" -listen "$A" -alloc-chunks "$1" -alloc-size $CHUNK -alloc-per-sec 50 \
		>>"$work/alloc.log" 2>&1 &
	pidA=$!
	pids+=("$pidA")
}
"$work/target" -listen "$B" -burn >"$work/burn.log" 2>&1 &
pids+=($!)
start_alloc $CHUNKS
"$work/target" -listen "$L" -leak-per-sec 262144 >"$work/leak.log" 2>&1 &
pids+=($!)
modes=(html garbage bomb trickle redirect error500 many)
declare -A badport
badargs=()
for m in "${modes[@]}"; do
	badport[$m]=$(pe_pick_port)
	badargs+=("$m:${badport[$m]}")
done
python3 "$repo/test/scrape/bad_targets.py" "${badargs[@]}" >"$work/bad.log" 2>&1 &
pids+=($!)
badlist=""
for m in "${modes[@]}"; do badlist+="\"127.0.0.1:${badport[$m]}\", "; done
badlist+="\"$U\""
for t in "$B" "$A" "$L"; do
	wait_for 20 state "$t" >/dev/null || { bad "target $t does not answer"; finish; }
done
wait_for 90 grep -q ready "$work/bad.log" || { bad "the bad-target stub does not start"; finish; }

printf '[{"targets": ["%s"], "labels": {"pool": "a"}}]\n' "$L" >"$work/sd/fleet.json"
write_config() {
	cat >"$work/scrape.yaml.new" <<EOF
scrape_interval: 2s
scrape_timeout: 2s
scrape_configs:
  - job_name: go
    static_configs:
      - targets: ["$B"]
        labels: {service_name: burner, team: $1}
      - targets: ["$A", "$L"]
    profiling_config: {process_cpu: true, memory: true, goroutine: true, mutex: false, block: false}
  - job_name: bad
    static_configs:
      - targets: [$badlist]
    profiling_config: {process_cpu: false, memory: false, goroutine: true, mutex: false, block: false}
  - job_name: fleet
    file_sd_configs: [{files: ["sd/*.json", "sd/*.yml"]}]
    profiling_config: {process_cpu: false, memory: false, goroutine: true, mutex: false, block: false}
EOF
	mv "$work/scrape.yaml.new" "$work/scrape.yaml"
}
write_config perf
dsn="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE"
"$gateway" --listen "127.0.0.1:$pG" --dsn "$dsn" --config "$work/scrape.yaml" \
	>"$work/gateway.log" 2>&1 &
gw=$!
pids+=("$gw")
t_start=$(now)
if wait_for 15 curl -sf "http://127.0.0.1:$pG/metrics" -o /dev/null; then
	ok "gateway up with --config"
else
	cat "$work/gateway.log"
	bad "gateway does not start with --config"
	finish
fi

# ------------------------------------------------------------------ file_sd, labels
if wait_for 15 rows_at_least "{\"job\":\"fleet\",\"instance\":\"$L\",\"pool\":\"a\"}" 1; then
	ok "file_sd target scraped"
else
	bad "no rows from the file_sd target"
fi
printf -- '- targets: ["%s", "%s"]\n  labels: {pool: b}\n' "$L" "$A" >"$work/sd/fleet.yml.tmp"
printf '[]\n' >"$work/sd/fleet.json.tmp"
mv "$work/sd/fleet.yml.tmp" "$work/sd/fleet.yml"
mv "$work/sd/fleet.json.tmp" "$work/sd/fleet.json"
t_sd=$(now)
if wait_for 15 rows_at_least "{\"job\":\"fleet\",\"instance\":\"$A\",\"pool\":\"b\"}" 1 &&
	wait_for 10 rows_at_least "{\"job\":\"fleet\",\"instance\":\"$L\",\"pool\":\"b\"}" 1; then
	ok "file_sd change picked up without a restart (new target, new labels)"
else
	bad "file_sd change not picked up"
fi
if [ "$(rows "{\"job\":\"fleet\",\"pool\":\"a\"}" "ts > to_timestamp($t_sd) + interval '3 s'")" = 0 ]; then
	ok "targets removed from file_sd are no longer scraped"
else
	bad "the old file_sd group is still scraped"
fi

burner_labels=$(qt -c "SELECT DISTINCT labels - '__name__' FROM profiles WHERE labels->>'instance' = '$B'")
if [ "$burner_labels" = "{\"job\": \"go\", \"team\": \"perf\", \"instance\": \"$B\", \"service_name\": \"burner\"}" ]; then
	ok "labels: job, instance, the target's labels, service_name from them"
else
	bad "burner labels: $burner_labels"
fi
# memory rows start at the second memory scrape (the first is the baseline): on a quiet
# machine the checks above can finish before it
wait_for 20 rows_at_least "{\"job\":\"go\",\"instance\":\"$B\",\"__name__\":\"memory\"}" 1 || true
names=$(qt -c "SELECT string_agg(DISTINCT labels->>'__name__', ',') FROM profiles WHERE labels->>'instance' = '$B' AND labels->>'job' = 'go'")
[ "$names" = "goroutine,memory,process_cpu" ] && ok "__name__ per profile type ($names)" ||
	bad "__name__ values: $names"
svc=$(qt -c "SELECT string_agg(DISTINCT labels->>'service_name', ',') FROM profiles WHERE labels @> '{\"job\":\"go\",\"instance\":\"$A\"}'")
[ "$svc" = go ] && ok "service_name defaults to the job name" || bad "service_name of $A: $svc"

# ------------------------------------------------------------------ SIGHUP reload
write_config perf2
kill -HUP "$gw"
t_hup=$(now)
if wait_for 12 rows_at_least "{\"instance\":\"$B\",\"team\":\"perf2\"}" 2; then
	ok "SIGHUP reload picked up (new labels)"
else
	bad "SIGHUP reload not picked up"
fi
cp "$work/scrape.yaml" "$work/scrape.good"
printf 'scrape_interval: 2s\nscrape_configs:\n  - job_name: go\n    scrape_timeout: soon\n' >"$work/scrape.yaml"
kill -HUP "$gw"
t_bad=$(now)
sleep 1
if grep -q 'scrape.yaml:4:.*scrape_timeout' "$work/gateway.log"; then
	ok "invalid reload refused with the line number"
else
	bad "no line-numbered message for the invalid reload"
	tail -5 "$work/gateway.log"
fi
if wait_for 10 rows_at_least "{\"instance\":\"$B\",\"team\":\"perf2\",\"__name__\":\"goroutine\"}" 1 \
	"ts > to_timestamp($t_bad)" && kill -0 "$gw"; then
	ok "the running configuration stays after an invalid reload"
else
	bad "scraping stopped after an invalid reload"
fi
cp "$work/scrape.good" "$work/scrape.yaml"

# ------------------------------------------------------------------ exact alloc deltas
if wait_for 40 sh -c "curl -sf http://$A/state | grep -q '\"alloc_done\":true'"; then
	t_done=$(now)
	if wait_for 15 rows_at_least "{\"job\":\"go\",\"instance\":\"$A\",\"__name__\":\"memory\"}" 2 \
		"ts > to_timestamp($t_done)"; then
		curl -sf "http://$A/debug/pprof/allocs?direct=1" -o "$work/final.pb.gz"
		{ printf '\\x'; od -An -v -tx1 "$work/final.pb.gz" | tr -d ' \n'; } >"$work/final.hex"
		read -r stored_space stored_objects nrows <<<"$(qt -c "
			SELECT sum(t.total), sum(o.total), count(DISTINCT ts)
			FROM profiles,
				profile_top(profile, 'alloc_space', 100000) t,
				profile_top(profile, 'alloc_objects', 100000) o
			WHERE labels @> '{\"job\":\"go\",\"instance\":\"$A\",\"__name__\":\"memory\"}'
			  AND t.function = 'main.allocChunk' AND o.function = 'main.allocChunk'" | tr '\t' ' ')"
		direct=$(qt -v hex="$(cat "$work/final.hex")" <<'SQL'
SELECT total FROM profile_top(profile_from_pprof(:'hex'::bytea), 'alloc_space', 100000)
WHERE function = 'main.allocChunk'
SQL
)
		if [ -n "$stored_space" ] && [ "$stored_space" = "$direct" ] &&
			[ "$stored_space" = $((CHUNKS * CHUNK)) ] && [ "$stored_objects" = $CHUNKS ]; then
			ok "alloc deltas over $nrows rows add up exactly: $stored_space bytes, $stored_objects objects = the target's own cumulative profile"
		else
			bad "alloc deltas: stored $stored_space bytes / $stored_objects objects, direct $direct, expected $((CHUNKS * CHUNK)) / $CHUNKS"
		fi
	else
		bad "no memory rows after the allocator finished"
	fi
else
	bad "the allocator never finished (was it scraped?)"
fi

# ------------------------------------------------------------------ CPU per interval
s1=$(state "$B")
t1=$(now)
sleep 8
s2=$(state "$B")
t2=$(now)
cpu1=$(json_field cpu_ns <<<"$s1") cpu2=$(json_field cpu_ns <<<"$s2")
wall1=$(json_field wall_ns <<<"$s1") wall2=$(json_field wall_ns <<<"$s2")
wait_for 4 rows_at_least "{\"instance\":\"$B\",\"__name__\":\"process_cpu\"}" 1 "ts > to_timestamp($t2) - interval '1 s'"
read -r prof_rate share nwin <<<"$(qt -c "
	SELECT sum(profile_total(profile, 'cpu'))::float8 /
	       sum(extract(epoch FROM profile_duration(profile)) * 1e9),
	       sum((SELECT t.total FROM profile_top(profile, 'cpu', 1000) t
	            WHERE t.function = 'main.burnCPU'))::float8 / sum(profile_total(profile, 'cpu')),
	       count(*)
	FROM profiles WHERE labels @> '{\"instance\":\"$B\",\"__name__\":\"process_cpu\"}'
	  AND ts >= to_timestamp($t1) AND ts + profile_duration(profile) <= to_timestamp($t2)" | tr '\t' ' ')"
self_rate=$(python3 -c "print(($cpu2 - $cpu1) / ($wall2 - $wall1))")
if python3 -c "import sys; p, s = float('${prof_rate:-0}'), float('$self_rate'); sys.exit(0 if s > 0.05 and abs(p - s) <= 0.3 * s + 0.05 else 1)"; then
	ok "CPU per interval: $prof_rate CPUs in $nwin profiles, the burner measured $self_rate"
else
	bad "CPU per interval: profiles say $prof_rate CPUs ($nwin windows), the burner measured $self_rate"
fi
python3 -c "import sys; sys.exit(0 if float('${share:-0}') > 0.6 else 1)" &&
	ok "main.burnCPU (inclusive) holds $share of the CPU" || bad "main.burnCPU share $share"

# ------------------------------------------------------------------ the leak
read -r nleak grows first_v last_v <<<"$(qt -c "
	WITH v AS (
		SELECT ts, coalesce((SELECT t.total FROM profile_top(profile, 'inuse_space', 100000) t
		                     WHERE t.function = 'main.leakChunk'), 0) AS inuse
		FROM profiles WHERE labels @> '{\"job\":\"go\",\"instance\":\"$L\",\"__name__\":\"memory\"}'),
	o AS (SELECT inuse, lag(inuse) OVER (ORDER BY ts) AS prev, ts FROM v)
	SELECT count(*), bool_and(prev IS NULL OR inuse >= prev),
	       (SELECT inuse FROM v ORDER BY ts LIMIT 1), (SELECT inuse FROM v ORDER BY ts DESC LIMIT 1)
	FROM o" | tr '\t' ' ')"
if [ "${nleak:-0}" -ge 3 ] && [ "$grows" = t ] && [ "${last_v:-0}" -gt "${first_v:-0}" ]; then
	ok "leak: inuse_space at main.leakChunk grows over $nleak rows ($first_v -> $last_v bytes)"
else
	bad "leak: $nleak rows, growing=$grows, $first_v -> $last_v"
fi

# ------------------------------------------------------------------ bad targets
metrics=$(curl -sf "http://127.0.0.1:$pG/metrics")
metric() { # FAMILY INSTANCE [REASON]: the value, or empty
	grep "^$1{" <<<"$metrics" | grep "instance=\"$2\"" |
		{ if [ -n "${3:-}" ]; then grep "reason=\"$3\""; else cat; fi; } | awk '{print $NF}' | head -1
}
declare -A reason=([html]=content_type [garbage]=invalid_profile [bomb]=too_large
	[trickle]=timeout [redirect]=redirects [error500]=http_status [many]=too_large)
for m in "${modes[@]}"; do
	inst=127.0.0.1:${badport[$m]}
	n=$(metric profile_scrape_errors_total "$inst" "${reason[$m]}")
	up=$(metric profile_scrape_up "$inst")
	if [ -n "$n" ] && [ "${n%.*}" -ge 1 ] && [ "$up" = 0 ]; then
		ok "bad target $m: up 0, errors{reason=${reason[$m]}} $n"
	else
		bad "bad target $m: up=$up errors{reason=${reason[$m]}}=$n"
	fi
done
# the scraper refuses what push refuses, with the same words: one path for both
many=127.0.0.1:${badport[many]}
push_msg=$(curl -s "http://$many/debug/pprof/goroutine" |
	curl -s -X POST --data-binary @- "http://127.0.0.1:$pG/ingest?name=many&format=pprof" |
	json_field message)
if [ -n "$push_msg" ] && grep -qF "scrape bad http://$many/debug/pprof/goroutine failed (too_large): $push_msg" 	"$work/gateway.log" && [[ $push_msg == *"16001 samples, more than the limit of 16000"* ]]; then
	ok "over --max-samples: the scrape is refused as a push of the same bytes ($push_msg)"
else
	bad "over --max-samples: push says '$push_msg'; scrape log: $(grep -F "$many" "$work/gateway.log" | tail -1)"
fi
n=$(metric profile_scrape_errors_total "$U" connect)
[ -n "$n" ] && [ "$(metric profile_scrape_up "$U")" = 0 ] &&
	ok "unreachable target: up 0, errors{reason=connect} $n" || bad "unreachable target: errors=$n"
[ "$(metric profile_scrape_up "$B")" = 1 ] && ok "healthy target up 1" || bad "healthy target not up"
nb=$(grep '^profile_scrape_baselines_total{' <<<"$metrics" | grep "instance=\"$A\"" | grep 'job="go"' | awk '{print $NF}')
[ "${nb:-0}" = 1 ] && ok "the first memory scrape is only a baseline (baselines_total 1)" ||
	bad "baselines of $A: $nb"
[ "$(rows '{"job":"bad"}')" = 0 ] && ok "nothing stored for bad targets" || bad "rows stored for bad targets"
elapsed=$(python3 -c "print(int($(now) - $t_start))")
ngr=$(rows "{\"job\":\"go\",\"instance\":\"$B\",\"__name__\":\"goroutine\"}")
if [ "$ngr" -ge $((elapsed / 2 * 7 / 10)) ]; then
	ok "healthy targets unaffected: $ngr goroutine scrapes of the burner in ${elapsed}s at 2s"
else
	bad "healthy target slowed down: $ngr goroutine scrapes in ${elapsed}s"
fi

# ------------------------------------------------------------------ restart (counter reset)
kill "$pidA"
wait "$pidA" 2>/dev/null
t_restart=$(now)
sleep 2.5
start_alloc 50
if wait_for 25 rows_at_least "{\"job\":\"go\",\"instance\":\"$A\",\"__name__\":\"memory\"}" 1 \
	"ts > to_timestamp($t_restart) + interval '2.5 s'"; then
	ok "restarted target scraped again (deltas against a new baseline)"
else
	bad "no memory rows after the target restarted"
fi
grep -q "scrape go http://$A/debug/pprof/allocs: counter reset" "$work/gateway.log" &&
	ok "counter reset detected and logged" || bad "no counter reset logged"
neg=$(qt -c "SELECT count(*) FROM profiles, profile_top(profile, 'alloc_space', 100000) t
	WHERE labels->>'__name__' = 'memory' AND (t.self < 0 OR t.total < 0)")
[ "$neg" = 0 ] && ok "no negative values stored" || bad "$neg negative values stored"

kill -TERM "$gw"
if wait_for 20 sh -c "! kill -0 $gw 2>/dev/null"; then
	wait "$gw"
	rc=$?
	[ "$rc" = 0 ] && ok "SIGTERM with scrapes in flight: exit 0" || bad "gateway exit status $rc"
else
	bad "gateway does not stop on SIGTERM"
fi
grep -qiE 'AddressSanitizer|runtime error|segfault|core dumped' "$work/gateway.log" && bad "gateway crashed"
if [ "$failed" -gt 0 ]; then
	echo "--- gateway log (last 40 lines)"
	tail -n 40 "$work/gateway.log"
fi
finish
