# tools/lib.sh: shell functions shared by the repo's scripts (source it from bash).
# shellcheck shell=bash
#
#   pe_apt_packages           the Debian packages to build and test (the list in
#                             test/run_all.sh, so there is one list to maintain)
#   pe_need_packages          true when a command or header those packages give is missing
#   pe_apt_install LOG        apt-get install them (as root), no "main" cluster, 3 attempts
#   pe_pick_port              a TCP port nobody listens on
#   pe_cluster_start DIR USER start a throwaway cluster in DIR run by USER (root: system
#                             user created if needed); sets PE_PGDATA, PE_PORT, PE_SOCKET
#   pe_cluster_stop           stop it (fast, then immediate)
#   pe_as_user USER CMD...    run CMD as USER from a folder that user can enter
#   pe_run_user USER          the user servers and TAP tests run as: USER when root
#                             (a system user created if missing), else the caller
#
# Callers set -u safely: every variable here has a default.

PE_PG_VERSION=${PE_PG_VERSION:-15}
PE_LIB_REPO=${PE_LIB_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PE_PGDATA='' PE_PORT='' PE_SOCKET='' PE_CLUSTER_USER='' PE_CLUSTER_UP=0

# The package list, read from test/run_all.sh (the one place it is written down).
pe_apt_packages() {
	local PG_VERSION=$PE_PG_VERSION APT_PACKAGES=() def
	def=$(sed -n '/^APT_PACKAGES=(/,/^)/p' "$PE_LIB_REPO/test/run_all.sh")
	if [ -n "$def" ]; then
		eval "$def"
	fi
	if [ ${#APT_PACKAGES[@]} -eq 0 ]; then
		APT_PACKAGES=(ca-certificates make gcc libc6-dev
			"postgresql-$PG_VERSION" "postgresql-server-dev-$PG_VERSION"
			libprotobuf-c-dev protobuf-c-compiler libzstd-dev zlib1g-dev libdeflate-dev
			util-linux passwd diffutils coreutils)
	fi
	printf '%s\n' "${APT_PACKAGES[@]}"
}

# Something needed to build and run the extension or the generator is missing.
pe_need_packages() {
	local cmd pg_bin
	for cmd in pg_config gcc make protoc-c runuser; do
		command -v "$cmd" >/dev/null 2>&1 || return 0
	done
	pg_bin=$(pg_config --bindir 2>/dev/null)
	[ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/pg_ctl" ] || return 0
	# the gateway (src/gateway), built by the same `make`: libmicrohttpd, libpq, and for
	# scraping libcurl and libyaml
	for h in /usr/include/protobuf-c/protobuf-c.h /usr/include/zlib.h /usr/include/zstd.h \
		/usr/include/libdeflate.h /usr/include/microhttpd.h /usr/include/postgresql/libpq-fe.h /usr/include/yaml.h; do
		[ -f "$h" ] || return 0
	done
	compgen -G '/usr/include/*/curl/curl.h' >/dev/null || return 0	# multiarch folder
	return 1
}

# apt-get install the packages; output goes to LOG.  Returns non-zero on failure.
pe_apt_install() {
	local log=$1 attempt pkgs
	mapfile -t pkgs < <(pe_apt_packages)
	# The postgresql package would create and start a "main" cluster on port 5432; switch
	# that off, only on machines that have no PostgreSQL yet (never touching a setup).
	if ! dpkg-query -W -f='${Status}' postgresql-common 2>/dev/null | grep -q 'ok installed' &&
		[ ! -e /etc/postgresql-common/createcluster.conf ]; then
		mkdir -p /etc/postgresql-common/createcluster.d &&
			echo "create_main_cluster = false" \
				>/etc/postgresql-common/createcluster.d/00-profile_ext-no-main-cluster.conf
	fi
	for attempt in 1 2 3; do
		if DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
				"${pkgs[@]}" >>"$log" 2>&1; then
			return 0
		fi
		echo "apt-get failed (attempt $attempt); retrying" >&2
		sleep 5
	done
	return 1
}

pe_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pe_pick_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		pe_port_in_use "$p" || { echo "$p"; return 0; }
	done
	return 1
}

# PostgreSQL (initdb, the server, PostgreSQL::Test::Cluster) refuses to run as root.
pe_run_user() {
	if [ "$(id -u)" != 0 ]; then
		id -un
		return
	fi
	if ! id "$1" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$1" >&2 || return 1
	fi
	echo "$1"
}

pe_as_user() {
	local user=$1
	shift
	(
		cd "${PE_SOCKET:-/}" 2>/dev/null || cd /
		if [ "$(id -u)" = 0 ]; then
			exec runuser -u "$user" -- "$@"
		else
			exec "$@"
		fi
	)
}

# Start a throwaway cluster in DIR (which must exist and be empty) owned by USER
# (ignored unless root: then the server runs as USER, a system user created if missing).
# The socket is in DIR; the log is DIR/server.log.
pe_cluster_start() {
	local dir=$1 user bindir attempt
	bindir=$(pg_config --bindir) || return 1
	user=$(pe_run_user "$2") && chown "$user:" "$dir" || return 1
	PE_CLUSTER_USER=$user PE_SOCKET=$dir PE_PGDATA=$dir/data
	pe_as_user "$user" "$bindir/initdb" -D "$PE_PGDATA" -U "$user" -A trust \
		--no-locale -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		return 1
	}
	cat >>"$PE_PGDATA/postgresql.conf" <<EOF
# profile_ext throwaway cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = '2GB'
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF
	for attempt in 1 2 3; do
		PE_PORT=$(pe_pick_port) || return 1
		if pe_as_user "$user" "$bindir/pg_ctl" -D "$PE_PGDATA" -l "$dir/server.log" -w \
			-t 60 -o "-p $PE_PORT" start >>"$dir/pg_ctl.log" 2>&1; then
			PE_CLUSTER_UP=1
			return 0
		fi
		echo "server did not start on port $PE_PORT (attempt $attempt)" >&2
	done
	tail -n 20 "$dir/server.log" >&2 2>/dev/null
	return 1
}

pe_cluster_stop() {
	local bindir
	[ "$PE_CLUSTER_UP" = 1 ] && [ -n "$PE_PGDATA" ] || return 0
	bindir=$(pg_config --bindir)
	pe_as_user "$PE_CLUSTER_USER" "$bindir/pg_ctl" -D "$PE_PGDATA" -m fast -w -t 30 stop \
		>/dev/null 2>&1 ||
		pe_as_user "$PE_CLUSTER_USER" "$bindir/pg_ctl" -D "$PE_PGDATA" -m immediate -w -t 30 \
			stop >/dev/null 2>&1
	PE_CLUSTER_UP=0
}

# ---------------------------------------------------------------- crash-test helpers
#   pe_cluster_env            export PGHOST/PGPORT/PGUSER (and PGDATABASE=postgres) for
#                             the throwaway cluster pe_cluster_start started
#   pe_cluster_crash [postmaster]  SIGKILL its postmaster and all its backends at once
#                             (or the postmaster alone; the rest then exit by themselves)
#   pe_cluster_restart        start it again on the same port (crash recovery runs)

pe_cluster_env() {
	export PGHOST=$PE_SOCKET PGPORT=$PE_PORT PGUSER=$PE_CLUSTER_USER PGDATABASE=postgres
}

# Every process as "pid state parent group" (from /proc/PID/stat; the command name may
# hold spaces and parentheses, so the fields are taken after its last ')').
pe_proc_table() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		sed -n 's/^\([0-9][0-9]*\) .*) \([A-Za-z]\) \([0-9-]*\) \([0-9-]*\) .*/\1 \2 \3 \4/p'
}

# Processes still running (not zombies) among PIDS...
pe_alive_of() {
	pe_proc_table | awk -v list=" $* " 'index(list, " " $1 " ") && $2 != "Z" { print $1 }'
}

# Crash the throwaway cluster as a power cut would, minus the OS page cache: SIGKILL the
# postmaster and all its children at the same instant, so no process writes anything
# after.  (The children are in sessions of their own, so there is no process group to
# signal: the postmaster is stopped first, so it cannot fork while its children are
# listed.)  With argument "postmaster", only the postmaster is SIGKILLed, as after
# `kill -9` of the postmaster: its children notice and exit by themselves (those still
# running after 30 s are SIGKILLed).  Only the postmaster named in this cluster's
# postmaster.pid and its children are signalled.  Returns once all are gone.
pe_cluster_crash() {
	local mode=${1:-all} pm kids alive waits=200
	[ -n "$PE_PGDATA" ] && [ -f "$PE_PGDATA/postmaster.pid" ] || return 1
	read -r pm <"$PE_PGDATA/postmaster.pid"
	[[ $pm =~ ^[0-9]+$ ]] && [ -d "/proc/$pm" ] || return 1
	kill -STOP "$pm" || return 1
	kids=$(pe_proc_table | awk -v pm="$pm" '$3 == pm { printf "%s ", $1 }')
	if [ "$mode" = postmaster ]; then
		kill -KILL "$pm"
		waits=600
	else
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL "$pm" $kids 2>/dev/null
	fi
	PE_CLUSTER_UP=0
	for _ in $(seq 1 "$waits"); do
		# shellcheck disable=SC2086
		alive=$(pe_alive_of "$pm" $kids)
		[ -z "$alive" ] && break
		sleep 0.05
	done
	if [ -n "$alive" ]; then
		[ "$mode" = postmaster ] || return 1
		echo "pe_cluster_crash: SIGKILL to server processes left after 30 s: $alive" >&2
		# shellcheck disable=SC2086
		kill -KILL $alive 2>/dev/null
		sleep 0.5
		# shellcheck disable=SC2086
		[ -z "$(pe_alive_of $alive)" ] || return 1
	fi
	# Until it is reaped, the dead postmaster still "exists" for the next postmaster's
	# checks of postmaster.pid and of the socket's lock file.  Where nobody reaps it soon
	# (a container whose pid 1 is slow to, or never does), those two stale files go.
	for _ in $(seq 1 100); do
		[ -d "/proc/$pm" ] || return 0
		sleep 0.05
	done
	rm -f "$PE_PGDATA/postmaster.pid" "$PE_SOCKET/.s.PGSQL.$PE_PORT.lock"
	return 0
}

# Start the cluster again after pe_cluster_crash (same folder, user and port); pg_ctl -w
# returns once crash recovery has finished and connections are accepted.
pe_cluster_restart() {
	local bindir
	bindir=$(pg_config --bindir) || return 1
	pe_as_user "$PE_CLUSTER_USER" "$bindir/pg_ctl" -D "$PE_PGDATA" -l "$PE_SOCKET/server.log" \
		-w -t 120 -o "-p $PE_PORT" start >>"$PE_SOCKET/pg_ctl.log" 2>&1 || return 1
	PE_CLUSTER_UP=1
}
