# test/lib.sh: shell helpers shared by test/scripts/*.sh (sourced, not run).
#
# Counting: ok / bad / skip record one result each; finish prints the
# closing "N passed, N failed[, N skipped]" line the test runner reads and
# exits non-zero when anything failed.
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "skip: $*"; }
finish() {
	local line="$passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
	echo "$line"
	[ "$failed" -eq 0 ]
	exit
}

# pe_private_gen REPO DIR: build tools/gen/pe_gen if needed and copy it to
# DIR/pe_gen (a rebuild in the checkout cannot pull it away mid-run); sets
# GEN.  On failure counts one failure and finishes.
pe_private_gen() {
	local repo=$1 dir=$2
	if { [ -x "$repo/tools/gen/pe_gen" ] ||
		make -s -C "$repo" tools/gen/pe_gen >"$dir/gen_build.log" 2>&1; } &&
		cp "$repo/tools/gen/pe_gen" "$dir/pe_gen"; then
		GEN=$dir/pe_gen
	else
		cat "$dir/gen_build.log" 2>/dev/null
		bad "tools/gen/pe_gen does not build"
		finish
	fi
}
