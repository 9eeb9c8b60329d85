#!/usr/bin/env bash
# test/scripts/fuzz_smoke.sh: a short libFuzzer run of every fuzz target (test/fuzz/).
#
# Builds the targets with clang, libFuzzer, ASan and UBSan (`make fuzz-build`), runs each
# target first on its regression inputs (test/fuzz/regressions/TARGET: past findings, which
# must not come back), then fuzzes it from the seeds (test/fuzz/make_seeds.sh) for
# PROFILE_EXT_FUZZ_SECONDS seconds (default 30).  One test per regression set and one per
# fuzz run.  As root, installs clang and libclang-rt-14-dev with apt-get when missing;
# without a working clang/libFuzzer it skips.  It needs no database (PG* vars are ignored).
# Last line: "N passed, N failed[, N skipped]"; exits non-zero on a failure.
set -uo pipefail
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$REPO" || exit 2
SECONDS_EACH=${PROFILE_EXT_FUZZ_SECONDS:-30}
TARGETS=(fuzz_pprof fuzz_stored fuzz_folded fuzz_merge_diff fuzz_gateway)
source "$REPO/test/lib.sh"

# clang with libFuzzer: compile and link a trivial fuzz target.
have_libfuzzer() {
	local cc dir
	cc=$(command -v clang-14 || command -v clang) || return 1
	dir=$(mktemp -d)
	printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }' >"$dir/t.c"
	"$cc" -fsanitize=fuzzer,address,undefined -o "$dir/t" "$dir/t.c" >/dev/null 2>&1
	local rc=$?
	rm -rf "$dir"
	return $rc
}

if ! have_libfuzzer && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing clang and libclang-rt-14-dev with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
			apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1; }
fi
have_libfuzzer || skip_all "clang with libFuzzer (Debian: clang, libclang-rt-14-dev) is not available"

LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=8}

echo "== build"
if ! make -s fuzz-build >"$LOG/build" 2>&1; then
	cat "$LOG/build"
	give_up "make fuzz-build"
fi
echo "== seeds"
bash test/fuzz/make_seeds.sh || give_up "make_seeds.sh"

for t in "${TARGETS[@]}"; do
	reg=test/fuzz/regressions/$t
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
		# replay mode: each file once
		if build/fuzz/$t -rss_limit_mb=2048 -timeout=10 "$reg"/* >"$LOG/$t.reg" 2>&1; then
			echo "ok: $t regressions ($(ls "$reg" | wc -l) inputs)"
			passed=$((passed + 1))
		else
			tail -n 40 "$LOG/$t.reg"
			echo "FAIL: $t regressions"
			failed=$((failed + 1))
		fi
	fi
done

for t in "${TARGETS[@]}"; do
	# a fresh corpus folder each time: runs do not depend on earlier ones
	rm -rf "build/fuzz/corpus/$t"
	if bash test/fuzz/run_fuzz.sh "$t" "$SECONDS_EACH" >"$LOG/$t.run" 2>&1; then
		echo "ok: $t fuzzed ${SECONDS_EACH}s: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOG/$t.run" | awk '{print $2}') executions"
		passed=$((passed + 1))
	else
		grep -v '^#' "$LOG/$t.run" | tail -n 60
		echo "FAIL: $t found a problem; the input is in build/fuzz/artifacts/$t/"
		failed=$((failed + 1))
	fi
done

finish
