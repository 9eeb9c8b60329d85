#!/usr/bin/env bash
# test/run_all.sh: the single test command for profile_ext (`make test` runs it).
#
# On a fresh Debian 12 machine, as root, it:
#   1. installs the build and test dependencies with apt-get (skip: PROFILE_EXT_SKIP_APT=1);
#   2. builds (`make`), installs (`make install`) and runs the C unit tests (test/unit);
#   3. starts a throwaway PostgreSQL cluster as a non-root user in a temporary folder;
#   4. runs `make installcheck` (pg_regress: sql/ vs expected/) against it;
#   5. runs every executable test/scripts/*.sh against it;
#   6. runs the TAP tests (test/t/*.pl: prove, PostgreSQL::Test::Cluster, their own clusters);
#   7. checks the server log for crashed backends;
#   8. stops the cluster (always) and prints a summary whose LAST line is
#      "N passed, N failed[, N skipped]".  It exits non-zero if anything failed.
#
# Run as a non-root user it does the same without apt-get and runs the cluster as that
# user (the packages must then already be installed, and `make install` must be allowed).
#
# Environment knobs:
#   PROFILE_EXT_SKIP_APT=1       do not run apt-get (quick local reruns)
#   PROFILE_EXT_MAKE_ARGS="..."  extra arguments for every make call (e.g. "V=1")
#   PROFILE_EXT_CORPUS=DIR       corpus folder (default: ../shared/corpus next to the repo)
#   PROFILE_EXT_KEEP_TMP=1       keep the temporary cluster folder after the run
#   PROFILE_EXT_TIMEOUT=SECONDS  time limit for each unit binary / script / installcheck (900)
# Logs of the last run are kept in build/test-logs/ (server.log, one log per suite).

set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8 LANG=C.UTF-8
unset PGSERVICE PGPASSWORD PGOPTIONS PGSSLMODE
# Called from `make test`: run the inner makes as top-level makes (no "Entering directory"
# noise, no inherited jobserver or -n); pass make arguments with PROFILE_EXT_MAKE_ARGS.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2

PG_VERSION=15
TEST_USER=profile_ext_test
TIMEOUT=${PROFILE_EXT_TIMEOUT:-900}
read -r -a MAKE_ARGS <<<"${PROFILE_EXT_MAKE_ARGS:-}"
LOGDIR=$REPO/build/test-logs
APT_PACKAGES=(
	ca-certificates make gcc libc6-dev
	postgresql-$PG_VERSION postgresql-server-dev-$PG_VERSION
	libprotobuf-c-dev protobuf-c-compiler libzstd-dev zlib1g-dev libdeflate-dev
	golang-go libxml2-utils
	util-linux passwd diffutils coreutils
	# the gateway (src/gateway): HTTP server, client library, scraping, config
	libpq-dev libmicrohttpd-dev libcurl4-openssl-dev libyaml-dev
	# real clients and peers the tests start: Pyroscope push messages, retention, sharding
	python3-protobuf protobuf-compiler curl
	postgresql-$PG_VERSION-partman postgresql-$PG_VERSION-cron
	# TAP tests (PostgreSQL::Test::Cluster) and the fuzz smoke run
	libipc-run-perl clang libclang-rt-14-dev
)

# ---------------------------------------------------------------- bookkeeping
TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0
SUMMARY=()		# "status  suite  details" lines
ERRORS=0		# steps that errored (counted as failures too)
TMP= PGDATA= PG_BINDIR= CLUSTER_UP=0

say() { printf '\n==== %s\n' "$*"; }

# record SUITE STATUS PASSED FAILED [SKIPPED] [NOTE]
record() {
	local suite=$1 status=$2 p=$3 f=$4 s=${5:-0} note=${6:-}
	TOTAL_PASSED=$((TOTAL_PASSED + p))
	TOTAL_FAILED=$((TOTAL_FAILED + f))
	TOTAL_SKIPPED=$((TOTAL_SKIPPED + s))
	local line
	line=$(printf '%-6s %-36s %d passed, %d failed' "$status" "$suite" "$p" "$f")
	[ "$s" -gt 0 ] && line+=", $s skipped"
	[ -n "$note" ] && line+="  ($note)"
	SUMMARY+=("$line")
}

# A step that could not run at all (build error, server would not start...): one failure.
step_error() {
	ERRORS=$((ERRORS + 1))
	record "$1" ERROR 0 1 0 "$2"
}

# Parse "N passed, N failed[, N skipped]" anywhere in a line; sets P F S, returns 1 if absent.
parse_counts() {
	local line=$1
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
		P=${BASH_REMATCH[1]} F=${BASH_REMATCH[2]} S=${BASH_REMATCH[4]:-0}
		return 0
	fi
	return 1
}

# Run a command as the cluster's owner, from a folder that user can enter (the checkout
# may be under /root, mode 0700).
as_test_user() {
	(
		cd "${TMP:-/}" 2>/dev/null || cd /
		if [ "$(id -u)" = 0 ]; then
			exec runuser -u "$TEST_USER" -- "$@"
		else
			exec "$@"
		fi
	)
}

print_summary_and_exit() {
	cleanup	# stop the server first, so nothing is printed after the last line
	say "SUMMARY"
	local l
	for l in "${SUMMARY[@]}"; do echo "  $l"; done
	echo "  logs: $LOGDIR"
	local last="$TOTAL_PASSED passed, $TOTAL_FAILED failed"
	[ "$TOTAL_SKIPPED" -gt 0 ] && last+=", $TOTAL_SKIPPED skipped"
	echo "$last"
	if [ "$TOTAL_FAILED" -gt 0 ] || [ "$ERRORS" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

stop_cluster() {
	if [ "$CLUSTER_UP" = 1 ] && [ -n "$PGDATA" ]; then
		as_test_user "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_test_user "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m immediate -w -t 30 stop >/dev/null 2>&1
		CLUSTER_UP=0
	fi
}

cleanup() {
	stop_cluster
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		[ -f "$TMP/server.log" ] && cp "$TMP/server.log" "$LOGDIR/server.log" 2>/dev/null
		if [ "${PROFILE_EXT_KEEP_TMP:-0}" = 1 ]; then
			echo "kept temporary folder $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
	TMP=
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# Run a command with its output shown and saved to $LOGDIR/NAME.log; returns its status.
run_logged() {
	local name=$1; shift
	"$@" </dev/null 2>&1 | tee "$LOGDIR/$name.log"
	return "${PIPESTATUS[0]}"
}

# Crashed backends: the postmaster logs "server process (PID n) was terminated by signal
# n" (the server then restarts).  check_crashes prints the crash lines logged since its
# previous call, so each crash is attributed to the suite that caused it; CRASH_LINES
# counts them all.
CRASH_RE='terminated by signal|server process .* was terminated|PANIC:'
LOG_SEEN=0 CRASH_LINES=0 CRASH_SUITES=
check_crashes() {
	local new
	[ -f "$TMP/server.log" ] || return 0
	new=$(tail -c +$((LOG_SEEN + 1)) "$TMP/server.log" | grep -E "$CRASH_RE")
	LOG_SEEN=$(stat -c %s "$TMP/server.log")
	if [ -n "$new" ]; then
		CRASH_LINES=$((CRASH_LINES + $(printf '%s\n' "$new" | wc -l)))
		CRASH_SUITES+="${CRASH_SUITES:+, }$1"
		echo "SERVER CRASH during $1:"
		printf '%s\n' "$new"
	fi
}

rm -rf "$LOGDIR" && mkdir -p "$LOGDIR" || exit 2
echo "profile_ext tests: repo $REPO, user $(id -un), $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

# ---------------------------------------------------------------- 1. packages
if [ "${PROFILE_EXT_SKIP_APT:-0}" = 1 ]; then
	say "apt-get: skipped (PROFILE_EXT_SKIP_APT=1)"
elif [ "$(id -u)" != 0 ]; then
	say "apt-get: skipped (not root)"
else
	say "apt-get install ${APT_PACKAGES[*]}"
	# The postgresql package would create and start a "main" cluster on port 5432; we do
	# not need it (and in a chroot it would outlive the run).  postgresql-common reads
	# createcluster.d/*.conf, so switch that off -- only on machines that have no
	# PostgreSQL yet, never touching an existing setup.
	if ! dpkg-query -W -f='${Status}' postgresql-common 2>/dev/null | grep -q 'ok installed' &&
		[ ! -e /etc/postgresql-common/createcluster.conf ]; then
		mkdir -p /etc/postgresql-common/createcluster.d &&
			echo "create_main_cluster = false" \
				>/etc/postgresql-common/createcluster.d/00-profile_ext-no-main-cluster.conf
	fi
	ok=0
	for attempt in 1 2 3; do
		if apt-get update -q >"$LOGDIR/apt.log" 2>&1 &&
			apt-get install -y -q --no-install-recommends \
				-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
				"${APT_PACKAGES[@]}" >>"$LOGDIR/apt.log" 2>&1; then
			ok=1; break
		fi
		echo "apt-get failed (attempt $attempt); retrying"; sleep 5
	done
	if [ $ok = 1 ]; then
		echo "packages installed (log: $LOGDIR/apt.log)"
	else
		tail -n 40 "$LOGDIR/apt.log"
		step_error apt-get "apt-get install failed, see $LOGDIR/apt.log"
		print_summary_and_exit
	fi
fi

missing=()
for cmd in pg_config gcc make protoc-c go xmllint diff timeout; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
	step_error prerequisites "missing commands: ${missing[*]} (install: ${APT_PACKAGES[*]})"
	print_summary_and_exit
fi
PG_BINDIR=$(pg_config --bindir)
echo "$(pg_config --version); $(gcc --version | head -1); $(go version 2>/dev/null)"

# ---------------------------------------------------------------- 2. build, install, unit
# A failed build or install still lets the unit tests run (they only need the core);
# the server tests are then skipped.
INSTALLED=0
say "make"
if ! run_logged build make "${MAKE_ARGS[@]}"; then
	step_error build "make failed, see $LOGDIR/build.log"
else
	say "make install"
	if ! run_logged install make "${MAKE_ARGS[@]}" install; then
		step_error install "make install failed, see $LOGDIR/install.log"
	else
		INSTALLED=1
	fi
fi

# The corpus for unit tests and scripts: ../shared/corpus next to the repo root.
if [ -n "${PROFILE_EXT_CORPUS:-}" ]; then
	:
elif [ -d "$REPO/../shared/corpus" ]; then
	PROFILE_EXT_CORPUS=$(cd "$REPO/../shared/corpus" && pwd -P)
else
	PROFILE_EXT_CORPUS=$REPO/../shared/corpus
	echo "note: corpus folder $PROFILE_EXT_CORPUS not found; corpus tests will skip"
fi
export PROFILE_EXT_CORPUS

# Unit tests.  Equivalent to `make unit`, but each test/unit/test_*.c (and the gateway's
# test/gateway/unit/test_*.c) is built and run on
# its own so that one suite that fails to build or crashes does not hide the others'
# results (the Makefile's loop stops at the first failing binary).
say "unit tests (make unit)"
shopt -s nullglob
unit_srcs=(test/unit/test_*.c test/gateway/unit/test_*.c)
if [ ${#unit_srcs[@]} -eq 0 ]; then
	record unit "-" 0 0 0 "no test/unit/test_*.c yet"
fi
for src in "${unit_srcs[@]}"; do
	name=$(basename "$src" .c)
	bin=build/unit/$name
	if ! run_logged "unit-$name-build" make "${MAKE_ARGS[@]}" "$bin"; then
		step_error "unit/$name" "does not build, see $LOGDIR/unit-$name-build.log"
		continue
	fi
	run_logged "unit-$name" timeout "$TIMEOUT" "./$bin"
	rc=$?
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$LOGDIR/unit-$name.log" | tail -n 1)
	if parse_counts "$line"; then
		if [ "$rc" != 0 ] && [ "$F" = 0 ]; then
			F=1 # crashed or exited non-zero after printing its counts
			record "unit/$name" FAIL "$P" "$F" "$S" "exit status $rc"
		else
			record "unit/$name" "$([ "$F" = 0 ] && echo ok || echo FAIL)" "$P" "$F" "$S"
		fi
	else
		step_error "unit/$name" "no counts line, exit status $rc (crash or timeout?)"
	fi
done

# ---------------------------------------------------------------- 3. throwaway cluster
if [ "$INSTALLED" != 1 ]; then
	say "server tests (installcheck, test/scripts) not run: the extension did not build or install"
	print_summary_and_exit
fi
say "starting a temporary PostgreSQL cluster"
if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root: the server runs as a dedicated system user.
	if ! id "$TEST_USER" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$TEST_USER" ||
			{ step_error cluster "could not create user $TEST_USER"; print_summary_and_exit; }
	fi
	TMP=$(mktemp -d /tmp/profile_ext_test.XXXXXX) && chown "$TEST_USER:" "$TMP"
	PGUSER_NAME=$TEST_USER
else
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/profile_ext_test.XXXXXX")
	PGUSER_NAME=$(id -un)
fi
PGDATA=$TMP/data

# A free port: one nobody is listening on over TCP (bash's /dev/tcp; no ss/netstat needed on
# a minimal system).  The server also listens on 127.0.0.1, so the port must really be free.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		port_in_use "$p" || { echo "$p"; return 0; }
	done
	return 1
}

if ! as_test_user "$PG_BINDIR/initdb" -D "$PGDATA" -U "$PGUSER_NAME" -A trust \
	--no-locale -E UTF8 --no-sync >"$LOGDIR/initdb.log" 2>&1; then
	cat "$LOGDIR/initdb.log"
	step_error cluster "initdb failed, see $LOGDIR/initdb.log"
	print_summary_and_exit
fi
# The socket lives in the temporary folder: nothing in /var/run/postgresql is needed.
cat >>"$PGDATA/postgresql.conf" <<EOF
# profile_ext test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TMP'
fsync = off
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF
for attempt in 1 2 3; do
	PORT=$(pick_port) || break
	if as_test_user "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$TMP/server.log" -w -t 60 \
		-o "-p $PORT" start >>"$LOGDIR/pg_ctl.log" 2>&1; then
		CLUSTER_UP=1; break
	fi
	echo "server did not start on port $PORT (attempt $attempt)"
done
if [ "$CLUSTER_UP" != 1 ]; then
	cat "$LOGDIR/pg_ctl.log"; tail -n 30 "$TMP/server.log" 2>/dev/null
	step_error cluster "server did not start, see $LOGDIR/server.log"
	print_summary_and_exit
fi
export PGHOST=$TMP PGPORT=$PORT PGUSER=$PGUSER_NAME PGDATABASE=postgres
echo "server up: PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER (log: $TMP/server.log)"

# ---------------------------------------------------------------- 4. pg_regress
# pg_regress is only a client: it runs here as the invoking user (root on CI), reads
# sql/ and expected/ from the checkout and writes results/ and regression.diffs
# into the repo root (git-ignored), which that user can always write.  The server, which
# runs as $TEST_USER, never touches the checkout (it may be under /root, mode 0700): it
# only reads the installed extension files, which `make install` made world-readable.
# So no copy of the repo and no --outputdir are needed.
say "make installcheck"
rm -rf results regression.diffs regression.out
if [ -z "$(ls sql/*.sql | grep -v "/profile_ext--" 2>/dev/null)" ]; then
	record pg_regress "-" 0 0 0 "no sql/*.sql tests yet"
else
	run_logged installcheck timeout "$TIMEOUT" make "${MAKE_ARGS[@]}" installcheck
	rc=$?
	check_crashes pg_regress
	out=$(cat "$LOGDIR/installcheck.log")
	P= F= S=0
	if [[ $out =~ All\ ([0-9]+)\ tests\ passed ]]; then
		P=${BASH_REMATCH[1]} F=0
	elif [[ $out =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ passed,\ ([0-9]+)\ failed\ test ]]; then
		P=${BASH_REMATCH[1]} F=0 S=${BASH_REMATCH[3]}
	elif [[ $out =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed,\ ([0-9]+)\ of\ these ]]; then
		P=$((BASH_REMATCH[2] - BASH_REMATCH[1])) S=${BASH_REMATCH[3]}
		F=$((BASH_REMATCH[1] - S))
	elif [[ $out =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
		F=${BASH_REMATCH[1]} P=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
	fi
	if [ -f regression.diffs ]; then
		cp regression.diffs "$LOGDIR/regression.diffs"
		if [ -s regression.diffs ]; then
			say "regression.diffs (first 300 lines; whole file: $LOGDIR/regression.diffs)"
			head -n 300 regression.diffs
		fi
	fi
	if [ -z "$P" ]; then
		step_error pg_regress "no pg_regress summary, exit status $rc, see $LOGDIR/installcheck.log"
	elif [ "$rc" != 0 ] && [ "$F" = 0 ]; then
		record pg_regress FAIL "$P" 1 "$S" "exit status $rc"
	else
		record pg_regress "$([ "$F" = 0 ] && echo ok || echo FAIL)" "$P" "$F" "$S"
	fi
fi

# ---------------------------------------------------------------- 5. scripts
# Each script gets PGHOST/PGPORT/PGUSER, its own fresh empty database in PGDATABASE
# (the script creates the extension itself), REPO, PROFILE_EXT_CORPUS, and runs from the
# repo root.  Its last output line must be "N passed, N failed[, N skipped]".
say "test/scripts"
export REPO
scripts=(test/scripts/*.sh)
[ ${#scripts[@]} -eq 0 ] && record scripts "-" 0 0 0 "no test/scripts/*.sh yet"
n=0
for script in "${scripts[@]}"; do
	name=$(basename "$script" .sh)
	if [ ! -x "$script" ]; then
		echo "warning: $script is not executable; not run (chmod +x it)"
		step_error "script/$name" "not executable"
		continue
	fi
	n=$((n + 1))
	db="pe_script_$n"
	if ! "$PG_BINDIR/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" \
		-c "CREATE DATABASE $db TEMPLATE template0" >"$LOGDIR/script-$name.log" 2>&1; then
		cat "$LOGDIR/script-$name.log"
		step_error "script/$name" "could not create database $db"
		continue
	fi
	say "$script (PGDATABASE=$db)"
	PGDATABASE=$db run_logged "script-$name" timeout "$TIMEOUT" "./$script"
	rc=$?
	check_crashes "script/$name"
	last=$(grep -v '^[[:space:]]*$' "$LOGDIR/script-$name.log" | tail -n 1)
	if parse_counts "$last"; then
		if [ "$rc" != 0 ] && [ "$F" = 0 ]; then
			record "script/$name" FAIL "$P" 1 "$S" "exit status $rc"
		elif [ "$rc" = 0 ] && [ "$F" != 0 ]; then
			record "script/$name" FAIL "$P" "$F" "$S" "but exit status 0"
		else
			record "script/$name" "$([ "$F" = 0 ] && echo ok || echo FAIL)" "$P" "$F" "$S"
		fi
	else
		step_error "script/$name" "last line is not 'N passed, N failed' (exit status $rc)"
	fi
done

# ---------------------------------------------------------------- 6. TAP
# test/t/*.pl under prove (PostgreSQL::Test::Cluster): each test starts its own clusters,
# as $TEST_USER when root; test/t/run.sh prints "N passed, N failed" like a script.
say "TAP tests (test/t, prove)"
PATH="$PG_BINDIR:$PATH" PROFILE_EXT_TEST_USER=$TEST_USER \
	run_logged tap timeout "$TIMEOUT" bash test/t/run.sh
rc=$?
if parse_counts "$(grep -E 'passed, [0-9]+ failed' "$LOGDIR/tap.log" | tail -n 1)"; then
	if [ "$rc" != 0 ] && [ "$F" = 0 ]; then
		record tap FAIL "$P" 1 "$S" "exit status $rc"
	else
		record tap "$([ "$F" = 0 ] && echo ok || echo FAIL)" "$P" "$F" "$S"
	fi
else
	step_error tap "no counts line from test/t/run.sh (exit status $rc)"
fi

# ---------------------------------------------------------------- 7. crashes
say "server log check"
check_crashes "server shutdown or between suites"
if [ "$CRASH_LINES" -gt 0 ]; then
	say "server log tail (whole log: $LOGDIR/server.log)"
	tail -n 80 "$TMP/server.log"
	record server-log FAIL 0 1 0 "$CRASH_LINES crash line(s) in server.log, during: $CRASH_SUITES"
else
	echo "no crashed backends"
	record server-log ok 0 0 0 "no crashed backends"
fi

print_summary_and_exit
