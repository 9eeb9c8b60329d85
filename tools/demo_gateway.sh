# tools/demo_gateway.sh: the demo's load step through profile-gateway, sourced by tools/demo.sh
# when PROFILE_EXT_DEMO_VIA=gateway (`make demo-gateway`).
# shellcheck shell=bash
#
# Instead of one binary COPY, the fleet's hour of profiles (tools/gen/pe_gen --out-dir) reaches
# PostgreSQL the way it would from real services: profile-gateway listens on a free local port
# and every profile is pushed to it as its service's SDK would send it (checkout, Go:
# POST /ingest multipart like pyroscope-go; cart, Python: Push with gzip like the Python SDK;
# search, Java: Push like Grafana Alloy), four at a time (test/gateway/gwclient.py feed).  Each
# acknowledged push is a committed row, so the story's queries and flame graphs that follow run
# on what the gateway stored.  Needs python3 with python3-protobuf and protoc.
#
# demo_gateway_feed: uses REPO, TABLE, START, GEN_ARGS, the PG* variables, q/qv; sets rows.
DEMO_GW_DIR='' DEMO_GW_PID=''

demo_gateway_cleanup() {
	if [ -n "$DEMO_GW_PID" ] && kill -0 "$DEMO_GW_PID" 2>/dev/null; then
		kill -TERM "$DEMO_GW_PID" 2>/dev/null
		wait "$DEMO_GW_PID" 2>/dev/null
	fi
	DEMO_GW_PID=''
	[ -n "$DEMO_GW_DIR" ] && rm -rf "$DEMO_GW_DIR"
	DEMO_GW_DIR=''
}

demo_gateway_feed() {
	local py=/usr/bin/python3 gw_bin=$REPO/src/gateway/profile-gateway port dsn url i rc
	[ -x "$py" ] || py=$(command -v python3)
	if [ -z "$py" ] || ! "$py" -c 'import google.protobuf' 2>/dev/null || ! command -v protoc >/dev/null; then
		echo "demo: feeding through the gateway needs python3 with python3-protobuf and protoc" \
			"(Debian packages python3-protobuf protobuf-compiler)" >&2
		exit 1
	fi
	if [ ! -x "$gw_bin" ] && ! make -s src/gateway/profile-gateway >/tmp/profile_ext_demo_gw_build.log 2>&1; then
		tail -n 20 /tmp/profile_ext_demo_gw_build.log
		exit 1
	fi
	DEMO_GW_DIR=$(mktemp -d /tmp/profile_ext_demo_gw.XXXXXX)
	tools/gen/pe_gen --start "$START" "${GEN_ARGS[@]}" --out-dir "$DEMO_GW_DIR/files" --quiet
	echo "generated $(($(wc -l <"$DEMO_GW_DIR/files/index.tsv") - 1)) profile files (pprof, gzipped)"
	dsn="dbname=${PGDATABASE:-postgres}"
	[ -n "${PGHOST:-}" ] && dsn+=" host=$PGHOST"
	[ -n "${PGPORT:-}" ] && dsn+=" port=$PGPORT"
	[ -n "${PGUSER:-}" ] && dsn+=" user=$PGUSER"
	port=$(pe_pick_port)
	url=http://127.0.0.1:$port
	"$gw_bin" --listen "127.0.0.1:$port" --dsn "$dsn" --table "$TABLE" >"$DEMO_GW_DIR/gateway.log" 2>&1 &
	DEMO_GW_PID=$!
	for i in $(seq 1 300); do
		"$py" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/ready', timeout=2)" \
			"$url" 2>/dev/null && break
		kill -0 "$DEMO_GW_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$DEMO_GW_PID" 2>/dev/null; then
		cat "$DEMO_GW_DIR/gateway.log" >&2
		echo "demo: profile-gateway did not start" >&2
		exit 1
	fi
	echo "profile-gateway --listen 127.0.0.1:$port --table $TABLE is up; an SDK would use"
	echo "  ServerAddress: \"$url\"  (Alloy: pyroscope.write { endpoint { url = \"$url\" } })"
	rc=0
	"$py" "$REPO/test/gateway/gwclient.py" feed "$url" "$DEMO_GW_DIR/files" --threads 4 \
		--progress 1000 || rc=$?
	echo "the gateway's own count (GET /metrics):"
	"$py" -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + '/metrics', timeout=5).read().decode())" \
		"$url" 2>/dev/null | grep -E '^profile_gateway_(rows|profiles|requests)[a-z_]*(\{[^}]*\})? ' |
		grep -v ' 0$' | head -n 12 | sed 's/^/  /'
	kill -TERM "$DEMO_GW_PID"
	wait "$DEMO_GW_PID" || { echo "demo: profile-gateway exited with status $? on SIGTERM" >&2; rc=1; }
	DEMO_GW_PID=''
	rows=$(qv -c "SELECT count(*) FROM $TABLE")
	demo_gateway_cleanup
	if [ "$rc" != 0 ]; then
		echo "demo: some pushes were refused (see above)" >&2
		exit 1
	fi
}
