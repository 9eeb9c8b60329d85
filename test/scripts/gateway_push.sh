#!/usr/bin/env bash
# gateway_push.sh: Pyroscope Push requests (POST /push.v1.PusherService/Push, Connect unary),
# built with Debian's python3-protobuf from message classes protoc makes of Pyroscope's public
# push.v1/types.v1 definitions (test/gateway/gwclient.py), as Alloy's pyroscope.write and the
# Python/Ruby/.NET SDKs send them:
#  - application/proto and application/json (protobuf's own JSON mapping: rawProfile base64),
#    each plain and with Content-Encoding: gzip; raw_profile plain and gzipped pprof; several
#    series and several samples per series: 200, every profile stored once with its labels,
#    its time_nanos as ts and its exact totals;
#  - string pprof sample labels split a profile into one row per label set (span_id stays);
#  - no service_name gives unknown_service;
#  - a push without __name__, or with one bad profile among good ones: 400 with a Connect JSON
#    error {"code": "invalid_argument", "message": ...}, and nothing of that push is stored.
# Needs python3 with python3-protobuf, protoc (protobuf-compiler) and PG* variables.
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/gateway/gw_lib.sh"
gw_init gateway_push

gw_need_protobuf

gw_serve gw_push

now_ns=$(date +%s%N)
T1=$((now_ns - 60000000000)) T2=$((now_ns - 30000000000))
P=$GW_WORK
gwc mkpprof "$P/cpu.pb" --type samples:count --type cpu:nanoseconds --period-type cpu:nanoseconds \
	--period 10000000 --time-ns $T1 --stack 'main;serve;handle=3,30000000' \
	--stack 'main;serve;encode=2,20000000' --stack 'main;gc=1,10000000' || { bad "mkpprof"; finish; }
gwc mkpprof "$P/cpu2.pb" --type samples:count --type cpu:nanoseconds --period-type cpu:nanoseconds \
	--period 10000000 --time-ns $T2 --gzip --stack 'main;serve;handle=5,50000000' \
	--stack 'main;idle=7,70000000'
gwc mkpprof "$P/mem.pb" --type alloc_objects:count --type alloc_space:bytes \
	--type inuse_objects:count --type inuse_space:bytes --time-ns $T1 --gzip \
	--stack 'main;alloc=10,1024,2,256' --stack 'main;cache;grow=3,4096,3,4096'

file_totals() { gwc totals "$1"; }

# stored "type=N,..." of the rows matching a WHERE clause
stored_totals() {
	q -c "SELECT coalesce(string_agg(t || '=' || s, ',' ORDER BY t), '') FROM (
		SELECT t, sum(profile_total(profile, t)) AS s FROM gw_push, unnest(profile_sample_types(profile)) t
		WHERE $1 GROUP BY t) x"
}

# ---------------------------------------------------------------- 1. four encodings
cpu_both=$("$GW_PY" -c "
a, b = '$(file_totals "$P/cpu.pb")', '$(file_totals "$P/cpu2.pb")'
d = {}
for part in (a + ',' + b).split(','):
    k, v = part.split('=')
    d[k] = d.get(k, 0) + int(v)
print(','.join('%s=%d' % kv for kv in sorted(d.items())))")
mem_want=$(file_totals "$P/mem.pb")
for enc in proto proto_gzip json json_gzip; do
	flags=()
	[[ $enc == json* ]] && flags+=(--json)
	[[ $enc == *gzip ]] && flags+=(--gzip)
	res=$(gwc push "$GW_URL" "${flags[@]}" \
		--series "{\"__name__\": \"process_cpu\", \"service_name\": \"pushsvc\", \"case\": \"$enc\", \"env\": \"test\"}" \
		"$P/cpu.pb" "$P/cpu2.pb" \
		--series "{\"__name__\": \"memory\", \"service_name\": \"pushsvc\", \"case\": \"$enc\"}" "$P/mem.pb")
	status=${res%% *} body=${res#* }
	[ "$body" = "$status" ] && body=''
	if [ "$status" = 200 ] && { [ -z "$body" ] || [ "$body" = "{}" ]; }; then
		ok "$enc: 200 with an empty message"
	else
		bad "$enc: got '$res'"
		continue
	fi
	sel="labels @> '{\"service_name\": \"pushsvc\", \"case\": \"$enc\"}'"
	n=$(q -c "SELECT count(*) FROM gw_push WHERE $sel")
	if [ "$n" = 3 ]; then ok "$enc: 3 profiles, 3 rows"; else bad "$enc: $n rows, want 3"; fi
	got=$(stored_totals "$sel AND labels->>'__name__' = 'process_cpu'")
	if [ "$got" = "$cpu_both" ]; then ok "$enc: CPU totals $got"; else bad "$enc: CPU totals '$got', sent '$cpu_both'"; fi
	got=$(stored_totals "$sel AND labels->>'__name__' = 'memory'")
	if [ "$got" = "$mem_want" ]; then ok "$enc: memory totals exact"; else bad "$enc: memory totals '$got', sent '$mem_want'"; fi
	ts=$(q -c "SELECT string_agg(((extract(epoch FROM ts) * 1e6)::bigint)::text, ',' ORDER BY ts)
		FROM gw_push WHERE $sel AND labels->>'__name__' = 'process_cpu'")
	if [ "$ts" = "$((T1 / 1000)),$((T2 / 1000))" ]; then
		ok "$enc: ts = each profile's time_nanos"
	else
		bad "$enc: ts (us) $ts, want $((T1 / 1000)),$((T2 / 1000))"
	fi
	extra=$(q -c "SELECT count(*) FROM gw_push WHERE $sel AND labels->>'__name__' = 'process_cpu'
		AND NOT labels @> '{\"env\": \"test\"}'")
	[ "$extra" = 0 ] && ok "$enc: series labels stored" || bad "$enc: $extra rows lack the series label env"
done

# ---------------------------------------------------------------- 2. sample labels split
gwc mkpprof "$P/split.pb" --type samples:count --type cpu:nanoseconds --time-ns $T1 \
	--stack 'main;eu_work=4,40' --label region=eu --label span_id=00000000000000a1 \
	--stack 'main;eu_other=1,10' --label region=eu --label span_id=00000000000000a2 \
	--stack 'main;us_work=2,20' --label region=us \
	--stack 'main;unlabelled=8,80'
res=$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "service_name": "splitsvc"}' "$P/split.pb")
if [ "${res%% *}" = 200 ]; then ok "split: 200"; else bad "split: $res"; fi
rows=$(q -c "SELECT coalesce(labels->>'region', '-') || ':' || profile_total(profile, 'samples')
	|| (CASE WHEN labels ? 'span_id' THEN ':span_id' ELSE '' END)
	FROM gw_push WHERE labels->>'service_name' = 'splitsvc' ORDER BY 1" | paste -sd' ')
if [ "$rows" = "-:8 eu:5 us:2" ]; then
	ok "split: one row per string sample label set (region), span_id not promoted: $rows"
else
	bad "split: rows '$rows', want '-:8 eu:5 us:2'"
fi

# ---------------------------------------------------------------- 3. defaults and refusals
res=$(gwc push "$GW_URL" --series '{"__name__": "process_cpu", "case": "no_service"}' "$P/cpu.pb")
n=$(q -c "SELECT count(*) FROM gw_push WHERE labels @> '{\"case\": \"no_service\", \"service_name\": \"unknown_service\"}'")
if [ "${res%% *}" = 200 ] && [ "$n" = 1 ]; then ok "no service_name: stored as unknown_service"; else bad "no service_name: $res, $n rows"; fi

connect_error() {	# STATUS BODY -> true when 400 with a Connect invalid_argument JSON body
	local res=$1
	[ "${res%% *}" = 400 ] && "$GW_PY" -c "
import json, sys
e = json.loads(sys.argv[1])
sys.exit(0 if e.get('code') == 'invalid_argument' and e.get('message') else 1)" "${res#* }" 2>/dev/null
}
res=$(gwc push "$GW_URL" --series '{"service_name": "refused", "case": "no_name"}' "$P/cpu.pb")
if connect_error "$res"; then ok "no __name__: 400 invalid_argument (${res#* })"; else bad "no __name__: '$res'"; fi
head -c 300 /dev/urandom >"$P/garbage.pb"
for enc in proto json; do
	flags=()
	[ $enc = json ] && flags+=(--json)
	res=$(gwc push "$GW_URL" "${flags[@]}" \
		--series '{"__name__": "process_cpu", "service_name": "refused", "case": "one_bad"}' "$P/cpu.pb" \
		--series '{"__name__": "process_cpu", "service_name": "refused", "case": "one_bad2"}' "$P/cpu2.pb" "$P/garbage.pb")
	if connect_error "$res"; then ok "$enc: one bad profile among good ones: 400 invalid_argument"; else bad "$enc: one bad profile: '$res'"; fi
done
n=$(q -c "SELECT count(*) FROM gw_push WHERE labels->>'service_name' = 'refused'")
if [ "$n" = 0 ]; then ok "refused pushes stored nothing (all or none)"; else bad "refused pushes stored $n rows"; fi

if gw_alive; then ok "gateway alive"; else bad "gateway died (log: $GW_LOG)"; tail -n 20 "$GW_LOG"; fi
if gw_stop; then ok "SIGTERM: exit 0"; else bad "SIGTERM: exit status $?"; fi
finish
