#!/usr/bin/env bash
# bench_drivers.sh: the stage drivers behind `make bench`'s "1a stages" and "3a stages" rows
# (test/bench/ingest_driver.c, test/bench/merge_driver.c) build and measure the server's own
# path: ingest_driver's level-6 values have the bytes the server stores for the same files,
# merge_driver --stages merges to the same result as its default mode, from files and from
# the server's stored values (a binary COPY stream), and refuses a stream that is not one.
# Rerun by hand with PG* variables set:  bash test/scripts/bench_drivers.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/test/lib.sh"
pe_work bench_drivers

make -s -C "$repo" bench-drivers >"$WORK/build.log" 2>&1 ||
	{ cat "$WORK/build.log"; give_up "make bench-drivers does not build"; }
ok "make bench-drivers"
ingest_driver=$repo/build/bench/ingest_driver
merge_driver=$repo/build/bench/merge_driver
pe_private_gen "$repo" "$WORK"
"$GEN" --out-dir "$WORK/files" --count 20 --no-heap --gzip-level 6 --quiet || give_up "pe_gen failed"
find "$WORK/files" -name '*.pb.gz' | sort >"$WORK/files.list"
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

# ingest stages: five, cumulative
"$ingest_driver" --reps 1 "$WORK/files.list" >"$WORK/ingest.txt" 2>&1 || { cat "$WORK/ingest.txt"; give_up "ingest_driver failed"; }
if awk '$1 == "stage" { n++; v[$2] = $3 + 0 }
	END { exit !(n == 5 && v["inflate"] > 0 && v["inflate"] <= v["read_tree"] &&
		v["read_tree"] <= v["encode0"] && v["read_tree"] <= v["encode"]) }' "$WORK/ingest.txt"; then
	ok "ingest_driver prints five cumulative stages"
else
	cat "$WORK/ingest.txt"
	bad "ingest_driver's stages are missing or not cumulative"
fi

# merge: the stage mode's merge is the default mode's
default=$("$merge_driver" "$WORK/files.list" 2>&1) || { echo "$default"; give_up "merge_driver failed"; }
want=$(field result <<<"$default")
"$merge_driver" --stages --reps 1 "$WORK/files.list" >"$WORK/stages.txt" 2>&1 ||
	{ cat "$WORK/stages.txt"; give_up "merge_driver --stages failed"; }
got=$(grep '^merge result' "$WORK/stages.txt" | field result)
if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$(grep -c '^stage ' "$WORK/stages.txt")" = 3 ]; then
	ok "merge_driver --stages: zstd, decode, merge; result $got as the default mode's"
else
	cat "$WORK/stages.txt"
	bad "merge_driver --stages: result '$got', default mode '$want'"
fi

# the server: the same files ingested; their stored values as a binary COPY stream
cc -std=gnu11 -O2 -o "$WORK/copy_stream" "$repo/test/bench/copy_stream.c" || give_up "copy_stream does not build"
"$WORK/copy_stream" "$WORK/files.list" >"$WORK/files.copy" || give_up "copy_stream failed"
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS profile_ext" -c "DROP TABLE IF EXISTS bench_drivers" \
	-c "CREATE TABLE bench_drivers (p profile)" \
	-c "SET profile_ext.compression_level = 6" \
	-c "COPY bench_drivers FROM STDIN WITH (FORMAT binary)" <"$WORK/files.copy" || give_up "COPY into profile failed"
q -c "COPY (SELECT profile_send(p) FROM bench_drivers) TO STDOUT WITH (FORMAT binary)" >"$WORK/values.copy" ||
	give_up "COPY of the stored values failed"
server_bytes=$(q -c "SELECT sum(octet_length(profile_send(p))) FROM bench_drivers")
driver_bytes=$(field stored_bytes <"$WORK/ingest.txt")
if [ -n "$server_bytes" ] && [ "$server_bytes" = "$driver_bytes" ]; then
	ok "ingest_driver's level-6 values: $driver_bytes bytes, as the server stores them"
else
	bad "ingest_driver's level-6 values: $driver_bytes bytes, the server stores $server_bytes"
fi
"$merge_driver" --stages --reps 1 --values "$WORK/values.copy" >"$WORK/values.txt" 2>&1
got=$(grep '^merge result' "$WORK/values.txt" | field result)
if [ "$got" = "$want" ] && [ "$(field values <"$WORK/values.txt")" = 20 ]; then
	ok "merge_driver --stages --values: the server's 20 stored values merge to $got"
else
	cat "$WORK/values.txt"
	bad "merge_driver --stages --values: result '$got', want '$want'"
fi
q -c "DROP TABLE bench_drivers"

printf 'not a COPY stream\n' >"$WORK/bad.copy"
if "$merge_driver" --stages --reps 1 --values "$WORK/bad.copy" >"$WORK/bad.txt" 2>&1; then
	bad "merge_driver --stages took a file that is not a binary COPY stream"
elif grep -q 'not a binary COPY stream' "$WORK/bad.txt"; then
	ok "merge_driver --stages refuses a file that is not a binary COPY stream"
else
	cat "$WORK/bad.txt"
	bad "merge_driver --stages failed on a bad stream without saying why"
fi
finish
