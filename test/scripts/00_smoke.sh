#!/usr/bin/env bash
# Placeholder smoke test: the server answers.  Replace or extend with real script tests.
# Contract (see test/run_all.sh): PGHOST/PGPORT/PGUSER/PGDATABASE, REPO and
# PROFILE_EXT_CORPUS are set; the last output line is "N passed, N failed"; exit non-zero
# on failure.
set -u
out=$(psql -X -A -t -c 'select 1' 2>&1)
if [ "$out" = 1 ]; then
	echo "ok: select 1"
	echo "1 passed, 0 failed"
else
	echo "FAIL: select 1 returned: $out"
	echo "0 passed, 1 failed"
	exit 1
fi
