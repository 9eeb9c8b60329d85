#!/usr/bin/env bash
# test/fuzz/run_fuzz.sh: run one libFuzzer target on its seeds for a while.
#
#   test/fuzz/run_fuzz.sh TARGET SECONDS [more libFuzzer options...]
#
# TARGET is fuzz_pprof, fuzz_stored, fuzz_folded, fuzz_merge_diff or fuzz_gateway, built as
# build/fuzz/TARGET (`make fuzz-build`); seeds come from build/fuzz/seeds
# (test/fuzz/make_seeds.sh).  New inputs go to build/fuzz/corpus/TARGET, crash
# inputs to build/fuzz/artifacts/TARGET/.  Read-only input folders: the seeds,
# test/fuzz/regressions/TARGET, and for fuzz_pprof the shared pprof corpus.
# PROFILE_EXT_FUZZ_DIR=DIR uses DIR instead of build/fuzz for binaries, seeds,
# corpus and artifacts (a long campaign outside the tree survives `make clean`
# and rebuilds).  Exit status: libFuzzer's (0 = nothing found).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
target=$1 seconds=$2
shift 2
CORPUS=${PROFILE_EXT_CORPUS:-$REPO/../shared/corpus}/pprof

case $target in
fuzz_pprof) seeds=pprof max_len=200000 ;;
fuzz_stored) seeds=stored max_len=200000 ;;
fuzz_folded) seeds=folded max_len=65536 ;;
fuzz_merge_diff) seeds=merge_diff max_len=100000 ;;
fuzz_gateway) seeds=gateway max_len=65536 ;;
*) echo "run_fuzz.sh: unknown target $target" >&2; exit 2 ;;
esac

WORK=${PROFILE_EXT_FUZZ_DIR:-build/fuzz}
dirs=("$WORK/corpus/$target")
for d in "$WORK/seeds/$seeds" "test/fuzz/regressions/$target"; do
	[ -d "$d" ] && dirs+=("$d")
done
[ "$target" = fuzz_pprof ] && [ -d "$CORPUS" ] && dirs+=("$CORPUS")
mkdir -p "$WORK/corpus/$target" "$WORK/artifacts/$target"
opts=(-max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10
	-artifact_prefix="$WORK/artifacts/$target/" -print_final_stats=1)
# shorter allocation stacks in reports: allocation-heavy targets run ~1.5x faster
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=8}
[ -f "test/fuzz/$target.dict" ] && opts+=(-dict="test/fuzz/$target.dict")
exec "$WORK/$target" "${opts[@]}" "$@" "${dirs[@]}"
