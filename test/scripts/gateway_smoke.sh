#!/usr/bin/env bash
# gateway_smoke.sh: profile-gateway end to end, quickly: start it against a database, send
# one /ingest multipart form (pprof + sample_type_config), one raw format=pprof body, one
# folded body, one Connect Push in protobuf and one in JSON (gzipped), and check the rows,
# their labels and totals; then bad input (400/415/422), /metrics, /ready, and that
# SIGTERM exits 0.  The thorough suites (real SDKs, durability, hostile input) are the
# other test/scripts/gateway_*.sh.
#
# Uses the PG* variables test/run_all.sh passes (a fresh database), or starts its own
# throwaway cluster when PGHOST is unset.  Needs python3 (the HTTP client here).
# PROFILE_GATEWAY=path runs another build (e.g. one with sanitizers).
# Last line "N passed, N failed[, N skipped]".
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib.sh
source "$repo/test/lib.sh"
export LC_ALL=C.UTF-8

command -v python3 >/dev/null || skip_all "python3 not installed"
pe_work gateway_smoke
tmp=$WORK
gw_pid=
stop_gateway() { [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; }
PE_CLEANUP_HOOKS+=(stop_gateway)
gw=${PROFILE_GATEWAY:-$repo/src/gateway/profile-gateway}
[ -x "$gw" ] || gw=$(pg_config --bindir)/profile-gateway
if [ ! -x "$gw" ]; then
	bad "profile-gateway is not built (make) nor installed (make install)"
	finish
fi

[ -n "${PGHOST:-}" ] || pe_own_cluster "$tmp/pg"
q -c "CREATE EXTENSION IF NOT EXISTS profile_ext" &&
	q -c "CREATE TABLE gw_smoke (ts timestamptz, labels jsonb, profile profile)" || {
	bad "cannot create the extension and table"
	finish
}

port=$(pe_pick_port)
dsn="host=$PGHOST port=$PGPORT user=${PGUSER:-$(id -un)} dbname=${PGDATABASE:-postgres}"
"$gw" --listen "127.0.0.1:$port" --dsn "$dsn" --table gw_smoke --max-samples 1000 \
	>"$tmp/gw.log" 2>&1 &
gw_pid=$!

# The client: python3 standard library only.  Profiles are made by the extension itself.
q -c "SELECT encode(profile_to_pprof(profile_from_folded(E'main;work 5\nmain;idle 3', 'cpu:nanoseconds')), 'base64')" |
	base64 -d >"$tmp/cpu.pb.gz"
q -c "SELECT encode(profile_to_pprof(profile_from_folded(E'main;alloc 100\nmain;other 28', 'alloc_space:bytes'), false), 'base64')" |
	base64 -d >"$tmp/heap.pb"

cat >"$tmp/client.py" <<'PY'
import base64, gzip, json, sys, time, urllib.request, urllib.error

base = sys.argv[1]

def call(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 0, str(e).encode()

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def field(num, payload):  # length-delimited
    return varint(num << 3 | 2) + varint(len(payload)) + payload

def push_proto(labels, profiles):
    series = b"".join(field(1, field(1, k.encode()) + field(2, v.encode())) for k, v in labels)
    series += b"".join(field(2, field(1, p)) for p in profiles)
    return field(1, series)

cmd = sys.argv[2]
if cmd == "ready":
    for _ in range(100):
        s, _ = call("GET", "/ready")
        if s == 200:
            print(200); sys.exit(0)
        time.sleep(0.1)
    print(s); sys.exit(0)
if cmd == "multipart":
    prof = open(sys.argv[3], "rb").read()
    stc = json.dumps({"cpu": {"units": "nanoseconds", "display-name": "cpu"}}).encode()
    b = b"XyZsmokeBoundary"
    body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + prof + b"\r\n--" + b +
            b'\r\nContent-Disposition: form-data; name="sample_type_config"; filename="sample_type_config.json"\r\n\r\n'
            + stc + b"\r\n--" + b + b"--\r\n")
    s, r = call("POST", "/ingest?name=smoke.app%7Benv%3Dtest%2C__session_id__%3Dx%7D&from=1700000000&until=1700000010&spyName=gospy",
                body, {"Content-Type": "multipart/form-data; boundary=" + b.decode()})
elif cmd == "raw":
    s, r = call("POST", "/ingest?name=heapapp&format=pprof&spyName=nodespy&from=1700000000000",
                open(sys.argv[3], "rb").read(), {"Content-Type": "application/octet-stream"})
elif cmd == "folded":
    s, r = call("POST", "/ingest?name=foldapp.cpu&sampleRate=100&from=1700000000",
                b"main;a 2\nmain;b 1\n", {"Content-Type": "text/plain"})
elif cmd == "push":
    body = push_proto([("__name__", "process_cpu"), ("service_name", "pushsvc"), ("region", "eu"), ("__delta__", "false")],
                      [open(sys.argv[3], "rb").read()])
    s, r = call("POST", "/push.v1.PusherService/Push", body, {"Content-Type": "application/proto"})
elif cmd == "pushjson":
    body = json.dumps({"series": [{"labels": [{"name": "__name__", "value": "memory"}],
                                   "samples": [{"rawProfile": base64.b64encode(open(sys.argv[3], "rb").read()).decode()}]}]}).encode()
    s, r = call("POST", "/push.v1.PusherService/Push", gzip.compress(body),
                {"Content-Type": "application/json", "Content-Encoding": "gzip"})
elif cmd == "pushbad":
    good = open(sys.argv[3], "rb").read()
    body = push_proto([("__name__", "process_cpu"), ("service_name", "badsvc")], [good]) + \
        push_proto([("__name__", "process_cpu"), ("service_name", "badsvc")], [b"\x0a\x05trunc"])
    s, r = call("POST", "/push.v1.PusherService/Push", body, {"Content-Type": "application/proto"})
elif cmd == "badname":
    s, r = call("POST", "/ingest?name=bad%20app%21&format=pprof", b"x")
elif cmd == "jfr":
    s, r = call("POST", "/ingest?name=javaapp&format=jfr", b"x")
elif cmd == "badpprof":
    s, r = call("POST", "/ingest?name=app&format=pprof", b"\x0a\x03abc\xff")
elif cmd == "prev":
    b = "B0undary"
    body = ("--" + b + '\r\nContent-Disposition: form-data; name="prev_profile"\r\n\r\nx\r\n--' + b + "--\r\n").encode()
    s, r = call("POST", "/ingest?name=app", body, {"Content-Type": "multipart/form-data; boundary=" + b})
elif cmd == "auth":  # AUTHORIZATION-HEADER ORG-ID PROFILE ("-" = leave out)
    h = {"Content-Type": "application/octet-stream"}
    if sys.argv[3] != "-":
        h["Authorization"] = sys.argv[3]
    if sys.argv[4] != "-":
        h["X-Scope-OrgID"] = sys.argv[4]
    s, r = call("POST", "/ingest?name=authapp&format=pprof", open(sys.argv[5], "rb").read(), h)
elif cmd == "metrics":
    s, r = call("GET", "/metrics")
    sys.stdout.write(r.decode())
    sys.exit(0)
print(s, r.decode(errors="replace").strip()[:300])
PY
client() { python3 "$tmp/client.py" "http://127.0.0.1:$port" "$@"; }
expect() { # STATUS DESCRIPTION CLIENT-ARGS...
	local want=$1 what=$2 got
	shift 2
	got=$(client "$@")
	if [ "${got%% *}" = "$want" ]; then ok "$what ($want)"; else bad "$what: want $want, got: $got"; fi
}

if [ "$(client ready)" = 200 ]; then ok "gateway ready"; else
	bad "gateway not ready: $(cat "$tmp/gw.log")"
	finish
fi
expect 200 "/ingest multipart pprof + sample_type_config" multipart "$tmp/cpu.pb.gz"
expect 200 "/ingest format=pprof raw body" raw "$tmp/heap.pb"
expect 200 "/ingest folded (default format)" folded
expect 200 "Push application/proto" push "$tmp/cpu.pb.gz"
expect 200 "Push application/json, gzip" pushjson "$tmp/heap.pb"
expect 400 "Push with one bad series stores none" pushbad "$tmp/cpu.pb.gz"
expect 400 "bad name" badname
expect 415 "format=jfr" jfr
expect 422 "invalid pprof" badpprof
expect 422 "prev_profile" prev

check() { # DESCRIPTION SQL EXPECTED
	local got
	got=$(q -c "$2" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1"; else bad "$1: want [$3], got [$got]"; fi
}
check "five rows" "SELECT count(*) FROM gw_smoke" 5
check "multipart labels" \
	"SELECT labels FROM gw_smoke WHERE labels->>'service_name' = 'smoke.app'" \
	'{"env": "test", "__name__": "process_cpu", "service_name": "smoke.app", "pyroscope_spy": "gospy"}'
check "multipart total" \
	"SELECT profile_total(profile) FROM gw_smoke WHERE labels->>'service_name' = 'smoke.app'" 8
check "multipart ts from 'from' (the profile has no time)" \
	"SELECT extract(epoch FROM ts)::bigint FROM gw_smoke WHERE labels->>'service_name' = 'smoke.app'" 1700000000
check "raw pprof: __name__ memory, ms timestamp" \
	"SELECT labels->>'__name__', extract(epoch FROM ts)::bigint, profile_total(profile) FROM gw_smoke WHERE labels->>'service_name' = 'heapapp'" \
	"memory|1700000000|128"
check "folded: cpu scaled by 1e9/sampleRate, suffix gives __name__" \
	"SELECT labels->>'__name__', profile_total(profile), profile_sample_types(profile)::text FROM gw_smoke WHERE labels->>'service_name' = 'foldapp'" \
	"process_cpu|30000000|{cpu:nanoseconds}"
check "Push labels: __ labels dropped but __name__" \
	"SELECT labels FROM gw_smoke WHERE labels->>'service_name' = 'pushsvc'" \
	'{"region": "eu", "__name__": "process_cpu", "service_name": "pushsvc"}'
check "Push JSON: default service_name" \
	"SELECT labels->>'__name__', profile_total(profile) FROM gw_smoke WHERE labels->>'service_name' = 'unknown_service'" \
	"memory|128"
check "nothing of the refused Push" "SELECT count(*) FROM gw_smoke WHERE labels->>'service_name' = 'badsvc'" 0

metrics=$(client metrics)
for m in 'profile_gateway_http_requests_total{path="/ingest",code="200"} 3' \
	'profile_gateway_rows_committed_total 5' 'profile_gateway_db_up 1'; do
	if grep -qF "$m" <<<"$metrics"; then ok "metrics: $m"; else bad "metrics lack: $m"; fi
done

# --auth-file and --tenant-mode: a second gateway on the same table
printf '%s\n' '# smoke credentials' 'basic ingest s3cret' 'bearer tok-t2 t2' >"$tmp/auth"
port2=$(pe_pick_port)
"$gw" --listen "127.0.0.1:$port2" --dsn "$dsn" --table gw_smoke --auth-file "$tmp/auth" \
	--tenant-mode >"$tmp/gw2.log" 2>&1 &
gw2_pid=$!
client2() { python3 "$tmp/client.py" "http://127.0.0.1:$port2" "$@"; }
basic="Basic $(printf 'ingest:s3cret' | base64)"
wrong="Basic $(printf 'ingest:wrong' | base64)"
if [ "$(client2 ready)" = 200 ]; then
	for c in "401|no credentials|-|t1" "401|wrong password|$wrong|t1" \
		"401|tenant mode without X-Scope-OrgID|$basic|-" "200|basic auth, tenant t1|$basic|t1" \
		"200|bearer bound to t2, no header|Bearer tok-t2|-" \
		"403|bearer bound to t2, header t3|Bearer tok-t2|t3" "400|bad tenant id|$basic|a/b"; do
		IFS='|' read -r want what auth org <<<"$c"
		got=$(client2 auth "$auth" "$org" "$tmp/cpu.pb.gz")
		if [ "${got%% *}" = "$want" ]; then ok "auth: $what ($want)"; else bad "auth: $what: want $want, got $got"; fi
	done
	check "tenant label from X-Scope-OrgID and from the credentials" \
		"SELECT string_agg(labels->>'tenant', ',' ORDER BY labels->>'tenant') FROM gw_smoke WHERE labels->>'service_name' = 'authapp'" \
		"t1,t2"
else
	bad "second gateway (auth, tenant mode) not ready: $(cat "$tmp/gw2.log")"
fi
kill -TERM "$gw2_pid"
wait "$gw2_pid" 2>/dev/null

kill -TERM "$gw_pid"
rc=0
for _ in $(seq 1 100); do
	kill -0 "$gw_pid" 2>/dev/null || break
	sleep 0.1
done
wait "$gw_pid" || rc=$?
gw_pid=
if [ "$rc" = 0 ]; then ok "SIGTERM: exit 0"; else bad "SIGTERM: exit $rc; log: $(tail -5 "$tmp/gw.log")"; fi
finish
