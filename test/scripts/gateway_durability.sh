#!/usr/bin/env bash
# gateway_durability.sh: a 200 from profile-gateway means committed, and nothing is written twice.
# On its OWN throwaway cluster (tools/lib.sh; synchronous_commit on, so that a commit PostgreSQL
# acknowledged survives a server crash), four Push clients (test/gateway/gwclient.py stream)
# send one profile per request, each with a unique label seq, without retries, while:
#  1. the gateway is killed with SIGKILL mid-stream and started again on the same port;
#  2. every PostgreSQL process is SIGKILLed mid-stream, the server stays down for 2 s (the
#     gateway must answer 503 meanwhile and reconnect by itself) and is started again;
#  3. the gateway is stopped with SIGTERM (it drains: exit status 0).
# Then: every acknowledged profile is in the table exactly once, no profile is there twice, no
# row comes from a request that was never sent, and requests were acknowledged again after each
# disruption.  Needs python3 with python3-protobuf, protoc, initdb/pg_ctl (pg_config --bindir).
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/gateway/gw_lib.sh"
gw_init gateway_durability

gw_need_protobuf
stop_stream() { [ -n "${STREAM_PID:-}" ] && kill "$STREAM_PID" 2>/dev/null; }
PE_CLEANUP_HOOKS+=(stop_stream)
pe_own_cluster "$GW_WORK/pg"
q -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null
echo "synchronous_commit $(q -c 'SHOW synchronous_commit')"
gw_serve gw_dur
export GW_SAME_PORT=1

now_ns=$(date +%s%N)
"$GW_PY" "$repo/test/gateway/gwclient.py" mkpprof "$GW_WORK/p.pb" --gzip --type samples:count \
	--type cpu:nanoseconds --time-ns "$now_ns" --stack 'main;serve;handle=3,30000000' \
	--stack 'main;gc=1,10000000'
LOG=$GW_WORK/stream.log
: >"$LOG"
"$GW_PY" "$repo/test/gateway/gwclient.py" stream "$GW_URL" "$LOG" --stop-file "$GW_WORK/stop" \
	--threads 4 --file "$GW_WORK/p.pb" 2>"$GW_WORK/stream.err" &
STREAM_PID=$!
acks() { grep -c '^ack ' "$LOG"; }
wait_acks() {	# wait until N more acks than now (at most 30 s); true when reached
	local want=$(($(acks) + $1)) i
	for i in $(seq 1 300); do
		[ "$(acks)" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- 1. kill -9 of the gateway
if wait_acks 50; then ok "streaming: $(acks) acknowledged"; else bad "streaming: only $(acks) acknowledged in 30 s"; fi
kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null
GW_PID=''
before=$(acks)
echo "gateway SIGKILLed after $before acks"
sleep 1
if gw_start --table gw_dur; then ok "gateway restarted on the same port"; else bad "gateway does not restart"; finish; fi
if wait_acks 50; then ok "acknowledged again after the gateway's restart ($(($(acks) - before)) more)"; else bad "no acks after the gateway's restart"; fi

# ---------------------------------------------------------------- 2. PostgreSQL crash
before=$(acks)
fails_before=$(grep -c '^fail .* 503$' "$LOG")
if pe_cluster_crash; then ok "PostgreSQL: every server process SIGKILLed mid-stream"; else bad "pe_cluster_crash failed"; fi
sleep 2
fails=$(($(grep -c '^fail .* 503$' "$LOG") - fails_before))
if [ "$fails" -gt 0 ]; then ok "while the database is down: $fails requests answered 503"; else
	bad "while the database is down: no 503 ($(tail -n 3 "$LOG" | tr '\n' ' '))"; fi
if gw_alive || kill -0 "$GW_PID" 2>/dev/null; then ok "gateway alive while the database is down"; else bad "gateway died with the database"; fi
pe_cluster_restart || { bad "PostgreSQL does not restart"; finish; }
if wait_acks 50; then ok "the gateway reconnected by itself: $(($(acks) - before)) more acks"; else
	bad "no acks after PostgreSQL's restart"; tail -n 20 "$GW_LOG"; fi

# ---------------------------------------------------------------- 3. SIGTERM drains
touch "$GW_WORK/stop"
sleep 0.3
gw_stop
rc=$?
if [ $rc = 0 ]; then ok "SIGTERM mid-stream: the gateway drained and exited 0"; else bad "SIGTERM: exit status $rc"; fi
wait "$STREAM_PID"
STREAM_PID=''

# ---------------------------------------------------------------- verification
awk '$1 == "ack" { print $2 }' "$LOG" | sort -u >"$GW_WORK/acked.txt"
awk '$1 == "start" { print $2 }' "$LOG" | sort -u >"$GW_WORK/started.txt"
echo "requests: $(wc -l <"$GW_WORK/started.txt") sent, $(wc -l <"$GW_WORK/acked.txt") acknowledged;" \
	"failures by status: $(awk '$1 == "fail" { print $3 }' "$LOG" | sort | uniq -c | tr -s ' \n' ' ')"
q <<EOF >"$GW_WORK/verify.out"
CREATE TEMP TABLE acked (seq text);
CREATE TEMP TABLE started (seq text);
\\copy acked FROM '$GW_WORK/acked.txt'
\\copy started FROM '$GW_WORK/started.txt'
SELECT 'missing', count(*) FROM acked WHERE seq NOT IN (SELECT labels->>'seq' FROM gw_dur WHERE labels ? 'seq');
SELECT 'twice', count(*) FROM (SELECT labels->>'seq' FROM gw_dur GROUP BY 1 HAVING count(*) > 1) d;
SELECT 'unknown', count(*) FROM gw_dur WHERE labels->>'seq' IS NULL OR labels->>'seq' NOT IN (SELECT seq FROM started);
SELECT 'rows', count(*), count(DISTINCT labels->>'seq') FROM gw_dur;
SELECT 'decode', count(*) FILTER (WHERE profile_total(profile, 'samples') = 4) FROM gw_dur;
EOF
cat "$GW_WORK/verify.out" | sed 's/^/  /'
get() { awk -F'|' -v k="$1" '$1 == k { print $2 }' "$GW_WORK/verify.out"; }
nacked=$(wc -l <"$GW_WORK/acked.txt")
rows=$(get rows)
[ "$(get missing)" = 0 ] && ok "all $nacked acknowledged profiles are in the table" || bad "$(get missing) acknowledged profiles are missing"
[ "$(get twice)" = 0 ] && ok "no profile stored twice" || bad "$(get twice) profiles stored more than once"
[ "$(get unknown)" = 0 ] && ok "no row from a request never sent" || bad "$(get unknown) rows from unknown requests"
[ "$(get decode)" = "$rows" ] && ok "all $rows rows decode with the sent totals" || bad "only $(get decode) of $rows rows have the sent totals"
echo "  ($((rows - nacked)) stored profiles were not acknowledged: in flight at a kill, allowed)"
finish
