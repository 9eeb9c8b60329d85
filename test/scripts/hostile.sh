#!/usr/bin/env bash
# hostile.sh: crafted hostile inputs must fail cleanly, never crash the server.
#
# Builds test/hostile/gen_hostile.c (protobuf-c, zlib, zstd) into a temporary
# folder, runs it to write the crafted files (broken gzip and zstd, bombs, a
# million-frame stack, ten million samples, broken string tables and ids,
# native values with every header and body rule broken, binary COPY streams),
# sends them to the server through psql, and checks for each case that the
# ERROR carries the expected SQLSTATE (with VERBOSITY verbose, "ERROR:  CODE:").
# Then: folded text errors, argument errors, merges that overflow or mix kinds,
# names with invalid UTF-8 and NUL bytes (in this database and in a LATIN1
# one), and bit flips of valid pprof and stored values (each flipped copy is
# either a profile that every reader handles or an expected ERROR).  Finally
# pg_postmaster_start_time() must not have changed (the runner also checks the
# server log for crashed backends).
#
# Contract (test/run_all.sh): PGHOST/PGPORT/PGUSER/PGDATABASE point at an empty
# database; one line per case, "ok CASE" or "FAIL CASE: why"; last line
# "N passed, N failed".  Data only travels through psql (stdin, \copy), never
# as server-side file paths.  Rerun by hand from the repo root with PG* set:
#   bash test/scripts/hostile.sh
set -uo pipefail
export LC_ALL=C.UTF-8
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 2
source "$repo/test/lib.sh"

pe_work hostile
tmp=$WORK
latin1_db="${PGDATABASE:-postgres}_latin1"
drop_latin1_db() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$latin1_db\"" >/dev/null 2>&1; }
PE_CLEANUP_HOOKS+=(drop_latin1_db)

# qv SQL...: run SQL quietly, errors verbose (with SQLSTATE) and in the output.
qv() { psql -X -q -A -t -v VERBOSITY=verbose "$@" 2>&1; }

# The first "ERROR:  CODE: message" line of output, or "no error: <output>".
first_error() {
	local line
	line=$(grep -m1 '^ERROR:' <<<"$1")
	if [ -n "$line" ]; then echo "$line"; else echo "no error: $(head -c 200 <<<"$1")"; fi
}

# expect_error CASE SQLSTATE SQL [EXTENDED-REGEX the output must match]
expect_error() {
	local name=$1 code=$2 sql=$3 re=${4:-} out
	out=$(qv -c "$sql")
	if ! grep -q "^ERROR:  $code:" <<<"$out"; then
		bad "$name: expected SQLSTATE $code, got $(first_error "$out")"
	elif [ -n "$re" ] && ! grep -Eq "$re" <<<"$out"; then
		bad "$name: output does not match /$re/: $(first_error "$out")"
	else
		ok "$name"
	fi
}

# expect_output CASE SQL EXPECTED: the query succeeds and prints EXPECTED.
expect_output() {
	local name=$1 sql=$2 want=$3 out
	out=$(qv -c "$sql")
	if [ "$out" = "$want" ]; then
		ok "$name"
	else
		bad "$name: expected '$want', got '$(head -c 300 <<<"$out")'"
	fi
}

# timed_error CASE SQLSTATE SECONDS SQL: expect_error, and within SECONDS.
timed_error() {
	local name=$1 code=$2 limit=$3 sql=$4 start end ms
	start=$(date +%s%N)
	expect_error "$name" "$code" "$sql"
	end=$(date +%s%N)
	ms=$(((end - start) / 1000000))
	echo "   ($name took $ms ms)"
	if [ "$ms" -gt $((limit * 1000)) ]; then
		bad "$name-time: took $ms ms, more than $limit s"
	fi
}

# ------------------------------------------------------------ build and generate
gen_build() {
	protoc-c --c_out="$tmp" --proto_path=src/core src/core/profile.proto &&
		cc -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
			-Wno-missing-field-initializers -I"$tmp" -Itest/common -o "$tmp/gen_hostile" \
			test/hostile/gen_hostile.c test/common/pb_builder.c "$tmp/profile.pb-c.c" \
			-lprotobuf-c -lzstd -lz
}
if ! gen_build >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	bad "generator-build: test/hostile/gen_hostile.c does not build"
	finish
fi
mkdir -p "$tmp/in"
if ! "$tmp/gen_hostile" "$tmp/in"; then
	bad "generator-run: gen_hostile failed"
	finish
fi

out=$(qv -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS profile_ext" \
	-c "CREATE TABLE hostile_input (name text PRIMARY KEY, data bytea NOT NULL)" \
	-c "CREATE FUNCTION hostile(text) RETURNS bytea LANGUAGE sql STABLE STRICT
		AS 'SELECT data FROM hostile_input WHERE name = \$1'")
if [ -n "$out" ]; then
	echo "$out"
	bad "setup: could not create the extension and the input table"
	finish
fi

# Every generated file into hostile_input, as COPY text with \\x hex bytea.
load_files() {
	local f
	for f in "$tmp"/in/*; do
		printf '%s\t\\\\x' "$(basename "$f")"
		od -An -v -tx1 "$f" | tr -d ' \n'
		printf '\n'
	done | psql -X -q -v ON_ERROR_STOP=1 -c "\\copy hostile_input FROM STDIN"
}
if ! load_files; then
	bad "load: could not load the generated files"
	finish
fi
start_time=$(qv -c "SELECT pg_postmaster_start_time()")
echo "   generated and loaded $(ls "$tmp/in" | wc -l) files; server started $start_time"

# pprof input: profile_from_pprof of a generated file.
pp() { echo "SELECT profile_from_pprof(hostile('$1')) IS NOT NULL"; }

# ------------------------------------------------------------ controls
expect_output valid-pprof "SELECT profile_total(profile_from_pprof(hostile('valid.pb')), 'samples')" 11
expect_output valid-pprof-gzip "SELECT profile_total(profile_from_pprof(hostile('valid.pb.gz')), 'cpu')" 110000000
expect_output valid-native-raw "SELECT profile_to_folded(hostile('native_valid_raw.native')::profile)" \
	"$(printf 'gc -2\nmain;idle 1\nmain;work 3')"
expect_output valid-native-zstd "SELECT profile_send(hostile('native_valid_zstd.native')::profile) = hostile('native_valid_zstd.native')" t

# ------------------------------------------------------------ gzip
expect_error truncated-gzip 22P03 "$(pp truncated_gzip.pb.gz)" 'truncated gzip'
expect_error gzip-trailing-garbage 22P03 "$(pp gzip_trailing_garbage.pb.gz)"
expect_error gzip-bad-crc 22P03 "$(pp gzip_bad_crc.pb.gz)"
timed_error gzip-bomb-1gb 54000 20 "$(pp gzip_bomb.pb.gz)"
expect_error gzip-bomb-low-limit 54000 "SET profile_ext.max_decoded_size = '1MB'; $(pp gzip_bomb.pb.gz)" \
	'size limit of 1048576 bytes'

# ------------------------------------------------------------ protobuf structure
expect_error truncated-protobuf 22P03 "$(pp truncated_protobuf.pb)"
expect_error bad-wire-type 22P03 "$(pp bad_wire_type.pb)"
expect_error random-bytes-cast 22P03 "SELECT hostile('random.bin')::profile"
expect_error random-bytes-text-input 22P03 "SELECT ('\\x' || encode(hostile('random.bin'), 'hex'))::profile"
expect_error empty-input 22P03 "SELECT ''::bytea::profile"
expect_error empty-string-table 22P03 "$(pp empty_string_table.pb)"
expect_error string-table-first-nonempty 22P03 "$(pp string_table_first_nonempty.pb)"
expect_error string-index-out-of-range 22P03 "$(pp string_index_out_of_range.pb)" 'refers to string 1000'
expect_error string-index-negative 22P03 "$(pp string_index_negative.pb)" 'refers to string -3'
expect_error sample-type-string-out-of-range 22P03 "$(pp sample_type_string_out_of_range.pb)"
expect_error label-string-out-of-range 22P03 "$(pp label_string_out_of_range.pb)"
expect_error default-sample-type-out-of-range 22P03 "$(pp default_sample_type_out_of_range.pb)"
expect_error period-type-string-negative 22P03 "$(pp period_type_string_negative.pb)"
timed_error huge-string-table 54000 20 "$(pp huge_string_table.pb.gz)"

# ------------------------------------------------------------ ids and references
expect_error missing-location-id-0 22P03 "$(pp missing_location_zero.pb)" 'missing location 0'
expect_error missing-location 22P03 "$(pp missing_location.pb)" 'missing location 77'
expect_error duplicate-location-ids 22P03 "$(pp duplicate_location_ids.pb)" 'duplicate location id 2'
expect_error duplicate-function-ids 22P03 "$(pp duplicate_function_ids.pb)" 'duplicate function id 1'
expect_error duplicate-mapping-ids 22P03 "$(pp duplicate_mapping_ids.pb)"
expect_error duplicate-sparse-location-ids 22P03 "$(pp duplicate_sparse_location_ids.pb)"
expect_error location-missing-function 22P03 "$(pp location_missing_function.pb)"
# pprof has no parent pointers: a stack is a list of location ids, so the call
# graph cannot loop.  The nearest things are recursion (one location many times
# in one stack) and ids that coincide across the tables; both are valid.
expect_output recursion-same-location \
	"SELECT max(level), count(*) FROM flamegraph(profile_from_pprof(hostile('recursion_same_location.pb')))" '1001|1005'
expect_output coinciding-ids "SELECT string_agg(label, ',') FROM flamegraph(profile_from_pprof(hostile('coinciding_ids.pb')))" \
	'total,self_named,self_named'
expect_output sparse-huge-ids "SELECT profile_total(profile_from_pprof(hostile('sparse_huge_ids.pb')), 'samples')" 11
expect_output location-missing-mapping "SELECT profile_total(profile_from_pprof(hostile('location_missing_mapping.pb')), 'samples')" 11

# ------------------------------------------------------------ values and sizes
expect_error value-count-mismatch 22P03 "$(pp value_count_mismatch.pb)" 'has 3 values, expected 2'
expect_error value-count-short 22P03 "$(pp value_count_short.pb)"
expect_error samples-without-types 22P03 "$(pp samples_without_types.pb)"
expect_error too-many-sample-types 54000 "$(pp too_many_sample_types.pb)"
expect_error negative-duration 22P03 "$(pp negative_duration.pb)" 'negative duration_nanos'
expect_error overflow-one-profile 22003 "$(pp overflow_one_profile.pb)"
timed_error stack-1m-frames 54000 20 "$(pp stack_1m_frames.pb.gz)" 
expect_error stack-1m-frames-message 54000 "$(pp stack_1m_frames.pb.gz)" '1000000 frames, more than the limit of 200000'
expect_error inline-300k-lines 54000 "$(pp inline_300k_lines.pb.gz)" 'after expanding inlined'
# Ten million tiny samples (90 MB plain, 0.9 MB gzipped) would unpack to about
# 1.5 GB: the decoder's memory budget (16 times the message) refuses them, and
# a lowered max_decoded_size refuses them before unpacking.
timed_error samples-10m 54000 30 "$(pp samples_10m.pb.gz)"
timed_error samples-10m-low-limit 54000 10 "SET profile_ext.max_decoded_size = '64MB'; $(pp samples_10m.pb.gz)"

# ------------------------------------------------------------ native values
# A version this build does not know: 0A000 (feature_not_supported), not corruption.
expect_error native-bad-version 0A000 "$(pp native_bad_version.native)" 'unsupported profile format version'
for c in too_short bad_flags reserved raw_length_mismatch raw_trailing \
	raw_unsorted_names raw_bad_utf8 raw_zero_subtree raw_up_too_big raw_name_out_of_range \
	raw_nnodes_lie zstd_truncated zstd_trailing zstd_bad_checksum zstd_bit_flip \
	zstd_no_checksum zstd_no_content_size zstd_skippable zstd_not_zstd; do
	expect_error "native-${c//_/-}" XX001 "$(pp "native_$c.native")"
done
expect_error native-raw-nnodes-huge 54000 "$(pp native_raw_nnodes_huge.native)" 'profile_ext.max_nodes'
expect_error native-zstd-bomb-header 54000 "$(pp native_zstd_bomb_header.native)" 'max_decoded_size'
timed_error native-zstd-bomb-declared 54000 10 "$(pp native_zstd_bomb_declared.native)"
timed_error native-zstd-bomb-lying 54000 10 \
	"SET profile_ext.max_decoded_size = '100MB'; $(pp native_zstd_bomb_lying.native)"
# With room for the 200 MiB it claims, inflating stops at the claim: XX001.
timed_error native-zstd-bomb-lying-inflate XX001 20 \
	"SET profile_ext.max_decoded_size = '256MB'; $(pp native_zstd_bomb_lying.native)"

# ------------------------------------------------------------ binary COPY
qv -c "CREATE TABLE copy_target (p profile)" >/dev/null
copy_case() {
	local name=$1 code=$2 file=$3
	expect_error "$name" "$code" "\\copy copy_target (p) FROM '$tmp/in/$file' WITH (FORMAT binary)"
}
copy_case copy-binary-garbage 22P03 copy_garbage.copy
copy_case copy-binary-truncated-native XX001 copy_truncated_native.copy
copy_case copy-binary-short-field 22P04 copy_short_field.copy
out=$(qv -c "\\copy copy_target (p) FROM '$tmp/in/copy_valid.copy' WITH (FORMAT binary)" \
	-c "SELECT count(*), sum(profile_total(p, 'samples')) FROM copy_target")
if [ "$out" = "1|11" ]; then ok copy-binary-valid; else bad "copy-binary-valid: got '$out'"; fi

# ------------------------------------------------------------ folded text
expect_error folded-missing-value 22P02 "SELECT profile_from_folded(E'a;b 1\\nc;d 2\\nc;d\\n')" 'at line 3: missing value'
expect_error folded-not-a-number 22P02 "SELECT profile_from_folded(E'a;b 1\\n\\na;b x1')" 'at line 3'
expect_error folded-empty-frame 22P02 "SELECT profile_from_folded('a;;b 1')" 'at line 1: empty frame name'
expect_error folded-sign-only 22P02 "SELECT profile_from_folded('a;b -')" 'at line 1'
expect_error folded-two-values-one-type 22P02 "SELECT profile_from_folded('a;b 1', 'samples,cpu:nanoseconds')" 'at line 1'
expect_error folded-value-out-of-range 22003 "SELECT profile_from_folded('a;b 99999999999999999999')" 'at line 1'
expect_error folded-sum-overflow 22003 "SELECT profile_from_folded(E'a 9223372036854775807\\na 1')" 'at line 2'
expect_error folded-deep-stack 54000 \
	"SELECT profile_from_folded(repeat('f;', 200000) || 'leaf 1')" 'line 1: stack has more than the limit of 200000 frames'
expect_error folded-bad-sample-type 22023 "SELECT profile_from_folded('a 1', ':x')"
expect_error folded-too-many-sample-types 54000 "SELECT profile_from_folded('a 1', repeat('t,', 64) || 't')"

# ------------------------------------------------------------ arguments
base="profile_from_pprof(hostile('valid.pb'))"
expect_error unknown-sample-type 22023 "SELECT * FROM flamegraph($base, 'alloc_space')" 'samples:count'
expect_error unknown-sample-type-total 22023 "SELECT profile_total($base, 'cpu:bytes')"
expect_error unknown-sample-type-folded 22023 "SELECT profile_to_folded($base, 'nope')"
expect_error max-nodes-negative 22023 "SELECT * FROM flamegraph($base, NULL, -1)" 'max_nodes must not be negative'
expect_error max-nodes-negative-diff 22023 "SELECT * FROM flamegraph_diff($base, $base, NULL, -5)"
expect_error max-nodes-negative-svg 22023 "SELECT flamegraph_svg($base, max_nodes => -1)"
expect_output max-nodes-zero "SELECT count(*) FROM flamegraph($base, NULL, 0)" 6
expect_output max-nodes-one "SELECT string_agg(label, ',') FROM flamegraph($base, NULL, 1)" 'total,main,other'
expect_error svg-width-negative 22023 "SELECT flamegraph_svg($base, width => -5)"
expect_error top-n-negative 22023 "SELECT * FROM profile_top($base, n => -1)"
expect_error filter-bad-regex 2201B "SELECT profile_filter($base, '(')"
expect_error text-input-no-prefix 22P02 "SELECT 'hello'::profile"
expect_error text-input-bad-hex 22P02 "SELECT '\\x0g'::profile"
expect_error text-input-odd-hex 22P02 "SELECT '\\x123'::profile"

# ------------------------------------------------------------ combining profiles
other="profile_from_pprof(hostile('other_types.pb'))"
big="profile_from_pprof(hostile('int64_max.pb'))"
expect_error merge-incompatible 42804 "SELECT profile_merge(p) FROM (VALUES ($base), ($other)) v(p)" 'alloc_space'
expect_error diff-incompatible 42804 "SELECT profile_diff($base, $other)"
expect_error flamegraph-diff-incompatible 42804 "SELECT * FROM flamegraph_diff($base, $other)"
expect_error merge-overflow 22003 "SELECT profile_merge(p) FROM (VALUES ($big), ($big)) v(p)"
expect_error merge-overflow-parallel 22003 \
	"SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
	 SET max_parallel_workers_per_gather = 2;
	 CREATE TEMP TABLE bigs AS SELECT $big AS p FROM generate_series(1, 4);
	 SELECT profile_merge(p) FROM bigs"
expect_error diff-overflow 22003 \
	"SELECT profile_diff(profile_from_folded('a 9223372036854775807'), profile_from_folded('a -9223372036854775807'))"

# ------------------------------------------------------------ names: UTF-8, NUL
# Invalid UTF-8 and NUL bytes are accepted and repaired to U+FFFD: every label
# is valid UTF-8 (it survives convert_to/convert_from), none has a NUL.
names="profile_from_pprof(hostile('bad_utf8_names.pb'))"
expect_output utf8-labels-valid \
	"SELECT count(*), bool_and(convert_from(convert_to(label, 'UTF8'), 'UTF8') = label),
	        bool_and(position(E'\\x01' in label) = 0)
	 FROM flamegraph($names)" '10|t|t'
expect_output utf8-labels-repaired \
	"SELECT string_agg(label, ' ' ORDER BY label) FROM flamegraph($names) WHERE label ~ '\\ufffd'" \
	"NULMARK�after_nul invalid��byte latin1_caf� overlong��slash surrogate���half truncated��"
expect_output utf8-labels-kept \
	"SELECT string_agg(label, ' ' ORDER BY label) FROM flamegraph($names) WHERE label LIKE 'valid%'" \
	'valid_café valid_日本'
expect_output utf8-folded-and-top-valid \
	"SELECT length(profile_to_folded($names)) > 0, (SELECT count(*) FROM profile_top($names)),
	        flamegraph_svg($names) LIKE '%latin1_caf&#xfffd;%' OR flamegraph_svg($names) LIKE '%latin1_caf�%'" 't|9|t'
expect_output utf8-sample-types-repaired \
	"SELECT profile_sample_types(profile_from_pprof(hostile('bad_utf8_types.pb')))" '{cpu�:nano��seconds}'
expect_output utf8-roundtrip-pprof \
	"SELECT profile_to_folded(profile_from_pprof(profile_to_pprof($names))) = profile_to_folded($names)" t

# In a LATIN1 database, labels that LATIN1 can hold are converted; names it
# cannot hold (U+FFFD, CJK) are an ERROR 22P05 (untranslatable character), as
# PostgreSQL's own conversions do, never invalid text.
if qv -d postgres -c "CREATE DATABASE \"$latin1_db\" TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'" |
	grep -q ERROR; then
	bad "latin1-database: could not create a LATIN1 database"
else
	latin1() { PGDATABASE=$latin1_db PGCLIENTENCODING=UTF8 "$@"; }
	latin1 qv -v ON_ERROR_STOP=1 -c "CREATE EXTENSION profile_ext" \
		-c "CREATE TABLE hostile_input (name text PRIMARY KEY, data bytea NOT NULL)" >/dev/null
	latin1 load_files
	l1names="profile_from_pprof((SELECT data FROM hostile_input WHERE name = 'latin1_names.pb'))"
	l1bad="profile_from_pprof((SELECT data FROM hostile_input WHERE name = 'bad_utf8_names.pb'))"
	latin1 expect_output latin1-labels-converted \
		"SELECT string_agg(label, ',') FROM flamegraph($l1names)" 'total,main,café,naïve_µs'
	latin1 expect_output latin1-labels-in-database-encoding \
		"SELECT string_agg(label, ',') FROM flamegraph($l1names)
		  WHERE label IN ('caf' || chr(233), 'na' || chr(239) || 've_' || chr(181) || 's')" 'café,naïve_µs'
	latin1 expect_output latin1-sample-types-converted \
		"SELECT profile_sample_types($l1names)" '{samples:µs}'
	latin1 expect_output latin1-sample-type-lookup \
		"SELECT profile_total($l1names, 'samples:' || chr(181) || 's')" 5
	latin1 expect_output latin1-info-converted \
		"SELECT profile_info($l1names)->'sample_types'->0->>'unit'" 'µs'
	latin1 expect_output latin1-folded-roundtrip \
		"SELECT profile_to_folded(profile_from_folded('caf' || chr(233) || ';x 1'))" 'café;x 1'
	latin1 expect_output latin1-svg-ascii \
		"SELECT flamegraph_svg($l1names) ~ '^[\\x01-\\x7f]*\$'" t
	latin1 expect_error latin1-untranslatable-label 22P05 "SELECT * FROM flamegraph($l1bad)"
	latin1 expect_error latin1-untranslatable-folded 22P05 "SELECT profile_to_folded($l1bad)"
	latin1 expect_error latin1-untranslatable-sample-type 22P05 \
		"SELECT profile_sample_types(profile_from_pprof((SELECT data FROM hostile_input WHERE name = 'bad_utf8_types.pb')))"
fi

# ------------------------------------------------------------ bit flips
# Each flipped copy: either a profile that the readers handle (flamegraph,
# top, folded, pprof round trip, info; folded may refuse names with ';' as
# 22023, totals may overflow as 22003), or an ERROR with an expected SQLSTATE.
qv -v ON_ERROR_STOP=1 <<'EOF' >/dev/null
CREATE FUNCTION hostile_flips(src bytea, nflips int, allowed text[])
RETURNS TABLE (outcome text, n bigint) LANGUAGE plpgsql AS $$
DECLARE
	nbits int := length(src) * 8;
	pos int;
	flipped bytea;
	p profile;
	stage text;
	state text;
	msg text;
	results text[] := '{}';
BEGIN
	FOR i IN 1 .. nflips LOOP
		pos := floor(random() * nbits)::int;
		flipped := set_bit(src, pos, 1 - get_bit(src, pos));
		stage := 'input';
		BEGIN
			p := profile_from_pprof(flipped);
			stage := 'reader';
			PERFORM count(*) FROM flamegraph(p);
			PERFORM count(*) FROM flamegraph(p, NULL, 2);
			PERFORM count(*) FROM profile_top(p);
			PERFORM profile_info(p);
			PERFORM flamegraph_svg(p);
			PERFORM profile_from_pprof(profile_to_pprof(p));
			PERFORM profile_merge(x) FROM (VALUES (p), (p)) v(x);
			PERFORM profile_to_folded(p);
			results := results || 'accepted'::text;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			IF (stage = 'input' AND state = ANY (allowed)) OR
			   (stage = 'reader' AND state IN ('22003', '22023')) THEN
				results := results || (stage || ' error ' || state);
			ELSE
				results := results ||
					format('UNEXPECTED %s error %s at bit %s: %s', stage, state, pos, msg);
			END IF;
		END;
	END LOOP;
	RETURN QUERY SELECT r, count(*) FROM unnest(results) r GROUP BY r ORDER BY r;
END $$;
EOF
flip_case() {
	local name=$1 src=$2 allowed=$3 out
	out=$(qv -c "SELECT setseed(0.5)" -c "SELECT outcome || ': ' || n FROM hostile_flips($src, 200, '$allowed')")
	out=$(grep -v '^$' <<<"$out")
	echo "   $name: $(tr '\n' ';' <<<"$out")"
	if grep -q 'UNEXPECTED\|^ERROR\|server closed\|connection' <<<"$out" ||
		! grep -q '^input error\|^accepted' <<<"$out"; then
		bad "$name: $(grep -m3 'UNEXPECTED\|ERROR\|server\|connection' <<<"$out")"
	else
		ok "$name"
	fi
}
flip_case bitflip-pprof "hostile('valid.pb')" '{22P03,54000,22003}'
flip_case bitflip-pprof-gzip "hostile('valid.pb.gz')" '{22P03,54000,22003}'
flip_case bitflip-pprof-recursion "hostile('recursion_same_location.pb')" '{22P03,54000,22003}'
flip_case bitflip-native-raw "hostile('native_valid_raw.native')" '{XX001,0A000,54000,22P03,22003}'
flip_case bitflip-native-zstd "hostile('native_valid_zstd.native')" '{XX001,0A000,54000,22P03,22003}'
flip_case bitflip-stored-value "profile_send(profile_from_pprof(hostile('valid.pb')))" '{XX001,0A000,54000,22P03,22003}'
flip_case bitflip-stored-compressed "profile_send(profile_from_pprof(hostile('recursion_same_location.pb')))" \
	'{XX001,0A000,54000,22P03,22003}'

# ------------------------------------------------------------ the server survived
now=$(qv -c "SELECT pg_postmaster_start_time()")
if [ "$now" = "$start_time" ]; then
	ok server-not-restarted
else
	bad "server-not-restarted: postmaster start time changed from '$start_time' to '$now'"
fi
finish
