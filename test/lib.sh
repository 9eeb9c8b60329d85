# test/lib.sh: shell helpers shared by test/scripts/*.sh and test/t/run.sh (sourced, not
# run).  It sources tools/lib.sh (clusters, ports, users) too.
# shellcheck shell=bash
#
#   ok [MSG] / bad MSG / skip MSG   count one result (ok without MSG prints nothing)
#   finish                  print "N passed, N failed[, N skipped]" (the line test/run_all.sh
#                           reads) and exit, non-zero when anything failed
#   skip_all MSG / give_up MSG   skip (or fail) the rest of the script: count one, finish
#   q ARGS...               psql: quiet, unaligned tuples only, stop at the first error
#   qt ARGS...              q with tab-separated columns
#   pe_need_corpus          set $corpus to the shared real corpus; skip_all when it is absent
#   pe_work NAME            a temporary folder $WORK (mode 755, so a server run as another
#                           user can enter it); at exit the PE_CLEANUP_HOOKS functions run,
#                           an own cluster stops and $WORK goes (PROFILE_EXT_KEEP_TMP=1 keeps it)
#   pe_own_cluster DIR      a throwaway cluster in DIR (tools/lib.sh pe_cluster_start, run by
#                           $PROFILE_EXT_TEST_USER when root) with PG* pointing at it; the
#                           PG* variables test/run_all.sh passed are no longer used; give_up
#                           when it does not start
#   pe_private_gen REPO DIR build tools/gen/pe_gen if needed and copy it to DIR (sets GEN)
# shellcheck source=../tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"

passed=0 failed=0 skipped=0
ok() {
	passed=$((passed + 1))
	if [ $# -gt 0 ]; then echo "ok: $*"; fi
}
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "skip: $*"; }
finish() {
	local line="$passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
	echo "$line"
	[ "$failed" -eq 0 ]
	exit
}
skip_all() { skip "$*"; finish; }
give_up() { bad "$*"; finish; }

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
qt() { q -F $'\t' "$@"; }

pe_need_corpus() {
	corpus=${PROFILE_EXT_CORPUS:-$(dirname "${BASH_SOURCE[0]}")/../../shared/corpus}
	[ -f "$corpus/MANIFEST.tsv" ] || skip_all "corpus folder $corpus not found"
}

WORK='' PE_CLEANUP_HOOKS=()
pe_cleanup() {
	local h
	for h in "${PE_CLEANUP_HOOKS[@]}"; do "$h"; done
	pe_cluster_stop
	[ -n "$WORK" ] && [ "${PROFILE_EXT_KEEP_TMP:-0}" != 1 ] && rm -rf "$WORK"
}
pe_work() {
	WORK=$(mktemp -d "/tmp/profile_ext_$1.XXXXXX") || exit 2
	chmod 755 "$WORK"
	trap pe_cleanup EXIT
	trap 'exit 130' INT TERM
}

pe_own_cluster() {
	unset PGSERVICE PGOPTIONS PGDATABASE PGHOST PGPORT PGUSER
	mkdir -p "$1" && pe_cluster_start "$1" "${PROFILE_EXT_TEST_USER:-profile_ext_test}" ||
		give_up "cannot start a cluster in $1"
	pe_cluster_env
	echo "own cluster: $PE_PGDATA, port $PE_PORT, user $PE_CLUSTER_USER"
}

pe_private_gen() {
	local repo=$1 dir=$2
	if { [ -x "$repo/tools/gen/pe_gen" ] ||
		make -s -C "$repo" tools/gen/pe_gen >"$dir/gen_build.log" 2>&1; } &&
		cp "$repo/tools/gen/pe_gen" "$dir/pe_gen"; then
		GEN=$dir/pe_gen
	else
		cat "$dir/gen_build.log" 2>/dev/null
		give_up "tools/gen/pe_gen does not build"
	fi
}
