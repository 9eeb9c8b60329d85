#!/usr/bin/env bash
# gateway_go_ingest.sh: a Go program sends real runtime/pprof profiles to profile-gateway's
# POST /ingest exactly as the Go SDK (pyroscope-go) uploads them (test/gateway/gosender:
# multipart/form-data with a gzipped "profile" part and the SDK's sample_type_config, from and
# until in Unix nanoseconds, spyName=gospy), and the stored rows are what Pyroscope would make:
#  - one request per CPU, heap, mutex, block and goroutine profile, two rounds, all HTTP 200;
#  - for every file sent, the rows of its time window carry the sample types of the file and
#    totals EQUAL to the file's (summed by gosender's own pprof reader, not by the core);
#  - labels: service_name = the app name, __name__ process_cpu / memory / mutex / block /
#    goroutines (mutex and block told apart by sample_type_config's display names only),
#    pyroscope_spy=gospy, every tag of the name;
#  - ts lies inside the request's [from, until] (ns);
#  - /pyroscope/ingest is the same endpoint;
#  - profile_to_pprof of the merged CPU rows reads in `go tool pprof` with the same totals.
# Needs go (Debian golang-go; standard library only, no module downloads) and PG* variables.
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/gateway/gw_lib.sh"
gw_init gateway_go

if ! command -v go >/dev/null 2>&1; then
	skip "go is not installed (Debian: golang-go)"
	finish
fi
mkdir -p "$GW_WORK/home" "$GW_WORK/gocache"
export HOME=$GW_WORK/home GOCACHE=$GW_WORK/gocache GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on \
	PPROF_TMPDIR=$GW_WORK
if (cd "$repo/test/gateway/gosender" && go build -o "$GW_WORK/gosender" .) >"$GW_WORK/go_build.log" 2>&1; then
	ok "gosender builds (standard library only)"
else
	cat "$GW_WORK/go_build.log"
	bad "gosender does not build"
	finish
fi

gw_serve gw_go

app=goapp_$RANDOM
out=$GW_WORK/sent
if "$GW_WORK/gosender" -url "$GW_URL" -app "$app" -tags "env=ci,region=eu-west" -rounds 2 \
	-out "$out" 2>"$GW_WORK/gosender.err"; then
	ok "gosender: all $(wc -l <"$out/sent.tsv") uploads answered 200"
else
	sed 's/^/  | /' "$GW_WORK/gosender.err"
	bad "gosender: some uploads were refused"
fi
# /pyroscope/ingest: the same handler
if "$GW_WORK/gosender" -url "$GW_URL/pyroscope" -app "${app}_prefixed" -kinds cpu \
	-duration 300ms -out "$GW_WORK/sent_prefixed" 2>"$GW_WORK/gosender2.err"; then
	ok "/pyroscope/ingest accepts the same upload"
else
	sed 's/^/  | /' "$GW_WORK/gosender2.err"
	bad "/pyroscope/ingest refused the upload"
fi

declare -A want_name=([cpu]=process_cpu [heap]=memory [mutex]=mutex [block]=block [goroutines]=goroutines)
while IFS=$'\t' read -r kind status from until file totals; do
	name=${want_name[$kind]}
	sel="labels->>'service_name' = '$app' AND labels->>'__name__' = '$name'
		AND ts BETWEEN to_timestamp($from / 1e9) - interval '1 ms' AND to_timestamp($until / 1e9) + interval '1 ms'"
	got=$(q -c "SELECT coalesce(string_agg(t || '=' || s, ',' ORDER BY t), '') FROM (
		SELECT t, sum(profile_total(profile, t)) AS s FROM gw_go, unnest(profile_sample_types(profile)) t
		WHERE $sel GROUP BY t) x")
	want=$(tr ',' '\n' <<<"$totals" | sort | paste -sd, -)
	# a profile without samples may be stored as zero rows: its totals are all 0
	zero=$(tr ',' '\n' <<<"$totals" | grep -vc '=0$')
	if [ "$got" = "$want" ] || { [ -z "$got" ] && [ "$zero" = 0 ]; }; then
		ok "$kind $(basename "$file"): stored totals equal the file's ($want)"
	else
		bad "$kind $(basename "$file"): stored '$got', sent '$want'"
	fi
done <"$out/sent.tsv"

# Labels of every row of the app.
labels=$(q -c "SELECT DISTINCT (labels - 'otel.scope.version' - 'process.runtime.version')::text AS l
	FROM gw_go WHERE labels->>'service_name' = '$app' ORDER BY l")
echo "$labels" | sed 's/^/  labels: /'
nrows=$(q -c "SELECT count(*) FROM gw_go WHERE labels->>'service_name' = '$app'")
bad_rows=$(q -c "SELECT count(*) FROM gw_go WHERE labels->>'service_name' = '$app' AND NOT (
	labels @> '{\"env\": \"ci\", \"region\": \"eu-west\", \"pyroscope_spy\": \"gospy\",
		\"process.runtime.name\": \"go\", \"otel.scope.name\": \"com.grafana.pyroscope/go\"}'
	AND labels ? '__name__' AND labels ? 'process.runtime.version')")
if [ "$nrows" -gt 0 ] && [ "$bad_rows" = 0 ]; then
	ok "all $nrows rows carry service_name, __name__, pyroscope_spy=gospy and every tag"
else
	bad "$bad_rows of $nrows rows lack a label (service_name, tags, pyroscope_spy=gospy)"
fi
names=$(q -c "SELECT string_agg(DISTINCT labels->>'__name__', ',' ORDER BY labels->>'__name__')
	FROM gw_go WHERE labels->>'service_name' = '$app'")
# mutex/block profiles without any contention sample may be absent; cpu, memory, goroutines not
for n in process_cpu memory goroutines; do
	if [[ ",$names," == *",$n,"* ]]; then ok "__name__ $n present"; else bad "__name__ $n missing (got $names)"; fi
done
for n in mutex block; do
	if [[ ",$names," == *",$n,"* ]]; then
		ok "__name__ $n present (told apart by sample_type_config)"
	else
		bad "__name__ $n missing (got $names)"
	fi
done
# no row has a ts outside all request windows
outside=$(q -c "SELECT count(*) FROM gw_go g WHERE labels->>'service_name' = '$app' AND NOT EXISTS (
	SELECT 1 FROM (VALUES $(awk -F'\t' '{ printf "%s(%s,%s)", (NR > 1 ? "," : ""), $3, $4 }' "$out/sent.tsv")) w(f, u)
	WHERE g.ts BETWEEN to_timestamp(w.f / 1e9) - interval '1 ms' AND to_timestamp(w.u / 1e9) + interval '1 ms')")
if [ "$outside" = 0 ]; then ok "every row's ts lies inside its request's from..until (ns)"; else bad "$outside rows have a ts outside every request window"; fi

# profile_to_pprof of the merged CPU rows, read by go tool pprof
q -c "SELECT encode(profile_to_pprof(profile_merge(profile)), 'base64') FROM gw_go
	WHERE labels->>'service_name' = '$app' AND labels->>'__name__' = 'process_cpu'" >"$GW_WORK/merged.b64"
base64 -d "$GW_WORK/merged.b64" >"$GW_WORK/merged.pb.gz" 2>/dev/null
want_cpu=$(awk -F'\t' '$1 == "cpu" { n = split($6, a, ","); for (i = 1; i <= n; i++) { split(a[i], kv, "="); s[kv[1]] += kv[2] } }
	END { printf "%.0f %.0f", s["samples:count"], s["cpu:nanoseconds"] }' "$out/sent.tsv")
got_cpu=$(go tool pprof -raw "$GW_WORK/merged.pb.gz" 2>"$GW_WORK/pprof.err" |
	awk '/^Samples:/ { s = 1; getline; next } /^Locations/ { s = 0 } s && /:/ { split($0, a, ":"); n = split(a[1], v, " "); c += v[1]; t += v[2] }
	END { printf "%.0f %.0f", c, t }')
if [ -s "$GW_WORK/merged.pb.gz" ] && [ "$got_cpu" = "$want_cpu" ] && ! grep -qi 'warn\|error' "$GW_WORK/pprof.err"; then
	ok "go tool pprof reads profile_to_pprof of the stored CPU rows: samples, cpu = $got_cpu"
else
	sed 's/^/  | /' "$GW_WORK/pprof.err" | head -5
	bad "go tool pprof on profile_to_pprof: '$got_cpu', sent '$want_cpu'"
fi

if gw_alive; then ok "gateway alive"; else bad "gateway died (log: $GW_LOG)"; tail -n 20 "$GW_LOG"; fi
if gw_stop; then ok "SIGTERM: the gateway drains and exits 0"; else bad "SIGTERM: exit status $?"; fi
finish
