#!/usr/bin/env bash
# test/t/run.sh: the TAP tests (test/t/*.pl, PostgreSQL::Test::Cluster) under prove.
#
# Each test starts its own clusters with the pg_config on PATH, where `make install` put
# the extension.  PostgreSQL::Test::Cluster refuses root, so as root the tests run as
# $PROFILE_EXT_TEST_USER (default profile_ext_test, created if missing) from a copy in a
# temporary folder that user owns (the checkout may be unreadable to it).  Debian's
# postgresql-server-dev-15 ships the Perl modules in PGXS (src/test/perl) and pg_regress
# (src/test/regress), which PostgreSQL::Test::Cluster calls; prove needs libipc-run-perl.
# Last line "N passed, N failed" (TAP assertions; a test script that dies counts one
# failure).  PROFILE_EXT_KEEP_TMP=1 keeps the folder (tmp_check/log has the server logs).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"

pgxs_src=$(dirname "$(dirname "$(pg_config --pgxs)")")
if [ ! -f "$pgxs_src/test/perl/PostgreSQL/Test/Cluster.pm" ] ||
	! perl -MIPC::Run -e 1 2>/dev/null || ! command -v prove >/dev/null; then
	skip "PostgreSQL::Test::Cluster or IPC::Run missing (Debian: postgresql-server-dev-15, libipc-run-perl)"
	finish
fi
user=$(pe_run_user "${PROFILE_EXT_TEST_USER:-profile_ext_test}") || {
	bad "no user to run the TAP tests as"
	finish
}
pe_work tap
work=$WORK
mkdir "$work/t" && cp "$repo"/test/t/*.pl "$work/t/" && chown -R "$user:" "$work" || exit 2

pe_as_user "$user" env -C "$work" PATH="$(pg_config --bindir):$PATH" TESTDIR="$work" \
	PG_REGRESS="$pgxs_src/test/regress/pg_regress" \
	prove -v -I "$pgxs_src/test/perl" "$work"/t/*.pl >"$work/prove.log" 2>&1
rc=$?
cat "$work/prove.log"
passed=$(grep -cE '^ *ok [0-9]+' "$work/prove.log")
failed=$(grep -cE '^ *not ok [0-9]+' "$work/prove.log")
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	bad "prove exit status $rc (a test died or planned differently)"
fi
finish
