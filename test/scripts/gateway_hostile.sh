#!/usr/bin/env bash
# gateway_hostile.sh: hostile requests to profile-gateway get the right HTTP status (Pyroscope's:
# 400 bad name/labels/Push message, 413 body too large, 422 profile that fails validation on
# /ingest, 415 JFR), store nothing, and leave the gateway serving everyone else:
#  - malformed multipart (no boundary, no closing delimiter, garbage), prev_profile (422),
#    a form without a profile part (200, nothing stored, as Pyroscope);
#  - bombs: a gzipped profile that inflates past the 4 MiB profile limit, a gzip-encoded Push
#    body that inflates past the body limit, more samples than the 16,000 limit;
#  - invalid UTF-8 in name tags, Push labels and pprof string sample labels; duplicate label
#    names; 31 labels; a 1025-byte label name and a 2049-byte value; a 100 kB `name`;
#  - truncated bodies (Content-Length larger than what is sent), garbage protobuf and JSON,
#    wrong content types, unknown paths and methods;
#  - slow clients: while connections trickle headers and bodies, a normal push is answered.
# Afterwards the table is empty, the gateway process is alive, /metrics and /ready answer and a
# valid push still lands.  Needs python3 with python3-protobuf, protoc and PG* variables.
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/gateway/gw_lib.sh"
gw_init gateway_hostile

gw_need_protobuf
# slow and stalled clients are cut off after 5 s instead of 30
gw_serve gw_hostile --connection-timeout 5
W=$GW_WORK

# expect WHAT "STATUS..." RESULT: RESULT's first word is one of the statuses; then nothing may
# have been stored and the gateway must still answer.
expect() {
	local what=$1 want=$2 res=$3 st=${3%% *} n
	n=$(q -c "SELECT count(*) FROM gw_hostile")
	if [[ " $want " == *" $st "* ]] && [ "$n" = 0 ] && gw_alive; then
		res="$st${res#"$st"}"
		ok "$what: ${res:0:160}"
	elif [ "$n" != 0 ]; then
		bad "$what: $n rows stored (status $st): $(q -c "SELECT string_agg(labels::text, ' ') FROM gw_hostile")"
		q -c "TRUNCATE gw_hostile"
	elif ! gw_alive; then
		bad "$what: the gateway stopped answering (status $st); log:"
		tail -n 20 "$GW_LOG"
		finish
	else
		bad "$what: got '${res:0:300}', want one of: $want"
	fi
}
now_ns=$(date +%s%N)
gwc mkpprof "$W/ok.pb" --type samples:count --type cpu:nanoseconds --time-ns "$now_ns" \
	--stack 'main;work=1,10000000' --stack 'main;idle=2,20000000'
gzip -c "$W/ok.pb" >"$W/ok.pb.gz"
ingest() { gwc raw "$GW_URL" "/ingest?name=hostile%7Benv%3Dci%7D&from=$((now_ns / 1000000000))&$1" "${@:2}"; }

# ---------------------------------------------------------------- multipart
B=XyZzyBoundary
mp() {	# mp FILE (name filename datafile)... : a multipart body
	local out=$1
	shift
	: >"$out"
	while [ $# -gt 0 ]; do
		printf -- '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' \
			"$B" "$1" "$2" >>"$out"
		cat "$3" >>"$out"
		printf '\r\n' >>"$out"
		shift 3
	done
	printf -- '--%s--\r\n' "$B" >>"$out"
}
mp "$W/mp_ok" profile profile.pprof "$W/ok.pb.gz"
MPH="Content-Type: multipart/form-data; boundary=$B"
expect "multipart without a boundary parameter" "400 422" \
	"$(ingest "" --header "Content-Type: multipart/form-data" --body-file "$W/mp_ok")"
head -c -8 "$W/mp_ok" >"$W/mp_noend"
expect "multipart without its closing delimiter" "400 422" "$(ingest "" --header "$MPH" --body-file "$W/mp_noend")"
head -c 2000 /dev/urandom >"$W/junk"
expect "multipart body of random bytes" "400 422" "$(ingest "" --header "$MPH" --body-file "$W/junk")"
mp "$W/mp_prev" profile profile.pprof "$W/ok.pb.gz" prev_profile profile.pprof "$W/ok.pb.gz"
expect "prev_profile (old client): refused like Pyroscope" "422" "$(ingest "" --header "$MPH" --body-file "$W/mp_prev")"
printf '{"a":' >"$W/stc_bad"
mp "$W/mp_stc" profile profile.pprof "$W/ok.pb.gz" sample_type_config sample_type_config.json "$W/stc_bad"
expect "sample_type_config that is not JSON" "400 422" "$(ingest "" --header "$MPH" --body-file "$W/mp_stc")"
mp "$W/mp_none" other x "$W/ok.pb.gz"
expect "form without a profile part (Pyroscope: 200, no series)" "200" "$(ingest "" --header "$MPH" --body-file "$W/mp_none")"
mp "$W/mp_junkprof" profile profile.pprof "$W/junk"
expect "profile part that is not pprof" "422" "$(ingest "" --header "$MPH" --body-file "$W/mp_junkprof")"

# ---------------------------------------------------------------- bombs and limits
head -c $((64 * 1024 * 1024)) /dev/zero | gzip -1 >"$W/bomb64m.gz"
mp "$W/mp_bomb" profile profile.pprof "$W/bomb64m.gz"
expect "gzip bomb as profile part (64 MiB of zeros > 4 MiB profile limit)" "413 422" \
	"$(ingest "" --header "$MPH" --body-file "$W/mp_bomb")"
expect "gzip bomb as raw format=pprof body" "413 422" \
	"$(ingest "format=pprof" --header "Content-Type: application/octet-stream" --body-file "$W/bomb64m.gz")"
expect "gzip bomb as Push raw_profile" "400 413" \
	"$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "hostile"}' "$W/bomb64m.gz")"
head -c $((300 * 1024 * 1024)) /dev/zero | gzip -1 >"$W/bomb300m.gz"
expect "Content-Encoding: gzip Push body inflating to 300 MiB (> 256 MiB body limit)" "400 413" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/proto" \
		--header "Content-Encoding: gzip" --body-file "$W/bomb300m.gz")"
rm -f "$W/bomb300m.gz"
gwc mkpprof "$W/many.pb.gz" --gzip --type samples:count --type cpu:nanoseconds --time-ns "$now_ns" \
	--stack 'main;f;g=1,10' --repeat 16000 --stack 'main;h=1,10'
mp "$W/mp_many" profile profile.pprof "$W/many.pb.gz"
expect "16,001 samples (> 16,000)" "422" "$(ingest "" --header "$MPH" --body-file "$W/mp_many")"
expect "16,001 samples by Push" "400" \
	"$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "hostile"}' "$W/many.pb.gz")"

# ---------------------------------------------------------------- names and labels
expect "invalid UTF-8 in a name tag" "400" \
	"$(gwc raw "$GW_URL" "/ingest?name=app%7Bk%3Dv%FF%FE%7D&format=pprof" --header "Content-Type: application/octet-stream" --body-file "$W/ok.pb.gz")"
expect "name with an unclosed brace" "400" \
	"$(gwc raw "$GW_URL" "/ingest?name=app%7Bk%3Dv&format=pprof" --header "Content-Type: application/octet-stream" --body-file "$W/ok.pb.gz")"
expect "empty name" "400" \
	"$(gwc raw "$GW_URL" "/ingest?format=pprof" --header "Content-Type: application/octet-stream" --body-file "$W/ok.pb.gz")"
big=$(head -c 100000 /dev/zero | tr '\0' 'a')
expect "100 kB name" "400 413 414 431" \
	"$(gwc raw "$GW_URL" "/ingest?name=$big&format=pprof" --header "Content-Type: application/octet-stream" --body-file "$W/ok.pb.gz")"
expect "100 kB tag value in name" "400 413 414 431" \
	"$(gwc raw "$GW_URL" "/ingest?name=app%7Bk%3D$big%7D&format=pprof" --header "Content-Type: application/octet-stream" --body-file "$W/ok.pb.gz")"
# "vQZq" becomes "v\xc3\x28q" on the wire: no protobuf library writes invalid UTF-8 itself
expect "invalid UTF-8 in a Push label value" "400" \
	"$(gwc push "$GW_URL" --series '[["__name__", "process_cpu"], ["service_name", "hostile"], ["k", "vQZq"]]' \
		"$W/ok.pb" --patch 76515a71 76c32871)"
expect "invalid UTF-8 in a Push label name" "400" \
	"$(gwc push "$GW_URL" --series '[["__name__", "process_cpu"], ["service_name", "hostile"], ["kQZk", "v"]]' \
		"$W/ok.pb" --patch 6b515a6b 6bc0af6b)"
expect "duplicate label name in a Push series" "400" \
	"$(gwc push "$GW_URL" --series '[["__name__", "process_cpu"], ["service_name", "hostile"], ["env", "a"], ["env", "b"]]' "$W/ok.pb")"
labels='[["__name__", "process_cpu"], ["service_name", "hostile"]'
for i in $(seq 1 29); do labels+=", [\"l$i\", \"v\"]"; done
expect "31 labels (> 30)" "400" "$(gwc push "$GW_URL" --series "$labels]" "$W/ok.pb")"
n1025=$(head -c 1025 /dev/zero | tr '\0' 'n') v2049=$(head -c 2049 /dev/zero | tr '\0' 'v')
expect "1025-byte label name" "400" \
	"$(gwc push "$GW_URL" --series "{\"__name__\": \"process_cpu\", \"service_name\": \"hostile\", \"$n1025\": \"v\"}" "$W/ok.pb")"
expect "2049-byte label value" "400" \
	"$(gwc push "$GW_URL" --series "{\"__name__\": \"process_cpu\", \"service_name\": \"hostile\", \"k\": \"$v2049\"}" "$W/ok.pb")"
gwc mkpprof "$W/badlabel.pb" --type samples:count --time-ns "$now_ns" --stack 'main;a=1' --label "region=$(printf 'eu\xff')"
expect "invalid UTF-8 in a pprof string sample label (Push)" "400" \
	"$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "hostile"}' "$W/badlabel.pb")"
mp "$W/mp_badlabel" profile profile.pprof "$W/badlabel.pb"
expect "invalid UTF-8 in a pprof string sample label (/ingest)" "400 422" \
	"$(ingest "" --header "$MPH" --body-file "$W/mp_badlabel")"

# ---------------------------------------------------------------- truncated, garbage, protocol
sz=$(stat -c %s "$W/mp_ok")
expect "multipart body cut short (Content-Length $sz, half sent)" "400 408 closed" \
	"$(ingest "" --header "$MPH" --body-file "$W/mp_ok" --send-bytes $((sz / 2)) --timeout 20)"
"$GW_PY" - "$repo/test/gateway" "$W/push.bin" "$W/ok.pb" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import gwclient
body, _ = gwclient.push_body([([("__name__", "process_cpu"), ("service_name", "hostile")],
                               [open(sys.argv[3], "rb").read()])])
open(sys.argv[2], "wb").write(body)
EOF
psz=$(stat -c %s "$W/push.bin")
expect "Push body cut short (Content-Length $psz, 40 bytes sent)" "400 408 closed" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/proto" \
		--body-file "$W/push.bin" --send-bytes 40 --timeout 20)"
head -c -7 "$W/push.bin" >"$W/push_trunc.bin"
expect "Push message truncated inside a field" "400" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/proto" --body-file "$W/push_trunc.bin")"
expect "Push body of random bytes" "400" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/proto" --body-file "$W/junk")"
expect "Push JSON that is not JSON" "400" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/json" --body '{"series": [{"labels": [')"
expect "Push JSON with bad base64" "400" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/json" \
		--body '{"series": [{"labels": [{"name": "__name__", "value": "process_cpu"}], "samples": [{"rawProfile": "!!not base64!!"}]}]}')"
expect "Push with Content-Encoding: gzip that is not gzip" "400" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/proto" \
		--header "Content-Encoding: gzip" --body-file "$W/push.bin")"
expect "Push with Content-Type text/plain" "400 415" \
	"$(gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: text/plain" --body-file "$W/push.bin")"
expect "format=jfr: not supported yet" "415" \
	"$(ingest "format=jfr" --header "Content-Type: application/octet-stream" --body-file "$W/junk")"
expect "GET /ingest" "404 405" "$(gwc raw "$GW_URL" /ingest --method GET)"
expect "unknown path" "404" "$(gwc raw "$GW_URL" /no/such/path --body x)"
expect "folded body with a non-numeric value" "400 422" \
	"$(gwc raw "$GW_URL" "/ingest?name=hostile.cpu&format=folded" --body $'main;a notanumber\n')"

# ---------------------------------------------------------------- slow clients
t0=$(date +%s%N)
gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "baseline"}' "$W/ok.pb" >/dev/null
base_ms=$((($(date +%s%N) - t0) / 1000000))
q -c "DELETE FROM gw_hostile WHERE labels->>'service_name' = 'baseline'"
slow_pids=()
for i in 1 2 3 4 5; do
	gwc raw "$GW_URL" /push.v1.PusherService/Push --header "Content-Type: application/proto" \
		--body-file "$W/push.bin" --content-length $((psz + 100000)) --bytes-per-second 50 \
		--timeout 30 >"$W/slow_$i.out" 2>&1 &
	slow_pids+=($!)
done
# header trickle: a request line and headers sent a few bytes at a time, never finished
for i in 1 2 3; do
	"$GW_PY" - "$GW_PORT" >"$W/slowhdr_$i.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
try:
    for ch in "POST /ingest?name=slow HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a" * 200:
        s.send(ch.encode()); time.sleep(0.05)
    print("sent")
except OSError as e:
    print("closed by server:", e)
EOF
	slow_pids+=($!)
done
sleep 1
t0=$(date +%s%N)
res=$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "served_while_slow"}' "$W/ok.pb")
ms=$((($(date +%s%N) - t0) / 1000000))
n=$(q -c "SELECT count(*) FROM gw_hostile WHERE labels->>'service_name' = 'served_while_slow'")
if [ "${res%% *}" = 200 ] && [ "$n" = 1 ] && [ $ms -lt 10000 ]; then
	ok "8 slow connections open: a normal push is answered in $ms ms (without them: $base_ms ms) and stored"
else
	bad "8 slow connections open: normal push '$res' after $ms ms, $n rows"
fi
q -c "TRUNCATE gw_hostile"
for p in "${slow_pids[@]}"; do wait "$p"; done
echo "  slow clients' outcomes: $(cat "$W"/slow_*.out | awk '{ print $1 }' | sort | uniq -c | tr -s ' \n' ' ')"
n=$(q -c "SELECT count(*) FROM gw_hostile")
if [ "$n" = 0 ]; then ok "slow clients' incomplete bodies stored nothing"; else bad "slow clients stored $n rows"; fi

# ---------------------------------------------------------------- still fine
if gw_alive && [ "$(gw_get_status /metrics)" = 200 ]; then ok "gateway alive: /ready and /metrics answer"; else bad "gateway not answering"; fi
res=$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "after"}' "$W/ok.pb")
n=$(q -c "SELECT count(*) FROM gw_hostile WHERE labels->>'service_name' = 'after'")
if [ "${res%% *}" = 200 ] && [ "$n" = 1 ]; then ok "a valid push after all that lands"; else bad "valid push after hostile ones: '$res', $n rows"; fi
if gw_stop; then ok "SIGTERM: exit 0"; else bad "SIGTERM: exit status $?"; fi
if grep -qiE 'AddressSanitizer|segmentation|core dumped|abort' "$GW_WORK"/gateway.*.log; then
	bad "the gateway log reports a crash"
	grep -iE 'AddressSanitizer|segmentation|core dumped|abort' "$GW_WORK"/gateway.*.log | head
fi
finish
