# test/gateway/gw_lib.sh: shell helpers of the gateway tests (test/scripts/gateway_*.sh); it
# sources test/lib.sh (ok/bad/skip/finish, q, pe_work; clusters and ports from tools/lib.sh).
# shellcheck shell=bash
#
#   gw_init NAME            work folder $GW_WORK (test/lib.sh pe_work: removed at exit, after
#                           PE_CLEANUP_HOOKS), $GW_REPO, $GW_PY; skips the whole script when
#                           the gateway is not part of this tree
#   gw_binary               a private copy of profile-gateway in $GW_BIN (built if needed)
#   gw_table NAME           (re)create a table (ts timestamptz, labels jsonb, profile profile)
#   gw_serve TABLE [ARGS...]  gw_table TABLE, then gw_start --table TABLE ARGS; give_up on failure
#   gw_start [ARGS...]      start the gateway on a free port against the PG* database and
#                           wait for GET /ready; sets GW_PORT, GW_PID, GW_URL, GW_LOG
#                           (GW_SAME_PORT=1: again on the port of the previous start)
#   gw_stop                 SIGTERM, wait; returns the exit status (0 = drained cleanly)
#   gw_alive                the gateway process still runs and answers /ready
#   gw_dsn                  the libpq connection string of the PG* variables
#   gw_python               true when Debian's python3 with google.protobuf is there
#   gw_need_protobuf        skip the whole script unless gw_python and protoc are there
#   gwc ARGS...             test/gateway/gwclient.py ARGS (Debian's python3)
# PROFILE_EXT_GATEWAY_BIN=PATH tests that binary instead of the checkout's src/gateway one.
# Every helper leaves the PG* variables alone: scripts run in the database test/run_all.sh
# gives them, or start their own cluster (tools/lib.sh) and export PG* themselves.

GW_REPO=${GW_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=test/lib.sh
source "$GW_REPO/test/lib.sh"
GW_WORK='' GW_BIN='' GW_PORT='' GW_PID='' GW_URL='' GW_LOG='' GW_PY=''

gw_dsn() {
	local dsn="dbname=${PGDATABASE:-postgres}"
	[ -n "${PGHOST:-}" ] && dsn+=" host=$PGHOST"
	[ -n "${PGPORT:-}" ] && dsn+=" port=$PGPORT"
	[ -n "${PGUSER:-}" ] && dsn+=" user=$PGUSER"
	echo "$dsn application_name=profile-gateway"
}

gw_kill() {
	if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
		kill -KILL "$GW_PID" 2>/dev/null
		wait "$GW_PID" 2>/dev/null
	fi
}

gw_init() {
	local name=$1
	if [ ! -d "$GW_REPO/src/gateway" ] && [ -z "${PROFILE_EXT_GATEWAY_BIN:-}" ]; then
		skip "src/gateway is not in this tree (no profile-gateway to test)"
		finish
	fi
	pe_work "$name"
	GW_WORK=$WORK
	PE_CLEANUP_HOOKS+=(gw_kill)
	# Debian's python3 (python3-protobuf lives there), not one that PATH may put first.
	if [ -x /usr/bin/python3 ]; then GW_PY=/usr/bin/python3; else GW_PY=$(command -v python3); fi
	export GWCLIENT_CACHE=$GW_WORK	# gwclient.py runs protoc once per script
	export LC_ALL=C.UTF-8
}

gw_python() {
	[ -n "$GW_PY" ] && "$GW_PY" -c 'import google.protobuf' 2>/dev/null
}

gw_need_protobuf() {
	if ! gw_python || ! command -v protoc >/dev/null; then
		skip "needs python3 with google.protobuf (Debian: python3-protobuf) and protoc (protobuf-compiler)"
		finish
	fi
}

gwc() { "$GW_PY" "$GW_REPO/test/gateway/gwclient.py" "$@"; }

# The gateway binary: the one `make` built in the checkout (built here when missing), copied so
# that a rebuild cannot pull it away mid-run.  On failure: one failure, then finish.
gw_binary() {
	local src=${PROFILE_EXT_GATEWAY_BIN:-$GW_REPO/src/gateway/profile-gateway}
	if [ ! -x "$src" ]; then
		make -s -C "$GW_REPO" src/gateway/profile-gateway >"$GW_WORK/gw_build.log" 2>&1 ||
			make -s -C "$GW_REPO" >>"$GW_WORK/gw_build.log" 2>&1
	fi
	if [ ! -x "$src" ]; then
		if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/profile-gateway" ]; then
			src=$(pg_config --bindir)/profile-gateway
		else
			tail -n 30 "$GW_WORK/gw_build.log" 2>/dev/null
			bad "profile-gateway does not build (make in the checkout)"
			finish
		fi
	fi
	cp "$src" "$GW_WORK/profile-gateway" && GW_BIN=$GW_WORK/profile-gateway
}

gw_table() {
	q -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS profile_ext;
		DROP TABLE IF EXISTS $1;
		CREATE TABLE $1 (ts timestamptz, labels jsonb, profile profile)"
}

# HTTP status of GET PATH (000 when nothing answers), with bash's /dev/tcp: no curl needed.
gw_get_status() {
	local line='' fd
	if ! { exec {fd}<>"/dev/tcp/127.0.0.1/$GW_PORT"; } 2>/dev/null; then
		echo 000
		return
	fi
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&"$fd"
	read -r -t 5 line <&"$fd"
	exec {fd}>&-
	line=${line#HTTP/* }
	echo "${line:0:3}" | grep -E '^[0-9]{3}$' || echo 000
}

gw_alive() {
	[ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null && [ "$(gw_get_status /ready)" = 200 ]
}

# gw_start [ARGS...]: extra arguments go to profile-gateway (e.g. --table t).  A log per start
# in $GW_WORK/gateway.N.log.  Returns non-zero (log shown) when it is not ready in 30 s.
GW_STARTS=0
# gw_serve TABLE [ARGS...]: a fresh TABLE and the gateway writing to it (gw_start ARGS);
# gives up on the script when either fails.
gw_serve() {
	local table=$1
	shift
	gw_table "$table" || give_up "cannot create the table $table"
	gw_start --table "$table" "$@" || give_up "the gateway does not start"
}

gw_start() {
	local attempt i
	[ -n "$GW_BIN" ] || gw_binary
	for attempt in 1 2 3; do
		GW_STARTS=$((GW_STARTS + 1))
		if [ -n "${GW_SAME_PORT:-}" ] && [ -n "$GW_PORT" ]; then
			:	# a restart on the port clients already use
		else
			GW_PORT=$(pe_pick_port) || return 1
		fi
		GW_URL=http://127.0.0.1:$GW_PORT
		GW_LOG=$GW_WORK/gateway.$GW_STARTS.log
		"$GW_BIN" --listen "127.0.0.1:$GW_PORT" --dsn "$(gw_dsn)" "$@" >"$GW_LOG" 2>&1 &
		GW_PID=$!
		for i in $(seq 1 300); do
			kill -0 "$GW_PID" 2>/dev/null || break
			[ "$(gw_get_status /ready)" = 200 ] && return 0
			sleep 0.1
		done
		if kill -0 "$GW_PID" 2>/dev/null; then
			kill -KILL "$GW_PID"; wait "$GW_PID" 2>/dev/null
			echo "gateway not ready after 30 s; its log:"
			tail -n 20 "$GW_LOG"
			GW_PID=''
			return 1
		fi
		wait "$GW_PID" 2>/dev/null
		GW_PID=''
		# it exited: a port taken between pick and bind is worth another try
		grep -qi 'address already in use\|bind' "$GW_LOG" || break
	done
	echo "gateway did not start; its log:"
	tail -n 20 "$GW_LOG"
	return 1
}

gw_stop() {
	local rc i
	[ -n "$GW_PID" ] || return 0
	kill -TERM "$GW_PID" 2>/dev/null
	for i in $(seq 1 300); do
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$GW_PID" 2>/dev/null; then
		echo "gateway still running 30 s after SIGTERM; killed"
		kill -KILL "$GW_PID"
	fi
	wait "$GW_PID" 2>/dev/null
	rc=$?
	GW_PID=''
	return $rc
}
