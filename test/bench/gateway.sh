#!/usr/bin/env bash
# test/bench/gateway.sh: the gateway section of `make bench`.  test/bench/run.sh sources it,
# calls gateway_bench and prints gateway_rows in its table; run alone
# (`bash test/bench/gateway.sh`) it starts its own throwaway cluster (or uses the server the PG*
# variables name) and prints just these rows.
#
# Measures, in one run on one machine (gateway, load generator and PostgreSQL share the cores):
#   a. throughput: real gzipped CPU profiles (the corpus' Go, Java and .NET CPU pprof files; the
#      generator's when the corpus is absent) pushed as Push requests (application/proto bodies
#      built with python3-protobuf, test/gateway/gwclient.py mkpush) by PE_BENCH_GW_CLIENTS
#      concurrent clients (test/gateway/goload, Go standard library) as fast as acknowledged,
#      for PE_BENCH_GW_SECONDS, through profile-gateway into PostgreSQL; against binary COPY of
#      the same files into a profile column (median of PE_BENCH_REPS runs).  Target: >= 0.7x.
#   b. acknowledgment latency at half that maximum rate (open loop: latency counts from each
#      request's scheduled time): p50/p99/max.  Target: p99 < 500 ms.
# Every acknowledged profile must be in the table (checked: rows = acks).
#
# Knobs: PE_BENCH_GW_CLIENTS=8, PE_BENCH_GW_SECONDS=15, PE_BENCH_GW_COPY_N=3000 (files in the
# COPY baseline), PE_BENCH_REPS=3, PE_BENCH_GW_ARGS="..." (extra profile-gateway options).

# gateway_bench: needs REPO, TMP, a working psql (PG*), pe_pick_port (tools/lib.sh).  Sets GWB_*.
gateway_bench() {
	local clients=${PE_BENCH_GW_CLIENTS:-8} secs=${PE_BENCH_GW_SECONDS:-15}
	local copy_n=${PE_BENCH_GW_COPY_N:-3000} reps=${PE_BENCH_REPS:-3}
	local corpus=${PROFILE_EXT_CORPUS:-$REPO/../shared/corpus} dir=$TMP/gw py gw_bin port pid i t0
	local -a extra=()
	read -r -a extra <<<"${PE_BENCH_GW_ARGS:-}"
	GWB_STATUS=ok GWB_CLIENTS=$clients GWB_SECONDS=$secs
	GWB_COPY_PPS='' GWB_MAX='' GWB_HALF='' GWB_ROWS='' GWB_ACKS='' GWB_FILES=''
	mkdir -p "$dir/files" "$dir/home" "$dir/gocache"
	gw_bin=$REPO/src/gateway/profile-gateway
	py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3)
	if [ ! -x "$gw_bin" ]; then GWB_STATUS="skipped: src/gateway/profile-gateway not built"; return 0; fi
	if ! command -v go >/dev/null || ! command -v protoc >/dev/null ||
		! "$py" -c 'import google.protobuf' 2>/dev/null; then
		GWB_STATUS="skipped: needs go, protoc and python3-protobuf"
		return 0
	fi
	if ! (cd "$REPO/test/gateway/goload" && HOME=$dir/home GOCACHE=$dir/gocache GOFLAGS=-mod=mod \
		GOPROXY=off go build -o "$dir/goload" .) >"$dir/goload.log" 2>&1; then
		GWB_STATUS="failed: goload does not build ($(tail -n 1 "$dir/goload.log"))"
		return 0
	fi

	# the files: real CPU profiles (gzipped), or the generator's
	if [ -f "$corpus/MANIFEST.tsv" ]; then
		awk -F'\t' '$2 == "accepts" && $3 ~ /(^|,)cpu\/nanoseconds/ { print $1 }' "$corpus/MANIFEST.tsv" |
			while read -r f; do
				if [ "$(head -c 2 "$corpus/pprof/$f" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
					cp "$corpus/pprof/$f" "$dir/files/$f"
				else
					gzip -6 -c "$corpus/pprof/$f" >"$dir/files/$f.gz"
				fi
			done
		GWB_FILES="N real gzipped CPU profiles from the corpus (Go, Java via JFR, .NET; one series each)"
	else
		find "$TMP/files" -name '*.pb.gz' | sort | head -n 200 | xargs -r cp -t "$dir/files/"
		GWB_FILES="N generated gzipped CPU profiles (corpus not found)"
	fi
	find "$dir/files" -type f | sort >"$dir/files.list"
	[ -s "$dir/files.list" ] || { GWB_STATUS="failed: no CPU profile files"; return 0; }
	# one row per push, so that rows = acknowledgments checks that every ack was committed
	"$py" "$REPO/test/gateway/gwclient.py" mkpush "$dir/bodies" --files "$dir/files.list" \
		--service bench --pods 16 --one-row || { GWB_STATUS="failed: gwclient.py mkpush"; return 0; }
	sed 's/.*push_\([0-9]*\)\.bin$/\1/' "$dir/bodies/bodies.list" |
		awk 'NR == FNR { keep[$1 + 1] = 1; next } FNR in keep' - "$dir/files.list" >"$dir/files.kept"
	mv "$dir/files.kept" "$dir/files.list"
	GWB_FILES="$(wc -l <"$dir/files.list") ${GWB_FILES#* }"
	GWB_AVG_KB=$(xargs stat -c %s <"$dir/files.list" | awk '{ s += $1 } END { printf "%.1f", s / NR / 1024 }')

	# a. baseline: binary COPY of the same files (cycled to copy_n rows) into a profile column
	awk -v n="$copy_n" '{ f[NR] = $0 } END { for (i = 0; i < n; i++) print f[i % NR + 1] }' \
		"$dir/files.list" >"$dir/copy.list"
	"$TMP/bin/copy_stream" "$dir/copy.list" >"$dir/copy.stream"
	psql -X -q -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS bench_gw_copy, bench_gw;
		CREATE TABLE bench_gw_copy (profile profile);
		CREATE TABLE bench_gw (ts timestamptz, labels jsonb, profile profile)" || { GWB_STATUS="failed: tables"; return 0; }
	local times=''
	for i in $(seq "$reps"); do
		psql -X -q -c "TRUNCATE bench_gw_copy" -c "CHECKPOINT" >/dev/null 2>&1 || true
		t0=$(date +%s.%N)
		psql -X -q -v ON_ERROR_STOP=1 -c "COPY bench_gw_copy FROM STDIN WITH (FORMAT binary)" <"$dir/copy.stream" ||
			{ GWB_STATUS="failed: COPY of the files"; return 0; }
		times+=" $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')"
	done
	GWB_COPY_S=$(tr ' ' '\n' <<<"$times" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	GWB_COPY_N=$copy_n
	GWB_COPY_PPS=$(awk -v n="$copy_n" -v s="$GWB_COPY_S" 'BEGIN { printf "%.0f", n / s }')
	psql -X -q -c "DROP TABLE bench_gw_copy" -c "CHECKPOINT" >/dev/null 2>&1 || true

	# the gateway, on a free port, into bench_gw
	local dsn="dbname=${PGDATABASE:-postgres}"
	[ -n "${PGHOST:-}" ] && dsn+=" host=$PGHOST"
	[ -n "${PGPORT:-}" ] && dsn+=" port=$PGPORT"
	[ -n "${PGUSER:-}" ] && dsn+=" user=$PGUSER"
	port=$(pe_pick_port)
	"$gw_bin" --listen "127.0.0.1:$port" --dsn "$dsn" --table bench_gw "${extra[@]}" \
		>"$dir/gateway.log" 2>&1 &
	pid=$!
	for i in $(seq 1 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready" 2>/dev/null)" = 200 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$pid" 2>/dev/null; then
		GWB_STATUS="failed: the gateway did not start ($(tail -n 1 "$dir/gateway.log"))"
		return 0
	fi
	local url=http://127.0.0.1:$port/push.v1.PusherService/Push
	"$dir/goload" -url "$url" -bodies "$dir/bodies/bodies.list" -clients 2 -seconds 2 >/dev/null 2>&1 || true	# warm-up
	psql -X -q -c "TRUNCATE bench_gw" -c "CHECKPOINT" >/dev/null 2>&1 || true
	GWB_MAX=$("$dir/goload" -url "$url" -bodies "$dir/bodies/bodies.list" -clients "$clients" -seconds "$secs" || true)
	local max_rps half
	max_rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$GWB_MAX")
	half=$(awk -v r="$max_rps" 'BEGIN { printf "%.1f", r / 2 }')
	GWB_HALF_RATE=$half
	if awk -v h="$half" 'BEGIN { exit !(h > 0) }'; then
		GWB_HALF=$("$dir/goload" -url "$url" -bodies "$dir/bodies/bodies.list" -clients "$clients" \
			-seconds "$secs" -rate "$half" || true)
	fi
	kill -TERM "$pid" || true
	GWB_EXIT=0
	wait "$pid" || GWB_EXIT=$?
	GWB_ROWS=$(psql -X -q -At -c "SELECT count(*) FROM bench_gw" || true)
	GWB_ACKS=$(($(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$GWB_MAX") + $(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"${GWB_HALF:-ok=0 }")))
	psql -X -q -c "DROP TABLE IF EXISTS bench_gw" >/dev/null 2>&1 || true
	return 0
}

gwb_field() { sed -n "s/.* $1=\\([0-9.]*\\).*/\\1/p" <<<" $2"; }

# The table rows (markdown, as run.sh's): throughput and latency.
gateway_rows() {
	local pps p99 ratio met1 met2 half_line
	if [ "$GWB_STATUS" != ok ]; then
		printf '| %s | %s | %s | %s | %s | %s |\n' "9. gateway: Push through profile-gateway" \
			"$GWB_STATUS" "-" "n/a" ">= 0.7x COPY; p99 < 500 ms" "n/a"
		return
	fi
	pps=$(gwb_field rps "$GWB_MAX")
	ratio=$(awk -v a="$pps" -v b="$GWB_COPY_PPS" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.3f", a / b }')
	met1=$(awk -v r="$ratio" 'BEGIN { if (r == "n/a") print "n/a"; else print (r + 0 >= 0.7) ? "yes" : "NO" }')
	p99=$(gwb_field p99_ms "${GWB_HALF:-}")
	met2=$(awk -v p="$p99" 'BEGIN { if (p == "") print "n/a"; else print (p + 0 < 500) ? "yes" : "NO" }')
	printf '| %s | %s | %s | %s | %s | %s |\n' \
		"9a. gateway throughput: $GWB_FILES (avg $GWB_AVG_KB kB), Push by $GWB_CLIENTS concurrent clients for ${GWB_SECONDS}s, acknowledged = committed" \
		"$pps profiles/s ($(gwb_field mb_per_s "$GWB_MAX") MB/s gz; $(gwb_field ok "$GWB_MAX") acks, $(gwb_field errors "$GWB_MAX") errors)" \
		"binary COPY of the same files ($GWB_COPY_N rows) into a profile column: ${GWB_COPY_S} s = $GWB_COPY_PPS profiles/s" \
		"${ratio}x (throughput)" ">= 0.7x COPY" "$met1"
	printf '| %s | %s | %s | %s | %s | %s |\n' \
		"9b. gateway acknowledgment latency at half the maximum rate ($GWB_HALF_RATE requests/s, open loop)" \
		"p99 ${p99:-n/a} ms" \
		"p50 $(gwb_field p50_ms "${GWB_HALF:-}") ms, p90 $(gwb_field p90_ms "${GWB_HALF:-}") ms, max $(gwb_field max_ms "${GWB_HALF:-}") ms; at max rate p99 $(gwb_field p99_ms "$GWB_MAX") ms" \
		"-" "p99 < 500 ms" "$met2"
	if [ "$GWB_ROWS" != "$GWB_ACKS" ] || [ "${GWB_EXIT:-1}" != 0 ]; then
		echo "WARNING: gateway bench: $GWB_ROWS rows for $GWB_ACKS acknowledged pushes; gateway exit status ${GWB_EXIT:-?}"
	fi
}

# ------------------------------------------------------------------ alone
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	export LC_ALL=C.UTF-8
	REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	source "$REPO/tools/lib.sh"
	TMP=$(mktemp -d /tmp/profile_ext_gwbench.XXXXXX)
	chmod 755 "$TMP"
	trap 'pe_cluster_stop; rm -rf "$TMP"' EXIT
	mkdir -p "$TMP/bin"
	cc -std=gnu11 -O2 -o "$TMP/bin/copy_stream" "$REPO/test/bench/copy_stream.c" || exit 1
	if ! { [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ] && psql -X -q -At -c 'select 1' >/dev/null 2>&1; }; then
		unset PGHOST PGPORT PGDATABASE PGUSER
		mkdir "$TMP/pg"
		pe_cluster_start "$TMP/pg" profile_ext_bench || { echo "the server did not start" >&2; exit 1; }
		echo "fsync = off" >>"$PE_PGDATA/postgresql.conf"
		export PGHOST=$TMP/pg PGPORT=$PE_PORT PGUSER=$PE_CLUSTER_USER PGDATABASE=postgres
	fi
	psql -X -q -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS profile_ext" || exit 1
	if [ ! -d "${PROFILE_EXT_CORPUS:-$REPO/../shared/corpus}" ]; then
		make -s -C "$REPO" tools/gen/pe_gen && "$REPO/tools/gen/pe_gen" --out-dir "$TMP/files" \
			--count 200 --no-heap --gzip-level 6 --quiet
	fi
	gateway_bench
	echo
	printf '| %s | %s | %s | %s | %s | %s |\n' measurement ours baseline ratio target "met?" --- --- --- --- --- ---
	gateway_rows
	echo
	echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; command: bash test/bench/gateway.sh"
fi
