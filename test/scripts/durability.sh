#!/usr/bin/env bash
# durability.sh: stored profiles survive a crash, a dump and restore, and the next version.
#
# Every part starts its OWN throwaway cluster (tools/lib.sh pe_cluster_start: initdb in a
# temporary folder, a free port, run by a non-root user), so killing its postmaster cannot
# touch the cluster test/run_all.sh gives the other scripts; the PG* variables it passes
# are not used.
#
#  1. crash recovery: four sessions loop over transactions that each COPY one batch of
#     generated profiles (tools/gen/pe_gen, binary COPY: the profile_recv path) in two
#     parts and, in the same transaction, record the batch's row count, total and md5 of
#     its stored bytes in a side table.  Mid-stream, the postmaster is SIGKILLed and the
#     server restarted; then again, SIGKILLing all server processes at once.  Then: every batch whose COMMIT was acknowledged is there, every
#     recorded batch still has its recorded count/total/md5, no row of an uncommitted
#     batch is visible, every row decodes, and loading the committed batches' files again
#     gives the same bytes.
#  2. pg_dump -Fc | pg_restore and plain pg_dump | psql into fresh databases: the same
#     bytes (profile_send) for every row, an expression index and a materialized view over
#     profile_merge restored too.
#  3. format stability: test/fixtures/stored_vN.tsv holds values written in format version
#     N (1 by 0.1.0, 2 and 3 by 0.2.0 before format versions 3 and 4) and what they must read as; see the
#     comment above check_fixture.  The summary accessors (profile_total, _sample_types,
#     _time, _duration, _info) give the same for an old value as for its rewrite in the
#     current version (profile_merge of the one value).  Also the values COPYed out in binary
#     and back in keep their bytes.
#
# Needs pg_config's initdb/pg_ctl/pg_dump/pg_restore, psql and a C compiler for pe_gen.
# Runs as root (the servers then run as $PROFILE_EXT_TEST_USER, default profile_ext_test)
# or as any user.  Last line "N passed, N failed".
# PROFILE_EXT_WRITE_FIXTURE=N writes test/fixtures/stored_vN.tsv instead of testing, with a
# build whose writer writes version N (see check_fixture).
set -uo pipefail
repo=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=test/lib.sh
source "$repo/test/lib.sh"
export LC_ALL=C.UTF-8
unset PGSERVICE PGOPTIONS PGDATABASE

TEST_USER=${PROFILE_EXT_TEST_USER:-profile_ext_test}
FIXTURES=("$repo"/test/fixtures/stored_v*.tsv)
# The format version this build writes: what an old value's rewrite must report.
WRITER_VERSION=4
BINDIR=$(pg_config --bindir)

pe_work durability
CLUSTER_DIR=
SESSION_PIDS=()
stop_sessions() {
	local pid
	for pid in "${SESSION_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
}
PE_CLEANUP_HOOKS+=(stop_sessions)

# A fresh cluster for one part, with the extension in database postgres; PG* point at it.
start_cluster() {
	pe_cluster_stop
	[ -n "$CLUSTER_DIR" ] && rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=$(mktemp -d "/tmp/profile_ext_dur_$1.XXXXXX") || return 1
	if ! pe_cluster_start "$CLUSTER_DIR" "$TEST_USER"; then
		echo "could not start a cluster in $CLUSTER_DIR"
		return 1
	fi
	pe_cluster_env
	echo "[$1] own cluster: $PE_PGDATA, port $PE_PORT, user $PE_CLUSTER_USER"
	q -c "CREATE EXTENSION profile_ext"
}

stop_cluster() {
	pe_cluster_stop
	rm -rf "$CLUSTER_DIR"
	CLUSTER_DIR=
}

pe_private_gen "$repo" "$WORK"

# ---------------------------------------------------------------- 1. crash recovery

# One writer session: batches until $WORK/stop exists or a transaction fails.  Batch ids
# are unique per round and session; each batch is two pe_gen files (1-4 profiles each)
# loaded by two \copy in one transaction, which also records the batch in `batches`.
# The log says "start ID" before and "acked ID" after COMMIT returned; a failure before
# the crash was announced (file $WORK/killed) is logged as "error ID".
writer_session() {
	local round=$1 s=$2 k=0 id a b log
	local services=(checkout cart search "checkout,cart,search")
	log=$WORK/session_${round}_$s.log
	while [ ! -e "$WORK/stop" ]; do
		k=$((k + 1))
		id=$(((round * 10 + s) * 100000 + k))
		a=$WORK/batch_${id}_a.bin b=$WORK/batch_${id}_b.bin
		"$GEN" --quiet --services "${services[s - 1]}" --count $((1 + k % 4)) --seed $((2 * id)) \
			>"$a" &&
			"$GEN" --quiet --services "${services[s - 1]}" --count $((1 + (k + 2) % 4)) \
				--seed $((2 * id + 1)) --start '2026-01-02 08:00:00' >"$b" ||
			{ echo "error $id pe_gen" >>"$log"; return; }
		echo "start $id" >>"$log"
		if psql -X -q -v ON_ERROR_STOP=1 >/dev/null 2>>"$WORK/session_${round}_$s.err" <<EOF; then
BEGIN;
SET LOCAL pe.batch = '$id';
\\copy t (ts, labels, profile) FROM '$a' WITH (FORMAT binary)
SELECT pg_sleep(0.002);
\\copy t (ts, labels, profile) FROM '$b' WITH (FORMAT binary)
INSERT INTO batches
	SELECT $id, count(*), sum(profile_total(profile)),
		   md5(string_agg(encode(profile_send(profile), 'hex'), '' ORDER BY id))
	FROM t WHERE batch = $id;
COMMIT;
EOF
			echo "acked $id" >>"$log"
		else
			[ -e "$WORK/killed" ] || echo "error $id" >>"$log"
			return
		fi
	done
}

# Checks after a restart, over all rounds so far.
verify_after_crash() {
	local round=$1 out
	cat "$WORK"/session_*.log | awk '$1 == "acked" { print $2 }' >"$WORK/acked.txt"
	cat "$WORK"/session_"$round"_*.log | awk '$1 == "start" { s[$2] = 1 } $1 == "acked" { delete s[$2] }
		END { for (i in s) print i }' >"$WORK/inflight.txt"
	q <<EOF
CREATE TEMP TABLE acked (batch bigint);
CREATE TEMP TABLE inflight (batch bigint);
\\copy acked FROM '$WORK/acked.txt'
\\copy inflight FROM '$WORK/inflight.txt'
\\o $WORK/verify.out
SELECT 'acked', count(*), count(*) FILTER (WHERE batch NOT IN (SELECT batch FROM batches)) FROM acked;
SELECT 'inflight', count(*), count(*) FILTER (WHERE batch IN (SELECT batch FROM batches)),
	count(*) FILTER (WHERE batch IN (SELECT batch FROM t)) FROM inflight;
SELECT 'mismatch', count(*) FROM batches b LEFT JOIN LATERAL (
	SELECT count(*) AS n, sum(profile_total(profile)) AS total,
		   md5(string_agg(encode(profile_send(profile), 'hex'), '' ORDER BY id)) AS md5
	FROM t WHERE t.batch = b.batch) x ON true
	WHERE (x.n, x.total, x.md5) IS DISTINCT FROM (b.nrows, b.total, b.md5);
SELECT 'orphans', count(DISTINCT batch), count(*) FROM t WHERE batch NOT IN (SELECT batch FROM batches);
SELECT 'decode', count(*), count(profile_total(profile)), count(profile_to_folded(profile)),
	count(profile_info(profile)) FROM t;
SELECT 'merge', count(*), count(*) FILTER (WHERE m IS DISTINCT FROM s) FROM (
	SELECT profile_total(profile_merge(profile)) AS m, sum(profile_total(profile)) AS s
	FROM t GROUP BY labels->>'__name__', labels->>'service_name') g;
SELECT 'batches', count(*), (SELECT count(*) FROM t) FROM batches;
EOF
	if [ $? -ne 0 ]; then
		bad "round $round: verification queries failed"
		return
	fi
	field() { awk -F'|' -v k="$1" -v i="$2" '$1 == k { print $i }' "$WORK/verify.out"; }
	echo "  round $round: $(field batches 2) committed batches, $(field batches 3) rows;" \
		"$(field inflight 2) batches in flight at the kill, $(field inflight 3) of them committed"
	if [ "$(field acked 3)" = 0 ] && [ "$(field acked 2)" -gt 0 ]; then
		ok "round $round: all $(field acked 2) acknowledged batches survived the crash"
	else
		bad "round $round: $(field acked 3) of $(field acked 2) acknowledged batches are missing"
	fi
	if [ "$(field mismatch 2)" = 0 ]; then
		ok "round $round: every committed batch has its recorded row count, total and md5"
	else
		bad "round $round: $(field mismatch 2) committed batches differ from what was recorded"
	fi
	if [ "$(field orphans 2)" = 0 ] && [ "$(field inflight 4)" = "$(field inflight 3)" ]; then
		ok "round $round: no row of an uncommitted batch is visible"
	else
		bad "round $round: $(field orphans 3) rows of $(field orphans 2) uncommitted batches are visible"
	fi
	read -r n a b c <<<"$(field decode 2) $(field decode 3) $(field decode 4) $(field decode 5)"
	if [ "$n" -gt 0 ] && [ "$a" = "$n" ] && [ "$b" = "$n" ] && [ "$c" = "$n" ]; then
		ok "round $round: all $n rows decode (profile_total, profile_to_folded, profile_info)"
	else
		bad "round $round: of $n rows, $a/$b/$c decode (total/folded/info)"
	fi
	if [ "$(field merge 3)" = 0 ]; then
		ok "round $round: profile_merge per service and kind totals the rows ($(field merge 2) groups)"
	else
		bad "round $round: $(field merge 3) merged groups do not total their rows"
	fi

	# Independent of anything the crashed server wrote: load every committed batch's files
	# again into an empty table; the stored bytes must be the same.
	{
		echo "CREATE TEMP TABLE again (LIKE t INCLUDING DEFAULTS);"
		q -c "SELECT batch FROM batches ORDER BY batch" | while read -r id; do
			echo "SET pe.batch = '$id';"
			echo "\\copy again (ts, labels, profile) FROM '$WORK/batch_${id}_a.bin' WITH (FORMAT binary)"
			echo "\\copy again (ts, labels, profile) FROM '$WORK/batch_${id}_b.bin' WITH (FORMAT binary)"
		done
		cat <<EOF
SELECT count(*) FROM
	(SELECT batch, md5(string_agg(encode(profile_send(profile), 'hex'), '' ORDER BY id)) AS m
	 FROM t GROUP BY batch) x
	FULL JOIN
	(SELECT batch, md5(string_agg(encode(profile_send(profile), 'hex'), '' ORDER BY id)) AS m
	 FROM again GROUP BY batch) y USING (batch)
	WHERE x.m IS DISTINCT FROM y.m;
EOF
	} >"$WORK/reload.sql"
	out=$(q -f "$WORK/reload.sql" 2>&1)
	if [ "$out" = 0 ]; then
		ok "round $round: reloading the committed batches' files gives the same bytes"
	else
		bad "round $round: reloading the committed batches' files differs: $out"
	fi
}

crash_round() {
	local round=$1 s acked started
	rm -f "$WORK/stop" "$WORK/killed"
	SESSION_PIDS=()
	for s in 1 2 3 4; do
		writer_session "$round" "$s" &
		SESSION_PIDS+=($!)
	done
	# Let them commit a few dozen batches, then kill at an odd moment.
	for _ in $(seq 1 100); do
		sleep 0.1
		acked=$(cat "$WORK"/session_"$round"_*.log 2>/dev/null | grep -c '^acked')
		[ "$acked" -ge 40 ] && break
	done
	sleep "0.0$((RANDOM % 10))"
	started=$(cat "$WORK"/session_"$round"_*.log | grep -c '^start')
	touch "$WORK/killed"
	# Round 1: kill -9 of the postmaster alone (its backends notice and exit); round 2:
	# the whole server at the same instant.
	if pe_cluster_crash "$([ "$round" = 1 ] && echo postmaster || echo all)"; then
		echo "  round $round: SIGKILLed the $([ "$round" = 1 ] && echo postmaster || echo "whole server")" \
			"after $acked acknowledged batches ($started started)"
	else
		bad "round $round: could not kill the server"
		return 1
	fi
	touch "$WORK/stop"
	wait "${SESSION_PIDS[@]}" 2>/dev/null
	SESSION_PIDS=()
	if grep -h '^error' "$WORK"/session_"$round"_*.log; then
		bad "round $round: a transaction failed before the crash:"
		cat "$WORK"/session_"$round"_*.err | grep -v '^$' | head -n 5
	fi
	if ! pe_cluster_restart; then
		tail -n 20 "$PE_SOCKET/server.log"
		bad "round $round: the server does not restart after the crash"
		return 1
	fi
	if grep -qE 'not properly shut down|was interrupted' "$PE_SOCKET/server.log" &&
		grep -qE 'redo (done|starts)' "$PE_SOCKET/server.log"; then
		echo "  round $round: restarted; $(grep -E 'redo done' "$PE_SOCKET/server.log" | tail -n 1 | sed 's/^.*LOG: *//')"
	fi
	verify_after_crash "$round"
}

test_crash_recovery() {
	local t0=$SECONDS round
	start_cluster crash || { bad "crash: no cluster"; return; }
	# fsync stays off: SIGKILL loses what only the processes held, never the OS page cache.
	# But acknowledged commits must have reached WAL, and pages must be whole.
	q -c "ALTER SYSTEM SET synchronous_commit = on" -c "ALTER SYSTEM SET full_page_writes = on" \
		-c "SELECT pg_reload_conf()" >/dev/null
	q <<'EOF' || { bad "crash: setup failed"; return; }
CREATE TABLE t (
	id bigserial PRIMARY KEY,
	batch bigint NOT NULL DEFAULT current_setting('pe.batch')::bigint,
	ts timestamptz, labels jsonb, profile profile);
CREATE INDEX ON t (batch);
CREATE TABLE batches (batch bigint PRIMARY KEY, nrows bigint, total numeric, md5 text);
CHECKPOINT;
EOF
	for round in 1 2; do
		crash_round "$round" || break
	done
	echo "  crash recovery took $((SECONDS - t0))s"
	stop_cluster
}

# ---------------------------------------------------------------- 2. dump and restore

# count, non-null count, md5 of every row's stored bytes, md5 of every row's profile_info,
# and of the materialized view.
fingerprint() {
	q -d "$1" -c "SELECT count(*), count(profile),
		md5(string_agg(coalesce(encode(profile_send(profile), 'hex'), 'NULL'), ',' ORDER BY id)),
		md5(string_agg(coalesce(profile_info(profile)::text, 'NULL'), ',' ORDER BY id)),
		(SELECT md5(string_agg(kind || encode(profile_send(merged), 'hex'), ',' ORDER BY kind)) FROM merged_mv),
		(SELECT count(*) FROM p WHERE profile_total(profile) > 0)
		FROM p"
}

test_dump_restore() {
	local src custom plain
	start_cluster dump || { bad "dump: no cluster"; return; }
	q -c "CREATE DATABASE src TEMPLATE template0" -c "CREATE DATABASE restored_custom TEMPLATE template0" \
		-c "CREATE DATABASE restored_plain TEMPLATE template0" || { bad "dump: createdb failed"; return; }
	q -d src -c "CREATE EXTENSION profile_ext" \
		-c "CREATE TABLE gen (id serial, ts timestamptz, labels jsonb, profile profile)" &&
		"$GEN" --quiet --count 40 --seed 99 |
		q -d src -c "COPY gen (ts, labels, profile) FROM STDIN WITH (FORMAT binary)" &&
		q -d src <<'EOF' || { bad "dump: setup failed"; return; }
CREATE TABLE p (id int PRIMARY KEY, note text, labels jsonb, profile profile);
INSERT INTO p SELECT id, 'generated', labels, profile FROM gen;
INSERT INTO p (id, note, profile) VALUES
	(1001, 'folded', profile_from_folded(E'main;a;b 3\nmain;a;c 5\nmain;d 1')),
	(1002, 'two types', profile_from_folded(E'main;alloc 10 4096\nmain;parse 25 800', 'alloc_objects:count,alloc_space:bytes')),
	(1003, 'merged cpu', (SELECT profile_merge(profile) FROM gen WHERE labels->>'__name__' = 'process_cpu')),
	(1004, 'diff', profile_diff(profile_from_folded(E'a;b 50\na;c 20'), profile_from_folded(E'a;b 30\na;d 45'))),
	(1005, 'deep', (SELECT profile_from_folded(string_agg('f' || i, ';' ORDER BY i) || ' 7') FROM generate_series(1, 20000) i)),
	(1006, 'wide', (SELECT profile_from_folded(string_agg(format('main;mod%s;fn%s %s', i % 97, i, i), E'\n')) FROM generate_series(1, 50000) i)),
	(1007, 'null', NULL);
CREATE INDEX p_total ON p (profile_total(profile));
CREATE MATERIALIZED VIEW merged_mv AS
	SELECT labels->>'__name__' AS kind, profile_merge(profile) AS merged FROM p
	WHERE labels IS NOT NULL GROUP BY 1;
EOF
	src=$(fingerprint src)
	echo "  source: $src"
	if "$BINDIR/pg_dump" -Fc -d src -f "$WORK/src.dump" &&
		"$BINDIR/pg_restore" --exit-on-error -d restored_custom "$WORK/src.dump"; then
		custom=$(fingerprint restored_custom)
		if [ -n "$src" ] && [ "$custom" = "$src" ]; then
			ok "pg_dump -Fc | pg_restore: byte-identical profiles ($(stat -c %s "$WORK/src.dump") byte dump)"
		else
			bad "pg_dump -Fc | pg_restore differs: $custom"
		fi
	else
		bad "pg_dump -Fc / pg_restore failed"
	fi
	if "$BINDIR/pg_dump" -d src -f "$WORK/src.sql" &&
		q -d restored_plain -f "$WORK/src.sql" >/dev/null; then
		plain=$(fingerprint restored_plain)
		if [ -n "$src" ] && [ "$plain" = "$src" ]; then
			ok "plain pg_dump | psql: byte-identical profiles"
		else
			bad "plain pg_dump | psql differs: $plain"
		fi
	else
		bad "plain pg_dump | psql failed"
	fi
	if [ "$(q -d restored_custom -c "SET enable_seqscan = off;
		SELECT count(*) FROM p WHERE profile_total(profile) = 9")" = 1 ]; then
		ok "the restored expression index on profile_total(profile) answers"
	else
		bad "the restored expression index on profile_total(profile) does not answer"
	fi
	stop_cluster
}

# ---------------------------------------------------------------- 3. format stability

# test/fixtures/stored_vN.tsv: profile values written in format version N in their text
# form (\x-hex of the stored bytes), with the md5 of profile_info(value)::text and of the
# folded stacks of every sample type ("type:unit\n" || profile_to_folded(value, type:unit),
# concatenated in order).  A value stored by this version must stay readable by every
# later one (pg_upgrade keeps the bytes on disk as they are), so THIS TEST MUST KEEP
# PASSING UNCHANGED IN FUTURE VERSIONS: never regenerate the values of a released version.
# If a later version deliberately changes what profile_info reports, only the info column
# may be recomputed with that version (the values and folded md5s stay).
# PROFILE_EXT_WRITE_FIXTURE=N writes stored_vN.tsv from the recipe below, once, with the
# build that first writes version N.
FIXTURE_RECIPE=$(cat <<'EOF'
CREATE TABLE fx (ord int, name text, p profile);
INSERT INTO fx VALUES
 (1, 'folded_single', profile_from_folded(E'main;http.serve;handler.get;db.query 30\nmain;http.serve;handler.get;json.encode 12\nmain;http.serve;handler.post 7\nmain;gc.worker 4\nidle 1')),
 (2, 'folded_multi_type', profile_from_folded(E'main;alloc.buffer;runtime.malloc 10 4096\nmain;alloc.buffer 3 96\nmain;parse;strings.split 25 800\nworker;pool.get 1 64', 'alloc_objects:count,alloc_space:bytes')),
 (3, 'merged', (SELECT profile_merge(q) FROM (VALUES
		(profile_from_folded(E'main;a;b 5\nmain;a;c 2\nmain;d 1')),
		(profile_from_folded(E'main;a;b 1\nmain;e;f 9')),
		(profile_from_folded(E'main;d 3\nother;x;y;z 4'))) v(q))),
 (4, 'diff_signed', profile_diff(profile_from_folded(E'main;a;b 50\nmain;a;c 20\nmain;d 5'),
								  profile_from_folded(E'main;a;b 30\nmain;a;c 45\nmain;e 8'))),
 (5, 'unicode_names', profile_from_folded(E'main;日本語.関数;naïve façade 3\nmain;emoji 🔥 path;a\\b 2\nmain;tab\there 1')),
 (6, 'deep_stack', (SELECT profile_from_folded(string_agg('frame_' || i, ';' ORDER BY i) || ' 17') FROM generate_series(1, 400) i)),
 (7, 'generator_cpu', (SELECT profile FROM gen WHERE id = 1)),
 (8, 'generator_heap', (SELECT profile FROM gen WHERE id = 2));
EOF
)
# (gen: the first two rows of `pe_gen --count 2 --samples 40 --stacks 30 --seed 11`.)

FOLDED_MD5_SQL="(SELECT md5(string_agg(st || E'\\n' || coalesce(profile_to_folded(p, st), ''), '' ORDER BY o))
	FROM unnest(profile_sample_types(p)) WITH ORDINALITY u(st, o))"

write_fixture() {
	local version=$1 fixture=$repo/test/fixtures/stored_v$1.tsv
	start_cluster fixture || exit 1
	q -c "CREATE TABLE gen (id serial, ts timestamptz, labels jsonb, profile profile)" &&
		"$GEN" --quiet --count 2 --samples 40 --stacks 30 --seed 11 |
		q -c "COPY gen (ts, labels, profile) FROM STDIN WITH (FORMAT binary)" &&
		q -c "$FIXTURE_RECIPE" || exit 1
	if [ "$(q -c "SELECT DISTINCT profile_info(p) ->> 'format_version' FROM fx")" != "$version" ]; then
		echo "this build does not write format version $version"
		exit 1
	fi
	mkdir -p "$(dirname "$fixture")"
	{
		echo "# Profile values written in format_version $version, read back by"
		echo "# test/scripts/durability.sh: every later version must read them the same way."
		echo "# Never regenerate.  Recipe: FIXTURE_RECIPE in that script."
		echo "# Columns (tab-separated): name, md5(profile_info(v)::text), md5 of the folded"
		echo "# stacks of every sample type, the value as text (\\x-hex of the stored bytes)."
		q -F $'\t' -c "SELECT name, md5(profile_info(p)::text), $FOLDED_MD5_SQL, p FROM fx ORDER BY ord"
	} >"$fixture" || exit 1
	echo "wrote $fixture ($(grep -vc '^#' "$fixture") values)"
	stop_cluster
}

check_fixture() {
	local fixture=$1 out n line
	local base=${fixture##*/}
	if [ ! -f "$fixture" ]; then
		bad "fixture $base is missing"
		return
	fi
	start_cluster fixture || { bad "fixture: no cluster"; return; }
	q -c "CREATE TABLE fixture (name text, info_md5 text, folded_md5 text, value text)" || return
	grep -v '^#' "$fixture" | q -c "\\copy fixture FROM STDIN WITH (FORMAT csv, DELIMITER E'\\t')" ||
		{ bad "fixture: cannot load $base"; return; }
	n=$(q -c "SELECT count(*) FROM fixture")
	# Read each value on its own, so one unreadable value names itself.
	out=$(q -F ' ' -c "SELECT name FROM fixture ORDER BY name" | while read -r name; do
		q -F ' ' -c "SELECT name, md5(profile_info(p)::text) = info_md5,
				$FOLDED_MD5_SQL = folded_md5,
				'\\x' || encode(profile_send(p), 'hex') = value,
				(profile_total(p), profile_sample_types(p), profile_time(p), profile_duration(p),
				 profile_info(p) - '{format_version,compressed,decoded_bytes,stored_bytes}'::text[])
				IS NOT DISTINCT FROM
				(profile_total(v2), profile_sample_types(v2), profile_time(v2), profile_duration(v2),
				 profile_info(v2) - '{format_version,compressed,decoded_bytes,stored_bytes}'::text[])
				AND profile_info(v2) ->> 'format_version' = '$WRITER_VERSION'
			FROM (SELECT *, value::profile AS p, (SELECT profile_merge(x) FROM (VALUES (value::profile)) v(x)) AS v2
				  FROM fixture WHERE name = '$name') f" 2>&1 |
			tr '\n' ' '
		echo
	done)
	while read -r line; do
		[ -n "$line" ] || continue
		case $line in
		*" t t t t") ok "$base ${line%% *}: reads back, same profile_info, folded stacks and bytes; accessors agree with its version $WRITER_VERSION rewrite" ;;
		*) bad "$base value: $line (info folded bytes accessors-vs-rewrite)" ;;
		esac
	done <<<"$out"
	[ "$n" -ge 8 ] || bad "$base holds $n values, want 8"

	# Binary COPY out and back in (what a binary dump or a logical copy does with the stored
	# bytes): profile_send then profile_recv must keep every value exactly.
	q <<EOF >/dev/null && out=$(q -c "SELECT count(*) FILTER (WHERE b.p IS NULL
				OR profile_send(b.p) <> profile_send(f.value::profile)
				OR md5(profile_info(b.p)::text) <> f.info_md5), count(*)
			FROM fixture f LEFT JOIN back b USING (name)") || out=error
\\copy (SELECT name, value::profile FROM fixture) TO '$WORK/fixture.bin' WITH (FORMAT binary)
CREATE TABLE back (name text, p profile);
\\copy back FROM '$WORK/fixture.bin' WITH (FORMAT binary)
EOF
	if [ "$out" = "0|$n" ]; then
		ok "binary COPY out and in keeps all $n values of $base byte for byte"
	else
		bad "binary COPY out and in: (differing|total) = $out"
	fi
	stop_cluster
}

# ---------------------------------------------------------------- main
if [ -n "${PROFILE_EXT_WRITE_FIXTURE:-}" ]; then
	write_fixture "$PROFILE_EXT_WRITE_FIXTURE"
	exit 0
fi
t0=$SECONDS
echo "== crash recovery"
test_crash_recovery
echo "== pg_dump / pg_restore"
test_dump_restore
for fixture in "${FIXTURES[@]}"; do
	echo "== format stability (${fixture##*/})"
	check_fixture "$fixture"
done
echo "durability.sh took $((SECONDS - t0))s"
finish
